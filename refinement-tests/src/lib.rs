//! quorate-refinement: links the checked model to recorded runs (DESIGN §6).
//!
//! Today it holds the first link: a counterexample exported as serialised actions replays
//! through the same `System` step by step and reproduces the violation (`tests/replay.rs`).
//! Replay of deployed and SimHost traces, model membership and fault schedules arrive with the
//! `net/` host loop (issue 5).
