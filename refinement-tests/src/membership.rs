//! Check 2, second half (DESIGN §6): every step of the merged global order is an action the
//! replay model (`System` over the run's own actors, network contract, no checking bounds)
//! allows from the previous state, landing on the state the trace recorded; and every `always`
//! property holds along the run.
//!
//! Properties are evaluated as monitors: after each step that changed an actor's state or the
//! history, never on a clone of the history (steps share it copy-on-write). Gaps between
//! incarnations become the model's `Crash` then `Recover`, and the Storage the model hands to
//! `Recover` must have the digest the new incarnation recorded as loaded — which is how a save
//! that was not durable when its sends left is caught.

use std::fmt;
use std::hash::Hash;

use quorate_impl::component::node_id;
use quorate_impl::trace::{digest, TraceInput, TraceOutput};
use quorate_model::deadlock::DEADLOCK_FREE;
use quorate_model::{ActionOf, System, SystemAction, SystemState};
use serde::Serialize;
use stateright::actor::Actor;
use stateright::{Expectation, Model};

use crate::merge::GlobalStep;
use crate::replay::hex;
use crate::traces::{NodeTrace, RecordOf};

/// A step the replay model does not allow, or a property that failed along the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipError {
    /// Position in the global order.
    pub global_step: usize,
    /// The node whose step it was.
    pub node: u32,
    /// What went wrong.
    pub detail: String,
}

impl fmt::Display for MembershipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "global step {} (node {}): {}",
            self.global_step, self.node, self.detail
        )
    }
}

impl std::error::Error for MembershipError {}

/// What the membership check went through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MembershipStats {
    /// Model actions taken (crashes and recoveries included).
    pub actions: u64,
    /// Recorded no-op steps, matched by the model refusing the same action.
    pub no_ops: u64,
    /// Property evaluations (monitors run).
    pub property_checks: u64,
}

/// The final model state of a run accepted as a member, with its statistics.
pub struct Member<A: Actor, H> {
    /// The model state after the last step.
    pub state: SystemState<A, H>,
    /// Counts.
    pub stats: MembershipStats,
}

/// One accepted step of the walk, as an observer sees it.
pub struct StepView<'a, A: Actor, H> {
    /// Position in the global order.
    pub position: usize,
    /// The node whose step it was.
    pub node: u32,
    /// Its trace record.
    pub record: &'a RecordOf<A>,
    /// The node's model state before the step.
    pub before: &'a A::State,
    /// The node's model state after it.
    pub after: &'a A::State,
    /// The whole model state after it.
    pub state: &'a SystemState<A, H>,
    /// Whether the step was a model action (not a refused no-op nor the initial start).
    pub acted: bool,
}

impl<A: Actor, H> StepView<'_, A, H> {
    /// The message this step delivered, if it was a delivery.
    pub fn delivered(&self) -> Option<&A::Msg> {
        match &self.record.input {
            TraceInput::Deliver { msg, .. } => Some(msg),
            _ => None,
        }
    }

    /// Whether the step changed the node's state (as the trace recorded it).
    pub fn changed(&self) -> bool {
        self.record.state_digest_before != self.record.state_digest_after
    }
}

/// Walks `order` through `system`, checking each step against its trace record.
pub fn check_membership<A, H>(
    system: &System<A, H>,
    traces: &[NodeTrace<A>],
    order: &[GlobalStep],
) -> Result<Member<A, H>, MembershipError>
where
    A: Actor<Msg: Ord + Serialize, Timer: Ord + Serialize, State: Serialize, Storage: Serialize>,
    H: Clone + fmt::Debug + Hash + PartialEq,
{
    check_membership_observed(system, traces, order, &[], |_| Ok(()))
}

