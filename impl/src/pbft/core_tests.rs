//! Scripted message orders against one PBFT core (n = 4, f = 1, primary 0): orders a real
//! network produces and the model host never needs, because there an unusable message stays in
//! flight, while a real link delivers it once.

use super::core::{Core, CoreState, CoreTimer, Events};
use super::msgs::{Batch, Checkpoint, CoreMsg, Phase, PrePrepare, Vote};
use super::rules::Honest;
use super::{Seq, View};
use crate::component::{CowLens, Emit};
use crate::crypto::{Crypto, Keyring, NodeId, Signer, Symbolic};
use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

type TestCore = Core<u8, Symbolic, Honest>;
type State = CoreState<u8, Symbolic>;
type Msg = CoreMsg<u8, Symbolic>;

/// Records what the core emits.
#[derive(Default)]
struct Sent(Vec<(NodeId, Msg)>);

impl Emit<Msg, CoreTimer> for Sent {
    fn send(&mut self, dst: NodeId, msg: Msg) {
        self.0.push((dst, msg));
    }
    fn set_timer(&mut self, _: CoreTimer, _: Range<Duration>) {}
    fn cancel_timer(&mut self, _: CoreTimer) {}
}

impl Sent {
    /// Sequence numbers of the PRE-PREPAREs sent (one per sequence number, not per peer).
    fn pre_prepared(&self) -> Vec<Seq> {
        let mut seqs: Vec<Seq> = self
            .0
            .iter()
            .filter_map(|(_, m)| match m {
                CoreMsg::PrePrepare(pp, _) => Some(pp.value().seq),
                _ => None,
            })
            .collect();
        seqs.dedup();
        seqs
    }
}

fn core(me: NodeId, batch_max: usize, checkpoint_every: Seq, window: Seq) -> TestCore {
    let replicas: Vec<NodeId> = (0..4).collect();
    let keyring = Arc::new(Keyring::symbolic(replicas.clone()));
    let second = Duration::from_secs(1);
    Core::new(
        Signer::symbolic(me),
        replicas,
        vec![0, 1, 2, 3],
        keyring,
        batch_max,
        checkpoint_every,
        window,
        second..second,
    )
}

/// Delivers `msg` from `src`; returns the committed sequence numbers.
fn deliver(core: &TestCore, state: &mut State, src: NodeId, msg: Msg, out: &mut Sent) -> Vec<Seq> {
    let mut cow = Cow::Borrowed(&*state);
    let events: Events<u8> = {
        let mut lens = CowLens::new(&mut cow, |s| s, |s| s);
        core.on_msg(&mut lens, src, msg, out)
    };
    *state = cow.into_owned();
    events.committed.iter().map(|(seq, _)| *seq).collect()
}

fn vote(signer: NodeId, phase: Phase, view: View, seq: Seq, batch: &Batch<u8>) -> Msg {
    CoreMsg::Vote(Signer::symbolic(signer).sign(Vote {
        phase,
        view,
        seq,
        digest: Symbolic::digest(batch),
    }))
}

fn pre_prepare(seq: Seq, batch: &Batch<u8>) -> Msg {
    let signed = Signer::symbolic(0).sign(PrePrepare {
        view: 0,
        seq,
        digest: Symbolic::digest(batch),
    });
    CoreMsg::PrePrepare(signed, batch.clone())
}

#[test]
fn commits_that_arrive_before_the_replica_prepared_still_count() {
    let backup = core(1, 1, 0, 4);
    let mut state = backup.init();
    let mut out = Sent::default();
    let batch = Batch::Requests(vec![7]);
    // Replicas 2 and 3 prepared and committed before this backup saw the PRE-PREPARE.
    for voter in [2, 3] {
        let committed = deliver(
            &backup,
            &mut state,
            voter,
            vote(voter, Phase::Commit, 0, 1, &batch),
            &mut out,
        );
        assert!(committed.is_empty());
    }
    assert!(deliver(&backup, &mut state, 0, pre_prepare(1, &batch), &mut out).is_empty());
    // One PREPARE from another backup (its own counts too) makes it prepared; the two early
    // COMMITs and its own make 2f+1.
    let committed = deliver(
        &backup,
        &mut state,
        2,
        vote(2, Phase::Prepare, 0, 1, &batch),
        &mut out,
    );
    assert_eq!(committed, [1]);
    assert!(state.early.is_empty(), "counted votes leave the buffer");
}

