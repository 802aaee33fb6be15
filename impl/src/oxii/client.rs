//! The OXII client (card §3.1 with gap G8 decided): signs each transaction with its declared
//! read and write sets and application, sends it to the orderer, and accepts a result once
//! f_A + 1 distinct agents of the transaction's application reply with the same outcome — so
//! at least one correct agent vouches for it. One transaction is outstanding at a time (gap G9:
//! timestamps strictly increase), so the orderer's `last_ts` check makes a re-sent request
//! harmless.
//!
//! `retry` is the deployed client: on a timer it re-sends the outstanding request to every
//! orderer (the dissertation's convention, §6.4.1). The model's clients leave it off and arm no
//! timers.

use super::{Membership, MsgOf, NodeState, OxiiMsg, OxiiNode, OxiiTimer, Request, Rules};
use crate::component::node_id;
use crate::crypto::{Crypto, NodeId, Signer};
use quorate_spec::oxii::{AccessSets, DeclaredTx, TxResult};
use quorate_spec::{AppId, Application, Transaction, TxId};
use serde::{Deserialize, Serialize};
use stateright::actor::Out;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

/// One transaction of a client's workload, before it is numbered and signed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Work<Op> {
    /// The application it calls.
    pub app: AppId,
    /// Its operations.
    pub ops: Vec<Op>,
    /// Its declared sets.
    pub access: AccessSets,
}

/// A client's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Client<C: Crypto, Op> {
    /// Signs this client's requests (its own id only).
    pub signer: Signer<C>,
    /// The orderers; the first is the one it believes primary.
    pub orderers: Vec<NodeId>,
    /// Σ(A) and f_A, to count replies.
    pub membership: Arc<Membership<C>>,
    /// Its transactions, in order.
    pub workload: Vec<Work<Op>>,
    /// Deployed clients: re-send the outstanding request after a delay from this range (`None`
    /// in the model).
    pub retry: Option<Range<Duration>>,
    /// Send each new request to every orderer, not only the first. With orderers agreeing
    /// through PBFT a client cannot learn the current primary (executors reply, orderers do
    /// not), so after a view change a request sent to the first orderer alone would wait for
    /// a retry every time.
    pub multicast: bool,
}

/// A client's state.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ClientState {
    /// Timestamp of the outstanding transaction (1-based; past the workload = done).
    pub current: u64,
    /// Replies for it: outcome → the agents that sent it.
    pub replies: BTreeMap<TxResult, BTreeSet<NodeId>>,
    /// The accepted outcome of each finished transaction, in order.
    pub accepted: Vec<TxResult>,
}

impl ClientState {
    /// Transactions whose outcome this client accepted.
    pub fn finished(&self) -> u64 {
        self.accepted.len() as u64
    }
}

fn client_mut<C: Crypto, Op: quorate_spec::app::Data>(
    state: &mut NodeState<C, Op>,
) -> &mut ClientState {
    match state {
        NodeState::Client(s) => s,
        _ => unreachable!("a client's state is a client state"),
    }
}

impl<C: Crypto, Op: quorate_spec::app::Data> Client<C, Op> {
    /// The signed request of transaction `ts` (1-based).
    pub fn request(&self, ts: u64) -> Request<C, Op> {
        let work = &self.workload[(ts - 1) as usize];
        let tx = Transaction::new(TxId::new(self.signer.id(), ts), work.app, work.ops.clone());
        self.signer.sign(DeclaredTx {
            tx,
            access: work.access.clone(),
        })
    }

    /// Replies that accept an outcome: f_A + 1 distinct agents (card gap G8).
    pub fn replies_needed(&self, app: AppId) -> usize {
        let f = self
            .membership
            .faulty_agents
            .get(&app)
            .copied()
            .unwrap_or(0);
        crate::quorum::bft_weak_certificate(f)
    }

    fn submit<A, R>(&self, ts: u64, to: &[NodeId], out: &mut Out<OxiiNode<C, A, R>>)
    where
        A: Application<Op = Op>,
        R: Rules,
    {
        if ts as usize > self.workload.len() {
            return;
        }
        let request = self.request(ts);
        for &orderer in to {
            out.send(node_id(orderer), OxiiMsg::Submit(request.clone()));
        }
        if let Some(range) = &self.retry {
            out.set_timer(OxiiTimer::Retry, range.clone());
        }
    }

    /// Sends the first transaction to the primary orderer.
    pub fn on_start<A, R>(&self, out: &mut Out<OxiiNode<C, A, R>>) -> ClientState
    where
        A: Application<Op = Op>,
        R: Rules,
    {
        self.submit(1, self.first_targets(), out);
        ClientState {
            current: 1,
            ..ClientState::default()
        }
    }

    /// Counts a REPLY from an agent of the outstanding transaction's application; accepts on
    /// f_A + 1 matching ones and sends the next transaction.
    pub fn on_msg<A, R>(
        &self,
        state: &mut Cow<NodeState<C, Op>>,
        src: NodeId,
        msg: MsgOf<C, A>,
        out: &mut Out<OxiiNode<C, A, R>>,
    ) where
        A: Application<Op = Op>,
        R: Rules,
    {
        let OxiiMsg::Reply { tx, result } = msg else {
            return;
        };
        let Some(current) = state.as_client() else {
            return;
        };
        let ts = current.current;
        if ts as usize > self.workload.len() || tx != TxId::new(self.signer.id(), ts) {
            return; // a late reply for an accepted transaction, or not mine
        }
        let app = self.workload[(ts - 1) as usize].app;
        let known = current
            .replies
            .get(&result)
            .is_some_and(|s| s.contains(&src));
        if !self.membership.is_agent(src, app) || known {
            return;
        }
        let client = client_mut(state.to_mut());
        let voters = client.replies.entry(result.clone()).or_default();
        voters.insert(src);
        if voters.len() < R::client_replies(self.replies_needed(app)) {
            return;
        }
        client.replies.clear();
        client.accepted.push(result);
        client.current += 1;
        self.submit(ts + 1, self.first_targets(), out);
    }

    /// Where a request goes the first time: every orderer, or the one believed primary.
    fn first_targets(&self) -> &[NodeId] {
        if self.multicast {
            &self.orderers
        } else {
            &self.orderers[..1.min(self.orderers.len())]
        }
    }

    /// The retry timer (deployed clients only): re-sends the outstanding request to every
    /// orderer.
    pub fn on_retry<A, R>(
        &self,
        state: &mut Cow<NodeState<C, Op>>,
        out: &mut Out<OxiiNode<C, A, R>>,
    ) where
        A: Application<Op = Op>,
        R: Rules,
    {
        if let Some(current) = state.as_client() {
            self.submit(current.current, &self.orderers, out);
        }
    }
}
