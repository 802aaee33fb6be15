//! Checker instrumentation every `System` carries: step statistics (states expanded, maximum
//! out-degree), coverage counters, the deadlock rules, a stop flag that enforces `--timeout`
//! where stateright's single-threaded search does not, and the simulation switch that offers
//! only enabled actions (stateright's simulation mis-records the path when `next_state` returns
//! `None`, and its path reconstruction then panics).

use crate::coverage::{ActionCategory, Coverage, CoverageReport};
use crate::deadlock::DeadlockRules;
use crate::replay::ReplayOutcome;
use crate::system::{ActionOf, System, SystemState};
use serde::de::DeserializeOwned;
use stateright::actor::Actor;
use std::cell::Cell;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Counters shared between a running checker's model and the front end.
#[derive(Debug, Default)]
pub struct StepStats {
    expanded: AtomicUsize,
    max_out_degree: AtomicUsize,
    stalled_at_bound: AtomicUsize,
}

thread_local! {
    /// Successors generated so far for the state this checker thread is expanding. stateright
    /// expands one state at a time per thread, so the next `actions` call closes the count.
    static OUT_DEGREE: Cell<usize> = const { Cell::new(0) };
}

impl StepStats {
    fn on_expand(&self) {
        let degree = OUT_DEGREE.with(|d| d.replace(0));
        self.max_out_degree.fetch_max(degree, Ordering::Relaxed);
        self.expanded.fetch_add(1, Ordering::Relaxed);
    }

    /// States whose successors were computed (the queue holds about `unique - expanded`).
    pub fn expanded(&self) -> usize {
        self.expanded.load(Ordering::Relaxed)
    }

    /// The largest number of successors of one expanded state.
    pub fn max_out_degree(&self) -> usize {
        self.max_out_degree.load(Ordering::Relaxed)
    }

    /// States where a client operation was undecided and the only progress left led out of
    /// the bounds (counted by the deadlock check; not deadlocks of the protocol).
    pub fn stalled_at_bound(&self) -> usize {
        self.stalled_at_bound.load(Ordering::Relaxed)
    }

    pub(crate) fn note_stalled_at_bound(&self) {
        self.stalled_at_bound.fetch_add(1, Ordering::Relaxed);
    }
}

/// What `run_check` switches on in a model before searching it.
#[derive(Clone, Debug, Default)]
pub struct Setup {
    /// Shared statistics.
    pub stats: Arc<StepStats>,
    /// Set to make every state a leaf: the search drains its queue and ends.
    pub stop: Arc<AtomicBool>,
    /// Offer only actions that are steps (for simulation).
    pub enabled_only: bool,
    /// Count action kinds.
    pub coverage: bool,
    /// Check the `deadlock-free` property (where the model says what an undecided client
    /// operation is).
    pub deadlock: bool,
    /// Search the quotient by the declared interchangeable actors.
    pub symmetry: bool,
}

/// The instrumentation state of one `System`.
pub struct Instruments<A: Actor, H: Clone> {
    pub(crate) stats: Arc<StepStats>,
    stop: Arc<AtomicBool>,
    enabled_only: bool,
    pub(crate) coverage: Option<Coverage>,
    /// Message and timer kind names the protocol declares, for "never fired" warnings.
    pub(crate) declared_messages: &'static [&'static str],
    pub(crate) declared_timers: &'static [&'static str],
    pub(crate) deadlock: DeadlockRules<A, H>,
}

impl<A: Actor, H: Clone> Default for Instruments<A, H> {
    fn default() -> Self {
        Instruments {
            stats: Arc::default(),
            stop: Arc::default(),
            enabled_only: false,
            coverage: None,
            declared_messages: &[],
            declared_timers: &[],
            deadlock: DeadlockRules::default(),
        }
    }
}

impl<A: Actor, H: Clone> Instruments<A, H> {
    /// Called before a state is expanded; false once the search has been told to stop.
    pub(crate) fn before_expand(&self) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return false;
        }
        self.stats.on_expand();
        true
    }

    /// Called after each `next_state`.
    pub(crate) fn after_step(&self, action: &ActionOf<A>, fired: bool) {
        if fired {
            OUT_DEGREE.with(|d| d.set(d.get() + 1));
            if let Some(coverage) = &self.coverage {
                coverage.fired(action);
            }
        }
    }
}

