//! Receipts (`spec/protocol.md` §13 "Receipts"): a recipient's signed statement that it
//! received and opened one exact envelope, returned to the sender (non-repudiation of receipt).
//!
//! ```text
//! receipt = version || 0x06 || suite || message_id (16) || envelope_hash (48)
//!           || sender (32) || recipient (32) || received_at (u64) || signature trailer
//! ```
//! The envelope hash names the exact envelope bytes, so a receipt cannot be moved to another
//! envelope with the same message id.

use liaison_crypto::kdf::HASH_LEN;
use liaison_crypto::sign::{Signature, SigningKey};
use liaison_crypto::{IdentityId, Suite, labels};
use rand_core::CryptoRng;

use crate::certificate::{
    DocumentType, MemberCertificate, Role, read_id, read_preamble, read_trailer, verify_document,
    write_preamble, write_signature,
};
use crate::codec::{Reader, Writer};
use crate::envelope::{Envelope, MessageId};
use crate::trust::TrustStore;
use crate::{ProtoError, UnixTime};

/// Bytes of a receipt's custody id ([`Receipt::custody_id`]), the length of a message id.
pub const CUSTODY_ID_LEN: usize = crate::envelope::MESSAGE_ID_LEN;

/// [`Receipt::custody_id`] from its three inputs.
fn custody_id(
    message_id: &MessageId,
    envelope_hash: &[u8; HASH_LEN],
    recipient: &IdentityId,
) -> [u8; CUSTODY_ID_LEN] {
    let mut t = liaison_crypto::kdf::Transcript::new(labels::RECEIPT_CUSTODY_ID);
    t.absorb(&message_id.0);
    t.absorb(envelope_hash);
    t.absorb(recipient.as_bytes());
    let hash = t.current();
    core::array::from_fn(|i| hash[i])
}

/// A parsed receipt, with its exact bytes kept.
#[derive(Debug, Clone)]
pub struct Receipt {
    raw: Vec<u8>,
    tbs_len: usize,
    suite: Suite,
    message_id: MessageId,
    envelope_hash: [u8; HASH_LEN],
    sender: IdentityId,
    recipient: IdentityId,
    received_at: UnixTime,
    signature: Signature,
}

impl PartialEq for Receipt {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Eq for Receipt {}

impl Receipt {
    /// Signs a receipt for `envelope` as `recipient` (call after [`Envelope::open`] succeeded).
    pub fn issue(
        recipient: &SigningKey,
        envelope: &Envelope,
        received_at: UnixTime,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Self, ProtoError> {
        let h = envelope.header();
        let me = IdentityId::of(recipient.verifying_key());
        if !h.recipients.contains(&me) {
            return Err(ProtoError::NotARecipient { id: me });
        }
        let mut w = Writer::new();
        write_preamble(&mut w, DocumentType::Receipt, recipient.suite());
        w.raw(&h.message_id.0);
        w.raw(&envelope.envelope_hash());
        w.raw(h.sender.as_bytes());
        w.raw(me.as_bytes());
        w.u64(received_at.0);
        let sig = recipient.sign(labels::RECEIPT_SIG, w.as_slice(), rng)?;
        write_signature(&mut w, &sig)?;
        Self::decode(w.as_slice())
    }

    /// Parses a receipt (does not verify it).
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtoError> {
        let mut r = Reader::new(bytes);
        let suite = read_preamble(&mut r, DocumentType::Receipt)?;
        let message_id = MessageId(r.array("message id")?);
        let envelope_hash = r.array("envelope hash")?;
        let sender = read_id(&mut r, "sender")?;
        let recipient = read_id(&mut r, "recipient")?;
        let received_at = UnixTime(r.u64("received at")?);
        let (tbs_len, signature) = read_trailer(&mut r, suite, "receipt")?;
        Ok(Self {
            raw: bytes.to_vec(),
            tbs_len,
            suite,
            message_id,
            envelope_hash,
            sender,
            recipient,
            received_at,
            signature,
        })
    }

    /// Verifies the signature with the recipient's certificate (no envelope needed: for
    /// archives and third parties). The caller validates `recipient` against its trust store.
    pub fn verify_signature(&self, recipient: &MemberCertificate) -> Result<(), ProtoError> {
        if recipient.subject() != self.recipient {
            return Err(ProtoError::ReceiptMismatch { what: "recipient" });
        }
        if recipient.suite() != self.suite {
            return Err(ProtoError::SuiteMismatch {
                expected: recipient.suite(),
                got: self.suite,
            });
        }
        verify_document(
            recipient.public_key(),
            labels::RECEIPT_SIG,
            &self.raw[..self.tbs_len],
            &self.signature,
            DocumentType::Receipt,
        )
    }

    /// The sender's full check: `recipient` is trusted at `now` and an officer, the receipt is
    /// signed by it, and names exactly `envelope` (message id, envelope hash, sender) and a
    /// recipient of it.
    pub fn verify(
        &self,
        trust: &TrustStore,
        recipient: &MemberCertificate,
        envelope: &Envelope,
        now: UnixTime,
    ) -> Result<(), ProtoError> {
        trust.validate_role(recipient, Role::Officer, now)?;
        self.verify_signature(recipient)?;
        let h = envelope.header();
        if self.message_id != h.message_id {
            return Err(ProtoError::ReceiptMismatch { what: "message id" });
        }
        if self.envelope_hash != envelope.envelope_hash() {
            return Err(ProtoError::ReceiptMismatch {
                what: "envelope hash",
            });
        }
        if self.sender != h.sender {
            return Err(ProtoError::ReceiptMismatch { what: "sender" });
        }
        if !h.recipients.contains(&self.recipient) {
            return Err(ProtoError::NotARecipient { id: self.recipient });
        }
        Ok(())
    }

    /// The id a relay holds this receipt under in custody and acknowledges it by
    /// (`spec/protocol.md` §13): the first 16 bytes of `SHA-384(info("liaison receipt custody id
    /// v1", [message id, envelope hash, recipient id]))`. It differs from the envelope's own id,
    /// and receipts from different recipients of one envelope get different ids, so none is
    /// mistaken for a duplicate of another.
    pub fn custody_id(&self) -> [u8; CUSTODY_ID_LEN] {
        custody_id(&self.message_id, &self.envelope_hash, &self.recipient)
    }

    /// The exact bytes.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The suite of the recipient's key.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The envelope's message id.
    pub fn message_id(&self) -> MessageId {
        self.message_id
    }

    /// The envelope's hash.
    pub fn envelope_hash(&self) -> &[u8; HASH_LEN] {
        &self.envelope_hash
    }

    /// The envelope's sender.
    pub fn sender(&self) -> IdentityId {
        self.sender
    }

    /// The recipient who signed.
    pub fn recipient(&self) -> IdentityId {
        self.recipient
    }

    /// When the recipient received the envelope (its clock).
    pub fn received_at(&self) -> UnixTime {
        self.received_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_of_different_recipients_have_different_custody_ids() {
        let message_id = MessageId([7; 16]);
        let hash = [9; HASH_LEN];
        let alice = IdentityId::from_bytes([1; 32]);
        let bob = IdentityId::from_bytes([2; 32]);
        let a = custody_id(&message_id, &hash, &alice);
        assert_ne!(a, custody_id(&message_id, &hash, &bob));
        assert_ne!(
            a, message_id.0,
            "a receipt must not share the envelope's custody id"
        );
        assert_eq!(a, custody_id(&message_id, &hash, &alice));
        assert_ne!(a, custody_id(&message_id, &[8; HASH_LEN], &alice));
    }
}
