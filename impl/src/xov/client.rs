//! The XOV client (card §3.2): signs a proposal, sends it to its endorsers, and once every
//! endorser it asked has answered with the same result, broadcasts the transaction to the
//! ordering service. Transactions run one after another; a refused or disagreeing one is
//! abandoned (the client would re-propose after fresh state in a real system).
//!
//! `copies > 1` makes a Byzantine client that re-broadcasts the identical signed transaction
//! (card D4, the replay scenario); asking fewer endorsers than the policy needs makes one
//! that submits an insufficiently endorsed transaction. Both are configuration, not code paths
//! that honest deployments could not reach.
//!
//! `await_commit` is the deployed client (Fabric's client waits for its peer's commit event):
//! it proposes the next transaction only once a peer reports the current one committed, and on
//! a timer re-sends what may have been lost (proposals to silent endorsers, or the transaction
//! as a new broadcast copy, which validation marks a duplicate if the first was ordered). The
//! model's clients leave it off and arm no timers.

use super::{Endorsement, Proposal, Submission, XovMsg, XovState, XovTimer, XovTx};
use crate::component::node_id;
use crate::crypto::{Crypto, NodeId, Signer};
use quorate_spec::token::{TokenApp, TokenOp};
use quorate_spec::xov::Code;
use quorate_spec::{Transaction, TxId};
use serde::{Deserialize, Serialize};
use stateright::actor::{Actor, Out};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

/// A client's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Client<C: Crypto> {
    /// Signs this client's proposals (its own id only).
    pub signer: Signer<C>,
    /// The endorsing peers it asks.
    pub endorsers: Vec<NodeId>,
    /// The ordering service: the one orderer, or every PBFT orderer (each hears each
    /// broadcast, so a backup can suspect a primary that withholds it).
    pub orderers: Vec<NodeId>,
    /// Each transaction's operations, in order.
    pub workload: Vec<Vec<TokenOp>>,
    /// How many times each transaction is broadcast (1 = honest).
    pub copies: u8,
    /// Deployed clients: wait for a peer's commit report before the next transaction, and
    /// retry after a delay drawn from this range (`None` in the model).
    pub await_commit: Option<Range<Duration>>,
}

/// A client's state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ClientState<C: Crypto> {
    /// Sequence number of the transaction in progress (1-based; past the workload = done).
    pub current: u64,
    /// Endorsements received for it, per endorser.
    pub endorsements: BTreeMap<NodeId, Endorsement<C>>,
    /// Transactions broadcast.
    pub submitted: u32,
    /// Transactions abandoned (refused by the chaincode, or endorsers disagreed).
    pub abandoned: u32,
    /// With `await_commit`: the broadcast transaction whose commit report is awaited, and the
    /// broadcast copies sent so far.
    pub in_flight: Option<(Arc<XovTx<C>>, u8)>,
    /// With `await_commit`: commit reports received, valid and invalid.
    pub committed_valid: u32,
    /// See `committed_valid`.
    pub committed_invalid: u32,
}

impl<C: Crypto> ClientState<C> {
    /// Transactions whose fate this client knows: abandoned, broadcast (without
    /// `await_commit`), or reported committed.
    pub fn finished(&self) -> u64 {
        (self.current - 1) - u64::from(self.in_flight.is_some())
    }
}

fn client_mut<C: Crypto>(state: &mut XovState<C>) -> &mut ClientState<C> {
    match state {
        XovState::Client(s) => s,
        _ => unreachable!("a client's state is a client state"),
    }
}

impl<C: Crypto> Client<C> {
    /// The signed proposal of transaction `seq` (1-based).
    pub fn proposal(&self, seq: u64) -> Proposal<C> {
        let ops = self.workload[(seq - 1) as usize].clone();
        self.signer.sign(Transaction::new(
            TxId::new(self.signer.id(), seq),
            TokenApp::APP_ID,
            ops,
        ))
    }

    fn propose<A>(&self, seq: u64, out: &mut Out<A>)
    where
        A: Actor<Msg = XovMsg<C>, Timer = XovTimer>,
    {
        if seq as usize > self.workload.len() {
            return;
        }
        let proposal = self.proposal(seq);
        for &endorser in &self.endorsers {
            out.send(node_id(endorser), XovMsg::Propose(proposal.clone()));
        }
        self.arm_retry(out);
    }

    fn broadcast<A>(&self, submission: Submission<C>, out: &mut Out<A>)
    where
        A: Actor<Msg = XovMsg<C>, Timer = XovTimer>,
    {
        for &orderer in &self.orderers {
            out.send(node_id(orderer), XovMsg::Broadcast(submission.clone()));
        }
    }

