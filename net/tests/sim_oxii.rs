//! OXII (one orderer, three executors that are agents of two applications and one passive
//! executor, two executor-pool workers, three clients) under SimHost with the accounting
//! contract: runs complete every client's transactions with every executor holding the same
//! ledger (blocks, outcomes and the state after each block), replay exactly from their seed,
//! and the checks catch a broken protocol (the seed-literal apply rule, card ambiguity 1) and a
//! broken runtime (dropped timers). The same cluster ordered by four PBFT orderers completes
//! too, also when the primary orderer is silent.
//!
//! The network here reorders but does not lose messages: executors have no block catch-up or
//! state transfer (card gap G20), see the deployment's notes.

use std::sync::Arc;

use quorate_impl::crypto::{Keyring, NodeId, Signer, Symbolic};
use quorate_impl::oxii::{ApplyOnDecide, ByzantineExecutor, Client, Honest, OxiiNode, Rules, Work};
use quorate_net::protocols::oxii::{OxiiDeployment, APPS, HOT};
use quorate_net::sim::{SimConfig, SimFailure, SimHost, SimReport};
use quorate_spec::oxii::{AccessSets, AccountOp, Accounts};
use quorate_spec::Key;
use std::marker::PhantomData;

const CLIENTS: usize = 3;
const OPERATIONS: u64 = 16;

fn deployment() -> OxiiDeployment {
    // Executors 1 and 3 are agents of A1, 2 of A2, and 4 only applies what they commit.
    OxiiDeployment {
        passive: 1,
        ..OxiiDeployment::new(4, 2)
    }
}

fn actors_of<R: Rules>(deployment: &OxiiDeployment) -> Vec<OxiiNode<Symbolic, Accounts, R>> {
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
    SimHost::new(config, actors_of::<R>(&deployment()), "symbolic").run()
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
        // Only executors (the passive one included) export ledgers: the orderer and the
        // workers keep none.
        assert_eq!(report.committed_len.len(), 4, "{report:?}");
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

/// Executor 1 (the one agent of A1), 2 (of A2) and 3 (passive), and three clients whose
/// blocks race two results on one link: clients 6 and 7 pay into the hot account under A1 (a
/// write-write chain), client 8 draws from client 6's account under A2. When client 6's
/// transfer precedes the others in a block, executor 1 multicasts its result at once (A2 needs
/// it) and client 7's, the hot account's last writer, only when it finishes: two messages on
/// each link that the network may swap.
fn racing_actors<R: Rules>() -> Vec<OxiiNode<Symbolic, Accounts, R>> {
    let deployment = OxiiDeployment {
        passive: 1,
        ..OxiiDeployment::new(3, 2)
    };
    let servers = deployment.servers() as NodeId;
    let keyring = Arc::new(Keyring::symbolic(0..servers + 3));
    let own = |id: NodeId| Key(id + 1);
    let transfer = |app, from, to| Work {
        app,
        ops: vec![AccountOp::Transfer {
            from,
            to,
            amount: 1,
        }],
        access: AccessSets::new([from], [from, to]),
    };
    let client = |id: NodeId, work: Work<AccountOp>| {
        OxiiNode::Client(Client {
            signer: Signer::symbolic(id),
            orderers: vec![deployment.orderer()],
            membership: Arc::new(deployment.membership(keyring.clone())),
            workload: vec![work; 2 * OPERATIONS as usize],
            retry: Some(deployment.client_retry.clone()),
            multicast: false,
        })
    };
    let first = servers;
    let mut actors: Vec<_> = (0..servers)
        .map(|id| deployment.server::<Symbolic, R>(Signer::symbolic(id), keyring.clone()))
        .collect();
    actors.push(client(first, transfer(APPS[0], own(first), HOT)));
    actors.push(client(first + 1, transfer(APPS[0], own(first + 1), HOT)));
    actors.push(client(
        first + 2,
        transfer(APPS[1], own(first), own(first + 2)),
    ));
    actors
}

#[test]
fn the_seed_literal_apply_rule_is_caught_diverging() {
    // Algorithm 8 read literally applies each result when τ is reached, in arrival order: an
    // executor that hears the hot account's last writer before an earlier one ends the block
    // with a different datastore, which the per-block state digest in every ledger entry shows.
    // The honest rule (apply in graph order) on the same workload and seeds agrees.
    let seeds = 0..16;
    let diverged = seeds
        .clone()
        .filter(|&seed| {
            let actors = racing_actors::<ApplyOnDecide>();
            matches!(
                SimHost::new(SimConfig::calm(seed), actors, "symbolic").run(),
                Err(SimFailure::Divergence { .. })
            )
        })
        .count();
    assert!(
        diverged > 0,
        "no seed showed the seed-literal rule's divergence"
    );
    for seed in seeds {
        let actors = racing_actors::<Honest>();
        SimHost::new(SimConfig::calm(seed), actors, "symbolic")
            .run()
            .unwrap_or_else(|f| panic!("honest rules, seed {seed}: {f}"));
    }
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

/// The cluster of `deployment()` with four orderers agreeing through PBFT in front of it.
fn pbft_ordered() -> OxiiDeployment {
    deployment()
        .with_pbft_ordering(4)
        .expect("four orderers tolerate one")
}

fn pbft_actors<R: Rules>(silent_primary: bool) -> Vec<OxiiNode<Symbolic, Accounts, R>> {
    let mut actors = actors_of::<R>(&pbft_ordered());
    if silent_primary {
        // A node that never sends, at the primary orderer's id: clients' first submissions
        // and view 0 go nowhere until the backups' view timers move ordering to orderer 1.
        actors[0] = OxiiNode::Byzantine(ByzantineExecutor {
            id: 0,
            forged: Vec::new(),
            forged_replies: Vec::new(),
            marker: PhantomData,
        });
    }
    actors
}

/// A calm PBFT-ordered run in which every client completes its workload.
fn pbft_ordered_run(seed: u64, silent_primary: bool) -> SimReport {
    let actors = pbft_actors::<Honest>(silent_primary);
    let report = SimHost::new(SimConfig::calm(seed), actors, "symbolic")
        .run()
        .unwrap_or_else(|f| panic!("seed {seed}: {f}"));
    assert!(
        report.completed.values().all(|&done| done == OPERATIONS),
        "seed {seed}: {report:?}"
    );
    report
}

#[test]
fn pbft_ordered_runs_complete_with_agreeing_ledgers() {
    for seed in 0..3 {
        let report = pbft_ordered_run(seed, false);
        // Every transaction is in a block exactly once: the orderers' per-client timestamps
        // keep re-sent requests out of later batches.
        let longest = report.committed_len.values().max().copied();
        assert_eq!(longest, Some(CLIENTS as u64 * OPERATIONS), "seed {seed}");
        assert_eq!(
            report.committed_len.keys().copied().collect::<Vec<_>>(),
            pbft_ordered().executor_ids(),
            "only executors keep ledgers"
        );
    }
}

#[test]
fn a_silent_primary_orderer_is_replaced_by_a_view_change() {
    for seed in 0..2 {
        let report = pbft_ordered_run(seed, true);
        // Clients only retry after 2 s and backups suspect after 1.5 s: nothing commits in
        // view 0, so the run outlasts a view change.
        assert!(
            report.end >= pbft_ordered().pbft.view_timeout.start,
            "{report:?}"
        );
    }
}
