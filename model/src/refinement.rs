//! Pieces of the refinement mapping to the abstract sequencer shared by the consensus models
//! (Paxos, PBFT): each keeps the longest delivered sequence in its history and checks every
//! replica's delivered window against it.

use quorate_impl::crypto::{Crypto, Signed};
use quorate_spec::{ClientId, Ledger, Transaction, TxId};
use std::collections::{BTreeMap, BTreeSet};

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

/// `refines-sequencer` over a consensus model's history: no step violation was observed, and
/// the sequencer's log (`longest`) holds only submitted requests (`invoked`: each client's last
/// invoked sequence number), each once.
pub(crate) fn log_refines_sequencer<Op, C>(
    violation: &Option<String>,
    invoked: &BTreeMap<ClientId, u64>,
    longest: &Ledger<Signed<Transaction<Op>, C>>,
) -> bool
where
    C: Crypto,
{
    if violation.is_some() {
        return false;
    }
    let submitted: BTreeSet<TxId> = invoked
        .iter()
        .flat_map(|(&client, &last)| (1..=last).map(move |seq| TxId { client, seq }))
        .collect();
    let ids: Vec<TxId> = longest.iter().map(|r| r.value().id).collect();
    quorate_spec::sequencer::refines_sequencer(&submitted, &[(0, ids.as_slice())]).is_ok()
}
