//! The `quorate` binary as the CLI tests run it: its output, and a short loopback cluster.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

pub fn quorate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quorate"))
        .args(args)
        .output()
        .expect("the quorate binary runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A scratch directory for one test, unique per call.
pub fn scratch(name: &str) -> PathBuf {
    // Every test of the crate runs in one process: a counter keeps two runs of one helper (two
    // cluster sizes of one protocol, say) out of each other's keys and stores.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("quorate-{name}-{}-{n}", std::process::id()))
}

/// Runs `quorate cluster --protocol P --nodes N --clients C --duration S [extra]` in a scratch
/// directory and requires what every healthy run prints: exit 0, a throughput line, and
/// ledgers that agree. Returns (stdout, stderr).
pub fn healthy_cluster(
    protocol: &str,
    nodes: u32,
    clients: u32,
    seconds: u32,
    extra: &[&str],
) -> (String, String) {
    let dir = scratch(&format!("{protocol}-cluster"));
    let (nodes, clients, seconds) = (nodes.to_string(), clients.to_string(), seconds.to_string());
    let mut args = vec![
        "cluster",
        "--protocol",
        protocol,
        "--nodes",
        &nodes,
        "--clients",
        &clients,
        "--duration",
        &seconds,
        "--dir",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = quorate(&args);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("throughput:"), "{stdout}");
    assert!(stdout.contains("ledgers agree up to height"), "{stdout}");
    assert!(!stdout.contains("DIVERGES"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
    (stdout, stderr)
}
