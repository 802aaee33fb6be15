//! `quorate replay FILE`: replays each trace of a `--trace-out` file through its protocol's
//! model, printing every step's action and each actor's state change, and checks that the
//! last state still shows the recorded verdict.

use super::Failure;
use clap::Args;
use quorate_model::check::{exit, CheckOptions, Verdict};
use quorate_model::registry::protocol;
use quorate_model::replay::ReplayOutcome;
use serde::Deserialize;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// Arguments of `quorate replay`.
#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// A trace file: the JSON array `quorate check --trace-out` writes, or one of its entries.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Replay only the entry with this 1-based position in the file.
    #[arg(long, value_name = "N")]
    pub entry: Option<usize>,
}

/// One trace of the file (further fields are ignored).
#[derive(Debug, Deserialize)]
struct RecordedTrace {
    protocol: String,
    config: String,
    mutant: Option<String>,
    property: String,
    verdict: Verdict,
    steps: Vec<RecordedStep>,
}

#[derive(Debug, Deserialize)]
struct RecordedStep {
    action_json: serde_json::Value,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum TraceFile {
    Many(Vec<RecordedTrace>),
    One(RecordedTrace),
}

/// Runs `quorate replay`; returns the exit code.
pub fn run(args: &ReplayArgs) -> Result<i32, Failure> {
    let path = args.file.display();
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| Failure::Usage(format!("replay {path}: cannot read the file: {e}")))?;
    let traces = match serde_json::from_str::<TraceFile>(&text) {
        Ok(TraceFile::Many(traces)) => traces,
        Ok(TraceFile::One(trace)) => vec![trace],
        Err(e) => {
            return Err(Failure::Usage(format!(
                "replay {path}: not a trace file (an array of {{protocol, config, mutant, property, verdict, steps}} as `quorate check --trace-out` writes): {e}"
            )))
        }
    };
    let selected: Vec<(usize, &RecordedTrace)> = match args.entry {
        Some(n) if n == 0 || n > traces.len() => {
            return Err(Failure::Usage(format!(
                "--entry {n}: the file holds entries 1 to {}",
                traces.len()
            )))
        }
        Some(n) => vec![(n, &traces[n - 1])],
        None => traces.iter().enumerate().map(|(i, t)| (i + 1, t)).collect(),
    };
    if selected.is_empty() {
        return Err(Failure::Usage(format!(
            "replay {path}: the file holds no trace"
        )));
    }
    let mut stdout = io::stdout().lock();
    for (number, trace) in selected {
        let outcome = replay_one(trace)?;
        print_outcome(&mut stdout, number, trace, &outcome).map_err(Failure::stdout)?;
        let context = format!(
            "replay {path}, entry {number} ({} / {})",
            trace.protocol, trace.property
        );
        if let Some(error) = &outcome.error {
            return Err(Failure::Usage(format!("{context}: {error}")));
        }
        check_verdict(trace, &outcome).map_err(|e| Failure::Usage(format!("{context}: {e}")))?;
    }
    Ok(exit::OK)
}

fn replay_one(trace: &RecordedTrace) -> Result<ReplayOutcome, Failure> {
    let info = protocol(&trace.protocol)?;
    let options = CheckOptions {
        replay: Some(Arc::new(
            trace.steps.iter().map(|s| s.action_json.clone()).collect(),
        )),
        ..CheckOptions::default()
    };
    let report = (info.check)(&trace.config, trace.mutant.as_deref(), &options)?;
    Ok(report
        .replay
        .expect("a run with CheckOptions::replay returns the replay's outcome"))
}

/// A counterexample must end in a state violating its property; an example in one satisfying
/// it. (An `eventually` counterexample ends where the path ends: nothing to check.)
fn check_verdict(trace: &RecordedTrace, outcome: &ReplayOutcome) -> Result<(), String> {
    let Some(property) = outcome
        .final_properties
        .iter()
        .find(|p| p.name == trace.property)
    else {
        return Err(format!("the model has no property {:?}", trace.property));
    };
    let expected_to_hold = match (trace.verdict, property.expectation.as_str()) {
        (_, "eventually") => return Ok(()),
        (Verdict::Violated, _) => false,
        (Verdict::Reached, _) => true,
        (other, _) => {
            return Err(format!(
                "verdict {other:?} has no trace to replay (expected violated or reached)"
            ))
        }
    };
    if property.holds != expected_to_hold {
        return Err(format!(
            "the last state does not reproduce the recorded verdict: {} {} there",
            trace.property,
            if property.holds { "holds" } else { "fails" }
        ));
    }
    Ok(())
}

fn print_outcome(
    out: &mut dyn Write,
    number: usize,
    trace: &RecordedTrace,
    outcome: &ReplayOutcome,
) -> io::Result<()> {
    let variant = trace
        .mutant
        .as_deref()
        .map(|m| format!(" --mutant {m}"))
        .unwrap_or_default();
    writeln!(
        out,
        "== entry {number}: {} / {}{variant}: {:?} {} ({} steps) ==",
        trace.protocol,
        trace.config,
        trace.verdict,
        trace.property,
        trace.steps.len()
    )?;
    for step in &outcome.steps {
        writeln!(out, "  {:>3}. {}", step.index, step.action)?;
        for change in &step.changes {
            writeln!(out, "         {change}")?;
        }
    }
    if outcome.error.is_none() {
        let last = &outcome.final_properties;
        let failing: Vec<&str> = last
            .iter()
            .filter(|p| p.expectation == "always" && !p.holds)
            .map(|p| p.name.as_str())
            .collect();
        writeln!(
            out,
            "after step {}: always-properties failing: {}",
            outcome.steps.len(),
            if failing.is_empty() {
                "none".to_string()
            } else {
                failing.join(", ")
            }
        )?;
    }
    Ok(())
}
