//! Bad input against a live replica over QUIC: malformed, oversized, forged-sender, replayed and
//! wrongly signed frames, an unpinned key and a hello naming someone else. Each is refused (the
//! node logs it, and drops the link where the peer is clearly broken), and the cluster keeps
//! serving a legitimate client afterwards.

use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use quinn::{Connection, RecvStream, SendStream};
use quorate_impl::crypto::{Ed25519, Ed25519SecretKey, NodeId, Signer};
use quorate_impl::paxos::MsgOf;
use quorate_impl::trace::SendId;
use quorate_net::quic::config::to_hex;
use quorate_net::quic::frame::{encode, Frame, DEFAULT_MAX_FRAME};
use quorate_net::quic::link::read_frame;
use quorate_net::quic::{tls, Cluster};
use quorate_net::store::RedbDisk;
use quorate_spec::{Key, KvOp, KvStore, Transaction, TxId};
use tokio::sync::watch;

type Msg = MsgOf<Ed25519, KvStore>;

const CLIENT: NodeId = 3;
const ATTACKER: NodeId = 4;

/// Dials replica 0 as `id` holding `secret`, trusting `view` (the attacker's own cluster file).
async fn dial(
    view: &Cluster,
    id: NodeId,
    secret: &Ed25519SecretKey,
    claim: NodeId,
) -> Result<(Connection, SendStream, RecvStream), String> {
    let (client_tls, _) = tls::configs(Arc::new(view.clone()), secret, id)?;
    let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(client_tls).unwrap();
    let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(crypto)));
    let conn = endpoint
        .connect(view.addrs[&0], &tls::server_name(0))
        .unwrap()
        .await
        .map_err(|e| e.to_string())?;
    let mut send = conn.open_uni().await.map_err(|e| e.to_string())?;
    send.write_all(&encode::<()>(&Frame::Hello {
        id: claim,
        incarnation: 1,
    }))
    .await
    .map_err(|e| e.to_string())?;
    let mut recv = tokio::time::timeout(Duration::from_secs(3), conn.accept_uni())
        .await
        .map_err(|_| "no hello stream".to_string())?
        .map_err(|e| e.to_string())?;
    read_frame(&mut recv, DEFAULT_MAX_FRAME).await?;
    Ok((conn, send, recv))
}

async fn assert_dropped(conn: &Connection, what: &str) {
    let reason = tokio::time::timeout(Duration::from_secs(5), conn.closed())
        .await
        .unwrap_or_else(|_| panic!("{what}: the node kept the link open"));
    assert!(
        matches!(reason, quinn::ConnectionError::ApplicationClosed(_)),
        "{what}: {reason:?}"
    );
}

fn request(id: NodeId, signer_secret: Ed25519SecretKey, seq: u64) -> Msg {
    let tx = Transaction::new(
        TxId { client: id, seq },
        KvStore::APP_ID,
        vec![KvOp::Put(Key(1), seq as i64)],
    );
    quorate_impl::paxos::PaxosMsg::Request(Signer::new(id, signer_secret).sign(tx))
}

fn msg_frame(src: NodeId, seq: u64, msg: Msg) -> Vec<u8> {
    encode(&Frame::Msg {
        send_id: SendId {
            src,
            incarnation: 1,
            seq,
        },
        msg,
    })
}

#[test]
fn bad_input_is_refused_and_the_node_keeps_serving() {
    let text = cluster_text(3, 2);
    let cluster = Arc::new(Cluster::parse(&text).unwrap());
    let dir = temp_dir("quic-bad-input");
    let operations = 5;
    let heads = runtime().block_on(async {
        let (stop_tx, stop_rx) = watch::channel(false);
        let replicas = spawn_replicas(&cluster, &dir, &stop_rx);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let me = secret(ATTACKER);

        // Malformed body: link dropped.
        let (conn, mut send, _recv) = dial(&cluster, ATTACKER, &me, ATTACKER).await.unwrap();
        send.write_all(&[0, 0, 0, 3, 0xff, 0xff, 0xff])
            .await
            .unwrap();
        assert_dropped(&conn, "malformed").await;

        // Oversized length prefix: refused before allocating, link dropped.
        let (conn, mut send, _recv) = dial(&cluster, ATTACKER, &me, ATTACKER).await.unwrap();
        let huge = (DEFAULT_MAX_FRAME as u32 + 1).to_be_bytes();
        send.write_all(&huge).await.unwrap();
        assert_dropped(&conn, "oversized").await;

        // A frame claiming another sender's send id: link dropped.
        let (conn, mut send, _recv) = dial(&cluster, ATTACKER, &me, ATTACKER).await.unwrap();
        send.write_all(&msg_frame(0, 1, request(ATTACKER, me.clone(), 1)))
            .await
            .unwrap();
        assert_dropped(&conn, "forged sender").await;

        // A hello naming another member than the key's owner: refused.
        let wrong_hello = dial(&cluster, ATTACKER, &me, 1).await;
        assert!(
            wrong_hello.is_err(),
            "a hello claiming replica 1 was answered"
        );

        // A key the cluster file does not pin: never gets a hello.
        let stranger = secret(99);
        let own_view = text.replace(
            &to_hex(&secret(ATTACKER).public_key().0),
            &to_hex(&stranger.public_key().0),
        );
        let own_view = Cluster::parse(&own_view).unwrap();
        assert!(
            dial(&own_view, ATTACKER, &stranger, ATTACKER)
                .await
                .is_err(),
            "an unpinned key got through"
        );

        // A replayed frame is delivered once; a wrongly signed request is never ordered.
        let (conn, mut send, _recv) = dial(&cluster, ATTACKER, &me, ATTACKER).await.unwrap();
        let good = msg_frame(ATTACKER, 1, request(ATTACKER, me.clone(), 1));
        send.write_all(&good).await.unwrap();
        send.write_all(&good).await.unwrap();
        let forged = msg_frame(ATTACKER, 2, request(ATTACKER, secret(98), 2));
        send.write_all(&forged).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            conn.close_reason().is_none(),
            "well-formed frames keep the link"
        );

        // The cluster still serves a legitimate client.
        run_client(&cluster, CLIENT, operations).await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        stop_tx.send(true).unwrap();
        let mut heads = Vec::new();
        for replica in replicas {
            heads.push(replica.await.unwrap());
        }
        heads
    });
    // The client's transactions plus the attacker's one valid request, once.
    assert_eq!(heads[0].0, operations + 1, "{heads:?}");
    let trace = RedbDisk::<Storage>::open_path(&store_path(&dir, 0))
        .unwrap()
        .trace_lines()
        .unwrap()
        .concat();
    let replayed = format!("{{\"src\":{ATTACKER},\"incarnation\":1,\"seq\":1}}");
    assert_eq!(
        trace.matches(&replayed).count(),
        1,
        "the replay reached the actor"
    );
    let forged = format!("{{\"src\":{ATTACKER},\"incarnation\":1,\"seq\":2}}");
    assert_eq!(
        trace.matches(&forged).count(),
        1,
        "the forged request was delivered once"
    );
}
