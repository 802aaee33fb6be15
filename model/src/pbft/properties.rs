//! PBFT's properties over `System` states, bound to `quorate_spec`, and the history the
//! observer keeps for them. Every property quantifies over correct replicas only: a Byzantine
//! replica's state is its script's, not a replica's.

use super::{Node, PbftSystem, Req, State};
use crate::system::{ActionOf, SystemAction};
use quorate_impl::crypto::Symbolic;
use quorate_impl::pbft::core::SlotPhase;
use quorate_impl::pbft::{Batch, PbftNode, ReplicaState, Rules, Seq, Status};
use quorate_spec::{reference_execution, KvOp, KvResult, KvStore, Ledger, NodeId, TxId};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

pub(super) type RState = ReplicaState<Symbolic, KvOp, Vec<KvResult>>;

/// Auxiliary history: never visible to actors, part of the model state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PbftHistory {
    /// Last sequence number each client invoked.
    pub invoked: BTreeMap<u32, u64>,
    /// The abstract sequencer's log: the longest delivered sequence ever seen.
    pub longest: Ledger<Req>,
    /// Every (request, result) a correct replica executed.
    pub results: BTreeSet<(TxId, Vec<KvResult>)>,
    /// (seq, batch) pairs some correct replica prepared in view 0 (tracked only when the
    /// configuration allows view changes).
    pub prepared_in_view0: BTreeSet<(Seq, Batch<Req>)>,
    /// A batch prepared in view 0 was committed in view 1 by a correct replica.
    pub view0_prepared_commits_in_view1: bool,
    /// Messages the network lost so far (bounded by the configuration).
    pub drops: u8,
    /// The first step violation seen by the observer (`refines-sequencer`).
    pub violation: Option<String>,
    /// A step the configuration's bounds exclude was taken (`within` prunes the state): a
    /// view timer fired at a replica that had prepared every request it was waiting for.
    pub out_of_bounds: bool,
}

pub(super) fn replicas<R: Rules>(state: &State<R>) -> impl Iterator<Item = (NodeId, &RState)> {
    state
        .actors()
        .enumerate()
        .filter_map(|(i, s)| s.as_replica().map(|r| (i as NodeId, r)))
}

/// Records a client's first send of each request as its invocation.
pub(super) fn record_invocation(
    history: &PbftHistory,
    env: crate::Envelope<&quorate_impl::pbft::MsgOf<Symbolic, KvStore>>,
) -> Option<PbftHistory> {
    let quorate_impl::pbft::PbftMsg::Request(request) = env.msg else {
        return None;
    };
    let tx = request.value();
    let client = tx.id.client;
    if usize::from(env.src) != client as usize
        || history
            .invoked
            .get(&client)
            .is_some_and(|&s| s >= tx.id.seq)
    {
        return None;
    }
    let mut history = history.clone();
    history.invoked.insert(client, tx.id.seq);
    Some(history)
}

/// The refinement mapping and the other history, maintained across steps.
pub(super) fn observe<R: Rules>(
    track_views: bool,
    timeout_only_unprepared: bool,
    prev: &State<R>,
    action: &ActionOf<Node<R>>,
    next: &State<R>,
    history: &mut Cow<'_, PbftHistory>,
) {
    // Every write goes through `to_mut()` only when something changes, so an unchanged
    // history stays shared between states.
    match action {
        SystemAction::Drop { .. } => {
            let history = history.to_mut();
            history.drops = history.drops.saturating_add(1);
            return;
        }
        SystemAction::Timeout { actor, .. } => {
            // Neither executes nor prepares anything; only the timeout bound looks at it.
            let suspects_prepared = prev
                .actor(usize::from(*actor))
                .as_replica()
                .is_some_and(|r| !waits_for_unprepared(r));
            if timeout_only_unprepared && suspects_prepared {
                history.to_mut().out_of_bounds = true;
            }
            return;
        }
        _ => {}
    }
    for (id, replica) in replicas::<R>(next) {
        for (&client, (seq, output)) in replica.clients.iter() {
            let key = (TxId { client, seq: *seq }, output.clone());
            if !history.results.contains(&key) {
                history.to_mut().results.insert(key);
            }
        }
        if track_views {
            track_view_change(replica, history);
        }
        if history.violation.is_some() {
            continue;
        }
        if let Err(detail) = crate::refinement::consistent_with(
            history.longest.as_slice(),
            replica.delivered_base,
            &replica.delivered,
        ) {
            history.to_mut().violation = Some(format!(
                "replica {id} delivered a different entry than the sequencer's log at {detail}"
            ));
            continue;
        }
        let end = replica.delivered_len() as usize;
        let base = replica.delivered_base as usize;
        if end > history.longest.len() && base <= history.longest.len() {
            let start = history.longest.len();
            history
                .to_mut()
                .longest
                .extend(replica.delivered.iter().skip(start - base).cloned());
        }
    }
}

