//! Checking and opening envelopes (`spec/protocol.md` §11.5 "Relay checks" and §11.6
//! "Opening"). Relays run [`Envelope::verify_header`] without decrypting anything; a recipient
//! runs [`Envelope::open`], which performs the same sender and policy checks first.

use liaison_crypto::kdf::HASH_LEN;
use liaison_crypto::kem::KemSecretKey;
use liaison_crypto::{SecretBytes, SymmetricKey, aead, labels};

use super::seal::{check_clearance, check_supplied_len, kek};
use super::{Envelope, MAX_CLOCK_SKEW_SECS, ZERO_NONCE};
use crate::certificate::{DocumentType, MemberCertificate, Role, verify_document};
use crate::prekey::PrekeyId;
use crate::trust::TrustStore;
use crate::{Classification, ProtoError, Tlp, UnixTime};

/// A verified, decrypted envelope.
#[derive(Debug)]
pub struct Opened {
    /// The plaintext payload. (The envelope's hash, which a receipt names, is
    /// [`Envelope::envelope_hash`]: computed when a receipt is made, not on every open.)
    pub plaintext: Vec<u8>,
}

impl Envelope {
    /// The checks every party makes, in order: the sender's certificate (trusted, valid at
    /// `now`, an officer, the header's sender, the envelope's suite); the sender's signature;
    /// expiry and clock skew; the suite and supplied-key policy of the classification; the
    /// sender's clearance.
    pub fn verify_sender(&self, trust: &TrustStore, now: UnixTime) -> Result<(), ProtoError> {
        self.verify_sender_hashed(trust, now, &self.header_hash())
    }

    /// [`Self::verify_sender`] given this envelope's [`Self::header_hash`] (`hh`), so that
    /// [`Self::open`], which needs the header hash again for the KEK and the AEADs, hashes the
    /// header once.
    fn verify_sender_hashed(
        &self,
        trust: &TrustStore,
        now: UnixTime,
        hh: &[u8; HASH_LEN],
    ) -> Result<(), ProtoError> {
        let h = self.header();
        let cert = &h.sender_certificate;
        trust.validate_role(cert, Role::Officer, now)?;
        if cert.subject() != h.sender {
            return Err(ProtoError::SenderMismatch {
                sender: h.sender,
                certificate: cert.subject(),
            });
        }
        if cert.suite() != h.suite {
            return Err(ProtoError::SuiteMismatch {
                expected: h.suite,
                got: cert.suite(),
            });
        }
        verify_document(
            cert.public_key(),
            labels::ENVELOPE_SIG,
            &self.signed_digest_hashed(hh),
            self.signature(),
            DocumentType::Envelope,
        )?;
        if now > h.expires {
            return Err(ProtoError::EnvelopeExpired {
                message_id: h.message_id.to_string(),
                expires: h.expires,
            });
        }
        if h.created > now.plus_secs(MAX_CLOCK_SKEW_SECS) {
            return Err(ProtoError::EnvelopeFromFuture {
                message_id: h.message_id.to_string(),
                created: h.created,
            });
        }
        let level = h.classification;
        let policy = level.min_policy();
        if h.suite < policy.min_suite {
            return Err(ProtoError::SuiteBelowPolicy {
                suite: h.suite,
                level,
            });
        }
        let missing = self.blocks().iter().find(|b| b.supplied.is_none());
        if let (true, Some(b)) = (policy.supplied_key_required, missing) {
            return Err(ProtoError::SuppliedKeyRequired {
                level,
                recipient: b.recipient,
            });
        }
        check_clearance(level, cert)
    }

