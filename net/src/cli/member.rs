//! `quorate keygen`, `quorate node` and `quorate submit`: one member of a cluster per process,
//! hosting the very actors the checker ran (built by `quorate_net::protocols`).

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use quorate_impl::crypto::{ed25519_keypair_from_seed, Ed25519, Ed25519SecretKey, NodeId, Signer};
use quorate_model::check::exit;
use quorate_net::protocols::{Deployment, Observed};
use quorate_net::quic::config::{load_secret, to_hex};
use quorate_net::quic::{run_member, Cluster, EphemeralDisk, MemberOptions, Moment};
use quorate_net::store::RedbDisk;
use rand_core::RngCore;

use super::{for_protocol, Failure};

/// Arguments of `quorate keygen`.
#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Where to write the secret key (64 hex digits); the public key is printed on stdout.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Overwrite an existing key file.
    #[arg(long)]
    pub force: bool,
}

/// Writes a fresh ed25519 key; prints its public half for the cluster file.
pub fn keygen(args: &KeygenArgs) -> Result<i32, Failure> {
    let public = write_new_key(&args.out, args.force).map_err(Failure::Usage)?;
    println!("{public}");
    Ok(exit::OK)
}

/// Writes a key drawn from the OS to `path` (owner-only permissions); returns the public key hex.
pub fn write_new_key(path: &Path, force: bool) -> Result<String, String> {
    if path.exists() && !force {
        return Err(format!(
            "key file {} exists: refusing to overwrite an identity (use --force)",
            path.display()
        ));
    }
    let mut seed = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut seed);
    let (_, public) = ed25519_keypair_from_seed(seed);
    std::fs::write(path, format!("{}\n", to_hex(&seed)))
        .map_err(|e| format!("key file {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("key file {}: {e}", path.display()))?;
    }
    Ok(to_hex(&public.0))
}

/// Arguments shared by `node` and `submit`.
#[derive(Args, Debug, Clone)]
pub struct MemberArgs {
    /// The cluster file (TOML: protocol, [[node]] and [[client]] entries).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// This member's id in the cluster file.
    #[arg(long, value_name = "N")]
    pub id: NodeId,
    /// This member's secret key file (from `quorate keygen`).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Largest frame accepted from a peer, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = quorate_net::quic::frame::DEFAULT_MAX_FRAME)]
    pub max_frame: usize,
}

/// Arguments of `quorate node`.
#[derive(Args, Debug)]
pub struct NodeArgs {
    #[command(flatten)]
    pub member: MemberArgs,
    /// Directory of this replica's store.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Record the trace (DESIGN §5) in the store.
    #[arg(long)]
    pub trace: bool,
}

/// Arguments of `quorate submit`.
#[derive(Args, Debug)]
pub struct SubmitArgs {
    #[command(flatten)]
    pub member: MemberArgs,
    /// Transactions to submit (one outstanding at a time, each signed).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub ops: u64,
    /// Give up after SECS seconds (exit 3).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub timeout: u64,
}

/// Loads the cluster and key and checks that the key is the one pinned for `id`.
fn identity(args: &MemberArgs) -> Result<(Arc<Cluster>, Ed25519SecretKey), Failure> {
    let cluster = Cluster::load(&args.config).map_err(Failure::Usage)?;
    let secret = load_secret(&args.key).map_err(Failure::Usage)?;
    match cluster.keyring.get(args.id) {
        None => Err(Failure::Usage(format!(
            "--id {}: no member with that id in {}",
            args.id,
            args.config.display()
        ))),
        Some(pinned) if *pinned != secret.public_key() => Err(Failure::Usage(format!(
            "--key {}: not the key pinned for member {} in {}",
            args.key.display(),
            args.id,
            args.config.display()
        ))),
        Some(_) => Ok((Arc::new(cluster), secret)),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Usage(format!("cannot start the runtime: {e}")))
}

/// Runs one replica until SIGINT/SIGTERM. A disk error aborts the process (never retried).
pub fn node(args: &NodeArgs) -> Result<i32, Failure> {
    let (cluster, secret) = identity(&args.member)?;
    let id = args.member.id;
    if !cluster.addrs.contains_key(&id) {
        return Err(Failure::Usage(format!(
            "--id {id}: a client, not a replica (run `quorate submit` for clients)"
        )));
    }
    std::fs::create_dir_all(&args.data)
        .map_err(|e| Failure::Usage(format!("--data {}: {e}", args.data.display())))?;
    let protocol = cluster.protocol.clone();
    for_protocol!(
        protocol.as_str(),
        "protocol =",
        run_node(args, cluster, secret)
    )
}

