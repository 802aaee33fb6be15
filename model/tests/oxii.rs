//! The OXII suite: the honest protocol exhausts every configuration with every property holding
//! and every `sometimes` reached, and the checker finds each mutant's counterexample.

use quorate_model::check::{CheckOptions, Report, SearchMode, Verdict};
use quorate_model::registry;

fn run(config: &str, mutant: Option<&str>) -> Report {
    let protocol = registry::protocol("oxii").unwrap();
    // Mutants are explored completely too (the spaces are small), so every property the
    // mutant breaks is reported, not only the first one found.
    let options = CheckOptions {
        mode: SearchMode::Bfs,
        threads: 1,
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

fn assert_mutant_caught(mutant: &str) {
    let protocol = registry::protocol("oxii").unwrap();
    let info = protocol.mutant(mutant).unwrap();
    let report = run(info.config, Some(mutant));
    let violated = report.violations();
    assert!(
        violated.contains(&info.breaks),
        "{mutant} must break {} on {}; violated: {violated:?}",
        info.breaks,
        info.config
    );
    let trace = report
        .property(info.breaks)
        .unwrap()
        .trace
        .as_ref()
        .expect("a violation comes with its path");
    assert!(!trace.is_empty());
    assert_eq!(report.exit_code(), quorate_model::check::exit::VIOLATION);
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
            "seed-literal-alg8"
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
