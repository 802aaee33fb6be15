//! Check 2, first half (DESIGN §6): the per-node traces merge, by send ids, into one global
//! order that respects causality — every delivered message was sent earlier, by the node its
//! send id and its `src` name, with the same content, and is delivered at most once.
//!
//! The merge is a topological sort: each node's steps stay in order, and a delivery waits until
//! its send is placed. Among ready nodes the lowest id goes first, so the order is deterministic.
//! The destination of a send is deliberately not checked here: a message handled by the wrong
//! actor is an action the model does not allow, and membership (check 2) reports it.

use std::collections::BTreeMap;
use std::fmt;

use quorate_impl::crypto::NodeId;
use quorate_impl::trace::{digest, SendId, TraceInput, TraceOutput};
use serde::Serialize;
use stateright::actor::Actor;

use crate::traces::{NodeTrace, RecordOf};

/// One step in the global order: record `record` of incarnation `incarnation` (an index into
/// the node's trace) of node `node`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalStep {
    /// The node.
    pub node: NodeId,
    /// Index into the node's incarnations.
    pub incarnation: usize,
    /// Index into that incarnation's records.
    pub record: usize,
}

/// Why no causal order exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeError {
    /// A delivery whose send id no trace holds.
    NeverSent {
        /// The receiver.
        node: NodeId,
        /// Its incarnation number.
        incarnation: u64,
        /// Its step.
        step: u64,
        /// The send id delivered.
        send_id: SendId,
    },
    /// A send id delivered a second time.
    DeliveredTwice {
        /// The receiver of the second delivery.
        node: NodeId,
        /// Its incarnation number.
        incarnation: u64,
        /// Its step.
        step: u64,
        /// The send id.
        send_id: SendId,
    },
    /// The delivery names a sender other than the send's, or its content differs.
    NotAsSent {
        /// The receiver.
        node: NodeId,
        /// Its step.
        step: u64,
        /// The send id.
        send_id: SendId,
        /// What differs.
        detail: String,
    },
    /// Deliveries wait on each other in a cycle (a send that comes after its own delivery).
    Cycle {
        /// The nodes whose next step cannot be placed.
        blocked: Vec<NodeId>,
    },
}

impl fmt::Display for MergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MergeError::NeverSent {
                node,
                incarnation,
                step,
                send_id,
            } => write!(
                f,
                "node {node} incarnation {incarnation} step {step} delivered {send_id:?}, which no trace sent"
            ),
            MergeError::DeliveredTwice {
                node,
                incarnation,
                step,
                send_id,
            } => write!(
                f,
                "node {node} incarnation {incarnation} step {step} delivered {send_id:?} a second time (at most once)"
            ),
            MergeError::NotAsSent {
                node,
                step,
                send_id,
                detail,
            } => write!(
                f,
                "node {node} step {step} delivered {send_id:?} not as sent: {detail}"
            ),
            MergeError::Cycle { blocked } => write!(
                f,
                "no causal order: nodes {blocked:?} each wait for a send placed after them"
            ),
        }
    }
}

impl std::error::Error for MergeError {}

struct Sent {
    src: NodeId,
    msg_digest: [u8; 32],
}

/// Merges `traces` (node `i` at index `i`) into one causal global order.
pub fn merge<A>(traces: &[NodeTrace<A>]) -> Result<Vec<GlobalStep>, MergeError>
where
    A: Actor<Msg: Serialize>,
{
    // Every send in any trace, so a delivery of something never sent is told apart from one
    // that merely waits.
    let mut sends: BTreeMap<SendId, Sent> = BTreeMap::new();
    for trace in traces {
        for incarnation in &trace.incarnations {
            for record in &incarnation.records {
                for output in &record.outputs {
                    if let TraceOutput::Send { send_id, msg, .. } = output {
                        sends.insert(
                            *send_id,
                            Sent {
                                src: trace.node,
                                msg_digest: digest(msg),
                            },
                        );
                    }
                }
            }
        }
    }
    let flat: Vec<Vec<(usize, usize)>> = traces
        .iter()
        .map(|t| {
            t.incarnations
                .iter()
                .enumerate()
                .flat_map(|(i, inc)| (0..inc.records.len()).map(move |r| (i, r)))
                .collect()
        })
        .collect();
    let total: usize = flat.iter().map(Vec::len).sum();
    let mut cursor = vec![0usize; traces.len()];
    let mut placed: BTreeMap<SendId, ()> = BTreeMap::new();
    let mut delivered: BTreeMap<SendId, ()> = BTreeMap::new();
    let mut order = Vec::with_capacity(total);
    let record_at = |node: usize, at: usize| -> (&RecordOf<A>, u64) {
        let (i, r) = flat[node][at];
        let inc = &traces[node].incarnations[i];
        (&inc.records[r], inc.header.incarnation)
    };
    while order.len() < total {
        let mut progressed = false;
        for node in 0..traces.len() {
            // Run this node as far as it can go before looking at the next.
            while cursor[node] < flat[node].len() {
                let (record, incarnation) = record_at(node, cursor[node]);
                if let TraceInput::Deliver { src, send_id, msg } = &record.input {
                    let receiver = traces[node].node;
                    let Some(sent) = sends.get(send_id) else {
                        return Err(MergeError::NeverSent {
                            node: receiver,
                            incarnation,
                            step: record.step,
                            send_id: *send_id,
                        });
                    };
                    if delivered.contains_key(send_id) {
                        return Err(MergeError::DeliveredTwice {
                            node: receiver,
                            incarnation,
                            step: record.step,
                            send_id: *send_id,
                        });
                    }
                    if sent.src != *src || send_id.src != *src {
                        return Err(MergeError::NotAsSent {
                            node: receiver,
                            step: record.step,
                            send_id: *send_id,
                            detail: format!(
                                "it names sender {src}, the send is node {}'s",
                                sent.src
                            ),
                        });
                    }
                    if sent.msg_digest != digest(msg) {
                        return Err(MergeError::NotAsSent {
                            node: receiver,
                            step: record.step,
                            send_id: *send_id,
                            detail: "the message differs from the one sent".into(),
                        });
                    }
                    if !placed.contains_key(send_id) {
                        break;
                    }
                    delivered.insert(*send_id, ());
                }
                for output in &record.outputs {
                    if let TraceOutput::Send { send_id, .. } = output {
                        placed.insert(*send_id, ());
                    }
                }
                let (i, r) = flat[node][cursor[node]];
                order.push(GlobalStep {
                    node: traces[node].node,
                    incarnation: i,
                    record: r,
                });
                cursor[node] += 1;
                progressed = true;
            }
        }
        if !progressed {
            let blocked = (0..traces.len())
                .filter(|&n| cursor[n] < flat[n].len())
                .map(|n| traces[n].node)
                .collect();
            return Err(MergeError::Cycle { blocked });
        }
    }
    Ok(order)
}
