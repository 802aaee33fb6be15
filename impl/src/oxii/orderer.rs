//! The ordering side (§5.3.1, §5.4.2): request admission, block building with the dependency
//! graph, and the model's orderer over the abstract sequencer.

use super::{Block, Membership, MsgOf, NodeState, OxiiNode, OxiiTimer, Request, Rules};
use crate::component::node_id;
use crate::crypto::{Crypto, NodeId};
use crate::pbft::Batch;
use quorate_spec::app::Data;
use quorate_spec::oxii::AccessSets;
use quorate_spec::{Application, ClientId, Sequencer};
use serde::{Deserialize, Serialize};
use stateright::actor::Out;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

/// Whether a request may enter a block: a valid client signature, a signer that is the
/// transaction's client, and access to its application (§5.3.1; gap G19: every orderer and
/// every executor checks). Returns the rule broken, for logs and tests.
pub fn admissible<C: Crypto, Op: serde::Serialize>(
    request: &Request<C, Op>,
    membership: &Membership<C>,
) -> Result<(), String> {
    let dtx = request.value();
    if !request.verify(&membership.keyring) || request.signer() != dtx.tx.client() {
        return Err(format!(
            "request {} is not signed by its client {}",
            dtx.tx.id,
            dtx.tx.client()
        ));
    }
    let allowed = membership
        .acl
        .get(&dtx.tx.client())
        .is_some_and(|apps| apps.contains(&dtx.tx.app));
    if !allowed {
        return Err(format!(
            "client {} may not submit for {} (access-control table)",
            dtx.tx.client(),
            dtx.tx.app
        ));
    }
    Ok(())
}

/// Builds a block from agreed requests: drops inadmissible ones (unless the rules skip the
/// check), keeps the agreed order, and computes G(B) from the declared sets.
pub fn build_block<C: Crypto, Op: serde::Serialize + Clone, R: Rules>(
    agreed: &[Request<C, Op>],
    membership: &Membership<C>,
) -> Block<C, Op> {
    let txs: Vec<Request<C, Op>> = agreed
        .iter()
        .filter(|r| !R::CHECK_ACCESS || admissible(r, membership).is_ok())
        .cloned()
        .collect();
    let sets: Vec<AccessSets> = txs.iter().map(|r| r.value().access.clone()).collect();
    let graph = R::build_graph(&sets);
    debug_assert_eq!(graph.n_tx as usize, txs.len());
    Block { txs, graph }
}

/// The ordering service over the abstract sequencer (DESIGN §3 "compose by specification"):
/// one correct orderer that orders the batches configured at start-up (the model's fixed-batch
/// configurations) and then requests taken in from clients, and sends each block to every
/// executor as a learner delivery. A PBFT- or Paxos-ordered deployment would replace the
/// sequencer with the consensus core; this one is deployed as a single sequencer node, as XOV's.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Orderer<C: Crypto, Op, R: Rules> {
    /// Its id.
    pub id: NodeId,
    /// Blocks ordered at start-up, each the requests of one block in agreed order (empty when
    /// every request comes from clients).
    pub batches: Vec<Vec<Request<C, Op>>>,
    /// Who is who.
    pub membership: std::sync::Arc<Membership<C>>,
    /// A block is cut as soon as this many requests wait (the card's `MAX_TXS`).
    pub max_block: usize,
    /// When a request waits in a block not yet full, the `Cut` timer is armed with this delay
    /// (the card's `MAX_WAIT`; the model fires it at any time).
    pub max_wait: Range<Duration>,
    /// The rules.
    pub rules: std::marker::PhantomData<R>,
}

/// The orderer's state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct OrdererState<C: Crypto, Op: Data> {
    /// Every agreed block, in order, and what each executor was sent.
    pub log: Arc<Sequencer<Block<C, Op>>>,
    /// Requests taken in, not yet in a block, in arrival order (the ordering nondeterminism).
    pub waiting: Vec<Request<C, Op>>,
    /// `last_ts[c]` (card gap G9): the highest client timestamp put into a block, so a
    /// re-sent request is never ordered twice.
    pub last_ts: BTreeMap<ClientId, u64>,
}

