//! Every protocol's suite of named configurations, its mutants and its check entry point: what
//! `quorate check <protocol>` and `quorate check all` iterate over.

use crate::check::{run_check, CheckOptions, Describe, Report};
use crate::instrument::Instrument;
use serde::Serialize;
use std::fmt::{self, Debug};
use std::hash::Hash;
use std::net::SocketAddr;

/// A named configuration of a protocol's suite.
#[derive(Clone, Debug)]
pub struct ConfigInfo {
    /// Name used with `--config`.
    pub name: &'static str,
    /// One line: actors, network, faults, bounds.
    pub summary: &'static str,
    /// Budget: unique states the entry may reach.
    pub budget_states: usize,
    /// Budget: seconds on 2 cores.
    pub budget_seconds: u64,
    /// Pinned unique-state count of a complete BFS (checked by tests).
    pub expected_unique: Option<usize>,
    /// Too large to exhaust within the suite's budget: run only when named (`--config`) or
    /// as a mutant's configuration, where the first counterexample ends the search.
    pub soak: bool,
}

/// A mutant or seed-literal variant.
#[derive(Clone, Debug)]
pub struct MutantInfo {
    /// Name used with `--mutant`.
    pub name: &'static str,
    /// What it breaks.
    pub summary: &'static str,
    /// The property the checker must find violated.
    pub breaks: &'static str,
    /// The configuration on which the counterexample is found.
    pub config: &'static str,
    /// Other properties a complete search of `config` finds it violating (checked by
    /// `model/tests/claims.rs`): the claims matrix counts them as shown able to fail too.
    pub also_breaks: &'static [&'static str],
}

/// Why a check could not start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// One protocol's entry.
#[derive(Clone)]
pub struct ProtocolInfo {
    /// Name used on the command line.
    pub name: &'static str,
    /// One line.
    pub summary: &'static str,
    /// The suite, default configuration first.
    pub configs: Vec<ConfigInfo>,
    /// Mutants and seed-literal variants.
    pub mutants: Vec<MutantInfo>,
    /// `always` / `sometimes` property names with a one-line meaning each.
    pub properties: Vec<(&'static str, &'static str)>,
    /// Runs one configuration, with an optional mutant.
    pub check: fn(
        config: &str,
        mutant: Option<&str>,
        options: &CheckOptions,
    ) -> Result<Report, ConfigError>,
    /// Serves stateright's Explorer on one configuration (blocks while serving).
    pub explore:
        fn(config: &str, mutant: Option<&str>, options: ExploreOptions) -> Result<(), ConfigError>,
    /// The properties (expectation, name) the honest model of a configuration declares, for the
    /// claims matrix.
    pub declared:
        fn(config: &str) -> Result<Vec<(stateright::Expectation, &'static str)>, ConfigError>,
}

/// A model every front end can run: the checker, the Explorer, and reports need these bounds.
pub trait Checkable:
    Instrument
    + Describe<
        State: Hash + Send + Sync + Clone + PartialEq + Debug + 'static,
        Action: Clone + PartialEq + Debug + Serialize + Send + Sync + 'static,
    > + Send
    + Sync
    + 'static
{
}

impl<M> Checkable for M where
    M: Instrument
        + Describe<
            State: Hash + Send + Sync + Clone + PartialEq + Debug + 'static,
            Action: Clone + PartialEq + Debug + Serialize + Send + Sync + 'static,
        > + Send
        + Sync
        + 'static
{
}

/// The names a model was built from, for reports.
#[derive(Clone, Copy, Debug)]
pub struct ModelNames<'a> {
    /// Protocol.
    pub protocol: &'a str,
    /// Configuration.
    pub config: &'a str,
    /// Mutant, if the rules are not honest.
    pub mutant: Option<&'a str>,
}

