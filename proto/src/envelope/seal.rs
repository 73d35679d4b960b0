//! Sealing an envelope for N recipients (`spec/protocol.md` §11.4 "Sealing"): the payload is
//! encrypted once; each recipient gets a block with its own KEM ciphertext and wrapped content
//! key. The sender checks the same policy relays and recipients check
//! (`spec/protocol.md` §12), so a conforming sender never emits what they must refuse.

use liaison_crypto::sign::SigningKey;
use liaison_crypto::{IdentityId, SecretBytes, SymmetricKey, aead, kdf, labels};
use rand_core::CryptoRng;

use super::{
    ContentType, Envelope, EnvelopeHeader, MAX_PAYLOAD_LEN, MAX_RECIPIENTS, MAX_SUPPLIED_KEY_LEN,
    MESSAGE_ID_LEN, MIN_SUPPLIED_KEY_LEN, MessageId, RecipientBlock, SuppliedKeyRef,
    WRAPPED_KEY_LEN, ZERO_NONCE, encode_supplied, header_hash, write_block, write_header,
};
use crate::certificate::{MemberCertificate, Role};
use crate::codec::Writer;
use crate::prekey::SignedPrekey;
use crate::{Classification, DecodeError, ProtoError, Tlp, UnixTime};

/// A supplied (QKD or pre-shared) key for one recipient, and the ids that name it on the wire.
#[derive(Debug)]
pub struct SuppliedKey<'a> {
    /// Key id and SAE ids, carried in the recipient block.
    pub reference: SuppliedKeyRef,
    /// The key itself (16..=64 bytes), never carried.
    pub key: &'a SecretBytes,
}

#[derive(Debug)]
struct Recipient<'a> {
    certificate: &'a MemberCertificate,
    prekey: &'a SignedPrekey,
    supplied: Option<SuppliedKey<'a>>,
}

/// Builds and seals one envelope.
///
/// ```no_run
/// # use liaison_proto::envelope::*; use liaison_proto::*;
/// # fn f(sender: &liaison_crypto::sign::SigningKey, cert: &certificate::MemberCertificate,
/// #      bob: &certificate::MemberCertificate, bob_prekey: &prekey::SignedPrekey)
/// #      -> Result<(), ProtoError> {
/// let mut rng = liaison_crypto::rng::os_rng();
/// let now = UnixTime(1_800_000_000);
/// let envelope = EnvelopeBuilder::new(
///     sender, cert, Classification::RestreintUe, Tlp::Amber, ContentType::Text,
///     now, now.plus_secs(86_400),
/// )
/// .recipient(bob, bob_prekey, None)
/// .seal(b"report", &mut rng)?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct EnvelopeBuilder<'a> {
    sender: &'a SigningKey,
    sender_certificate: &'a MemberCertificate,
    classification: Classification,
    tlp: Tlp,
    content_type: ContentType,
    created: UnixTime,
    expires: UnixTime,
    message_id: Option<MessageId>,
    recipients: Vec<Recipient<'a>>,
}

impl<'a> EnvelopeBuilder<'a> {
    /// Starts an envelope from `sender` (whose certificate is `sender_certificate`).
    pub fn new(
        sender: &'a SigningKey,
        sender_certificate: &'a MemberCertificate,
        classification: Classification,
        tlp: Tlp,
        content_type: ContentType,
        created: UnixTime,
        expires: UnixTime,
    ) -> Self {
        Self {
            sender,
            sender_certificate,
            classification,
            tlp,
            content_type,
            created,
            expires,
            message_id: None,
            recipients: Vec::new(),
        }
    }

    /// Uses `id` instead of a random message id (retransmissions, test vectors).
    pub fn message_id(mut self, id: MessageId) -> Self {
        self.message_id = Some(id);
        self
    }

    /// Adds a recipient: its certificate (already validated by the caller), one of its signed
    /// prekeys, and optionally a supplied key shared with it.
    pub fn recipient(
        mut self,
        certificate: &'a MemberCertificate,
        prekey: &'a SignedPrekey,
        supplied: Option<SuppliedKey<'a>>,
    ) -> Self {
        self.recipients.push(Recipient {
            certificate,
            prekey,
            supplied,
        });
        self
    }

