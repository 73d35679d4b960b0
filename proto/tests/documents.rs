//! Public behaviour of the document half of `liaison-proto` (`spec/protocol.md` §6–§13):
//! round trips, byte-flip mutation of every document type, and each bad input of project
//! issue 4 refused with its own error variant.

use liaison_crypto::kdf::Transcript;
use liaison_crypto::kem::KemSecretKey;
use liaison_crypto::sign::SigningKey;
use liaison_crypto::{IdentityId, SecretBytes, Seed32, Suite, labels};
use liaison_proto::certificate::{
    CertificateRequest, CertificateTerms, MemberCertificate, Role, issue,
};
use liaison_proto::envelope::{
    ContentType, Envelope, EnvelopeBuilder, MAX_RECIPIENTS, SuppliedKey, SuppliedKeyRef,
};
use liaison_proto::prekey::{PREKEY_LIFETIME_SECS, SignedPrekey};
use liaison_proto::receipt::Receipt;
use liaison_proto::revocation::{RevocationContents, RevocationList};
use liaison_proto::trust::TrustStore;
use liaison_proto::{Classification, DecodeError, ProtoError, Tlp, UnixTime, WireCode};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

const NOW: UnixTime = UnixTime(1_800_000_000);

fn rng(seed: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed([seed; 32])
}

fn key(suite: Suite, seed: u8) -> SigningKey {
    SigningKey::from_seed(suite, Seed32::from_bytes([seed; 32]))
}

struct Officer {
    key: SigningKey,
    cert: MemberCertificate,
    prekey: SignedPrekey,
    prekey_secret: KemSecretKey,
}

struct World {
    authority: SigningKey,
    trust: TrustStore,
    relay: MemberCertificate,
    officers: Vec<Officer>,
}

fn certify(
    authority: &SigningKey,
    subject: &SigningKey,
    role: Role,
    clearance: Classification,
    serial: u64,
) -> MemberCertificate {
    let mut r = rng(serial as u8);
    let req = CertificateRequest::new(subject, "Member", "EU body", &mut r).unwrap();
    let (home_relay, address) = match role {
        Role::Officer => (Some(IdentityId::from_bytes([0xee; 32])), None),
        Role::Relay => (None, Some("relay.example.eu:4433".to_owned())),
    };
    let terms = CertificateTerms {
        role,
        clearance,
        home_relay,
        address,
        not_before: NOW.minus_secs(86_400),
        not_after: NOW.plus_secs(365 * 86_400),
        serial,
    };
    issue(authority, &req, &terms, &mut r).unwrap()
}

fn world(suite: Suite, clearances: &[Classification]) -> World {
    let authority = key(Suite::Lq2, 1);
    let trust = TrustStore::new(vec![authority.verifying_key().clone()]);
    let relay = certify(
        &authority,
        &key(Suite::Lq2, 2),
        Role::Relay,
        Classification::SecretUe,
        2,
    );
    let officers = clearances
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let k = key(suite, 10 + i as u8);
            let cert = certify(&authority, &k, Role::Officer, *c, 10 + i as u64);
            let (prekey, prekey_secret) = SignedPrekey::generate(
                &k,
                suite,
                NOW.minus_secs(60),
                PREKEY_LIFETIME_SECS,
                &mut rng(50 + i as u8),
            )
            .unwrap();
            Officer {
                key: k,
                cert,
                prekey,
                prekey_secret,
            }
        })
        .collect();
    World {
        authority,
        trust,
        relay,
        officers,
    }
}

fn builder<'a>(w: &'a World, level: Classification, tlp: Tlp) -> EnvelopeBuilder<'a> {
    let s = &w.officers[0];
    EnvelopeBuilder::new(
        &s.key,
        &s.cert,
        level,
        tlp,
        ContentType::Stix21Bundle,
        NOW,
        NOW.plus_secs(86_400),
    )
}

fn supplied_ref(n: u8) -> SuppliedKeyRef {
    SuppliedKeyRef {
        key_id: format!("3f2a91bc-0000-4000-8000-0000000000{n:02x}"),
        source_sae: "SAE_CERT_EU".into(),
        target_sae: "SAE_CERT_UA".into(),
    }
}

