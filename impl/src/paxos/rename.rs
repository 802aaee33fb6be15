//! Renaming actor ids in Paxos states and messages, so the model host's commutation test can
//! check the claim that Paxos has no symmetry (ballots order replicas by id, so swapping two
//! replicas changes which ballot wins). Only symbolic crypto renames: a renamed ed25519
//! signature would not verify.
//!
//! Slots, rounds and counters are plain integers like node ids, so every field is listed by
//! hand: ids go through the permutation, everything else is copied.

use super::client::ClientState;
use super::core::{Campaign, CoreMsg, CoreState, CoreTimer, InFlight, Role};
use super::learner::{Evidence, LearnerMsg, LearnerState};
use super::replica::ReplicaState;
use super::{Ballot, NodeState, PaxosMsg, PaxosStorage, PaxosTimer, Slot, Snapshot, Value};
use crate::crypto::Symbolic;
use crate::symmetry::{rename_id_keys, rename_id_set, Permutation, Rename};
use std::collections::BTreeMap;
use std::sync::Arc;

impl Rename for Ballot {
    fn rename(&self, perm: &Permutation) -> Self {
        Ballot {
            round: self.round,
            leader: perm.apply(self.leader),
        }
    }
}

impl<P: Rename> Rename for Value<P> {
    fn rename(&self, perm: &Permutation) -> Self {
        match self {
            Value::NoOp => Value::NoOp,
            Value::Batch(payloads) => Value::Batch(payloads.rename(perm)),
        }
    }
}

impl<Out: Rename> Rename for Snapshot<Out> {
    fn rename(&self, perm: &Permutation) -> Self {
        Snapshot {
            slot: self.slot,
            delivered_len: self.delivered_len,
            app: self.app.rename(perm),
            clients: Arc::new(rename_id_keys(&self.clients, perm)),
        }
    }
}

impl<P: Rename> Rename for CoreMsg<P> {
    fn rename(&self, perm: &Permutation) -> Self {
        match self {
            CoreMsg::Prepare { ballot, from_slot } => CoreMsg::Prepare {
                ballot: ballot.rename(perm),
                from_slot: *from_slot,
            },
            CoreMsg::Promise {
                ballot,
                accepted,
                compacted_upto,
            } => CoreMsg::Promise {
                ballot: ballot.rename(perm),
                accepted: accepted
                    .iter()
                    .map(|(slot, ballot, value)| (*slot, ballot.rename(perm), value.rename(perm)))
                    .collect(),
                compacted_upto: *compacted_upto,
            },
            CoreMsg::Accept {
                ballot,
                slot,
                value,
            } => CoreMsg::Accept {
                ballot: ballot.rename(perm),
                slot: *slot,
                value: value.rename(perm),
            },
            CoreMsg::Accepted { ballot, slot } => CoreMsg::Accepted {
                ballot: ballot.rename(perm),
                slot: *slot,
            },
            CoreMsg::Decided { slot, value } => CoreMsg::Decided {
                slot: *slot,
                value: value.rename(perm),
            },
        }
    }
}

impl Rename for CoreTimer {
    fn rename(&self, _: &Permutation) -> Self {
        *self
    }
}

impl Rename for PaxosTimer {
    fn rename(&self, _: &Permutation) -> Self {
        *self
    }
}

impl Rename for Role {
    fn rename(&self, _: &Permutation) -> Self {
        *self
    }
}

impl<P: Rename> Rename for Campaign<P> {
    fn rename(&self, perm: &Permutation) -> Self {
        Campaign {
            from_slot: self.from_slot,
            voters: rename_id_set(&self.voters, perm),
            reported: self
                .reported
                .iter()
                .map(|(slot, (ballot, value))| (*slot, (ballot.rename(perm), value.rename(perm))))
                .collect(),
            compacted_upto: self.compacted_upto,
        }
    }
}

impl<P: Rename> Rename for InFlight<P> {
    fn rename(&self, perm: &Permutation) -> Self {
        InFlight {
            value: self.value.rename(perm),
            voters: rename_id_set(&self.voters, perm),
        }
    }
}

/// Accepted values per slot: slots are numbers, not ids.
fn rename_accepted<P: Rename>(
    accepted: &BTreeMap<Slot, (Ballot, Value<P>)>,
    perm: &Permutation,
) -> BTreeMap<Slot, (Ballot, Value<P>)> {
    accepted
        .iter()
        .map(|(slot, (ballot, value))| (*slot, (ballot.rename(perm), value.rename(perm))))
        .collect()
}