#[test]
fn prepares_that_arrive_before_the_pre_prepare_still_count() {
    let backup = core(1, 1, 0, 4);
    let mut state = backup.init();
    let mut out = Sent::default();
    let batch = Batch::Requests(vec![7]);
    deliver(
        &backup,
        &mut state,
        3,
        vote(3, Phase::Prepare, 0, 1, &batch),
        &mut out,
    );
    deliver(&backup, &mut state, 0, pre_prepare(1, &batch), &mut out);
    assert!(
        state.certs.contains_key(&1),
        "prepared from the early PREPARE"
    );
}

#[test]
fn early_votes_for_another_digest_or_outside_the_window_are_not_counted() {
    let backup = core(1, 1, 0, 2);
    let mut state = backup.init();
    let mut out = Sent::default();
    let batch = Batch::Requests(vec![7]);
    let forged = Batch::Requests(vec![8]);
    for voter in [2, 3] {
        deliver(
            &backup,
            &mut state,
            voter,
            vote(voter, Phase::Commit, 0, 1, &forged),
            &mut out,
        );
    }
    // Beyond the window h + L = 2: never kept, so the buffer stays bounded.
    deliver(
        &backup,
        &mut state,
        2,
        vote(2, Phase::Commit, 0, 3, &batch),
        &mut out,
    );
    assert!(!state.early.contains_key(&3));
    // A second COMMIT from the same signer for the same slot is not kept either.
    deliver(
        &backup,
        &mut state,
        2,
        vote(2, Phase::Commit, 0, 1, &batch),
        &mut out,
    );
    assert_eq!(state.early[&1].len(), 2);
    deliver(&backup, &mut state, 0, pre_prepare(1, &batch), &mut out);
    let committed = deliver(
        &backup,
        &mut state,
        3,
        vote(3, Phase::Prepare, 0, 1, &batch),
        &mut out,
    );
    assert!(
        committed.is_empty(),
        "COMMITs for another digest never count"
    );
}

#[test]
fn primary_orders_waiting_requests_once_a_checkpoint_moves_the_window() {
    // One request per batch, a window of 2, a checkpoint every 2.
    let primary = core(0, 1, 2, 2);
    let mut state = primary.init();
    let mut out = Sent::default();
    {
        let mut cow = Cow::Borrowed(&state);
        let mut lens = CowLens::new(&mut cow, |s| s, |s| s);
        for request in [10u8, 11, 12] {
            primary.propose(&mut lens, request, &mut out);
        }
        state = cow.into_owned();
    }
    assert_eq!(
        out.pre_prepared(),
        [1, 2],
        "request 12 waits for the window"
    );
    // Sequence numbers 1-2 were executed everywhere; checkpoint 2 becomes stable.
    let digest = Symbolic::digest(&"state at 2");
    {
        let mut cow = Cow::Borrowed(&state);
        let mut lens = CowLens::new(&mut cow, |s| s, |s| s);
        primary.executed(&mut lens, &[10, 11], &mut out);
        primary.checkpoint(&mut lens, 2, digest.clone(), &mut out);
        state = cow.into_owned();
    }
    for replica in [1, 2] {
        let signed = Signer::symbolic(replica).sign(Checkpoint {
            seq: 2,
            state: digest.clone(),
        });
        deliver(
            &primary,
            &mut state,
            replica,
            CoreMsg::Checkpoint(signed),
            &mut out,
        );
    }
    assert_eq!(state.low(), 2);
    assert_eq!(
        out.pre_prepared(),
        [1, 2, 3],
        "the waiting request is ordered"
    );
}

