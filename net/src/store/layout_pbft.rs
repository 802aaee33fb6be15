//! PBFT's Storage, part by part: the head (view, status, next sequence number, executed
//! position), the stable checkpoint, its snapshot, and one part per own slot and per prepared
//! certificate, so a step that adds a vote writes that slot's part and the head only.

use std::collections::BTreeMap;
use std::sync::Arc;

use quorate_impl::crypto::{canonical_bytes, Crypto};
use quorate_impl::pbft::{OwnSlot, PbftStorage, PreparedCert, Seq};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::layout::{snapshot_part, Part, StorageLayout};

const HEAD: &[u8] = b"h";
const STABLE: &[u8] = b"k";
const SNAPSHOT: &[u8] = b"s";
const SLOT: u8 = b'v';
const CERT: u8 = b'c';

fn seq_key(prefix: u8, seq: Seq) -> Vec<u8> {
    let mut key = vec![prefix];
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// Puts for entries of `now` that `same` says differ from `previous`, deletes for entries gone.
fn diff_map<T: Serialize>(
    prefix: u8,
    now: &BTreeMap<Seq, T>,
    previous: Option<&BTreeMap<Seq, T>>,
    same: impl Fn(&T, &T) -> bool,
    parts: &mut Vec<Part>,
) {
    for (seq, entry) in now {
        if !previous
            .and_then(|p| p.get(seq))
            .is_some_and(|old| same(old, entry))
        {
            parts.push(Part::Put(seq_key(prefix, *seq), canonical_bytes(entry)));
        }
    }
    for seq in previous.into_iter().flat_map(|p| p.keys()) {
        if !now.contains_key(seq) {
            parts.push(Part::Delete(seq_key(prefix, *seq)));
        }
    }
}

/// Within one view an own slot only moves forward and keeps its digest; a certificate is
/// identified by its sequence number and view (the replica prepares a sequence number at most
/// once per view): comparing those keeps a save from re-comparing whole batches.
fn same_slot<P: PartialEq, C: Crypto>(a: &OwnSlot<P, C>, b: &OwnSlot<P, C>) -> bool {
    match (a, b) {
        (
            OwnSlot::PrePrepared { pre_prepare: x, .. },
            OwnSlot::PrePrepared { pre_prepare: y, .. },
        ) => x == y,
        (OwnSlot::Prepared, OwnSlot::Prepared) | (OwnSlot::Committed, OwnSlot::Committed) => true,
        _ => false,
    }
}

fn same_cert<P, C: Crypto>(a: &PreparedCert<P, C>, b: &PreparedCert<P, C>) -> bool {
    a.pre_prepare == b.pre_prepare
}

impl<C: Crypto, Op, Out> StorageLayout for PbftStorage<C, Op, Out>
where
    Op: Serialize + DeserializeOwned + Clone + PartialEq + Ord,
    Out: Serialize + DeserializeOwned + Clone + PartialEq,
{
    fn diff(&self, previous: Option<&Self>) -> Vec<Part> {
        let mut parts = Vec::new();
        let head = (self.view, self.status, self.next_seq, self.executed);
        if previous.is_none_or(|p| (p.view, p.status, p.next_seq, p.executed) != head) {
            parts.push(Part::Put(HEAD.to_vec(), canonical_bytes(&head)));
        }
        if previous.is_none_or(|p| p.stable.seq != self.stable.seq) {
            parts.push(Part::Put(STABLE.to_vec(), canonical_bytes(&self.stable)));
        }
        parts.extend(snapshot_part(
            SNAPSHOT,
            &self.snapshot,
            previous.map(|p| &p.snapshot),
        ));
        let (old_slots, old_certs) = (previous.map(|p| &p.slots), previous.map(|p| &p.certs));
        diff_map(SLOT, &self.slots, old_slots, same_slot, &mut parts);
        diff_map(CERT, &self.certs, old_certs, same_cert, &mut parts);
        parts
    }

    fn assemble(parts: Vec<(Vec<u8>, Vec<u8>)>) -> Result<Self, String> {
        fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, String> {
            postcard::from_bytes(bytes).map_err(|e| format!("stored {what}: {e}"))
        }
        let (mut head, mut stable, mut snapshot) = (None, None, None);
        let (mut slots, mut certs) = (BTreeMap::new(), BTreeMap::new());
        for (key, bytes) in parts {
            match key.as_slice() {
                HEAD => head = Some(decode("view and position", &bytes)?),
                STABLE => stable = Some(decode("stable checkpoint", &bytes)?),
                SNAPSHOT => snapshot = Some(Arc::new(decode("snapshot", &bytes)?)),
                [prefix, seq @ ..] if seq.len() == 8 && (*prefix == SLOT || *prefix == CERT) => {
                    let seq = Seq::from_be_bytes(seq.try_into().expect("8 bytes"));
                    if *prefix == SLOT {
                        slots.insert(seq, decode("own slot", &bytes)?);
                    } else {
                        certs.insert(seq, decode("prepared certificate", &bytes)?);
                    }
                }
                other => return Err(format!("unknown stored part {other:?}")),
            }
        }
        let (view, status, next_seq, executed) =
            head.ok_or("the view part is missing (store damaged)")?;
        Ok(PbftStorage {
            view,
            status,
            next_seq,
            executed,
            slots,
            certs,
            stable: stable.ok_or("the stable checkpoint part is missing (store damaged)")?,
            snapshot,
        })
    }
}
