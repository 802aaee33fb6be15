//! Our own single-threaded depth-first search, used by `run_check` for `--dfs` with one thread.
//!
//! It visits states in exactly stateright 0.31's DFS order (so counts, depths and the reported
//! paths are the same; `tests/dfs.rs` compares them), but drops the costs a profile of the
//! calibration run showed in stateright's loop (issue 8 item 8; `proofs-notes/checker-speed.md`):
//! - the visited set is a plain hash set of 64-bit fingerprints, not a sharded concurrent map
//!   (12% of the run went to `DashMap` inserts);
//! - a job does not carry its own copy of the action-index path (an O(depth) allocation per
//!   successor): the stack is a stack of frames, one per depth, and the path of the state being
//!   expanded is the chosen index of every frame below it;
//! - discovered properties are a bit set, not a map keyed by name that is hashed with SipHash
//!   for every property of every state (4%).
//!
//! Semantics kept from stateright: all successors of a state are generated (and fingerprinted)
//! before any of them is expanded, the last one first; properties are evaluated when a state is
//! taken off the stack, a discovery is replaced by later ones, `eventually` properties are
//! tracked per path and reported at terminal states; the stop conditions (`finish_when`, a
//! target state count) are checked every [`BLOCK`] states, as stateright checks them between
//! its blocks of work.

use crate::state::stable_hash;
use stateright::{Checker, Expectation, HasDiscoveries, Model, Path};
use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// States taken off the stack between two checks of the stop conditions (stateright's block).
const BLOCK: usize = 1500;

/// The visited set: 64-bit fingerprints in one flat open-addressing table (linear probing,
/// at most 3/4 full), so an insert touches one cache line where a general hash set touches its
/// control bytes and its buckets (the insert is the one random memory access of each step).
/// Fingerprints are already well-mixed hashes, so their low bits pick the bucket; 0 marks an
/// empty bucket, and the fingerprint 0 itself is kept in a flag.
struct FingerprintSet {
    table: Vec<u64>,
    len: usize,
    has_zero: bool,
}

impl FingerprintSet {
    fn new() -> Self {
        FingerprintSet {
            table: vec![0; 1 << 12],
            len: 0,
            has_zero: false,
        }
    }

    /// Adds `fingerprint`; true if it was not there yet.
    fn insert(&mut self, fingerprint: u64) -> bool {
        if fingerprint == 0 {
            let added = !self.has_zero;
            self.has_zero = true;
            self.len += usize::from(added);
            return added;
        }
        if 4 * (self.len + 1) > 3 * self.table.len() {
            self.grow();
        }
        let added = Self::place(&mut self.table, fingerprint);
        self.len += usize::from(added);
        added
    }

    fn place(table: &mut [u64], fingerprint: u64) -> bool {
        let mask = table.len() - 1;
        let mut at = fingerprint as usize & mask;
        loop {
            match table[at] {
                0 => {
                    table[at] = fingerprint;
                    return true;
                }
                present if present == fingerprint => return false,
                _ => at = (at + 1) & mask,
            }
        }
    }

