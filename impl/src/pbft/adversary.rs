//! Byzantine replicas for the model (DESIGN §3 "Byzantine behaviour is code and data").
//!
//! Each adversary holds the [`Signer`] of its own id only, so it can lie, equivocate and
//! replay, but never sign as a correct replica. Scripted behaviours are [`Script`]s of the
//! [`Adversary`] actor; [`most_general_messages`] lists every core message a faulty replica can
//! sign within the bounds, for the model to place in the initial network.

use super::msgs::{Batch, CoreMsg, Phase, PrePrepare, StableCheckpoint, ViewChange, Vote};
use super::{NodeState, PbftMsg, PbftNode, Request, Seq, View};
use crate::component::node_id;
use crate::crypto::{Crypto, NodeId, Signer};
use quorate_spec::Application;
use serde::{Deserialize, Serialize};
use stateright::actor::Out;
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::marker::PhantomData;

/// A scripted Byzantine behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Script {
    /// Sends nothing at all.
    Silent,
    /// As primary: pre-prepares the first request to all backups but the lowest and a no-op
    /// for the same sequence number to the lowest, and commits both (see `equivocate`).
    Equivocate,
    /// As backup: for every PRE-PREPARE, sends PREPARE and COMMIT for its digest and for a
    /// conflicting no-op; echoes every CHECKPOINT it hears under its own signature.
    ConflictingVotes,
    /// Re-sends every VIEW-CHANGE it receives to every replica (stale ones included).
    ReplayViewChange,
    /// As primary: receives requests and never orders them.
    Withhold,
}

/// What a scripted adversary has done: each (view, seq) or request it acted on, once.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AdversaryState {
    /// (view, seq) pairs already answered, or sequence numbers already equivocated.
    pub acted: BTreeSet<(View, Seq)>,
}

/// A Byzantine replica.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Adversary<C: Crypto, A: Application> {
    /// Its own key, and only its own.
    pub signer: Signer<C>,
    /// Every replica.
    pub replicas: Vec<NodeId>,
    /// What it does.
    pub script: Script,
    /// The application (for the request type).
    pub _app: PhantomData<fn() -> A>,
}

type State<C, A> = NodeState<C, <A as Application>::Op, <A as Application>::Output>;
type Msg<C, A> = PbftMsg<C, <A as Application>::Op, <A as Application>::Output>;
type Req<C, A> = Request<C, <A as Application>::Op>;

impl<C: Crypto, A: Application> Adversary<C, A> {
    /// An adversary with id `signer.id()`.
    pub fn new(signer: Signer<C>, replicas: Vec<NodeId>, script: Script) -> Self {
        Adversary {
            signer,
            replicas,
            script,
            _app: PhantomData,
        }
    }

    /// Its id.
    pub fn id(&self) -> NodeId {
        self.signer.id()
    }

