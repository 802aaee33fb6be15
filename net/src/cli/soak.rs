//! `quorate soak`: SimHost schedules for a given time, each run checked by the refinement
//! checks 1-3 (trace replay, model membership with property monitors, spec and
//! linearizability) on top of SimHost's own agreement and liveness checks. A run's seed alone
//! fixes its schedule, so `--seed S --runs 1` replays a failure exactly.

use std::time::{Duration, Instant};

use clap::Args;
use quorate_impl::crypto::NodeId;
use quorate_impl::paxos::Honest;
use quorate_model::check::exit;
use quorate_refinement::paxos::check_run;

use super::Failure;
use quorate_net::host::SplitMix64;
use quorate_net::protocols::paxos::PaxosDeployment;
use quorate_net::sim::{MemDisk, SimConfig, SimHost};

/// Arguments of `quorate soak`.
#[derive(Args, Debug)]
pub struct SoakArgs {
    /// The protocol (`paxos`; PBFT is not hosted in SimHost yet).
    #[arg(long, value_name = "NAME", default_value = "paxos")]
    pub protocol: String,
    /// Stop starting runs after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub seconds: u64,
    /// Stop after this many runs (whichever comes first).
    #[arg(long, value_name = "N")]
    pub runs: Option<u64>,
    /// The first run's seed; run k uses seed + k.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
    /// Replicas per cluster.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub replicas: usize,
}

/// The schedule a run seed stands for: fault rates drawn from the seed itself.
pub fn schedule(seed: u64, replicas: usize) -> (SimConfig, usize, u64) {
    let mut rng = SplitMix64::new(seed ^ 0x5eed_5eed);
    let mut draw = |lo: u64, hi: u64| lo + rng.below(hi - lo);
    let max_down = ((replicas - 1) / 2).min(draw(0, 2) as usize);
    let mut config = SimConfig::new(seed, 0..replicas as NodeId, max_down);
    config.drop_per_mille = draw(0, 200) as u32;
    config.delay_ms = (1, draw(2, 120));
    config.partition_per_mille = draw(0, 20) as u32;
    config.crash_per_mille = draw(0, 60) as u32;
    config.disk_fault_per_mille = draw(0, 60) as u32;
    config.fault_phase = Duration::from_secs(draw(5, 30));
    let clients = draw(1, 4) as usize;
    let operations = draw(1, 16);
    (config, clients, operations)
}

/// Runs the soak; exit 0 if every run passed, 1 at the first failing run (its seed printed).
pub fn run(args: &SoakArgs) -> Result<i32, Failure> {
    if args.protocol != "paxos" {
        return Err(Failure::Usage(format!(
            "--protocol {:?}: only paxos is hosted in SimHost (PBFT has no Observed impl yet)",
            args.protocol
        )));
    }
    if args.replicas < 1 || args.replicas > 9 {
        return Err(Failure::Usage(format!(
            "--replicas {}: must be 1..=9 (a SimHost cluster of replicas 2f+1)",
            args.replicas
        )));
    }
    let started = Instant::now();
    let budget = Duration::from_secs(args.seconds);
    let (mut runs, mut events, mut restarts) = (0u64, 0u64, 0u64);
    let (mut replay, mut membership) = (Duration::ZERO, Duration::ZERO);
    while started.elapsed() < budget && args.runs.is_none_or(|limit| runs < limit) {
        let seed = args.seed.wrapping_add(runs);
        let (config, clients, operations) = schedule(seed, args.replicas);
        let actors =
            PaxosDeployment::new(args.replicas).symbolic_actors::<Honest>(clients, operations);
        let sim = SimHost::new(config.clone(), actors.clone(), "symbolic");
        let disks: Vec<MemDisk> = (0..actors.len() as NodeId)
            .map(|id| sim.disk(id).clone())
            .collect();
        let outcome = sim.run();
        runs += 1;
        let report = match outcome {
            Ok(report) => report,
            Err(failure) => {
                println!("FAIL seed {seed} (SimHost): {failure}\n  schedule {config:?}");
                return Ok(exit::VIOLATION);
            }
        };
        let lines: Vec<Vec<String>> = disks
            .iter()
            .map(|d| d.image().borrow().trace_lines())
            .collect();
        match check_run(&actors, &lines) {
            Ok(figures) => {
                events += figures.events;
                restarts += report.restarts;
                replay += figures.replay;
                membership += figures.membership;
            }
            Err(failure) => {
                println!("FAIL seed {seed} (refinement): {failure}\n  schedule {config:?}");
                return Ok(exit::VIOLATION);
            }
        }
    }
    let per_event = |d: Duration| d.as_nanos() as f64 / events.max(1) as f64 / 1000.0;
    println!(
        "soak paxos: {runs} runs passed (seeds {}..{}), {events} events, {restarts} restarts in {:.1} s; replay {:.2} µs/event, membership {:.2} µs/event",
        args.seed,
        args.seed.wrapping_add(runs),
        started.elapsed().as_secs_f64(),
        per_event(replay),
        per_event(membership)
    );
    Ok(exit::OK)
}
