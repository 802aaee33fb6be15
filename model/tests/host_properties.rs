//! The two properties `System` adds to every model can fail: a handler that panics is an
//! `actor-assertion` violation with its path (the deadlock check's counterpart is the
//! calibration `lossy-network` mutant in `checker_features.rs`).

use quorate_model::check::{run_check, CheckOptions, SearchMode, Verdict};
use quorate_model::{System, ACTOR_ASSERTION};
use serde::{Deserialize, Serialize};
use stateright::actor::{Actor, Id, Out};
use std::borrow::Cow;

/// Actor 0 pings actor 1 once; actor 1 counts pings and, if `fragile`, asserts it never gets one.
#[derive(Clone, Debug)]
struct Pinger {
    fragile: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
struct Ping;

impl Actor for Pinger {
    type Msg = Ping;
    type Timer = ();
    type State = u8;
    type Storage = ();
    type Random = ();

    fn on_start(&self, id: Id, _storage: &Option<()>, out: &mut Out<Self>) -> u8 {
        if usize::from(id) == 0 {
            out.send(Id::from(1), Ping);
        }
        0
    }

    fn on_msg(&self, _id: Id, state: &mut Cow<u8>, _src: Id, _msg: Ping, _out: &mut Out<Self>) {
        assert!(!self.fragile, "a fragile pinger received a ping");
        *state.to_mut() += 1;
    }
}

fn check(fragile: bool) -> quorate_model::check::Report {
    let system = System::new(vec![Pinger { fragile }; 2], ());
    let options = CheckOptions {
        mode: SearchMode::Bfs,
        threads: 1,
        deadlock: false,
        ..CheckOptions::default()
    };
    run_check("host", "pingers", None, system, &options)
}

#[test]
fn a_panicking_handler_is_an_actor_assertion_violation_with_its_path() {
    let report = check(true);
    let property = report.property(ACTOR_ASSERTION).unwrap();
    assert_eq!(property.verdict, Verdict::Violated);
    assert!(!property.trace.as_ref().unwrap().is_empty());
}

#[test]
fn the_same_system_without_the_panic_holds() {
    let report = check(false);
    assert!(report.complete);
    assert_eq!(
        report.property(ACTOR_ASSERTION).unwrap().verdict,
        Verdict::Holds
    );
}

/// Exit code 4 (DESIGN §5): a complete run whose `sometimes` property is never reached is
/// vacuous, under the default DFS and under BFS; reaching it turns the run back to 0.
#[test]
fn a_sometimes_property_never_reached_makes_the_run_vacuous() {
    use quorate_model::check::exit;
    use stateright::Expectation;
    for mode in [SearchMode::Dfs, SearchMode::Bfs] {
        let options = CheckOptions {
            mode,
            deadlock: false,
            ..CheckOptions::default()
        };
        let never = System::new(vec![Pinger { fragile: false }; 2], ()).property(
            Expectation::Sometimes,
            "two pings",
            |_, state| *state.actor(1) >= 2,
        );
        let report = run_check("host", "pingers", None, never, &options);
        assert!(report.complete, "{mode:?}");
        assert_eq!(
            report.property("two pings").unwrap().verdict,
            Verdict::NeverReached
        );
        assert_eq!(report.exit_code(), exit::VACUOUS, "{mode:?}");

        let reached = System::new(vec![Pinger { fragile: false }; 2], ()).property(
            Expectation::Sometimes,
            "one ping",
            |_, state| *state.actor(1) == 1,
        );
        let report = run_check("host", "pingers", None, reached, &options);
        assert_eq!(report.exit_code(), exit::OK, "{mode:?}");
    }
}
