//! The claims matrix: built from the models, and every `always` property a protocol claims is
//! shown able to fail by some mutant — except the gaps listed here, which the matrix prints as
//! unfalsified so an auditor sees them.

use quorate_model::claims::{all_claims, claims, render_markdown};
use quorate_model::registry;

/// `always` properties no mutant yet breaks, per protocol. Closing a gap means adding a mutant
/// (and removing the entry here); a new gap fails this test.
const KNOWN_GAPS: &[(&str, &[&str])] = &[
    ("calibration", &["linearizable"]),
    ("paxos", &["refines-sequencer"]),
    ("pbft", &["validity", "refines-sequencer"]),
    (
        "xov",
        &[
            "supply-cap",
            "per-tx-conservation",
            "one valid tx per block",
        ],
    ),
    ("oxii", &["agreement"]),
];

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
