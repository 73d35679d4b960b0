//! End-to-end envelopes (`spec/protocol.md` §11 "Envelopes"): a payload encrypted once under a
//! fresh content key, the content key wrapped for each recipient with the hybrid KEM against the
//! recipient's signed prekey (optionally mixed with a supplied QKD/PSK key), and the whole
//! signed by the sender.
//!
//! ```text
//! envelope  = header || recipient section || payload section || signature trailer
//! header_hash  = SHA-384(info("liaison envelope header v1", [header]))
//! payload_hash = SHA-384(info("liaison envelope payload v1", [payload ciphertext]))
//! signed       = SHA-384(info("liaison envelope transcript v2",
//!                             [header_hash, recipient section, payload_hash]))
//! signature    = Sign(sender, "liaison envelope signature v1", signed)
//! ```
//! The header (a few KiB: it carries the sender's certificate) is hashed once per seal, open
//! or relay check: the signed transcript absorbs `header_hash`, and each entry point computes
//! it once and hands it to everything that needs it (signature, KEK context, AEAD data).
//! Relays read the header (ids, recipients, classification, TLP, times, size) and check it
//! with [`Envelope::verify_header`] without decrypting; recipients call [`Envelope::open`].
//! Sealing is in [`EnvelopeBuilder`], verification and opening in [`Envelope::verify_header`]
//! and [`Envelope::open`].

mod digest;
mod seal;
mod verify;

use core::fmt;
use core::ops::Range;

use liaison_crypto::kdf::{HASH_LEN, Transcript};
use liaison_crypto::kem::KemCiphertext;
use liaison_crypto::sign::{Signature, SigningKey};
use liaison_crypto::{IdentityId, Suite, labels};
use rand_core::CryptoRng;

pub use self::digest::{PayloadDigest, PayloadHasher};
pub use self::seal::{EnvelopeBuilder, SuppliedKey};
pub use self::verify::Opened;
use crate::certificate::{
    DocumentType, MAX_CERTIFICATE_LEN, MemberCertificate, non_canonical, read_flag, read_id,
    read_name, read_preamble, read_signature, write_signature,
};
use crate::codec::{Reader, Writer};
use crate::prekey::PrekeyId;
use crate::{Classification, DecodeError, ProtoError, Tlp, UnixTime};

/// Bytes of a message id.
pub const MESSAGE_ID_LEN: usize = 16;
/// Most recipients one envelope may name.
pub const MAX_RECIPIENTS: usize = 64;
/// Largest payload (plaintext) an envelope may carry: 256 MiB.
pub const MAX_PAYLOAD_LEN: u64 = 256 * 1024 * 1024;
/// Longest attachment file name, in UTF-8 bytes.
pub const MAX_FILENAME_LEN: usize = 255;
/// Longest supplied-key id (ETSI GS QKD 014 `key_ID`, usually a 36-character UUID).
pub const MAX_KEY_ID_LEN: usize = 128;
/// Longest SAE id.
pub const MAX_SAE_ID_LEN: usize = 128;
/// Shortest supplied key accepted, in bytes.
pub const MIN_SUPPLIED_KEY_LEN: usize = 16;
/// Longest supplied key accepted, in bytes.
pub const MAX_SUPPLIED_KEY_LEN: usize = 128;
/// Longest lifetime (`expires - created`) of an envelope: 14 days.
pub const MAX_ENVELOPE_LIFETIME_SECS: u64 = 14 * 24 * 3600;
/// How far in the future `created` may be, for clock skew: 5 minutes.
pub const MAX_CLOCK_SKEW_SECS: u64 = 300;
/// A bound on everything in an envelope except the payload ciphertext's plaintext bytes:
/// header (with the sender certificate), 64 recipient blocks of the largest suite with the
/// longest supplied-key names, the payload length prefix and AEAD tag, and the signature
/// trailer. The exact worst case is about 158 KiB (checked by a unit test); 256 KiB leaves room.
pub const MAX_ENVELOPE_OVERHEAD: usize = 256 * 1024;
/// Largest encoded envelope: [`MAX_PAYLOAD_LEN`] plus [`MAX_ENVELOPE_OVERHEAD`]. A link
/// `Envelope` frame carries up to this many bytes (`spec/protocol-link.md` §3.1), so every
/// envelope this module can seal can also be relayed.
// ok: 256 MiB fits in usize on every platform this crate builds for (32-bit included)
pub const MAX_ENVELOPE_LEN: usize = MAX_PAYLOAD_LEN as usize + MAX_ENVELOPE_OVERHEAD;
/// Bytes of a content key.
pub const CONTENT_KEY_LEN: usize = 32;
/// Bytes of a wrapped content key (ChaCha20-Poly1305 of 32 bytes plus tag).
pub const WRAPPED_KEY_LEN: usize = CONTENT_KEY_LEN + liaison_crypto::aead::TAG_LEN;
/// The all-zero nonce used with single-use keys (content keys and KEKs are never reused).
pub const ZERO_NONCE: [u8; liaison_crypto::aead::NONCE_LEN] = [0; liaison_crypto::aead::NONCE_LEN];

