//! Inductive-invariant tests for PBFT beyond the exhaustive bounds (DESIGN §4): proptest builds
//! system states directly — views 0..=3 (a Byzantine primary in view 3), up to 5 sequence
//! numbers, correct replicas pre-prepared or prepared on chosen batches, their PREPAREs and
//! COMMITs and the primary's PRE-PREPAREs in flight, and every PREPARE the Byzantine replica 3
//! could sign — each satisfying the invariant; then takes every successor the `System` allows
//! and asserts the invariant still holds.
//!
//! Invariant (per (view, seq)): (1) no two correct replicas hold prepared certificates for
//! different digests; (2) every certificate a correct replica holds is valid under the honest
//! rule (PRE-PREPARE by the view's primary, 2f PREPAREs from distinct backups, batch matching
//! its digest, client-signed requests); (3) correct replicas that committed agree on the batch;
//! (4)-(5) across views, a batch prepared by f+1 correct replicas or committed by one is the
//! only batch any correct replica holds at that seq in a later view; (6) a correct NEW-VIEW
//! re-proposes the highest-view certificate per seq. Results: `proofs-notes/pbft.md`.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use quorate_impl::component::node_id;
use quorate_impl::crypto::{Crypto, Keyring, Signer, Symbolic};
use quorate_impl::pbft::core::{CoreTimer, Slot, SlotPhase};
use quorate_impl::pbft::msgs::{Phase, PrePrepare, ViewChange, Vote};
use quorate_impl::pbft::{
    Batch, CommitOnWeakQuorum, CoreMsg, Honest, IgnorePreparedCerts, NodeState, PbftMsg, PbftNode,
    PbftTimer, PreparedCert, Rules, Script, SmallPrepareQuorum, StableCheckpoint, Status,
};
use quorate_impl::quorum;
use quorate_model::pbft::{Faulty, PbftConfig};
use quorate_model::{Envelope, NetworkKind, SystemState};
use quorate_spec::NodeId;
use stateright::Model;
use std::collections::BTreeMap;

const N: NodeId = 4;
const F: usize = 1;
const BYZANTINE: NodeId = 3;
const MAX_VIEW: u32 = 3;
const MAX_SEQ: u64 = 5;
/// Generated states per honest run.
const CASES: u32 = 4096;
/// Generated states for the two-step honest run.
const TWO_STEP_CASES: u32 = 1024;

type Node<R> = quorate_model::pbft::Node<R>;
type State<R> = SystemState<Node<R>, quorate_model::pbft::PbftHistory>;
type Req = quorate_impl::pbft::Request<Symbolic, quorate_spec::KvOp>;
type Msg = quorate_impl::pbft::MsgOf<Symbolic, quorate_spec::KvStore>;

/// How far a correct replica got at one sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Nothing,
    PrePrepared,
    Prepared,
}

/// One sequence number: the batch each correct replica was sent (one batch unless the
/// primary is Byzantine) and how far each got.
#[derive(Clone, Debug)]
struct SeqPlan {
    batch_of: [usize; 3],
    stage: [Stage; 3],
    byzantine_prepares: [bool; 2],
}

/// A view change to `view + 1` started on top of the ordering state.
#[derive(Clone, Debug)]
struct ViewChangePlan {
    /// Which correct replicas timed out and sent VIEW-CHANGE (with their certificates).
    changing: [bool; 3],
    /// Whether the Byzantine replica sent a VIEW-CHANGE (it can, with no certificate).
    byzantine: bool,
    /// Whether the new primary already holds one other VIEW-CHANGE (short of its quorum).
    primary_heard: bool,
}

#[derive(Clone, Debug)]
struct Plan {
    view: u32,
    seqs: Vec<SeqPlan>,
    view_change: Option<ViewChangePlan>,
    /// Which correct backups hold an unexecuted request with their view timer armed.
    timers: [bool; 3],
}

fn stage() -> impl Strategy<Value = Stage> {
    prop_oneof![
        Just(Stage::Nothing),
        Just(Stage::PrePrepared),
        Just(Stage::Prepared)
    ]
}

