//! The Multi-Paxos consensus core: proposer and acceptor (seed 001 §2.3, with the standard
//! leader change of card §6.1 where the seed is silent).
//!
//! A component, not an actor: the outer actor owns a [`CoreState`], calls the handlers here with
//! a [`CowLens`] onto it, and receives the slots this node learned were chosen.

use super::rules::Rules;
use super::{Ballot, Slot, Value};
use crate::component::{CowLens, Emit};
use crate::crypto::NodeId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::hash::Hash;
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

/// What the core needs of a payload: nothing beyond being plain data (it never inspects one).
pub trait Payload:
    Clone + Debug + PartialEq + Eq + PartialOrd + Ord + Hash + Serialize + Send + Sync + 'static
{
}
impl<
        T: Clone
            + Debug
            + PartialEq
            + Eq
            + PartialOrd
            + Ord
            + Hash
            + Serialize
            + Send
            + Sync
            + 'static,
    > Payload for T
{
}

/// Messages between cores.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CoreMsg<P> {
    /// Phase 1a: a candidate asks for promises from `from_slot` on.
    Prepare {
        /// The candidate's ballot.
        ballot: Ballot,
        /// First slot the candidate does not know to be chosen.
        from_slot: Slot,
    },
    /// Phase 1b: an acceptor promises and reports what it accepted from `from_slot` on.
    Promise {
        /// The ballot promised.
        ballot: Ballot,
        /// `(slot, ballot, value)` for every slot accepted at or above `from_slot`.
        accepted: Vec<(Slot, Ballot, Value<P>)>,
        /// Slots at or below this are compacted into the acceptor's snapshot: chosen already.
        compacted_upto: Slot,
    },
    /// Phase 2a: the leader proposes `value` for `slot`.
    Accept {
        /// The leader's ballot.
        ballot: Ballot,
        /// The slot.
        slot: Slot,
        /// The proposed value.
        value: Value<P>,
    },
    /// Phase 2b: an acceptor accepted the leader's proposal for `slot`.
    Accepted {
        /// The ballot accepted.
        ballot: Ballot,
        /// The slot.
        slot: Slot,
    },
    /// The leader's commit: `value` is chosen for `slot` (seed: COMMIT).
    Decided {
        /// The slot.
        slot: Slot,
        /// The chosen value.
        value: Value<P>,
    },
}

/// Timers of the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CoreTimer {
    /// A follower suspects the leader and campaigns.
    LeaderTimeout,
}

/// The proposer's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Accepts proposals; may campaign on a timeout.
    Follower,
    /// Collecting promises for `CoreState::ballot`.
    Candidate,
    /// Proposing under `CoreState::ballot`.
    Leader,
}

/// A campaign in progress: who promised and the highest-ballot report per slot, merged as
/// promises arrive (so arrival order does not split states).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Campaign<P> {
    /// First slot asked about.
    pub from_slot: Slot,
    /// Who promised (own promise included).
    pub voters: BTreeSet<NodeId>,
    /// Highest-ballot accepted value reported per slot.
    pub reported: BTreeMap<Slot, (Ballot, Value<P>)>,
    /// Highest compaction point reported.
    pub compacted_upto: Slot,
}

/// One proposal awaiting its phase-2 quorum.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct InFlight<P> {
    /// The value proposed.
    pub value: Value<P>,
    /// Who accepted it (own vote included).
    pub voters: BTreeSet<NodeId>,
}

/// The core's part of a replica's state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CoreState<P> {
    /// Acceptor: the highest ballot promised (durable).
    pub promised: Ballot,
    /// Acceptor: the last value accepted per slot above `compacted_upto` (durable).
    pub accepted: Arc<BTreeMap<Slot, (Ballot, Value<P>)>>,
    /// Acceptor: slots at or below this were dropped into a snapshot (durable).
    pub compacted_upto: Slot,
    /// Proposer: the ballot this node leads or campaigns for.
    pub ballot: Ballot,
    /// Proposer: role under `ballot`.
    pub role: Role,
    /// Candidate only.
    pub campaign: Option<Campaign<P>>,
    /// Leader only: next slot to propose in.
    pub next_slot: Slot,
    /// Leader only: proposals awaiting a quorum.
    pub in_flight: BTreeMap<Slot, InFlight<P>>,
    /// Leader only: payloads waiting for a free slot in the window; they become one batch.
    pub queue: Vec<P>,
}

