//! Fabric execute-order-validate with the token application under the `System` host: the
//! configuration suite, the properties bound to `quorate_spec` (card T1-T5, agreement on
//! blocks and codes, at-most-once, endorsement policy, refinement of the sequencer) and the
//! mutants.
//!
//! Composition by specification (DESIGN §3): ordering is the abstract sequencer of `spec/`
//! as an actor, and every peer receives blocks through PBFT's real `Learner` (over that one
//! orderer).

use crate::registry::{
    check_via, explore_via, suite_entry, ConfigError, ConfigInfo, Dispatch, ModelNames, ModelTask,
    MutantInfo, ProtocolInfo,
};
use crate::system::{System, SystemState};
use quorate_impl::crypto::{Keyring, Signer, Symbolic};
use quorate_impl::xov::{
    ApplyInvalid, CheckedDeltaReads, Client, DropInvalid, Honest, IgnorePolicy, LocalOrder,
    NoConservationCheck, NoSupplyCap, NoVersionBump, NonAtomicApply, Orderer, Peer, PeerState,
    RelaxOnly, Rules, SeedLiteral, SkipMvcc, Submission, UncheckedDeltas, XovNode, XovState,
};

mod properties;
use quorate_spec::token::{
    conserves_supply, no_negative_balance, serially_equivalent, within_supply_cap, TokenApp,
    TokenOp,
};
use quorate_spec::xov::{values, Code, Org, Policy};
use quorate_spec::{apply_writes, refines_sequencer, KvState, NodeId, Transaction, TxId, Value};
use stateright::Expectation;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// An XOV node of the model: symbolic crypto.
pub type Node<R> = XovNode<Symbolic, R>;
/// The XOV model.
pub type XovSystem<R> = System<Node<R>, ()>;
type State<R> = SystemState<Node<R>, ()>;

/// Peer `i` belongs to organisation `i`; the orderer follows the peers, then the clients.
const PEERS: [NodeId; 2] = [0, 1];
const ORDERER: NodeId = 2;

/// One client of a configuration.
#[derive(Clone, Debug)]
pub struct ClientSpec {
    /// Its transactions.
    pub workload: Vec<Vec<TokenOp>>,
    /// The peers it asks for endorsements.
    pub endorsers: Vec<NodeId>,
    /// Broadcasts per transaction (2 = a Byzantine client replaying its transaction).
    pub copies: u8,
}

impl ClientSpec {
    fn honest(op: TokenOp) -> Self {
        ClientSpec {
            workload: vec![vec![op]],
            endorsers: PEERS.to_vec(),
            copies: 1,
        }
    }
}

/// One configuration of the suite.
#[derive(Clone, Debug)]
pub struct XovConfig {
    /// Delta writes for balances, holds and supply (else absolute writes under plain MVCC).
    pub delta: bool,
    /// Genesis balance of each account.
    pub balances: Vec<Value>,
    /// The supply cap.
    pub max_supply: Value,
    /// The endorsement policy.
    pub policy: Policy,
    /// The clients.
    pub clients: Vec<ClientSpec>,
    /// The orderer cuts a block when this many transactions wait (or earlier, at any time).
    pub max_block: usize,
    /// The behaviour a `sometimes` property must witness, so the configuration is not vacuous.
    pub witness: Witness,
    /// The peer that endorses as a Byzantine endorser, crediting with no debit (card D7).
    pub forging_endorser: Option<NodeId>,
}

/// What a configuration exists to exercise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Witness {
    /// A block with two valid transactions (delta writes on the hot account).
    TwoValidInOneBlock,
    /// Some transaction gets this code; with plain MVCC on the hot account, additionally the
    /// `always` property that no block holds two valid transactions (the seed 002 claim:
    /// one update of a hot key per block), and card T6 as an expected failure: a `sometimes`
    /// property that a spurious abort is reached instead of the `always` one.
    Code(Code, bool),
}

