//! Honest OXII, its mutants and the seed-literal apply rule (DESIGN §3 "Rules as a type
//! parameter"). Deployment names only [`Honest`].

use quorate_spec::oxii::{AccessSets, DepGraph};
use std::fmt::Debug;
use std::hash::Hash;

/// The rule choices a variant may change. Every default is the honest rule.
pub trait Rules:
    Clone + Debug + Default + PartialEq + Eq + PartialOrd + Ord + Hash + Send + Sync + 'static
{
    /// Name used by `quorate check --mutant`.
    const NAME: &'static str;
    /// What this variant breaks.
    const SUMMARY: &'static str;

    /// G(B) as orderers build it and executors re-check it (card gap G16).
    fn build_graph(block: &[AccessSets]) -> DepGraph {
        DepGraph::build(block)
    }

    /// Matching results from distinct agents that commit a transaction of an application with
    /// threshold `tau` (§5.3.2).
    fn commit_threshold(tau: usize) -> usize {
        tau
    }

    /// Whether orderers check the client's signature and access to the application (§5.3.1).
    const CHECK_ACCESS: bool = true;

    /// Whether a transaction waits for predecessors of *other* applications too (Alg. 6:
    /// "Pre(x) ⊆ C_e ∪ X_e"); same-application predecessors are always waited for.
    const WAIT_FOREIGN_PREDECESSORS: bool = true;

    /// Matching replies a client accepts an outcome on, given the f_A + 1 the card asks for.
    fn client_replies(needed: usize) -> usize {
        needed
    }

    /// Whether decided results are applied in graph order (the card's correction G3) rather
    /// than the moment τ is reached, in arrival order (Algorithm 8 read literally).
    const APPLY_IN_GRAPH_ORDER: bool = true;
}

/// OXII as the card's normative algorithm (§5.5) specifies it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Honest;

impl Rules for Honest {
    const NAME: &'static str = "honest";
    const SUMMARY: &'static str = "OXII as the card's normative algorithm specifies it";
}

/// The graph loses every edge whose only conflict is write-write: a read-modify-write declared
/// as a write (the seed's transfer credit) then runs on a stale value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DropWriteWriteEdges;

impl Rules for DropWriteWriteEdges {
    const NAME: &'static str = "drop-write-write-edges";
    const SUMMARY: &'static str =
        "the dependency graph omits edges whose only conflict is write-write";

    fn build_graph(block: &[AccessSets]) -> DepGraph {
        let mut graph = DepGraph::build(block);
        graph
            .edges
            .retain(|&(u, v)| !block[u as usize].conflicts_only_by_writes(&block[v as usize]));
        graph
    }
}

/// Commits on the first result heard, whatever τ(A) is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CommitOnFirst;

impl Rules for CommitOnFirst {
    const NAME: &'static str = "commit-on-first";
    const SUMMARY: &'static str = "a transaction commits on the first result, ignoring τ(A)";

    fn commit_threshold(_tau: usize) -> usize {
        1
    }
}

/// Executes a transaction before the result of a predecessor of another application arrived.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExecuteBeforeForeignPredecessors;

impl Rules for ExecuteBeforeForeignPredecessors {
    const NAME: &'static str = "execute-early";
    const SUMMARY: &'static str =
        "a transaction runs without waiting for predecessors of other applications";
    const WAIT_FOREIGN_PREDECESSORS: bool = false;
}

/// Orderers admit requests without checking signature and access.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SkipAccessCheck;

impl Rules for SkipAccessCheck {
    const NAME: &'static str = "skip-access-check";
    const SUMMARY: &'static str = "orderers put unauthorised requests into blocks";
    const CHECK_ACCESS: bool = false;
}

/// The seed's flaw (card ambiguity 1, gap G3): Algorithm 8 read literally applies each result
/// as soon as τ(A) matching results arrive, in arrival order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApplyOnDecide;

impl Rules for ApplyOnDecide {
    const NAME: &'static str = "seed-literal-alg8";
    const SUMMARY: &'static str =
        "seed-literal Algorithm 8: apply each result when τ is reached, in arrival order";
    const APPLY_IN_GRAPH_ORDER: bool = false;
}

/// A client accepts the first reply it hears, whatever f_A is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientAcceptsFirst;

impl Rules for ClientAcceptsFirst {
    const NAME: &'static str = "client-accepts-first";
    const SUMMARY: &'static str = "a client accepts the first reply, ignoring f_A";

    fn client_replies(_needed: usize) -> usize {
        1
    }
}
