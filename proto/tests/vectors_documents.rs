//! Deterministic test vectors for the document layer (`spec/protocol.md` §15 "Test vectors"):
//! certificates, a revocation list, signed prekeys, envelopes (LQ1 and LQ2, 1 and 3
//! recipients, with and without supplied keys) and receipts, built from fixed seeds and a
//! seeded ChaCha20 RNG, with every input, intermediate value and output an independent
//! implementation needs.
//!
//! `cargo test -p liaison-proto --test vectors_documents` checks that the files in
//! `spec/test-vectors/` are reproduced byte for byte;
//! `LIAISON_REGENERATE_VECTORS=1 cargo test -p liaison-proto --test vectors_documents`
//! rewrites them. All keys here are test keys: their secrets are published on purpose.

use std::path::PathBuf;

use liaison_crypto::kem::KemSecretKey;
use liaison_crypto::sign::SigningKey;
use liaison_crypto::{IdentityId, SecretBytes, Seed32, Suite, aead, kdf, labels};
use liaison_proto::certificate::{
    CertificateRequest, CertificateTerms, MemberCertificate, Role, issue,
};
use liaison_proto::envelope::{
    ContentType, EnvelopeBuilder, MessageId, SuppliedKey, SuppliedKeyRef, ZERO_NONCE,
};
use liaison_proto::prekey::{PREKEY_LIFETIME_SECS, SignedPrekey};
use liaison_proto::receipt::Receipt;
use liaison_proto::revocation::{RevocationContents, RevocationList};
use liaison_proto::trust::TrustStore;
use liaison_proto::{Classification, Tlp, UnixTime};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use serde_json::{Value, json};

const NOW: UnixTime = UnixTime(1_800_000_000);

fn rng(n: u8) -> ChaCha20Rng {
    let mut seed = [0x5eu8; 32];
    seed[0] = n;
    ChaCha20Rng::from_seed(seed)
}

fn seed(tag: u8, n: u8) -> Seed32 {
    let mut s = [tag; 32];
    s[31] = n;
    Seed32::from_bytes(s)
}

fn h(b: &[u8]) -> String {
    hex::encode(b)
}

struct Member {
    key: SigningKey,
    cert: MemberCertificate,
    request: CertificateRequest,
    prekey: Option<(SignedPrekey, KemSecretKey)>,
}

fn member(
    authority: &SigningKey,
    suite: Suite,
    n: u8,
    role: Role,
    level: Classification,
) -> Member {
    let key = SigningKey::from_seed(suite, seed(0x11, n));
    let mut r = rng(n);
    let name = format!("Test member {n}");
    let request = CertificateRequest::new(&key, &name, "Liaison test federation", &mut r).unwrap();
    let (home_relay, address) = match role {
        Role::Officer => (Some(IdentityId::from_bytes([0xee; 32])), None),
        Role::Relay => (None, Some(format!("relay{n}.test.invalid:4433"))),
    };
    let terms = CertificateTerms {
        role,
        clearance: level,
        home_relay,
        address,
        not_before: NOW.minus_secs(86_400),
        not_after: NOW.plus_secs(365 * 86_400),
        serial: 1000 + u64::from(n),
    };
    let cert = issue(authority, &request, &terms, &mut r).unwrap();
    let prekey = (role == Role::Officer).then(|| {
        let secret = KemSecretKey::from_seed(suite, seed(0x22, n));
        let signed = SignedPrekey::sign(
            &key,
            &secret,
            NOW.minus_secs(3600),
            NOW.minus_secs(3600).plus_secs(PREKEY_LIFETIME_SECS),
            &mut r,
        )
        .unwrap();
        (signed, secret)
    });
    Member {
        key,
        cert,
        request,
        prekey,
    }
}

fn member_json(m: &Member) -> Value {
    let c = &m.cert;
    let mut v = json!({
        "identity_seed": h(m.key.seed().expose_secret()),
        "suite": c.suite().name(),
        "public_key": h(c.public_key().as_bytes()),
        "identity_id": c.subject().to_string(),
        "fingerprint": c.subject().fingerprint(),
        "request": h(m.request.raw()),
        "certificate": h(c.raw()),
        "certificate_signed_len": c.signed_bytes().len(),
        "fields": {
            "serial": c.serial(), "issuer": c.issuer().to_string(),
            "role": c.role().name(), "clearance": c.clearance().marking(),
            "name": c.name(), "organisation": c.organisation(),
            "home_relay": c.home_relay().map(|id| id.to_string()),
            "address": c.address(),
            "not_before": c.not_before().0, "not_after": c.not_after().0,
        },
    });
    if let Some((p, s)) = &m.prekey {
        v["prekey"] = json!({
            "kem_seed": h(s.seed().expose_secret()),
            "kem_public_key": h(p.public_key().as_bytes()),
            "prekey_id": p.id().to_string(),
            "signed_prekey": h(p.raw()),
            "created": p.created().0, "expires": p.expires().0,
        });
    }
    v
}

