//! The refinement tests, one module per file, built as ONE test binary: each separate
//! binary re-instantiated the checker for its protocols and linked on its own, and those
//! binaries were 10 of the 25 minutes a clean build took. Run one file's tests with
//! `cargo test -p quorate-refinement --test refinement <module>::`.

mod common;

mod injected_faults;
mod pbft_faults;
mod quic_paxos;
mod replay;
mod schedules;
mod sim_paxos;
mod sim_pbft;
mod snapshots;
