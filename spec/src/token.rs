//! The account/balance token application (card `token-mvcc-delta.md`, seed 002): accounts
//! with a balance and a balance on hold, mint / transfer / hold / release / burn, a supply
//! capped by `max_supply`; the serial reference execution `Ref`; and the token properties
//! T1-T5 as predicates.
//!
//! Key layout (card G1, one key per delta field): account `a` keeps its balance under
//! `Key(2a)` and its amount on hold under `Key(2a + 1)`; the total supply lives under
//! [`SUPPLY`]. An account exists when its balance key exists.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::app::{apply_writes, Application, Execution, Key, KvState, Value, Write};
use crate::tx::{AppId, Transaction};

/// An account number.
pub type Account = u32;

/// The key holding the total supply.
pub const SUPPLY: Key = Key(u32::MAX);

/// The key of `account`'s spendable balance.
pub const fn balance_key(account: Account) -> Key {
    Key(2 * account)
}

/// The key of `account`'s balance on hold.
pub const fn hold_key(account: Account) -> Key {
    Key(2 * account + 1)
}

/// Keys from here up (except [`SUPPLY`]) are application data outside the token ledger:
/// conservation and non-negativity do not speak about them.
pub const FIRST_DATA_KEY: u32 = 1 << 31;

/// The key a [`TokenOp::Snapshot`] of `account` writes.
pub const fn snapshot_key(account: Account) -> Key {
    Key(FIRST_DATA_KEY + account)
}

/// Whether `key` is a balance or hold (not the supply, not application data).
pub const fn is_holding_key(key: Key) -> bool {
    key.0 < FIRST_DATA_KEY
}

/// One token operation. Amounts must be positive (checked by `well_formed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TokenOp {
    /// Create `amount` new tokens on `to`.
    Mint {
        /// Receiving account.
        to: Account,
        /// Tokens created.
        amount: Value,
    },
    /// Move `amount` from `from`'s balance to `to`'s balance.
    Transfer {
        /// Debited account.
        from: Account,
        /// Credited account.
        to: Account,
        /// Tokens moved.
        amount: Value,
    },
    /// Move `amount` of `account`'s balance onto hold.
    Hold {
        /// The account.
        account: Account,
        /// Tokens held.
        amount: Value,
    },
    /// Move `amount` of `account`'s hold back to its balance.
    Release {
        /// The account.
        account: Account,
        /// Tokens released.
        amount: Value,
    },
    /// Destroy `amount` of `from`'s balance.
    Burn {
        /// Debited account.
        from: Account,
        /// Tokens destroyed.
        amount: Value,
    },
    /// Not a token operation: copy `account`'s balance, read with an ordinary (MVCC-checked)
    /// read, into [`snapshot_key`] (card D5, the mixed workload's reader).
    Snapshot {
        /// The account read.
        account: Account,
    },
}

impl TokenOp {
    /// The change this operation makes to the supply, which is also the net change it makes
    /// to balances plus holds (card T11): `+amount` for a mint, `-amount` for a burn, else 0.
    pub fn supply_change(&self) -> Value {
        match *self {
            TokenOp::Mint { amount, .. } => amount,
            TokenOp::Burn { amount, .. } => -amount,
            _ => 0,
        }
    }
}

/// Why the token application refused a transaction (the reference semantics' failures).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TokenError {
    /// An account the operation names does not exist.
    MissingAccount(Account),
    /// A balance or hold would drop below zero.
    InsufficientFunds(Account),
    /// The supply would exceed `max_supply`.
    SupplyCapExceeded,
    /// Arithmetic would overflow.
    Overflow,
}

/// The outcome of a token transaction.
pub type TokenOutcome = Result<(), TokenError>;

/// The token application. With `delta` the write set carries [`Write::Delta`] on balances,
/// holds and supply (resolved at commit against the current value); without it the write
/// set carries the absolute post-values computed from the endorser's snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TokenApp {
    /// Upper bound of the total supply (card T4).
    pub max_supply: Value,
    /// Whether balance, hold and supply writes are deltas.
    pub delta: bool,
}

impl TokenApp {
    /// The id token transactions carry.
    pub const APP_ID: AppId = AppId(2);

