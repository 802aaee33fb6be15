//! Real QUIC on loopback (DESIGN §6.4): a Multi-Paxos cluster whose replicas and clients all
//! record traces; one replica is killed mid-run and restarted from its store. The run is
//! checked from its traces alone by checks 1-3; it cannot be replayed from a seed (tokio and
//! socket timing are not seeded).
//!
//! The kill is in-process: the member stops at its next input, losing its volatile state (an
//! aborted task would keep its UDP port bound by quinn's endpoint, so it could not restart).
//! It lands between durable steps; kills inside a step are SimHost's crash points.
//!
//! The actors use symbolic signatures so the replay model (which is built over symbolic crypto)
//! can host them; the links still use mutual TLS pinned to each member's ed25519 key.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use quorate_impl::crypto::{ed25519_keypair_from_seed, Ed25519SecretKey, NodeId};
use quorate_impl::paxos::Honest;
use quorate_model::paxos::Node;
use quorate_net::protocols::paxos::PaxosDeployment;
use quorate_net::protocols::Observed;
use quorate_net::quic::config::to_hex;
use quorate_net::quic::{run_member, Cluster, MemberOptions, Moment};
use quorate_net::store::RedbDisk;
use quorate_refinement::paxos::check_run;
use tokio::sync::watch;

const REPLICAS: u32 = 3;
const CLIENTS: u32 = 2;
const OPERATIONS: u64 = 15;

type Actor = Node<Honest>;

fn secret(id: NodeId) -> Ed25519SecretKey {
    ed25519_keypair_from_seed([id as u8 + 101; 32]).0
}

fn cluster() -> Cluster {
    let mut text = "protocol = \"paxos\"\n".to_string();
    for id in 0..REPLICAS + CLIENTS {
        let key = to_hex(&secret(id).public_key().0);
        if id < REPLICAS {
            let port = std::net::UdpSocket::bind("127.0.0.1:0")
                .and_then(|s| s.local_addr())
                .unwrap()
                .port();
            text += &format!(
                "[[node]]\nid = {id}\naddr = \"127.0.0.1:{port}\"\npublic_key = \"{key}\"\n"
            );
        } else {
            text += &format!("[[client]]\nid = {id}\npublic_key = \"{key}\"\n");
        }
    }
    Cluster::parse(&text).unwrap()
}

fn store(dir: &Path, id: NodeId) -> PathBuf {
    dir.join(format!("{id}.redb"))
}

/// Runs member `id` until `stop` (replicas) or until its workload completes (clients). A
/// restarted member may find its port still held by the killed incarnation's endpoint for a
/// moment: it then stops (an incarnation that crashed right after its start step) and retries.
async fn member(
    actor: Actor,
    id: NodeId,
    cluster: Arc<Cluster>,
    path: PathBuf,
    stop: watch::Receiver<bool>,
) {
    for _ in 0..100 {
        let disk = RedbDisk::open_path(&path).unwrap();
        let client = actor.is_client();
        let workload = actor.workload_len();
        let options = MemberOptions {
            trace: true,
            ..MemberOptions::default()
        };
        let mut stop = stop.clone();
        let result = run_member(
            actor.clone(),
            id,
            cluster.clone(),
            secret(id),
            disk,
            options,
            |host, moment| {
                let done = Actor::completed(host.state()).unwrap_or(0);
                if client && moment == Moment::Step && done == workload {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
            async move {
                let _ = stop.wait_for(|s| *s).await;
            },
        )
        .await;
        match result {
            Ok(()) => return,
            Err(e) if e.contains("cannot bind") => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Err(e) => panic!("{e}"),
        }
    }
    panic!("member {id} could not bind its port again");
}

/// One loopback run killing replica `victim`; returns every member's trace lines.
fn run(victim: NodeId, kill_at_ms: u64, name: &str) -> (Vec<Actor>, Vec<Vec<String>>) {
    let dir = std::env::temp_dir().join(format!("quorate-refine-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cluster = Arc::new(cluster());
    let actors = PaxosDeployment::new(REPLICAS as usize)
        .symbolic_actors::<Honest>(CLIENTS as usize, OPERATIONS);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (stop_tx, stop_rx) = watch::channel(false);
        let spawn = |id: NodeId| {
            tokio::spawn(member(
                actors[id as usize].clone(),
                id,
                cluster.clone(),
                store(&dir, id),
                stop_rx.clone(),
            ))
        };
        let (kill_tx, kill_rx) = watch::channel(false);
        let mut replicas: Vec<_> = (0..REPLICAS)
            .map(|id| {
                if id == victim {
                    tokio::spawn(member(
                        actors[id as usize].clone(),
                        id,
                        cluster.clone(),
                        store(&dir, id),
                        kill_rx.clone(),
                    ))
                } else {
                    spawn(id)
                }
            })
            .collect();
        let clients: Vec<_> = (REPLICAS..REPLICAS + CLIENTS).map(spawn).collect();
        tokio::time::sleep(Duration::from_millis(kill_at_ms)).await;
        // The kill: the victim stops, its store closes; it restarts a moment later.
        kill_tx.send(true).unwrap();
        (&mut replicas[victim as usize]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        replicas[victim as usize] = spawn(victim);
        for client in clients {
            tokio::time::timeout(Duration::from_secs(60), client)
                .await
                .expect("clients finish within a minute")
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop_tx.send(true).unwrap();
        for replica in replicas {
            replica.await.unwrap();
        }
    });
    let lines = (0..REPLICAS + CLIENTS)
        .map(|id| {
            RedbDisk::<<Actor as stateright::actor::Actor>::Storage>::open_path(&store(&dir, id))
                .unwrap()
                .trace_lines()
                .unwrap()
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    (actors, lines)
}

#[test]
fn quic_runs_with_a_killed_replica_pass_checks_1_to_3_from_their_traces() {
    // Replica 2 only: a stopped member's port stays bound while clients keep connections to it
    // (clients 3 and 4 first contact replicas 0 and 1), so in-process restarts of those cannot
    // rebind; `quorate cluster --kill-one` kills processes instead.
    for (kill_at, name) in [(400, "kill-early"), (1200, "kill-late")] {
        let (actors, lines) = run(2, kill_at, name);
        let figures = check_run(&actors, &lines).unwrap_or_else(|e| panic!("{name}: {e}"));
        println!("{name}: {figures:?}");
        assert!(
            figures.incarnations > (REPLICAS + CLIENTS) as u64,
            "{name}: the kill restarted a replica"
        );
        assert_eq!(figures.operations, CLIENTS as u64 * OPERATIONS);
        assert_eq!(figures.indeterminate, 0);
    }
}
