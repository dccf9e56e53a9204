//! The tools the build and the tests need, installed on first use from the package registries
//! only: the wasm target through rustup; wasm-bindgen-cli (exactly the version in Cargo.lock)
//! and Trunk from crates.io; wasm-opt, TypeScript and axe-core from npm into `.tools/`; Chromium and
//! chromedriver from Debian. Trunk is pinned to these in `Trunk.toml` and always run with
//! `--offline`, so it never downloads anything itself.

use crate::{Result, cmd, in_ci, output, root, step};
use std::{env, path::PathBuf};

/// Pinned npm tools: wasm-opt (Debian's binaryen is too old for wasm-bindgen's output), tsc, and
/// axe-core, which the end-to-end test runs in the pages to check their accessibility.
const NPM_TOOLS: [(&str, &str); 3] =
    [("binaryen", "132.0.0"), ("typescript", "5.9.3"), ("axe-core", "4.14.1")];

/// Trunk 0.22 needs a newer rustc than this project's.
const TRUNK_VERSION: &str = "0.21.14";

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub fn npm_bin() -> PathBuf {
    root().join(".tools/node_modules/.bin")
}

pub fn cargo_bin() -> PathBuf {
    env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env::var("HOME").unwrap_or_default()).join(".cargo"))
        .join("bin")
}

/// The version of a package in Cargo.lock.
fn locked_version(name: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{name}\"")
            && let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    Err(format!("{name} is not in Cargo.lock"))
}

/// Everything that builds the engine, its JavaScript package and the app.
pub fn build_tools() -> Result {
    let targets = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !targets.lines().any(|t| t == "wasm32-unknown-unknown") {
        step(
            "install the wasm32 target",
            cmd("rustup", &["target", "add", "wasm32-unknown-unknown"]),
        )?;
    }
    let wanted = locked_version("wasm-bindgen")?;
    let have = output("wasm-bindgen", &["--version"]).unwrap_or_default();
    if have != format!("wasm-bindgen {wanted}") {
        // Without --locked: the registry lacks one locked dependency version of the CLI.
        step(
            &format!("install wasm-bindgen-cli {wanted} (matches Cargo.lock)"),
            cmd("cargo", &["install", "wasm-bindgen-cli", "--version", &wanted, "--force"]),
        )?;
    }
    let have = output("trunk", &["--version"]).unwrap_or_default();
    if have != format!("trunk {TRUNK_VERSION}") {
        let mut install =
            cmd("cargo", &["install", "trunk", "--version", TRUNK_VERSION, "--locked", "--force"]);
        // A third faster to build, and Trunk's speed does not matter.
        install
            .env("CARGO_PROFILE_RELEASE_LTO", "false")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16");
        step(&format!("install trunk {TRUNK_VERSION}"), install)?;
    }
    let missing: Vec<String> = NPM_TOOLS
        .iter()
        .filter(|(name, version)| {
            let manifest = root().join(format!(".tools/node_modules/{name}/package.json"));
            let text = std::fs::read_to_string(manifest).unwrap_or_default();
            !text.contains(&format!("\"version\": \"{version}\""))
        })
        .map(|(name, version)| format!("{name}@{version}"))
        .collect();
    if !missing.is_empty() {
        let mut args = vec!["install", "--no-audit", "--no-fund", "--prefix", ".tools"];
        args.extend(missing.iter().map(String::as_str));
        step("install wasm-opt, tsc and axe-core from npm into .tools", cmd("npm", &args))?;
    }
    Ok(())
}

/// Chromium and chromedriver from Debian, for the end-to-end test.
pub fn browser() -> Result {
    if std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    let root_user = output("id", &["-u"]).is_some_and(|u| u == "0");
    let apt = |args: &[&str]| {
        if root_user {
            cmd("apt-get", args)
        } else {
            let mut all = vec!["apt-get"];
            all.extend_from_slice(args);
            cmd("sudo", &all)
        }
    };
    let mut update = apt(&["update"]);
    update.env("DEBIAN_FRONTEND", "noninteractive");
    // A failed update (no network to the mirror) may still leave an installable index.
    if let Err(e) = step("apt-get update", update) {
        eprintln!("{e}; trying to install anyway");
    }
    let mut install =
        apt(&["install", "-y", "--no-install-recommends", "chromium", "chromium-driver"]);
    install.env("DEBIAN_FRONTEND", "noninteractive");
    let installed = step("install chromium and chromium-driver from Debian", install);
    if installed.is_err() && !in_ci() {
        eprintln!("without Chromium the end-to-end test will be skipped");
        return Ok(());
    }
    installed
}