    /// Checks the sender-side policy and seals `plaintext`.
    ///
    /// Refuses: a sender certificate that is not the sender's, suite mismatches, a suite or
    /// missing supplied key below the classification's policy, a classification above the
    /// sender's or any recipient's clearance, a recipient that is not an officer, a prekey that
    /// is not the recipient's, badly signed or expired at `created`.
    pub fn seal(
        self,
        plaintext: &[u8],
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Envelope, ProtoError> {
        self.check_policy()?;
        self.seal_without_policy_checks(plaintext, rng)
    }

    /// Seals without the policy checks of [`Self::seal`]. Only for tests and tools that must
    /// produce non-conforming envelopes (relays and recipients will refuse them).
    pub fn seal_without_policy_checks(
        mut self,
        plaintext: &[u8],
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Envelope, ProtoError> {
        if plaintext.len() as u64 > MAX_PAYLOAD_LEN {
            return Err(DecodeError::TooLong {
                what: "payload",
                len: plaintext.len(),
                max: usize::try_from(MAX_PAYLOAD_LEN).unwrap_or(usize::MAX),
            }
            .into());
        }
        if self.recipients.is_empty() || self.recipients.len() > MAX_RECIPIENTS {
            return Err(DecodeError::TooLong {
                what: "recipients",
                len: self.recipients.len(),
                max: MAX_RECIPIENTS,
            }
            .into());
        }
        self.recipients.sort_by_key(|r| r.certificate.subject());
        if self
            .recipients
            .windows(2)
            .any(|w| w[0].certificate.subject() == w[1].certificate.subject())
        {
            return Err(ProtoError::InvalidInput {
                what: "recipients",
                reason: "a recipient is named twice",
            });
        }
        let suite = self.sender.suite();
        let message_id = match self.message_id {
            Some(id) => id,
            None => {
                let mut id = [0u8; MESSAGE_ID_LEN];
                rng.fill_bytes(&mut id);
                MessageId(id)
            }
        };
        let header = EnvelopeHeader {
            suite,
            message_id,
            sender: IdentityId::of(self.sender.verifying_key()),
            sender_certificate: self.sender_certificate.clone(),
            classification: self.classification,
            tlp: self.tlp,
            created: self.created,
            expires: self.expires,
            content_type: self.content_type.clone(),
            payload_len: plaintext.len() as u64,
            recipients: self
                .recipients
                .iter()
                .map(|r| r.certificate.subject())
                .collect(),
        };
        let mut hw = Writer::new();
        write_header(&mut hw, &header)?;
        let header_bytes = hw.into_vec();
        let hh = header_hash(&header_bytes);

        let content_key = SymmetricKey::random(rng);
        let ciphertext = aead::seal(&content_key, &ZERO_NONCE, &hh, plaintext);

        let mut bw = Writer::new();
        for r in &self.recipients {
            let block = wrap_for(r, &hh, &content_key, rng)?;
            write_block(&mut bw, &block)?;
        }
        let mut pw = Writer::with_capacity(ciphertext.len() + 4);
        pw.bytes_u32("payload ciphertext", &ciphertext, usize::MAX)?;
        Envelope::assemble_hashed(
            self.sender,
            &header_bytes,
            &hh,
            bw.as_slice(),
            pw.as_slice(),
            rng,
        )
    }

    fn check_policy(&self) -> Result<(), ProtoError> {
        let suite = self.sender.suite();
        let sender_id = IdentityId::of(self.sender.verifying_key());
        let cert = self.sender_certificate;
        if cert.subject() != sender_id {
            return Err(ProtoError::SenderMismatch {
                sender: sender_id,
                certificate: cert.subject(),
            });
        }
        if cert.role() != Role::Officer {
            return Err(ProtoError::WrongRole {
                who: sender_id,
                expected: Role::Officer.name(),
            });
        }
        let level = self.classification;
        let policy = level.min_policy();
        if suite < policy.min_suite {
            return Err(ProtoError::SuiteBelowPolicy { suite, level });
        }
        check_clearance(level, cert)?;
        for r in &self.recipients {
            let who = r.certificate.subject();
            if r.certificate.role() != Role::Officer {
                return Err(ProtoError::WrongRole {
                    who,
                    expected: Role::Officer.name(),
                });
            }
            check_clearance(level, r.certificate)?;
            if policy.supplied_key_required && r.supplied.is_none() {
                return Err(ProtoError::SuppliedKeyRequired {
                    level,
                    recipient: who,
                });
            }
            if r.prekey.suite() != suite {
                return Err(ProtoError::SuiteMismatch {
                    expected: suite,
                    got: r.prekey.suite(),
                });
            }
            r.prekey.verify(r.certificate, self.created)?;
        }
        Ok(())
    }
}

/// Refuses content above `cert`'s clearance.
pub(crate) fn check_clearance(
    level: Classification,
    cert: &MemberCertificate,
) -> Result<(), ProtoError> {
    if level > cert.clearance() {
        Err(ProtoError::ClassificationAboveClearance {
            level,
            clearance: cert.clearance(),
            who: cert.subject(),
        })
    } else {
        Ok(())
    }
}

/// Refuses supplied keys outside the allowed length range.
pub(crate) fn check_supplied_len(key: &SecretBytes) -> Result<(), ProtoError> {
    if (MIN_SUPPLIED_KEY_LEN..=MAX_SUPPLIED_KEY_LEN).contains(&key.len()) {
        Ok(())
    } else {
        Err(ProtoError::SuppliedKeyLength {
            len: key.len(),
            min: MIN_SUPPLIED_KEY_LEN,
            max: MAX_SUPPLIED_KEY_LEN,
        })
    }
}

/// The key-encryption key of one block:
/// `combine([ss], supplied).derive_key("liaison envelope kek v1",
///  [header_hash, recipient_id, prekey_id, supplied_field])`.
pub(crate) fn kek(
    ss: &liaison_crypto::kem::KemSharedSecret,
    supplied: Option<&SecretBytes>,
    header_hash: &[u8],
    block_recipient: &IdentityId,
    prekey_id: &[u8],
    supplied_field: &[u8],
) -> SymmetricKey {
    kdf::combine(&[ss], supplied.map(SecretBytes::expose_secret)).derive_key(
        labels::ENVELOPE_KEK,
        &[
            header_hash,
            block_recipient.as_bytes(),
            prekey_id,
            supplied_field,
        ],
    )
}

fn wrap_for(
    r: &Recipient<'_>,
    header_hash: &[u8],
    content_key: &SymmetricKey,
    rng: &mut (impl CryptoRng + ?Sized),
) -> Result<RecipientBlock, ProtoError> {
    let recipient = r.certificate.subject();
    let supplied_ref = r.supplied.as_ref().map(|s| &s.reference);
    let supplied_field = encode_supplied(supplied_ref)?;
    let supplied_key = r.supplied.as_ref().map(|s| s.key);
    if let Some(key) = supplied_key {
        check_supplied_len(key)?;
    }
    let (kem_ciphertext, ss) = r.prekey.public_key().encapsulate(rng)?;
    let prekey_id = r.prekey.id();
    let kek = kek(
        &ss,
        supplied_key,
        header_hash,
        &recipient,
        prekey_id.as_bytes(),
        &supplied_field,
    );
    let wrapped = aead::seal(&kek, &ZERO_NONCE, header_hash, content_key.expose_secret());
    let wrapped_key: [u8; WRAPPED_KEY_LEN] =
        wrapped.try_into().map_err(|_| ProtoError::InvalidInput {
            what: "wrapped key",
            reason: "unexpected length",
        })?;
    Ok(RecipientBlock {
        recipient,
        prekey_id,
        kem_ciphertext,
        supplied: supplied_ref.cloned(),
        wrapped_key,
        supplied_field,
    })
}