fn plan() -> impl Strategy<Value = Plan> {
    let seq = (
        prop::array::uniform3(0usize..2),
        prop::array::uniform3(stage()),
        prop::array::uniform2(any::<bool>()),
    )
        .prop_map(|(batch_of, stage, byzantine_prepares)| SeqPlan {
            batch_of,
            stage,
            byzantine_prepares,
        });
    let view_change = prop::option::of(
        (
            prop::array::uniform3(any::<bool>()),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(changing, byzantine, primary_heard)| ViewChangePlan {
                changing,
                byzantine,
                primary_heard,
            }),
    );
    (
        0..=MAX_VIEW,
        prop::collection::vec(seq, 1..=MAX_SEQ as usize),
        view_change,
        prop::array::uniform3(any::<bool>()),
    )
        .prop_map(|(view, seqs, view_change, timers)| Plan {
            view,
            seqs,
            view_change,
            timers,
        })
}

fn config() -> PbftConfig {
    PbftConfig {
        replicas: N as usize,
        f: F,
        clients: 1,
        requests_per_client: 2,
        faulty: Faulty::Scripted(BYZANTINE, Script::Silent),
        primaries: vec![0, 1, 2, 3],
        max_view: MAX_VIEW + 2,
        max_client_retries: 1,
        batch_max: 1,
        checkpoint_every: 0,
        window: 8,
        adversary_max_seq: 0,
        network: NetworkKind::UnorderedNonDuplicating,
        lossy: false,
        max_drops: 0,
        suspecters: Vec::new(),
        collect_dead_messages: false,
        expect_reproposal: false,
        timeout_only_unprepared: false,
        collect_dead_beyond_replicas: false,
        loss_as_non_delivery: false,
        forget_last_delivered: false,
    }
}

fn primary(view: u32) -> NodeId {
    config().primaries[view as usize % 4]
}

fn digest(batch: &Batch<Req>) -> <Symbolic as Crypto>::Digest {
    Symbolic::digest(batch)
}

fn vote(id: NodeId, phase: Phase, view: u32, seq: u64, batch: &Batch<Req>) -> Msg {
    PbftMsg::Core(CoreMsg::Vote(Signer::symbolic(id).sign(Vote {
        phase,
        view,
        seq,
        digest: digest(batch),
    })))
}

fn broadcast(from: NodeId, msg: Msg, net: &mut Vec<Envelope<Msg>>) {
    for to in (0..N).filter(|&r| r != from) {
        net.push(Envelope {
            src: node_id(from),
            dst: node_id(to),
            msg: msg.clone(),
        });
    }
}

