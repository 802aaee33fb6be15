//! ParBlockchain / OXII under the `System` host: configurations over the abstract sequencer
//! with the real PBFT learner in front of each executor (and one whose four orderers agree
//! through PBFT, as deployed), the properties, and the mutants.

mod properties;

use crate::registry::{
    check_via, explore_via, suite_entry, ConfigError, ConfigInfo, Dispatch, ModelNames, ModelTask,
    MutantInfo, ProtocolInfo,
};
use crate::system::{System, SystemState};
use quorate_impl::crypto::{Keyring, NodeId, Signer, Symbolic};
use quorate_impl::oxii::{
    ApplyOnDecide, ByzantineExecutor, Client, ClientAcceptsFirst, CommitOnFirst,
    DropWriteWriteEdges, ExecuteBeforeForeignPredecessors, Executor, ExecutorPool, Honest,
    Membership, Orderer, OxiiNode, PbftOrderer, Request, Rules, SkipAccessCheck, Work,
};
use quorate_impl::pbft::ordering::Ordering;
use quorate_impl::pbft::{Core, Learner, Seq};
use quorate_spec::oxii::{AccessSets, AccountOp, Accounts, DeclaredTx, TxResult};
use quorate_spec::{AppId, ClientId, Key, KvState, Transaction, TxId};
use stateright::Expectation;
use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::sync::Arc;

pub use properties::OxiiHistory;

/// An OXII actor of the model: symbolic crypto, the accounting contract.
pub type Node<R> = OxiiNode<Symbolic, Accounts, R>;
/// The OXII model.
pub type OxiiSystem<R> = System<Node<R>, OxiiHistory>;
pub(crate) type State<R> = SystemState<Node<R>, OxiiHistory>;

/// The two applications of every configuration.
pub const A1: AppId = AppId(1);
/// The second application.
pub const A2: AppId = AppId(2);
/// A client allowed to submit for both applications.
pub const CLIENT: ClientId = 100;
/// A client allowed to submit for A1 only (its A2 request must be dropped).
pub const LIMITED_CLIENT: ClientId = 101;

/// One transaction of a configured block.
#[derive(Clone, Debug)]
pub struct TxSpec {
    /// Issuing client.
    pub client: ClientId,
    /// Application.
    pub app: AppId,
    /// The operation.
    pub op: AccountOp,
    /// Declared reads.
    pub reads: Vec<u32>,
    /// Declared writes.
    pub writes: Vec<u32>,
}

/// A Byzantine executor: the applications it is an agent of and its forged results
/// (recipient executor index, block, position, result).
#[derive(Clone, Debug)]
pub struct ByzantineSpec {
    /// Applications it is an agent of.
    pub apps: Vec<AppId>,
    /// Forged results, each to one correct executor (by index into `executors`).
    pub forged: Vec<(usize, Seq, u32, TxResult)>,
    /// Forged REPLYs: (client index into `clients`, its transaction's timestamp, outcome).
    pub forged_replies: Vec<(usize, u64, TxResult)>,
}

/// A client actor: the applications the access-control table allows it, and its transactions
/// in order (their `client` field is ignored: the client signs as its own actor id).
#[derive(Clone, Debug)]
pub struct ClientSpec {
    /// Applications it may submit for.
    pub allowed: Vec<AppId>,
    /// Its transactions.
    pub txs: Vec<TxSpec>,
}

/// One configuration of the suite.
#[derive(Clone, Debug)]
pub struct OxiiConfig {
    /// Orderers are ids `0..orderers`: 1 is the sequencer actor; 3f+1 ≥ 4 agree through PBFT
    /// (client requests only, no fixed blocks).
    pub orderers: usize,
    /// For each correct executor, the applications it is an agent of (empty: passive).
    pub executors: Vec<Vec<AppId>>,
    /// Byzantine executors.
    pub byzantine: Vec<ByzantineSpec>,
    /// τ(A).
    pub tau: BTreeMap<AppId, usize>,
    /// f_A.
    pub faulty_agents: BTreeMap<AppId, usize>,
    /// Batches ordered at start-up, one per block.
    pub blocks: Vec<Vec<TxSpec>>,
    /// Client actors whose requests the orderer takes in (executors then reply to them).
    pub clients: Vec<ClientSpec>,
    /// The orderer cuts a block of client requests at this size (or when its timer fires).
    pub max_block: usize,
}

impl OxiiConfig {
    fn orderer_ids(&self) -> Vec<NodeId> {
        (0..self.orderers as NodeId).collect()
    }

