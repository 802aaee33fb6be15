//! The `quorate` binary's cluster commands as a user runs them: keygen, config errors, and
//! short loopback Paxos and PBFT clusters with one replica SIGKILLed and restarted.

use crate::binary::{healthy_cluster, quorate, text};

#[test]
fn keygen_writes_a_key_and_refuses_to_overwrite_it() {
    let dir = std::env::temp_dir().join(format!("quorate-keygen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("a.key");
    let key = key.to_str().unwrap();
    let first = quorate(&["keygen", "--out", key]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(
        text(&first.stdout).trim().len(),
        64,
        "prints the public key in hex"
    );
    let again = quorate(&["keygen", "--out", key]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("refusing to overwrite"));
}

#[test]
fn a_bad_cluster_file_is_named_with_its_rule() {
    let dir = std::env::temp_dir().join(format!("quorate-badcfg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("cluster.toml");
    std::fs::write(
        &config,
        "protocol = \"paxos\"\n[[node]]\nid = 0\naddr = \"127.0.0.1:9\"\npublic_key = \"zz\"\n",
    )
    .unwrap();
    let out = quorate(&[
        "node",
        "--config",
        config.to_str().unwrap(),
        "--id",
        "0",
        "--key",
        "/nonexistent",
        "--data",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("member 0 public_key"),
        "{}",
        text(&out.stderr)
    );
    let even = quorate(&["cluster", "--protocol", "paxos", "--nodes", "4"]);
    assert_eq!(even.status.code(), Some(2));
    assert!(text(&even.stderr).contains("--nodes 4"));
}

#[test]
fn a_paxos_cluster_survives_a_sigkill_and_its_ledgers_agree() {
    let (_, stderr) = healthy_cluster("paxos", 3, 2, 4, &["--kill-one"]);
    assert!(stderr.contains("SIGKILL replica"), "{stderr}");
}

#[test]
fn pbft_cluster_sizes_are_refused_with_their_rule() {
    let five = quorate(&["cluster", "--protocol", "pbft", "--nodes", "5"]);
    assert_eq!(five.status.code(), Some(2));
    assert!(
        text(&five.stderr).contains("n = 3f+1"),
        "{}",
        text(&five.stderr)
    );
}

/// `replica N: ledger height H, ...` lines of a cluster report, as (N, H).
fn ledger_heights(stdout: &str) -> Vec<(u32, u64)> {
    stdout
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("replica ")?;
            let (id, rest) = rest.split_once(": ledger height ")?;
            let height = rest.split(',').next()?;
            Some((id.parse().ok()?, height.parse().ok()?))
        })
        .collect()
}

#[test]
fn a_pbft_cluster_survives_a_sigkill_and_the_restarted_replica_catches_up() {
    let (stdout, stderr) = healthy_cluster("pbft", 4, 4, 8, &["--kill-one"]);
    assert!(stderr.contains("SIGKILL replica 3"), "{stderr}");
    // The killed replica (3) restarted from its Storage and caught up: its exported ledger
    // reaches at least half of the longest one (it was down a second of the eight).
    let heights = ledger_heights(&stdout);
    assert_eq!(heights.len(), 4, "{stdout}");
    let longest = heights.iter().map(|(_, h)| *h).max().unwrap();
    let victim = heights.iter().find(|(id, _)| *id == 3).unwrap().1;
    assert!(longest > 0 && victim * 2 >= longest, "{stdout}");
}
