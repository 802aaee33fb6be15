//! `quorate cluster`: starts N `quorate node` processes on loopback, drives a closed-loop
//! workload through hosted client actors (in this process), optionally SIGKILLs and restarts
//! one replica, then stops everything and compares every replica's exported ledger head.

use std::cell::RefCell;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use quorate_impl::crypto::{Ed25519, NodeId, Signer};
use quorate_impl::paxos::Honest;
use quorate_model::check::exit;
use quorate_net::host::Disk;
use quorate_net::protocols::paxos::{PaxosDeployment, PaxosKv};
use quorate_net::protocols::Observed;
use quorate_net::quic::config::{load_secret, to_hex};
use quorate_net::quic::{run_member, Cluster, EphemeralDisk, MemberOptions};
use quorate_net::store::RedbDisk;
use tokio::sync::watch;

use super::member::{percentile, write_new_key};
use super::Failure;

/// Arguments of `quorate cluster`.
#[derive(Args, Debug)]
pub struct ClusterArgs {
    /// The protocol: `paxos` (`pbft` once its actors are hosted).
    #[arg(long, value_name = "NAME")]
    pub protocol: String,
    /// Replicas.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub nodes: usize,
    /// Clients (each one outstanding transaction at a time).
    #[arg(long, value_name = "C", default_value_t = 4)]
    pub clients: usize,
    /// Seconds of load.
    #[arg(long, value_name = "S", default_value_t = 10)]
    pub duration: u64,
    /// SIGKILL the last replica a third of the way in and restart it a second later.
    #[arg(long)]
    pub kill_one: bool,
    /// Working directory (keys, cluster file, stores, logs); default: a fresh temp directory.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Record traces in every replica's store.
    #[arg(long)]
    pub trace: bool,
}

#[derive(Default)]
struct Stats {
    latencies: Vec<Duration>,
    completed: u64,
}

fn free_port() -> Result<u16, Failure> {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .map_err(|e| Failure::Usage(format!("no free UDP port on loopback: {e}")))
}

fn usage(e: impl std::fmt::Display) -> Failure {
    Failure::Usage(e.to_string())
}

/// Writes keys and the cluster file; returns the file's path.
fn prepare(dir: &Path, nodes: usize, clients: usize) -> Result<PathBuf, Failure> {
    std::fs::create_dir_all(dir.join("keys")).map_err(usage)?;
    let mut text = "protocol = \"paxos\"\n".to_string();
    for id in 0..nodes + clients {
        let public = write_new_key(&key_path(dir, id as NodeId), true).map_err(usage)?;
        if id < nodes {
            text += &format!(
                "[[node]]\nid = {id}\naddr = \"127.0.0.1:{}\"\npublic_key = \"{public}\"\n",
                free_port()?
            );
        } else {
            text += &format!("[[client]]\nid = {id}\npublic_key = \"{public}\"\n");
        }
    }
    let path = dir.join("cluster.toml");
    std::fs::write(&path, text).map_err(usage)?;
    Ok(path)
}

fn key_path(dir: &Path, id: NodeId) -> PathBuf {
    dir.join("keys").join(format!("{id}.key"))
}

fn spawn_node(dir: &Path, config: &Path, id: NodeId, trace: bool) -> Result<Child, Failure> {
    let exe = std::env::current_exe().map_err(usage)?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("node{id}.log")))
        .map_err(usage)?;
    let mut command = Command::new(exe);
    command
        .arg("node")
        .arg("--config")
        .arg(config)
        .arg("--id")
        .arg(id.to_string())
        .arg("--key")
        .arg(key_path(dir, id))
        .arg("--data")
        .arg(dir.join(format!("node{id}")))
        .stdout(Stdio::null())
        .stderr(log);
    if trace {
        command.arg("--trace");
    }
    command
        .spawn()
        .map_err(|e| Failure::Usage(format!("cannot start node {id}: {e}")))
}

