//! Multi-Paxos under the `System` host: the configuration suite, the history, the properties
//! bound to `quorate_spec`, and the mutants.

use crate::registry::{
    check_via, explore_via, suite_entry, ConfigError, ConfigInfo, Dispatch, ModelNames, ModelTask,
    MutantInfo, ProtocolInfo,
};
use crate::system::{ActionOf, System, SystemAction, SystemState};
use crate::NetworkKind;
use quorate_impl::crypto::{Keyring, Signer, Symbolic};
use quorate_impl::paxos::{
    Client, Honest, IgnorePromisedValues, LocalReads, NoDedup, NodeState, PaxosNode, PaxosTimer,
    Replica, ReplicaState, Request, Role, Rules, SmallQuorum, SnapshotPositionOnly, UnsavedPromise,
    UnverifiedCatchUp,
};
use quorate_impl::quorum;
use quorate_spec::{
    execute_and_apply, reference_execution, AppId, ClientId, Key, KvOp, KvResult, KvState, KvStore,
    Ledger, NodeId, Transaction, TxId,
};
use stateright::semantics::{ConsistencyTester, LinearizabilityTester, SequentialSpec};
use stateright::Expectation;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// The replicated key-value store as a sequential object, for the linearizability tester: each
/// operation is one transaction's op list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct KvSpec(KvState);

impl SequentialSpec for KvSpec {
    type Op = Vec<KvOp>;
    type Ret = Vec<KvResult>;

    fn invoke(&mut self, op: &Self::Op) -> Self::Ret {
        let tx = Transaction::new(TxId { client: 0, seq: 0 }, KvStore::APP_ID, op.clone());
        execute_and_apply(&KvStore, &mut self.0, &tx)
    }
}

type Req = Request<Symbolic, KvOp>;
/// A Paxos node of the model: symbolic crypto, the key-value store.
pub type Node<R> = PaxosNode<Symbolic, KvStore, R>;
/// The Paxos model.
pub type PaxosSystem<R> = System<Node<R>, PaxosHistory>;
type State<R> = SystemState<Node<R>, PaxosHistory>;
type RState = ReplicaState<Symbolic, KvOp, Vec<KvResult>>;

/// Auxiliary history: never visible to actors, part of the model state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PaxosHistory {
    /// Client operations, for `linearizable`. Invoked once per request, not per retry.
    pub linearizability: LinearizabilityTester<ClientId, KvSpec>,
    /// Last sequence number each client invoked.
    pub invoked: BTreeMap<ClientId, u64>,
    /// The abstract sequencer's log: the longest delivered sequence ever seen.
    pub longest: Ledger<Req>,
    /// Recoveries so far (a model bound: each recovery re-sends catch-up requests).
    pub recoveries: u8,
    /// Replicas that recovered at least once.
    pub recovered: BTreeSet<NodeId>,
    /// A recovered replica caught up with the longest delivered sequence.
    pub caught_up: bool,
    /// The first step violation seen by the observer (`refines-sequencer`).
    pub violation: Option<String>,
}

impl Default for PaxosHistory {
    fn default() -> Self {
        PaxosHistory {
            linearizability: LinearizabilityTester::new(KvSpec::default()),
            invoked: BTreeMap::new(),
            longest: Ledger::new(),
            recoveries: 0,
            recovered: BTreeSet::new(),
            caught_up: false,
            violation: None,
        }
    }
}

/// One configuration of the suite.
#[derive(Clone, Debug)]
pub struct PaxosConfig {
    /// Replicas (n).
    pub replicas: usize,
    /// Clients.
    pub clients: usize,
    /// Transactions per client.
    pub requests_per_client: usize,
    /// Replicas that may be down at once (f).
    pub max_down: usize,
    /// Which replicas may crash (a model bound; deployments can lose any).
    pub crashable: Vec<usize>,
    /// Recoveries allowed in a run.
    pub max_recoveries: u8,
    /// Highest ballot round explored (round 0 is the initial leader's).
    pub max_round: u32,
    /// Replicas allowed to campaign for a new ballot (a model bound: others' campaigns are cut).
    pub campaigners: Vec<NodeId>,
    /// Broadcast retries per client request.
    pub max_client_retries: u8,
    /// Client k first sends to replica k mod n instead of the initial leader (so two clients'
    /// requests meet two would-be leaders without any retry broadcast).
    pub spread_clients: bool,
    /// Leader's window of slots awaiting a quorum.
    pub window: usize,
    /// Requests per batch.
    pub batch_max: usize,
    /// Snapshot every this many slots (0 = never).
    pub snapshot_every: u64,
    /// Network discipline.
    pub network: NetworkKind,
    /// Whether the network may lose messages.
    pub lossy: bool,
}

