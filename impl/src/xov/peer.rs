//! The endorsing and committing peer (card §3.2, §3.4 with the errata).
//!
//! Endorsing: simulate the proposal on the committed state, record each read with the version
//! seen, and sign (transaction id, read set, write set). Reads of keys the transaction changes
//! by a delta are advisory (card G3) and are not MVCC-checked: the commit-time invariant check
//! replaces them.
//!
//! Committing: blocks arrive through PBFT's [`Learner`] (from the one orderer, or once f + 1 of
//! the PBFT orderers sent the same; in number order, no gaps); each
//! transaction is validated in block order — payload and signatures, transaction id not taken
//! by an earlier block, endorsement policy, transaction id not taken earlier in this block,
//! MVCC, then the token invariants for delta write sets — and only valid ones are applied,
//! with version (block, position).

use super::rules::Rules;
use super::{Endorsed, Proposal, Submission, XovMsg, XovState, XovTimer, XovTx};
use crate::component::node_id;
use crate::crypto::{Crypto, Keyring, NodeId, Signer};
use crate::pbft::{Batch, Learner, LearnerState};
use quorate_spec::token::{deltas_conserve, is_holding_key, TokenApp};
use quorate_spec::xov::{
    apply_versioned, mvcc_check, values, versioned_genesis, Code, Org, Policy, RwSet, Version,
    VersionedState,
};
use quorate_spec::{Application, Key, KvState, TxId, Write};
use serde::{Deserialize, Serialize};
use stateright::actor::{Actor, Out};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::sync::Arc;

/// A committed block: each transaction with its validation code.
pub type CommittedBlock<C> = Vec<(Submission<C>, Code)>;

/// A peer's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Peer<C: Crypto, R: Rules> {
    /// This peer.
    pub id: NodeId,
    /// Signs this peer's endorsements.
    pub signer: Signer<C>,
    /// Every node's public key.
    pub keyring: Arc<Keyring<C>>,
    /// The organisation of every endorsing peer (the MSP, static in the model).
    pub orgs: BTreeMap<NodeId, Org>,
    /// The chaincode's endorsement policy.
    pub policy: Policy,
    /// The chaincode.
    pub app: TokenApp,
    /// The genesis token state (block 0).
    pub genesis: Arc<KvState>,
    /// Delivers ordered blocks without gaps, from the orderers only.
    pub learner: Learner,
    /// A Byzantine endorser (card D7): it signs simulation results with every write that
    /// lowers a balance or hold removed, i.e. credits with no debit. Its commits stay honest.
    pub forges_credits: bool,
    /// Deployed peers report each committed transaction's code to its client (Fabric's
    /// commit event); the model's peers do not (its clients do not wait for commits).
    pub notify_clients: bool,
    _rules: PhantomData<fn() -> R>,
}

/// A peer's state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct PeerState<C: Crypto> {
    /// Blocks received but not yet deliverable.
    pub learner: LearnerState<Submission<C>>,
    /// The versioned world state after the committed blocks.
    pub world: Arc<VersionedState>,
    /// The committed blocks with every transaction's code.
    pub ledger: Arc<Vec<CommittedBlock<C>>>,
    /// Every transaction id ordered so far, valid or not (errata 1).
    pub txids: Arc<BTreeSet<TxId>>,
}

fn peer_of<C: Crypto>(state: &XovState<C>) -> &PeerState<C> {
    match state {
        XovState::Peer(s) => s,
        _ => unreachable!("a peer's state is a peer state"),
    }
}

fn peer_mut<C: Crypto>(state: &mut XovState<C>) -> &mut PeerState<C> {
    match state {
        XovState::Peer(s) => s,
        _ => unreachable!("a peer's state is a peer state"),
    }
}

