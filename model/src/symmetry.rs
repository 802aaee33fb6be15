//! Symmetry reduction as a quotient inside `System` (issue 8 item 4).
//!
//! A configuration declares a set of interchangeable actor ids. With symmetry switched on, every
//! state the model hands the checker (initial states and successors) is replaced by the
//! canonical member of its class under all permutations of that set, so BFS, DFS, simulation
//! and the Explorer all search the quotient — stateright applies its own symmetry only in DFS,
//! with a representative that sorts before renaming and so is not canonical.
//!
//! The canonical member is the minimum over the class (at most 4! = 24 members) by the state's
//! stable 64-bit hash, ties between distinct states broken by their printed form, so any two
//! members of a class map to the very same state.
//!
//! Counterexample paths come back from the checker in canonical ids; [`System::original_path`]
//! replays them on the plain model from the real initial state, undoing the permutation at each
//! step, so reports and `--trace-out` traces are in the configuration's own ids and replay on
//! the model without symmetry.
//!
//! Renaming is only sound if the step relation commutes with every permutation of the set;
//! [`System::check_commutation`] tests that on sampled reachable states, and symmetry is enabled
//! only for configurations whose test passes.

use crate::state::{stable_hash, Slot};
use crate::system::{ActionOf, System, SystemAction, SystemState};
use quorate_impl::symmetry::{Permutation, Rename};
use stateright::actor::Actor;
use stateright::Model;
use std::fmt::Debug;
use std::hash::Hash;

/// The largest symmetric set: its group has 4! members, each tried on every successor.
pub const MAX_SYMMETRIC_IDS: usize = 4;

/// A renaming function of one state type (monomorphised where the `Rename` bounds hold).
type RenameState<A, H> = fn(&SystemState<A, H>, &Permutation) -> SystemState<A, H>;
type RenameAction<A> = fn(&ActionOf<A>, &Permutation) -> ActionOf<A>;
/// A path as the checker returns it: each state with the action taken from it (none at the end).
pub type PathSteps<A, H> = Vec<(SystemState<A, H>, Option<ActionOf<A>>)>;

/// A system's declared symmetry and whether the search uses it.
pub(crate) struct Symmetry<A: Actor, H> {
    pub(crate) ids: Vec<usize>,
    /// Every permutation of `ids`, identity first.
    pub(crate) group: Vec<Permutation>,
    pub(crate) enabled: bool,
    pub(crate) rename_state: RenameState<A, H>,
    pub(crate) rename_action: RenameAction<A>,
}

impl<Msg: Rename, Timer: Rename, Random: Rename> Rename for SystemAction<Msg, Timer, Random> {
    fn rename(&self, perm: &Permutation) -> Self {
        match self {
            SystemAction::Deliver { src, dst, msg } => SystemAction::Deliver {
                src: src.rename(perm),
                dst: dst.rename(perm),
                msg: msg.rename(perm),
            },
            SystemAction::Drop { src, dst, msg } => SystemAction::Drop {
                src: src.rename(perm),
                dst: dst.rename(perm),
                msg: msg.rename(perm),
            },
            SystemAction::Timeout { actor, timer } => SystemAction::Timeout {
                actor: actor.rename(perm),
                timer: timer.rename(perm),
            },
            SystemAction::Crash(id) => SystemAction::Crash(id.rename(perm)),
            SystemAction::Recover(id) => SystemAction::Recover(id.rename(perm)),
            SystemAction::SelectRandom { actor, key, random } => SystemAction::SelectRandom {
                actor: actor.rename(perm),
                key: key.clone(),
                random: random.rename(perm),
            },
        }
    }
}

