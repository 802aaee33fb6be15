//! `quorate cluster --protocol xov` as a user runs it: a short loopback run of two endorsing
//! peers and an orderer over QUIC whose peers' ledgers agree, the same with four orderers
//! agreeing through PBFT, and the refusals (size, restart).

use crate::binary::{healthy_cluster, quorate, text};

#[test]
fn an_xov_cluster_commits_and_its_peers_ledgers_agree() {
    let (stdout, _) = healthy_cluster("xov", 3, 3, 3, &[]);
    assert!(stdout.contains("crypto bound:"), "{stdout}");
    // The two peers are compared; the orderer (server 2) keeps no validated ledger.
    assert!(stdout.contains("replica 0: ledger height"), "{stdout}");
    assert!(stdout.contains("replica 1: ledger height"), "{stdout}");
    assert!(!stdout.contains("replica 2:"), "{stdout}");
}

#[test]
fn a_seven_node_xov_cluster_orders_through_pbft() {
    // Peers 0-2 endorse and commit; orderers 3-6 agree through PBFT.
    let (stdout, _) = healthy_cluster("xov", 7, 3, 3, &[]);
    for peer in [0, 1, 2] {
        assert!(
            stdout.contains(&format!("replica {peer}: ledger height")),
            "{stdout}"
        );
    }
    for orderer in [3, 4, 5, 6] {
        assert!(!stdout.contains(&format!("replica {orderer}:")), "{stdout}");
    }
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
