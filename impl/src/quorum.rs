//! Every quorum threshold in one place (DESIGN §3 "Thresholds in one place").
//!
//! Sources: the seed `001_3e2a0531ec7ab121.txt` ch. 2 §2.3 (lines ≈893–1017: Paxos ≈973–989,
//! PBFT ≈991–1016) and the card `protocols/consensus-paxos-pbft.md` §2.3, which adds the
//! general forms for clusters larger than the minimum \[STD\]. Protocols call these functions
//! instead of writing `2 * f + 1` inline, so a mutant that changes a threshold is one edit
//! and a reader can check every rule against the seed here.

use std::fmt::{self, Display, Formatter};

/// Crash-fault quorum: a majority, ⌊n/2⌋+1 (f+1 of n = 2f+1; seed §2.3, Paxos paragraph:
/// "waits for f accepted messages ... plus itself becomes f+1").
///
/// Any two majorities of the same n share a node, which is what carries a chosen value
/// into the next ballot.
pub const fn crash_majority(n: usize) -> usize {
    n / 2 + 1
}

/// The most crash faults n nodes tolerate: ⌊(n-1)/2⌋ (seed §2.3: "2f+1 nodes to overcome the
/// simultaneous crash failure of any f nodes").
pub const fn crash_max_faults(n: usize) -> usize {
    n.saturating_sub(1) / 2
}

/// The most Byzantine faults n nodes tolerate: ⌊(n-1)/3⌋ (seed §2.3: "3f+1 nodes are needed").
pub const fn bft_max_faults(n: usize) -> usize {
    n.saturating_sub(1) / 3
}

/// Byzantine quorum for n = 3f+1: 2f+1 (seed §2.3, PBFT paragraph: "2f+1 valid matching commit
/// messages (including its own)"; also view-change and checkpoint certificates, card §4.2).
///
/// Two such quorums of 3f+1 share f+1 nodes, so at least one correct node.
pub const fn bft_quorum(f: usize) -> usize {
    2 * f + 1
}

/// Matching PREPAREs needed, with the primary's PRE-PREPARE, for `prepared`: 2f from
/// distinct backups (seed §2.3: "2f valid matching prepare messages"; card §5.4 and
/// decision §11.2: the primary sends no PREPARE, so PRE-PREPARE + 2f = 2f+1 votes).
pub const fn bft_prepare_votes(f: usize) -> usize {
    2 * f
}

/// Matching REPLYs a PBFT client waits for: f+1, so at least one comes from a correct replica
/// (seed §2.3: "the client waits for f+1 valid matching responses from different replicas").
pub const fn bft_reply_votes(f: usize) -> usize {
    f + 1
}

/// A weak certificate: f+1 matching messages, at least one from a correct node (card §5.4
/// client rule and §6.2 view-change join rule "f+1 valid VIEW-CHANGEs"; learners' f+1
/// matching deliveries, DESIGN §3 "Composition").
pub const fn bft_weak_certificate(f: usize) -> usize {
    f + 1
}

/// Byzantine quorum for any n ≥ 3f+1: ⌈(n+f+1)/2⌉ (card §2.3 \[STD\]; equals 2f+1 at n = 3f+1).
///
/// Two such quorums share at least f+1 nodes, and n - f correct nodes still form one.
pub const fn bft_general_quorum(n: usize, f: usize) -> usize {
    (n + f + 1).div_ceil(2)
}

/// Why a cluster size cannot tolerate the requested number of faults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// A cluster needs at least one node.
    NoNodes,
    /// Crash faults need n ≥ 2f+1.
    TooFewForCrash {
        /// Number of nodes.
        n: usize,
        /// Faults to tolerate.
        f: usize,
    },
    /// Byzantine faults need n ≥ 3f+1.
    TooFewForByzantine {
        /// Number of nodes.
        n: usize,
        /// Faults to tolerate.
        f: usize,
    },
}