/// Runs the cluster; exit 0 when every replica's ledger agrees, 1 on divergence.
pub fn run(args: &ClusterArgs) -> Result<i32, Failure> {
    match args.protocol.as_str() {
        "paxos" => {}
        "pbft" => {
            return Err(Failure::Usage(
                "--protocol pbft: PBFT is not hosted yet (its actors are not merged)".into(),
            ))
        }
        other => {
            return Err(Failure::Usage(format!(
                "--protocol {other:?}: expected paxos or pbft"
            )))
        }
    }
    if args.nodes < 3 || args.nodes.is_multiple_of(2) {
        return Err(Failure::Usage(format!(
            "--nodes {}: Paxos needs an odd number of at least 3 replicas (n = 2f+1)",
            args.nodes
        )));
    }
    if args.clients == 0 || args.duration == 0 {
        return Err(Failure::Usage(
            "--clients and --duration must be at least 1".into(),
        ));
    }
    let dir = args.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("quorate-cluster-{}", std::process::id()))
    });
    let _ = std::fs::remove_dir_all(&dir);
    let config = prepare(&dir, args.nodes, args.clients)?;
    let cluster = Arc::new(Cluster::load(&config).map_err(usage)?);
    let mut children = (0..args.nodes as NodeId)
        .map(|id| spawn_node(&dir, &config, id, args.trace))
        .collect::<Result<Vec<_>, _>>()?;
    eprintln!(
        "cluster: {} replicas, {} clients, {} s, working in {}",
        args.nodes,
        args.clients,
        args.duration,
        dir.display()
    );
    let stats = Rc::new(RefCell::new(Stats::default()));
    let duration = Duration::from_secs(args.duration);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(usage)?;
    let local = tokio::task::LocalSet::new();
    let started = Instant::now();
    let client_result: Result<(), Failure> = local.block_on(&runtime, async {
        let (stop_tx, stop_rx) = watch::channel(false);
        let deployment = PaxosDeployment::new(args.nodes);
        let mut tasks = Vec::new();
        for id in args.nodes as NodeId..(args.nodes + args.clients) as NodeId {
            let secret = load_secret(&key_path(&dir, id)).map_err(usage)?;
            // Far more than a run completes; the run ends on time, not on the workload.
            let actor: PaxosKv<Ed25519> =
                deployment.client::<Ed25519, Honest>(Signer::new(id, secret.clone()), 200_000);
            let (cluster, stats, mut stop) = (cluster.clone(), stats.clone(), stop_rx.clone());
            tasks.push(tokio::task::spawn_local(async move {
                let mut done = 0;
                let mut last: Option<Instant> = None;
                run_member(
                    actor,
                    id,
                    cluster,
                    secret,
                    EphemeralDisk,
                    MemberOptions::default(),
                    |host, _| {
                        let now_done = PaxosKv::<Ed25519>::completed(host.state()).unwrap_or(0);
                        if now_done > done {
                            let mut stats = stats.borrow_mut();
                            // The first transaction waits for links: not a latency sample.
                            if let Some(at) = last {
                                stats.latencies.push(at.elapsed());
                            }
                            stats.completed += now_done - done;
                            last = Some(Instant::now());
                            done = now_done;
                        }
                        ControlFlow::Continue(())
                    },
                    async move {
                        let _ = stop.wait_for(|s| *s).await;
                    },
                )
                .await
            }));
        }
        if args.kill_one {
            let victim = (args.nodes - 1) as NodeId;
            tokio::time::sleep(duration / 3).await;
            eprintln!("cluster: SIGKILL replica {victim}");
            let _ = children[victim as usize].kill();
            let _ = children[victim as usize].wait();
            tokio::time::sleep(Duration::from_secs(1)).await;
            eprintln!("cluster: restarting replica {victim}");
            children[victim as usize] = spawn_node(&dir, &config, victim, args.trace)?;
            tokio::time::sleep_until(tokio::time::Instant::from_std(started + duration)).await;
        } else {
            tokio::time::sleep(duration).await;
        }
        let _ = stop_tx.send(true);
        for task in tasks {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(Failure::Usage(e)),
                Err(e) => return Err(Failure::Usage(format!("client task failed: {e}"))),
            }
        }
        // Let followers and the restarted replica learn the last decisions and export them.
        tokio::time::sleep(Duration::from_secs(2)).await;
        Ok(())
    });
    let elapsed = started.elapsed();
    for child in &mut children {
        let _ = child.kill();
        let _ = child.wait();
    }
    client_result?;
    let stats = std::mem::take(&mut *stats.borrow_mut());
    let verify_rate = verify_rate(&dir, &cluster, args.nodes as NodeId)?;
    report(args, &dir, &stats, elapsed.min(duration), verify_rate)
}