/// Builds the state a plan describes, weakening stages the rules of `Honest` would not allow
/// (a `Prepared` without 2f PREPAREs from distinct backups becomes `PrePrepared`), so every
/// generated state satisfies the invariant by construction.
fn build<R: Rules>(plan: &Plan) -> (quorate_model::pbft::PbftSystem<R>, State<R>) {
    let cfg = config();
    let actors = cfg.actors::<R>();
    let PbftNode::Client(client) = &actors[N as usize] else {
        unreachable!("clients follow replicas")
    };
    let batches = [
        Batch::Requests(vec![client.request(1)]),
        Batch::Requests(vec![client.request(2)]),
    ];
    let view = plan.view;
    let lead = primary(view);
    let correct: Vec<NodeId> = (0..N).filter(|&r| r != BYZANTINE).collect();
    let mut net: Vec<Envelope<Msg>> = Vec::new();
    let mut cores: BTreeMap<NodeId, quorate_impl::pbft::CoreState<Req, Symbolic>> = BTreeMap::new();
    let system = cfg.system::<R>();
    let mut state = system.init_states().remove(0);
    for &r in &correct {
        let NodeState::Replica(rs) = state.actor(r as usize) else {
            unreachable!()
        };
        let mut core = rs.core.clone();
        core.view = view;
        core.status = Status::Normal;
        core.next_seq = plan.seqs.len() as u64 + 1;
        cores.insert(r, core);
    }
    for (i, sp) in plan.seqs.iter().enumerate() {
        let seq = i as u64 + 1;
        // A correct primary sends one batch to everyone; a Byzantine one may equivocate.
        let batch_of = |r: NodeId| -> usize {
            if lead == BYZANTINE {
                sp.batch_of[r as usize]
            } else {
                sp.batch_of[lead as usize]
            }
        };
        let mut stage: BTreeMap<NodeId, Stage> =
            correct.iter().map(|&r| (r, sp.stage[r as usize])).collect();
        if lead != BYZANTINE {
            // The primary has logged its own PRE-PREPARE.
            let s = stage.get_mut(&lead).unwrap();
            *s = (*s).max(Stage::PrePrepared);
        }
        // PREPAREs each digest can gather: correct backups past PRE-PREPARE, and the
        // Byzantine replica if it is a backup and chose to sign it.
        let backers = |b: usize, stage: &BTreeMap<NodeId, Stage>| -> Vec<NodeId> {
            let mut v: Vec<NodeId> = correct
                .iter()
                .copied()
                .filter(|&r| r != lead && stage[&r] >= Stage::PrePrepared && batch_of(r) == b)
                .collect();
            if lead != BYZANTINE && sp.byzantine_prepares[b] {
                v.push(BYZANTINE);
            }
            v.sort();
            v
        };
        for &r in &correct {
            if stage[&r] == Stage::Prepared
                && backers(batch_of(r), &stage).len() < quorum::bft_prepare_votes(F)
            {
                stage.insert(r, Stage::PrePrepared);
            }
        }
        for (b, batch) in batches.iter().enumerate() {
            if lead != BYZANTINE && sp.byzantine_prepares[b] {
                for phase in [Phase::Prepare, Phase::Commit] {
                    broadcast(
                        BYZANTINE,
                        vote(BYZANTINE, phase, view, seq, batch),
                        &mut net,
                    );
                }
            }
        }
        for &r in &correct {
            let b = batch_of(r);
            let batch = &batches[b];
            let pre_prepare = Signer::symbolic(lead).sign(PrePrepare {
                view,
                seq,
                digest: digest(batch),
            });
            if r != lead {
                net.push(Envelope {
                    src: node_id(lead),
                    dst: node_id(r),
                    msg: PbftMsg::Core(CoreMsg::PrePrepare(pre_prepare.clone(), batch.clone())),
                });
            }
            let core = cores.get_mut(&r).unwrap();
            match stage[&r] {
                Stage::Nothing => {}
                Stage::PrePrepared => {
                    let mut prepares = Vec::new();
                    if r != lead {
                        let own = vote(r, Phase::Prepare, view, seq, batch);
                        broadcast(r, own.clone(), &mut net);
                        let PbftMsg::Core(CoreMsg::Vote(v)) = own else {
                            unreachable!()
                        };
                        prepares.push(v);
                    }
                    core.slots.insert(
                        seq,
                        Slot {
                            digest: digest(batch),
                            phase: SlotPhase::PrePrepared {
                                pre_prepare,
                                batch: batch.clone(),
                                prepares,
                            },
                        },
                    );
                }
                Stage::Prepared => {
                    if r != lead {
                        broadcast(r, vote(r, Phase::Prepare, view, seq, batch), &mut net);
                    }
                    let voters: Vec<NodeId> = backers(b, &stage)
                        .into_iter()
                        .take(quorum::bft_prepare_votes(F))
                        .collect();
                    let prepares = voters
                        .iter()
                        .map(|&v| {
                            Signer::symbolic(v).sign(Vote {
                                phase: Phase::Prepare,
                                view,
                                seq,
                                digest: digest(batch),
                            })
                        })
                        .collect();
                    core.certs.insert(
                        seq,
                        PreparedCert {
                            pre_prepare,
                            batch: batch.clone(),
                            prepares,
                        },
                    );
                    core.slots.insert(
                        seq,
                        Slot {
                            digest: digest(batch),
                            phase: SlotPhase::Prepared {
                                commits: [r].into(),
                            },
                        },
                    );
                    broadcast(r, vote(r, Phase::Commit, view, seq, batch), &mut net);
                }
            }
        }
    }
    for (&r, core) in cores.iter_mut() {
        if r != lead && plan.timers[r as usize] {
            core.pending = vec![client.request(1)];
        }
    }
    if let Some(vcp) = &plan.view_change {
        start_view_change(view + 1, vcp, &mut cores, &mut net);
    }
    // A backup waiting on a request, or changing views, has its view timer armed.
    let armed: Vec<NodeId> = cores
        .iter()
        .filter(|(_, c)| !c.pending.is_empty() || c.status == Status::ViewChanging)
        .map(|(&r, _)| r)
        .collect();
    for (r, core) in cores {
        let NodeState::Replica(rs) = state.actor(r as usize) else {
            unreachable!()
        };
        let mut rs = rs.clone();
        rs.core = core;
        state.set_actor_state(r as usize, NodeState::Replica(rs));
    }
    // The generated messages join whatever the actors sent on start.
    let system = system.init_network(net);
    let mut with_net = system.init_states().remove(0);
    for r in 0..state.actor_count() {
        with_net.set_actor_state(r, state.actor(r).clone());
    }
    for r in armed {
        with_net.arm_timer(r as usize, PbftTimer::Core(CoreTimer::ViewTimer));
    }
    (system, with_net)
}