impl XovConfig {
    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.clients.is_empty() || self.clients.iter().any(|c| c.workload.is_empty()) {
            return Err(ConfigError(
                "every XOV configuration needs clients with at least one transaction".into(),
            ));
        }
        if self.max_block == 0 {
            return Err(ConfigError(
                "max_block must be at least 1 (a block of 0 transactions is never cut)".into(),
            ));
        }
        let genesis_supply: Value = self.balances.iter().sum();
        if genesis_supply > self.max_supply || self.balances.iter().any(|b| *b < 0) {
            return Err(ConfigError(format!(
                "genesis balances {:?} must be non-negative and sum to at most max_supply {}",
                self.balances, self.max_supply
            )));
        }
        if let Some(peer) = self.forging_endorser.filter(|p| !PEERS.contains(p)) {
            return Err(ConfigError(format!(
                "forging_endorser {peer} is not a peer; peers are {PEERS:?}"
            )));
        }
        if let Some(org) = self
            .policy
            .orgs()
            .into_iter()
            .find(|o| usize::from(*o) >= PEERS.len())
        {
            return Err(ConfigError(format!(
                "policy names organisation {org}, but the model has organisations 0..{}",
                PEERS.len()
            )));
        }
        Ok(())
    }

    fn app(&self) -> TokenApp {
        TokenApp {
            max_supply: self.max_supply,
            delta: self.delta,
        }
    }

    /// Builds the actors: peers 0 and 1, the orderer 2, then the clients.
    pub fn actors<R: Rules>(&self) -> Vec<Node<R>> {
        let count = PEERS.len() + 1 + self.clients.len();
        let keyring = Arc::new(Keyring::<Symbolic>::symbolic(0..count as NodeId));
        let orgs: BTreeMap<NodeId, Org> = PEERS.iter().map(|&p| (p, p as Org)).collect();
        let genesis = Arc::new(TokenApp::genesis(&self.balances));
        let mut actors: Vec<Node<R>> = PEERS
            .iter()
            .map(|&id| {
                let mut peer = Peer::new(
                    Signer::symbolic(id),
                    keyring.clone(),
                    orgs.clone(),
                    self.policy.clone(),
                    self.app(),
                    genesis.clone(),
                    vec![ORDERER],
                );
                peer.forges_credits = self.forging_endorser == Some(id);
                XovNode::Peer(peer)
            })
            .collect();
        actors.push(XovNode::Orderer(Orderer {
            peers: PEERS.to_vec(),
            max_block: self.max_block,
        }));
        for (index, spec) in self.clients.iter().enumerate() {
            actors.push(XovNode::Client(Client {
                signer: Signer::symbolic((PEERS.len() + 1 + index) as NodeId),
                endorsers: spec.endorsers.clone(),
                orderers: vec![ORDERER],
                workload: spec.workload.clone(),
                copies: spec.copies,
                await_commit: None,
            }));
        }
        actors
    }

    /// The model.
    pub fn system<R: Rules>(&self) -> XovSystem<R> {
        let system = System::new(self.actors::<R>(), ())
            .client_operations_undecided(|model, state| {
                model.actors.iter().zip(state.actors()).any(|(actor, node)| {
                    matches!((actor, node.as_client()), (XovNode::Client(c), Some(s)) if s.current as usize <= c.workload.len())
                })
            })
            .declare_action_kinds(MESSAGE_KINDS, TIMER_KINDS)
            .property(Expectation::Always, "agreement", |_, s| agreement::<R>(s))
            .property(Expectation::Always, "serial-equivalence", |m, s| {
                serial_equivalence::<R>(m, s)
            })
            .property(Expectation::Always, "conservation", |m, s| {
                every_prefix::<R>(m, s, |_, state| conserves_supply(state))
            })
            .property(Expectation::Always, "no-negative-balance", |m, s| {
                every_prefix::<R>(m, s, |_, state| no_negative_balance(state))
            })
            .property(Expectation::Always, "supply-cap", |m, s| {
                every_prefix::<R>(m, s, |max, state| within_supply_cap(state, max))
            })
            .property(Expectation::Always, "at-most-once", |_, s| at_most_once::<R>(s))
            .property(Expectation::Always, "endorsement-policy", |m, s| {
                endorsement_policy::<R>(m, s)
            })
            .property(Expectation::Always, "refines-sequencer", |_, s| {
                refines::<R>(s)
            })
            .property(Expectation::Always, "atomicity", properties::atomicity::<R>)
            .property(Expectation::Always, "per-tx-conservation", properties::per_tx_conservation::<R>)
            .property(Expectation::Always, "reads-current", properties::reads_current::<R>)
            .property(Expectation::Sometimes, "block committed", |_, s| {
                peers::<R>(s).any(|p| p.ledger.iter().any(|b| b.iter().any(|(_, c)| *c == Code::Valid)))
            })
            ;
        match self.witness {
            Witness::TwoValidInOneBlock => system
                .property(
                    Expectation::Sometimes,
                    "two valid txs in one block",
                    |_, s| max_valid_per_block::<R>(s) >= 2,
                )
                .property(Expectation::Always, "no-spurious-abort", |m, s| {
                    !properties::spurious_abort::<R>(m, s)
                }),
            Witness::Code(code, one_per_block) => {
                let witness: fn(&XovSystem<R>, &State<R>) -> bool = match code {
                    Code::MvccReadConflict => |_, s| any_code::<R>(s, Code::MvccReadConflict),
                    Code::NegativeBalance => |_, s| any_code::<R>(s, Code::NegativeBalance),
                    Code::DuplicateTxid => |_, s| any_code::<R>(s, Code::DuplicateTxid),
                    Code::EndorsementPolicyFailure => {
                        |_, s| any_code::<R>(s, Code::EndorsementPolicyFailure)
                    }
                    Code::SupplyCapExceeded => |_, s| any_code::<R>(s, Code::SupplyCapExceeded),
                    Code::DeltaConservationFailure => {
                        |_, s| any_code::<R>(s, Code::DeltaConservationFailure)
                    }
                    _ => |_, s| peers::<R>(s).any(|p| entries(p).any(|(_, c)| *c != Code::Valid)),
                };
                let system = system.property(Expectation::Sometimes, code_witness(code), witness);
                if one_per_block {
                    system
                        .property(Expectation::Always, "one valid tx per block", |_, s| {
                            max_valid_per_block::<R>(s) <= 1
                        })
                        .property(
                            Expectation::Sometimes,
                            "spurious abort (T6 fails)",
                            properties::spurious_abort::<R>,
                        )
                } else {
                    system.property(Expectation::Always, "no-spurious-abort", |m, s| {
                        !properties::spurious_abort::<R>(m, s)
                    })
                }
            }
        }
    }
}

