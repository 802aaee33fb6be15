//! The calibration protocol: a single-decree Paxos register whose reachable state graph is the
//! same as that of the Paxos example bundled with stateright 0.31 (`examples/paxos.rs`).
//!
//! Its only purpose is to give the model host a workload with known numbers. With three servers,
//! clients that each write once and then read once, an unordered non-duplicating network and no
//! loss, crashes or timers, stateright's own example reaches 16,668 unique states with two clients
//! and 1,194,428 with three (see `shared/research/checker-vs-spin.md`, section 2.1). Any host
//! that explores this actor system must find exactly those counts.
//!
//! # Layout
//!
//! Actors `0..3` are servers and actors `3..3 + n` are clients. Client number `k` (actor id
//! `3 + k`) writes the value `'A' + k` to server `k mod 3` using its own actor id as the request
//! id. Once that write is acknowledged it reads from server `(k + 1) mod 3` with request id
//! `2 * (3 + k)`, and it is finished when the read is answered.
//!
//! # Server behaviour
//!
//! Every server can lead at most one ballot: the first client write it receives starts a new
//! ballot, and writes arriving after that are ignored. The leader counts itself in both quorums
//! without sending itself messages. The steps are the textbook ones: prepare, promise (reporting
//! the last accepted proposal), accept (driving the newest previously accepted proposal if there
//! is one, otherwise the client's), accepted, and finally a broadcast of the decision together
//! with an acknowledgement to the client whose proposal won. A decided server only answers reads.
//!
//! # Ignored deliveries
//!
//! The checker treats a delivery after which the recipient's state is still borrowed (never
//! cloned) and nothing was sent as if it never happened: the message stays in flight and no
//! state is created. The handlers here therefore leave the state untouched and send nothing in
//! exactly the situations where the reference example does. Where the reference clones the state
//! and then changes nothing visible, this module still marks the state as changed, so that the
//! message is consumed there as well.

use serde::{Deserialize, Serialize};
use stateright::actor::{majority, Actor, Id, Out};
use stateright::semantics::register::{Register, RegisterOp, RegisterRet};
use stateright::semantics::{ConsistencyTester, LinearizabilityTester};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// The number of servers in the calibration system.
pub const SERVER_COUNT: usize = 3;

/// Identifies a client request; unique across the run.
pub type RequestId = u64;

/// The value stored in the register.
pub type RegisterValue = char;

/// The linearizability history checked for the calibration register.
pub type CalibrationHistory = LinearizabilityTester<Id, Register<RegisterValue>>;

/// A Paxos ballot. Ballots are ordered by round first and then by the leader that opened them,
/// so two leaders never share a ballot.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub struct Ballot {
    /// Incremented by a server each time it opens a ballot.
    pub round: u32,
    /// The server that opened the ballot.
    pub leader: Id,
}

/// A client write that the servers try to agree on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Proposal {
    /// The request id of the client's `Put`.
    pub request_id: RequestId,
    /// The client that asked for the write, and that receives the `PutOk`.
    pub requester: Id,
    /// The value to write.
    pub value: RegisterValue,
}

/// A proposal together with the ballot in which a server accepted it. Ordered by ballot first,
/// so the maximum of several of these is the most recently accepted proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AcceptedProposal {
    /// The ballot in which the proposal was accepted.
    pub ballot: Ballot,
    /// The accepted proposal.
    pub proposal: Proposal,
}

/// Every message of the calibration system: the register's client interface and the Paxos
/// messages exchanged between servers.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CalibrationMsg {
    /// Client to server: write `value`.
    Put {
        request_id: RequestId,
        value: RegisterValue,
    },
    /// Client to server: read the register.
    Get { request_id: RequestId },
    /// Server to client: the write with this request id has been decided.
    PutOk { request_id: RequestId },
    /// Server to client: the decided value, answering the read with this request id.
    GetOk {
        request_id: RequestId,
        value: RegisterValue,
    },
    /// Leader to peers: promise not to take part in any lower ballot.
    Prepare { ballot: Ballot },
    /// Peer to leader: promise for `ballot`, with the proposal the peer last accepted, if any.
    Prepared {
        ballot: Ballot,
        last_accepted: Option<AcceptedProposal>,
    },
    /// Leader to peers: accept `proposal` in `ballot`.
    Accept { ballot: Ballot, proposal: Proposal },
    /// Peer to leader: `ballot`'s proposal has been accepted.
    Accepted { ballot: Ballot },
    /// Leader to peers: `proposal` was chosen in `ballot`.
    Decided { ballot: Ballot, proposal: Proposal },
}

