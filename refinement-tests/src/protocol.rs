//! Checks 1-3 for a recorded run of any protocol over the key-value store: replay every node,
//! merge, model membership in the protocol's replay `System` with its `always` properties as
//! monitors, then the spec — committed ledgers against the reference execution, replies against
//! the reference outputs, and client histories through the offline linearizability checker.
//! What differs between protocols is the [`Refined`] trait; the pipeline is written once.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::Hash;
use std::time::{Duration, Instant};

use quorate_impl::crypto::{NodeId, Signed, Symbolic};
use quorate_impl::trace::TraceOutput;
use quorate_model::System;
use quorate_spec::{reference_execution, KvOp, KvResult, KvState, KvStore, Transaction, TxId};
use serde::de::DeserializeOwned;
use serde::Serialize;
use stateright::actor::Actor;

use crate::linearizability::{self, Operation};
use crate::membership::{check_membership_observed, StepView};
use crate::merge::merge;
use crate::monitors::{Consistency, CONSISTENCY};
use crate::replay::replay_node;
use crate::traces::NodeTrace;

/// A signed key-value request as replicas order it (both protocols' ledger entry).
pub type KvRequest = Signed<Transaction<KvOp>, Symbolic>;

/// What a correct replica committed, as the spec check reads it.
pub struct ReplicaLedger<'a> {
    /// Entries below this position are covered by an installed snapshot.
    pub base: u64,
    /// The executed requests at `base..`.
    pub delivered: &'a [KvRequest],
    /// The application state after them.
    pub app: &'a KvState,
}

/// What the pipeline needs to know of one protocol's actors over the key-value store.
pub trait Refined:
    Actor<
        Msg: Ord + Serialize + DeserializeOwned + PartialEq,
        Timer: Ord + Serialize + DeserializeOwned + PartialEq,
        Random: Serialize + DeserializeOwned + PartialEq,
        State: Serialize,
        Storage: Serialize + Clone,
    > + Clone
{
    /// The model's auxiliary history.
    type History: Clone + fmt::Debug + Hash + PartialEq;

    /// The replay model over the run's own actors: network contract, no checking bounds.
    fn replay_system(actors: Vec<Self>) -> System<Self, Self::History>;

    /// The abstract sequencer's log the model's observer kept.
    fn sequencer_log(history: &Self::History) -> &[KvRequest];

    /// A correct replica's committed ledger (`None` for clients and Byzantine actors).
    fn ledger(state: &Self::State) -> Option<ReplicaLedger<'_>>;

    /// The transaction a client's sent message submits, if it is a request.
    fn submitted(msg: &Self::Msg) -> Option<&Transaction<KvOp>>;

    /// The result a client accepted in this step, if it accepted one.
    fn accepted(step: &StepView<'_, Self, Self::History>) -> Option<(TxId, Vec<KvResult>)>;
}

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

fn parse_all<A: Refined>(lines: &[Vec<String>]) -> Result<Vec<NodeTrace<A>>, RunFailure> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| NodeTrace::<A>::parse(i as NodeId, l))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| RunFailure::Trace(e.to_string()))
}

/// Check 2 alone (merge and membership), for tests that show it catches a fault by itself.
pub fn membership_only<A: Refined>(actors: &[A], lines: &[Vec<String>]) -> Result<(), RunFailure> {
    let traces = parse_all::<A>(lines)?;
    let order = merge(&traces).map_err(|e| RunFailure::Merge(e.to_string()))?;
    let mut consistency = Consistency::default();
    check_membership_observed(
        &A::replay_system(actors.to_vec()),
        &traces,
        &order,
        &[CONSISTENCY],
        |step| monitor_step(&mut consistency, &step),
    )
    .map(|_| ())
    .map_err(|e| RunFailure::Membership(e.to_string()))
}

/// Runs the incremental monitors over a step that changed the model.
fn monitor_step<A: Refined>(
    consistency: &mut Consistency,
    step: &StepView<'_, A, A::History>,
) -> Result<(), String> {
    if !step.acted {
        return Ok(());
    }
    let log = A::sequencer_log(step.state.history());
    consistency.step(log, step.node as usize, A::ledger(step.after))
}

/// A client's accepted result, at its position in the global order.
struct Accepted {
    tx: TxId,
    output: Vec<KvResult>,
    time: u64,
}

/// How `always` properties are evaluated along the membership walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evaluation {
    /// Incremental monitors where one exists ([`crate::monitors`]); the rest in full.
    Incremental,
    /// Every property in full after every step (the model's own predicates; for measuring).
    Full,
}