type CoreSt = quorate_impl::pbft::CoreState<Req, Symbolic>;

/// The chosen correct replicas move to view `next` as their view timer would make them: slots
/// cleared, own VIEW-CHANGE (carrying their certificates) logged and broadcast.
fn start_view_change(
    next: u32,
    vcp: &ViewChangePlan,
    cores: &mut BTreeMap<NodeId, CoreSt>,
    net: &mut Vec<Envelope<Msg>>,
) {
    let lead = primary(next);
    if lead == BYZANTINE {
        return; // a Byzantine new primary proves nothing about re-proposal
    }
    let mut sent = Vec::new();
    for (&r, core) in cores.iter_mut() {
        if !vcp.changing[r as usize] {
            continue;
        }
        let vc = Signer::<Symbolic>::symbolic(r).sign(ViewChange {
            new_view: next,
            stable: core.stable.clone(),
            prepared: core.certs.values().cloned().collect(),
        });
        core.view = next;
        core.status = Status::ViewChanging;
        core.slots.clear();
        core.view_changes = BTreeMap::from([(next, vec![vc.clone()])]);
        broadcast(r, PbftMsg::Core(CoreMsg::ViewChange(vc.clone())), net);
        sent.push(vc);
    }
    if vcp.byzantine {
        let vc = Signer::<Symbolic>::symbolic(BYZANTINE).sign(ViewChange {
            new_view: next,
            stable: StableCheckpoint::genesis(),
            prepared: Vec::new(),
        });
        broadcast(BYZANTINE, PbftMsg::Core(CoreMsg::ViewChange(vc)), net);
    }
    if vcp.primary_heard && vcp.changing[lead as usize] {
        if let Some(other) = sent.iter().find(|v| v.signer() != lead) {
            let vcs = cores
                .get_mut(&lead)
                .unwrap()
                .view_changes
                .get_mut(&next)
                .unwrap();
            vcs.push(other.clone());
            vcs.sort_by_key(|v| v.signer());
        }
    }
}

