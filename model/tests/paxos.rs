//! The Paxos suite: the honest protocol passes every configuration that CI runs, and the
//! checker finds each mutant's counterexample.

use crate::common;

use crate::common::Catch;
use quorate_model::check::SearchMode;
use quorate_model::registry;

fn assert_verified(config: &str, expected_unique: usize) {
    common::assert_verified("paxos", config, expected_unique);
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
fn honest_paxos_passes_read_after_write() {
    assert_verified("read-after-write", 21_874);
}

#[test]
fn honest_paxos_passes_compaction_with_snapshot_transfer() {
    assert_verified("compaction", 190_936);
}

fn assert_mutant_caught(mutant: &str) {
    common::assert_mutant_caught("paxos", mutant, SearchMode::Bfs, true, Catch::Any);
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

fn assert_named_property_caught(mutant: &str) {
    common::assert_mutant_caught("paxos", mutant, SearchMode::Bfs, true, Catch::Named);
}

#[test]
fn executing_a_request_ordered_twice_breaks_validity() {
    assert_named_property_caught("no-dedup");
}

#[test]
fn installing_a_snapshot_without_its_state_breaks_consistency() {
    assert_named_property_caught("snapshot-position-only");
}

#[test]
fn serving_reads_locally_without_ordering_breaks_linearizability() {
    assert_named_property_caught("local-reads");
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
            "unverified-catch-up",
            "no-dedup",
            "snapshot-position-only",
            "local-reads"
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
