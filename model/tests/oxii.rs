//! The OXII suite: the honest protocol exhausts every configuration with every property holding
//! and every `sometimes` reached, and the checker finds each mutant's counterexample.

use crate::common;

use crate::common::Catch;
use quorate_model::check::SearchMode;
use quorate_model::registry;

fn assert_verified(config: &str, expected_unique: usize) {
    common::assert_verified("oxii", config, expected_unique);
}

/// Mutants are explored completely too (the spaces are small), so every property the mutant
/// breaks is reported, not only the first one found.
fn assert_mutant_caught(mutant: &str) {
    common::assert_mutant_caught("oxii", mutant, SearchMode::Bfs, false, Catch::Named);
}

#[test]
fn honest_oxii_passes_the_default_configuration() {
    assert_verified("default", 1_048);
}

#[test]
fn honest_oxii_tolerates_a_byzantine_agent_below_tau() {
    assert_verified("byzantine", 7_652);
}

#[test]
fn honest_oxii_passes_conflicts_across_blocks() {
    assert_verified("two-blocks", 863);
}

#[test]
fn honest_oxii_takes_client_requests_in_and_clients_accept_committed_outcomes() {
    assert_verified("clients", 6_390);
}

#[test]
fn honest_oxii_ordered_by_four_pbft_orderers_passes() {
    // The deployed ordering (PbftOrderer: PBFT's core and learner, blocks built on delivery)
    // under every interleaving of the orderers' votes and NEWBLOCKs: 50 s on the 2-core machine.
    assert_verified("pbft-orderers", 2_003_671);
}

#[test]
fn graph_missing_write_write_edges_breaks_serial_equivalence() {
    assert_mutant_caught("drop-write-write-edges");
}

#[test]
fn committing_on_the_first_result_commits_a_byzantine_result() {
    assert_mutant_caught("commit-on-first");
}

#[test]
fn executing_before_a_foreign_predecessor_reads_a_stale_value() {
    assert_mutant_caught("execute-early");
}

#[test]
fn orderers_skipping_the_access_check_admit_an_unauthorised_request() {
    assert_mutant_caught("skip-access-check");
}

#[test]
fn seed_literal_algorithm_8_applies_out_of_graph_order() {
    assert_mutant_caught("seed-literal-alg8");
}

#[test]
fn a_client_accepting_the_first_reply_accepts_a_byzantine_outcome() {
    assert_mutant_caught("client-accepts-first");
}

#[test]
fn every_mutant_has_a_test() {
    let names: Vec<&str> = registry::protocol("oxii")
        .unwrap()
        .mutants
        .iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(
        names,
        [
            "drop-write-write-edges",
            "commit-on-first",
            "execute-early",
            "skip-access-check",
            "seed-literal-alg8",
            "client-accepts-first"
        ]
    );
}

#[test]
fn tau_below_the_fault_bound_is_refused_with_the_rule() {
    let (_, mut config) = quorate_model::oxii::configs()
        .into_iter()
        .find(|(info, _)| info.name == "byzantine")
        .unwrap();
    config.tau.insert(quorate_model::oxii::A1, 1);
    let error = config.validate().unwrap_err().to_string();
    assert!(error.contains("below f_A + 1"), "{error}");
}
