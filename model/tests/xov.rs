//! The XOV suite: honest validation passes every configuration with pinned state counts, the
//! checker finds each mutant's and the seed-literal replay variant's counterexample on the
//! property it names, and the hot-account contrast between plain MVCC and delta writes shows.

use crate::common;

use crate::common::Catch;
use quorate_model::check::{Report, SearchMode, Verdict};
use quorate_model::registry;

fn verdict(report: &Report, property: &str) -> Verdict {
    report.property(property).unwrap().verdict
}

/// Every `always` property holds in a complete search and a block commits; returns the report.
fn assert_verified(config: &str, expected_unique: usize) -> Report {
    let report = common::assert_verified("xov", config, expected_unique);
    assert_eq!(
        verdict(&report, "block committed"),
        Verdict::Reached,
        "{config} must commit something"
    );
    report
}

#[test]
fn delta_writes_commit_two_updates_of_the_hot_account_in_one_block() {
    let report = assert_verified("hot-delta", HOT_DELTA);
    assert_eq!(
        verdict(&report, "two valid txs in one block"),
        Verdict::Reached
    );
}

#[test]
fn plain_mvcc_never_commits_two_updates_of_the_hot_account_in_one_block() {
    // Card T6 in plain mode, as an expected failure: at most one update per block.
    let report = assert_verified("hot-plain", HOT_PLAIN);
    assert_eq!(verdict(&report, "one valid tx per block"), Verdict::Holds);
    assert_eq!(
        verdict(&report, "some tx MVCC_READ_CONFLICT"),
        Verdict::Reached
    );
}

#[test]
fn honest_xov_passes_double_spend_with_delta_writes() {
    assert_verified("double-spend-delta", DOUBLE_SPEND_DELTA);
}

#[test]
fn honest_xov_passes_double_spend_with_plain_mvcc() {
    assert_verified("double-spend-plain", DOUBLE_SPEND_PLAIN);
}

#[test]
fn honest_xov_passes_concurrent_mints_under_the_cap() {
    assert_verified("mint-cap", MINT_CAP);
}

#[test]
fn honest_xov_marks_replays_duplicate() {
    assert_verified("replay", REPLAY);
}

#[test]
fn honest_xov_refuses_an_insufficiently_endorsed_transaction() {
    assert_verified("bad-policy", BAD_POLICY);
}

#[test]
fn honest_xov_rejects_a_stale_plain_reader_of_a_delta_account() {
    // Card D5 / T10: the delta credit bumps the account's version, so the reader conflicts.
    assert_verified("mixed", MIXED);
}

#[test]
fn honest_xov_refuses_a_byzantine_endorsers_credit_without_debit() {
    // Card D7 / T11: under OR(org 0, org 1) one forged endorsement suffices for the policy;
    // the per-transaction conservation rule (VS3) is what refuses it.
    assert_verified("byzantine-endorser", BYZANTINE_ENDORSER);
}

#[test]
fn plain_mvcc_aborts_a_hot_account_credit_that_serial_execution_accepts() {
    // Card T6 is an expected failure under plain MVCC: the checker reaches a state where a
    // transfer was marked MVCC_READ_CONFLICT although Ref succeeds on the state before it.
    let report = assert_verified("hot-plain", HOT_PLAIN);
    assert_eq!(
        verdict(&report, "spurious abort (T6 fails)"),
        Verdict::Reached
    );
    let trace = report
        .property("spurious abort (T6 fails)")
        .unwrap()
        .trace
        .as_ref()
        .expect("a reached witness comes with its path");
    assert!(!trace.is_empty());
    // With delta writes the same workload never aborts spuriously.
    let delta = assert_verified("hot-delta", HOT_DELTA);
    assert_eq!(verdict(&delta, "no-spurious-abort"), Verdict::Holds);
}

const HOT_DELTA: usize = 227;
const HOT_PLAIN: usize = 291;
const DOUBLE_SPEND_DELTA: usize = 279;
const DOUBLE_SPEND_PLAIN: usize = 279;
const MINT_CAP: usize = 5_284;
const REPLAY: usize = 20_021;
const BAD_POLICY: usize = 143;
const MIXED: usize = 259;
const BYZANTINE_ENDORSER: usize = 109;

/// The mutant's counterexample is found, on the property the registry names, with a path.
fn assert_mutant_caught(mutant: &str) {
    common::assert_mutant_caught("xov", mutant, SearchMode::Bfs, true, Catch::Named);
}

