//! SimHost (DESIGN §5): every node of a cluster in one thread on simulated time, with seeded
//! network faults within the contract (drop, delay, reorder, partition — never duplication),
//! seeded crashes and disk faults (crash between commit and send, torn write, fsync error), and
//! a final liveness phase in which faults stop and every client operation must complete. The
//! same seed replays the same run exactly: every choice comes from one seeded generator and
//! every tie is broken by a counter.

pub mod disk;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use quorate_impl::crypto::NodeId;
use quorate_impl::trace::SendId;
use sha2::{Digest, Sha256};

use crate::host::{Clock, Effects, Host, HostError, Input, SplitMix64, TraceInfo, Transport};
use crate::protocols::{Committed, Observed};
pub use disk::{DiskFault, DiskImage, MemDisk};

/// Fault rates and phase lengths of a simulated run. Rates are per mille.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The seed every choice derives from.
    pub seed: u64,
    /// Length of the fault phase.
    pub fault_phase: Duration,
    /// Every client operation must complete within this after the faults stop.
    pub liveness_bound: Duration,
    /// Message delay range (reordering comes from differing delays).
    pub delay_ms: (u64, u64),
    /// Chance that a message is lost.
    pub drop_per_mille: u32,
    /// Chance, at each node-step, that a partition starts (if none is active).
    pub partition_per_mille: u32,
    /// How long a partition lasts.
    pub partition_ms: (u64, u64),
    /// Chance, at each replica step, that the replica crashes after committing, before sending.
    pub crash_per_mille: u32,
    /// Chance, at each replica commit, of a torn write or an fsync error (half each).
    pub disk_fault_per_mille: u32,
    /// How long a crashed node stays down.
    pub downtime_ms: (u64, u64),
    /// Nodes allowed to crash.
    pub crashable: BTreeSet<NodeId>,
    /// At most this many down at once.
    pub max_down: usize,
    /// Record traces (needed for replay comparison and refinement checks).
    pub trace: bool,
    /// A deliberately broken runtime that loses every timer, to show the liveness phase fails.
    pub drop_timers: bool,
    /// A deliberately broken runtime (fault injection for the refinement tests; `None` in every
    /// real use — SimHost is not reachable from a node's configuration).
    pub runtime_fault: Option<RuntimeFault>,
}

/// Runtime bugs SimHost can inject, each at a per-mille rate, to show the refinement tests
/// catch them (DESIGN §6.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeFault {
    /// The network delivers a message twice and hosts do not drop the repeat.
    DuplicateDelivery(u32),
    /// A message is handed to another actor than its destination.
    WrongActor(u32),
    /// A replica step's sends leave before its transaction is durable, then the replica
    /// crashes and the transaction is lost. With `trace_survives`, only the Save is lost (as
    /// with a trace log made durable apart from the Storage); otherwise the whole transaction.
    EarlySend {
        /// Chance per replica step.
        per_mille: u32,
        /// Whether the step's trace record survives (only its Save is lost).
        trace_survives: bool,
    },
}

impl SimConfig {
    /// A config with moderate faults on every replica in `crashable`.
    pub fn new(seed: u64, crashable: impl IntoIterator<Item = NodeId>, max_down: usize) -> Self {
        SimConfig {
            seed,
            fault_phase: Duration::from_secs(20),
            liveness_bound: Duration::from_secs(30),
            delay_ms: (1, 40),
            drop_per_mille: 50,
            partition_per_mille: 2,
            partition_ms: (200, 2000),
            crash_per_mille: 3,
            disk_fault_per_mille: 3,
            downtime_ms: (100, 3000),
            crashable: crashable.into_iter().collect(),
            max_down,
            trace: true,
            drop_timers: false,
            runtime_fault: None,
        }
    }

