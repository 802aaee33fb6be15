//! `quorate replay`: runs serialised actions (a `--trace-out` counterexample or example, or a
//! trace recorded by a deployment) through the model step by step, describing each actor's
//! state change as a line diff, and stops at the first action that is not enabled.

use crate::check::Describe;
use crate::system::{ActionOf, System, SystemState};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};
use stateright::actor::{Actor, Id};
use stateright::{Expectation, Model};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::hash::Hash;

/// One replayed step.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReplayedStep {
    /// 1-based step number.
    pub index: usize,
    /// Human-readable action.
    pub action: String,
    /// What changed: per actor a diff of its state, messages sent, crash flags.
    pub changes: Vec<String>,
}

/// A property's value in the last replayed state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FinalProperty {
    /// Property name.
    pub name: String,
    /// `always`, `sometimes` or `eventually`.
    pub expectation: String,
    /// The condition's value in the last state.
    pub holds: bool,
}

/// The outcome of a replay.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReplayOutcome {
    /// The steps replayed, in order.
    pub steps: Vec<ReplayedStep>,
    /// Why the replay stopped early, if it did.
    pub error: Option<String>,
    /// Every property's condition in the last state reached.
    pub final_properties: Vec<FinalProperty>,
}

pub(crate) fn replay<A, H>(system: &System<A, H>, steps: &[serde_json::Value]) -> ReplayOutcome
where
    A: Actor,
    A::Msg: Ord + DeserializeOwned,
    A::Timer: Ord + DeserializeOwned,
    A::Random: DeserializeOwned,
    H: Clone + Debug + Hash + PartialEq,
{
    let mut state = system
        .init_states()
        .into_iter()
        .next()
        .expect("a System has one initial state");
    let mut replayed = Vec::new();
    let mut error = None;
    for (offset, json) in steps.iter().enumerate() {
        let index = offset + 1;
        match replay_step(system, &state, index, json) {
            Ok((action, next)) => {
                replayed.push(ReplayedStep {
                    index,
                    action: system.describe_action(&state, &action),
                    changes: changes(system, &state, &next),
                });
                state = next;
            }
            Err(message) => {
                error = Some(message);
                break;
            }
        }
    }
    let final_properties = system
        .properties()
        .iter()
        .map(|property| FinalProperty {
            name: property.name.to_string(),
            expectation: match property.expectation {
                Expectation::Always => "always",
                Expectation::Sometimes => "sometimes",
                Expectation::Eventually => "eventually",
            }
            .to_string(),
            holds: (property.condition)(system, &state),
        })
        .collect();
    ReplayOutcome {
        steps: replayed,
        error,
        final_properties,
    }
}

fn replay_step<A, H>(
    system: &System<A, H>,
    state: &SystemState<A, H>,
    index: usize,
    json: &serde_json::Value,
) -> Result<(ActionOf<A>, SystemState<A, H>), String>
where
    A: Actor,
    A::Msg: Ord + DeserializeOwned,
    A::Timer: Ord + DeserializeOwned,
    A::Random: DeserializeOwned,
    H: Clone + Debug + Hash + PartialEq,
{
    let action: ActionOf<A> = serde_json::from_value(json.clone())
        .map_err(|e| format!("step {index}: not an action of this protocol's model: {e}"))?;
    let mut enabled = Vec::new();
    system.enabled_actions(state, &mut enabled);
    let description = system.describe_action(state, &action);
    if !enabled.contains(&action) {
        return Err(format!(
            "step {index} is not enabled after step {}: {description} (no such message in flight, \
             timer armed, crash allowed or random choice pending)",
            index - 1
        ));
    }
    let next = system.successor(state, &action).ok_or_else(|| {
        format!("step {index} is not a step: {description} changes nothing and sends nothing")
    })?;
    Ok((action, next))
}

