//! The trace format shared by the deployed host (which records), the model (which replays
//! counterexamples) and the refinement tests (DESIGN §5 "Durability and traces", §6).
//!
//! A trace is one header per incarnation followed by one record per actor step. Each record
//! holds the step's input, its outputs, and sha256 digests of the state before and after,
//! so replay through the same actor code can check every step without storing whole states.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use stateright::actor::{Actor, Command, Id};

use crate::crypto::{bytes, sha256_canonical, NodeId};

/// Version of this record format; bump on any change to the types below.
pub const TRACE_FORMAT_VERSION: u32 = 1;

/// Identifies one send, unique across a node's incarnations; receivers drop repeats.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub struct SendId {
    /// The sending node.
    pub src: NodeId,
    /// The sender's incarnation (restart count), so sequence numbers may restart at zero.
    pub incarnation: u64,
    /// Position of the send within the incarnation.
    pub seq: u64,
}

/// Written once at the start of each incarnation's trace.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TraceHeader {
    /// [`TRACE_FORMAT_VERSION`] at recording time.
    pub format_version: u32,
    /// The protocol's name (as `quorate check` spells it).
    pub protocol: String,
    /// The recording node.
    pub node: NodeId,
    /// Which incarnation of the node this trace covers.
    pub incarnation: u64,
    /// Digest of the Storage this incarnation loaded, so replay starts from the same point.
    #[serde(with = "bytes::fixed")]
    pub loaded_storage_digest: [u8; 32],
    /// The crypto parameter's name (`Crypto::NAME`).
    pub crypto: String,
    /// The seed of a simulated run, if any.
    pub seed: Option<u64>,
}

/// What drove one actor step.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TraceInput<M, T, R> {
    /// `on_start` (first boot or recovery).
    Start,
    /// `on_msg` for a message from `src`.
    Deliver {
        /// The sender.
        src: NodeId,
        /// The sender's id for this send, for matching it across traces.
        send_id: SendId,
        /// The message.
        msg: M,
    },
    /// `on_timeout`.
    Timeout {
        /// The timer that fired.
        timer: T,
    },
    /// `on_random` with the host's choice.
    Random {
        /// The key the actor chose under.
        key: String,
        /// The value chosen.
        random: R,
    },
}

/// One command an actor step issued, as the host carried it out.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TraceOutput<M, T, R> {
    /// A message handed to the transport.
    Send {
        /// The destination.
        dst: NodeId,
        /// The id this send travels under.
        send_id: SendId,
        /// The message.
        msg: M,
    },
    /// A timer armed with a duration drawn from `[min_ms, max_ms)`.
    SetTimer {
        /// The timer.
        timer: T,
        /// Lower bound of the range, milliseconds.
        min_ms: u64,
        /// Upper bound of the range, milliseconds.
        max_ms: u64,
    },
    /// A timer cancelled.
    CancelTimer {
        /// The timer.
        timer: T,
    },
    /// A random choice requested.
    ChooseRandom {
        /// The key of the choice (a later request with the same key replaces it).
        key: String,
        /// The options offered.
        choices: Vec<R>,
    },
    /// A save of durable state; the bytes live in the store, the trace keeps their digest.
    Save {
        /// [`digest`] of the saved Storage.
        #[serde(with = "bytes::fixed")]
        storage_digest: [u8; 32],
    },
}

/// One actor step: input, effect on state, and outputs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TraceRecord<M, T, R> {
    /// Step number within the incarnation, from 0.
    pub step: u64,
    /// What drove the step.
    pub input: TraceInput<M, T, R>,
    /// [`digest`] of the state before the step (zero for `Start`, which has no prior state).
    #[serde(with = "bytes::fixed")]
    pub state_digest_before: [u8; 32],
    /// [`digest`] of the state after the step.
    #[serde(with = "bytes::fixed")]
    pub state_digest_after: [u8; 32],
    /// Whether the handler left state untouched and issued nothing (stateright's no-op rule).
    pub noop: bool,
    /// The commands issued, in order.
    pub outputs: Vec<TraceOutput<M, T, R>>,
}