    fn executor_ids(&self) -> Vec<NodeId> {
        let first = self.orderers as NodeId;
        (first..first + self.executors.len() as NodeId).collect()
    }

    fn byzantine_ids(&self) -> Vec<NodeId> {
        let first = (self.orderers + self.executors.len()) as NodeId;
        (first..first + self.byzantine.len() as NodeId).collect()
    }

    fn pool_id(&self) -> NodeId {
        (self.orderers + self.executors.len() + self.byzantine.len()) as NodeId
    }

    fn client_ids(&self) -> Vec<NodeId> {
        let first = self.pool_id() + 1;
        (first..first + self.clients.len() as NodeId).collect()
    }

    /// The membership every peer knows.
    pub fn membership(&self) -> Membership<Symbolic> {
        let mut agents: BTreeMap<AppId, BTreeSet<NodeId>> = BTreeMap::new();
        let correct = self.executor_ids().into_iter().zip(&self.executors);
        let byzantine = self
            .byzantine_ids()
            .into_iter()
            .zip(self.byzantine.iter().map(|b| &b.apps));
        for (id, apps) in correct.chain(byzantine) {
            for app in apps {
                agents.entry(*app).or_default().insert(id);
            }
        }
        let mut ids: Vec<NodeId> = (0..=self.pool_id()).collect();
        ids.extend([CLIENT, LIMITED_CLIENT]);
        ids.extend(self.client_ids());
        let mut acl = BTreeMap::from([
            (CLIENT, BTreeSet::from([A1, A2])),
            (LIMITED_CLIENT, BTreeSet::from([A1])),
        ]);
        for (id, client) in self.client_ids().into_iter().zip(&self.clients) {
            acl.insert(id, client.allowed.iter().copied().collect());
        }
        let mut executors = self.executor_ids();
        executors.extend(self.byzantine_ids());
        Membership {
            agents,
            tau: self.tau.clone(),
            faulty_agents: self.faulty_agents.clone(),
            acl,
            executors,
            orderers: self.orderer_ids(),
            keyring: Arc::new(Keyring::symbolic(ids)),
        }
    }

