//! Incremental monitors (design-review §17): an `always` property evaluated along a run at a
//! cost per step that does not grow with the run. The model's `consistency` re-executes the
//! sequencer's log from the empty state for every replica at every step — quadratic over a run.
//! [`Consistency`] executes the log once, incrementally, keeping the digest of the reference
//! state after each prefix; a step then checks only the replica it changed, by one digest.
//! That is exact because a step changes one actor, and the sequencer's log only grows (a
//! rewrite of it fails `refines-sequencer`, which is still evaluated every step).

use quorate_impl::trace::digest;
use quorate_spec::ledger::ReferenceExecutor;
use quorate_spec::{KvResult, KvStore};

use crate::protocol::{KvRequest, ReplicaLedger};

/// The model property [`Consistency`] stands for.
pub const CONSISTENCY: &str = "consistency";

/// `consistency` as a monitor: each correct replica's application state is the reference
/// execution of the sequencer's log up to the replica's position.
pub struct Consistency {
    executor: ReferenceExecutor<Vec<KvResult>>,
    /// `prefix[i]`: digest of the reference state after the log's first `i` entries.
    prefix: Vec<[u8; 32]>,
    /// Per actor, the (position, application-state digest) last found consistent.
    checked: Vec<Option<(usize, [u8; 32])>>,
    /// Replica checks made.
    pub checks: u64,
}

impl Default for Consistency {
    fn default() -> Self {
        let executor = ReferenceExecutor::new();
        let empty = digest(&executor.run().state);
        Consistency {
            executor,
            prefix: vec![empty],
            checked: Vec::new(),
            checks: 0,
        }
    }
}

impl Consistency {
    /// Checks actor `index`, which the last step changed, against the sequencer's `log`.
    pub fn step(
        &mut self,
        log: &[KvRequest],
        index: usize,
        ledger: Option<ReplicaLedger<'_>>,
    ) -> Result<(), String> {
        // Only new entries are executed: the log below `prefix.len() - 1` did not change.
        for request in &log[self.prefix.len() - 1..] {
            self.executor.step(&KvStore, request.value());
            self.prefix.push(digest(&self.executor.run().state));
        }
        let Some(ledger) = ledger else {
            return Ok(());
        };
        let upto = ledger.base as usize + ledger.delivered.len();
        let app = digest(ledger.app);
        if self.checked.len() <= index {
            self.checked.resize(index + 1, None);
        }
        if self.checked[index] == Some((upto, app)) {
            return Ok(());
        }
        self.checks += 1;
        match self.prefix.get(upto) {
            None => Err(format!(
                "property \"consistency\" fails: replica {index} executed {upto} entries, the sequencer's log holds {}",
                log.len()
            )),
            Some(reference) if *reference != app => Err(format!(
                "property \"consistency\" fails: replica {index}'s state after {upto} entries is not the reference execution's"
            )),
            Some(_) => {
                self.checked[index] = Some((upto, app));
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use quorate_impl::crypto::Signer;
    use quorate_spec::app::KvState;
    use quorate_spec::{AppId, Key, KvOp, Transaction, TxId};

    use super::*;

    fn put(seq: u64, value: i64) -> KvRequest {
        let tx = Transaction::new(
            TxId { client: 9, seq },
            AppId(0),
            vec![KvOp::Put(Key(1), value)],
        );
        Signer::symbolic(9).sign(tx)
    }

    fn state(value: i64) -> KvState {
        KvState::from(BTreeMap::from([(Key(1), value)]))
    }

    #[test]
    fn a_replica_matching_the_reference_prefix_passes_and_a_differing_one_fails() {
        let log = vec![put(1, 5), put(2, 7)];
        let mut monitor = Consistency::default();
        let one = state(5);
        let ledger = |delivered, app| ReplicaLedger {
            base: 0,
            delivered,
            app,
        };
        monitor
            .step(&log, 0, Some(ledger(&log[..1], &one)))
            .unwrap();
        // The same position with another state: not the reference execution.
        let wrong = state(6);
        let failure = monitor
            .step(&log, 1, Some(ledger(&log[..1], &wrong)))
            .unwrap_err();
        assert!(
            failure.contains("replica 1's state after 1 entries"),
            "{failure}"
        );
        // Past the end of the sequencer's log.
        let longer = vec![put(1, 5), put(2, 7), put(3, 8)];
        let failure = monitor
            .step(&log, 2, Some(ledger(&longer, &state(8))))
            .unwrap_err();
        assert!(failure.contains("executed 3 entries"), "{failure}");
        assert_eq!(monitor.checks, 3);
    }
}
