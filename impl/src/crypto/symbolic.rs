//! Symbolic crypto for the model checker: no mathematics, so states stay small and readable.
//!
//! A signature carries no data (`()`): a `Signed<T, Symbolic>` is just `(T, signer)`, and it
//! is unforgeable because only that signer's `Signer` can build it. A digest is the value's
//! canonical encoding itself, so it is injective per type and costs no hashing.

use std::fmt::{self, Debug, Formatter};

use serde::{Deserialize, Serialize};

use super::bytes::{self, short_hex};
use super::{canonical_bytes, Crypto, KeyError, NodeId};

/// The symbolic crypto parameter (model checking).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Symbolic;

/// A structural digest: the canonical encoding of the value, compared byte for byte.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SymbolicDigest(#[serde(with = "bytes::var")] pub Vec<u8>);

impl Debug for SymbolicDigest {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "D({})", short_hex(&self.0))
    }
}

impl Crypto for Symbolic {
    type Sig = ();
    type SecretKey = NodeId;
    type PublicKey = NodeId;
    type Digest = SymbolicDigest;

    const NAME: &'static str = "symbolic";

    fn sign<T: Serialize>(key: &NodeId, signer: NodeId, _value: &T) -> Self::Sig {
        // Holding another id's secret would be a configuration bug, not an attack to model.
        assert_eq!(
            *key, signer,
            "symbolic signer {signer} holds the key of {key}"
        );
    }

    fn verify<T: Serialize>(key: &NodeId, signer: NodeId, _value: &T, _sig: &()) -> bool {
        *key == signer
    }

    fn digest<T: Serialize>(value: &T) -> SymbolicDigest {
        SymbolicDigest(canonical_bytes(value))
    }

    fn check_public_key(id: NodeId, key: &NodeId) -> Result<(), KeyError> {
        if *key == id {
            Ok(())
        } else {
            Err(KeyError::SymbolicMismatch { id, key: *key })
        }
    }
}

/// A symbolic signature is `()`, so renaming a signed value re-attributes it exactly as if the
/// renamed signer had signed the renamed value (an ed25519 signature could not be renamed).
impl<T: crate::symmetry::Rename> crate::symmetry::Rename for super::Signed<T, Symbolic> {
    fn rename(&self, perm: &crate::symmetry::Permutation) -> Self {
        super::Signed {
            value: self.value.rename(perm),
            signer: perm.apply(self.signer),
            sig: (),
        }
    }
}

/// A digest is an encoding and cannot be renamed: symmetry is sound only where digested values
/// (batches of client requests, application state) hold no interchangeable id. The model's
/// commutation test is what shows that for each configuration with symmetry.
impl crate::symmetry::Rename for SymbolicDigest {
    fn rename(&self, _: &crate::symmetry::Permutation) -> Self {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_the_encoding_and_prints_short() {
        let d = Symbolic::digest(&(1u8, 2u8));
        assert_eq!(d.0, vec![1, 2]);
        assert_eq!(format!("{d:?}"), "D(0102)");
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"0102\"");
    }
}
