//! Snapshots of the human and JSON reports of Paxos's default configuration (BFS, one thread,
//! deadlock detection and coverage on), so any change of the report a user or a CI gate reads
//! is reviewed. Wall-clock figures and memory are zeroed: they are the only nondeterminism.

use quorate_model::check::{CheckOptions, Report};
use quorate_model::registry;

fn paxos_default() -> Report {
    let info = registry::protocol("paxos").unwrap();
    let options = CheckOptions {
        coverage: true,
        ..CheckOptions::default()
    };
    let mut report = (info.check)("default", None, &options).unwrap();
    report.seconds = 0.0;
    report.unique_per_second = 0.0;
    report.statistics.peak_rss_bytes = None;
    report
}

#[test]
fn paxos_default_reports_match_their_snapshots() {
    let report = paxos_default();
    let mut text = Vec::new();
    report.write_text(&mut text).unwrap();
    insta::assert_snapshot!("paxos_default_text", String::from_utf8(text).unwrap());
    insta::assert_json_snapshot!("paxos_default_json", report);
}
