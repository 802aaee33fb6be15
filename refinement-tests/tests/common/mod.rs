//! Runs a Multi-Paxos cluster under SimHost and hands back its actors and every node's trace.
#![allow(dead_code)]

use quorate_impl::crypto::NodeId;
use quorate_impl::paxos::Rules;
use quorate_model::paxos::Node;
use quorate_net::protocols::paxos::PaxosDeployment;
use quorate_net::sim::{MemDisk, SimConfig, SimFailure, SimHost, SimReport};
use quorate_refinement::paxos::{check_run, RunFailure, RunFigures};

pub const REPLICAS: usize = 3;
pub const CLIENTS: usize = 2;
pub const OPERATIONS: u64 = 12;

/// A simulated run: SimHost's verdict, the actors, and node `i`'s trace lines at `lines[i]`.
pub struct SimRun<R: Rules> {
    pub outcome: Result<SimReport, SimFailure>,
    pub actors: Vec<Node<R>>,
    pub lines: Vec<Vec<String>>,
}

impl<R: Rules> SimRun<R> {
    /// Checks 1-3 over the run's traces.
    pub fn check(&self) -> Result<RunFigures, RunFailure> {
        check_run(&self.actors, &self.lines)
    }
}

pub fn run_sim<R: Rules>(config: SimConfig, clients: usize, operations: u64) -> SimRun<R> {
    let actors = PaxosDeployment::new(REPLICAS).symbolic_actors::<R>(clients, operations);
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

/// Moderate faults on every replica, one down at a time.
pub fn faulty(seed: u64) -> SimConfig {
    let mut config = SimConfig::new(seed, 0..REPLICAS as NodeId, 1);
    config.crash_per_mille = 20;
    config.disk_fault_per_mille = 20;
    config
}
