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
        let Some(undecided) = self.instruments.deadlock.undecided else {
            return Progress::Decided;
        };
        if state.poisoned.is_some() || !undecided(self, state) {
            return Progress::Decided;
        }
        let mut actions = Vec::new();
        self.enabled_actions(state, &mut actions);
        let mut stalled = false;
        for action in &actions {
            if matches!(
                action,
                SystemAction::Crash(_) | SystemAction::Recover(_) | SystemAction::Drop { .. }
            ) {
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
        if stalled {
            Progress::StalledAtBound
        } else {
            Progress::Deadlocked
        }
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

fn deadlock_free<A, H>(system: &System<A, H>, state: &SystemState<A, H>) -> bool
where
    A: Actor,
    A::Msg: Ord,
    A::Timer: Ord,
    H: Clone + Debug + Hash + PartialEq,
{
    match system.progress(state) {
        Progress::Deadlocked => false,
        Progress::StalledAtBound => {
            system.instruments.stats.note_stalled_at_bound();
            true
        }
        Progress::Decided | Progress::Live => true,
    }
}