/// The state of one server.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct ServerState {
    /// The highest ballot this server has promised or accepted in (or opened, when leading).
    pub ballot: Ballot,
    /// The proposal this server is driving as a leader. Once set it is never cleared, so a server
    /// leads at most one ballot.
    pub proposal: Option<Proposal>,
    /// Promises collected for the server's own ballot, keyed by the promising server (the leader
    /// included), each with that server's last accepted proposal.
    pub promises: BTreeMap<Id, Option<AcceptedProposal>>,
    /// Servers (the leader included) known to have accepted the server's own ballot.
    pub acceptances: BTreeSet<Id>,
    /// The proposal this server last accepted, as an acceptor.
    pub accepted: Option<AcceptedProposal>,
    /// Whether this server knows the decided value.
    pub is_decided: bool,
}

/// Where a client is in its write-then-read sequence.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ClientPhase {
    /// The `Put` with this request id is outstanding.
    AwaitingPutOk { request_id: RequestId },
    /// The `Get` with this request id is outstanding.
    AwaitingGetOk { request_id: RequestId },
    /// Both operations have completed.
    Done,
}

/// The state of any actor of the calibration system.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CalibrationState {
    Server(ServerState),
    Client(ClientPhase),
}

/// One actor of the calibration system.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CalibrationActor {
    /// A Paxos server; `peer_ids` are the other servers. `stale_reads` is the deliberately broken
    /// variant: an undecided server answers a read from its own last accepted value (or the
    /// initial one) instead of ignoring it, which the linearizability check must catch.
    Server {
        peer_ids: Vec<Id>,
        stale_reads: bool,
    },
    /// Client number `index` (its actor id is `server_ids.len() + index`), which writes to server
    /// `index mod n` and then reads from server `(index + 1) mod n`.
    Client { server_ids: Vec<Id>, index: usize },
}

/// The actors of the calibration system: [`SERVER_COUNT`] servers (ids `0..3`) followed by
/// `client_count` clients (ids `3..3 + client_count`).
pub fn calibration_actors(client_count: usize) -> Vec<CalibrationActor> {
    actors_with_reads(client_count, false)
}

/// The calibration actors whose servers answer reads before the decision (the mutant).
pub fn stale_read_actors(client_count: usize) -> Vec<CalibrationActor> {
    actors_with_reads(client_count, true)
}

fn actors_with_reads(client_count: usize, stale_reads: bool) -> Vec<CalibrationActor> {
    let server_ids: Vec<Id> = (0..SERVER_COUNT).map(Id::from).collect();
    let servers = server_ids.iter().map(|&own_id| CalibrationActor::Server {
        peer_ids: server_ids
            .iter()
            .copied()
            .filter(|&peer| peer != own_id)
            .collect(),
        stale_reads,
    });
    let clients = (0..client_count).map(|index| CalibrationActor::Client {
        server_ids: server_ids.clone(),
        index,
    });
    servers.chain(clients).collect()
}

/// Records the invocation of a register operation when a `Put` or `Get` is sent; other messages
/// leave the history as it is (`None`). Meant for `ActorModel::record_msg_out`.
///
/// As in the reference example, an invocation the tester rejects (a second operation in flight
/// for the same client) is not reported here: it marks the history invalid, which the
/// linearizability property then reports.
pub fn record_invocation(
    history: &CalibrationHistory,
    src: Id,
    _dst: Id,
    msg: &CalibrationMsg,
) -> Option<CalibrationHistory> {
    let operation = match msg {
        CalibrationMsg::Put { value, .. } => RegisterOp::Write(*value),
        CalibrationMsg::Get { .. } => RegisterOp::Read,
        _ => return None,
    };
    let mut history = history.clone();
    // A rejected invocation invalidates the history; see above.
    let _ = history.on_invoke(src, operation);
    Some(history)
}

