//! The cluster file (TOML) and key files: who is in the cluster, where replicas listen, and the
//! ed25519 public key that pins each identity. Every bad value is refused with its name and rule.
//!
//! ```toml
//! protocol = "paxos"
//! [[node]]
//! id = 0
//! addr = "127.0.0.1:7100"
//! public_key = "<64 hex digits>"
//! [[client]]
//! id = 3
//! public_key = "<64 hex digits>"
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use quorate_impl::crypto::{
    ed25519_keypair_from_seed, Ed25519, Ed25519PublicKey, Ed25519SecretKey, Keyring, NodeId,
};
use serde::{Deserialize, Serialize};

/// Lower-case hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses exactly 32 bytes of hex (64 digits).
pub fn from_hex32(what: &str, text: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    if text.len() != 64 || !text.is_ascii() {
        return Err(format!(
            "{what}: expected 64 hex digits (32 bytes), got {} characters",
            text.len()
        ));
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16)
            .map_err(|_| format!("{what}: {:?} is not hex", &text[2 * i..2 * i + 2]))?;
    }
    Ok(out)
}

/// One entry of the cluster file as written.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberEntry {
    /// The member's id.
    pub id: NodeId,
    /// Where a replica listens (clients have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    /// The member's ed25519 public key, hex.
    pub public_key: String,
}

/// The cluster file as written.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFile {
    /// `paxos` (and `pbft` once it is hosted).
    pub protocol: String,
    /// Replicas, ids `0..n`.
    pub node: Vec<MemberEntry>,
    /// Clients, ids `n..`.
    #[serde(default)]
    pub client: Vec<MemberEntry>,
}

/// A validated cluster.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// The protocol name.
    pub protocol: String,
    /// Replica addresses, by id `0..n`.
    pub addrs: BTreeMap<NodeId, SocketAddr>,
    /// Every member's key (replicas and clients), checked: no weak or malformed key gets in.
    pub keyring: Keyring<Ed25519>,
}

impl Cluster {
    /// Number of replicas.
    pub fn replicas(&self) -> usize {
        self.addrs.len()
    }

    /// Reads and validates a cluster file.
    pub fn load(path: &Path) -> Result<Cluster, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cluster file {}: {e}", path.display()))?;
        Cluster::parse(&text).map_err(|e| format!("cluster file {}: {e}", path.display()))
    }

    /// Validates a cluster file's text.
    pub fn parse(text: &str) -> Result<Cluster, String> {
        let file: ClusterFile = toml::from_str(text).map_err(|e| e.to_string())?;
        if !crate::protocols::HOSTED.contains(&file.protocol.as_str()) {
            return Err(format!(
                "protocol = {:?}: the hosted protocols are {:?}",
                file.protocol,
                crate::protocols::HOSTED
            ));
        }
        if file.node.is_empty() {
            return Err("no [[node]] entries: a cluster needs at least one replica".into());
        }
        let mut keyring = Keyring::new();
        let mut addrs = BTreeMap::new();
        let replicas = file.node.len() as NodeId;
        for (index, entry) in file.node.iter().enumerate() {
            if entry.id != index as NodeId {
                return Err(format!(
                    "node id {} at position {index}: replica ids must be 0, 1, 2, ... in order",
                    entry.id
                ));
            }
            let addr = entry
                .addr
                .as_deref()
                .ok_or_else(|| format!("node {}: addr is required for a replica", entry.id))?;
            let addr: SocketAddr = addr.parse().map_err(|e| {
                format!(
                    "node {} addr {addr:?}: not a socket address ({e})",
                    entry.id
                )
            })?;
            addrs.insert(entry.id, addr);
            insert_key(&mut keyring, entry)?;
        }
        for (index, entry) in file.client.iter().enumerate() {
            let expected = replicas + index as NodeId;
            if entry.id != expected {
                return Err(format!(
                    "client id {}: client ids must follow the replicas in order ({expected} here)",
                    entry.id
                ));
            }
            if entry.addr.is_some() {
                return Err(format!(
                    "client {}: clients do not listen, remove addr",
                    entry.id
                ));
            }
            insert_key(&mut keyring, entry)?;
        }
        Ok(Cluster {
            protocol: file.protocol,
            addrs,
            keyring,
        })
    }

    /// The id a public key belongs to, if pinned.
    pub fn id_of(&self, key: &[u8; 32]) -> Option<NodeId> {
        self.keyring
            .ids()
            .find(|&id| self.keyring.get(id).is_some_and(|k| &k.0 == key))
    }
}

fn insert_key(keyring: &mut Keyring<Ed25519>, entry: &MemberEntry) -> Result<(), String> {
    let bytes = from_hex32(
        &format!("member {} public_key", entry.id),
        &entry.public_key,
    )?;
    keyring
        .insert(entry.id, Ed25519PublicKey(bytes))
        .map_err(|e| format!("member {} public_key: {e}", entry.id))
}

/// Reads a secret key file (64 hex digits of the ed25519 seed).
pub fn load_secret(path: &Path) -> Result<Ed25519SecretKey, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("key file {}: {e}", path.display()))?;
    let seed = from_hex32(&format!("key file {}", path.display()), &text)?;
    Ok(ed25519_keypair_from_seed(seed).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> String {
        to_hex(&ed25519_keypair_from_seed([seed; 32]).1 .0)
    }

    fn file(nodes: &[(u32, &str, String)], clients: &[(u32, String)]) -> String {
        let mut text = "protocol = \"paxos\"\n".to_string();
        for (id, addr, k) in nodes {
            text += &format!("[[node]]\nid = {id}\naddr = \"{addr}\"\npublic_key = \"{k}\"\n");
        }
        for (id, k) in clients {
            text += &format!("[[client]]\nid = {id}\npublic_key = \"{k}\"\n");
        }
        text
    }

    #[test]
    fn a_good_file_loads() {
        let text = file(
            &[(0, "127.0.0.1:1", key(1)), (1, "127.0.0.1:2", key(2))],
            &[(2, key(3))],
        );
        let cluster = Cluster::parse(&text).unwrap();
        assert_eq!(cluster.replicas(), 2);
        assert_eq!(cluster.keyring.len(), 3);
        let pk = ed25519_keypair_from_seed([3; 32]).1;
        assert_eq!(cluster.id_of(&pk.0), Some(2));
    }

    #[test]
    fn bad_values_are_named_with_their_rule() {
        let cases = [
            (file(&[(1, "127.0.0.1:1", key(1))], &[]), "must be 0, 1, 2"),
            (file(&[(0, "nowhere", key(1))], &[]), "not a socket address"),
            (
                file(&[(0, "127.0.0.1:1", "abc".into())], &[]),
                "64 hex digits",
            ),
            (
                file(&[(0, "127.0.0.1:1", key(1))], &[(5, key(2))]),
                "follow the replicas",
            ),
            (
                file(
                    &[(0, "127.0.0.1:1", key(1)), (1, "127.0.0.1:2", key(1))],
                    &[],
                ),
                "already registered",
            ),
            // The identity point is a weak (small-order) key.
            (
                file(&[(0, "127.0.0.1:1", format!("01{}", "0".repeat(62)))], &[]),
                "weak",
            ),
            (
                "protocol = \"raft\"\n[[node]]\nid=0\naddr=\"127.0.0.1:1\"\npublic_key=\"00\"\n"
                    .into(),
                "the hosted protocols are",
            ),
        ];
        for (text, rule) in cases {
            let error = Cluster::parse(&text).unwrap_err();
            assert!(error.contains(rule), "expected {rule:?} in {error:?}");
        }
    }
}