    /// Checks the configuration against the protocol's rules.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.membership().validate().map_err(ConfigError)?;
        if (self.blocks.is_empty() && self.clients.is_empty())
            || self.blocks.iter().any(Vec::is_empty)
        {
            return Err(ConfigError(
                "every configuration needs a client or a block, and each block a transaction"
                    .into(),
            ));
        }
        if self.orderers > 1 && (!self.blocks.is_empty() || self.orderers < 4) {
            return Err(ConfigError(format!(
                "{} orderers: PBFT ordering wants 3f+1 >= 4 orderers and takes client requests \
                 only (no fixed blocks)",
                self.orderers
            )));
        }
        if !self.clients.is_empty() && self.max_block == 0 {
            return Err(ConfigError(
                "max_block = 0: the orderer could never cut a block of client requests".into(),
            ));
        }
        let clients = self.clients.len();
        for byzantine in &self.byzantine {
            if let Some((target, ..)) = byzantine.forged_replies.iter().find(|f| f.0 >= clients) {
                return Err(ConfigError(format!(
                    "forged reply aimed at client index {target}, but there are {clients} clients"
                )));
            }
        }
        let count = self.executors.len();
        for byzantine in &self.byzantine {
            if let Some((target, ..)) = byzantine.forged.iter().find(|f| f.0 >= count) {
                return Err(ConfigError(format!(
                    "forged result aimed at executor index {target}, but there are {count} correct executors"
                )));
            }
        }
        Ok(())
    }

    /// The contracts, one per application.
    pub fn contracts() -> BTreeMap<AppId, Accounts> {
        [A1, A2].map(|id| (id, Accounts { id })).into()
    }

    fn access(spec: &TxSpec) -> AccessSets {
        AccessSets::new(
            spec.reads.iter().map(|k| Key(*k)),
            spec.writes.iter().map(|k| Key(*k)),
        )
    }

    fn requests(&self) -> Vec<Vec<Request<Symbolic, AccountOp>>> {
        let mut seq = 0;
        self.blocks
            .iter()
            .map(|block| {
                block
                    .iter()
                    .map(|spec| {
                        seq += 1;
                        let access = Self::access(spec);
                        let tx =
                            Transaction::new(TxId::new(spec.client, seq), spec.app, vec![spec.op]);
                        Signer::symbolic(spec.client).sign(DeclaredTx { tx, access })
                    })
                    .collect()
            })
            .collect()
    }

    /// Builds the actors: the orderers, correct executors, Byzantine executors, the pool.
    pub fn actors<R: Rules>(&self) -> Vec<Node<R>> {
        let membership = Arc::new(self.membership());
        let orderers = self.orderer_ids();
        let mut actors: Vec<Node<R>> = if self.orderers == 1 {
            vec![OxiiNode::Orderer(Orderer {
                id: orderers[0],
                batches: self.requests(),
                membership: membership.clone(),
                // Fixed-batch configurations have no clients, so no intake and no cut timer.
                max_block: self.max_block,
                max_wait: std::time::Duration::ZERO..std::time::Duration::ZERO,
                rules: PhantomData,
            })]
        } else {
            let never = std::time::Duration::ZERO..std::time::Duration::ZERO;
            orderers
                .iter()
                .map(|&id| {
                    OxiiNode::PbftOrderer(PbftOrderer {
                        ordering: Ordering {
                            // No checkpoints: a run orders a block or two.
                            core: Core::new(
                                Signer::symbolic(id),
                                orderers.clone(),
                                orderers.clone(),
                                membership.keyring.clone(),
                                self.max_block,
                                0,
                                4,
                                never.clone(),
                            ),
                            learner: Learner::new(orderers.clone()),
                        },
                        membership: membership.clone(),
                        rules: PhantomData,
                    })
                })
                .collect()
        };
        for id in self.executor_ids() {
            actors.push(OxiiNode::Executor(Executor {
                id,
                membership: membership.clone(),
                learner: Learner::new(membership.orderers.clone()),
                pools: vec![self.pool_id()],
                reply_to_clients: !self.clients.is_empty(),
                genesis: KvState::new(),
                marker: PhantomData,
            }));
        }
        let correct = self.executor_ids();
        for (id, byzantine) in self.byzantine_ids().into_iter().zip(&self.byzantine) {
            let forged = byzantine
                .forged
                .iter()
                .map(|(to, seq, index, result)| (correct[*to], *seq, *index, result.clone()))
                .collect();
            let clients = self.client_ids();
            let forged_replies = byzantine
                .forged_replies
                .iter()
                .map(|(to, ts, result)| {
                    let client = clients[*to];
                    (client, TxId::new(client, *ts), result.clone())
                })
                .collect();
            actors.push(OxiiNode::Byzantine(ByzantineExecutor {
                id,
                forged,
                forged_replies,
                marker: PhantomData,
            }));
        }
        actors.push(OxiiNode::Pool(ExecutorPool {
            id: self.pool_id(),
            contracts: Self::contracts(),
        }));
        for (id, client) in self.client_ids().into_iter().zip(&self.clients) {
            let workload = client
                .txs
                .iter()
                .map(|spec| Work {
                    app: spec.app,
                    ops: vec![spec.op],
                    access: Self::access(spec),
                })
                .collect();
            actors.push(OxiiNode::Client(Client {
                signer: Signer::symbolic(id),
                orderers: self.orderer_ids(),
                membership: membership.clone(),
                workload,
                retry: None,
                multicast: false,
            }));
        }
        actors
    }

    /// Builds the model for rules `R`.
    pub fn system<R: Rules>(&self) -> OxiiSystem<R> {
        let mut system = System::new(self.actors::<R>(), OxiiHistory::default())
            .record_msg_out(properties::record_results)
            .client_operations_undecided(properties::block_unfinished::<R>)
            .declare_action_kinds(
                if self.clients.is_empty() {
                    MESSAGE_KINDS
                } else if self.orderers > 1 {
                    PBFT_ORDERED_MESSAGE_KINDS
                } else {
                    CLIENT_MESSAGE_KINDS
                },
                // PBFT orderers arm their view timer only for requests heard as backups,
                // which model clients (no retries) never send them.
                if self.clients.is_empty() || self.orderers > 1 {
                    &[]
                } else {
                    CLIENT_TIMER_KINDS
                },
            )
            .property(Expectation::Always, "agreement", |_, s| {
                properties::agreement::<R>(s)
            })
            .property(Expectation::Always, "validity", properties::validity::<R>)
            .property(
                Expectation::Always,
                "consistency",
                properties::consistency::<R>,
            )
            .property(
                Expectation::Always,
                "executed-on-committed-inputs",
                properties::executed_correctly::<R>,
            )
            .property(Expectation::Always, "edges-in-order", |_, s| {
                properties::edges_in_order::<R>(s)
            })
            .property(Expectation::Always, "threshold", properties::threshold::<R>)
            .property(Expectation::Sometimes, "block appended", |_, s| {
                properties::executors::<R>(s).any(|(_, e)| !e.ledger.is_empty())
            });
        if self.orderers == 1 {
            // The PBFT-ordered configuration's one transaction has no cross-application edge.
            system = system.property(
                Expectation::Sometimes,
                "cross-application commit",
                |_, s| properties::cross_application_commit::<R>(s),
            );
        }
        if self.clients.is_empty() {
            system = system.property(Expectation::Sometimes, "parallel execution", |_, s| {
                properties::executors::<R>(s)
                    .any(|(_, e)| e.run.as_ref().is_some_and(|r| r.running.len() >= 2))
            });
        } else {
            system = system
                .property(
                    Expectation::Always,
                    "client-accepts-committed",
                    properties::client_accepts_committed::<R>,
                )
                .property(Expectation::Sometimes, "client accepted", |_, s| {
                    s.actors()
                        .any(|a| a.as_client().is_some_and(|c| !c.accepted.is_empty()))
                });
        }
        if !self.byzantine.is_empty() {
            system = system.property(
                Expectation::Sometimes,
                "wrong result heard",
                properties::wrong_vote_held::<R>,
            );
        }
        system
    }
}

