//! Our `System` host against stateright's `ActorModel` on the same actors: the state graphs must
//! be the same size (DESIGN §4). The calibration counts are those of stateright's own
//! `examples/paxos.rs`, measured on this machine (research/checker-vs-spin.md).

use quorate_model::calibration;
use quorate_model::paxos;
use stateright::actor::{ActorModel, Network};
use stateright::{Checker, Model};

fn actor_model_counts(client_count: usize) -> (usize, usize) {
    let model = calibration::actor_model(client_count);
    let checker = model.checker().spawn_bfs().join();
    checker.assert_properties();
    (checker.unique_state_count(), checker.state_count())
}

fn system_counts<M>(model: M) -> (usize, usize)
where
    M: Model + Send + Sync + 'static,
    M::State: std::hash::Hash + Send + Sync + Clone + PartialEq + std::fmt::Debug + 'static,
    M::Action: Clone + PartialEq + std::fmt::Debug,
{
    let checker = model.checker().spawn_bfs().join();
    checker.assert_properties();
    (checker.unique_state_count(), checker.state_count())
}

#[test]
fn calibration_with_two_clients_matches_actor_model_and_the_reference_example() {
    let ours = system_counts(calibration::system(2));
    assert_eq!(ours, (16_668, 32_971));
    assert_eq!(actor_model_counts(2), ours);
}

#[test]
fn calibration_with_three_clients_matches_actor_model_and_the_reference_example() {
    let ours = system_counts(calibration::system(3));
    assert_eq!(ours, (1_194_428, 2_420_477));
    assert_eq!(actor_model_counts(3), ours);
}

/// The Paxos default configuration hosted by `ActorModel` (same actors, same bounds where
/// `ActorModel` can express them: no crashes in this entry) reaches the same number of states.
#[test]
fn paxos_default_configuration_matches_actor_model() {
    let (_, config) = paxos::configs()
        .into_iter()
        .find(|(info, _)| info.name == "default")
        .unwrap();
    assert_eq!(
        config.max_down, 0,
        "ActorModel cannot express replica-only crashes"
    );
    let ours = system_counts(config.system::<quorate_impl::paxos::Honest>());
    let bounds = config.clone();
    let theirs = ActorModel::new(bounds, ())
        .actors(config.actors::<quorate_impl::paxos::Honest>())
        .init_network(Network::new_unordered_nonduplicating([]))
        .within_boundary(|config, state| {
            paxos::within_actor_bounds(config, state.actor_states.iter().map(|a| &**a))
        })
        // With no property at all the checker would stop at once ("every property discovered").
        .property(
            stateright::Expectation::Always,
            "explore everything",
            |_, _| true,
        );
    let checker = theirs.checker().spawn_bfs().join();
    assert_eq!(checker.unique_state_count(), ours.0);
    assert_eq!(checker.state_count(), ours.1);
}
