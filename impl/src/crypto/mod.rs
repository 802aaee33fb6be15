//! Signatures and digests behind one trait, so every actor is written once and runs
//! symbolically in the model checker and with ed25519 in deployment (DESIGN §3).
//!
//! Unforgeability is structural: a [`Signed`] value has private fields and is built only by
//! [`Signer::sign`], and each actor is configured with the `Signer` for its own id alone.
//! Values that arrive from outside (the wire, a trace file) must still pass [`Signed::verify`].

pub(crate) mod bytes;
mod ed25519;
mod symbolic;

use std::collections::BTreeMap;
use std::fmt::{self, Debug, Display, Formatter};
use std::hash::{Hash, Hasher};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

pub use ed25519::{
    ed25519_keypair_from_seed, Ed25519, Ed25519PublicKey, Ed25519SecretKey, Ed25519Signature,
    Sha256Digest,
};
pub use symbolic::{Symbolic, SymbolicDigest};

/// Identity of a node (replica, client or environment actor) as the protocols see it.
pub type NodeId = u32;

/// Domain separation tag inside every signed message, so a quorate signature means nothing elsewhere.
pub const SIGNING_DOMAIN: &str = "quorate/v1";

/// The crypto parameter of every actor: symbolic in the model, ed25519 in deployment.
///
/// The many supertraits let actors and their configurations derive `Ord`, `Hash` and so on
/// without extra bounds; implementors are zero-sized markers.
pub trait Crypto:
    Clone + Debug + Default + PartialEq + Eq + PartialOrd + Ord + Hash + Send + Sync + 'static
{
    /// A signature over one value by one signer.
    type Sig: Clone + Debug + Eq + Ord + Hash + Serialize + DeserializeOwned + Send + Sync;
    /// The key a node signs with; never printed.
    type SecretKey: Clone + Debug + Send + Sync;
    /// The key others verify a node's signatures with.
    type PublicKey: Clone + Debug + Eq + Ord + Hash + Serialize + DeserializeOwned + Send + Sync;
    /// A collision-resistant fingerprint of a value (`D(m)` in the seed).
    type Digest: Clone + Debug + Eq + Ord + Hash + Serialize + DeserializeOwned + Send + Sync;

    /// Short name recorded in trace headers and reports.
    const NAME: &'static str;

    /// Signs `value` as `signer`; the signer id is bound into the signature.
    fn sign<T: Serialize>(key: &Self::SecretKey, signer: NodeId, value: &T) -> Self::Sig;

    /// Whether `sig` is `signer`'s signature on `value` under public key `key`.
    fn verify<T: Serialize>(
        key: &Self::PublicKey,
        signer: NodeId,
        value: &T,
        sig: &Self::Sig,
    ) -> bool;

    /// The digest of `value`'s canonical encoding.
    fn digest<T: Serialize>(value: &T) -> Self::Digest;

    /// Checks that `key` is acceptable as node `id`'s public key (called by [`Keyring::insert`]).
    fn check_public_key(id: NodeId, key: &Self::PublicKey) -> Result<(), KeyError>;
}

/// The canonical encoding of a value: postcard bytes.
///
/// Canonical because state and message types use only `BTree*` and `Vec`, whose serde
/// encodings do not depend on insertion history or hasher seeds.
///
/// # Panics
/// If the value cannot be encoded by postcard (unknown-length sequences, `serde(flatten)`);
/// that is a bug in the type, not a run-time condition.
pub fn canonical_bytes<T: Serialize>(v: &T) -> Vec<u8> {
    postcard::to_allocvec(v)
        .expect("type must have a postcard encoding (no flatten, known lengths)")
}

/// SHA-256 of [`canonical_bytes`]: the one place digests are computed (ed25519 mode and traces).
///
/// # Panics
/// As [`canonical_bytes`].
pub fn sha256_canonical<T: Serialize>(v: &T) -> [u8; 32] {
    // Stream the encoding into the hasher: state digests are taken every step, and the
    // intermediate buffer would double the memory traffic.
    postcard::serialize_with_flavor(v, HashFlavor(Sha256::new()))
        .expect("type must have a postcard encoding (no flatten, known lengths)")
}

