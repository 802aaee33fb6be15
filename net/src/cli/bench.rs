//! `quorate bench checker`: states per CPU-second and peak memory of the model checker, on the
//! calibration graph under our `System` host and under stateright's `ActorModel` (the baseline,
//! measured in the same run), and on every protocol's default configuration.
//!
//! Each entry runs in a child process of this binary, so its peak RSS is its own and one entry's
//! heap does not slow the next. CPU time is user + system time of the child, read from
//! `/proc/self/stat` (Linux).

use super::Failure;
use clap::{Args, Subcommand};
use quorate_model::calibration;
use quorate_model::check::{exit, CheckOptions, SearchMode};
use quorate_model::registry::{protocol, protocols};
use serde::{Deserialize, Serialize};
use stateright::{Checker, Model};
use std::process::Command;

/// Arguments of `quorate bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    what: BenchWhat,
}

#[derive(Subcommand, Debug)]
enum BenchWhat {
    /// Model checker throughput: calibration under System vs ActorModel, every default config.
    Checker {
        /// Calibration with 2 clients instead of 3 (seconds instead of a minute; rates are then
        /// dominated by start-up and not comparable with the research notes).
        #[arg(long)]
        quick: bool,
        /// Also measure every non-soak configuration of every suite (DFS and BFS), not only the
        /// defaults.
        #[arg(long)]
        suites: bool,
        /// Print the measurements as one JSON array instead of a table.
        #[arg(long)]
        json: bool,
        /// Run one entry in this process and print its measurement (used by the parent).
        #[arg(long, hide = true, value_name = "ENTRY")]
        one: Option<String>,
    },
    /// XOV token throughput (seed 002's claim): hot account vs spread receivers, plain MVCC vs
    /// delta writes, per block size; in-process driver through the peer's own code.
    Xov {
        /// Blocks per run.
        #[arg(long, default_value_t = 20)]
        blocks: usize,
        /// Block sizes, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "10,50,100,500")]
        sizes: Vec<usize>,
    },
    /// OX vs XOV vs OXII on the same workload at no, low, high and full contention (seed 001
    /// §5.5.2), with the paper's ratios, the pool's 2-worker/1-worker speed-up and the
    /// dependency-graph build time (pairwise vs key-indexed).
    Oxii(super::bench_oxii::OxiiArgs),
    /// PBFT n=4 and Paxos n=3 on loopback (tracing off and on) against the crypto bound
    /// measured in the same run, and the cost of one host step at 10^3-10^5 committed entries.
    Cluster(super::bench_cluster::BenchClusterArgs),
}

/// One benchmark entry: a model, a host and a search.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    protocol: String,
    config: String,
    /// `system` (ours) or `actor-model` (stateright's; calibration only).
    host: String,
    /// `bfs` or `dfs`.
    search: String,
}

impl Entry {
    fn parse(text: &str) -> Result<Entry, Failure> {
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            [protocol, config, host, search]
                if matches!(*host, "system" | "actor-model")
                    && matches!(*search, "bfs" | "dfs") =>
            {
                Ok(Entry {
                    protocol: protocol.to_string(),
                    config: config.to_string(),
                    host: host.to_string(),
                    search: search.to_string(),
                })
            }
            _ => Err(Failure::Usage(format!(
                "bench entry {text:?}: expected PROTOCOL/CONFIG/system|actor-model/bfs|dfs"
            ))),
        }
    }

    fn name(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.protocol, self.config, self.host, self.search
        )
    }
}

/// What one entry measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Measurement {
    entry: String,
    unique: usize,
    generated: usize,
    depth: usize,
    complete: bool,
    cpu_seconds: f64,
    peak_rss_mb: f64,
}

