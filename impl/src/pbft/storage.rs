//! What a PBFT replica must not forget across a crash (DESIGN §3 "Durable state"), and how the
//! core comes back from it.
//!
//! A replica that forgot its view could take part in a view it already left; one that forgot
//! its own PRE-PREPARE or PREPARE for (v, n) could sign another digest for the same (v, n)
//! (equivocate without being faulty); one that forgot its prepared certificates would leave
//! them out of a later VIEW-CHANGE, so a request committed at 2f+1 replicas could be
//! re-proposed as a no-op. So the Storage holds the view and status, the primary's next
//! sequence number, this replica's own position per sequence number of the current view, the
//! prepared certificates above the stable checkpoint, the stable checkpoint with its 2f+1
//! proof, this replica's snapshot at that checkpoint (if it has one), and how far it executed.
//! Everything else — vote sets of others, early votes, CHECKPOINTs and VIEW-CHANGEs heard,
//! pending requests, the executed ledger above the snapshot — is volatile: it is re-executed
//! from the certificates or fetched again by state transfer.

use super::core::{Core, CoreOut, CoreState, CoreTimer, Slot, SlotPhase, Status};
use super::msgs::{Batch, CoreMsg, Phase, PrePrepare, PreparedCert, StableCheckpoint, Vote};
use super::rules::Rules;
use super::{Request, Seq, Snapshot, View};
use crate::crypto::{Crypto, Signed};
use crate::paxos::core::Payload;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// How far this replica went with one sequence number of the current view.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound(serialize = "P: Serialize", deserialize = "P: Deserialize<'de>"))]
pub enum OwnSlot<P, C: Crypto> {
    /// Accepted (or, as primary, sent) this PRE-PREPARE; a backup sent PREPARE for its digest.
    PrePrepared {
        /// The primary's PRE-PREPARE.
        pre_prepare: Signed<PrePrepare<C::Digest>, C>,
        /// Its batch.
        batch: Batch<P>,
    },
    /// Prepared (the certificate is among the stored ones) and sent COMMIT.
    Prepared,
    /// Committed locally.
    Committed,
}

/// The durable projection of a PBFT replica's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(bound(
    serialize = "Op: Serialize, Out: Serialize",
    deserialize = "Op: Deserialize<'de> + Ord, Out: Deserialize<'de>"
))]
pub struct PbftStorage<C: Crypto, Op, Out> {
    /// Current view (while changing: the view being moved to).
    pub view: View,
    /// Normal, or changing views (VIEW-CHANGE for `view` sent).
    pub status: Status,
    /// Primary: the next sequence number to assign in `view`.
    pub next_seq: Seq,
    /// The last sequence number executed (or installed by state transfer).
    pub executed: Seq,
    /// Own position per sequence number of `view` above the stable checkpoint.
    pub slots: BTreeMap<Seq, OwnSlot<Request<C, Op>, C>>,
    /// The latest prepared certificate per sequence number above the stable checkpoint.
    pub certs: BTreeMap<Seq, PreparedCert<Request<C, Op>, C>>,
    /// The stable checkpoint (low watermark) with its proof.
    pub stable: StableCheckpoint<C>,
    /// This replica's state at the stable checkpoint, if it reached or installed it.
    pub snapshot: Option<Arc<Snapshot<Out>>>,
}

/// What identifies the durable part of a state, cheaply: compared before and after a step to
/// decide whether the step saves. Within one view a slot's digest never changes, a certificate
/// is identified by (sequence number, view) and a stable checkpoint by its sequence number;
/// the snapshot is held by pointer, which also stops it being freed and its address reused.
pub struct DurableMark<Out> {
    head: (View, Status, Seq, Seq, Seq),
    slots: Vec<(Seq, u8)>,
    certs: Vec<(Seq, View)>,
    snapshot: Option<Arc<Snapshot<Out>>>,
}

impl<Out> DurableMark<Out> {
    /// A mark of `core`, executed up to `executed`, holding `snapshot` at the stable checkpoint.
    pub fn of<P, C: Crypto>(
        core: &CoreState<P, C>,
        executed: Seq,
        snapshot: Option<&Arc<Snapshot<Out>>>,
    ) -> Self {
        let phase = |slot: &Slot<P, C>| match slot.phase {
            SlotPhase::PrePrepared { .. } => 0,
            SlotPhase::Prepared { .. } => 1,
            SlotPhase::Committed => 2,
        };
        DurableMark {
            head: (
                core.view,
                core.status,
                core.next_seq,
                executed,
                core.stable.seq,
            ),
            slots: core
                .slots
                .iter()
                .map(|(s, slot)| (*s, phase(slot)))
                .collect(),
            certs: core
                .certs
                .iter()
                .map(|(s, c)| (*s, c.pre_prepare.value().view))
                .collect(),
            snapshot: snapshot.cloned(),
        }
    }