#[test]
fn a_full_pipeline_gathers_waiting_requests_into_one_batch() {
    let mut primary = core(0, 8, 0, 64);
    primary.max_in_flight = 1;
    let mut state = primary.init();
    let mut out = Sent::default();
    {
        let mut cow = Cow::Borrowed(&state);
        let mut lens = CowLens::new(&mut cow, |s| s, |s| s);
        for request in [10u8, 11, 12] {
            primary.propose(&mut lens, request, &mut out);
        }
        state = cow.into_owned();
    }
    assert_eq!(
        out.pre_prepared(),
        [1],
        "11 and 12 wait while seq 1 is open"
    );
    let first = Batch::Requests(vec![10]);
    for voter in [1, 2] {
        deliver(
            &primary,
            &mut state,
            voter,
            vote(voter, Phase::Prepare, 0, 1, &first),
            &mut out,
        );
    }
    let committed = deliver(
        &primary,
        &mut state,
        1,
        vote(1, Phase::Commit, 0, 1, &first),
        &mut out,
    );
    assert!(committed.is_empty());
    let committed = deliver(
        &primary,
        &mut state,
        2,
        vote(2, Phase::Commit, 0, 1, &first),
        &mut out,
    );
    assert_eq!(committed, [1]);
    assert_eq!(
        out.pre_prepared(),
        [1, 2],
        "the commit reopened the pipeline"
    );
    let second = state.slots[&2].digest.clone();
    assert_eq!(
        second,
        Symbolic::digest(&Batch::Requests(vec![11u8, 12])),
        "one batch of both"
    );
}

fn view_change_to_1(signer: NodeId) -> super::msgs::SignedViewChange<u8, Symbolic> {
    Signer::symbolic(signer).sign(super::msgs::ViewChange {
        new_view: 1,
        stable: super::msgs::StableCheckpoint::genesis(),
        prepared: Vec::new(),
    })
}

#[test]
fn a_new_primarys_pre_prepare_that_overtakes_its_new_view_still_counts() {
    // Backup 2 moves to view 1 (primary 1) on f+1 = 2 VIEW-CHANGEs; the new primary's first
    // PRE-PREPARE of view 1 reaches it before the NEW-VIEW. Dropped, the slot could never
    // gather 2f+1 with one replica silent, and view 1 would time out like view 0.
    let backup = core(2, 1, 0, 4);
    let mut state = backup.init();
    let mut out = Sent::default();
    for signer in [1, 3] {
        let vc = CoreMsg::ViewChange(view_change_to_1(signer));
        deliver(&backup, &mut state, signer, vc, &mut out);
    }
    assert_eq!((state.view, state.status), (1, super::Status::ViewChanging));
    let batch = Batch::Requests(vec![7]);
    let early = Signer::symbolic(1).sign(PrePrepare {
        view: 1,
        seq: 1,
        digest: Symbolic::digest(&batch),
    });
    deliver(
        &backup,
        &mut state,
        1,
        CoreMsg::PrePrepare(early, batch.clone()),
        &mut out,
    );
    let new_view = Signer::symbolic(1).sign(super::msgs::NewView {
        view: 1,
        view_changes: [1, 2, 3].map(view_change_to_1).to_vec(),
        pre_prepares: Vec::new(),
    });
    deliver(&backup, &mut state, 1, CoreMsg::NewView(new_view), &mut out);
    assert_eq!(state.status, super::Status::Normal);
    assert!(state.early_pre_prepares.is_empty(), "logged on entering");
    // Its own PREPARE and replica 3's make 2f: prepared in view 1.
    deliver(
        &backup,
        &mut state,
        3,
        vote(3, Phase::Prepare, 1, 1, &batch),
        &mut out,
    );
    assert!(
        state.certs.get(&1).is_some_and(|cert| cert.view() == 1),
        "prepared from the PRE-PREPARE that came before the NEW-VIEW"
    );
}