impl<A, H> Instruments<A, H>
where
    A: Actor,
    A::Msg: Ord,
    A::Timer: Ord,
    H: Clone + Debug + Hash + PartialEq,
{
    /// Called after the actions of `state` were listed.
    pub(crate) fn after_expand(
        &self,
        system: &System<A, H>,
        state: &SystemState<A, H>,
        actions: &mut Vec<ActionOf<A>>,
    ) {
        if self.enabled_only {
            actions.retain(|action| system.successor(state, action).is_some());
        }
        if let Some(coverage) = &self.coverage {
            coverage.enabled(actions);
        }
    }
}

impl<A, H> System<A, H>
where
    A: Actor,
    A::Msg: Ord,
    A::Timer: Ord,
    H: Clone + Debug + Hash + PartialEq,
{
    /// Names every message kind and timer kind of the protocol (as coverage prints them: the
    /// enum variant path, e.g. `Core::Prepare`), so coverage can warn about kinds that never
    /// occurred at all, not only about those offered but never taking effect.
    pub fn declare_action_kinds(
        mut self,
        messages: &'static [&'static str],
        timers: &'static [&'static str],
    ) -> Self {
        self.instruments.declared_messages = messages;
        self.instruments.declared_timers = timers;
        self
    }

    fn declared_kinds(&self) -> Vec<(ActionCategory, String)> {
        let mut kinds = Vec::new();
        for message in self.instruments.declared_messages {
            kinds.push((ActionCategory::Deliver, message.to_string()));
            if self.is_lossy() {
                kinds.push((ActionCategory::Drop, message.to_string()));
            }
        }
        for timer in self.instruments.declared_timers {
            kinds.push((ActionCategory::Timeout, timer.to_string()));
        }
        let can_crash =
            self.max_crashes() > 0 && (0..self.actors.len()).any(|i| self.is_crashable(i));
        if can_crash {
            kinds.push((ActionCategory::Crash, String::new()));
            kinds.push((ActionCategory::Recover, String::new()));
        }
        kinds
    }
}

/// A model the check front end can instrument, replay and ask for coverage (and search with
/// our own DFS).
pub trait Instrument: crate::dfs::Expand {
    /// Switches instrumentation on before a search.
    fn instrument(&mut self, setup: &Setup);
    /// The coverage counts, if coverage was switched on.
    fn coverage_report(&self) -> Option<CoverageReport>;
    /// Replays serialised actions from the initial state.
    fn replay(&self, steps: &[serde_json::Value]) -> ReplayOutcome;
    /// The interchangeable actors the search uses (empty: no symmetry).
    fn symmetry_ids(&self) -> Vec<usize>;
    /// Switches the declared symmetry on or off without touching other instrumentation
    /// (the Explorer's `--symmetry`).
    fn set_search_symmetry(&mut self, on: bool);
}

impl<A, H> Instrument for System<A, H>
where
    A: Actor,
    A::Msg: Ord + DeserializeOwned,
    A::Timer: Ord + DeserializeOwned,
    A::Random: DeserializeOwned,
    H: Clone + Debug + Hash + PartialEq,
{
    fn instrument(&mut self, setup: &Setup) {
        let declared = self.declared_kinds();
        let instruments = &mut self.instruments;
        instruments.stats = setup.stats.clone();
        instruments.stop = setup.stop.clone();
        instruments.enabled_only = setup.enabled_only;
        instruments.coverage = setup.coverage.then(|| Coverage::new(declared));
        instruments.deadlock.enabled = setup.deadlock;
        self.set_symmetry(setup.symmetry);
    }

    fn set_search_symmetry(&mut self, on: bool) {
        self.set_symmetry(on);
    }

    fn symmetry_ids(&self) -> Vec<usize> {
        self.active_symmetry()
            .map(<[usize]>::to_vec)
            .unwrap_or_default()
    }

    fn coverage_report(&self) -> Option<CoverageReport> {
        self.instruments.coverage.as_ref().map(Coverage::report)
    }

    fn replay(&self, steps: &[serde_json::Value]) -> ReplayOutcome {
        crate::replay::replay(self, steps)
    }
}