/// Signature checks per second on this machine, measured now on the run's own request type:
/// the crypto bound of the run (Paxos verifies each client request once, at the leader).
fn verify_rate(dir: &Path, cluster: &Cluster, client: NodeId) -> Result<f64, Failure> {
    let secret = load_secret(&key_path(dir, client)).map_err(usage)?;
    let deployment = PaxosDeployment::new(cluster.replicas());
    let PaxosKv::<Ed25519>::Client(actor) =
        deployment.client::<Ed25519, Honest>(Signer::new(client, secret), 1)
    else {
        unreachable!("a client was built")
    };
    let request = actor.request(1);
    let started = Instant::now();
    let mut checks = 0u64;
    while started.elapsed() < Duration::from_millis(500) {
        for _ in 0..64 {
            assert!(
                request.verify(&cluster.keyring),
                "the run's own request verifies"
            );
        }
        checks += 64;
    }
    Ok(checks as f64 / started.elapsed().as_secs_f64())
}

fn report(
    args: &ClusterArgs,
    dir: &Path,
    stats: &Stats,
    elapsed: Duration,
    verify_rate: f64,
) -> Result<i32, Failure> {
    let mut latencies = stats.latencies.clone();
    let throughput = stats.completed as f64 / elapsed.as_secs_f64();
    println!(
        "throughput: {throughput:.0} tx/s ({} transactions in {:.1} s, {} clients)",
        stats.completed,
        elapsed.as_secs_f64(),
        args.clients
    );
    println!(
        "latency: p50 {:.2} ms, p99 {:.2} ms",
        percentile(&mut latencies, 50.0).as_secs_f64() * 1e3,
        percentile(&mut latencies, 99.0).as_secs_f64() * 1e3
    );
    // One verification per transaction on the leader's single thread bounds the cluster.
    println!(
        "crypto bound: ed25519 verify {verify_rate:.0}/s measured now, 1 verification per \
         transaction at the leader -> at most {verify_rate:.0} tx/s; achieved/bound = {:.3}",
        throughput / verify_rate
    );
    let mut heads = Vec::new();
    for id in 0..args.nodes {
        let path = dir.join(format!("node{id}")).join("node.redb");
        // Opening verifies every checksum and the whole hash chain.
        let mut disk =
            RedbDisk::<<PaxosKv<Ed25519> as stateright::actor::Actor>::Storage>::open_path(&path)
                .map_err(|e| Failure::Usage(format!("replica {id}: {e}")))?;
        Disk::open(&mut disk).map_err(|e| Failure::Usage(format!("replica {id}: {e}")))?;
        heads.push(disk);
    }
    let common = heads.iter().map(|d| d.ledger_head().0).min().unwrap_or(0);
    let mut diverged = false;
    let reference = heads[0].head_at(common).map_err(usage)?;
    for (id, disk) in heads.iter().enumerate() {
        let (height, head) = disk.ledger_head();
        let at_common = disk.head_at(common).map_err(usage)?;
        let agrees = at_common == reference;
        diverged |= !agrees;
        println!(
            "replica {id}: ledger height {height}, head {}, at height {common}: {}",
            &to_hex(&head)[..16],
            if agrees { "agrees" } else { "DIVERGES" }
        );
    }
    if diverged {
        println!("ledgers diverge");
        return Ok(exit::VIOLATION);
    }
    if common == 0 {
        println!("no replica exported any entry: nothing was compared");
        return Ok(exit::INCOMPLETE);
    }
    println!("ledgers agree up to height {common}");
    Ok(exit::OK)
}