/// Every message kind of the configuration ordered through PBFT, as coverage names them; the
/// other configurations use a prefix of it.
pub const PBFT_ORDERED_MESSAGE_KINDS: &[&str] = &[
    "NewBlock",
    "ExecCommit",
    "Execute",
    "Executed",
    "Submit",
    "Reply",
    "Consensus",
];
/// Every message kind of the configurations with clients.
pub const CLIENT_MESSAGE_KINDS: &[&str] = PBFT_ORDERED_MESSAGE_KINDS.split_at(6).0;
/// Every message kind of the fixed-batch configurations.
pub const MESSAGE_KINDS: &[&str] = PBFT_ORDERED_MESSAGE_KINDS.split_at(4).0;
/// Timer kinds of the configurations with clients (model clients arm no `Retry`).
pub const CLIENT_TIMER_KINDS: &[&str] = &["Cut"];

fn tx(client: ClientId, app: AppId, op: AccountOp, reads: &[u32], writes: &[u32]) -> TxSpec {
    TxSpec {
        client,
        app,
        op,
        reads: reads.to_vec(),
        writes: writes.to_vec(),
    }
}

/// The card's TV-2 chain over keys k1, k2 alternating applications: T0 (A1) k1 := 1,
/// T1 (A2) k2 := k1 + 1, T2 (A1) k1 := k2 + 1; then T3 (A1) k4 += 5, independent of the chain,
/// so an agent of A1 has two transactions to run at once.
fn tv2() -> Vec<TxSpec> {
    let copy = |src, dst| AccountOp::CopyPlus {
        src: Key(src),
        dst: Key(dst),
        plus: 1,
    };
    vec![
        tx(CLIENT, A1, AccountOp::Set(Key(1), 1), &[], &[1]),
        tx(CLIENT, A2, copy(1, 2), &[1], &[2]),
        tx(CLIENT, A1, copy(2, 1), &[2], &[1]),
        tx(CLIENT, A1, AccountOp::Add(Key(4), 5), &[], &[4]),
    ]
}

/// TV-2 plus T4 (A2) k1 += 10, a read-modify-write declared as a write only (as the seed's
/// transfer credit), whose links to T0 and T2 are write-write only; and an A2 request from a
/// client allowed only A1, which orderers must drop. Serial result: k1 = 13, k2 = 2, k4 = 5.
fn tv2_plus() -> Vec<TxSpec> {
    let mut block = tv2();
    block.push(tx(CLIENT, A2, AccountOp::Add(Key(1), 10), &[], &[1]));
    block.push(tx(
        LIMITED_CLIENT,
        A2,
        AccountOp::Set(Key(3), 99),
        &[],
        &[3],
    ));
    block
}

