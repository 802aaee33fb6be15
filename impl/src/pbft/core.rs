//! The PBFT consensus core, normal case and checkpoints (seed 001 §2.3; card §5.4, §6.2).
//!
//! A component, not an actor: the replica owns a [`CoreState`], calls the handlers with a
//! [`CowLens`] onto it, and gets back the sequence numbers this replica committed. View change
//! is in [`super::view_change`].
//!
//! State is shaped for exhaustive checking (design-review §11): a replica's own PREPARE/COMMIT
//! is counted inside the step that creates it (never sent to itself); a slot's vote set is
//! dropped once its threshold is reached (the prepared certificate keeps exactly the votes it
//! needs). A vote that arrives before its slot can count it is kept in `early` (bounded by the
//! watermark window and one vote per signer and phase) and counted when the slot gets there.

use super::msgs::Vote;
use super::msgs::{Batch, Checkpoint, CoreMsg, Phase, PrePrepare, PreparedCert, StableCheckpoint};
use super::rules::Rules;
use super::{Seq, View};
use crate::component::{CowLens, Emit};
use crate::crypto::{Crypto, Keyring, NodeId, Signed, Signer};
use crate::paxos::core::Payload;
use crate::quorum;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

/// Timers of the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CoreTimer {
    /// A backup waited too long for a request (or a view change) to complete.
    ViewTimer,
}

/// Whether the replica takes part in ordering or is changing views.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Status {
    /// Accepting PRE-PREPARE / PREPARE / COMMIT for `view`.
    Normal,
    /// Sent VIEW-CHANGE for `view`; waiting for its NEW-VIEW.
    ViewChanging,
}

/// Where one sequence number of the current view stands.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound(serialize = "P: Serialize", deserialize = "P: Deserialize<'de>"))]
pub enum SlotPhase<P, C: Crypto> {
    /// PRE-PREPARE accepted; collecting PREPAREs (own included, if a backup).
    PrePrepared {
        /// The primary's PRE-PREPARE.
        pre_prepare: Signed<PrePrepare<C::Digest>, C>,
        /// Its batch.
        batch: Batch<P>,
        /// PREPAREs so far, ordered by signer.
        prepares: Vec<Signed<Vote<C::Digest>, C>>,
    },
    /// Prepared (the certificate is in `CoreState::certs`); collecting COMMITs, own included.
    Prepared {
        /// Who committed so far.
        commits: BTreeSet<NodeId>,
    },
    /// Committed locally; the vote sets are gone.
    Committed,
}

/// One sequence number of the current view.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound(serialize = "P: Serialize", deserialize = "P: Deserialize<'de>"))]
pub struct Slot<P, C: Crypto> {
    /// The digest the PRE-PREPARE carried.
    pub digest: C::Digest,
    /// Progress.
    pub phase: SlotPhase<P, C>,
}

/// The core's part of a replica's state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound(serialize = "P: Serialize", deserialize = "P: Deserialize<'de>"))]
pub struct CoreState<P, C: Crypto> {
    /// Current view (while changing: the view being moved to).
    pub view: View,
    /// Normal or changing views.
    pub status: Status,
    /// Sequence numbers of the current view, within the watermarks.
    pub slots: BTreeMap<Seq, Slot<P, C>>,
    /// The latest prepared certificate per sequence number above the stable checkpoint, kept
    /// across views for VIEW-CHANGE messages.
    pub certs: BTreeMap<Seq, PreparedCert<P, C>>,
    /// The last stable checkpoint: the low watermark h.
    pub stable: StableCheckpoint<C>,
    /// CHECKPOINT messages above `stable`, per sequence number, ordered by signer.
    pub checkpoints: BTreeMap<Seq, Vec<super::msgs::SignedCheckpoint<C>>>,
    /// VIEW-CHANGE messages for views at or above the current one, ordered by signer.
    pub view_changes: BTreeMap<View, Vec<super::msgs::SignedViewChange<P, C>>>,
    /// Primary only: the next sequence number to assign.
    pub next_seq: Seq,
    /// Requests received and not yet executed: the primary orders them, a backup watches them.
    pub pending: Vec<P>,
    /// Votes of the current view that arrived before their slot could count them (a PREPARE
    /// before the PRE-PREPARE, a COMMIT before this replica prepared), per sequence number in
    /// the window, at most one per (signer, phase), ordered by (signer, phase). A real network
    /// delivers a vote once: dropping it would stall the slot until a view change.
    pub early: BTreeMap<Seq, Vec<SignedVote<C>>>,
    /// While changing views: PRE-PREPAREs of the view being moved to that arrived before its
    /// NEW-VIEW (the network reorders the primary's NEW-VIEW and its first fresh PRE-PREPAREs;
    /// dropping them left the new view without a prepare quorum until it timed out too).
    /// The first per sequence number wins; logged on entering that view.
    pub early_pre_prepares: BTreeMap<Seq, (SignedPrePrepare<C>, Batch<P>)>,
}

