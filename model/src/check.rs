//! The check front end as a library: runs a model under stateright's checker and turns the
//! outcome into a [`Report`] (human text or a stable JSON schema) and an exit code (DESIGN §5).

use crate::coverage::CoverageReport;
use crate::instrument::{Instrument, Setup, StepStats};
use crate::replay::ReplayOutcome;
use crate::stats::{collision_probability, mebibytes, memory, Statistics};
use serde::{Deserialize, Serialize};
use stateright::{Checker, Expectation, Model, Path};
use std::fmt::Debug;
use std::hash::Hash;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Version of the JSON report schema; bumped on any incompatible change.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// How the state space is searched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SearchMode {
    /// Breadth-first: shortest counterexamples (with one thread).
    Bfs,
    /// Depth-first: far less memory.
    Dfs,
    /// Random walks for a number of seconds from a seed (not exhaustive).
    Simulate {
        /// Wall-clock budget.
        seconds: u64,
        /// RNG seed for the walks.
        seed: u64,
    },
}

/// Options of one check run.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Search mode.
    pub mode: SearchMode,
    /// Checker threads.
    pub threads: usize,
    /// Stop after about this many generated states (the run is then incomplete).
    pub target_states: Option<usize>,
    /// Stop after this long (the run is then incomplete).
    pub timeout: Option<Duration>,
    /// Stop at the first violation of an `always` property (used for mutants).
    pub stop_at_first_violation: bool,
    /// Print a progress line to stderr every few seconds.
    pub progress: bool,
    /// Check `deadlock-free` where the protocol defines undecided client operations.
    pub deadlock: bool,
    /// Count how often each action kind fired (`--coverage`).
    pub coverage: bool,
    /// Instead of searching, replay these serialised actions (`quorate replay`).
    pub replay: Option<Arc<Vec<serde_json::Value>>>,
    /// Search the quotient by the configuration's interchangeable actors (`--symmetry`).
    pub symmetry: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            mode: SearchMode::Bfs,
            threads: 1,
            target_states: None,
            timeout: None,
            stop_at_first_violation: false,
            progress: false,
            deadlock: true,
            coverage: false,
            replay: None,
            symmetry: false,
        }
    }
}

/// A model the front end can describe to a person.
pub trait Describe: Model {
    /// A path found by a search rewritten in the configuration's own actor ids (a search with
    /// symmetry finds paths of canonical states).
    fn in_original_ids(
        &self,
        steps: Vec<(Self::State, Option<Self::Action>)>,
    ) -> Vec<(Self::State, Option<Self::Action>)> {
        steps
    }
    /// One line for an action, naming actors and message contents.
    fn describe_action(&self, state: &Self::State, action: &Self::Action) -> String;
    /// What changed between two states, one line per changed part (may be empty).
    fn describe_change(&self, prev: &Self::State, next: &Self::State) -> Vec<String>;
}

/// The verdict on one property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// `always`: no counterexample in a complete search.
    Holds,
    /// `always`/`eventually`: a counterexample was found.
    Violated,
    /// `sometimes`: an example was found.
    Reached,
    /// `sometimes`: no example in a complete search (the check is vacuous).
    NeverReached,
    /// `eventually`: no counterexample on acyclic paths (not a liveness proof).
    NoCounterexampleOnAcyclicPaths,
    /// The search stopped early and found nothing for this property.
    Unknown,
}

/// One step of a counterexample or example.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TraceStep {
    /// 1-based step number.
    pub index: usize,
    /// Human-readable action.
    pub action: String,
    /// The action itself, for replay (`quorate replay`).
    pub action_json: serde_json::Value,
    /// Human-readable state changes caused by the step.
    pub changes: Vec<String>,
}

/// The verdict on one property with its evidence.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PropertyReport {
    /// Property name.
    pub name: String,
    /// `always`, `sometimes` or `eventually`.
    pub expectation: String,
    /// Outcome.
    pub verdict: Verdict,
    /// The path to the discovery, when there is one.
    pub trace: Option<Vec<TraceStep>>,
}

