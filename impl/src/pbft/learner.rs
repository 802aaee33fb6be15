//! The PBFT learner: turns committed sequence numbers into an in-order delivery without gaps.
//!
//! Two ways to learn a sequence number (DESIGN §3 "Composition"): from this replica's own
//! commit certificate (2f+1 COMMITs, [`Learner::commit`]), or — for an upper layer that only
//! hears replicas' deliveries — from f+1 matching deliveries by distinct replicas, at least
//! one of them correct ([`Learner::on_delivery`]).

use super::msgs::Batch;
use super::Seq;
use crate::crypto::NodeId;
use crate::quorum;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The learner's state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound(serialize = "P: Serialize", deserialize = "P: Deserialize<'de> + Ord"))]
pub struct LearnerState<P> {
    /// Lowest sequence number not yet delivered.
    pub next_seq: Seq,
    /// Learned and not yet deliverable (a gap below them).
    pub learned: BTreeMap<Seq, Batch<P>>,
    /// Deliveries heard from replicas, per sequence number and batch (upper layers only);
    /// dropped once a batch reaches f+1.
    pub heard: BTreeMap<Seq, BTreeMap<Batch<P>, BTreeSet<NodeId>>>,
}

/// The learner's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Learner {
    /// Every replica.
    pub replicas: Vec<NodeId>,
    /// Faults tolerated.
    pub f: usize,
}

impl Learner {
    /// A learner over `replicas`.
    pub fn new(replicas: Vec<NodeId>) -> Self {
        let f = quorum::bft_max_faults(replicas.len());
        Learner { replicas, f }
    }

    /// A learner that has delivered everything up to `upto`.
    pub fn init<P>(&self, upto: Seq) -> LearnerState<P> {
        LearnerState {
            next_seq: upto + 1,
            learned: BTreeMap::new(),
            heard: BTreeMap::new(),
        }
    }

    /// `seq` is committed with `batch` (this replica holds the certificate). Returns what
    /// became deliverable, in order.
    pub fn commit<P: Clone + Ord>(
        &self,
        state: &mut LearnerState<P>,
        seq: Seq,
        batch: Batch<P>,
    ) -> Vec<(Seq, Batch<P>)> {
        if seq < state.next_seq {
            return Vec::new(); // delivered already (a re-proposal after a view change)
        }
        debug_assert!(
            state.learned.get(&seq).is_none_or(|b| *b == batch),
            "two batches committed at {seq}"
        );
        state.learned.insert(seq, batch);
        state.heard.remove(&seq);
        let mut deliver = Vec::new();
        while let Some(batch) = state.learned.remove(&state.next_seq) {
            deliver.push((state.next_seq, batch));
            state.next_seq += 1;
        }
        deliver
    }

    /// Replica `src` says it delivered `batch` at `seq`: deliverable once f+1 distinct
    /// replicas agree.
    pub fn on_delivery<P: Clone + Ord>(
        &self,
        state: &mut LearnerState<P>,
        src: NodeId,
        seq: Seq,
        batch: Batch<P>,
    ) -> Vec<(Seq, Batch<P>)> {
        if seq < state.next_seq || state.learned.contains_key(&seq) || !self.replicas.contains(&src)
        {
            return Vec::new();
        }
        let voters = state
            .heard
            .entry(seq)
            .or_default()
            .entry(batch.clone())
            .or_default();
        voters.insert(src);
        if voters.len() < quorum::bft_weak_certificate(self.f) {
            return Vec::new();
        }
        self.commit(state, seq, batch)
    }

    /// State transfer installed everything up to `upto`.
    pub fn skip_to<P: Clone + Ord>(
        &self,
        state: &mut LearnerState<P>,
        upto: Seq,
    ) -> Vec<(Seq, Batch<P>)> {
        if upto < state.next_seq {
            return Vec::new();
        }
        state.next_seq = upto + 1;
        state.learned = state.learned.split_off(&(upto + 1));
        state.heard = state.heard.split_off(&(upto + 1));
        let mut deliver = Vec::new();
        while let Some(batch) = state.learned.remove(&state.next_seq) {
            deliver.push((state.next_seq, batch));
            state.next_seq += 1;
        }
        deliver
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_certificates_deliver_in_order_without_gaps() {
        let learner = Learner::new(vec![0, 1, 2, 3]);
        let mut state = learner.init::<u8>(0);
        assert!(learner
            .commit(&mut state, 2, Batch::Requests(vec![2]))
            .is_empty());
        let out = learner.commit(&mut state, 1, Batch::NoOp);
        assert_eq!(out, vec![(1, Batch::NoOp), (2, Batch::Requests(vec![2]))]);
        assert!(learner.commit(&mut state, 1, Batch::NoOp).is_empty());
    }

    #[test]
    fn deliveries_need_f_plus_one_matching_replicas() {
        let learner = Learner::new(vec![0, 1, 2, 3]);
        let mut state = learner.init::<u8>(0);
        let a = Batch::Requests(vec![1]);
        assert!(learner.on_delivery(&mut state, 0, 1, a.clone()).is_empty());
        assert!(learner.on_delivery(&mut state, 0, 1, a.clone()).is_empty());
        assert!(learner
            .on_delivery(&mut state, 1, 1, Batch::NoOp)
            .is_empty());
        assert!(learner.on_delivery(&mut state, 9, 1, a.clone()).is_empty());
        assert_eq!(
            learner.on_delivery(&mut state, 2, 1, a.clone()),
            vec![(1, a)]
        );
        assert_eq!(state.next_seq, 2);
    }
}
