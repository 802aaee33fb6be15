//! Renaming actor ids in PBFT's states and messages (symmetric model checking). Only symbolic
//! crypto renames: a renamed ed25519 signature would not verify.
//!
//! Views, sequence numbers and counters are `u32`/`u64` like node ids, so every field is listed
//! by hand: ids go through the permutation, everything else is copied.

use super::adversary::AdversaryState;
use super::core::{Slot, SlotPhase};
use super::msgs::{Checkpoint, NewView, PrePrepare, Vote};
use super::{
    Batch, ClientState, CoreMsg, CoreState, LearnerState, NodeState, PbftMsg, PbftTimer,
    PreparedCert, ReplicaState, Reply, Snapshot, StableCheckpoint,
};
use crate::crypto::{Signed, Symbolic};
use crate::symmetry::{rename_id_keys, rename_id_set, Permutation, Rename};
use std::collections::BTreeMap;

/// PBFT keeps its vote, checkpoint and view-change lists sorted by signer (so a list is a set
/// with one canonical order); a renamed list is re-sorted the same way.
fn rename_by_signer<T: Rename>(
    list: &[Signed<T, Symbolic>],
    perm: &Permutation,
) -> Vec<Signed<T, Symbolic>> {
    let mut renamed: Vec<_> = list.iter().map(|signed| signed.rename(perm)).collect();
    renamed.sort_by_key(Signed::signer);
    renamed
}

impl<P: Rename> Rename for Batch<P> {
    fn rename(&self, perm: &Permutation) -> Self {
        match self {
            Batch::NoOp => Batch::NoOp,
            Batch::Requests(requests) => Batch::Requests(requests.rename(perm)),
        }
    }
}

/// The signed parts carry no id themselves (their signers are renamed by `Signed`).
macro_rules! id_free_generic {
    ($($t:ident),*) => {
        $(impl<D: Clone> Rename for $t<D> {
            fn rename(&self, _: &Permutation) -> Self {
                self.clone()
            }
        })*
    };
}

id_free_generic!(PrePrepare, Vote, Checkpoint);

impl Rename for StableCheckpoint<Symbolic> {
    fn rename(&self, perm: &Permutation) -> Self {
        StableCheckpoint {
            seq: self.seq,
            proof: rename_by_signer(&self.proof, perm),
        }
    }
}

impl<P: Rename> Rename for PreparedCert<P, Symbolic> {
    fn rename(&self, perm: &Permutation) -> Self {
        PreparedCert {
            pre_prepare: self.pre_prepare.rename(perm),
            batch: self.batch.rename(perm),
            prepares: rename_by_signer(&self.prepares, perm),
        }
    }
}

impl<P: Rename> Rename for super::msgs::ViewChange<P, Symbolic> {
    fn rename(&self, perm: &Permutation) -> Self {
        super::msgs::ViewChange {
            new_view: self.new_view,
            stable: self.stable.rename(perm),
            prepared: self.prepared.rename(perm),
        }
    }
}

impl<P: Rename> Rename for NewView<P, Symbolic> {
    fn rename(&self, perm: &Permutation) -> Self {
        NewView {
            view: self.view,
            view_changes: rename_by_signer(&self.view_changes, perm),
            pre_prepares: self.pre_prepares.rename(perm),
        }
    }
}

impl<P: Rename> Rename for CoreMsg<P, Symbolic> {
    fn rename(&self, perm: &Permutation) -> Self {
        match self {
            CoreMsg::PrePrepare(pre_prepare, batch) => {
                CoreMsg::PrePrepare(pre_prepare.rename(perm), batch.rename(perm))
            }
            CoreMsg::Vote(vote) => CoreMsg::Vote(vote.rename(perm)),
            CoreMsg::Checkpoint(checkpoint) => CoreMsg::Checkpoint(checkpoint.rename(perm)),
            CoreMsg::ViewChange(change) => CoreMsg::ViewChange(change.rename(perm)),
            CoreMsg::NewView(new_view) => CoreMsg::NewView(new_view.rename(perm)),
        }
    }
}

impl<Out: Rename> Rename for Reply<Out> {
    fn rename(&self, perm: &Permutation) -> Self {
        Reply {
            view: self.view,
            tx: self.tx.rename(perm),
            output: self.output.rename(perm),
        }
    }
}

impl<Out: Rename> Rename for Snapshot<Out> {
    fn rename(&self, perm: &Permutation) -> Self {
        Snapshot {
            seq: self.seq,
            delivered_len: self.delivered_len,
            app: self.app.rename(perm),
            clients: std::sync::Arc::new(rename_id_keys(&self.clients, perm)),
        }
    }
}

impl<Op: Rename + Clone, Out: Rename> Rename for PbftMsg<Symbolic, Op, Out> {
    fn rename(&self, perm: &Permutation) -> Self {
        match self {
            PbftMsg::Request(request) => PbftMsg::Request(request.rename(perm)),
            PbftMsg::Reply(reply) => PbftMsg::Reply(reply.rename(perm)),
            PbftMsg::Core(core) => PbftMsg::Core(core.rename(perm)),
            PbftMsg::Fetch { seq } => PbftMsg::Fetch { seq: *seq },
            PbftMsg::State { proof, snapshot } => PbftMsg::State {
                proof: proof.rename(perm),
                snapshot: snapshot.rename(perm),
            },
        }
    }
}

impl Rename for PbftTimer {
    fn rename(&self, _: &Permutation) -> Self {
        *self
    }
}