/// The outcome of one check run. Serialised as the `--json` schema (README "JSON report").
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    /// [`REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Protocol name.
    pub protocol: String,
    /// Configuration name.
    pub config: String,
    /// Mutant or seed-literal variant, if any.
    pub mutant: Option<String>,
    /// Search mode.
    pub mode: SearchMode,
    /// Checker threads.
    pub threads: usize,
    /// True when the search exhausted the (bounded) state space.
    pub complete: bool,
    /// States generated (successors computed, including revisits).
    pub states_generated: usize,
    /// Distinct states (by 64-bit fingerprint).
    pub states_unique: usize,
    /// Maximum depth reached.
    pub max_depth: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Unique states per wall-clock second.
    pub unique_per_second: f64,
    /// Property verdicts, `actor-assertion` first.
    pub properties: Vec<PropertyReport>,
    /// Out-degree, memory, collision estimate.
    pub statistics: Statistics,
    /// Action-kind counts, with `--coverage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<CoverageReport>,
    /// The replay's outcome, for `quorate replay` (no search ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<ReplayOutcome>,
    /// The symmetry the search used, when `--symmetry` was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symmetry: Option<SymmetryReport>,
}

/// The symmetry of a `--symmetry` run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymmetryReport {
    /// Actor indices treated as interchangeable (empty: the configuration declares none, so
    /// the search was plain).
    pub interchangeable: Vec<usize>,
    /// Permutations tried per state (the size of the symmetry group).
    pub permutations: usize,
}

/// Exit codes of `quorate check` (DESIGN §5).
pub mod exit {
    /// Complete and every property verified.
    pub const OK: i32 = 0;
    /// A property was violated.
    pub const VIOLATION: i32 = 1;
    /// Bad usage or configuration.
    pub const USAGE: i32 = 2;
    /// Stopped by time, states or depth before completing.
    pub const INCOMPLETE: i32 = 3;
    /// A `sometimes` property was never reached: the check is vacuous.
    pub const VACUOUS: i32 = 4;
}

impl Report {
    /// True when some `always` or `eventually` property was violated.
    pub fn has_violation(&self) -> bool {
        self.properties
            .iter()
            .any(|p| p.verdict == Verdict::Violated)
    }

    /// The violated properties' names.
    pub fn violations(&self) -> Vec<&str> {
        self.properties
            .iter()
            .filter(|p| p.verdict == Verdict::Violated)
            .map(|p| p.name.as_str())
            .collect()
    }

    /// The report of the property named `name`.
    pub fn property(&self, name: &str) -> Option<&PropertyReport> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// The process exit code for this outcome.
    pub fn exit_code(&self) -> i32 {
        if self.has_violation() {
            exit::VIOLATION
        } else if !self.complete {
            exit::INCOMPLETE
        } else if self
            .properties
            .iter()
            .any(|p| p.verdict == Verdict::NeverReached)
        {
            exit::VACUOUS
        } else {
            exit::OK
        }
    }

