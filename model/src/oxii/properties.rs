//! OXII's properties over model states, bound to the predicates of `quorate_spec::oxii`.

use super::{OxiiSystem, State};
use crate::Envelope;
use quorate_impl::crypto::{NodeId, Symbolic};
use quorate_impl::oxii::executor::access;
use quorate_impl::oxii::{
    admissible, Block, ExecutorState, Membership, MsgOf, NodeState, OxiiMsg, OxiiNode, Rules,
};
use quorate_impl::pbft::Seq;
use quorate_spec::oxii::{
    edges_applied_in_order, execute_declared, threshold_evidence, AccountOp, Accounts, DepGraph,
    SerialRun, TxResult,
};
use quorate_spec::KvState;
use std::collections::{BTreeMap, BTreeSet};

/// Auxiliary history: which agent sent which result for which transaction (never visible to
/// actors; the independent evidence for `threshold`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct OxiiHistory {
    /// (block, position) → result → senders.
    pub sent: BTreeMap<(Seq, u32), BTreeMap<TxResult, BTreeSet<NodeId>>>,
}

type ExecState = ExecutorState<Symbolic, AccountOp>;
type OxiiBlock = Block<Symbolic, AccountOp>;

/// Records every result an executor (correct or not) sends.
pub(super) fn record_results(
    history: &OxiiHistory,
    env: Envelope<&MsgOf<Symbolic, Accounts>>,
) -> Option<OxiiHistory> {
    let OxiiMsg::ExecCommit { seq, results } = env.msg else {
        return None;
    };
    let src = usize::from(env.src) as NodeId;
    let new = |(index, result): &&(u32, TxResult)| {
        !history
            .sent
            .get(&(*seq, *index))
            .and_then(|by_result| by_result.get(result))
            .is_some_and(|senders| senders.contains(&src))
    };
    if !results.iter().any(|r| new(&r)) {
        return None;
    }
    let mut history = history.clone();
    for (index, result) in results {
        let senders = history.sent.entry((*seq, *index)).or_default();
        senders.entry(result.clone()).or_default().insert(src);
    }
    Some(history)
}

/// The correct executors with their ids.
pub(super) fn executors<R: Rules>(state: &State<R>) -> impl Iterator<Item = (NodeId, &ExecState)> {
    state
        .actors()
        .enumerate()
        .filter_map(|(i, s)| s.as_executor().map(|e| (i as NodeId, e)))
}

/// The agreed blocks: the sequencer's log as the orderer (actor 0) holds it; with orderers
/// agreeing through PBFT, the block each number carries at the first correct executor that
/// learned it, for consecutive numbers from 1 (`validity` compares every executor's ledger with
/// these, so executors learning different blocks under one number break it).
fn agreed<R: Rules>(state: &State<R>) -> Vec<&OxiiBlock> {
    if let NodeState::Orderer(orderer) = state.actor(0) {
        return orderer.log.log.iter().collect();
    }
    let mut learned: BTreeMap<Seq, &OxiiBlock> = BTreeMap::new();
    for (_, e) in executors::<R>(state) {
        let appended = e.ledger.iter().map(|entry| (entry.seq, &*entry.block));
        let running = e.run.iter().map(|run| (run.seq, &*run.block));
        let accepted = e.accepted.iter().map(|(seq, block)| (*seq, &**block));
        for (seq, block) in appended.chain(running).chain(accepted) {
            learned.entry(seq).or_insert(block);
        }
    }
    (1..).map_while(|seq| learned.get(&seq).copied()).collect()
}

fn membership<R: Rules>(model: &OxiiSystem<R>) -> &Membership<Symbolic> {
    match &model.actors[0] {
        OxiiNode::Orderer(orderer) => &orderer.membership,
        OxiiNode::PbftOrderer(orderer) => &orderer.membership,
        _ => unreachable!("actor 0 is an orderer"),
    }
}

fn contracts<R: Rules>(model: &OxiiSystem<R>) -> &BTreeMap<quorate_spec::AppId, Accounts> {
    model
        .actors
        .iter()
        .find_map(|actor| match actor {
            OxiiNode::Pool(pool) => Some(&pool.contracts),
            _ => None,
        })
        .expect("every configuration has the pool")
}

