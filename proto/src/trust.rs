//! The trust store (`spec/protocol.md` §9 "Certificate validation"): the federation's trust
//! anchors and the newest revocation list of each, and the one function that decides whether a
//! member certificate is acceptable now.
//!
//! Validation order (first failure wins, each with its own error):
//! 1. the issuer is an anchor ([`ProtoError::UnknownIssuer`]);
//! 2. the anchor's signature over the exact signed bytes ([`ProtoError::BadSignature`]);
//! 3. the subject id is the id of the certified key ([`ProtoError::SubjectKeyMismatch`]);
//! 4. `not_before <= now <= not_after` ([`ProtoError::CertificateNotYetValid`],
//!    [`ProtoError::CertificateExpired`]);
//! 5. neither its serial (in its issuer's list) nor its subject (in any installed list) is
//!    revoked ([`ProtoError::CertificateRevoked`]).
//!
//! With no list installed for an issuer, nothing of that issuer is revoked: deployments
//! install a list at start-up and whenever a newer one arrives.
//!
//! Steps 2 and 3 depend only on the certificate's bytes and the anchor set, which never
//! changes for a store, so their outcome is remembered: a relay sees the same few hundred
//! certificates in every envelope and handshake, and checking a composite signature costs
//! far more than the rest of validation. Steps 4 and 5 run every time, so expiry and
//! revocation take effect at once. See [`TrustStore::validate`].

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use liaison_crypto::IdentityId;
use liaison_crypto::sign::VerifyingKey;

use crate::certificate::{MemberCertificate, Role};
use crate::revocation::RevocationList;
use crate::{ProtoError, UnixTime};

/// Most certificates remembered as signature-checked; past it the memory starts over.
/// A relay's directory plus its officers' correspondents fit with room to spare; each entry
/// holds one certificate's bytes (about 4–8 KiB).
pub const VERIFIED_CACHE_CAPACITY: usize = 4096;

/// Trust anchors (federation authority keys) and their current revocation lists.
///
/// Clones share the memory of certificates whose signatures were checked (their anchors are
/// the same, and a store's anchors never change).
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    anchors: BTreeMap<IdentityId, VerifyingKey>,
    revocations: BTreeMap<IdentityId, RevocationList>,
    verified: Arc<VerifiedCertificates>,
}

/// The exact bytes of certificates that passed steps 1–3 of validation under this store.
#[derive(Default)]
struct VerifiedCertificates {
    raw: Mutex<HashSet<Box<[u8]>>>,
}

impl VerifiedCertificates {
    fn contains(&self, raw: &[u8]) -> bool {
        self.raw
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(raw)
    }

    fn insert(&self, raw: &[u8]) {
        let mut set = self
            .raw
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if set.len() >= VERIFIED_CACHE_CAPACITY {
            // Only certificates an anchor signed get here, so churning it takes a federation's
            // worth of genuine certificates; starting over is then as good as any eviction.
            set.clear();
        }
        set.insert(raw.into());
    }

    fn len(&self) -> usize {
        self.raw
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

impl std::fmt::Debug for VerifiedCertificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerifiedCertificates({})", self.len())
    }
}

impl TrustStore {
    /// A store trusting `anchors` (duplicates collapse), with no revocation list yet.
    pub fn new(anchors: Vec<VerifyingKey>) -> Self {
        Self {
            anchors: anchors
                .into_iter()
                .map(|k| (IdentityId::of(&k), k))
                .collect(),
            revocations: BTreeMap::new(),
            verified: Arc::default(),
        }
    }

    /// The anchor with id `id`, if trusted.
    pub fn anchor(&self, id: &IdentityId) -> Option<&VerifyingKey> {
        self.anchors.get(id)
    }

    /// Ids of every anchor.
    pub fn anchor_ids(&self) -> impl Iterator<Item = &IdentityId> {
        self.anchors.keys()
    }

    /// The installed revocation list of `issuer`.
    pub fn revocation_list(&self, issuer: &IdentityId) -> Option<&RevocationList> {
        self.revocations.get(issuer)
    }

