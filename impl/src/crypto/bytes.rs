//! Byte strings in serde and `Debug`: compact bytes in binary formats, hex in JSON, and
//! short hex when printed, so keys, signatures and digests stay readable in traces.

use std::fmt::{self, Formatter};

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserializer, Serializer};

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing into a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Hex short enough for a counterexample: long strings keep their head and tail.
pub(crate) fn short_hex(bytes: &[u8]) -> String {
    const KEEP: usize = 6;
    if bytes.len() <= 2 * KEEP + 4 {
        hex(bytes)
    } else {
        format!(
            "{}..{}/{}B",
            hex(&bytes[..KEEP]),
            hex(&bytes[bytes.len() - KEEP..]),
            bytes.len()
        )
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Accepts hex strings, byte strings and sequences of bytes, whichever the format offers.
struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("a byte string or a hex string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
        unhex(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b);
        }
        Ok(out)
    }
}

fn serialize_slice<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    if s.is_human_readable() {
        s.serialize_str(&hex(bytes))
    } else {
        s.serialize_bytes(bytes)
    }
}

fn deserialize_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    if d.is_human_readable() {
        d.deserialize_str(BytesVisitor)
    } else {
        d.deserialize_bytes(BytesVisitor)
    }
}

/// `#[serde(with = "...")]` for `[u8; N]` (serde has no impl past 32, and we want hex in JSON).
pub mod fixed {
    use super::*;

    /// Writes the array as bytes (binary formats) or hex (JSON).
    pub fn serialize<const N: usize, S: Serializer>(
        bytes: &[u8; N],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        serialize_slice(bytes, s)
    }

    /// Reads an array written by [`serialize`], refusing any other length.
    pub fn deserialize<'de, const N: usize, D: Deserializer<'de>>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        let v = deserialize_vec(d)?;
        let len = v.len();
        v.try_into()
            .map_err(|_| de::Error::invalid_length(len, &format!("{N} bytes").as_str()))
    }
}

/// `#[serde(with = "...")]` for `Vec<u8>`, hex in JSON.
pub mod var {
    use super::*;

    /// Writes the bytes as bytes (binary formats) or hex (JSON).
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        serialize_slice(bytes, s)
    }

    /// Reads bytes written by [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        deserialize_vec(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_roundtrips_and_shortens() {
        let bytes: Vec<u8> = (0..40).collect();
        assert_eq!(unhex(&hex(&bytes)).unwrap(), bytes);
        assert_eq!(short_hex(&[0xab, 0x01]), "ab01");
        assert_eq!(short_hex(&bytes), "000102030405..222324252627/40B");
        assert!(unhex("abc").is_none());
        assert!(unhex("zz").is_none());
    }
}