/// The name of the `sometimes` property that witnesses `code`.
fn code_witness(code: Code) -> &'static str {
    match code {
        Code::MvccReadConflict => "some tx MVCC_READ_CONFLICT",
        Code::NegativeBalance => "some tx NEGATIVE_BALANCE",
        Code::DuplicateTxid => "some tx DUPLICATE_TXID",
        Code::EndorsementPolicyFailure => "some tx ENDORSEMENT_POLICY_FAILURE",
        Code::SupplyCapExceeded => "some tx SUPPLY_CAP_EXCEEDED",
        Code::DeltaConservationFailure => "some tx DELTA_CONSERVATION_FAILURE",
        _ => "some tx invalid",
    }
}

/// Whether some peer assigned `code` to some transaction.
fn any_code<R: Rules>(state: &State<R>, code: Code) -> bool {
    peers::<R>(state).any(|p| entries(p).any(|(_, c)| *c == code))
}

/// The most valid transactions any peer committed in one block.
fn max_valid_per_block<R: Rules>(state: &State<R>) -> usize {
    peers::<R>(state)
        .flat_map(|p| p.ledger.iter())
        .map(|b| b.iter().filter(|(_, c)| *c == Code::Valid).count())
        .max()
        .unwrap_or(0)
}

/// Every message kind, as coverage names them.
pub const MESSAGE_KINDS: &[&str] = &["Propose", "Endorse", "Refuse", "Broadcast", "Deliver"];
/// Every timer kind.
pub const TIMER_KINDS: &[&str] = &["Cut"];

fn peers<R: Rules>(state: &State<R>) -> impl Iterator<Item = &PeerState<Symbolic>> {
    state.actors().filter_map(XovState::as_peer)
}

fn any_peer<R: Rules>(model: &XovSystem<R>) -> &Peer<Symbolic, R> {
    match &model.actors[0] {
        XovNode::Peer(peer) => peer,
        _ => unreachable!("actor 0 is a peer"),
    }
}

/// A peer's ledger flattened: every ordered submission with its code.
fn entries(peer: &PeerState<Symbolic>) -> impl Iterator<Item = &(Submission<Symbolic>, Code)> {
    peer.ledger.iter().flatten()
}

