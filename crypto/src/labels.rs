//! Every domain-separation label, KDF label and fixed constant string Liaison hashes, in one
//! place (like Rosenpass's `hash_domains.rs`). `spec/protocol.md` lists the same bytes; a label
//! changes only together with the protocol version, except that while version 1 is pre-release
//! a label whose inputs change gets a new `vN` suffix instead (`spec/protocol.md` §16).
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

// --- Documents (`spec/protocol.md` §5–§10): signature contexts, hash and KDF labels. ---

/// Signature context of a certificate request (proof of possession by the subject).
pub const CERTIFICATE_REQUEST_SIG: &[u8] = b"liaison certificate request v1";

/// Signature context of a member certificate (signed by a federation authority).
pub const MEMBER_CERTIFICATE_SIG: &[u8] = b"liaison member certificate v1";

/// Signature context of a revocation list (signed by a federation authority).
pub const REVOCATION_LIST_SIG: &[u8] = b"liaison revocation list v1";

/// Signature context of a signed prekey (signed by the owner's identity key).
pub const SIGNED_PREKEY_SIG: &[u8] = b"liaison signed prekey v1";

/// Hashes a prekey's suite and KEM public key into its prekey id.
pub const PREKEY_ID: &[u8] = b"liaison prekey id v1";

/// Transcript label of the envelope header hash (AEAD associated data and KEK context).
pub const ENVELOPE_HEADER_HASH: &[u8] = b"liaison envelope header v1";

/// Transcript label of the envelope payload-section hash.
pub const ENVELOPE_PAYLOAD_HASH: &[u8] = b"liaison envelope payload v1";

/// Transcript label of what an envelope's sender signs: `[header_hash, recipient section,
/// payload_hash]`. `v2` because the first part changed from the header itself to its hash, so
/// no digest of the `v1` transcript (which absorbed the header) equals one of this transcript.
pub const ENVELOPE_TRANSCRIPT: &[u8] = b"liaison envelope transcript v2";

/// Signature context of an envelope (signed by the sender).
pub const ENVELOPE_SIG: &[u8] = b"liaison envelope signature v1";

/// Expands a recipient's key-encryption key from the combined KEM and supplied secret.
pub const ENVELOPE_KEK: &[u8] = b"liaison envelope kek v1";

/// Transcript label of the envelope hash that receipts and deduplication name.
pub const ENVELOPE_HASH: &[u8] = b"liaison envelope hash v1";

/// Signature context of a receipt (signed by the recipient).
pub const RECEIPT_SIG: &[u8] = b"liaison receipt v1";

/// TLS exporter label (RFC 8446 §7.5, empty context) that binds the link handshake to its
/// QUIC connection (`spec/protocol-link.md` §4.3).
pub const LINK_TLS_EXPORTER: &[u8] = b"EXPORTER-liaison-link-v1";

/// Starts the link handshake transcript.
pub const LINK_TRANSCRIPT: &[u8] = b"liaison link transcript v1";

/// Signature context of the responder's handshake signature.
pub const LINK_RESPONDER_SIGNATURE: &[u8] = b"liaison link responder signature v1";

/// Signature context of the initiator's handshake signature.
pub const LINK_INITIATOR_SIGNATURE: &[u8] = b"liaison link initiator signature v1";

/// Derives the responder's handshake finished value.
pub const LINK_RESPONDER_FINISHED: &[u8] = b"liaison link responder finished v1";

/// Derives the initiator's handshake finished value.
pub const LINK_INITIATOR_FINISHED: &[u8] = b"liaison link initiator finished v1";

/// Derives the link master secret from the handshake secret.
pub const LINK_MASTER_SECRET: &[u8] = b"liaison link master secret v1";

/// Derives the initiator-to-responder record key.
pub const LINK_KEY_I2R: &[u8] = b"liaison link key i2r v1";

/// Derives the responder-to-initiator record key.
pub const LINK_KEY_R2I: &[u8] = b"liaison link key r2i v1";

/// Derives the initiator-to-responder nonce IV.
pub const LINK_IV_I2R: &[u8] = b"liaison link iv i2r v1";

/// Derives the responder-to-initiator nonce IV.
pub const LINK_IV_R2I: &[u8] = b"liaison link iv r2i v1";

/// Starts a rekey transcript (chained to the previous epoch's hash).
pub const LINK_REKEY_TRANSCRIPT: &[u8] = b"liaison link rekey transcript v1";

/// Ratchets the link master secret at a rekey.
pub const LINK_REKEY_SECRET: &[u8] = b"liaison link rekey secret v1";

/// Rekey confirmation sent by the side that requested the rekey.
pub const LINK_REKEY_CONFIRM_REQUESTER: &[u8] = b"liaison link rekey confirm requester v1";

/// Rekey confirmation sent by the side that answered the rekey.
pub const LINK_REKEY_CONFIRM_RESPONDER: &[u8] = b"liaison link rekey confirm responder v1";

/// Chains relay audit-log entries: `h_i = SHA-384(info(label, [h_{i-1}, entry_i]))`.
pub const AUDIT_CHAIN: &[u8] = b"liaison audit chain v1";

/// Context of the composite signature a relay puts on an audit checkpoint.
pub const AUDIT_CHECKPOINT: &[u8] = b"liaison audit checkpoint v1";

/// Derives the custody id a relay holds a receipt under (`spec/protocol.md` §13).
pub const RECEIPT_CUSTODY_ID: &[u8] = b"liaison receipt custody id v1";

/// Context of a relay's signature on a non-delivery notice (`spec/protocol.md` §13.1).
pub const NON_DELIVERY_SIG: &[u8] = b"liaison non-delivery v1";

/// Derives the custody id a relay holds a non-delivery notice under (`spec/protocol.md` §13.1).
pub const NON_DELIVERY_CUSTODY_ID: &[u8] = b"liaison non-delivery custody id v1";