impl<P> CoreState<P> {
    /// The acceptor's durable part changed iff this differs between two states.
    pub fn durable_view(&self) -> (Ballot, &Arc<BTreeMap<Slot, (Ballot, Value<P>)>>, Slot) {
        (self.promised, &self.accepted, self.compacted_upto)
    }
}

/// The core's configuration (immutable).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Core<P, R> {
    /// This replica.
    pub id: NodeId,
    /// Every replica, this one included.
    pub replicas: Vec<NodeId>,
    /// Slots a leader may have awaiting a quorum at once.
    pub window: usize,
    /// Payloads per batch at most.
    pub batch_max: usize,
    /// How long a follower waits before campaigning.
    pub leader_timeout: Range<Duration>,
    _marker: PhantomData<fn() -> (P, R)>,
}

/// Slots this node learned to be chosen in one step, in slot order.
pub type Decisions<P> = Vec<(Slot, Value<P>)>;

impl<P: Payload, R: Rules> Core<P, R> {
    /// A core for replica `id` of `replicas`.
    pub fn new(
        id: NodeId,
        replicas: Vec<NodeId>,
        window: usize,
        batch_max: usize,
        leader_timeout: Range<Duration>,
    ) -> Self {
        assert!(
            replicas.contains(&id),
            "replica {id} is not in its own membership"
        );
        assert!(
            window >= 1 && batch_max >= 1,
            "window and batch size are at least 1"
        );
        Core {
            id,
            replicas,
            window,
            batch_max,
            leader_timeout,
            _marker: PhantomData,
        }
    }

    fn quorum(&self) -> usize {
        R::quorum(self.replicas.len())
    }

    fn peers(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.replicas.iter().copied().filter(move |&r| r != self.id)
    }

    /// The initial state. Replica `replicas[0]` leads ballot 0 without a phase 1: no acceptor
    /// can have accepted anything below it, so its promises are implied.
    pub fn init(&self, out: &mut impl Emit<CoreMsg<P>, CoreTimer>) -> CoreState<P> {
        let initial = Ballot {
            round: 0,
            leader: self.replicas[0],
        };
        let leads = initial.leader == self.id;
        if !leads {
            out.set_timer(CoreTimer::LeaderTimeout, self.leader_timeout.clone());
        }
        CoreState {
            promised: initial,
            accepted: Arc::new(BTreeMap::new()),
            compacted_upto: 0,
            ballot: initial,
            role: if leads { Role::Leader } else { Role::Follower },
            campaign: None,
            next_slot: 1,
            in_flight: BTreeMap::new(),
            queue: Vec::new(),
        }
    }

    /// The state after a restart from durable acceptor state: a follower that may campaign.
    pub fn recover(
        &self,
        promised: Ballot,
        accepted: Arc<BTreeMap<Slot, (Ballot, Value<P>)>>,
        compacted_upto: Slot,
        out: &mut impl Emit<CoreMsg<P>, CoreTimer>,
    ) -> CoreState<P> {
        out.set_timer(CoreTimer::LeaderTimeout, self.leader_timeout.clone());
        CoreState {
            promised,
            accepted,
            compacted_upto,
            ballot: promised,
            role: Role::Follower,
            campaign: None,
            next_slot: compacted_upto + 1,
            in_flight: BTreeMap::new(),
            queue: Vec::new(),
        }
    }

