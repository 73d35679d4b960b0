//! Signed prekeys (`spec/protocol.md` §10 "Signed prekeys"): a hybrid KEM public key that an
//! officer publishes, signed by its identity key, to which senders wrap envelope content keys.
//!
//! The owner rotates its prekey every [`PREKEY_ROTATION_SECS`] (7 days); a published prekey is
//! accepted by senders until it expires ([`PREKEY_LIFETIME_SECS`] after creation); the owner
//! keeps the private key [`PREKEY_GRACE_SECS`] longer (so envelopes sealed just before expiry
//! can still be opened within their own lifetime), then deletes it. Once deleted, envelopes
//! sealed to it can no longer be opened by anyone: forward secrecy.
//!
//! The prekey id is a hash of the suite and KEM public key, so a block names its prekey
//! without a registry: the first 32 bytes of `SHA-384(info("liaison prekey id v1", [suite_id,
//! kem_pk]))`.
//!
//! Officers publish their prekeys to their home relay (`PrekeyPublish`); a sender fetches a
//! recipient's with `PrekeyRequest` and receives a [`PrekeyBundle`] — the owner's certificate
//! and its signed prekey — which it checks with [`PrekeyBundle::verify`] before sealing
//! (`spec/protocol-link.md` §3.5).

use core::fmt;

use liaison_crypto::kdf::Transcript;
use liaison_crypto::kem::{KemPublicKey, KemSecretKey};
use liaison_crypto::sign::{Signature, SigningKey};
use liaison_crypto::{IdentityId, Suite, labels};
use rand_core::CryptoRng;

use crate::certificate::{
    DocumentType, MemberCertificate, non_canonical, read_id, read_preamble, read_signature,
    verify_document, write_preamble, write_signature,
};
use crate::certificate::{MAX_CERTIFICATE_LEN, Role};
use crate::codec::{Reader, Writer};
use crate::trust::TrustStore;
use crate::{DecodeError, ProtoError, UnixTime};

/// Bytes of a prekey id.
pub const PREKEY_ID_LEN: usize = 32;
/// Default rotation period of a signed prekey: 7 days.
pub const PREKEY_ROTATION_SECS: u64 = 7 * 24 * 3600;
/// Default validity of a published prekey: 14 days (two rotations overlap).
pub const PREKEY_LIFETIME_SECS: u64 = 14 * 24 * 3600;
/// How long the owner keeps a prekey's private key after the prekey expires: 14 days, the
/// longest envelope lifetime ([`crate::envelope::MAX_ENVELOPE_LIFETIME_SECS`]).
pub const PREKEY_GRACE_SECS: u64 = 14 * 24 * 3600;
/// Longest allowed validity a prekey may claim: 90 days.
pub const MAX_PREKEY_LIFETIME_SECS: u64 = 90 * 24 * 3600;
/// Longest KEM public key field (`LQ2`: 1600 bytes).
pub const MAX_KEM_PUBLIC_KEY_LEN: usize = 2048;
/// Largest encoded signed prekey: preamble, owner, id, the longest KEM key, validity and the
/// longest signature trailer (about 10.3 KiB) fit below it.
pub const MAX_SIGNED_PREKEY_LEN: usize = 16 * 1024;
/// Largest encoded [`PrekeyBundle`]: two `u32` length prefixes, a certificate, a signed prekey.
pub const MAX_PREKEY_BUNDLE_LEN: usize = 4 + MAX_CERTIFICATE_LEN + 4 + MAX_SIGNED_PREKEY_LEN;

/// A prekey's id: the hash of its suite and KEM public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrekeyId(pub [u8; PREKEY_ID_LEN]);

impl PrekeyId {
    /// The id of `key`.
    pub fn of(key: &KemPublicKey) -> Self {
        let mut t = Transcript::new(labels::PREKEY_ID);
        t.absorb(&[key.suite().id()]);
        t.absorb(key.as_bytes());
        let hash = t.current();
        Self(core::array::from_fn(|i| hash[i]))
    }

    /// Raw bytes.
    pub fn as_bytes(&self) -> &[u8; PREKEY_ID_LEN] {
        &self.0
    }
}

impl fmt::Display for PrekeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for PrekeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrekeyId({})", &hex::encode(self.0)[..16])
    }
}

/// A parsed signed prekey, with its exact bytes kept.
#[derive(Debug, Clone)]
pub struct SignedPrekey {
    raw: Vec<u8>,
    tbs_len: usize,
    owner: IdentityId,
    prekey_id: PrekeyId,
    public_key: KemPublicKey,
    created: UnixTime,
    expires: UnixTime,
    signature: Signature,
}

