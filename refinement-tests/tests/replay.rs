//! A counterexample's actions, exported as JSON, replay through the model step by step and
//! end in the same violation: the trace format is complete enough to reproduce a run.

use quorate_impl::paxos::SmallQuorum;
use quorate_model::paxos::configs;
use quorate_model::ActionOf;
use stateright::{Checker, Model};

#[test]
fn exported_counterexample_replays_to_the_same_violation() {
    let (_, config) = configs()
        .into_iter()
        .find(|(info, _)| info.name == "two-leaders")
        .unwrap();
    let model = config.system::<SmallQuorum>();
    let checker = model
        .checker()
        .finish_when(stateright::HasDiscoveries::AnyFailures)
        .spawn_bfs()
        .join();
    let path = checker
        .discovery("agreement")
        .expect("the small-quorum mutant breaks agreement");
    let exported = serde_json::to_string(&path.into_actions()).unwrap();

    let model = config.system::<SmallQuorum>();
    let actions: Vec<ActionOf<quorate_model::paxos::Node<SmallQuorum>>> =
        serde_json::from_str(&exported).unwrap();
    let mut state = model.init_states().remove(0);
    for (step, action) in actions.into_iter().enumerate() {
        state = model
            .next_state(&state, action)
            .unwrap_or_else(|| panic!("step {} of the exported trace is not enabled", step + 1));
    }
    let agreement = model
        .properties()
        .into_iter()
        .find(|p| p.name == "agreement")
        .unwrap();
    assert!(
        !(agreement.condition)(&model, &state),
        "the replayed run must end in the violation"
    );
}
