//! `cargo xtask test`: every test, in the order that fails fastest.

use crate::{Result, app, cmd, in_ci, kib, output, package, root, step, tools};
use std::time::Instant;

/// The JavaScript package's wasm, after wasm-opt, gzip. The target is 100 KB; this
/// guard stops regressions from where the package stands (see ARCHITECTURE.md).
const JS_PACKAGE_GZIP_BUDGET: u64 = 180 * 1024;

/// What `rules` may depend on: nothing that does I/O, threads or randomness (the derive
/// macros run at compile time only).
const RULES_DEPENDENCIES: [&str; 13] = [
    "arrayvec",
    "num-traits",
    "proc-macro2",
    "quote",
    "rules",
    "rust_decimal",
    "rustc-hash",
    "serde",
    "serde_core",
    "serde_derive",
    "smol_str",
    "syn",
    "unicode-ident",
];

/// `rules` stays pure: its dependency tree holds only the crates above.
fn check_rules_dependencies() -> Result {
    println!("\n==> the rules crate's dependencies");
    let tree = output(
        "cargo",
        &["tree", "-p", "rules", "-e", "normal", "--prefix", "none", "--format", "{p}"],
    )
    .ok_or("cargo tree -p rules failed")?;
    let unexpected: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| !RULES_DEPENDENCIES.contains(name))
        .collect();
    if unexpected.is_empty() {
        println!("<== the rules crate's dependencies: ok ({})", RULES_DEPENDENCIES.join(", "));
        Ok(())
    } else {
        Err(format!("rules must stay pure, but now depends on {unexpected:?}"))
    }
}

pub fn all() -> Result {
    let started = Instant::now();
    tools::build_tools()?;
    tools::browser()?;
    step("formatting", cmd("cargo", &["fmt", "--all", "--", "--check"]))?;
    check_rules_dependencies()?;
    step(
        "lints (native)",
        cmd(
            "cargo",
            &[
                "clippy",
                "--workspace",
                "--exclude",
                "frontend",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
    )?;
    step(
        "lints (the app, for wasm)",
        cmd(
            "cargo",
            &[
                "clippy",
                "-p",
                "frontend",
                "--target",
                "wasm32-unknown-unknown",
                "--",
                "-D",
                "warnings",
            ],
        ),
    )?;
    step(
        "native tests (the API on SQLite and PostgreSQL)",
        cmd("cargo", &["test", "--workspace", "--exclude", "bench", "--exclude", "frontend"]),
    )?;
    step(
        "the fixture corpus and the generated cases in wasm (Node)",
        cmd("cargo", &["test", "-p", "tests", "--target", "wasm32-unknown-unknown"]),
    )?;
    javascript_package()?;
    let sizes = app::build()?;
    if sizes.brotli > app::INITIAL_LOAD_BROTLI_BUDGET {
        return Err(format!(
            "the app's initial load grew to {} brotli (budget {})",
            kib(sizes.brotli),
            kib(app::INITIAL_LOAD_BROTLI_BUDGET)
        ));
    }
    step(
        "build the server and the SMTP server",
        cmd("cargo", &["build", "-p", "server", "--bins"]),
    )?;
    let bin = root().join("target/debug");
    let mut e2e = cmd(
        "cargo",
        &["test", "-p", "tests", "--features", "e2e", "--test", "e2e", "--", "--nocapture"],
    );
    e2e.env("COUNTERSIGN_BIN", bin.join("countersign"))
        .env("SMTP_SINK_BIN", bin.join("smtp-sink"))
        .env("COUNTERSIGN_DIST", root().join("dist"));
    step("end to end in headless Chromium", e2e)?;
    step(
        "benchmarks, once each in test mode",
        cmd("cargo", &["bench", "-p", "bench", "--", "--test"]),
    )?;
    load_smoke()?;
    println!("\nall tests passed in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn javascript_package() -> Result {
    let gzipped = package::build()?;
    step(
        "the fixture corpus through the JavaScript API",
        cmd(
            "node",
            &["tests/js/run-fixtures.mjs", "target/rules-js/node", "target/rules-js/check.ts"],
        ),
    )?;
    step(
        "the TypeScript types against the real shapes",
        cmd(
            "tsc",
            &[
                "--noEmit",
                "--strict",
                "--target",
                "esnext",
                "--module",
                "nodenext",
                "--moduleResolution",
                "nodenext",
                "target/rules-js/check.ts",
            ],
        ),
    )?;
    if gzipped > JS_PACKAGE_GZIP_BUDGET {
        return Err(format!(
            "the JavaScript package's wasm grew to {gzipped} bytes gzip (budget {JS_PACKAGE_GZIP_BUDGET})"
        ));
    }
    Ok(())
}

/// The load generator, briefly, against the debug server: it works on both databases. The
/// figures come from `cargo xtask bench`.
fn load_smoke() -> Result {
    step("build the load generator", cmd("cargo", &["build", "-p", "loadgen"]))?;
    let server = root().join("target/debug/countersign");
    let server = server.to_string_lossy();
    let mut databases = vec!["sqlite"];
    if crate::bench::postgres_reachable() {
        databases.push("postgres");
    } else if in_ci() {
        return Err("CI=true but PostgreSQL is not reachable at 127.0.0.1:5432".into());
    } else {
        println!("SKIPPED: the load generator on PostgreSQL (nothing answers at 127.0.0.1:5432)");
    }
    for database in databases {
        step(
            &format!("the timer scheduler, briefly, on {database}"),
            cmd(
                "target/debug/timers",
                &[
                    "--database",
                    database,
                    "--pending",
                    "2000",
                    "--rate",
                    "20",
                    "--seconds",
                    "1",
                    "--burst",
                    "100",
                ],
            ),
        )?;
        step(
            &format!("the load generator, briefly, on {database}"),
            cmd(
                "target/debug/loadgen",
                &[
                    "--server",
                    &server,
                    "--database",
                    database,
                    "--seconds",
                    "1",
                    "--warmup",
                    "0",
                    "--rate",
                    "20",
                    "--buyers",
                    "2",
                ],
            ),
        )?;
    }
    Ok(())
}