fn valid_txs(peer: &PeerState<Symbolic>) -> impl Iterator<Item = &Transaction<TokenOp>> {
    entries(peer)
        .filter(|(_, code)| *code == Code::Valid)
        .map(|(s, _)| s.tx.proposal.value())
}

/// `agreement`: every two peers hold the same blocks with the same codes where both have them.
fn agreement<R: Rules>(state: &State<R>) -> bool {
    let all: Vec<&PeerState<Symbolic>> = peers::<R>(state).collect();
    all.iter().all(|a| {
        all.iter()
            .all(|b| a.ledger.iter().zip(b.ledger.iter()).all(|(x, y)| x == y))
    })
}

/// `serial-equivalence` (T5, and "committed state = serial execution of the valid
/// transactions in ledger order"): `Ref` succeeds on each and reaches the peer's state.
fn serial_equivalence<R: Rules>(model: &XovSystem<R>, state: &State<R>) -> bool {
    let config = any_peer(model);
    peers::<R>(state).all(|peer| {
        serially_equivalent(
            config.app.max_supply,
            &config.genesis,
            valid_txs(peer),
            &values(&peer.world),
        )
        .is_ok()
    })
}

/// T1/T3/T4 at every prefix: the predicate holds on genesis, after each valid transaction's
/// committed write set in ledger order, and on the peer's actual world state.
fn every_prefix<R: Rules>(
    model: &XovSystem<R>,
    state: &State<R>,
    holds: fn(Value, &KvState) -> bool,
) -> bool {
    let config = any_peer(model);
    let max = config.app.max_supply;
    peers::<R>(state).all(|peer| {
        let mut prefix: KvState = (*config.genesis).clone();
        if !holds(max, &prefix) || !holds(max, &values(&peer.world)) {
            return false;
        }
        entries(peer)
            .filter(|(_, code)| *code == Code::Valid)
            .all(|(submission, _)| {
                let writes = &submission.tx.endorsements[0].value().rwset.writes;
                apply_writes(&mut prefix, writes);
                holds(max, &prefix)
            })
    })
}

/// `at-most-once` (T8, no double spend by replay): each transaction id is valid at most once.
fn at_most_once<R: Rules>(state: &State<R>) -> bool {
    peers::<R>(state).all(|peer| {
        let mut seen = BTreeSet::<TxId>::new();
        valid_txs(peer).all(|tx| seen.insert(tx.id))
    })
}

/// `endorsement-policy`: every valid transaction carries verified endorsements, all on the
/// same result, from organisations that satisfy the policy.
fn endorsement_policy<R: Rules>(model: &XovSystem<R>, state: &State<R>) -> bool {
    let config = any_peer(model);
    peers::<R>(state).all(|peer| {
        entries(peer)
            .filter(|(_, code)| *code == Code::Valid)
            .all(|(submission, _)| {
                let tx = &submission.tx;
                let sound = tx
                    .endorsements
                    .iter()
                    .all(|e| e.verify(&config.keyring) && e.value() == tx.endorsements[0].value());
                let orgs: BTreeSet<Org> = tx
                    .endorsements
                    .iter()
                    .filter_map(|e| config.orgs.get(&e.signer()).copied())
                    .collect();
                sound && config.policy.satisfied_by(&orgs)
            })
    })
}

/// `refines-sequencer`: every peer's ledger is a prefix of one log of submitted broadcasts,
/// each once (the spec's refinement check over the orderer's sequencer).
fn refines<R: Rules>(state: &State<R>) -> bool {
    let Some(orderer) = state.actors().find_map(XovState::as_orderer) else {
        return false;
    };
    let ledgers: Vec<(NodeId, Vec<Submission<Symbolic>>)> = peers::<R>(state)
        .enumerate()
        .map(|(i, p)| (i as NodeId, entries(p).map(|(s, _)| s.clone()).collect()))
        .collect();
    let delivered: Vec<(NodeId, &[Submission<Symbolic>])> =
        ledgers.iter().map(|(i, l)| (*i, l.as_slice())).collect();
    match refines_sequencer(&orderer.sequencer.submitted, &delivered) {
        Ok(longest) => orderer.sequencer.log.as_slice().starts_with(&longest),
        Err(_) => false,
    }
}

