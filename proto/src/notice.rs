//! Non-delivery notices (`spec/protocol.md` §13.1): a relay's signed statement that it gave up
//! delivering one exact envelope to some of its recipients, and why. A relay issues one when
//! an envelope it holds in custody can go no further: the next hop refused it for good, or it
//! expired in a queue (its recipient never collected it). The notice travels back to the
//! envelope's sender like a receipt, so a report that was accepted for custody and then
//! refused or lost downstream is never dropped without the sender being told.
//!
//! ```text
//! non_delivery = version || 0x07 || suite || message_id (16) || envelope_hash (48)
//!                || sender (32) || be16(len) || relay certificate
//!                || count (u8) || recipient (32) * count || code (u16)
//!                || be16(len) || reason || issued_at (u64) || signature trailer
//! ```
//! The issuing relay's certificate travels inside, so anyone holding the federation's trust
//! anchors can check the notice without a directory.

use liaison_crypto::kdf::HASH_LEN;
use liaison_crypto::sign::{Signature, SigningKey};
use liaison_crypto::{IdentityId, Suite, labels};
use rand_core::CryptoRng;

use crate::certificate::{
    DocumentType, MAX_CERTIFICATE_LEN, MemberCertificate, Role, read_id, read_preamble,
    read_trailer, verify_document, write_preamble, write_signature,
};
use crate::codec::{Reader, Writer};
use crate::envelope::{Envelope, MAX_RECIPIENTS, MessageId};
use crate::frame::MAX_ERROR_TEXT_LEN;
use crate::trust::TrustStore;
use crate::{DecodeError, ProtoError, UnixTime};

/// Bytes of a notice's custody id ([`NonDelivery::custody_id`]), the length of a message id.
pub const CUSTODY_ID_LEN: usize = crate::envelope::MESSAGE_ID_LEN;

/// Largest encoded notice: the relay certificate dominates.
pub const MAX_NOTICE_LEN: usize = 64 * 1024;

/// What a relay says in a notice: the envelope it gave up on and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeTerms {
    /// The envelope's message id.
    pub message_id: MessageId,
    /// Its envelope hash (§11.3): the exact envelope.
    pub envelope_hash: [u8; HASH_LEN],
    /// Its sender, to whom the notice goes.
    pub sender: IdentityId,
    /// The recipients it was not delivered to (1 to [`MAX_RECIPIENTS`]).
    pub recipients: Vec<IdentityId>,
    /// Why, as a `WireCode` value.
    pub code: u16,
    /// Why, for a person (cut to [`MAX_ERROR_TEXT_LEN`] bytes).
    pub reason: String,
}

impl NoticeTerms {
    /// The terms for `envelope`, undelivered to `recipients` for `code` / `reason`.
    pub fn for_envelope(
        envelope: &Envelope,
        recipients: Vec<IdentityId>,
        code: u16,
        reason: impl Into<String>,
    ) -> Self {
        let h = envelope.header();
        Self {
            message_id: h.message_id,
            envelope_hash: envelope.envelope_hash(),
            sender: h.sender,
            recipients,
            code,
            reason: reason.into(),
        }
    }
}

/// A parsed non-delivery notice, with its exact bytes kept.
#[derive(Debug, Clone)]
pub struct NonDelivery {
    raw: Vec<u8>,
    tbs_len: usize,
    suite: Suite,
    terms: NoticeTerms,
    relay: MemberCertificate,
    issued_at: UnixTime,
    signature: Signature,
}

impl PartialEq for NonDelivery {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Eq for NonDelivery {}

/// Cuts `text` to at most `max` bytes on a character boundary.
fn cut(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut at = max;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.truncate(at);
    }
    text
}

