//! Multi-Paxos n=3 under SimHost: calm and faulty runs complete with agreeing ledgers, crashes
//! and disk faults happen and are recovered from, runs replay exactly from their seed, and the
//! checks catch a broken protocol (a mutant) and a broken runtime (dropped timers).

use quorate_impl::paxos::{Honest, Rules, SmallQuorum};
use quorate_net::protocols::paxos::PaxosDeployment;
use quorate_net::sim::{SimConfig, SimFailure, SimHost, SimReport};

const CLIENTS: usize = 2;
const OPERATIONS: u64 = 12;

fn run<R: Rules>(config: SimConfig) -> Result<SimReport, SimFailure> {
    let deployment = PaxosDeployment::new(3);
    let actors = deployment.symbolic_actors::<R>(CLIENTS, OPERATIONS);
    SimHost::new(config, actors, "symbolic").run()
}

fn faulty(seed: u64) -> SimConfig {
    let mut config = SimConfig::new(seed, [0, 1, 2], 1);
    config.crash_per_mille = 20;
    config.disk_fault_per_mille = 20;
    config
}

fn assert_complete(report: &SimReport) {
    assert_eq!(report.completed.len(), CLIENTS);
    assert!(
        report.completed.values().all(|&done| done == OPERATIONS),
        "{report:?}"
    );
    // Every operation executed once on the most advanced replica.
    let longest = report.committed_len.values().max().copied().unwrap_or(0);
    assert_eq!(longest, CLIENTS as u64 * OPERATIONS, "{report:?}");
}

#[test]
fn calm_run_completes_every_operation() {
    let report = run::<Honest>(SimConfig::calm(1)).expect("calm run is live and safe");
    assert_complete(&report);
    assert_eq!(report.dropped, 0);
    assert_eq!(report.restarts, 0);
}

#[test]
fn faulty_runs_crash_restart_and_still_complete() {
    let mut totals = SimReport::default();
    for seed in 0..6 {
        let report =
            run::<Honest>(faulty(seed)).unwrap_or_else(|failure| panic!("seed {seed}: {failure}"));
        assert_complete(&report);
        assert!(report.end >= report.faults_stopped);
        totals.restarts += report.restarts;
        totals.crashes_after_commit += report.crashes_after_commit;
        totals.torn_writes += report.torn_writes;
        totals.fsync_errors += report.fsync_errors;
        totals.dropped += report.dropped;
        totals.partitions += report.partitions;
    }
    // The faults really happened, or the runs above prove little.
    assert!(totals.restarts > 0, "{totals:?}");
    assert!(totals.crashes_after_commit > 0, "{totals:?}");
    assert!(totals.torn_writes > 0, "{totals:?}");
    assert!(totals.fsync_errors > 0, "{totals:?}");
    assert!(totals.dropped > 0, "{totals:?}");
    assert!(totals.partitions > 0, "{totals:?}");
}

#[test]
fn a_seed_replays_exactly_and_another_seed_differs() {
    let first = run::<Honest>(faulty(7)).unwrap();
    let again = run::<Honest>(faulty(7)).unwrap();
    assert_eq!(first, again, "same seed, same run, same traces");
    let other = run::<Honest>(faulty(8)).unwrap();
    assert_ne!(first.trace_digest, other.trace_digest);
}

#[test]
fn a_broken_quorum_rule_is_caught_as_divergence() {
    // Either the ledger comparison sees the divergence, or the learner's own invariant trips
    // first (a panic, which SimHost reports as a failure of that node's run).
    let caught = (0..40u64).find(|&seed| {
        let mut config = faulty(seed);
        config.partition_per_mille = 30;
        match run::<SmallQuorum>(config) {
            Err(SimFailure::Divergence { .. }) => true,
            Err(SimFailure::Panic { message, .. }) => message.contains("two values chosen"),
            _ => false,
        }
    });
    assert!(caught.is_some(), "no seed in 0..40 exposed small quorums");
}

#[test]
fn the_liveness_phase_catches_a_runtime_that_drops_timers() {
    let mut config = faulty(3);
    config.drop_timers = true;
    match run::<Honest>(config) {
        Err(SimFailure::NotLive { stuck, .. }) => assert!(!stuck.is_empty()),
        other => panic!("a runtime that loses timers must fail liveness, got {other:?}"),
    }
}