impl<C: Crypto, R: Rules> Peer<C, R> {
    /// A peer taking blocks from `orderers` (one: the sequencer; 3f+1: PBFT orderers).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        signer: Signer<C>,
        keyring: Arc<Keyring<C>>,
        orgs: BTreeMap<NodeId, Org>,
        policy: Policy,
        app: TokenApp,
        genesis: Arc<KvState>,
        orderers: Vec<NodeId>,
    ) -> Self {
        let id = signer.id();
        Peer {
            id,
            signer,
            keyring,
            orgs,
            policy,
            app,
            genesis,
            learner: Learner::new(orderers),
            forges_credits: false,
            notify_clients: false,
            _rules: PhantomData,
        }
    }

    /// The initial state: genesis as block 0.
    pub fn init(&self) -> PeerState<C> {
        PeerState {
            learner: self.learner.init(0),
            world: Arc::new(versioned_genesis(&self.genesis)),
            ledger: Arc::new(Vec::new()),
            txids: Arc::new(BTreeSet::new()),
        }
    }

    /// Simulates `proposal` on `world`: the signed read-write set, or the chaincode's refusal.
    pub fn endorse(
        &self,
        world: &VersionedState,
        proposal: &Proposal<C>,
    ) -> Result<Endorsed, quorate_spec::token::TokenError> {
        let tx = proposal.value();
        let state = values(world);
        let mut execution = self.app.execute(&state, tx);
        execution.output?;
        if self.forges_credits {
            execution.writes.retain(|key, write| match *write {
                Write::Delta(amount) => !is_holding_key(*key) || amount >= 0,
                Write::Set(value) => {
                    !is_holding_key(*key) || value >= state.get(key).copied().unwrap_or(0)
                }
                Write::Delete => true,
            });
        }
        let reads = execution
            .reads
            .iter()
            .filter(|key| {
                !R::EXEMPT_DELTA_READS
                    || !matches!(execution.writes.get(key), Some(Write::Delta(_)))
            })
            .map(|key| (*key, world.get(key).map(|(_, version)| *version)))
            .collect();
        Ok(Endorsed {
            tx: tx.id,
            rwset: RwSet {
                reads,
                writes: execution.writes,
            },
        })
    }

    /// Checks signatures and endorsement agreement: the common read-write set and the
    /// organisations that endorsed it, or the code that rejects the transaction.
    fn endorsed_result<'t>(&self, tx: &'t XovTx<C>) -> Result<(&'t RwSet, BTreeSet<Org>), Code> {
        let proposal = &tx.proposal;
        let signed_by_client = proposal.verify(&self.keyring)
            && proposal.signer() == proposal.value().id.client
            && self.app.well_formed(proposal.value());
        let endorsements_sound = tx.endorsements.iter().all(|e| {
            e.verify(&self.keyring)
                && self.orgs.contains_key(&e.signer())
                && e.value().tx == tx.id()
        });
        let Some(first) = tx.endorsements.first() else {
            return Err(Code::EndorsementPolicyFailure);
        };
        if !signed_by_client || !endorsements_sound {
            return Err(Code::BadPayload);
        }
        if tx.endorsements.iter().any(|e| e.value() != first.value()) {
            return Err(Code::EndorsementPolicyFailure); // endorsers disagree on the result
        }
        let orgs = tx
            .endorsements
            .iter()
            .map(|e| self.orgs[&e.signer()])
            .collect();
        Ok((&first.value().rwset, orgs))
    }

    /// Validates and applies one block in order; returns each transaction's code. `world` is
    /// the overlay: valid transactions are applied as they pass, so later ones of the same
    /// block are checked against the state they leave.
    pub fn validate_block(
        &self,
        world: &mut VersionedState,
        txids: &mut BTreeSet<TxId>,
        block: u64,
        txs: &[Arc<XovTx<C>>],
    ) -> Vec<Code> {
        let mut reserved_in_block = BTreeSet::new();
        let mut written_in_block: BTreeSet<Key> = BTreeSet::new();
        let mut codes = vec![Code::Valid; txs.len()];
        let mut order: Vec<usize> = (0..txs.len()).collect();
        if R::LOCAL_ORDER && !order.is_empty() {
            let by = self.id as usize % order.len();
            order.rotate_left(by);
        }
        for position in order {
            let tx = &txs[position];
            let verdict =
                self.validate_one(world, txids, &mut reserved_in_block, &written_in_block, tx);
            let version = Version {
                block,
                tx: position as u32,
            };
            match verdict {
                Ok(rwset) => {
                    self.apply(world, &rwset.writes, version);
                    written_in_block.extend(rwset.writes.keys().copied());
                }
                Err((code, rwset)) => {
                    match rwset {
                        Some(rwset) if !R::SKIP_INVALID => {
                            self.apply(world, &rwset.writes, version)
                        }
                        Some(rwset) if !R::ATOMIC_APPLY && token_rule_code(code) => {
                            self.apply_deltas_until_failure(world, &rwset.writes, version)
                        }
                        _ => {}
                    }
                    codes[position] = code;
                }
            }
        }
        // Errata 1: every id ever ordered is taken, whatever its code.
        txids.extend(txs.iter().map(|tx| tx.id()));
        codes
    }

    /// Applies a valid write set at `version`; deltas bump the version unless the rules say not.
    fn apply(&self, world: &mut VersionedState, writes: &BTreeMap<Key, Write>, version: Version) {
        let kept: Vec<(Key, Version)> = if R::BUMP_DELTA_VERSION {
            Vec::new()
        } else {
            writes
                .iter()
                .filter(|(_, w)| matches!(w, Write::Delta(_)))
                .filter_map(|(k, _)| world.get(k).map(|(_, v)| (*k, *v)))
                .collect()
        };
        apply_versioned(world, writes, version);
        for (key, old) in kept {
            if let Some(entry) = world.get_mut(&key) {
                entry.1 = old;
            }
        }
    }

    /// Card BD4 only: each write checked alone against the invariants and applied at once,
    /// stopping at the first that fails.
    fn apply_deltas_until_failure(
        &self,
        world: &mut VersionedState,
        writes: &BTreeMap<Key, Write>,
        version: Version,
    ) {
        for (key, write) in writes {
            let single = BTreeMap::from([(*key, *write)]);
            if self.app.check_invariants(&values(world), &single).is_err() {
                return;
            }
            self.apply(world, &single, version);
        }
    }

    #[allow(clippy::type_complexity)]
    fn validate_one<'t>(
        &self,
        world: &VersionedState,
        txids: &BTreeSet<TxId>,
        reserved_in_block: &mut BTreeSet<TxId>,
        written_in_block: &BTreeSet<Key>,
        tx: &'t XovTx<C>,
    ) -> Result<&'t RwSet, (Code, Option<&'t RwSet>)> {
        let (rwset, orgs) = self.endorsed_result(tx).map_err(|code| (code, None))?;
        let fail = |code| Err((code, Some(rwset)));
        if R::UNIQUE_TXID && txids.contains(&tx.id()) {
            return fail(Code::DuplicateTxid);
        }
        if R::CHECK_POLICY && !self.policy.satisfied_by(&orgs) {
            return fail(Code::EndorsementPolicyFailure);
        }
        // Errata 1: only a copy that passed endorsement reserves the id within the block.
        if !reserved_in_block.insert(tx.id()) && R::UNIQUE_TXID {
            return fail(Code::DuplicateTxid);
        }
        if R::CHECK_TX_CONSERVATION
            && rwset.has_delta()
            && !deltas_conserve(&tx.proposal.value().ops, &rwset.writes)
        {
            return fail(Code::DeltaConservationFailure);
        }
        if R::CHECK_MVCC {
            let checked: BTreeMap<Key, Option<Version>> = rwset
                .reads
                .iter()
                .filter(|(key, _)| R::CHECK_WRITTEN_READS || !rwset.writes.contains_key(key))
                .map(|(key, version)| (*key, *version))
                .collect();
            if let Err(code) = mvcc_check(world, written_in_block, &checked) {
                return fail(code);
            }
        }
        if R::CHECK_DELTA_INVARIANTS && rwset.has_delta() {
            let app = if R::CHECK_SUPPLY_CAP {
                self.app
            } else {
                TokenApp {
                    max_supply: quorate_spec::Value::MAX,
                    ..self.app
                }
            };
            if let Err(error) = app.check_invariants(&values(world), &rwset.writes) {
                return fail(Code::from(error));
            }
        }
        Ok(rwset)
    }

    /// Handles a proposal (endorse) or a block delivery (learn, then commit in order).
    pub fn on_msg<A>(
        &self,
        state: &mut Cow<XovState<C>>,
        src: NodeId,
        msg: XovMsg<C>,
        out: &mut Out<A>,
    ) where
        A: Actor<Msg = XovMsg<C>, Timer = XovTimer>,
    {
        match msg {
            XovMsg::Propose(proposal) => {
                let id = proposal.value().id;
                if !proposal.verify(&self.keyring)
                    || proposal.signer() != id.client
                    || src != id.client
                {
                    return;
                }
                let reply = match self.endorse(&peer_of(state).world, &proposal) {
                    Ok(endorsed) => XovMsg::Endorse(self.signer.sign(endorsed)),
                    Err(error) => XovMsg::Refuse(id, error),
                };
                out.send(node_id(src), reply);
            }
            XovMsg::Deliver { block, txs } => {
                let learner = &peer_of(state).learner;
                let relevant = self.learner.replicas.contains(&src)
                    && block >= learner.next_seq
                    && !learner.learned.contains_key(&block);
                if !relevant {
                    return; // not from an orderer, or already taken: a true no-op
                }
                let learner = &mut peer_mut(state.to_mut()).learner;
                let deliverable =
                    self.learner
                        .on_delivery(learner, src, block, Batch::Requests(txs));
                for (slot, batch) in deliverable {
                    let Batch::Requests(txs) = batch else {
                        continue;
                    };
                    let outcomes = self.commit(peer_mut(state.to_mut()), slot, txs);
                    if self.notify_clients {
                        for (tx, code) in outcomes {
                            out.send(node_id(tx.client), XovMsg::Committed { tx, code });
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// Validates and appends one block; returns each transaction's id and code.
    fn commit(
        &self,
        peer: &mut PeerState<C>,
        block: u64,
        txs: Vec<Submission<C>>,
    ) -> Vec<(TxId, Code)> {
        let plain: Vec<Arc<XovTx<C>>> = txs.iter().map(|s| s.tx.clone()).collect();
        let codes = self.validate_block(
            Arc::make_mut(&mut peer.world),
            Arc::make_mut(&mut peer.txids),
            block,
            &plain,
        );
        let outcomes = plain.iter().map(|tx| tx.id()).zip(codes.clone()).collect();
        let recorded = txs
            .into_iter()
            .zip(codes)
            .filter(|(_, code)| R::RECORD_INVALID || *code == Code::Valid)
            .collect();
        Arc::make_mut(&mut peer.ledger).push(recorded);
        outcomes
    }
}

/// The codes of the commit-time token rules (card S2/S3), the ones BD4 fails part-way through.
fn token_rule_code(code: Code) -> bool {
    matches!(
        code,
        Code::MissingAccount | Code::NegativeBalance | Code::SupplyCapExceeded | Code::Overflow
    )
}