/// A 128-bit message id, random per envelope; relays deduplicate by it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub [u8; MESSAGE_ID_LEN]);

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({self})")
    }
}

/// What the payload is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ContentType {
    /// A STIX 2.1 bundle, JSON (0x01).
    Stix21Bundle,
    /// A MISP event, JSON (0x02).
    MispEvent,
    /// UTF-8 free text (0x03).
    Text,
    /// A file (0x04), with its name.
    Attachment {
        /// The file name (1..=255 UTF-8 bytes).
        filename: String,
    },
}

impl ContentType {
    /// Wire value.
    pub const fn wire(&self) -> u8 {
        match self {
            Self::Stix21Bundle => 0x01,
            Self::MispEvent => 0x02,
            Self::Text => 0x03,
            Self::Attachment { .. } => 0x04,
        }
    }

    fn filename(&self) -> &str {
        match self {
            Self::Attachment { filename } => filename,
            _ => "",
        }
    }
}

/// The cleartext header every relay reads (covered by the sender's signature).
#[derive(Debug, Clone)]
pub struct EnvelopeHeader {
    /// Suite of every key in the envelope (sender, prekeys, KEM).
    pub suite: Suite,
    /// The message id.
    pub message_id: MessageId,
    /// The sender's identity id.
    pub sender: IdentityId,
    /// The sender's member certificate (so any relay can check the signature).
    pub sender_certificate: MemberCertificate,
    /// Classification of the content.
    pub classification: Classification,
    /// TLP marking of the content.
    pub tlp: Tlp,
    /// When it was sealed.
    pub created: UnixTime,
    /// When relays drop it.
    pub expires: UnixTime,
    /// What the payload is.
    pub content_type: ContentType,
    /// Plaintext payload length in bytes.
    pub payload_len: u64,
    /// Recipient ids, strictly ascending.
    pub recipients: Vec<IdentityId>,
}

impl EnvelopeHeader {
    /// Reads the header at the start of an envelope's bytes; what follows it need not be
    /// present and is not looked at, and nothing is verified. For a relay that holds an
    /// envelope in pieces and gives up on it (`spec/protocol.md` §13.1).
    pub fn decode_prefix(bytes: &[u8]) -> Result<Self, ProtoError> {
        read_header(&mut Reader::new(bytes))
    }
}

/// [`Envelope::envelope_hash`] of an envelope of `len` bytes given in `pieces`, without
/// joining them. Fails unless the pieces hold exactly `len` bytes.
pub fn envelope_hash_of_pieces<'a>(
    len: usize,
    pieces: impl IntoIterator<Item = &'a [u8]>,
) -> Result<[u8; HASH_LEN], ProtoError> {
    let mut h = liaison_crypto::kdf::TranscriptField::new(labels::ENVELOPE_HASH, len)?;
    for piece in pieces {
        h.update(piece)?;
    }
    Ok(h.finish()?)
}

/// Names the supplied (QKD or pre-shared) key mixed into one recipient's key-encryption key:
/// the ETSI GS QKD 014 `key_ID` and the SAE ids of both ends.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SuppliedKeyRef {
    /// The key's id (ETSI 014 `key_ID`).
    pub key_id: String,
    /// The SAE that obtained the key (`enc_keys`), i.e. the sender's.
    pub source_sae: String,
    /// The SAE that fetches it (`dec_keys`), i.e. the recipient's.
    pub target_sae: String,
}