fn simple_envelope(w: &World, seed: u8) -> Envelope {
    let b = &w.officers[1];
    builder(w, Classification::RestreintUe, Tlp::Amber)
        .recipient(&b.cert, &b.prekey, None)
        .seal(b"{\"type\":\"bundle\"}", &mut rng(seed))
        .unwrap()
}

#[test]
fn envelope_for_three_recipients_opens_for_each_and_receipts_verify() {
    let w = world(Suite::Lq2, &[Classification::SecretUe; 4]);
    let keys: Vec<SecretBytes> = (0..3).map(|i| SecretBytes::new(vec![i; 32])).collect();
    let mut b = builder(&w, Classification::SecretUe, Tlp::Red);
    for (i, o) in w.officers[1..].iter().enumerate() {
        b = b.recipient(
            &o.cert,
            &o.prekey,
            Some(SuppliedKey {
                reference: supplied_ref(i as u8),
                key: &keys[i],
            }),
        );
    }
    let env = b.seal(b"report", &mut rng(7)).unwrap();
    let env = Envelope::decode(env.raw()).unwrap();
    let certs: Vec<MemberCertificate> = w.officers.iter().map(|o| o.cert.clone()).collect();
    env.verify_header(&w.trust, &certs, NOW).unwrap();
    env.check_hop(&w.relay).unwrap();
    for (i, o) in w.officers[1..].iter().enumerate() {
        let opened = env
            .open(&w.trust, &o.cert, &[&o.prekey_secret], Some(&keys[i]), NOW)
            .unwrap();
        assert_eq!(opened.plaintext, b"report");
        let receipt = Receipt::issue(&o.key, &env, NOW.plus_secs(5), &mut rng(9)).unwrap();
        let receipt = Receipt::decode(receipt.raw()).unwrap();
        receipt.verify(&w.trust, &o.cert, &env, NOW).unwrap();
        assert_eq!(receipt.envelope_hash(), &env.envelope_hash());
    }
}

fn assert_never_accepted(name: &str, original: &[u8], step: usize, accept: impl Fn(&[u8]) -> bool) {
    assert!(accept(original), "{name}: original must be accepted");
    let mut bytes = original.to_vec();
    for i in (0..bytes.len()).step_by(step) {
        bytes[i] ^= 0x01;
        assert!(!accept(&bytes), "{name}: flipped byte {i} was accepted");
        bytes[i] ^= 0x01;
    }
    for cut in (0..original.len()).step_by(step.max(7)) {
        assert!(!accept(&original[..cut]), "{name}: prefix {cut} accepted");
    }
}

#[test]
fn flipping_any_byte_of_any_document_is_never_accepted() {
    let w = world(Suite::Lq1, &[Classification::ConfidentielUe; 2]);
    let cert = w.officers[0].cert.raw().to_vec();
    assert_never_accepted("certificate", &cert, 1, |b| {
        MemberCertificate::decode(b).is_ok_and(|c| w.trust.validate(&c, NOW).is_ok())
    });
    let crl = RevocationList::issue(
        &w.authority,
        RevocationContents {
            number: 1,
            this_update: NOW,
            next_update: NOW.plus_secs(3600),
            revoked_serials: vec![5, 6],
            revoked_subjects: vec![IdentityId::from_bytes([3; 32])],
        },
        &mut rng(3),
    )
    .unwrap();
    assert_never_accepted("revocation list", crl.raw(), 1, |b| {
        RevocationList::decode(b).is_ok_and(|l| w.trust.clone().install_revocations(l, NOW).is_ok())
    });
    let o = &w.officers[1];
    assert_never_accepted("signed prekey", o.prekey.raw(), 1, |b| {
        SignedPrekey::decode(b).is_ok_and(|p| p.verify(&o.cert, NOW).is_ok())
    });
    let env = simple_envelope(&w, 4);
    let receipt = Receipt::issue(&o.key, &env, NOW, &mut rng(5)).unwrap();
    assert_never_accepted("receipt", receipt.raw(), 1, |b| {
        Receipt::decode(b).is_ok_and(|r| r.verify(&w.trust, &o.cert, &env, NOW).is_ok())
    });
}

