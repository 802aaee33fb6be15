//! Renaming actor ids, for symmetry reduction in the model host (issue 8 item 4).
//!
//! A [`Permutation`] maps node ids to node ids; [`Rename`] applies one to a value, renaming every
//! id it holds and nothing else. Node ids are plain `u32`s like views and counters, so `u32` has
//! no `Rename` impl: a type that holds ids renames those fields itself (with
//! [`Permutation::apply`], [`rename_id_set`] or [`rename_id_keys`]), and a forgotten field is a
//! compile error rather than a silently renamed view number.
//!
//! Renaming is sound only for roles that compare ids for equality alone; the model enables a
//! symmetry only where a commutation test over sampled reachable states passes.

use crate::crypto::NodeId;
use quorate_spec::{AppId, Key, KvOp, KvResult, Ledger, Transaction, TxId};
use stateright::actor::Id;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

/// A bijection on node ids that moves only finitely many of them (the rest map to themselves).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Permutation {
    /// `images[i]` is the image of id `i`; ids from `images.len()` on are fixed.
    images: Vec<NodeId>,
}

impl fmt::Debug for Permutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let moved: Vec<String> = self
            .images
            .iter()
            .enumerate()
            .filter(|(from, to)| *from as NodeId != **to)
            .map(|(from, to)| format!("{from}->{to}"))
            .collect();
        if moved.is_empty() {
            f.write_str("identity")
        } else {
            write!(f, "{{{}}}", moved.join(", "))
        }
    }
}

impl Permutation {
    /// The permutation that moves nothing.
    pub fn identity() -> Self {
        Permutation { images: Vec::new() }
    }

    /// The permutation sending id `i` to `images[i]`; an error names the first id hit twice.
    pub fn from_images(images: Vec<NodeId>) -> Result<Self, String> {
        let mut seen = vec![false; images.len()];
        for (from, &to) in images.iter().enumerate() {
            match seen.get_mut(to as usize) {
                Some(hit) if !*hit => *hit = true,
                _ => {
                    return Err(format!(
                        "not a permutation of 0..{}: id {from} maps to {to}, which is out of range or already taken",
                        images.len()
                    ))
                }
            }
        }
        Ok(Permutation { images })
    }

    /// Every permutation of `ids` among themselves (the others fixed), identity first.
    /// `ids` must be distinct; the group has `ids.len()!` members.
    pub fn all_of(ids: &[NodeId]) -> Vec<Permutation> {
        let len = ids.iter().map(|&id| id as usize + 1).max().unwrap_or(0);
        let mut arrangements = vec![ids.to_vec()];
        // Heap-free and simple: extend arrangements one position at a time.
        for position in 0..ids.len() {
            let mut next = Vec::new();
            for arrangement in &arrangements {
                for swap in position..ids.len() {
                    let mut candidate = arrangement.clone();
                    candidate.swap(position, swap);
                    next.push(candidate);
                }
            }
            arrangements = next;
        }
        arrangements
            .into_iter()
            .map(|targets| {
                let mut images: Vec<NodeId> = (0..len as NodeId).collect();
                for (&from, &to) in ids.iter().zip(&targets) {
                    images[from as usize] = to;
                }
                Permutation { images }
            })
            .collect()
    }

    /// The image of `id`.
    pub fn apply(&self, id: NodeId) -> NodeId {
        self.images.get(id as usize).copied().unwrap_or(id)
    }

    /// The image of an actor index.
    pub fn apply_index(&self, index: usize) -> usize {
        self.apply(index as NodeId) as usize
    }

    /// Whether this moves nothing.
    pub fn is_identity(&self) -> bool {
        self.images
            .iter()
            .enumerate()
            .all(|(from, &to)| from as NodeId == to)
    }

    /// The permutation undoing this one.
    pub fn inverse(&self) -> Self {
        let mut images = vec![0; self.images.len()];
        for (from, &to) in self.images.iter().enumerate() {
            images[to as usize] = from as NodeId;
        }
        Permutation { images }
    }

    /// `self` after `first`: `id -> self(first(id))`.
    pub fn after(&self, first: &Permutation) -> Self {
        let len = self.images.len().max(first.images.len());
        Permutation {
            images: (0..len as NodeId)
                .map(|id| self.apply(first.apply(id)))
                .collect(),
        }
    }
}

/// A value whose actor ids can be renamed consistently.
pub trait Rename: Sized {
    /// This value with every actor id `i` replaced by `perm.apply(i)`.
    fn rename(&self, perm: &Permutation) -> Self;
}

/// Renames a set of node ids (re-sorting it).
pub fn rename_id_set(ids: &BTreeSet<NodeId>, perm: &Permutation) -> BTreeSet<NodeId> {
    ids.iter().map(|&id| perm.apply(id)).collect()
}

/// Renames a list of node ids, keeping its order.
pub fn rename_id_list(ids: &[NodeId], perm: &Permutation) -> Vec<NodeId> {
    ids.iter().map(|&id| perm.apply(id)).collect()
}

