//! Node traces as the host recorded them: one header per incarnation, then that incarnation's
//! step records (`quorate_impl::trace`), parsed from the JSON lines a store or SimHost disk holds.

use std::fmt;

use quorate_impl::crypto::NodeId;
use quorate_impl::trace::{from_json_line, TraceHeader, TraceRecord};
use serde::de::DeserializeOwned;
use stateright::actor::Actor;

/// A step record of actor `A`.
pub type RecordOf<A> = TraceRecord<<A as Actor>::Msg, <A as Actor>::Timer, <A as Actor>::Random>;

/// One incarnation: what it loaded, and the steps it made durable.
#[derive(Clone, Debug)]
pub struct Incarnation<A: Actor> {
    /// The header written when the incarnation began.
    pub header: TraceHeader,
    /// Its steps, in order (possibly none: a fault before the start step was durable).
    pub records: Vec<RecordOf<A>>,
}

/// Every incarnation of one node, in order.
#[derive(Clone, Debug)]
pub struct NodeTrace<A: Actor> {
    /// The node.
    pub node: NodeId,
    /// Its incarnations, oldest first.
    pub incarnations: Vec<Incarnation<A>>,
}

/// Why trace lines could not be read as a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError(pub String);

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TraceError {}

impl<A> NodeTrace<A>
where
    A: Actor<Msg: DeserializeOwned, Timer: DeserializeOwned, Random: DeserializeOwned>,
{
    /// Parses node `node`'s trace lines: each header starts an incarnation; records follow it.
    pub fn parse(node: NodeId, lines: &[String]) -> Result<Self, TraceError> {
        let mut incarnations: Vec<Incarnation<A>> = Vec::new();
        for (number, line) in lines.iter().enumerate() {
            if let Ok(header) = from_json_line::<TraceHeader>(line) {
                if header.node != node {
                    return Err(TraceError(format!(
                        "line {}: header of node {} in node {node}'s trace",
                        number + 1,
                        header.node
                    )));
                }
                if let Some(last) = incarnations.last() {
                    if header.incarnation <= last.header.incarnation {
                        return Err(TraceError(format!(
                            "line {}: incarnation {} follows incarnation {} (must increase)",
                            number + 1,
                            header.incarnation,
                            last.header.incarnation
                        )));
                    }
                }
                incarnations.push(Incarnation {
                    header,
                    records: Vec::new(),
                });
                continue;
            }
            let record: RecordOf<A> = from_json_line(line).map_err(|e| {
                TraceError(format!(
                    "line {} of node {node}'s trace is neither a header nor a record: {e}",
                    number + 1
                ))
            })?;
            let Some(current) = incarnations.last_mut() else {
                return Err(TraceError(format!(
                    "line {}: a record before any header in node {node}'s trace",
                    number + 1
                )));
            };
            if record.step != current.records.len() as u64 {
                return Err(TraceError(format!(
                    "line {}: step {} where step {} was due (a record is missing)",
                    number + 1,
                    record.step,
                    current.records.len()
                )));
            }
            current.records.push(record);
        }
        Ok(NodeTrace { node, incarnations })
    }

    /// Step records in all incarnations.
    pub fn steps(&self) -> usize {
        self.incarnations.iter().map(|i| i.records.len()).sum()
    }
}