impl Display for ConfigError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match *self {
            ConfigError::NoNodes => {
                write!(f, "n = 0 violates n >= 1 (a cluster needs at least one node)")
            }
            ConfigError::TooFewForCrash { n, f: faults } => write!(
                f,
                "n = {n} and f = {faults} violate n >= 2f+1 \
                 (crash faults: a majority quorum must survive f failures)"
            ),
            ConfigError::TooFewForByzantine { n, f: faults } => write!(
                f,
                "n = {n} and f = {faults} violate n >= 3f+1 \
                 (Byzantine faults: two quorums must share a correct node and one must survive f silent nodes)"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Checks a crash-fault configuration: n ≥ 1 and n ≥ 2f+1 (seed §2.3).
pub fn check_crash_config(n: usize, f: usize) -> Result<(), ConfigError> {
    if n == 0 {
        return Err(ConfigError::NoNodes);
    }
    // Checked arithmetic: f comes from a configuration file.
    let needed = f.checked_mul(2).and_then(|x| x.checked_add(1));
    match needed {
        Some(needed) if n >= needed => Ok(()),
        _ => Err(ConfigError::TooFewForCrash { n, f }),
    }
}

/// Checks a Byzantine configuration: n ≥ 3f+1 (seed §2.3).
pub fn check_byzantine_config(n: usize, f: usize) -> Result<(), ConfigError> {
    if n == 0 {
        return Err(ConfigError::NoNodes);
    }
    let needed = f.checked_mul(3).and_then(|x| x.checked_add(1));
    match needed {
        Some(needed) if n >= needed => Ok(()),
        _ => Err(ConfigError::TooFewForByzantine { n, f }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::sample::subsequence;

    #[test]
    fn thresholds_match_the_seed_at_minimum_sizes() {
        // Paxos, n = 2f+1: quorum f+1.
        for f in 0..10 {
            assert_eq!(crash_majority(2 * f + 1), f + 1);
            assert_eq!(crash_max_faults(2 * f + 1), f);
            assert_eq!(bft_max_faults(3 * f + 1), f);
            assert_eq!(bft_general_quorum(3 * f + 1, f), bft_quorum(f));
            // The PRE-PREPARE is the primary's vote: 1 + 2f = 2f+1.
            assert_eq!(1 + bft_prepare_votes(f), bft_quorum(f));
            assert_eq!(bft_reply_votes(f), f + 1);
            assert_eq!(bft_weak_certificate(f), f + 1);
        }
        assert_eq!(crash_max_faults(0), 0);
        assert_eq!(crash_majority(4), 3);
    }

    #[test]
    fn config_errors_name_the_values_and_the_rule() {
        assert_eq!(check_crash_config(3, 1), Ok(()));
        assert_eq!(check_crash_config(1, 0), Ok(()));
        let err = check_crash_config(2, 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "n = 2 and f = 1 violate n >= 2f+1 \
             (crash faults: a majority quorum must survive f failures)"
        );
        assert_eq!(check_crash_config(0, 0), Err(ConfigError::NoNodes));
        assert_eq!(check_byzantine_config(4, 1), Ok(()));
        let err = check_byzantine_config(3, 1).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("n = 3 and f = 1 violate n >= 3f+1"));
        assert_eq!(check_byzantine_config(0, 0), Err(ConfigError::NoNodes));
        // Overflowing fault counts are refused, not wrapped.
        assert!(check_crash_config(usize::MAX, usize::MAX).is_err());
        assert!(check_byzantine_config(usize::MAX, usize::MAX / 2).is_err());
    }

    fn overlap(a: &[usize], b: &[usize]) -> usize {
        a.iter().filter(|x| b.contains(x)).count()
    }

    /// Two quorums of size `q` drawn from `0..n`.
    fn two_quorums(n: usize, q: usize) -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
        let all: Vec<usize> = (0..n).collect();
        (subsequence(all.clone(), q), subsequence(all, q))
    }

    proptest! {
        #[test]
        fn two_crash_majorities_intersect(
            (n, a, b) in (1usize..16).prop_flat_map(|n| {
                two_quorums(n, crash_majority(n)).prop_map(move |(a, b)| (n, a, b))
            })
        ) {
            prop_assert!(overlap(&a, &b) >= 1);
            // Live: the survivors of the worst tolerated crash still form a majority.
            prop_assert!(n - crash_max_faults(n) >= crash_majority(n));
            prop_assert!(check_crash_config(n, crash_max_faults(n)).is_ok());
            prop_assert!(check_crash_config(n, crash_max_faults(n) + 1).is_err());
        }

        #[test]
        fn two_bft_quorums_share_a_correct_node(
            (f, a, b) in (0usize..6).prop_flat_map(|f| {
                two_quorums(3 * f + 1, bft_quorum(f)).prop_map(move |(a, b)| (f, a, b))
            })
        ) {
            prop_assert!(overlap(&a, &b) > f);
        }

        #[test]
        fn general_bft_quorums_intersect_and_survive_f_faults(
            (n, f, a, b) in (0usize..5, 0usize..4).prop_flat_map(|(f, extra)| {
                let n = 3 * f + 1 + extra;
                two_quorums(n, bft_general_quorum(n, f)).prop_map(move |(a, b)| (n, f, a, b))
            })
        ) {
            prop_assert!(check_byzantine_config(n, f).is_ok());
            prop_assert!(overlap(&a, &b) > f);
            prop_assert!(n - f >= bft_general_quorum(n, f));
        }
    }
}
