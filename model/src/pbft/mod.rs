//! PBFT under the `System` host: the configuration suite (a)-(d) of issue 3, the Byzantine
//! replicas (scripted actors, or the most-general adversary's messages in the initial
//! network), the properties and the mutants.

mod properties;
mod reduce;
pub mod symmetry;

pub use properties::PbftHistory;

use crate::registry::{suite_entry, ConfigError, Dispatch, ModelNames, ModelTask};
use crate::system::{System, SystemState};
use crate::{Envelope, NetworkKind};
use properties::*;
use quorate_impl::component::node_id;
use quorate_impl::crypto::{Keyring, Signer, Symbolic};
use quorate_impl::pbft::adversary::most_general_messages;
use quorate_impl::pbft::{
    AcceptFirstReply, Adversary, AnyPrePrepareSender, Batch, Client, CommitOnWeakQuorum, Honest,
    IgnorePreparedCerts, NodeState, PbftMsg, PbftNode, Replica, Reply, Request, Rules, Script,
    SmallPrepareQuorum, Snapshot, StableCheckpoint, UnverifiedStateTransfer, View,
};
use quorate_impl::quorum;
use quorate_spec::{AppId, Key, KvOp, KvResult, KvState, KvStore, NodeId, TxId};
use stateright::Expectation;
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

type Req = Request<Symbolic, KvOp>;
/// A PBFT node of the model: symbolic crypto, the key-value store.
pub type Node<R> = PbftNode<Symbolic, KvStore, R>;
/// The PBFT model.
pub type PbftSystem<R> = System<Node<R>, PbftHistory>;
type State<R> = SystemState<Node<R>, PbftHistory>;
type Msg = quorate_impl::pbft::MsgOf<Symbolic, KvStore>;

/// Which replica is Byzantine, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Faulty {
    /// Every replica is correct.
    None,
    /// Replica `id` runs a scripted behaviour.
    Scripted(NodeId, Script),
    /// Replica `id` is silent except for every message it can sign within the bounds, all in
    /// the initial network (DESIGN §3 "most-general adversary").
    MostGeneral(NodeId),
}

impl Faulty {
    fn id(self) -> Option<NodeId> {
        match self {
            Faulty::None => None,
            Faulty::Scripted(id, _) | Faulty::MostGeneral(id) => Some(id),
        }
    }
}

/// One configuration of the suite.
#[derive(Clone, Debug)]
pub struct PbftConfig {
    /// Replicas (n).
    pub replicas: usize,
    /// Byzantine faults tolerated (f): n must be at least 3f+1.
    pub f: usize,
    /// Clients.
    pub clients: usize,
    /// Transactions per client.
    pub requests_per_client: usize,
    /// The faulty replica, if any.
    pub faulty: Faulty,
    /// Primary of view v is `primaries[v mod len]`.
    pub primaries: Vec<NodeId>,
    /// Highest view a correct replica may reach (a model bound).
    pub max_view: View,
    /// Broadcast retries per client request (a model bound).
    pub max_client_retries: u8,
    /// Requests per batch.
    pub batch_max: usize,
    /// Checkpoint interval K (0 = none).
    pub checkpoint_every: u64,
    /// Watermark window L.
    pub window: u64,
    /// Highest sequence number the most-general adversary signs for.
    pub adversary_max_seq: u64,
    /// Network discipline.
    pub network: NetworkKind,
    /// Whether the network may lose messages.
    pub lossy: bool,
    /// Messages the network may lose in one run (a model bound).
    pub max_drops: u8,
    /// Replicas whose own view timer may start a view change; the others only join one when
    /// f+1 VIEW-CHANGEs for a later view arrived (a model bound; empty = no restriction).
    pub suspecters: Vec<NodeId>,
    /// Whether dead messages (refused by their correct destination in every future state) are
    /// removed from the network: an exact reduction (`reduce.rs`), off only to measure it.
    pub collect_dead_messages: bool,
    /// Whether dead-message collection also removes dead REPLYs to clients and messages a
    /// scripted Byzantine actor will never read (`reduce.rs`; exact, off in the pinned entries
    /// only to keep their pinned counts and report snapshots).
    pub collect_dead_beyond_replicas: bool,
    /// Whether a correct replica's view timer may fire only while it is in normal operation
    /// and waits for a request it has not prepared in its view (a model bound: a replica that
    /// prepared everything it waits for joins a view change only on f+1 VIEW-CHANGEs).
    pub timeout_only_unprepared: bool,
    /// Whether this configuration should reach "prepared in view 0 commits in view 1" (a
    /// silent primary, for one, never lets anything prepare in view 0).
    pub expect_reproposal: bool,
}

