//! The executor (§5.3.2, §5.4.3; the card's normative algorithm §5.5): accepts a block through
//! the PBFT learner, executes its application's transactions along the graph through the pool,
//! multicasts results on a cross-application cut or at the end (Alg. 7), commits each
//! transaction on τ(A) matching results from distinct agents (Alg. 8), applies committed results
//! in graph order (gap G3) and appends the block once every transaction is applied.

use super::{admissible, Block, Membership, MsgOf, NodeState, OxiiMsg, OxiiNode, Rules};
use crate::component::node_id;
use crate::crypto::{Crypto, NodeId};
use crate::pbft::{Batch, Learner, LearnerState, Seq};
use quorate_spec::app::Data;
use quorate_spec::oxii::{apply_result, AccessSets, TxResult};
use quorate_spec::{AppId, Application, KvState, Write};
use serde::{Deserialize, Serialize};
use stateright::actor::Out;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::sync::Arc;

/// One appended block: the block and each transaction's committed outcome (card gap G17).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound(serialize = "Op: Serialize", deserialize = "Op: Deserialize<'de>"))]
pub struct LedgerEntry<C: Crypto, Op> {
    /// Block number n.
    pub seq: Seq,
    /// The block with its graph.
    pub block: Arc<Block<C, Op>>,
    /// The committed result of each transaction, by position.
    pub outcomes: Vec<TxResult>,
    /// The order results were applied in (kept so the apply order stays checkable).
    pub apply_log: Vec<u32>,
    /// Digest of the datastore right after the block (so ledgers that agree on outcomes but
    /// not on state, as under the seed-literal apply rule, are told apart by a deployment).
    pub state_digest: [u8; 32],
}

/// The executor's work on the block in service (one block at a time, card gap G6).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound(serialize = "Op: Serialize", deserialize = "Op: Deserialize<'de>"))]
pub struct BlockRun<C: Crypto, Op> {
    /// Block number n.
    pub seq: Seq,
    /// The block.
    pub block: Arc<Block<C, Op>>,
    /// Pre(x) for every position, derived from the block's graph once (readiness is checked
    /// on every step, and a full-contention block of 200 has ~20,000 edges).
    pub preds: Arc<Vec<Vec<u32>>>,
    /// W_e: my transactions not yet started.
    pub pending: BTreeSet<u32>,
    /// Sent to the pool, result not back yet.
    pub running: BTreeSet<u32>,
    /// My own results ("executed by e"), never cleared within the block (gap G4).
    pub executed: BTreeMap<u32, TxResult>,
    /// X_e of Alg. 7: my results not yet multicast.
    pub outbox: Vec<(u32, TxResult)>,
    /// R_e(x): who vouched for which result.
    pub votes: BTreeMap<u32, BTreeMap<TxResult, BTreeSet<NodeId>>>,
    /// C_e with the committed result.
    pub decided: BTreeMap<u32, TxResult>,
    /// Positions in the order their results were written to the datastore.
    pub apply_log: Vec<u32>,
    /// The datastore when the block started: what a read sees when no predecessor wrote the key.
    pub base: KvState,
}

/// COMMITs received for one block before it is in service: (sender, results).
pub type EarlyCommits = BTreeSet<(NodeId, Vec<(u32, TxResult)>)>;

/// An executor's state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ExecutorState<C: Crypto, Op: Data> {
    /// The learner in front of the ordering service (f_o + 1 matching NEWBLOCKs, §5.4.3).
    pub learner: LearnerState<Block<C, Op>>,
    /// Accepted blocks waiting for their predecessor to be appended.
    pub accepted: BTreeMap<Seq, Arc<Block<C, Op>>>,
    /// The block in service.
    pub run: Option<BlockRun<C, Op>>,
    /// COMMITs for blocks not yet in service, by block: (sender, results).
    pub early: BTreeMap<Seq, EarlyCommits>,
    /// The blockchain state (all applications, §2.5).
    pub state: KvState,
    /// The ledger.
    pub ledger: Vec<LedgerEntry<C, Op>>,
}

impl<C: Crypto, Op: Data> ExecutorState<C, Op> {
    /// The number of the next block to append.
    pub fn next_seq(&self) -> Seq {
        self.ledger.len() as Seq + 1
    }
}