/// The invariant; `Err` names the first broken clause.
/// `certificates_checked` off leaves only the agreement clauses (1) and (3), so a mutant test
/// can show that agreement itself, not just certificate well-formedness, is caught breaking.
fn invariant<R: Rules>(state: &State<R>, certificates_checked: bool) -> Result<(), String> {
    let keyring = Keyring::<Symbolic>::symbolic(0..N + 1);
    let mut prepared: BTreeMap<(u32, u64), (NodeId, _)> = BTreeMap::new();
    let mut committed: BTreeMap<u64, (NodeId, Batch<Req>)> = BTreeMap::new();
    for (i, node) in state.actors().enumerate() {
        let Some(r) = node.as_replica() else { continue };
        let id = i as NodeId;
        for (&seq, cert) in &r.core.certs {
            if certificates_checked
                && !cert.is_valid(
                    primary(cert.view()),
                    true,
                    quorum::bft_prepare_votes(F),
                    &keyring,
                )
            {
                return Err(format!(
                    "replica {id}: invalid prepared certificate at seq {seq}"
                ));
            }
            if let Batch::Requests(reqs) = &cert.batch {
                if !reqs.iter().all(|q| q.verify(&keyring)) {
                    return Err(format!("replica {id}: unsigned request at seq {seq}"));
                }
            }
            let d = digest(&cert.batch);
            if let Some((other, od)) = prepared.insert((cert.view(), seq), (id, d.clone())) {
                if od != d {
                    return Err(format!(
                        "replicas {other} and {id} prepared different batches at (view {}, seq {seq})",
                        cert.view()
                    ));
                }
            }
        }
        for (k, batch) in r.log.iter().enumerate() {
            let seq = r.log_base + k as u64 + 1;
            if let Some((other, ob)) = committed.insert(seq, (id, batch.clone())) {
                if &ob != batch {
                    return Err(format!(
                        "replicas {other} and {id} executed different batches at seq {seq}"
                    ));
                }
            }
        }
    }
    // (4) Across views: a batch prepared at (v, s) by f+1 correct replicas (so possibly
    // committed) is the only one a correct replica may hold a slot or certificate for at
    // (w > v, s): every NEW-VIEW quorum intersects those holders in a correct replica whose
    // VIEW-CHANGE carried the certificate.
    let mut holders: BTreeMap<(u32, u64, _), usize> = BTreeMap::new();
    let correct: Vec<_> = state.actors().filter_map(|a| a.as_replica()).collect();
    for r in &correct {
        for (&seq, cert) in &r.core.certs {
            *holders
                .entry((cert.view(), seq, digest(&cert.batch)))
                .or_default() += 1;
        }
    }
    for ((v, seq, d), count) in holders {
        if count < quorum::bft_weak_certificate(F) {
            continue;
        }
        for r in &correct {
            let later_cert = r
                .core
                .certs
                .get(&seq)
                .filter(|c| c.view() > v)
                .map(|c| digest(&c.batch));
            let later_slot = r
                .core
                .slots
                .get(&seq)
                .filter(|_| r.core.view > v)
                .map(|s| s.digest.clone());
            if later_cert.into_iter().chain(later_slot).any(|x| x != d) {
                return Err(format!(
                    "seq {seq}: prepared by f+1 correct replicas in view {v}, another batch in view {}",
                    r.core.view
                ));
            }
        }
    }
    // (6) Every NEW-VIEW a correct replica sent re-proposes, for each sequence number up to
    // the highest certified one, the batch of the highest-view certificate among its 2f+1
    // VIEW-CHANGEs, and a no-op where none covers it.
    if certificates_checked {
        for env in state.network.iter_all() {
            let PbftMsg::Core(CoreMsg::NewView(nv)) = env.msg else {
                continue;
            };
            if nv.signer() == BYZANTINE {
                continue;
            }
            let value = nv.value();
            let mut best: BTreeMap<u64, (u32, Batch<Req>)> = BTreeMap::new();
            for cert in value.view_changes.iter().flat_map(|v| &v.value().prepared) {
                if best.get(&cert.seq()).is_none_or(|(v, _)| *v < cert.view()) {
                    best.insert(cert.seq(), (cert.view(), cert.batch.clone()));
                }
            }
            let top = best.keys().next_back().copied().unwrap_or(0);
            let expected: Vec<(u64, Batch<Req>)> = (1..=top)
                .map(|seq| (seq, best.get(&seq).map_or(Batch::NoOp, |(_, b)| b.clone())))
                .collect();
            let sent: Vec<(u64, Batch<Req>)> = value
                .pre_prepares
                .iter()
                .map(|(pp, b)| (pp.value().seq, b.clone()))
                .collect();
            if value.view_changes.len() < quorum::bft_quorum(F) || sent != expected {
                return Err(format!(
                    "NEW-VIEW for view {} from replica {} does not re-propose its certificates",
                    value.view,
                    nv.signer()
                ));
            }
        }
    }
    // (5) A batch a correct replica committed at (v, s) is the only batch any correct replica
    // holds a slot or certificate for at (w > v, s): committing took 2f+1 COMMITs, so f+1
    // correct replicas prepared it and (4)'s intersection argument applies.
    for r in &correct {
        for (&seq, slot) in &r.core.slots {
            if !matches!(slot.phase, SlotPhase::Committed) {
                continue;
            }
            let v = r.core.view;
            for other in &correct {
                let later_cert = other
                    .core
                    .certs
                    .get(&seq)
                    .filter(|c| c.view() > v)
                    .map(|c| digest(&c.batch));
                let later_slot = other
                    .core
                    .slots
                    .get(&seq)
                    .filter(|_| other.core.view > v)
                    .map(|s| s.digest.clone());
                if later_cert
                    .into_iter()
                    .chain(later_slot)
                    .any(|x| x != slot.digest)
                {
                    return Err(format!(
                        "seq {seq}: committed in view {v}, another batch in view {}",
                        other.core.view
                    ));
                }
            }
        }
    }
    Ok(())
}