impl PaxosConfig {
    /// Checks the configuration against the protocol's rules.
    pub fn validate(&self) -> Result<(), ConfigError> {
        quorum::check_crash_config(self.replicas, self.max_down)
            .map_err(|e| ConfigError(e.to_string()))?;
        if self.clients == 0 || self.requests_per_client == 0 {
            return Err(ConfigError("clients and requests_per_client must be at least 1 (a model with no request checks nothing)".into()));
        }
        if self.window == 0 || self.batch_max == 0 {
            return Err(ConfigError(
                "window and batch_max must be at least 1".into(),
            ));
        }
        Ok(())
    }

    fn workload(&self, client_index: usize) -> Vec<Vec<KvOp>> {
        // Everyone works on one key, so outcomes depend on the order consensus picks.
        (0..self.requests_per_client)
            .map(|i| match (client_index + i) % 2 {
                0 => vec![KvOp::Put(Key(0), (10 * client_index + i + 1) as i64)],
                _ => vec![KvOp::Get(Key(0))],
            })
            .collect()
    }

    /// Builds the actors: replicas `0..n`, then clients.
    pub fn actors<R: Rules>(&self) -> Vec<Node<R>> {
        let replica_ids: Vec<NodeId> = (0..self.replicas as NodeId).collect();
        let all_ids = 0..(self.replicas + self.clients) as NodeId;
        let keyring = Arc::new(Keyring::<Symbolic>::symbolic(all_ids));
        let timeout = Duration::from_millis(100)..Duration::from_millis(200);
        let mut actors: Vec<Node<R>> = replica_ids
            .iter()
            .map(|&id| {
                PaxosNode::Replica(Replica::new(
                    id,
                    replica_ids.clone(),
                    keyring.clone(),
                    KvStore,
                    self.window,
                    self.batch_max,
                    self.snapshot_every,
                    u64::MAX / 2, // no gap-triggered catch-up: the model never loses a DECIDED
                    timeout.clone(),
                ))
            })
            .collect();
        for index in 0..self.clients {
            let id = (self.replicas + index) as NodeId;
            let mut replicas = replica_ids.clone();
            if self.spread_clients {
                replicas.rotate_left(index % self.replicas);
            }
            actors.push(PaxosNode::Client(Client {
                signer: Signer::symbolic(id),
                replicas,
                app: AppId(0),
                workload: self.workload(index),
                retry_after: timeout.clone(),
            }));
        }
        actors
    }

    /// Builds the model for rules `R`.
    pub fn system<R: Rules>(&self) -> PaxosSystem<R> {
        let bounds = self.clone();
        let system = System::new(self.actors::<R>(), PaxosHistory::default())
            .network(self.network)
            .lossy(self.lossy)
            .crashable(self.crashable.iter().copied(), self.max_down)
            .within(move |state| within_bounds::<R>(&bounds, state));
        let mut system = with_paxos_properties(system, true);
        if !self.campaigners.is_empty() {
            system = system.property(Expectation::Sometimes, "leadership changes", |_, s| {
                replicas::<R>(s)
                    .any(|(_, r)| r.core.role == Role::Leader && r.core.ballot.round > 0)
            });
        }
        if self.max_down > 0 && self.max_recoveries > 0 {
            system = system.property(
                Expectation::Sometimes,
                "recovered server catches up",
                |_, s| s.history().caught_up,
            );
        }
        system
    }
}

