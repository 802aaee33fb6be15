//! Runs a cluster under SimHost and hands back its actors and every node's trace: Multi-Paxos
//! (3 replicas) and PBFT (n = 4, optionally with one replica replaced by an adversary).
#![allow(dead_code)]

use std::sync::Arc;

use quorate_impl::crypto::{Keyring, NodeId, Signer, Symbolic};
use quorate_impl::paxos::Rules;
use quorate_impl::pbft::{Adversary, Honest, PbftNode, Rules as PbftRules, Script};
use quorate_model::paxos::Node;
use quorate_net::protocols::paxos::PaxosDeployment;
use quorate_net::protocols::pbft::PbftDeployment;
use quorate_net::protocols::Observed;
use quorate_net::sim::{MemDisk, SimConfig, SimFailure, SimHost, SimReport};
use quorate_refinement::protocol::{check_run, Refined, RunFailure, RunFigures};

pub const REPLICAS: usize = 3;
pub const CLIENTS: usize = 2;
pub const OPERATIONS: u64 = 12;

/// PBFT replicas: n = 3f+1 with f = 1.
pub const PBFT_REPLICAS: usize = 4;

/// A PBFT node as SimHost runs it: symbolic crypto, the key-value store, honest rules.
pub type PbftKv = quorate_model::pbft::Node<Honest>;

/// A simulated run: SimHost's verdict, the actors, and node `i`'s trace lines at `lines[i]`.
pub struct SimRun<A> {
    pub outcome: Result<SimReport, SimFailure>,
    pub actors: Vec<A>,
    pub lines: Vec<Vec<String>>,
}

impl<A: Refined> SimRun<A> {
    /// Checks 1-3 over the run's traces.
    pub fn check(&self) -> Result<RunFigures, RunFailure> {
        check_run(&self.actors, &self.lines)
    }
}

/// Runs `actors` under SimHost and collects every node's trace.
pub fn run_actors<A: Observed + Clone>(config: SimConfig, actors: Vec<A>) -> SimRun<A> {
    let sim = SimHost::new(config, actors.clone(), "symbolic");
    let disks: Vec<MemDisk> = (0..actors.len() as NodeId)
        .map(|id| sim.disk(id).clone())
        .collect();
    let outcome = sim.run();
    let lines = disks
        .iter()
        .map(|d| d.image().borrow().trace_lines())
        .collect();
    SimRun {
        outcome,
        actors,
        lines,
    }
}

pub fn run_sim<R: Rules>(config: SimConfig, clients: usize, operations: u64) -> SimRun<Node<R>> {
    let actors = PaxosDeployment::new(REPLICAS).symbolic_actors::<R>(clients, operations);
    run_actors(config, actors)
}

/// A PBFT cluster of 4 replicas and `clients` clients under rules `R`; with `adversary`,
/// replica `id` runs that script instead of the honest replica.
pub fn pbft_actors<R: PbftRules>(
    clients: usize,
    operations: u64,
    adversary: Option<(NodeId, Script)>,
) -> Vec<quorate_model::pbft::Node<R>> {
    let deployment = PbftDeployment::new(PBFT_REPLICAS);
    let total = (PBFT_REPLICAS + clients) as NodeId;
    let keyring = Arc::new(Keyring::symbolic(0..total));
    let replicas: Vec<NodeId> = (0..PBFT_REPLICAS as NodeId).collect();
    (0..total)
        .map(|id| match adversary {
            Some((bad, script)) if bad == id => PbftNode::Byzantine(Adversary::new(
                Signer::symbolic(id),
                replicas.clone(),
                script,
            )),
            _ if (id as usize) < PBFT_REPLICAS => {
                deployment.replica::<Symbolic, R>(Signer::symbolic(id), keyring.clone())
            }
            _ => {
                deployment.client::<Symbolic, R>(Signer::symbolic(id), keyring.clone(), operations)
            }
        })
        .collect()
}

pub fn run_pbft(
    config: SimConfig,
    clients: usize,
    operations: u64,
    adversary: Option<(NodeId, Script)>,
) -> SimRun<PbftKv> {
    run_actors(
        config,
        pbft_actors::<Honest>(clients, operations, adversary),
    )
}

/// A run that may lose liveness (a Byzantine replica can stall PBFT's progress) but must not
/// fail SimHost's safety checks.
pub fn assert_safe(outcome: &Result<SimReport, SimFailure>) {
    match outcome {
        Ok(_) | Err(SimFailure::NotLive { .. }) => {}
        Err(failure) => panic!("SimHost found a safety failure: {failure}"),
    }
}

/// Moderate faults on every replica, one down at a time.
pub fn faulty(seed: u64) -> SimConfig {
    let mut config = SimConfig::new(seed, 0..REPLICAS as NodeId, 1);
    config.crash_per_mille = 20;
    config.disk_fault_per_mille = 20;
    config
}

/// A lossy, partitioned network and no crashes (PBFT's Storage is `()`: a restarted replica
/// would forget its votes, so SimHost does not kill PBFT replicas).
pub fn pbft_lossy(seed: u64) -> SimConfig {
    let mut config = SimConfig::new(seed, [], 0);
    config.partition_per_mille = 5;
    config.disk_fault_per_mille = 0;
    config
}