#[test]
fn flipping_any_byte_of_an_envelope_is_never_accepted() {
    let w = world(Suite::Lq1, &[Classification::ConfidentielUe; 2]);
    let o = &w.officers[1];
    let env = simple_envelope(&w, 4);
    assert_never_accepted("envelope", env.raw(), 1, |b| {
        Envelope::decode(b).is_ok_and(|e| {
            e.open(&w.trust, &o.cert, &[&o.prekey_secret], None, NOW)
                .is_ok()
        })
    });
}

#[test]
fn truncated_and_oversized_inputs_are_decode_errors() {
    let w = world(Suite::Lq1, &[Classification::RestreintUe; 2]);
    let cert = w.officers[0].cert.raw();
    assert!(matches!(
        MemberCertificate::decode(&cert[..cert.len() - 1]),
        Err(ProtoError::Decode(DecodeError::Truncated { .. }))
    ));
    let mut big = cert.to_vec();
    big.resize(20_000, 0);
    assert!(matches!(
        MemberCertificate::decode(&big),
        Err(ProtoError::Decode(DecodeError::TooLong { .. }))
    ));
    let mut trailing = cert.to_vec();
    trailing.push(0);
    assert!(matches!(
        MemberCertificate::decode(&trailing),
        Err(ProtoError::Decode(DecodeError::TrailingBytes { .. }))
    ));
    // A recipient count above MAX_RECIPIENTS is refused before anything is allocated.
    let env = simple_envelope(&w, 1);
    let mut bytes = env.raw().to_vec();
    let count_at = env.header_bytes().len() - 32 - 2;
    bytes[count_at..count_at + 2].copy_from_slice(&(MAX_RECIPIENTS as u16 + 1).to_be_bytes());
    assert!(matches!(
        Envelope::decode(&bytes),
        Err(ProtoError::Decode(DecodeError::TooLong {
            what: "recipients",
            ..
        }))
    ));
    let mut bytes = env.raw().to_vec();
    bytes[2] = 0x03;
    assert!(matches!(
        Envelope::decode(&bytes),
        Err(ProtoError::Decode(DecodeError::UnknownValue {
            what: "suite",
            ..
        }))
    ));
}

#[test]
fn expired_unknown_and_revoked_certificates_are_refused() {
    let mut w = world(Suite::Lq2, &[Classification::RestreintUe; 2]);
    let cert = w.officers[0].cert.clone();
    assert!(matches!(
        w.trust.validate(&cert, NOW.plus_secs(366 * 86_400)),
        Err(ProtoError::CertificateExpired { .. })
    ));
    assert!(matches!(
        TrustStore::new(vec![]).validate(&cert, NOW),
        Err(ProtoError::UnknownIssuer { .. })
    ));
    let env = simple_envelope(&w, 2);
    let crl = RevocationList::issue(
        &w.authority,
        RevocationContents {
            number: 4,
            this_update: NOW,
            next_update: NOW.plus_secs(3600),
            revoked_serials: vec![],
            revoked_subjects: vec![cert.subject()],
        },
        &mut rng(6),
    )
    .unwrap();
    w.trust.install_revocations(crl.clone(), NOW).unwrap();
    w.trust.install_revocations(crl, NOW).unwrap();
    let err = env.verify_header(&w.trust, &[], NOW).unwrap_err();
    assert!(matches!(err, ProtoError::CertificateRevoked { .. }));
    assert_eq!(err.wire_code(), WireCode::CertificateRevoked);
    let stale = RevocationList::issue(
        &w.authority,
        RevocationContents {
            number: 9,
            this_update: NOW,
            next_update: NOW.plus_secs(10),
            ..Default::default()
        },
        &mut rng(8),
    )
    .unwrap();
    assert!(matches!(
        w.trust.install_revocations(stale, NOW.plus_secs(11)),
        Err(ProtoError::RevocationListExpired { .. })
    ));
}

