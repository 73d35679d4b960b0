//! The crate's one error type. Variants name what was wrong; none carries secret material.

use thiserror::Error;

/// Everything that can go wrong in `liaison-crypto`.
///
/// Authentication failures ([`CryptoError::BadSignature`], [`CryptoError::AeadFailure`]) are
/// deliberately detail-free: callers report them to peers as one opaque error.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// A suite id that this implementation does not know.
    #[error("unknown cryptographic suite id {0:#04x}")]
    UnknownSuite(u8),
    /// A suite name (configuration, command line) that is not `LQ1` or `LQ2`.
    #[error("unknown cryptographic suite {0:?} (expected LQ1 or LQ2)")]
    UnknownSuiteName(String),
    /// Two objects of different suites were combined (e.g. an `LQ1` key with an `LQ2` ciphertext).
    #[error("suite mismatch: expected {expected}, got {got}")]
    SuiteMismatch {
        /// The suite the operation was set up for.
        expected: &'static str,
        /// The suite of the object that was supplied.
        got: &'static str,
    },
    /// An encoded object had the wrong length for its type and suite.
    #[error("{what}: expected {expected} bytes, got {got}")]
    BadLength {
        /// What was being decoded.
        what: &'static str,
        /// The only length this object can have.
        expected: usize,
        /// The length that was supplied.
        got: usize,
    },
    /// A public key failed validation (e.g. an ML-KEM key with unreduced coefficients).
    #[error("invalid {0}")]
    InvalidPublicKey(&'static str),
    /// An X25519 exchange produced the all-zero value: the peer sent a low-order point.
    #[error("non-contributory X25519 exchange (low-order point)")]
    NonContributory,
    /// A composite signature did not verify (either half failing fails the whole).
    #[error("signature verification failed")]
    BadSignature,
    /// An AEAD ciphertext failed to authenticate.
    #[error("decryption failed")]
    AeadFailure,
    /// A nonce sequence reached its limit; the key must be replaced.
    #[error("nonce sequence exhausted: rekey required")]
    NonceExhausted,
    /// A signature context string longer than 255 bytes.
    #[error("signature context too long ({0} bytes, at most 255)")]
    ContextTooLong(usize),
    /// A KDF was asked for more output than it can produce.
    #[error("KDF output too long ({0} bytes)")]
    KdfOutputTooLong(usize),
    /// The signing algorithm failed internally (ML-DSA rejected its own key or inputs).
    #[error("signing failed")]
    SigningFailed,
}
