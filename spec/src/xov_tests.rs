use super::*;

#[test]
fn policies_combine_and_or_and_k_of_n() {
    let both = Policy::And(vec![Policy::Org(0), Policy::Org(1)]);
    let either = Policy::Or(vec![Policy::Org(0), Policy::Org(1)]);
    let two_of_three = Policy::OutOf(2, vec![Policy::Org(0), Policy::Org(1), Policy::Org(2)]);
    let only_a = BTreeSet::from([0]);
    let a_and_c = BTreeSet::from([0, 2]);
    assert!(!both.satisfied_by(&only_a));
    assert!(both.satisfied_by(&BTreeSet::from([0, 1])));
    assert!(either.satisfied_by(&only_a));
    assert!(!two_of_three.satisfied_by(&only_a));
    assert!(two_of_three.satisfied_by(&a_and_c));
    assert_eq!(two_of_three.orgs(), BTreeSet::from([0, 1, 2]));
}

#[test]
fn mvcc_conflicts_on_in_block_writes_whatever_the_version() {
    let committed = versioned_genesis(&KvState::from([(Key(0), 1)]));
    let reads = BTreeMap::from([(Key(0), Some(Version::default()))]);
    assert_eq!(mvcc_check(&committed, &BTreeSet::new(), &reads), Ok(()));
    assert_eq!(
        mvcc_check(&committed, &BTreeSet::from([Key(0)]), &reads),
        Err(Code::MvccReadConflict)
    );
}

#[test]
fn mvcc_compares_versions_exactly_and_absent_differs_from_genesis() {
    let committed = versioned_genesis(&KvState::from([(Key(0), 1)]));
    let newer = BTreeMap::from([(Key(0), Some(Version { block: 3, tx: 0 }))]);
    let absent = BTreeMap::from([(Key(0), None)]);
    let absent_ok = BTreeMap::from([(Key(5), None)]);
    assert_eq!(
        mvcc_check(&committed, &BTreeSet::new(), &newer),
        Err(Code::MvccReadConflict)
    );
    assert_eq!(
        mvcc_check(&committed, &BTreeSet::new(), &absent),
        Err(Code::MvccReadConflict)
    );
    assert_eq!(mvcc_check(&committed, &BTreeSet::new(), &absent_ok), Ok(()));
}

#[test]
fn versioned_apply_stamps_deltas_too() {
    let mut state = versioned_genesis(&KvState::from([(Key(0), 1), (Key(1), 4)]));
    let at = Version { block: 1, tx: 2 };
    apply_versioned(
        &mut state,
        &BTreeMap::from([
            (Key(0), Write::Delta(2)),
            (Key(1), Write::Delete),
            (Key(2), Write::Set(7)),
        ]),
        at,
    );
    assert_eq!(state[&Key(0)], (3, at));
    assert!(!state.contains_key(&Key(1)));
    assert_eq!(values(&state), KvState::from([(Key(0), 3), (Key(2), 7)]));
}

#[test]
fn codes_have_fabric_names() {
    assert_eq!(Code::MvccReadConflict.name(), "MVCC_READ_CONFLICT");
    assert_eq!(
        Code::from(TokenError::SupplyCapExceeded),
        Code::SupplyCapExceeded
    );
    assert_eq!(Code::ALL.len(), 10);
}