    fn arm_retry<A>(&self, out: &mut Out<A>)
    where
        A: Actor<Msg = XovMsg<C>, Timer = XovTimer>,
    {
        if let Some(range) = &self.await_commit {
            out.set_timer(XovTimer::Retry, range.clone());
        }
    }

    /// Starts the first transaction.
    pub fn on_start<A>(&self, out: &mut Out<A>) -> ClientState<C>
    where
        A: Actor<Msg = XovMsg<C>, Timer = XovTimer>,
    {
        self.propose(1, out);
        ClientState {
            current: 1,
            endorsements: BTreeMap::new(),
            submitted: 0,
            abandoned: 0,
            in_flight: None,
            committed_valid: 0,
            committed_invalid: 0,
        }
    }

    /// Collects endorsements; submits or abandons once every endorser answered.
    pub fn on_msg<A>(
        &self,
        state: &mut Cow<XovState<C>>,
        src: NodeId,
        msg: XovMsg<C>,
        out: &mut Out<A>,
    ) where
        A: Actor<Msg = XovMsg<C>, Timer = XovTimer>,
    {
        let Some(current) = state.as_client().map(|s| s.current) else {
            return;
        };
        let for_current = |tx: TxId| tx == TxId::new(self.signer.id(), current);
        match msg {
            XovMsg::Endorse(endorsement)
                if for_current(endorsement.value().tx)
                    && endorsement.signer() == src
                    && self.endorsers.contains(&src) =>
            {
                let client = client_mut(state.to_mut());
                client.endorsements.insert(src, endorsement);
                if client.endorsements.len() < self.endorsers.len() {
                    return;
                }
                let endorsements: Vec<Endorsement<C>> = std::mem::take(&mut client.endorsements)
                    .into_values()
                    .collect();
                client.current += 1;
                if endorsements
                    .iter()
                    .all(|e| e.value() == endorsements[0].value())
                {
                    client.submitted += 1;
                    let tx = Arc::new(XovTx {
                        proposal: self.proposal(current),
                        endorsements,
                    });
                    for copy in 0..self.copies {
                        self.broadcast(
                            Submission {
                                tx: tx.clone(),
                                copy,
                            },
                            out,
                        );
                    }
                    if self.await_commit.is_some() {
                        client.in_flight = Some((tx, self.copies));
                        return; // the next proposal waits for the commit report
                    }
                } else {
                    client.abandoned += 1;
                }
                self.propose(current + 1, out);
            }
            XovMsg::Refuse(tx, _) if for_current(tx) && self.endorsers.contains(&src) => {
                let client = client_mut(state.to_mut());
                client.endorsements.clear();
                client.current += 1;
                client.abandoned += 1;
                self.propose(current + 1, out);
            }
            XovMsg::Committed { tx, code }
                if self.endorsers.contains(&src)
                    && state
                        .as_client()
                        .and_then(|s| s.in_flight.as_ref())
                        .is_some_and(|(awaited, _)| awaited.id() == tx) =>
            {
                let client = client_mut(state.to_mut());
                client.in_flight = None;
                if code == Code::Valid {
                    client.committed_valid += 1;
                } else {
                    client.committed_invalid += 1;
                }
                self.propose(tx.seq + 1, out);
            }
            _ => {}
        }
    }

    /// The retry timer (deployed clients only): re-sends the proposal to endorsers that have
    /// not answered, or broadcasts the awaited transaction again as a new copy.
    pub fn on_retry<A>(&self, state: &mut Cow<XovState<C>>, out: &mut Out<A>)
    where
        A: Actor<Msg = XovMsg<C>, Timer = XovTimer>,
    {
        let Some(client) = state.as_client() else {
            return;
        };
        if let Some((tx, copies)) = &client.in_flight {
            let submission = Submission {
                tx: tx.clone(),
                copy: *copies,
            };
            let client = client_mut(state.to_mut());
            if let Some((_, copies)) = &mut client.in_flight {
                *copies = copies.saturating_add(1);
            }
            self.broadcast(submission, out);
            self.arm_retry(out);
        } else if client.current as usize <= self.workload.len() {
            let proposal = self.proposal(client.current);
            for endorser in self
                .endorsers
                .iter()
                .filter(|e| !client.endorsements.contains_key(e))
            {
                out.send(node_id(*endorser), XovMsg::Propose(proposal.clone()));
            }
            self.arm_retry(out);
        }
    }
}