    /// No faults at all (the liveness phase starts at once).
    pub fn calm(seed: u64) -> Self {
        SimConfig {
            fault_phase: Duration::ZERO,
            drop_per_mille: 0,
            partition_per_mille: 0,
            crash_per_mille: 0,
            disk_fault_per_mille: 0,
            ..SimConfig::new(seed, [], 0)
        }
    }
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimReport {
    /// Simulated time at the end.
    pub end: Duration,
    /// When the fault phase ended.
    pub faults_stopped: Duration,
    /// Actor steps taken.
    pub steps: u64,
    /// Messages delivered, dropped, and refused as duplicates.
    pub delivered: u64,
    /// Messages lost to drops and partitions.
    pub dropped: u64,
    /// Crashes: after commit before send, torn writes, fsync errors.
    pub crashes_after_commit: u64,
    /// Torn writes injected.
    pub torn_writes: u64,
    /// Fsync errors injected.
    pub fsync_errors: u64,
    /// Partitions started.
    pub partitions: u64,
    /// Restarts (each a new incarnation).
    pub restarts: u64,
    /// Per client: operations completed.
    pub completed: BTreeMap<NodeId, u64>,
    /// Per replica: committed length at the end.
    pub committed_len: BTreeMap<NodeId, u64>,
    /// Digest of every node's trace, in node order: equal seeds give equal digests.
    pub trace_digest: [u8; 32],
}

/// Why a run failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimFailure {
    /// Two replicas committed different entries at one position.
    Divergence {
        /// The replicas.
        a: NodeId,
        /// The other.
        b: NodeId,
    },
    /// Some client had not finished when the liveness bound passed.
    NotLive {
        /// Clients that had not finished, with their progress.
        stuck: BTreeMap<NodeId, (u64, u64)>,
        /// The time the run gave up.
        at: Duration,
    },
    /// A node's store could not be opened on restart.
    Store(String),
    /// An actor panicked (a broken invariant inside the protocol code): the run stops there.
    Panic {
        /// The node.
        node: NodeId,
        /// The panic message.
        message: String,
    },
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic".to_string())
}

impl fmt::Display for SimFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimFailure::Divergence { a, b } => {
                write!(f, "replicas {a} and {b} committed different entries")
            }
            SimFailure::NotLive { stuck, at } => write!(
                f,
                "clients not finished at {at:?} (id: (done, of)): {stuck:?}"
            ),
            SimFailure::Store(e) => write!(f, "a store failed to open: {e}"),
            SimFailure::Panic { node, message } => write!(f, "node {node} panicked: {message}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Deliver,
    Restart(NodeId),
    Heal,
}

struct InFlight<M> {
    src: NodeId,
    dst: NodeId,
    send_id: SendId,
    msg: M,
}

struct SimClock(Duration);

impl Clock for SimClock {
    fn now(&self) -> Duration {
        self.0
    }
}

/// The sends of one step, collected before the network decides their fate.
struct Outbox<M>(Vec<(NodeId, SendId, M)>);

impl<M> Transport<M> for Outbox<M> {
    fn send(&mut self, dst: NodeId, send_id: SendId, msg: M) {
        self.0.push((dst, send_id, msg));
    }
}

struct Slot<A: Observed> {
    actor: A,
    disk: MemDisk,
    host: Option<Host<A, MemDisk, SplitMix64>>,
}

/// A cluster under simulation.
pub struct SimHost<A: Observed> {
    config: SimConfig,
    rng: SplitMix64,
    now: Duration,
    nodes: Vec<Slot<A>>,
    /// Scheduled events by (time, tie-break counter).
    queue: BTreeMap<(Duration, u64), Event>,
    messages: BTreeMap<u64, InFlight<A::Msg>>,
    counter: u64,
    isolated: Option<NodeId>,
    report: SimReport,
    crypto: String,
}

impl<A: Observed> SimHost<A> {
    /// A cluster of `actors` (node `i` is `actors[i]`), not yet started.
    pub fn new(config: SimConfig, actors: Vec<A>, crypto: &str) -> Self {
        let rng = SplitMix64::new(config.seed);
        SimHost {
            config,
            rng,
            now: Duration::ZERO,
            nodes: actors
                .into_iter()
                .map(|actor| Slot {
                    actor,
                    disk: MemDisk::new(),
                    host: None,
                })
                .collect(),
            queue: BTreeMap::new(),
            messages: BTreeMap::new(),
            counter: 0,
            isolated: None,
            report: SimReport::default(),
            crypto: crypto.to_string(),
        }
    }

    /// Node `id`'s disk image (traces, fault counters).
    pub fn disk(&self, id: NodeId) -> &MemDisk {
        &self.nodes[id as usize].disk
    }

    fn in_fault_phase(&self) -> bool {
        self.now < self.config.fault_phase
    }

    fn schedule(&mut self, at: Duration, event: Event) -> u64 {
        self.counter += 1;
        self.queue.insert((at, self.counter), event);
        self.counter
    }

    fn draw_ms(&mut self, (lo, hi): (u64, u64)) -> Duration {
        Duration::from_millis(lo + self.rng.below(hi.saturating_sub(lo).max(1)))
    }