impl PartialEq for SignedPrekey {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Eq for SignedPrekey {}

impl SignedPrekey {
    /// Generates a fresh prekey of `suite` for `owner`, valid from `created` for `lifetime_secs`
    /// (use [`PREKEY_LIFETIME_SECS`]). Returns the signed prekey to publish and the secret to
    /// keep until `expires + PREKEY_GRACE_SECS`.
    pub fn generate(
        owner: &SigningKey,
        suite: Suite,
        created: UnixTime,
        lifetime_secs: u64,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<(Self, KemSecretKey), ProtoError> {
        let secret = KemSecretKey::generate(suite, rng);
        let signed = Self::sign(
            owner,
            &secret,
            created,
            created.plus_secs(lifetime_secs),
            rng,
        )?;
        Ok((signed, secret))
    }

    /// Signs the public half of an existing `secret` (for deterministic test vectors).
    pub fn sign(
        owner: &SigningKey,
        secret: &KemSecretKey,
        created: UnixTime,
        expires: UnixTime,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Self, ProtoError> {
        let pk = secret.public_key();
        let mut w = Writer::new();
        write_preamble(&mut w, DocumentType::SignedPrekey, pk.suite());
        w.raw(IdentityId::of(owner.verifying_key()).as_bytes());
        w.raw(PrekeyId::of(pk).as_bytes());
        w.bytes_u16("KEM public key", pk.as_bytes(), MAX_KEM_PUBLIC_KEY_LEN)?;
        w.u64(created.0);
        w.u64(expires.0);
        let sig = owner.sign(labels::SIGNED_PREKEY_SIG, w.as_slice(), rng)?;
        write_signature(&mut w, &sig)?;
        Self::decode(w.as_slice())
    }

    /// Parses a signed prekey; checks the prekey id and validity bounds, not the signature.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtoError> {
        if bytes.len() > MAX_SIGNED_PREKEY_LEN {
            return Err(DecodeError::TooLong {
                what: "signed prekey",
                len: bytes.len(),
                max: MAX_SIGNED_PREKEY_LEN,
            }
            .into());
        }
        let mut r = Reader::new(bytes);
        let suite = read_preamble(&mut r, DocumentType::SignedPrekey)?;
        let owner = read_id(&mut r, "owner")?;
        let prekey_id = PrekeyId(r.array("prekey id")?);
        let pk_bytes = r.bytes_u16("KEM public key", MAX_KEM_PUBLIC_KEY_LEN)?;
        let public_key = KemPublicKey::from_bytes(suite, pk_bytes)?;
        if PrekeyId::of(&public_key) != prekey_id {
            return Err(non_canonical(
                "prekey id",
                "not the hash of the KEM public key",
            ));
        }
        let created = UnixTime(r.u64("created")?);
        let expires = UnixTime(r.u64("expires")?);
        if expires < created || expires.secs_since(created) > MAX_PREKEY_LIFETIME_SECS {
            return Err(non_canonical("prekey validity", "outside 0..=90 days"));
        }
        let tbs_len = r.position();
        let signature = read_signature(&mut r)?;
        r.expect_end("signed prekey")?;
        Ok(Self {
            raw: bytes.to_vec(),
            tbs_len,
            owner,
            prekey_id,
            public_key,
            created,
            expires,
            signature,
        })
    }

    /// Checks that the prekey belongs to `owner` (whose certificate the caller has validated),
    /// is signed by its identity key, shares its suite, and is valid at `now`.
    pub fn verify(&self, owner: &MemberCertificate, now: UnixTime) -> Result<(), ProtoError> {
        if owner.subject() != self.owner {
            return Err(ProtoError::PrekeyOwnerMismatch {
                expected: owner.subject(),
                got: self.owner,
            });
        }
        verify_document(
            owner.public_key(),
            labels::SIGNED_PREKEY_SIG,
            &self.raw[..self.tbs_len],
            &self.signature,
            DocumentType::SignedPrekey,
        )?;
        if owner.suite() != self.suite() {
            return Err(ProtoError::SuiteMismatch {
                expected: owner.suite(),
                got: self.suite(),
            });
        }
        if now < self.created || now > self.expires {
            return Err(ProtoError::PrekeyExpired {
                owner: self.owner,
                expires: self.expires,
            });
        }
        Ok(())
    }

    /// Whether the owner may delete the private key at `now`.
    pub fn secret_deletable(&self, now: UnixTime) -> bool {
        now > self.expires.plus_secs(PREKEY_GRACE_SECS)
    }

    /// The exact bytes.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The owner's identity id.
    pub fn owner(&self) -> IdentityId {
        self.owner
    }

    /// The prekey id.
    pub fn id(&self) -> PrekeyId {
        self.prekey_id
    }

    /// The KEM suite.
    pub fn suite(&self) -> Suite {
        self.public_key.suite()
    }

    /// The KEM public key senders encapsulate to.
    pub fn public_key(&self) -> &KemPublicKey {
        &self.public_key
    }

    /// When it was created.
    pub fn created(&self) -> UnixTime {
        self.created
    }

    /// When senders stop using it.
    pub fn expires(&self) -> UnixTime {
        self.expires
    }
}

/// A recipient's prekey as a relay hands it out: the owner's member certificate and its signed
/// prekey (`spec/protocol-link.md` §3.5).
///
/// ```text
/// bundle = be32(len) || certificate [len <= 16384] || be32(len) || signed_prekey [len <= 16384]
/// ```
/// A relay is not trusted for this: the sender checks the bundle itself
/// ([`PrekeyBundle::verify`]) before sealing to the prekey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrekeyBundle {
    /// The owner's member certificate.
    pub certificate: MemberCertificate,
    /// The owner's signed prekey.
    pub prekey: SignedPrekey,
}

impl PrekeyBundle {
    /// The wire encoding (at most [`MAX_PREKEY_BUNDLE_LEN`] bytes).
    pub fn encode(&self) -> Vec<u8> {
        let (cert, prekey) = (self.certificate.raw(), self.prekey.raw());
        let mut w = Writer::with_capacity(8 + cert.len() + prekey.len());
        // ok: both were decoded under their limits (16 KiB each), far below u32::MAX
        w.u32(cert.len() as u32);
        w.raw(cert);
        w.u32(prekey.len() as u32);
        w.raw(prekey);
        w.into_vec()
    }