#[derive(Default, Debug)]
struct Tally {
    cases: usize,
    successors: usize,
    new_certs: usize,
    /// Successors in which a new primary entered its view from a NEW-VIEW.
    new_views: usize,
    /// Successors taken by a timer firing.
    timeouts: usize,
    violations: usize,
}

/// Checks one generated state and every successor; returns the first violating successor.
fn step_all<R: Rules>(
    plan: &Plan,
    certificates_checked: bool,
    tally: &mut Tally,
) -> Result<(), String> {
    explore::<R>(plan, certificates_checked, 1, tally)
}

/// As [`step_all`], then again from every successor, `depth` steps in all.
fn explore<R: Rules>(
    plan: &Plan,
    certificates_checked: bool,
    depth: usize,
    tally: &mut Tally,
) -> Result<(), String> {
    let (system, state) = build::<R>(plan);
    invariant::<R>(&state, true)
        .map_err(|e| format!("generated state broke the invariant: {e}"))?;
    tally.cases += 1;
    successors::<R>(&system, plan, &state, certificates_checked, depth, tally)
}

fn successors<R: Rules>(
    system: &quorate_model::pbft::PbftSystem<R>,
    plan: &Plan,
    state: &State<R>,
    certificates_checked: bool,
    depth: usize,
    tally: &mut Tally,
) -> Result<(), String> {
    if depth == 0 {
        return Ok(());
    }
    let certs = |s: &State<R>| -> usize {
        s.actors()
            .filter_map(|a| a.as_replica())
            .map(|r| r.core.certs.len())
            .sum()
    };
    let before = certs(state);
    let mut actions = Vec::new();
    system.actions(state, &mut actions);
    for action in actions {
        let Some(next) = system.next_state(state, action.clone()) else {
            continue;
        };
        tally.successors += 1;
        if matches!(action, quorate_model::SystemAction::Timeout { .. }) {
            tally.timeouts += 1;
        }
        if certs(&next) > before {
            tally.new_certs += 1;
        }
        let entered = |s: &State<R>| {
            s.actors()
                .filter_map(|a| a.as_replica())
                .filter(|r| r.core.status == Status::Normal && r.core.view > plan.view)
                .count()
        };
        if entered(&next) > entered(state) {
            tally.new_views += 1;
        }
        if let Err(e) = invariant::<R>(&next, certificates_checked) {
            tally.violations += 1;
            return Err(format!("after {action:?}: {e}"));
        }
        successors::<R>(system, plan, &next, certificates_checked, depth - 1, tally)
            .map_err(|e| format!("after {action:?}, {e}"))?;
    }
    Ok(())
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    )
}

