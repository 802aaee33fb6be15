//! The one host loop (DESIGN §5): runs any stateright [`Actor`] of `impl/` as a node, generic
//! over the transport, the clock, the disk and the random source.
//!
//! A step is: input (start, delivery, timeout, random choice) → the actor's handler → commands.
//! The step's `Save` and its trace record are committed in one disk transaction; only then are
//! its sends and timer arms released ([`Host::release`]). Drivers — the simulator and the QUIC
//! node — decide which input comes next; this module holds no protocol logic and no I/O of its own.

pub mod dedup;
pub mod rng;

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use quorate_impl::component::{id_node, node_id};
use quorate_impl::crypto::NodeId;
use quorate_impl::trace::{
    digest, outputs_from_commands, to_json_line, SendId, TraceHeader, TraceInput, TraceOutput,
    TraceRecord, TRACE_FORMAT_VERSION,
};
use rand_core::RngCore;
use serde::de::DeserializeOwned;
use serde::Serialize;
use stateright::actor::{Actor, Command, Out};

pub use dedup::Dedup;
pub use rng::SplitMix64;

/// Everything a host needs of an actor's types: encodable messages and storage, digestible state.
pub trait HostedActor:
    Actor<
        Msg: Serialize + DeserializeOwned,
        Storage: Serialize + DeserializeOwned,
        State: Serialize,
        Timer: Serialize,
        Random: Serialize,
    > + Clone
{
}

impl<A> HostedActor for A where
    A: Actor<
            Msg: Serialize + DeserializeOwned,
            Storage: Serialize + DeserializeOwned,
            State: Serialize,
            Timer: Serialize,
            Random: Serialize,
        > + Clone
{
}

/// Monotonic time since the driver started.
pub trait Clock {
    /// Now.
    fn now(&self) -> Duration;
}

/// Hands a released send to the network; never retransmits.
pub trait Transport<M> {
    /// Sends `msg` to `dst` under `send_id`. Loss is allowed (the network contract).
    fn send(&mut self, dst: NodeId, send_id: SendId, msg: M);
}

/// What a disk kept for one node.
#[derive(Clone, Debug, Default)]
pub struct Recovered<S> {
    /// The last saved Storage, if any step ever saved.
    pub storage: Option<S>,
    /// The last incarnation that began (0 if none ever did).
    pub last_incarnation: u64,
}

/// Why a disk operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiskError {
    /// The data could not be made durable; the process must stop (never retried, DESIGN §5).
    Fsync(String),
    /// The store is damaged beyond its torn last transaction.
    Corrupt(String),
    /// Any other I/O or encoding failure.
    Io(String),
}

impl fmt::Display for DiskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiskError::Fsync(e) => write!(f, "fsync failed: {e}"),
            DiskError::Corrupt(e) => write!(f, "store is corrupt: {e}"),
            DiskError::Io(e) => write!(f, "store I/O failed: {e}"),
        }
    }
}

impl std::error::Error for DiskError {}

/// A node's durable store: the actor's Storage plus its trace, one transaction per step.
pub trait Disk<S> {
    /// Opens the store, checking it; a torn last transaction is discarded, anything worse refused.
    fn open(&mut self) -> Result<Recovered<S>, DiskError>;
    /// Durably records that `incarnation` begins (and its trace header, when tracing).
    fn begin(&mut self, incarnation: u64, header: Option<&str>) -> Result<(), DiskError>;
    /// Commits one step: the Storage it saved (if any) and its trace line (if tracing). A disk
    /// may stage the step into an open group transaction; it is durable after [`Disk::flush`].
    fn commit(&mut self, save: Option<&S>, trace_line: Option<&str>) -> Result<(), DiskError>;
    /// Makes every staged step durable (group commit). Disks that commit each step at once
    /// have nothing to do.
    fn flush(&mut self) -> Result<(), DiskError> {
        Ok(())
    }
}