/// One recipient's block: how it recovers the content key.
#[derive(Debug, Clone)]
pub struct RecipientBlock {
    /// The recipient's identity id.
    pub recipient: IdentityId,
    /// Which of the recipient's signed prekeys was used.
    pub prekey_id: PrekeyId,
    /// Hybrid KEM ciphertext to that prekey.
    pub kem_ciphertext: KemCiphertext,
    /// The supplied key mixed in, if any.
    pub supplied: Option<SuppliedKeyRef>,
    /// The content key wrapped under the recipient's key-encryption key.
    pub wrapped_key: [u8; WRAPPED_KEY_LEN],
    /// The exact bytes of the supplied-key field (flag and ids), part of the KEK context.
    supplied_field: Vec<u8>,
}

/// A parsed envelope, with its exact bytes kept.
#[derive(Debug, Clone)]
pub struct Envelope {
    raw: Vec<u8>,
    header: EnvelopeHeader,
    blocks: Vec<RecipientBlock>,
    header_range: Range<usize>,
    blocks_range: Range<usize>,
    payload_range: Range<usize>,
    ciphertext_range: Range<usize>,
    signature: Signature,
    /// The payload hash, when it was computed while the bytes arrived ([`PayloadHasher`]).
    payload_hash: Option<[u8; HASH_LEN]>,
}