#[test]
fn header_edited_after_signing_is_refused() {
    let w = world(Suite::Lq1, &[Classification::RestreintUe; 2]);
    let env = simple_envelope(&w, 3);
    let mut bytes = env.raw().to_vec();
    // TLP byte: preamble 3, message id 16, sender 32, be16 + certificate, classification 1.
    let tlp_at = 3 + 16 + 32 + 2 + w.officers[0].cert.raw().len() + 1;
    assert_eq!(bytes[tlp_at], Tlp::Amber.wire());
    bytes[tlp_at] = Tlp::Clear.wire();
    let edited = Envelope::decode(&bytes).unwrap();
    let err = edited.verify_header(&w.trust, &[], NOW).unwrap_err();
    assert_eq!(err, ProtoError::BadSignature { what: "envelope" });
    assert_eq!(err.wire_code(), WireCode::AuthenticationFailed);
}

/// `spec/protocol.md` §11.3: the signed transcript is `liaison envelope transcript v2` over
/// `[header_hash, recipient_section, payload_hash]`. An envelope signed by its real sender over
/// the old `v1` transcript (which absorbed the header itself), as software built before the
/// change would sign it, is refused as a bad signature: the two constructions never share a
/// digest, so no signature moves between them.
#[test]
fn envelope_signed_over_the_v1_transcript_is_refused() {
    let w = world(Suite::Lq1, &[Classification::RestreintUe; 2]);
    let env = simple_envelope(&w, 4);
    let sender = &w.officers[0];
    let payload_hash = {
        let mut t = Transcript::new(labels::ENVELOPE_PAYLOAD_HASH);
        t.absorb(env.payload_ciphertext());
        t.current()
    };
    let v1_digest = {
        let mut t = Transcript::new(b"liaison envelope transcript v1");
        t.absorb(env.header_bytes());
        t.absorb(env.recipient_section());
        t.absorb(&payload_hash);
        t.current()
    };
    let v2_digest = {
        let mut t = Transcript::new(labels::ENVELOPE_TRANSCRIPT);
        t.absorb(&env.header_hash());
        t.absorb(env.recipient_section());
        t.absorb(&payload_hash);
        t.current()
    };
    assert_eq!(env.signed_digest(), v2_digest);
    assert_ne!(v1_digest, v2_digest);
    let sig = sender
        .key
        .sign(labels::ENVELOPE_SIG, &v1_digest, &mut rng(5))
        .unwrap();
    let mut bytes = [
        env.header_bytes(),
        env.recipient_section(),
        env.payload_section(),
    ]
    .concat();
    bytes.push(sig.suite().id());
    bytes.extend_from_slice(&(sig.as_bytes().len() as u16).to_be_bytes());
    bytes.extend_from_slice(sig.as_bytes());
    let v1_signed = Envelope::decode(&bytes).unwrap();
    let b = &w.officers[1];
    let err = v1_signed
        .verify_header(&w.trust, std::slice::from_ref(&b.cert), NOW)
        .unwrap_err();
    assert_eq!(err, ProtoError::BadSignature { what: "envelope" });
    let err = v1_signed
        .open(&w.trust, &b.cert, &[&b.prekey_secret], None, NOW)
        .unwrap_err();
    assert_eq!(err, ProtoError::BadSignature { what: "envelope" });
    // The same bytes re-signed over the v2 digest are accepted: only the transcript differs.
    let sig = sender
        .key
        .sign(labels::ENVELOPE_SIG, &v2_digest, &mut rng(6))
        .unwrap();
    let tail = 1 + 2 + sig.as_bytes().len();
    bytes.truncate(bytes.len() - tail);
    bytes.push(sig.suite().id());
    bytes.extend_from_slice(&(sig.as_bytes().len() as u16).to_be_bytes());
    bytes.extend_from_slice(sig.as_bytes());
    let v2_signed = Envelope::decode(&bytes).unwrap();
    let opened = v2_signed
        .open(&w.trust, &b.cert, &[&b.prekey_secret], None, NOW)
        .unwrap();
    assert_eq!(opened.plaintext, b"{\"type\":\"bundle\"}");
}

