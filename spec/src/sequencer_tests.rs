//! Tests of the abstract sequencer and of the refinement checks.

use super::*;
use proptest::prelude::*;

fn submitted(payloads: &[char]) -> BTreeSet<char> {
    payloads.iter().copied().collect()
}

#[test]
fn sequencer_orders_any_pending_payload_in_any_order() {
    let mut seq = Sequencer::new();
    assert!(seq.submit('a'));
    assert!(seq.submit('b'));
    assert!(!seq.submit('a'), "re-submission is a no-op");
    assert_eq!(seq.pending(), vec!['a', 'b']);
    assert_eq!(seq.order('b'), Ok(()));
    assert_eq!(seq.pending(), vec!['a']);
    assert_eq!(seq.order('a'), Ok(()));
    assert_eq!(seq.log.as_slice(), &['b', 'a']);
    assert!(seq.pending().is_empty());
}

#[test]
fn sequencer_refuses_unsubmitted_or_already_ordered_payloads() {
    let mut seq = Sequencer::new();
    let err = seq.order('x').unwrap_err();
    assert!(err.detail.contains("never submitted"), "{err}");
    seq.submit('x');
    seq.order('x').unwrap();
    let before = seq.clone();
    let err = seq.order('x').unwrap_err();
    assert!(err.detail.contains("already in the log"), "{err}");
    assert_eq!(seq, before, "a refused order changes nothing");
}

#[test]
fn learner_advances_anywhere_up_to_the_log_but_never_backwards() {
    let mut seq = Sequencer::new();
    for p in ['a', 'b', 'c'] {
        seq.submit(p);
        seq.order(p).unwrap();
    }
    assert_eq!(seq.delivered_to(7), 0);
    assert_eq!(seq.deliver(7, 2), Ok(()));
    assert_eq!(seq.delivered_log(7), &['a', 'b']);
    assert_eq!(seq.deliver(7, 2), Ok(()), "staying put is allowed");
    assert!(seq.deliver(7, 1).is_err(), "backwards");
    assert!(seq.deliver(7, 4).is_err(), "past the log");
    assert_eq!(seq.delivered_to(7), 2);
    assert_eq!(seq.deliver(7, 3), Ok(()));
}

#[test]
fn refines_sequencer_returns_the_longest_of_consistent_prefixes() {
    let log = ['a', 'b', 'c'];
    let delivered = [(0, &log[..1]), (1, &log[..]), (2, &log[..0])];
    let longest = refines_sequencer(&submitted(&log), &delivered).unwrap();
    assert_eq!(longest, log.to_vec());
    assert_eq!(refines_sequencer::<char>(&BTreeSet::new(), &[]), Ok(vec![]));
}

#[test]
fn refines_sequencer_rejects_learners_that_diverge() {
    let (a, b) = (['a', 'b'], ['a', 'c', 'b']);
    let err = refines_sequencer(&submitted(&b), &[(0, &a[..]), (1, &b[..])]).unwrap_err();
    assert_eq!(err.property, "refines-sequencer");
    assert!(err.detail.contains("index 1"), "{err}");
}

#[test]
fn refines_sequencer_rejects_unsubmitted_or_repeated_payloads() {
    let log = ['a', 'z'];
    let err = refines_sequencer(&submitted(&['a']), &[(0, &log[..])]).unwrap_err();
    assert!(err.detail.contains("never submitted"), "{err}");
    let log = ['a', 'b', 'a'];
    let err = refines_sequencer(&submitted(&['a', 'b']), &[(0, &log[..])]).unwrap_err();
    assert!(err.detail.contains("second time"), "{err}");
}

#[test]
fn refinement_step_accepts_growth_and_rejects_loss_or_change() {
    assert_eq!(refinement_step_ok(&['a'], &['a', 'b']), Ok(()));
    assert_eq!(refinement_step_ok::<char>(&[], &[]), Ok(()));
    let shrank = refinement_step_ok(&['a', 'b'], &['a']).unwrap_err();
    assert!(shrank.detail.contains("shrank"), "{shrank}");
    let changed = refinement_step_ok(&['a', 'b'], &['a', 'c', 'd']).unwrap_err();
    assert!(changed.detail.contains("entry 1"), "{changed}");
    assert_eq!(changed.property, "refines-sequencer");
}

/// One sequencer step, chosen by index among whatever is enabled.
#[derive(Clone, Debug)]
enum Step {
    Submit(u8),
    Order(prop::sample::Index),
    Deliver(NodeId, prop::sample::Index),
}

fn arb_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..6).prop_map(Step::Submit),
        any::<prop::sample::Index>().prop_map(Step::Order),
        (0u32..3, any::<prop::sample::Index>()).prop_map(|(l, i)| Step::Deliver(l, i)),
    ]
}

fn learner_views(seq: &Sequencer<u8>) -> Vec<(NodeId, &[u8])> {
    (0..3).map(|l| (l, seq.delivered_log(l))).collect()
}

proptest! {
    /// The sequencer refines itself: along any run its learners pass both checks.
    #[test]
    fn every_sequencer_run_passes_the_refinement_checks(
        steps in proptest::collection::vec(arb_step(), 0..30),
    ) {
        let mut seq = Sequencer::new();
        let mut prev = Vec::new();
        for step in steps {
            match step {
                Step::Submit(p) => {
                    seq.submit(p);
                }
                Step::Order(i) => {
                    let pending = seq.pending();
                    if !pending.is_empty() {
                        seq.order(pending[i.index(pending.len())]).unwrap();
                    }
                }
                Step::Deliver(learner, i) => {
                    let from = seq.delivered_to(learner);
                    let upto = from + i.index(seq.log.len() - from + 1);
                    seq.deliver(learner, upto).unwrap();
                }
            }
            let next = refines_sequencer(&seq.submitted, &learner_views(&seq)).unwrap();
            prop_assert!(seq.log.as_slice().starts_with(&next));
            refinement_step_ok(&prev, &next).unwrap();
            prev = next;
        }
    }
}
