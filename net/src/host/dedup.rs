//! Duplicate suppression by (sender, sender incarnation, send sequence number): the network
//! contract delivers at most once, so a frame seen before is dropped (DESIGN §5).

use std::collections::{BTreeMap, BTreeSet};

use quorate_impl::crypto::NodeId;
use quorate_impl::trace::SendId;

/// The send ids seen so far, kept compact: per sender incarnation, every sequence number below
/// a floor plus the set seen above it (deliveries are unordered, so the set has holes).
#[derive(Clone, Debug, Default)]
pub struct Dedup {
    seen: BTreeMap<(NodeId, u64), Window>,
}

#[derive(Clone, Debug, Default)]
struct Window {
    /// Every sequence number below this was seen (numbering starts at 1).
    floor: u64,
    above: BTreeSet<u64>,
}

/// Sequence numbers held above the floor before the oldest holes are given up as lost; a
/// message that old arriving later is dropped as if it were a duplicate (loss is allowed).
const MAX_HOLES: usize = 4096;

impl Dedup {
    /// Whether `id` is seen for the first time; records it.
    pub fn first_time(&mut self, id: SendId) -> bool {
        let window = self.seen.entry((id.src, id.incarnation)).or_default();
        if id.seq <= window.floor || !window.above.insert(id.seq) {
            return false;
        }
        while window.above.first() == Some(&(window.floor + 1)) {
            window.floor += 1;
            window.above.pop_first();
        }
        while window.above.len() > MAX_HOLES {
            if let Some(lowest) = window.above.pop_first() {
                window.floor = lowest;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(src: NodeId, incarnation: u64, seq: u64) -> SendId {
        SendId {
            src,
            incarnation,
            seq,
        }
    }

    #[test]
    fn each_send_id_is_accepted_once_in_any_order() {
        let mut dedup = Dedup::default();
        for seq in [3, 1, 2, 5] {
            assert!(dedup.first_time(id(1, 1, seq)));
        }
        for seq in [1, 2, 3, 5] {
            assert!(!dedup.first_time(id(1, 1, seq)), "seq {seq} replayed");
        }
        assert!(dedup.first_time(id(1, 1, 4)));
        // Another incarnation or sender restarts numbering.
        assert!(dedup.first_time(id(1, 2, 1)));
        assert!(dedup.first_time(id(2, 1, 1)));
    }

    #[test]
    fn holes_beyond_the_bound_are_given_up_as_lost() {
        let mut dedup = Dedup::default();
        for seq in 2..(MAX_HOLES as u64 + 3) {
            assert!(dedup.first_time(id(0, 1, seq)));
        }
        assert!(
            !dedup.first_time(id(0, 1, 1)),
            "a message that old counts as lost"
        );
    }
}
