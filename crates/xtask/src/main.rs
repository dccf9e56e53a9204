//! `cargo xtask`: Countersign's automation, in Rust rather than shell scripts.
//!
//! - `cargo xtask run [-- SERVER FLAGS]`: builds the app and starts the server on SQLite with
//!   the demo data at http://127.0.0.1:8080.
//! - `cargo xtask test`: every test: formatting, lints, native tests (the API on SQLite and
//!   PostgreSQL), the same engine cases in wasm under Node, the JavaScript package, the app's
//!   size, the end-to-end test in headless Chromium, the benchmarks and the load generator once.
//! - `cargo xtask bench`: the engine benchmarks (native and wasm), the package and app sizes,
//!   and order submissions under load on SQLite and PostgreSQL.
//! - `cargo xtask fuzz [--seconds N]`: the fuzz targets (needs the nightly toolchain).
//! - `cargo xtask setup`: installs the tools the others need; they call it themselves.
//!
//! Tools come only from the package registries (see `tools.rs`).

mod app;
mod bench;
mod package;
mod test;
mod tools;

use std::{
    env,
    path::{Path, PathBuf},
    process::{Command, ExitCode},
    time::Instant,
};

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or_default();
    let result = match args.first().map(String::as_str) {
        Some("run") => app::run(rest),
        Some("test") => test::all(),
        Some("bench") => bench::all(),
        Some("fuzz") => bench::fuzz(rest),
        Some("setup") => tools::build_tools().and_then(|()| tools::browser()),
        Some("package") => package::build().map(|_| ()),
        Some("app") => app::build().map(|_| ()),
        _ => Err("usage: cargo xtask <run [-- SERVER FLAGS] | test | bench | fuzz [--seconds N] | setup | package | app>".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// A command run from the workspace root with `.tools` and cargo's bin first on PATH.
fn cmd(program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args).current_dir(root());
    let path = env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![tools::npm_bin(), tools::cargo_bin()];
    paths.extend(env::split_paths(&path));
    if let Ok(joined) = env::join_paths(paths) {
        c.env("PATH", joined);
    }
    c
}

fn step(title: &str, mut command: Command) -> Result {
    println!("\n==> {title}");
    let started = Instant::now();
    let status = command.status().map_err(|e| format!("{title}: cannot start: {e}"))?;
    let took = started.elapsed().as_secs_f64();
    if status.success() {
        println!("<== {title}: ok ({took:.1} s)");
        Ok(())
    } else {
        Err(format!("{title}: failed ({status}) after {took:.1} s"))
    }
}

fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = cmd(program, args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// True when this runs in CI (`CI=true`), where nothing may be skipped.
fn in_ci() -> bool {
    env::var("CI").is_ok_and(|v| v == "true")
}

fn kib(bytes: u64) -> String {
    #[expect(clippy::cast_precision_loss, reason = "file sizes")]
    let k = bytes as f64 / 1024.0;
    format!("{k:.1} KB")
}