/// Records the return of a register operation when a client receives a `PutOk` or `GetOk`; other
/// messages leave the history as it is (`None`). Meant for `ActorModel::record_msg_in`.
pub fn record_return(
    history: &CalibrationHistory,
    _src: Id,
    dst: Id,
    msg: &CalibrationMsg,
) -> Option<CalibrationHistory> {
    let result = match msg {
        CalibrationMsg::PutOk { .. } => RegisterRet::WriteOk,
        CalibrationMsg::GetOk { value, .. } => RegisterRet::ReadOk(*value),
        _ => return None,
    };
    let mut history = history.clone();
    // A rejected return invalidates the history, which the linearizability property reports.
    let _ = history.on_return(dst, result);
    Some(history)
}

/// The "value chosen" witness: some in-flight `GetOk` carries a value other than the register's
/// initial (default) value.
pub fn value_chosen<'a>(in_flight: impl IntoIterator<Item = &'a CalibrationMsg>) -> bool {
    in_flight.into_iter().any(|msg| {
        matches!(msg, CalibrationMsg::GetOk { value, .. } if *value != RegisterValue::default())
    })
}

impl CalibrationActor {
    /// One server step. Returns the new state, or `None` when the delivery changes nothing; in the
    /// latter case nothing is sent either, so the checker ignores the delivery.
    fn server_on_msg(
        own_id: Id,
        peer_ids: &[Id],
        stale_reads: bool,
        state: &ServerState,
        src: Id,
        msg: CalibrationMsg,
        out: &mut Out<Self>,
    ) -> Option<ServerState> {
        let quorum = majority(peer_ids.len() + 1);

        if state.is_decided {
            // A decided server answers reads with the decided value and ignores everything else.
            if let CalibrationMsg::Get { request_id } = msg {
                let decided = state
                    .accepted
                    .expect("a decided server has accepted a proposal");
                out.send(
                    src,
                    CalibrationMsg::GetOk {
                        request_id,
                        value: decided.proposal.value,
                    },
                );
            }
            return None;
        }

        match msg {
            CalibrationMsg::Get { request_id } if stale_reads => {
                let value = state.accepted.map_or('\0', |a| a.proposal.value);
                out.send(src, CalibrationMsg::GetOk { request_id, value });
                None
            }
            CalibrationMsg::Put { request_id, value } if state.proposal.is_none() => {
                // Open a ballot above anything seen so far, promising to it on our own behalf.
                let mut next = state.clone();
                next.proposal = Some(Proposal {
                    request_id,
                    requester: src,
                    value,
                });
                next.ballot = Ballot {
                    round: state.ballot.round + 1,
                    leader: own_id,
                };
                next.promises = BTreeMap::from([(own_id, state.accepted)]);
                next.acceptances = BTreeSet::new();
                out.broadcast(
                    peer_ids,
                    &CalibrationMsg::Prepare {
                        ballot: next.ballot,
                    },
                );
                Some(next)
            }
            CalibrationMsg::Prepare { ballot } if ballot > state.ballot => {
                let mut next = state.clone();
                next.ballot = ballot;
                out.send(
                    src,
                    CalibrationMsg::Prepared {
                        ballot,
                        last_accepted: state.accepted,
                    },
                );
                Some(next)
            }
            CalibrationMsg::Prepared {
                ballot,
                last_accepted,
            } if ballot == state.ballot => {
                let mut next = state.clone();
                next.promises.insert(src, last_accepted);
                // Act on the promise that completes the quorum; later promises are only recorded.
                if next.promises.len() == quorum {
                    // The newest proposal accepted by anyone in the quorum may already have been
                    // chosen, so it must be driven again; with none, the client's is safe.
                    let newest_accepted = next.promises.values().max().copied().flatten();
                    let proposal = match newest_accepted {
                        Some(accepted) => accepted.proposal,
                        None => next
                            .proposal
                            .expect("the leader of a ballot has a proposal"),
                    };
                    next.proposal = Some(proposal);
                    // Accept it ourselves, counting our own acceptance.
                    next.accepted = Some(AcceptedProposal { ballot, proposal });
                    next.acceptances.insert(own_id);
                    out.broadcast(peer_ids, &CalibrationMsg::Accept { ballot, proposal });
                }
                Some(next)
            }
            CalibrationMsg::Accept { ballot, proposal } if ballot >= state.ballot => {
                let mut next = state.clone();
                next.ballot = ballot;
                next.accepted = Some(AcceptedProposal { ballot, proposal });
                out.send(src, CalibrationMsg::Accepted { ballot });
                Some(next)
            }
            CalibrationMsg::Accepted { ballot } if ballot == state.ballot => {
                let mut next = state.clone();
                next.acceptances.insert(src);
                // Decide on the acceptance that completes the quorum; later ones are only
                // recorded.
                if next.acceptances.len() == quorum {
                    next.is_decided = true;
                    let proposal = next
                        .proposal
                        .expect("the leader of a ballot has a proposal");
                    out.broadcast(peer_ids, &CalibrationMsg::Decided { ballot, proposal });
                    out.send(
                        proposal.requester,
                        CalibrationMsg::PutOk {
                            request_id: proposal.request_id,
                        },
                    );
                }
                Some(next)
            }
            CalibrationMsg::Decided { ballot, proposal } => {
                let mut next = state.clone();
                next.ballot = ballot;
                next.accepted = Some(AcceptedProposal { ballot, proposal });
                next.is_decided = true;
                Some(next)
            }
            // Writes after this server has opened its ballot, stale or lower ballots, and client
            // replies are ignored.
            _ => None,
        }
    }

