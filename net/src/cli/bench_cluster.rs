//! `quorate bench cluster`: PBFT n = 4 and Paxos n = 3 on loopback (signed 100-byte requests,
//! batching), tracing off and on, with the crypto bound measured in the same run; and the cost
//! of one host step as the committed ledger grows to 10^5 entries (in process, symbolic
//! signatures, no disk: what the host and the actor cost, not the network or ed25519).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use quorate_impl::crypto::{Keyring, NodeId, Signer, Symbolic};
use quorate_impl::trace::SendId;
use quorate_net::host::{Clock, Host, Input, SplitMix64, Transport};
use quorate_net::protocols::paxos::PaxosDeployment;
use quorate_net::protocols::pbft::PbftDeployment;
use quorate_net::protocols::Observed;
use quorate_net::quic::EphemeralDisk;
use quorate_spec::{Key, KvOp, KvStore, Transaction, TxId};

use super::cluster::{measure_cluster, ClusterArgs, ClusterRun};
use super::Failure;

/// Arguments of `quorate bench cluster`.
#[derive(Args, Debug)]
pub struct BenchClusterArgs {
    /// Seconds of load per run (at most 10).
    #[arg(long, value_name = "S", default_value_t = 8)]
    pub duration: u64,
    /// Clients per run (each one outstanding transaction; the batch size can reach this).
    #[arg(long, value_name = "C", default_value_t = 64)]
    pub clients: usize,
    /// Committed entries the step-cost measurement grows the ledger to.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub entries: u64,
    /// Skip the loopback clusters (step cost only).
    #[arg(long)]
    pub no_cluster: bool,
}

/// Runs `quorate bench cluster`; returns the exit code.
pub fn run(args: &BenchClusterArgs) -> Result<i32, Failure> {
    if args.duration == 0 || args.duration > 10 || args.clients == 0 || args.entries < 1_000 {
        return Err(Failure::Usage(format!(
            "bench cluster: --duration {} must be 1-10 s, --clients {} at least 1, --entries {} \
             at least 1000",
            args.duration, args.clients, args.entries
        )));
    }
    let mut worst = 0;
    if !args.no_cluster {
        println!(
            "{:<9} {:>5} {:>7} {:>5} {:>9} {:>8} {:>8} {:>9} {:>7}",
            "protocol", "nodes", "clients", "trace", "tx/s", "p50 ms", "p99 ms", "bound", "ratio"
        );
        for (protocol, nodes) in [("pbft", 4), ("paxos", 3)] {
            for trace in [false, true] {
                let cluster = ClusterArgs {
                    protocol: protocol.to_string(),
                    nodes,
                    clients: args.clients,
                    duration: args.duration,
                    kill_one: false,
                    dir: None,
                    trace,
                };
                let run: ClusterRun = measure_cluster(&cluster)?;
                worst = worst.max(run.exit);
                println!(
                    "{protocol:<9} {nodes:>5} {:>7} {:>5} {:>9.0} {:>8.2} {:>8.2} {:>9.0} {:>7.3}",
                    args.clients,
                    if trace { "on" } else { "off" },
                    run.throughput,
                    run.p50.as_secs_f64() * 1e3,
                    run.p99.as_secs_f64() * 1e3,
                    run.bound.tx_per_s(),
                    run.throughput / run.bound.tx_per_s()
                );
            }
        }
        println!(
            "bound = ed25519 verifications/s per core (measured in each run) x cores / \
             verifications one transaction costs the cluster at the largest batch the clients \
             allow; ratio = achieved / bound"
        );
    }
    let marks = [args.entries / 100, args.entries / 10, args.entries];
    for (protocol, costs) in [
        ("pbft n=4", pbft_step_cost(&marks)),
        ("paxos n=1", paxos_step_cost(&marks)),
    ] {
        for (entries, micros) in costs {
            println!(
                "step cost, {protocol}: at {entries} committed entries one step takes {micros:.1} µs"
            );
        }
    }
    Ok(worst)
}

/// Collects sends into one queue, tagged with the sender.
struct Queue<'a, M> {
    src: NodeId,
    queue: &'a mut VecDeque<(NodeId, NodeId, SendId, M)>,
}

impl<M> Transport<M> for Queue<'_, M> {
    fn send(&mut self, dst: NodeId, send_id: SendId, msg: M) {
        self.queue.push_back((self.src, dst, send_id, msg));
    }
}

