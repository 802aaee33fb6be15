//! PBFT in the refinement pipeline ([`crate::protocol`]): the replay model is
//! `quorate_model::pbft::replay_system` (a Byzantine actor of the run included); a client
//! accepts a result when f+1 matching replies grew its accepted list, so the result is read
//! from the client's state rather than from the one reply that completed the quorum.

use quorate_impl::pbft::{PbftMsg, Rules};
use quorate_model::pbft::{replay_system, Node, PbftHistory};
use quorate_model::System;
use quorate_spec::{KvOp, KvResult, Transaction, TxId};

use crate::membership::StepView;
use crate::protocol::{KvRequest, Refined, ReplicaLedger};

impl<R: Rules> Refined for Node<R> {
    type History = PbftHistory;

    fn replay_system(actors: Vec<Self>) -> System<Self, PbftHistory> {
        replay_system(actors)
    }

    fn sequencer_log(history: &PbftHistory) -> &[KvRequest] {
        history.longest.as_slice()
    }

    fn ledger(state: &Self::State) -> Option<ReplicaLedger<'_>> {
        state.as_replica().map(|replica| ReplicaLedger {
            base: replica.delivered_base,
            delivered: replica.delivered.as_slice(),
            app: &replica.app,
        })
    }

    fn submitted(msg: &Self::Msg) -> Option<&Transaction<KvOp>> {
        match msg {
            PbftMsg::Request(request) => Some(request.value()),
            _ => None,
        }
    }

    fn accepted(step: &StepView<'_, Self, Self::History>) -> Option<(TxId, Vec<KvResult>)> {
        let before = step.before.as_client()?.accepted.len();
        let after = &step.after.as_client()?.accepted;
        (after.len() > before)
            .then(|| after.last().cloned())
            .flatten()
    }
}
