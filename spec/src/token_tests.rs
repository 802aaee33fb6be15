use super::*;
use crate::tx::TxId;

fn tx(seq: u64, ops: Vec<TokenOp>) -> Transaction<TokenOp> {
    Transaction::new(TxId::new(0, seq), TokenApp::APP_ID, ops)
}

const PLAIN: TokenApp = TokenApp {
    max_supply: 5,
    delta: false,
};
const DELTA: TokenApp = TokenApp {
    max_supply: 5,
    delta: true,
};

#[test]
fn genesis_conserves_supply_and_creates_accounts() {
    let state = TokenApp::genesis(&[2, 1]);
    assert_eq!(state[&SUPPLY], 3);
    assert_eq!(state[&hold_key(1)], 0);
    assert!(conserves_supply(&state));
}

#[test]
fn plain_transfer_writes_absolute_values_and_reads_both_balances() {
    let state = TokenApp::genesis(&[2, 1]);
    let run = PLAIN.execute(
        &state,
        &tx(
            1,
            vec![TokenOp::Transfer {
                from: 0,
                to: 1,
                amount: 2,
            }],
        ),
    );
    assert_eq!(run.output, Ok(()));
    assert_eq!(run.writes[&balance_key(0)], Write::Set(0));
    assert_eq!(run.writes[&balance_key(1)], Write::Set(3));
    assert!(run.reads.contains(&balance_key(0)) && run.reads.contains(&balance_key(1)));
}

#[test]
fn delta_transfer_writes_deltas_and_sums_repeated_keys() {
    let state = TokenApp::genesis(&[3, 0]);
    let transfer = TokenOp::Transfer {
        from: 0,
        to: 1,
        amount: 1,
    };
    let run = DELTA.execute(&state, &tx(1, vec![transfer, transfer]));
    assert_eq!(run.writes[&balance_key(0)], Write::Delta(-2));
    assert_eq!(run.writes[&balance_key(1)], Write::Delta(2));
}

#[test]
fn overdraft_mint_over_cap_and_missing_account_are_rejected_without_writes() {
    let state = TokenApp::genesis(&[1, 0]);
    let cases = [
        (
            TokenOp::Transfer {
                from: 0,
                to: 1,
                amount: 2,
            },
            TokenError::InsufficientFunds(0),
        ),
        (
            TokenOp::Mint { to: 1, amount: 5 },
            TokenError::SupplyCapExceeded,
        ),
        (
            TokenOp::Burn { from: 7, amount: 1 },
            TokenError::MissingAccount(7),
        ),
        (
            TokenOp::Release {
                account: 0,
                amount: 1,
            },
            TokenError::InsufficientFunds(0),
        ),
    ];
    for (op, error) in cases {
        let run = DELTA.execute(&state, &tx(1, vec![op]));
        assert_eq!(run.output, Err(error), "{op:?}");
        assert!(run.writes.is_empty());
    }
}

#[test]
fn invariants_refuse_a_delta_that_overdraws_the_current_value() {
    let pre = TokenApp::genesis(&[1, 0]);
    let writes = BTreeMap::from([
        (balance_key(0), Write::Delta(-2)),
        (balance_key(1), Write::Delta(2)),
    ]);
    assert_eq!(
        DELTA.check_invariants(&pre, &writes),
        Err(TokenError::InsufficientFunds(0))
    );
    let mint = BTreeMap::from([(balance_key(1), Write::Delta(5)), (SUPPLY, Write::Delta(5))]);
    assert_eq!(
        DELTA.check_invariants(&pre, &mint),
        Err(TokenError::SupplyCapExceeded)
    );
    let missing = BTreeMap::from([(balance_key(9), Write::Delta(1))]);
    assert_eq!(
        DELTA.check_invariants(&pre, &missing),
        Err(TokenError::MissingAccount(9))
    );
    let fine = BTreeMap::from([
        (balance_key(0), Write::Delta(-1)),
        (hold_key(0), Write::Delta(1)),
    ]);
    assert_eq!(DELTA.check_invariants(&pre, &fine), Ok(()));
}

#[test]
fn reference_serial_fails_on_the_second_spend_of_one_token() {
    let genesis = TokenApp::genesis(&[1, 0]);
    let spend = |seq| {
        tx(
            seq,
            vec![TokenOp::Transfer {
                from: 0,
                to: 1,
                amount: 1,
            }],
        )
    };
    let (a, b) = (spend(1), spend(2));
    assert_eq!(
        reference_serial(5, &genesis, [&a, &b]),
        Err((1, TokenError::InsufficientFunds(0)))
    );
    let after_one = reference_serial(5, &genesis, [&a]).unwrap();
    assert_eq!(serially_equivalent(5, &genesis, [&a], &after_one), Ok(()));
    assert!(matches!(
        serially_equivalent(5, &genesis, [&a], &genesis),
        Err(SerialMismatch::StateDiffers { .. })
    ));
}

#[test]
fn state_predicates_detect_what_they_name() {
    let mut state = TokenApp::genesis(&[1, 1]);
    state.insert(balance_key(0), -1);
    assert!(!no_negative_balance(&state));
    assert!(!conserves_supply(&state));
    state.insert(SUPPLY, 6);
    assert!(!within_supply_cap(&state, 5));
}

#[test]
fn well_formed_requires_positive_amounts() {
    let zero = tx(1, vec![TokenOp::Mint { to: 0, amount: 0 }]);
    assert!(!DELTA.well_formed(&zero));
    assert!(DELTA.well_formed(&tx(1, vec![TokenOp::Mint { to: 0, amount: 1 }])));
}

#[test]
fn snapshot_reads_the_balance_and_writes_outside_the_token_ledger() {
    let state = TokenApp::genesis(&[2, 1]);
    let execution = DELTA.execute(&state, &tx(1, vec![TokenOp::Snapshot { account: 1 }]));
    assert_eq!(execution.output, Ok(()));
    assert!(execution.reads.contains(&balance_key(1)));
    assert_eq!(execution.writes[&snapshot_key(1)], Write::Set(1));
    let mut after = state.clone();
    apply_writes(&mut after, &execution.writes);
    // The copy is application data: conservation and non-negativity ignore it.
    assert!(conserves_supply(&after));
    let missing = DELTA.execute(&state, &tx(2, vec![TokenOp::Snapshot { account: 9 }]));
    assert_eq!(missing.output, Err(TokenError::MissingAccount(9)));
}

#[test]
fn deltas_conserve_refuses_a_credit_without_a_debit() {
    let state = TokenApp::genesis(&[2, 0]);
    let transfer = vec![TokenOp::Transfer {
        from: 0,
        to: 1,
        amount: 1,
    }];
    let honest = DELTA.execute(&state, &tx(1, transfer.clone())).writes;
    assert!(deltas_conserve(&transfer, &honest));
    assert_eq!(holding_and_supply_change(&state, &honest), (0, 0));
    let mut forged = honest.clone();
    forged.remove(&balance_key(0));
    assert!(!deltas_conserve(&transfer, &forged));
    assert_eq!(holding_and_supply_change(&state, &forged), (1, 0));
    let mint = vec![TokenOp::Mint { to: 1, amount: 1 }];
    let minted = DELTA.execute(&state, &tx(2, mint.clone())).writes;
    assert!(deltas_conserve(&mint, &minted));
    // The same mint's deltas do not conserve as a transfer.
    assert!(!deltas_conserve(&transfer, &minted));
}
