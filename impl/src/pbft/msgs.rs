//! PBFT's signed messages and certificates (card §4.2, §7.4), with their validity checks as
//! pure functions so the honest replica, the mutants and the model share one definition.

use super::{Seq, View};
use crate::crypto::{Crypto, Keyring, NodeId, Signed};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What a sequence number orders: a batch of payloads, or nothing (a gap a new primary filled).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Batch<P> {
    /// Fills a sequence number no certificate covered.
    NoOp,
    /// One or more payloads, executed in order.
    Requests(Vec<P>),
}

/// The signed part of a PRE-PREPARE: the batch travels beside it (card §4.2).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PrePrepare<D> {
    /// View.
    pub view: View,
    /// Sequence number assigned.
    pub seq: Seq,
    /// `D(batch)`.
    pub digest: D,
}

/// Which agreement phase a vote belongs to; signed with the vote, so a PREPARE signature can
/// never be replayed as a COMMIT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Phase {
    /// PREPARE.
    Prepare,
    /// COMMIT.
    Commit,
}

/// A PREPARE or COMMIT vote; the voter is the signer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Vote<D> {
    /// PREPARE or COMMIT.
    pub phase: Phase,
    /// View.
    pub view: View,
    /// Sequence number.
    pub seq: Seq,
    /// Digest voted for.
    pub digest: D,
}

/// CHECKPOINT: the signer's state digest after executing `seq`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Checkpoint<D> {
    /// Sequence number executed.
    pub seq: Seq,
    /// Digest of the state after it.
    pub state: D,
}

/// A stable checkpoint: 2f+1 matching signed CHECKPOINTs (seq 0, the genesis, needs none).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct StableCheckpoint<C: Crypto> {
    /// Its sequence number: the low watermark h.
    pub seq: Seq,
    /// The certificate, ordered by signer.
    pub proof: Vec<Signed<Checkpoint<C::Digest>, C>>,
}

impl<C: Crypto> StableCheckpoint<C> {
    /// The genesis checkpoint.
    pub fn genesis() -> Self {
        StableCheckpoint {
            seq: 0,
            proof: Vec::new(),
        }
    }

    /// The certified state digest (`None` at genesis).
    pub fn state(&self) -> Option<&C::Digest> {
        self.proof.first().map(|c| &c.value().state)
    }

    /// Whether the proof holds `quorum` valid CHECKPOINTs from distinct replicas agreeing on
    /// `seq` and one state digest.
    pub fn is_valid(&self, quorum: usize, keyring: &Keyring<C>, replicas: &[NodeId]) -> bool {
        if self.seq == 0 {
            return self.proof.is_empty();
        }
        let Some(state) = self.state() else {
            return false;
        };
        let signers: BTreeSet<NodeId> = self.proof.iter().map(|c| c.signer()).collect();
        signers.len() == self.proof.len()
            && signers.len() >= quorum
            && self.proof.iter().all(|c| {
                c.value().seq == self.seq
                    && &c.value().state == state
                    && replicas.contains(&c.signer())
                    && c.verify(keyring)
            })
    }
}

/// A prepared certificate: the primary's PRE-PREPARE, the batch, and 2f matching PREPAREs
/// from distinct backups (card §6.2 step 2).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound(serialize = "P: Serialize", deserialize = "P: Deserialize<'de>"))]
pub struct PreparedCert<P, C: Crypto> {
    /// The primary's signed PRE-PREPARE.
    pub pre_prepare: Signed<PrePrepare<C::Digest>, C>,
    /// The batch it orders.
    pub batch: Batch<P>,
    /// The PREPAREs, ordered by signer.
    pub prepares: Vec<Signed<Vote<C::Digest>, C>>,
}

impl<P: Serialize, C: Crypto> PreparedCert<P, C> {
    /// Its view.
    pub fn view(&self) -> View {
        self.pre_prepare.value().view
    }

    /// Its sequence number.
    pub fn seq(&self) -> Seq {
        self.pre_prepare.value().seq
    }

    /// Whether it certifies its batch: the PRE-PREPARE is signed by `primary` of its view
    /// (unless `check_proposer` is off: the `any-pre-prepare-sender` mutant, which applies its
    /// rule to certificates as to live PRE-PREPAREs) and matches the batch, and `votes`
    /// PREPAREs from distinct backups match it.
    pub fn is_valid(
        &self,
        primary: NodeId,
        check_proposer: bool,
        votes: usize,
        keyring: &Keyring<C>,
    ) -> bool {
        let pp = self.pre_prepare.value();
        let signers: BTreeSet<NodeId> = self.prepares.iter().map(|p| p.signer()).collect();
        (self.pre_prepare.signer() == primary || !check_proposer)
            && self.pre_prepare.verify(keyring)
            && pp.digest == C::digest(&self.batch)
            && signers.len() == self.prepares.len()
            && signers.len() >= votes
            && !signers.contains(&primary)
            && self.prepares.iter().all(|p| {
                let v = p.value();
                v.phase == Phase::Prepare
                    && v.view == pp.view
                    && v.seq == pp.seq
                    && v.digest == pp.digest
                    && keyring.contains(p.signer())
                    && p.verify(keyring)
            })
    }
}

/// VIEW-CHANGE: the signer's stable checkpoint and its prepared certificates above it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound(serialize = "P: Serialize", deserialize = "P: Deserialize<'de>"))]
pub struct ViewChange<P, C: Crypto> {
    /// The view being moved to.
    pub new_view: View,
    /// The signer's last stable checkpoint with its proof.
    pub stable: StableCheckpoint<C>,
    /// For each sequence number above it prepared at the signer, the latest certificate.
    pub prepared: Vec<PreparedCert<P, C>>,
}

