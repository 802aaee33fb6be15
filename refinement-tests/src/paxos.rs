//! Multi-Paxos in the refinement pipeline ([`crate::protocol`]): the replay model is
//! `quorate_model::paxos::replay_system`; a client accepts a result in the step where a
//! delivered REPLY to its own request changed its state.

use quorate_impl::paxos::{PaxosMsg, Rules};
use quorate_model::paxos::{replay_system, Node, PaxosHistory};
use quorate_model::System;
use quorate_spec::{KvOp, KvResult, Transaction, TxId};

use crate::membership::StepView;
pub use crate::protocol::{check_run, membership_only, RunFailure, RunFigures};
use crate::protocol::{KvRequest, Refined, ReplicaLedger};

impl<R: Rules> Refined for Node<R> {
    type History = PaxosHistory;

    fn replay_system(actors: Vec<Self>) -> System<Self, PaxosHistory> {
        replay_system(actors)
    }

    fn sequencer_log(history: &PaxosHistory) -> &[KvRequest] {
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
            PaxosMsg::Request(request) => Some(request.value()),
            _ => None,
        }
    }

    fn accepted(step: &StepView<'_, Self, Self::History>) -> Option<(TxId, Vec<KvResult>)> {
        match step.delivered()? {
            PaxosMsg::Reply { tx, output } if step.changed() && tx.client == step.node => {
                Some((*tx, output.clone()))
            }
            _ => None,
        }
    }
}
