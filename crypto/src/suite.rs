//! Cryptographic suites: one byte on the wire selects every algorithm and size at once.
//!
//! | id   | suite | KEM                                  | signature          | AEAD              |
//! |------|-------|--------------------------------------|--------------------|-------------------|
//! | 0x01 | LQ1   | X-Wing (X25519 + ML-KEM-768)         | Ed25519 + ML-DSA-65 | ChaCha20-Poly1305 |
//! | 0x02 | LQ2   | X25519 + ML-KEM-1024, X-Wing-shaped  | Ed25519 + ML-DSA-87 | ChaCha20-Poly1305 |

use core::fmt;

use crate::CryptoError;

/// Bytes of an X25519 public key, secret key, shared secret or ciphertext.
pub const X25519_LEN: usize = 32;
/// Bytes of an ML-KEM-768 encapsulation key.
pub const MLKEM768_PK_LEN: usize = 1184;
/// Bytes of an ML-KEM-768 ciphertext.
pub const MLKEM768_CT_LEN: usize = 1088;
/// Bytes of an ML-KEM-1024 encapsulation key.
pub const MLKEM1024_PK_LEN: usize = 1568;
/// Bytes of an ML-KEM-1024 ciphertext.
pub const MLKEM1024_CT_LEN: usize = 1568;
/// Bytes of an Ed25519 public key.
pub const ED25519_PK_LEN: usize = 32;
/// Bytes of an Ed25519 signature.
pub const ED25519_SIG_LEN: usize = 64;
/// Bytes of an ML-DSA-65 public key.
pub const MLDSA65_PK_LEN: usize = 1952;
/// Bytes of an ML-DSA-65 signature.
pub const MLDSA65_SIG_LEN: usize = 3309;
/// Bytes of an ML-DSA-87 public key.
pub const MLDSA87_PK_LEN: usize = 2592;
/// Bytes of an ML-DSA-87 signature.
pub const MLDSA87_SIG_LEN: usize = 4627;
/// Bytes of every hybrid KEM shared secret.
pub const KEM_SHARED_SECRET_LEN: usize = 32;

/// A Liaison cryptographic suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Suite {
    /// Interoperability profile: X-Wing, Ed25519 + ML-DSA-65. NIST category 3.
    Lq1,
    /// Default: X25519 + ML-KEM-1024, Ed25519 + ML-DSA-87. NIST category 5.
    Lq2,
}

impl Suite {
    /// Every suite, strongest first (the order a negotiator prefers them).
    pub const ALL: [Self; 2] = [Self::Lq2, Self::Lq1];

    /// The one-byte wire id.
    pub const fn id(self) -> u8 {
        match self {
            Self::Lq1 => 0x01,
            Self::Lq2 => 0x02,
        }
    }

    /// Parses a wire id.
    pub const fn from_id(id: u8) -> Result<Self, CryptoError> {
        match id {
            0x01 => Ok(Self::Lq1),
            0x02 => Ok(Self::Lq2),
            other => Err(CryptoError::UnknownSuite(other)),
        }
    }

    /// The suite's name as written in the spec and in configuration (`"LQ1"`, `"LQ2"`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Lq1 => "LQ1",
            Self::Lq2 => "LQ2",
        }
    }

    /// NIST post-quantum security category of the suite's weakest component.
    pub const fn nist_category(self) -> u8 {
        match self {
            Self::Lq1 => 3,
            Self::Lq2 => 5,
        }
    }

    /// Bytes of a hybrid KEM public (encapsulation) key: ML-KEM key then X25519 key.
    pub const fn kem_public_key_len(self) -> usize {
        match self {
            Self::Lq1 => MLKEM768_PK_LEN + X25519_LEN,
            Self::Lq2 => MLKEM1024_PK_LEN + X25519_LEN,
        }
    }

    /// Bytes of a hybrid KEM ciphertext: ML-KEM ciphertext then X25519 ephemeral key.
    pub const fn kem_ciphertext_len(self) -> usize {
        match self {
            Self::Lq1 => MLKEM768_CT_LEN + X25519_LEN,
            Self::Lq2 => MLKEM1024_CT_LEN + X25519_LEN,
        }
    }

    /// Bytes of a composite signature public key: Ed25519 key then ML-DSA key.
    pub const fn signature_public_key_len(self) -> usize {
        match self {
            Self::Lq1 => ED25519_PK_LEN + MLDSA65_PK_LEN,
            Self::Lq2 => ED25519_PK_LEN + MLDSA87_PK_LEN,
        }
    }

    /// Bytes of a composite signature: Ed25519 signature then ML-DSA signature.
    pub const fn signature_len(self) -> usize {
        match self {
            Self::Lq1 => ED25519_SIG_LEN + MLDSA65_SIG_LEN,
            Self::Lq2 => ED25519_SIG_LEN + MLDSA87_SIG_LEN,
        }
    }

    /// Checks that an encoded object has the one length its type allows.
    pub(crate) fn check_len(
        what: &'static str,
        expected: usize,
        bytes: &[u8],
    ) -> Result<(), CryptoError> {
        if bytes.len() == expected {
            Ok(())
        } else {
            Err(CryptoError::BadLength {
                what,
                expected,
                got: bytes.len(),
            })
        }
    }

    pub(crate) fn expect(self, got: Self) -> Result<(), CryptoError> {
        if self == got {
            Ok(())
        } else {
            Err(CryptoError::SuiteMismatch {
                expected: self.name(),
                got: got.name(),
            })
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl core::str::FromStr for Suite {
    type Err = CryptoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "LQ1" | "lq1" => Ok(Self::Lq1),
            "LQ2" | "lq2" => Ok(Self::Lq2),
            other => Err(CryptoError::UnknownSuiteName(
                other.chars().take(16).collect(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_unknown_ids_are_refused() {
        for suite in Suite::ALL {
            assert_eq!(Suite::from_id(suite.id()), Ok(suite));
        }
        for id in [0x00, 0x03, 0xff] {
            assert_eq!(Suite::from_id(id), Err(CryptoError::UnknownSuite(id)));
        }
    }

    #[test]
    fn xwing_sizes_match_the_draft() {
        assert_eq!(Suite::Lq1.kem_public_key_len(), 1216);
        assert_eq!(Suite::Lq1.kem_ciphertext_len(), 1120);
    }
}