/// What drives a step after the start.
#[derive(Clone, Debug)]
pub enum Input<A: Actor> {
    /// A message arrived.
    Deliver {
        /// The sender.
        src: NodeId,
        /// The sender's id for this send.
        send_id: SendId,
        /// The message.
        msg: A::Msg,
    },
    /// A timer fired.
    Timeout(A::Timer),
    /// The host picked `value` for the random choice under `key`.
    Random {
        /// The choice's key.
        key: String,
        /// The value picked.
        value: A::Random,
    },
}

/// A committed step's sends and timer arms, held back until released.
#[derive(Debug)]
#[must_use = "a committed step's effects must be released (or dropped by a simulated crash)"]
pub struct Effects<A: Actor> {
    sends: Vec<(NodeId, SendId, A::Msg)>,
    timers: Vec<TimerCmd<A::Timer>>,
    randoms: Vec<(String, Vec<A::Random>)>,
}

impl<A: Actor> Effects<A> {
    /// The sends this step will release.
    pub fn sends(&self) -> &[(NodeId, SendId, A::Msg)] {
        &self.sends
    }
}

#[derive(Debug)]
enum TimerCmd<T> {
    Set(T, Duration, Duration),
    Cancel(T),
}

/// Why a step failed; every variant ends the node (the process, or a simulated crash).
#[derive(Debug)]
pub enum HostError {
    /// The disk refused a commit.
    Disk(DiskError),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Disk(e) => write!(f, "{e}"),
        }
    }
}

impl From<DiskError> for HostError {
    fn from(e: DiskError) -> Self {
        HostError::Disk(e)
    }
}

/// Names recorded in trace headers.
#[derive(Clone, Debug)]
pub struct TraceInfo {
    /// Protocol name as `quorate check` spells it.
    pub protocol: String,
    /// `Crypto::NAME`.
    pub crypto: String,
    /// The seed of a simulated run.
    pub seed: Option<u64>,
}

/// One hosted actor: its state, timers, pending random choices and send counter.
pub struct Host<A: Actor, D, R> {
    actor: A,
    id: NodeId,
    incarnation: u64,
    next_seq: u64,
    step: u64,
    /// Always `Some` between steps; taken during one so the actor changes it in place (a
    /// borrowed `Cow` would deep-copy the whole state, ledger included, at its first write).
    state: Option<A::State>,
    timers: Vec<(A::Timer, Duration)>,
    randoms: Vec<(String, Vec<A::Random>)>,
    dedup: Dedup,
    disk: D,
    rng: R,
    tracing: bool,
    loaded_digest: [u8; 32],
    dedup_enabled: bool,
}