fn transfer(from: u32, to: u32, amount: Value) -> TokenOp {
    TokenOp::Transfer { from, to, amount }
}

/// The named configurations, default first.
pub fn configs() -> Vec<(ConfigInfo, XovConfig)> {
    let both = Policy::And(vec![Policy::Org(0), Policy::Org(1)]);
    // Account 1 is the hot account: every transfer credits it.
    let hot = XovConfig {
        delta: true,
        balances: vec![2, 0],
        max_supply: 3,
        policy: both.clone(),
        clients: vec![
            ClientSpec::honest(transfer(0, 1, 1)),
            ClientSpec::honest(transfer(0, 1, 1)),
        ],
        max_block: 2,
        witness: Witness::TwoValidInOneBlock,
        forging_endorser: None,
    };
    let double_spend = XovConfig {
        clients: vec![
            ClientSpec::honest(transfer(0, 1, 1)),
            ClientSpec::honest(transfer(0, 1, 2)),
        ],
        witness: Witness::Code(Code::NegativeBalance, false),
        ..hot.clone()
    };
    let info = |name, summary, expected| ConfigInfo {
        name,
        summary,
        budget_states: 200_000,
        budget_seconds: 30,
        expected_unique: Some(expected),
        soak: false,
    };
    vec![
        (
            info("hot-delta", "2 peers (orgs 0, 1; policy AND), sequencer orderer, 2 clients each sending 1 from account 0 (balance 2) to hot account 1, delta writes, blocks <= 2", 227),
            hot.clone(),
        ),
        (
            info("hot-plain", "as hot-delta with plain MVCC (absolute writes)", 291),
            XovConfig { delta: false, witness: Witness::Code(Code::MvccReadConflict, true), ..hot.clone() },
        ),
        (
            info("double-spend-delta", "account 0 holds 2; clients send 1 and 2 from it to account 1 concurrently, delta writes", 279),
            double_spend.clone(),
        ),
        (
            info("double-spend-plain", "as double-spend-delta with plain MVCC", 279),
            XovConfig { delta: false, witness: Witness::Code(Code::MvccReadConflict, false), ..double_spend.clone() },
        ),
        (
            info("mint-cap", "supply 2 of max 3; 3 clients: mint 1 to account 0, mint 1 to account 1, send 1 from 0 to 1; delta writes", 5284),
            XovConfig {
                clients: vec![
                    ClientSpec::honest(TokenOp::Mint { to: 0, amount: 1 }),
                    ClientSpec::honest(TokenOp::Mint { to: 1, amount: 1 }),
                    ClientSpec::honest(transfer(0, 1, 1)),
                ],
                witness: Witness::Code(Code::SupplyCapExceeded, false),
                ..hot.clone()
            },
        ),
        (
            info("replay", "delta writes; a Byzantine client broadcasts its signed MINT twice, another its signed transfer twice", 20021),
            XovConfig {
                clients: vec![
                    ClientSpec { copies: 2, ..ClientSpec::honest(TokenOp::Mint { to: 1, amount: 1 }) },
                    ClientSpec { copies: 2, ..ClientSpec::honest(transfer(0, 1, 1)) },
                ],
                witness: Witness::Code(Code::DuplicateTxid, false),
                ..hot.clone()
            },
        ),
        (
            info("bad-policy", "delta writes; a Byzantine client submits a transfer endorsed by organisation 0 only, an honest one a transfer endorsed by both", 143),
            XovConfig {
                clients: vec![
                    ClientSpec { endorsers: vec![0], ..ClientSpec::honest(transfer(0, 1, 1)) },
                    ClientSpec::honest(transfer(0, 1, 1)),
                ],
                witness: Witness::Code(Code::EndorsementPolicyFailure, false),
                ..hot.clone()
            },
        ),
        (
            info("mixed", "card D5: a delta transfer of 1 from account 0 (balance 2) to account 1, concurrent with a plain reader copying account 1's balance (MVCC-checked read) to a data key", MIXED),
            XovConfig {
                clients: vec![
                    ClientSpec::honest(transfer(0, 1, 1)),
                    ClientSpec::honest(TokenOp::Snapshot { account: 1 }),
                ],
                witness: Witness::Code(Code::MvccReadConflict, false),
                ..hot.clone()
            },
        ),
        (
            info("byzantine-endorser", "card D7: policy OR(org 0, org 1); peer 1 endorses a transfer of 1 from account 0 to 1 as a credit with no debit, the client asks peer 1 only; another client's transfer is endorsed by peer 0 only", BYZANTINE_ENDORSER),
            XovConfig {
                policy: Policy::Or(vec![Policy::Org(0), Policy::Org(1)]),
                clients: vec![
                    ClientSpec { endorsers: vec![1], ..ClientSpec::honest(transfer(0, 1, 1)) },
                    ClientSpec { endorsers: vec![0], ..ClientSpec::honest(transfer(0, 1, 1)) },
                ],
                witness: Witness::Code(Code::DeltaConservationFailure, false),
                forging_endorser: Some(1),
                ..hot
            },
        ),
    ]
}

