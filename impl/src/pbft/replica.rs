//! The PBFT replica actor: core + learner + an application. Executes committed batches in
//! sequence order, each request at most once; replies to clients (signed); takes checkpoints;
//! and catches up by state transfer verified against a 2f+1 checkpoint certificate.

use super::core::{Core, CoreState, Events};
use super::learner::{Learner, LearnerState};
use super::msgs::{Batch, CoreMsg, StableCheckpoint};
use super::rules::Rules;
use super::storage::{own_slots, DurableMark, OwnSlot, PbftStorage};
use super::{NodeState, PbftMsg, PbftNode, PbftTimer, Reply, Request, Seq, Snapshot};
use crate::component::{node_id, CowLens};
use crate::crypto::{Crypto, Keyring, NodeId, Signer};
use quorate_spec::{execute_and_apply, Application, ClientId, KvState, Ledger};
use serde::{Deserialize, Serialize};
use stateright::actor::Out;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

/// A replica's state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound(
    serialize = "Op: Serialize, Out: Serialize",
    deserialize = "Op: Deserialize<'de> + Ord, Out: Deserialize<'de>"
))]
pub struct ReplicaState<C: Crypto, Op, Out> {
    /// Ordering.
    pub core: CoreState<Request<C, Op>, C>,
    /// In-order delivery of committed sequence numbers.
    pub learner: LearnerState<Request<C, Op>>,
    /// Batches executed, one per sequence number after `log_base` (what `agreement` compares).
    pub log: Ledger<Batch<Request<C, Op>>>,
    /// Sequence numbers covered by an installed snapshot.
    pub log_base: Seq,
    /// Requests executed, in order, after the first `delivered_base` (what
    /// `refines-sequencer` compares).
    pub delivered: Ledger<Request<C, Op>>,
    /// Requests an installed snapshot stands for.
    pub delivered_base: u64,
    /// Application state.
    pub app: Arc<KvState>,
    /// Per client: last executed sequence number and its output.
    pub clients: Arc<BTreeMap<ClientId, (u64, Out)>>,
    /// Own snapshots at checkpoints not yet superseded by a later stable one.
    pub snapshots: BTreeMap<Seq, Arc<Snapshot<Out>>>,
}

impl<C: Crypto, Op, Out> ReplicaState<C, Op, Out> {
    /// Length of the delivered sequence, counting what a snapshot stands for.
    pub fn delivered_len(&self) -> u64 {
        self.delivered_base + self.delivered.len() as u64
    }

    /// The last sequence number executed (or installed).
    pub fn executed_upto(&self) -> Seq {
        self.log_base + self.log.len() as Seq
    }
}

/// A replica's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Replica<C: Crypto, A: Application, R: Rules> {
    /// Verifies clients' and replicas' signatures.
    pub keyring: Arc<Keyring<C>>,
    /// The replicated application.
    pub app: A,
    /// The consensus core.
    pub core: Core<Request<C, A::Op>, C, R>,
    /// The learner.
    pub learner: Learner,
}

type State<C, A> = NodeState<C, <A as Application>::Op, <A as Application>::Output>;
type RState<C, A> = ReplicaState<C, <A as Application>::Op, <A as Application>::Output>;
type Msg<C, A> = PbftMsg<C, <A as Application>::Op, <A as Application>::Output>;
type O<C, A, R> = Out<PbftNode<C, A, R>>;
type Req<C, A> = Request<C, <A as Application>::Op>;
type Storage<C, A> = PbftStorage<C, <A as Application>::Op, <A as Application>::Output>;

fn replica<C: Crypto, A: Application>(state: &State<C, A>) -> &RState<C, A> {
    state
        .as_replica()
        .expect("a replica's state is a replica state")
}

fn replica_mut<C: Crypto, A: Application>(state: &mut State<C, A>) -> &mut RState<C, A> {
    match state {
        NodeState::Replica(replica) => replica,
        _ => unreachable!("a replica's state is a replica state"),
    }
}

fn core_lens<'a, 'b, C: Crypto, A: Application>(
    state: &'a mut Cow<'b, State<C, A>>,
) -> CowLens<'a, 'b, State<C, A>, CoreState<Req<C, A>, C>> {
    CowLens::new(
        state,
        |s| &replica::<C, A>(s).core,
        |s| &mut replica_mut::<C, A>(s).core,
    )
}