    fn grow(&mut self) {
        let mut table = vec![0; 2 * self.table.len()];
        for &fingerprint in self.table.iter().filter(|&&f| f != 0) {
            Self::place(&mut table, fingerprint);
        }
        self.table = table;
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// What the search asks of a model beyond stateright's `Model`.
pub trait Expand: Model {
    /// The successor of `state` under `action` (None: not a step), without giving up the
    /// action (the search still needs it).
    fn next_state_ref(&self, state: &Self::State, action: &Self::Action) -> Option<Self::State>;

    /// The name of an `always` property the search decides from the successors it computes
    /// anyway, instead of calling its condition (which would compute them a second time).
    fn successor_decided(&self) -> Option<&'static str> {
        None
    }

    /// Whether that property needs `state`'s successors (false: it holds without them).
    fn needs_successors(&self, _state: &Self::State) -> bool {
        false
    }

    /// Whether the step `state --action--> next` counts for that property.
    fn is_progress_step(
        &self,
        _state: &Self::State,
        _action: &Self::Action,
        _next: &Self::State,
    ) -> bool {
        false
    }

    /// Its verdict: `live` if a counted step stays within the bounds, `stalled` if counted
    /// steps exist but all leave them.
    fn decide_from_successors(&self, _live: bool, _stalled: bool) -> bool {
        true
    }
}

/// When the search stops before exhausting the state space.
#[derive(Clone, Debug)]
pub struct DfsOptions {
    /// Stop once these discoveries are made (checked every [`BLOCK`] states).
    pub finish_when: HasDiscoveries,
    /// Stop once about this many states were generated.
    pub target_state_count: Option<usize>,
}

/// Counters the running search publishes for progress lines.
#[derive(Default)]
struct Shared {
    generated: AtomicUsize,
    unique: AtomicUsize,
    max_depth: AtomicUsize,
    done: AtomicBool,
    /// Property name -> action indices from an initial state (the first index picks it).
    discoveries: Mutex<HashMap<&'static str, Vec<usize>>>,
}

/// A depth-first search running in its own thread; a [`Checker`] like stateright's.
pub struct DfsChecker<M: Model> {
    model: Arc<M>,
    shared: Arc<Shared>,
    handle: Option<JoinHandle<()>>,
}

impl<M> DfsChecker<M>
where
    M: Expand + Send + Sync + 'static,
    M::State: Hash + Send + 'static,
{
    /// Starts searching `model`.
    pub fn spawn(model: M, options: DfsOptions) -> Self {
        let model = Arc::new(model);
        let shared = Arc::new(Shared::default());
        let handle = {
            let model = Arc::clone(&model);
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("checker-dfs".into())
                .spawn(move || {
                    search(model.as_ref(), &options, &shared);
                    shared.done.store(true, Ordering::Release);
                })
                .expect("the checker thread starts")
        };
        DfsChecker {
            model,
            shared,
            handle: Some(handle),
        }
    }
}

/// One depth of the stack: the successors of a state still to be expanded (the last first),
/// each with its action index and the `eventually` bits of its path.
struct Frame<S> {
    pending: Vec<(S, usize)>,
    eventually: u64,
}

fn search<M: Expand>(model: &M, options: &DfsOptions, shared: &Shared)
where
    M::State: Hash,
{
    let properties = model.properties();
    let successor_decided = model
        .successor_decided()
        .and_then(|name| properties.iter().position(|p| p.name == name));
    assert!(
        properties.len() <= 64,
        "at most 64 properties per model (one bit each)"
    );
    let all_eventually = properties
        .iter()
        .enumerate()
        .filter(|(_, p)| p.expectation == Expectation::Eventually)
        .fold(0u64, |bits, (i, _)| bits | 1 << i);
    let init: Vec<(M::State, usize)> = model
        .init_states()
        .into_iter()
        .filter(|s| model.within_boundary(s))
        .enumerate()
        .map(|(i, s)| (s, i))
        .collect();
    let mut visited = FingerprintSet::new();
    for (state, _) in &init {
        visited.insert(stable_hash(state));
    }
    let mut generated = init.len();
    let mut max_depth = 0;
    let mut discovered = 0u64;
    let mut discoveries: Vec<Option<Vec<usize>>> = vec![None; properties.len()];
    let mut stack = vec![Frame {
        pending: init,
        eventually: all_eventually,
    }];
    // The action index chosen at each depth; `path[..depth]` leads to the state in hand.
    let mut path: Vec<usize> = Vec::new();
    let mut actions = Vec::new();
    let mut spare: Vec<Vec<(M::State, usize)>> = Vec::new();
    let mut budget = BLOCK;
    let publish = |generated: usize, unique: usize, max_depth: usize| {
        shared.generated.store(generated, Ordering::Relaxed);
        shared.unique.store(unique, Ordering::Relaxed);
        shared.max_depth.store(max_depth, Ordering::Relaxed);
    };
    let finished = |discovered: u64| {
        let names: BTreeSet<&'static str> = properties
            .iter()
            .enumerate()
            .filter(|(i, _)| discovered & 1 << i != 0)
            .map(|(_, p)| p.name)
            .collect();
        options.finish_when.matches(&names, &properties)
    };
    loop {
        if budget == 0 {
            publish(generated, visited.len(), max_depth);
            if finished(discovered)
                || options
                    .target_state_count
                    .is_some_and(|target| target <= generated)
            {
                break;
            }
            budget = BLOCK;
        }
        budget -= 1;
        let Some(frame) = stack.last_mut() else { break };
        let Some((state, index)) = frame.pending.pop() else {
            if let Some(done) = stack.pop() {
                spare.push(done.pending);
            }
            budget += 1;
            continue;
        };
        let mut eventually = frame.eventually;
        let depth = stack.len();
        path.truncate(depth - 1);
        path.push(index);
        max_depth = max_depth.max(depth);

        let mut awaiting = false;
        // The property decided from this state's successors, when it needs them.
        let mut from_successors = None;
        for (i, property) in properties.iter().enumerate() {
            let bit = 1u64 << i;
            if discovered & bit != 0
                && property.expectation == Expectation::Eventually
                && eventually & bit == 0
            {
                continue;
            }
            if Some(i) == successor_decided && model.needs_successors(&state) {
                from_successors = Some(i);
                continue;
            }
            let holds = (property.condition)(model, &state);
            match property.expectation {
                Expectation::Always if !holds => {
                    record(&mut discoveries[i], &path);
                    discovered |= bit;
                }
                Expectation::Sometimes if holds => {
                    record(&mut discoveries[i], &path);
                    discovered |= bit;
                }
                Expectation::Eventually => {
                    awaiting = true;
                    if holds {
                        eventually &= !bit;
                    }
                }
                _ => awaiting = true,
            }
        }
        if let Some(i) = from_successors.filter(|_| !awaiting) {
            // Its verdict alone decides whether the state is expanded: take it from the
            // property's own condition, as stateright would.
            from_successors = None;
            if (properties[i].condition)(model, &state) {
                awaiting = true;
            } else {
                record(&mut discoveries[i], &path);
                discovered |= 1 << i;
            }
        }
        if !awaiting {
            // Every property has its discovery: stateright ends its block here.
            budget = 0;
            continue;
        }

        let mut terminal = true;
        let (mut live, mut stalled) = (false, false);
        // Emptied frames' vectors are reused: one allocation per depth, not per state.
        let mut children = spare.pop().unwrap_or_default();
        model.actions(&state, &mut actions);
        for (action_index, action) in actions.iter().enumerate() {
            let Some(next) = model.next_state_ref(&state, action) else {
                continue;
            };
            let within = model.within_boundary(&next);
            if from_successors.is_some() && !live && model.is_progress_step(&state, action, &next) {
                live = within;
                stalled |= !within;
            }
            if !within {
                continue;
            }
            generated += 1;
            terminal = false;
            if visited.insert(stable_hash(&next)) {
                children.push((next, action_index));
            }
        }
        actions.clear();
        if let Some(i) = from_successors {
            if !model.decide_from_successors(live, stalled) {
                record(&mut discoveries[i], &path);
                discovered |= 1 << i;
            }
        }
        if terminal {
            for (i, slot) in discoveries.iter_mut().enumerate() {
                if eventually & 1 << i != 0 {
                    record(slot, &path);
                    discovered |= 1 << i;
                }
            }
        }
        if children.is_empty() {
            spare.push(children);
        } else {
            stack.push(Frame {
                pending: children,
                eventually,
            });
        }
    }
    publish(generated, visited.len(), max_depth);
    let mut found = shared.discoveries.lock().expect("no panics while locked");
    for (property, indices) in properties.iter().zip(discoveries) {
        if let Some(indices) = indices {
            found.insert(property.name, indices);
        }
    }
}

/// Replaces a discovery's path (as stateright's map insert does), reusing its allocation.
fn record(slot: &mut Option<Vec<usize>>, path: &[usize]) {
    let indices = slot.get_or_insert_with(Vec::new);
    indices.clear();
    indices.extend_from_slice(path);
}

/// The path an index sequence names: the first index picks an initial state, each next one an
/// action among those the model lists.
fn path_of<M: Model>(model: &M, indices: &[usize]) -> Path<M::State, M::Action>
where
    M::State: Clone + PartialEq,
    M::Action: Clone + PartialEq,
{
    let (first, rest) = indices.split_first().expect("a path starts somewhere");
    let init = model
        .init_states()
        .into_iter()
        .filter(|s| model.within_boundary(s))
        .nth(*first)
        .expect("the path's initial state exists");
    let mut state = init.clone();
    let mut taken = Vec::with_capacity(rest.len());
    let mut actions = Vec::new();
    for &index in rest {
        model.actions(&state, &mut actions);
        let action = actions.swap_remove(index);
        actions.clear();
        state = model
            .next_state(&state, action.clone())
            .expect("a recorded step is enabled");
        taken.push(action);
    }
    Path::from_actions(model, init, &taken).expect("a recorded path replays")
}

impl<M> Checker<M> for DfsChecker<M>
where
    M: Model,
    M::State: Hash,
{
    fn model(&self) -> &M {
        &self.model
    }

    fn state_count(&self) -> usize {
        self.shared.generated.load(Ordering::Relaxed)
    }

    fn unique_state_count(&self) -> usize {
        self.shared.unique.load(Ordering::Relaxed)
    }

    fn max_depth(&self) -> usize {
        self.shared.max_depth.load(Ordering::Relaxed)
    }

    fn discoveries(&self) -> std::collections::HashMap<&'static str, Path<M::State, M::Action>>
    where
        M::State: Clone + PartialEq,
        M::Action: Clone + PartialEq,
    {
        let found = self
            .shared
            .discoveries
            .lock()
            .expect("no panics while locked");
        found
            .iter()
            .map(|(name, indices)| (*name, path_of(self.model.as_ref(), indices)))
            .collect()
    }

    fn handles(&mut self) -> Vec<JoinHandle<()>> {
        self.handle.take().into_iter().collect()
    }

    fn is_done(&self) -> bool {
        self.shared.done.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::FingerprintSet;

    #[test]
    fn fingerprint_set_counts_each_fingerprint_once_across_growth() {
        let mut set = FingerprintSet::new();
        // Zero (kept apart), values colliding in the low bits, and enough to grow many times.
        let values: Vec<u64> = (0..20_000u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) << (i % 3 * 12))
            .chain([0, 1 << 40, 2 << 40, 3 << 40])
            .collect();
        for &value in &values {
            set.insert(value);
        }
        let distinct: std::collections::BTreeSet<u64> = values.iter().copied().collect();
        assert_eq!(set.len(), distinct.len());
        for &value in &values {
            assert!(!set.insert(value), "{value} was inserted before");
        }
        assert!(set.insert(5 << 40));
        assert_eq!(set.len(), distinct.len() + 1);
        assert!(set.table.len().is_power_of_two() && 4 * set.len() <= 3 * set.table.len());
    }
}
