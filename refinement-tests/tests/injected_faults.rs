//! The checks can fail (DESIGN §6.5): each runtime bug SimHost can inject is caught, and the
//! test names the check that catches it. SimHost's own end-of-run checks (agreement, liveness)
//! miss the first three; the fourth is a legal model behaviour that only the liveness phase
//! catches.

use crate::common::*;
use quorate_impl::paxos::Honest;
use quorate_net::sim::{RuntimeFault, SimFailure};
use quorate_refinement::paxos::{membership_only, RunFailure};

/// The first seed in `0..40` whose run, under `fault`, fails checks 1-3; with the failure.
fn first_caught(fault: RuntimeFault) -> (u64, RunFailure) {
    (0..40)
        .find_map(|seed| {
            let mut config = faulty(seed);
            config.runtime_fault = Some(fault);
            let run = run_sim::<Honest>(config, CLIENTS, OPERATIONS);
            run.check().err().map(|failure| (seed, failure))
        })
        .unwrap_or_else(|| panic!("no seed in 0..40 exposed {fault:?}"))
}

#[test]
fn a_duplicate_delivery_is_caught_by_the_send_id_merge() {
    let (seed, failure) = first_caught(RuntimeFault::DuplicateDelivery(30));
    println!("seed {seed}: {failure}");
    assert!(
        matches!(&failure, RunFailure::Merge(e) if e.contains("a second time")),
        "seed {seed}: {failure}"
    );
}

#[test]
fn a_message_delivered_to_the_wrong_actor_is_caught_by_membership() {
    let (seed, failure) = first_caught(RuntimeFault::WrongActor(10));
    println!("seed {seed}: {failure}");
    assert!(
        matches!(&failure, RunFailure::Membership(e) if e.contains("not enabled")),
        "seed {seed}: {failure}"
    );
}

#[test]
fn sends_released_before_the_save_is_durable_are_caught_by_the_loaded_storage_digest() {
    // The trace survives, the Save does not: the restarted incarnation loaded an older Storage
    // than the one its recorded steps saved.
    let (seed, failure) = first_caught(RuntimeFault::EarlySend {
        per_mille: 30,
        trace_survives: true,
    });
    println!("seed {seed}: {failure}");
    assert!(
        matches!(&failure, RunFailure::Replay(e) if e.contains("loaded a Storage")),
        "seed {seed}: {failure}"
    );
    // Membership alone catches it too, at the model's Recover.
    let mut config = faulty(seed);
    config.runtime_fault = Some(RuntimeFault::EarlySend {
        per_mille: 30,
        trace_survives: true,
    });
    let run = run_sim::<Honest>(config, CLIENTS, OPERATIONS);
    let failure = membership_only(&run.actors, &run.lines).unwrap_err();
    assert!(
        matches!(&failure, RunFailure::Membership(e) if e.contains("was not durable")),
        "{failure}"
    );
}

#[test]
fn sends_released_before_their_transaction_is_durable_are_caught_by_the_merge() {
    // The whole transaction is lost with the crash: its sends were delivered, but no trace
    // holds the step that sent them.
    let (seed, failure) = first_caught(RuntimeFault::EarlySend {
        per_mille: 30,
        trace_survives: false,
    });
    println!("seed {seed}: {failure}");
    assert!(
        matches!(&failure, RunFailure::Merge(e) if e.contains("which no trace sent")),
        "seed {seed}: {failure}"
    );
}

#[test]
fn a_dropped_timer_passes_checks_1_to_3_and_is_caught_by_the_liveness_phase() {
    let mut config = faulty(3);
    config.drop_timers = true;
    let run = run_sim::<Honest>(config, CLIENTS, OPERATIONS);
    if let Err(failure) = run.check() {
        panic!("a timer that never fires is a legal model behaviour, yet: {failure}");
    }
    assert!(
        matches!(&run.outcome, Err(SimFailure::NotLive { stuck, .. }) if !stuck.is_empty()),
        "{:?}",
        run.outcome
    );
}