/// Runs checks 1-3 over node `i`'s trace lines `lines[i]`, recorded by `actors[i]`.
pub fn check_run<A: Refined>(
    actors: &[A],
    lines: &[Vec<String>],
) -> Result<RunFigures, RunFailure> {
    check_run_with(actors, lines, Evaluation::Incremental)
}

/// [`check_run`] with a choice of property evaluation.
pub fn check_run_with<A: Refined>(
    actors: &[A],
    lines: &[Vec<String>],
    evaluation: Evaluation,
) -> Result<RunFigures, RunFailure> {
    let traces = parse_all::<A>(lines)?;
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

    // The client history is read off the walk: invoked at a client's first send of a request,
    // returned where the client accepted its result. Times are `2·position + 1` for
    // invocations and `2·position` for returns, so a next invocation, made in the step that
    // accepted the previous result, comes strictly after that return.
    let mut operations: BTreeMap<TxId, Operation> = BTreeMap::new();
    let mut accepted: Vec<Accepted> = Vec::new();
    let mut malformed: Option<RunFailure> = None;
    let started = Instant::now();
    let order = merge(&traces).map_err(|e| RunFailure::Merge(e.to_string()))?;
    let system = A::replay_system(actors.to_vec());
    let mut consistency = Consistency::default();
    let incremental = evaluation == Evaluation::Incremental;
    let monitored: &[&str] = if incremental { &[CONSISTENCY] } else { &[] };
    let member = check_membership_observed(&system, &traces, &order, monitored, |step| {
        if incremental {
            monitor_step(&mut consistency, &step)?;
        }
        let time = 2 * step.position as u64;
        if let Some((tx, output)) = A::accepted(&step) {
            accepted.push(Accepted { tx, output, time });
        }
        for output in &step.record.outputs {
            let TraceOutput::Send { msg, .. } = output else {
                continue;
            };
            let Some(tx) = A::submitted(msg) else {
                continue;
            };
            if tx.id.client != step.node || operations.contains_key(&tx.id) {
                continue; // a forward, a retry or a re-broadcast
            }
            match tx.ops.as_slice() {
                [op] => {
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
                _ => {
                    malformed.get_or_insert(RunFailure::Spec(format!(
                        "request {:?} holds {} operations; the checker takes single operations",
                        tx.id,
                        tx.ops.len()
                    )));
                }
            }
        }
        Ok(())
    })
    .map_err(|e| RunFailure::Membership(e.to_string()))?;
    figures.membership = started.elapsed();
    figures.property_checks = member.stats.property_checks + consistency.checks;
    if let Some(failure) = malformed {
        return Err(failure);
    }

    let longest = A::sequencer_log(member.state.history());
    figures.committed = longest.len() as u64;
    let reference = reference_execution(&KvStore, longest.iter().map(|r| r.value()));
    for (index, state) in member.state.actors().enumerate() {
        let Some(replica) = A::ledger(state) else {
            continue;
        };
        let base = replica.base as usize;
        let end = base + replica.delivered.len();
        if longest.get(base..end) != Some(replica.delivered) {
            return Err(RunFailure::Spec(format!(
                "replica {index}'s committed ledger is not the sequencer's log at {base}..{end}"
            )));
        }
        let upto = reference_execution(&KvStore, longest[..end].iter().map(|r| r.value()));
        if upto.state != *replica.app {
            return Err(RunFailure::Spec(format!(
                "replica {index}'s state after {end} entries differs from the reference execution"
            )));
        }
    }
    let outputs: BTreeMap<TxId, &Vec<KvResult>> = reference
        .outputs
        .iter()
        .map(|(id, out)| (*id, out))
        .collect();
    for Accepted { tx, output, time } in accepted {
        match outputs.get(&tx) {
            Some(expected) if **expected == output => {}
            Some(expected) => {
                return Err(RunFailure::Spec(format!(
                    "client {} got {output:?} for request {}, the reference execution gives {expected:?}",
                    tx.client, tx.seq
                )))
            }
            None => {
                return Err(RunFailure::Spec(format!(
                    "client {} got a reply for request {}, which no replica committed",
                    tx.client, tx.seq
                )))
            }
        }
        let Some(op) = operations.get_mut(&tx) else {
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
    let operations: Vec<Operation> = operations.into_values().collect();
    figures.operations = operations.len() as u64;
    figures.indeterminate = operations.iter().filter(|o| o.returned.is_none()).count() as u64;
    linearizability::check(&operations).map_err(|e| RunFailure::Spec(e.to_string()))?;
    Ok(figures)
}