/// A signed PRE-PREPARE.
pub type SignedPrePrepare<C> = Signed<PrePrepare<<C as Crypto>::Digest>, C>;

/// A signed PREPARE or COMMIT.
pub type SignedVote<C> = Signed<Vote<<C as Crypto>::Digest>, C>;

impl<P, C: Crypto> CoreState<P, C> {
    /// The low watermark h.
    pub fn low(&self) -> Seq {
        self.stable.seq
    }
}

/// What a core step produced for the replica to act on.
#[derive(Debug, PartialEq, Eq)]
pub struct Events<P> {
    /// Sequence numbers committed locally in this step, with their batches.
    pub committed: Vec<(Seq, Batch<P>)>,
    /// A checkpoint became stable in this step (its sequence number).
    pub stable: Option<Seq>,
}

impl<P> Default for Events<P> {
    fn default() -> Self {
        Events {
            committed: Vec::new(),
            stable: None,
        }
    }
}

impl<P> Events<P> {
    pub(super) fn absorb(&mut self, other: Events<P>) {
        self.committed.extend(other.committed);
        self.stable = other.stable.or(self.stable);
    }
}

/// The core's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Core<P, C: Crypto, R> {
    /// Signs as this replica only.
    pub signer: Signer<C>,
    /// Every replica.
    pub replicas: Vec<NodeId>,
    /// Faults tolerated.
    pub f: usize,
    /// The primary of view v is `primaries[v mod len]` (fixed per configuration: rotation
    /// would break the replicas' symmetry, DESIGN §4).
    pub primaries: Vec<NodeId>,
    /// Verifies replicas' signatures.
    pub keyring: Arc<Keyring<C>>,
    /// Requests per batch at most.
    pub batch_max: usize,
    /// A checkpoint every this many sequence numbers (K); 0 disables checkpoints.
    pub checkpoint_every: Seq,
    /// Watermark window L: sequence numbers in (h, h + L] are accepted.
    pub window: Seq,
    /// How long a backup waits before suspecting the primary.
    pub view_timeout: Range<Duration>,
    /// Primary: sequence numbers of the current view it keeps ordered but not yet committed
    /// at most (unbounded by default: the window alone limits). A small pipeline lets requests
    /// that arrive meanwhile gather into the next batch instead of one slot each.
    pub max_in_flight: usize,
    pub(super) _marker: PhantomData<fn() -> (P, R)>,
}

/// The emitter every core handler writes to.
pub trait CoreOut<P, C: Crypto>: Emit<CoreMsg<P, C>, CoreTimer> {}
impl<P, C: Crypto, T: Emit<CoreMsg<P, C>, CoreTimer>> CoreOut<P, C> for T {}

/// A lens onto the core state inside an outer state `O`.
pub type Lens<'a, 'b, O, P, C> = CowLens<'a, 'b, O, CoreState<P, C>>;

