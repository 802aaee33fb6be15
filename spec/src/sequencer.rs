//! The abstract ordering service (DESIGN §2) and the refinement check every consensus
//! model runs against it.
//!
//! The sequencer may order any pending submitted payload next and deliver to each learner
//! whenever it likes, so it is at least as nondeterministic as any correct consensus:
//! a protocol is correct (for ordering) when its learners' delivered sequences are always
//! sequences this sequencer could have delivered. Blocks are cut wherever a learner's
//! delivery point stops; an upper layer that orders whole blocks uses blocks as `P`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use serde::{Deserialize, Serialize};

use crate::ledger::{common_prefix_len, Ledger};
use crate::monitor::Violation;
use crate::tx::NodeId;

/// The abstract sequencer: submitted payloads, the one total order, and each learner's
/// delivery point in it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Sequencer<P: Ord + Clone> {
    /// Every payload submitted so far.
    pub submitted: BTreeSet<P>,
    /// The total order: each submitted payload at most once.
    pub log: Ledger<P>,
    /// How many log entries each learner has been delivered (absent = none).
    pub delivered: BTreeMap<NodeId, usize>,
}

impl<P: Ord + Clone> Default for Sequencer<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Ord + Clone> Sequencer<P> {
    /// A sequencer with nothing submitted.
    pub fn new() -> Self {
        Self {
            submitted: BTreeSet::new(),
            log: Ledger::new(),
            delivered: BTreeMap::new(),
        }
    }

    /// Submits a payload; returns false if it was already submitted (a no-op).
    pub fn submit(&mut self, payload: P) -> bool {
        self.submitted.insert(payload)
    }

    /// Whether `payload` already has a position in the log.
    pub fn is_ordered(&self, payload: &P) -> bool {
        self.log.iter().any(|p| p == payload)
    }

    /// The payloads that may be ordered next: submitted but not yet ordered, in `Ord` order.
    pub fn pending(&self) -> Vec<P> {
        let ordered: BTreeSet<&P> = self.log.iter().collect();
        self.submitted
            .iter()
            .filter(|p| !ordered.contains(p))
            .cloned()
            .collect()
    }

    /// Appends `payload` to the total order; it must be submitted and not yet ordered.
    /// On error nothing changes.
    pub fn order(&mut self, payload: P) -> Result<(), Violation>
    where
        P: Debug,
    {
        if !self.submitted.contains(&payload) {
            return Err(Violation::new(
                "sequencer",
                format!("cannot order {payload:?}: it was never submitted"),
            ));
        }
        if self.is_ordered(&payload) {
            return Err(Violation::new(
                "sequencer",
                format!("cannot order {payload:?}: it is already in the log"),
            ));
        }
        self.log.push(payload);
        Ok(())
    }

    /// How many log entries `learner` has been delivered.
    pub fn delivered_to(&self, learner: NodeId) -> usize {
        self.delivered.get(&learner).copied().unwrap_or(0)
    }

    /// The entries delivered to `learner`, a prefix of the log.
    pub fn delivered_log(&self, learner: NodeId) -> &[P] {
        &self.log.as_slice()[..self.delivered_to(learner)]
    }

    /// Advances `learner` to `upto` entries: anywhere from its current point up to the
    /// log's length, never backwards. On error nothing changes.
    pub fn deliver(&mut self, learner: NodeId, upto: usize) -> Result<(), Violation> {
        let current = self.delivered_to(learner);
        if upto < current || upto > self.log.len() {
            return Err(Violation::new(
                "sequencer",
                format!(
                    "learner {learner} cannot move from {current} to {upto} delivered entries \
                     (allowed: {current}..={})",
                    self.log.len()
                ),
            ));
        }
        self.delivered.insert(learner, upto);
        Ok(())
    }
}

/// The refinement check of a consensus model against the sequencer (DESIGN §3, "compose
/// by specification"): returns L, the longest delivered sequence, after checking that
/// every learner's sequence is a prefix of L and L holds only submitted payloads, each once.
pub fn refines_sequencer<P: Ord + Clone + Debug>(
    submitted: &BTreeSet<P>,
    delivered: &[(NodeId, &[P])],
) -> Result<Vec<P>, Violation> {
    let Some(&(longest_learner, longest)) = delivered.iter().max_by_key(|(_, seq)| seq.len())
    else {
        return Ok(Vec::new());
    };
    for &(learner, seq) in delivered {
        let common = common_prefix_len(seq, longest);
        if common < seq.len() {
            return Err(Violation::new(
                "refines-sequencer",
                format!(
                    "learner {learner} delivered {:?} at index {common}, \
                     learner {longest_learner} delivered {:?}",
                    seq[common], longest[common]
                ),
            ));
        }
    }
    let mut seen = BTreeSet::new();
    for (index, payload) in longest.iter().enumerate() {
        if !submitted.contains(payload) {
            return Err(Violation::new(
                "refines-sequencer",
                format!("{payload:?} delivered at index {index} was never submitted"),
            ));
        }
        if !seen.insert(payload) {
            return Err(Violation::new(
                "refines-sequencer",
                format!("{payload:?} delivered a second time at index {index}"),
            ));
        }
    }
    Ok(longest.to_vec())
}

/// The step condition of the refinement: across one step no entry of L is removed or
/// changed, i.e. the previous L is a prefix of the next.
pub fn refinement_step_ok<P: Eq + Debug>(
    prev_longest: &[P],
    next_longest: &[P],
) -> Result<(), Violation> {
    let common = common_prefix_len(prev_longest, next_longest);
    if common == prev_longest.len() {
        return Ok(());
    }
    let detail = match next_longest.get(common) {
        None => format!(
            "the longest delivered sequence shrank from {} to {} entries",
            prev_longest.len(),
            next_longest.len()
        ),
        Some(next) => format!(
            "entry {common} of the longest delivered sequence changed from {:?} to {next:?}",
            prev_longest[common]
        ),
    };
    Err(Violation::new("refines-sequencer", detail))
}

#[cfg(test)]
#[path = "sequencer_tests.rs"]
mod tests;
