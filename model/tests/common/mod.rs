//! What every protocol suite asks of the checker: run one registry entry, require that it
//! exhausts with every property holding and a pinned state count, require that a mutant's
//! counterexample is found with its path.

// Each suite compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use quorate_model::check::{exit, CheckOptions, Report, SearchMode, Verdict};
use quorate_model::registry;

pub mod reach;

/// Runs `protocol`'s `config` (with `mutant`'s rules, if any) on one thread.
pub fn run(
    protocol: &str,
    config: &str,
    mutant: Option<&str>,
    mode: SearchMode,
    stop_at_first_violation: bool,
) -> Report {
    let protocol = registry::protocol(protocol).unwrap();
    let options = CheckOptions {
        mode,
        threads: 1,
        stop_at_first_violation,
        ..CheckOptions::default()
    };
    (protocol.check)(config, mutant, &options).unwrap()
}

/// The honest protocol exhausts `config` (BFS), every property holds or is reached, and the
/// state count is the pinned one; returns the report.
pub fn assert_verified(protocol: &str, config: &str, expected_unique: usize) -> Report {
    let report = run(protocol, config, None, SearchMode::Bfs, false);
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
    report
}

/// Which violations count as catching a mutant.
pub enum Catch {
    /// The property the registry names for the mutant must be among the violations.
    Named,
    /// Any violation: a search stopping at its first violating state may report a property the
    /// named one implies (Paxos: consistency or refines-sequencer for agreement).
    Any,
}

/// The checker finds `mutant`'s counterexample on its own configuration, with a path for every
/// violated property and the violation exit code; returns the report.
pub fn assert_mutant_caught(
    protocol: &str,
    mutant: &str,
    mode: SearchMode,
    stop_at_first_violation: bool,
    catch: Catch,
) -> Report {
    let info = registry::protocol(protocol)
        .unwrap()
        .mutant(mutant)
        .unwrap()
        .clone();
    let report = run(
        protocol,
        info.config,
        Some(mutant),
        mode,
        stop_at_first_violation,
    );
    let violated = report.violations();
    match catch {
        Catch::Named => assert!(
            violated.contains(&info.breaks),
            "{mutant} must break {} on {}; violated: {violated:?}",
            info.breaks,
            info.config
        ),
        Catch::Any => assert!(
            !violated.is_empty(),
            "{mutant} must be caught on {} (expected {} to break)",
            info.config,
            info.breaks
        ),
    }
    for name in violated {
        let trace = report
            .property(name)
            .unwrap()
            .trace
            .as_ref()
            .expect("a violation comes with its path");
        assert!(!trace.is_empty());
    }
    assert_eq!(report.exit_code(), exit::VIOLATION);
    report
}
