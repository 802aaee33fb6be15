//! The calibration protocol under our `System` host: single-decree Paxos whose state graph is
//! that of stateright's `examples/paxos.rs` (16,668 unique states with 2 clients, 1,194,428 with
//! 3). It anchors the differential test against `ActorModel` and the checker benchmarks.

use crate::registry::{
    check_via, explore_via, ConfigError, ConfigInfo, Dispatch, ModelNames, ModelTask, MutantInfo,
    ProtocolInfo,
};
use crate::system::{System, SystemState};
use quorate_impl::calibration::{
    calibration_actors, record_invocation, record_return, stale_read_actors, value_chosen,
    CalibrationActor, CalibrationHistory, CalibrationState, ClientPhase,
};
use stateright::actor::ActorModel;
use stateright::semantics::register::Register;
use stateright::semantics::LinearizabilityTester;
use stateright::Expectation;

/// The same actors and history under stateright's own `ActorModel`: the differential test's and
/// the checker benchmark's baseline.
pub fn actor_model(client_count: usize) -> ActorModel<CalibrationActor, (), CalibrationHistory> {
    ActorModel::new((), LinearizabilityTester::new(Register('\0')))
        .actors(calibration_actors(client_count))
        .init_network(stateright::actor::Network::new_unordered_nonduplicating([]))
        .record_msg_out(|_, history, env| record_invocation(history, env.src, env.dst, env.msg))
        .record_msg_in(|_, history, env| record_return(history, env.src, env.dst, env.msg))
        .property(Expectation::Always, "linearizable", |_, state| {
            state.history.serialized_history().is_some()
        })
        .property(Expectation::Sometimes, "value chosen", |_, state| {
            value_chosen(state.network.iter_all().map(|env| env.msg))
        })
}

/// The calibration system with `client_count` clients.
pub type CalibrationSystem = System<CalibrationActor, CalibrationHistory>;

/// The mutant that shows the deadlock check fires: the same protocol over a network that may
/// lose messages. The protocol never retransmits, so a lost request leaves its client waiting
/// with nothing left to happen.
pub const LOSSY_NETWORK: &str = "lossy-network";

/// The mutant that shows the linearizability check fires: undecided servers answer reads from
/// their own accepted value (or the initial one) instead of waiting for the decision.
pub const STALE_READS: &str = "stale-reads";

/// The register's single consensus instance is undecided while some client still waits (the
/// deadlock check's "undecided"). A client whose Put lost the ballot is never answered by this
/// protocol (stateright's example is one-shot by design), so "answered" would flag every run
/// in which two Puts compete; what must not get stuck is the decision itself.
fn client_operation_undecided(
    _: &CalibrationSystem,
    state: &SystemState<CalibrationActor, CalibrationHistory>,
) -> bool {
    let waiting = state.actors().any(
        |actor| matches!(actor, CalibrationState::Client(phase) if *phase != ClientPhase::Done),
    );
    let decided = state
        .actors()
        .any(|actor| matches!(actor, CalibrationState::Server(server) if server.is_decided));
    waiting && !decided
}

/// Builds the calibration system with `client_count` clients.
pub fn system(client_count: usize) -> CalibrationSystem {
    system_of(calibration_actors(client_count))
}

fn system_of(actors: Vec<CalibrationActor>) -> CalibrationSystem {
    System::new(actors, LinearizabilityTester::new(Register('\0')))
        .record_msg_out(|history, env| record_invocation(history, env.src, env.dst, env.msg))
        .record_msg_in(|history, env| record_return(history, env.src, env.dst, env.msg))
        .client_operations_undecided(client_operation_undecided)
        .history_property(Expectation::Always, "linearizable", |history| {
            history.serialized_history().is_some()
        })
        .property(
            Expectation::Sometimes,
            "value chosen",
            |_, state: &SystemState<_, _>| {
                value_chosen(state.network.iter_all().map(|env| env.msg))
            },
        )
}

/// The calibration model's mapping from (configuration, mutant) to a model.
pub struct CalibrationDispatch;

impl Dispatch for CalibrationDispatch {
    fn with_model<T: ModelTask>(
        config: &str,
        mutant: Option<&str>,
        task: T,
    ) -> Result<T::Output, ConfigError> {
        let (lossy, stale_reads) = match mutant {
            None => (false, false),
            Some(LOSSY_NETWORK) => (true, false),
            Some(STALE_READS) => (false, true),
            Some(other) => {
                return Err(ConfigError(format!(
                    "unknown calibration mutant {other:?}; known: {LOSSY_NETWORK}, {STALE_READS}"
                )))
            }
        };
        // The suite lists 2 and 3 clients (the research note's graphs); any `N-clients` with
        // 1 <= N <= 5 runs the same model with N clients.
        let clients = config
            .strip_suffix("-clients")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| (1..=5).contains(n))
            .ok_or_else(|| {
                ConfigError(format!(
                    "unknown calibration configuration {config:?}: expected N-clients with \
                     1 <= N <= 5 (the suite: 2-clients, 3-clients)"
                ))
            })?;
        let names = ModelNames {
            protocol: "calibration",
            config,
            mutant,
        };
        let actors = if stale_reads {
            stale_read_actors(clients)
        } else {
            calibration_actors(clients)
        };
        Ok(task.run(names, system_of(actors).lossy(lossy)))
    }
}

/// The registry entry.
pub fn protocol() -> ProtocolInfo {
    ProtocolInfo {
        name: "calibration",
        summary:
            "single-decree Paxos register identical in behaviour to stateright's examples/paxos.rs",
        configs: vec![
            ConfigInfo {
                name: "2-clients",
                summary:
                    "3 servers, 2 clients (Put then Get), unordered non-duplicating, no faults",
                budget_states: 20_000,
                budget_seconds: 10,
                expected_unique: Some(16_668),
                soak: false,
            },
            ConfigInfo {
                name: "3-clients",
                summary:
                    "3 servers, 3 clients (Put then Get), unordered non-duplicating, no faults",
                budget_states: 1_200_000,
                budget_seconds: 120,
                expected_unique: Some(1_194_428),
                soak: false,
            },
        ],
        mutants: vec![MutantInfo {
            name: LOSSY_NETWORK,
            summary: "the network may lose messages; the protocol never retransmits, so a lost request deadlocks its client",
            breaks: crate::deadlock::DEADLOCK_FREE,
            config: "2-clients",
            also_breaks: &[],
        }, MutantInfo {
            name: STALE_READS,
            summary: "an undecided server answers a read from its own accepted value instead of waiting for the decision",
            breaks: "linearizable",
            config: "2-clients",
            also_breaks: &[],
        }],
        properties: vec![
            ("linearizable", "the register history is linearizable"),
            (crate::deadlock::DEADLOCK_FREE, "no undecided client operation with only crashes, recoveries, losses or retransmissions left (on unless --no-deadlock)"),
            ("value chosen", "sometimes: a Get returns a written value"),
        ],
        check: check_via::<CalibrationDispatch>,
        explore: explore_via::<CalibrationDispatch>,
        declared: crate::claims::declared_via::<CalibrationDispatch>,
    }
}