    /// Installs `crl` after checking it: signed by an anchor, current at `now`
    /// (`this_update <= now <= next_update`), and newer than the installed list of the same
    /// issuer. Re-installing the identical list is a no-op; a different list with the same or
    /// a lower number is a rollback and is refused.
    pub fn install_revocations(
        &mut self,
        crl: RevocationList,
        now: UnixTime,
    ) -> Result<(), ProtoError> {
        let issuer = crl.issuer();
        let key = self
            .anchors
            .get(&issuer)
            .ok_or(ProtoError::UnknownIssuer { issuer })?;
        crl.verify_signature(key)?;
        if now < crl.this_update() || now > crl.next_update() {
            return Err(ProtoError::RevocationListExpired {
                number: crl.number(),
                next_update: crl.next_update(),
            });
        }
        if let Some(installed) = self.revocations.get(&issuer) {
            if installed == &crl {
                return Ok(());
            }
            if crl.number() <= installed.number() {
                return Err(ProtoError::RevocationListRollback {
                    issuer,
                    installed: installed.number(),
                    offered: crl.number(),
                });
            }
        }
        self.revocations.insert(issuer, crl);
        Ok(())
    }

    /// Whether any installed list is past its `next_update` at `now` (the operator should
    /// fetch a new one; validation keeps using the stale list meanwhile).
    pub fn revocations_stale(&self, now: UnixTime) -> bool {
        self.revocations.values().any(|l| now > l.next_update())
    }

    /// Decides whether `cert` is acceptable at `now` (see the module docs for the order).
    ///
    /// The signature and subject checks are skipped for bytes that already passed them under
    /// this store (at most [`VERIFIED_CACHE_CAPACITY`] remembered); validity dates and
    /// revocation are checked on every call.
    pub fn validate(&self, cert: &MemberCertificate, now: UnixTime) -> Result<(), ProtoError> {
        let issuer = cert.issuer();
        let key = self
            .anchors
            .get(&issuer)
            .ok_or(ProtoError::UnknownIssuer { issuer })?;
        let subject = cert.subject();
        if !self.verified.contains(cert.raw()) {
            cert.verify_signature(key)?;
            if IdentityId::of(cert.public_key()) != subject {
                return Err(ProtoError::SubjectKeyMismatch { subject });
            }
            self.verified.insert(cert.raw());
        }
        if now < cert.not_before() {
            return Err(ProtoError::CertificateNotYetValid {
                subject,
                not_before: cert.not_before(),
            });
        }
        if now > cert.not_after() {
            return Err(ProtoError::CertificateExpired {
                subject,
                not_after: cert.not_after(),
            });
        }
        let by_serial = self
            .revocations
            .get(&issuer)
            .is_some_and(|l| l.revokes_serial(cert.serial()));
        let by_subject = self
            .revocations
            .values()
            .any(|l| l.revokes_subject(&subject));
        if by_serial || by_subject {
            return Err(ProtoError::CertificateRevoked {
                serial: cert.serial(),
                subject,
            });
        }
        Ok(())
    }

