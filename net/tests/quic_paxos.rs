//! Multi-Paxos n=3 over real QUIC on loopback, every member a task of one single-threaded
//! runtime: a client's signed transactions all complete, and the replicas' exported ledgers
//! agree and verify on reopening.

use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use quorate_net::host::Disk;
use quorate_net::quic::Cluster;
use quorate_net::store::RedbDisk;
use tokio::sync::watch;

#[test]
fn paxos_over_quic_completes_signed_transactions_and_ledgers_agree() {
    let cluster = Arc::new(Cluster::parse(&cluster_text(3, 1)).unwrap());
    let dir = temp_dir("quic-paxos");
    let operations = 30;
    let heads = runtime().block_on(async {
        let (stop_tx, stop_rx) = watch::channel(false);
        let replicas = spawn_replicas(&cluster, &dir, &stop_rx);
        run_client(&cluster, 3, operations).await;
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
        let mut disk = RedbDisk::<Storage>::open_path(&store_path(&dir, id)).unwrap();
        disk.open().unwrap();
        assert_eq!(disk.ledger_head(), heads[id as usize]);
        assert!(disk.trace_lines().unwrap().len() > 1, "tracing was on");
    }
    let common = heads.iter().map(|h| h.0).min().unwrap();
    let at_common: Vec<_> = (0..3)
        .map(|id| {
            let disk = RedbDisk::<Storage>::open_path(&store_path(&dir, id)).unwrap();
            disk.head_at(common).unwrap()
        })
        .collect();
    assert!(
        at_common.iter().all(|h| *h == at_common[0]),
        "{at_common:?}"
    );
}
