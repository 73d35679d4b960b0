//! The crate's errors: [`DecodeError`] for bytes that do not parse, [`ProtoError`] for
//! everything a peer or a document can do wrong once parsed. Variants name what was wrong and
//! never carry secret material. [`ProtoError::wire_code`] is the one mapping to wire error codes.
//!
//! Engineers adding a module append their variants here (keep the groups).

use thiserror::Error;

/// Bytes that do not decode. "Need more bytes" on a stream is separate:
/// see `frame::FrameError::Incomplete`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended inside a field.
    #[error("truncated {what}: needed {needed} bytes, {available} available")]
    Truncated {
        /// Field being read.
        what: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the input.
        available: usize,
    },
    /// A length prefix exceeded the field's limit.
    #[error("{what} too long: {len} bytes, limit {max}")]
    TooLong {
        /// Field being read.
        what: &'static str,
        /// Declared length.
        len: usize,
        /// The field's limit.
        max: usize,
    },
    /// Bytes were left after a complete object.
    #[error("{count} trailing bytes after {what}")]
    TrailingBytes {
        /// Object that was complete.
        what: &'static str,
        /// Unconsumed bytes.
        count: usize,
    },
    /// A string field was not UTF-8.
    #[error("{what} is not valid UTF-8")]
    InvalidUtf8 {
        /// Field being read.
        what: &'static str,
    },
    /// An enumerated field had a value outside its closed set.
    #[error("unknown {what} value {value:#x}")]
    UnknownValue {
        /// Field being read.
        what: &'static str,
        /// The value received.
        value: u64,
    },
    /// A field parsed but broke an encoding rule (e.g. an unsorted list that must be sorted).
    #[error("non-canonical {what}: {reason}")]
    NonCanonical {
        /// Field being read.
        what: &'static str,
        /// The rule that was broken.
        reason: &'static str,
    },
}

/// Everything that can go wrong in the protocol core.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProtoError {
    /// Malformed bytes.
    #[error("malformed message: {0}")]
    Decode(#[from] DecodeError),
    /// A cryptographic operation failed (details stay local; peers see one opaque code).
    #[error("cryptographic failure: {0}")]
    Crypto(#[from] liaison_crypto::CryptoError),
}

/// Machine-readable error codes carried by error frames (`spec/protocol.md`, "Error codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
#[non_exhaustive]
pub enum WireCode {
    /// The message did not parse.
    Malformed = 0x0001,
    /// Authentication or decryption failed (deliberately undifferentiated).
    AuthenticationFailed = 0x0002,
}

impl ProtoError {
    /// The code sent to the peer for this error. The human reason travels beside it.
    pub fn wire_code(&self) -> WireCode {
        match self {
            Self::Decode(_) => WireCode::Malformed,
            Self::Crypto(_) => WireCode::AuthenticationFailed,
        }
    }
}
