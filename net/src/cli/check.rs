//! `quorate check`: runs protocol suites, single configurations or mutants through the model
//! checker of `quorate_model` and prints their reports, a summary, JSON and traces.

use super::{output, Failure};
use clap::Args;
use quorate_model::check::{exit, CheckOptions, Report, SearchMode};
use quorate_model::registry::{protocol, protocols, ProtocolInfo};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Arguments of `quorate check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Protocol to check, or `all` for every protocol's suite (listed below under "Protocols").
    #[arg(value_name = "PROTOCOL|all")]
    pub protocol: String,

    /// Run only this configuration of the suite (default: every configuration in order; with
    /// --mutant, the configuration the mutant is known to break on).
    #[arg(long, value_name = "NAME")]
    pub config: Option<String>,

    /// Breadth-first search: shortest counterexamples with one thread (the default with
    /// --mutant, whose point is a readable counterexample).
    #[arg(long, conflicts_with_all = ["dfs", "simulate"])]
    pub bfs: bool,

    /// Depth-first search (the default without --mutant): about twice the states per CPU-second
    /// of BFS and far less memory; counterexamples may be longer than the shortest (rerun a
    /// violated configuration with --bfs for the shortest).
    #[arg(long, conflicts_with = "simulate")]
    pub dfs: bool,

    /// Random walks for SECS seconds instead of an exhaustive search (never complete, so the exit
    /// code is 1 or 3). Needs --seed.
    #[arg(long, value_name = "SECS", requires = "seed", value_parser = at_least_one::<u64>)]
    pub simulate: Option<u64>,

    /// Seed of the --simulate random walks; the same seed repeats the same walks.
    #[arg(long, value_name = "N", requires = "simulate")]
    pub seed: Option<u64>,

    /// Checker threads. More than one makes BFS counterexamples possibly longer than the shortest.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = at_least_one::<usize>)]
    pub threads: usize,

    /// Check this mutant (a deliberately broken rule variant) and stop at its first violation.
    /// Finding the violation exits 1: that is the expected outcome, the checker caught the bug.
    #[arg(long, value_name = "NAME")]
    pub mutant: Option<String>,

    /// Print the protocol's mutant names, one a line, and exit.
    #[arg(long, conflicts_with_all = RUN_ONLY)]
    pub list_mutants: bool,

    /// Print the protocol's configuration names, one a line, and exit.
    #[arg(long, conflicts_with_all = RUN_ONLY, conflicts_with = "list_mutants")]
    pub list_configs: bool,

    /// Print one JSON document on stdout and nothing else: the report object when one run was
    /// asked for (--config or --mutant), else {"schema_version": 1, "runs": [report, ...]}.
    #[arg(long)]
    pub json: bool,

    /// Write every property's trace (counterexample or example) as a JSON array to FILE.
    #[arg(long, value_name = "FILE")]
    pub trace_out: Option<PathBuf>,

    /// Stop each run after about N generated states (the run is then incomplete, exit 3).
    #[arg(long, value_name = "N", value_parser = at_least_one::<usize>)]
    pub target_states: Option<usize>,

    /// Stop each run after SECS seconds (the run is then incomplete, exit 3).
    #[arg(long, value_name = "SECS", value_parser = at_least_one::<u64>)]
    pub timeout: Option<u64>,

    /// Do not print progress lines on stderr.
    #[arg(long)]
    pub no_progress: bool,

    /// Do not check `deadlock-free` (on by default: a reachable state where a client operation
    /// is undecided and only crashes, recoveries, losses or retransmissions remain is a
    /// violation).
    #[arg(long)]
    pub no_deadlock: bool,

    /// Count how often each action kind (message type delivered or dropped, timer, crash,
    /// recover, random choice) fired, and warn about kinds that never fired.
    #[arg(long)]
    pub coverage: bool,

    /// Search the quotient by the configuration's interchangeable actors (e.g. PBFT's correct
    /// backups): one state per class of states equal up to renaming them, under BFS, DFS and
    /// simulation alike. Traces are printed and written in the original ids. Configurations
    /// declaring no interchangeable actors run plain (the report says so).
    #[arg(long)]
    pub symmetry: bool,
}

/// Arguments that make no sense with --list-mutants or --list-configs.
const RUN_ONLY: [&str; 14] = [
    "config",
    "bfs",
    "dfs",
    "simulate",
    "seed",
    "threads",
    "mutant",
    "json",
    "trace_out",
    "target_states",
    "timeout",
    "no_deadlock",
    "coverage",
    "symmetry",
];

/// Parses a whole number of at least 1 (counts, seconds, threads).
fn at_least_one<T>(value: &str) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + From<u8>,
    T::Err: std::fmt::Display,
{
    match value.parse::<T>() {
        Ok(n) if n < T::from(1) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(error) => Err(format!("{error}; expected a whole number of at least 1")),
    }
}

/// One configuration to check, validated against the registry.
struct Run {
    protocol: ProtocolInfo,
    config: &'static str,
    mutant: Option<&'static str>,
}

/// Runs `quorate check` and returns the exit code (DESIGN §5).
pub fn run(args: &CheckArgs) -> Result<i32, Failure> {
    let selected = select_protocols(&args.protocol)?;
    if args.list_mutants || args.list_configs {
        return list(&selected, args.list_mutants);
    }
    let options = options(args);
    let runs = plan(args, selected)?;
    let mut trace_file = args
        .trace_out
        .as_deref()
        .map(create_trace_file)
        .transpose()?;
    let mut reports = Vec::with_capacity(runs.len());
    for run in &runs {
        let report = check_one(run, &options)?;
        if !args.json {
            let mut stdout = io::stdout().lock();
            if !reports.is_empty() {
                writeln!(stdout).map_err(Failure::stdout)?;
            }
            report.write_text(&mut stdout).map_err(Failure::stdout)?;
        }
        reports.push(report);
    }
    if args.json {
        output::write_json(&reports, args.config.is_some() || args.mutant.is_some())?;
    } else if reports.len() > 1 {
        output::write_summary(&mut io::stdout().lock(), &reports).map_err(Failure::stdout)?;
    }
    if let (Some(file), Some(path)) = (trace_file.as_mut(), &args.trace_out) {
        output::write_traces(file, &reports).map_err(|error| {
            Failure::Usage(format!(
                "cannot write --trace-out {}: {error}",
                path.display()
            ))
        })?;
    }
    Ok(worst_exit_code(reports.iter().map(Report::exit_code)))
}

/// `all` or one protocol from the registry.
fn select_protocols(name: &str) -> Result<Vec<ProtocolInfo>, Failure> {
    if name == "all" {
        return Ok(protocols());
    }
    protocol(name)
        .map(|info| vec![info])
        .map_err(|error| Failure::Usage(format!("{error} (`quorate check --help` describes each)")))
}

/// `--list-mutants` / `--list-configs`: names only, one a line; with `all`, `PROTOCOL NAME`.
fn list(selected: &[ProtocolInfo], mutants: bool) -> Result<i32, Failure> {
    let qualify = selected.len() > 1;
    let mut stdout = io::stdout().lock();
    for info in selected {
        let names: Vec<&str> = if mutants {
            info.mutants.iter().map(|m| m.name).collect()
        } else {
            info.configs.iter().map(|c| c.name).collect()
        };
        for name in names {
            let line = if qualify {
                format!("{} {name}", info.name)
            } else {
                name.to_string()
            };
            writeln!(stdout, "{line}").map_err(Failure::stdout)?;
        }
    }
    Ok(exit::OK)
}

/// The checker options common to every run (clap has already validated each value).
fn options(args: &CheckArgs) -> CheckOptions {
    let mode = match (args.bfs, args.dfs, args.simulate, args.seed) {
        (true, _, _, _) => SearchMode::Bfs,
        (_, true, _, _) => SearchMode::Dfs,
        (_, _, Some(seconds), Some(seed)) => SearchMode::Simulate { seconds, seed },
        // Verifying wants speed; a mutant run wants its counterexample short.
        _ if args.mutant.is_some() => SearchMode::Bfs,
        _ => SearchMode::Dfs,
    };
    CheckOptions {
        mode,
        threads: args.threads,
        target_states: args.target_states,
        timeout: args.timeout.map(Duration::from_secs),
        stop_at_first_violation: false,
        progress: !args.no_progress,
        deadlock: !args.no_deadlock,
        coverage: args.coverage,
        replay: None,
        symmetry: args.symmetry,
    }
}

/// The runs asked for, each configuration and mutant checked against the registry before any
/// run starts (so a typo fails at once, not after an hour of checking).
fn plan(args: &CheckArgs, selected: Vec<ProtocolInfo>) -> Result<Vec<Run>, Failure> {
    if selected.len() > 1 {
        for (flag, value) in [("--config", &args.config), ("--mutant", &args.mutant)] {
            if let Some(value) = value {
                return Err(Failure::Usage(format!(
                    "{flag} {value}: needs one protocol, not `all` (e.g. `quorate check paxos {flag} {value}`)"
                )));
            }
        }
    }
    let mut runs = Vec::new();
    for info in selected {
        let mutant = match &args.mutant {
            Some(name) => Some(find_mutant(&info, name)?),
            None => None,
        };
        let configs: Vec<&'static str> = match (&args.config, mutant) {
            (Some(name), _) => vec![info.config(name)?.name],
            (None, Some(mutant)) => vec![info.mutant(mutant)?.config],
            (None, None) => info
                .configs
                .iter()
                .filter(|c| !c.soak)
                .map(|c| c.name)
                .collect(),
        };
        for config in configs {
            runs.push(Run {
                protocol: info.clone(),
                config,
                mutant,
            });
        }
    }
    Ok(runs)
}

fn find_mutant(info: &ProtocolInfo, name: &str) -> Result<&'static str, Failure> {
    if info.mutants.is_empty() {
        return Err(Failure::Usage(format!(
            "--mutant {name}: {} has no mutants",
            info.name
        )));
    }
    Ok(info.mutant(name)?.name)
}

fn create_trace_file(path: &Path) -> Result<BufWriter<File>, Failure> {
    File::create(path).map(BufWriter::new).map_err(|error| {
        Failure::Usage(format!(
            "--trace-out {}: cannot create the file: {error}",
            path.display()
        ))
    })
}

/// Runs one configuration and notes on stderr what the report alone does not say.
fn check_one(run: &Run, options: &CheckOptions) -> Result<Report, Failure> {
    let info = &run.protocol;
    let mut options = options.clone();
    options.stop_at_first_violation = run.mutant.is_some();
    if options.progress {
        let variant = run
            .mutant
            .map(|m| format!(" --mutant {m}"))
            .unwrap_or_default();
        eprintln!("checking {} / {}{variant} ...", info.name, run.config);
    }
    let report = (info.check)(run.config, run.mutant, &options)?;
    tracing::info!(
        protocol = info.name,
        config = run.config,
        code = report.exit_code(),
        "run finished"
    );
    if let Some(pinned) = info.config(run.config)?.expected_unique {
        // The pin is the plain state count; a quotient is smaller by design.
        let plain = report
            .symmetry
            .as_ref()
            .is_none_or(|s| s.interchangeable.is_empty());
        if run.mutant.is_none() && plain && report.complete && report.states_unique != pinned {
            tracing::warn!(
                "{} / {}: {} unique states, but the registry pins {pinned}: the state space changed",
                info.name,
                run.config,
                report.states_unique
            );
        }
    }
    if let Some(mutant) = run.mutant {
        note_mutant_outcome(info, mutant, &report)?;
    }
    Ok(report)
}

/// A mutant that is not caught, or caught by another property, is worth a line on stderr.
fn note_mutant_outcome(info: &ProtocolInfo, mutant: &str, report: &Report) -> Result<(), Failure> {
    let expected = info.mutant(mutant)?.breaks;
    let violated = report.violations();
    if violated.is_empty() && !report.complete {
        eprintln!("note: mutant {mutant} not caught before the search stopped (expected {expected:?} to be violated)");
    } else if violated.is_empty() {
        eprintln!("note: mutant {mutant} was not caught: no property was violated (expected {expected:?} to be)");
    } else if !violated.contains(&expected) {
        eprintln!("note: mutant {mutant} violated {violated:?}; the registry expects {expected:?}");
    }
    Ok(())
}

/// The worst exit code: violation, then incomplete, then vacuous, then OK.
fn worst_exit_code(codes: impl IntoIterator<Item = i32>) -> i32 {
    let severity = |code: i32| match code {
        exit::VIOLATION => 3,
        exit::INCOMPLETE => 2,
        exit::VACUOUS => 1,
        _ => 0,
    };
    codes
        .into_iter()
        .max_by_key(|&code| severity(code))
        .unwrap_or(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_exit_code_orders_violation_incomplete_vacuous_ok() {
        assert_eq!(
            worst_exit_code([exit::OK, exit::VACUOUS, exit::INCOMPLETE]),
            exit::INCOMPLETE
        );
        assert_eq!(
            worst_exit_code([exit::INCOMPLETE, exit::VIOLATION, exit::OK]),
            exit::VIOLATION
        );
        assert_eq!(worst_exit_code([exit::OK, exit::VACUOUS]), exit::VACUOUS);
        assert_eq!(worst_exit_code([]), exit::OK);
    }

    #[test]
    fn zero_is_rejected_with_the_rule() {
        let rule = Err("must be at least 1".to_string());
        assert_eq!(at_least_one::<usize>("0"), rule);
        assert_eq!(at_least_one::<u64>("7"), Ok(7));
        assert!(at_least_one::<usize>("-1").is_err());
        assert!(at_least_one::<u64>("1.5").is_err());
    }
}
