//! Check 1 (DESIGN §6): each node's trace replays through the same actor code. Each
//! incarnation starts from the Storage the replay of the earlier ones saved — its digest must be
//! the one the incarnation recorded as loaded — and every step must reproduce the recorded
//! state digests, no-op flag and outputs (send ids included).

use std::borrow::Cow;
use std::fmt;

use quorate_impl::component::node_id;
use quorate_impl::trace::{digest, outputs_from_commands, SendId, TraceInput};
use serde::Serialize;
use stateright::actor::{Actor, Command, Out};

use crate::traces::NodeTrace;

/// Where and how a replay diverged from the trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayError {
    /// The node.
    pub node: u32,
    /// Its incarnation.
    pub incarnation: u64,
    /// The step within it (`None`: at the incarnation's start, before any step).
    pub step: Option<u64>,
    /// What differed.
    pub detail: String,
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node {} incarnation {}", self.node, self.incarnation)?;
        if let Some(step) = self.step {
            write!(f, " step {step}")?;
        }
        write!(f, ": {}", self.detail)
    }
}

impl std::error::Error for ReplayError {}

/// What a replay went through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Incarnations replayed.
    pub incarnations: u64,
    /// Steps replayed.
    pub steps: u64,
}

/// Replays `trace` through `actor` (the node's configured actor).
pub fn replay_node<A>(actor: &A, trace: &NodeTrace<A>) -> Result<ReplayStats, ReplayError>
where
    A: Actor<
        Msg: Serialize + PartialEq,
        Timer: Serialize + PartialEq,
        Random: Serialize + PartialEq,
        State: Serialize,
        Storage: Serialize + Clone,
    >,
{
    let mut storage: Option<A::Storage> = None;
    let mut stats = ReplayStats::default();
    let me = node_id(trace.node);
    for incarnation in &trace.incarnations {
        let number = incarnation.header.incarnation;
        let fail = |step: Option<u64>, detail: String| ReplayError {
            node: trace.node,
            incarnation: number,
            step,
            detail,
        };
        let loaded = digest(&storage);
        if loaded != incarnation.header.loaded_storage_digest {
            return Err(fail(
                None,
                format!(
                    "loaded a Storage with digest {} but the replayed saves give {}",
                    hex(&incarnation.header.loaded_storage_digest),
                    hex(&loaded)
                ),
            ));
        }
        stats.incarnations += 1;
        let mut seq = 0;
        let mut next_send_id = || {
            seq += 1;
            SendId {
                src: trace.node,
                incarnation: number,
                seq,
            }
        };
        let mut state: Option<A::State> = None;
        for record in &incarnation.records {
            let at = Some(record.step);
            let mut out = Out::new();
            let changed = match (&record.input, state.as_mut()) {
                (TraceInput::Start, None) => {
                    state = Some(actor.on_start(me, &storage, &mut out));
                    true
                }
                (TraceInput::Start, Some(_)) => {
                    return Err(fail(at, "a second start within one incarnation".into()))
                }
                (_, None) => return Err(fail(at, "a step before the start step".into())),
                (input, Some(current)) => {
                    let before = digest(&*current);
                    if before != record.state_digest_before {
                        return Err(fail(
                            at,
                            format!(
                                "state before the step has digest {}, the trace says {}",
                                hex(&before),
                                hex(&record.state_digest_before)
                            ),
                        ));
                    }
                    let mut cow = Cow::Borrowed(&*current);
                    match input {
                        TraceInput::Deliver { src, msg, .. } => {
                            actor.on_msg(me, &mut cow, node_id(*src), msg.clone(), &mut out)
                        }
                        TraceInput::Timeout { timer } => {
                            actor.on_timeout(me, &mut cow, timer, &mut out)
                        }
                        TraceInput::Random { random, .. } => {
                            actor.on_random(me, &mut cow, random, &mut out)
                        }
                        TraceInput::Start => unreachable!("handled above"),
                    }
                    match cow {
                        Cow::Owned(next) => {
                            *current = next;
                            true
                        }
                        Cow::Borrowed(_) => false,
                    }
                }
            };
            let noop = !changed && out.is_empty();
            if !matches!(record.input, TraceInput::Start) && noop != record.noop {
                return Err(fail(
                    at,
                    format!("no-op is {noop} in replay, {} in the trace", record.noop),
                ));
            }
            let commands: Vec<_> = out.into_iter().collect();
            if let Some(saved) = commands.iter().rev().find_map(|c| match c {
                Command::Save(s) => Some(s.clone()),
                _ => None,
            }) {
                storage = Some(saved);
            }
            let outputs = outputs_from_commands::<A>(commands, &mut next_send_id);
            if outputs != record.outputs {
                return Err(fail(
                    at,
                    format!(
                        "outputs differ: replay issued {} commands, the trace {} (first difference at {})",
                        outputs.len(),
                        record.outputs.len(),
                        outputs
                            .iter()
                            .zip(&record.outputs)
                            .position(|(a, b)| a != b)
                            .unwrap_or(outputs.len().min(record.outputs.len()))
                    ),
                ));
            }
            let after = digest(state.as_ref().expect("started"));
            if after != record.state_digest_after {
                return Err(fail(
                    at,
                    format!(
                        "state after the step has digest {}, the trace says {}",
                        hex(&after),
                        hex(&record.state_digest_after)
                    ),
                ));
            }
            stats.steps += 1;
        }
    }
    Ok(stats)
}

/// A digest's first bytes in hex, enough to tell digests apart in a message.
pub(crate) fn hex(d: &[u8; 32]) -> String {
    d[..6].iter().map(|b| format!("{b:02x}")).collect()
}
