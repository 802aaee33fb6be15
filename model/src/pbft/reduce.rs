//! Dead-message collection: an exact state-space reduction for the PBFT model.
//!
//! A message in flight to a correct replica that the replica will refuse in every future state
//! (a vote for a view it has left, a PREPARE for a slot that already prepared, a second
//! PRE-PREPARE for a filled slot, ...) can only ever be delivered as a no-op, which the host
//! does not turn into a step. Such a message still distinguishes states: whether it was
//! consumed before it became useless or is still in flight is history the replica cannot
//! observe. Removing it maps both to one state. The futures are identical (a dead message has
//! no effect on any actor, and losing it is the same as never delivering it), so every
//! property holds on the reduced graph iff it holds on the full one.
//!
//! "Dead forever" rests on monotone facts of the replica: its view and low watermark never
//! decrease, a slot's digest is fixed within a view, a slot's phase only advances, vote
//! sets only grow, and what it executed only grows. Only these are used; anything else
//! (requests) is left in flight. A scripted Byzantine actor reacts to a few message kinds,
//! once each (`is_dead_to_adversary`); the rest it never reads. A client's accepted results
//! only grow and its reply set only grows until it accepts, so a REPLY for a transaction it
//! accepted, or a second one from the same replier, is dead too.

use super::properties::RState;
use super::State;
use crate::Network;
use quorate_impl::crypto::Symbolic;
use quorate_impl::pbft::adversary::AdversaryState;
use quorate_impl::pbft::core::SlotPhase;
use quorate_impl::pbft::msgs::Phase;
use quorate_impl::pbft::{
    ClientState, CoreMsg, MsgOf, NodeState, PbftMsg, Rules, Script, Seq, Status, View,
};
use quorate_spec::{KvResult, KvStore};

type Msg = MsgOf<Symbolic, KvStore>;

/// The state with every dead message to a correct replica removed, and with `scripts` (the
/// script of each actor that is a Byzantine one; the most-general adversary's actor is
/// `Script::Silent`) also every dead REPLY and every message a scripted adversary ignores.
pub(super) fn drop_dead_messages<R: Rules>(
    scripts: Option<&[Option<Script>]>,
    state: &State<R>,
) -> State<R> {
    let dead: Vec<_> = state
        .network
        .iter_all()
        .filter(|env| {
            let index = usize::from(env.dst);
            match (state.actor(index), scripts) {
                (NodeState::Replica(replica), _) => is_dead(replica, env.msg),
                (_, None) => false,
                (NodeState::Client(client), Some(_)) => is_dead_reply(client, env.msg),
                (NodeState::Byzantine(acted), Some(scripts)) => scripts
                    .get(index)
                    .copied()
                    .flatten()
                    .is_some_and(|script| is_dead_to_adversary(script, acted, env.msg)),
            }
        })
        .map(|env| env.to_owned_msg())
        .collect();
    let mut next = state.clone();
    for env in dead {
        next.network.on_drop(env.src, env.dst, &env.msg);
    }
    next
}

/// Clears a duplicating network's record of the last delivered envelope (`Network::Duplicating`
/// keeps it only so that re-deliveries give distinct states; nothing reads it to decide an
/// action or a step, so two states differing only in it have the same futures).
pub(super) fn forget_last_delivered<R: Rules>(state: &mut State<R>) {
    if let Network::Duplicating { last, .. } = &mut state.network {
        *last = None;
    }
}

/// Whether a scripted adversary ignores `msg` now and in every state it can reach. A script
/// reacts only to the messages matched in `Adversary::on_msg`, each (view, seq), request or
/// VIEW-CHANGE once, and its `acted` set only grows; everything else it drops unread.
pub fn is_dead_to_adversary(script: Script, state: &AdversaryState, msg: &Msg) -> bool {
    let acted = |key| state.acted.contains(&key);
    match (script, msg) {
        (Script::Equivocate, PbftMsg::Request(_)) => !state.acted.is_empty(),
        (Script::ConflictingVotes, PbftMsg::Core(CoreMsg::PrePrepare(pp, _))) => {
            acted((pp.value().view, pp.value().seq))
        }
        (Script::ConflictingVotes, PbftMsg::Core(CoreMsg::Checkpoint(cp))) => {
            acted((View::MAX, cp.value().seq))
        }
        (Script::ReplayViewChange, PbftMsg::Core(CoreMsg::ViewChange(vc))) => {
            acted((vc.value().new_view, Seq::from(vc.signer())))
        }
        _ => true,
    }
}

/// Whether `client` refuses `msg` now and in every state it can reach: a REPLY for a
/// transaction it already accepted (transaction `i` is accepted `i`-th), or one from a replica
/// whose reply to the outstanding transaction it already counted.
pub fn is_dead_reply(client: &ClientState<Vec<KvResult>>, msg: &Msg) -> bool {
    let PbftMsg::Reply(signed) = msg else {
        return false;
    };
    let tx_seq = signed.value().tx.seq;
    let accepted = client.accepted.len() as u64;
    tx_seq <= accepted || (tx_seq == accepted + 1 && client.replies.contains_key(&signed.signer()))
}

/// Whether `replica` refuses `msg` now and in every state it can reach.
pub fn is_dead(replica: &RState, msg: &Msg) -> bool {
    let core = &replica.core;
    let normal_in = |view| view == core.view && core.status == Status::Normal;
    match msg {
        PbftMsg::Core(CoreMsg::Vote(signed)) => {
            let vote = signed.value();
            if vote.view < core.view || vote.seq <= core.low() {
                return true;
            }
            if !normal_in(vote.view) {
                return false;
            }
            let Some(slot) = core.slots.get(&vote.seq) else {
                return false; // an early vote: the slot may still come
            };
            let voter = signed.signer();
            slot.digest != vote.digest
                || match (&slot.phase, vote.phase) {
                    (SlotPhase::PrePrepared { prepares, .. }, Phase::Prepare) => {
                        prepares.iter().any(|p| p.signer() == voter)
                    }
                    (SlotPhase::PrePrepared { .. }, Phase::Commit) => false,
                    (SlotPhase::Prepared { commits }, Phase::Commit) => commits.contains(&voter),
                    (SlotPhase::Prepared { .. }, Phase::Prepare) => true,
                    (SlotPhase::Committed, _) => true,
                }
        }
        PbftMsg::Core(CoreMsg::PrePrepare(signed, _)) => {
            let pp = signed.value();
            pp.view < core.view
                || pp.seq <= core.low()
                || (normal_in(pp.view) && core.slots.contains_key(&pp.seq))
        }
        PbftMsg::Core(CoreMsg::ViewChange(signed)) => {
            let target = signed.value().new_view;
            target < core.view
                || normal_in(target)
                || core
                    .view_changes
                    .get(&target)
                    .is_some_and(|vcs| vcs.iter().any(|v| v.signer() == signed.signer()))
        }
        PbftMsg::Core(CoreMsg::NewView(signed)) => {
            let view = signed.value().view;
            view < core.view || normal_in(view)
        }
        PbftMsg::Core(CoreMsg::Checkpoint(signed)) => {
            let seq = signed.value().seq;
            seq <= core.low()
                || core
                    .checkpoints
                    .get(&seq)
                    .is_some_and(|cps| cps.iter().any(|c| c.signer() == signed.signer()))
        }
        PbftMsg::State { snapshot, .. } => snapshot.seq <= replica.executed_upto(),
        PbftMsg::Fetch { seq } => *seq < core.low(),
        PbftMsg::Request(_) | PbftMsg::Reply(_) => false,
    }
}
