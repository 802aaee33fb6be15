//! `quorate soak`: SimHost schedules for a given time, each run checked by the refinement
//! checks 1-3 (trace replay, model membership with property monitors, spec and
//! linearizability) on top of SimHost's own agreement and liveness checks. A run's seed alone
//! fixes its schedule, so `--seed S --runs 1` replays a failure exactly.
//!
//! Paxos schedules draw kills and restarts, drops, delays, partitions and disk faults. PBFT
//! schedules draw drops, delays and partitions, and in three runs of four replace one replica
//! by an adversary actor (`impl/src/pbft/adversary.rs`); no kills while PBFT's Storage is `()`.

use std::time::{Duration, Instant};

use clap::Args;
use quorate_impl::crypto::{NodeId, Signer, Symbolic};
use quorate_impl::pbft::{Adversary, PbftNode, Script};
use quorate_model::check::exit;
use quorate_refinement::protocol::{check_run, Refined};

use super::Failure;
use quorate_net::host::SplitMix64;
use quorate_net::protocols::paxos::PaxosDeployment;
use quorate_net::protocols::pbft::PbftDeployment;
use quorate_net::protocols::{symbolic_cluster, Observed};
use quorate_net::sim::{MemDisk, SimConfig, SimFailure, SimHost};

/// Arguments of `quorate soak`.
#[derive(Args, Debug)]
pub struct SoakArgs {
    /// The protocol: `paxos` or `pbft`.
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
    /// Replicas per cluster (Paxos: 2f+1, default 3; PBFT: 3f+1, default 4).
    #[arg(long, value_name = "N")]
    pub replicas: Option<usize>,
    /// Count a run that completes safely but not every operation (SimHost's liveness phase)
    /// and go on, instead of stopping there; safety and refinement failures still stop.
    #[arg(long)]
    pub count_stalls: bool,
}

/// The network part of a schedule, drawn from `rng`: drops, delays, partitions.
fn network_faults(config: &mut SimConfig, rng: &mut SplitMix64) {
    let mut draw = |lo: u64, hi: u64| lo + rng.below(hi - lo);
    config.drop_per_mille = draw(0, 200) as u32;
    config.delay_ms = (1, draw(2, 120));
    config.partition_per_mille = draw(0, 20) as u32;
    config.fault_phase = Duration::from_secs(draw(5, 30));
}

/// The Paxos schedule a run seed stands for: fault rates drawn from the seed itself.
pub fn schedule(seed: u64, replicas: usize) -> (SimConfig, usize, u64) {
    let mut rng = SplitMix64::new(seed ^ 0x5eed_5eed);
    let max_down = ((replicas - 1) / 2).min(rng.below(2) as usize);
    let mut config = SimConfig::new(seed, 0..replicas as NodeId, max_down);
    network_faults(&mut config, &mut rng);
    config.crash_per_mille = rng.below(60) as u32;
    config.disk_fault_per_mille = rng.below(60) as u32;
    let clients = 1 + rng.below(3) as usize;
    let operations = 1 + rng.below(15);
    (config, clients, operations)
}

const SCRIPTS: [Script; 5] = [
    Script::Silent,
    Script::Equivocate,
    Script::ConflictingVotes,
    Script::ReplayViewChange,
    Script::Withhold,
];

/// A PBFT schedule: the network faults, clients and operations, and the adversary if any.
pub struct PbftSchedule {
    /// SimHost's configuration (no crashes).
    pub config: SimConfig,
    /// Clients.
    pub clients: usize,
    /// Operations per client.
    pub operations: u64,
    /// The replica an adversary replaces, with its script.
    pub adversary: Option<(NodeId, Script)>,
}

/// The PBFT schedule a run seed stands for.
pub fn pbft_schedule(seed: u64, replicas: usize) -> PbftSchedule {
    let mut rng = SplitMix64::new(seed ^ 0xb1f7_5eed);
    let mut config = SimConfig::new(seed, [], 0);
    network_faults(&mut config, &mut rng);
    config.disk_fault_per_mille = 0;
    let clients = 1 + rng.below(3) as usize;
    let operations = 1 + rng.below(8);
    let adversary = (rng.below(4) != 0).then(|| {
        let id = rng.below(replicas as u64) as NodeId;
        (id, SCRIPTS[rng.below(SCRIPTS.len() as u64) as usize])
    });
    PbftSchedule {
        config,
        clients,
        operations,
        adversary,
    }
}

/// What the soak counted.
#[derive(Default)]
struct Totals {
    runs: u64,
    events: u64,
    restarts: u64,
    /// Runs with an adversary that lost liveness but kept safety (PBFT only).
    stalled: u64,
    /// Runs without an adversary that lost liveness but kept safety (`--count-stalls`).
    stalled_honest: u64,
    replay: Duration,
    membership: Duration,
}