struct Case {
    name: &'static str,
    suite: Suite,
    recipients: usize,
    supplied: bool,
    level: Classification,
}

const CASES: [Case; 8] = [
    Case {
        name: "lq1-1-recipient",
        suite: Suite::Lq1,
        recipients: 1,
        supplied: false,
        level: Classification::RestreintUe,
    },
    Case {
        name: "lq1-1-recipient-supplied",
        suite: Suite::Lq1,
        recipients: 1,
        supplied: true,
        level: Classification::RestreintUe,
    },
    Case {
        name: "lq1-3-recipients",
        suite: Suite::Lq1,
        recipients: 3,
        supplied: false,
        level: Classification::Unclassified,
    },
    Case {
        name: "lq1-3-recipients-supplied",
        suite: Suite::Lq1,
        recipients: 3,
        supplied: true,
        level: Classification::RestreintUe,
    },
    Case {
        name: "lq2-1-recipient",
        suite: Suite::Lq2,
        recipients: 1,
        supplied: false,
        level: Classification::ConfidentielUe,
    },
    Case {
        name: "lq2-1-recipient-supplied",
        suite: Suite::Lq2,
        recipients: 1,
        supplied: true,
        level: Classification::SecretUe,
    },
    Case {
        name: "lq2-3-recipients",
        suite: Suite::Lq2,
        recipients: 3,
        supplied: false,
        level: Classification::ConfidentielUe,
    },
    Case {
        name: "lq2-3-recipients-supplied",
        suite: Suite::Lq2,
        recipients: 3,
        supplied: true,
        level: Classification::TresSecretUe,
    },
];