/// `perm · state`: actor `i`'s slot moves to `perm(i)`, and every id inside every part (actor
/// states, timers, random choices, storage, the network, the history) is renamed.
fn rename_state<A, H>(state: &SystemState<A, H>, perm: &Permutation) -> SystemState<A, H>
where
    A: Actor,
    A::State: Rename,
    A::Msg: Rename + Ord,
    A::Timer: Rename + Ord,
    A::Random: Rename,
    A::Storage: Rename,
    H: Rename + Hash,
{
    let mut slots: Vec<Option<Slot<A>>> = (0..state.slots.len()).map(|_| None).collect();
    for (index, slot) in state.slots.iter().enumerate() {
        let mut renamed = Slot::new((*slot.state).rename(perm));
        renamed.timers = slot.timers.iter().map(|t| t.rename(perm)).collect();
        renamed.timers.sort();
        renamed.timers.dedup();
        renamed.randoms = slot
            .randoms
            .iter()
            .map(|(key, alternatives)| (key.clone(), alternatives.rename(perm)))
            .collect();
        renamed.crashed = slot.crashed;
        if let Some(storage) = slot.storage() {
            renamed.set_storage(storage.rename(perm));
        }
        slots[perm.apply_index(index)] = Some(renamed);
    }
    let slots = slots
        .into_iter()
        .map(|slot| slot.expect("a permutation of the actor indices fills every slot"))
        .collect();
    let mut next = SystemState::new(
        slots,
        state.network.rename(perm),
        state.history().rename(perm),
    );
    // Properties are symmetric (the commutation test checks it), so verdicts carry over.
    next.set_history_verdicts(state.history_verdict_bits());
    next.poisoned = state.poisoned.clone();
    next
}

fn rename_action<A>(action: &ActionOf<A>, perm: &Permutation) -> ActionOf<A>
where
    A: Actor,
    A::Msg: Rename,
    A::Timer: Rename,
    A::Random: Rename,
{
    action.rename(perm)
}

impl<A, H> System<A, H>
where
    A: Actor,
    A::State: Rename,
    A::Msg: Rename + Ord,
    A::Timer: Rename + Ord,
    A::Random: Rename,
    A::Storage: Rename,
    H: Clone + Debug + Hash + PartialEq + Rename,
{
    /// Declares actors `ids` interchangeable: a search with symmetry switched on (`--symmetry`)
    /// explores one state per class of states equal up to renaming them. Declare only sets
    /// whose commutation test ([`System::check_commutation`]) passes.
    pub fn symmetric(mut self, ids: impl IntoIterator<Item = usize>) -> Self {
        let mut ids: Vec<usize> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        assert!(
            ids.len() <= MAX_SYMMETRIC_IDS,
            "symmetric set {ids:?} has more than {MAX_SYMMETRIC_IDS} ids (the canonical form tries every permutation)"
        );
        if let Some(&missing) = ids.iter().find(|&&index| index >= self.actors.len()) {
            panic!("symmetric actor {missing} does not exist");
        }
        let node_ids: Vec<u32> = ids.iter().map(|&index| index as u32).collect();
        self.symmetry = Some(Symmetry {
            group: Permutation::all_of(&node_ids),
            ids,
            enabled: false,
            rename_state: rename_state::<A, H>,
            rename_action: rename_action::<A>,
        });
        self
    }
}

