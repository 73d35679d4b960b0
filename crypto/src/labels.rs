//! Every domain-separation label, KDF label and fixed constant string Liaison hashes, in one
//! place (like Rosenpass's `hash_domains.rs`). `spec/protocol.md` lists the same bytes; a label
//! changes only together with the protocol version.
//!
//! Labels are ASCII byte strings. Where a label is fed to a KDF or hash it is always
//! length-prefixed (see [`crate::kdf`]), so no label is a prefix-collision risk for another.

/// X-Wing's own combiner label, `\./` `/^\` (draft-connolly-cfrg-xwing-kem §5.3), used by `LQ1`.
pub const XWING_LABEL: &[u8; 6] = b"\\.//^\\";

/// Combiner label for the `LQ2` hybrid KEM (X25519 + ML-KEM-1024), same position as X-Wing's.
pub const LQ2_KEM_LABEL: &[u8] = b"liaison LQ2 kem v1";

/// Expands a 32-byte composite signing seed into the Ed25519 seed and the ML-DSA seed.
pub const SIG_SEED_EXPAND: &[u8] = b"liaison sig seed expand v1";

/// Prefix of the message both halves of a composite signature sign.
pub const COMPOSITE_SIG_PREFIX: &[u8] = b"liaison composite signature v1";

/// Hashes a composite public key into an identity id.
pub const IDENTITY_ID: &[u8] = b"liaison identity id v1";

/// Mixes a hybrid KEM secret with an optional supplied (QKD or pre-shared) key.
pub const KEY_COMBINER: &[u8] = b"liaison key combiner v1";