/// The named configurations, default first.
pub fn configs() -> Vec<(ConfigInfo, OxiiConfig)> {
    let info = |name, summary, expected| ConfigInfo {
        name,
        summary,
        budget_states: 2_000_000,
        budget_seconds: 120,
        expected_unique: Some(expected),
        soak: false,
    };
    let tv2_block = OxiiConfig {
        orderers: 1,
        executors: vec![vec![A1], vec![A2], vec![]],
        byzantine: vec![],
        tau: BTreeMap::from([(A1, 1), (A2, 1)]),
        faulty_agents: BTreeMap::new(),
        blocks: vec![tv2_plus()],
        clients: vec![],
        max_block: 1,
    };
    let wrong = TxResult::Writes(BTreeMap::from([(Key(1), quorate_spec::Write::Set(7))]));
    let byzantine = OxiiConfig {
        orderers: 1,
        executors: vec![vec![A1], vec![A1], vec![A2]],
        byzantine: vec![ByzantineSpec {
            apps: vec![A1],
            forged: vec![(2, 1, 0, wrong.clone())],
            forged_replies: vec![],
        }],
        tau: BTreeMap::from([(A1, 2), (A2, 1)]),
        faulty_agents: BTreeMap::from([(A1, 1)]),
        blocks: vec![tv2()],
        clients: vec![],
        max_block: 1,
    };
    // T0 and T1 of TV-2 from two client actors: the orderer takes them in, in either order,
    // in one block or two (size 2 or its timer); the Byzantine agent of A1 tells the first
    // client T0 wrote k1 := 7.
    let with_clients = OxiiConfig {
        byzantine: vec![ByzantineSpec {
            apps: vec![A1],
            forged: vec![],
            forged_replies: vec![(0, 1, wrong)],
        }],
        blocks: vec![],
        clients: vec![
            ClientSpec {
                allowed: vec![A1],
                txs: vec![tv2()[0].clone()],
            },
            ClientSpec {
                allowed: vec![A2],
                txs: vec![tv2()[1].clone()],
            },
        ],
        max_block: 2,
        ..byzantine.clone()
    };
    // The deployed ordering: four orderers agree through PBFT (f = 1) on a client's request,
    // and executors accept its block on two matching NEWBLOCKs.
    let pbft_orderers = OxiiConfig {
        orderers: 4,
        // One executor: the orderers' interleavings are what this configuration adds (2.0 M
        // states); with two the DFS passed 5.6 M states in 250 s without exhausting.
        executors: vec![vec![A1]],
        byzantine: vec![],
        tau: BTreeMap::from([(A1, 1), (A2, 1)]),
        faulty_agents: BTreeMap::new(),
        blocks: vec![],
        clients: vec![ClientSpec {
            allowed: vec![A1],
            txs: vec![tv2()[0].clone()],
        }],
        max_block: 2,
    };
    let two_blocks = OxiiConfig {
        blocks: vec![tv2()[..2].to_vec(), tv2()[2..].to_vec()],
        ..tv2_block.clone()
    };
    vec![
        (
            info("default", "orderer over the sequencer; e1 agent of A1, e2 of A2, e3 passive; τ = 1; one block: TV-2 chain, an independent A1 tx, a write-only read-modify-write (A2), an unauthorised request", 1_048),
            tv2_block,
        ),
        (
            info("byzantine", "e1, e2 and a Byzantine agent of A1 (f_A1 = 1, τ(A1) = 2), e3 agent of A2; TV-2 chain + an independent A1 tx; the Byzantine agent sends e3 a wrong result for T0", 7_652),
            byzantine,
        ),
        (
            info("two-blocks", "as default, block 1 = T0, T1 and block 2 = T2 and the independent tx (conflicts across the block boundary)", 863),
            two_blocks,
        ),
        (
            info("clients", "two client actors submit TV-2's T0 (A1) and T1 (A2) to the orderer, which cuts blocks of 2 or on its timer; e1, e2 and a Byzantine agent of A1 (f_A1 = 1, τ(A1) = 2), e3 agent of A2; executors reply to clients; the Byzantine agent sends the first client a wrong reply", 6_390),
            with_clients,
        ),
        (
            ConfigInfo {
                // 50 s and 70 MB for the DFS on the 2-core machine (test profile, 1 thread).
                budget_states: 3_000_000,
                budget_seconds: 300,
                ..info("pbft-orderers", "as deployed: four orderers agree through PBFT on a client's request (TV-2's T0, A1); e1 agent of A1, τ = 1, accepts the block on f_o + 1 = 2 matching NEWBLOCKs and replies to the client", 2_003_671)
            },
            pbft_orderers,
        ),
    ]
}