    /// The signed changes (key, amount) one operation makes, or why it cannot run on `state`.
    ///
    /// The checks are the reference semantics evaluated on `state`; in delta mode an
    /// endorser runs them on its snapshot only as advice, and the committing peer repeats
    /// them on the current state with [`TokenApp::check_invariants`].
    fn changes(&self, state: &KvState, op: &TokenOp) -> Result<Vec<(Key, Value)>, TokenError> {
        let exists = |a: Account| {
            if state.contains_key(&balance_key(a)) {
                Ok(())
            } else {
                Err(TokenError::MissingAccount(a))
            }
        };
        let get = |k: Key| state.get(&k).copied().unwrap_or(0);
        let debit = |k: Key, a: Account, amount: Value| {
            if get(k) >= amount {
                Ok(())
            } else {
                Err(TokenError::InsufficientFunds(a))
            }
        };
        match *op {
            TokenOp::Mint { to, amount } => {
                exists(to)?;
                let supply = get(SUPPLY)
                    .checked_add(amount)
                    .ok_or(TokenError::Overflow)?;
                if supply > self.max_supply {
                    return Err(TokenError::SupplyCapExceeded);
                }
                Ok(vec![(balance_key(to), amount), (SUPPLY, amount)])
            }
            TokenOp::Transfer { from, to, amount } => {
                exists(from)?;
                exists(to)?;
                debit(balance_key(from), from, amount)?;
                Ok(vec![
                    (balance_key(from), -amount),
                    (balance_key(to), amount),
                ])
            }
            TokenOp::Hold { account, amount } => {
                exists(account)?;
                debit(balance_key(account), account, amount)?;
                Ok(vec![
                    (balance_key(account), -amount),
                    (hold_key(account), amount),
                ])
            }
            TokenOp::Release { account, amount } => {
                exists(account)?;
                debit(hold_key(account), account, amount)?;
                Ok(vec![
                    (hold_key(account), -amount),
                    (balance_key(account), amount),
                ])
            }
            TokenOp::Burn { from, amount } => {
                exists(from)?;
                debit(balance_key(from), from, amount)?;
                Ok(vec![(balance_key(from), -amount), (SUPPLY, -amount)])
            }
            // Not additive: `execute` records its absolute write.
            TokenOp::Snapshot { .. } => Ok(Vec::new()),
        }
    }

    /// Genesis: `balances[a]` on account `a`, nothing on hold, supply = the sum.
    pub fn genesis(balances: &[Value]) -> KvState {
        let mut state = KvState::new();
        for (account, &balance) in balances.iter().enumerate() {
            state.insert(balance_key(account as Account), balance);
            state.insert(hold_key(account as Account), 0);
        }
        state.insert(SUPPLY, balances.iter().sum());
        state
    }

    /// The commit-time rules a delta write set must pass on the state it is applied to
    /// (card G4/G6, checked on the post-state of the whole transaction): every delta key
    /// exists, balances and holds stay non-negative, supply stays within `0..=max_supply`.
    pub fn check_invariants(
        &self,
        pre: &KvState,
        writes: &BTreeMap<Key, Write>,
    ) -> Result<(), TokenError> {
        for (key, write) in writes {
            if matches!(write, Write::Delta(_)) && !pre.contains_key(key) {
                return Err(TokenError::MissingAccount(key.0 / 2));
            }
            if let Write::Delta(amount) = write {
                pre[key].checked_add(*amount).ok_or(TokenError::Overflow)?;
            }
        }
        let mut post = pre.clone();
        apply_writes(&mut post, writes);
        for key in writes.keys() {
            let value = post.get(key).copied().unwrap_or(0);
            if *key == SUPPLY {
                if value > self.max_supply {
                    return Err(TokenError::SupplyCapExceeded);
                }
                if value < 0 {
                    return Err(TokenError::InsufficientFunds(u32::MAX));
                }
            } else if value < 0 {
                return Err(TokenError::InsufficientFunds(key.0 / 2));
            }
        }
        Ok(())
    }
}

impl Application for TokenApp {
    type Op = TokenOp;
    type Output = TokenOutcome;

    fn app_id(&self) -> AppId {
        Self::APP_ID
    }

    fn well_formed(&self, tx: &Transaction<TokenOp>) -> bool {
        tx.app == Self::APP_ID
            && !tx.ops.is_empty()
            && tx.ops.iter().all(|op| match *op {
                TokenOp::Mint { amount, .. }
                | TokenOp::Transfer { amount, .. }
                | TokenOp::Hold { amount, .. }
                | TokenOp::Release { amount, .. }
                | TokenOp::Burn { amount, .. } => amount > 0,
                TokenOp::Snapshot { .. } => true,
            })
    }

    /// Runs the operations in order on a private copy; any failure rejects the whole
    /// transaction with no writes. Reads are every key whose value a check or a plain
    /// write depended on.
    fn execute(&self, state: &KvState, tx: &Transaction<TokenOp>) -> Execution<TokenOutcome> {
        let mut scratch = state.clone();
        let mut execution = Execution::output_only(Ok(()));
        for op in &tx.ops {
            if let TokenOp::Snapshot { account } = *op {
                let key = balance_key(account);
                let Some(&balance) = scratch.get(&key) else {
                    return Execution::output_only(Err(TokenError::MissingAccount(account)));
                };
                execution.reads.insert(key);
                execution
                    .writes
                    .insert(snapshot_key(account), Write::Set(balance));
                scratch.insert(snapshot_key(account), balance);
                continue;
            }
            match self.changes(&scratch, op) {
                Err(error) => return Execution::output_only(Err(error)),
                Ok(changes) => {
                    for (key, amount) in changes {
                        execution.reads.insert(key);
                        let write = if self.delta {
                            let previous = match execution.writes.get(&key) {
                                Some(Write::Delta(d)) => *d,
                                _ => 0,
                            };
                            Write::Delta(previous + amount)
                        } else {
                            Write::Set(scratch[&key] + amount)
                        };
                        execution.writes.insert(key, write);
                        *scratch.get_mut(&key).expect("changes name existing keys") += amount;
                    }
                }
            }
        }
        execution
    }
}