    /// One client step, with the same convention as [`Self::server_on_msg`].
    fn client_on_msg(
        own_id: Id,
        server_ids: &[Id],
        index: usize,
        phase: &ClientPhase,
        msg: CalibrationMsg,
        out: &mut Out<Self>,
    ) -> Option<ClientPhase> {
        match (phase, msg) {
            (
                ClientPhase::AwaitingPutOk {
                    request_id: awaited,
                },
                CalibrationMsg::PutOk { request_id },
            ) if request_id == *awaited => {
                let read_id = 2 * usize::from(own_id) as RequestId;
                out.send(
                    server_ids[(index + 1) % server_ids.len()],
                    CalibrationMsg::Get {
                        request_id: read_id,
                    },
                );
                Some(ClientPhase::AwaitingGetOk {
                    request_id: read_id,
                })
            }
            (
                ClientPhase::AwaitingGetOk {
                    request_id: awaited,
                },
                CalibrationMsg::GetOk { request_id, .. },
            ) if request_id == *awaited => Some(ClientPhase::Done),
            // Replies to other requests (a second acknowledgement of the same write, for
            // instance) and anything arriving after the read are ignored.
            _ => None,
        }
    }
}

impl Actor for CalibrationActor {
    type Msg = CalibrationMsg;
    type State = CalibrationState;
    type Timer = ();
    type Random = ();
    type Storage = ();

    fn name(&self) -> String {
        match self {
            CalibrationActor::Server { .. } => "Calibration Server".to_owned(),
            CalibrationActor::Client { .. } => "Calibration Client".to_owned(),
        }
    }

    fn on_start(
        &self,
        id: Id,
        _storage: &Option<Self::Storage>,
        out: &mut Out<Self>,
    ) -> Self::State {
        match self {
            CalibrationActor::Server { .. } => CalibrationState::Server(ServerState::default()),
            CalibrationActor::Client { server_ids, index } => {
                debug_assert_eq!(
                    usize::from(id),
                    server_ids.len() + index,
                    "clients must follow the servers in actor order"
                );
                let write_id = usize::from(id) as RequestId;
                let value = char::from(b'A' + *index as u8);
                out.send(
                    server_ids[index % server_ids.len()],
                    CalibrationMsg::Put {
                        request_id: write_id,
                        value,
                    },
                );
                CalibrationState::Client(ClientPhase::AwaitingPutOk {
                    request_id: write_id,
                })
            }
        }
    }