/// Mutants with the property each breaks and the configuration that shows it.
pub fn mutants() -> Vec<MutantInfo> {
    let m = |name, summary, breaks, config| MutantInfo {
        name,
        summary,
        breaks,
        config,
        also_breaks: &[],
    };
    vec![
        m(
            DropWriteWriteEdges::NAME,
            DropWriteWriteEdges::SUMMARY,
            "consistency",
            "default",
        ),
        MutantInfo {
            // A complete search also shows the first result, if wrong, reaching ledgers.
            also_breaks: &["agreement", "consistency"],
            ..m(
                CommitOnFirst::NAME,
                CommitOnFirst::SUMMARY,
                "threshold",
                "byzantine",
            )
        },
        m(
            ExecuteBeforeForeignPredecessors::NAME,
            ExecuteBeforeForeignPredecessors::SUMMARY,
            "executed-on-committed-inputs",
            "default",
        ),
        m(
            SkipAccessCheck::NAME,
            SkipAccessCheck::SUMMARY,
            "validity",
            "default",
        ),
        m(
            ApplyOnDecide::NAME,
            ApplyOnDecide::SUMMARY,
            "edges-in-order",
            "default",
        ),
        m(
            ClientAcceptsFirst::NAME,
            ClientAcceptsFirst::SUMMARY,
            "client-accepts-committed",
            "clients",
        ),
    ]
}

/// OXII's mapping from (configuration, mutant) to a model.
pub struct OxiiDispatch;

impl Dispatch for OxiiDispatch {
    fn with_model<T: ModelTask>(
        config: &str,
        mutant: Option<&str>,
        task: T,
    ) -> Result<T::Output, ConfigError> {
        let (info, cfg) = suite_entry("oxii", configs(), config)?;
        cfg.validate()?;
        let names = ModelNames {
            protocol: "oxii",
            config: info.name,
            mutant,
        };
        Ok(match mutant {
            None => task.run(names, cfg.system::<Honest>()),
            Some(DropWriteWriteEdges::NAME) => task.run(names, cfg.system::<DropWriteWriteEdges>()),
            Some(CommitOnFirst::NAME) => task.run(names, cfg.system::<CommitOnFirst>()),
            Some(ExecuteBeforeForeignPredecessors::NAME) => {
                task.run(names, cfg.system::<ExecuteBeforeForeignPredecessors>())
            }
            Some(SkipAccessCheck::NAME) => task.run(names, cfg.system::<SkipAccessCheck>()),
            Some(ApplyOnDecide::NAME) => task.run(names, cfg.system::<ApplyOnDecide>()),
            Some(ClientAcceptsFirst::NAME) => task.run(names, cfg.system::<ClientAcceptsFirst>()),
            Some(other) => return Err(ConfigError(format!("unknown oxii mutant {other:?}"))),
        })
    }
}

/// The registry entry.
pub fn protocol() -> ProtocolInfo {
    ProtocolInfo {
        name: "oxii",
        summary: "ParBlockchain / OXII: dependency-graph blocks, parallel execution by application agents, τ(A) commit",
        configs: configs().into_iter().map(|(info, _)| info).collect(),
        mutants: mutants(),
        properties: vec![
            ("agreement", "correct executors' ledgers agree block by block, outcomes included"),
            ("validity", "every appended block is the agreed block and holds only signed requests of authorised clients"),
            ("consistency", "every committed result is the serial result, and after each block the state is the serial execution of the blocks in order"),
            ("executed-on-committed-inputs", "every result a correct agent computes is the serial result (it read its predecessors' results)"),
            ("edges-in-order", "for every dependency edge u→v, u is applied before v on every executor"),
            ("threshold", "no transaction is committed with fewer than τ(A) matching results from distinct agents"),
            (crate::deadlock::DEADLOCK_FREE, "no state where a correct executor has an agreed block unfinished and nothing can progress"),
            ("block appended", "sometimes: an executor appends a block"),
            ("parallel execution", "sometimes (fixed-batch configurations): an executor has two transactions executing at once"),
            ("cross-application commit", "sometimes: an executor commits a transaction whose predecessor belongs to another application"),
            ("wrong result heard", "sometimes (Byzantine configurations): a correct executor holds a vote for a wrong result"),
            ("client-accepts-committed", "(configurations with clients) every outcome a client accepts is the serial result of its transaction in the agreed log"),
            ("client accepted", "sometimes (configurations with clients): a client accepts an outcome"),
        ],
        check: check_via::<OxiiDispatch>,
        explore: explore_via::<OxiiDispatch>,
        declared: crate::claims::declared_via::<OxiiDispatch>,
    }
}