/// A postcard output flavor that feeds bytes straight into SHA-256.
struct HashFlavor(Sha256);

impl postcard::ser_flavors::Flavor for HashFlavor {
    type Output = [u8; 32];

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.update(data);
        Ok(())
    }

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.update([data]);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<[u8; 32]> {
        Ok(self.0.finalize().into())
    }
}

/// A value with its signer's signature; only [`Signer::sign`] creates one.
///
/// Fields are private so actor code cannot attach another node's id to a value. Deserialising
/// is allowed, because messages cross the wire, so receivers must call [`Signed::verify`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Signed<T, C: Crypto> {
    value: T,
    signer: NodeId,
    sig: C::Sig,
}

impl<T, C: Crypto> Signed<T, C> {
    /// The signed value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The node that signed it.
    pub fn signer(&self) -> NodeId {
        self.signer
    }

    /// The signature itself (for certificates that are re-encoded).
    pub fn sig(&self) -> &C::Sig {
        &self.sig
    }

    /// Drops the signature and keeps the value.
    pub fn into_value(self) -> T {
        self.value
    }
}

impl<T: Serialize, C: Crypto> Signed<T, C> {
    /// Whether the signature is valid for the recorded signer; an unknown signer is invalid.
    pub fn verify(&self, keys: &Keyring<C>) -> bool {
        match keys.get(self.signer) {
            Some(key) => C::verify(key, self.signer, &self.value, &self.sig),
            None => false,
        }
    }
}

/// The signing capability of one node: its id and its secret key.
///
/// Configuration code builds one per actor and hands each actor its own, so actor code cannot
/// sign as anyone else. Equality, ordering and hashing look at the id only, and `Debug`
/// never prints key material.
#[derive(Clone)]
pub struct Signer<C: Crypto> {
    id: NodeId,
    secret: C::SecretKey,
}

impl<C: Crypto> Signer<C> {
    /// A signer for node `id` holding `secret` (configuration code only).
    pub fn new(id: NodeId, secret: C::SecretKey) -> Self {
        Signer { id, secret }
    }

    /// The id this signer signs as.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Signs `value` as this signer's node.
    pub fn sign<T: Serialize>(&self, value: T) -> Signed<T, C> {
        let sig = C::sign(&self.secret, self.id, &value);
        Signed {
            value,
            signer: self.id,
            sig,
        }
    }
}

impl Signer<Symbolic> {
    /// The symbolic signer for node `id` (its secret key is its id).
    pub fn symbolic(id: NodeId) -> Self {
        Signer::new(id, id)
    }
}

impl<C: Crypto> Debug for Signer<C> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "Signer<{}>({})", C::NAME, self.id)
    }
}

impl<C: Crypto> PartialEq for Signer<C> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl<C: Crypto> Eq for Signer<C> {}

impl<C: Crypto> PartialOrd for Signer<C> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<C: Crypto> Ord for Signer<C> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.id.cmp(&other.id)
    }
}

impl<C: Crypto> Hash for Signer<C> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

/// Every member's public key, by node id; what [`Signed::verify`] checks against.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Keyring<C: Crypto> {
    keys: BTreeMap<NodeId, C::PublicKey>,
}

impl<C: Crypto> Default for Keyring<C> {
    fn default() -> Self {
        Keyring {
            keys: BTreeMap::new(),
        }
    }
}

impl<C: Crypto> Keyring<C> {
    /// An empty keyring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `id`'s public key, refusing keys the scheme rejects, a second key for the
    /// same id, and one key shared by two ids (either would let one node sign as another).
    pub fn insert(&mut self, id: NodeId, key: C::PublicKey) -> Result<(), KeyError> {
        C::check_public_key(id, &key)?;
        if self.keys.contains_key(&id) {
            return Err(KeyError::Duplicate { id });
        }
        if let Some((&other, _)) = self.keys.iter().find(|(_, k)| **k == key) {
            return Err(KeyError::Shared { id, other });
        }
        self.keys.insert(id, key);
        Ok(())
    }

