//! The serial reference execution of OXII blocks and the OXII properties as predicates
//! (card §8: S6 serial equivalence, S10 apply order, S7 threshold evidence).

use std::collections::{BTreeMap, BTreeSet};

use crate::app::{apply_writes, Application, KvState};
use crate::monitor::Violation;
use crate::oxii::graph::{execute_declared, DeclaredTx, DepGraph, TxResult};
use crate::tx::{AppId, NodeId};

/// Applies a decided result to the datastore (`Abort` changes nothing).
pub fn apply_result(state: &mut KvState, result: &TxResult) {
    if let TxResult::Writes(writes) = result {
        apply_writes(state, writes);
    }
}

/// The serial execution of one block: each transaction's result and the state after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SerialRun {
    /// ref_result, by block position.
    pub results: Vec<TxResult>,
    /// ref_state after the block.
    pub state: KvState,
}

/// Executes `block` one transaction at a time in block order from `state`, each against the
/// full current state, with the contract `contracts` names for its application (an unknown
/// application aborts). This is the meaning every parallel schedule must reproduce.
pub fn serial_block<A: Application>(
    contracts: &BTreeMap<AppId, A>,
    state: &KvState,
    block: &[DeclaredTx<A::Op>],
) -> SerialRun {
    let mut state = state.clone();
    let mut results = Vec::with_capacity(block.len());
    for dtx in block {
        let result = match contracts.get(&dtx.tx.app) {
            Some(app) => execute_declared(app, &state, dtx),
            None => TxResult::Abort,
        };
        apply_result(&mut state, &result);
        results.push(result);
    }
    debug_assert_eq!(results.len(), block.len());
    SerialRun { results, state }
}

/// "Every dependency edge u→v has u applied before v": `apply_log` (block positions in apply
/// order) holds each position at most once, and for every applied v every predecessor u of v
/// is applied earlier.
pub fn edges_applied_in_order(graph: &DepGraph, apply_log: &[u32]) -> Result<(), Violation> {
    let mut position = BTreeMap::new();
    for (at, x) in apply_log.iter().enumerate() {
        if position.insert(*x, at).is_some() {
            return Err(Violation::new(
                "edges-in-order",
                format!("transaction {x} applied twice"),
            ));
        }
    }
    for &(u, v) in &graph.edges {
        let Some(&v_at) = position.get(&v) else {
            continue;
        };
        match position.get(&u) {
            Some(&u_at) if u_at < v_at => {}
            _ => {
                return Err(Violation::new(
                    "edges-in-order",
                    format!("edge {u}→{v}: {v} applied before {u} (apply order {apply_log:?})"),
                ))
            }
        }
    }
    Ok(())
}

/// "No transaction is committed with fewer than τ(A) matching results": the distinct agents of
/// the transaction's application that produced the committed result must number at least τ.
pub fn threshold_evidence(
    producers: &BTreeSet<NodeId>,
    agents: &BTreeSet<NodeId>,
    tau: usize,
) -> Result<(), Violation> {
    let counted = producers.intersection(agents).count();
    if counted >= tau {
        return Ok(());
    }
    Err(Violation::new(
        "threshold",
        format!(
            "committed on {counted} matching results from agents {producers:?} ∩ {agents:?}, τ = {tau}"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Key, Write};
    use crate::oxii::accounts::{AccountOp, Accounts};
    use crate::oxii::graph::AccessSets;
    use crate::tx::{Transaction, TxId};

    fn dtx(
        seq: u64,
        app: u16,
        op: AccountOp,
        reads: &[u32],
        writes: &[u32],
    ) -> DeclaredTx<AccountOp> {
        DeclaredTx {
            tx: Transaction::new(TxId::new(9, seq), AppId(app), vec![op]),
            access: AccessSets::new(
                reads.iter().map(|k| Key(*k)),
                writes.iter().map(|k| Key(*k)),
            ),
        }
    }

    fn contracts() -> BTreeMap<AppId, Accounts> {
        [1, 2].map(|a| (AppId(a), Accounts { id: AppId(a) })).into()
    }

    #[test]
    fn tv2_serial_reference_matches_the_card() {
        let block = [
            dtx(0, 1, AccountOp::Set(Key(1), 1), &[], &[1]),
            dtx(
                1,
                2,
                AccountOp::CopyPlus {
                    src: Key(1),
                    dst: Key(2),
                    plus: 1,
                },
                &[1],
                &[2],
            ),
            dtx(
                2,
                1,
                AccountOp::CopyPlus {
                    src: Key(2),
                    dst: Key(1),
                    plus: 1,
                },
                &[2],
                &[1],
            ),
        ];
        let run = serial_block(&contracts(), &KvState::new(), &block);
        assert_eq!(run.state, KvState::from([(Key(1), 3), (Key(2), 2)]));
        assert_eq!(
            run.results[1],
            TxResult::Writes([(Key(2), Write::Set(2))].into())
        );
    }

    #[test]
    fn undeclared_access_and_unknown_application_abort() {
        // Reads k1 but declares only k2.
        let stray = dtx(
            0,
            1,
            AccountOp::CopyPlus {
                src: Key(1),
                dst: Key(2),
                plus: 1,
            },
            &[],
            &[2],
        );
        let unknown = dtx(1, 7, AccountOp::Set(Key(2), 5), &[], &[2]);
        let run = serial_block(
            &contracts(),
            &KvState::from([(Key(1), 4)]),
            &[stray, unknown],
        );
        assert_eq!(run.results, vec![TxResult::Abort, TxResult::Abort]);
        assert_eq!(run.state, KvState::from([(Key(1), 4)]));
    }

    #[test]
    fn apply_order_must_respect_every_edge() {
        let graph = DepGraph {
            n_tx: 3,
            edges: [(0, 2), (1, 2)].into(),
        };
        assert!(edges_applied_in_order(&graph, &[1, 0, 2]).is_ok());
        assert!(edges_applied_in_order(&graph, &[0, 1]).is_ok());
        assert!(edges_applied_in_order(&graph, &[0, 2, 1]).is_err());
        assert!(edges_applied_in_order(&graph, &[0, 0]).is_err());
    }

    #[test]
    fn threshold_counts_distinct_agents_only() {
        let agents: BTreeSet<NodeId> = [1, 2, 3].into();
        assert!(threshold_evidence(&[1, 2].into(), &agents, 2).is_ok());
        assert!(threshold_evidence(&[1, 9].into(), &agents, 2).is_err());
    }
}
