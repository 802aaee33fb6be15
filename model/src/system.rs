//! `System<A, H>`: our `stateright::Model` for hosting actors (DESIGN §4).
//!
//! It keeps `ActorModel`'s step semantics for Deliver, Drop, Timeout, Crash, Recover and
//! SelectRandom — including the rule that a delivery which changes nothing and sends nothing is
//! not a step (the message stays in flight) — so state counts match `ActorModel` exactly
//! (`tests/differential.rs`). It adds what `ActorModel` lacks: a crashable flag per actor with a
//! fault budget, an observation hook over (prev, action, next), actor panics reported as an
//! `actor-assertion` violation with their path, serde actions, symmetry reduction as a quotient (`symmetry.rs`), and
//! cached per-actor hashes.

use crate::guard::guarded;
use crate::network::{Envelope, Network, NetworkKind};
pub use crate::state::SystemState;
use crate::state::{HistoryVerdictMemo, RecordMemo, Slot};
use serde::{Deserialize, Serialize};
use stateright::actor::{is_no_op, is_no_op_with_timer, Actor, Command, Id, Out};
use stateright::{Expectation, Model, Property};
use std::borrow::Cow;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;

/// The name of the property every `System` carries: no actor handler panicked.
pub const ACTOR_ASSERTION: &str = "actor-assertion";

/// One step of the environment or of an actor. Serialisable, so counterexamples can be exported
/// and replayed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SystemAction<Msg, Timer, Random> {
    /// `dst` handles `msg` from `src`.
    Deliver {
        /// Sender.
        src: Id,
        /// Receiver.
        dst: Id,
        /// Payload.
        msg: Msg,
    },
    /// The network loses one copy of `msg` (lossy configurations only).
    Drop {
        /// Sender.
        src: Id,
        /// Receiver.
        dst: Id,
        /// Payload.
        msg: Msg,
    },
    /// A timer of `actor` fires.
    Timeout {
        /// Owner of the timer.
        actor: Id,
        /// Which timer.
        timer: Timer,
    },
    /// A crashable actor stops; its volatile state is lost at recovery.
    Crash(Id),
    /// A crashed actor restarts from its saved storage.
    Recover(Id),
    /// The environment resolves a random choice the actor asked for.
    SelectRandom {
        /// Who asked.
        actor: Id,
        /// The choice's key.
        key: String,
        /// The value chosen.
        random: Random,
    },
}

/// Shorthand for the action type of a `System` hosting `A`.
pub type ActionOf<A> = SystemAction<<A as Actor>::Msg, <A as Actor>::Timer, <A as Actor>::Random>;