/// The replay model (DESIGN §6): the given actors (a deployment's or a simulation's) under the
/// network contract — unordered, non-duplicating, lossy — with every replica crashable at any
/// time and none of the checking bounds. Linearizability is left to the offline checker
/// (design-review §17): the stateright tester is exponential in concurrency.
pub fn replay_system<R: Rules>(actors: Vec<Node<R>>) -> PaxosSystem<R> {
    let replica_count = actors
        .iter()
        .filter(|a| matches!(a, PaxosNode::Replica(_)))
        .count();
    let system = System::new(actors, PaxosHistory::default())
        .network(NetworkKind::UnorderedNonDuplicating)
        .lossy(true)
        .crashable(0..replica_count, replica_count);
    with_paxos_properties(system, false)
}

/// The hooks and properties every Paxos system carries, checked or replayed; `linearizable`
/// (the stateright tester) only where asked.
fn with_paxos_properties<R: Rules>(system: PaxosSystem<R>, linearizable: bool) -> PaxosSystem<R> {
    let mut system = system
        .record_msg_out(record_invocation)
        .record_msg_in(record_return)
        .observe(observe_refinement::<R>)
        .client_operations_undecided(client_operation_undecided::<R>)
        .retransmission_timers(|timer| *timer == PaxosTimer::ClientRetry)
        .declare_action_kinds(MESSAGE_KINDS, TIMER_KINDS)
        .property(Expectation::Always, "agreement", |_, s| agreement::<R>(s))
        .property(Expectation::Always, "validity", |m, s| validity::<R>(m, s))
        .property(Expectation::Always, "consistency", |_, s| {
            consistency::<R>(s)
        });
    if linearizable {
        system = system.history_property(Expectation::Always, "linearizable", |history| {
            history.linearizability.serialized_history().is_some()
        });
    }
    system
        .property(Expectation::Always, "refines-sequencer", |m, s| {
            refines_sequencer::<R>(m, s)
        })
        .property(Expectation::Sometimes, "value committed", |_, s| {
            replicas::<R>(s).any(|(_, r)| r.delivered_len() > 0)
        })
}

/// Every message kind, as coverage names them (`quorate check --coverage`).
pub const MESSAGE_KINDS: &[&str] = &[
    "Request",
    "Reply",
    "Core::Prepare",
    "Core::Promise",
    "Core::Accept",
    "Core::Accepted",
    "Core::Decided",
    "Learner::CatchUp",
    "Learner::CatchUpReply",
];

/// Every timer kind, as coverage names them.
pub const TIMER_KINDS: &[&str] = &["Core::LeaderTimeout", "ClientRetry"];

/// A client has a transaction it has not had a reply for (the deadlock check's "undecided").
fn client_operation_undecided<R: Rules>(system: &PaxosSystem<R>, state: &State<R>) -> bool {
    system
        .actors
        .iter()
        .zip(state.actors())
        .any(|(actor, node)| match (actor, node.as_client()) {
            (PaxosNode::Client(client), Some(progress)) => {
                (progress.completed as usize) < client.workload.len()
            }
            _ => false,
        })
}

fn replicas<R: Rules>(state: &State<R>) -> impl Iterator<Item = (NodeId, &RState)> {
    state
        .actors()
        .enumerate()
        .filter_map(|(i, s)| s.as_replica().map(|r| (i as NodeId, r)))
}

fn record_invocation(
    history: &PaxosHistory,
    env: crate::Envelope<&quorate_impl::paxos::MsgOf<Symbolic, KvStore>>,
) -> Option<PaxosHistory> {
    let quorate_impl::paxos::PaxosMsg::Request(request) = env.msg else {
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
        return None; // a retry or a forward is not a new invocation
    }
    let mut history = history.clone();
    history.invoked.insert(client, tx.id.seq);
    let _ = history.linearizability.on_invoke(client, tx.ops.clone());
    Some(history)
}

fn record_return(
    history: &PaxosHistory,
    env: crate::Envelope<&quorate_impl::paxos::MsgOf<Symbolic, KvStore>>,
) -> Option<PaxosHistory> {
    let quorate_impl::paxos::PaxosMsg::Reply { output, .. } = env.msg else {
        return None;
    };
    let mut history = history.clone();
    let _ = history
        .linearizability
        .on_return(usize::from(env.dst) as ClientId, output.clone());
    Some(history)
}