    fn on_msg(
        &self,
        id: Id,
        state: &mut Cow<Self::State>,
        src: Id,
        msg: Self::Msg,
        out: &mut Out<Self>,
    ) {
        let next = match (self, &**state) {
            (
                CalibrationActor::Server {
                    peer_ids,
                    stale_reads,
                },
                CalibrationState::Server(server),
            ) => Self::server_on_msg(id, peer_ids, *stale_reads, server, src, msg, out)
                .map(CalibrationState::Server),
            (CalibrationActor::Client { server_ids, index }, CalibrationState::Client(phase)) => {
                Self::client_on_msg(id, server_ids, *index, phase, msg, out)
                    .map(CalibrationState::Client)
            }
            _ => None,
        };
        // Only a changed state is written back: leaving the `Cow` borrowed (and sending nothing)
        // is what tells the checker the delivery was ignored.
        if let Some(next) = next {
            *state = Cow::Owned(next);
        }
    }
}

/// Renaming actor ids in calibration values, so the model host's commutation test can show
/// that this protocol has no symmetry (ballots break ties by server id, and client `k` is bound
/// to servers `k` and `k + 1`). Request ids and values are data, not ids, and stay as they are.
mod rename {
    use super::*;
    use crate::symmetry::{Permutation, Rename};

    impl Rename for Ballot {
        fn rename(&self, perm: &Permutation) -> Self {
            Ballot {
                round: self.round,
                leader: self.leader.rename(perm),
            }
        }
    }

    impl Rename for Proposal {
        fn rename(&self, perm: &Permutation) -> Self {
            Proposal {
                requester: self.requester.rename(perm),
                ..*self
            }
        }
    }

    impl Rename for AcceptedProposal {
        fn rename(&self, perm: &Permutation) -> Self {
            AcceptedProposal {
                ballot: self.ballot.rename(perm),
                proposal: self.proposal.rename(perm),
            }
        }
    }

    impl Rename for CalibrationMsg {
        fn rename(&self, perm: &Permutation) -> Self {
            use CalibrationMsg::*;
            match self {
                Put { .. } | Get { .. } | PutOk { .. } | GetOk { .. } => self.clone(),
                Prepare { ballot } => Prepare {
                    ballot: ballot.rename(perm),
                },
                Prepared {
                    ballot,
                    last_accepted,
                } => Prepared {
                    ballot: ballot.rename(perm),
                    last_accepted: last_accepted.rename(perm),
                },
                Accept { ballot, proposal } => Accept {
                    ballot: ballot.rename(perm),
                    proposal: proposal.rename(perm),
                },
                Accepted { ballot } => Accepted {
                    ballot: ballot.rename(perm),
                },
                Decided { ballot, proposal } => Decided {
                    ballot: ballot.rename(perm),
                    proposal: proposal.rename(perm),
                },
            }
        }
    }