/// An executor: an agent of some applications (possibly none: then it only applies results).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Executor<C: Crypto, A: Application, R: Rules> {
    /// Its id.
    pub id: NodeId,
    /// Σ, τ, the ACL and the keys.
    pub membership: Arc<Membership<C>>,
    /// Its learner over the orderers.
    pub learner: Learner,
    /// The executor pool's workers it sends `Execute` to (one in the model; in deployment a
    /// transaction goes to worker `(n + position) mod len`, so a block runs on all of them).
    pub pools: Vec<NodeId>,
    /// Whether it sends REPLY to clients for its applications' transactions after appending
    /// a block (off in the fixed-batch configurations, which have no client actors).
    pub reply_to_clients: bool,
    /// The genesis datastore.
    pub genesis: KvState,
    /// Ties the application and the rules.
    pub marker: PhantomData<(A, R)>,
}

type Outbox<C, A, R> = Out<OxiiNode<C, A, R>>;

impl<C: Crypto, A: Application, R: Rules> Executor<C, A, R> {
    /// The initial state.
    pub fn on_start(&self) -> ExecutorState<C, A::Op> {
        ExecutorState {
            learner: self.learner.init(0),
            accepted: BTreeMap::new(),
            run: None,
            early: BTreeMap::new(),
            state: self.genesis.clone(),
            ledger: Vec::new(),
        }
    }

    /// Handles one message; leaves `state` borrowed when the message changes nothing.
    pub fn on_msg(
        &self,
        state: &mut Cow<NodeState<C, A::Op>>,
        src: NodeId,
        msg: MsgOf<C, A>,
        out: &mut Outbox<C, A, R>,
    ) {
        let Some(current) = state.as_executor() else {
            return;
        };
        if !self.relevant(current, src, &msg) {
            return;
        }
        let NodeState::Executor(es) = state.to_mut() else {
            unreachable!("checked above");
        };
        match msg {
            OxiiMsg::NewBlock { seq, batch } => {
                for (seq, batch) in self.learner.on_delivery(&mut es.learner, src, seq, batch) {
                    if let Batch::Requests(mut blocks) = batch {
                        let block = blocks.pop().expect("relevant() checked one block");
                        es.accepted.insert(seq, Arc::new(block));
                    }
                }
            }
            OxiiMsg::ExecCommit { seq, results } => {
                if es.run.as_ref().is_some_and(|run| run.seq == seq) {
                    for (index, result) in results {
                        self.add_vote(es, index, result, src);
                    }
                } else {
                    es.early.entry(seq).or_default().insert((src, results));
                }
            }
            OxiiMsg::Executed { index, result, .. } => self.exec_done(es, index, result, out),
            OxiiMsg::Execute { .. }
            | OxiiMsg::Submit(_)
            | OxiiMsg::Consensus(_)
            | OxiiMsg::Reply { .. } => {
                unreachable!("relevant() drops it")
            }
        }
        self.progress(es, out);
    }

    /// Whether `msg` can change anything (so an irrelevant one is a true no-op).
    fn relevant(&self, es: &ExecutorState<C, A::Op>, src: NodeId, msg: &MsgOf<C, A>) -> bool {
        match msg {
            OxiiMsg::NewBlock { seq, batch } => {
                // Card gap G16: recompute the graph rather than trust the orderers.
                let well_formed = match batch {
                    Batch::Requests(blocks) => {
                        blocks.len() == 1 && blocks[0].graph == R::build_graph(&access(&blocks[0]))
                    }
                    Batch::NoOp => false,
                };
                self.membership.orderers.contains(&src)
                    && *seq >= es.learner.next_seq
                    && well_formed
            }
            OxiiMsg::ExecCommit { seq, .. } => {
                self.membership.executors.contains(&src) && *seq >= es.next_seq()
            }
            OxiiMsg::Executed { seq, index, .. } => {
                self.pools.contains(&src)
                    && es
                        .run
                        .as_ref()
                        .is_some_and(|run| run.seq == *seq && run.running.contains(index))
            }
            OxiiMsg::Execute { .. }
            | OxiiMsg::Submit(_)
            | OxiiMsg::Consensus(_)
            | OxiiMsg::Reply { .. } => false,
        }
    }

