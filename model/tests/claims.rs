//! The claims matrix: built from the models, and every `always` property a protocol claims is
//! shown able to fail by some mutant — except the gaps listed here, which the matrix prints as
//! unfalsified so an auditor sees them.

use quorate_model::check::{CheckOptions, SearchMode};
use quorate_model::claims::{all_claims, claims, render_markdown};
use quorate_model::registry;

/// `always` properties no mutant yet breaks, per protocol. Closing a gap means adding a mutant
/// (and removing the entry here); a new gap fails this test.
const KNOWN_GAPS: &[(&str, &[&str])] = &[("pbft", &["validity", "refines-sequencer"])];

#[test]
fn unfalsified_claims_are_exactly_the_known_gaps() {
    let found: Vec<(&str, Vec<&str>)> = all_claims()
        .unwrap()
        .iter()
        .map(|protocol| (protocol.protocol, protocol.unfalsified()))
        .filter(|(_, gaps)| !gaps.is_empty())
        .collect();
    let known: Vec<(&str, Vec<&str>)> = KNOWN_GAPS
        .iter()
        .map(|(protocol, gaps)| (*protocol, gaps.to_vec()))
        .collect();
    assert_eq!(found, known, "always properties no mutant breaks");
}

#[test]
fn every_mutant_names_a_property_its_configuration_declares() {
    for info in registry::protocols() {
        let matrix = claims(&info).unwrap();
        for mutant in &info.mutants {
            let property = matrix
                .properties
                .iter()
                .find(|p| p.name == mutant.breaks)
                .unwrap_or_else(|| {
                    panic!(
                        "{}: {} breaks an undeclared property",
                        info.name, mutant.name
                    )
                });
            assert!(
                property.configs.contains(&mutant.config),
                "{}: mutant {} breaks {} on {}, which does not check it",
                info.name,
                mutant.name,
                mutant.breaks,
                mutant.config
            );
        }
    }
}

#[test]
fn the_matrix_lists_host_checks_and_marks_gaps() {
    let text = render_markdown(&all_claims().unwrap());
    assert!(text.contains("| actor-assertion | always | every configuration | host check"));
    assert!(text.contains("| agreement | always |"));
    assert!(text.contains("`small-quorum` on two-leaders"));
}

/// What `also_breaks` claims is what a complete search finds: every listed property (and the
/// primary one) is violated, each with a path.
#[test]
fn secondary_breaks_are_found_by_a_complete_search() {
    for info in registry::protocols() {
        for mutant in info.mutants.iter().filter(|m| !m.also_breaks.is_empty()) {
            assert!(
                !info.config(mutant.config).unwrap().soak,
                "{}: {} lists also_breaks on a soak configuration, which a complete search cannot confirm",
                info.name,
                mutant.name
            );
            let options = CheckOptions {
                mode: SearchMode::Bfs,
                threads: 1,
                stop_at_first_violation: false,
                ..CheckOptions::default()
            };
            let report = (info.check)(mutant.config, Some(mutant.name), &options).unwrap();
            assert!(
                report.complete,
                "{}: {} must exhaust",
                info.name, mutant.name
            );
            let violated = report.violations();
            for property in std::iter::once(&mutant.breaks).chain(mutant.also_breaks) {
                assert!(
                    violated.contains(property),
                    "{}: {} on {} must violate {property}; violated: {violated:?}",
                    info.name,
                    mutant.name,
                    mutant.config
                );
            }
        }
    }
}
