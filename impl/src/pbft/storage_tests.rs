//! PBFT durable Storage: a replica restarted from any point at which it saved gets back what
//! it saved, the cluster still completes its workload with agreeing ledgers, and the restarted
//! replica never signs a vote that conflicts with one it signed before the crash. Controls: a
//! replica restarted with amnesia (no Storage) does sign conflicting votes, so the checks can
//! fail.

use super::msgs::{Batch, CoreMsg, Phase, PrePrepare};
use super::{
    Client, Honest, NodeState, PbftMsg, PbftNode, PbftStorage, Replica, ReplicaState, Seq, Status,
    View,
};
use crate::component::{id_node, node_id};
use crate::crypto::{Crypto, Keyring, NodeId, Signer, Symbolic};
use quorate_spec::{Application, Key, KvOp, KvStore, Transaction, TxId};
use stateright::actor::{Actor, Command, Out};
use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

type Node = PbftNode<Symbolic, KvStore, Honest>;
type State = NodeState<Symbolic, KvOp, <KvStore as Application>::Output>;
type Storage = PbftStorage<Symbolic, KvOp, <KvStore as Application>::Output>;
type Msg = <Node as Actor>::Msg;

const REPLICAS: NodeId = 4;
const CLIENT: NodeId = 4;
const OPERATIONS: u64 = 7;

fn keyring() -> Arc<Keyring<Symbolic>> {
    Arc::new(Keyring::symbolic(0..=CLIENT))
}

fn replica(id: NodeId) -> Node {
    let ids: Vec<NodeId> = (0..REPLICAS).collect();
    let second = Duration::from_secs(1);
    // One request per batch and a checkpoint every 2: the run crosses stable checkpoints.
    PbftNode::Replica(Replica::new(
        Signer::symbolic(id),
        ids.clone(),
        ids,
        keyring(),
        KvStore,
        1,
        2,
        8,
        second..second,
    ))
}

fn client() -> Node {
    let workload = (0..OPERATIONS)
        .map(|i| vec![KvOp::Put(Key(i as u32 % 3), i as i64)])
        .collect();
    let second = Duration::from_secs(1);
    PbftNode::Client(Client {
        signer: Signer::symbolic(CLIENT),
        keyring: keyring(),
        replicas: (0..REPLICAS).collect(),
        primary: 0,
        app: KvStore::APP_ID,
        workload,
        retry_after: second..second,
        _rules: PhantomData,
    })
}

/// A FIFO network without timers: every message is delivered once, in send order.
struct Run {
    actors: Vec<Node>,
    states: Vec<State>,
    saved: Vec<Option<Storage>>,
    saves: Vec<usize>,
    queue: VecDeque<(NodeId, NodeId, Msg)>,
    /// Every (phase, view, seq) → digest a replica signed, across its incarnations.
    signed: BTreeMap<(NodeId, u8, View, Seq), <Symbolic as Crypto>::Digest>,
}

impl Run {
    fn new() -> Self {
        let mut actors: Vec<Node> = (0..REPLICAS).map(replica).collect();
        actors.push(client());
        let mut run = Run {
            states: Vec::new(),
            saved: vec![None; actors.len()],
            saves: vec![0; actors.len()],
            queue: VecDeque::new(),
            signed: BTreeMap::new(),
            actors,
        };
        for id in 0..=CLIENT {
            run.start(id, None);
        }
        run
    }

    fn start(&mut self, id: NodeId, storage: Option<Storage>) {
        let mut out = Out::new();
        let state = self.actors[id as usize].on_start(node_id(id), &storage, &mut out);
        if (id as usize) < self.states.len() {
            self.states[id as usize] = state;
        } else {
            self.states.push(state);
        }
        self.absorb(id, out);
    }

    fn absorb(&mut self, id: NodeId, out: Out<Node>) {
        for command in out {
            match command {
                Command::Send(dst, msg) => {
                    self.record_signed(id, &msg);
                    self.queue.push_back((id, id_node(dst), msg));
                }
                Command::Save(storage) => {
                    self.saved[id as usize] = Some(storage);
                    self.saves[id as usize] += 1;
                }
                _ => {}
            }
        }
    }

    /// Panics if `id` signs a second digest for a (phase, view, seq) it signed before.
    fn record_signed(&mut self, id: NodeId, msg: &Msg) {
        let (phase, view, seq, digest) = match msg {
            PbftMsg::Core(CoreMsg::PrePrepare(pp, _)) => {
                let pp = pp.value();
                (0, pp.view, pp.seq, pp.digest.clone())
            }
            PbftMsg::Core(CoreMsg::Vote(vote)) => {
                let v = vote.value();
                let phase = if v.phase == Phase::Prepare { 1 } else { 2 };
                (phase, v.view, v.seq, v.digest.clone())
            }
            _ => return,
        };
        if let Some(before) = self.signed.insert((id, phase, view, seq), digest.clone()) {
            assert_eq!(
                before, digest,
                "replica {id} signed two digests for phase {phase} at ({view}, {seq})"
            );
        }
    }