#[test]
fn recipient_block_swapped_between_envelopes_is_refused() {
    let w = world(Suite::Lq2, &[Classification::RestreintUe; 2]);
    let (a, b) = (simple_envelope(&w, 10), simple_envelope(&w, 11));
    let o = &w.officers[1];
    // A relay splicing blocks breaks the sender's signature.
    let spliced = [a.header_bytes(), b.recipient_section(), a.payload_section()].concat();
    let mut spliced = spliced;
    spliced.extend_from_slice(
        &a.raw()
            [a.header_bytes().len() + a.recipient_section().len() + a.payload_section().len()..],
    );
    let spliced = Envelope::decode(&spliced).unwrap();
    assert_eq!(
        spliced.verify_header(&w.trust, &[], NOW),
        Err(ProtoError::BadSignature { what: "envelope" })
    );
    // Even the sender re-signing the splice cannot make the block unwrap: the KEK is bound to
    // the header hash.
    let resigned = Envelope::assemble(
        &w.officers[0].key,
        a.header_bytes(),
        b.recipient_section(),
        a.payload_section(),
        &mut rng(12),
    )
    .unwrap();
    assert_eq!(
        resigned
            .open(&w.trust, &o.cert, &[&o.prekey_secret], None, NOW)
            .unwrap_err(),
        ProtoError::RecipientBlockMismatch {
            recipient: o.cert.subject()
        }
    );
}

#[test]
fn classification_above_a_party_clearance_is_refused() {
    let w = world(
        Suite::Lq2,
        &[Classification::ConfidentielUe, Classification::SecretUe],
    );
    let b = &w.officers[1];
    let err = builder(&w, Classification::SecretUe, Tlp::Amber)
        .recipient(&b.cert, &b.prekey, None)
        .seal(b"x", &mut rng(1))
        .unwrap_err();
    assert!(matches!(
        err,
        ProtoError::SuppliedKeyRequired { .. } | ProtoError::ClassificationAboveClearance { .. }
    ));
    let env = builder(&w, Classification::ConfidentielUe, Tlp::Amber)
        .recipient(&b.cert, &b.prekey, None)
        .seal(b"x", &mut rng(2))
        .unwrap();
    // The recipient's clearance was lowered since: the relay refuses.
    let lowered = certify(
        &w.authority,
        &b.key,
        Role::Officer,
        Classification::RestreintUe,
        99,
    );
    let err = env.verify_header(&w.trust, &[lowered], NOW).unwrap_err();
    assert_eq!(
        err,
        ProtoError::ClassificationAboveClearance {
            level: Classification::ConfidentielUe,
            clearance: Classification::RestreintUe,
            who: b.cert.subject(),
        }
    );
    assert_eq!(err.wire_code(), WireCode::ClearanceExceeded);
    let low_hop = certify(
        &w.authority,
        &key(Suite::Lq2, 77),
        Role::Relay,
        Classification::RestreintUe,
        77,
    );
    assert!(matches!(
        env.check_hop(&low_hop),
        Err(ProtoError::ClassificationAboveClearance { .. })
    ));
    let sender_err = {
        let w2 = world(
            Suite::Lq2,
            &[Classification::RestreintUe, Classification::SecretUe],
        );
        let b2 = &w2.officers[1];
        builder(&w2, Classification::ConfidentielUe, Tlp::Amber)
            .recipient(&b2.cert, &b2.prekey, None)
            .seal(b"x", &mut rng(3))
            .unwrap_err()
    };
    assert!(matches!(
        sender_err,
        ProtoError::ClassificationAboveClearance { .. }
    ));
}

#[test]
fn lq1_for_confidentiel_ue_is_refused_by_sender_relay_and_recipient() {
    let w = world(Suite::Lq1, &[Classification::SecretUe; 2]);
    let b = &w.officers[1];
    let make = || {
        builder(&w, Classification::ConfidentielUe, Tlp::Amber).recipient(&b.cert, &b.prekey, None)
    };
    let expected = ProtoError::SuiteBelowPolicy {
        suite: Suite::Lq1,
        level: Classification::ConfidentielUe,
    };
    assert_eq!(make().seal(b"x", &mut rng(1)).unwrap_err(), expected);
    let env = make()
        .seal_without_policy_checks(b"x", &mut rng(1))
        .unwrap();
    assert_eq!(
        env.verify_header(&w.trust, std::slice::from_ref(&b.cert), NOW),
        Err(expected.clone())
    );
    assert_eq!(
        env.open(&w.trust, &b.cert, &[&b.prekey_secret], None, NOW)
            .unwrap_err(),
        expected
    );
    assert_eq!(expected.wire_code(), WireCode::CryptoPolicyViolation);
}