    fn others(&self) -> impl Iterator<Item = NodeId> + '_ {
        let me = self.id();
        self.replicas.iter().copied().filter(move |&r| r != me)
    }

    /// Nothing to do before messages arrive.
    pub fn on_start<R: super::Rules>(&self, _out: &mut Out<PbftNode<C, A, R>>) -> AdversaryState {
        AdversaryState::default()
    }

    fn vote(&self, phase: Phase, view: View, seq: Seq, digest: C::Digest) -> Msg<C, A> {
        PbftMsg::Core(CoreMsg::Vote(self.signer.sign(Vote {
            phase,
            view,
            seq,
            digest,
        })))
    }

    /// Reacts to a message according to the script.
    pub fn on_msg<R: super::Rules>(
        &self,
        state: &mut Cow<State<C, A>>,
        _src: NodeId,
        msg: Msg<C, A>,
        out: &mut Out<PbftNode<C, A, R>>,
    ) {
        let NodeState::Byzantine(current) = state.as_ref() else {
            return;
        };
        let sends: Vec<(NodeId, Msg<C, A>)> = match (self.script, msg) {
            (Script::Equivocate, PbftMsg::Request(request)) => {
                if !current.acted.is_empty() {
                    return; // one equivocation per run keeps the scripted case small
                }
                self.equivocate(request)
            }
            (Script::ConflictingVotes, PbftMsg::Core(CoreMsg::PrePrepare(pp, _))) => {
                let (view, seq) = (pp.value().view, pp.value().seq);
                if current.acted.contains(&(view, seq)) {
                    return;
                }
                // Votes for the proposed batch and for a conflicting no-op: correct replicas
                // may count either, and need the first to make progress past a lost message.
                let noop = C::digest(&Batch::<Req<C, A>>::NoOp);
                let mut digests = vec![pp.value().digest.clone()];
                if digests[0] != noop {
                    digests.push(noop);
                }
                let mut sends = Vec::new();
                for digest in digests {
                    for phase in [Phase::Prepare, Phase::Commit] {
                        for peer in self.others() {
                            sends.push((peer, self.vote(phase, view, seq, digest.clone())));
                        }
                    }
                }
                sends
            }
            (Script::ConflictingVotes, PbftMsg::Core(CoreMsg::Checkpoint(cp))) => {
                // Agrees with every checkpoint it hears, so a wrong one needs only f+1 more.
                let key = (View::MAX, cp.value().seq);
                if current.acted.contains(&key) {
                    return;
                }
                let own = self.signer.sign(cp.value().clone());
                self.others()
                    .map(|peer| (peer, PbftMsg::Core(CoreMsg::Checkpoint(own.clone()))))
                    .collect()
            }
            (Script::ReplayViewChange, PbftMsg::Core(CoreMsg::ViewChange(vc))) => {
                let key = (vc.value().new_view, Seq::from(vc.signer()));
                if current.acted.contains(&key) {
                    return;
                }
                self.others()
                    .filter(|&peer| peer != vc.signer())
                    .map(|peer| (peer, PbftMsg::Core(CoreMsg::ViewChange(vc.clone()))))
                    .collect()
            }
            _ => return, // Silent, Withhold, and every message a script ignores
        };
        let NodeState::Byzantine(current) = state.to_mut() else {
            unreachable!("checked above")
        };
        let acted = match &sends.first().map(|(_, m)| m) {
            Some(PbftMsg::Core(CoreMsg::Vote(v))) => (v.value().view, v.value().seq),
            Some(PbftMsg::Core(CoreMsg::ViewChange(vc))) => {
                (vc.value().new_view, Seq::from(vc.signer()))
            }
            Some(PbftMsg::Core(CoreMsg::Checkpoint(cp))) => (View::MAX, cp.value().seq),
            _ => (0, 1),
        };
        current.acted.insert(acted);
        for (dst, msg) in sends {
            out.send(node_id(dst), msg);
        }
    }

    /// The equivocating primary's whole attack, sent on the first request: in view 0 it
    /// pre-prepares the request at seq 1 to every backup but the lowest and a no-op there to
    /// the lowest; pre-prepares a no-op at seq 2 to everyone (so a later NEW-VIEW has a gap
    /// below a certificate to fill); commits every digest it proposed; and asks for view 1
    /// with an empty VIEW-CHANGE, so a view-1 quorum may leave out one correct replica.
    fn equivocate(&self, request: Req<C, A>) -> Vec<(NodeId, Msg<C, A>)> {
        let real = Batch::Requests(vec![request]);
        let lowest = self.others().min().expect("a cluster has backups");
        let mut sends = Vec::new();
        let proposals = [
            (1, real, false),
            (1, Batch::NoOp, true),
            (2, Batch::NoOp, false),
        ];
        for (seq, batch, only_lowest) in proposals {
            let digest = C::digest(&batch);
            let pp = self.signer.sign(PrePrepare {
                view: 0,
                seq,
                digest: digest.clone(),
            });
            for peer in self.others() {
                if (peer == lowest) == only_lowest || seq == 2 {
                    let msg = PbftMsg::Core(CoreMsg::PrePrepare(pp.clone(), batch.clone()));
                    sends.push((peer, msg));
                }
                sends.push((peer, self.vote(Phase::Commit, 0, seq, digest.clone())));
            }
        }
        let vc = self.signer.sign(ViewChange {
            new_view: 1,
            stable: StableCheckpoint::genesis(),
            prepared: Vec::new(),
        });
        for peer in self.others() {
            sends.push((peer, PbftMsg::Core(CoreMsg::ViewChange(vc.clone()))));
        }
        sends
    }
}

/// Every core message faulty replica `signer` can sign within the bounds (views ≤ `max_view`,
/// sequence numbers ≤ `max_seq`, the given candidate batches), addressed to every other
/// replica: PRE-PREPAREs, PREPAREs and COMMITs for every candidate digest in every view,
/// and VIEW-CHANGEs with no certificates. NEW-VIEW is left out: it needs 2f+1 VIEW-CHANGEs,
/// and the faulty replica holds none before the run starts. CHECKPOINTs are left out: the
/// configurations that use this adversary take no checkpoints.
pub fn most_general_messages<P, C>(
    signer: &Signer<C>,
    replicas: &[NodeId],
    batches: &[Batch<P>],
    max_view: View,
    max_seq: Seq,
) -> Vec<(NodeId, CoreMsg<P, C>)>
where
    P: Clone + Serialize,
    C: Crypto,
{
    let me = signer.id();
    let mut messages = Vec::new();
    for view in 0..=max_view {
        for seq in 1..=max_seq {
            for batch in batches {
                let digest = C::digest(batch);
                // Messages correct replicas will refuse (a pre-prepare from a non-primary, a
                // prepare from the primary) are included too: refusing them is what is checked.
                let pp = signer.sign(PrePrepare {
                    view,
                    seq,
                    digest: digest.clone(),
                });
                let mut msgs = vec![CoreMsg::PrePrepare(pp, batch.clone())];
                msgs.push(CoreMsg::Vote(signer.sign(Vote {
                    phase: Phase::Prepare,
                    view,
                    seq,
                    digest: digest.clone(),
                })));
                msgs.push(CoreMsg::Vote(signer.sign(Vote {
                    phase: Phase::Commit,
                    view,
                    seq,
                    digest,
                })));
                for msg in msgs {
                    for &dst in replicas.iter().filter(|&&r| r != me) {
                        messages.push((dst, msg.clone()));
                    }
                }
            }
        }
        if view > 0 {
            let vc = signer.sign(ViewChange {
                new_view: view,
                stable: StableCheckpoint::genesis(),
                prepared: Vec::new(),
            });
            for &dst in replicas.iter().filter(|&&r| r != me) {
                messages.push((dst, CoreMsg::ViewChange(vc.clone())));
            }
        }
    }
    messages
}