    /// Delivers the next message; returns its destination.
    fn step(&mut self) -> Option<NodeId> {
        let (src, dst, msg) = self.queue.pop_front()?;
        let mut out = Out::new();
        let mut cow = Cow::Borrowed(&self.states[dst as usize]);
        self.actors[dst as usize].on_msg(node_id(dst), &mut cow, node_id(src), msg, &mut out);
        if let Cow::Owned(state) = cow {
            self.states[dst as usize] = state;
        }
        self.absorb(dst, out);
        Some(dst)
    }

    fn replica(
        &self,
        id: NodeId,
    ) -> &ReplicaState<Symbolic, KvOp, <KvStore as Application>::Output> {
        self.states[id as usize].as_replica().expect("a replica")
    }

    fn completed(&self) -> usize {
        self.states[CLIENT as usize]
            .as_client()
            .expect("the client")
            .accepted
            .len()
    }

    /// Every pair of replicas agrees on every executed position both hold.
    fn assert_ledgers_agree(&self) {
        for a in 0..REPLICAS {
            for b in 0..REPLICAS {
                let (ra, rb) = (self.replica(a), self.replica(b));
                let from = ra.delivered_base.max(rb.delivered_base);
                let to = ra.delivered_len().min(rb.delivered_len());
                for i in from..to {
                    assert_eq!(
                        ra.delivered.get((i - ra.delivered_base) as usize),
                        rb.delivered.get((i - rb.delivered_base) as usize),
                        "replicas {a} and {b} differ at {i}"
                    );
                }
            }
        }
    }
}

/// Runs the workload; when `crash` names (replica, k), that replica restarts from its Storage
/// right after its k-th save (messages to it stay in flight, as a fast restart would see).
fn run_with_crash(crash: Option<(NodeId, usize)>) -> Run {
    let mut run = Run::new();
    let mut crashed = false;
    let mut steps = 0;
    while let Some(dst) = run.step() {
        steps += 1;
        assert!(steps < 100_000, "the run does not settle");
        let Some((victim, k)) = crash else { continue };
        if crashed || dst != victim || run.saves[victim as usize] != k {
            continue;
        }
        crashed = true;
        let storage = run.saved[victim as usize].clone().expect("it saved");
        let before = run.replica(victim).clone();
        run.start(victim, Some(storage.clone()));
        assert_recovered(&before, run.replica(victim), &storage);
    }
    assert!(
        crash.is_none() || crashed,
        "the crash point {crash:?} was reached"
    );
    run
}

/// A recovered replica holds what it saved: the same durable projection (or, if it must fetch
/// its stable checkpoint, the same core), and where it re-executed, the same application state.
fn assert_recovered(
    before: &ReplicaState<Symbolic, KvOp, <KvStore as Application>::Output>,
    after: &ReplicaState<Symbolic, KvOp, <KvStore as Application>::Output>,
    saved: &Storage,
) {
    type R = Replica<Symbolic, KvStore, Honest>;
    assert_eq!(
        &R::durable(before),
        saved,
        "the save was the state's projection"
    );
    let recovered = R::durable(after);
    if saved.executed >= saved.stable.seq {
        assert_eq!(&recovered, saved, "recovery loses nothing it saved");
        assert_eq!(after.app, before.app);
        assert_eq!(after.clients, before.clients);
        assert_eq!(after.delivered_len(), before.delivered_len());
    } else {
        assert_eq!(
            (
                recovered.view,
                recovered.slots,
                recovered.certs,
                recovered.stable
            ),
            (
                saved.view,
                saved.slots.clone(),
                saved.certs.clone(),
                saved.stable.clone()
            )
        );
    }
}

#[test]
fn a_calm_run_saves_and_completes() {
    let run = run_with_crash(None);
    assert_eq!(run.completed(), OPERATIONS as usize);
    run.assert_ledgers_agree();
    for id in 0..REPLICAS {
        assert!(run.saves[id as usize] > 0, "replica {id} saved");
        let saved = run.saved[id as usize].as_ref().unwrap();
        assert!(saved.stable.seq >= 2, "the run crossed a stable checkpoint");
        assert!(saved.snapshot.is_some());
    }
    assert_eq!(run.saves[CLIENT as usize], 0, "clients keep nothing");
}

