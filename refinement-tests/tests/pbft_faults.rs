//! The checks can fail on PBFT runs too (DESIGN §6.5): injected runtime faults, each caught by
//! the check the design names, and a protocol mutant whose SimHost run a property monitor
//! along the membership walk rejects. (Early sends need crashes, which PBFT runs do not have
//! while its Storage is `()`; the Paxos suite covers them.)

use crate::common::*;
use quorate_impl::pbft::{Honest, Script, SmallPrepareQuorum};
use quorate_net::sim::{RuntimeFault, SimFailure};
use quorate_refinement::protocol::RunFailure;

const CLIENTS_PBFT: usize = 2;
const OPERATIONS_PBFT: u64 = 6;

/// The first seed in `0..30` whose PBFT run, under `fault`, fails checks 1-3; with the failure.
fn first_caught(fault: RuntimeFault) -> (u64, RunFailure) {
    (0..30)
        .find_map(|seed| {
            let mut config = pbft_lossy(seed);
            config.runtime_fault = Some(fault);
            let run = run_pbft(config, CLIENTS_PBFT, OPERATIONS_PBFT, None);
            run.check().err().map(|failure| (seed, failure))
        })
        .unwrap_or_else(|| panic!("no seed in 0..30 exposed {fault:?}"))
}

#[test]
fn a_duplicate_pbft_delivery_is_caught_by_the_send_id_merge() {
    let (seed, failure) = first_caught(RuntimeFault::DuplicateDelivery(30));
    println!("seed {seed}: {failure}");
    assert!(
        matches!(&failure, RunFailure::Merge(e) if e.contains("a second time")),
        "seed {seed}: {failure}"
    );
}

#[test]
fn a_pbft_message_delivered_to_the_wrong_actor_is_caught_by_membership() {
    let (seed, failure) = first_caught(RuntimeFault::WrongActor(10));
    println!("seed {seed}: {failure}");
    assert!(
        matches!(&failure, RunFailure::Membership(e) if e.contains("not enabled")),
        "seed {seed}: {failure}"
    );
}

#[test]
fn a_dropped_pbft_timer_passes_checks_1_to_3_and_is_caught_by_the_liveness_phase() {
    let mut config = pbft_lossy(3);
    config.drop_timers = true;
    let run = run_pbft(config, CLIENTS_PBFT, OPERATIONS_PBFT, None);
    if let Err(failure) = run.check() {
        panic!("a timer that never fires is a legal model behaviour, yet: {failure}");
    }
    assert!(
        matches!(&run.outcome, Err(SimFailure::NotLive { stuck, .. }) if !stuck.is_empty()),
        "{:?}",
        run.outcome
    );
}

#[test]
fn a_small_prepare_quorum_under_an_equivocating_primary_is_caught_by_a_property_monitor() {
    // The mutant prepares on fewer than 2f matching PREPAREs, so the equivocating primary's
    // two batches for one sequence number can both gather a certificate and be executed.
    let adversary = Some((0, Script::Equivocate));
    let (seed, failure) = (0..10u64)
        .find_map(|seed| {
            let actors =
                pbft_actors::<SmallPrepareQuorum>(CLIENTS_PBFT, OPERATIONS_PBFT, adversary);
            let run = run_actors(pbft_lossy(seed), actors);
            run.check().err().map(|failure| {
                println!("seed {seed}: SimHost {:?}", run.outcome.as_ref().err());
                (seed, failure)
            })
        })
        .expect("some seed in 0..10 exposes the small prepare quorum");
    println!("seed {seed}: {failure}");
    assert!(
        // The step that executes the second batch breaks `agreement` and the incremental
        // `consistency` monitor (which runs first) at once.
        matches!(&failure, RunFailure::Membership(e)
            if e.contains("\"agreement\" fails") || e.contains("\"consistency\" fails")),
        "seed {seed}: {failure}"
    );
    // The honest rules pass the same schedule.
    let honest = run_actors(
        pbft_lossy(seed),
        pbft_actors::<Honest>(CLIENTS_PBFT, OPERATIONS_PBFT, adversary),
    );
    honest
        .check()
        .unwrap_or_else(|e| panic!("seed {seed}, honest: {e}"));
}
