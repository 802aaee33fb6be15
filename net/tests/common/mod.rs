//! Shared by the QUIC tests: a loopback cluster of in-process members on one thread.
#![allow(dead_code)]

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use quorate_impl::crypto::{ed25519_keypair_from_seed, Ed25519, Ed25519SecretKey, NodeId, Signer};
use quorate_impl::paxos::Honest;
use quorate_net::protocols::paxos::{PaxosDeployment, PaxosKv};
use quorate_net::protocols::Observed;
use quorate_net::quic::config::to_hex;
use quorate_net::quic::{run_member, Cluster, EphemeralDisk, MemberOptions, Moment};
use quorate_net::store::RedbDisk;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub type Storage = <PaxosKv<Ed25519> as stateright::actor::Actor>::Storage;

pub fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn secret(id: NodeId) -> Ed25519SecretKey {
    ed25519_keypair_from_seed([id as u8 + 1; 32]).0
}

pub fn cluster_text(replicas: u32, clients: u32) -> String {
    let mut text = "protocol = \"paxos\"\n".to_string();
    for id in 0..replicas {
        let pk = to_hex(&secret(id).public_key().0);
        text += &format!(
            "[[node]]\nid = {id}\naddr = \"127.0.0.1:{}\"\npublic_key = \"{pk}\"\n",
            free_port()
        );
    }
    for id in replicas..replicas + clients {
        let pk = to_hex(&secret(id).public_key().0);
        text += &format!("[[client]]\nid = {id}\npublic_key = \"{pk}\"\n");
    }
    text
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = crate::binary::scratch(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn store_path(dir: &Path, id: NodeId) -> PathBuf {
    dir.join(format!("{id}.redb"))
}

/// Starts replicas `0..n` with tracing on; each exports its ledger and returns its final head.
pub fn spawn_replicas(
    cluster: &Arc<Cluster>,
    dir: &Path,
    stop: &watch::Receiver<bool>,
) -> Vec<JoinHandle<(u64, [u8; 32])>> {
    let deployment = PaxosDeployment::new(cluster.replicas());
    let keyring = Arc::new(cluster.keyring.clone());
    (0..cluster.replicas() as NodeId)
        .map(|id| {
            let actor: PaxosKv<Ed25519> =
                deployment.replica::<Ed25519, Honest>(id, keyring.clone());
            let disk = RedbDisk::open_path(&store_path(dir, id)).unwrap();
            let cluster = cluster.clone();
            let mut stop = stop.clone();
            tokio::spawn(async move {
                let mut head = (0, [0; 32]);
                run_member(
                    actor,
                    id,
                    cluster,
                    secret(id),
                    disk,
                    MemberOptions {
                        trace: true,
                        ..MemberOptions::default()
                    },
                    |host, _| {
                        let exported = host.disk().ledger_head().0;
                        if let Some(c) = PaxosKv::<Ed25519>::committed(host.state(), exported) {
                            host.disk_mut().export_ledger(&c).unwrap();
                        }
                        head = host.disk().ledger_head();
                        ControlFlow::Continue(())
                    },
                    async move {
                        let _ = stop.wait_for(|s| *s).await;
                    },
                )
                .await
                .unwrap();
                head
            })
        })
        .collect()
}

/// Runs client `id` until its `operations` complete (panics after a minute).
pub async fn run_client(cluster: &Arc<Cluster>, id: NodeId, operations: u64) {
    let deployment = PaxosDeployment::new(cluster.replicas());
    let client: PaxosKv<Ed25519> =
        deployment.client::<Ed25519, Honest>(Signer::new(id, secret(id)), operations);
    let mut done = 0;
    let run = run_member(
        client,
        id,
        cluster.clone(),
        secret(id),
        EphemeralDisk,
        MemberOptions::default(),
        |host, moment| {
            done = PaxosKv::<Ed25519>::completed(host.state()).unwrap();
            if moment == Moment::Step && done == operations {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
        std::future::pending(),
    );
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the client finishes within a minute")
        .unwrap();
    assert_eq!(done, operations);
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