/// [`check_membership`], handing every accepted step to `observe` (client histories and
/// incremental monitors run off the walk this way, without a second pass). The `always`
/// properties named in `monitored` are left to `observe`'s incremental monitors during the
/// walk and evaluated in full once, on the final state, as a cross-check.
pub fn check_membership_observed<A, H>(
    system: &System<A, H>,
    traces: &[NodeTrace<A>],
    order: &[GlobalStep],
    monitored: &[&str],
    mut observe: impl FnMut(StepView<'_, A, H>) -> Result<(), String>,
) -> Result<Member<A, H>, MembershipError>
where
    A: Actor<Msg: Ord + Serialize, Timer: Ord + Serialize, State: Serialize, Storage: Serialize>,
    H: Clone + fmt::Debug + Hash + PartialEq,
{
    let always: Vec<_> = system
        .properties()
        .into_iter()
        // Deadlock freedom speaks of the model's futures, not of one run: the run's progress is
        // SimHost's liveness phase.
        .filter(|p| p.expectation == Expectation::Always && p.name != DEADLOCK_FREE)
        .collect();
    let (at_end, always): (Vec<_>, Vec<_>) = always
        .into_iter()
        .partition(|p| monitored.contains(&p.name));
    let mut state = system.init_states().remove(0);
    let mut stats = MembershipStats::default();
    // Which incarnation (index) each node's model actor currently is, if it started one.
    let mut current: Vec<Option<usize>> = vec![None; traces.len()];
    for (position, step) in order.iter().enumerate() {
        let fail = |detail: String| MembershipError {
            global_step: position,
            node: step.node,
            detail,
        };
        let index = step.node as usize;
        let id = node_id(step.node);
        let incarnation = &traces[index].incarnations[step.incarnation];
        let record = &incarnation.records[step.record];
        let mut actions: Vec<ActionOf<A>> = Vec::new();
        match &record.input {
            TraceInput::Start => {
                let first = current[index].is_none() && step.incarnation == 0;
                current[index] = Some(step.incarnation);
                if !first {
                    // The node was down between incarnations: a crash (unless the model already
                    // has it down), then recovery from the model's saved Storage.
                    if !state.is_crashed(index) {
                        if !system.is_crashable(index) {
                            return Err(fail(format!(
                                "node {} restarted, but the replay model does not let it crash",
                                step.node
                            )));
                        }
                        actions.push(SystemAction::Crash(id));
                    }
                    actions.push(SystemAction::Recover(id));
                }
            }
            TraceInput::Deliver { src, msg, .. } => {
                if !state.network.can_deliver(node_id(*src), id, msg) {
                    return Err(fail(format!(
                        "delivery of {msg:?} from {src} to {} is not enabled: no such message is in flight to this actor",
                        step.node
                    )));
                }
                actions.push(SystemAction::Deliver {
                    src: node_id(*src),
                    dst: id,
                    msg: msg.clone(),
                });
            }
            TraceInput::Timeout { timer } => {
                if !state.timers(index).contains(timer) {
                    return Err(fail(format!("timer {timer:?} fired but is not armed")));
                }
                actions.push(SystemAction::Timeout {
                    actor: id,
                    timer: timer.clone(),
                });
            }
            TraceInput::Random { key, random } => actions.push(SystemAction::SelectRandom {
                actor: id,
                key: key.clone(),
                random: random.clone(),
            }),
        }
        if actions.is_empty() {
            // The first incarnation's start is the model's initial state.
            check_actor_digest(&state, index, record.state_digest_after).map_err(fail)?;
            let actor = state.actor(index);
            observe(StepView {
                position,
                node: step.node,
                record,
                before: actor,
                after: actor,
                state: &state,
                acted: false,
            })
            .map_err(fail)?;
            continue;
        }
        let last = actions.len() - 1;
        let mut changed = false;
        // The state before the step's first action, kept for the observer.
        let mut before: Option<SystemState<A, H>> = None;
        for (k, action) in actions.into_iter().enumerate() {
            if matches!(action, SystemAction::Recover(_)) {
                let model_storage = digest(&state.storage(index));
                if model_storage != incarnation.header.loaded_storage_digest {
                    return Err(fail(format!(
                        "incarnation {} loaded Storage {} but the model saved {}: a save was lost or was not durable",
                        incarnation.header.incarnation,
                        hex(&incarnation.header.loaded_storage_digest),
                        hex(&model_storage)
                    )));
                }
            }
            match system.next_state(&state, action) {
                Some(next) => {
                    stats.actions += 1;
                    changed = true;
                    let previous = std::mem::replace(&mut state, next);
                    before.get_or_insert(previous);
                }
                None if k == last && refused_is_fine(record) => {
                    stats.no_ops += 1;
                }
                None => {
                    return Err(fail(format!(
                        "the model refuses this {} step the trace records as effective",
                        input_kind(&record.input)
                    )))
                }
            }
        }
        if let Some(poison) = &state.poisoned {
            return Err(fail(format!("an actor panicked: {poison}")));
        }
        check_actor_digest(&state, index, record.state_digest_after).map_err(fail)?;
        observe(StepView {
            position,
            node: step.node,
            record,
            before: before.as_ref().unwrap_or(&state).actor(index),
            after: state.actor(index),
            state: &state,
            acted: changed,
        })
        .map_err(fail)?;
        if changed {
            for property in &always {
                stats.property_checks += 1;
                if !(property.condition)(system, &state) {
                    return Err(fail(format!("property {:?} fails", property.name)));
                }
            }
        }
    }
    for property in &at_end {
        stats.property_checks += 1;
        if !(property.condition)(system, &state) {
            return Err(MembershipError {
                global_step: order.len(),
                node: order.last().map_or(0, |s| s.node),
                detail: format!(
                    "property {:?} fails on the final state (its monitor missed it)",
                    property.name
                ),
            });
        }
    }
    Ok(Member { state, stats })
}

fn check_actor_digest<A, H>(
    state: &SystemState<A, H>,
    index: usize,
    recorded: [u8; 32],
) -> Result<(), String>
where
    A: Actor<State: Serialize>,
{
    let model = digest(state.actor(index));
    if model == recorded {
        Ok(())
    } else {
        Err(format!(
            "the model's actor state has digest {}, the trace recorded {}",
            hex(&model),
            hex(&recorded)
        ))
    }
}

/// A step the model declines is fine when it changed nothing the model keeps: a no-op
/// delivery (the message stays in flight, safety-equivalent to a lost one), or a timeout that
/// only re-armed itself.
fn refused_is_fine<M, T: PartialEq, R>(record: &quorate_impl::trace::TraceRecord<M, T, R>) -> bool {
    let unchanged = record.state_digest_before == record.state_digest_after;
    match &record.input {
        TraceInput::Deliver { .. } => record.noop,
        TraceInput::Timeout { timer } => {
            unchanged
                && record
                    .outputs
                    .iter()
                    .all(|o| matches!(o, TraceOutput::SetTimer { timer: t, .. } if t == timer))
        }
        _ => false,
    }
}

fn input_kind<M, T, R>(input: &TraceInput<M, T, R>) -> &'static str {
    match input {
        TraceInput::Start => "start",
        TraceInput::Deliver { .. } => "delivery",
        TraceInput::Timeout { .. } => "timeout",
        TraceInput::Random { .. } => "random choice",
    }
}