impl Envelope {
    /// Parses an envelope; checks every encoding rule, not the signature or policy.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtoError> {
        Self::decode_owned(bytes.to_vec(), None)
    }

    /// Like [`Self::decode`], but keeps `raw` itself (no copy of a large envelope), and takes
    /// the payload hash from `digest` when it was computed over exactly this envelope's
    /// ciphertext range in a buffer of exactly this length ([`PayloadHasher`] over the same
    /// bytes, as the link does while an envelope arrives in parts). Otherwise the hash is
    /// computed here when the signature is checked, as for [`Self::decode`]. The checks are
    /// the same either way.
    pub fn decode_owned(raw: Vec<u8>, digest: Option<&PayloadDigest>) -> Result<Self, ProtoError> {
        let mut env = Self::parse(raw)?;
        env.payload_hash = digest.and_then(|d| d.hash_for(&env.raw, &env.ciphertext_range));
        Ok(env)
    }

    /// The exact bytes, taken back.
    pub fn into_raw(self) -> Vec<u8> {
        self.raw
    }

    fn parse(raw: Vec<u8>) -> Result<Self, ProtoError> {
        let bytes = &raw[..];
        let mut r = Reader::new(bytes);
        let header = read_header(&mut r)?;
        let header_range = 0..r.position();
        let mut blocks = Vec::with_capacity(header.recipients.len());
        for expected in &header.recipients {
            let block = read_block(&mut r, header.suite)?;
            if block.recipient != *expected {
                return Err(non_canonical(
                    "recipient block",
                    "not in header recipient order",
                ));
            }
            blocks.push(block);
        }
        let blocks_range = header_range.end..r.position();
        let ct_max =
            usize::try_from(MAX_PAYLOAD_LEN).unwrap_or(usize::MAX) + liaison_crypto::aead::TAG_LEN;
        let ciphertext = r.bytes_u32("payload ciphertext", ct_max)?;
        let payload_range = blocks_range.end..r.position();
        let ciphertext_range = payload_range.end - ciphertext.len()..payload_range.end;
        let expected_len = header
            .payload_len
            .saturating_add(liaison_crypto::aead::TAG_LEN as u64);
        if ciphertext.len() as u64 != expected_len {
            return Err(non_canonical(
                "payload ciphertext",
                "length is not payload length + 16",
            ));
        }
        let signature = read_signature(&mut r)?;
        r.expect_end("envelope")?;
        if signature.suite() != header.suite {
            return Err(ProtoError::SuiteMismatch {
                expected: header.suite,
                got: signature.suite(),
            });
        }
        Ok(Self {
            raw,
            header,
            blocks,
            header_range,
            blocks_range,
            payload_range,
            ciphertext_range,
            signature,
            payload_hash: None,
        })
    }

    /// Signs already-encoded parts and parses the result. This is sealing's last step, public
    /// for tools and tests that assemble envelopes from parts; it enforces no policy.
    pub fn assemble(
        sender: &SigningKey,
        header: &[u8],
        recipient_section: &[u8],
        payload_section: &[u8],
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Self, ProtoError> {
        let hh = header_hash(header);
        Self::assemble_hashed(sender, header, &hh, recipient_section, payload_section, rng)
    }

    /// [`Self::assemble`] with the header's hash already computed (`hh` is
    /// [`header_hash`] of `header`), so sealing hashes the header once.
    pub(crate) fn assemble_hashed(
        sender: &SigningKey,
        header: &[u8],
        hh: &[u8; HASH_LEN],
        recipient_section: &[u8],
        payload_section: &[u8],
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Self, ProtoError> {
        // A malformed payload section is refused by the final decode.
        let ct = payload_section.get(4..).unwrap_or_default();
        let digest = signed_digest(hh, recipient_section, &payload_hash(ct));
        let sig = sender.sign(labels::ENVELOPE_SIG, &digest, rng)?;
        let mut w = Writer::with_capacity(
            header.len() + recipient_section.len() + payload_section.len() + 5000,
        );
        w.raw(header);
        w.raw(recipient_section);
        w.raw(payload_section);
        write_signature(&mut w, &sig)?;
        // The final decode checks what was built and keeps the buffer (no copy).
        Self::decode_owned(w.into_vec(), None)
    }

    /// The exact bytes.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The parsed header.
    pub fn header(&self) -> &EnvelopeHeader {
        &self.header
    }

    /// The recipient blocks, in header order.
    pub fn blocks(&self) -> &[RecipientBlock] {
        &self.blocks
    }

    /// The exact header bytes.
    pub fn header_bytes(&self) -> &[u8] {
        &self.raw[self.header_range.clone()]
    }

    /// The exact recipient-section bytes.
    pub fn recipient_section(&self) -> &[u8] {
        &self.raw[self.blocks_range.clone()]
    }

    /// The exact payload-section bytes (`be32(len) || ciphertext`).
    pub fn payload_section(&self) -> &[u8] {
        &self.raw[self.payload_range.clone()]
    }

    /// The payload ciphertext (with tag).
    pub fn payload_ciphertext(&self) -> &[u8] {
        &self.raw[self.ciphertext_range.clone()]
    }

    /// The sender's signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// `SHA-384(info("liaison envelope header v1", [header]))`: AEAD associated data, KEK
    /// context and the first part of the signed transcript. Each call hashes the header.
    pub fn header_hash(&self) -> [u8; HASH_LEN] {
        header_hash(self.header_bytes())
    }

    /// The digest the sender signs:
    /// `SHA-384(info("liaison envelope transcript v2", [header_hash, recipient section,
    /// payload_hash]))`.
    pub fn signed_digest(&self) -> [u8; HASH_LEN] {
        self.signed_digest_hashed(&self.header_hash())
    }

    /// [`Self::signed_digest`] given this envelope's [`Self::header_hash`], for callers that
    /// also need the header hash (opening), so the header is hashed once.
    pub(crate) fn signed_digest_hashed(&self, hh: &[u8; HASH_LEN]) -> [u8; HASH_LEN] {
        let payload = self
            .payload_hash
            .unwrap_or_else(|| payload_hash(self.payload_ciphertext()));
        signed_digest(hh, self.recipient_section(), &payload)
    }

    /// `SHA-384(info("liaison envelope hash v1", [envelope]))`: what receipts and
    /// deduplication name.
    pub fn envelope_hash(&self) -> [u8; HASH_LEN] {
        let mut t = Transcript::new(labels::ENVELOPE_HASH);
        t.absorb(&self.raw);
        t.current()
    }
}

pub(crate) fn header_hash(header: &[u8]) -> [u8; HASH_LEN] {
    let mut t = Transcript::new(labels::ENVELOPE_HEADER_HASH);
    t.absorb(header);
    t.current()
}

pub(crate) fn payload_hash(ciphertext: &[u8]) -> [u8; HASH_LEN] {
    let mut t = Transcript::new(labels::ENVELOPE_PAYLOAD_HASH);
    t.absorb(ciphertext);
    t.current()
}

/// The signed transcript absorbs the header's hash, not the header: `header_hash` is a
/// collision-resistant commitment to the header (`spec/protocol.md` §11.3), so signing it binds
/// the header exactly as signing the header did, for 48 bytes instead of several KiB.
pub(crate) fn signed_digest(
    header_hash: &[u8; HASH_LEN],
    blocks: &[u8],
    payload_hash: &[u8; HASH_LEN],
) -> [u8; HASH_LEN] {
    let mut t = Transcript::new(labels::ENVELOPE_TRANSCRIPT);
    t.absorb(header_hash);
    t.absorb(blocks);
    t.absorb(payload_hash);
    t.current()
}

/// Encodes the header (also used by the builder).
pub(crate) fn write_header(w: &mut Writer, h: &EnvelopeHeader) -> Result<(), ProtoError> {
    crate::certificate::write_preamble(w, DocumentType::Envelope, h.suite);
    w.raw(&h.message_id.0);
    w.raw(h.sender.as_bytes());
    w.bytes_u16(
        "sender certificate",
        h.sender_certificate.raw(),
        MAX_CERTIFICATE_LEN,
    )?;
    w.u8(h.classification.wire());
    w.u8(h.tlp.wire());
    w.u64(h.created.0);
    w.u64(h.expires.0);
    w.u8(h.content_type.wire());
    w.bytes_u16(
        "filename",
        h.content_type.filename().as_bytes(),
        MAX_FILENAME_LEN,
    )?;
    w.u64(h.payload_len);
    if h.recipients.is_empty() || h.recipients.len() > MAX_RECIPIENTS {
        return Err(DecodeError::TooLong {
            what: "recipients",
            len: h.recipients.len(),
            max: MAX_RECIPIENTS,
        }
        .into());
    }
    // ok: at most MAX_RECIPIENTS (64), checked above
    w.u16(h.recipients.len() as u16);
    for id in &h.recipients {
        w.raw(id.as_bytes());
    }
    Ok(())
}

/// Encodes the supplied-key field: `0x00`, or `0x01 || key_id || source_sae || target_sae`.
pub(crate) fn encode_supplied(s: Option<&SuppliedKeyRef>) -> Result<Vec<u8>, ProtoError> {
    let mut w = Writer::new();
    match s {
        None => w.u8(0),
        Some(s) => {
            w.u8(1);
            for (what, v, max) in [
                ("key id", &s.key_id, MAX_KEY_ID_LEN),
                ("source SAE id", &s.source_sae, MAX_SAE_ID_LEN),
                ("target SAE id", &s.target_sae, MAX_SAE_ID_LEN),
            ] {
                if v.is_empty() {
                    return Err(ProtoError::InvalidInput {
                        what,
                        reason: "must not be empty",
                    });
                }
                w.bytes_u16(what, v.as_bytes(), max)?;
            }
        }
    }
    Ok(w.into_vec())
}

fn read_header(r: &mut Reader<'_>) -> Result<EnvelopeHeader, ProtoError> {
    let suite = read_preamble(r, DocumentType::Envelope)?;
    let message_id = MessageId(r.array("message id")?);
    let sender = read_id(r, "sender")?;
    let cert = r.bytes_u16("sender certificate", MAX_CERTIFICATE_LEN)?;
    let sender_certificate = MemberCertificate::decode(cert)?;
    let classification = Classification::from_wire(r.u8("classification")?)?;
    let tlp = Tlp::from_wire(r.u8("TLP")?)?;
    let created = UnixTime(r.u64("created")?);
    let expires = UnixTime(r.u64("expires")?);
    if expires < created || expires.secs_since(created) > MAX_ENVELOPE_LIFETIME_SECS {
        return Err(non_canonical("envelope lifetime", "outside 0..=14 days"));
    }
    let ty = r.u8("content type")?;
    let filename = r.string_u16("filename", MAX_FILENAME_LEN)?;
    let content_type = match (ty, filename.is_empty()) {
        (0x01, true) => ContentType::Stix21Bundle,
        (0x02, true) => ContentType::MispEvent,
        (0x03, true) => ContentType::Text,
        (0x04, false) => ContentType::Attachment {
            filename: filename.to_owned(),
        },
        (0x01..=0x04, _) => {
            return Err(non_canonical(
                "filename",
                "required for attachments, empty otherwise",
            ));
        }
        (other, _) => {
            return Err(DecodeError::UnknownValue {
                what: "content type",
                value: u64::from(other),
            }
            .into());
        }
    };
    let payload_len = r.u64("payload length")?;
    if payload_len > MAX_PAYLOAD_LEN {
        return Err(DecodeError::TooLong {
            what: "payload",
            len: usize::try_from(payload_len).unwrap_or(usize::MAX),
            max: usize::try_from(MAX_PAYLOAD_LEN).unwrap_or(usize::MAX),
        }
        .into());
    }
    let n = usize::from(r.u16("recipient count")?);
    if n == 0 || n > MAX_RECIPIENTS {
        return Err(DecodeError::TooLong {
            what: "recipients",
            len: n,
            max: MAX_RECIPIENTS,
        }
        .into());
    }
    let mut recipients = Vec::with_capacity(n);
    for _ in 0..n {
        recipients.push(read_id(r, "recipient")?);
    }
    if !recipients.windows(2).all(|w| w[0] < w[1]) {
        return Err(non_canonical("recipients", "must be strictly ascending"));
    }
    Ok(EnvelopeHeader {
        suite,
        message_id,
        sender,
        sender_certificate,
        classification,
        tlp,
        created,
        expires,
        content_type,
        payload_len,
        recipients,
    })
}

fn read_block(r: &mut Reader<'_>, suite: Suite) -> Result<RecipientBlock, ProtoError> {
    let recipient = read_id(r, "block recipient")?;
    let prekey_id = PrekeyId(r.array("block prekey id")?);
    let ct = r.bytes_u16("KEM ciphertext", suite.kem_ciphertext_len())?;
    let kem_ciphertext = KemCiphertext::from_bytes(suite, ct)?;
    let start = r.position();
    let supplied = match read_flag(r, "supplied key flag")? {
        false => None,
        true => Some(SuppliedKeyRef {
            key_id: read_name(r, "key id", MAX_KEY_ID_LEN)?,
            source_sae: read_name(r, "source SAE id", MAX_SAE_ID_LEN)?,
            target_sae: read_name(r, "target SAE id", MAX_SAE_ID_LEN)?,
        }),
    };
    let supplied_field = encode_supplied(supplied.as_ref())?;
    let consumed = r.position() - start;
    if consumed != supplied_field.len() {
        return Err(non_canonical("supplied key field", "not canonical"));
    }
    let wrapped_key = r.array("wrapped key")?;
    Ok(RecipientBlock {
        recipient,
        prekey_id,
        kem_ciphertext,
        supplied,
        wrapped_key,
        supplied_field,
    })
}

/// Encodes one recipient block.
pub(crate) fn write_block(w: &mut Writer, b: &RecipientBlock) -> Result<(), ProtoError> {
    w.raw(b.recipient.as_bytes());
    w.raw(b.prekey_id.as_bytes());
    w.bytes_u16(
        "KEM ciphertext",
        b.kem_ciphertext.as_bytes(),
        b.kem_ciphertext.suite().kem_ciphertext_len(),
    )?;
    w.raw(&b.supplied_field);
    w.raw(&b.wrapped_key);
    Ok(())
}

impl RecipientBlock {
    /// The exact supplied-key field bytes (part of the KEK context).
    pub fn supplied_field(&self) -> &[u8] {
        &self.supplied_field
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::MAX_SIGNATURE_LEN;

    #[test]
    fn overhead_bound_covers_the_largest_envelope_structure() {
        let largest_kem_ct = [Suite::Lq1, Suite::Lq2]
            .iter()
            .map(|s| s.kem_ciphertext_len())
            .max()
            .unwrap_or(0);
        let header = 3
            + MESSAGE_ID_LEN
            + 32
            + 2
            + MAX_CERTIFICATE_LEN
            + 1
            + 1
            + 8
            + 8
            + 1
            + 2
            + MAX_FILENAME_LEN
            + 8
            + 2
            + MAX_RECIPIENTS * 32;
        let supplied = 1 + 2 + MAX_KEY_ID_LEN + 2 * (2 + MAX_SAE_ID_LEN);
        let block = 32 + 32 + 2 + largest_kem_ct + supplied + WRAPPED_KEY_LEN;
        let payload_framing = 4 + liaison_crypto::aead::TAG_LEN;
        let trailer = 1 + 2 + MAX_SIGNATURE_LEN;
        let worst = header + MAX_RECIPIENTS * block + payload_framing + trailer;
        assert!(
            worst <= MAX_ENVELOPE_OVERHEAD,
            "worst case {worst} > {MAX_ENVELOPE_OVERHEAD}"
        );
        assert_eq!(
            MAX_ENVELOPE_LEN as u64,
            MAX_PAYLOAD_LEN + MAX_ENVELOPE_OVERHEAD as u64
        );
    }
}
