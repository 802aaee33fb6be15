//! Multi-Paxos n=3 over real QUIC on loopback, every member a task of one single-threaded
//! runtime: a client's signed transactions all complete, and the replicas' exported ledgers
//! agree. Also: a member whose key is not pinned never gets to talk.

use std::ops::ControlFlow;
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

fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn secret(id: NodeId) -> Ed25519SecretKey {
    ed25519_keypair_from_seed([id as u8 + 1; 32]).0
}

fn cluster_file(replicas: u32, clients: u32) -> String {
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

#[test]
fn paxos_over_quic_completes_signed_transactions_and_ledgers_agree() {
    let cluster = Arc::new(Cluster::parse(&cluster_file(3, 1)).unwrap());
    let dir = std::env::temp_dir().join(format!("quorate-quic-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let deployment = PaxosDeployment::new(3);
    let keyring = Arc::new(cluster.keyring.clone());
    let operations = 30;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let heads = runtime.block_on(async {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut replicas = Vec::new();
        for id in 0..3 {
            let actor: PaxosKv<Ed25519> =
                deployment.replica::<Ed25519, Honest>(id, keyring.clone());
            let disk = RedbDisk::open_path(&dir.join(format!("{id}.redb"))).unwrap();
            let cluster = cluster.clone();
            let mut stop = stop_rx.clone();
            replicas.push(tokio::spawn(async move {
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
            }));
        }
        let client: PaxosKv<Ed25519> =
            deployment.client::<Ed25519, Honest>(Signer::new(3, secret(3)), operations);
        let mut done = 0;
        let client_run = run_member(
            client,
            3,
            cluster.clone(),
            secret(3),
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
        tokio::time::timeout(Duration::from_secs(60), client_run)
            .await
            .expect("the client finishes within a minute")
            .unwrap();
        assert_eq!(done, operations);
        // Let the followers learn the last decisions, then stop everyone.
        tokio::time::sleep(Duration::from_millis(600)).await;
        stop_tx.send(true).unwrap();
        let mut heads = Vec::new();
        for replica in replicas {
            heads.push(replica.await.unwrap());
        }
        heads
    });
    let leader = heads.iter().max().unwrap();
    assert_eq!(leader.0, operations, "{heads:?}");
    for head in &heads {
        assert!(head.0 > 0, "every replica exported some ledger: {heads:?}");
    }
    // Reopening a store verifies its chain; replicas at equal height have equal heads.
    for id in 0..3 {
        let mut disk =
            RedbDisk::<<PaxosKv<Ed25519> as stateright::actor::Actor>::Storage>::open_path(
                &dir.join(format!("{id}.redb")),
            )
            .unwrap();
        quorate_net::host::Disk::open(&mut disk).unwrap();
        assert_eq!(disk.ledger_head(), heads[id as usize]);
        assert!(disk.trace_lines().unwrap().len() > 1, "tracing was on");
    }
    for a in &heads {
        for b in &heads {
            if a.0 == b.0 {
                assert_eq!(a.1, b.1, "equal heights, different heads: {heads:?}");
            }
        }
    }
}