fn orderer_mut<C: Crypto, Op: Data>(state: &mut NodeState<C, Op>) -> &mut OrdererState<C, Op> {
    match state {
        NodeState::Orderer(s) => s,
        _ => unreachable!("the orderer's state is an orderer state"),
    }
}

impl<C: Crypto, Op: Data, R: Rules> Orderer<C, Op, R> {
    /// Orders every configured batch as a block and sends NEWBLOCK n to each executor.
    pub fn on_start<A>(&self, out: &mut Out<OxiiNode<C, A, R>>) -> OrdererState<C, Op>
    where
        A: Application<Op = Op>,
    {
        let mut state = OrdererState {
            log: Arc::new(Sequencer::new()),
            waiting: Vec::new(),
            last_ts: BTreeMap::new(),
        };
        for batch in &self.batches {
            let block = build_block::<C, Op, R>(batch, &self.membership);
            self.order(&mut state, block, out);
        }
        state
    }

    /// Appends `block` to the agreed log and delivers it to every executor.
    fn order<A>(
        &self,
        state: &mut OrdererState<C, Op>,
        block: Block<C, Op>,
        out: &mut Out<OxiiNode<C, A, R>>,
    ) where
        A: Application<Op = Op>,
    {
        let sequencer = Arc::make_mut(&mut state.log);
        sequencer.submit(block.clone());
        sequencer
            .order(block.clone())
            .expect("a freshly submitted block is orderable");
        let seq = sequencer.log.len() as u64;
        let msg = super::OxiiMsg::NewBlock {
            seq,
            batch: Batch::Requests(vec![block]),
        };
        for &executor in &self.membership.executors {
            out.send(node_id(executor), msg.clone());
            sequencer
                .deliver(executor, seq as usize)
                .expect("delivery points only grow");
        }
    }

    /// REQUEST (§5.4.2): queues a request; cuts a block once `max_block` wait, else arms the
    /// cut timer for the block's first request. Admission is checked when the block is built, on the agreed sequence.
    pub fn on_msg<A>(
        &self,
        state: &mut Cow<NodeState<C, Op>>,
        msg: MsgOf<C, A>,
        out: &mut Out<OxiiNode<C, A, R>>,
    ) where
        A: Application<Op = Op>,
    {
        let super::OxiiMsg::Submit(request) = msg else {
            return; // orderers take only requests
        };
        let Some(current) = state.as_orderer() else {
            return;
        };
        let id = request.value().tx.id;
        let stale = current
            .last_ts
            .get(&id.client)
            .is_some_and(|&ts| id.seq <= ts);
        if stale || current.waiting.contains(&request) {
            return; // a re-sent request already ordered or waiting (gap G9)
        }
        let orderer = orderer_mut(state.to_mut());
        orderer.waiting.push(request);
        if orderer.waiting.len() >= self.max_block {
            self.cut(state, out);
        } else if orderer.waiting.len() == 1 {
            // Armed by a block's first request only: re-arming on every arrival would let a
            // steady stream of requests postpone the cut indefinitely.
            out.set_timer(OxiiTimer::Cut, self.max_wait.clone());
        }
    }

    /// Cuts a block of every waiting request: drops requests whose timestamp is not above
    /// their client's last ordered one, builds the block (admission, graph) and orders it.
    pub fn cut<A>(&self, state: &mut Cow<NodeState<C, Op>>, out: &mut Out<OxiiNode<C, A, R>>)
    where
        A: Application<Op = Op>,
    {
        if state.as_orderer().is_none_or(|s| s.waiting.is_empty()) {
            return;
        }
        let orderer = orderer_mut(state.to_mut());
        let mut batch = Vec::new();
        for request in std::mem::take(&mut orderer.waiting) {
            let id = request.value().tx.id;
            let last = orderer.last_ts.entry(id.client).or_insert(0);
            if id.seq > *last {
                *last = id.seq;
                batch.push(request);
            }
        }
        let block = build_block::<C, Op, R>(&batch, &self.membership);
        if !block.txs.is_empty() {
            self.order(orderer, block, out);
        }
    }
}
