//! The Paxos client actor: submits its workload one request at a time, signed, to the replica
//! it believes leads; on a timeout it broadcasts the request to every replica (seed 001 §6.3.1)
//! and takes the first reply (card decision 8: crash-faulty replicas reply only with results
//! of committed executions).

use super::{NodeState, PaxosMsg, PaxosTimer, Request};
use crate::component::node_id;
use crate::crypto::{Crypto, NodeId, Signer};
use quorate_spec::{AppId, Application, Transaction, TxId};
use serde::{Deserialize, Serialize};
use stateright::actor::Out;
use std::borrow::Cow;
use std::ops::Range;
use std::time::Duration;

/// A client's configuration: who it is, whom it talks to, and its workload.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Client<C: Crypto, A: Application> {
    /// Signs this client's requests (its own id only).
    pub signer: Signer<C>,
    /// Every replica; the first is the initial leader.
    pub replicas: Vec<NodeId>,
    /// The application its transactions are for.
    pub app: AppId,
    /// The operations of each transaction, submitted in order.
    pub workload: Vec<Vec<A::Op>>,
    /// How long to wait for a reply before broadcasting.
    pub retry_after: Range<Duration>,
}

/// A client's state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ClientState {
    /// Transactions completed; the next one to submit has sequence number `completed + 1`.
    pub completed: u32,
    /// Broadcast retries of the outstanding transaction.
    pub retries: u8,
    /// The replica that answered last: probably the leader.
    pub leader_hint: NodeId,
}

impl<C: Crypto, A: Application> Client<C, A> {
    /// This client's id.
    pub fn id(&self) -> NodeId {
        self.signer.id()
    }

    /// The signed request for the transaction with sequence number `seq` (1-based).
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

    fn outstanding(&self, state: &ClientState) -> Option<u64> {
        let next = u64::from(state.completed) + 1;
        (next as usize <= self.workload.len()).then_some(next)
    }

    /// Submits the first transaction.
    pub fn on_start<R: super::Rules>(
        &self,
        out: &mut Out<super::PaxosNode<C, A, R>>,
    ) -> NodeState<C, A::Op, A::Output> {
        let state = ClientState {
            completed: 0,
            retries: 0,
            leader_hint: self.replicas[0],
        };
        if let Some(seq) = self.outstanding(&state) {
            out.send(
                node_id(state.leader_hint),
                PaxosMsg::Request(self.request(seq)),
            );
            out.set_timer(PaxosTimer::ClientRetry, self.retry_after.clone());
        }
        NodeState::Client(state)
    }

    /// Takes the reply to the outstanding transaction and submits the next.
    pub fn on_msg<R: super::Rules>(
        &self,
        state: &mut Cow<NodeState<C, A::Op, A::Output>>,
        src: NodeId,
        msg: PaxosMsg<C, A::Op, A::Output>,
        out: &mut Out<super::PaxosNode<C, A, R>>,
    ) {
        let PaxosMsg::Reply { tx, .. } = msg else {
            return;
        };
        let Some(current) = state.as_client() else {
            return;
        };
        let expected = self.outstanding(current).map(|seq| TxId {
            client: self.id(),
            seq,
        });
        if expected != Some(tx) || !self.replicas.contains(&src) {
            return; // a stale duplicate, or not from a replica
        }
        let NodeState::Client(client) = state.to_mut() else {
            unreachable!("checked above")
        };
        client.completed += 1;
        client.retries = 0;
        client.leader_hint = src;
        match self.outstanding(client) {
            Some(seq) => {
                out.send(node_id(src), PaxosMsg::Request(self.request(seq)));
                out.set_timer(PaxosTimer::ClientRetry, self.retry_after.clone());
            }
            None => out.cancel_timer(PaxosTimer::ClientRetry),
        }
    }

    /// Broadcasts the outstanding transaction again.
    pub fn on_timeout<R: super::Rules>(
        &self,
        state: &mut Cow<NodeState<C, A::Op, A::Output>>,
        timer: &PaxosTimer,
        out: &mut Out<super::PaxosNode<C, A, R>>,
    ) {
        if *timer != PaxosTimer::ClientRetry {
            return;
        }
        let Some(current) = state.as_client() else {
            return;
        };
        let Some(seq) = self.outstanding(current) else {
            return;
        };
        let NodeState::Client(client) = state.to_mut() else {
            unreachable!("checked above")
        };
        client.retries = client.retries.saturating_add(1);
        let request = self.request(seq);
        for &replica in &self.replicas {
            out.send(node_id(replica), PaxosMsg::Request(request.clone()));
        }
        out.set_timer(PaxosTimer::ClientRetry, self.retry_after.clone());
    }
}
