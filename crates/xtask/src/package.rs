//! The JavaScript package of the rules engine (`crates/rules-js`).

use crate::{Result, cmd, output, root, step, tools};

/// Builds the JavaScript package: `target/rules-js/web` (for browsers and bundlers, after
/// wasm-opt) and `target/rules-js/node` (for Node). Returns the web wasm's size, gzipped.
pub fn build() -> Result<u64> {
    tools::build_tools()?;
    step(
        "build the JavaScript package's wasm",
        cmd(
            "cargo",
            &[
                "build",
                "-p",
                "rules-js",
                "--target",
                "wasm32-unknown-unknown",
                "--profile",
                "wasm-release",
            ],
        ),
    )?;
    let wasm = "target/wasm32-unknown-unknown/wasm-release/rules_js.wasm";
    for target in ["web", "nodejs"] {
        let dir = if target == "web" { "target/rules-js/web" } else { "target/rules-js/node" };
        step(
            &format!("wasm-bindgen --target {target}"),
            cmd("wasm-bindgen", &["--target", target, "--out-dir", dir, wasm]),
        )?;
    }
    let web = "target/rules-js/web/rules_js_bg.wasm";
    step(
        "wasm-opt -Oz",
        cmd(
            "wasm-opt",
            &[
                "-Oz",
                "--strip-debug",
                "--strip-producers",
                "--enable-bulk-memory",
                "--enable-bulk-memory-opt",
                "--enable-nontrapping-float-to-int",
                "--enable-sign-ext",
                "--enable-mutable-globals",
                "--enable-reference-types",
                "--enable-multivalue",
                web,
                "-o",
                web,
            ],
        ),
    )?;
    let raw = std::fs::metadata(root().join(web)).map_err(|e| e.to_string())?.len();
    let gzipped = output("sh", &["-c", &format!("gzip -9 -c {web} | wc -c")])
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or("cannot gzip the package's wasm")?;
    println!(
        "JavaScript package wasm: {raw} bytes raw, {gzipped} bytes gzip -9 ({:.1} KB)",
        gzipped as f64 / 1024.0
    );
    Ok(gzipped)
}
