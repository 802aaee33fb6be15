//! Ed25519 crypto for deployment and for replaying deployed traces.
//!
//! The signed message is the canonical encoding of `(SIGNING_DOMAIN, signer, value)`, so a
//! signature cannot be moved to another signer or reused outside quorate. Verification uses
//! `verify_strict`, and weak keys are refused at registration, so validity is one
//! deterministic predicate on every replica (research/peers-limits-quic.md §2.2).

use std::fmt::{self, Debug, Formatter};

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::bytes::{self, short_hex};
use super::{canonical_bytes, sha256_canonical, Crypto, KeyError, NodeId, SIGNING_DOMAIN};

/// The ed25519 crypto parameter (deployment).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ed25519;

/// An ed25519 signature (64 bytes).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ed25519Signature(#[serde(with = "bytes::fixed")] pub [u8; 64]);

/// An ed25519 public key in its 32-byte compressed form; checked when added to a keyring.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ed25519PublicKey(#[serde(with = "bytes::fixed")] pub [u8; 32]);

/// An ed25519 signing key; `Debug` never shows it.
#[derive(Clone)]
pub struct Ed25519SecretKey(SigningKey);

/// A SHA-256 digest of a canonical encoding.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Sha256Digest(#[serde(with = "bytes::fixed")] pub [u8; 32]);

impl Debug for Ed25519Signature {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "Sig({})", short_hex(&self.0))
    }
}

impl Debug for Ed25519PublicKey {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "Pk({})", short_hex(&self.0))
    }
}

impl Debug for Ed25519SecretKey {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("Ed25519SecretKey(..)")
    }
}

impl Debug for Sha256Digest {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "D({})", short_hex(&self.0))
    }
}

impl Ed25519SecretKey {
    /// The secret key derived from a 32-byte seed (RFC 8032 private key).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Ed25519SecretKey(SigningKey::from_bytes(&seed))
    }

    /// The matching public key.
    pub fn public_key(&self) -> Ed25519PublicKey {
        Ed25519PublicKey(self.0.verifying_key().to_bytes())
    }

    /// The 32-byte seed, for writing a key file; handle with care.
    pub fn to_seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }
}

/// The key pair for `seed` (tests, and `quorate keygen` with a seed from the OS).
pub fn ed25519_keypair_from_seed(seed: [u8; 32]) -> (Ed25519SecretKey, Ed25519PublicKey) {
    let secret = Ed25519SecretKey::from_seed(seed);
    let public = secret.public_key();
    (secret, public)
}

/// The exact bytes an ed25519 signature covers.
fn signed_message<T: Serialize>(signer: NodeId, value: &T) -> Vec<u8> {
    canonical_bytes(&(SIGNING_DOMAIN, signer, value))
}

impl Crypto for Ed25519 {
    type Sig = Ed25519Signature;
    type SecretKey = Ed25519SecretKey;
    type PublicKey = Ed25519PublicKey;
    type Digest = Sha256Digest;

    const NAME: &'static str = "ed25519";

    fn sign<T: Serialize>(key: &Ed25519SecretKey, signer: NodeId, value: &T) -> Ed25519Signature {
        Ed25519Signature(key.0.sign(&signed_message(signer, value)).to_bytes())
    }

    fn verify<T: Serialize>(
        key: &Ed25519PublicKey,
        signer: NodeId,
        value: &T,
        sig: &Ed25519Signature,
    ) -> bool {
        // Decompressing here costs ~4 µs against ~35 µs for the check itself; a malformed
        // key cannot be in a keyring, but verify must still be total.
        let Ok(key) = VerifyingKey::from_bytes(&key.0) else {
            return false;
        };
        key.verify_strict(
            &signed_message(signer, value),
            &Signature::from_bytes(&sig.0),
        )
        .is_ok()
    }

    fn digest<T: Serialize>(value: &T) -> Sha256Digest {
        Sha256Digest(sha256_canonical(value))
    }

    fn check_public_key(id: NodeId, key: &Ed25519PublicKey) -> Result<(), KeyError> {
        let key = VerifyingKey::from_bytes(&key.0).map_err(|_| KeyError::Malformed { id })?;
        if key.is_weak() {
            return Err(KeyError::Weak { id });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keypair_from_seed_is_deterministic_and_consistent() {
        let (sk, pk) = ed25519_keypair_from_seed([3; 32]);
        let (_, pk_again) = ed25519_keypair_from_seed([3; 32]);
        assert_eq!(pk, pk_again);
        assert_eq!(sk.to_seed(), [3; 32]);
        assert!(Ed25519::check_public_key(0, &pk).is_ok());
    }

    #[test]
    fn random_keys_from_the_os_sign_and_verify() {
        let seed = SigningKey::generate(&mut rand_core::OsRng).to_bytes();
        let (sk, pk) = ed25519_keypair_from_seed(seed);
        assert!(Ed25519::check_public_key(7, &pk).is_ok());
        assert!(Ed25519::verify(
            &pk,
            7,
            &"hello",
            &Ed25519::sign(&sk, 7, &"hello")
        ));
    }

    #[test]
    fn signature_is_bound_to_the_domain_tag() {
        let (sk, pk) = ed25519_keypair_from_seed([4; 32]);
        let sig = Ed25519::sign(&sk, 1, &10u32);
        assert!(Ed25519::verify(&pk, 1, &10u32, &sig));
        // The same key signing the bare encoding (another context) does not produce it.
        let bare = Ed25519Signature(sk.0.sign(&canonical_bytes(&(1u32, 10u32))).to_bytes());
        assert_ne!(bare, sig);
        assert!(!Ed25519::verify(&pk, 1, &10u32, &bare));
    }

    #[test]
    fn bytes_are_hex_in_json_and_raw_in_postcard() {
        let (_, pk) = ed25519_keypair_from_seed([5; 32]);
        let json = serde_json::to_string(&pk).unwrap();
        assert_eq!(json.len(), 64 + 2);
        assert_eq!(serde_json::from_str::<Ed25519PublicKey>(&json).unwrap(), pk);
        // One length byte, then the 32 key bytes.
        assert_eq!(canonical_bytes(&pk).len(), 33);
        let short: Result<Ed25519PublicKey, _> = serde_json::from_str("\"abcd\"");
        assert!(short.is_err());
    }
}
