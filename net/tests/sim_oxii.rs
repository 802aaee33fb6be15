//! OXII (one orderer, three executors over two applications, two executor-pool workers, three
//! clients) under SimHost with the accounting contract: runs complete every client's
//! transactions with every executor holding the same ledger (blocks, outcomes and the state
//! after each block), replay exactly from their seed, and the checks catch a broken protocol
//! (the seed-literal apply rule, card ambiguity 1) and a broken runtime (dropped timers).
//!
//! The network here reorders but does not lose messages: executors have no block catch-up or
//! state transfer (card gap G20), see the deployment's notes.

use std::sync::Arc;

use quorate_impl::crypto::{Keyring, NodeId, Signer, Symbolic};
use quorate_impl::oxii::{ApplyOnDecide, Honest, OxiiNode, Rules};
use quorate_net::protocols::oxii::OxiiDeployment;
use quorate_net::sim::{SimConfig, SimFailure, SimHost, SimReport};
use quorate_spec::oxii::Accounts;

const CLIENTS: usize = 3;
const OPERATIONS: u64 = 16;

fn deployment() -> OxiiDeployment {
    OxiiDeployment::new(3, 2)
}

fn actors<R: Rules>(deployment: &OxiiDeployment) -> Vec<OxiiNode<Symbolic, Accounts, R>> {
    let servers = deployment.servers();
    let total = (servers + CLIENTS) as NodeId;
    let keyring = Arc::new(Keyring::symbolic(0..total));
    (0..total)
        .map(|id| {
            if (id as usize) < servers {
                deployment.server::<Symbolic, R>(Signer::symbolic(id), keyring.clone())
            } else {
                deployment.client::<Symbolic, R>(Signer::symbolic(id), keyring.clone(), OPERATIONS)
            }
        })
        .collect()
}

fn run<R: Rules>(config: SimConfig) -> Result<SimReport, SimFailure> {
    SimHost::new(config, actors::<R>(&deployment()), "symbolic").run()
}

#[test]
fn runs_complete_with_agreeing_ledgers() {
    for seed in 0..3 {
        let report =
            run::<Honest>(SimConfig::calm(seed)).unwrap_or_else(|f| panic!("seed {seed}: {f}"));
        assert_eq!(report.completed.len(), CLIENTS, "{report:?}");
        assert!(
            report.completed.values().all(|&done| done == OPERATIONS),
            "seed {seed}: {report:?}"
        );
        // The run stops at the last client's f_A + 1 replies, which one executor may send
        // before another has appended the block: every executor appended something (SimHost
        // checked they agree position by position), and the furthest holds every transaction
        // exactly once (the orderer's last_ts check keeps a re-sent request out).
        for executor in deployment().executor_ids() {
            assert!(
                report
                    .committed_len
                    .get(&executor)
                    .is_some_and(|&len| len > 0),
                "seed {seed}, executor {executor}: {report:?}"
            );
        }
        let longest = report.committed_len.values().max().copied();
        assert_eq!(longest, Some(CLIENTS as u64 * OPERATIONS), "seed {seed}");
        // Only executors export ledgers: the orderer and the workers keep none.
        assert_eq!(report.committed_len.len(), 3, "{report:?}");
    }
}

#[test]
fn a_seed_replays_exactly_and_another_seed_differs() {
    let first = run::<Honest>(SimConfig::calm(7)).unwrap();
    let again = run::<Honest>(SimConfig::calm(7)).unwrap();
    assert_eq!(first, again, "same seed, same run, same traces");
    let other = run::<Honest>(SimConfig::calm(8)).unwrap();
    assert_ne!(first.trace_digest, other.trace_digest);
}

#[test]
fn the_seed_literal_apply_rule_is_caught_diverging() {
    // Algorithm 8 read literally applies each result when τ is reached, in arrival order: an
    // executor that hears two writers of one key in the other order ends the block with a
    // different datastore, which the per-block state digest in every ledger entry shows.
    let diverged = (0..8).any(|seed| {
        matches!(
            run::<ApplyOnDecide>(SimConfig::calm(seed)),
            Err(SimFailure::Divergence { .. })
        )
    });
    assert!(
        diverged,
        "no seed showed the seed-literal rule's divergence"
    );
}

#[test]
fn the_liveness_phase_catches_a_runtime_that_drops_timers() {
    // Without its Cut timer the orderer waits for a full block of 200 that three closed-loop
    // clients never fill, so no transaction commits.
    let mut config = SimConfig::calm(3);
    config.drop_timers = true;
    match run::<Honest>(config) {
        Err(SimFailure::NotLive { stuck, .. }) => assert_eq!(stuck.len(), CLIENTS),
        other => panic!("a runtime that loses timers must fail liveness, got {other:?}"),
    }
}
