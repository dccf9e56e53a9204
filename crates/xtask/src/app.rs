//! The app: built by Trunk into `dist/`, every file precompressed (brotli and gzip) so the
//! server sends them as they are, and run with the server on demo data.

use crate::{Result, cmd, kib, root, step, tools};
use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

/// What the browser downloads first (wasm, js, css), brotli. The issue's target.
pub const INITIAL_LOAD_BROTLI_BUDGET: u64 = 350 * 1024;

/// The app's files' sizes.
#[derive(Debug, Default)]
pub struct Sizes {
    pub raw: u64,
    pub brotli: u64,
    pub gzip: u64,
}

/// Builds the app into `dist/` and the workflow editor into `dist/editor/` (a bundle of its
/// own, loaded only on its pages), precompresses both, and answers the app's initial load.
pub fn build() -> Result<Sizes> {
    tools::build_tools()?;
    step(
        "build the app (trunk, release, offline)",
        cmd("trunk", &["build", "--release", "--offline"]),
    )?;
    // After the app: Trunk replaces its whole dist directory.
    step(
        "build the workflow editor (trunk, release, offline)",
        cmd(
            "trunk",
            &[
                "build",
                "--release",
                "--offline=true",
                "editor.html",
                "--dist",
                "dist/editor",
                "--public-url",
                "/editor/",
            ],
        ),
    )?;
    let dist = root().join("dist");
    let editor = precompress(&dist.join("editor"))?;
    println!(
        "    the workflow editor (wasm + js + css, loaded on its pages): {} raw, {} brotli, {} gzip",
        kib(editor.raw),
        kib(editor.brotli),
        kib(editor.gzip)
    );
    let sizes = precompress(&dist)?;
    println!(
        "    initial load (wasm + js + css): {} raw, {} brotli, {} gzip",
        kib(sizes.raw),
        kib(sizes.brotli),
        kib(sizes.gzip)
    );
    Ok(sizes)
}

/// Writes a `.br` and a `.gz` beside every file of `dir` (not its subdirectories); answers the
/// sizes of its wasm, js and css.
fn precompress(dir: &Path) -> Result<Sizes> {
    let mut sizes = Sizes::default();
    println!("\n    {:<40} {:>9} {:>9} {:>9}", dir.display(), "raw", "brotli", "gzip");
    for file in files(dir)? {
        let data = fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let br = brotli(&data)?;
        let gz = gzip(&data)?;
        write(&with_suffix(&file, "br"), &br)?;
        write(&with_suffix(&file, "gz"), &gz)?;
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let len = |v: &[u8]| u64::try_from(v.len()).unwrap_or(u64::MAX);
        println!("    {name:<40} {:>9} {:>9} {:>9}", kib(len(&data)), kib(len(&br)), kib(len(&gz)));
        if ["wasm", "js", "css"].iter().any(|ext| name.ends_with(&format!(".{ext}"))) {
            sizes.raw += len(&data);
            sizes.brotli += len(&br);
            sizes.gzip += len(&gz);
        }
    }
    Ok(sizes)
}

/// The files Trunk wrote (not earlier compressed copies).
fn files(dist: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dist).map_err(|e| format!("{}: {e}", dist.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let compressed = path.extension().is_some_and(|e| e == "br" || e == "gz");
        if path.is_file() && !compressed {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn write(path: &Path, data: &[u8]) -> Result {
    fs::write(path, data).map_err(|e| format!("{}: {e}", path.display()))
}

fn brotli(data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
        w.write_all(data).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    w.write_all(data).map_err(|e| e.to_string())?;
    w.finish().map_err(|e| e.to_string())
}

/// `cargo xtask run`: the app and the server with the demo data, on SQLite unless
/// `DATABASE_URL` says otherwise. Extra arguments go to `countersign serve`.
pub fn run(extra: &[String]) -> Result {
    build()?;
    let mut args =
        vec!["run", "--release", "-p", "server", "--bin", "countersign", "--", "serve", "--demo"];
    let extra: Vec<&str> = extra.iter().map(String::as_str).skip_while(|a| *a == "--").collect();
    args.extend(extra);
    step("the server with the demo data", cmd("cargo", &args))
}
