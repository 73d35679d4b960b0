//! The values that cross the key-supply interface: the secret [`SuppliedKey`] and the public
//! identifiers [`KeyId`] and [`SaeId`].
//!
//! A supplied key is a secret in its own type, as `STYLE.md` asks: it zeroizes on drop, prints
//! as `<SECRET>`, cannot be cloned, serialized or displayed, compares in constant time, and is
//! consumed by value by whoever mixes it into a session key — so each key is used once.

use std::fmt;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Key material obtained from a key supply (QKD KME or pre-shared key), shared with one peer.
///
/// ```
/// use liaison_qkd::SuppliedKey;
///
/// let key = SuppliedKey::from_bytes(vec![0x42; 32]);
/// assert_eq!(format!("{key:?}"), "<SECRET>");
/// assert_eq!(key.len_bits(), 256);
/// assert_eq!(key.expose_secret(), &[0x42; 32][..]);
/// ```
///
/// It is deliberately not `Clone`: a supplied key is used once and then dropped, which zeroizes
/// it.
///
/// ```compile_fail
/// let key = liaison_qkd::SuppliedKey::from_bytes(vec![1; 32]);
/// let copy = key.clone();
/// ```
// `Zeroizing` wipes the bytes when the key is dropped.
pub struct SuppliedKey(Zeroizing<Vec<u8>>);

impl SuppliedKey {
    /// Takes ownership of `bytes` as key material (they are zeroized when the key is dropped).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The key bytes. Call this only where the key is mixed into a KDF.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// Length of the key in bits.
    pub fn len_bits(&self) -> usize {
        self.0.len() * 8
    }

    /// Consumes the key, handing its bytes over in a zeroizing buffer.
    pub fn into_secret(self) -> Zeroizing<Vec<u8>> {
        self.0
    }
}

impl fmt::Debug for SuppliedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<SECRET>")
    }
}

impl PartialEq for SuppliedKey {
    fn eq(&self, other: &Self) -> bool {
        // Lengths are public (the KME's status announces them); contents are compared in
        // constant time.
        self.0.len() == other.0.len() && bool::from(self.0.ct_eq(&other.0))
    }
}

impl Eq for SuppliedKey {}

/// Identifier of one supplied key, sent in-band from master to slave. ETSI GS QKD 014 uses UUID
/// strings; other equipment may use other strings, so any string is accepted here.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyId(String);

impl KeyId {
    /// Wraps a key id as received from a KME or a peer.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// A fresh random (version 4) UUID key id.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Identifier of a Secure Application Entity (ETSI GS QKD 014): one end of a key-supply link,
/// for Liaison a node or client site.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SaeId(String);

impl SaeId {
    /// Wraps an SAE id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SaeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for SaeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_compare_equal_and_different_keys_do_not() {
        let a = SuppliedKey::from_bytes(vec![1, 2, 3, 4]);
        let b = SuppliedKey::from_bytes(vec![1, 2, 3, 4]);
        let c = SuppliedKey::from_bytes(vec![1, 2, 3, 5]);
        let d = SuppliedKey::from_bytes(vec![1, 2, 3]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn debug_never_shows_key_bytes() {
        let key = SuppliedKey::from_bytes(vec![0xAB; 16]);
        let shown = format!("{key:?} {key:#?}");
        assert!(!shown.to_lowercase().contains("ab"));
    }

    #[test]
    fn random_key_ids_are_uuids_and_differ() {
        let a = KeyId::random();
        let b = KeyId::random();
        assert_ne!(a, b);
        assert!(uuid::Uuid::parse_str(a.as_str()).is_ok());
    }
}
