//! Measurements, not checks of correctness: where (d) `byzantine-backup-lossy`'s states come
//! from. Each variant switches one source of states (loss, duplication, the duplicating
//! network's last-delivery record, the adversary) on or off and runs the checker with a time
//! limit; the figures go to proofs-notes/pbft.md. Ignored in CI (minutes each); run with
//! `cargo test --release -p quorate-model --test model pbft_levers:: -- --ignored --nocapture --test-threads 1`
//! and `PBFT_LEVERS_SECONDS` (default 60) per variant.

use quorate_impl::pbft::{Honest, Script};
use quorate_model::check::{run_check, CheckOptions, SearchMode};
use quorate_model::pbft::{configs, Faulty, PbftConfig};
use quorate_model::NetworkKind;
use std::time::Duration;

fn d() -> PbftConfig {
    configs()
        .into_iter()
        .find(|(info, _)| info.name == "byzantine-backup-lossy")
        .unwrap()
        .1
}

fn measure(name: &str, config: PbftConfig) {
    let seconds = std::env::var("PBFT_LEVERS_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let options = CheckOptions {
        mode: SearchMode::Dfs,
        threads: 2,
        timeout: Some(Duration::from_secs(seconds)),
        ..CheckOptions::default()
    };
    let report = run_check(
        "pbft",
        "byzantine-backup-lossy",
        None,
        config.system::<Honest>(),
        &options,
    );
    println!(
        "{name}: complete={} unique={} depth={} seconds={:.1} out-degree max={} peak-rss-mib={:?} violations={:?}",
        report.complete,
        report.states_unique,
        report.max_depth,
        report.seconds,
        report.statistics.max_out_degree,
        report.statistics.peak_rss_bytes.map(|b| b >> 20),
        report.violations(),
    );
}

#[test]
#[ignore = "measurement: minutes; see the module comment"]
fn where_the_states_of_d_come_from() {
    let base = d();
    let variants = [
        ("(d) as registered", base.clone()),
        (
            "no lever (loss explored, last delivery kept)",
            PbftConfig {
                loss_as_non_delivery: false,
                forget_last_delivered: false,
                ..base.clone()
            },
        ),
        (
            "loss as non-delivery only",
            PbftConfig {
                loss_as_non_delivery: true,
                forget_last_delivered: false,
                ..base.clone()
            },
        ),
        (
            "last delivery forgotten only",
            PbftConfig {
                loss_as_non_delivery: false,
                forget_last_delivered: true,
                ..base.clone()
            },
        ),
        (
            "no duplication (unordered, loss as non-delivery)",
            PbftConfig {
                network: NetworkKind::UnorderedNonDuplicating,
                loss_as_non_delivery: true,
                ..base.clone()
            },
        ),
        (
            "silent backup instead of conflicting votes (both levers)",
            PbftConfig {
                faulty: Faulty::Scripted(3, Script::Silent),
                ..base.clone()
            },
        ),
    ];
    for (name, config) in variants {
        measure(name, config);
    }
}