#[test]
fn skipping_the_mvcc_check_breaks_serial_equivalence() {
    assert_mutant_caught("skip-mvcc");
}

#[test]
fn applying_invalid_transactions_breaks_serial_equivalence() {
    assert_mutant_caught("apply-invalid");
}

#[test]
fn deltas_without_the_invariant_check_make_a_balance_negative() {
    assert_mutant_caught("unchecked-deltas");
}

#[test]
fn ignoring_the_endorsement_policy_is_caught() {
    assert_mutant_caught("ignore-policy");
}

#[test]
fn seed_literal_validation_commits_a_replayed_mint_or_transfer_twice() {
    assert_mutant_caught("seed-literal");
}

#[test]
fn a_peer_validating_in_its_own_order_breaks_agreement() {
    assert_mutant_caught("local-order");
}

#[test]
fn dropping_invalid_transactions_from_the_ledger_breaks_refinement_of_the_sequencer() {
    assert_mutant_caught("drop-invalid");
}

#[test]
fn applying_deltas_one_by_one_leaves_a_failed_mint_half_applied() {
    assert_mutant_caught("non-atomic-apply");
    // The half-applied mint credited a balance without raising the supply.
    let report = common::run(
        "xov",
        "mint-cap",
        Some("non-atomic-apply"),
        SearchMode::Bfs,
        false,
    );
    assert!(
        report.violations().contains(&"conservation"),
        "violated: {:?}",
        report.violations()
    );
}

#[test]
fn without_the_conservation_rule_a_byzantine_endorser_creates_tokens() {
    assert_mutant_caught("no-conservation-check");
    let report = common::run(
        "xov",
        "byzantine-endorser",
        Some("no-conservation-check"),
        SearchMode::Bfs,
        false,
    );
    assert!(
        report.violations().contains(&"per-tx-conservation"),
        "violated: {:?}",
        report.violations()
    );
}

#[test]
fn delta_commits_that_keep_the_old_version_let_a_stale_reader_commit() {
    assert_mutant_caught("no-version-bump");
}

#[test]
fn relaxing_mvcc_while_keeping_absolute_writes_loses_an_update() {
    assert_mutant_caught("relax-only");
    // Both credits of the hot account commit in one block: seed 002's one-per-block bound
    // under plain MVCC is also shown able to fail.
    let report = common::run(
        "xov",
        "hot-plain",
        Some("relax-only"),
        SearchMode::Bfs,
        false,
    );
    assert!(
        report.violations().contains(&"one valid tx per block"),
        "violated: {:?}",
        report.violations()
    );
}

#[test]
fn mvcc_checked_delta_reads_abort_hot_account_credits_spuriously() {
    assert_mutant_caught("checked-delta-reads");
}

#[test]
fn a_delta_check_without_the_supply_cap_lets_concurrent_mints_exceed_it() {
    assert_mutant_caught("no-supply-cap");
}

#[test]
fn a_forging_endorser_must_be_a_peer() {
    let (_, mut config) = quorate_model::xov::configs().into_iter().next().unwrap();
    config.forging_endorser = Some(9);
    let error = config.validate().unwrap_err().to_string();
    assert!(error.contains("forging_endorser 9"), "{error}");
}

#[test]
fn every_mutant_has_a_test() {
    let names: Vec<&str> = registry::protocol("xov")
        .unwrap()
        .mutants
        .iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(
        names,
        [
            "skip-mvcc",
            "apply-invalid",
            "unchecked-deltas",
            "ignore-policy",
            "seed-literal",
            "local-order",
            "drop-invalid",
            "non-atomic-apply",
            "no-conservation-check",
            "no-version-bump",
            "relax-only",
            "checked-delta-reads",
            "no-supply-cap",
        ]
    );
}

#[test]
fn a_policy_naming_an_unknown_organisation_is_refused_with_the_rule() {
    let (_, mut config) = quorate_model::xov::configs().into_iter().next().unwrap();
    config.policy = quorate_spec::xov::Policy::Org(7);
    let error = config.validate().unwrap_err().to_string();
    assert!(error.contains("organisation 7"), "{error}");
}

#[test]
fn deltas_without_the_invariant_check_also_exceed_the_supply_cap() {
    // Two concurrent mints of 1 on supply 2 of 3: unchecked, both commit and supply reaches 4.
    let report = common::run(
        "xov",
        "mint-cap",
        Some("unchecked-deltas"),
        SearchMode::Bfs,
        true,
    );
    assert!(
        report.violations().contains(&"supply-cap"),
        "violated: {:?}",
        report.violations()
    );
}
