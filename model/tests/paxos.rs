//! The Paxos suite: the honest protocol passes every configuration that CI runs, and the
//! checker finds each mutant's counterexample.

use quorate_model::check::{CheckOptions, Report, SearchMode, Verdict};
use quorate_model::registry;

fn run(config: &str, mutant: Option<&str>) -> Report {
    let protocol = registry::protocol("paxos").unwrap();
    let options = CheckOptions {
        mode: SearchMode::Bfs,
        threads: 1,
        stop_at_first_violation: mutant.is_some(),
        ..CheckOptions::default()
    };
    (protocol.check)(config, mutant, &options).unwrap()
}

fn assert_verified(config: &str, expected_unique: usize) {
    let report = run(config, None);
    assert!(report.complete, "{config} must exhaust");
    for property in &report.properties {
        assert!(
            matches!(property.verdict, Verdict::Holds | Verdict::Reached),
            "{config}: {} is {:?}",
            property.name,
            property.verdict
        );
    }
    assert_eq!(
        report.states_unique, expected_unique,
        "{config}: the state space changed"
    );
}

#[test]
fn honest_paxos_passes_the_default_configuration() {
    assert_verified("default", 28_712);
}

#[test]
fn honest_paxos_passes_two_clients_with_batching() {
    assert_verified("two-clients", 2_385);
}

#[test]
fn honest_paxos_passes_two_competing_leaders() {
    assert_verified("two-leaders", 92_971);
}

#[test]
fn honest_paxos_passes_crash_and_recovery() {
    assert_verified("crash-recover", 870_300);
}

#[test]
fn honest_paxos_passes_compaction_with_snapshot_transfer() {
    assert_verified("compaction", 190_936);
}

fn assert_mutant_caught(mutant: &str) {
    let protocol = registry::protocol("paxos").unwrap();
    let info = protocol.mutant(mutant).unwrap();
    let report = run(info.config, Some(mutant));
    // The search stops at the first violating state; which safety property it reports first
    // may be agreement or one it implies (consistency, refines-sequencer).
    let violated = report.violations();
    assert!(
        !violated.is_empty(),
        "{mutant} must be caught (expected {} to break)",
        info.breaks
    );
    for name in violated {
        let trace = report
            .property(name)
            .unwrap()
            .trace
            .as_ref()
            .expect("a violation comes with its path");
        assert!(!trace.is_empty());
    }
    assert_eq!(report.exit_code(), quorate_model::check::exit::VIOLATION);
}

#[test]
fn quorum_one_smaller_than_a_majority_breaks_agreement() {
    assert_mutant_caught("small-quorum");
}

#[test]
fn leader_ignoring_promised_values_breaks_agreement() {
    assert_mutant_caught("ignore-promised-values");
}

#[test]
fn promise_not_saved_before_replying_breaks_agreement() {
    assert_mutant_caught("unsaved-promise");
}

#[test]
fn learner_skipping_catch_up_verification_breaks_agreement() {
    assert_mutant_caught("unverified-catch-up");
}

#[test]
fn every_mutant_has_a_test() {
    let names: Vec<&str> = registry::protocol("paxos")
        .unwrap()
        .mutants
        .iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(
        names,
        [
            "small-quorum",
            "ignore-promised-values",
            "unsaved-promise",
            "unverified-catch-up"
        ]
    );
}

#[test]
fn impossible_configuration_is_refused_with_the_rule() {
    let (_, mut config) = quorate_model::paxos::configs().into_iter().next().unwrap();
    config.replicas = 2;
    config.max_down = 1;
    let error = config.validate().unwrap_err().to_string();
    assert!(error.contains("n >= 2f+1"), "{error}");
}