/// Something to do with one built model. Protocols choose the concrete model type (its rules type
/// parameter differs per mutant), so each front end is a task handed to the protocol's
/// [`Dispatch`] rather than a match over mutants written once per front end.
pub trait ModelTask {
    /// What the task yields.
    type Output;
    /// Runs the task on `model`.
    fn run<M: Checkable>(self, names: ModelNames<'_>, model: M) -> Self::Output;
}

/// A protocol's one place that maps (configuration, mutant) to a built model.
pub trait Dispatch {
    /// Builds the model for `config` with `mutant`'s rules (honest if `None`) and runs `task`.
    fn with_model<T: ModelTask>(
        config: &str,
        mutant: Option<&str>,
        task: T,
    ) -> Result<T::Output, ConfigError>;
}

struct CheckTask<'a>(&'a CheckOptions);

impl ModelTask for CheckTask<'_> {
    type Output = Report;
    fn run<M: Checkable>(self, names: ModelNames<'_>, model: M) -> Report {
        run_check(names.protocol, names.config, names.mutant, model, self.0)
    }
}

/// Where the Explorer listens and whether it browses the symmetry quotient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExploreOptions {
    /// The web UI's address.
    pub addr: SocketAddr,
    /// Browse one canonical state per class of the declared interchangeable actors (states
    /// shown in canonical ids).
    pub symmetry: bool,
}

struct ExploreTask(ExploreOptions);

impl ModelTask for ExploreTask {
    type Output = ();
    fn run<M: Checkable>(self, _names: ModelNames<'_>, mut model: M) {
        model.set_search_symmetry(self.0.symmetry);
        // `serve` blocks for as long as the Explorer runs.
        model.checker().serve(self.0.addr);
    }
}

/// The entry `name` of a protocol's suite of (info, configuration) pairs.
pub fn suite_entry<C>(
    protocol: &str,
    suite: Vec<(ConfigInfo, C)>,
    name: &str,
) -> Result<(ConfigInfo, C), ConfigError> {
    suite
        .into_iter()
        .find(|(info, _)| info.name == name)
        .ok_or_else(|| ConfigError(format!("unknown {protocol} configuration {name:?}")))
}

/// `ProtocolInfo::check` for a protocol's [`Dispatch`].
pub fn check_via<D: Dispatch>(
    config: &str,
    mutant: Option<&str>,
    options: &CheckOptions,
) -> Result<Report, ConfigError> {
    D::with_model(config, mutant, CheckTask(options))
}

/// `ProtocolInfo::explore` for a protocol's [`Dispatch`].
pub fn explore_via<D: Dispatch>(
    config: &str,
    mutant: Option<&str>,
    options: ExploreOptions,
) -> Result<(), ConfigError> {
    D::with_model(config, mutant, ExploreTask(options))
}

impl ProtocolInfo {
    /// The configuration named `name`.
    pub fn config(&self, name: &str) -> Result<&ConfigInfo, ConfigError> {
        self.configs.iter().find(|c| c.name == name).ok_or_else(|| {
            let known: Vec<&str> = self.configs.iter().map(|c| c.name).collect();
            ConfigError(format!(
                "unknown configuration {name:?} for {}; known: {}",
                self.name,
                known.join(", ")
            ))
        })
    }

    /// The mutant named `name`.
    pub fn mutant(&self, name: &str) -> Result<&MutantInfo, ConfigError> {
        self.mutants.iter().find(|m| m.name == name).ok_or_else(|| {
            let known: Vec<&str> = self.mutants.iter().map(|m| m.name).collect();
            ConfigError(format!(
                "unknown mutant {name:?} for {}; known: {}",
                self.name,
                known.join(", ")
            ))
        })
    }
}

/// Every protocol, in the order `check all` runs them.
pub fn protocols() -> Vec<ProtocolInfo> {
    vec![
        crate::calibration::protocol(),
        crate::paxos::protocol(),
        crate::pbft::protocol(),
        crate::xov::protocol(),
        crate::oxii::protocol(),
    ]
}

/// The protocol named `name`.
pub fn protocol(name: &str) -> Result<ProtocolInfo, ConfigError> {
    protocols()
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| {
            let known: Vec<&str> = protocols().iter().map(|p| p.name).collect();
            ConfigError(format!(
                "unknown protocol {name:?}; known: {}, all",
                known.join(", ")
            ))
        })
}