impl<A, H> System<A, H>
where
    A: Actor,
    A::Msg: Ord,
    A::Timer: Ord,
    H: Clone + Debug + Hash + PartialEq,
{
    /// Switches the declared symmetry on or off (off when the system declares none).
    pub fn use_symmetry(mut self, on: bool) -> Self {
        self.set_symmetry(on);
        self
    }

    pub(crate) fn set_symmetry(&mut self, on: bool) {
        if let Some(symmetry) = &mut self.symmetry {
            symmetry.enabled = on;
        }
    }

    /// The interchangeable actors a search uses, if symmetry is declared and switched on.
    pub fn active_symmetry(&self) -> Option<&[usize]> {
        self.symmetry
            .as_ref()
            .filter(|s| s.enabled && s.group.len() > 1)
            .map(|s| s.ids.as_slice())
    }

    /// The interchangeable actors this system declares (empty: none).
    pub fn declared_symmetry(&self) -> &[usize] {
        self.symmetry.as_ref().map_or(&[], |s| s.ids.as_slice())
    }

    /// The canonical member of `state`'s class (the state itself without active symmetry).
    pub(crate) fn canonical(&self, state: SystemState<A, H>) -> SystemState<A, H> {
        let Some(symmetry) = self.symmetry.as_ref().filter(|s| s.enabled) else {
            return state;
        };
        let mut best_key = stable_hash(&state);
        let mut best: Option<SystemState<A, H>> = None;
        for perm in &symmetry.group[1..] {
            let candidate = (symmetry.rename_state)(&state, perm);
            let key = stable_hash(&candidate);
            let current = best.as_ref().unwrap_or(&state);
            let smaller = key < best_key
                || (key == best_key
                    && candidate != *current
                    && format!("{candidate:?}") < format!("{current:?}"));
            if smaller {
                best_key = key;
                best = Some(candidate);
            }
        }
        best.unwrap_or(state)
    }

    /// A permutation `p` of the declared set with `p · from == to`, if there is one.
    fn permutation_between(
        &self,
        from: &SystemState<A, H>,
        to: &SystemState<A, H>,
    ) -> Option<Permutation> {
        let symmetry = self.symmetry.as_ref()?;
        symmetry
            .group
            .iter()
            .find(|perm| (symmetry.rename_state)(from, perm) == *to)
            .cloned()
    }

    /// Rewrites a path of canonical states into the configuration's own ids: replays it on the
    /// plain model from the real initial state, renaming each action back by the permutation
    /// that relates the plain state to the canonical one (the permutations compose along the
    /// path). Without active symmetry the path is returned as is.
    pub fn original_path(&self, steps: PathSteps<A, H>) -> Result<PathSteps<A, H>, String> {
        let Some(symmetry) = self.symmetry.as_ref().filter(|s| s.enabled) else {
            return Ok(steps);
        };
        let Some((first, _)) = steps.first() else {
            return Ok(steps);
        };
        let mut plain = self.plain_init();
        let mut to_canonical = self
            .permutation_between(&plain, first)
            .ok_or("the path does not start at the initial state's class")?;
        let mut original = Vec::with_capacity(steps.len());
        for (index, window) in steps.windows(2).enumerate() {
            let action = window[0].1.as_ref().ok_or("a path step has no action")?;
            let action = (symmetry.rename_action)(action, &to_canonical.inverse());
            let next = self.plain_successor(&plain, &action).ok_or_else(|| {
                format!(
                    "step {} is not enabled in original ids: {action:?}",
                    index + 1
                )
            })?;
            to_canonical = self
                .permutation_between(&next, &window[1].0)
                .ok_or_else(|| {
                    format!(
                        "after step {} the plain state is no renaming of the canonical one",
                        index + 1
                    )
                })?;
            original.push((plain, Some(action)));
            plain = next;
        }
        original.push((plain, None));
        Ok(original)
    }

    /// Tests that the step relation commutes with every permutation of the declared set on
    /// sampled reachable states of the plain model: for each sampled `s` and permutation `p`,
    /// the enabled actions of `p·s` are `p` applied to those of `s`, each successor
    /// `next(p·s, p·a)` equals `p·next(s, a)`, and every property and the boundary give the
    /// same verdict on `s` and `p·s`. Samples are the first `bfs_states` states in BFS order
    /// plus `walks` random walks of up to `walk_depth` steps from seed `seed`. Returns the
    /// number of (state, permutation) pairs checked, or the first failure.
    pub fn check_commutation(
        &self,
        bfs_states: usize,
        walks: usize,
        walk_depth: usize,
        seed: u64,
    ) -> Result<usize, String>
    where
        A::State: PartialEq,
    {
        let symmetry = self
            .symmetry
            .as_ref()
            .ok_or("this system declares no symmetric actors")?;
        let mut samples = Vec::new();
        let mut queue = std::collections::VecDeque::from([self.plain_init()]);
        let mut seen = std::collections::HashSet::new();
        while let Some(state) = queue.pop_front() {
            if samples.len() >= bfs_states {
                break;
            }
            if !seen.insert(stable_hash(&state)) {
                continue;
            }
            if self.within_boundary(&state) {
                queue.extend(self.plain_successors(&state).into_iter().map(|(_, s)| s));
            }
            samples.push(state);
        }
        let mut rng = seed | 1;
        for _ in 0..walks {
            let mut state = self.plain_init();
            for _ in 0..walk_depth {
                if !self.within_boundary(&state) {
                    break;
                }
                let successors = self.plain_successors(&state);
                if successors.is_empty() {
                    break;
                }
                // xorshift64: deterministic sampling without a dependency.
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                state = successors[(rng % successors.len() as u64) as usize]
                    .1
                    .clone();
                samples.push(state.clone());
            }
        }
        let properties = self.properties();
        let mut checked = 0;
        for state in &samples {
            let successors = self.plain_successors(state);
            for perm in &symmetry.group[1..] {
                let renamed = (symmetry.rename_state)(state, perm);
                let expected: Vec<ActionOf<A>> = successors
                    .iter()
                    .map(|(action, _)| (symmetry.rename_action)(action, perm))
                    .collect();
                let actual: Vec<ActionOf<A>> = self
                    .plain_successors(&renamed)
                    .into_iter()
                    .map(|(action, _)| action)
                    .collect();
                let same = expected.len() == actual.len()
                    && expected.iter().all(|action| {
                        actual.iter().filter(|a| *a == action).count()
                            == expected.iter().filter(|a| *a == action).count()
                    });
                if !same {
                    return Err(format!(
                        "under {perm:?} the steps differ: renamed state offers {actual:?}, expected {expected:?}; state {state:?}"
                    ));
                }
                for (action, next) in &successors {
                    let renamed_action = (symmetry.rename_action)(action, perm);
                    let from_renamed = self.plain_successor(&renamed, &renamed_action);
                    let renamed_next = (symmetry.rename_state)(next, perm);
                    if from_renamed.as_ref() != Some(&renamed_next) {
                        return Err(format!(
                            "under {perm:?} step {action:?} does not commute: {}; from state {state:?}",
                            first_difference(
                                &format!("{from_renamed:?}"),
                                &format!("{:?}", Some(&renamed_next))
                            )
                        ));
                    }
                }
                for property in &properties {
                    if (property.condition)(self, state) != (property.condition)(self, &renamed) {
                        return Err(format!(
                            "property {} distinguishes a state from its renaming under {perm:?}: {state:?}",
                            property.name
                        ));
                    }
                }
                if self.within_boundary(state) != self.within_boundary(&renamed) {
                    return Err(format!(
                        "the boundary distinguishes a state from its renaming under {perm:?}: {state:?}"
                    ));
                }
                checked += 1;
            }
        }
        Ok(checked)
    }

    /// Every step of `state` on the plain model, with its action.
    fn plain_successors(&self, state: &SystemState<A, H>) -> Vec<(ActionOf<A>, SystemState<A, H>)> {
        let mut actions = Vec::new();
        self.enabled_actions(state, &mut actions);
        actions
            .into_iter()
            .filter_map(|action| {
                let next = self.plain_successor(state, &action)?;
                Some((action, next))
            })
            .collect()
    }
}

/// Where two printed states first differ, with some context (commutation failures are about
/// one field of a large state).
fn first_difference(actual: &str, expected: &str) -> String {
    let at = actual
        .char_indices()
        .zip(expected.chars())
        .find(|((_, a), b)| a != b)
        .map_or(actual.len().min(expected.len()), |((at, _), _)| at);
    let window = |text: &str| {
        let start = text.floor_char_boundary(at.saturating_sub(300));
        let end = text.ceil_char_boundary((at + 200).min(text.len()));
        text[start..end].to_string()
    };
    format!(
        "stepping the renamed state gives ...{}... where renaming the successor gives ...{}...",
        window(actual),
        window(expected)
    )
}
