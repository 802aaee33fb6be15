//! Run statistics beyond stateright's counts: memory, the fingerprint-collision estimate, and
//! the progress line printed while a search runs.

use serde::{Deserialize, Serialize};

/// Statistics of one run (the `statistics` object of the JSON report).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Statistics {
    /// States whose successors were computed.
    pub states_expanded: usize,
    /// The largest number of successors of one state.
    pub max_out_degree: usize,
    /// Undecided states whose only progress led out of the bounds (deadlock check only).
    pub stalled_at_bound: usize,
    /// Estimated probability that two distinct states share a 64-bit fingerprint, so that one
    /// was never explored: the birthday bound n²/2^65 for n unique states.
    pub fingerprint_collision_probability: f64,
    /// Peak resident memory of the process so far, if the OS reports it.
    pub peak_rss_bytes: Option<u64>,
}

/// The birthday bound on a collision among `unique` 64-bit fingerprints: n²/2^65, at most 1.
pub fn collision_probability(unique: usize) -> f64 {
    let n = unique as f64;
    (n * n / 2f64.powi(65)).min(1.0)
}

/// Resident and peak resident memory of this process in bytes (`/proc/self/status`; None
/// elsewhere than on Linux).
pub fn memory() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kib: u64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// `123.4 MiB`.
pub fn mebibytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collision_bound_is_n_squared_over_two_to_the_65() {
        assert_eq!(collision_probability(0), 0.0);
        let million = collision_probability(1_000_000);
        assert!((million - 1e12 / 2f64.powi(65)).abs() < 1e-20);
        assert!(million < 3e-8 && million > 2e-8, "{million}");
        assert_eq!(collision_probability(usize::MAX), 1.0);
    }

    #[test]
    fn memory_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let (rss, peak) = memory().expect("/proc/self/status");
            assert!(rss > 0 && peak >= rss);
        }
    }
}