/// The refinement mapping, maintained across steps: the sequencer's log only ever grows, and
/// every learner's delivered sequence stays a prefix of it.
fn observe_refinement<R: Rules>(
    _prev: &State<R>,
    action: &ActionOf<Node<R>>,
    next: &State<R>,
    history: &mut Cow<'_, PaxosHistory>,
) {
    if let SystemAction::Recover(id) = action {
        let history = history.to_mut();
        history.recoveries = history.recoveries.saturating_add(1);
        history.recovered.insert(usize::from(*id) as NodeId);
    }
    if history.violation.is_some() {
        return;
    }
    for (id, replica) in replicas::<R>(next) {
        if let Err(detail) = crate::refinement::consistent_with(
            history.longest.as_slice(),
            replica.delivered_base,
            &replica.delivered,
        ) {
            history.to_mut().violation = Some(format!(
                "replica {id} delivered a different entry than the sequencer's log at {detail}"
            ));
            return;
        }
        let end = replica.delivered_len() as usize;
        if end > history.longest.len() {
            let base = replica.delivered_base as usize;
            let start = history.longest.len().max(base);
            if start > history.longest.len() {
                continue; // a snapshot covers positions nobody has delivered one by one: impossible to extend
            }
            history
                .to_mut()
                .longest
                .extend(replica.delivered.iter().skip(start - base).cloned());
        }
        if history.recovered.contains(&id)
            && !history.caught_up
            && end > 0
            && end == history.longest.len()
        {
            history.to_mut().caught_up = true;
        }
    }
}

fn within_bounds<R: Rules>(config: &PaxosConfig, state: &State<R>) -> bool {
    within_actor_bounds(config, state.actors())
        && state.history().recoveries <= config.max_recoveries
}

/// The bounds that depend on actor states only (shared with the `ActorModel` differential test).
pub fn within_actor_bounds<'a>(
    config: &PaxosConfig,
    actors: impl IntoIterator<Item = &'a NodeState<Symbolic, KvOp, Vec<KvResult>>>,
) -> bool {
    actors
        .into_iter()
        .enumerate()
        .all(|(index, state)| match state {
            NodeState::Replica(r) => {
                let id = index as NodeId;
                let campaigned = r.core.ballot.leader == id && r.core.ballot.round > 0;
                r.core.ballot.round <= config.max_round
                    && r.core.promised.round <= config.max_round
                    && (!campaigned || config.campaigners.contains(&id))
            }
            NodeState::Client(c) => c.retries <= config.max_client_retries,
        })
}

/// `agreement`: every two replicas' delivered sequences agree wherever both have an entry.
fn agreement<R: Rules>(state: &State<R>) -> bool {
    let all: Vec<(NodeId, &RState)> = replicas::<R>(state).collect();
    all.iter().all(|(_, a)| {
        all.iter().all(|(_, b)| {
            let (a_base, b_base) = (a.delivered_base as usize, b.delivered_base as usize);
            a.delivered.iter().enumerate().all(|(offset, entry)| {
                let position = a_base + offset;
                position < b_base
                    || b.delivered
                        .get(position - b_base)
                        .is_none_or(|other| other == entry)
            })
        })
    })
}

/// `validity`: only requests their clients signed and submitted, each delivered once.
fn validity<R: Rules>(model: &PaxosSystem<R>, state: &State<R>) -> bool {
    let PaxosNode::Replica(any_replica) = &model.actors[0] else {
        return false;
    };
    let keyring = &any_replica.keyring;
    replicas::<R>(state).all(|(_, replica)| {
        let mut seen = BTreeSet::new();
        replica.delivered.iter().all(|request| {
            let id: TxId = request.value().id;
            let submitted = state
                .history()
                .invoked
                .get(&id.client)
                .is_some_and(|&s| id.seq <= s);
            request.verify(keyring) && request.signer() == id.client && submitted && seen.insert(id)
        })
    })
}

