//! The calibration protocol declares no symmetry "by argument" (research/checker-vs-spin.md §4.2:
//! ballots break ties by server id, client `k` writes to server `k` and reads from `k + 1`).
//! The same holds for Paxos (below). This test makes the argument checkable: the commutation test the model host runs before it
//! enables a symmetry finds a state where swapping two servers does not commute with a step.
//!
//! The history is left out (`()`): the argument is about the step relation, and stateright's
//! linearizability tester has no renaming.

use quorate_impl::calibration::calibration_actors;
use quorate_model::system::System;

#[test]
fn swapping_two_calibration_servers_does_not_commute_with_the_steps() {
    let system = System::new(calibration_actors(2), ()).symmetric([0, 1]);
    let error = system
        .check_commutation(2_000, 50, 30, 7)
        .expect_err("servers 0 and 1 are not interchangeable");
    // Either the renamed state enables other steps (a Prepare one server refuses, the other
    // takes) or a common step leads to states that are no renaming of each other.
    assert!(
        error.contains("under {0->1, 1->0}")
            && (error.contains("the steps differ") || error.contains("does not commute")),
        "{error}"
    );
}

/// Paxos declares no symmetry either: ballots are ordered by round, then by the proposer's id,
/// so two replicas that campaign in the same round are not interchangeable — whichever has the
/// higher id wins. Swapping replicas 1 and 2 (neither is the initial leader) must therefore
/// break commutation on some reachable state of the default configuration's actors.
#[test]
fn swapping_two_paxos_followers_does_not_commute_with_the_steps() {
    use quorate_impl::paxos::Honest;
    let (_, config) = quorate_model::paxos::configs()
        .into_iter()
        .find(|(info, _)| info.name == "default")
        .expect("the Paxos suite has a default configuration");
    // Without the configuration's bounds (they speak of the history) both followers may
    // campaign, which is where the ids' order shows.
    let system = System::new(config.actors::<Honest>(), ()).symmetric([1, 2]);
    let error = system
        .check_commutation(2_000, 100, 40, 11)
        .expect_err("replicas 1 and 2 are not interchangeable");
    assert!(
        error.contains("under {1->2, 2->1}")
            && (error.contains("the steps differ") || error.contains("does not commute")),
        "{error}"
    );
}