    /// Parses a bundle: both parts must decode; nothing is verified yet.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_PREKEY_BUNDLE_LEN {
            return Err(DecodeError::TooLong {
                what: "prekey bundle",
                len: bytes.len(),
                max: MAX_PREKEY_BUNDLE_LEN,
            });
        }
        let mut r = Reader::new(bytes);
        let cert = r.bytes_u32("bundle certificate", MAX_CERTIFICATE_LEN)?;
        let prekey = r.bytes_u32("bundle signed prekey", MAX_SIGNED_PREKEY_LEN)?;
        r.expect_end("prekey bundle")?;
        let certificate =
            MemberCertificate::decode(cert).map_err(|e| part_error(e, "bundle certificate"))?;
        let prekey =
            SignedPrekey::decode(prekey).map_err(|e| part_error(e, "bundle signed prekey"))?;
        Ok(Self {
            certificate,
            prekey,
        })
    }

    /// The sender's check: the certificate is valid under `trust` at `now` and an officer's,
    /// the prekey belongs to the certificate's subject, is signed by it, shares its suite and
    /// is within its validity.
    pub fn verify(&self, trust: &TrustStore, now: UnixTime) -> Result<(), ProtoError> {
        trust.validate_role(&self.certificate, Role::Officer, now)?;
        self.prekey.verify(&self.certificate, now)
    }

    /// The prekey owner's identity id (the certificate's subject once verified).
    pub fn owner(&self) -> IdentityId {
        self.prekey.owner()
    }
}

/// A bundle part that does not decode, as a decode error of the bundle.
fn part_error(e: ProtoError, what: &'static str) -> DecodeError {
    match e {
        ProtoError::Decode(d) => d,
        _ => DecodeError::NonCanonical {
            what,
            reason: "key material does not decode",
        },
    }
}

#[cfg(test)]
mod tests {
    use liaison_crypto::Seed32;

    use super::*;
    use crate::Classification;
    use crate::certificate::{CertificateRequest, CertificateTerms, Role, issue};

    #[test]
    fn prekey_round_trips_verifies_and_expires() {
        let mut rng = liaison_crypto::rng::os_rng();
        let authority = SigningKey::from_seed(Suite::Lq2, Seed32::from_bytes([1; 32]));
        let officer = SigningKey::from_seed(Suite::Lq2, Seed32::from_bytes([2; 32]));
        let req = CertificateRequest::new(&officer, "Alice", "CERT-EU", &mut rng).unwrap();
        let terms = CertificateTerms {
            role: Role::Officer,
            clearance: Classification::SecretUe,
            home_relay: Some(IdentityId::from_bytes([7; 32])),
            address: None,
            not_before: UnixTime(0),
            not_after: UnixTime(u64::MAX),
            serial: 1,
        };
        let cert = issue(&authority, &req, &terms, &mut rng).unwrap();
        let (pk, sk) = SignedPrekey::generate(
            &officer,
            Suite::Lq2,
            UnixTime(1000),
            PREKEY_LIFETIME_SECS,
            &mut rng,
        )
        .unwrap();
        assert_eq!(PrekeyId::of(sk.public_key()), pk.id());
        let again = SignedPrekey::decode(pk.raw()).unwrap();
        assert_eq!(again, pk);
        again.verify(&cert, UnixTime(2000)).unwrap();
        assert!(matches!(
            again.verify(&cert, UnixTime(1000 + PREKEY_LIFETIME_SECS + 1)),
            Err(ProtoError::PrekeyExpired { .. })
        ));
        assert!(!again.secret_deletable(UnixTime(1000 + PREKEY_LIFETIME_SECS + 1)));
        assert!(again.secret_deletable(UnixTime(1001 + PREKEY_LIFETIME_SECS + PREKEY_GRACE_SECS)));
    }