    /// [`Self::validate`], then checks the certificate's role.
    pub fn validate_role(
        &self,
        cert: &MemberCertificate,
        role: Role,
        now: UnixTime,
    ) -> Result<(), ProtoError> {
        self.validate(cert, now)?;
        if cert.role() == role {
            Ok(())
        } else {
            Err(ProtoError::WrongRole {
                who: cert.subject(),
                expected: role.name(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use liaison_crypto::sign::SigningKey;
    use liaison_crypto::{Seed32, Suite};

    use super::*;
    use crate::Classification;
    use crate::certificate::{CertificateRequest, CertificateTerms, issue};
    use crate::revocation::RevocationContents;

    struct Fixture {
        authority: SigningKey,
        cert: MemberCertificate,
    }

    fn fixture() -> Fixture {
        let mut rng = liaison_crypto::rng::os_rng();
        let authority = SigningKey::from_seed(Suite::Lq2, Seed32::from_bytes([1; 32]));
        let relay = SigningKey::from_seed(Suite::Lq2, Seed32::from_bytes([2; 32]));
        let req = CertificateRequest::new(&relay, "relay-1", "CERT-EU", &mut rng).unwrap();
        let terms = CertificateTerms {
            role: Role::Relay,
            clearance: Classification::ConfidentielUe,
            home_relay: None,
            address: Some("relay1.example:4433".into()),
            not_before: UnixTime(100),
            not_after: UnixTime(200),
            serial: 42,
        };
        let cert = issue(&authority, &req, &terms, &mut rng).unwrap();
        Fixture { authority, cert }
    }

    fn crl(authority: &SigningKey, number: u64, serials: Vec<u64>) -> RevocationList {
        let mut rng = liaison_crypto::rng::os_rng();
        let contents = RevocationContents {
            number,
            this_update: UnixTime(100),
            next_update: UnixTime(300),
            revoked_serials: serials,
            revoked_subjects: vec![],
        };
        RevocationList::issue(authority, contents, &mut rng).unwrap()
    }

    #[test]
    fn validates_then_refuses_expired_revoked_and_unknown() {
        let f = fixture();
        let mut store = TrustStore::new(vec![f.authority.verifying_key().clone()]);
        store.validate(&f.cert, UnixTime(150)).unwrap();
        store
            .validate_role(&f.cert, Role::Relay, UnixTime(150))
            .unwrap();
        assert!(matches!(
            store.validate_role(&f.cert, Role::Officer, UnixTime(150)),
            Err(ProtoError::WrongRole { .. })
        ));
        assert!(matches!(
            store.validate(&f.cert, UnixTime(201)),
            Err(ProtoError::CertificateExpired { .. })
        ));
        assert!(matches!(
            store.validate(&f.cert, UnixTime(99)),
            Err(ProtoError::CertificateNotYetValid { .. })
        ));
        store
            .install_revocations(crl(&f.authority, 2, vec![42]), UnixTime(150))
            .unwrap();
        assert!(matches!(
            store.validate(&f.cert, UnixTime(150)),
            Err(ProtoError::CertificateRevoked { serial: 42, .. })
        ));
        assert!(matches!(
            store.install_revocations(crl(&f.authority, 1, vec![]), UnixTime(150)),
            Err(ProtoError::RevocationListRollback {
                installed: 2,
                offered: 1,
                ..
            })
        ));
        let empty = TrustStore::new(vec![]);
        assert!(matches!(
            empty.validate(&f.cert, UnixTime(150)),
            Err(ProtoError::UnknownIssuer { .. })
        ));
    }

    #[test]
    fn remembered_signatures_never_excuse_other_bytes_dates_or_revocation() {
        let f = fixture();
        let store = TrustStore::new(vec![f.authority.verifying_key().clone()]);
        store.validate(&f.cert, UnixTime(150)).unwrap();
        assert_eq!(store.verified.len(), 1);
        // Same certificate again: remembered, still valid.
        store.validate(&f.cert, UnixTime(150)).unwrap();
        assert_eq!(store.verified.len(), 1);
        // Every byte of the signature trailer matters, remembered or not: flip one.
        let mut raw = f.cert.raw().to_vec();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        let forged = MemberCertificate::decode(&raw).unwrap();
        assert!(matches!(
            store.validate(&forged, UnixTime(150)),
            Err(ProtoError::BadSignature { .. })
        ));
        assert_eq!(store.verified.len(), 1, "a failure is not remembered");
        // Dates and revocation of a remembered certificate are checked on every call:
        // `validates_then_refuses_expired_revoked_and_unknown` validates before it expires
        // and revokes, so it runs on the remembered path.
        // Another anchor set does not inherit what this one checked.
        let other = TrustStore::new(vec![]);
        assert!(matches!(
            other.validate(&f.cert, UnixTime(150)),
            Err(ProtoError::UnknownIssuer { .. })
        ));
    }

    #[test]
    fn the_memory_is_bounded() {
        let f = fixture();
        let store = TrustStore::new(vec![f.authority.verifying_key().clone()]);
        for i in 0..VERIFIED_CACHE_CAPACITY {
            store.verified.insert(&i.to_be_bytes());
        }
        assert_eq!(store.verified.len(), VERIFIED_CACHE_CAPACITY);
        store.validate(&f.cert, UnixTime(150)).unwrap();
        assert_eq!(
            store.verified.len(),
            1,
            "full: started over with this certificate"
        );
    }
}
