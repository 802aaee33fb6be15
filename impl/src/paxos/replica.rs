//! The Paxos replica actor: consensus core + learner + an application, executed exactly once per
//! request in slot order, with snapshots that let the acceptor log be compacted.

use super::core::{Core, CoreMsg, CoreState};
use super::learner::{Learner, LearnerMsg, LearnerState};
use super::rules::Rules;
use super::{NodeState, PaxosMsg, PaxosStorage, PaxosTimer, Request, Slot, Snapshot, Value};
use crate::component::CowLens;
use crate::crypto::{Crypto, Keyring, NodeId};
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
    deserialize = "Op: Deserialize<'de>, Out: Deserialize<'de>"
))]
pub struct ReplicaState<C: Crypto, Op, Out> {
    /// Proposer and acceptor.
    pub core: CoreState<Request<C, Op>>,
    /// Slot ordering and catch-up.
    pub learner: LearnerState<Request<C, Op>>,
    /// Requests executed, in order, after the first `delivered_base` (which a snapshot covers).
    /// This is the learner's delivered sequence that `refines-sequencer` speaks of.
    pub delivered: Ledger<Request<C, Op>>,
    /// How many delivered requests the installed snapshot stands for.
    pub delivered_base: u64,
    /// Application state.
    pub app: Arc<KvState>,
    /// Per client: last executed sequence number and its output.
    pub clients: Arc<BTreeMap<ClientId, (u64, Out)>>,
    /// The latest snapshot taken or installed.
    pub snapshot: Option<Arc<Snapshot<Out>>>,
}

impl<C: Crypto, Op, Out> ReplicaState<C, Op, Out> {
    /// Length of the delivered sequence, counting what the snapshot stands for.
    pub fn delivered_len(&self) -> u64 {
        self.delivered_base + self.delivered.len() as u64
    }
}

/// A replica's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Replica<C: Crypto, A: Application, R: Rules> {
    /// This replica.
    pub id: NodeId,
    /// Verifies client signatures.
    pub keyring: Arc<Keyring<C>>,
    /// The replicated application.
    pub app: A,
    /// The consensus core.
    pub core: Core<Request<C, A::Op>, R>,
    /// The learner.
    pub learner: Learner<R>,
    /// Take a snapshot (and compact) after every slot divisible by this; 0 disables.
    pub snapshot_every: Slot,
}

type State<C, A> = NodeState<C, <A as Application>::Op, <A as Application>::Output>;
type RState<C, A> = ReplicaState<C, <A as Application>::Op, <A as Application>::Output>;
type Msg<C, A> = PaxosMsg<C, <A as Application>::Op, <A as Application>::Output>;
type Storage<C, A> = PaxosStorage<C, <A as Application>::Op, <A as Application>::Output>;

fn replica<C: Crypto, A: Application>(state: &State<C, A>) -> &RState<C, A> {
    match state {
        NodeState::Replica(replica) => replica,
        NodeState::Client(_) => unreachable!("a replica's state is a replica state"),
    }
}

fn replica_mut<C: Crypto, A: Application>(state: &mut State<C, A>) -> &mut RState<C, A> {
    match state {
        NodeState::Replica(replica) => replica,
        NodeState::Client(_) => unreachable!("a replica's state is a replica state"),
    }
}

fn core_lens<'a, 'b, C: Crypto, A: Application>(
    state: &'a mut Cow<'b, State<C, A>>,
) -> CowLens<'a, 'b, State<C, A>, CoreState<Request<C, A::Op>>> {
    CowLens::new(
        state,
        |s| &replica::<C, A>(s).core,
        |s| &mut replica_mut::<C, A>(s).core,
    )
}

fn learner_lens<'a, 'b, C: Crypto, A: Application>(
    state: &'a mut Cow<'b, State<C, A>>,
) -> CowLens<'a, 'b, State<C, A>, LearnerState<Request<C, A::Op>>> {
    CowLens::new(
        state,
        |s| &replica::<C, A>(s).learner,
        |s| &mut replica_mut::<C, A>(s).learner,
    )
}

