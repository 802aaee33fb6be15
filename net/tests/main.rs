//! The net crate's integration tests, one module per file, built as ONE test binary: each separate
//! binary re-instantiated the checker for its protocols and linked on its own, and those
//! binaries were 10 of the 25 minutes a clean build took. Run one file's tests with
//! `cargo test -p quorate-net --test net <module>::`.

mod binary;
mod common;

mod cli;
mod cli_cluster;
mod cli_cluster_oxii;
mod cli_cluster_xov;
mod quic_bad_input;
mod quic_paxos;
mod sim_oxii;
mod sim_paxos;
mod sim_pbft;
mod sim_xov;
mod step_cost;
