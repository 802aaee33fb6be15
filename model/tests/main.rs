//! The model crate's integration tests, one module per file, built as ONE test binary: each separate
//! binary re-instantiated the checker for its protocols and linked on its own, and those
//! binaries were 10 of the 25 minutes a clean build took. Run one file's tests with
//! `cargo test -p quorate-model --test model <module>::`.

mod common;

mod calibration;
mod checker_features;
mod claims;
mod dfs;
mod differential;
mod host_properties;
mod no_symmetry;
mod oxii;
mod paxos;
mod pbft;
mod pbft_inductive;
mod pbft_levers;
mod pbft_loss;
mod pbft_reduce;
mod report_snapshots;
mod symmetry;
mod xov;