/// Runs `quorate bench`; returns the exit code.
pub fn run(args: &BenchArgs) -> Result<i32, Failure> {
    let (quick, suites, json, one) = match &args.what {
        BenchWhat::Xov { blocks, sizes } => {
            if *blocks == 0 || sizes.contains(&0) {
                return Err(Failure::Usage(format!(
                    "bench xov: --blocks {blocks} and --sizes {sizes:?} must all be at least 1"
                )));
            }
            super::bench_xov::run(*blocks, sizes);
            return Ok(exit::OK);
        }
        BenchWhat::Checker {
            quick,
            suites,
            json,
            one,
        } => (quick, suites, json, one),
        BenchWhat::Oxii(oxii) => return super::bench_oxii::run(oxii),
        BenchWhat::Cluster(cluster) => return super::bench_cluster::run(cluster),
    };
    if let Some(entry) = one {
        let measurement = measure(&Entry::parse(entry)?)?;
        let line = serde_json::to_string(&measurement).expect("measurements serialise");
        println!("{line}");
        return Ok(exit::OK);
    }
    let mut results = Vec::new();
    for entry in entries(*quick, *suites) {
        eprintln!("bench: {} ...", entry.name());
        results.push(run_child(&entry)?);
    }
    if *json {
        let text = serde_json::to_string_pretty(&results).expect("measurements serialise");
        println!("{text}");
    } else {
        print_table(&results);
    }
    Ok(exit::OK)
}

fn entries(quick: bool, suites: bool) -> Vec<Entry> {
    let calibration = if quick { "2-clients" } else { "3-clients" };
    let entry = |protocol: &str, config: &str, host: &str, search: &str| Entry {
        protocol: protocol.into(),
        config: config.into(),
        host: host.into(),
        search: search.into(),
    };
    let mut list = Vec::new();
    for search in ["bfs", "dfs"] {
        list.push(entry("calibration", calibration, "actor-model", search));
        list.push(entry("calibration", calibration, "system", search));
    }
    for info in protocols() {
        if info.name == "calibration" {
            continue;
        }
        if suites {
            for config in info.configs.iter().filter(|c| !c.soak) {
                for search in ["dfs", "bfs"] {
                    list.push(entry(info.name, config.name, "system", search));
                }
            }
        } else if let Some(default) = info.configs.first() {
            list.push(entry(info.name, default.name, "system", "dfs"));
        }
    }
    list
}

fn run_child(entry: &Entry) -> Result<Measurement, Failure> {
    let exe = std::env::current_exe()
        .map_err(|e| Failure::Usage(format!("cannot find the quorate binary itself: {e}")))?;
    let output = Command::new(exe)
        .args(["bench", "checker", "--one", &entry.name()])
        .output()
        .map_err(|e| Failure::Usage(format!("cannot run bench entry {}: {e}", entry.name())))?;
    if !output.status.success() {
        return Err(Failure::Usage(format!(
            "bench entry {} failed: {}",
            entry.name(),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| {
        Failure::Usage(format!(
            "bench entry {} printed no measurement: {e}",
            entry.name()
        ))
    })
}

/// Runs one entry in this process.
fn measure(entry: &Entry) -> Result<Measurement, Failure> {
    let (unique, generated, depth, complete) = match entry.host.as_str() {
        "actor-model" => {
            let clients = match (entry.protocol.as_str(), entry.config.as_str()) {
                ("calibration", "2-clients") => 2,
                ("calibration", "3-clients") => 3,
                _ => {
                    return Err(Failure::Usage(format!(
                        "bench entry {}: only the calibration model runs under ActorModel",
                        entry.name()
                    )))
                }
            };
            let builder = calibration::actor_model(clients).checker();
            if entry.search == "bfs" {
                counts(builder.spawn_bfs().join())
            } else {
                counts(builder.spawn_dfs().join())
            }
        }
        _ => {
            let info = protocol(&entry.protocol)?;
            let options = CheckOptions {
                mode: if entry.search == "bfs" {
                    SearchMode::Bfs
                } else {
                    SearchMode::Dfs
                },
                ..CheckOptions::default()
            };
            let report = (info.check)(&entry.config, None, &options)?;
            (
                report.states_unique,
                report.states_generated,
                report.max_depth,
                report.complete,
            )
        }
    };
    Ok(Measurement {
        entry: entry.name(),
        unique,
        generated,
        depth,
        complete,
        cpu_seconds: own_cpu_seconds(),
        peak_rss_mb: own_peak_rss_kb() as f64 / 1024.0,
    })
}

fn counts<M: Model>(checker: impl Checker<M>) -> (usize, usize, usize, bool) {
    (
        checker.unique_state_count(),
        checker.state_count(),
        checker.max_depth(),
        checker.is_done(),
    )
}

/// User + system CPU time of this process so far (`/proc/self/stat` fields 14 and 15, in the
/// kernel's USER_HZ of 100 ticks per second).
fn own_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) may contain spaces; fields are counted after its ')'.
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index).and_then(|f| f.parse::<u64>().ok());
    // After ')', field 3 (state) is index 0, so utime (14) is index 11 and stime (15) index 12.
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) as f64 / 100.0,
        _ => f64::NAN,
    }
}