    /// Starts blocks, runs ready transactions, applies and appends, until nothing changes.
    fn progress(&self, es: &mut ExecutorState<C, A::Op>, out: &mut Outbox<C, A, R>) {
        loop {
            if es.run.is_none() && !self.start_next(es) {
                return;
            }
            self.schedule(es, out);
            if R::APPLY_IN_GRAPH_ORDER {
                apply_in_order(es);
            }
            let run = es.run.as_ref().expect("a block is in service");
            if run.apply_log.len() < run.block.txs.len() {
                return;
            }
            let run = es.run.take().expect("checked");
            let outcomes: Vec<TxResult> = (0..run.block.txs.len() as u32)
                .map(|x| run.decided[&x].clone())
                .collect();
            if self.reply_to_clients {
                self.reply(&run.block, &outcomes, out);
            }
            es.ledger.push(LedgerEntry {
                seq: run.seq,
                block: run.block,
                outcomes,
                apply_log: run.apply_log,
                state_digest: crate::trace::digest(&es.state),
            });
        }
    }

    /// REPLY (card gap G8): the outcome of every transaction of my applications, to its
    /// client. Honest orderers admit only signed requests, so the client id is the signer's
    /// (a request that slipped through anyway gets its `Abort` sent to the id it claims).
    fn reply(&self, block: &Block<C, A::Op>, outcomes: &[TxResult], out: &mut Outbox<C, A, R>) {
        for (request, result) in block.txs.iter().zip(outcomes) {
            let tx = &request.value().tx;
            if self.membership.is_agent(self.id, tx.app) {
                let reply = OxiiMsg::Reply {
                    tx: tx.id,
                    result: result.clone(),
                };
                out.send(node_id(tx.client()), reply);
            }
        }
    }

    /// Puts the next accepted block in service and replays COMMITs that arrived early.
    fn start_next(&self, es: &mut ExecutorState<C, A::Op>) -> bool {
        let seq = es.next_seq();
        let Some(block) = es.accepted.remove(&seq) else {
            return false;
        };
        let pending = (0..block.txs.len() as u32)
            .filter(|&x| self.membership.is_agent(self.id, app_of(&block, x)))
            .collect();
        let mut preds = vec![Vec::new(); block.txs.len()];
        for &(u, v) in &block.graph.edges {
            preds[v as usize].push(u);
        }
        es.run = Some(BlockRun {
            seq,
            preds: Arc::new(preds),
            block,
            pending,
            running: BTreeSet::new(),
            executed: BTreeMap::new(),
            outbox: Vec::new(),
            votes: BTreeMap::new(),
            decided: BTreeMap::new(),
            apply_log: Vec::new(),
            base: es.state.clone(),
        });
        for (src, results) in es.early.remove(&seq).unwrap_or_default() {
            for (index, result) in results {
                self.add_vote(es, index, result, src);
            }
        }
        true
    }

    /// Alg. 6: sends every ready transaction of mine to the pool, reading its inputs by the
    /// versioned-read rule; an inadmissible request yields `Abort` without running (gap G19).
    fn schedule(&self, es: &mut ExecutorState<C, A::Op>, out: &mut Outbox<C, A, R>) {
        loop {
            let run = es.run.as_ref().expect("a block is in service");
            let ready = run
                .pending
                .iter()
                .copied()
                .find(|&x| !run.running.contains(&x) && self.ready(run, x));
            let Some(x) = ready else {
                return;
            };
            let request = &run.block.txs[x as usize];
            if admissible(request, &self.membership).is_err() {
                es.run.as_mut().expect("checked").running.insert(x);
                self.exec_done(es, x, TxResult::Abort, out);
                continue;
            }
            let inputs = versioned_inputs(run, x);
            let msg = OxiiMsg::Execute {
                seq: run.seq,
                index: x,
                tx: request.value().clone(),
                inputs,
            };
            let worker = self.pools[(run.seq as usize + x as usize) % self.pools.len()];
            es.run.as_mut().expect("checked").running.insert(x);
            out.send(node_id(worker), msg);
        }
    }

    /// "Pre(x) ⊆ C_e ∪ X_e": every predecessor committed, or executed by me.
    fn ready(&self, run: &BlockRun<C, A::Op>, x: u32) -> bool {
        let app = app_of(&run.block, x);
        run.preds[x as usize].iter().all(|&y| {
            run.decided.contains_key(&y)
                || run.executed.contains_key(&y)
                || (!R::WAIT_FOREIGN_PREDECESSORS && app_of(&run.block, y) != app)
        })
    }

