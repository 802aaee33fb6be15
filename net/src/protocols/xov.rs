//! Fabric execute-order-validate (XOV) with the token application as hosted by `net`: the
//! observation views, and building a deployment's actors from ids and keys (configuration
//! only; every handler is `impl/`'s).
//!
//! Roles by id: endorsing and committing peers are `0..peers` (peer `i` in organisation `i`),
//! the ordering service follows — one node running the sequencer actor the checker ran, or,
//! from [`PBFT_ORDERED_FROM`] servers on, 3f+1 = 4 orderers agreeing through PBFT (the
//! `impl/` ordering service; peers take a block once f + 1 orderers sent it) — and clients
//! follow. Deployed peers report commits to clients and deployed clients wait for
//! those reports (retrying on a timer), so a client's completed count is committed
//! transactions, not merely submitted ones.

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use quorate_impl::crypto::{Crypto, Keyring, NodeId, Signer};
use quorate_impl::trace::digest;
use quorate_impl::xov::{Client, Honest, Orderer, PbftOrderer, Peer, Rules, XovNode, XovState};
use quorate_spec::token::{Account, TokenApp, TokenOp};
use quorate_spec::xov::{Org, Policy};
use quorate_spec::Value;

use super::pbft::{
    check_pbft_orderers, consensus_verifications_per_batch, PbftKnobs, PBFT_ORDERED_FROM,
};
use super::{Committed, Deployment, Observed};

/// A deployed XOV node with honest validation.
pub type XovHonest<C> = XovNode<C, Honest>;

impl<C: Crypto, R: Rules> Observed for XovNode<C, R>
where
    XovNode<C, R>: crate::host::HostedActor<State = XovState<C>>,
{
    const PROTOCOL: &'static str = "xov";

    fn is_client(&self) -> bool {
        matches!(self, XovNode::Client(_))
    }

    fn workload_len(&self) -> u64 {
        match self {
            XovNode::Client(client) => client.workload.len() as u64,
            XovNode::Peer(_) | XovNode::Orderer(_) | XovNode::PbftOrderer(_) => 0,
        }
    }

    fn completed(state: &Self::State) -> Option<u64> {
        state.as_client().map(|c| c.finished())
    }

    fn committed(state: &Self::State, from: u64) -> Option<Committed> {
        // One entry per ordered transaction with its validation code, so agreement covers
        // both the blocks and every transaction's verdict (issue 6, "all peers agree").
        let peer = state.as_peer()?;
        let mut entries = Vec::new();
        let mut position = 0u64;
        for (index, block) in peer.ledger.iter().enumerate() {
            let next = position + block.len() as u64;
            if next > from {
                let number = index as u64 + 1;
                entries.extend(
                    block
                        .iter()
                        .skip(from.saturating_sub(position) as usize)
                        .map(|(submission, code)| digest(&(number, submission, code))),
                );
            }
            position = next;
        }
        Some(Committed {
            base: from.min(position),
            entries,
        })
    }
}

/// Knobs of a deployed XOV cluster.
#[derive(Clone, Debug)]
pub struct XovDeployment {
    /// Endorsing and committing peers are ids `0..peers`; the orderers follow.
    pub peers: usize,
    /// 1: one orderer runs the sequencer (no fault tolerance in ordering); 3f+1 ≥ 4: the
    /// orderers agree through PBFT and tolerate f Byzantine ones.
    pub orderers: usize,
    /// The chaincode's endorsement policy (default: every organisation).
    pub policy: Policy,
    /// Genesis accounts `0..accounts`; account 0 is the hot receiver of the workload.
    pub accounts: Account,
    /// Genesis balance of every account.
    pub balance: Value,
    /// Delta writes for balances, holds and supply (else absolute writes under plain MVCC).
    pub delta: bool,
    /// The orderer cuts a block once this many transactions wait (or on its timer).
    pub max_block: usize,
    /// Client retry range (lost proposals, broadcasts or commit reports).
    pub client_retry: Range<Duration>,
    /// PBFT ordering: the core's knobs.
    pub pbft: PbftKnobs,
}

impl XovDeployment {
    /// Sensible defaults for `peers` peers.
    pub fn new(peers: usize) -> Self {
        XovDeployment {
            peers,
            orderers: 1,
            policy: Policy::And((0..peers).map(|org| Policy::Org(org as Org)).collect()),
            accounts: 8,
            balance: 1_000_000,
            delta: true,
            max_block: 64,
            client_retry: Duration::from_millis(1000)..Duration::from_millis(2000),
            pbft: PbftKnobs::default(),
        }
    }

    /// The same cluster with `orderers` orderers agreeing through PBFT (3f+1, f ≥ 1).
    pub fn with_pbft_ordering(self, orderers: usize) -> Result<Self, String> {
        check_pbft_orderers(orderers)?;
        Ok(XovDeployment { orderers, ..self })
    }

    fn peer_ids(&self) -> Vec<NodeId> {
        (0..self.peers as NodeId).collect()
    }

    /// The orderers' ids.
    pub fn orderer_ids(&self) -> Vec<NodeId> {
        let first = self.peers as NodeId;
        (first..first + self.orderers as NodeId).collect()
    }

    fn app(&self) -> TokenApp {
        TokenApp {
            // Room for every mint a run can make: the cap is checked, never the limit here.
            max_supply: self.balance * Value::from(self.accounts) + 1_000_000_000,
            delta: self.delta,
        }
    }