fn build() -> (Value, Value, Value) {
    let authority = SigningKey::from_seed(Suite::Lq2, seed(0xa0, 1));
    let mut trust = TrustStore::new(vec![authority.verifying_key().clone()]);
    let relay = member(
        &authority,
        Suite::Lq2,
        1,
        Role::Relay,
        Classification::TresSecretUe,
    );
    // Officers 10..=13 are LQ1, 20..=23 LQ2; the first of each is the sender.
    let officers: Vec<Vec<Member>> = [(Suite::Lq1, 10u8), (Suite::Lq2, 20u8)]
        .iter()
        .map(|(suite, base)| {
            (0..4)
                .map(|i| {
                    member(
                        &authority,
                        *suite,
                        base + i,
                        Role::Officer,
                        Classification::TresSecretUe,
                    )
                })
                .collect()
        })
        .collect();
    let revoked = member(
        &authority,
        Suite::Lq1,
        30,
        Role::Officer,
        Classification::RestreintUe,
    );
    let crl = RevocationList::issue(
        &authority,
        RevocationContents {
            number: 1,
            this_update: NOW.minus_secs(3600),
            next_update: NOW.plus_secs(7 * 86_400),
            revoked_serials: vec![revoked.cert.serial(), 4242],
            revoked_subjects: vec![IdentityId::from_bytes([0x0d; 32])],
        },
        &mut rng(99),
    )
    .unwrap();
    trust.install_revocations(crl.clone(), NOW).unwrap();
    for m in officers.iter().flatten().chain([&relay]) {
        trust.validate(&m.cert, NOW).unwrap();
    }
    assert!(trust.validate(&revoked.cert, NOW).is_err());

    let certificates = json!({
        "description": "Liaison document vectors: certificates, requests, revocation list, signed prekeys (spec/protocol.md §6-§10). All secrets are test-only.",
        "now": NOW.0,
        "authority": {
            "identity_seed": h(authority.seed().expose_secret()),
            "suite": "LQ2",
            "public_key": h(authority.verifying_key().as_bytes()),
            "identity_id": IdentityId::of(authority.verifying_key()).to_string(),
        },
        "labels": {
            "certificate_request": String::from_utf8_lossy(labels::CERTIFICATE_REQUEST_SIG),
            "member_certificate": String::from_utf8_lossy(labels::MEMBER_CERTIFICATE_SIG),
            "revocation_list": String::from_utf8_lossy(labels::REVOCATION_LIST_SIG),
            "signed_prekey": String::from_utf8_lossy(labels::SIGNED_PREKEY_SIG),
            "prekey_id": String::from_utf8_lossy(labels::PREKEY_ID),
        },
        "relay": member_json(&relay),
        "officers": officers.iter().flatten().map(member_json).collect::<Vec<_>>(),
        "revoked_officer": { "member": member_json(&revoked), "expected": "CertificateRevoked" },
        "revocation_list": {
            "bytes": h(crl.raw()),
            "number": crl.number(), "this_update": crl.this_update().0,
            "next_update": crl.next_update().0,
            "revoked_serials": crl.contents().revoked_serials,
            "revoked_subjects": crl.contents().revoked_subjects.iter().map(|i| i.to_string()).collect::<Vec<_>>(),
        },
    });

    let mut envelopes = Vec::new();
    let mut receipts = Vec::new();
    for (ci, case) in CASES.iter().enumerate() {
        let group = &officers[usize::from(case.suite == Suite::Lq2)];
        let sender = &group[0];
        let supplied_keys: Vec<SecretBytes> = (0..case.recipients)
            .map(|i| SecretBytes::new(vec![0x40 + ci as u8 * 4 + i as u8; 32]))
            .collect();
        let refs: Vec<SuppliedKeyRef> = (0..case.recipients)
            .map(|i| SuppliedKeyRef {
                key_id: format!("00000000-0000-4000-8000-{:012x}", ci * 16 + i),
                source_sae: "SAE_SENDER".into(),
                target_sae: format!("SAE_RECIPIENT_{i}"),
            })
            .collect();
        let plaintext = format!("{{\"type\":\"bundle\",\"id\":\"bundle--{}\"}}", case.name);
        let mut b = EnvelopeBuilder::new(
            &sender.key,
            &sender.cert,
            case.level,
            Tlp::Amber,
            ContentType::Stix21Bundle,
            NOW,
            NOW.plus_secs(86_400),
        )
        .message_id(MessageId([ci as u8 + 1; 16]));
        for (i, r) in group[1..=case.recipients].iter().enumerate() {
            let (p, _) = r.prekey.as_ref().unwrap();
            let s = case.supplied.then(|| SuppliedKey {
                reference: refs[i].clone(),
                key: &supplied_keys[i],
            });
            b = b.recipient(&r.cert, p, s);
        }
        let env = b
            .seal(plaintext.as_bytes(), &mut rng(100 + ci as u8))
            .unwrap();
        let certs: Vec<MemberCertificate> = group.iter().map(|m| m.cert.clone()).collect();
        env.verify_header(&trust, &certs, NOW).unwrap();
        let hh = env.header_hash();
        let mut blocks = Vec::new();
        let named = &group[1..=case.recipients];
        for block in env.blocks() {
            // ok: the builder names exactly these recipients
            let i = named
                .iter()
                .position(|m| m.cert.subject() == block.recipient)
                .unwrap();
            let r = &named[i];
            let (_, secret) = r.prekey.as_ref().unwrap();
            let supplied = case.supplied.then(|| &supplied_keys[i]);
            let opened = env.open(&trust, &r.cert, &[secret], supplied, NOW).unwrap();
            assert_eq!(opened.plaintext, plaintext.as_bytes());
            // Recompute the block's intermediates with crypto primitives only.
            let ss = secret.decapsulate(&block.kem_ciphertext).unwrap();
            let prk = kdf::combine(&[&ss], supplied.map(SecretBytes::expose_secret));
            let kek = prk.derive_key(
                labels::ENVELOPE_KEK,
                &[
                    &hh,
                    block.recipient.as_bytes(),
                    block.prekey_id.as_bytes(),
                    block.supplied_field(),
                ],
            );
            let ck = aead::open(&kek, &ZERO_NONCE, &hh, &block.wrapped_key).unwrap();
            let pt = aead::open(
                &liaison_crypto::SymmetricKey::try_from_slice(&ck).unwrap(),
                &ZERO_NONCE,
                &hh,
                env.payload_ciphertext(),
            )
            .unwrap();
            assert_eq!(pt, plaintext.as_bytes());
            blocks.push(json!({
                "recipient": block.recipient.to_string(),
                "recipient_identity_seed": h(r.key.seed().expose_secret()),
                "prekey_id": block.prekey_id.to_string(),
                "prekey_kem_seed": h(secret.seed().expose_secret()),
                "kem_ciphertext": h(block.kem_ciphertext.as_bytes()),
                "kem_shared_secret": h(ss.expose_secret()),
                "supplied_key": supplied.map(|k| h(k.expose_secret())),
                "supplied_key_ref": block.supplied.as_ref().map(|s| json!({
                    "key_id": s.key_id, "source_sae": s.source_sae, "target_sae": s.target_sae,
                })),
                "supplied_field": h(block.supplied_field()),
                "combined_prk": h(prk.expose_secret()),
                "kek": h(kek.expose_secret()),
                "wrapped_key": h(&block.wrapped_key),
                "content_key": h(&ck),
            }));
            if i == 0 {
                let receipt =
                    Receipt::issue(&r.key, &env, NOW.plus_secs(30), &mut rng(200 + ci as u8))
                        .unwrap();
                receipt.verify(&trust, &r.cert, &env, NOW).unwrap();
                receipts.push(json!({
                    "name": case.name,
                    "envelope": case.name,
                    "recipient": r.cert.subject().to_string(),
                    "message_id": receipt.message_id().to_string(),
                    "envelope_hash": h(receipt.envelope_hash()),
                    "sender": receipt.sender().to_string(),
                    "received_at": receipt.received_at().0,
                    "signed_bytes_len": receipt.raw().len() - 3 - receipt.suite().signature_len(),
                    "receipt": h(receipt.raw()),
                    "custody_id": h(&receipt.custody_id()),
                }));
            }
        }
        let h_ = env.header();
        envelopes.push(json!({
            "name": case.name,
            "suite": case.suite.name(),
            "classification": h_.classification.marking(),
            "tlp": h_.tlp.label(),
            "message_id": h_.message_id.to_string(),
            "sender": h_.sender.to_string(),
            "sender_identity_seed": h(sender.key.seed().expose_secret()),
            "created": h_.created.0, "expires": h_.expires.0,
            "content_type": "stix-2.1-bundle",
            "plaintext": h(plaintext.as_bytes()),
            "recipients": h_.recipients.iter().map(|i| i.to_string()).collect::<Vec<_>>(),
            "header": h(env.header_bytes()),
            "header_hash": h(&hh),
            "recipient_section": h(env.recipient_section()),
            "payload_ciphertext": h(env.payload_ciphertext()),
            "payload_hash": h(&{
                let mut t = kdf::Transcript::new(labels::ENVELOPE_PAYLOAD_HASH);
                t.absorb(env.payload_ciphertext());
                t.current()
            }),
            "signed_digest": h(&env.signed_digest()),
            "envelope_hash": h(&env.envelope_hash()),
            "blocks": blocks,
            "envelope": h(env.raw()),
        }));
    }
    let envelopes = json!({
        "description": "Liaison envelope vectors (spec/protocol.md §11). Certificates and prekeys: certificates.json. Verify the sender signature over signed_digest, open every block, decrypt the payload. All secrets are test-only.",
        "now": NOW.0,
        "trust_anchor": IdentityId::of(authority.verifying_key()).to_string(),
        "labels": {
            "header_hash": String::from_utf8_lossy(labels::ENVELOPE_HEADER_HASH),
            "payload_hash": String::from_utf8_lossy(labels::ENVELOPE_PAYLOAD_HASH),
            "transcript": String::from_utf8_lossy(labels::ENVELOPE_TRANSCRIPT),
            "signature": String::from_utf8_lossy(labels::ENVELOPE_SIG),
            "kek": String::from_utf8_lossy(labels::ENVELOPE_KEK),
            "envelope_hash": String::from_utf8_lossy(labels::ENVELOPE_HASH),
            "key_combiner_salt": String::from_utf8_lossy(labels::KEY_COMBINER),
        },
        "envelopes": envelopes,
    });
    let receipts = json!({
        "description": "Liaison receipt vectors (spec/protocol.md §13): the first recipient of each envelope in envelopes.json signs a receipt. All secrets are test-only.",
        "label": String::from_utf8_lossy(labels::RECEIPT_SIG),
        "receipts": receipts,
    });
    (certificates, envelopes, receipts)
}

#[test]
fn document_vectors_are_reproduced_byte_for_byte() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/test-vectors");
    let (certificates, envelopes, receipts) = build();
    let regenerate = std::env::var_os("LIAISON_REGENERATE_VECTORS").is_some_and(|v| v == "1");
    for (file, value) in [
        ("certificates.json", certificates),
        ("envelopes.json", envelopes),
        ("receipts.json", receipts),
    ] {
        let text = serde_json::to_string_pretty(&value).unwrap() + "\n";
        let path = dir.join(file);
        if regenerate {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        } else {
            let on_disk = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "{}: {e}; run with LIAISON_REGENERATE_VECTORS=1",
                    path.display()
                )
            });
            assert!(
                on_disk == text,
                "{} differs from what the code produces; if the change is intended, run \
                 LIAISON_REGENERATE_VECTORS=1 cargo test -p liaison-proto --test vectors_documents",
                path.display()
            );
        }
    }
}
