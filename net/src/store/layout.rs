//! How an actor's Storage is split into parts, so a save writes only the parts that changed
//! since the last one (DESIGN §5: persist only what was appended). Layout, not protocol logic.

use std::sync::Arc;

use quorate_impl::crypto::{canonical_bytes, Crypto};
use quorate_impl::paxos::PaxosStorage;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// One change to a stored part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Write `bytes` under `key`.
    Put(Vec<u8>, Vec<u8>),
    /// Remove `key`.
    Delete(Vec<u8>),
}

/// A Storage type the store can persist part by part.
pub trait StorageLayout: Sized {
    /// The parts to write so the store holds `self`, given it holds `previous` (every part when
    /// there is none).
    fn diff(&self, previous: Option<&Self>) -> Vec<Part>;
    /// Rebuilds the value from all stored parts (sorted by key).
    fn assemble(parts: Vec<(Vec<u8>, Vec<u8>)>) -> Result<Self, String>;
}

/// The layout of a Storage kept whole under one key: for types with nothing that grows.
pub fn whole_diff<S: Serialize + PartialEq>(value: &S, previous: Option<&S>) -> Vec<Part> {
    if previous == Some(value) {
        return Vec::new();
    }
    vec![Part::Put(b"whole".to_vec(), canonical_bytes(value))]
}

/// The part for a snapshot kept behind an `Arc`: nothing if it is the one saved last (by pointer,
/// else by value), else a put of the new one or a delete.
pub fn snapshot_part<T: Serialize + PartialEq>(
    key: &[u8],
    snapshot: &Option<Arc<T>>,
    previous: Option<&Option<Arc<T>>>,
) -> Option<Part> {
    let same = previous.is_some_and(|old| match (old, snapshot) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
        (None, None) => true,
        _ => false,
    });
    (!same).then(|| match snapshot {
        Some(snapshot) => Part::Put(key.to_vec(), canonical_bytes(snapshot)),
        None => Part::Delete(key.to_vec()),
    })
}

/// Rebuilds a Storage kept whole by [`whole_diff`].
pub fn whole_assemble<S: DeserializeOwned>(parts: Vec<(Vec<u8>, Vec<u8>)>) -> Result<S, String> {
    let [(key, bytes)] = <[_; 1]>::try_from(parts)
        .map_err(|parts: Vec<_>| format!("expected one stored part, found {}", parts.len()))?;
    if key != b"whole" {
        return Err(format!("unexpected stored part {key:?}"));
    }
    postcard::from_bytes(&bytes).map_err(|e| format!("stored value does not decode: {e}"))
}

/// Actors that keep nothing store no part.
impl StorageLayout for () {
    fn diff(&self, _previous: Option<&Self>) -> Vec<Part> {
        Vec::new()
    }

    fn assemble(parts: Vec<(Vec<u8>, Vec<u8>)>) -> Result<Self, String> {
        match parts.len() {
            0 => Ok(()),
            n => Err(format!("{n} stored parts for an actor that stores nothing")),
        }
    }
}

const META: &[u8] = b"m";
const SNAPSHOT: &[u8] = b"s";
const ACCEPTED: u8 = b'a';

fn slot_key(slot: u64) -> Vec<u8> {
    let mut key = vec![ACCEPTED];
    key.extend_from_slice(&slot.to_be_bytes());
    key
}

/// Paxos: the promise and compaction point together, the snapshot, and one part per accepted
/// slot, so a step that accepts one slot writes one small part.
impl<C: Crypto, Op, Out> StorageLayout for PaxosStorage<C, Op, Out>
where
    Op: Serialize + DeserializeOwned + Clone + PartialEq,
    Out: Serialize + DeserializeOwned + Clone + PartialEq,
{
    fn diff(&self, previous: Option<&Self>) -> Vec<Part> {
        let mut parts = Vec::new();
        let meta = (self.promised, self.compacted_upto);
        if previous.is_none_or(|p| (p.promised, p.compacted_upto) != meta) {
            parts.push(Part::Put(META.to_vec(), canonical_bytes(&meta)));
        }
        parts.extend(snapshot_part(
            SNAPSHOT,
            &self.snapshot,
            previous.map(|p| &p.snapshot),
        ));
        let previous_accepted = previous.map(|p| &p.accepted);
        if previous_accepted.is_some_and(|p| Arc::ptr_eq(p, &self.accepted)) {
            return parts;
        }
        for (slot, entry) in self.accepted.iter() {
            if previous_accepted.and_then(|p| p.get(slot)) != Some(entry) {
                parts.push(Part::Put(slot_key(*slot), canonical_bytes(entry)));
            }
        }
        if let Some(previous) = previous_accepted {
            for slot in previous.keys() {
                if !self.accepted.contains_key(slot) {
                    parts.push(Part::Delete(slot_key(*slot)));
                }
            }
        }
        parts
    }

    fn assemble(parts: Vec<(Vec<u8>, Vec<u8>)>) -> Result<Self, String> {
        let decode_error = |what: &str, e: postcard::Error| format!("stored {what}: {e}");
        let mut meta = None;
        let mut snapshot = None;
        let mut accepted = std::collections::BTreeMap::new();
        for (key, bytes) in parts {
            match key.as_slice() {
                META => {
                    meta =
                        Some(postcard::from_bytes(&bytes).map_err(|e| decode_error("promise", e))?)
                }
                SNAPSHOT => {
                    snapshot = Some(Arc::new(
                        postcard::from_bytes(&bytes).map_err(|e| decode_error("snapshot", e))?,
                    ))
                }
                [ACCEPTED, slot @ ..] if slot.len() == 8 => {
                    let slot = u64::from_be_bytes(slot.try_into().expect("8 bytes"));
                    let entry = postcard::from_bytes(&bytes)
                        .map_err(|e| decode_error("accepted slot", e))?;
                    accepted.insert(slot, entry);
                }
                other => return Err(format!("unknown stored part {other:?}")),
            }
        }
        let (promised, compacted_upto) =
            meta.ok_or("the promise part is missing (store damaged)")?;
        Ok(PaxosStorage {
            promised,
            accepted: Arc::new(accepted),
            compacted_upto,
            snapshot,
        })
    }
}