    /// Server `signer.id()`: a peer below `peers`, an orderer from `peers` on.
    pub fn server<C: Crypto, R: Rules>(
        &self,
        signer: Signer<C>,
        keyring: Arc<Keyring<C>>,
    ) -> XovNode<C, R> {
        if self.orderer_ids().contains(&signer.id()) {
            if self.orderers == 1 {
                return XovNode::Orderer(Orderer {
                    peers: self.peer_ids(),
                    max_block: self.max_block,
                });
            }
            return XovNode::PbftOrderer(PbftOrderer {
                peers: self.peer_ids(),
                ordering: self
                    .pbft
                    .ordering(signer, self.orderer_ids(), keyring, self.max_block),
            });
        }
        let balances = vec![self.balance; self.accounts as usize];
        let mut peer = Peer::new(
            signer,
            keyring,
            self.peer_ids().iter().map(|&p| (p, p as Org)).collect(),
            self.policy.clone(),
            self.app(),
            Arc::new(TokenApp::genesis(&balances)),
            self.orderer_ids(),
        );
        peer.notify_clients = true;
        XovNode::Peer(peer)
    }

    /// A client signing with `signer` that submits `operations` token transactions: transfers
    /// to the hot account 0, transfers between the others, mints, and hold/release pairs.
    pub fn client<C: Crypto, R: Rules>(&self, signer: Signer<C>, operations: u64) -> XovNode<C, R> {
        let others = self.accounts.max(3) - 1;
        let own = 1 + signer.id() % others;
        let workload = (0..operations)
            .map(|i| {
                let op = match i % 8 {
                    0 | 4 => TokenOp::Transfer {
                        from: own,
                        to: 0,
                        amount: 1,
                    },
                    1 | 5 => TokenOp::Transfer {
                        from: own,
                        // Any other non-hot account (an offset in 1..others never lands on own).
                        to: 1 + (own - 1 + 1 + (i / 8) as Account % (others - 1).max(1)) % others,
                        amount: 1,
                    },
                    2 | 6 => TokenOp::Mint { to: own, amount: 1 },
                    3 => TokenOp::Hold {
                        account: own,
                        amount: 1,
                    },
                    _ => TokenOp::Release {
                        account: own,
                        amount: 1,
                    },
                };
                vec![op]
            })
            .collect();
        XovNode::Client(Client {
            signer,
            endorsers: self.peer_ids(),
            orderers: self.orderer_ids(),
            workload,
            copies: 1,
            await_commit: Some(self.client_retry.clone()),
        })
    }
}

impl<C: Crypto> Deployment<C> for XovDeployment
where
    XovHonest<C>: Observed + 'static,
    <XovHonest<C> as stateright::actor::Actor>::Msg: Send + 'static,
    <XovHonest<C> as stateright::actor::Actor>::Storage: crate::store::StorageLayout,
{
    type Actor = XovHonest<C>;

    fn with_servers(servers: usize) -> Result<Self, String> {
        if servers < 3 {
            return Err(format!(
                "{servers} servers: XOV wants at least 2 endorsing peers (two organisations, a \
                 policy needing both) plus the orderer"
            ));
        }
        // From 7 servers on, four of them order through PBFT (f = 1); below, one orderer
        // runs the sequencer. The rest are peers.
        let orderers = if servers >= PBFT_ORDERED_FROM { 4 } else { 1 };
        let peers = servers - orderers;
        if peers > usize::from(Org::MAX) + 1 {
            return Err(format!(
                "{servers} servers: one organisation per peer allows at most {} peers",
                usize::from(Org::MAX) + 1
            ));
        }
        let deployment = XovDeployment::new(peers);
        if orderers == 1 {
            return Ok(deployment);
        }
        deployment.with_pbft_ordering(orderers)
    }

    fn servers(&self) -> usize {
        self.peers + self.orderers
    }

    fn server(&self, signer: Signer<C>, keyring: Arc<Keyring<C>>) -> Self::Actor {
        XovDeployment::server::<C, Honest>(self, signer, keyring)
    }

    fn client(&self, signer: Signer<C>, _keyring: Arc<Keyring<C>>, operations: u64) -> Self::Actor {
        XovDeployment::client::<C, Honest>(self, signer, operations)
    }

    fn keeps_ledger(&self, server: NodeId) -> bool {
        // Orderers keep the order, not a validated ledger.
        !self.orderer_ids().contains(&server)
    }

    fn restart_hazard(&self) -> Option<&'static str> {
        Some(
            "XOV peers and the orderer keep no durable Storage yet: a restarted orderer numbers \
             blocks from 1 again and a restarted peer comes back with an empty ledger and no \
             catch-up",
        )
    }

    fn verifications_per_tx(&self, batch: f64) -> f64 {
        let peers = self.peers as f64;
        // Each endorser checks the client's proposal (peers); each committing peer checks the
        // proposal again and every endorsement (peers x (1 + peers)). The client does not check
        // endorsements (validation does), and blocks and commit reports are unsigned. PBFT
        // orderers add their consensus signatures per batch (they check no submission).
        let ordering = if self.orderers > 1 {
            consensus_verifications_per_batch(self.orderers) / batch.max(1.0)
        } else {
            0.0
        };
        peers + peers * (1.0 + peers) + ordering
    }
}