#[test]
fn a_replica_restarted_at_any_save_recovers_it_and_never_signs_a_conflicting_vote() {
    let baseline = run_with_crash(None);
    let mut restarts = 0;
    for victim in 0..REPLICAS {
        for k in 1..=baseline.saves[victim as usize] {
            // `run_with_crash` checks recovery at the crash and every signature of every run.
            let run = run_with_crash(Some((victim, k)));
            run.assert_ledgers_agree();
            assert_eq!(
                run.completed(),
                OPERATIONS as usize,
                "replica {victim} restarted after save {k}"
            );
            restarts += 1;
        }
    }
    assert!(restarts > 4 * OPERATIONS as usize, "{restarts} restarts");
}

fn batch(value: i64) -> Batch<super::Request<Symbolic, KvOp>> {
    let tx = Transaction::new(
        TxId {
            client: CLIENT,
            seq: 1,
        },
        KvStore::APP_ID,
        vec![KvOp::Put(Key(0), value)],
    );
    Batch::Requests(vec![Signer::symbolic(CLIENT).sign(tx)])
}

/// A PRE-PREPARE for (view, 1) signed by replica 0 (an equivocating primary of view 0).
fn pre_prepare(view: View, value: i64) -> Msg {
    let batch = batch(value);
    let pp = Signer::symbolic(0).sign(PrePrepare {
        view,
        seq: 1,
        digest: Symbolic::digest(&batch),
    });
    PbftMsg::Core(CoreMsg::PrePrepare(pp, batch))
}

/// Delivers `msg` from replica 0 to a fresh backup 1 restarted from `storage`; returns the
/// PREPAREs it sent (once per (view, seq), not per peer).
fn prepares_after_restart(storage: Option<Storage>, msg: Msg) -> Vec<(View, Seq)> {
    let backup = replica(1);
    let mut out = Out::new();
    let state = backup.on_start(node_id(1), &storage, &mut out);
    let mut out = Out::new();
    let mut cow = Cow::Borrowed(&state);
    backup.on_msg(node_id(1), &mut cow, node_id(0), msg, &mut out);
    out.iter()
        .filter_map(|c| match c {
            Command::Send(_, PbftMsg::Core(CoreMsg::Vote(v)))
                if v.value().phase == Phase::Prepare =>
            {
                Some((v.value().view, v.value().seq))
            }
            _ => None,
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The save a backup makes when it accepts `msg` first.
fn save_after(msg: Msg) -> Storage {
    let backup = replica(1);
    let state = backup.on_start(node_id(1), &None, &mut Out::new());
    let mut out = Out::new();
    let mut cow = Cow::Borrowed(&state);
    backup.on_msg(node_id(1), &mut cow, node_id(0), msg, &mut out);
    let saves: Vec<Storage> = out
        .into_iter()
        .filter_map(|c| match c {
            Command::Save(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(saves.len(), 1, "one save per step");
    saves.into_iter().next().unwrap()
}

#[test]
fn a_restarted_backup_refuses_a_second_pre_prepare_that_amnesia_would_accept() {
    let saved = save_after(pre_prepare(0, 1));
    assert!(matches!(
        saved.slots.get(&1),
        Some(super::OwnSlot::PrePrepared { .. })
    ));
    // The equivocating primary's second PRE-PREPARE for (0, 1).
    assert!(prepares_after_restart(Some(saved), pre_prepare(0, 2)).is_empty());
    assert_eq!(prepares_after_restart(None, pre_prepare(0, 2)), [(0, 1)]);
}

#[test]
fn a_restarted_replica_stays_in_the_view_it_moved_to() {
    // Backup 1 with a pending request times out and sends VIEW-CHANGE for view 1.
    let backup = replica(1);
    let state = backup.on_start(node_id(1), &None, &mut Out::new());
    let tx = Transaction::new(
        TxId {
            client: CLIENT,
            seq: 1,
        },
        KvStore::APP_ID,
        vec![KvOp::Put(Key(0), 1)],
    );
    let mut cow = Cow::Borrowed(&state);
    let request = PbftMsg::Request(Signer::symbolic(CLIENT).sign(tx));
    backup.on_msg(
        node_id(1),
        &mut cow,
        node_id(CLIENT),
        request,
        &mut Out::new(),
    );
    let mut out = Out::new();
    backup.on_timeout(
        node_id(1),
        &mut cow,
        &super::PbftTimer::Core(super::CoreTimer::ViewTimer),
        &mut out,
    );
    let saved = out
        .into_iter()
        .find_map(|c| match c {
            Command::Save(s) => Some(s),
            _ => None,
        })
        .expect("moving to a view is saved");
    assert_eq!((saved.view, saved.status), (1, Status::ViewChanging));
    // A view-0 PRE-PREPARE is refused after a restart from Storage, accepted with amnesia.
    assert!(prepares_after_restart(Some(saved), pre_prepare(0, 1)).is_empty());
    assert_eq!(prepares_after_restart(None, pre_prepare(0, 1)), [(0, 1)]);
}
