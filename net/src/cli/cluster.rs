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
use quorate_model::check::exit;
use quorate_net::host::Disk;
use quorate_net::protocols::{Deployment, Observed};
use quorate_net::quic::config::{load_secret, to_hex};
use quorate_net::quic::{run_member, Cluster, EphemeralDisk, MemberOptions};
use quorate_net::store::RedbDisk;
use tokio::sync::watch;

use super::member::{percentile, write_new_key};
use super::{for_protocol, Failure};

/// Arguments of `quorate cluster`.
#[derive(Args, Debug)]
pub struct ClusterArgs {
    /// The protocol: `paxos`, `pbft` or `xov`.
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
fn prepare(dir: &Path, protocol: &str, nodes: usize, clients: usize) -> Result<PathBuf, Failure> {
    std::fs::create_dir_all(dir.join("keys")).map_err(usage)?;
    let mut text = format!("protocol = {protocol:?}\n");
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
    measure_cluster(args).map(|run| run.exit)
}

/// What one cluster run measured (it also printed it).
pub struct ClusterRun {
    /// Committed transactions per second, as the clients saw them.
    pub throughput: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th-percentile latency.
    pub p99: Duration,
    /// The crypto bound measured in the same run.
    pub bound: CryptoBound,
    /// The exit code: ledgers agree, diverge, or nothing was compared.
    pub exit: i32,
}

/// Runs the cluster and returns its figures.
pub fn measure_cluster(args: &ClusterArgs) -> Result<ClusterRun, Failure> {
    for_protocol!(args.protocol.as_str(), "--protocol", run_cluster(args))
}

fn run_cluster<D: Deployment<Ed25519>>(args: &ClusterArgs) -> Result<ClusterRun, Failure> {
    if args.nodes < 3 {
        return Err(Failure::Usage(format!(
            "--nodes {}: a cluster needs at least 3 replicas to tolerate a fault",
            args.nodes
        )));
    }
    let deployment =
        D::with_servers(args.nodes).map_err(|e| Failure::Usage(format!("--nodes {e}")))?;
    if let (true, Some(hazard)) = (args.kill_one, deployment.restart_hazard()) {
        return Err(Failure::Usage(format!(
            "--kill-one with --protocol {}: {hazard}",
            args.protocol
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
    let config = prepare(&dir, &args.protocol, args.nodes, args.clients)?;
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
        let keyring = Arc::new(cluster.keyring.clone());
        let mut tasks = Vec::new();
        for id in args.nodes as NodeId..(args.nodes + args.clients) as NodeId {
            let secret = load_secret(&key_path(&dir, id)).map_err(usage)?;
            // Far more than a run completes; the run ends on time, not on the workload.
            let actor =
                deployment.client(Signer::new(id, secret.clone()), keyring.clone(), 200_000);
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
                        let now_done = D::Actor::completed(host.state()).unwrap_or(0);
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
    let bound = CryptoBound::measure(
        &dir,
        &cluster,
        args.nodes as NodeId,
        |batch| deployment.verifications_per_tx(batch),
        args.clients,
    )?;
    let ledgers: Vec<usize> = (0..args.nodes)
        .filter(|&id| deployment.keeps_ledger(id as NodeId))
        .collect();
    report::<D>(args, &dir, &ledgers, &stats, elapsed.min(duration), bound)
}

/// The crypto bound of a run, measured in the same run: this machine's ed25519 verification
/// rate (one thread, a signed 100-byte payload) times its cores, over the verifications one
/// transaction costs the whole cluster.
#[derive(Clone, Copy, Debug)]
pub struct CryptoBound {
    /// Verifications per second on one thread.
    pub verify_rate: f64,
    /// Cores the cluster shares.
    pub cores: usize,
    /// Verifications per committed transaction, across the cluster.
    pub per_tx: f64,
    /// The batch size `per_tx` assumes.
    pub batch: f64,
}

impl CryptoBound {
    /// Measures for ~0.5 s with `client`'s key; `batch` is the largest batch the closed-loop
    /// workload allows (one outstanding request per client), which gives the highest bound.
    pub fn measure(
        dir: &Path,
        cluster: &Cluster,
        client: NodeId,
        per_tx: impl Fn(f64) -> f64,
        clients: usize,
    ) -> Result<CryptoBound, Failure> {
        let secret = load_secret(&key_path(dir, client)).map_err(usage)?;
        let signed = Signer::<Ed25519>::new(client, secret).sign([0x5au8; 100].to_vec());
        let started = Instant::now();
        let mut checks = 0u64;
        while started.elapsed() < Duration::from_millis(500) {
            for _ in 0..64 {
                assert!(
                    signed.verify(&cluster.keyring),
                    "a fresh signature verifies"
                );
            }
            checks += 64;
        }
        let batch = clients.max(1) as f64;
        Ok(CryptoBound {
            verify_rate: checks as f64 / started.elapsed().as_secs_f64(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            per_tx: per_tx(batch),
            batch,
        })
    }

    /// Transactions per second the cluster's signature checks allow at most.
    pub fn tx_per_s(&self) -> f64 {
        self.verify_rate * self.cores as f64 / self.per_tx
    }
}

fn report<D: Deployment<Ed25519>>(
    args: &ClusterArgs,
    dir: &Path,
    ledgers: &[usize],
    stats: &Stats,
    elapsed: Duration,
    bound: CryptoBound,
) -> Result<ClusterRun, Failure> {
    let mut latencies = stats.latencies.clone();
    let throughput = stats.completed as f64 / elapsed.as_secs_f64();
    let (p50, p99) = (
        percentile(&mut latencies, 50.0),
        percentile(&mut latencies, 99.0),
    );
    let run = |exit| ClusterRun {
        throughput,
        p50,
        p99,
        bound,
        exit,
    };
    println!(
        "throughput: {throughput:.0} tx/s ({} transactions in {:.1} s, {} clients)",
        stats.completed,
        elapsed.as_secs_f64(),
        args.clients
    );
    println!(
        "latency: p50 {:.2} ms, p99 {:.2} ms",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
    println!(
        "crypto bound: ed25519 verify {:.0}/s per core measured now x {} cores / {:.2} \
         verifications per transaction across the cluster (batch <= {}) -> at most {:.0} tx/s; \
         achieved/bound = {:.3}",
        bound.verify_rate,
        bound.cores,
        bound.per_tx,
        bound.batch,
        bound.tx_per_s(),
        throughput / bound.tx_per_s()
    );
    let mut heads = Vec::new();
    for &id in ledgers {
        let path = dir.join(format!("node{id}")).join("node.redb");
        // Opening verifies every checksum and the whole hash chain.
        let mut disk =
            RedbDisk::<<D::Actor as stateright::actor::Actor>::Storage>::open_path(&path)
                .map_err(|e| Failure::Usage(format!("replica {id}: {e}")))?;
        Disk::open(&mut disk).map_err(|e| Failure::Usage(format!("replica {id}: {e}")))?;
        heads.push(disk);
    }
    let common = heads.iter().map(|d| d.ledger_head().0).min().unwrap_or(0);
    let mut diverged = false;
    let entries = heads
        .iter()
        .map(|d| d.ledger_entries())
        .collect::<Result<Vec<_>, _>>()
        .map_err(usage)?;
    // Entry by entry rather than by chain head: a replica that caught up by state transfer
    // exports the entries its snapshot covers as markers, whose chain head differs from the
    // others' though no entry disagrees.
    const COVERED: [u8; 32] = [0xff; 32];
    for (index, (&id, disk)) in ledgers.iter().zip(&heads).enumerate() {
        let (height, head) = disk.ledger_head();
        let mut covered = 0;
        let mut first_conflict = None;
        for at in 0..common as usize {
            let (mine, theirs) = (entries[index][at], entries[0][at]);
            if mine == COVERED || theirs == COVERED {
                covered += 1;
            } else if mine != theirs && first_conflict.is_none() {
                first_conflict = Some(at);
            }
        }
        diverged |= first_conflict.is_some();
        let verdict = match first_conflict {
            Some(at) => format!("DIVERGES from replica {} at entry {at}", ledgers[0]),
            None if covered > 0 => {
                format!("agrees ({covered} entries covered by a snapshot, not compared)")
            }
            None => "agrees".to_string(),
        };
        println!(
            "replica {id}: ledger height {height}, head {}, up to height {common}: {verdict}",
            &to_hex(&head)[..16],
        );
    }
    if diverged {
        println!("ledgers diverge");
        return Ok(run(exit::VIOLATION));
    }
    if common == 0 {
        println!("no replica exported any entry: nothing was compared");
        return Ok(run(exit::INCOMPLETE));
    }
    println!("ledgers agree up to height {common}");
    Ok(run(exit::OK))
}