#[test]
fn secret_ue_without_supplied_key_is_refused() {
    let w = world(Suite::Lq2, &[Classification::SecretUe; 2]);
    let b = &w.officers[1];
    let make =
        || builder(&w, Classification::SecretUe, Tlp::Amber).recipient(&b.cert, &b.prekey, None);
    let expected = ProtoError::SuppliedKeyRequired {
        level: Classification::SecretUe,
        recipient: b.cert.subject(),
    };
    assert_eq!(make().seal(b"x", &mut rng(1)).unwrap_err(), expected);
    let env = make()
        .seal_without_policy_checks(b"x", &mut rng(1))
        .unwrap();
    assert_eq!(
        env.verify_header(&w.trust, std::slice::from_ref(&b.cert), NOW),
        Err(expected)
    );
    // With the key in the block, opening without it (or with another) fails.
    let k = SecretBytes::new(vec![5; 32]);
    let env = builder(&w, Classification::SecretUe, Tlp::Amber)
        .recipient(
            &b.cert,
            &b.prekey,
            Some(SuppliedKey {
                reference: supplied_ref(1),
                key: &k,
            }),
        )
        .seal(b"x", &mut rng(2))
        .unwrap();
    let open = |s: Option<&SecretBytes>| env.open(&w.trust, &b.cert, &[&b.prekey_secret], s, NOW);
    assert!(matches!(
        open(None),
        Err(ProtoError::SuppliedKeyNotProvided { .. })
    ));
    assert!(matches!(
        open(Some(&SecretBytes::new(vec![6; 32]))),
        Err(ProtoError::RecipientBlockMismatch { .. })
    ));
    assert_eq!(open(Some(&k)).unwrap().plaintext, b"x");
}

#[test]
fn tlp_red_expiry_non_recipient_and_deleted_prekey_are_refused() {
    let w = world(Suite::Lq2, &[Classification::RestreintUe; 3]);
    let (b, c) = (&w.officers[1], &w.officers[2]);
    let env = builder(&w, Classification::Unclassified, Tlp::Red)
        .recipient(&b.cert, &b.prekey, None)
        .seal(b"x", &mut rng(1))
        .unwrap();
    assert_eq!(
        env.verify_header(&w.trust, &[], NOW),
        Err(ProtoError::TlpRedUnnamedRecipient {
            id: b.cert.subject()
        })
    );
    env.verify_header(&w.trust, std::slice::from_ref(&b.cert), NOW)
        .unwrap();
    assert!(matches!(
        env.verify_header(
            &w.trust,
            std::slice::from_ref(&b.cert),
            NOW.plus_secs(86_401)
        ),
        Err(ProtoError::EnvelopeExpired { .. })
    ));
    assert_eq!(
        env.open(&w.trust, &c.cert, &[&c.prekey_secret], None, NOW)
            .unwrap_err(),
        ProtoError::NotARecipient {
            id: c.cert.subject()
        }
    );
    assert!(matches!(
        env.open(&w.trust, &b.cert, &[&c.prekey_secret], None, NOW),
        Err(ProtoError::UnknownPrekey { .. })
    ));
    let other = simple_envelope(&w, 2);
    let receipt = Receipt::issue(&b.key, &env, NOW, &mut rng(3)).unwrap();
    assert_eq!(
        receipt.verify(&w.trust, &b.cert, &other, NOW),
        Err(ProtoError::ReceiptMismatch { what: "message id" })
    );
}