impl<C: Crypto, A: Application, R: Rules> Replica<C, A, R> {
    /// A replica with the given knobs.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: NodeId,
        replicas: Vec<NodeId>,
        keyring: Arc<Keyring<C>>,
        app: A,
        window: usize,
        batch_max: usize,
        snapshot_every: Slot,
        gap_trigger: u64,
        leader_timeout: Range<Duration>,
    ) -> Self {
        Replica {
            id,
            keyring,
            app,
            core: Core::new(id, replicas.clone(), window, batch_max, leader_timeout),
            learner: Learner::new(id, replicas, gap_trigger),
            snapshot_every,
        }
    }

    /// The projection of state that survives a crash.
    pub fn durable(state: &RState<C, A>) -> Storage<C, A> {
        PaxosStorage {
            promised: state.core.promised,
            accepted: state.core.accepted.clone(),
            compacted_upto: state.core.compacted_upto,
            snapshot: state.snapshot.clone(),
        }
    }

    /// Starts fresh, or recovers from storage and asks peers for what it missed.
    pub fn on_start(
        &self,
        storage: &Option<Storage<C, A>>,
        out: &mut Out<super::PaxosNode<C, A, R>>,
    ) -> State<C, A> {
        let Some(storage) = storage else {
            return NodeState::Replica(ReplicaState {
                core: self.core.init(out),
                learner: self.learner.init(0),
                delivered: Ledger::new(),
                delivered_base: 0,
                app: Arc::new(KvState::new()),
                clients: Arc::new(BTreeMap::new()),
                snapshot: None,
            });
        };
        let snapshot_slot = storage.snapshot.as_ref().map_or(0, |s| s.slot);
        let state = ReplicaState {
            core: self.core.recover(
                storage.promised,
                storage.accepted.clone(),
                storage.compacted_upto,
                out,
            ),
            learner: self.learner.init(snapshot_slot),
            delivered: Ledger::new(),
            delivered_base: storage.snapshot.as_ref().map_or(0, |s| s.delivered_len),
            app: storage
                .snapshot
                .as_ref()
                .map_or_else(|| Arc::new(KvState::new()), |s| s.app.clone()),
            clients: storage
                .snapshot
                .as_ref()
                .map_or_else(|| Arc::new(BTreeMap::new()), |s| s.clients.clone()),
            snapshot: storage.snapshot.clone(),
        };
        self.learner.request_catch_up(&state.learner, out);
        NodeState::Replica(state)
    }

    /// Handles one message.
    pub fn on_msg(
        &self,
        state: &mut Cow<State<C, A>>,
        src: NodeId,
        msg: Msg<C, A>,
        out: &mut Out<super::PaxosNode<C, A, R>>,
    ) {
        let durable_before = durable_key(replica::<C, A>(state));
        let save_after = match msg {
            PaxosMsg::Request(request) => {
                self.on_request(state, request, out);
                true
            }
            PaxosMsg::Reply { .. } => false,
            PaxosMsg::Core(msg) => {
                let promise_only = matches!(msg, CoreMsg::Prepare { .. });
                let decisions = {
                    let mut core = core_lens::<C, A>(state);
                    self.core.on_msg(&mut core, src, msg, out)
                };
                for (slot, value) in decisions {
                    self.learn(state, slot, value, out);
                }
                R::SAVE_PROMISE || !promise_only
            }
            PaxosMsg::Learner(LearnerMsg::CatchUp { from_slot }) => {
                let current = replica::<C, A>(state);
                let snapshot = current.snapshot.clone().map(|s| (s.slot, s));
                if let Some(reply) = self.learner.catch_up_reply(
                    &current.learner,
                    &current.core.accepted,
                    snapshot,
                    from_slot,
                ) {
                    out.send(crate::component::node_id(src), PaxosMsg::Learner(reply));
                }
                false
            }
            PaxosMsg::Learner(LearnerMsg::CatchUpReply { snapshot, entries }) => {
                let learned = {
                    let mut learner = learner_lens::<C, A>(state);
                    self.learner.on_catch_up_reply(
                        &mut learner,
                        snapshot.map(|s| (s.slot, s)),
                        entries,
                        out,
                    )
                };
                if let Some((_, snapshot)) = learned.install {
                    self.install(state, snapshot);
                }
                for (slot, value) in learned.deliver {
                    self.execute(state, slot, value, out);
                }
                true
            }
        };
        self.save_if_changed(state, durable_before, save_after, out);
    }

    /// Handles a timer.
    pub fn on_timeout(
        &self,
        state: &mut Cow<State<C, A>>,
        timer: &PaxosTimer,
        out: &mut Out<super::PaxosNode<C, A, R>>,
    ) {
        let PaxosTimer::Core(timer) = *timer else {
            return;
        };
        let durable_before = durable_key(replica::<C, A>(state));
        let from_slot = replica::<C, A>(state).learner.next_slot;
        let mut core = core_lens::<C, A>(state);
        self.core.on_timeout(&mut core, timer, from_slot, out);
        self.save_if_changed(state, durable_before, true, out);
    }

    fn on_request(
        &self,
        state: &mut Cow<State<C, A>>,
        request: Request<C, A::Op>,
        out: &mut Out<super::PaxosNode<C, A, R>>,
    ) {
        let tx = request.value();
        let authentic = request.verify(&self.keyring)
            && request.signer() == tx.id.client
            && self.app.well_formed(tx);
        if !authentic {
            return; // a request a client did not sign, or a malformed one, is never ordered
        }
        let current = replica::<C, A>(state);
        match current.clients.get(&tx.id.client) {
            Some((seq, output)) if *seq == tx.id.seq => {
                // Executed already: the client lost the reply, so send it again.
                out.send(
                    crate::component::node_id(tx.id.client),
                    PaxosMsg::Reply {
                        tx: tx.id,
                        output: output.clone(),
                    },
                );
            }
            Some((seq, _)) if *seq > tx.id.seq => {}
            _ => {
                if R::LOCAL_READS {
                    let execution = self.app.execute(&current.app, tx);
                    if execution.writes.is_empty() {
                        let output = execution.output;
                        out.send(
                            crate::component::node_id(tx.id.client),
                            PaxosMsg::Reply { tx: tx.id, output },
                        );
                        return;
                    }
                }
                let mut core = core_lens::<C, A>(state);
                self.core.propose(&mut core, request, out);
            }
        }
    }

    fn learn(
        &self,
        state: &mut Cow<State<C, A>>,
        slot: Slot,
        value: Value<Request<C, A::Op>>,
        out: &mut Out<super::PaxosNode<C, A, R>>,
    ) {
        let deliver = {
            let mut learner = learner_lens::<C, A>(state);
            self.learner.learn(&mut learner, slot, value, out)
        };
        for (slot, value) in deliver {
            self.execute(state, slot, value, out);
        }
    }

    /// Executes one chosen slot. Requests already executed (a retry ordered twice) are skipped,
    /// so each request executes at most once (card §6.1: dedupe at execution).
    fn execute(
        &self,
        state: &mut Cow<State<C, A>>,
        slot: Slot,
        value: Value<Request<C, A::Op>>,
        out: &mut Out<super::PaxosNode<C, A, R>>,
    ) {
        let rs = replica_mut::<C, A>(state.to_mut());
        if let Value::Batch(requests) = value {
            for request in requests {
                let id = request.value().id;
                if R::DEDUPE
                    && rs
                        .clients
                        .get(&id.client)
                        .is_some_and(|(seq, _)| *seq >= id.seq)
                {
                    continue;
                }
                let output =
                    execute_and_apply(&self.app, Arc::make_mut(&mut rs.app), request.value());
                Arc::make_mut(&mut rs.clients).insert(id.client, (id.seq, output.clone()));
                rs.delivered.push(request);
                // Only the leader answers (seed 001 §2.3); retries reach whoever executed it.
                if rs.core.role == super::Role::Leader {
                    out.send(
                        crate::component::node_id(id.client),
                        PaxosMsg::Reply { tx: id, output },
                    );
                }
            }
        }
        if self.snapshot_every > 0 && slot % self.snapshot_every == 0 {
            rs.snapshot = Some(Arc::new(Snapshot {
                slot,
                delivered_len: rs.delivered_len(),
                app: rs.app.clone(),
                clients: rs.clients.clone(),
            }));
            let mut core = core_lens::<C, A>(state);
            self.core.compact(&mut core, slot);
            let mut learner = learner_lens::<C, A>(state);
            self.learner.compact(&mut learner, slot);
        }
    }

    /// Installs a peer's snapshot: everything up to its slot is now reflected here.
    fn install(&self, state: &mut Cow<State<C, A>>, snapshot: Arc<Snapshot<A::Output>>) {
        let rs = replica_mut::<C, A>(state.to_mut());
        if R::INSTALL_SNAPSHOT_STATE {
            rs.app = snapshot.app.clone();
            rs.clients = snapshot.clients.clone();
        }
        rs.delivered = Ledger::new();
        rs.delivered_base = snapshot.delivered_len;
        let slot = snapshot.slot;
        rs.snapshot = Some(snapshot);
        let mut core = core_lens::<C, A>(state);
        self.core.compact(&mut core, slot);
    }

    /// Saves durable state if this step changed it: at most one save per step, and it is
    /// released (made durable) by the host before any of the step's sends.
    fn save_if_changed(
        &self,
        state: &Cow<State<C, A>>,
        before: DurableKey<C, A::Op, A::Output>,
        allowed: bool,
        out: &mut Out<super::PaxosNode<C, A, R>>,
    ) {
        let current = replica::<C, A>(state);
        if allowed && durable_changed(&before, &durable_key(current)) {
            out.save(Self::durable(current));
        }
    }
}

/// The durable part as it was before a step. Holding these `Arc`s also forces handlers'
/// `Arc::make_mut` to copy rather than write in place, so the comparison below is exact.
type DurableKey<C, Op, Out> = (
    super::Ballot,
    Arc<BTreeMap<Slot, (super::Ballot, Value<Request<C, Op>>)>>,
    Slot,
    Option<Arc<Snapshot<Out>>>,
);

fn durable_key<C: Crypto, Op: Clone, Out>(
    state: &ReplicaState<C, Op, Out>,
) -> DurableKey<C, Op, Out> {
    (
        state.core.promised,
        state.core.accepted.clone(),
        state.core.compacted_upto,
        state.snapshot.clone(),
    )
}

fn durable_changed<C: Crypto, Op: Clone + PartialEq, Out: PartialEq>(
    before: &DurableKey<C, Op, Out>,
    now: &DurableKey<C, Op, Out>,
) -> bool {
    let snapshots_equal = match (&before.3, &now.3) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
        (None, None) => true,
        _ => false,
    };
    before.0 != now.0
        || before.2 != now.2
        || !(Arc::ptr_eq(&before.1, &now.1) || before.1 == now.1)
        || !snapshots_equal
}
