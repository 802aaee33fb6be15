//! The PBFT client actor: signs each request, sends it to the primary of view 0, broadcasts it
//! to every replica on a timeout (card §5.4), and accepts a result only when f+1 distinct
//! replicas sent matching signed replies (seed §2.3), so at least one correct replica
//! executed it.

use super::rules::Rules;
use super::{NodeState, PbftMsg, PbftNode, PbftTimer, Request};
use crate::component::node_id;
use crate::crypto::{Crypto, Keyring, NodeId, Signer};
use crate::quorum;
use quorate_spec::{AppId, Application, Transaction, TxId};
use serde::{Deserialize, Serialize};
use stateright::actor::Out;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

/// A client's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Client<C: Crypto, A: Application, R> {
    /// Signs this client's requests (its own id only).
    pub signer: Signer<C>,
    /// Verifies replies.
    pub keyring: Arc<Keyring<C>>,
    /// Every replica.
    pub replicas: Vec<NodeId>,
    /// Where the first attempt goes: the primary of view 0.
    pub primary: NodeId,
    /// The application its transactions are for.
    pub app: AppId,
    /// The operations of each transaction, submitted in order.
    pub workload: Vec<Vec<A::Op>>,
    /// How long to wait before broadcasting.
    pub retry_after: Range<Duration>,
    /// Rules (the reply threshold).
    pub _rules: PhantomData<fn() -> R>,
}

/// A client's state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ClientState<Out> {
    /// Broadcast retries of the outstanding transaction.
    pub retries: u8,
    /// Replies to the outstanding transaction so far, by replica; cleared on acceptance.
    pub replies: BTreeMap<NodeId, Out>,
    /// Results accepted, in order: transaction `i` has sequence number `i + 1`.
    pub accepted: Vec<(TxId, Out)>,
}

type State<C, A> = NodeState<C, <A as Application>::Op, <A as Application>::Output>;

impl<C: Crypto, A: Application, R: Rules> Client<C, A, R> {
    /// This client's id.
    pub fn id(&self) -> NodeId {
        self.signer.id()
    }

    /// The signed request for transaction `seq` (1-based).
    pub fn request(&self, seq: u64) -> Request<C, A::Op> {
        let ops = self.workload[(seq - 1) as usize].clone();
        let tx = Transaction::new(
            TxId {
                client: self.id(),
                seq,
            },
            self.app,
            ops,
        );
        self.signer.sign(tx)
    }

    fn outstanding(&self, state: &ClientState<A::Output>) -> Option<u64> {
        let next = state.accepted.len() as u64 + 1;
        (next as usize <= self.workload.len()).then_some(next)
    }

    /// Submits the first transaction.
    pub fn on_start(&self, out: &mut Out<PbftNode<C, A, R>>) -> ClientState<A::Output> {
        let state = ClientState {
            retries: 0,
            replies: BTreeMap::new(),
            accepted: Vec::new(),
        };
        if let Some(seq) = self.outstanding(&state) {
            out.send(node_id(self.primary), PbftMsg::Request(self.request(seq)));
            out.set_timer(PbftTimer::ClientRetry, self.retry_after.clone());
        }
        state
    }

    /// Counts a signed reply; with f+1 matching ones, accepts and submits the next request.
    pub fn on_msg(
        &self,
        state: &mut Cow<State<C, A>>,
        _src: NodeId,
        msg: PbftMsg<C, A::Op, A::Output>,
        out: &mut Out<PbftNode<C, A, R>>,
    ) {
        let PbftMsg::Reply(signed) = msg else {
            return;
        };
        let Some(current) = state.as_client() else {
            return;
        };
        let replier = signed.signer();
        let expected = self.outstanding(current).map(|seq| TxId {
            client: self.id(),
            seq,
        });
        let counts = expected == Some(signed.value().tx)
            && self.replicas.contains(&replier)
            && !current.replies.contains_key(&replier)
            && signed.verify(&self.keyring);
        if !counts {
            return; // stale, duplicate, or not a replica's
        }
        let NodeState::Client(client) = state.to_mut() else {
            unreachable!("checked above")
        };
        let reply = signed.into_value();
        client.replies.insert(replier, reply.output.clone());
        let matching = client
            .replies
            .values()
            .filter(|o| **o == reply.output)
            .count();
        let f = quorum::bft_max_faults(self.replicas.len());
        if matching < R::reply_votes(f) {
            return;
        }
        client.accepted.push((reply.tx, reply.output));
        client.replies.clear();
        client.retries = 0;
        match self.outstanding(client) {
            Some(seq) => {
                out.send(node_id(self.primary), PbftMsg::Request(self.request(seq)));
                out.set_timer(PbftTimer::ClientRetry, self.retry_after.clone());
            }
            None => out.cancel_timer(PbftTimer::ClientRetry),
        }
    }

    /// Broadcasts the outstanding request to every replica.
    pub fn on_timeout(
        &self,
        state: &mut Cow<State<C, A>>,
        timer: &PbftTimer,
        out: &mut Out<PbftNode<C, A, R>>,
    ) {
        if *timer != PbftTimer::ClientRetry {
            return;
        }
        let Some(seq) = state.as_client().and_then(|c| self.outstanding(c)) else {
            return;
        };
        let NodeState::Client(client) = state.to_mut() else {
            unreachable!("checked above")
        };
        client.retries = client.retries.saturating_add(1);
        let request = self.request(seq);
        for &replica in &self.replicas {
            out.send(node_id(replica), PbftMsg::Request(request.clone()));
        }
        out.set_timer(PbftTimer::ClientRetry, self.retry_after.clone());
    }
}
