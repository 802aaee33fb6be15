//! `quorate cluster --protocol oxii` as a user runs it: a short loopback run of an orderer, two
//! executors (one per application) and an executor-pool worker over QUIC whose executors'
//! ledgers agree, and the refusals (size, restart).

use crate::binary::{healthy_cluster, quorate, text};

#[test]
fn an_oxii_cluster_commits_and_its_executors_ledgers_agree() {
    let (stdout, _) = healthy_cluster("oxii", 4, 3, 3, &[]);
    assert!(stdout.contains("crypto bound:"), "{stdout}");
    // Executors 1 and 2 are compared; the orderer (0) and the pool worker (3) keep no ledger.
    assert!(stdout.contains("replica 1: ledger height"), "{stdout}");
    assert!(stdout.contains("replica 2: ledger height"), "{stdout}");
    assert!(!stdout.contains("replica 0:"), "{stdout}");
    assert!(!stdout.contains("replica 3:"), "{stdout}");
}

#[test]
fn a_seven_node_oxii_cluster_orders_through_pbft() {
    // Orderers 0-3 agree through PBFT; executors 4 (A1) and 5 (A2) keep ledgers; 6 is the
    // pool worker.
    let (stdout, _) = healthy_cluster("oxii", 7, 3, 3, &[]);
    assert!(stdout.contains("replica 4: ledger height"), "{stdout}");
    assert!(stdout.contains("replica 5: ledger height"), "{stdout}");
    for other in [0, 1, 2, 3, 6] {
        assert!(!stdout.contains(&format!("replica {other}:")), "{stdout}");
    }
}

#[test]
fn oxii_sizes_and_restarts_are_refused_with_their_rule() {
    let three = quorate(&["cluster", "--protocol", "oxii", "--nodes", "3"]);
    assert_eq!(three.status.code(), Some(2));
    assert!(
        text(&three.stderr).contains("at least 4"),
        "{}",
        text(&three.stderr)
    );
    let kill = quorate(&[
        "cluster",
        "--protocol",
        "oxii",
        "--nodes",
        "4",
        "--kill-one",
    ]);
    assert_eq!(kill.status.code(), Some(2));
    assert!(
        text(&kill.stderr).contains("no durable Storage"),
        "{}",
        text(&kill.stderr)
    );
}
