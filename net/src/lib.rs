//! `quorate-net`: the host loop that runs `impl/` actors as nodes (DESIGN §5) — in SimHost for
//! tests and over QUIC for real clusters — and the `quorate` binary's library parts.

pub mod host;
pub mod protocols;
pub mod quic;
pub mod sim;
pub mod store;
