//! The JSON shapes `liaison-crypto-interop` and the Python tests in `python/crypto/` exchange.
//!
//! `emit` writes an [`EmittedVectors`] (made by `liaison-crypto`, checked by Python against
//! independent implementations); Python writes a [`CheckFile`] (made by the independent
//! implementations, checked by `check` against `liaison-crypto`). Every byte string is lower-case
//! hex; suites are written by name (`"LQ1"`, `"LQ2"`). The KDF shapes are shared, so either side
//! can recompute the other's outputs with the same code.
//!
//! Items in a [`CheckFile`] carry `via` (which implementation made them), `expect` (whether
//! `liaison-crypto` must accept or reject them: tampered items are `reject`) and a free `note`.

use serde::{Deserialize, Serialize};

/// Everything `emit` prints.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmittedVectors {
    /// Program and version that made the vectors.
    pub generator: String,
    /// The `--seed` the vectors were generated from (ChaCha20Rng seed_from_u64).
    pub seed: u64,
    /// Fixed Rust KEM public keys whose secrets only `check` can re-derive: Python encapsulates
    /// to these.
    pub recipients: Vec<KemRecipient>,
    /// Derandomised hybrid KEM vectors.
    pub kem: Vec<KemVector>,
    /// Composite signatures with identities.
    pub signatures: Vec<SignatureVector>,
    /// ChaCha20-Poly1305 and XChaCha20-Poly1305 ciphertexts.
    pub aead: Vec<AeadVector>,
    /// `info`, `derive` and the key combiner.
    pub kdf: KdfVectors,
}

/// A fixed Rust KEM recipient.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KemRecipient {
    /// Suite name.
    pub suite: String,
    /// `pk_M || pk_X`.
    pub public_key: String,
}

/// One hybrid KEM encapsulation.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KemVector {
    /// Suite name.
    pub suite: String,
    /// 32-byte decapsulation key seed (emitted vectors only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<String>,
    /// `pk_M || pk_X`.
    pub public_key: String,
    /// 64-byte encapsulation randomness, when the maker had derandomised encapsulation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eseed: Option<String>,
    /// `ct_M || ct_X`.
    pub ciphertext: String,
    /// The 32-byte shared secret the encapsulator obtained.
    pub shared_secret: String,
    /// Check files: the implementation that made the item, e.g. `"kyber-py+cryptography"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// Check files: whether `liaison-crypto` must accept or reject the item (default accept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
    /// Check files: free text shown in the check's output line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One composite signature with the signer's identity.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureVector {
    /// Suite name.
    pub suite: String,
    /// 32-byte composite signing seed, when the maker derived its key the Liaison way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<String>,
    /// `pk_E || pk_D`.
    pub public_key: String,
    /// Signature context (at most 255 bytes).
    pub context: String,
    /// The message.
    pub message: String,
    /// `M'`, the bytes both halves sign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub composite_message: Option<String>,
    /// `sig_E || sig_D`.
    pub signature: String,
    /// 32-byte identity id of `public_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_id: Option<String>,
    /// Human fingerprint of the identity id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Check files: the implementation that made the item, e.g. `"kyber-py+cryptography"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// Check files: whether `liaison-crypto` must accept or reject the item (default accept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
    /// Check files: free text shown in the check's output line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Which AEAD an [`AeadVector`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AeadAlgorithm {
    /// RFC 8439, 12-byte nonce.
    Chacha20Poly1305,
    /// draft-irtf-cfrg-xchacha, 24-byte nonce.
    Xchacha20Poly1305,
}

/// One AEAD encryption.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AeadVector {
    /// The algorithm.
    pub algorithm: AeadAlgorithm,
    /// 32-byte key.
    pub key: String,
    /// 12- or 24-byte nonce.
    pub nonce: String,
    /// Associated data.
    pub aad: String,
    /// Plaintext.
    pub plaintext: String,
    /// `ciphertext || tag`.
    pub ciphertext: String,
    /// Check files: the implementation that made the item, e.g. `"kyber-py+cryptography"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// Check files: whether `liaison-crypto` must accept or reject the item (default accept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
    /// Check files: free text shown in the check's output line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// KDF vectors (the same shape in both directions).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdfVectors {
    /// `kdf::info` encodings.
    #[serde(default)]
    pub info: Vec<InfoVector>,
    /// `kdf::derive` / `kdf::derive_key` outputs.
    #[serde(default)]
    pub derive: Vec<DeriveVector>,
    /// `kdf::combine` and the keys expanded from its result.
    #[serde(default)]
    pub combine: Vec<CombineVector>,
}

/// `info(label, parts)`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfoVector {
    /// Label.
    pub label: String,
    /// Parts, in order.
    pub parts: Vec<String>,
    /// The encoding.
    pub encoded: String,
}

/// `derive(label, salt, ikm, context, length)`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeriveVector {
    /// Label.
    pub label: String,
    /// HKDF salt.
    pub salt: String,
    /// HKDF input keying material.
    pub ikm: String,
    /// Context parts of `info`.
    pub context: Vec<String>,
    /// Output length in bytes.
    pub length: usize,
    /// Output.
    pub okm: String,
}

/// `combine(kem_secrets, supplied)` and keys expanded from it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CombineVector {
    /// 32-byte hybrid KEM secrets, in order.
    pub kem_secrets: Vec<String>,
    /// The supplied (QKD / pre-shared) key, or `null` for none.
    pub supplied: Option<String>,
    /// The 48-byte combined secret (HKDF-Extract output).
    pub prk: String,
    /// Keys expanded from it.
    pub keys: Vec<ExpandedKey>,
}

/// `CombinedSecret::derive_key` (length 32) or `CombinedSecret::expand` (other lengths).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpandedKey {
    /// Label.
    pub label: String,
    /// Context parts of `info`.
    pub context: Vec<String>,
    /// Output length in bytes.
    pub length: usize,
    /// Output.
    pub okm: String,
}

/// What the Python side writes for `check`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckFile {
    /// Which program wrote the file.
    #[serde(default)]
    pub producer: String,
    /// Encapsulations to the fixed Rust recipients.
    #[serde(default)]
    pub kem: Vec<KemVector>,
    /// Signatures by Python-held keys.
    #[serde(default)]
    pub signatures: Vec<SignatureVector>,
    /// AEAD ciphertexts made by Python.
    #[serde(default)]
    pub aead: Vec<AeadVector>,
    /// KDF outputs computed by Python.
    #[serde(default)]
    pub kdf: KdfVectors,
}

/// The outcome a check item expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// Verifies / decrypts / decapsulates to the stated value.
    Accept,
    /// Tampered: must fail or give a different value.
    Reject,
}
