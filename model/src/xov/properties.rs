//! The token card's ledger-walking predicates beyond T1-T5: T6 (no spurious abort), T7
//! (atomicity), T10 (reads name current versions) and T11 (per-transaction conservation).
//! Each walks one peer's ledger in order next to the serial state of its valid transactions.

use super::{entries, State, XovSystem};
use quorate_impl::crypto::Symbolic;
use quorate_impl::xov::{PeerState, Rules, Submission, XovState};
use quorate_spec::token::{holding_and_supply_change, TokenApp, TokenOp};
use quorate_spec::xov::{apply_versioned, values, versioned_genesis, Code, RwSet, Version};
use quorate_spec::{apply_writes, Application, KvState};

fn peers<R: Rules>(state: &State<R>) -> impl Iterator<Item = &PeerState<Symbolic>> {
    state.actors().filter_map(XovState::as_peer)
}

/// The read-write set the endorsers signed (all agree on it when the transaction is valid).
fn rwset(submission: &Submission<Symbolic>) -> &RwSet {
    &submission.tx.endorsements[0].value().rwset
}

fn ops(submission: &Submission<Symbolic>) -> &[TokenOp] {
    &submission.tx.proposal.value().ops
}

/// Calls `visit` on every ledger entry with the serial state of the valid transactions
/// before it; stops at the first `false`.
fn walk_serial(
    genesis: &KvState,
    peer: &PeerState<Symbolic>,
    mut visit: impl FnMut(&KvState, &Submission<Symbolic>, Code) -> bool,
) -> bool {
    let mut serial = genesis.clone();
    entries(peer).all(|(submission, code)| {
        let holds = visit(&serial, submission, *code);
        if *code == Code::Valid {
            apply_writes(&mut serial, &rwset(submission).writes);
        }
        holds
    })
}

/// T7 atomicity / no lost update: each peer's state is genesis with the valid transactions'
/// write sets applied in ledger order, so no invalid transaction is reflected, even in part.
pub fn atomicity<R: Rules>(model: &XovSystem<R>, state: &State<R>) -> bool {
    let genesis = &super::any_peer(model).genesis;
    peers::<R>(state).all(|peer| {
        let mut serial: KvState = (**genesis).clone();
        for (submission, _) in entries(peer).filter(|(_, code)| *code == Code::Valid) {
            apply_writes(&mut serial, &rwset(submission).writes);
        }
        serial == values(&peer.world)
    })
}

/// Whether `Ref` refuses `ops` on `serial`.
fn reference_refuses(
    max_supply: quorate_spec::Value,
    serial: &KvState,
    submission: &Submission<Symbolic>,
) -> bool {
    let app = TokenApp {
        max_supply,
        delta: false,
    };
    app.execute(serial, submission.tx.proposal.value())
        .output
        .is_err()
}

/// Card T6 violated somewhere: a token operation aborted with `MVCC_READ_CONFLICT`,
/// `NEGATIVE_BALANCE` or `SUPPLY_CAP_EXCEEDED` although `Ref` succeeds on the serial state
/// before it. Non-token transactions (snapshots) are excluded, as the card says.
pub fn spurious_abort<R: Rules>(model: &XovSystem<R>, state: &State<R>) -> bool {
    let config = super::any_peer(model);
    let max = config.app.max_supply;
    peers::<R>(state).any(|peer| {
        !walk_serial(&config.genesis, peer, |serial, submission, code| {
            let contended = matches!(
                code,
                Code::MvccReadConflict | Code::NegativeBalance | Code::SupplyCapExceeded
            );
            let token_op = !ops(submission)
                .iter()
                .any(|op| matches!(op, TokenOp::Snapshot { .. }));
            !(contended && token_op) || reference_refuses(max, serial, submission)
        })
    })
}

/// T11 per-transaction conservation: every valid transaction changes balances plus holds by
/// exactly what it changes the supply by, and that is what its operations mint minus burn.
pub fn per_tx_conservation<R: Rules>(model: &XovSystem<R>, state: &State<R>) -> bool {
    let genesis = &super::any_peer(model).genesis;
    peers::<R>(state).all(|peer| {
        walk_serial(genesis, peer, |serial, submission, code| {
            let expected: quorate_spec::Value =
                ops(submission).iter().map(TokenOp::supply_change).sum();
            code != Code::Valid
                || holding_and_supply_change(serial, &rwset(submission).writes)
                    == (expected, expected)
        })
    })
}

/// T10 (mixed-workload MVCC): every MVCC-checked read of a valid transaction names the
/// version its key has in the serial state before it, versions stamped as specified
/// (every write, deltas included, gets (block, position)). So a plain reader of an account
/// never commits around a concurrent delta.
pub fn reads_current<R: Rules>(model: &XovSystem<R>, state: &State<R>) -> bool {
    let genesis = &super::any_peer(model).genesis;
    peers::<R>(state).all(|peer| {
        let mut serial = versioned_genesis(genesis);
        peer.ledger.iter().enumerate().all(|(index, block)| {
            block
                .iter()
                .enumerate()
                .all(|(position, (submission, code))| {
                    if *code != Code::Valid {
                        return true;
                    }
                    let rwset = rwset(submission);
                    let current = rwset
                        .reads
                        .iter()
                        .all(|(key, seen)| serial.get(key).map(|(_, v)| *v) == *seen);
                    let version = Version {
                        block: index as u64 + 1,
                        tx: position as u32,
                    };
                    apply_versioned(&mut serial, &rwset.writes, version);
                    current
                })
        })
    })
}
