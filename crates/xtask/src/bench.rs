//! `cargo xtask bench` and `cargo xtask fuzz`.

use crate::{Result, app, cmd, in_ci, kib, output, package, root, step, tools};
use std::{net::TcpStream, time::Duration};

/// Whether something answers on PostgreSQL's port on this machine.
pub fn postgres_reachable() -> bool {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 5432));
    TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
}

pub fn all() -> Result {
    tools::build_tools()?;
    step(
        "native benchmarks (criterion; ZEN side by side)",
        cmd("cargo", &["bench", "-p", "bench"]),
    )?;
    step(
        "build the benchmark for wasm",
        cmd(
            "cargo",
            &["build", "-p", "bench", "--lib", "--target", "wasm32-unknown-unknown", "--release"],
        ),
    )?;
    step(
        "wasm-bindgen the benchmark for Node",
        cmd(
            "wasm-bindgen",
            &[
                "--target",
                "nodejs",
                "--out-dir",
                "target/bench-wasm",
                "target/wasm32-unknown-unknown/release/bench.wasm",
            ],
        ),
    )?;
    step(
        "the same scenario in wasm under Node",
        cmd("node", &["crates/bench/wasm-bench.mjs", "target/bench-wasm"]),
    )?;
    package::build()?;
    let sizes = app::build()?;
    println!(
        "\napp initial load: {} raw, {} brotli, {} gzip",
        kib(sizes.raw),
        kib(sizes.brotli),
        kib(sizes.gzip)
    );
    load()
}

/// Order submissions against the release server: the closed-loop throughput and the latency at
/// 1,000 checkouts a second; and the timer scheduler with 100,000 timers pending: how late due
/// timers fire, and its throughput. On SQLite and on PostgreSQL. Figures in
/// `target/load-*.json` and `target/timers-*.json`.
fn load() -> Result {
    step(
        "build the server and the load generator (release)",
        cmd("cargo", &["build", "--release", "-p", "server", "-p", "loadgen", "--bins"]),
    )?;
    let server = root().join("target/release/countersign");
    let server = server.to_string_lossy();
    let mut databases = vec!["sqlite"];
    if postgres_reachable() {
        databases.push("postgres");
    } else if in_ci() {
        return Err("CI=true but PostgreSQL is not reachable at 127.0.0.1:5432".into());
    } else {
        println!("SKIPPED: the load on PostgreSQL (nothing answers at 127.0.0.1:5432)");
    }
    for database in databases {
        let out = format!("target/timers-{database}.json");
        step(
            &format!("the timer scheduler with 100,000 timers pending on {database}"),
            cmd("target/release/timers", &["--database", database, "--out", &out]),
        )?;
        let out = format!("target/load-{database}.json");
        step(
            &format!("order submissions under load on {database}"),
            cmd(
                "target/release/loadgen",
                &["--server", &server, "--database", database, "--seconds", "10", "--out", &out],
            ),
        )?;
    }
    Ok(())
}

pub fn fuzz(args: &[String]) -> Result {
    let seconds = match args {
        [flag, n] if flag == "--seconds" => n.clone(),
        [] => "60".to_owned(),
        _ => return Err("usage: cargo xtask fuzz [--seconds N]".into()),
    };
    if output("cargo", &["+nightly", "fuzz", "--version"]).is_none() {
        step("install cargo-fuzz", cmd("cargo", &["install", "cargo-fuzz", "--locked"]))?;
    }
    for target in ["condition_text", "workflow_json"] {
        let mut c = cmd(
            "cargo",
            &["+nightly", "fuzz", "run", target, "--", &format!("-max_total_time={seconds}")],
        );
        c.current_dir(root().join("crates/rules"));
        step(&format!("fuzz {target} for {seconds} s"), c)?;
    }
    Ok(())
}