impl<C: Crypto, A: Application, R: Rules> Replica<C, A, R> {
    /// A replica with the given knobs.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        signer: Signer<C>,
        replicas: Vec<NodeId>,
        primaries: Vec<NodeId>,
        keyring: Arc<Keyring<C>>,
        app: A,
        batch_max: usize,
        checkpoint_every: Seq,
        window: Seq,
        view_timeout: Range<Duration>,
    ) -> Self {
        Replica {
            keyring: keyring.clone(),
            app,
            core: Core::new(
                signer,
                replicas.clone(),
                primaries,
                keyring,
                batch_max,
                checkpoint_every,
                window,
                view_timeout,
            ),
            learner: Learner::new(replicas),
        }
    }

    /// This replica, as primary, keeping at most `slots` sequence numbers ordered and not yet
    /// committed (see [`Core::max_in_flight`]).
    pub fn with_max_in_flight(mut self, slots: usize) -> Self {
        self.core = self.core.with_max_in_flight(slots);
        self
    }

    /// This replica.
    pub fn id(&self) -> NodeId {
        self.core.id()
    }

    /// The initial state.
    pub fn init(&self) -> RState<C, A> {
        ReplicaState {
            core: self.core.init(),
            learner: self.learner.init(0),
            log: Ledger::new(),
            log_base: 0,
            delivered: Ledger::new(),
            delivered_base: 0,
            app: Arc::new(KvState::new()),
            clients: Arc::new(BTreeMap::new()),
            snapshots: BTreeMap::new(),
        }
    }

    /// Starts fresh, or recovers from storage: the core as it was, the application state of
    /// the stable checkpoint, then re-execution of what it had committed above that from its
    /// certificates; state transfer if it has no snapshot at its stable checkpoint.
    pub fn on_start(&self, storage: &Option<Storage<C, A>>, out: &mut O<C, A, R>) -> State<C, A> {
        let Some(storage) = storage else {
            return NodeState::Replica(Box::new(self.init()));
        };
        let mut rs = self.init();
        rs.core = self.core.recover(
            storage.view,
            storage.status,
            storage.next_seq,
            &storage.slots,
            &storage.certs,
            &storage.stable,
            out,
        );
        let stable = storage.stable.seq;
        let base = match &storage.snapshot {
            Some(snapshot) if snapshot.seq == stable => {
                rs.app = snapshot.app.clone();
                rs.clients = snapshot.clients.clone();
                rs.log_base = stable;
                rs.delivered_base = snapshot.delivered_len;
                rs.learner = self.learner.init(stable);
                rs.snapshots = BTreeMap::from([(stable, snapshot.clone())]);
                stable
            }
            _ => 0,
        };
        let mut state = Cow::Owned(NodeState::Replica(Box::new(rs)));
        if base < stable {
            // Nothing of its own covers the stable checkpoint: fetch it from the certifiers.
            self.on_stable(&mut state, stable, out);
            return state.into_owned();
        }
        // Re-execute from the certificates, in order up to the gap where they stop (every
        // sequence number it executed above the checkpoint has one); also hand the learner
        // what it had committed above the executed position, which no peer will resend.
        let committed_above = storage
            .slots
            .iter()
            .filter(|(seq, own)| **seq > storage.executed && matches!(own, OwnSlot::Committed))
            .map(|(seq, _)| *seq);
        let mut events = Events::default();
        for seq in (base + 1..=storage.executed).chain(committed_above) {
            let Some(cert) = storage.certs.get(&seq) else {
                break;
            };
            events.committed.push((seq, cert.batch.clone()));
        }
        self.handle(&mut state, events, out);
        state.into_owned()
    }

    /// The projection of state that survives a crash.
    pub fn durable(state: &RState<C, A>) -> Storage<C, A> {
        let core = &state.core;
        PbftStorage {
            view: core.view,
            status: core.status,
            next_seq: core.next_seq,
            executed: state.executed_upto(),
            slots: own_slots(core),
            certs: core.certs.clone(),
            stable: core.stable.clone(),
            snapshot: state.snapshots.get(&core.stable.seq).cloned(),
        }
    }

    fn mark(state: &State<C, A>) -> DurableMark<A::Output> {
        let rs = replica::<C, A>(state);
        let snapshot = rs.snapshots.get(&rs.core.stable.seq);
        DurableMark::of(&rs.core, rs.executed_upto(), snapshot)
    }

    /// Saves durable state if this step changed it: at most one save per step, made durable by
    /// the host before any of the step's sends leave (a vote is never out before it is kept).
    fn save_if_changed(
        &self,
        state: &State<C, A>,
        before: &DurableMark<A::Output>,
        out: &mut O<C, A, R>,
    ) {
        if Self::mark(state).differs(before) {
            out.save(Self::durable(replica::<C, A>(state)));
        }
    }

    fn request_ok(&self, request: &Req<C, A>) -> bool {
        let tx = request.value();
        request.verify(&self.keyring)
            && (request.signer() == tx.id.client || !R::CHECK_REQUEST_SIGNER)
            && self.app.well_formed(tx)
    }

    fn batch_ok(&self, batch: &Batch<Req<C, A>>) -> bool {
        match batch {
            Batch::NoOp => true,
            Batch::Requests(requests) => {
                !requests.is_empty() && requests.iter().all(|r| self.request_ok(r))
            }
        }
    }

    /// Every batch a core message carries is made of requests their clients signed.
    fn payloads_ok(&self, msg: &CoreMsg<Req<C, A>, C>) -> bool {
        match msg {
            CoreMsg::PrePrepare(_, batch) => self.batch_ok(batch),
            CoreMsg::NewView(nv) => nv
                .value()
                .pre_prepares
                .iter()
                .all(|(_, b)| self.batch_ok(b)),
            CoreMsg::ViewChange(vc) => vc.value().prepared.iter().all(|c| self.batch_ok(&c.batch)),
            CoreMsg::Vote(_) | CoreMsg::Checkpoint(_) => true,
        }
    }

    /// Handles one message.
    pub fn on_msg(
        &self,
        state: &mut Cow<State<C, A>>,
        src: NodeId,
        msg: Msg<C, A>,
        out: &mut O<C, A, R>,
    ) {
        let before = Self::mark(state);
        match msg {
            PbftMsg::Request(request) => self.on_request(state, request, out),
            PbftMsg::Core(msg) => {
                if !self.payloads_ok(&msg) {
                    return;
                }
                let events = self
                    .core
                    .on_msg(&mut core_lens::<C, A>(state), src, msg, out);
                self.handle(state, events, out);
            }
            PbftMsg::Fetch { seq } => self.on_fetch(state, src, seq, out),
            PbftMsg::State { proof, snapshot } => self.on_state(state, proof, snapshot, out),
            PbftMsg::Reply(_) => {}
        }
        self.save_if_changed(state, &before, out);
    }

    /// Handles a timer.
    pub fn on_timeout(
        &self,
        state: &mut Cow<State<C, A>>,
        timer: &PbftTimer,
        out: &mut O<C, A, R>,
    ) {
        let PbftTimer::Core(timer) = *timer else {
            return;
        };
        let before = Self::mark(state);
        let events = self
            .core
            .on_timeout(&mut core_lens::<C, A>(state), timer, out);
        self.handle(state, events, out);
        self.save_if_changed(state, &before, out);
    }

    fn on_request(&self, state: &mut Cow<State<C, A>>, request: Req<C, A>, out: &mut O<C, A, R>) {
        if !self.request_ok(&request) {
            return; // a request its client did not sign, or a malformed one, is never ordered
        }
        let id = request.value().id;
        match replica::<C, A>(state).clients.get(&id.client) {
            Some((seq, output)) if *seq == id.seq => {
                // Executed already: the client lost replies, so send ours again.
                let view = replica::<C, A>(state).core.view;
                self.reply(view, id, output.clone(), out);
            }
            Some((seq, _)) if *seq > id.seq => {}
            _ => self
                .core
                .propose(&mut core_lens::<C, A>(state), request, out),
        }
    }

    fn reply(
        &self,
        view: super::View,
        tx: quorate_spec::TxId,
        output: A::Output,
        out: &mut O<C, A, R>,
    ) {
        let signed = self.core.signer.sign(Reply { view, tx, output });
        out.send(node_id(tx.client), PbftMsg::Reply(signed));
    }

    /// Acts on a core step's events: executes what became deliverable, takes checkpoints, and
    /// asks for state when a stable checkpoint is above what this replica executed.
    fn handle(
        &self,
        state: &mut Cow<State<C, A>>,
        events: Events<Req<C, A>>,
        out: &mut O<C, A, R>,
    ) {
        let mut pending = vec![events];
        while let Some(events) = pending.pop() {
            for (seq, batch) in events.committed {
                let rs = replica_mut::<C, A>(state.to_mut());
                let deliver = self.learner.commit(&mut rs.learner, seq, batch);
                for (seq, batch) in deliver {
                    pending.extend(self.execute(state, seq, batch, out));
                }
            }
            if let Some(stable) = events.stable {
                self.on_stable(state, stable, out);
            }
        }
    }

    /// Executes one committed batch; skips requests already executed (a retry ordered twice).
    fn execute(
        &self,
        state: &mut Cow<State<C, A>>,
        seq: Seq,
        batch: Batch<Req<C, A>>,
        out: &mut O<C, A, R>,
    ) -> Option<Events<Req<C, A>>> {
        let rs = replica_mut::<C, A>(state.to_mut());
        debug_assert_eq!(
            seq,
            rs.executed_upto() + 1,
            "execution follows sequence order"
        );
        let view = rs.core.view;
        rs.log.push(batch.clone());
        let mut done = Vec::new();
        if let Batch::Requests(requests) = batch {
            for request in requests {
                let id = request.value().id;
                if rs
                    .clients
                    .get(&id.client)
                    .is_some_and(|(s, _)| *s >= id.seq)
                {
                    continue;
                }
                let output =
                    execute_and_apply(&self.app, Arc::make_mut(&mut rs.app), request.value());
                Arc::make_mut(&mut rs.clients).insert(id.client, (id.seq, output.clone()));
                rs.delivered.push(request.clone());
                done.push(request);
                self.reply(view, id, output, out);
            }
        }
        self.core
            .executed(&mut core_lens::<C, A>(state), &done, out);
        let every = self.core.checkpoint_every;
        if every == 0 || !seq.is_multiple_of(every) {
            return None;
        }
        let rs = replica_mut::<C, A>(state.to_mut());
        let snapshot = Arc::new(Snapshot {
            seq,
            delivered_len: rs.delivered_len(),
            app: rs.app.clone(),
            clients: rs.clients.clone(),
        });
        let digest = C::digest(&snapshot);
        rs.snapshots.insert(seq, snapshot);
        Some(
            self.core
                .checkpoint(&mut core_lens::<C, A>(state), seq, digest, out),
        )
    }

    /// A checkpoint became stable: drop older snapshots, and fetch the state if behind it.
    fn on_stable(&self, state: &mut Cow<State<C, A>>, stable: Seq, out: &mut O<C, A, R>) {
        let rs = replica_mut::<C, A>(state.to_mut());
        rs.snapshots = rs.snapshots.split_off(&stable);
        if rs.executed_upto() >= stable {
            return;
        }
        for signer in rs.core.stable.proof.iter().map(|c| c.signer()) {
            if signer != self.id() {
                out.send(node_id(signer), PbftMsg::Fetch { seq: stable });
            }
        }
    }

    fn on_fetch(&self, state: &mut Cow<State<C, A>>, src: NodeId, seq: Seq, out: &mut O<C, A, R>) {
        let rs = replica::<C, A>(state);
        if rs.core.stable.seq != seq || !self.core.replicas.contains(&src) {
            return;
        }
        if let Some(snapshot) = rs.snapshots.get(&seq) {
            out.send(
                node_id(src),
                PbftMsg::State {
                    proof: rs.core.stable.clone(),
                    snapshot: snapshot.clone(),
                },
            );
        }
    }

    /// Installs transferred state if its certificate proves it (2f+1 matching CHECKPOINTs on
    /// its digest) and it is ahead of this replica.
    fn on_state(
        &self,
        state: &mut Cow<State<C, A>>,
        proof: StableCheckpoint<C>,
        snapshot: Arc<Snapshot<A::Output>>,
        out: &mut O<C, A, R>,
    ) {
        let rs = replica::<C, A>(state);
        let certified = proof.seq == snapshot.seq
            && proof.is_valid(self.core.quorum(), &self.keyring, &self.core.replicas)
            && proof.state() == Some(&C::digest(&snapshot));
        if snapshot.seq <= rs.executed_upto() || (R::VERIFY_STATE_TRANSFER && !certified) {
            return;
        }
        let seq = snapshot.seq;
        let rs = replica_mut::<C, A>(state.to_mut());
        rs.app = snapshot.app.clone();
        if R::TRANSFER_CLIENT_TABLE {
            rs.clients = snapshot.clients.clone();
        }
        rs.log = Ledger::new();
        rs.log_base = seq;
        rs.delivered = Ledger::new();
        rs.delivered_base = snapshot.delivered_len;
        rs.snapshots = BTreeMap::from([(seq, snapshot)]);
        let deliver = self.learner.skip_to(&mut rs.learner, seq);
        if certified && proof.seq > rs.core.stable.seq {
            self.core
                .install_stable(&mut core_lens::<C, A>(state), proof, out);
        }
        let mut events = Events::default();
        for (seq, batch) in deliver {
            if let Some(more) = self.execute(state, seq, batch, out) {
                events.absorb(more);
            }
        }
        self.handle(state, events, out);
    }
}