/// One run: SimHost, then checks 1-3. `Err` holds the failure line to print.
fn run_one<A: Refined + Observed>(
    config: SimConfig,
    actors: Vec<A>,
    (adversary, count_stalls): (bool, bool),
    totals: &mut Totals,
) -> Result<(), String> {
    let sim = SimHost::new(config, actors.clone(), "symbolic");
    let disks: Vec<MemDisk> = (0..actors.len() as NodeId)
        .map(|id| sim.disk(id).clone())
        .collect();
    let outcome = sim.run();
    totals.runs += 1;
    match &outcome {
        Ok(report) => totals.restarts += report.restarts,
        Err(SimFailure::NotLive { .. }) if adversary => totals.stalled += 1,
        Err(SimFailure::NotLive { .. }) if count_stalls => totals.stalled_honest += 1,
        Err(failure) => return Err(format!("(SimHost): {failure}")),
    }
    let lines: Vec<Vec<String>> = disks
        .iter()
        .map(|d| d.image().borrow().trace_lines())
        .collect();
    let figures = check_run(&actors, &lines).map_err(|f| format!("(refinement): {f}"))?;
    totals.events += figures.events;
    totals.replay += figures.replay;
    totals.membership += figures.membership;
    Ok(())
}

/// Runs the soak; exit 0 if every run passed, 1 at the first failing run (its seed printed).
pub fn run(args: &SoakArgs) -> Result<i32, Failure> {
    let pbft = match args.protocol.as_str() {
        "paxos" => false,
        "pbft" => true,
        other => {
            return Err(Failure::Usage(format!(
                "--protocol {other:?}: soak runs paxos or pbft (the protocols SimHost hosts)"
            )))
        }
    };
    let replicas = args.replicas.unwrap_or(if pbft { 4 } else { 3 });
    if pbft && (replicas < 4 || replicas > 10 || replicas % 3 != 1) {
        return Err(Failure::Usage(format!(
            "--replicas {replicas}: PBFT wants n = 3f+1 with f >= 1, at most 10"
        )));
    }
    if !pbft && !(1..=9).contains(&replicas) {
        return Err(Failure::Usage(format!(
            "--replicas {replicas}: must be 1..=9 (a SimHost cluster of replicas 2f+1)"
        )));
    }
    let started = Instant::now();
    let budget = Duration::from_secs(args.seconds);
    let mut totals = Totals::default();
    while started.elapsed() < budget && args.runs.is_none_or(|limit| totals.runs < limit) {
        let seed = args.seed.wrapping_add(totals.runs);
        let verdict = if pbft {
            let schedule = pbft_schedule(seed, replicas);
            let mut actors = symbolic_cluster(
                &PbftDeployment::new(replicas),
                schedule.clients,
                schedule.operations,
            );
            if let Some((id, script)) = schedule.adversary {
                let ids = (0..replicas as NodeId).collect();
                actors[id as usize] = PbftNode::Byzantine(Adversary::<Symbolic, _>::new(
                    Signer::symbolic(id),
                    ids,
                    script,
                ));
            }
            let detail = format!("{:?}, adversary {:?}", schedule.config, schedule.adversary);
            run_one(
                schedule.config,
                actors,
                (schedule.adversary.is_some(), args.count_stalls),
                &mut totals,
            )
            .map_err(|e| (e, detail))
        } else {
            let (config, clients, operations) = schedule(seed, replicas);
            let actors = PaxosDeployment::new(replicas)
                .symbolic_actors::<quorate_impl::paxos::Honest>(clients, operations);
            let detail = format!("{config:?}");
            run_one(config, actors, (false, args.count_stalls), &mut totals)
                .map_err(|e| (e, detail))
        };
        if let Err((failure, detail)) = verdict {
            println!("FAIL seed {seed} {failure}\n  schedule {detail}");
            return Ok(exit::VIOLATION);
        }
    }
    let events = totals.events;
    let per_event = |d: Duration| d.as_nanos() as f64 / events.max(1) as f64 / 1000.0;
    let mut stalled = String::new();
    if pbft {
        stalled += &format!(", {} adversary runs not live", totals.stalled);
    }
    if args.count_stalls {
        stalled += &format!(
            ", {} runs without adversary not live",
            totals.stalled_honest
        );
    }
    println!(
        "soak {}: {} runs passed (seeds {}..{}), {events} events, {} restarts{stalled} in {:.1} s; replay {:.2} µs/event, membership {:.2} µs/event",
        args.protocol,
        totals.runs,
        args.seed,
        args.seed.wrapping_add(totals.runs),
        totals.restarts,
        started.elapsed().as_secs_f64(),
        per_event(totals.replay),
        per_event(totals.membership)
    );
    Ok(exit::OK)
}
