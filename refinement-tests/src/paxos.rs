//! Checks 1-3 for a recorded Multi-Paxos run (SimHost or QUIC): replay every node, merge,
//! model membership in `quorate_model::paxos::replay_system`, then the spec — committed
//! ledgers against the reference execution, replies against the reference outputs, and client
//! histories through the offline linearizability checker.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use quorate_impl::crypto::NodeId;
use quorate_impl::paxos::{PaxosMsg, PaxosNode, Rules};
use quorate_impl::trace::{TraceInput, TraceOutput};
use quorate_model::paxos::{replay_system, Node};
use quorate_spec::{reference_execution, KvStore, TxId};

use crate::linearizability::{self, Operation};
use crate::membership::check_membership;
use crate::merge::{merge, GlobalStep};
use crate::replay::replay_node;
use crate::traces::NodeTrace;

/// What the checks of one run measured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunFigures {
    /// Nodes whose traces were checked.
    pub nodes: usize,
    /// Incarnations in all traces.
    pub incarnations: u64,
    /// Step records (events) in all traces.
    pub events: u64,
    /// Time replaying every trace.
    pub replay: Duration,
    /// Time merging and walking the replay model (membership with property monitors).
    pub membership: Duration,
    /// Property evaluations during membership.
    pub property_checks: u64,
    /// Committed entries in the longest ledger.
    pub committed: u64,
    /// Client operations checked for linearizability (invoked).
    pub operations: u64,
    /// Of them, indeterminate (never returned).
    pub indeterminate: u64,
}

/// Which check a run failed, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunFailure {
    /// A trace did not parse.
    Trace(String),
    /// Check 1.
    Replay(String),
    /// Check 2, the causal merge.
    Merge(String),
    /// Check 2, membership in the replay model (properties included).
    Membership(String),
    /// Check 3.
    Spec(String),
}

impl fmt::Display for RunFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunFailure::Trace(e) => write!(f, "trace: {e}"),
            RunFailure::Replay(e) => write!(f, "replay: {e}"),
            RunFailure::Merge(e) => write!(f, "merge: {e}"),
            RunFailure::Membership(e) => write!(f, "membership: {e}"),
            RunFailure::Spec(e) => write!(f, "spec: {e}"),
        }
    }
}

impl std::error::Error for RunFailure {}

type KvNode<R> = Node<R>;

fn parse_all<R: Rules>(lines: &[Vec<String>]) -> Result<Vec<NodeTrace<KvNode<R>>>, RunFailure> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| NodeTrace::<KvNode<R>>::parse(i as NodeId, l))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| RunFailure::Trace(e.to_string()))
}

/// Check 2 alone (merge and membership), for tests that show it catches a fault by itself.
pub fn membership_only<R: Rules>(
    actors: &[KvNode<R>],
    lines: &[Vec<String>],
) -> Result<(), RunFailure> {
    let traces = parse_all::<R>(lines)?;
    let order = merge(&traces).map_err(|e| RunFailure::Merge(e.to_string()))?;
    check_membership(&replay_system(actors.to_vec()), &traces, &order)
        .map(|_| ())
        .map_err(|e| RunFailure::Membership(e.to_string()))
}

