//! Fault schedules (DESIGN §6.4): proptest draws SimHost schedules and every run must pass
//! SimHost's own checks and checks 1-3. Every run prints its schedule; the seed replays it
//! exactly. Paxos: kills and restarts, drops, delays, partitions, torn writes and fsync errors
//! (it tolerates crash faults only, so no adversary). PBFT: drops, delays, partitions and an
//! adversary actor in place of one honest replica (no kills while its Storage is `()`).

use crate::common;

use std::time::Duration;

use crate::common::*;
use proptest::prelude::*;
use proptest::test_runner::Config;
use quorate_impl::crypto::NodeId;
use quorate_impl::paxos::{Honest, SmallQuorum};
use quorate_impl::pbft::{Script, SmallPrepareQuorum};
use quorate_net::sim::SimConfig;

/// Schedules per `cargo test` run (the soak runs more: `quorate soak`).
const CASES: u32 = 48;
/// PBFT schedules per `cargo test` run.
const PBFT_CASES: u32 = 32;

#[derive(Clone, Debug)]
struct Schedule {
    seed: u64,
    drop: u32,
    delay_max: u64,
    partition: u32,
    crash: u32,
    disk: u32,
    max_down: usize,
    clients: usize,
    operations: u64,
    /// PBFT only: the replica replaced by an adversary, and its script.
    adversary: Option<(NodeId, Script)>,
}

impl Schedule {
    fn config(&self) -> SimConfig {
        let crashable = if self.max_down == 0 { 0 } else { REPLICAS };
        let mut config = SimConfig::new(self.seed, 0..crashable as NodeId, self.max_down);
        config.drop_per_mille = self.drop;
        config.delay_ms = (1, self.delay_max);
        config.partition_per_mille = self.partition;
        config.crash_per_mille = self.crash;
        config.disk_fault_per_mille = self.disk;
        config.fault_phase = Duration::from_secs(15);
        config
    }
}

fn schedules() -> impl Strategy<Value = Schedule> {
    (
        any::<u64>(),
        0u32..200,
        2u64..120,
        0u32..20,
        0u32..60,
        0u32..60,
        0usize..=1,
        1usize..=3,
        1u64..=10,
    )
        .prop_map(
            |(seed, drop, delay_max, partition, crash, disk, max_down, clients, operations)| {
                Schedule {
                    seed,
                    drop,
                    delay_max,
                    partition,
                    crash,
                    disk,
                    max_down,
                    clients,
                    operations,
                    adversary: None,
                }
            },
        )
}

const SCRIPTS: [Script; 5] = [
    Script::Silent,
    Script::Equivocate,
    Script::ConflictingVotes,
    Script::ReplayViewChange,
    Script::Withhold,
];

/// PBFT schedules: network faults, and in most runs one replica replaced by an adversary.
fn pbft_schedules() -> impl Strategy<Value = Schedule> {
    (
        any::<u64>(),
        0u32..200,
        2u64..120,
        0u32..20,
        1usize..=3,
        1u64..=8,
        proptest::option::weighted(
            0.75,
            (
                0..PBFT_REPLICAS as NodeId,
                proptest::sample::select(&SCRIPTS[..]),
            ),
        ),
    )
        .prop_map(
            |(seed, drop, delay_max, partition, clients, operations, adversary)| Schedule {
                seed,
                drop,
                delay_max,
                partition,
                crash: 0,
                disk: 0,
                max_down: 0,
                clients,
                operations,
                adversary,
            },
        )
}

proptest! {
    #![proptest_config(Config { cases: CASES, failure_persistence: None, ..Config::default() })]

    #[test]
    fn every_schedule_passes_simhost_and_checks_1_to_3(schedule in schedules()) {
        println!("schedule {schedule:?}");
        let run = run_sim::<Honest>(schedule.config(), schedule.clients, schedule.operations);
        let report = run.outcome.as_ref().map_err(|f| {
            TestCaseError::fail(format!("seed {}: SimHost: {f}", schedule.seed))
        })?;
        let figures = run
            .check()
            .map_err(|e| TestCaseError::fail(format!("seed {}: {e}", schedule.seed)))?;
        prop_assert_eq!(
            figures.operations,
            schedule.clients as u64 * schedule.operations
        );
        println!("  restarts {} events {} {figures:?}", report.restarts, figures.events);
    }
}