impl PbftConfig {
    /// Checks the configuration against the protocol's rules.
    pub fn validate(&self) -> Result<(), ConfigError> {
        quorum::check_byzantine_config(self.replicas, self.f)
            .map_err(|e| ConfigError(format!("pbft: {e}")))?;
        if self.clients == 0 || self.requests_per_client == 0 {
            return Err(ConfigError(
                "pbft: clients and requests_per_client must be at least 1 (a model with no request checks nothing)".into(),
            ));
        }
        if self.batch_max == 0 || self.window == 0 {
            return Err(ConfigError(
                "pbft: batch_max and window must be at least 1".into(),
            ));
        }
        let n = self.replicas as NodeId;
        if let Some(id) = self.faulty.id().filter(|&id| id >= n) {
            return Err(ConfigError(format!(
                "pbft: faulty replica {id} is not one of replicas 0..{n}"
            )));
        }
        if self.faulty.id().is_some() && self.f == 0 {
            return Err(ConfigError("pbft: a faulty replica needs f >= 1".into()));
        }
        if self.primaries.is_empty() || self.primaries.iter().any(|&p| p >= n) {
            return Err(ConfigError(format!(
                "pbft: primaries {:?} must be non-empty replica ids below {n}",
                self.primaries
            )));
        }
        Ok(())
    }

    fn workload(&self, client_index: usize) -> Vec<Vec<KvOp>> {
        (0..self.requests_per_client)
            .map(|i| vec![KvOp::Put(Key(0), (10 * client_index + i + 1) as i64)])
            .collect()
    }

    fn keyring(&self) -> Arc<Keyring<Symbolic>> {
        Arc::new(Keyring::symbolic(
            0..(self.replicas + self.clients) as NodeId,
        ))
    }

    /// Builds the actors: replicas `0..n`, then clients.
    pub fn actors<R: Rules>(&self) -> Vec<Node<R>> {
        let ids: Vec<NodeId> = (0..self.replicas as NodeId).collect();
        let keyring = self.keyring();
        let timeout = Duration::from_millis(100)..Duration::from_millis(200);
        let mut actors: Vec<Node<R>> = ids
            .iter()
            .map(|&id| match self.faulty {
                Faulty::Scripted(bad, script) if bad == id => {
                    PbftNode::Byzantine(Adversary::new(Signer::symbolic(id), ids.clone(), script))
                }
                Faulty::MostGeneral(bad) if bad == id => PbftNode::Byzantine(Adversary::new(
                    Signer::symbolic(id),
                    ids.clone(),
                    Script::Silent,
                )),
                _ => PbftNode::Replica(Replica::new(
                    Signer::symbolic(id),
                    ids.clone(),
                    self.primaries.clone(),
                    keyring.clone(),
                    KvStore,
                    self.batch_max,
                    self.checkpoint_every,
                    self.window,
                    timeout.clone(),
                )),
            })
            .collect();
        for index in 0..self.clients {
            actors.push(PbftNode::Client(Client {
                signer: Signer::symbolic((self.replicas + index) as NodeId),
                keyring: keyring.clone(),
                replicas: ids.clone(),
                primary: self.primaries[0],
                app: AppId(0),
                workload: self.workload(index),
                retry_after: timeout.clone(),
                _rules: PhantomData,
            }));
        }
        actors
    }

    /// Every request the clients will sign (the adversary may have seen any of them).
    fn requests<R: Rules>(&self, actors: &[Node<R>]) -> Vec<Req> {
        actors
            .iter()
            .filter_map(|a| match a {
                PbftNode::Client(c) => Some(c),
                _ => None,
            })
            .flat_map(|c| (1..=c.workload.len() as u64).map(|seq| c.request(seq)))
            .collect()
    }

