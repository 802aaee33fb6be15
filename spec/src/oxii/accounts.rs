//! The accounting application of the seed's experiments (§5.5): accounts hold balances, a
//! transfer moves units when the source holds enough. Also the small value-copying operations
//! the model's test vectors need (card §5.7 TV-2: `k2 := k1 + 1`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::app::{Application, Execution, Key, KvState, Value, Write};
use crate::tx::{AppId, Transaction};

/// The most operations one transaction may carry.
pub const MAX_ACCOUNT_OPS: usize = 8;

/// One operation over accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AccountOp {
    /// `key := value`.
    Set(Key, Value),
    /// `dst := src + plus` (reads `src`).
    CopyPlus {
        /// Read.
        src: Key,
        /// Written.
        dst: Key,
        /// Added to the value read.
        plus: Value,
    },
    /// `key := key + amount`, a read-modify-write.
    Add(Key, Value),
    /// Moves `amount` from `from` to `to` when `from` holds at least `amount`; otherwise the
    /// whole transaction is rejected (the seed's "invalid transaction").
    Transfer {
        /// Debited account.
        from: Key,
        /// Credited account.
        to: Key,
        /// Units moved.
        amount: Value,
    },
}

/// The accounting contract installed for application `id`. Several applications may run the
/// same contract code over the one shared datastore (seed §5.3: applications share the state).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Accounts {
    /// The application this instance serves.
    pub id: AppId,
}

/// The pre-state overlaid with the transaction's own writes; records pre-state reads.
struct Overlay<'a> {
    pre: &'a KvState,
    reads: BTreeSet<Key>,
    writes: BTreeMap<Key, Write>,
}

impl Overlay<'_> {
    fn read(&mut self, key: Key) -> Value {
        if let Some(Write::Set(value)) = self.writes.get(&key) {
            return *value;
        }
        self.reads.insert(key);
        self.pre.get(&key).copied().unwrap_or(0)
    }

    fn write(&mut self, key: Key, value: Value) {
        self.writes.insert(key, Write::Set(value));
    }
}

impl Application for Accounts {
    type Op = AccountOp;
    /// Whether the transaction took effect (false: rejected, no writes).
    type Output = bool;

    fn app_id(&self) -> AppId {
        self.id
    }

    fn well_formed(&self, tx: &Transaction<AccountOp>) -> bool {
        tx.app == self.id && !tx.ops.is_empty() && tx.ops.len() <= MAX_ACCOUNT_OPS
    }

    fn execute(&self, state: &KvState, tx: &Transaction<AccountOp>) -> Execution<bool> {
        if !self.well_formed(tx) {
            return Execution::output_only(false);
        }
        let mut overlay = Overlay {
            pre: state,
            reads: BTreeSet::new(),
            writes: BTreeMap::new(),
        };
        for op in &tx.ops {
            match *op {
                AccountOp::Set(key, value) => overlay.write(key, value),
                AccountOp::CopyPlus { src, dst, plus } => {
                    let value = overlay.read(src).wrapping_add(plus);
                    overlay.write(dst, value);
                }
                AccountOp::Add(key, amount) => {
                    let value = overlay.read(key).wrapping_add(amount);
                    overlay.write(key, value);
                }
                AccountOp::Transfer { from, to, amount } => {
                    let balance = overlay.read(from);
                    if amount < 0 || balance < amount {
                        // Rejected as a whole; the reads made so far still count as reads.
                        return Execution {
                            reads: overlay.reads,
                            writes: BTreeMap::new(),
                            output: false,
                        };
                    }
                    overlay.write(from, balance - amount);
                    let credited = overlay.read(to).wrapping_add(amount);
                    overlay.write(to, credited);
                }
            }
        }
        Execution {
            reads: overlay.reads,
            writes: overlay.writes,
            output: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::execute_and_apply;
    use crate::tx::TxId;

    fn tx(ops: Vec<AccountOp>) -> Transaction<AccountOp> {
        Transaction::new(TxId::new(0, 1), AppId(1), ops)
    }

    #[test]
    fn transfer_moves_units_when_covered_and_is_rejected_otherwise() {
        let app = Accounts { id: AppId(1) };
        let mut state = KvState::from([(Key(0), 5)]);
        let move3 = AccountOp::Transfer {
            from: Key(0),
            to: Key(1),
            amount: 3,
        };
        assert!(execute_and_apply(&app, &mut state, &tx(vec![move3])));
        assert_eq!(state, KvState::from([(Key(0), 2), (Key(1), 3)]));
        assert!(!execute_and_apply(&app, &mut state, &tx(vec![move3])));
        assert_eq!(state, KvState::from([(Key(0), 2), (Key(1), 3)]));
    }

    #[test]
    fn copy_plus_and_add_read_their_sources() {
        let app = Accounts { id: AppId(1) };
        let ops = vec![
            AccountOp::CopyPlus {
                src: Key(1),
                dst: Key(2),
                plus: 1,
            },
            AccountOp::Add(Key(2), 10),
        ];
        let execution = app.execute(&KvState::from([(Key(1), 4)]), &tx(ops));
        assert_eq!(execution.reads, BTreeSet::from([Key(1)]));
        assert_eq!(execution.writes, BTreeMap::from([(Key(2), Write::Set(15))]));
    }

    #[test]
    fn transaction_for_another_application_is_rejected() {
        let app = Accounts { id: AppId(2) };
        let execution = app.execute(&KvState::new(), &tx(vec![AccountOp::Set(Key(0), 1)]));
        assert!(!execution.output);
        assert!(execution.writes.is_empty());
    }
}