    /// Writes the human-readable report.
    pub fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let variant = self
            .mutant
            .as_deref()
            .map(|m| format!(" --mutant {m}"))
            .unwrap_or_default();
        writeln!(out, "== {} / {}{} ==", self.protocol, self.config, variant)?;
        writeln!(
            out,
            "search: {:?}, {} thread(s), {}",
            self.mode,
            self.threads,
            if self.complete {
                "complete"
            } else {
                "INCOMPLETE (stopped early)"
            }
        )?;
        writeln!(
            out,
            "states: {} generated, {} unique, max depth {}; {:.2} s, {:.0} unique states/s",
            self.states_generated,
            self.states_unique,
            self.max_depth,
            self.seconds,
            self.unique_per_second
        )?;
        if let Some(symmetry) = &self.symmetry {
            if symmetry.interchangeable.is_empty() {
                writeln!(out, "symmetry: asked for, but this configuration declares no interchangeable actors (plain search)")?;
            } else {
                writeln!(
                    out,
                    "symmetry: actors {:?} interchangeable ({} permutations); counts are of the quotient, traces in original ids",
                    symmetry.interchangeable, symmetry.permutations
                )?;
            }
        }
        let stats = &self.statistics;
        write!(
            out,
            "statistics: {} states expanded, max out-degree {}; P(fingerprint collision) <= {:.1e} (n^2/2^65)",
            stats.states_expanded,
            stats.max_out_degree,
            stats.fingerprint_collision_probability
        )?;
        match stats.peak_rss_bytes {
            Some(peak) => writeln!(out, "; peak RSS {}", mebibytes(peak))?,
            None => writeln!(out)?,
        }
        if stats.stalled_at_bound > 0 {
            writeln!(
                out,
                "note: {} undecided states could progress only beyond the bounds (not deadlocks; raise a bound to explore them)",
                stats.stalled_at_bound
            )?;
        }
        for property in &self.properties {
            writeln!(
                out,
                "  {:<10} {:<28} {}",
                property.expectation,
                property.name,
                verdict_text(property.verdict)
            )?;
        }
        if let Some(coverage) = &self.coverage {
            coverage.write_text(out)?;
        }
        for property in &self.properties {
            if let Some(trace) = &property.trace {
                let kind = if property.verdict == Verdict::Violated {
                    "counterexample"
                } else {
                    "example"
                };
                writeln!(
                    out,
                    "\n{kind} for {} ({} steps):",
                    property.name,
                    trace.len()
                )?;
                for step in trace {
                    writeln!(out, "  {:>3}. {}", step.index, step.action)?;
                    for change in &step.changes {
                        writeln!(out, "         {change}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

fn verdict_text(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Holds => "holds",
        Verdict::Violated => "VIOLATED",
        Verdict::Reached => "reached (example found)",
        Verdict::NeverReached => "NEVER REACHED (vacuous)",
        Verdict::NoCounterexampleOnAcyclicPaths => {
            "no counterexample on acyclic paths (not a liveness proof)"
        }
        Verdict::Unknown => "unknown (search incomplete)",
    }
}

pub(crate) fn expectation_name(expectation: &Expectation) -> &'static str {
    match expectation {
        Expectation::Always => "always",
        Expectation::Sometimes => "sometimes",
        Expectation::Eventually => "eventually",
    }
}

/// Runs the checker on `model` and reports.
pub fn run_check<M>(
    protocol: &str,
    config: &str,
    mutant: Option<&str>,
    model: M,
    options: &CheckOptions,
) -> Report
where
    M: Describe + Instrument + Send + Sync + 'static,
    M::State: Hash + Send + Sync + Clone + PartialEq + Debug + 'static,
    M::Action: Clone + PartialEq + Debug + Serialize,
{
    let mut model = model;
    let setup = Setup {
        stats: Arc::new(StepStats::default()),
        stop: Arc::default(),
        enabled_only: matches!(options.mode, SearchMode::Simulate { .. }),
        coverage: options.coverage,
        deadlock: options.deadlock,
        // A replay follows the trace's own (original) ids on the plain model.
        symmetry: options.symmetry && options.replay.is_none(),
    };
    model.instrument(&setup);
    let property_list: Vec<(String, Expectation)> = model
        .properties()
        .iter()
        .map(|p| (p.name.to_string(), p.expectation.clone()))
        .collect();
    if let Some(steps) = &options.replay {
        let outcome = model.replay(steps);
        let mut report = empty_report(protocol, config, mutant, options, &property_list);
        report.replay = Some(outcome);
        return report;
    }
    let finish_when = if options.stop_at_first_violation {
        stateright::HasDiscoveries::AnyFailures
    } else {
        stateright::HasDiscoveries::All
    };
    let started = Instant::now();
    let checker = if options.mode == SearchMode::Dfs && options.threads <= 1 {
        // One thread: our own DFS (stateright's order, without its per-successor costs).
        let dfs_options = crate::dfs::DfsOptions {
            finish_when,
            target_state_count: options.target_states,
        };
        CheckerHandle(Box::new(crate::dfs::DfsChecker::spawn(model, dfs_options)))
    } else {
        let mut builder = model
            .checker()
            .threads(options.threads.max(1))
            .finish_when(finish_when);
        if let Some(target) = options.target_states {
            builder = builder.target_state_count(target);
        }
        if let Some(timeout) = options.timeout {
            builder = builder.timeout(timeout);
        }
        match options.mode {
            SearchMode::Bfs => CheckerHandle(Box::new(builder.spawn_bfs())),
            SearchMode::Dfs => CheckerHandle(Box::new(builder.spawn_dfs())),
            SearchMode::Simulate { seconds, seed } => {
                let builder = builder.timeout(Duration::from_secs(seconds));
                CheckerHandle(Box::new(
                    builder.spawn_simulation(seed, stateright::UniformChooser),
                ))
            }
        }
    };
    let checker = checker.wait(options, &setup, started);
    let seconds = started.elapsed().as_secs_f64();
    // The search is over; paths are rebuilt from the model next, which needs its actions back.
    let stopped_at_timeout = setup.stop.swap(false, Ordering::Relaxed);
    let checker = checker.as_checker();
    let stopped_by_limit = options
        .target_states
        .is_some_and(|t| checker.state_count() >= t)
        || stopped_at_timeout
        || options.timeout.is_some_and(|t| started.elapsed() >= t);
    let discoveries = checker.discoveries();
    let any_failure = discoveries.keys().any(|name| {
        property_list
            .iter()
            .any(|(n, e)| n == name && *e != Expectation::Sometimes)
    });
    let complete = !(stopped_by_limit
        || matches!(options.mode, SearchMode::Simulate { .. })
        || (options.stop_at_first_violation && any_failure));
    let model = checker.model();
    let properties = property_list
        .iter()
        .map(|(name, expectation)| {
            let found = discoveries.get(name.as_str());
            // A stopped search makes every queued state a leaf: its eventually "discoveries"
            // are artefacts of the stop.
            let found =
                found.filter(|_| !(stopped_by_limit && *expectation == Expectation::Eventually));
            let verdict = match (expectation, found.is_some(), complete) {
                (Expectation::Always | Expectation::Eventually, true, _) => Verdict::Violated,
                (Expectation::Sometimes, true, _) => Verdict::Reached,
                (Expectation::Always, false, true) => Verdict::Holds,
                (Expectation::Sometimes, false, true) => Verdict::NeverReached,
                (Expectation::Eventually, false, true) => Verdict::NoCounterexampleOnAcyclicPaths,
                (_, false, false) => Verdict::Unknown,
            };
            PropertyReport {
                name: name.clone(),
                expectation: expectation_name(expectation).to_string(),
                verdict,
                trace: found.map(|path| describe_path(model, path)),
            }
        })
        .collect();
    let unique = checker.unique_state_count();
    let statistics = Statistics {
        states_expanded: setup.stats.expanded(),
        max_out_degree: setup.stats.max_out_degree(),
        stalled_at_bound: setup.stats.stalled_at_bound(),
        fingerprint_collision_probability: collision_probability(unique),
        peak_rss_bytes: memory().map(|(_, peak)| peak),
    };
    Report {
        schema_version: REPORT_SCHEMA_VERSION,
        protocol: protocol.to_string(),
        config: config.to_string(),
        mutant: mutant.map(str::to_string),
        mode: options.mode,
        threads: options.threads.max(1),
        complete,
        states_generated: checker.state_count(),
        states_unique: unique,
        max_depth: checker.max_depth(),
        seconds,
        unique_per_second: unique as f64 / seconds.max(1e-9),
        properties,
        statistics,
        coverage: model.coverage_report(),
        replay: None,
        symmetry: options
            .symmetry
            .then(|| symmetry_report(model.symmetry_ids())),
    }
}

fn symmetry_report(ids: Vec<usize>) -> SymmetryReport {
    SymmetryReport {
        permutations: (1..=ids.len()).product(),
        interchangeable: ids,
    }
}

/// The report of a run that did not search (a replay).
fn empty_report(
    protocol: &str,
    config: &str,
    mutant: Option<&str>,
    options: &CheckOptions,
    property_list: &[(String, Expectation)],
) -> Report {
    Report {
        schema_version: REPORT_SCHEMA_VERSION,
        protocol: protocol.to_string(),
        config: config.to_string(),
        mutant: mutant.map(str::to_string),
        mode: options.mode,
        threads: options.threads.max(1),
        complete: false,
        states_generated: 0,
        states_unique: 0,
        max_depth: 0,
        seconds: 0.0,
        unique_per_second: 0.0,
        properties: property_list
            .iter()
            .map(|(name, expectation)| PropertyReport {
                name: name.clone(),
                expectation: expectation_name(expectation).to_string(),
                verdict: Verdict::Unknown,
                trace: None,
            })
            .collect(),
        statistics: Statistics::default(),
        coverage: None,
        replay: None,
        symmetry: None,
    }
}

/// Turns a checker path into numbered, readable steps.
pub fn describe_path<M>(model: &M, path: &Path<M::State, M::Action>) -> Vec<TraceStep>
where
    M: Describe,
    M::State: Clone,
    M::Action: Clone + Serialize,
{
    let steps = model.in_original_ids(path.clone().into_vec());
    let mut trace = Vec::new();
    for (index, pair) in steps.windows(2).enumerate() {
        let (prev, action) = &pair[0];
        let (next, _) = &pair[1];
        let action = action
            .as_ref()
            .expect("every state but the last has an action");
        trace.push(TraceStep {
            index: index + 1,
            action: model.describe_action(prev, action),
            action_json: serde_json::to_value(action).unwrap_or(serde_json::Value::Null),
            changes: model.describe_change(prev, next),
        });
    }
    trace
}

struct CheckerHandle<M: Model>(Box<dyn Checker<M>>);

impl<M: Model> CheckerHandle<M> {
    fn as_checker(&self) -> &dyn Checker<M> {
        self.0.as_ref()
    }

    /// Waits for the checker, printing a progress line to stderr every few seconds if asked,
    /// and stops the search at the timeout (stateright checks it only between work shares,
    /// which a single thread never makes).
    fn wait(mut self, options: &CheckOptions, setup: &Setup, started: Instant) -> Self {
        let mut last_print = Instant::now();
        let (mut last_generated, mut last_unique) = (0, 0);
        let exhaustive = !matches!(options.mode, SearchMode::Simulate { .. });
        while !self.as_checker().is_done() {
            std::thread::sleep(Duration::from_millis(20));
            if options.timeout.is_some_and(|t| started.elapsed() >= t) {
                setup.stop.store(true, Ordering::Relaxed);
            }
            let interval = last_print.elapsed().as_secs_f64();
            if options.progress && interval >= 3.0 {
                let c = self.as_checker();
                let (generated, unique) = (c.state_count(), c.unique_state_count());
                let queue = if exhaustive {
                    let queued = unique.saturating_sub(setup.stats.expanded());
                    format!(", queue ~{queued}")
                } else {
                    String::new()
                };
                let rss = memory()
                    .map(|(rss, _)| format!(", RSS {}", mebibytes(rss)))
                    .unwrap_or_default();
                eprintln!(
                    "progress: {:.0} s, {generated} generated ({:.0}/s), {unique} unique ({:.0}/s){queue}, depth {}{rss}",
                    started.elapsed().as_secs_f64(),
                    (generated - last_generated) as f64 / interval,
                    (unique - last_unique) as f64 / interval,
                    c.max_depth()
                );
                (last_generated, last_unique) = (generated, unique);
                last_print = Instant::now();
            }
        }
        for handle in self.0.handles() {
            handle
                .join()
                .expect("checker threads report model panics as discoveries");
        }
        self
    }
}