#[test]
fn honest_successors_keep_the_invariant_beyond_the_bounds() {
    let tally = std::cell::RefCell::new(Tally::default());
    let result = runner(CASES).run(&plan(), |plan| {
        step_all::<Honest>(&plan, true, &mut tally.borrow_mut()).map_err(TestCaseError::fail)
    });
    let tally = tally.into_inner();
    eprintln!("pbft inductive (honest): {tally:?}");
    result.unwrap();
    assert_eq!(tally.cases, CASES as usize);
    // The generated states exercise the step: successors prepare new certificates.
    assert!(tally.successors > 10 * tally.cases, "{tally:?}");
    assert!(tally.new_certs > tally.cases, "{tally:?}");
    assert!(tally.new_views > 0, "{tally:?}");
    assert!(tally.timeouts > 0, "{tally:?}");
}

/// Generates states as the honest test does (same seed) until one has a successor that breaks
/// the agreement clauses under mutant `R`; returns the violation.
fn first_violation<R: Rules>() -> String {
    first_violation_within::<R>(1)
}

fn first_violation_within<R: Rules>(depth: usize) -> String {
    let mut tally = Tally::default();
    let mut found = None;
    let mut runner = runner(CASES);
    for _ in 0..CASES {
        let plan = plan().new_tree(&mut runner).unwrap().current();
        if let Err(e) = explore::<R>(&plan, false, depth, &mut tally) {
            found = Some(e);
            break;
        }
    }
    eprintln!("pbft inductive ({}): {tally:?}, {found:?}", R::NAME);
    found.expect("the mutant must produce a violating successor")
}

#[test]
fn small_prepare_quorum_yields_a_violating_successor() {
    let found = first_violation::<SmallPrepareQuorum>();
    assert!(found.contains("prepared different batches"), "{found}");
}

#[test]
fn ignoring_prepared_certificates_yields_a_violating_new_view() {
    let found = first_violation::<IgnorePreparedCerts>();
    assert!(
        found.contains("prepared by f+1 correct replicas"),
        "{found}"
    );
}

/// Two steps from each generated state, honest: the committed clause (5) needs a commit and a
/// NEW-VIEW in either order, so the honest protocol is checked at the same depth.
#[test]
fn honest_two_step_successors_keep_the_invariant() {
    let mut tally = Tally::default();
    let mut runner = runner(TWO_STEP_CASES);
    for _ in 0..TWO_STEP_CASES {
        let plan = plan().new_tree(&mut runner).unwrap().current();
        explore::<Honest>(&plan, true, 2, &mut tally).unwrap();
    }
    eprintln!("pbft inductive two-step (honest): {tally:?}");
    assert!(tally.new_views > 0, "{tally:?}");
    assert!(tally.timeouts > 0, "{tally:?}");
}

/// `commit-on-f+1`: a backup prepared with the Byzantine replica's PREPARE commits on its own
/// COMMIT plus the Byzantine one, while a NEW-VIEW quorum without it re-proposes a no-op for
/// the same sequence number: two steps from a generated state.
#[test]
fn commit_on_f_plus_1_yields_a_violation_within_two_steps() {
    let started = std::time::Instant::now();
    let found = first_violation_within::<CommitOnWeakQuorum>(2);
    eprintln!("commit-on-f+1 found in {:?}", started.elapsed());
    assert!(found.contains("committed in view"), "{found}");
}

/// With the rule clauses on, the ignoring primary's NEW-VIEW message itself is caught (6).
#[test]
fn ignoring_prepared_certificates_yields_a_wrong_new_view_message() {
    let mut tally = Tally::default();
    let mut runner = runner(CASES);
    let found = (0..CASES)
        .find_map(|_| {
            let plan = plan().new_tree(&mut runner).unwrap().current();
            explore::<IgnorePreparedCerts>(&plan, true, 1, &mut tally).err()
        })
        .expect("the mutant must send a wrong NEW-VIEW");
    eprintln!("pbft inductive (ignore-prepared-certs, NEW-VIEW clause): {tally:?}");
    assert!(found.contains("does not re-propose"), "{found}");
}
