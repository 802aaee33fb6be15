//! Honest PBFT and its deliberately broken variants (DESIGN §3 "Rules as a type parameter").
//! Deployment names only [`Honest`]; each mutant has a model test that finds its counterexample.

use crate::quorum;
use std::fmt::Debug;
use std::hash::Hash;

/// The rule choices a mutant may change. Every default is the honest rule.
pub trait Rules:
    Clone + Debug + Default + PartialEq + Eq + PartialOrd + Ord + Hash + Send + Sync + 'static
{
    /// Name used by `quorate check --mutant`.
    const NAME: &'static str;
    /// What this variant breaks.
    const SUMMARY: &'static str;

    /// PREPAREs from distinct backups that, with the PRE-PREPARE, make `prepared`.
    fn prepare_votes(f: usize) -> usize {
        quorum::bft_prepare_votes(f)
    }

    /// COMMITs (own included) that make `committed-local`.
    fn commit_votes(f: usize) -> usize {
        quorum::bft_quorum(f)
    }

    /// Matching REPLYs a client waits for.
    fn reply_votes(f: usize) -> usize {
        quorum::bft_reply_votes(f)
    }

    /// Whether a new primary re-proposes the highest-view prepared batch per sequence number.
    const REPROPOSE_PREPARED: bool = true;

    /// Whether a PRE-PREPARE must come from the primary of its view.
    const CHECK_PRIMARY: bool = true;

    /// Whether transferred state must match a 2f+1 checkpoint certificate.
    const VERIFY_STATE_TRANSFER: bool = true;

    /// Whether a request must be signed by the client its transaction id names (not merely
    /// carry some valid signature).
    const CHECK_REQUEST_SIGNER: bool = true;

    /// Whether state transfer installs the snapshot's table of executed requests per client
    /// along with the application state (the table is what makes execution at-most-once).
    const TRANSFER_CLIENT_TABLE: bool = true;
}

macro_rules! rule_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name;
    };
}

rule_type!(
    /// The protocol as specified.
    Honest
);
impl Rules for Honest {
    const NAME: &'static str = "honest";
    const SUMMARY: &'static str = "PBFT as specified";
}

rule_type!(
    /// `prepared` with 2f votes (PRE-PREPARE + 2f-1 PREPAREs) instead of 2f+1.
    SmallPrepareQuorum
);
impl Rules for SmallPrepareQuorum {
    const NAME: &'static str = "small-prepare-quorum";
    const SUMMARY: &'static str =
        "prepared on 2f votes (pre-prepare + 2f-1 prepares) instead of 2f+1";
    fn prepare_votes(f: usize) -> usize {
        quorum::bft_prepare_votes(f) - 1
    }
}

rule_type!(
    /// `committed-local` on f+1 COMMITs instead of 2f+1.
    CommitOnWeakQuorum
);
impl Rules for CommitOnWeakQuorum {
    const NAME: &'static str = "commit-on-f+1";
    const SUMMARY: &'static str = "committed on f+1 matching commits instead of 2f+1";
    fn commit_votes(f: usize) -> usize {
        quorum::bft_weak_certificate(f)
    }
}

rule_type!(
    /// A new primary fills every sequence number with a no-op, ignoring prepared certificates.
    IgnorePreparedCerts
);
impl Rules for IgnorePreparedCerts {
    const NAME: &'static str = "ignore-prepared-certs";
    const SUMMARY: &'static str = "a new primary re-proposes no-ops instead of prepared requests";
    const REPROPOSE_PREPARED: bool = false;
}

rule_type!(
    /// A client accepts the first reply.
    AcceptFirstReply
);
impl Rules for AcceptFirstReply {
    const NAME: &'static str = "accept-first-reply";
    const SUMMARY: &'static str = "a client accepts the first reply instead of f+1 matching ones";
    fn reply_votes(_f: usize) -> usize {
        1
    }
}

rule_type!(
    /// A replica accepts a PRE-PREPARE from any replica, live or inside a prepared certificate.
    AnyPrePrepareSender
);
impl Rules for AnyPrePrepareSender {
    const NAME: &'static str = "any-pre-prepare-sender";
    const SUMMARY: &'static str =
        "a replica accepts a pre-prepare (live or in a certificate) not signed by its view's primary";
    const CHECK_PRIMARY: bool = false;
}

rule_type!(
    /// A replica installs transferred state without checking its certificate.
    UnverifiedStateTransfer
);
impl Rules for UnverifiedStateTransfer {
    const NAME: &'static str = "unverified-state-transfer";
    const SUMMARY: &'static str =
        "a replica installs transferred state without its 2f+1 certificate";
    const VERIFY_STATE_TRANSFER: bool = false;
}

rule_type!(
    /// A replica checks a request's signature but not that its signer is the client it names.
    RequestSignerUnchecked
);
impl Rules for RequestSignerUnchecked {
    const NAME: &'static str = "request-signer-unchecked";
    const SUMMARY: &'static str =
        "a replica orders a request with a valid signature by anyone, not only by its client";
    const CHECK_REQUEST_SIGNER: bool = false;
}

rule_type!(
    /// State transfer installs the application state but keeps the replica's own client table.
    TransferWithoutClientTable
);
impl Rules for TransferWithoutClientTable {
    const NAME: &'static str = "transfer-without-client-table";
    const SUMMARY: &'static str =
        "state transfer installs the application state but not the executed-request table";
    const TRANSFER_CLIENT_TABLE: bool = false;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honest_thresholds_are_the_seeds() {
        // n = 4, f = 1: PRE-PREPARE + 2 PREPAREs, 3 COMMITs, 2 REPLYs (seed §2.3).
        assert_eq!(Honest::prepare_votes(1), 2);
        assert_eq!(Honest::commit_votes(1), 3);
        assert_eq!(Honest::reply_votes(1), 2);
        assert_eq!(SmallPrepareQuorum::prepare_votes(1), 1);
        assert_eq!(CommitOnWeakQuorum::commit_votes(1), 2);
        assert_eq!(AcceptFirstReply::reply_votes(1), 1);
    }
}
