//! The two reductions that make (d) `byzantine-backup-lossy` checkable are exact for PBFT's
//! properties, which read only actor states and the history:
//!
//! - loss as non-delivery (`PbftConfig::loss_as_non_delivery`): a run that loses a message
//!   reaches the same actor states as the run that simply never delivers it, so checking
//!   without Drop actions reaches the same actor states (and more losses than `max_drops`);
//! - forgetting the duplicating network's last delivered envelope
//!   (`PbftConfig::forget_last_delivered`): it decides no action and no actor reads it.
//!
//! Each test enumerates both graphs completely on a lossy, duplicating configuration small
//! enough to exhaust without the reduction, and compares the sets of reachable
//! (actor states, history) projections; the history's loss counter is left out, since it
//! counts the very steps the reduction removes.

use crate::common::reach::{pbft_config as config, reachable_projections};
use quorate_model::pbft::{PbftConfig, PbftHistory};
use quorate_model::NetworkKind;
use std::collections::BTreeSet;

/// Every reachable (actor states, history without the loss counter), by breadth-first search;
/// and how many states the search visited.
fn reachable(config: &PbftConfig) -> (usize, BTreeSet<u64>) {
    reachable_projections(config, |state| {
        let actors: Vec<_> = state.actors().cloned().collect();
        let history = PbftHistory {
            drops: 0,
            ..state.history().clone()
        };
        (actors, history)
    })
}

/// `reduced` reaches exactly the projections of `full`, in fewer states.
fn assert_same_projections(what: &str, full: &PbftConfig, reduced: &PbftConfig) {
    let (full_states, full_projections) = reachable(full);
    let (reduced_states, reduced_projections) = reachable(reduced);
    assert_eq!(
        full_projections.len(),
        reduced_projections.len(),
        "{what}: reachable actor states differ in number"
    );
    assert_eq!(
        full_projections, reduced_projections,
        "{what}: the reduction changed which actor states are reachable"
    );
    assert!(
        reduced_states < full_states,
        "{what}: {reduced_states} states reduced, {full_states} without"
    );
    println!(
        "{what}: {full_states} -> {reduced_states} states, {} actor projections",
        full_projections.len()
    );
}

/// A small lossy, duplicating configuration: the silent primary forces a view change (timers,
/// retries, VIEW-CHANGE/NEW-VIEW), every message may be duplicated, and up to `drops` lost.
fn silent_primary_lossy(drops: u8) -> PbftConfig {
    PbftConfig {
        network: NetworkKind::UnorderedDuplicating,
        lossy: true,
        max_drops: drops,
        ..config("silent-primary")
    }
}

fn loss_as_non_delivery_is_exact(drops: u8) {
    let full = silent_primary_lossy(drops);
    let reduced = PbftConfig {
        loss_as_non_delivery: true,
        ..full.clone()
    };
    assert_same_projections(&format!("silent-primary, {drops} drops"), &full, &reduced);
}

#[test]
fn losing_one_message_reaches_no_other_actor_state_silent_primary() {
    loss_as_non_delivery_is_exact(1);
}

/// 516,377 states without the reduction (3 minutes in a debug-asserting build).
#[test]
#[ignore = "3 minutes: run with --ignored"]
fn losing_two_messages_reaches_no_other_actor_state_silent_primary() {
    loss_as_non_delivery_is_exact(2);
}

#[test]
fn forgetting_the_last_delivery_is_exact_silent_primary() {
    let full = silent_primary_lossy(1);
    let reduced = PbftConfig {
        forget_last_delivered: true,
        ..full.clone()
    };
    assert_same_projections("silent-primary, last delivery", &full, &reduced);
}