/// The digest used in traces: sha256 of the canonical encoding (never `Hash`).
pub fn digest<T: Serialize>(v: &T) -> [u8; 32] {
    sha256_canonical(v)
}

/// The protocol-level id of a stateright actor id.
///
/// # Panics
/// If the id does not fit a [`NodeId`]; hosts never configure that many actors.
pub fn node_id(id: Id) -> NodeId {
    let raw = usize::from(id);
    NodeId::try_from(raw).unwrap_or_else(|_| panic!("actor id {raw} does not fit a NodeId"))
}

/// Milliseconds of a timer bound, saturating (timer ranges are small in practice).
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Converts one step's stateright commands into trace outputs, drawing a fresh send id for
/// each `Send` and recording only the digest of a saved Storage.
pub fn outputs_from_commands<A>(
    cmds: impl IntoIterator<Item = Command<A::Msg, A::Timer, A::Random, A::Storage>>,
    next_send_id: &mut impl FnMut() -> SendId,
) -> Vec<TraceOutput<A::Msg, A::Timer, A::Random>>
where
    A: Actor,
    A::Storage: Serialize,
{
    cmds.into_iter()
        .map(|cmd| match cmd {
            Command::Send(dst, msg) => TraceOutput::Send {
                dst: node_id(dst),
                send_id: next_send_id(),
                msg,
            },
            Command::SetTimer(timer, range) => TraceOutput::SetTimer {
                timer,
                min_ms: millis(range.start),
                max_ms: millis(range.end),
            },
            Command::CancelTimer(timer) => TraceOutput::CancelTimer { timer },
            Command::ChooseRandom(key, choices) => TraceOutput::ChooseRandom { key, choices },
            Command::Save(storage) => TraceOutput::Save {
                storage_digest: digest(&storage),
            },
        })
        .collect()
}

/// One JSON line (ending in `\n`) for a header or record.
pub fn to_json_line<V: Serialize>(v: &V) -> Result<String, serde_json::Error> {
    let mut line = serde_json::to_string(v)?;
    line.push('\n');
    Ok(line)
}