    /// The most-general adversary's messages: every core message it can sign within the
    /// bounds, a forged-result REPLY to each client, and a STATE with no valid certificate.
    fn initial_network<R: Rules>(&self, actors: &[Node<R>]) -> Vec<Envelope<Msg>> {
        let Faulty::MostGeneral(bad) = self.faulty else {
            return Vec::new();
        };
        let signer = Signer::<Symbolic>::symbolic(bad);
        let ids: Vec<NodeId> = (0..self.replicas as NodeId).collect();
        let requests = self.requests(actors);
        let mut batches = vec![Batch::NoOp];
        batches.extend(requests.iter().map(|r| Batch::Requests(vec![r.clone()])));
        let src = node_id(bad);
        let mut envs: Vec<Envelope<Msg>> = most_general_messages(
            &signer,
            &ids,
            &batches,
            self.max_view,
            self.adversary_max_seq,
        )
        .into_iter()
        .map(|(dst, msg)| Envelope {
            src,
            dst: node_id(dst),
            msg: PbftMsg::Core(msg),
        })
        .collect();
        for request in &requests {
            let tx: TxId = request.value().id;
            let forged = vec![KvResult::Read(Some(-1))];
            let reply = signer.sign(Reply {
                view: 0,
                tx,
                output: forged,
            });
            envs.push(Envelope {
                src,
                dst: node_id(tx.client),
                msg: PbftMsg::Reply(reply),
            });
        }
        let bogus = Arc::new(Snapshot {
            seq: 1,
            delivered_len: 1,
            app: Arc::new(KvState::from([(Key(0), -1)])),
            clients: Arc::new(BTreeMap::new()),
        });
        for &dst in ids.iter().filter(|&&r| r != bad) {
            envs.push(Envelope {
                src,
                dst: node_id(dst),
                msg: PbftMsg::State {
                    proof: StableCheckpoint::genesis(),
                    snapshot: bogus.clone(),
                },
            });
        }
        envs
    }

    /// Builds the model for rules `R`.
    pub fn system<R: Rules>(&self) -> PbftSystem<R> {
        let actors = self.actors::<R>();
        let init = self.initial_network(&actors);
        let bounds = self.clone();
        let track_views = self.expect_reproposal;
        let timeout_only_unprepared = self.timeout_only_unprepared;
        let system = System::new(actors, PbftHistory::default())
            .symmetric(symmetry::interchangeable(self))
            .network(self.network)
            .lossy(self.lossy)
            .init_network(init)
            .within(move |state| within_bounds::<R>(&bounds, state));
        let mut system = with_pbft_properties(system, track_views, timeout_only_unprepared)
            .property(Expectation::Sometimes, "request commits", |_, s| {
                request_commits::<R>(s)
            });
        if self.collect_dead_messages {
            let beyond = self.collect_dead_beyond_replicas;
            let scripts: Vec<Option<Script>> = system
                .actors
                .iter()
                .map(|actor| match actor {
                    PbftNode::Byzantine(adversary) => Some(adversary.script),
                    _ => None,
                })
                .collect();
            system = system.reduce(move |state| {
                reduce::drop_dead_messages::<R>(beyond.then_some(&scripts[..]), state)
            });
        }
        if self.max_view > 0 {
            system = system.property(Expectation::Sometimes, "view change completes", |_, s| {
                view_change_completes::<R>(s)
            });
        }
        if self.expect_reproposal {
            system = system.property(
                Expectation::Sometimes,
                "prepared in view 0 commits in view 1",
                |_, s| s.history().view0_prepared_commits_in_view1,
            );
        }
        if self.checkpoint_every > 0 && self.lossy {
            system = system.property(Expectation::Sometimes, "state transfer", |_, s| {
                state_transferred::<R>(s)
            });
        }
        system
    }
}