/// Pinned state counts of the configurations added for the token card's D5 and D7.
const MIXED: usize = 259;
const BYZANTINE_ENDORSER: usize = 109;

/// Mutants with the property each breaks and the configuration that shows it.
pub fn mutants() -> Vec<MutantInfo> {
    vec![
        MutantInfo {
            name: SkipMvcc::NAME,
            summary: SkipMvcc::SUMMARY,
            breaks: "serial-equivalence",
            config: "double-spend-plain",
            also_breaks: &[],
        },
        MutantInfo {
            name: ApplyInvalid::NAME,
            summary: ApplyInvalid::SUMMARY,
            breaks: "serial-equivalence",
            config: "double-spend-plain",
            also_breaks: &[],
        },
        MutantInfo {
            name: UncheckedDeltas::NAME,
            summary: UncheckedDeltas::SUMMARY,
            breaks: "no-negative-balance",
            config: "double-spend-delta",
            also_breaks: &["serial-equivalence"],
        },
        MutantInfo {
            name: IgnorePolicy::NAME,
            summary: IgnorePolicy::SUMMARY,
            breaks: "endorsement-policy",
            config: "bad-policy",
            also_breaks: &[],
        },
        MutantInfo {
            name: SeedLiteral::NAME,
            summary: SeedLiteral::SUMMARY,
            breaks: "at-most-once",
            config: "replay",
            also_breaks: &[],
        },
        MutantInfo {
            name: LocalOrder::NAME,
            summary: LocalOrder::SUMMARY,
            breaks: "agreement",
            config: "double-spend-plain",
            also_breaks: &[],
        },
        MutantInfo {
            name: DropInvalid::NAME,
            summary: DropInvalid::SUMMARY,
            breaks: "refines-sequencer",
            config: "bad-policy",
            also_breaks: &[],
        },
        MutantInfo {
            name: NonAtomicApply::NAME,
            summary: NonAtomicApply::SUMMARY,
            breaks: "atomicity",
            config: "mint-cap",
            also_breaks: &[],
        },
        MutantInfo {
            name: NoConservationCheck::NAME,
            summary: NoConservationCheck::SUMMARY,
            breaks: "conservation",
            config: "byzantine-endorser",
            also_breaks: &["per-tx-conservation"],
        },
        MutantInfo {
            name: NoVersionBump::NAME,
            summary: NoVersionBump::SUMMARY,
            breaks: "reads-current",
            config: "mixed",
            also_breaks: &[],
        },
        MutantInfo {
            name: RelaxOnly::NAME,
            summary: RelaxOnly::SUMMARY,
            breaks: "serial-equivalence",
            config: "hot-plain",
            also_breaks: &["one valid tx per block", "reads-current"],
        },
        MutantInfo {
            name: CheckedDeltaReads::NAME,
            summary: CheckedDeltaReads::SUMMARY,
            breaks: "no-spurious-abort",
            config: "hot-delta",
            also_breaks: &[],
        },
        MutantInfo {
            name: NoSupplyCap::NAME,
            summary: NoSupplyCap::SUMMARY,
            breaks: "supply-cap",
            config: "mint-cap",
            also_breaks: &[],
        },
    ]
}

/// XOV's mapping from (configuration, mutant) to a model.
pub struct XovDispatch;