/// Parses one JSON line written by [`to_json_line`] (the trailing newline is optional).
pub fn from_json_line<V: DeserializeOwned>(line: &str) -> Result<V, serde_json::Error> {
    serde_json::from_str(line.trim_end_matches(['\n', '\r']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    use std::collections::BTreeMap;

    use stateright::actor::Out;

    #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    enum Msg {
        Ping(u64),
        Pong { round: u64, note: String },
    }

    #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    enum Timer {
        Retry,
    }

    /// A tiny actor whose start issues every kind of command.
    struct Probe;

    impl Actor for Probe {
        type Msg = Msg;
        type Timer = Timer;
        type State = u64;
        type Storage = BTreeMap<u64, String>;
        type Random = u8;

        fn on_start(&self, _id: Id, _storage: &Option<Self::Storage>, o: &mut Out<Self>) -> u64 {
            o.send(Id::from(2), Msg::Ping(1));
            o.set_timer(
                Timer::Retry,
                Duration::from_millis(100)..Duration::from_millis(200),
            );
            o.cancel_timer(Timer::Retry);
            o.choose_random("leader", vec![1, 2]);
            o.save(BTreeMap::from([(1, "a".to_string())]));
            o.send(Id::from(3), Msg::Ping(2));
            0
        }

        fn on_msg(&self, _: Id, _: &mut Cow<u64>, _: Id, _: Msg, _: &mut Out<Self>) {}
    }

    fn sample_record() -> TraceRecord<Msg, Timer, u8> {
        TraceRecord {
            step: 7,
            input: TraceInput::Deliver {
                src: 1,
                send_id: SendId {
                    src: 1,
                    incarnation: 2,
                    seq: 40,
                },
                msg: Msg::Pong {
                    round: 3,
                    note: "line\nbreak".to_string(),
                },
            },
            state_digest_before: digest(&1u64),
            state_digest_after: digest(&2u64),
            noop: false,
            outputs: vec![
                TraceOutput::Send {
                    dst: 0,
                    send_id: SendId {
                        src: 4,
                        incarnation: 0,
                        seq: 9,
                    },
                    msg: Msg::Ping(5),
                },
                TraceOutput::SetTimer {
                    timer: Timer::Retry,
                    min_ms: 10,
                    max_ms: 20,
                },
                TraceOutput::ChooseRandom {
                    key: "k".to_string(),
                    choices: vec![1, 2, 3],
                },
                TraceOutput::Save {
                    storage_digest: digest(&"s"),
                },
            ],
        }
    }

    #[test]
    fn record_roundtrips_through_one_json_line() {
        let record = sample_record();
        let line = to_json_line(&record).unwrap();
        assert!(line.ends_with('\n'));
        assert_eq!(
            line.matches('\n').count(),
            1,
            "a record is exactly one line"
        );
        let back: TraceRecord<Msg, Timer, u8> = from_json_line(&line).unwrap();
        assert_eq!(back, record);
        // Digests are hex strings, readable and greppable.
        assert!(line.contains(&crate::crypto::bytes::hex(&record.state_digest_after)));
    }

    #[test]
    fn header_roundtrips_through_json() {
        let header = TraceHeader {
            format_version: TRACE_FORMAT_VERSION,
            protocol: "pbft".to_string(),
            node: 3,
            incarnation: 1,
            loaded_storage_digest: digest(&Option::<u8>::None),
            crypto: "ed25519".to_string(),
            seed: Some(42),
        };
        let back: TraceHeader = from_json_line(&to_json_line(&header).unwrap()).unwrap();
        assert_eq!(back, header);
    }

    #[test]
    fn digest_is_equal_for_equal_values_and_differs_otherwise() {
        let a = BTreeMap::from([(1u32, "x".to_string()), (2, "y".to_string())]);
        let b = BTreeMap::from([(2u32, "y".to_string()), (1, "x".to_string())]);
        assert_eq!(digest(&a), digest(&b), "insertion order must not matter");
        let c = BTreeMap::from([(1u32, "x".to_string()), (2, "z".to_string())]);
        assert_ne!(digest(&a), digest(&c));
        assert_ne!(digest(&Msg::Ping(1)), digest(&Msg::Ping(2)));
    }

    #[test]
    fn commands_become_outputs_with_fresh_send_ids() {
        let mut out = Out::<Probe>::new();
        Probe.on_start(Id::from(4), &None, &mut out);
        let mut seq = 0;
        let mut next = || {
            seq += 1;
            SendId {
                src: 4,
                incarnation: 1,
                seq,
            }
        };
        let outputs = outputs_from_commands::<Probe>(out, &mut next);
        let id = |seq| SendId {
            src: 4,
            incarnation: 1,
            seq,
        };
        assert_eq!(
            outputs,
            vec![
                TraceOutput::Send {
                    dst: 2,
                    send_id: id(1),
                    msg: Msg::Ping(1)
                },
                TraceOutput::SetTimer {
                    timer: Timer::Retry,
                    min_ms: 100,
                    max_ms: 200
                },
                TraceOutput::CancelTimer {
                    timer: Timer::Retry
                },
                TraceOutput::ChooseRandom {
                    key: "leader".to_string(),
                    choices: vec![1, 2]
                },
                TraceOutput::Save {
                    storage_digest: digest(&BTreeMap::from([(1u64, "a".to_string())]))
                },
                TraceOutput::Send {
                    dst: 3,
                    send_id: id(2),
                    msg: Msg::Ping(2)
                },
            ]
        );
    }
}
