//! Types that hold secrets: they zeroize on drop, print as `<SECRET>`, compare in constant time,
//! and are read only through an explicit `expose_secret()`. No `Clone`, `Display` or `Serialize`.

use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Defines a fixed-size secret newtype with the crate's secret discipline.
macro_rules! secret_array {
    ($(#[$meta:meta])* $name:ident, $len:expr) => {
        $(#[$meta])*
        pub struct $name(Box<[u8; $len]>);

        impl $name {
            /// Length of this secret in bytes.
            pub const LEN: usize = $len;

            /// Wraps secret bytes. The caller's copy should be zeroized by the caller.
            pub fn from_bytes(bytes: [u8; $len]) -> Self {
                let mut this = Self(Box::new([0u8; $len]));
                this.0.copy_from_slice(&bytes);
                let mut bytes = bytes;
                zeroize::Zeroize::zeroize(&mut bytes);
                this
            }

            /// Copies secret bytes out of a slice, checking the length.
            pub fn try_from_slice(bytes: &[u8]) -> Result<Self, $crate::CryptoError> {
                if bytes.len() != $len {
                    return Err($crate::CryptoError::BadLength {
                        what: stringify!($name),
                        expected: $len,
                        got: bytes.len(),
                    });
                }
                let mut this = Self(Box::new([0u8; $len]));
                this.0.copy_from_slice(bytes);
                Ok(this)
            }

            /// Fresh random secret from `rng`.
            pub fn random(rng: &mut (impl rand_core::CryptoRng + ?Sized)) -> Self {
                let mut this = Self(Box::new([0u8; $len]));
                rng.fill_bytes(&mut this.0[..]);
                this
            }

            /// Read access to the secret bytes. Every call site is a place secrets flow.
            pub fn expose_secret(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                zeroize::Zeroize::zeroize(&mut *self.0);
            }
        }

        impl zeroize::ZeroizeOnDrop for $name {}

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(concat!(stringify!($name), "(<SECRET>)"))
            }
        }

        impl subtle::ConstantTimeEq for $name {
            fn ct_eq(&self, other: &Self) -> subtle::Choice {
                self.0[..].ct_eq(&other.0[..])
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                bool::from(subtle::ConstantTimeEq::ct_eq(self, other))
            }
        }

        impl Eq for $name {}
    };
}
pub(crate) use secret_array;

secret_array!(
    /// A 32-byte seed from which a key pair is derived (X-Wing decapsulation key, composite
    /// signing key). Storing the seed is storing the private key.
    ///
    /// ```
    /// let seed = liaison_crypto::Seed32::from_bytes([7u8; 32]);
    /// assert_eq!(format!("{seed:?}"), "Seed32(<SECRET>)");
    /// ```
    Seed32,
    32
);

secret_array!(
    /// A 32-byte symmetric key (AEAD key, derived session key, content key).
    ///
    /// ```
    /// let key = liaison_crypto::SymmetricKey::from_bytes([1u8; 32]);
    /// assert_eq!(format!("{key:?}"), "SymmetricKey(<SECRET>)");
    /// ```
    SymmetricKey,
    32
);

/// A variable-length secret (a supplied QKD or pre-shared key, a KDF output of chosen length).
///
/// ```
/// let s = liaison_crypto::SecretBytes::new(vec![1, 2, 3]);
/// assert_eq!(format!("{s:?}"), "SecretBytes(<SECRET>)");
/// ```
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Takes ownership of secret bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// Copies secret bytes from a slice.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// Read access to the secret bytes.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// Write access, for filling a secret in place (e.g. a KDF output).
    pub fn expose_secret_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// Number of secret bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for SecretBytes {}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBytes(<SECRET>)")
    }
}

impl ConstantTimeEq for SecretBytes {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        // Length is not secret; `ct_eq` on slices of different length returns false.
        self.0[..].ct_eq(&other.0[..])
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.ct_eq(other))
    }
}

impl Eq for SecretBytes {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_secret_bytes() {
        let key = SymmetricKey::from_bytes([0xAB; 32]);
        let printed = format!("{key:?} {:?}", SecretBytes::new(vec![0xAB; 4]));
        assert!(!printed.to_lowercase().contains("ab"), "{printed}");
    }

    #[test]
    fn equality_is_by_value() {
        assert_eq!(Seed32::from_bytes([1; 32]), Seed32::from_bytes([1; 32]));
        assert_ne!(Seed32::from_bytes([1; 32]), Seed32::from_bytes([2; 32]));
        assert_ne!(SecretBytes::new(vec![1]), SecretBytes::new(vec![1, 1]));
    }

    #[test]
    fn wrong_length_is_rejected() {
        assert!(matches!(
            SymmetricKey::try_from_slice(&[0; 31]),
            Err(crate::CryptoError::BadLength {
                expected: 32,
                got: 31,
                ..
            })
        ));
    }
}
