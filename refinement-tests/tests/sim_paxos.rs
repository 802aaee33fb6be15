//! Checks 1-3 over SimHost runs of Multi-Paxos: calm and faulty runs replay, merge into a
//! member of the replay model with every `always` property holding, and meet the spec.

use crate::common::*;
use quorate_impl::paxos::Honest;
use quorate_net::sim::SimConfig;

#[test]
fn a_calm_run_passes_replay_membership_and_spec() {
    let run = run_sim::<Honest>(SimConfig::calm(1), CLIENTS, OPERATIONS);
    run.outcome.as_ref().expect("a calm run completes");
    let figures = run.check().unwrap_or_else(|e| panic!("seed 1: {e}"));
    assert_eq!(figures.nodes, REPLICAS + CLIENTS);
    assert_eq!(figures.committed, CLIENTS as u64 * OPERATIONS);
    assert_eq!(figures.operations, CLIENTS as u64 * OPERATIONS);
    assert_eq!(figures.indeterminate, 0);
    assert!(figures.property_checks > 0);
    println!("{figures:?}");
}

#[test]
fn faulty_runs_with_crashes_and_disk_faults_pass_every_check() {
    let mut incarnations = 0;
    for seed in 0..6 {
        let run = run_sim::<Honest>(faulty(seed), CLIENTS, OPERATIONS);
        let report = run
            .outcome
            .as_ref()
            .unwrap_or_else(|f| panic!("seed {seed}: {f}"));
        let figures = run.check().unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(figures.incarnations >= (REPLICAS + CLIENTS) as u64);
        incarnations += figures.incarnations;
        println!("seed {seed}: {report:?}\n  {figures:?}");
    }
    assert!(
        incarnations > (REPLICAS + CLIENTS) as u64 * 6,
        "some run restarted a node"
    );
}

#[test]
fn a_tampered_or_truncated_trace_is_refused_naming_the_step() {
    let run = run_sim::<Honest>(SimConfig::calm(2), CLIENTS, OPERATIONS);
    // A record removed from the middle of replica 1's trace.
    let mut lines = run.lines.clone();
    lines[1].remove(5);
    let failure = quorate_refinement::paxos::check_run(&run.actors, &lines).unwrap_err();
    assert!(
        failure.to_string().contains("a record is missing"),
        "{failure}"
    );
    // A recorded state digest changed: replay recomputes it and disagrees.
    let mut lines = run.lines.clone();
    let line = &mut lines[0][3];
    let at = line.find("\"state_digest_after\":\"").unwrap() + 22;
    let flipped = if &line[at..at + 1] == "0" { "1" } else { "0" };
    line.replace_range(at..at + 1, flipped);
    let failure = quorate_refinement::paxos::check_run(&run.actors, &lines).unwrap_err();
    assert!(
        failure
            .to_string()
            .starts_with("replay: node 0 incarnation 1 step 2: state after"),
        "{failure}"
    );
}