impl<P: Payload, C: Crypto, R: Rules> Core<P, C, R> {
    /// A core for the replica `signer` signs as.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        signer: Signer<C>,
        replicas: Vec<NodeId>,
        primaries: Vec<NodeId>,
        keyring: Arc<Keyring<C>>,
        batch_max: usize,
        checkpoint_every: Seq,
        window: Seq,
        view_timeout: Range<Duration>,
    ) -> Self {
        let f = quorum::bft_max_faults(replicas.len());
        assert!(replicas.contains(&signer.id()), "replica not in membership");
        assert!(
            !primaries.is_empty() && primaries.iter().all(|p| replicas.contains(p)),
            "every primary is a replica"
        );
        assert!(
            batch_max >= 1 && window >= 1,
            "batch and window are at least 1"
        );
        Core {
            signer,
            replicas,
            f,
            primaries,
            keyring,
            batch_max,
            checkpoint_every,
            window,
            view_timeout,
            max_in_flight: usize::MAX,
            _marker: PhantomData,
        }
    }

    /// This core, as primary, keeping at most `slots` sequence numbers ordered and not yet
    /// committed (see [`Core::max_in_flight`]).
    pub fn with_max_in_flight(mut self, slots: usize) -> Self {
        assert!(slots >= 1, "a pipeline of at least one sequence number");
        self.max_in_flight = slots;
        self
    }

    /// This replica.
    pub fn id(&self) -> NodeId {
        self.signer.id()
    }

    /// The primary of `view`.
    pub fn primary(&self, view: View) -> NodeId {
        self.primaries[view as usize % self.primaries.len()]
    }

    /// 2f+1: commit, checkpoint, view-change and new-view quorums.
    pub fn quorum(&self) -> usize {
        quorum::bft_quorum(self.f)
    }

    pub(super) fn peers(&self) -> impl Iterator<Item = NodeId> + '_ {
        let me = self.id();
        self.replicas.iter().copied().filter(move |&r| r != me)
    }

    pub(super) fn broadcast(&self, msg: CoreMsg<P, C>, out: &mut impl CoreOut<P, C>) {
        for peer in self.peers() {
            out.send(peer, msg.clone());
        }
    }

    /// The initial state: view 0, nothing ordered.
    pub fn init(&self) -> CoreState<P, C> {
        CoreState {
            view: 0,
            status: Status::Normal,
            slots: BTreeMap::new(),
            certs: BTreeMap::new(),
            stable: StableCheckpoint::genesis(),
            checkpoints: BTreeMap::new(),
            view_changes: BTreeMap::new(),
            next_seq: 1,
            pending: Vec::new(),
            early: BTreeMap::new(),
            early_pre_prepares: BTreeMap::new(),
        }
    }

    pub(super) fn in_window(&self, state: &CoreState<P, C>, seq: Seq) -> bool {
        seq > state.low() && seq <= state.low() + self.window
    }

    /// A request reached this replica and is not executed yet. The primary orders it; a
    /// backup remembers it and, unless it already watches one, starts its view timer (card
    /// §6.2 "Timers"). Restarting the timer on every new request would let clients that keep
    /// retrying within the timeout postpone a view change away from a silent primary forever.
    pub fn propose<O: Clone>(
        &self,
        st: &mut Lens<'_, '_, O, P, C>,
        payload: P,
        out: &mut impl CoreOut<P, C>,
    ) {
        if st.get().pending.contains(&payload) {
            return;
        }
        let watching = !st.get().pending.is_empty();
        st.to_mut().pending.push(payload);
        if self.primary(st.get().view) == self.id() {
            self.fill(st, out);
        } else if !watching {
            out.set_timer(CoreTimer::ViewTimer, self.view_timeout.clone());
        }
    }

    /// The replica executed these payloads: stop watching them. A backup still watching
    /// others restarts its view timer, as the primary is making progress.
    pub fn executed<O: Clone>(
        &self,
        st: &mut Lens<'_, '_, O, P, C>,
        payloads: &[P],
        out: &mut impl CoreOut<P, C>,
    ) {
        if !payloads.iter().any(|p| st.get().pending.contains(p)) {
            return;
        }
        let state = st.to_mut();
        state.pending.retain(|p| !payloads.contains(p));
        if state.status != Status::Normal {
            return;
        }
        if state.pending.is_empty() {
            out.cancel_timer(CoreTimer::ViewTimer);
        } else if self.primary(state.view) != self.id() {
            out.set_timer(CoreTimer::ViewTimer, self.view_timeout.clone());
        }
    }

    fn is_ordered(state: &CoreState<P, C>, payload: &P) -> bool {
        let in_batch = |b: &Batch<P>| matches!(b, Batch::Requests(ps) if ps.contains(payload));
        state.certs.values().any(|c| in_batch(&c.batch))
            || state.slots.values().any(|s| match &s.phase {
                SlotPhase::PrePrepared { batch, .. } => in_batch(batch),
                _ => false,
            })
    }

    /// Primary: orders pending requests, one batch per sequence number, within the window.
    pub(super) fn fill<O: Clone>(
        &self,
        st: &mut Lens<'_, '_, O, P, C>,
        out: &mut impl CoreOut<P, C>,
    ) {
        loop {
            let state = st.get();
            let in_flight = || {
                let open = |s: &&Slot<P, C>| !matches!(s.phase, SlotPhase::Committed);
                state.slots.values().filter(open).count()
            };
            if state.status != Status::Normal
                || self.primary(state.view) != self.id()
                || !self.in_window(state, state.next_seq)
                || (self.max_in_flight != usize::MAX && in_flight() >= self.max_in_flight)
            {
                return;
            }
            let batch: Vec<P> = state
                .pending
                .iter()
                .filter(|p| !Self::is_ordered(state, p))
                .take(self.batch_max)
                .cloned()
                .collect();
            if batch.is_empty() {
                return;
            }
            let seq = state.next_seq;
            st.to_mut().next_seq += 1;
            self.pre_prepare(st, seq, Batch::Requests(batch), out);
        }
    }

    /// Primary: signs and sends PRE-PREPARE(view, seq, D(batch)) and logs it.
    pub(super) fn pre_prepare<O: Clone>(
        &self,
        st: &mut Lens<'_, '_, O, P, C>,
        seq: Seq,
        batch: Batch<P>,
        out: &mut impl CoreOut<P, C>,
    ) {
        let view = st.get().view;
        let digest = C::digest(&batch);
        let signed = self.signer.sign(PrePrepare {
            view,
            seq,
            digest: digest.clone(),
        });
        self.broadcast(CoreMsg::PrePrepare(signed.clone(), batch.clone()), out);
        self.log_pre_prepare(st, signed, batch, out);
    }

    /// Logs an accepted PRE-PREPARE; a backup adds and sends its own PREPARE.
    pub(super) fn log_pre_prepare<O: Clone>(
        &self,
        st: &mut Lens<'_, '_, O, P, C>,
        pre_prepare: Signed<PrePrepare<C::Digest>, C>,
        batch: Batch<P>,
        out: &mut impl CoreOut<P, C>,
    ) -> Events<P> {
        let pp = pre_prepare.value().clone();
        let mut prepares = Vec::new();
        if self.primary(pp.view) != self.id() {
            let own = self.signer.sign(Vote {
                phase: Phase::Prepare,
                view: pp.view,
                seq: pp.seq,
                digest: pp.digest.clone(),
            });
            self.broadcast(CoreMsg::Vote(own.clone()), out);
            prepares.push(own);
        }
        let state = st.to_mut();
        // PREPAREs that came before this PRE-PREPARE count now if they match it; early COMMITs
        // wait for `prepared`; votes for another digest can never count in this view.
        let mut commits = Vec::new();
        for vote in state.early.remove(&pp.seq).unwrap_or_default() {
            if vote.value().digest != pp.digest {
                continue;
            }
            match vote.value().phase {
                Phase::Prepare => {
                    let at = prepares.partition_point(|p| p.signer() < vote.signer());
                    prepares.insert(at, vote);
                }
                Phase::Commit => commits.push(vote),
            }
        }
        if !commits.is_empty() {
            state.early.insert(pp.seq, commits);
        }
        let slot = Slot {
            digest: pp.digest,
            phase: SlotPhase::PrePrepared {
                pre_prepare,
                batch,
                prepares,
            },
        };
        state.slots.insert(pp.seq, slot);
        self.check_prepared(st, pp.seq, out)
    }

    /// Handles a message from another core.
    pub fn on_msg<O: Clone>(
        &self,
        st: &mut Lens<'_, '_, O, P, C>,
        src: NodeId,
        msg: CoreMsg<P, C>,
        out: &mut impl CoreOut<P, C>,
    ) -> Events<P> {
        if !self.replicas.contains(&src) {
            return Events::default(); // only replicas take part in consensus
        }
        match msg {
            CoreMsg::PrePrepare(signed, batch) => self.on_pre_prepare(st, signed, batch, out),
            CoreMsg::Vote(vote) => self.on_vote(st, vote, out),
            CoreMsg::Checkpoint(checkpoint) => self.on_checkpoint(st, checkpoint, out),
            CoreMsg::ViewChange(vc) => self.on_view_change(st, vc, out),
            CoreMsg::NewView(nv) => self.on_new_view(st, nv, out),
        }
    }

    fn on_pre_prepare<O: Clone>(
        &self,
        st: &mut Lens<'_, '_, O, P, C>,
        signed: Signed<PrePrepare<C::Digest>, C>,
        batch: Batch<P>,
        out: &mut impl CoreOut<P, C>,
    ) -> Events<P> {
        let state = st.get();
        let pp = signed.value();
        let from_primary = signed.signer() == self.primary(pp.view);
        let changing = state.status == Status::ViewChanging;
        // The first PRE-PREPARE for (v, n) wins.
        let first = if changing {
            !state.early_pre_prepares.contains_key(&pp.seq)
        } else {
            !state.slots.contains_key(&pp.seq)
        };
        let acceptable = pp.view == state.view
            && (from_primary || !R::CHECK_PRIMARY)
            && signed.signer() != self.id()
            && self.replicas.contains(&signed.signer())
            && self.in_window(state, pp.seq)
            && first
            && pp.digest == C::digest(&batch)
            && signed.verify(&self.keyring);
        if !acceptable {
            return Events::default();
        }
        if changing {
            let seq = pp.seq;
            st.to_mut().early_pre_prepares.insert(seq, (signed, batch));
            return Events::default();
        }
        self.log_pre_prepare(st, signed, batch, out)
    }

    fn on_vote<O: Clone>(
        &self,
        st: &mut Lens<'_, '_, O, P, C>,
        signed: SignedVote<C>,
        out: &mut impl CoreOut<P, C>,
    ) -> Events<P> {
        let state = st.get();
        let vote = signed.value();
        let voter = signed.signer();
        // While changing views, votes of the view being moved to wait in `early` (their
        // PRE-PREPARE may come before the NEW-VIEW, see `early_pre_prepares`).
        let eligible = vote.view == state.view
            && voter != self.id()
            && self.replicas.contains(&voter)
            && !(vote.phase == Phase::Prepare && voter == self.primary(vote.view))
            && self.in_window(state, vote.seq);
        if !eligible {
            return Events::default();
        }
        let counts_now = match state.slots.get(&vote.seq) {
            None => false,
            Some(slot) if slot.digest != vote.digest => return Events::default(),
            Some(slot) => match (&slot.phase, vote.phase) {
                (SlotPhase::PrePrepared { prepares, .. }, Phase::Prepare) => {
                    if prepares.iter().any(|p| p.signer() == voter) {
                        return Events::default();
                    }
                    true
                }
                (SlotPhase::PrePrepared { .. }, Phase::Commit) => false,
                (SlotPhase::Prepared { commits }, Phase::Commit) => {
                    if commits.contains(&voter) {
                        return Events::default();
                    }
                    true
                }
                _ => return Events::default(),
            },
        };
        if !counts_now {
            return self.keep_early(st, signed);
        }
        if !signed.verify(&self.keyring) {
            return Events::default();
        }
        let seq = vote.seq;
        let slot = st.to_mut().slots.get_mut(&seq).expect("checked above");
        match &mut slot.phase {
            SlotPhase::PrePrepared { prepares, .. } => {
                let at = prepares.partition_point(|p| p.signer() < voter);
                prepares.insert(at, signed);
                self.check_prepared(st, seq, out)
            }
            SlotPhase::Prepared { commits } => {
                commits.insert(voter);
                let events = self.check_committed(st, seq);
                if !events.committed.is_empty() && self.max_in_flight != usize::MAX {
                    self.fill(st, out); // the pipeline has room again
                }
                events
            }
            SlotPhase::Committed => unreachable!("checked above"),
        }
    }

    /// Keeps a vote its slot cannot count yet; the first one per (signer, phase) wins, as a
    /// correct replica sends one of each per sequence number and view.
    fn keep_early<O: Clone>(
        &self,
        st: &mut Lens<'_, '_, O, P, C>,
        signed: SignedVote<C>,
    ) -> Events<P> {
        let key = |v: &SignedVote<C>| (v.signer(), v.value().phase);
        let seq = signed.value().seq;
        let known = st
            .get()
            .early
            .get(&seq)
            .is_some_and(|votes| votes.iter().any(|v| key(v) == key(&signed)));
        if known || !signed.verify(&self.keyring) {
            return Events::default();
        }
        let votes = st.to_mut().early.entry(seq).or_default();
        let at = votes.partition_point(|v| key(v) < key(&signed));
        votes.insert(at, signed);
        Events::default()
    }

    /// `prepared`: PRE-PREPARE + 2f matching PREPAREs. Moves the votes into a certificate,
    /// sends this replica's COMMIT and counts it.
    fn check_prepared<O: Clone>(
        &self,
        st: &mut Lens<'_, '_, O, P, C>,
        seq: Seq,
        out: &mut impl CoreOut<P, C>,
    ) -> Events<P> {
        let ready = matches!(
            st.get().slots.get(&seq).map(|s| &s.phase),
            Some(SlotPhase::PrePrepared { prepares, .. }) if prepares.len() >= R::prepare_votes(self.f)
        );
        if !ready {
            return Events::default();
        }
        let state = st.to_mut();
        // Own COMMIT, and the early ones (their digest matched the slot when they were kept).
        let mut commits = BTreeSet::from([self.id()]);
        commits.extend(
            state
                .early
                .remove(&seq)
                .unwrap_or_default()
                .iter()
                .filter(|v| v.value().phase == Phase::Commit)
                .map(|v| v.signer()),
        );
        let slot = state.slots.get_mut(&seq).expect("checked above");
        let previous = std::mem::replace(&mut slot.phase, SlotPhase::Prepared { commits });
        let SlotPhase::PrePrepared {
            pre_prepare,
            batch,
            prepares,
        } = previous
        else {
            unreachable!("checked above")
        };
        let view = pre_prepare.value().view;
        let digest = slot.digest.clone();
        state.certs.insert(
            seq,
            PreparedCert {
                pre_prepare,
                batch,
                prepares,
            },
        );
        let commit = self.signer.sign(Vote {
            phase: Phase::Commit,
            view,
            seq,
            digest,
        });
        self.broadcast(CoreMsg::Vote(commit), out);
        let events = self.check_committed(st, seq);
        if !events.committed.is_empty() && self.max_in_flight != usize::MAX {
            self.fill(st, out); // early COMMITs completed it at once: room in the pipeline
        }
        events
    }

    /// `committed-local`: prepared and 2f+1 matching COMMITs (own included).
    fn check_committed<O: Clone>(&self, st: &mut Lens<'_, '_, O, P, C>, seq: Seq) -> Events<P> {
        let ready = matches!(
            st.get().slots.get(&seq).map(|s| &s.phase),
            Some(SlotPhase::Prepared { commits }) if commits.len() >= R::commit_votes(self.f)
        );
        if !ready {
            return Events::default();
        }
        let state = st.to_mut();
        state.slots.get_mut(&seq).expect("checked above").phase = SlotPhase::Committed;
        let batch = state.certs[&seq].batch.clone();
        Events {
            committed: vec![(seq, batch)],
            stable: None,
        }
    }

    /// The replica executed `seq` (a multiple of K) and reached state digest `state_digest`:
    /// sign and send CHECKPOINT, and count it.
    pub fn checkpoint<O: Clone>(
        &self,
        st: &mut Lens<'_, '_, O, P, C>,
        seq: Seq,
        state_digest: C::Digest,
        out: &mut impl CoreOut<P, C>,
    ) -> Events<P> {
        let own = self.signer.sign(Checkpoint {
            seq,
            state: state_digest,
        });
        self.broadcast(CoreMsg::Checkpoint(own.clone()), out);
        self.record_checkpoint(st, own, out)
    }

    fn on_checkpoint<O: Clone>(
        &self,
        st: &mut Lens<'_, '_, O, P, C>,
        signed: Signed<Checkpoint<C::Digest>, C>,
        out: &mut impl CoreOut<P, C>,
    ) -> Events<P> {
        let valid = signed.signer() != self.id()
            && self.replicas.contains(&signed.signer())
            && signed.verify(&self.keyring);
        if !valid {
            return Events::default();
        }
        self.record_checkpoint(st, signed, out)
    }

    fn record_checkpoint<O: Clone>(
        &self,
        st: &mut Lens<'_, '_, O, P, C>,
        signed: Signed<Checkpoint<C::Digest>, C>,
        out: &mut impl CoreOut<P, C>,
    ) -> Events<P> {
        let state = st.get();
        let seq = signed.value().seq;
        let signer = signed.signer();
        let known = state
            .checkpoints
            .get(&seq)
            .is_some_and(|votes| votes.iter().any(|v| v.signer() == signer));
        if seq <= state.low() || known {
            return Events::default();
        }
        let state = st.to_mut();
        let votes = state.checkpoints.entry(seq).or_default();
        let at = votes.partition_point(|v| v.signer() < signer);
        let digest = signed.value().state.clone();
        votes.insert(at, signed);
        let proof: Vec<_> = votes
            .iter()
            .filter(|v| v.value().state == digest)
            .cloned()
            .collect();
        if proof.len() < self.quorum() {
            return Events::default();
        }
        self.install_stable(st, StableCheckpoint { seq, proof }, out);
        Events {
            committed: Vec::new(),
            stable: Some(seq),
        }
    }

    /// Makes `stable` the low watermark and discards everything at or below it; a primary
    /// then orders what waited for the window to move.
    pub(super) fn install_stable<O: Clone>(
        &self,
        st: &mut Lens<'_, '_, O, P, C>,
        stable: StableCheckpoint<C>,
        out: &mut impl CoreOut<P, C>,
    ) {
        let state = st.to_mut();
        let seq = stable.seq;
        debug_assert!(seq > state.stable.seq, "stable checkpoints only advance");
        state.stable = stable;
        state.slots = state.slots.split_off(&(seq + 1));
        state.certs = state.certs.split_off(&(seq + 1));
        state.checkpoints = state.checkpoints.split_off(&(seq + 1));
        state.early = state.early.split_off(&(seq + 1));
        state.next_seq = state.next_seq.max(seq + 1);
        self.fill(st, out);
    }
}