proptest! {
    #![proptest_config(Config { cases: PBFT_CASES, failure_persistence: None, ..Config::default() })]

    #[test]
    fn every_pbft_schedule_passes_simhost_safety_and_checks_1_to_3(schedule in pbft_schedules()) {
        println!("pbft schedule {schedule:?}");
        let run = run_pbft(schedule.config(), schedule.clients, schedule.operations, schedule.adversary);
        // Safety always; liveness is required of honest runs only (a Byzantine replica may
        // stall the current core, whose liveness is being fixed apart).
        if schedule.adversary.is_none() {
            run.outcome.as_ref().map_err(|f| {
                TestCaseError::fail(format!("seed {}: SimHost: {f}", schedule.seed))
            })?;
        } else {
            assert_safe(&run.outcome);
        }
        let figures = run
            .check()
            .map_err(|e| TestCaseError::fail(format!("seed {}: {e}", schedule.seed)))?;
        println!("  live {} events {} {figures:?}", run.outcome.is_ok(), figures.events);
    }
}

#[test]
fn a_seed_replays_its_run_exactly_failures_included() {
    // An honest run: equal seeds give byte-equal traces.
    let first = run_sim::<Honest>(faulty(11), CLIENTS, OPERATIONS);
    let again = run_sim::<Honest>(faulty(11), CLIENTS, OPERATIONS);
    assert_eq!(first.lines, again.lines);
    // A failing run (small quorums under partitions): the first failing seed fails again, the
    // same way, from its seed alone.
    let config = |seed| {
        let mut config = faulty(seed);
        config.partition_per_mille = 30;
        config
    };
    let failing = (0..60u64)
        .find(|&seed| {
            let run = run_sim::<SmallQuorum>(config(seed), CLIENTS, OPERATIONS);
            run.outcome.is_err() || run.check().is_err()
        })
        .expect("some seed in 0..60 exposes small quorums");
    let verdict = |run: &common::SimRun<quorate_model::paxos::Node<SmallQuorum>>| {
        (
            run.outcome.as_ref().err().map(|f| f.to_string()),
            run.check().err(),
        )
    };
    let a = run_sim::<SmallQuorum>(config(failing), CLIENTS, OPERATIONS);
    let b = run_sim::<SmallQuorum>(config(failing), CLIENTS, OPERATIONS);
    println!("seed {failing}: {:?}", verdict(&a));
    assert_eq!(a.lines, b.lines);
    assert_eq!(verdict(&a), verdict(&b));
}

#[test]
fn a_pbft_seed_replays_its_run_exactly_failures_included() {
    let adversary = Some((0, Script::Equivocate));
    let first = run_pbft(pbft_lossy(7), CLIENTS, OPERATIONS, adversary);
    let again = run_pbft(pbft_lossy(7), CLIENTS, OPERATIONS, adversary);
    assert_eq!(first.lines, again.lines);
    // A failing mutant run fails again, the same way, from its seed alone.
    let mutant = |seed| {
        run_actors(
            pbft_lossy(seed),
            pbft_actors::<SmallPrepareQuorum>(CLIENTS, 6, adversary),
        )
    };
    let failing = (0..20u64)
        .find(|&seed| mutant(seed).check().is_err())
        .expect("some seed in 0..20 exposes the small prepare quorum");
    let (a, b) = (mutant(failing), mutant(failing));
    println!("seed {failing}: {:?}", a.check().err());
    assert_eq!(a.lines, b.lines);
    assert_eq!(a.check().err(), b.check().err());
}