impl Dispatch for XovDispatch {
    fn with_model<T: ModelTask>(
        config: &str,
        mutant: Option<&str>,
        task: T,
    ) -> Result<T::Output, ConfigError> {
        let (info, cfg) = suite_entry("xov", configs(), config)?;
        cfg.validate()?;
        let names = ModelNames {
            protocol: "xov",
            config: info.name,
            mutant,
        };
        Ok(match mutant {
            None => task.run(names, cfg.system::<Honest>()),
            Some(SkipMvcc::NAME) => task.run(names, cfg.system::<SkipMvcc>()),
            Some(ApplyInvalid::NAME) => task.run(names, cfg.system::<ApplyInvalid>()),
            Some(UncheckedDeltas::NAME) => task.run(names, cfg.system::<UncheckedDeltas>()),
            Some(IgnorePolicy::NAME) => task.run(names, cfg.system::<IgnorePolicy>()),
            Some(SeedLiteral::NAME) => task.run(names, cfg.system::<SeedLiteral>()),
            Some(LocalOrder::NAME) => task.run(names, cfg.system::<LocalOrder>()),
            Some(DropInvalid::NAME) => task.run(names, cfg.system::<DropInvalid>()),
            Some(NonAtomicApply::NAME) => task.run(names, cfg.system::<NonAtomicApply>()),
            Some(NoConservationCheck::NAME) => task.run(names, cfg.system::<NoConservationCheck>()),
            Some(NoVersionBump::NAME) => task.run(names, cfg.system::<NoVersionBump>()),
            Some(RelaxOnly::NAME) => task.run(names, cfg.system::<RelaxOnly>()),
            Some(CheckedDeltaReads::NAME) => task.run(names, cfg.system::<CheckedDeltaReads>()),
            Some(NoSupplyCap::NAME) => task.run(names, cfg.system::<NoSupplyCap>()),
            Some(other) => return Err(ConfigError(format!("unknown xov mutant {other:?}"))),
        })
    }
}

/// The registry entry.
pub fn protocol() -> ProtocolInfo {
    ProtocolInfo {
        name: "xov",
        summary: "Fabric execute-order-validate with MVCC validation and token delta writes, over the abstract sequencer",
        configs: configs().into_iter().map(|(info, _)| info).collect(),
        mutants: mutants(),
        properties: vec![
            ("agreement", "peers hold the same blocks with the same validity codes"),
            ("serial-equivalence", "T5: Ref succeeds on the valid transactions in ledger order and reaches each peer's state"),
            ("conservation", "T1: balances plus holds equal the supply, at every prefix of the valid transactions"),
            ("no-negative-balance", "T3: no balance or hold below zero, at every prefix"),
            ("supply-cap", "T4: 0 <= supply <= max_supply, at every prefix"),
            ("at-most-once", "T8: a transaction id is valid at most once (no replayed double spend)"),
            ("endorsement-policy", "every valid transaction's endorsements agree and satisfy the policy"),
            ("refines-sequencer", "every peer's ledger is a prefix of the sequencer's log of submitted broadcasts"),
            ("atomicity", "T7: each peer's state is genesis plus the valid transactions' write sets in ledger order; nothing of an invalid one"),
            ("per-tx-conservation", "T11: each valid transaction changes balances plus holds by what it changes the supply by, = its mints minus burns"),
            ("reads-current", "T10: each checked read of a valid transaction names its key's version in the serial state before it (deltas bump versions)"),
            ("no-spurious-abort", "T6: a token operation aborted on MVCC, funds or cap only if Ref also fails on the serial state before it (not claimed on hot-plain)"),
            ("spurious abort (T6 fails)", "sometimes (hot-plain): card T6's expected failure under plain MVCC is reached"),
            (crate::deadlock::DEADLOCK_FREE, "no client left with an unfinished transaction when nothing can happen (on unless --no-deadlock)"),
            ("block committed", "sometimes: a valid transaction commits"),
            ("two valid txs in one block", "sometimes (hot-delta): a block holds two valid updates of the hot account"),
            ("one valid tx per block", "hot-plain: plain MVCC commits at most one update of the hot account per block (seed 002's claim)"),
            ("some tx <CODE>", "sometimes: the code the configuration exists to exercise is assigned"),
        ],
        check: check_via::<XovDispatch>,
        explore: explore_via::<XovDispatch>,
        declared: crate::claims::declared_via::<XovDispatch>,
    }
}