impl NonDelivery {
    /// Signs a notice as the relay holding `relay_key` and certified by `relay`.
    pub fn issue(
        relay_key: &SigningKey,
        relay: &MemberCertificate,
        mut terms: NoticeTerms,
        issued_at: UnixTime,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Self, ProtoError> {
        if relay.role() != Role::Relay {
            return Err(ProtoError::WrongRole {
                who: relay.subject(),
                expected: Role::Relay.name(),
            });
        }
        if relay.public_key() != relay_key.verifying_key() {
            return Err(ProtoError::SubjectKeyMismatch {
                subject: relay.subject(),
            });
        }
        if terms.recipients.is_empty() || terms.recipients.len() > MAX_RECIPIENTS {
            return Err(ProtoError::InvalidInput {
                what: "non-delivery notice",
                reason: "a notice names 1 to 64 recipients",
            });
        }
        terms.reason = cut(terms.reason, MAX_ERROR_TEXT_LEN);
        let mut w = Writer::new();
        write_preamble(&mut w, DocumentType::NonDelivery, relay_key.suite());
        w.raw(&terms.message_id.0);
        w.raw(&terms.envelope_hash);
        w.raw(terms.sender.as_bytes());
        w.bytes_u16("relay certificate", relay.raw(), MAX_CERTIFICATE_LEN)?;
        w.u8(u8::try_from(terms.recipients.len()).unwrap_or(u8::MAX));
        for r in &terms.recipients {
            w.raw(r.as_bytes());
        }
        w.u16(terms.code);
        w.bytes_u16("reason", terms.reason.as_bytes(), MAX_ERROR_TEXT_LEN)?;
        w.u64(issued_at.0);
        let sig = relay_key.sign(labels::NON_DELIVERY_SIG, w.as_slice(), rng)?;
        write_signature(&mut w, &sig)?;
        Self::decode(w.as_slice())
    }

    /// Parses a notice (does not verify it).
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtoError> {
        if bytes.len() > MAX_NOTICE_LEN {
            return Err(DecodeError::TooLong {
                what: "non-delivery notice",
                len: bytes.len(),
                max: MAX_NOTICE_LEN,
            }
            .into());
        }
        let mut r = Reader::new(bytes);
        let suite = read_preamble(&mut r, DocumentType::NonDelivery)?;
        let message_id = MessageId(r.array("message id")?);
        let envelope_hash = r.array("envelope hash")?;
        let sender = read_id(&mut r, "sender")?;
        let relay =
            MemberCertificate::decode(r.bytes_u16("relay certificate", MAX_CERTIFICATE_LEN)?)?;
        let count = usize::from(r.u8("recipient count")?);
        if count == 0 || count > MAX_RECIPIENTS {
            return Err(DecodeError::NonCanonical {
                what: "recipient count",
                reason: "a notice names 1 to 64 recipients",
            }
            .into());
        }
        let mut recipients = Vec::with_capacity(count);
        for _ in 0..count {
            recipients.push(read_id(&mut r, "recipient")?);
        }
        let code = r.u16("code")?;
        let reason = r.string_u16("reason", MAX_ERROR_TEXT_LEN)?.to_owned();
        let issued_at = UnixTime(r.u64("issued at")?);
        let (tbs_len, signature) = read_trailer(&mut r, suite, "non-delivery notice")?;
        Ok(Self {
            raw: bytes.to_vec(),
            tbs_len,
            suite,
            terms: NoticeTerms {
                message_id,
                envelope_hash,
                sender,
                recipients,
                code,
                reason,
            },
            relay,
            issued_at,
            signature,
        })
    }

    /// The relay-side check: the issuing relay's certificate is valid at `now` in `trust` and
    /// a relay's, and the notice is signed by it. (No envelope needed: relays carrying the
    /// notice back do not hold it.)
    pub fn verify_issuer(&self, trust: &TrustStore, now: UnixTime) -> Result<(), ProtoError> {
        trust.validate_role(&self.relay, Role::Relay, now)?;
        if self.relay.suite() != self.suite {
            return Err(ProtoError::SuiteMismatch {
                expected: self.relay.suite(),
                got: self.suite,
            });
        }
        verify_document(
            self.relay.public_key(),
            labels::NON_DELIVERY_SIG,
            &self.raw[..self.tbs_len],
            &self.signature,
            DocumentType::NonDelivery,
        )
    }

    /// The sender's full check: [`Self::verify_issuer`], and the notice names exactly
    /// `envelope` (message id, envelope hash, sender) and only recipients of it.
    pub fn verify(
        &self,
        trust: &TrustStore,
        envelope: &Envelope,
        now: UnixTime,
    ) -> Result<(), ProtoError> {
        self.verify_issuer(trust, now)?;
        let h = envelope.header();
        let t = &self.terms;
        if t.message_id != h.message_id {
            return Err(ProtoError::NoticeMismatch { what: "message id" });
        }
        if t.envelope_hash != envelope.envelope_hash() {
            return Err(ProtoError::NoticeMismatch {
                what: "envelope hash",
            });
        }
        if t.sender != h.sender {
            return Err(ProtoError::NoticeMismatch { what: "sender" });
        }
        if let Some(id) = t.recipients.iter().find(|r| !h.recipients.contains(r)) {
            return Err(ProtoError::NotARecipient { id: *id });
        }
        Ok(())
    }

    /// The id a relay holds this notice under in custody and acknowledges it by
    /// (`spec/protocol.md` §13.1): the first 16 bytes of `SHA-384(info("liaison non-delivery
    /// custody id v1", [message id, envelope hash, relay id, recipient ids...]))`. It differs
    /// from the envelope's id and from its receipts' custody ids.
    pub fn custody_id(&self) -> [u8; CUSTODY_ID_LEN] {
        let t = &self.terms;
        let mut h = liaison_crypto::kdf::Transcript::new(labels::NON_DELIVERY_CUSTODY_ID);
        h.absorb(&t.message_id.0);
        h.absorb(&t.envelope_hash);
        h.absorb(self.relay.subject().as_bytes());
        for r in &t.recipients {
            h.absorb(r.as_bytes());
        }
        let hash = h.current();
        core::array::from_fn(|i| hash[i])
    }

    /// The exact bytes.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// What the notice says.
    pub fn terms(&self) -> &NoticeTerms {
        &self.terms
    }

    /// The envelope's message id.
    pub fn message_id(&self) -> MessageId {
        self.terms.message_id
    }

    /// The envelope's sender.
    pub fn sender(&self) -> IdentityId {
        self.terms.sender
    }

    /// The issuing relay's certificate (validate it before trusting anything else here).
    pub fn relay(&self) -> &MemberCertificate {
        &self.relay
    }

    /// When the relay gave up (its clock).
    pub fn issued_at(&self) -> UnixTime {
        self.issued_at
    }
}

#[cfg(test)]
mod tests {
    use liaison_crypto::rng::os_rng;
    use liaison_crypto::{Seed32, Suite};

