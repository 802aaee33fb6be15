//! The checker features of issue 8 on real protocols: deadlock detection (and that it can
//! fail), coverage, replay of exported traces, statistics, the timeout, and simulation.

use quorate_model::check::{CheckOptions, Report, SearchMode, Verdict};
use quorate_model::deadlock::DEADLOCK_FREE;
use quorate_model::registry;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn run(protocol: &str, config: &str, mutant: Option<&str>, options: CheckOptions) -> Report {
    let info = registry::protocol(protocol).unwrap();
    (info.check)(config, mutant, &options).unwrap()
}

fn bfs() -> CheckOptions {
    CheckOptions::default()
}

fn replay(report: &Report, property: &str, tamper: impl Fn(&mut Vec<serde_json::Value>)) -> Report {
    let mut steps: Vec<serde_json::Value> = report
        .property(property)
        .and_then(|p| p.trace.as_ref())
        .expect("the property has a trace")
        .iter()
        .map(|step| step.action_json.clone())
        .collect();
    tamper(&mut steps);
    let options = CheckOptions {
        replay: Some(Arc::new(steps)),
        ..bfs()
    };
    run(
        &report.protocol,
        &report.config,
        report.mutant.as_deref(),
        options,
    )
}

#[test]
fn honest_calibration_has_no_deadlock_and_the_lossy_mutant_deadlocks() {
    let honest = run("calibration", "2-clients", None, bfs());
    assert_eq!(
        honest.property(DEADLOCK_FREE).unwrap().verdict,
        Verdict::Holds
    );
    assert_eq!(
        honest.states_unique, 16_668,
        "the check does not change the graph"
    );

    let lossy = run(
        "calibration",
        "2-clients",
        Some("lossy-network"),
        CheckOptions {
            stop_at_first_violation: true,
            ..bfs()
        },
    );
    let deadlock = lossy.property(DEADLOCK_FREE).unwrap();
    assert_eq!(deadlock.verdict, Verdict::Violated);
    let trace = deadlock.trace.as_ref().unwrap();
    assert!(
        trace
            .iter()
            .any(|step| step.action.starts_with("network loses")),
        "a deadlock of a lossless run would be a bug of the honest protocol"
    );
    // The replayed last state is the deadlock the checker reported.
    let replayed = replay(&lossy, DEADLOCK_FREE, |_| {}).replay.unwrap();
    assert_eq!(replayed.error, None);
    let last = replayed
        .final_properties
        .iter()
        .find(|p| p.name == DEADLOCK_FREE)
        .unwrap();
    assert!(!last.holds);
}

#[test]
fn no_deadlock_option_removes_the_property() {
    let options = CheckOptions {
        deadlock: false,
        ..bfs()
    };
    let report = run("calibration", "2-clients", Some("lossy-network"), options);
    assert!(report.property(DEADLOCK_FREE).is_none());
}

#[test]
fn honest_paxos_default_is_deadlock_free_and_bound_stalls_are_counted_apart() {
    let report = run("paxos", "default", None, bfs());
    assert_eq!(
        report.property(DEADLOCK_FREE).unwrap().verdict,
        Verdict::Holds
    );
    assert_eq!(report.states_unique, 28_712);
    // Undecided states whose only progress is a campaign beyond the round bound.
    assert!(report.statistics.stalled_at_bound > 0);
    assert!(report.statistics.max_out_degree > 1);
    assert!(report.statistics.states_expanded >= report.states_unique);
    let n = report.states_unique as f64;
    assert_eq!(
        report.statistics.fingerprint_collision_probability,
        n * n / 2f64.powi(65)
    );
}

#[test]
fn paxos_coverage_names_every_declared_kind_and_only_catch_up_never_fires() {
    let report = run(
        "paxos",
        "default",
        None,
        CheckOptions {
            coverage: true,
            ..bfs()
        },
    );
    let coverage = report.coverage.expect("coverage was asked for");
    let labels: Vec<String> = coverage.actions.iter().map(|e| e.label()).collect();
    let mut declared: Vec<String> = quorate_model::paxos::MESSAGE_KINDS
        .iter()
        .map(|k| format!("deliver {k}"))
        .chain(
            quorate_model::paxos::TIMER_KINDS
                .iter()
                .map(|k| format!("timer {k}")),
        )
        .collect();
    declared.sort();
    let mut seen = labels.clone();
    seen.sort();
    // No kind occurs that the declaration misses (it would need a name of its own).
    assert_eq!(seen, declared);
    // Without crashes nobody falls behind, so catch-up is never exercised in this config.
    assert_eq!(
        coverage.never_fired,
        ["deliver Learner::CatchUp", "deliver Learner::CatchUpReply"]
    );
    let total: u64 = coverage.actions.iter().map(|e| e.fired).sum();
    assert!(
        total as usize >= report.states_generated,
        "every step is counted"
    );
}

#[test]
fn an_exported_mutant_counterexample_replays_and_a_tampered_one_is_refused() {
    let report = run(
        "paxos",
        "two-leaders",
        Some("small-quorum"),
        CheckOptions {
            stop_at_first_violation: true,
            ..bfs()
        },
    );
    let violated = report.violations()[0].to_string();
    let outcome = replay(&report, &violated, |_| {}).replay.unwrap();
    assert_eq!(outcome.error, None);
    assert!(!outcome.steps.is_empty());
    let broken = outcome
        .final_properties
        .iter()
        .find(|p| p.name == violated)
        .unwrap();
    assert!(
        !broken.holds,
        "the replay reproduces the violation of {violated}"
    );
    assert!(
        outcome
            .steps
            .iter()
            .any(|s| s.changes.iter().any(|c| c.starts_with("  + "))),
        "changes are diffs"
    );

    // Deliver a message nobody sent: the first delivery claims a sender that does not exist.
    let trace = report.property(&violated).unwrap().trace.as_ref().unwrap();
    let first_delivery = trace
        .iter()
        .position(|step| step.action_json.get("Deliver").is_some())
        .expect("a counterexample delivers something");
    let tampered = replay(&report, &violated, |steps| {
        steps[first_delivery]["Deliver"]["src"] = serde_json::json!(99);
    })
    .replay
    .unwrap();
    let error = tampered.error.expect("the tampered step is refused");
    let expected = format!("step {} is not enabled", first_delivery + 1);
    assert!(error.starts_with(&expected), "{error}");
    assert_eq!(
        tampered.steps.len(),
        first_delivery,
        "the steps before it replayed"
    );

    let garbage = replay(&report, &violated, |steps| {
        steps[1] = serde_json::json!({"Teleport": 3});
    })
    .replay
    .unwrap();
    let error = garbage.error.unwrap();
    assert!(error.starts_with("step 2: not an action"), "{error}");
}

#[test]
fn single_threaded_timeout_stops_the_search() {
    let started = Instant::now();
    let report = run(
        "calibration",
        "3-clients",
        None,
        CheckOptions {
            timeout: Some(Duration::from_secs(1)),
            ..bfs()
        },
    );
    assert!(!report.complete);
    assert!(report.states_unique < 1_194_428);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(report.exit_code(), quorate_model::check::exit::INCOMPLETE);
}

#[test]
fn simulation_reports_examples_without_panicking() {
    let report = run(
        "paxos",
        "default",
        None,
        CheckOptions {
            mode: SearchMode::Simulate {
                seconds: 1,
                seed: 7,
            },
            ..bfs()
        },
    );
    let committed = report.property("value committed").unwrap();
    assert_eq!(committed.verdict, Verdict::Reached);
    assert!(!committed.trace.as_ref().unwrap().is_empty());
    assert!(!report.complete);
}