/// Whether `replica` is in normal operation and holds a request that no prepared certificate
/// of its current view orders: the only situation in which the timeout bound lets its view
/// timer fire (proofs-notes/pbft.md, "Bounds").
pub fn waits_for_unprepared(replica: &RState) -> bool {
    let core = &replica.core;
    core.status == Status::Normal
        && core.pending.iter().any(|request| {
            !core.certs.values().any(|cert| {
                cert.view() == core.view
                    && matches!(&cert.batch, Batch::Requests(rs) if rs.contains(request))
            })
        })
}

fn track_view_change(replica: &RState, history: &mut Cow<'_, PbftHistory>) {
    let core = &replica.core;
    for (&seq, cert) in &core.certs {
        if cert.view() == 0 {
            let key = (seq, cert.batch.clone());
            if !history.prepared_in_view0.contains(&key) {
                history.to_mut().prepared_in_view0.insert(key);
            }
        }
    }
    if history.view0_prepared_commits_in_view1 || core.view != 1 {
        return;
    }
    let reached = core.slots.iter().any(|(seq, slot)| {
        matches!(slot.phase, SlotPhase::Committed)
            && core.certs.get(seq).is_some_and(|cert| {
                cert.view() == 1
                    && cert.batch != Batch::NoOp
                    && history
                        .prepared_in_view0
                        .contains(&(*seq, cert.batch.clone()))
            })
    });
    if reached {
        history.to_mut().view0_prepared_commits_in_view1 = true;
    }
}

/// `agreement`: correct replicas executed the same batch at every sequence number both executed.
pub(super) fn agreement<R: Rules>(state: &State<R>) -> bool {
    let all: Vec<&RState> = replicas::<R>(state).map(|(_, r)| r).collect();
    all.iter().all(|a| {
        all.iter().all(|b| {
            a.log.iter().enumerate().all(|(offset, batch)| {
                let seq = a.log_base + 1 + offset as Seq; // position 0 holds log_base + 1
                seq <= b.log_base
                    || b.log
                        .get((seq - b.log_base - 1) as usize)
                        .is_none_or(|other| other == batch)
            })
        })
    })
}

/// `validity`: correct replicas execute only requests their clients signed and submitted,
/// each once.
pub(super) fn validity<R: Rules>(model: &PbftSystem<R>, state: &State<R>) -> bool {
    let Some(keyring) = model.actors.iter().find_map(|a| match a {
        PbftNode::Replica(r) => Some(r.keyring.clone()),
        _ => None,
    }) else {
        return false;
    };
    replicas::<R>(state).all(|(_, replica)| {
        let mut seen = BTreeSet::new();
        replica.delivered.iter().all(|request| {
            let id: TxId = request.value().id;
            let submitted = state
                .history()
                .invoked
                .get(&id.client)
                .is_some_and(|&s| id.seq <= s);
            request.verify(&keyring)
                && request.signer() == id.client
                && submitted
                && seen.insert(id)
        })
    })
}

/// `consistency`: each correct replica's application state is the reference execution of the
/// sequencer's log up to its position.
pub(super) fn consistency<R: Rules>(state: &State<R>) -> bool {
    let longest = state.history().longest.as_slice();
    replicas::<R>(state).all(|(_, replica)| {
        let upto = replica.delivered_len() as usize;
        if upto > longest.len() {
            return false; // installed state that no correct replica delivered
        }
        let reference = reference_execution(&KvStore, longest[..upto].iter().map(|r| r.value()));
        reference.state == *replica.app
    })
}

/// `refines-sequencer`: no step violation, and the sequencer's log holds only submitted
/// requests, each once.
pub(super) fn refines_sequencer<R: Rules>(state: &State<R>) -> bool {
    let history = state.history();
    crate::refinement::log_refines_sequencer(&history.violation, &history.invoked, &history.longest)
}

/// `client-accepts-committed`: every result a client accepted was produced by a correct
/// replica's execution.
pub(super) fn client_accepts_committed<R: Rules>(state: &State<R>) -> bool {
    state.actors().all(|s| {
        s.as_client().is_none_or(|client| {
            client
                .accepted
                .iter()
                .all(|result| state.history().results.contains(result))
        })
    })
}

/// `sometimes`: a correct replica executed a request.
pub(super) fn request_commits<R: Rules>(state: &State<R>) -> bool {
    replicas::<R>(state).any(|(_, r)| r.delivered_len() > 0)
}

/// `sometimes`: a correct replica entered a view above 0 in normal status.
pub(super) fn view_change_completes<R: Rules>(state: &State<R>) -> bool {
    replicas::<R>(state).any(|(_, r)| r.core.view > 0 && r.core.status == Status::Normal)
}

/// `sometimes`: a correct replica caught up by state transfer.
pub(super) fn state_transferred<R: Rules>(state: &State<R>) -> bool {
    replicas::<R>(state).any(|(_, r)| r.log_base > 0)
}