/// The observer and the `always` properties every PBFT system carries, checked or replayed.
fn with_pbft_properties<R: Rules>(
    system: PbftSystem<R>,
    track_views: bool,
    timeout_only_unprepared: bool,
) -> PbftSystem<R> {
    system
        .record_msg_out(record_invocation)
        .observe(move |prev, action, next, history| {
            observe::<R>(
                track_views,
                timeout_only_unprepared,
                prev,
                action,
                next,
                history,
            )
        })
        .property(Expectation::Always, "agreement", |_, s| agreement::<R>(s))
        .property(Expectation::Always, "validity", |m, s| validity::<R>(m, s))
        .property(Expectation::Always, "consistency", |_, s| {
            consistency::<R>(s)
        })
        .property(Expectation::Always, "refines-sequencer", |_, s| {
            refines_sequencer::<R>(s)
        })
        .property(Expectation::Always, "client-accepts-committed", |_, s| {
            client_accepts_committed::<R>(s)
        })
}

/// The replay model of a recorded run (DESIGN §6): the run's own actors — a Byzantine one
/// included — under the network contract (unordered, lossy, no duplicates), with every
/// `always` property and none of the checking bounds. Every correct replica may crash at any
/// time and recover from its Storage (a recorded run's restarts are Crash then Recover).
pub fn replay_system<R: Rules>(actors: Vec<Node<R>>) -> PbftSystem<R> {
    let correct: Vec<usize> = (0..actors.len())
        .filter(|&i| matches!(actors[i], PbftNode::Replica(_)))
        .collect();
    let count = correct.len();
    let system = System::new(actors, PbftHistory::default())
        .network(NetworkKind::UnorderedNonDuplicating)
        .lossy(true)
        .crashable(correct, count);
    with_pbft_properties(system, false, false)
}

fn within_bounds<R: Rules>(config: &PbftConfig, state: &State<R>) -> bool {
    state.history().drops <= config.max_drops
        && !state.history().out_of_bounds
        && state.actors().enumerate().all(|(i, s)| match s {
            NodeState::Replica(r) => {
                r.core.view <= config.max_view && joined_or_suspects(config, i as NodeId, r)
            }
            NodeState::Client(c) => c.retries <= config.max_client_retries,
            NodeState::Byzantine(_) => true,
        })
}

/// A replica outside `suspecters` that is changing views holds f+1 VIEW-CHANGEs from others
/// for its target view: it joined by the f+1 rule rather than by its own timer.
fn joined_or_suspects(config: &PbftConfig, id: NodeId, r: &properties::RState) -> bool {
    use quorate_impl::pbft::Status;
    if config.suspecters.is_empty()
        || config.suspecters.contains(&id)
        || r.core.status == Status::Normal
    {
        return true;
    }
    let others = r
        .core
        .view_changes
        .get(&r.core.view)
        .map_or(0, |vcs| vcs.iter().filter(|v| v.signer() != id).count());
    others >= quorum::bft_weak_certificate(config.f)
}

mod suite;
pub use suite::{configs, mutants, protocol};

/// PBFT's mapping from (configuration, mutant) to a model.
pub struct PbftDispatch;

impl Dispatch for PbftDispatch {
    fn with_model<T: ModelTask>(
        config: &str,
        mutant: Option<&str>,
        task: T,
    ) -> Result<T::Output, ConfigError> {
        let (info, cfg) = suite_entry("pbft", configs(), config)?;
        cfg.validate()?;
        let names = ModelNames {
            protocol: "pbft",
            config: info.name,
            mutant,
        };
        Ok(match mutant {
            None => task.run(names, cfg.system::<Honest>()),
            Some(SmallPrepareQuorum::NAME) => task.run(names, cfg.system::<SmallPrepareQuorum>()),
            Some(CommitOnWeakQuorum::NAME) => task.run(names, cfg.system::<CommitOnWeakQuorum>()),
            Some(IgnorePreparedCerts::NAME) => task.run(names, cfg.system::<IgnorePreparedCerts>()),
            Some(AcceptFirstReply::NAME) => task.run(names, cfg.system::<AcceptFirstReply>()),
            Some(AnyPrePrepareSender::NAME) => task.run(names, cfg.system::<AnyPrePrepareSender>()),
            Some(UnverifiedStateTransfer::NAME) => {
                task.run(names, cfg.system::<UnverifiedStateTransfer>())
            }
            Some(other) => return Err(ConfigError(format!("unknown pbft mutant {other:?}"))),
        })
    }
}