/// Why a committed ledger is not serially equivalent (card T5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SerialMismatch {
    /// The `index`-th valid transaction fails under the reference semantics.
    Fails {
        /// Position among the valid transactions.
        index: usize,
        /// Why `Ref` refuses it.
        error: TokenError,
    },
    /// Every transaction succeeds but the end state differs from the committed one.
    StateDiffers {
        /// `Ref`'s end state.
        reference: KvState,
    },
}

/// `Ref` (card §8): the valid transactions executed one at a time, in ledger order, with
/// absolute reads and writes from `genesis`. Returns the end state or the first failure.
pub fn reference_serial<'a>(
    max_supply: Value,
    genesis: &KvState,
    valid: impl IntoIterator<Item = &'a Transaction<TokenOp>>,
) -> Result<KvState, (usize, TokenError)> {
    let app = TokenApp {
        max_supply,
        delta: false,
    };
    let mut state = genesis.clone();
    for (index, tx) in valid.into_iter().enumerate() {
        let execution = app.execute(&state, tx);
        execution.output.map_err(|error| (index, error))?;
        apply_writes(&mut state, &execution.writes);
    }
    Ok(state)
}

/// T5 serial equivalence: `Ref` succeeds on every valid transaction and ends in `committed`.
pub fn serially_equivalent<'a>(
    max_supply: Value,
    genesis: &KvState,
    valid: impl IntoIterator<Item = &'a Transaction<TokenOp>>,
    committed: &KvState,
) -> Result<(), SerialMismatch> {
    match reference_serial(max_supply, genesis, valid) {
        Err((index, error)) => Err(SerialMismatch::Fails { index, error }),
        Ok(reference) if reference != *committed => Err(SerialMismatch::StateDiffers { reference }),
        Ok(_) => Ok(()),
    }
}

/// T1 conservation: balances plus holds sum to the recorded supply.
pub fn conserves_supply(state: &KvState) -> bool {
    let held: Value = state
        .iter()
        .filter(|(k, _)| is_holding_key(**k))
        .map(|(_, v)| *v)
        .sum();
    held == state.get(&SUPPLY).copied().unwrap_or(0)
}

/// T3 no negative balance or hold (for one state; callers apply it to every prefix).
pub fn no_negative_balance(state: &KvState) -> bool {
    state.iter().all(|(k, v)| !is_holding_key(*k) || *v >= 0)
}

/// How a write set changes (balances plus holds, supply) when applied to `pre`.
pub fn holding_and_supply_change(pre: &KvState, writes: &BTreeMap<Key, Write>) -> (Value, Value) {
    let mut post = pre.clone();
    apply_writes(&mut post, writes);
    let change =
        |key: Key| post.get(&key).copied().unwrap_or(0) - pre.get(&key).copied().unwrap_or(0);
    let holdings = writes
        .keys()
        .filter(|k| is_holding_key(**k))
        .map(|k| change(*k))
        .sum();
    (holdings, change(SUPPLY))
}

/// Card VS3 (per-transaction conservation, a commit-time rule independent of endorser
/// honesty) for a delta write set: the deltas on balances and holds sum to the deltas on the
/// supply, and both equal what the operations mint minus what they burn. Reads no state, so
/// a Byzantine endorser's credit without a debit is caught whatever the current values.
pub fn deltas_conserve(ops: &[TokenOp], writes: &BTreeMap<Key, Write>) -> bool {
    let expected: Value = ops.iter().map(TokenOp::supply_change).sum();
    let (mut holdings, mut supply) = (0, 0);
    for (key, write) in writes {
        let Write::Delta(amount) = *write else {
            // An absolute write of a token key inside a delta write set escapes the sums.
            if is_holding_key(*key) || *key == SUPPLY {
                return false;
            }
            continue;
        };
        if *key == SUPPLY {
            supply += amount;
        } else if is_holding_key(*key) {
            holdings += amount;
        }
    }
    holdings == expected && supply == expected
}

/// T4 supply cap: `0 <= supply <= max_supply`.
pub fn within_supply_cap(state: &KvState, max_supply: Value) -> bool {
    let supply = state.get(&SUPPLY).copied().unwrap_or(0);
    (0..=max_supply).contains(&supply)
}

#[cfg(test)]
#[path = "token_tests.rs"]
mod tests;