    /// Offers a payload for ordering. Only a leader takes it; others drop it (clients retry
    /// by broadcasting, which reaches the current leader).
    pub fn propose<O: Clone>(
        &self,
        st: &mut CowLens<'_, '_, O, CoreState<P>>,
        payload: P,
        out: &mut impl Emit<CoreMsg<P>, CoreTimer>,
    ) {
        let state = st.get();
        let duplicate = state.queue.contains(&payload) || self.is_in_flight(state, &payload);
        if state.role != Role::Leader || (R::DEDUPE && duplicate) {
            return;
        }
        st.to_mut().queue.push(payload);
        self.fill_window(st, out);
    }

    fn is_in_flight(&self, state: &CoreState<P>, payload: &P) -> bool {
        state
            .in_flight
            .values()
            .any(|f| matches!(&f.value, Value::Batch(b) if b.contains(payload)))
    }

    /// While the window has room, proposes the queued payloads as one batch per slot.
    fn fill_window<O: Clone>(
        &self,
        st: &mut CowLens<'_, '_, O, CoreState<P>>,
        out: &mut impl Emit<CoreMsg<P>, CoreTimer>,
    ) {
        while st.get().in_flight.len() < self.window && !st.get().queue.is_empty() {
            let state = st.to_mut();
            let take = state.queue.len().min(self.batch_max);
            let batch: Vec<P> = state.queue.drain(..take).collect();
            let slot = state.next_slot;
            state.next_slot += 1;
            self.start_phase2(st, slot, Value::Batch(batch), out);
        }
    }

    /// Proposes `value` for `slot` under the current ballot, accepting it locally first (the
    /// leader's own vote is counted inside the step, never sent).
    fn start_phase2<O: Clone>(
        &self,
        st: &mut CowLens<'_, '_, O, CoreState<P>>,
        slot: Slot,
        value: Value<P>,
        out: &mut impl Emit<CoreMsg<P>, CoreTimer>,
    ) {
        let state = st.to_mut();
        debug_assert_eq!(state.role, Role::Leader);
        debug_assert!(
            state.promised == state.ballot,
            "a leader holds its own promise"
        );
        let ballot = state.ballot;
        Arc::make_mut(&mut state.accepted).insert(slot, (ballot, value.clone()));
        state.in_flight.insert(
            slot,
            InFlight {
                value: value.clone(),
                voters: BTreeSet::from([self.id]),
            },
        );
        for peer in self.peers() {
            out.send(
                peer,
                CoreMsg::Accept {
                    ballot,
                    slot,
                    value: value.clone(),
                },
            );
        }
    }

    /// Handles a message from another core. Returns the slots learned chosen.
    pub fn on_msg<O: Clone>(
        &self,
        st: &mut CowLens<'_, '_, O, CoreState<P>>,
        src: NodeId,
        msg: CoreMsg<P>,
        out: &mut impl Emit<CoreMsg<P>, CoreTimer>,
    ) -> Decisions<P> {
        if !self.replicas.contains(&src) {
            return Vec::new(); // only replicas take part in consensus
        }
        match msg {
            CoreMsg::Prepare { ballot, from_slot } => {
                self.on_prepare(st, src, ballot, from_slot, out);
                Vec::new()
            }
            CoreMsg::Promise {
                ballot,
                accepted,
                compacted_upto,
            } => {
                self.on_promise(st, src, ballot, accepted, compacted_upto, out);
                Vec::new()
            }
            CoreMsg::Accept {
                ballot,
                slot,
                value,
            } => {
                self.on_accept(st, src, ballot, slot, value, out);
                Vec::new()
            }
            CoreMsg::Accepted { ballot, slot } => self.on_accepted(st, src, ballot, slot, out),
            CoreMsg::Decided { slot, value } => vec![(slot, value)],
        }
    }