/// `consistency`: each replica's application state is the reference execution of the
/// sequencer's log up to its position.
fn consistency<R: Rules>(state: &State<R>) -> bool {
    let longest = state.history().longest.as_slice();
    replicas::<R>(state).all(|(_, replica)| {
        let upto = (replica.delivered_len() as usize).min(longest.len());
        let reference = reference_execution(&KvStore, longest[..upto].iter().map(|r| r.value()));
        reference.state == *replica.app
    })
}

/// `refines-sequencer`: the observer saw no step violation, and the sequencer's log holds only
/// submitted requests, each once.
fn refines_sequencer<R: Rules>(_model: &PaxosSystem<R>, state: &State<R>) -> bool {
    let history = state.history();
    crate::refinement::log_refines_sequencer(&history.violation, &history.invoked, &history.longest)
}

/// The named configurations, default first.
pub fn configs() -> Vec<(ConfigInfo, PaxosConfig)> {
    let base = PaxosConfig {
        replicas: 3,
        clients: 1,
        requests_per_client: 1,
        max_down: 0,
        crashable: vec![0, 1, 2],
        max_recoveries: 0,
        max_round: 1,
        campaigners: vec![1],
        max_client_retries: 1,
        spread_clients: false,
        window: 1,
        batch_max: 2,
        snapshot_every: 0,
        network: NetworkKind::UnorderedNonDuplicating,
        lossy: false,
    };
    let info = |name, summary, expected| ConfigInfo {
        name,
        summary,
        budget_states: 2_000_000,
        budget_seconds: 120,
        expected_unique: Some(expected),
        soak: false,
    };
    vec![
        (
            info("default", "3 replicas, 1 client x 1 request with 1 broadcast retry, unordered non-duplicating, replica 1 may campaign (rounds <= 1)", 28_712),
            base.clone(),
        ),
        (
            info("two-leaders", "3 replicas, 2 clients x 1 request sent to replicas 0 and 1, replica 1 may campaign (rounds <= 1), no retries", 92_971),
            PaxosConfig { clients: 2, spread_clients: true, max_client_retries: 0, ..base.clone() },
        ),
        (
            info("two-clients", "3 replicas, 2 clients x 1 request, batches of up to 2, stable leader, no retries", 2_385),
            PaxosConfig { clients: 2, requests_per_client: 1, campaigners: vec![], max_client_retries: 0, ..base.clone() },
        ),
        (
            ConfigInfo {
                soak: true,
                budget_states: 50_000_000,
                budget_seconds: 3_600,
                expected_unique: None,
                ..info("two-leaders-crash", "as two-leaders, replica 2 may crash and recover once (soak: > 3.4 M states)", 0)
            },
            PaxosConfig {
                clients: 2,
                spread_clients: true,
                max_client_retries: 0,
                max_down: 1,
                crashable: vec![2],
                max_recoveries: 1,
                ..base.clone()
            },
        ),
        (
            info("crash-recover", "as default without retries, 1 replica down at a time, 1 recovery", 870_300),
            PaxosConfig { max_down: 1, max_recoveries: 1, max_client_retries: 0, ..base.clone() },
        ),
        (
            info("read-after-write", "3 replicas, 1 client: a put then a get of the same key, 1 broadcast retry each, stable leader", 21_874),
            PaxosConfig { requests_per_client: 2, campaigners: vec![], ..base.clone() },
        ),
        (
            info("compaction", "as crash-recover, with a snapshot (and log compaction) after every slot", 190_936),
            PaxosConfig { max_down: 1, max_recoveries: 1, max_client_retries: 0, snapshot_every: 1, ..base },
        ),
    ]
}