impl<P: Rename> Rename for CoreState<P> {
    fn rename(&self, perm: &Permutation) -> Self {
        CoreState {
            promised: self.promised.rename(perm),
            accepted: Arc::new(rename_accepted(&self.accepted, perm)),
            compacted_upto: self.compacted_upto,
            ballot: self.ballot.rename(perm),
            role: self.role,
            campaign: self.campaign.rename(perm),
            next_slot: self.next_slot,
            in_flight: self
                .in_flight
                .iter()
                .map(|(slot, in_flight)| (*slot, in_flight.rename(perm)))
                .collect(),
            queue: self.queue.rename(perm),
        }
    }
}

impl<P: Rename> Rename for Evidence<P> {
    fn rename(&self, perm: &Permutation) -> Self {
        match self {
            Evidence::Chosen(value) => Evidence::Chosen(value.rename(perm)),
            Evidence::AcceptedOnly(ballot, value) => {
                Evidence::AcceptedOnly(ballot.rename(perm), value.rename(perm))
            }
        }
    }
}

impl<P: Rename, S: Rename> Rename for LearnerMsg<P, S> {
    fn rename(&self, perm: &Permutation) -> Self {
        match self {
            LearnerMsg::CatchUp { from_slot } => LearnerMsg::CatchUp {
                from_slot: *from_slot,
            },
            LearnerMsg::CatchUpReply { snapshot, entries } => LearnerMsg::CatchUpReply {
                snapshot: snapshot.rename(perm),
                entries: entries
                    .iter()
                    .map(|(slot, evidence)| (*slot, evidence.rename(perm)))
                    .collect(),
            },
        }
    }
}

impl<P: Rename> Rename for LearnerState<P> {
    fn rename(&self, perm: &Permutation) -> Self {
        LearnerState {
            next_slot: self.next_slot,
            decided: self
                .decided
                .iter()
                .map(|(slot, value)| (*slot, value.rename(perm)))
                .collect(),
        }
    }
}

impl<Op: Rename + Clone, Out: Rename> Rename for ReplicaState<Symbolic, Op, Out> {
    fn rename(&self, perm: &Permutation) -> Self {
        ReplicaState {
            core: self.core.rename(perm),
            learner: self.learner.rename(perm),
            delivered: self.delivered.rename(perm),
            delivered_base: self.delivered_base,
            app: self.app.rename(perm),
            clients: Arc::new(rename_id_keys(&self.clients, perm)),
            snapshot: self.snapshot.rename(perm),
        }
    }
}

impl Rename for ClientState {
    fn rename(&self, perm: &Permutation) -> Self {
        ClientState {
            completed: self.completed,
            retries: self.retries,
            leader_hint: perm.apply(self.leader_hint),
        }
    }
}

impl<Op: Rename + Clone, Out: Rename> Rename for NodeState<Symbolic, Op, Out> {
    fn rename(&self, perm: &Permutation) -> Self {
        match self {
            NodeState::Replica(replica) => NodeState::Replica(replica.rename(perm)),
            NodeState::Client(client) => NodeState::Client(client.rename(perm)),
        }
    }
}

impl<Op: Rename + Clone, Out: Rename> Rename for PaxosMsg<Symbolic, Op, Out> {
    fn rename(&self, perm: &Permutation) -> Self {
        match self {
            PaxosMsg::Request(request) => PaxosMsg::Request(request.rename(perm)),
            PaxosMsg::Reply { tx, output } => PaxosMsg::Reply {
                tx: tx.rename(perm),
                output: output.rename(perm),
            },
            PaxosMsg::Core(core) => PaxosMsg::Core(core.rename(perm)),
            PaxosMsg::Learner(learner) => PaxosMsg::Learner(learner.rename(perm)),
        }
    }
}

impl<Op: Rename + Clone, Out: Rename> Rename for PaxosStorage<Symbolic, Op, Out> {
    fn rename(&self, perm: &Permutation) -> Self {
        PaxosStorage {
            promised: self.promised.rename(perm),
            accepted: Arc::new(rename_accepted(&self.accepted, perm)),
            compacted_upto: self.compacted_upto,
            snapshot: self.snapshot.rename(perm),
        }
    }
}
