//! Exactness of a PBFT state-space reduction, checked by enumeration: both graphs are walked
//! completely and the states are compared through a projection the reduction must preserve.

use quorate_impl::pbft::Honest;
use quorate_model::pbft::{configs, PbftConfig, PbftSystem};
use stateright::Model;
use std::collections::{BTreeSet, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};

pub type HonestState = <PbftSystem<Honest> as Model>::State;

fn fingerprint(value: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// The registered PBFT configuration `name`.
pub fn pbft_config(name: &str) -> PbftConfig {
    configs()
        .into_iter()
        .find(|(info, _)| info.name == name)
        .unwrap_or_else(|| panic!("no pbft configuration {name:?}"))
        .1
}

/// Every state of `config`'s honest model within its bounds, by breadth-first search: how many
/// there are, and the fingerprints of their projections.
pub fn reachable_projections<P: Hash>(
    config: &PbftConfig,
    project: impl Fn(&HonestState) -> P,
) -> (usize, BTreeSet<u64>) {
    let model = config.system::<Honest>();
    let mut seen = BTreeSet::new();
    let mut projections = BTreeSet::new();
    let mut queue: VecDeque<_> = model.init_states().into();
    let mut actions = Vec::new();
    while let Some(state) = queue.pop_front() {
        if !model.within_boundary(&state) || !seen.insert(fingerprint(&state)) {
            continue;
        }
        projections.insert(fingerprint(&project(&state)));
        actions.clear();
        model.actions(&state, &mut actions);
        for action in actions.drain(..) {
            if let Some(next) = model.next_state(&state, action) {
                queue.push_back(next);
            }
        }
    }
    (seen.len(), projections)
}
