//! Identities: a composite signature public key, its id (a hash) and the fingerprint people
//! compare on the phone.
//!
//! ```text
//! id          = SHA3-256(info("liaison identity id v1", [suite_id, public_key]))   (32 bytes)
//! fingerprint = first 20 bytes of id, upper-case hex, in 10 groups of 4: "3F2A 91BC …"
//! ```
//! 160 bits make a second-preimage search for a matching fingerprint cost 2^160 hashes; the
//! full 256-bit id is what certificates and the protocol carry.

use core::fmt;
use core::str::FromStr;

use sha3::{Digest, Sha3_256};

use crate::sign::VerifyingKey;
use crate::{CryptoError, Suite, kdf, labels};

/// Bytes of an identity id.
pub const IDENTITY_ID_LEN: usize = 32;
/// Bytes of the id shown in a fingerprint.
pub const FINGERPRINT_BYTES: usize = 20;

/// The hash of a composite public key; what certificates, envelopes and routes name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdentityId([u8; IDENTITY_ID_LEN]);

impl IdentityId {
    /// The id of `key`. Hashed once per key and then kept inside it, so calling this
    /// repeatedly on one key (or its clones) is cheap.
    pub fn of(key: &VerifyingKey) -> Self {
        key.cached_id()
    }

    /// The hash itself, over a composite public key's suite and wire bytes.
    pub(crate) fn compute(suite: Suite, public_key: &[u8]) -> Self {
        let encoded = kdf::info(labels::IDENTITY_ID, &[&[suite.id()], public_key]);
        Self(Sha3_256::digest(encoded).into())
    }

    /// Wraps raw id bytes read from the wire.
    pub const fn from_bytes(bytes: [u8; IDENTITY_ID_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw id bytes.
    pub const fn as_bytes(&self) -> &[u8; IDENTITY_ID_LEN] {
        &self.0
    }

    /// The human fingerprint: 10 groups of 4 upper-case hex digits.
    ///
    /// ```
    /// let id = liaison_crypto::IdentityId::from_bytes([0xab; 32]);
    /// assert_eq!(id.fingerprint(), "ABAB ABAB ABAB ABAB ABAB ABAB ABAB ABAB ABAB ABAB");
    /// ```
    pub fn fingerprint(&self) -> String {
        let hex = hex::encode_upper(&self.0[..FINGERPRINT_BYTES]);
        let groups: Vec<&str> = hex
            .as_bytes()
            .chunks(4)
            .map(|c| core::str::from_utf8(c).unwrap_or("????"))
            .collect();
        groups.join(" ")
    }
}

impl fmt::Display for IdentityId {
    /// Full lower-case hex (64 characters).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for IdentityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdentityId({})", &hex::encode(self.0)[..16])
    }
}

impl FromStr for IdentityId {
    type Err = CryptoError;

    /// Parses 64 hex digits (spaces allowed, case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = hex::decode(&compact).map_err(|_| CryptoError::BadLength {
            what: "identity id (hex)",
            expected: IDENTITY_ID_LEN * 2,
            got: compact.len(),
        })?;
        let got = bytes.len();
        let arr: [u8; IDENTITY_ID_LEN] = bytes.try_into().map_err(|_| CryptoError::BadLength {
            what: "identity id",
            expected: IDENTITY_ID_LEN,
            got,
        })?;
        Ok(Self(arr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Seed32;
    use crate::sign::SigningKey;

    #[test]
    fn id_depends_on_key_and_suite_and_parses_back() {
        let a = SigningKey::from_seed(Suite::Lq1, Seed32::from_bytes([1; 32]));
        let b = SigningKey::from_seed(Suite::Lq2, Seed32::from_bytes([1; 32]));
        let id_a = IdentityId::of(a.verifying_key());
        assert_ne!(id_a, IdentityId::of(b.verifying_key()));
        assert_eq!(id_a.to_string().parse::<IdentityId>().unwrap(), id_a);
        assert_eq!(id_a.fingerprint().len(), 10 * 4 + 9);
    }

    #[test]
    fn cached_id_is_the_hash_of_the_key() {
        for suite in Suite::ALL {
            let key = SigningKey::from_seed(suite, Seed32::from_bytes([7; 32]));
            let vk = key.verifying_key();
            let expected = IdentityId::compute(suite, vk.as_bytes());
            // Before and after the cache is filled, on the key, a clone and a re-parse.
            let parsed = VerifyingKey::from_bytes(suite, vk.as_bytes()).unwrap();
            assert_eq!(IdentityId::of(&parsed), expected);
            assert_eq!(IdentityId::of(vk), expected);
            assert_eq!(IdentityId::of(&vk.clone()), expected);
            assert_eq!(IdentityId::of(vk), expected);
        }
    }

    #[test]
    fn malformed_ids_are_refused() {
        assert!("zz".parse::<IdentityId>().is_err());
        assert!("abcd".parse::<IdentityId>().is_err());
    }
}