impl<P: Rename> Rename for SlotPhase<P, Symbolic> {
    fn rename(&self, perm: &Permutation) -> Self {
        match self {
            SlotPhase::PrePrepared {
                pre_prepare,
                batch,
                prepares,
            } => SlotPhase::PrePrepared {
                pre_prepare: pre_prepare.rename(perm),
                batch: batch.rename(perm),
                prepares: rename_by_signer(prepares, perm),
            },
            SlotPhase::Prepared { commits } => SlotPhase::Prepared {
                commits: rename_id_set(commits, perm),
            },
            SlotPhase::Committed => SlotPhase::Committed,
        }
    }
}

impl<P: Rename> Rename for Slot<P, Symbolic> {
    fn rename(&self, perm: &Permutation) -> Self {
        Slot {
            digest: self.digest.clone(),
            phase: self.phase.rename(perm),
        }
    }
}

impl<P: Rename> Rename for CoreState<P, Symbolic> {
    fn rename(&self, perm: &Permutation) -> Self {
        CoreState {
            view: self.view,
            status: self.status,
            slots: self.slots.rename(perm),
            certs: self.certs.rename(perm),
            stable: self.stable.rename(perm),
            checkpoints: self
                .checkpoints
                .iter()
                .map(|(seq, votes)| (*seq, rename_by_signer(votes, perm)))
                .collect(),
            // Keyed by view (a `u32` that is not an id).
            view_changes: self
                .view_changes
                .iter()
                .map(|(view, changes)| (*view, rename_by_signer(changes, perm)))
                .collect(),
            next_seq: self.next_seq,
            pending: self.pending.rename(perm),
            early: self
                .early
                .iter()
                .map(|(seq, votes)| {
                    let mut votes: Vec<_> = votes.iter().map(|v| v.rename(perm)).collect();
                    votes.sort_by_key(|v| (v.signer(), v.value().phase));
                    (*seq, votes)
                })
                .collect(),
            early_pre_prepares: self
                .early_pre_prepares
                .iter()
                .map(|(seq, (pp, batch))| (*seq, (pp.rename(perm), batch.rename(perm))))
                .collect(),
        }
    }
}

impl<P: Rename + Ord> Rename for LearnerState<P> {
    fn rename(&self, perm: &Permutation) -> Self {
        LearnerState {
            next_seq: self.next_seq,
            learned: self.learned.rename(perm),
            heard: self
                .heard
                .iter()
                .map(|(seq, batches)| {
                    let batches: BTreeMap<Batch<P>, _> = batches
                        .iter()
                        .map(|(batch, from)| (batch.rename(perm), rename_id_set(from, perm)))
                        .collect();
                    (*seq, batches)
                })
                .collect(),
        }
    }
}

impl<Op: Rename + Clone + Ord, Out: Rename> Rename for ReplicaState<Symbolic, Op, Out> {
    fn rename(&self, perm: &Permutation) -> Self {
        ReplicaState {
            core: self.core.rename(perm),
            learner: self.learner.rename(perm),
            log: self.log.rename(perm),
            log_base: self.log_base,
            delivered: self.delivered.rename(perm),
            delivered_base: self.delivered_base,
            app: self.app.rename(perm),
            clients: std::sync::Arc::new(rename_id_keys(&self.clients, perm)),
            snapshots: self.snapshots.rename(perm),
        }
    }
}

impl<Out: Rename> Rename for ClientState<Out> {
    fn rename(&self, perm: &Permutation) -> Self {
        ClientState {
            retries: self.retries,
            replies: rename_id_keys(&self.replies, perm),
            accepted: self.accepted.rename(perm),
        }
    }
}

/// The adversary's memory is (view, seq) pairs only.
impl Rename for AdversaryState {
    fn rename(&self, _: &Permutation) -> Self {
        self.clone()
    }
}

impl<Op: Rename + Clone + Ord, Out: Rename> Rename for NodeState<Symbolic, Op, Out> {
    fn rename(&self, perm: &Permutation) -> Self {
        match self {
            NodeState::Replica(replica) => NodeState::Replica(replica.rename(perm)),
            NodeState::Client(client) => NodeState::Client(client.rename(perm)),
            NodeState::Byzantine(adversary) => NodeState::Byzantine(adversary.rename(perm)),
        }
    }
}

impl<P: Rename> Rename for super::OwnSlot<P, Symbolic> {
    fn rename(&self, perm: &Permutation) -> Self {
        match self {
            super::OwnSlot::PrePrepared { pre_prepare, batch } => super::OwnSlot::PrePrepared {
                pre_prepare: pre_prepare.rename(perm),
                batch: batch.rename(perm),
            },
            super::OwnSlot::Prepared => super::OwnSlot::Prepared,
            super::OwnSlot::Committed => super::OwnSlot::Committed,
        }
    }
}

/// Renamed like the replica state it projects, so the projection commutes with renaming.
impl<Op: Rename + Clone + Ord, Out: Rename> Rename for super::PbftStorage<Symbolic, Op, Out> {
    fn rename(&self, perm: &Permutation) -> Self {
        super::PbftStorage {
            view: self.view,
            status: self.status,
            next_seq: self.next_seq,
            executed: self.executed,
            slots: self.slots.rename(perm),
            certs: self.certs.rename(perm),
            stable: self.stable.rename(perm),
            snapshot: self.snapshot.rename(perm),
        }
    }
}
