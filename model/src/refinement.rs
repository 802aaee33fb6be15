//! Pieces of the refinement mapping to the abstract sequencer shared by the consensus models
//! (Paxos, PBFT): each keeps the longest delivered sequence in its history and checks every
//! replica's delivered window against it.

use quorate_impl::crypto::{Crypto, Signed};
use quorate_spec::{Ledger, Transaction};

/// Whether the window `delivered`, starting at absolute position `base`, agrees with `longest`
/// wherever both have an entry; the error names the first position that differs.
pub(crate) fn consistent_with<Op, C>(
    longest: &[Signed<Transaction<Op>, C>],
    base: u64,
    delivered: &Ledger<Signed<Transaction<Op>, C>>,
) -> Result<(), String>
where
    C: Crypto,
    Signed<Transaction<Op>, C>: PartialEq,
{
    let base = base as usize;
    for (offset, entry) in delivered.iter().enumerate() {
        if let Some(known) = longest.get(base + offset) {
            if known != entry {
                return Err(format!(
                    "position {}: {:?} vs {:?}",
                    base + offset,
                    entry.value().id,
                    known.value().id
                ));
            }
        }
    }
    Ok(())
}