    /// Relay-side check without decrypting: [`Self::verify_sender`], then every recipient.
    ///
    /// `recipients` holds the certificates this relay knows; each is validated and must be an
    /// officer cleared for the classification. A recipient whose certificate is not supplied
    /// is refused when the content is classified ([`ProtoError::UnknownRecipient`]) or
    /// TLP:RED ([`ProtoError::TlpRedUnnamedRecipient`]); unclassified, non-RED content may
    /// pass through to recipients this relay cannot name (another relay's officers).
    pub fn verify_header(
        &self,
        trust: &TrustStore,
        recipients: &[MemberCertificate],
        now: UnixTime,
    ) -> Result<(), ProtoError> {
        self.verify_sender(trust, now)?;
        let h = self.header();
        for id in &h.recipients {
            match recipients.iter().find(|c| c.subject() == *id) {
                Some(cert) => {
                    trust.validate_role(cert, Role::Officer, now)?;
                    check_clearance(h.classification, cert)?;
                }
                None if h.tlp == Tlp::Red => {
                    return Err(ProtoError::TlpRedUnnamedRecipient { id: *id });
                }
                None if h.classification > Classification::Unclassified => {
                    return Err(ProtoError::UnknownRecipient { id: *id });
                }
                None => {}
            }
        }
        Ok(())
    }

    /// Refuses to hand the envelope to a next hop (relay) not cleared for its classification.
    /// The caller has validated `hop` (e.g. in the link handshake).
    pub fn check_hop(&self, hop: &MemberCertificate) -> Result<(), ProtoError> {
        check_clearance(self.header().classification, hop)
    }

    /// Opens the envelope as recipient `me` (its own, validated certificate), trying each of
    /// `prekeys` (current and not-yet-deleted previous prekey secrets), with `supplied` the
    /// key named by this recipient's block, if it names one.
    ///
    /// Runs [`Self::verify_sender`] and checks `me` (trusted, cleared) first, so a tampered,
    /// expired or policy-violating envelope is refused before any decryption.
    pub fn open(
        &self,
        trust: &TrustStore,
        me: &MemberCertificate,
        prekeys: &[&KemSecretKey],
        supplied: Option<&SecretBytes>,
        now: UnixTime,
    ) -> Result<Opened, ProtoError> {
        let hh = self.header_hash();
        self.verify_sender_hashed(trust, now, &hh)?;
        trust.validate_role(me, Role::Officer, now)?;
        check_clearance(self.header().classification, me)?;
        let id = me.subject();
        let block = self
            .blocks()
            .iter()
            .find(|b| b.recipient == id)
            .ok_or(ProtoError::NotARecipient { id })?;
        let secret = prekeys
            .iter()
            .find(|k| PrekeyId::of(k.public_key()) == block.prekey_id)
            .ok_or_else(|| ProtoError::UnknownPrekey {
                prekey_id: block.prekey_id.to_string(),
            })?;
        match (&block.supplied, supplied) {
            (Some(r), None) => {
                return Err(ProtoError::SuppliedKeyNotProvided {
                    key_id: r.key_id.clone(),
                });
            }
            (None, Some(_)) => return Err(ProtoError::UnexpectedSuppliedKey),
            (Some(_), Some(k)) => check_supplied_len(k)?,
            (None, None) => {}
        }
        let mismatch = || ProtoError::RecipientBlockMismatch { recipient: id };
        let ss = secret
            .decapsulate(&block.kem_ciphertext)
            .map_err(|_| mismatch())?;
        let kek = kek(
            &ss,
            supplied,
            &hh,
            &id,
            block.prekey_id.as_bytes(),
            block.supplied_field(),
        );
        let ck = SecretBytes::new(
            aead::open(&kek, &ZERO_NONCE, &hh, &block.wrapped_key).map_err(|_| mismatch())?,
        );
        let content_key =
            SymmetricKey::try_from_slice(ck.expose_secret()).map_err(|_| mismatch())?;
        let plaintext = aead::open(&content_key, &ZERO_NONCE, &hh, self.payload_ciphertext())
            .map_err(|_| ProtoError::PayloadDecryptionFailed)?;
        Ok(Opened { plaintext })
    }
}