/// Runs checks 1-3 over node `i`'s trace lines `lines[i]`, recorded by `actors[i]`.
pub fn check_run<R: Rules>(
    actors: &[KvNode<R>],
    lines: &[Vec<String>],
) -> Result<RunFigures, RunFailure> {
    let traces = parse_all::<R>(lines)?;
    let mut figures = RunFigures {
        nodes: traces.len(),
        ..RunFigures::default()
    };
    let started = Instant::now();
    for (actor, trace) in actors.iter().zip(&traces) {
        let stats = replay_node(actor, trace).map_err(|e| RunFailure::Replay(e.to_string()))?;
        figures.incarnations += stats.incarnations;
        figures.events += stats.steps;
    }
    figures.replay = started.elapsed();

    let started = Instant::now();
    let order = merge(&traces).map_err(|e| RunFailure::Merge(e.to_string()))?;
    let system = replay_system(actors.to_vec());
    let member = check_membership(&system, &traces, &order)
        .map_err(|e| RunFailure::Membership(e.to_string()))?;
    figures.membership = started.elapsed();
    figures.property_checks = member.stats.property_checks;

    let history = member.state.history();
    let longest = &history.longest;
    figures.committed = longest.len() as u64;
    let reference = reference_execution(&KvStore, longest.iter().map(|r| r.value()));
    for (index, node) in member.state.actors().enumerate() {
        let Some(replica) = node.as_replica() else {
            continue;
        };
        let end = replica.delivered_len() as usize;
        let base = replica.delivered_base as usize;
        if longest.as_slice().get(base..end) != Some(replica.delivered.as_slice()) {
            return Err(RunFailure::Spec(format!(
                "replica {index}'s committed ledger is not the sequencer's log at {base}..{end}"
            )));
        }
        let upto = reference_execution(
            &KvStore,
            longest.as_slice()[..end].iter().map(|r| r.value()),
        );
        if upto.state != *replica.app {
            return Err(RunFailure::Spec(format!(
                "replica {index}'s state after {end} entries differs from the reference execution"
            )));
        }
    }
    let outputs: BTreeMap<TxId, &Vec<quorate_spec::KvResult>> = reference
        .outputs
        .iter()
        .map(|(id, out)| (*id, out))
        .collect();
    let operations = client_history(&traces, &order, |tx, output| match outputs.get(&tx) {
        Some(expected) if **expected == *output => Ok(()),
        Some(expected) => Err(RunFailure::Spec(format!(
            "client {} got {output:?} for request {}, the reference execution gives {expected:?}",
            tx.client, tx.seq
        ))),
        None => Err(RunFailure::Spec(format!(
            "client {} got a reply for request {}, which no replica committed",
            tx.client, tx.seq
        ))),
    })?;
    figures.operations = operations.len() as u64;
    figures.indeterminate = operations.iter().filter(|o| o.returned.is_none()).count() as u64;
    linearizability::check(&operations).map_err(|e| RunFailure::Spec(e.to_string()))?;
    Ok(figures)
}

/// The clients' operations in the global order: invoked at the first send of a request, returned
/// at the delivery of the reply the client accepted (a step that changed its state). Times are
/// `2·position + 1` for invocations and `2·position` for returns, so a client's next invocation,
/// made in the step that accepted the previous reply, comes strictly after that return.
fn client_history<R: Rules>(
    traces: &[NodeTrace<KvNode<R>>],
    order: &[GlobalStep],
    mut check_reply: impl FnMut(TxId, &Vec<quorate_spec::KvResult>) -> Result<(), RunFailure>,
) -> Result<Vec<Operation>, RunFailure> {
    let mut operations: BTreeMap<TxId, Operation> = BTreeMap::new();
    for (position, step) in order.iter().enumerate() {
        let record =
            &traces[step.node as usize].incarnations[step.incarnation].records[step.record];
        let time = 2 * position as u64;
        if let TraceInput::Deliver {
            msg: PaxosMsg::Reply { tx, output },
            ..
        } = &record.input
        {
            let accepted = record.state_digest_before != record.state_digest_after;
            if accepted && tx.client == step.node {
                check_reply(*tx, output)?;
                let Some(op) = operations.get_mut(tx) else {
                    return Err(RunFailure::Spec(format!(
                        "client {} accepted a reply to request {} it never sent",
                        tx.client, tx.seq
                    )));
                };
                let [result] = output.as_slice() else {
                    return Err(RunFailure::Spec(format!(
                        "request {tx:?} returned {} results; the checker takes single operations",
                        output.len()
                    )));
                };
                op.returned.get_or_insert((time, *result));
            }
        }
        for output in &record.outputs {
            if let TraceOutput::Send {
                msg: PaxosMsg::Request(request),
                ..
            } = output
            {
                let tx = request.value();
                if tx.id.client != step.node || operations.contains_key(&tx.id) {
                    continue; // a forward, a retry or a re-broadcast
                }
                let [op] = tx.ops.as_slice() else {
                    return Err(RunFailure::Spec(format!(
                        "request {:?} holds {} operations; the checker takes single operations",
                        tx.id,
                        tx.ops.len()
                    )));
                };
                operations.insert(
                    tx.id,
                    Operation {
                        client: tx.id.client,
                        invoked: time + 1,
                        returned: None,
                        op: *op,
                    },
                );
            }
        }
    }
    Ok(operations.into_values().collect())
}

/// Whether `actor` is a client (for callers that split replicas from clients).
pub fn is_client<R: Rules>(actor: &KvNode<R>) -> bool {
    matches!(actor, PaxosNode::Client(_))
}