fn arb_level() -> impl Strategy<Value = Classification> {
    prop::sample::select(Classification::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn certificates_round_trip(
        name in "[A-Za-z .-]{1,40}",
        org in "\\PC{1,30}",
        clearance in arb_level(),
        serial in any::<u64>(),
        start in 0u64..u64::MAX / 2,
        span in 0u64..1_000_000_000,
    ) {
        let authority = key(Suite::Lq1, 1);
        let subject = key(Suite::Lq1, 2);
        let mut r = rng(1);
        let req = CertificateRequest::new(&subject, &name, &org, &mut r).unwrap();
        let terms = CertificateTerms {
            role: Role::Relay,
            clearance,
            home_relay: None,
            address: Some("r.example:1".into()),
            not_before: UnixTime(start),
            not_after: UnixTime(start + span),
            serial,
        };
        let cert = issue(&authority, &req, &terms, &mut r).unwrap();
        let back = MemberCertificate::decode(cert.raw()).unwrap();
        prop_assert_eq!(back.raw(), cert.raw());
        prop_assert_eq!(back.name(), name.as_str());
        prop_assert_eq!(back.organisation(), org.as_str());
        prop_assert_eq!(back.clearance(), clearance);
        prop_assert_eq!(back.serial(), serial);
        let trust = TrustStore::new(vec![authority.verifying_key().clone()]);
        prop_assert!(trust.validate(&back, UnixTime(start)).is_ok());
    }

    #[test]
    fn revocation_lists_round_trip(
        number in any::<u64>(),
        serials in prop::collection::vec(any::<u64>(), 0..40),
        subjects in prop::collection::vec(any::<[u8; 32]>(), 0..10),
        span in 0u64..10_000_000,
    ) {
        let authority = key(Suite::Lq1, 1);
        let contents = RevocationContents {
            number,
            this_update: NOW,
            next_update: NOW.plus_secs(span),
            revoked_serials: serials.clone(),
            revoked_subjects: subjects.iter().map(|s| IdentityId::from_bytes(*s)).collect(),
        };
        let crl = RevocationList::issue(&authority, contents, &mut rng(2)).unwrap();
        let back = RevocationList::decode(crl.raw()).unwrap();
        prop_assert_eq!(back.raw(), crl.raw());
        prop_assert_eq!(back.number(), number);
        for s in &serials {
            prop_assert!(back.revokes_serial(*s));
        }
        for s in &subjects {
            prop_assert!(back.revokes_subject(&IdentityId::from_bytes(*s)));
        }
        let mut trust = TrustStore::new(vec![authority.verifying_key().clone()]);
        prop_assert!(trust.install_revocations(back, NOW).is_ok());
    }

    #[test]
    fn prekeys_and_receipts_round_trip(
        created in 0u64..u64::MAX / 2,
        lifetime in 0u64..PREKEY_LIFETIME_SECS,
        received in any::<u64>(),
        seed in any::<u8>(),
    ) {
        let w = world(Suite::Lq1, &[Classification::RestreintUe; 2]);
        let o = &w.officers[1];
        let (p, _) = SignedPrekey::generate(
            &o.key, Suite::Lq1, UnixTime(created), lifetime, &mut rng(seed),
        )
        .unwrap();
        let back = SignedPrekey::decode(p.raw()).unwrap();
        prop_assert_eq!(back.raw(), p.raw());
        prop_assert!(back.verify(&o.cert, UnixTime(created + lifetime)).is_ok());
        let env = simple_envelope(&w, seed);
        let r = Receipt::issue(&o.key, &env, UnixTime(received), &mut rng(seed)).unwrap();
        let back = Receipt::decode(r.raw()).unwrap();
        prop_assert_eq!(back.raw(), r.raw());
        prop_assert_eq!(back.received_at(), UnixTime(received));
        prop_assert!(back.verify(&w.trust, &o.cert, &env, NOW).is_ok());
    }

    #[test]
    fn envelopes_round_trip(
        payload in prop::collection::vec(any::<u8>(), 0..2048),
        tlp in prop::sample::select(Tlp::ALL.to_vec()),
        filename in "[a-z]{1,12}\\.pdf",
    ) {
        let w = world(Suite::Lq1, &[Classification::RestreintUe; 2]);
        let b = &w.officers[1];
        let s = &w.officers[0];
        let env = EnvelopeBuilder::new(
            &s.key, &s.cert, Classification::RestreintUe, tlp,
            ContentType::Attachment { filename: filename.clone() }, NOW, NOW.plus_secs(60),
        )
        .recipient(&b.cert, &b.prekey, None)
        .seal(&payload, &mut rng(4))
        .unwrap();
        let back = Envelope::decode(env.raw()).unwrap();
        prop_assert_eq!(back.raw(), env.raw());
        prop_assert_eq!(&back.header().content_type, &ContentType::Attachment { filename });
        let opened = back.open(&w.trust, &b.cert, &[&b.prekey_secret], None, NOW).unwrap();
        prop_assert_eq!(opened.plaintext, payload);
    }
}

/// An envelope received in parts (`EnvelopeAssembler`, payload hash computed as the parts
/// arrive) passes exactly the checks it passes whole, and one flipped byte in any part of it
/// (payload included) is refused just as it is refused whole.
#[test]
fn envelope_assembled_from_parts_verifies_with_the_streamed_hash_and_refuses_any_flip() {
    use liaison_proto::envelope_parts::{Assembled, EnvelopeAssembler};
    use liaison_proto::frame::{EnvelopePart, MAX_ENVELOPE_LEN};

    let w = world(Suite::Lq2, &[Classification::SecretUe; 2]);
    let b = &w.officers[1];
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let env = builder(&w, Classification::RestreintUe, Tlp::Amber)
        .recipient(&b.cert, &b.prekey, None)
        .seal(&payload, &mut rng(9))
        .unwrap();
    let raw = env.raw().to_vec();
    let assemble_with = |raw: &[u8], step: usize, background: bool| {
        let mut asm = EnvelopeAssembler::new(MAX_ENVELOPE_LEN);
        if background {
            asm = asm.hash_in_background();
        }
        let mut done = None;
        for (i, chunk) in raw.chunks(step).enumerate() {
            let part = EnvelopePart {
                total: raw.len() as u32,
                offset: (i * step) as u32,
                bytes: chunk.to_vec(),
            };
            if let Assembled::Complete(a) = asm.push(part).unwrap() {
                done = Some(a);
            }
        }
        done.unwrap()
    };
    let assemble = |raw: &[u8], step: usize| assemble_with(raw, step, true);
    let recipients = [b.cert.clone()];
    for step in [1000, 7919, 65_536, raw.len()] {
        // The helper thread's result is the caller's, byte for byte and digest for digest.
        let inline = assemble_with(&raw, step, false);
        let assembled = assemble(&raw, step);
        assert_eq!(inline.raw, assembled.raw);
        // (Debug shows the length, the ciphertext's range and the hash, not the buffer.)
        assert_eq!(
            format!("{:?}", inline.digest),
            format!("{:?}", assembled.digest)
        );
        assert!(
            assembled.digest.is_some(),
            "step {step}: payload hashed on the way"
        );
        assert_eq!(assembled.raw, raw);
        let digest = assembled.digest;
        let whole = Envelope::decode_owned(assembled.raw, digest.as_ref()).unwrap();
        assert_eq!(whole.signed_digest(), env.signed_digest());
        whole.verify_header(&w.trust, &recipients, NOW).unwrap();
        let opened = whole
            .open(&w.trust, &b.cert, &[&b.prekey_secret], None, NOW)
            .unwrap();
        assert_eq!(opened.plaintext, payload);
    }
    // Flips in the header, the recipient block, the payload and the signature.
    for at in [5, 200, raw.len() / 2, raw.len() - 10_000, raw.len() - 3] {
        let mut bad = raw.clone();
        bad[at] ^= 0x40;
        let assembled = assemble(&bad, 65_536);
        let digest = assembled.digest;
        let accepted = Envelope::decode_owned(assembled.raw, digest.as_ref())
            .is_ok_and(|e| e.verify_header(&w.trust, &recipients, NOW).is_ok());
        assert!(!accepted, "flip at {at} accepted");
    }
    // A digest is only used with the buffer it was computed over: another envelope's buffer
    // of the same layout is hashed afresh (and refused when its payload differs).
    let assembled = assemble(&raw, 65_536);
    let mut other = raw.clone();
    let mid = other.len() / 2;
    other[mid] ^= 1;
    assert!(
        Envelope::decode_owned(other, assembled.digest.as_ref())
            .is_ok_and(|e| e.verify_header(&w.trust, &recipients, NOW).is_err())
    );
}
