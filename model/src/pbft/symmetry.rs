//! Which PBFT replicas are interchangeable, and renaming the model's history (symmetric model
//! checking, issue 8 item 4).
//!
//! PBFT distinguishes replicas only by role: the primary of each view the bounds allow, the
//! faulty replica, and (where a configuration restricts who may start a view change) the
//! suspecters. Correct backups with the same role compare ids only for equality (quorums count
//! distinct signers), so they are interchangeable; `tests/symmetry.rs` checks that the step
//! relation commutes with their permutations on sampled reachable states.

use super::{PbftConfig, PbftHistory};
use quorate_impl::symmetry::{rename_id_keys, Permutation, Rename};
use quorate_spec::NodeId;

/// The correct backups that play the same role in every view within `config`'s bounds (empty
/// when fewer than two do).
pub fn interchangeable(config: &PbftConfig) -> Vec<usize> {
    let primaries: Vec<NodeId> = (0..=config.max_view)
        .map(|view| config.primaries[view as usize % config.primaries.len()])
        .collect();
    let faulty = config.faulty.id();
    let backups: Vec<NodeId> = (0..config.replicas as NodeId)
        .filter(|id| !primaries.contains(id) && faulty != Some(*id))
        .collect();
    // With a suspecter restriction, suspecters and the others are two different roles: keep
    // the larger group.
    let (suspecting, others): (Vec<NodeId>, Vec<NodeId>) = backups
        .iter()
        .partition(|id| config.suspecters.contains(id));
    let group = if config.suspecters.is_empty() || suspecting.len() < others.len() {
        others
    } else {
        suspecting
    };
    if group.len() < 2 {
        return Vec::new();
    }
    group.into_iter().map(|id| id as usize).collect()
}

impl Rename for PbftHistory {
    fn rename(&self, perm: &Permutation) -> Self {
        PbftHistory {
            invoked: rename_id_keys(&self.invoked, perm),
            longest: self.longest.rename(perm),
            results: self.results.rename(perm),
            prepared_in_view0: self.prepared_in_view0.rename(perm),
            view0_prepared_commits_in_view1: self.view0_prepared_commits_in_view1,
            drops: self.drops,
            // Free text naming the first violation: left as written (it only makes two
            // otherwise-equal violating states distinct, which costs reduction, not soundness).
            violation: self.violation.clone(),
            out_of_bounds: self.out_of_bounds,
        }
    }
}