    /// Alg. 7: records my result, counts it as my vote (gap G11) and multicasts the outbox when
    /// x has a successor in another application (the cut) or my work on the block is done.
    fn exec_done(
        &self,
        es: &mut ExecutorState<C, A::Op>,
        x: u32,
        result: TxResult,
        out: &mut Outbox<C, A, R>,
    ) {
        let run = es.run.as_mut().expect("a block is in service");
        debug_assert!(
            run.running.contains(&x),
            "a result for a transaction not running"
        );
        run.running.remove(&x);
        run.pending.remove(&x);
        run.executed.insert(x, result.clone());
        run.outbox.push((x, result.clone()));
        let app = app_of(&run.block, x);
        let cut = run
            .block
            .graph
            .successors(x)
            .any(|y| app_of(&run.block, y) != app);
        let last = run.pending.is_empty() && run.running.is_empty();
        if cut || last {
            let results = std::mem::take(&mut run.outbox);
            let seq = run.seq;
            for &peer in self.membership.executors.iter().filter(|&&p| p != self.id) {
                let msg = OxiiMsg::ExecCommit {
                    seq,
                    results: results.clone(),
                };
                out.send(node_id(peer), msg);
            }
        }
        self.add_vote(es, x, result, self.id);
    }

    /// Alg. 8: counts a vote from an agent of x's application; commits x exactly once when a
    /// result reaches the threshold (gap G14).
    fn add_vote(&self, es: &mut ExecutorState<C, A::Op>, x: u32, result: TxResult, src: NodeId) {
        let run = es.run.as_mut().expect("a block is in service");
        if x as usize >= run.block.txs.len()
            || !self.membership.is_agent(src, app_of(&run.block, x))
        {
            return; // the validity filter of Alg. 8: only agents of app(x) count
        }
        let voters = run
            .votes
            .entry(x)
            .or_default()
            .entry(result.clone())
            .or_default();
        voters.insert(src);
        let threshold = R::commit_threshold(self.membership.tau_of(app_of(&run.block, x)));
        if run.decided.contains_key(&x) || voters.len() < threshold {
            return;
        }
        run.decided.insert(x, result.clone());
        if !R::APPLY_IN_GRAPH_ORDER {
            run.apply_log.push(x);
            apply_result(&mut es.state, &result);
        }
    }
}

/// Applies decided results in block order (a linear extension of G, card §5.5).
fn apply_in_order<C: Crypto, Op: Data>(es: &mut ExecutorState<C, Op>) {
    let run = es.run.as_mut().expect("a block is in service");
    while let Some(result) = run.decided.get(&(run.apply_log.len() as u32)) {
        apply_result(&mut es.state, result);
        run.apply_log.push(run.apply_log.len() as u32);
    }
}

/// The application of block position `x`.
fn app_of<C: Crypto, Op>(block: &Block<C, Op>, x: u32) -> AppId {
    block.txs[x as usize].value().tx.app
}

/// The declared sets of a block's transactions, in order.
pub fn access<C: Crypto, Op>(block: &Block<C, Op>) -> Vec<AccessSets> {
    block.txs.iter().map(|r| r.value().access.clone()).collect()
}

/// The versioned read (card §5.5): each declared key's value as the latest predecessor that
/// wrote it left it (committed result, else my own), else as the block started. The graph is
/// not transitively reduced, so every earlier writer of the key is a direct predecessor.
fn versioned_inputs<C: Crypto, Op>(run: &BlockRun<C, Op>, x: u32) -> KvState {
    let dtx = run.block.txs[x as usize].value();
    let mut inputs = KvState::new();
    for key in dtx.access.touched() {
        let mut value = run.base.get(&key).copied();
        for y in &run.preds[x as usize] {
            let source = run.decided.get(y).or_else(|| run.executed.get(y));
            if let Some(TxResult::Writes(writes)) = source {
                match writes.get(&key) {
                    Some(Write::Set(v)) => value = Some(*v),
                    Some(Write::Delete) => value = None,
                    Some(Write::Delta(_)) | None => {}
                }
            }
        }
        if let Some(v) = value {
            inputs.insert(key, v);
        }
    }
    inputs
}
