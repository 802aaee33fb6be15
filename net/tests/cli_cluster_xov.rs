//! `quorate cluster --protocol xov` as a user runs it: a short loopback run of two endorsing
//! peers and an orderer over QUIC whose peers' ledgers agree, and the refusals (size, restart).

use std::process::{Command, Output};

fn quorate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quorate"))
        .args(args)
        .output()
        .expect("the quorate binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn an_xov_cluster_commits_and_its_peers_ledgers_agree() {
    let dir = std::env::temp_dir().join(format!("quorate-xov-cluster-{}", std::process::id()));
    let out = quorate(&[
        "cluster",
        "--protocol",
        "xov",
        "--nodes",
        "3",
        "--clients",
        "3",
        "--duration",
        "3",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("throughput:"), "{stdout}");
    assert!(stdout.contains("crypto bound:"), "{stdout}");
    // The two peers are compared; the orderer (server 2) keeps no validated ledger.
    assert!(stdout.contains("replica 0: ledger height"), "{stdout}");
    assert!(stdout.contains("replica 1: ledger height"), "{stdout}");
    assert!(!stdout.contains("replica 2:"), "{stdout}");
    assert!(stdout.contains("ledgers agree up to height"), "{stdout}");
    assert!(!stdout.contains("DIVERGES"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn xov_sizes_and_restarts_are_refused_with_their_rule() {
    let two = quorate(&["cluster", "--protocol", "xov", "--nodes", "2"]);
    assert_eq!(two.status.code(), Some(2));
    let kill = quorate(&["cluster", "--protocol", "xov", "--nodes", "3", "--kill-one"]);
    assert_eq!(kill.status.code(), Some(2));
    assert!(
        text(&kill.stderr).contains("no durable Storage"),
        "{}",
        text(&kill.stderr)
    );
}
