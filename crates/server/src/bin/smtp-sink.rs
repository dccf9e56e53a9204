//! A small SMTP server for tests and local development: it accepts every message and writes
//! each one to a file in a directory. It speaks real SMTP over TCP (HELO/EHLO, MAIL, RCPT,
//! DATA with dot-unstuffing, RSET, NOOP, QUIT), so the server under test talks to it exactly as
//! it would to a mail relay.
//!
//! `smtp-sink <directory> [port]`: prints `listening on 127.0.0.1:<port>` once ready.
#![allow(clippy::print_stdout, reason = "a command-line tool")]

use std::{
    io::{BufRead, BufReader, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

static COUNT: AtomicU64 = AtomicU64::new(0);

fn session(stream: TcpStream, dir: &Path) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    out.write_all(b"220 smtp-sink ready\r\n")?;
    let (mut from, mut to) = (String::new(), Vec::<String>::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            out.write_all(b"250-smtp-sink\r\n250 8BITMIME\r\n")?;
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            out.write_all(b"250 ok\r\n")?;
        } else if upper.starts_with("RSET") {
            from.clear();
            to.clear();
            out.write_all(b"250 ok\r\n")?;
        } else if upper.starts_with("MAIL FROM:") {
            from = command.get(10..).unwrap_or_default().trim().to_owned();
            out.write_all(b"250 ok\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(command.get(8..).unwrap_or_default().trim().to_owned());
            out.write_all(b"250 ok\r\n")?;
        } else if upper == "DATA" {
            out.write_all(b"354 end with <CRLF>.<CRLF>\r\n")?;
            let mut body = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line.trim_end_matches(['\r', '\n']) == "." {
                    break;
                }
                body.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            let n = COUNT.fetch_add(1, Ordering::SeqCst);
            let name = dir.join(format!("{n:06}.eml"));
            let text = format!("X-Sink-From: {from}\r\nX-Sink-To: {}\r\n{body}", to.join(", "));
            std::fs::write(&name, text)?;
            from.clear();
            to.clear();
            out.write_all(b"250 queued\r\n")?;
        } else if upper == "QUIT" {
            out.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            out.write_all(b"502 command not implemented\r\n")?;
        }
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "mail".into()));
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    std::fs::create_dir_all(&dir)?;
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    println!("listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    for stream in listener.incoming() {
        let stream = stream?;
        let dir = dir.clone();
        std::thread::spawn(move || {
            if let Err(e) = session(stream, &dir) {
                eprintln!("smtp-sink: {e}");
            }
        });
    }
    Ok(())
}
