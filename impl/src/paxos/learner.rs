//! The Multi-Paxos learner: turns chosen slots into an ordered delivery without gaps, and
//! catches up missing slots from peers (card §6.1 "re-learns chosen from peers").
//!
//! A component used by the Paxos replica and by upper layers that order through Paxos.

use super::rules::Rules;
use super::{Ballot, Slot, Value};
use crate::component::{CowLens, Emit, NoTimer};
use crate::crypto::NodeId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::marker::PhantomData;

/// What a peer knows about one slot.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Evidence<P> {
    /// The peer learned the slot chosen (from the leader's DECIDED or its own quorum).
    Chosen(Value<P>),
    /// The peer only accepted a value there: it may never be chosen.
    AcceptedOnly(Ballot, Value<P>),
}

/// Catch-up messages between learners. `S` is the outer actor's snapshot.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum LearnerMsg<P, S> {
    /// "Send me what you know from `from_slot` on."
    CatchUp {
        /// First slot the asker has not delivered.
        from_slot: Slot,
    },
    /// The answer: a snapshot when the asker is behind the peer's compaction point, then
    /// per-slot evidence.
    CatchUpReply {
        /// The peer's snapshot, if the asker needs it.
        snapshot: Option<S>,
        /// Evidence per slot, in slot order.
        entries: Vec<(Slot, Evidence<P>)>,
    },
}

/// The learner's part of a replica's state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LearnerState<P> {
    /// Lowest slot not yet delivered.
    pub next_slot: Slot,
    /// Chosen slots above the last snapshot; delivered ones stay to answer catch-up.
    pub decided: BTreeMap<Slot, Value<P>>,
}

/// What the outer actor must do after a learner step.
#[derive(Debug)]
pub struct Learned<P, S> {
    /// A snapshot to install before delivering anything.
    pub install: Option<(Slot, S)>,
    /// Slots now deliverable, in order, with no gaps.
    pub deliver: Vec<(Slot, Value<P>)>,
}

impl<P, S> Default for Learned<P, S> {
    fn default() -> Self {
        Learned {
            install: None,
            deliver: Vec::new(),
        }
    }
}

/// The learner's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Learner<R> {
    /// This replica.
    pub id: NodeId,
    /// Every replica.
    pub replicas: Vec<NodeId>,
    /// A DECIDED this many slots past the next undelivered one means we missed something:
    /// ask peers. Large in the model (messages are never lost there), small in deployment.
    pub gap_trigger: u64,
    _rules: PhantomData<fn() -> R>,
}

impl<R: Rules> Learner<R> {
    /// A learner for replica `id`.
    pub fn new(id: NodeId, replicas: Vec<NodeId>, gap_trigger: u64) -> Self {
        Learner {
            id,
            replicas,
            gap_trigger,
            _rules: PhantomData,
        }
    }

    /// A fresh learner, or one restarted after a snapshot of slots up to `snapshot_slot`.
    pub fn init<P>(&self, snapshot_slot: Slot) -> LearnerState<P> {
        LearnerState {
            next_slot: snapshot_slot + 1,
            decided: BTreeMap::new(),
        }
    }

    /// Asks every peer for what it knows from our next undelivered slot on.
    pub fn request_catch_up<P, S>(
        &self,
        state: &LearnerState<P>,
        out: &mut impl Emit<LearnerMsg<P, S>, NoTimer>,
    ) {
        for &peer in self.replicas.iter().filter(|&&r| r != self.id) {
            out.send(
                peer,
                LearnerMsg::CatchUp {
                    from_slot: state.next_slot,
                },
            );
        }
    }

    /// Records that `slot` is chosen with `value`; returns what became deliverable.
    pub fn learn<O: Clone, P: Clone + PartialEq, S>(
        &self,
        st: &mut CowLens<'_, '_, O, LearnerState<P>>,
        slot: Slot,
        value: Value<P>,
        out: &mut impl Emit<LearnerMsg<P, S>, NoTimer>,
    ) -> Vec<(Slot, Value<P>)> {
        let state = st.get();
        if slot < state.next_slot || state.decided.contains_key(&slot) {
            debug_assert!(
                state.decided.get(&slot).is_none_or(|known| *known == value),
                "two values chosen for slot {slot}"
            );
            return Vec::new();
        }
        if slot >= state.next_slot + self.gap_trigger {
            self.request_catch_up(state, out);
        }
        let state = st.to_mut();
        state.decided.insert(slot, value);
        let mut deliver = Vec::new();
        while let Some(value) = state.decided.get(&state.next_slot) {
            deliver.push((state.next_slot, value.clone()));
            state.next_slot += 1;
        }
        deliver
    }

    /// Builds the reply to a catch-up request, or `None` if we know nothing the asker lacks.
    pub fn catch_up_reply<P: Clone, S>(
        &self,
        state: &LearnerState<P>,
        accepted: &BTreeMap<Slot, (Ballot, Value<P>)>,
        snapshot: Option<(Slot, S)>,
        from_slot: Slot,
    ) -> Option<LearnerMsg<P, S>> {
        let snapshot = snapshot
            .filter(|(slot, _)| *slot >= from_slot)
            .map(|(_, s)| s);
        let mut entries: BTreeMap<Slot, Evidence<P>> = accepted
            .range(from_slot..)
            .map(|(&slot, (ballot, value))| (slot, Evidence::AcceptedOnly(*ballot, value.clone())))
            .collect();
        for (&slot, value) in state.decided.range(from_slot..) {
            entries.insert(slot, Evidence::Chosen(value.clone()));
        }
        if snapshot.is_none() && entries.is_empty() {
            return None;
        }
        Some(LearnerMsg::CatchUpReply {
            snapshot,
            entries: entries.into_iter().collect(),
        })
    }

    /// Handles a catch-up reply: a snapshot if we are behind it, then every certified entry.
    /// Only entries certified as chosen count; an acceptor's accepted value may yet be replaced.
    pub fn on_catch_up_reply<O: Clone, P: Clone + PartialEq, S>(
        &self,
        st: &mut CowLens<'_, '_, O, LearnerState<P>>,
        snapshot: Option<(Slot, S)>,
        entries: Vec<(Slot, Evidence<P>)>,
        out: &mut impl Emit<LearnerMsg<P, S>, NoTimer>,
    ) -> Learned<P, S> {
        let mut learned = Learned::default();
        if let Some((slot, snapshot)) = snapshot {
            if slot >= st.get().next_slot {
                let state = st.to_mut();
                state.next_slot = slot + 1;
                state.decided = state.decided.split_off(&(slot + 1));
                learned.install = Some((slot, snapshot));
            }
        }
        for (slot, evidence) in entries {
            let value = match evidence {
                Evidence::Chosen(value) => value,
                Evidence::AcceptedOnly(_, value) if !R::VERIFY_CATCH_UP => value,
                Evidence::AcceptedOnly(..) => continue,
            };
            learned.deliver.extend(self.learn(st, slot, value, out));
        }
        learned
    }

    /// Forgets decided slots at or below a snapshot point.
    pub fn compact<O: Clone, P: Clone>(
        &self,
        st: &mut CowLens<'_, '_, O, LearnerState<P>>,
        upto: Slot,
    ) {
        if st
            .get()
            .decided
            .keys()
            .next()
            .is_some_and(|&first| first <= upto)
        {
            let state = st.to_mut();
            state.decided = state.decided.split_off(&(upto + 1));
        }
    }
}