struct Zero;
impl Clock for Zero {
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

/// Drives `servers` in one thread: requests from client `client` go to `entry` in chunks of
/// `chunk`; every message between servers is delivered (messages to the client are dropped);
/// timers never fire. Returns, per mark of requests sent, the entries server 0 committed and
/// the mean step time (all servers) over the last chunk before it.
fn step_cost<A: Observed>(
    servers: Vec<A>,
    client: NodeId,
    entry: NodeId,
    chunk: u64,
    request: impl Fn(u64) -> A::Msg,
    marks: &[u64],
) -> Vec<(u64, f64)> {
    let mut queue = VecDeque::new();
    let mut hosts: Vec<Host<A, EphemeralDisk, SplitMix64>> = Vec::new();
    for (id, actor) in servers.into_iter().enumerate() {
        let id = id as NodeId;
        let (mut host, effects) = Host::start(
            actor,
            id,
            EphemeralDisk,
            SplitMix64::new(u64::from(id)),
            None,
        )
        .expect("an ephemeral disk does not fail");
        let mut net = Queue {
            src: id,
            queue: &mut queue,
        };
        host.release(effects, &Zero, &mut net);
        hosts.push(host);
    }
    let mut client_seq = 0;
    let mut results = Vec::new();
    let mut sent = 0;
    for &mark in marks {
        let mut timed = Duration::ZERO;
        let mut steps = 0u64;
        while sent < mark {
            let last_chunk = mark - sent <= chunk;
            for _ in 0..chunk.min(mark - sent) {
                sent += 1;
                client_seq += 1;
                queue.push_back((
                    client,
                    entry,
                    SendId {
                        src: client,
                        incarnation: 1,
                        seq: client_seq,
                    },
                    request(sent),
                ));
            }
            while let Some((src, dst, send_id, msg)) = queue.pop_front() {
                let Some(host) = hosts.get_mut(dst as usize) else {
                    continue; // a reply to the client
                };
                let started = Instant::now();
                let effects = host
                    .handle(Input::Deliver { src, send_id, msg })
                    .expect("an ephemeral disk does not fail");
                if last_chunk {
                    timed += started.elapsed();
                    steps += 1;
                }
                if let Some(effects) = effects {
                    let mut net = Queue {
                        src: dst,
                        queue: &mut queue,
                    };
                    host.release(effects, &Zero, &mut net);
                }
            }
        }
        // What server 0 executed (a request may still wait for a timer that never fires here).
        let committed =
            A::committed(hosts[0].state(), mark.saturating_sub(chunk)).map_or(0, |c| c.len());
        results.push((committed, timed.as_secs_f64() * 1e6 / steps.max(1) as f64));
    }
    results
}

/// A transaction of about 100 encoded bytes: eight writes of full-width values.
fn transaction(client: NodeId, seq: u64) -> Transaction<KvOp> {
    let ops = (0..8)
        .map(|i| KvOp::Put(Key(((seq + i) % 64) as u32), i64::MAX - (seq + i) as i64))
        .collect();
    Transaction::new(TxId { client, seq }, KvStore::APP_ID, ops)
}

fn pbft_step_cost(marks: &[u64]) -> Vec<(u64, f64)> {
    let deployment = PbftDeployment::new(4);
    let keyring = Arc::new(Keyring::symbolic(0..5));
    let servers = (0..4)
        .map(|id| {
            deployment.replica::<Symbolic, quorate_impl::pbft::Honest>(
                Signer::symbolic(id),
                keyring.clone(),
            )
        })
        .collect();
    let signer = Signer::symbolic(4);
    let request = |seq| quorate_impl::pbft::PbftMsg::Request(signer.sign(transaction(4, seq)));
    step_cost(servers, 4, 0, 64, request, marks)
}

fn paxos_step_cost(marks: &[u64]) -> Vec<(u64, f64)> {
    let deployment = PaxosDeployment::new(1);
    let keyring = Arc::new(Keyring::symbolic(0..2));
    let servers = vec![deployment.replica::<Symbolic, quorate_impl::paxos::Honest>(0, keyring)];
    let signer = Signer::symbolic(1);
    let request = |seq| quorate_impl::paxos::PaxosMsg::Request(signer.sign(transaction(1, seq)));
    step_cost(servers, 1, 0, 64, request, marks)
}