/// Peak resident set size of this process (`VmHWM` in `/proc/self/status`), in KiB.
fn own_peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// SPIN 6.5.2 on the idiomatic Promela model of the calibration graph, 3 clients, median of 3
/// (research/checker-vs-spin.md §3.1): the speed target.
const SPIN_STATES_PER_CPU_SECOND: f64 = 522_000.0;

fn print_table(results: &[Measurement]) {
    println!(
        "{:<44} {:>10} {:>10} {:>5} {:>7} {:>12} {:>8} {:>8}  same-run ratio",
        "entry", "unique", "generated", "depth", "CPU s", "unique/CPU-s", "peak MB", "/SPIN"
    );
    for m in results {
        let rate = m.unique as f64 / m.cpu_seconds.max(0.01);
        let baseline = baseline_for(results, &m.entry);
        let ratio = match baseline {
            Some(b) if b.entry != m.entry => {
                let base_rate = b.unique as f64 / b.cpu_seconds.max(0.01);
                format!("{:.2}x ActorModel's rate", rate / base_rate)
            }
            Some(_) => "baseline".to_string(),
            None => String::new(),
        };
        println!(
            "{:<44} {:>10} {:>10} {:>5} {:>7.2} {:>12.0} {:>8.1} {:>8.2}  {}{}",
            m.entry,
            m.unique,
            m.generated,
            m.depth,
            m.cpu_seconds,
            rate,
            m.peak_rss_mb,
            rate / SPIN_STATES_PER_CPU_SECOND,
            ratio,
            if m.complete { "" } else { " (incomplete)" }
        );
    }
    println!(
        "\n/SPIN: unique/CPU-s over SPIN's {:.0} k/CPU-s on the calibration graph \
         (research/checker-vs-spin.md: idiomatic Promela, DFS, this machine class; stateright's \
         example BFS did 122 k/CPU-s there). Only the calibration rows measure the same graph; \
         for the protocols it is a scale, not a comparison.",
        SPIN_STATES_PER_CPU_SECOND / 1000.0
    );
}

/// The ActorModel run of the same calibration configuration and search, if any.
fn baseline_for<'a>(results: &'a [Measurement], entry: &str) -> Option<&'a Measurement> {
    let parsed = Entry::parse(entry).ok()?;
    let baseline = Entry {
        host: "actor-model".into(),
        ..parsed
    }
    .name();
    results.iter().find(|m| m.entry == baseline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_bad_ones_are_refused() {
        for entry in entries(true, true) {
            assert_eq!(Entry::parse(&entry.name()).ok(), Some(entry));
        }
        assert!(Entry::parse("paxos/default/system").is_err());
        assert!(Entry::parse("paxos/default/tlc/bfs").is_err());
    }

    #[test]
    fn own_cpu_and_memory_are_readable() {
        // Burn a little CPU so the tick counter moves.
        let mut x = 0u64;
        for i in 0..50_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert!(x != 1);
        assert!(own_cpu_seconds() >= 0.0);
        assert!(own_peak_rss_kb() > 0);
    }
}
