//! PBFT n=4 under SimHost: calm runs, runs with a lossy, reordering, partitioned network, and
//! runs where replicas crash (after a commit, before its sends), lose torn writes and hit
//! fsync errors, then restart from their durable Storage, all complete every operation in the
//! liveness phase with agreeing ledgers; runs replay exactly from their seed, and the liveness
//! phase catches a runtime that drops timers.
//!
//! Even calm runs lean on client retries and view changes: the core drops a COMMIT that
//! arrives before its replica prepared, so on an unordered network a sequence number can miss
//! its 2f+1 commits at some replicas until a view change re-proposes it (see the report).

use quorate_impl::crypto::Symbolic;
use quorate_net::protocols::pbft::PbftDeployment;
use quorate_net::protocols::{symbolic_cluster, Deployment};
use quorate_net::sim::{SimConfig, SimFailure, SimHost, SimReport};

const CLIENTS: usize = 3;
const OPERATIONS: u64 = 10;

fn run(config: SimConfig) -> Result<SimReport, SimFailure> {
    let deployment = <PbftDeployment as Deployment<Symbolic>>::with_servers(4).unwrap();
    let actors = symbolic_cluster(&deployment, CLIENTS, OPERATIONS);
    SimHost::new(config, actors, "symbolic").run()
}

fn lossy(seed: u64) -> SimConfig {
    let mut config = SimConfig::new(seed, [], 0);
    config.partition_per_mille = 5;
    config.disk_fault_per_mille = 0;
    config
}

/// Faults on every replica, at most f = 1 down at once.
fn faulty(seed: u64) -> SimConfig {
    let mut config = SimConfig::new(seed, [0, 1, 2, 3], 1);
    config.crash_per_mille = 20;
    config.disk_fault_per_mille = 20;
    config
}

fn assert_complete(report: &SimReport) {
    assert_eq!(report.completed.len(), CLIENTS, "{report:?}");
    assert!(
        report.completed.values().all(|&done| done == OPERATIONS),
        "{report:?}"
    );
    // Each operation executed exactly once on the most advanced replica.
    let longest = report.committed_len.values().max().copied().unwrap_or(0);
    assert_eq!(longest, CLIENTS as u64 * OPERATIONS, "{report:?}");
}

#[test]
fn calm_run_completes_every_operation() {
    let report = run(SimConfig::calm(1)).expect("a calm run is live and safe");
    assert_complete(&report);
    assert_eq!(report.dropped, 0);
    // The run ends when the last client has its f+1 = 2 matching replies, so f+1 replicas
    // executed the whole workload; the others may still have that last request's commits in
    // flight (kept as early votes), but no replica is more than one request per client behind.
    let total = CLIENTS as u64 * OPERATIONS;
    let full = report
        .committed_len
        .values()
        .filter(|&&len| len == total)
        .count();
    assert!(full >= 2, "{report:?}");
    assert!(
        report
            .committed_len
            .values()
            .all(|&len| len + CLIENTS as u64 >= total),
        "{report:?}"
    );
}

#[test]
fn lossy_partitioned_runs_still_complete() {
    let (mut dropped, mut partitions) = (0, 0);
    for seed in 0..4 {
        let report = run(lossy(seed)).unwrap_or_else(|failure| panic!("seed {seed}: {failure}"));
        assert_complete(&report);
        dropped += report.dropped;
        partitions += report.partitions;
    }
    // The faults really happened, or the runs above prove little.
    assert!(dropped > 0 && partitions > 0, "{dropped} {partitions}");
}

#[test]
fn faulty_runs_crash_restart_from_storage_and_still_complete() {
    let mut totals = SimReport::default();
    for seed in 0..6 {
        let report = run(faulty(seed)).unwrap_or_else(|failure| panic!("seed {seed}: {failure}"));
        assert_complete(&report);
        totals.restarts += report.restarts;
        totals.crashes_after_commit += report.crashes_after_commit;
        totals.torn_writes += report.torn_writes;
        totals.fsync_errors += report.fsync_errors;
        totals.dropped += report.dropped;
    }
    // The faults really happened, or the runs above prove little.
    assert!(totals.restarts > 0, "{totals:?}");
    assert!(totals.crashes_after_commit > 0, "{totals:?}");
    assert!(totals.torn_writes > 0, "{totals:?}");
    assert!(totals.fsync_errors > 0, "{totals:?}");
    assert!(totals.dropped > 0, "{totals:?}");
}

#[test]
fn a_faulty_seed_replays_exactly() {
    let first = run(faulty(7)).unwrap();
    let again = run(faulty(7)).unwrap();
    assert_eq!(first, again, "same seed, same run, same traces");
    assert!(
        first.restarts > 0 || first.torn_writes + first.fsync_errors > 0,
        "{first:?}"
    );
}

#[test]
fn a_seed_replays_exactly_and_another_seed_differs() {
    let first = run(lossy(1)).unwrap();
    let again = run(lossy(1)).unwrap();
    assert_eq!(first, again, "same seed, same run, same traces");
    let other = run(lossy(2)).unwrap();
    assert_ne!(first.trace_digest, other.trace_digest);
}

#[test]
fn the_liveness_phase_catches_a_runtime_that_drops_timers() {
    let mut config = lossy(3);
    config.drop_timers = true;
    match run(config) {
        Err(SimFailure::NotLive { stuck, .. }) => assert!(!stuck.is_empty()),
        other => panic!("a runtime that loses timers must fail liveness, got {other:?}"),
    }
}