    fn officer(
        authority: &SigningKey,
        seed: u8,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> (SigningKey, MemberCertificate) {
        let key = SigningKey::from_seed(Suite::Lq2, Seed32::from_bytes([seed; 32]));
        let req = CertificateRequest::new(&key, "Officer", "CERT-EU", rng).unwrap();
        let terms = CertificateTerms {
            role: Role::Officer,
            clearance: Classification::SecretUe,
            home_relay: Some(IdentityId::from_bytes([7; 32])),
            address: None,
            not_before: UnixTime(0),
            not_after: UnixTime(u64::MAX),
            serial: u64::from(seed),
        };
        let cert = issue(authority, &req, &terms, rng).unwrap();
        (key, cert)
    }

    fn bundle_fixture() -> (TrustStore, PrekeyBundle, MemberCertificate) {
        let mut rng = liaison_crypto::rng::os_rng();
        let authority = SigningKey::from_seed(Suite::Lq2, Seed32::from_bytes([1; 32]));
        let (alice, alice_cert) = officer(&authority, 2, &mut rng);
        let (_, bob_cert) = officer(&authority, 3, &mut rng);
        let (prekey, _) = SignedPrekey::generate(
            &alice,
            Suite::Lq2,
            UnixTime(1000),
            PREKEY_LIFETIME_SECS,
            &mut rng,
        )
        .unwrap();
        let trust = TrustStore::new(vec![authority.verifying_key().clone()]);
        let bundle = PrekeyBundle {
            certificate: alice_cert,
            prekey,
        };
        (trust, bundle, bob_cert)
    }

    #[test]
    fn bundle_round_trips_and_verifies() {
        let (trust, bundle, _) = bundle_fixture();
        let wire = bundle.encode();
        assert!(wire.len() <= MAX_PREKEY_BUNDLE_LEN);
        assert!(wire.len() <= crate::frame::MAX_PREKEY_RESPONSE_LEN);
        let back = PrekeyBundle::decode(&wire).unwrap();
        assert_eq!(back, bundle);
        back.verify(&trust, UnixTime(2000)).unwrap();
        assert_eq!(back.owner(), bundle.certificate.subject());
    }

    #[test]
    fn bundle_with_another_officers_certificate_is_refused() {
        let (trust, bundle, bob_cert) = bundle_fixture();
        let swapped = PrekeyBundle {
            certificate: bob_cert,
            prekey: bundle.prekey,
        };
        assert!(matches!(
            swapped.verify(&trust, UnixTime(2000)),
            Err(ProtoError::PrekeyOwnerMismatch { .. })
        ));
    }

    #[test]
    fn bundle_under_an_unknown_authority_or_expired_is_refused() {
        let (_, bundle, _) = bundle_fixture();
        let other = SigningKey::from_seed(Suite::Lq2, Seed32::from_bytes([9; 32]));
        let stranger = TrustStore::new(vec![other.verifying_key().clone()]);
        assert!(matches!(
            bundle.verify(&stranger, UnixTime(2000)),
            Err(ProtoError::UnknownIssuer { .. })
        ));
        let (trust, bundle, _) = bundle_fixture();
        assert!(matches!(
            bundle.verify(&trust, UnixTime(1000 + PREKEY_LIFETIME_SECS + 1)),
            Err(ProtoError::PrekeyExpired { .. })
        ));
    }

    #[test]
    fn truncated_or_padded_bundles_are_malformed() {
        let (_, bundle, _) = bundle_fixture();
        let wire = bundle.encode();
        for cut in [0, 3, 4, 100, wire.len() - 1] {
            assert!(PrekeyBundle::decode(&wire[..cut]).is_err(), "cut {cut}");
        }
        let mut padded = wire.clone();
        padded.push(0);
        assert!(matches!(
            PrekeyBundle::decode(&padded),
            Err(DecodeError::TrailingBytes { .. })
        ));
        let mut huge = wire;
        huge[..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            PrekeyBundle::decode(&huge),
            Err(DecodeError::TooLong { .. })
        ));
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(48))]
        #[test]
        fn mutated_bundles_never_verify(at in proptest::prelude::any::<usize>(), xor in 1u8..=255) {
            let (trust, bundle, _) = bundle_fixture();
            let mut wire = bundle.encode();
            let at = at % wire.len();
            wire[at] ^= xor;
            if let Ok(mutated) = PrekeyBundle::decode(&wire) {
                proptest::prop_assert!(mutated.verify(&trust, UnixTime(2000)).is_err());
            }
        }
    }
}