/// Renames the keys (node ids) and values of a map.
pub fn rename_id_keys<V: Rename>(
    map: &BTreeMap<NodeId, V>,
    perm: &Permutation,
) -> BTreeMap<NodeId, V> {
    map.iter()
        .map(|(&id, value)| (perm.apply(id), value.rename(perm)))
        .collect()
}

/// Types that hold no actor id rename to themselves.
macro_rules! id_free {
    ($($t:ty),* $(,)?) => {
        $(impl Rename for $t {
            fn rename(&self, _: &Permutation) -> Self {
                self.clone()
            }
        })*
    };
}

id_free!(
    (),
    bool,
    u8,
    u16,
    u64,
    i64,
    usize,
    String,
    AppId,
    Key,
    KvOp,
    KvResult
);

impl Rename for Id {
    fn rename(&self, perm: &Permutation) -> Self {
        Id::from(perm.apply_index(usize::from(*self)))
    }
}

impl<T: Rename> Rename for Option<T> {
    fn rename(&self, perm: &Permutation) -> Self {
        self.as_ref().map(|value| value.rename(perm))
    }
}

impl<T: Rename> Rename for Vec<T> {
    fn rename(&self, perm: &Permutation) -> Self {
        self.iter().map(|value| value.rename(perm)).collect()
    }
}

impl<T: Rename> Rename for Box<T> {
    fn rename(&self, perm: &Permutation) -> Self {
        Box::new((**self).rename(perm))
    }
}

impl<T: Rename> Rename for Arc<T> {
    fn rename(&self, perm: &Permutation) -> Self {
        Arc::new((**self).rename(perm))
    }
}

impl<T: Rename + Ord> Rename for BTreeSet<T> {
    fn rename(&self, perm: &Permutation) -> Self {
        self.iter().map(|value| value.rename(perm)).collect()
    }
}

/// Keys are renamed too (they may hold ids, e.g. transaction ids); keys that are bare node ids
/// go through [`rename_id_keys`] instead, since `u32` has no `Rename`.
impl<K: Rename + Ord, V: Rename> Rename for BTreeMap<K, V> {
    fn rename(&self, perm: &Permutation) -> Self {
        self.iter()
            .map(|(key, value)| (key.rename(perm), value.rename(perm)))
            .collect()
    }
}

impl<A: Rename, B: Rename> Rename for (A, B) {
    fn rename(&self, perm: &Permutation) -> Self {
        (self.0.rename(perm), self.1.rename(perm))
    }
}

impl<A: Rename, B: Rename, C: Rename> Rename for (A, B, C) {
    fn rename(&self, perm: &Permutation) -> Self {
        (
            self.0.rename(perm),
            self.1.rename(perm),
            self.2.rename(perm),
        )
    }
}

impl<T: Rename + Clone> Rename for Ledger<T> {
    fn rename(&self, perm: &Permutation) -> Self {
        let mut renamed = Ledger::new();
        renamed.extend(self.iter().map(|entry| entry.rename(perm)));
        renamed
    }
}

/// A client's id is its actor id.
impl Rename for TxId {
    fn rename(&self, perm: &Permutation) -> Self {
        TxId {
            client: perm.apply(self.client),
            seq: self.seq,
        }
    }
}

impl<Op: Rename> Rename for Transaction<Op> {
    fn rename(&self, perm: &Permutation) -> Self {
        Transaction::new(self.id.rename(perm), self.app, self.ops.rename(perm))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_of_lists_every_arrangement_once_identity_first() {
        let group = Permutation::all_of(&[1, 2, 3]);
        assert_eq!(group.len(), 6);
        assert!(group[0].is_identity());
        let distinct: BTreeSet<_> = group.iter().map(|p| (p.apply(1), p.apply(2))).collect();
        assert_eq!(distinct.len(), 6);
        for perm in &group {
            assert_eq!(perm.apply(0), 0, "{perm:?} moves an id outside the set");
            assert_eq!(perm.apply(7), 7);
        }
    }

    #[test]
    fn inverse_and_composition_undo_each_other() {
        let perm = Permutation::from_images(vec![0, 2, 3, 1]).unwrap();
        assert!(perm.inverse().after(&perm).is_identity());
        assert!(perm.after(&perm.inverse()).is_identity());
        assert_eq!(perm.after(&perm).apply(1), 3);
    }

    #[test]
    fn a_non_bijection_is_rejected_with_the_offending_id() {
        let error = Permutation::from_images(vec![1, 1]).unwrap_err();
        assert!(error.contains("id 1 maps to 1"), "{error}");
    }

    #[test]
    fn containers_rename_their_ids_and_resort() {
        let perm = Permutation::from_images(vec![0, 2, 1]).unwrap();
        let set: BTreeSet<TxId> = [1, 2]
            .map(|client| TxId {
                client,
                seq: client as u64,
            })
            .into();
        let renamed = set.rename(&perm);
        let clients: Vec<(u32, u64)> = renamed.iter().map(|t| (t.client, t.seq)).collect();
        assert_eq!(clients, vec![(1, 2), (2, 1)]);
        assert_eq!(rename_id_set(&[0, 1].into(), &perm), BTreeSet::from([0, 2]));
        assert_eq!(Id::from(1).rename(&perm), Id::from(2));
    }
}