    use super::*;
    use crate::Classification;
    use crate::certificate::{CertificateRequest, CertificateTerms, issue};

    fn key(byte: u8) -> SigningKey {
        SigningKey::from_seed(Suite::Lq1, Seed32::from_bytes([byte; 32]))
    }

    fn relay_cert(authority: &SigningKey, relay: &SigningKey, role: Role) -> MemberCertificate {
        let request =
            CertificateRequest::new(relay, "relay.example", "CERT-EU", &mut os_rng()).unwrap();
        let (home_relay, address) = match role {
            Role::Relay => (None, Some("127.0.0.1:4433".into())),
            Role::Officer => (Some(IdentityId::from_bytes([5; 32])), None),
        };
        let terms = CertificateTerms {
            role,
            clearance: Classification::SecretUe,
            home_relay,
            address,
            not_before: UnixTime(0),
            not_after: UnixTime(4_000_000_000),
            serial: 7,
        };
        issue(authority, &request, &terms, &mut os_rng()).unwrap()
    }

    fn terms() -> NoticeTerms {
        NoticeTerms {
            message_id: MessageId([7; 16]),
            envelope_hash: [9; HASH_LEN],
            sender: IdentityId::from_bytes([1; 32]),
            recipients: vec![IdentityId::from_bytes([2; 32])],
            code: 0x0108,
            reason: "recipient unknown".into(),
        }
    }

    #[test]
    fn a_notice_round_trips_and_verifies_against_its_issuer() {
        let (authority, relay) = (key(1), key(2));
        let cert = relay_cert(&authority, &relay, Role::Relay);
        let trust = TrustStore::new(vec![authority.verifying_key().clone()]);
        let n = NonDelivery::issue(&relay, &cert, terms(), UnixTime(1_000), &mut os_rng()).unwrap();
        let again = NonDelivery::decode(n.raw()).unwrap();
        assert_eq!(again, n);
        assert_eq!(again.terms(), &terms());
        again.verify_issuer(&trust, UnixTime(1_000)).unwrap();

        // Any flipped byte in the signed part fails the signature (or the decode).
        let mut forged = n.raw().to_vec();
        let at = n.tbs_len - 9; // inside the reason
        forged[at] ^= 0x01;
        if let Ok(f) = NonDelivery::decode(&forged) {
            assert!(f.verify_issuer(&trust, UnixTime(1_000)).is_err());
        }
        // Another federation's anchors do not validate the relay.
        let other = TrustStore::new(vec![key(9).verifying_key().clone()]);
        assert!(n.verify_issuer(&other, UnixTime(1_000)).is_err());
    }

    #[test]
    fn only_a_relay_may_issue_and_only_with_its_own_key() {
        let (authority, relay) = (key(1), key(2));
        let officer = relay_cert(&authority, &relay, Role::Officer);
        assert!(matches!(
            NonDelivery::issue(&relay, &officer, terms(), UnixTime(1), &mut os_rng()),
            Err(ProtoError::WrongRole { .. })
        ));
        let cert = relay_cert(&authority, &relay, Role::Relay);
        assert!(NonDelivery::issue(&key(3), &cert, terms(), UnixTime(1), &mut os_rng()).is_err());
        let mut none = terms();
        none.recipients.clear();
        assert!(NonDelivery::issue(&relay, &cert, none, UnixTime(1), &mut os_rng()).is_err());
    }

    #[test]
    fn long_reasons_are_cut_and_custody_ids_differ_by_recipient() {
        let (authority, relay) = (key(1), key(2));
        let cert = relay_cert(&authority, &relay, Role::Relay);
        let mut long = terms();
        long.reason = "é".repeat(MAX_ERROR_TEXT_LEN);
        let n = NonDelivery::issue(&relay, &cert, long, UnixTime(1), &mut os_rng()).unwrap();
        assert!(n.terms().reason.len() <= MAX_ERROR_TEXT_LEN);
        let mut other = terms();
        other.recipients = vec![IdentityId::from_bytes([3; 32])];
        let m = NonDelivery::issue(&relay, &cert, other, UnixTime(1), &mut os_rng()).unwrap();
        assert_ne!(n.custody_id(), m.custody_id());
        assert_ne!(n.custody_id(), n.message_id().0);
    }

    #[test]
    fn truncated_notices_are_refused_not_panicked_on() {
        let (authority, relay) = (key(1), key(2));
        let cert = relay_cert(&authority, &relay, Role::Relay);
        let n = NonDelivery::issue(&relay, &cert, terms(), UnixTime(1), &mut os_rng()).unwrap();
        for len in 0..n.raw().len() {
            assert!(NonDelivery::decode(&n.raw()[..len]).is_err(), "{len}");
        }
    }
}