    /// `id`'s public key, if `id` is a member.
    pub fn get(&self, id: NodeId) -> Option<&C::PublicKey> {
        self.keys.get(&id)
    }

    /// Whether `id` is a member.
    pub fn contains(&self, id: NodeId) -> bool {
        self.keys.contains_key(&id)
    }

    /// The member ids in ascending order.
    pub fn ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.keys.keys().copied()
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl Keyring<Symbolic> {
    /// The symbolic keyring of `ids` (each public key is the id itself).
    ///
    /// # Panics
    /// If an id repeats: that is a configuration bug.
    pub fn symbolic(ids: impl IntoIterator<Item = NodeId>) -> Self {
        let mut ring = Keyring::new();
        for id in ids {
            if let Err(e) = ring.insert(id, id) {
                panic!("symbolic keyring: {e}");
            }
        }
        ring
    }
}

/// Why a public key was refused by [`Keyring::insert`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// The bytes do not decode to a curve point.
    Malformed {
        /// The node the key was offered for.
        id: NodeId,
    },
    /// The key has small order, so signatures under it prove nothing (and batch checks disagree).
    Weak {
        /// The node the key was offered for.
        id: NodeId,
    },
    /// A symbolic public key must be the node's own id.
    SymbolicMismatch {
        /// The node the key was offered for.
        id: NodeId,
        /// The key offered.
        key: NodeId,
    },
    /// The id already has a key.
    Duplicate {
        /// The node registered twice.
        id: NodeId,
    },
    /// The same key is already registered to another node.
    Shared {
        /// The node the key was offered for.
        id: NodeId,
        /// The node that already holds it.
        other: NodeId,
    },
}

impl Display for KeyError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Malformed { id } => write!(
                f,
                "public key of node {id} is malformed: 32 bytes must encode an ed25519 curve point"
            ),
            KeyError::Weak { id } => write!(
                f,
                "public key of node {id} is weak (small order): weak keys are refused at registration"
            ),
            KeyError::SymbolicMismatch { id, key } => write!(
                f,
                "symbolic public key {key} offered for node {id}: a symbolic key must equal its node id"
            ),
            KeyError::Duplicate { id } => write!(
                f,
                "node {id} already has a public key: each node is registered once"
            ),
            KeyError::Shared { id, other } => write!(
                f,
                "public key of node {id} is already registered to node {other}: keys must be distinct"
            ),
        }
    }
}