/// Mutants with the property each breaks and the configuration that shows it.
pub fn mutants() -> Vec<MutantInfo> {
    vec![
        MutantInfo {
            name: SmallQuorum::NAME,
            summary: SmallQuorum::SUMMARY,
            breaks: "agreement",
            config: "two-leaders",
            also_breaks: &["consistency", "refines-sequencer"],
        },
        MutantInfo {
            name: IgnorePromisedValues::NAME,
            summary: IgnorePromisedValues::SUMMARY,
            breaks: "agreement",
            config: "two-leaders",
            also_breaks: &["consistency", "refines-sequencer"],
        },
        MutantInfo {
            name: UnsavedPromise::NAME,
            summary: UnsavedPromise::SUMMARY,
            breaks: "agreement",
            config: "two-leaders-crash",
            also_breaks: &[],
        },
        MutantInfo {
            name: UnverifiedCatchUp::NAME,
            summary: UnverifiedCatchUp::SUMMARY,
            breaks: "agreement",
            config: "two-leaders-crash",
            also_breaks: &[],
        },
        MutantInfo {
            name: NoDedup::NAME,
            summary: NoDedup::SUMMARY,
            breaks: "validity",
            config: "default",
            also_breaks: &[],
        },
        MutantInfo {
            name: SnapshotPositionOnly::NAME,
            summary: SnapshotPositionOnly::SUMMARY,
            breaks: "consistency",
            config: "compaction",
            also_breaks: &[],
        },
        MutantInfo {
            name: LocalReads::NAME,
            summary: LocalReads::SUMMARY,
            breaks: "linearizable",
            config: "read-after-write",
            also_breaks: &[],
        },
    ]
}

/// Paxos's mapping from (configuration, mutant) to a model.
pub struct PaxosDispatch;

impl Dispatch for PaxosDispatch {
    fn with_model<T: ModelTask>(
        config: &str,
        mutant: Option<&str>,
        task: T,
    ) -> Result<T::Output, ConfigError> {
        let (info, cfg) = suite_entry("paxos", configs(), config)?;
        cfg.validate()?;
        let names = ModelNames {
            protocol: "paxos",
            config: info.name,
            mutant,
        };
        Ok(match mutant {
            None => task.run(names, cfg.system::<Honest>()),
            Some(SmallQuorum::NAME) => task.run(names, cfg.system::<SmallQuorum>()),
            Some(IgnorePromisedValues::NAME) => {
                task.run(names, cfg.system::<IgnorePromisedValues>())
            }
            Some(UnsavedPromise::NAME) => task.run(names, cfg.system::<UnsavedPromise>()),
            Some(UnverifiedCatchUp::NAME) => task.run(names, cfg.system::<UnverifiedCatchUp>()),
            Some(NoDedup::NAME) => task.run(names, cfg.system::<NoDedup>()),
            Some(SnapshotPositionOnly::NAME) => {
                task.run(names, cfg.system::<SnapshotPositionOnly>())
            }
            Some(LocalReads::NAME) => task.run(names, cfg.system::<LocalReads>()),
            Some(other) => return Err(ConfigError(format!("unknown paxos mutant {other:?}"))),
        })
    }
}

/// The registry entry.
pub fn protocol() -> ProtocolInfo {
    ProtocolInfo {
        name: "paxos",
        summary: "Multi-Paxos (crash faults, n = 2f+1): ballots, phase 1/2, batching, catch-up, snapshots",
        configs: configs().into_iter().map(|(info, _)| info).collect(),
        mutants: mutants(),
        properties: vec![
            ("agreement", "replicas' delivered sequences agree position by position"),
            ("validity", "only signed, submitted requests are delivered, each once per replica"),
            ("consistency", "each replica's state is the reference execution of the sequencer's log"),
            ("linearizable", "client operations are linearizable against the key-value store"),
            ("refines-sequencer", "delivered sequences are prefixes of one growing log of submitted requests"),
            (crate::deadlock::DEADLOCK_FREE, "no undecided client operation with only crashes, recoveries, losses or retransmissions left (on unless --no-deadlock)"),
            ("value committed", "sometimes: a replica delivers a request"),
            ("leadership changes", "sometimes: a replica leads a ballot above round 0"),
            ("recovered server catches up", "sometimes: a recovered replica reaches the longest delivered sequence"),
        ],
        check: check_via::<PaxosDispatch>,
        explore: explore_via::<PaxosDispatch>,
        declared: crate::claims::declared_via::<PaxosDispatch>,
    }
}