    fn on_prepare<O: Clone>(
        &self,
        st: &mut CowLens<'_, '_, O, CoreState<P>>,
        src: NodeId,
        ballot: Ballot,
        from_slot: Slot,
        out: &mut impl Emit<CoreMsg<P>, CoreTimer>,
    ) {
        if ballot <= st.get().promised || ballot.leader != src {
            return;
        }
        let state = st.to_mut();
        state.promised = ballot;
        self.step_down_below(state, ballot);
        let accepted = state
            .accepted
            .range(from_slot..)
            .map(|(&slot, (b, v))| (slot, *b, v.clone()))
            .collect();
        out.send(
            src,
            CoreMsg::Promise {
                ballot,
                accepted,
                compacted_upto: state.compacted_upto,
            },
        );
        out.set_timer(CoreTimer::LeaderTimeout, self.leader_timeout.clone());
    }

    /// Gives up leading or campaigning once a higher ballot is seen.
    fn step_down_below(&self, state: &mut CoreState<P>, seen: Ballot) {
        if seen > state.ballot && state.role != Role::Follower {
            state.role = Role::Follower;
            state.campaign = None;
            state.in_flight.clear();
            state.queue.clear();
        }
        if seen > state.ballot {
            state.ballot = seen;
        }
    }

    fn on_promise<O: Clone>(
        &self,
        st: &mut CowLens<'_, '_, O, CoreState<P>>,
        src: NodeId,
        ballot: Ballot,
        accepted: Vec<(Slot, Ballot, Value<P>)>,
        compacted_upto: Slot,
        out: &mut impl Emit<CoreMsg<P>, CoreTimer>,
    ) {
        let state = st.get();
        let counting = state.role == Role::Candidate && state.ballot == ballot;
        if !counting
            || state
                .campaign
                .as_ref()
                .is_some_and(|c| c.voters.contains(&src))
        {
            return;
        }
        let campaign = st
            .to_mut()
            .campaign
            .as_mut()
            .expect("a candidate has a campaign");
        campaign.voters.insert(src);
        campaign.compacted_upto = campaign.compacted_upto.max(compacted_upto);
        for (slot, b, v) in accepted {
            merge_report(&mut campaign.reported, slot, b, v);
        }
        if campaign.voters.len() >= self.quorum() {
            self.become_leader(st, out);
        }
    }

    /// Phase 1 is complete: re-propose, per reported slot, the highest-ballot value (or a no-op
    /// where nothing was accepted), then serve new payloads after them.
    fn become_leader<O: Clone>(
        &self,
        st: &mut CowLens<'_, '_, O, CoreState<P>>,
        out: &mut impl Emit<CoreMsg<P>, CoreTimer>,
    ) {
        let state = st.to_mut();
        let campaign = state.campaign.take().expect("a candidate has a campaign");
        state.role = Role::Leader;
        out.cancel_timer(CoreTimer::LeaderTimeout);
        // Slots inside some acceptor's snapshot are chosen already: never propose there.
        let first = campaign.from_slot.max(campaign.compacted_upto + 1);
        let last = campaign.reported.keys().next_back().copied().unwrap_or(0);
        state.next_slot = first.max(last + 1);
        for slot in first..=last {
            let value = match campaign.reported.get(&slot) {
                Some((_, value)) if R::ADOPT_HIGHEST_ACCEPTED => value.clone(),
                _ => Value::NoOp,
            };
            self.start_phase2(st, slot, value, out);
        }
    }

    fn on_accept<O: Clone>(
        &self,
        st: &mut CowLens<'_, '_, O, CoreState<P>>,
        src: NodeId,
        ballot: Ballot,
        slot: Slot,
        value: Value<P>,
        out: &mut impl Emit<CoreMsg<P>, CoreTimer>,
    ) {
        let state = st.get();
        if ballot < state.promised || ballot.leader != src || slot <= state.compacted_upto {
            return;
        }
        if state.promised == ballot && state.accepted.get(&slot) == Some(&(ballot, value.clone())) {
            return; // already accepted: nothing changes
        }
        let state = st.to_mut();
        state.promised = ballot;
        self.step_down_below(state, ballot);
        Arc::make_mut(&mut state.accepted).insert(slot, (ballot, value));
        out.send(src, CoreMsg::Accepted { ballot, slot });
        out.set_timer(CoreTimer::LeaderTimeout, self.leader_timeout.clone());
    }