fn changes<A, H>(
    system: &System<A, H>,
    prev: &SystemState<A, H>,
    next: &SystemState<A, H>,
) -> Vec<String>
where
    A: Actor,
    A::Msg: Ord,
    A::Timer: Ord,
    H: Clone + Debug + Hash + PartialEq,
{
    let mut lines = Vec::new();
    for index in 0..system.actors.len() {
        let name = system.actor_name(Id::from(index));
        if prev.is_crashed(index) != next.is_crashed(index) {
            let word = if next.is_crashed(index) {
                "is down"
            } else {
                "is up"
            };
            lines.push(format!("{name} {word}"));
        }
        if prev.actor(index) != next.actor(index) {
            lines.push(format!("{name}:"));
            lines.extend(diff(prev.actor(index), next.actor(index)));
        }
        if prev.storage(index) != next.storage(index) {
            lines.push(format!("{name} storage:"));
            lines.extend(diff(&prev.storage(index), &next.storage(index)));
        }
    }
    let mut in_flight: BTreeMap<String, usize> = BTreeMap::new();
    for env in prev.network.iter_all() {
        *in_flight.entry(format!("{env:?}")).or_default() += 1;
    }
    for env in next.network.iter_all() {
        let key = format!("{env:?}");
        match in_flight.get_mut(&key) {
            Some(count) if *count > 0 => *count -= 1,
            _ => lines.push(format!(
                "sent {} -> {}: {:?}",
                system.actor_name(env.src),
                system.actor_name(env.dst),
                env.msg
            )),
        }
    }
    if let Some(poison) = &next.poisoned {
        lines.push(format!("ASSERTION FAILED: {poison}"));
    }
    lines
}

/// How deep a pretty `Debug` form keeps one field a line; deeper parts join their field's line,
/// so a diff names the changed field without spelling out a whole request per line.
const DIFF_DEPTH: usize = 3;

/// The changed lines of two values' pretty `Debug` forms, with one line of context.
fn diff<T: Debug>(old: &T, new: &T) -> Vec<String> {
    let (old, new) = (
        flatten(&format!("{old:#?}"), DIFF_DEPTH),
        flatten(&format!("{new:#?}"), DIFF_DEPTH),
    );
    let diff = TextDiff::from_lines(&old, &new);
    let mut lines = Vec::new();
    for group in diff.grouped_ops(1) {
        if !lines.is_empty() {
            lines.push("    ...".to_string());
        }
        for op in group {
            for change in diff.iter_changes(&op) {
                let sign = match change.tag() {
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                    ChangeTag::Equal => ' ',
                };
                lines.push(format!("  {sign} {}", change.value().trim_end()));
            }
        }
    }
    lines
}

/// Joins every line indented deeper than `depth` levels (of four spaces) to the line above.
fn flatten(pretty: &str, depth: usize) -> String {
    let mut out = String::with_capacity(pretty.len());
    for line in pretty.lines() {
        let indent = line.len() - line.trim_start().len();
        if indent > 4 * depth && !out.is_empty() {
            out.push(' ');
            out.push_str(line.trim());
        } else {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(line);
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    #[allow(dead_code)]
    struct Inner {
        round: u32,
        voters: Vec<u8>,
    }

    #[derive(Debug)]
    #[allow(dead_code)]
    struct Outer {
        name: &'static str,
        inner: Inner,
    }

    #[test]
    fn diff_shows_only_the_changed_field_with_context() {
        let old = Outer {
            name: "a",
            inner: Inner {
                round: 1,
                voters: vec![1, 2],
            },
        };
        let new = Outer {
            name: "a",
            inner: Inner {
                round: 2,
                voters: vec![1, 2],
            },
        };
        let lines = diff(&old, &new);
        assert!(
            lines.contains(&"  -         round: 1,".to_string()),
            "{lines:#?}"
        );
        assert!(
            lines.contains(&"  +         round: 2,".to_string()),
            "{lines:#?}"
        );
        assert!(!lines.iter().any(|l| l.contains("name")), "{lines:#?}");
    }

    #[test]
    fn flatten_joins_deep_lines_to_their_field() {
        let pretty = "A {\n    b: C {\n        d: 1,\n    },\n}";
        assert_eq!(flatten(pretty, 1), "A {\n    b: C { d: 1,\n    },\n}\n");
    }
}