impl<A, D, R> Host<A, D, R>
where
    A: HostedActor,
    D: Disk<A::Storage>,
    R: RngCore,
{
    /// Opens the disk, begins a new incarnation, runs `on_start` and commits it. The returned
    /// effects are the start step's, to be released like any other's.
    pub fn start(
        actor: A,
        id: NodeId,
        mut disk: D,
        rng: R,
        trace: Option<&TraceInfo>,
    ) -> Result<(Self, Effects<A>), HostError> {
        let recovered = disk.open()?;
        let incarnation = recovered.last_incarnation + 1;
        let loaded_digest = digest(&recovered.storage);
        let header = trace.map(|info| {
            to_json_line(&TraceHeader {
                format_version: TRACE_FORMAT_VERSION,
                protocol: info.protocol.clone(),
                node: id,
                incarnation,
                loaded_storage_digest: loaded_digest,
                crypto: info.crypto.clone(),
                seed: info.seed,
            })
            .expect("trace headers encode")
        });
        // Durable before any send: send ids must never repeat across incarnations.
        disk.begin(incarnation, header.as_deref())?;
        let mut out = Out::new();
        let state = actor.on_start(node_id(id), &recovered.storage, &mut out);
        tracing::info!(node = id, incarnation, "started");
        let mut host = Host {
            actor,
            id,
            incarnation,
            next_seq: 0,
            step: 0,
            state: Some(state),
            timers: Vec::new(),
            randoms: Vec::new(),
            dedup: Dedup::default(),
            disk,
            rng,
            tracing: trace.is_some(),
            loaded_digest,
            dedup_enabled: true,
        };
        let effects = host.commit(TraceInput::Start, [0; 32], false, out)?;
        Ok((host, effects))
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// This incarnation.
    pub fn incarnation(&self) -> u64 {
        self.incarnation
    }

    /// The actor's current state.
    pub fn state(&self) -> &A::State {
        self.state.as_ref().expect("a state between steps")
    }

    /// The hosted actor.
    pub fn actor(&self) -> &A {
        &self.actor
    }

    /// The disk (for export and inspection).
    pub fn disk(&self) -> &D {
        &self.disk
    }

    /// The disk, mutably (ledger export between steps).
    pub fn disk_mut(&mut self) -> &mut D {
        &mut self.disk
    }

    /// Fault injection only (SimHost's `RuntimeFault::DuplicateDelivery`): a runtime that
    /// does not drop repeated send ids, to show the refinement tests catch it. No node
    /// configuration reaches this.
    #[doc(hidden)]
    pub fn inject_no_dedup(&mut self) {
        self.dedup_enabled = false;
    }

    /// Digest of the Storage this incarnation loaded.
    pub fn loaded_digest(&self) -> [u8; 32] {
        self.loaded_digest
    }

    /// Runs one input through the actor and commits it. A duplicate delivery (same sender
    /// incarnation and send sequence number) is dropped and yields `None`.
    pub fn handle(&mut self, input: Input<A>) -> Result<Option<Effects<A>>, HostError> {
        if let Input::Deliver { send_id, src, .. } = &input {
            let repeat = self.dedup_enabled && !self.dedup.first_time(*send_id);
            if send_id.src != *src || repeat {
                tracing::warn!(
                    node = self.id,
                    ?send_id,
                    src,
                    "duplicate or mislabelled delivery dropped"
                );
                return Ok(None);
            }
        }
        // Digests only when something reads them: the trace, or the refusal log line.
        let compare = self.tracing || tracing::enabled!(tracing::Level::DEBUG);
        let before = if compare {
            digest(self.state())
        } else {
            [0; 32]
        };
        let mut out = Out::new();
        let mut state: Cow<A::State> =
            Cow::Owned(self.state.take().expect("a state between steps"));
        let me = node_id(self.id);
        let record_input = match input {
            Input::Deliver { src, send_id, msg } => {
                let recorded = self.tracing.then(|| msg.clone());
                self.actor
                    .on_msg(me, &mut state, node_id(src), msg, &mut out);
                recorded.map(|msg| TraceInput::Deliver { src, send_id, msg })
            }
            Input::Timeout(timer) => {
                self.actor.on_timeout(me, &mut state, &timer, &mut out);
                Some(TraceInput::Timeout { timer })
            }
            Input::Random { key, value } => {
                self.actor.on_random(me, &mut state, &value, &mut out);
                Some(TraceInput::Random { key, random: value })
            }
        };
        self.state = Some(state.into_owned());
        // The state is owned, so a change shows only in its digest.
        let changed = !compare || digest(self.state()) != before;
        let noop = !changed && out.is_empty();
        if noop {
            // How refusals show: the actor ignores a stale or unauthentic input.
            tracing::debug!(
                node = self.id,
                step = self.step,
                "input left the actor unchanged"
            );
        }
        let record_input = if self.tracing { record_input } else { None };
        let input = record_input.unwrap_or(TraceInput::Start);
        self.commit(input, before, noop, out).map(Some)
    }

    /// Commits a step's save and trace record, then returns its effects for release.
    fn commit(
        &mut self,
        input: TraceInput<A::Msg, A::Timer, A::Random>,
        before: [u8; 32],
        noop: bool,
        out: Out<A>,
    ) -> Result<Effects<A>, HostError> {
        let commands: Vec<_> = out.into_iter().collect();
        let save = commands.iter().rev().find_map(|c| match c {
            Command::Save(storage) => Some(storage.clone()),
            _ => None,
        });
        let (id, incarnation) = (self.id, self.incarnation);
        let mut seq = self.next_seq;
        let mut next_send_id = || {
            seq += 1;
            SendId {
                src: id,
                incarnation,
                seq,
            }
        };
        let outputs = outputs_from_commands::<A>(commands, &mut next_send_id);
        self.next_seq = seq;
        let line = self.tracing.then(|| {
            to_json_line(&TraceRecord {
                step: self.step,
                input,
                state_digest_before: before,
                state_digest_after: digest(self.state()),
                noop,
                outputs: outputs.clone(),
            })
            .expect("trace records encode")
        });
        self.step += 1;
        if save.is_some() || line.is_some() {
            self.disk.commit(save.as_ref(), line.as_deref())?;
        }
        let mut effects = Effects {
            sends: Vec::new(),
            timers: Vec::new(),
            randoms: Vec::new(),
        };
        for output in outputs {
            match output {
                TraceOutput::Send { dst, send_id, msg } => effects.sends.push((dst, send_id, msg)),
                TraceOutput::SetTimer {
                    timer,
                    min_ms,
                    max_ms,
                } => effects.timers.push(TimerCmd::Set(
                    timer,
                    Duration::from_millis(min_ms),
                    Duration::from_millis(max_ms),
                )),
                TraceOutput::CancelTimer { timer } => effects.timers.push(TimerCmd::Cancel(timer)),
                TraceOutput::ChooseRandom { key, choices } => effects.randoms.push((key, choices)),
                TraceOutput::Save { .. } => {}
            }
        }
        Ok(effects)
    }

    /// Makes the steps handled so far durable; call before releasing their effects when the
    /// disk groups commits (the QUIC host handles a burst of inputs, syncs once, then releases).
    pub fn sync(&mut self) -> Result<(), HostError> {
        self.disk.flush().map_err(HostError::Disk)
    }

    /// Releases a committed step's sends to `net` and arms its timers on `clock`, each timer's
    /// duration drawn from the host's RNG within the actor's range. With a grouping disk,
    /// [`Host::sync`] must have run since the step was handled.
    pub fn release(
        &mut self,
        effects: Effects<A>,
        clock: &impl Clock,
        net: &mut impl Transport<A::Msg>,
    ) {
        for (dst, send_id, msg) in effects.sends {
            net.send(dst, send_id, msg);
        }
        let now = clock.now();
        for cmd in effects.timers {
            match cmd {
                TimerCmd::Set(timer, min, max) => {
                    let span = max.saturating_sub(min).as_millis() as u64;
                    let jitter = if span == 0 {
                        0
                    } else {
                        self.rng.next_u64() % span
                    };
                    let deadline = now + min + Duration::from_millis(jitter);
                    self.timers.retain(|(t, _)| *t != timer);
                    self.timers.push((timer, deadline));
                }
                TimerCmd::Cancel(timer) => self.timers.retain(|(t, _)| *t != timer),
            }
        }
        for (key, choices) in effects.randoms {
            self.randoms.retain(|(k, _)| *k != key);
            if !choices.is_empty() {
                self.randoms.push((key, choices));
            }
        }
    }

    /// The earliest armed timer's deadline.
    pub fn next_deadline(&self) -> Option<Duration> {
        self.timers.iter().map(|(_, at)| *at).min()
    }

    /// Takes the earliest timer due at `now`, if any (ties: the first armed).
    pub fn take_due_timer(&mut self, now: Duration) -> Option<A::Timer> {
        let (index, _) = self
            .timers
            .iter()
            .enumerate()
            .filter(|(_, (_, at))| *at <= now)
            .min_by_key(|(i, (_, at))| (*at, *i))?;
        Some(self.timers.remove(index).0)
    }

    /// Resolves one pending random choice with the host's RNG (recorded in the trace as the input).
    pub fn take_random(&mut self) -> Option<Input<A>> {
        if self.randoms.is_empty() {
            return None;
        }
        let (key, choices) = self.randoms.remove(0);
        let pick = (self.rng.next_u64() % choices.len() as u64) as usize;
        Some(Input::Random {
            key,
            value: choices[pick].clone(),
        })
    }

    /// The id of the actor behind a stateright id (for drivers that route by id).
    pub fn node_of(id: stateright::actor::Id) -> NodeId {
        id_node(id)
    }
}
