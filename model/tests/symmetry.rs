//! Symmetry reduction (issue 8 item 4): the step relation commutes with the declared
//! permutations, symmetric and plain runs agree on every verdict, reduced counts are pinned,
//! and a counterexample found with symmetry replays on the plain model in original ids.

use quorate_impl::pbft::Honest;
use quorate_model::pbft::configs;

fn pbft_config(name: &str) -> quorate_model::pbft::PbftConfig {
    configs()
        .into_iter()
        .find(|(info, _)| info.name == name)
        .map(|(_, config)| config)
        .unwrap_or_else(|| panic!("no pbft configuration {name:?}"))
}

fn commutes(name: &str) {
    let system = pbft_config(name).system::<Honest>();
    assert!(
        system.declared_symmetry().len() >= 2,
        "{name} declares no symmetry"
    );
    let checked = system
        .check_commutation(2_000, 50, 60, 7)
        .unwrap_or_else(|error| panic!("{name}: {error}"));
    assert!(checked > 2_000, "{name}: only {checked} pairs checked");
}

#[test]
fn pbft_silent_primary_commutes() {
    commutes("silent-primary");
}

#[test]
fn pbft_honest_commutes() {
    commutes("honest");
}

#[test]
fn pbft_equivocating_primary_commutes() {
    commutes("equivocating-primary");
}

#[test]
fn pbft_byzantine_backup_commutes() {
    commutes("byzantine-backup");
}

use quorate_model::check::{CheckOptions, Report, SearchMode, Verdict};
use quorate_model::registry;
use std::sync::Arc;

fn check(config: &str, mutant: Option<&str>, mode: SearchMode, symmetry: bool) -> Report {
    let options = CheckOptions {
        mode,
        stop_at_first_violation: mutant.is_some(),
        symmetry,
        ..CheckOptions::default()
    };
    (registry::protocol("pbft").unwrap().check)(config, mutant, &options).unwrap()
}

fn verdicts(report: &Report) -> Vec<(String, Verdict)> {
    report
        .properties
        .iter()
        .map(|p| (p.name.clone(), p.verdict))
        .collect()
}

/// Symmetric and plain runs agree on every verdict, under BFS and DFS, and the quotient's size
/// is pinned (plain counts are pinned in the registry).
fn agrees(config: &str, bfs_quotient: usize) {
    let plain = check(config, None, SearchMode::Bfs, false);
    for mode in [SearchMode::Bfs, SearchMode::Dfs] {
        let symmetric = check(config, None, mode, true);
        assert!(
            symmetric.complete,
            "{config} {mode:?} with symmetry must exhaust"
        );
        assert_eq!(verdicts(&symmetric), verdicts(&plain), "{config} {mode:?}");
        assert_eq!(symmetric.states_unique, bfs_quotient, "{config} {mode:?}");
        assert!(symmetric.states_unique < plain.states_unique);
    }
}

#[test]
fn pbft_silent_primary_symmetric_run_agrees_with_plain() {
    agrees("silent-primary", 692);
}

#[test]
fn pbft_byzantine_backup_symmetric_run_agrees_with_plain() {
    agrees("byzantine-backup", 23_704);
}

#[test]
fn pbft_equivocating_primary_symmetric_run_agrees_with_plain() {
    agrees("equivocating-primary", 8_712);
}

/// A counterexample found in the quotient is reported in original ids: it replays, action by
/// action, on the model without symmetry and ends in the violation.
#[test]
fn symmetric_counterexample_replays_on_the_plain_model() {
    let mutant = "accept-first-reply";
    let found = check("byzantine-backup", Some(mutant), SearchMode::Bfs, true);
    assert!(found
        .symmetry
        .as_ref()
        .is_some_and(|s| s.interchangeable == vec![1, 2]));
    let trace = found
        .property("client-accepts-committed")
        .and_then(|p| p.trace.clone())
        .expect("the mutant's violation has a trace");
    let steps: Vec<serde_json::Value> = trace.iter().map(|s| s.action_json.clone()).collect();
    let options = CheckOptions {
        replay: Some(Arc::new(steps.clone())),
        ..CheckOptions::default()
    };
    let replayed =
        (registry::protocol("pbft").unwrap().check)("byzantine-backup", Some(mutant), &options)
            .unwrap();
    let outcome = replayed.replay.expect("a replay outcome");
    assert_eq!(
        outcome.error, None,
        "the trace must replay without symmetry"
    );
    assert_eq!(outcome.steps.len(), steps.len());
    let violated = outcome
        .final_properties
        .iter()
        .find(|p| p.name == "client-accepts-committed")
        .expect("the property is reported");
    assert!(!violated.holds, "the replay must end in the violation");
}
