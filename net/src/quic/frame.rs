//! Wire frames: a 4-byte big-endian length, then a postcard body, at most a configured size
//! (checked before anything is allocated: the peer controls the length field).

use quorate_impl::crypto::NodeId;
use quorate_impl::trace::SendId;
use serde::{Deserialize, Serialize};

/// Default bound on one frame's body.
pub const DEFAULT_MAX_FRAME: usize = 4 << 20;

/// What travels on a stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frame<M> {
    /// First frame each way: who the sender claims to be (checked against its TLS key).
    Hello {
        /// The sender's id.
        id: NodeId,
        /// The sender's incarnation.
        incarnation: u64,
    },
    /// An actor message under its send id.
    Msg {
        /// The send id (the receiver drops repeats).
        send_id: SendId,
        /// The message.
        msg: M,
    },
}

/// Encodes a frame with its length prefix.
pub fn encode<M: Serialize>(frame: &Frame<M>) -> Vec<u8> {
    let body = postcard::to_allocvec(frame).expect("frames encode");
    let mut bytes = Vec::with_capacity(4 + body.len());
    bytes.extend_from_slice(&(body.len() as u32).to_be_bytes());
    bytes.extend_from_slice(&body);
    bytes
}

/// Why a frame was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The length prefix exceeds the bound.
    Oversized {
        /// Announced length.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// The body does not decode.
    Malformed(String),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Oversized { len, max } => {
                write!(f, "frame of {len} bytes exceeds the maximum of {max}")
            }
            FrameError::Malformed(e) => write!(f, "frame does not decode: {e}"),
        }
    }
}

/// Checks a length prefix against the bound.
pub fn check_len(prefix: [u8; 4], max: usize) -> Result<usize, FrameError> {
    let len = u32::from_be_bytes(prefix) as usize;
    if len > max {
        return Err(FrameError::Oversized { len, max });
    }
    Ok(len)
}

/// Decodes a body; trailing bytes are refused too (one frame, one value).
pub fn decode<M: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<Frame<M>, FrameError> {
    match postcard::take_from_bytes(body) {
        Ok((frame, [])) => Ok(frame),
        Ok((_, rest)) => Err(FrameError::Malformed(format!(
            "{} trailing bytes",
            rest.len()
        ))),
        Err(e) => Err(FrameError::Malformed(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_roundtrip_and_bad_ones_are_named() {
        let frame = Frame::Msg {
            send_id: SendId {
                src: 1,
                incarnation: 2,
                seq: 3,
            },
            msg: "hello".to_string(),
        };
        let bytes = encode(&frame);
        let len = check_len(bytes[..4].try_into().unwrap(), 100).unwrap();
        assert_eq!(decode::<String>(&bytes[4..4 + len]).unwrap(), frame);
        assert_eq!(
            check_len((200u32).to_be_bytes(), 100),
            Err(FrameError::Oversized { len: 200, max: 100 })
        );
        assert!(matches!(
            decode::<String>(&[9, 9, 9]),
            Err(FrameError::Malformed(_))
        ));
        let mut extra = bytes[4..].to_vec();
        extra.push(0);
        assert!(decode::<String>(&extra)
            .unwrap_err()
            .to_string()
            .contains("trailing"));
    }
}