/// Deployment for `cluster`'s size, or the size rule it breaks.
pub fn deployment<D: Deployment<Ed25519>>(cluster: &Cluster) -> Result<D, Failure> {
    D::with_servers(cluster.replicas())
        .map_err(|e| Failure::Usage(format!("cluster file, protocol {}: {e}", cluster.protocol)))
}

fn run_node<D: Deployment<Ed25519>>(
    args: &NodeArgs,
    cluster: Arc<Cluster>,
    secret: Ed25519SecretKey,
) -> Result<i32, Failure> {
    let id = args.member.id;
    let disk = RedbDisk::open_path(&args.data.join("node.redb"))
        .map_err(|e| Failure::Usage(format!("--data {}: {e}", args.data.display())))?;
    let actor = deployment::<D>(&cluster)?.server(
        Signer::new(id, secret.clone()),
        Arc::new(cluster.keyring.clone()),
    );
    // A panic anywhere (host loop or a link task) ends the process: the store keeps only
    // committed steps, and the next start is a new incarnation whose trace header follows.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default_hook(info);
        eprintln!("error: node {id} panicked; stopping the process (recorded as a crash)");
        std::process::abort();
    }));
    let options = MemberOptions {
        trace: args.trace,
        max_frame: args.member.max_frame,
        ..MemberOptions::default()
    };
    let outcome = runtime()?.block_on(run_member(
        actor,
        id,
        cluster,
        secret,
        disk,
        options,
        |host, moment| {
            if moment == Moment::Tick {
                let exported = host.disk().ledger_head().0;
                if let Some(new) = D::Actor::committed(host.state(), exported) {
                    if let Err(e) = host.disk_mut().export_ledger(&new) {
                        eprintln!("error: node {id}: ledger export: {e}");
                        std::process::abort();
                    }
                }
            }
            ControlFlow::Continue(())
        },
        shutdown_signal(),
    ));
    match outcome {
        Ok(()) => Ok(exit::OK),
        Err(e) => {
            // A failed commit means durability is unknown: stop hard, never retry (DESIGN §5).
            eprintln!("error: {e}");
            std::process::abort();
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Latency percentiles of a sample (sorted in place).
pub fn percentile(sample: &mut [Duration], p: f64) -> Duration {
    if sample.is_empty() {
        return Duration::ZERO;
    }
    sample.sort_unstable();
    let rank = ((p / 100.0) * (sample.len() - 1) as f64).round() as usize;
    sample[rank.min(sample.len() - 1)]
}

/// Hosts the protocol's client actor: sends `--ops` signed transactions and waits for each reply.
pub fn submit(args: &SubmitArgs) -> Result<i32, Failure> {
    let (cluster, secret) = identity(&args.member)?;
    let id = args.member.id;
    if cluster.addrs.contains_key(&id) {
        return Err(Failure::Usage(format!(
            "--id {id}: a replica, not a client (clients are the [[client]] entries)"
        )));
    }
    if args.ops == 0 {
        return Err(Failure::Usage(
            "--ops 0: submit at least one transaction".into(),
        ));
    }
    let protocol = cluster.protocol.clone();
    for_protocol!(
        protocol.as_str(),
        "protocol =",
        run_submit(args, cluster, secret)
    )
}

fn run_submit<D: Deployment<Ed25519>>(
    args: &SubmitArgs,
    cluster: Arc<Cluster>,
    secret: Ed25519SecretKey,
) -> Result<i32, Failure> {
    let id = args.member.id;
    let actor = deployment::<D>(&cluster)?.client(
        Signer::new(id, secret.clone()),
        Arc::new(cluster.keyring.clone()),
        args.ops,
    );
    let options = MemberOptions {
        max_frame: args.member.max_frame,
        ..MemberOptions::default()
    };
    let ops = args.ops;
    let mut latencies = Vec::new();
    let mut last = std::time::Instant::now();
    let mut done = 0;
    let started = std::time::Instant::now();
    let run = run_member(
        actor,
        id,
        cluster,
        secret,
        EphemeralDisk,
        options,
        |host, _| {
            let now_done = D::Actor::completed(host.state()).unwrap_or(0);
            if now_done > done {
                latencies.push(last.elapsed());
                last = std::time::Instant::now();
                done = now_done;
            }
            if done >= ops {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
        tokio::time::sleep(Duration::from_secs(args.timeout)),
    );
    runtime()?
        .block_on(run)
        .map_err(|e| Failure::Usage(format!("client {id}: {e}")))?;
    let elapsed = started.elapsed();
    let (p50, p99) = (
        percentile(&mut latencies, 50.0),
        percentile(&mut latencies, 99.0),
    );
    println!(
        "client {id}: {done}/{ops} transactions in {:.2} s; latency p50 {:.2} ms, p99 {:.2} ms",
        elapsed.as_secs_f64(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
    Ok(if done >= ops {
        exit::OK
    } else {
        exit::INCOMPLETE
    })
}
