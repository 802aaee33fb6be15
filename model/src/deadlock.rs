//! Deadlock detection, on by default (`--no-deadlock` turns it off).
//!
//! A state is deadlocked when some client operation is undecided and no action enabled in it
//! makes progress: every step left is a crash, a recovery, a message loss, or a timeout whose
//! handler only re-sends (a timer the protocol declares as retransmission, or one whose handler
//! leaves its actor's state unchanged). Such a state is a violation of the `always` property
//! `deadlock-free`, reported with its trace like any other.
//!
//! A progress step whose successor lies outside the configuration's bounds does not make the
//! state a deadlock: the bound, not the protocol, stopped it (for Paxos, the campaign that
//! would elect a new leader past the round bound). Such states are counted instead
//! (`stalled_at_bound` in the statistics), so a bound that stalls many runs is visible.

use crate::system::{ActionOf, System, SystemAction, SystemState};
use stateright::actor::Actor;
use stateright::{Model, Property};
use std::fmt::Debug;
use std::hash::Hash;

/// The property's name.
pub const DEADLOCK_FREE: &str = "deadlock-free";

/// True when some client operation of `state` is undecided.
pub type UndecidedFn<A, H> = fn(&System<A, H>, &SystemState<A, H>) -> bool;

/// What a protocol tells the deadlock check.
pub struct DeadlockRules<A: Actor, H: Clone> {
    pub(crate) undecided: Option<UndecidedFn<A, H>>,
    pub(crate) retransmission: fn(&A::Timer) -> bool,
    pub(crate) enabled: bool,
}

impl<A: Actor, H: Clone> Default for DeadlockRules<A, H> {
    fn default() -> Self {
        DeadlockRules {
            undecided: None,
            retransmission: |_| false,
            enabled: true,
        }
    }
}

/// Where a state stands with respect to progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Every client operation is decided (or the state is poisoned by a panic, reported
    /// as `actor-assertion`).
    Decided,
    /// Some action makes progress within the bounds.
    Live,
    /// Progress is possible only by leaving the bounds.
    StalledAtBound,
    /// Nothing but crashes, recoveries, losses and retransmissions is enabled.
    Deadlocked,
}

impl<A, H> System<A, H>
where
    A: Actor,
    A::Msg: Ord,
    A::Timer: Ord,
    H: Clone + Debug + Hash + PartialEq,
{
    /// Says when a client operation is undecided, which enables the `deadlock-free` property.
    pub fn client_operations_undecided(mut self, undecided: UndecidedFn<A, H>) -> Self {
        self.instruments.deadlock.undecided = Some(undecided);
        self
    }

    /// Names the timers whose handlers only retransmit (they make no progress).
    pub fn retransmission_timers(mut self, is_retransmission: fn(&A::Timer) -> bool) -> Self {
        self.instruments.deadlock.retransmission = is_retransmission;
        self
    }

    /// Classifies `state` (see the module documentation).
    pub fn progress(&self, state: &SystemState<A, H>) -> Progress {
        if !self.undecided(state) {
            return Progress::Decided;
        }
        let mut actions = Vec::new();
        self.enabled_actions(state, &mut actions);
        let mut stalled = false;
        for action in &actions {
            if !self.can_progress(action) {
                continue;
            }
            let Some(next) = self.successor(state, action) else {
                continue;
            };
            if self.only_retransmits(state, action, &next) {
                continue;
            }
            if self.within_boundary(&next) {
                return Progress::Live;
            }
            stalled = true;
        }
        progress_of(true, false, stalled)
    }

    /// Whether some client operation of `state` is undecided (false for poisoned states,
    /// which `actor-assertion` reports, and without the protocol's rule).
    fn undecided(&self, state: &SystemState<A, H>) -> bool {
        self.instruments
            .deadlock
            .undecided
            .is_some_and(|undecided| state.poisoned.is_none() && undecided(self, state))
    }

    /// Crashes, recoveries and losses are never progress.
    fn can_progress(&self, action: &ActionOf<A>) -> bool {
        !matches!(
            action,
            SystemAction::Crash(_) | SystemAction::Recover(_) | SystemAction::Drop { .. }
        )
    }

    fn only_retransmits(
        &self,
        prev: &SystemState<A, H>,
        action: &ActionOf<A>,
        next: &SystemState<A, H>,
    ) -> bool {
        let SystemAction::Timeout { actor, timer } = action else {
            return false;
        };
        let index = usize::from(*actor);
        (self.instruments.deadlock.retransmission)(timer)
            || (prev.actor(index) == next.actor(index)
                && prev.storage(index) == next.storage(index))
    }
}

/// The `deadlock-free` property, when detection is on and the model says what an undecided
/// client operation is.
pub(crate) fn property<A, H>(system: &System<A, H>) -> Option<Property<System<A, H>>>
where
    A: Actor,
    A::Msg: Ord,
    A::Timer: Ord,
    H: Clone + Debug + Hash + PartialEq,
{
    let rules = &system.instruments.deadlock;
    (rules.enabled && rules.undecided.is_some())
        .then(|| Property::always(DEADLOCK_FREE, deadlock_free::<A, H>))
}

fn progress_of(undecided: bool, live: bool, stalled: bool) -> Progress {
    match (undecided, live, stalled) {
        (false, _, _) => Progress::Decided,
        (true, true, _) => Progress::Live,
        (true, false, true) => Progress::StalledAtBound,
        (true, false, false) => Progress::Deadlocked,
    }
}

fn deadlock_free<A, H>(system: &System<A, H>, state: &SystemState<A, H>) -> bool
where
    A: Actor,
    A::Msg: Ord,
    A::Timer: Ord,
    H: Clone + Debug + Hash + PartialEq,
{
    holds(system, system.progress(state))
}

/// The property's verdict on a classified state (counting states stalled at the bounds).
fn holds<A, H>(system: &System<A, H>, progress: Progress) -> bool
where
    A: Actor,
    A::Msg: Ord,
    A::Timer: Ord,
    H: Clone + Debug + Hash + PartialEq,
{
    match progress {
        Progress::Deadlocked => false,
        Progress::StalledAtBound => {
            system.instruments.stats.note_stalled_at_bound();
            true
        }
        Progress::Decided | Progress::Live => true,
    }
}

/// Our DFS decides `deadlock-free` from the successors it computes to expand a state, rather
/// than computing them a second time in the property's condition (same verdicts).
impl<A, H> crate::dfs::Expand for System<A, H>
where
    A: Actor,
    A::Msg: Ord,
    A::Timer: Ord,
    H: Clone + Debug + Hash + PartialEq,
{
    fn next_state_ref(
        &self,
        state: &SystemState<A, H>,
        action: &ActionOf<A>,
    ) -> Option<SystemState<A, H>> {
        self.instrumented_successor(state, action)
    }

    fn successor_decided(&self) -> Option<&'static str> {
        property(self).map(|p| p.name)
    }

    fn needs_successors(&self, state: &SystemState<A, H>) -> bool {
        self.undecided(state)
    }

    fn is_progress_step(
        &self,
        state: &SystemState<A, H>,
        action: &ActionOf<A>,
        next: &SystemState<A, H>,
    ) -> bool {
        self.can_progress(action) && !self.only_retransmits(state, action, next)
    }

    fn decide_from_successors(&self, live: bool, stalled: bool) -> bool {
        holds(self, progress_of(true, live, stalled))
    }
}