/// ref_result and ref_state of every agreed block: serial execution in block order, an
/// inadmissible request counting as an abort (gap G19).
fn reference<R: Rules>(model: &OxiiSystem<R>, state: &State<R>) -> Vec<SerialRun> {
    let membership = membership(model);
    let contracts = contracts(model);
    let mut current = KvState::new();
    agreed(state)
        .iter()
        .map(|block| {
            let mut results = Vec::with_capacity(block.txs.len());
            for request in &block.txs {
                let dtx = request.value();
                let result = match contracts.get(&dtx.tx.app) {
                    Some(app) if admissible(request, membership).is_ok() => {
                        execute_declared(app, &current, dtx)
                    }
                    _ => TxResult::Abort,
                };
                quorate_spec::oxii::apply_result(&mut current, &result);
                results.push(result);
            }
            SerialRun {
                results,
                state: current.clone(),
            }
        })
        .collect()
}

/// `agreement`: ledgers agree block by block, outcomes included.
pub(super) fn agreement<R: Rules>(state: &State<R>) -> bool {
    let all: Vec<&ExecState> = executors::<R>(state).map(|(_, e)| e).collect();
    all.iter().all(|a| {
        all.iter().all(|b| {
            a.ledger
                .iter()
                .zip(&b.ledger)
                .all(|(x, y)| x.block == y.block && x.outcomes == y.outcomes)
        })
    })
}

/// `validity`: every appended block is the agreed block at its position and holds only
/// requests signed by their client and authorised for their application.
pub(super) fn validity<R: Rules>(model: &OxiiSystem<R>, state: &State<R>) -> bool {
    let agreed = agreed(state);
    let membership = membership(model);
    executors::<R>(state).all(|(_, e)| {
        e.ledger.iter().enumerate().all(|(i, entry)| {
            agreed.get(i).is_some_and(|b| **b == *entry.block)
                && entry
                    .block
                    .txs
                    .iter()
                    .all(|r| admissible(r, membership).is_ok())
        })
    })
}

/// `consistency`: every committed result is the serial result, and between blocks the state is
/// the serial execution of the appended blocks.
pub(super) fn consistency<R: Rules>(model: &OxiiSystem<R>, state: &State<R>) -> bool {
    let reference = reference(model, state);
    executors::<R>(state).all(|(_, e)| {
        let ledger_ok = e.ledger.iter().enumerate().all(|(i, entry)| {
            reference
                .get(i)
                .is_some_and(|r| r.results == entry.outcomes)
        });
        let state_ok = match &e.run {
            Some(run) => run.decided.iter().all(|(x, result)| {
                reference
                    .get(run.seq as usize - 1)
                    .is_some_and(|r| r.results[*x as usize] == *result)
            }),
            None => match e.ledger.len() {
                0 => e.state.is_empty(),
                n => reference.get(n - 1).is_some_and(|r| r.state == e.state),
            },
        };
        ledger_ok && state_ok
    })
}

/// `executed-on-committed-inputs`: each correct agent's own result is the serial result, which
/// it can only be if it read every predecessor's committed (or own) result.
pub(super) fn executed_correctly<R: Rules>(model: &OxiiSystem<R>, state: &State<R>) -> bool {
    let reference = reference(model, state);
    executors::<R>(state).all(|(_, e)| {
        e.run.as_ref().is_none_or(|run| {
            run.executed.iter().all(|(x, result)| {
                reference
                    .get(run.seq as usize - 1)
                    .is_some_and(|r| r.results[*x as usize] == *result)
            })
        })
    })
}

/// `edges-in-order`: for every edge u→v of the block's true graph (built from the declared
/// sets by the specification, not by the rules under test), u was applied before v.
pub(super) fn edges_in_order<R: Rules>(state: &State<R>) -> bool {
    executors::<R>(state).all(|(_, e)| {
        let finished = e.ledger.iter().map(|l| (&*l.block, &l.apply_log));
        let current = e.run.iter().map(|r| (&*r.block, &r.apply_log));
        finished.chain(current).all(|(block, log)| {
            edges_applied_in_order(&DepGraph::build(&access(block)), log).is_ok()
        })
    })
}