    fn down_count(&self) -> usize {
        self.nodes.iter().filter(|n| n.host.is_none()).count()
    }

    fn start_node(&mut self, id: NodeId) -> Result<(), SimFailure> {
        let slot = &mut self.nodes[id as usize];
        let info = TraceInfo {
            protocol: A::PROTOCOL.to_string(),
            crypto: self.crypto.clone(),
            seed: Some(self.config.seed),
        };
        let node_rng = self.rng.fork();
        let (actor, disk) = (slot.actor.clone(), slot.disk.clone());
        let trace = self.config.trace.then_some(&info);
        let started = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Host::start(actor, id, disk, node_rng, trace)
        }))
        .map_err(|payload| SimFailure::Panic {
            node: id,
            message: panic_message(payload.as_ref()),
        })?;
        match started {
            Ok((mut host, effects)) => {
                if matches!(
                    self.config.runtime_fault,
                    Some(RuntimeFault::DuplicateDelivery(_))
                ) {
                    host.inject_no_dedup();
                }
                self.nodes[id as usize].host = Some(host);
                self.after_commit(id, effects);
                Ok(())
            }
            Err(HostError::Disk(crate::host::DiskError::Corrupt(e))) => Err(SimFailure::Store(e)),
            // A fault while writing the incarnation record: down again, retried later.
            Err(HostError::Disk(_)) => {
                self.crash(id);
                Ok(())
            }
        }
    }

    fn crash(&mut self, id: NodeId) {
        self.nodes[id as usize].host = None;
        let downtime = self.draw_ms(self.config.downtime_ms);
        // In the fault phase a node stays down for its downtime; afterwards it is back at once.
        let at = if self.in_fault_phase() {
            self.now + downtime
        } else {
            self.now
        };
        self.schedule(at, Event::Restart(id));
    }

    /// A committed step: maybe crash before its sends (a fault), else release them.
    fn after_commit(&mut self, id: NodeId, effects: Effects<A>) {
        let crashable = self.in_fault_phase()
            && self.config.crashable.contains(&id)
            && self.down_count() < self.config.max_down;
        if crashable && self.rng.chance(self.config.crash_per_mille) {
            self.report.crashes_after_commit += 1;
            tracing::debug!(node = id, at = ?self.now, "crash between commit and send");
            drop(effects);
            self.crash(id);
            return;
        }
        self.release(id, effects);
    }

    fn release(&mut self, id: NodeId, effects: Effects<A>) {
        let clock = SimClock(self.now);
        let mut outbox = Outbox(Vec::new());
        let host = self.nodes[id as usize]
            .host
            .as_mut()
            .expect("a node that just stepped is up");
        host.release(effects, &clock, &mut outbox);
        for (dst, send_id, msg) in outbox.0 {
            self.transmit(id, dst, send_id, msg);
        }
    }

    /// `RuntimeFault::EarlySend`: maybe release `effects` before the step is durable, then
    /// crash and lose it. Returns the effects back when the fault does not strike.
    fn early_send(
        &mut self,
        id: NodeId,
        effects: Effects<A>,
        log_len: usize,
    ) -> Option<Effects<A>> {
        let Some(RuntimeFault::EarlySend {
            per_mille,
            trace_survives,
        }) = self.config.runtime_fault
        else {
            return Some(effects);
        };
        let eligible = self.in_fault_phase()
            && self.config.crashable.contains(&id)
            && self.down_count() < self.config.max_down;
        if !eligible || !self.rng.chance(per_mille) {
            return Some(effects);
        }
        let image = self.nodes[id as usize].disk.image().clone();
        if trace_survives {
            if !image.borrow_mut().lose_last_save() {
                return Some(effects);
            }
        } else if effects.sends().is_empty() {
            return Some(effects);
        } else {
            image.borrow_mut().lose_tail(log_len);
        }
        tracing::debug!(node = id, at = ?self.now, "injected: sends released before the save was durable");
        self.release(id, effects);
        self.crash(id);
        None
    }

    fn cut(&self, a: NodeId, b: NodeId) -> bool {
        self.isolated.is_some_and(|i| (i == a) != (i == b))
    }

    fn transmit(&mut self, src: NodeId, dst: NodeId, send_id: SendId, msg: A::Msg) {
        let lost = self.in_fault_phase() && self.rng.chance(self.config.drop_per_mille);
        if lost || self.cut(src, dst) || dst as usize >= self.nodes.len() {
            self.report.dropped += 1;
            return;
        }
        let mut dst = dst;
        if let Some(RuntimeFault::WrongActor(per_mille)) = self.config.runtime_fault {
            if self.rng.chance(per_mille) {
                dst = (dst + 1) % self.nodes.len() as NodeId;
            }
        }
        if let Some(RuntimeFault::DuplicateDelivery(per_mille)) = self.config.runtime_fault {
            if self.rng.chance(per_mille) {
                self.enqueue(src, dst, send_id, msg.clone());
            }
        }
        self.enqueue(src, dst, send_id, msg);
    }

    fn enqueue(&mut self, src: NodeId, dst: NodeId, send_id: SendId, msg: A::Msg) {
        let delay = self.draw_ms(self.config.delay_ms);
        let key = self.schedule(self.now + delay, Event::Deliver);
        self.messages.insert(
            key,
            InFlight {
                src,
                dst,
                send_id,
                msg,
            },
        );
    }

    /// Runs one input at node `id`, injecting disk faults and crashes.
    fn step(&mut self, id: NodeId, input: Input<A>) -> Result<(), SimFailure> {
        let faulty = self.in_fault_phase()
            && self.config.crashable.contains(&id)
            && self.down_count() < self.config.max_down;
        if faulty && self.rng.chance(self.config.disk_fault_per_mille) {
            let fault = if self.rng.chance(500) {
                self.report.torn_writes += 1;
                DiskFault::TornWrite
            } else {
                self.report.fsync_errors += 1;
                DiskFault::FsyncError
            };
            self.nodes[id as usize].disk.image().borrow_mut().arm(fault);
        }
        let log_len = self.nodes[id as usize].disk.image().borrow().len();
        let Some(host) = self.nodes[id as usize].host.as_mut() else {
            return Ok(());
        };
        self.report.steps += 1;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| host.handle(input)))
            .map_err(|payload| SimFailure::Panic {
                node: id,
                message: panic_message(payload.as_ref()),
            })?;
        // A fault armed for a step that committed nothing stays armed for nothing.
        self.nodes[id as usize].disk.image().borrow_mut().disarm();
        match result {
            Ok(Some(effects)) => {
                if let Some(effects) = self.early_send(id, effects, log_len) {
                    self.after_commit(id, effects);
                }
            }
            Ok(None) => {}
            Err(error) => {
                tracing::debug!(node = id, %error, "node stops on a disk error");
                self.crash(id);
            }
        }
        Ok(())
    }

    fn maybe_partition(&mut self) {
        if self.in_fault_phase()
            && self.isolated.is_none()
            && self.rng.chance(self.config.partition_per_mille)
        {
            let victim = self.rng.below(self.nodes.len() as u64) as NodeId;
            self.isolated = Some(victim);
            self.report.partitions += 1;
            let length = self.draw_ms(self.config.partition_ms);
            self.schedule(self.now + length, Event::Heal);
        }
    }

    fn clients_done(&self) -> bool {
        self.nodes.iter().all(|slot| {
            !slot.actor.is_client()
                || slot
                    .host
                    .as_ref()
                    .and_then(|h| A::completed(h.state()))
                    .is_some_and(|done| done >= slot.actor.workload_len())
        })
    }

    fn ledgers(&self) -> Vec<(NodeId, Committed)> {
        self.nodes
            .iter()
            .enumerate()
            .filter_map(|(i, slot)| {
                let host = slot.host.as_ref()?;
                Some((i as NodeId, A::committed(host.state(), 0)?))
            })
            .collect()
    }

    fn check_agreement(&self) -> Result<(), SimFailure> {
        let ledgers = self.ledgers();
        for (i, (a, la)) in ledgers.iter().enumerate() {
            for (b, lb) in &ledgers[i + 1..] {
                if !la.agrees_with(lb) {
                    return Err(SimFailure::Divergence { a: *a, b: *b });
                }
            }
        }
        Ok(())
    }

    /// Runs the cluster: the fault phase, then the liveness phase until every client finished.
    pub fn run(mut self) -> Result<SimReport, SimFailure> {
        for id in 0..self.nodes.len() as NodeId {
            self.start_node(id)?;
        }
        let deadline = self.config.fault_phase + self.config.liveness_bound;
        let mut faults_over = self.config.fault_phase.is_zero();
        loop {
            if !faults_over && !self.in_fault_phase() {
                faults_over = true;
                self.end_faults();
            }
            if faults_over && self.clients_done() {
                break;
            }
            if self.now > deadline {
                return Err(self.not_live());
            }
            self.advance()?;
            // Digesting every ledger is linear in its length: check every so often, and at the end.
            if self.report.steps.is_multiple_of(64) {
                self.check_agreement()?;
            }
        }
        self.check_agreement()?;
        Ok(self.finish())
    }

    fn end_faults(&mut self) {
        self.isolated = None;
        self.config.drop_per_mille = 0;
        // Down nodes come back now: their pending restarts are moved to this instant.
        let restarts: Vec<_> = self
            .queue
            .iter()
            .filter(|(_, e)| matches!(e, Event::Restart(_)))
            .map(|(k, e)| (*k, *e))
            .collect();
        for (key, event) in restarts {
            self.queue.remove(&key);
            self.schedule(self.now, event);
        }
    }

    /// Takes the next event: pending random choices first, then the earliest of the queue and
    /// the timers (queue first on a tie, then timers in node order).
    fn advance(&mut self) -> Result<(), SimFailure> {
        for id in 0..self.nodes.len() as NodeId {
            let random = self.nodes[id as usize]
                .host
                .as_mut()
                .and_then(|h| h.take_random());
            if let Some(input) = random {
                return self.step(id, input);
            }
        }
        let next_timer = self
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((s.host.as_ref()?.next_deadline()?, i as NodeId)))
            .min();
        let next_event = self.queue.keys().next().copied();
        let fault_end = (!self.config.fault_phase.is_zero() && self.in_fault_phase())
            .then_some(self.config.fault_phase);
        let candidates = [
            next_event.map(|(t, _)| t),
            next_timer.map(|(t, _)| t),
            fault_end,
        ];
        let Some(next) = candidates.into_iter().flatten().min() else {
            // Nothing can ever happen again: jump to the liveness deadline.
            self.now =
                self.config.fault_phase + self.config.liveness_bound + Duration::from_millis(1);
            return Ok(());
        };
        self.now = self.now.max(next);
        if next_event.is_some_and(|(t, _)| t == next) {
            let (key, event) = self.queue.pop_first().expect("peeked");
            return self.on_event(key.1, event);
        }
        if let Some((t, id)) = next_timer {
            if t == next {
                let host = self.nodes[id as usize].host.as_mut().expect("has a timer");
                if let Some(timer) = host.take_due_timer(self.now) {
                    if self.config.drop_timers {
                        return Ok(());
                    }
                    self.step(id, Input::Timeout(timer))?;
                    self.maybe_partition();
                }
            }
        }
        Ok(())
    }

    fn on_event(&mut self, key: u64, event: Event) -> Result<(), SimFailure> {
        match event {
            Event::Deliver => {
                let m = self
                    .messages
                    .remove(&key)
                    .expect("a delivery has its message");
                let up = self.nodes[m.dst as usize].host.is_some();
                if !up || self.cut(m.src, m.dst) {
                    self.report.dropped += 1;
                    return Ok(());
                }
                self.report.delivered += 1;
                self.step(
                    m.dst,
                    Input::Deliver {
                        src: m.src,
                        send_id: m.send_id,
                        msg: m.msg,
                    },
                )?;
                self.maybe_partition();
            }
            Event::Restart(id) => {
                if self.nodes[id as usize].host.is_none() {
                    self.report.restarts += 1;
                    self.start_node(id)?;
                }
            }
            Event::Heal => self.isolated = None,
        }
        Ok(())
    }

    fn not_live(&self) -> SimFailure {
        let stuck = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, s)| s.actor.is_client())
            .filter_map(|(i, s)| {
                let done = s.host.as_ref().and_then(|h| A::completed(h.state()))?;
                (done < s.actor.workload_len())
                    .then_some((i as NodeId, (done, s.actor.workload_len())))
            })
            .collect();
        SimFailure::NotLive {
            stuck,
            at: self.now,
        }
    }

    fn finish(mut self) -> SimReport {
        self.report.end = self.now;
        self.report.faults_stopped = self.config.fault_phase;
        let mut hasher = Sha256::new();
        for (i, slot) in self.nodes.iter().enumerate() {
            for line in slot.disk.image().borrow().trace_lines() {
                hasher.update(line.as_bytes());
            }
            let Some(host) = slot.host.as_ref() else {
                continue;
            };
            if let Some(done) = A::completed(host.state()) {
                self.report.completed.insert(i as NodeId, done);
            }
            if let Some(ledger) = A::committed(host.state(), 0) {
                self.report.committed_len.insert(i as NodeId, ledger.len());
            }
        }
        self.report.trace_digest = hasher.finalize().into();
        self.report
    }
}
