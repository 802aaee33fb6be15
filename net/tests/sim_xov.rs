//! XOV (two endorsing peers, one orderer, three clients) under SimHost with the token
//! application: delta-write and plain-MVCC runs complete every transaction in the liveness
//! phase with every peer holding the same ledger (blocks and validation codes), runs replay
//! exactly from their seed, and the checks catch a broken protocol (peers validating in their
//! own order) and a broken runtime (dropped timers). With four orderers agreeing through PBFT
//! in place of the one, runs complete too, also when the primary orderer is silent.
//!
//! The network here reorders but does not lose messages: XOV's peers have no block catch-up
//! (a lost delivery would leave a peer behind for good), see the deployment's notes.

use std::sync::Arc;

use quorate_impl::crypto::{Keyring, NodeId, Signer, Symbolic};
use quorate_impl::xov::{Honest, LocalOrder, Orderer, Rules, XovNode};
use quorate_net::protocols::xov::XovDeployment;
use quorate_net::sim::{SimConfig, SimFailure, SimHost, SimReport};

const CLIENTS: usize = 3;
const OPERATIONS: u64 = 16;
const PEERS: [NodeId; 2] = [0, 1];

fn actors<R: Rules>(deployment: &XovDeployment) -> Vec<XovNode<Symbolic, R>> {
    let servers = deployment.peers + deployment.orderers;
    let total = (servers + CLIENTS) as NodeId;
    let keyring = Arc::new(Keyring::symbolic(0..total));
    (0..total)
        .map(|id| {
            if (id as usize) < servers {
                deployment.server::<Symbolic, R>(Signer::symbolic(id), keyring.clone())
            } else {
                deployment.client::<Symbolic, R>(Signer::symbolic(id), OPERATIONS)
            }
        })
        .collect()
}

fn run<R: Rules>(delta: bool, config: SimConfig) -> Result<SimReport, SimFailure> {
    let mut deployment = XovDeployment::new(PEERS.len());
    deployment.delta = delta;
    SimHost::new(config, actors::<R>(&deployment), "symbolic").run()
}

/// Every client finished its workload; returns the most advanced peer's ledger length.
fn assert_complete(report: &SimReport) -> u64 {
    assert_eq!(report.completed.len(), CLIENTS, "{report:?}");
    assert!(
        report.completed.values().all(|&done| done == OPERATIONS),
        "{report:?}"
    );
    // The run stops at the last commit report, which one peer may send before the other has
    // the block: every peer committed something, and SimHost checked they agree position by
    // position.
    for peer in PEERS {
        assert!(
            report.committed_len.get(&peer).is_some_and(|&len| len > 0),
            "peer {peer}: {report:?}"
        );
    }
    report.committed_len.values().max().copied().unwrap_or(0)
}

#[test]
fn delta_write_runs_complete_with_agreeing_ledgers() {
    for seed in 0..3 {
        let report = run::<Honest>(true, SimConfig::calm(seed))
            .unwrap_or_else(|failure| panic!("seed {seed}: {failure}"));
        // Delta writes: nothing is refused at endorsement, so every transaction was ordered
        // exactly once (a client finishes one only on its commit report; no retry fired).
        assert_eq!(
            assert_complete(&report),
            CLIENTS as u64 * OPERATIONS,
            "seed {seed}"
        );
        assert_eq!(report.dropped, 0);
    }
}

#[test]
fn plain_mvcc_runs_complete_with_agreeing_ledgers() {
    // Conflicting transfers to the hot account are invalidated, not lost: they still complete.
    // A release whose hold was invalidated is refused by the chaincode at endorsement and
    // abandoned, so fewer transactions may reach the ledger, never more.
    for seed in 0..3 {
        let report = run::<Honest>(false, SimConfig::calm(seed))
            .unwrap_or_else(|failure| panic!("seed {seed}: {failure}"));
        let longest = assert_complete(&report);
        assert!(
            longest <= CLIENTS as u64 * OPERATIONS,
            "seed {seed}: {report:?}"
        );
    }
}

#[test]
fn a_seed_replays_exactly_and_another_seed_differs() {
    let first = run::<Honest>(true, SimConfig::calm(7)).unwrap();
    let again = run::<Honest>(true, SimConfig::calm(7)).unwrap();
    assert_eq!(first, again, "same seed, same run, same traces");
    let other = run::<Honest>(true, SimConfig::calm(8)).unwrap();
    assert_ne!(first.trace_digest, other.trace_digest);
}

#[test]
fn peers_validating_in_their_own_order_are_caught_diverging() {
    // Under plain MVCC two transfers to the hot account in one block: whichever a peer
    // validates first wins, so peers that reorder disagree on the codes.
    let diverged = (0..6).any(|seed| {
        matches!(
            run::<LocalOrder>(false, SimConfig::calm(seed)),
            Err(SimFailure::Divergence { .. })
        )
    });
    assert!(
        diverged,
        "no seed showed the local-order mutant's divergence"
    );
}

#[test]
fn the_liveness_phase_catches_a_runtime_that_drops_timers() {
    // Without its Cut timer the orderer waits for a full block that closed-loop clients never
    // fill, so no transaction commits.
    let mut config = SimConfig::calm(3);
    config.drop_timers = true;
    match run::<Honest>(true, config) {
        Err(SimFailure::NotLive { stuck, .. }) => assert_eq!(stuck.len(), CLIENTS),
        other => panic!("a runtime that loses timers must fail liveness, got {other:?}"),
    }
}

/// The cluster of `run` with four orderers agreeing through PBFT, the first of them silent if
/// `silent_primary` (a node that never sends, at the primary of view 0).
fn run_pbft_ordered(seed: u64, silent_primary: bool) -> SimReport {
    let deployment = XovDeployment::new(PEERS.len())
        .with_pbft_ordering(4)
        .expect("four orderers tolerate one");
    let mut actors = actors::<Honest>(&deployment);
    let primary = deployment.orderer_ids()[0];
    if silent_primary {
        actors[primary as usize] = XovNode::Orderer(Orderer {
            peers: Vec::new(),
            max_block: usize::MAX,
        });
    }
    SimHost::new(SimConfig::calm(seed), actors, "symbolic")
        .run()
        .unwrap_or_else(|failure| panic!("seed {seed}: {failure}"))
}

#[test]
fn pbft_ordered_runs_complete_with_agreeing_ledgers() {
    for seed in 0..3 {
        let report = run_pbft_ordered(seed, false);
        // Each transaction is in a block exactly once: orderers drop a re-broadcast of a
        // transaction already cut into a block.
        assert_eq!(
            assert_complete(&report),
            CLIENTS as u64 * OPERATIONS,
            "seed {seed}"
        );
    }
}

#[test]
fn a_silent_primary_orderer_is_replaced_by_a_view_change() {
    for seed in 0..2 {
        let report = run_pbft_ordered(seed, true);
        // Nothing is ordered in view 0: the run outlasts at least one view timeout.
        assert!(
            report.end >= XovDeployment::new(2).pbft.view_timeout.start,
            "seed {seed}: {report:?}"
        );
        assert_complete(&report);
    }
}