    /// Whether the durable part differs between the states these marks were taken of.
    pub fn differs(&self, other: &Self) -> bool {
        let snapshots_same = match (&self.snapshot, &other.snapshot) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        self.head != other.head
            || self.slots != other.slots
            || self.certs != other.certs
            || !snapshots_same
    }
}

/// The core's part of the durable projection: own slots of the current view.
pub fn own_slots<P: Clone, C: Crypto>(core: &CoreState<P, C>) -> BTreeMap<Seq, OwnSlot<P, C>> {
    core.slots
        .iter()
        .map(|(seq, slot)| {
            let own = match &slot.phase {
                SlotPhase::PrePrepared {
                    pre_prepare, batch, ..
                } => OwnSlot::PrePrepared {
                    pre_prepare: pre_prepare.clone(),
                    batch: batch.clone(),
                },
                SlotPhase::Prepared { .. } => OwnSlot::Prepared,
                SlotPhase::Committed => OwnSlot::Committed,
            };
            (*seq, own)
        })
        .collect()
}

impl<P: Payload, C: Crypto, R: Rules> Core<P, C, R> {
    /// The core after a crash, from what it saved: same view, status, watermarks, certificates
    /// and own position per sequence number, so it cannot sign anything that conflicts with
    /// what it signed before. Its own PRE-PREPAREs, PREPAREs and COMMITs of the current view
    /// are sent again (signatures are deterministic, so peers see the same messages and drop
    /// the duplicates); vote sets of others start empty and refill from peers' retransmissions
    /// or the next view change.
    #[allow(clippy::too_many_arguments)]
    pub fn recover(
        &self,
        view: View,
        status: Status,
        next_seq: Seq,
        slots: &BTreeMap<Seq, OwnSlot<P, C>>,
        certs: &BTreeMap<Seq, PreparedCert<P, C>>,
        stable: &StableCheckpoint<C>,
        out: &mut impl CoreOut<P, C>,
    ) -> CoreState<P, C> {
        let mut state = self.init();
        state.view = view;
        state.status = status;
        state.next_seq = next_seq;
        state.stable = stable.clone();
        state.certs = certs.clone();
        let is_primary = self.primary(view) == self.id();
        for (&seq, own) in slots {
            let slot = match own {
                OwnSlot::PrePrepared { pre_prepare, batch } => {
                    let digest = pre_prepare.value().digest.clone();
                    let mut prepares = Vec::new();
                    if is_primary {
                        let msg = CoreMsg::PrePrepare(pre_prepare.clone(), batch.clone());
                        self.broadcast(msg, out);
                    } else {
                        let own = self.signer.sign(Vote {
                            phase: Phase::Prepare,
                            view,
                            seq,
                            digest: digest.clone(),
                        });
                        self.broadcast(CoreMsg::Vote(own.clone()), out);
                        prepares.push(own);
                    }
                    let phase = SlotPhase::PrePrepared {
                        pre_prepare: pre_prepare.clone(),
                        batch: batch.clone(),
                        prepares,
                    };
                    Slot { digest, phase }
                }
                OwnSlot::Prepared | OwnSlot::Committed => {
                    let cert = certs
                        .get(&seq)
                        .expect("a prepared slot of the current view has its certificate");
                    let digest = cert.pre_prepare.value().digest.clone();
                    let phase = if matches!(own, OwnSlot::Committed) {
                        SlotPhase::Committed
                    } else {
                        let commit = self.signer.sign(Vote {
                            phase: Phase::Commit,
                            view,
                            seq,
                            digest: digest.clone(),
                        });
                        self.broadcast(CoreMsg::Vote(commit), out);
                        SlotPhase::Prepared {
                            commits: BTreeSet::from([self.id()]),
                        }
                    };
                    Slot { digest, phase }
                }
            };
            state.slots.insert(seq, slot);
        }
        if status == Status::ViewChanging {
            // The VIEW-CHANGE sent before the crash may be all that moves this view change;
            // if it stalls, the timer moves on to the next view (liveness rule (a)).
            out.set_timer(CoreTimer::ViewTimer, self.view_timeout.clone());
        }
        state
    }
}