impl std::error::Error for KeyError {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ed_ring(n: u32) -> (Vec<Signer<Ed25519>>, Keyring<Ed25519>) {
        let mut signers = Vec::new();
        let mut ring = Keyring::new();
        for id in 0..n {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&id.to_le_bytes());
            seed[31] = 0x5a;
            let (sk, pk) = ed25519_keypair_from_seed(seed);
            ring.insert(id, pk).unwrap();
            signers.push(Signer::new(id, sk));
        }
        (signers, ring)
    }

    /// Rewrites the signer field through serde, the only way around the private fields.
    fn reattribute<T, C>(signed: &Signed<T, C>, new_signer: NodeId) -> Signed<T, C>
    where
        T: Serialize + DeserializeOwned,
        C: Crypto,
    {
        let (value, _, sig): (T, NodeId, C::Sig) =
            postcard::from_bytes(&canonical_bytes(signed)).unwrap();
        postcard::from_bytes(&canonical_bytes(&(value, new_signer, sig))).unwrap()
    }

    #[test]
    fn honest_signing_verifies_symbolically() {
        let ring = Keyring::symbolic(0..4);
        let signed = Signer::symbolic(2).sign((7u64, "prepare".to_string()));
        assert!(signed.verify(&ring));
        assert_eq!(signed.signer(), 2);
        assert_eq!(signed.value(), &(7, "prepare".to_string()));
    }

    #[test]
    fn honest_signing_verifies_with_ed25519() {
        let (signers, ring) = ed_ring(4);
        let signed = signers[3].sign(vec![1u8, 2, 3]);
        assert!(signed.verify(&ring));
        assert_eq!(signed.into_value(), vec![1, 2, 3]);
    }

    #[test]
    fn ed25519_signature_does_not_verify_for_another_signer() {
        let (signers, ring) = ed_ring(4);
        let signed = signers[1].sign(42u32);
        // Another node's key against the original signer id and message.
        let other_key = ring.get(2).unwrap();
        assert!(!Ed25519::verify(other_key, 1, &42u32, signed.sig()));
        // The signer id is inside the signed message, so re-attribution fails too.
        assert!(!reattribute(&signed, 2).verify(&ring));
        assert!(reattribute(&signed, 1).verify(&ring));
    }

    #[test]
    fn symbolic_reattribution_to_a_non_member_is_refused() {
        let ring = Keyring::symbolic(0..4);
        let signed = Signer::symbolic(1).sign(42u32);
        assert!(!reattribute(&signed, 9).verify(&ring));
    }

    #[test]
    fn symbolic_reattribution_to_a_member_is_not_detected() {
        // Documents the limit of symbolic mode: there is no signature to check, so the only
        // protection is that actor code cannot build a `Signed` for another id. Deserialising
        // symbolic values happens only when replaying the model's own traces.
        let ring = Keyring::symbolic(0..4);
        let forged = reattribute(&Signer::symbolic(1).sign(42u32), 2);
        assert!(forged.verify(&ring));
    }

    #[test]
    fn tampered_value_fails_ed25519_verify() {
        let (signers, ring) = ed_ring(2);
        let signed = signers[0].sign((5u64, "commit".to_string()));
        let (_, signer, sig): ((u64, String), NodeId, Ed25519Signature) =
            postcard::from_bytes(&canonical_bytes(&signed)).unwrap();
        let tampered: Signed<(u64, String), Ed25519> = postcard::from_bytes(&canonical_bytes(&(
            (6u64, "commit".to_string()),
            signer,
            sig,
        )))
        .unwrap();
        assert!(!tampered.verify(&ring));
    }

    #[test]
    fn unknown_signer_fails_verify() {
        let (signers, _) = ed_ring(3);
        let (_, ring) = ed_ring(2);
        assert!(!signers[2].sign(1u8).verify(&ring));
    }

    #[test]
    fn weak_key_is_refused() {
        // The identity point (y = 1) has order 1.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut ring = Keyring::<Ed25519>::new();
        let err = ring.insert(4, Ed25519PublicKey(identity)).unwrap_err();
        assert_eq!(err, KeyError::Weak { id: 4 });
        assert!(err.to_string().contains("node 4"));
        assert!(ring.is_empty());
    }

    #[test]
    fn malformed_key_is_refused() {
        let mut ring = Keyring::<Ed25519>::new();
        // Not every y has a matching x: find one deterministically.
        let bad = (2u8..=255)
            .map(|y| {
                let mut b = [0u8; 32];
                b[0] = y;
                b
            })
            .find(|b| ed25519_dalek::VerifyingKey::from_bytes(b).is_err())
            .expect("some small y is off the curve");
        assert_eq!(
            ring.insert(0, Ed25519PublicKey(bad)),
            Err(KeyError::Malformed { id: 0 })
        );
    }

    #[test]
    fn duplicate_and_shared_keys_are_refused() {
        let (_, pk0) = ed25519_keypair_from_seed([1; 32]);
        let (_, pk1) = ed25519_keypair_from_seed([2; 32]);
        let mut ring = Keyring::<Ed25519>::new();
        ring.insert(0, pk0.clone()).unwrap();
        assert_eq!(ring.insert(0, pk1), Err(KeyError::Duplicate { id: 0 }));
        assert_eq!(
            ring.insert(1, pk0),
            Err(KeyError::Shared { id: 1, other: 0 })
        );
        let mut sym = Keyring::<Symbolic>::new();
        assert_eq!(
            sym.insert(3, 4),
            Err(KeyError::SymbolicMismatch { id: 3, key: 4 })
        );
    }

    #[test]
    fn signer_debug_hides_the_secret() {
        let (sk, _) = ed25519_keypair_from_seed([9; 32]);
        let text = format!("{:?} {:?}", Signer::<Ed25519>::new(7, sk.clone()), sk);
        assert_eq!(text, "Signer<ed25519>(7) Ed25519SecretKey(..)");
    }

    #[test]
    fn signers_compare_by_id_only() {
        let (a, _) = ed25519_keypair_from_seed([1; 32]);
        let (b, _) = ed25519_keypair_from_seed([2; 32]);
        assert_eq!(Signer::<Ed25519>::new(1, a), Signer::new(1, b.clone()));
        assert!(Signer::<Ed25519>::new(1, b.clone()) < Signer::new(2, b));
    }

    #[test]
    fn streamed_digest_equals_digest_of_encoding() {
        let v = (
            3u8,
            vec!["a".to_string(), "bc".to_string()],
            BTreeMap::from([(1u32, 2u64)]),
        );
        let expected: [u8; 32] = Sha256::digest(canonical_bytes(&v)).into();
        assert_eq!(sha256_canonical(&v), expected);
    }

    fn roundtrip_postcard<T: Serialize + DeserializeOwned>(v: &T) -> T {
        postcard::from_bytes(&canonical_bytes(v)).unwrap()
    }

    fn roundtrip_json<T: Serialize + DeserializeOwned>(v: &T) -> T {
        serde_json::from_str(&serde_json::to_string(v).unwrap()).unwrap()
    }

    proptest! {
        #[test]
        fn symbolic_and_ed25519_agree_on_honest_signing(
            signer in 0u32..4,
            value in (any::<u16>(), proptest::collection::vec(any::<u8>(), 0..8), "[a-z]{0,6}"),
        ) {
            let (signers, ring) = ed_ring(4);
            let sym = Signer::symbolic(signer).sign(value.clone());
            let ed = signers[signer as usize].sign(value.clone());
            prop_assert!(sym.verify(&Keyring::symbolic(0..4)));
            prop_assert!(ed.verify(&ring));
            prop_assert_eq!(sym.value(), ed.value());
        }

        #[test]
        fn digests_are_stable_and_signed_values_roundtrip(
            signer in 0u32..4,
            value in (any::<u64>(), proptest::collection::vec(any::<i32>(), 0..6)),
        ) {
            prop_assert_eq!(Symbolic::digest(&value), Symbolic::digest(&value.clone()));
            prop_assert_eq!(Ed25519::digest(&value), Ed25519::digest(&value.clone()));
            prop_assert_eq!(sha256_canonical(&value), Ed25519::digest(&value).0);

            let sym = Signer::symbolic(signer).sign(value.clone());
            prop_assert_eq!(&roundtrip_postcard(&sym), &sym);
            prop_assert_eq!(&roundtrip_json(&sym), &sym);

            let (signers, ring) = ed_ring(4);
            let ed = signers[signer as usize].sign(value);
            let back = roundtrip_postcard(&ed);
            prop_assert!(back.verify(&ring));
            prop_assert_eq!(&back, &ed);
            prop_assert_eq!(&roundtrip_json(&ed), &ed);
        }

        #[test]
        fn different_values_have_different_digests(a in any::<(u32, String)>(), b in any::<(u32, String)>()) {
            prop_assume!(a != b);
            prop_assert_ne!(Symbolic::digest(&a), Symbolic::digest(&b));
            prop_assert_ne!(Ed25519::digest(&a), Ed25519::digest(&b));
        }
    }
}