    impl Rename for CalibrationState {
        fn rename(&self, perm: &Permutation) -> Self {
            match self {
                CalibrationState::Client(phase) => CalibrationState::Client(phase.clone()),
                CalibrationState::Server(server) => CalibrationState::Server(ServerState {
                    ballot: server.ballot.rename(perm),
                    proposal: server.proposal.rename(perm),
                    promises: server.promises.rename(perm),
                    acceptances: server.acceptances.rename(perm),
                    accepted: server.accepted.rename(perm),
                    is_decided: server.is_decided,
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stateright::actor::{ActorModel, ActorModelAction::Deliver, Network};
    use stateright::{Checker, Expectation, Model};

    fn calibration_model(
        client_count: usize,
    ) -> ActorModel<CalibrationActor, (), CalibrationHistory> {
        ActorModel::new(
            (),
            LinearizabilityTester::new(Register(RegisterValue::default())),
        )
        .actors(calibration_actors(client_count))
        .init_network(Network::new_unordered_nonduplicating([]))
        .property(Expectation::Always, "linearizable", |_, state| {
            state.history.serialized_history().is_some()
        })
        .property(Expectation::Sometimes, "value chosen", |_, state| {
            value_chosen(
                state
                    .network
                    .iter_deliverable()
                    .map(|envelope| envelope.msg),
            )
        })
        .record_msg_out(|_, history, envelope| {
            record_invocation(history, envelope.src, envelope.dst, envelope.msg)
        })
        .record_msg_in(|_, history, envelope| {
            record_return(history, envelope.src, envelope.dst, envelope.msg)
        })
    }

    fn ballot(round: u32, leader: usize) -> Ballot {
        Ballot {
            round,
            leader: Id::from(leader),
        }
    }

    #[test]
    fn two_clients_match_the_reference_state_graph() {
        let checker = calibration_model(2).checker().spawn_bfs().join();
        checker.assert_properties();
        assert_eq!(checker.unique_state_count(), 16_668);
        assert_eq!(checker.state_count(), 32_971);
        assert_eq!(checker.max_depth(), 21);

        // The shortest witness is the one the reference example's own test expects.
        let proposal = Proposal {
            request_id: 4,
            requester: Id::from(4),
            value: 'B',
        };
        #[rustfmt::skip]
        checker.assert_discovery("value chosen", vec![
            Deliver { src: 4.into(), dst: 1.into(), msg: CalibrationMsg::Put { request_id: 4, value: 'B' } },
            Deliver { src: 1.into(), dst: 0.into(), msg: CalibrationMsg::Prepare { ballot: ballot(1, 1) } },
            Deliver { src: 0.into(), dst: 1.into(), msg: CalibrationMsg::Prepared { ballot: ballot(1, 1), last_accepted: None } },
            Deliver { src: 1.into(), dst: 2.into(), msg: CalibrationMsg::Accept { ballot: ballot(1, 1), proposal } },
            Deliver { src: 2.into(), dst: 1.into(), msg: CalibrationMsg::Accepted { ballot: ballot(1, 1) } },
            Deliver { src: 1.into(), dst: 4.into(), msg: CalibrationMsg::PutOk { request_id: 4 } },
            Deliver { src: 1.into(), dst: 2.into(), msg: CalibrationMsg::Decided { ballot: ballot(1, 1), proposal } },
            Deliver { src: 4.into(), dst: 2.into(), msg: CalibrationMsg::Get { request_id: 8 } },
        ]);
    }

    #[test]
    fn two_clients_depth_first_agrees() {
        let checker = calibration_model(2).checker().spawn_dfs().join();
        checker.assert_properties();
        assert_eq!(checker.unique_state_count(), 16_668);
    }

    #[test]
    fn history_helpers_record_client_operations_only() {
        let initial = CalibrationHistory::new(Register(RegisterValue::default()));
        let client = Id::from(3);
        let server = Id::from(0);
        let prepare = CalibrationMsg::Prepare {
            ballot: ballot(1, 0),
        };
        assert!(record_invocation(&initial, server, Id::from(1), &prepare).is_none());
        assert!(record_return(&initial, server, Id::from(1), &prepare).is_none());

        let put = CalibrationMsg::Put {
            request_id: 3,
            value: 'A',
        };
        let invoked = record_invocation(&initial, client, server, &put).expect("put is recorded");
        let put_ok = CalibrationMsg::PutOk { request_id: 3 };
        let returned = record_return(&invoked, server, client, &put_ok).expect("put-ok recorded");
        let get = CalibrationMsg::Get { request_id: 6 };
        let invoked = record_invocation(&returned, client, Id::from(1), &get).expect("get");
        let stale_read = CalibrationMsg::GetOk {
            request_id: 6,
            value: RegisterValue::default(),
        };
        let wrong = record_return(&invoked, Id::from(1), client, &stale_read).expect("recorded");
        assert!(
            wrong.serialized_history().is_none(),
            "reading the initial value after a write"
        );
        let good_read = CalibrationMsg::GetOk {
            request_id: 6,
            value: 'A',
        };
        let right = record_return(&invoked, Id::from(1), client, &good_read).expect("recorded");
        assert!(right.serialized_history().is_some());

        assert!(!value_chosen([&stale_read, &put]));
        assert!(value_chosen([&put, &good_read]));
    }
}
