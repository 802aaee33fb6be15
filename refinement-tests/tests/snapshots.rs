//! Snapshots (DESIGN §6.6): a behavioural change of a protocol or of the checker is a reviewed
//! diff. One single-threaded BFS counterexample per protocol (deterministic: one thread, first
//! violation), and PBFT's checker reports (Paxos's live in `model/tests/report_snapshots.rs`).
//! Wall-clock figures and memory are zeroed: they are the only nondeterminism.

use quorate_model::check::{CheckOptions, Report};
use quorate_model::registry;

fn report(protocol: &str, config: &str, mutant: Option<&str>, first_violation: bool) -> Report {
    let info = registry::protocol(protocol).unwrap();
    let options = CheckOptions {
        stop_at_first_violation: first_violation,
        coverage: mutant.is_none(),
        ..CheckOptions::default()
    };
    let mut report = (info.check)(config, mutant, &options).unwrap();
    report.seconds = 0.0;
    report.unique_per_second = 0.0;
    report.statistics.peak_rss_bytes = None;
    report
}

fn text(report: &Report) -> String {
    let mut text = Vec::new();
    report.write_text(&mut text).unwrap();
    String::from_utf8(text).unwrap()
}

fn has_counterexample(report: &Report, property: &str) -> bool {
    report
        .properties
        .iter()
        .any(|p| p.name == property && p.trace.is_some())
}

#[test]
fn paxos_small_quorum_counterexample_matches_its_snapshot() {
    let report = report("paxos", "two-leaders", Some("small-quorum"), true);
    assert!(has_counterexample(&report, "agreement"));
    insta::assert_snapshot!("paxos_small_quorum_counterexample", text(&report));
}

#[test]
fn pbft_accept_first_reply_counterexample_matches_its_snapshot() {
    let report = report("pbft", "byzantine-backup", Some("accept-first-reply"), true);
    assert!(has_counterexample(&report, "client-accepts-committed"));
    insta::assert_snapshot!("pbft_accept_first_reply_counterexample", text(&report));
}

#[test]
fn pbft_silent_primary_reports_match_their_snapshots() {
    let report = report("pbft", "silent-primary", None, false);
    insta::assert_snapshot!("pbft_silent_primary_text", text(&report));
    insta::assert_json_snapshot!("pbft_silent_primary_json", report);
}