/// A signed PRE-PREPARE with the batch it orders.
pub type Proposal<P, C> = (Signed<PrePrepare<<C as Crypto>::Digest>, C>, Batch<P>);
/// A signed CHECKPOINT.
pub type SignedCheckpoint<C> = Signed<Checkpoint<<C as Crypto>::Digest>, C>;
/// A signed VIEW-CHANGE.
pub type SignedViewChange<P, C> = Signed<ViewChange<P, C>, C>;

/// NEW-VIEW: 2f+1 VIEW-CHANGEs and the PRE-PREPAREs they imply (card §6.2 step 3).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound(serialize = "P: Serialize", deserialize = "P: Deserialize<'de>"))]
pub struct NewView<P, C: Crypto> {
    /// The view entered.
    pub view: View,
    /// The VIEW-CHANGEs it is built from, ordered by signer.
    pub view_changes: Vec<Signed<ViewChange<P, C>, C>>,
    /// The re-proposals, in sequence order.
    pub pre_prepares: Vec<Proposal<P, C>>,
}

/// Messages between PBFT cores.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(bound(serialize = "P: Serialize", deserialize = "P: Deserialize<'de>"))]
pub enum CoreMsg<P, C: Crypto> {
    /// The primary orders `batch`.
    PrePrepare(Signed<PrePrepare<C::Digest>, C>, Batch<P>),
    /// A PREPARE or COMMIT.
    Vote(Signed<Vote<C::Digest>, C>),
    /// A CHECKPOINT.
    Checkpoint(Signed<Checkpoint<C::Digest>, C>),
    /// A VIEW-CHANGE.
    ViewChange(Signed<ViewChange<P, C>, C>),
    /// A NEW-VIEW.
    NewView(Signed<NewView<P, C>, C>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Signer, Symbolic};

    fn prepare(
        signer: NodeId,
        view: View,
        digest: &<Symbolic as Crypto>::Digest,
    ) -> Signed<Vote<<Symbolic as Crypto>::Digest>, Symbolic> {
        Signer::symbolic(signer).sign(Vote {
            phase: Phase::Prepare,
            view,
            seq: 1,
            digest: digest.clone(),
        })
    }

    fn cert(primary: NodeId, batch: Batch<u8>, voters: &[NodeId]) -> PreparedCert<u8, Symbolic> {
        let digest = Symbolic::digest(&batch);
        PreparedCert {
            pre_prepare: Signer::symbolic(primary).sign(PrePrepare {
                view: 0,
                seq: 1,
                digest: digest.clone(),
            }),
            batch,
            prepares: voters.iter().map(|&v| prepare(v, 0, &digest)).collect(),
        }
    }

    #[test]
    fn prepared_certificate_needs_the_primary_and_2f_distinct_backups() {
        let ring = Keyring::symbolic(0..4);
        let batch = Batch::Requests(vec![7u8]);
        assert!(cert(0, batch.clone(), &[1, 2]).is_valid(0, true, 2, &ring));
        // Signed by a backup instead of the primary of its view.
        assert!(!cert(3, batch.clone(), &[1, 2]).is_valid(0, true, 2, &ring));
        // The any-pre-prepare-sender mutant's rule: the proposer is not checked.
        assert!(cert(3, batch.clone(), &[1, 2]).is_valid(0, false, 2, &ring));
        // Too few prepares, a repeated voter, or the primary voting for itself.
        assert!(!cert(0, batch.clone(), &[1]).is_valid(0, true, 2, &ring));
        assert!(!cert(0, batch.clone(), &[1, 1]).is_valid(0, true, 2, &ring));
        assert!(!cert(0, batch.clone(), &[0, 1]).is_valid(0, true, 2, &ring));
        // The batch does not match the digest the primary signed.
        let mut swapped = cert(0, batch, &[1, 2]);
        swapped.batch = Batch::NoOp;
        assert!(!swapped.is_valid(0, true, 2, &ring));
    }

    #[test]
    fn stable_checkpoint_needs_2f_plus_1_matching_signers() {
        let ring = Keyring::symbolic(0..4);
        let replicas = [0, 1, 2, 3];
        let state = Symbolic::digest(&"state");
        let other = Symbolic::digest(&"other");
        let vote = |id: NodeId, d: &<Symbolic as Crypto>::Digest| {
            Signer::symbolic(id).sign(Checkpoint {
                seq: 2,
                state: d.clone(),
            })
        };
        let good = StableCheckpoint {
            seq: 2,
            proof: vec![vote(0, &state), vote(1, &state), vote(2, &state)],
        };
        assert!(good.is_valid(3, &ring, &replicas));
        let short = StableCheckpoint {
            seq: 2,
            proof: vec![vote(0, &state), vote(1, &state)],
        };
        assert!(!short.is_valid(3, &ring, &replicas));
        let mixed = StableCheckpoint {
            seq: 2,
            proof: vec![vote(0, &state), vote(1, &state), vote(2, &other)],
        };
        assert!(!mixed.is_valid(3, &ring, &replicas));
        let wrong_seq = StableCheckpoint {
            seq: 3,
            ..good.clone()
        };
        assert!(!wrong_seq.is_valid(3, &ring, &replicas));
        assert!(StableCheckpoint::<Symbolic>::genesis().is_valid(3, &ring, &replicas));
    }
}