/// A transition observer: sees (prev, action, next) and may update the next state's history,
/// calling `to_mut()` only when it changes something (so unchanged histories stay shared).
/// This is how step properties such as "no delivered entry is ever removed" are checked.
pub type Observer<A, H> = Arc<
    dyn Fn(&SystemState<A, H>, &ActionOf<A>, &SystemState<A, H>, &mut Cow<'_, H>)
        + Send
        + Sync
        + 'static,
>;

/// A boundary predicate: states outside it are neither expanded nor checked.
pub type Boundary<A, H> = Arc<dyn Fn(&SystemState<A, H>) -> bool + Send + Sync + 'static>;

/// An exact reduction: maps a state to a smaller one with the same future (`System::reduce`).
pub type Reduction<A, H> =
    Arc<dyn Fn(&SystemState<A, H>) -> SystemState<A, H> + Send + Sync + 'static>;

/// Records a message into the history (as `ActorModel`'s `record_msg_in/out`).
pub type MsgRecorder<A, H> = fn(&H, Envelope<&<A as Actor>::Msg>) -> Option<H>;

/// A named property of a `System`.
pub type PropertyFn<A, H> = fn(&System<A, H>, &SystemState<A, H>) -> bool;

/// The condition of history property `I`: its verdict cached in the state. (Property conditions
/// are plain `fn` pointers, so the index is a const parameter, one instance per slot.)
fn cached_history_verdict<A: Actor, H: Clone, const I: usize>(
    _: &System<A, H>,
    state: &SystemState<A, H>,
) -> bool {
    state.history_verdict(I)
}

/// A `HISTORY_VERDICTS[i]` reads the verdict of history property `i`.
#[allow(clippy::type_complexity)]
const fn history_verdicts<A: Actor, H: Clone>() -> [PropertyFn<A, H>; 8] {
    [
        cached_history_verdict::<A, H, 0>,
        cached_history_verdict::<A, H, 1>,
        cached_history_verdict::<A, H, 2>,
        cached_history_verdict::<A, H, 3>,
        cached_history_verdict::<A, H, 4>,
        cached_history_verdict::<A, H, 5>,
        cached_history_verdict::<A, H, 6>,
        cached_history_verdict::<A, H, 7>,
    ]
}

/// The model: actors plus the environment's rules.
pub struct System<A: Actor, H: Clone = ()> {
    /// Actor configurations; actor `i` has `Id::from(i)`.
    pub actors: Vec<A>,
    crashable: Vec<bool>,
    max_crashes: usize,
    network_kind: NetworkKind,
    lossy: bool,
    init_network: Vec<Envelope<A::Msg>>,
    init_history: H,
    record_msg_out: Option<MsgRecorder<A, H>>,
    record_msg_in: Option<MsgRecorder<A, H>>,
    observers: Vec<Observer<A, H>>,
    boundary: Option<Boundary<A, H>>,
    reduce: Option<Reduction<A, H>>,
    pub(crate) symmetry: Option<crate::symmetry::Symmetry<A, H>>,
    properties: Vec<(Expectation, &'static str, PropertyFn<A, H>)>,
    history_properties: Vec<fn(&H) -> bool>,
    /// Verdicts of the history properties by history, so a history reached again (the
    /// calibration's histories are a function of few client phases) is not checked again.
    history_verdict_memo: HistoryVerdictMemo<H>,
    /// What the recorders made of (history, message) pairs already seen.
    recorded_in: RecordMemo<A::Msg, H>,
    recorded_out: RecordMemo<A::Msg, H>,
    /// Checker instrumentation: statistics, coverage, deadlock rules (`instrument.rs`).
    pub(crate) instruments: crate::instrument::Instruments<A, H>,
}

impl<A, H> System<A, H>
where
    A: Actor,
    A::Msg: Ord,
    A::Timer: Ord,
    H: Clone + Debug + Hash + PartialEq,
{
    /// A system of `actors` over an unordered non-duplicating lossless network, no crashes.
    pub fn new(actors: Vec<A>, init_history: H) -> Self {
        assert!(!actors.is_empty(), "a system needs at least one actor");
        let count = actors.len();
        System {
            actors,
            crashable: vec![false; count],
            max_crashes: 0,
            network_kind: NetworkKind::UnorderedNonDuplicating,
            lossy: false,
            init_network: Vec::new(),
            init_history,
            record_msg_out: None,
            record_msg_in: None,
            observers: Vec::new(),
            boundary: None,
            reduce: None,
            symmetry: None,
            properties: Vec::new(),
            history_properties: Vec::new(),
            history_verdict_memo: HistoryVerdictMemo::default(),
            recorded_in: RecordMemo::default(),
            recorded_out: RecordMemo::default(),
            instruments: crate::instrument::Instruments::default(),
        }
    }

    /// Maps every state to a smaller one with the same future (an exact reduction, such as
    /// dropping messages every receiver will refuse). It is part of the step relation, so it
    /// applies before symmetry and on the plain model that original-id paths are rebuilt on.
    pub fn reduce(
        mut self,
        reduction: impl Fn(&SystemState<A, H>) -> SystemState<A, H> + Send + Sync + 'static,
    ) -> Self {
        self.reduce = Some(Arc::new(reduction));
        self
    }

    /// Chooses the network discipline.
    pub fn network(mut self, kind: NetworkKind) -> Self {
        self.network_kind = kind;
        self
    }

    /// The network discipline of this system.
    pub fn network_kind(&self) -> NetworkKind {
        self.network_kind
    }

    /// Whether the network may lose messages.
    pub fn lossy(mut self, lossy: bool) -> Self {
        self.lossy = lossy;
        self
    }

    /// Whether this system's network may lose messages.
    pub fn is_lossy(&self) -> bool {
        self.lossy
    }

    /// Messages in flight before any actor starts (e.g. a most-general adversary's messages).
    pub fn init_network(mut self, envelopes: Vec<Envelope<A::Msg>>) -> Self {
        self.init_network = envelopes;
        self
    }

    /// Lets the actors in `ids` crash, at most `max_crashes` of them down at once. Clients and
    /// adversaries are never crashable (a crashed client would re-submit on recovery).
    pub fn crashable(mut self, ids: impl IntoIterator<Item = usize>, max_crashes: usize) -> Self {
        for index in ids {
            assert!(
                index < self.actors.len(),
                "crashable actor {index} does not exist"
            );
            self.crashable[index] = true;
        }
        self.max_crashes = max_crashes;
        self
    }

    /// How many crashable actors may be down at once.
    pub fn max_crashes(&self) -> usize {
        self.max_crashes
    }

    /// Whether actor `index` may crash.
    pub fn is_crashable(&self, index: usize) -> bool {
        self.crashable[index]
    }

    /// Records sends into the history.
    pub fn record_msg_out(mut self, recorder: MsgRecorder<A, H>) -> Self {
        self.record_msg_out = Some(recorder);
        self
    }

    /// Records (non-no-op) deliveries into the history.
    pub fn record_msg_in(mut self, recorder: MsgRecorder<A, H>) -> Self {
        self.record_msg_in = Some(recorder);
        self
    }

    /// Adds a transition observer.
    pub fn observe(
        mut self,
        observer: impl Fn(&SystemState<A, H>, &ActionOf<A>, &SystemState<A, H>, &mut Cow<'_, H>)
            + Send
            + Sync
            + 'static,
    ) -> Self {
        self.observers.push(Arc::new(observer));
        self
    }

    /// Bounds the explored state space (model-only bounds; never in actor code).
    pub fn within(
        mut self,
        boundary: impl Fn(&SystemState<A, H>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.boundary = Some(Arc::new(boundary));
        self
    }

    /// Adds a property.
    pub fn property(
        mut self,
        expectation: Expectation,
        name: &'static str,
        condition: PropertyFn<A, H>,
    ) -> Self {
        assert!(
            name != ACTOR_ASSERTION && self.properties.iter().all(|(_, n, _)| *n != name),
            "property {name:?} is defined twice"
        );
        self.properties.push((expectation, name, condition));
        self
    }

    /// Adds a property of the history alone (e.g. linearizability). It is evaluated once each
    /// time a step replaces the history, and the verdict rides along in the state, instead of
    /// once per explored state: histories change on few steps, and such checks are costly.
    pub fn history_property(
        mut self,
        expectation: Expectation,
        name: &'static str,
        condition: fn(&H) -> bool,
    ) -> Self {
        let index = self.history_properties.len();
        let table = history_verdicts::<A, H>();
        let verdict = *table
            .get(index)
            .unwrap_or_else(|| panic!("at most {} history properties per system", table.len()));
        self.history_properties.push(condition);
        self.property(expectation, name, verdict)
    }

    fn refresh_history_verdicts(&self, state: &mut SystemState<A, H>) {
        let evaluate = |history: &H| {
            self.history_properties
                .iter()
                .enumerate()
                .filter(|(_, condition)| condition(history))
                .fold(0u32, |bits, (index, _)| bits | 1 << index)
        };
        let verdicts = self.history_verdict_memo.verdicts(state, evaluate);
        state.set_history_verdicts(verdicts);
    }

    /// Names and expectations of every property, `actor-assertion` first.
    pub fn property_names(&self) -> Vec<(Expectation, &'static str)> {
        std::iter::once((Expectation::Always, ACTOR_ASSERTION))
            .chain(self.properties.iter().map(|(e, n, _)| (e.clone(), *n)))
            .chain(crate::deadlock::property(self).map(|p| (p.expectation, p.name)))
            .collect()
    }

    fn apply_commands(&self, id: Id, commands: Out<A>, next: &mut SystemState<A, H>) {
        let index = usize::from(id);
        for command in commands {
            match command {
                Command::Send(dst, msg) => {
                    if let Some(record) = self.record_msg_out {
                        let envelope = Envelope {
                            src: id,
                            dst,
                            msg: &msg,
                        };
                        self.recorded_out.record(next, envelope, record);
                    }
                    next.network.send(Envelope { src: id, dst, msg });
                }
                Command::SetTimer(timer, _) => next.slot_mut(index).arm(timer),
                Command::CancelTimer(timer) => next.slot_mut(index).disarm(&timer),
                Command::ChooseRandom(key, alternatives) => {
                    let randoms = &mut next.slot_mut(index).randoms;
                    if alternatives.is_empty() {
                        randoms.remove(&key);
                    } else {
                        randoms.insert(key, alternatives);
                    }
                }
                Command::Save(storage) => next.slot_mut(index).set_storage(storage),
            }
        }
    }

    fn poisoned(&self, prev: &SystemState<A, H>, what: String) -> SystemState<A, H> {
        let mut next = prev.clone();
        next.poisoned = Some(Arc::from(what));
        next
    }

    fn finish(
        &self,
        prev: &SystemState<A, H>,
        action: &ActionOf<A>,
        mut next: SystemState<A, H>,
    ) -> SystemState<A, H> {
        if !self.observers.is_empty() {
            let mut history = Cow::Borrowed(next.history());
            for observer in &self.observers {
                observer(prev, action, &next, &mut history);
            }
            if let Cow::Owned(history) = history {
                next.set_history(history);
            }
        }
        if !self.history_properties.is_empty() && !next.same_history(prev) {
            self.refresh_history_verdicts(&mut next);
        }
        next
    }

    fn step(&self, prev: &SystemState<A, H>, action: &ActionOf<A>) -> Option<SystemState<A, H>> {
        match action {
            SystemAction::Drop { src, dst, msg } => {
                let mut next = prev.clone();
                next.network.on_drop(*src, *dst, msg);
                Some(next)
            }
            SystemAction::Deliver { src, dst, msg } => {
                let index = usize::from(*dst);
                if index >= self.actors.len() || prev.is_crashed(index) {
                    return None;
                }
                let mut state = Cow::Borrowed(prev.actor(index));
                let mut out = Out::new();
                if let Err(panic) = guarded(|| {
                    self.actors[index].on_msg(*dst, &mut state, *src, msg.clone(), &mut out)
                }) {
                    return Some(self.poisoned(
                        prev,
                        format!("actor {index} panicked handling {msg:?} from {src:?}: {panic}"),
                    ));
                }
                // ActorModel's rule: an unordered delivery that changes nothing is no step.
                if is_no_op(&state, &out) && self.network_kind != NetworkKind::Ordered {
                    return None;
                }
                let mut next = prev.clone();
                if let Some(record) = self.record_msg_in {
                    let envelope = Envelope {
                        src: *src,
                        dst: *dst,
                        msg,
                    };
                    self.recorded_in.record(&mut next, envelope, record);
                }
                next.network.on_deliver(*src, *dst, msg);
                if let Cow::Owned(state) = state {
                    next.set_actor_state(index, state);
                }
                self.apply_commands(*dst, out, &mut next);
                Some(next)
            }
            SystemAction::Timeout { actor, timer } => {
                let index = usize::from(*actor);
                let mut state = Cow::Borrowed(prev.actor(index));
                let mut out = Out::new();
                if let Err(panic) =
                    guarded(|| self.actors[index].on_timeout(*actor, &mut state, timer, &mut out))
                {
                    return Some(self.poisoned(
                        prev,
                        format!("actor {index} panicked on timer {timer:?}: {panic}"),
                    ));
                }
                if is_no_op_with_timer(&state, &out, timer) {
                    return None;
                }
                let mut next = prev.clone();
                next.slot_mut(index).disarm(timer);
                if let Cow::Owned(state) = state {
                    next.set_actor_state(index, state);
                }
                self.apply_commands(*actor, out, &mut next);
                Some(next)
            }
            SystemAction::Crash(id) => {
                let index = usize::from(*id);
                let mut next = prev.clone();
                let slot = next.slot_mut(index);
                slot.timers.clear();
                slot.randoms.clear();
                slot.crashed = true;
                Some(next)
            }
            SystemAction::Recover(id) => {
                let index = usize::from(*id);
                assert!(prev.is_crashed(index), "only a crashed actor recovers");
                let mut out = Out::new();
                let storage = prev.storage(index).cloned();
                let started = guarded(|| self.actors[index].on_start(*id, &storage, &mut out));
                let state =
                    match started {
                        Ok(state) => state,
                        Err(panic) => {
                            return Some(self.poisoned(
                                prev,
                                format!("actor {index} panicked recovering: {panic}"),
                            ))
                        }
                    };
                let mut next = prev.clone();
                next.set_actor_state(index, state);
                next.slot_mut(index).crashed = false;
                self.apply_commands(*id, out, &mut next);
                Some(next)
            }
            SystemAction::SelectRandom { actor, key, random } => {
                let index = usize::from(*actor);
                let mut state = Cow::Borrowed(prev.actor(index));
                let mut out = Out::new();
                if let Err(panic) =
                    guarded(|| self.actors[index].on_random(*actor, &mut state, random, &mut out))
                {
                    return Some(self.poisoned(
                        prev,
                        format!("actor {index} panicked on random {random:?}: {panic}"),
                    ));
                }
                let mut next = prev.clone();
                next.slot_mut(index).randoms.remove(key);
                if let Cow::Owned(state) = state {
                    next.set_actor_state(index, state);
                }
                self.apply_commands(*actor, out, &mut next);
                Some(next)
            }
        }
    }
}

impl<A, H> Model for System<A, H>
where
    A: Actor,
    A::Msg: Ord,
    A::Timer: Ord,
    H: Clone + Debug + Hash + PartialEq,
{
    type State = SystemState<A, H>;
    type Action = ActionOf<A>;

    fn init_states(&self) -> Vec<Self::State> {
        vec![self.canonical(self.plain_init())]
    }

    fn actions(&self, state: &Self::State, actions: &mut Vec<Self::Action>) {
        if self.instruments.before_expand() {
            self.enabled_actions(state, actions);
            self.instruments.after_expand(self, state, actions);
        }
    }

    fn next_state(&self, last_state: &Self::State, action: Self::Action) -> Option<Self::State> {
        self.instrumented_successor(last_state, &action)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let mut properties = vec![Property::always(
            ACTOR_ASSERTION,
            |_, state: &Self::State| state.poisoned.is_none(),
        )];
        for (expectation, name, condition) in &self.properties {
            properties.push(Property {
                expectation: expectation.clone(),
                name,
                condition: *condition,
            });
        }
        properties.extend(crate::deadlock::property(self));
        properties
    }

    fn within_boundary(&self, state: &Self::State) -> bool {
        match &self.boundary {
            Some(boundary) => boundary(state),
            None => true,
        }
    }
}

impl<A, H> System<A, H>
where
    A: Actor,
    A::Msg: Ord,
    A::Timer: Ord,
    H: Clone + Debug + Hash + PartialEq,
{
    /// The actions of `state`, without the instrumentation hooks (`Model::actions` adds them).
    pub(crate) fn enabled_actions(
        &self,
        state: &SystemState<A, H>,
        actions: &mut Vec<ActionOf<A>>,
    ) {
        if state.poisoned.is_some() {
            return;
        }
        state.network.for_each_deliverable(|env| {
            if self.lossy {
                actions.push(SystemAction::Drop {
                    src: env.src,
                    dst: env.dst,
                    msg: env.msg.clone(),
                });
            }
            let index = usize::from(env.dst);
            if index < self.actors.len() && !state.is_crashed(index) {
                actions.push(SystemAction::Deliver {
                    src: env.src,
                    dst: env.dst,
                    msg: env.msg.clone(),
                });
            }
        });
        for (index, slot) in state.slots.iter().enumerate() {
            for timer in &slot.timers {
                actions.push(SystemAction::Timeout {
                    actor: Id::from(index),
                    timer: timer.clone(),
                });
            }
        }
        if state.crashed_count() < self.max_crashes {
            for index in 0..self.actors.len() {
                if self.crashable[index] && !state.is_crashed(index) {
                    actions.push(SystemAction::Crash(Id::from(index)));
                }
            }
        }
        for (index, slot) in state.slots.iter().enumerate() {
            if slot.crashed {
                actions.push(SystemAction::Recover(Id::from(index)));
            }
        }
        for (index, slot) in state.slots.iter().enumerate() {
            for (key, alternatives) in &slot.randoms {
                for random in alternatives {
                    actions.push(SystemAction::SelectRandom {
                        actor: Id::from(index),
                        key: key.clone(),
                        random: random.clone(),
                    });
                }
            }
        }
    }

    /// The initial state in the configuration's own ids (before any canonicalisation).
    pub(crate) fn plain_init(&self) -> SystemState<A, H> {
        let count = self.actors.len();
        let mut network = Network::new(self.network_kind);
        for env in &self.init_network {
            network.send(env.clone());
        }
        let mut slots = Vec::with_capacity(count);
        let mut starts = Vec::with_capacity(count);
        for (index, actor) in self.actors.iter().enumerate() {
            let id = Id::from(index);
            let mut out = Out::new();
            match guarded(|| actor.on_start(id, &None, &mut out)) {
                Ok(state) => {
                    slots.push(Slot::new(state));
                    starts.push((id, out));
                }
                Err(panic) => {
                    panic!("actor {index} panicked in on_start at initialisation: {panic}")
                }
            }
        }
        let mut init = SystemState::new(slots, network, self.init_history.clone());
        for (id, out) in starts {
            self.apply_commands(id, out, &mut init);
        }
        self.refresh_history_verdicts(&mut init);
        match &self.reduce {
            Some(reduction) => reduction(&init),
            None => init,
        }
    }

    /// The successor of `state` under `action` (None: not a step), without canonicalising.
    pub(crate) fn plain_successor(
        &self,
        state: &SystemState<A, H>,
        action: &ActionOf<A>,
    ) -> Option<SystemState<A, H>> {
        let next = self.step(state, action)?;
        let next = self.finish(state, action, next);
        Some(match &self.reduce {
            Some(reduction) => reduction(&next),
            None => next,
        })
    }

    /// `successor` with the instrumentation hooks (what the checkers call).
    pub(crate) fn instrumented_successor(
        &self,
        state: &SystemState<A, H>,
        action: &ActionOf<A>,
    ) -> Option<SystemState<A, H>> {
        let next = self.successor(state, action);
        self.instruments.after_step(action, next.is_some());
        next
    }

    /// The successor of `state` under `action` (None: not a step), canonical when symmetry is
    /// on, without the instrumentation hooks (`Model::next_state` adds them).
    pub(crate) fn successor(
        &self,
        state: &SystemState<A, H>,
        action: &ActionOf<A>,
    ) -> Option<SystemState<A, H>> {
        Some(self.canonical(self.plain_successor(state, action)?))
    }
}

impl<A, H> System<A, H>
where
    A: Actor,
    A::Msg: Ord,
    A::Timer: Ord,
    H: Clone + Debug + Hash + PartialEq,
{
    /// How reports name actor `id`: the actor's own name, or its index.
    pub fn actor_name(&self, id: Id) -> String {
        let index = usize::from(id);
        match self.actors.get(index).map(Actor::name) {
            // A name that already carries an id ("replica 2") is used as is; a role name
            // ("Calibration Server") gets the index, so a trace's actors stay distinguishable.
            Some(name) if name.ends_with(|c: char| c.is_ascii_digit()) => name,
            Some(name) if !name.is_empty() => format!("{name} {index}"),
            _ => format!("actor {index}"),
        }
    }
}

impl<A, H> crate::check::Describe for System<A, H>
where
    A: Actor,
    A::Msg: Ord,
    A::Timer: Ord,
    H: Clone + Debug + Hash + PartialEq,
{
    fn in_original_ids(
        &self,
        steps: Vec<(Self::State, Option<Self::Action>)>,
    ) -> Vec<(Self::State, Option<Self::Action>)> {
        // Without a way back (the commutation test rules this out for enabled configurations)
        // the canonical path is still a valid path of the quotient: report it as it is.
        self.original_path(steps.clone()).unwrap_or(steps)
    }

    fn describe_action(&self, _state: &Self::State, action: &Self::Action) -> String {
        match action {
            SystemAction::Deliver { src, dst, msg } => {
                format!(
                    "{} receives from {}: {msg:?}",
                    self.actor_name(*dst),
                    self.actor_name(*src)
                )
            }
            SystemAction::Drop { src, dst, msg } => {
                format!(
                    "network loses {msg:?} from {} to {}",
                    self.actor_name(*src),
                    self.actor_name(*dst)
                )
            }
            SystemAction::Timeout { actor, timer } => {
                format!("{}: timer {timer:?} fires", self.actor_name(*actor))
            }
            SystemAction::Crash(id) => format!("{} crashes", self.actor_name(*id)),
            SystemAction::Recover(id) => {
                format!("{} recovers from its saved storage", self.actor_name(*id))
            }
            SystemAction::SelectRandom { actor, key, random } => {
                format!(
                    "{}: random choice {key:?} resolves to {random:?}",
                    self.actor_name(*actor)
                )
            }
        }
    }

    fn describe_change(&self, prev: &Self::State, next: &Self::State) -> Vec<String> {
        let mut changes = Vec::new();
        for index in 0..self.actors.len() {
            let name = self.actor_name(Id::from(index));
            if prev.actor_changed(next, index) {
                changes.push(format!("{name} now {:?}", next.actor(index)));
            }
            if prev.is_crashed(index) != next.is_crashed(index) {
                changes.push(format!(
                    "{name} {}",
                    if next.is_crashed(index) {
                        "is down"
                    } else {
                        "is up"
                    }
                ));
            }
            if prev.storage(index) != next.storage(index) {
                changes.push(format!("{name} saved {:?}", next.storage(index)));
            }
        }
        if let Some(poison) = &next.poisoned {
            changes.push(format!("ASSERTION FAILED: {poison}"));
        }
        changes
    }
}
