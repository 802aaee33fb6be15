//! Our DFS against stateright's on the same models: the same counts, the same maximum depth and
//! the same discoveries along the same paths (it visits states in stateright's order), also when
//! it stops at the first violation of a mutant.

use quorate_impl::paxos::{Honest, SmallQuorum};
use quorate_model::calibration;
use quorate_model::dfs::{DfsChecker, DfsOptions, Expand};
use quorate_model::paxos;
use stateright::{Checker, HasDiscoveries, Model};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::hash::Hash;

type Outcome<A> = (usize, usize, usize, BTreeMap<&'static str, Vec<A>>);

fn outcome<M: Model>(checker: &impl Checker<M>) -> Outcome<M::Action>
where
    M::State: Clone + PartialEq + Hash,
    M::Action: Clone + PartialEq,
{
    let discoveries = checker
        .discoveries()
        .into_iter()
        .map(|(name, path)| (name, path.into_actions()))
        .collect();
    (
        checker.unique_state_count(),
        checker.state_count(),
        checker.max_depth(),
        discoveries,
    )
}

fn both<M>(
    make: impl Fn() -> M,
    finish_when: HasDiscoveries,
) -> (Outcome<M::Action>, Outcome<M::Action>)
where
    M: Expand + Send + Sync + 'static,
    M::State: Clone + PartialEq + Hash + Send + Sync + Debug + 'static,
    M::Action: Clone + PartialEq + Debug,
{
    let theirs = make()
        .checker()
        .finish_when(finish_when.clone())
        .spawn_dfs()
        .join();
    let ours = DfsChecker::spawn(
        make(),
        DfsOptions {
            finish_when,
            target_state_count: None,
        },
    )
    .join();
    (outcome(&ours), outcome(&theirs))
}

#[test]
fn calibration_search_matches_stateright_dfs() {
    let (ours, theirs) = both(|| calibration::system(2), HasDiscoveries::All);
    assert_eq!(ours.0, 16_668);
    assert_eq!(ours.1, 32_971);
    assert!(ours.3.contains_key("value chosen"));
    assert_eq!(ours, theirs);
}

#[test]
fn paxos_default_search_matches_stateright_dfs() {
    let config = paxos::configs().remove(0).1;
    let (ours, theirs) = both(|| config.system::<Honest>(), HasDiscoveries::All);
    assert_eq!(ours.0, 28_712);
    assert_eq!(ours, theirs);
}

#[test]
fn a_mutant_stops_at_the_same_state_with_the_same_counterexample() {
    let config = paxos::configs().remove(1).1;
    let (ours, theirs) = both(
        || config.system::<SmallQuorum>(),
        HasDiscoveries::AnyFailures,
    );
    assert!(ours.3.contains_key("agreement"), "{:?}", ours.3.keys());
    assert_eq!(ours, theirs);
}
