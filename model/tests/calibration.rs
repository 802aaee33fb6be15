//! The calibration register's `linearizable` claim can fail: the `stale-reads` mutant (an
//! undecided server answers a read from its own accepted value) is caught by the history check.

use crate::common::{assert_mutant_caught, Catch};
use quorate_model::check::SearchMode;

#[test]
fn servers_answering_reads_before_the_decision_break_linearizability() {
    let report = assert_mutant_caught(
        "calibration",
        "stale-reads",
        SearchMode::Bfs,
        true,
        Catch::Named,
    );
    // The shortest counterexample: a client's write completes, then its read is answered by a
    // server that has not learned the decision.
    let trace = report
        .property("linearizable")
        .unwrap()
        .trace
        .as_ref()
        .unwrap();
    assert!(trace.len() <= 12, "BFS path of {} steps", trace.len());
}