/// `threshold`: each commit is backed by τ(A) distinct agents that produced that result: those
/// that sent it, plus the executor itself when its own result matches.
pub(super) fn threshold<R: Rules>(model: &OxiiSystem<R>, state: &State<R>) -> bool {
    let membership = membership(model);
    let history = state.history();
    let backed = |id: NodeId, seq: Seq, block: &OxiiBlock, x: u32, result: &TxResult, own: bool| {
        let app = block.txs[x as usize].value().tx.app;
        let mut producers: BTreeSet<NodeId> = history
            .sent
            .get(&(seq, x))
            .and_then(|by_result| by_result.get(result))
            .cloned()
            .unwrap_or_default();
        if own {
            producers.insert(id);
        }
        let agents = membership.agents.get(&app).cloned().unwrap_or_default();
        threshold_evidence(&producers, &agents, membership.tau_of(app)).is_ok()
    };
    executors::<R>(state).all(|(id, e)| {
        let in_run = e.run.as_ref().is_none_or(|run| {
            run.decided.iter().all(|(x, r)| {
                let own = run.executed.get(x) == Some(r);
                backed(id, run.seq, &run.block, *x, r, own)
            })
        });
        // After the block, own results are gone: count the executor if it is an agent at all.
        let in_ledger = e.ledger.iter().all(|entry| {
            entry.outcomes.iter().enumerate().all(|(x, r)| {
                let app = entry.block.txs[x].value().tx.app;
                backed(
                    id,
                    entry.seq,
                    &entry.block,
                    x as u32,
                    r,
                    membership.is_agent(id, app),
                )
            })
        });
        in_run && in_ledger
    })
}

/// Deadlock check's "undecided": a correct executor has not appended every agreed block.
pub(super) fn block_unfinished<R: Rules>(_model: &OxiiSystem<R>, state: &State<R>) -> bool {
    let agreed = agreed(state).len();
    executors::<R>(state).any(|(_, e)| e.ledger.len() < agreed)
}

/// Non-vacuity: a commit of a transaction with a predecessor of another application.
pub(super) fn cross_application_commit<R: Rules>(state: &State<R>) -> bool {
    executors::<R>(state).any(|(_, e)| {
        e.run.as_ref().is_some_and(|run| {
            let app = |x: u32| run.block.txs[x as usize].value().tx.app;
            run.decided
                .keys()
                .any(|&x| run.block.graph.predecessors(x).any(|y| app(y) != app(x)))
        })
    })
}

/// Non-vacuity (Byzantine configurations): a correct executor holds a vote for a wrong result,
/// or a client holds a reply whose outcome differs from its ordered transaction's serial result.
pub(super) fn wrong_vote_held<R: Rules>(model: &OxiiSystem<R>, state: &State<R>) -> bool {
    let reference = reference(model, state);
    let executor_heard = executors::<R>(state).any(|(_, e)| {
        e.run.as_ref().is_some_and(|run| {
            run.votes.iter().any(|(x, by_result)| {
                let truth = &reference[run.seq as usize - 1].results[*x as usize];
                by_result
                    .iter()
                    .any(|(r, voters)| r != truth && !voters.is_empty())
            })
        })
    });
    let serial = serial_results(state, &reference);
    let client_heard = state.actors().enumerate().any(|(id, actor)| {
        actor.as_client().is_some_and(|client| {
            let tx = quorate_spec::TxId::new(id as NodeId, client.current);
            serial
                .get(&tx)
                .is_some_and(|truth| client.replies.keys().any(|r| r != *truth))
        })
    });
    executor_heard || client_heard
}

/// The serial result of every transaction in the agreed log, by client transaction id.
fn serial_results<'a, R: Rules>(
    state: &'a State<R>,
    reference: &'a [SerialRun],
) -> BTreeMap<quorate_spec::TxId, &'a TxResult> {
    agreed(state)
        .iter()
        .zip(reference)
        .flat_map(|(block, run)| block.txs.iter().map(|r| r.value().tx.id).zip(&run.results))
        .collect()
}

/// `client-accepts-committed`: every outcome a client accepted is the serial result of its
/// transaction at the transaction's place in the agreed log (so it was ordered, and the result
/// is the one a correct executor commits).
pub(super) fn client_accepts_committed<R: Rules>(model: &OxiiSystem<R>, state: &State<R>) -> bool {
    let reference = reference(model, state);
    let serial = serial_results(state, &reference);
    state.actors().enumerate().all(|(id, actor)| {
        actor.as_client().is_none_or(|client| {
            client.accepted.iter().enumerate().all(|(i, outcome)| {
                let tx = quorate_spec::TxId::new(id as NodeId, i as u64 + 1);
                serial.get(&tx) == Some(&outcome)
            })
        })
    })
}