    fn on_accepted<O: Clone>(
        &self,
        st: &mut CowLens<'_, '_, O, CoreState<P>>,
        src: NodeId,
        ballot: Ballot,
        slot: Slot,
        out: &mut impl Emit<CoreMsg<P>, CoreTimer>,
    ) -> Decisions<P> {
        let state = st.get();
        let counts = state.role == Role::Leader
            && state.ballot == ballot
            && state
                .in_flight
                .get(&slot)
                .is_some_and(|f| !f.voters.contains(&src));
        if !counts {
            return Vec::new();
        }
        let state = st.to_mut();
        let entry = state.in_flight.get_mut(&slot).expect("checked above");
        entry.voters.insert(src);
        if entry.voters.len() < self.quorum() {
            return Vec::new();
        }
        // Chosen: the voter set is no longer needed, so it leaves the state.
        let value = state.in_flight.remove(&slot).expect("checked above").value;
        for peer in self.peers() {
            out.send(
                peer,
                CoreMsg::Decided {
                    slot,
                    value: value.clone(),
                },
            );
        }
        self.fill_window(st, out);
        vec![(slot, value)]
    }

    /// Handles a timer. A follower or a stalled candidate campaigns with a higher ballot.
    pub fn on_timeout<O: Clone>(
        &self,
        st: &mut CowLens<'_, '_, O, CoreState<P>>,
        timer: CoreTimer,
        from_slot: Slot,
        out: &mut impl Emit<CoreMsg<P>, CoreTimer>,
    ) {
        let CoreTimer::LeaderTimeout = timer;
        if st.get().role == Role::Leader {
            return;
        }
        let state = st.to_mut();
        let round = state.promised.round.max(state.ballot.round) + 1;
        let ballot = Ballot {
            round,
            leader: self.id,
        };
        state.ballot = ballot;
        state.promised = ballot;
        state.role = Role::Candidate;
        let mut campaign = Campaign {
            from_slot,
            voters: BTreeSet::from([self.id]),
            reported: BTreeMap::new(),
            compacted_upto: state.compacted_upto,
        };
        for (&slot, (b, v)) in state.accepted.range(from_slot..) {
            merge_report(&mut campaign.reported, slot, *b, v.clone());
        }
        state.campaign = Some(campaign);
        for peer in self.peers() {
            out.send(peer, CoreMsg::Prepare { ballot, from_slot });
        }
        out.set_timer(CoreTimer::LeaderTimeout, self.leader_timeout.clone());
        if self.quorum() <= 1 {
            self.become_leader(st, out);
        }
    }

    /// Drops acceptor entries at or below `upto`, which the outer actor has snapshotted.
    pub fn compact<O: Clone>(&self, st: &mut CowLens<'_, '_, O, CoreState<P>>, upto: Slot) {
        if upto <= st.get().compacted_upto {
            return;
        }
        let state = st.to_mut();
        state.compacted_upto = upto;
        let kept = state.accepted.split_off_above(upto);
        state.accepted = kept;
    }
}

/// Keeps, per slot, the report with the highest ballot.
fn merge_report<P>(
    reported: &mut BTreeMap<Slot, (Ballot, Value<P>)>,
    slot: Slot,
    ballot: Ballot,
    value: Value<P>,
) {
    match reported.get(&slot) {
        Some((known, _)) if *known >= ballot => {}
        _ => {
            reported.insert(slot, (ballot, value));
        }
    }
}

trait SplitAbove<P> {
    fn split_off_above(&self, upto: Slot) -> Arc<BTreeMap<Slot, (Ballot, Value<P>)>>;
}

impl<P: Clone> SplitAbove<P> for Arc<BTreeMap<Slot, (Ballot, Value<P>)>> {
    fn split_off_above(&self, upto: Slot) -> Arc<BTreeMap<Slot, (Ballot, Value<P>)>> {
        Arc::new(
            self.range(upto + 1..)
                .map(|(s, e)| (*s, e.clone()))
                .collect(),
        )
    }
}
