//! Criterion benchmarks for scenario 6 of issue 9: sealing and opening a 1 KiB report (LQ2, one
//! recipient) next to the primitives each is built from, so `docs/BENCHMARKS.md` can compare
//! the composite's median with the sum of its primitives' medians (target: at most 1.2x).
//!
//! Benchmark ids are `envelope_1KiB/<operation>/<part>`:
//! * `seal/composite`: `EnvelopeBuilder::seal` (sender policy checks, which verify the
//!   recipient's signed prekey, then seal and sign); `seal_unchecked/composite` skips the
//!   checks. Parts: `kem_encaps`, `sign` (composite signature over the 64-byte signed digest),
//!   `aead_payload` (1 KiB), `aead_wrap` (the 32-byte content key), `verify_prekey`.
//! * `open/composite`: `Envelope::open` (validates the sender's certificate, verifies the
//!   envelope signature, validates the recipient's own certificate, decapsulates, unwraps,
//!   decrypts). Parts: `kem_decaps`, `verify` (one composite verification), `aead_payload`,
//!   `aead_wrap`, `validate_certificate` (one certificate chain check against the anchor).
//! * `diag_decode`: parsing the sealed bytes (part of sealing, whose last step re-decodes).
//!
//! Run: `cargo bench -p liaison-proto --bench envelope -- --warm-up-time 1 --measurement-time 3`
//! then `python3 interop-tests/bench/envelope_ratio.py <target>/criterion`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use liaison_crypto::rng::os_rng;
use liaison_crypto::sign::SigningKey;
use liaison_crypto::{Suite, SymmetricKey, aead};
use liaison_proto::certificate::{
    self, CertificateRequest, CertificateTerms, MemberCertificate, Role,
};
use liaison_proto::envelope::{ContentType, Envelope, EnvelopeBuilder};
use liaison_proto::prekey::{PREKEY_LIFETIME_SECS, SignedPrekey};
use liaison_proto::trust::TrustStore;
use liaison_proto::{Classification, Tlp, UnixTime};

const NOW: u64 = 1_800_000_000;
const REPORT_LEN: usize = 1024;
/// Label for the stand-alone signature parts (any short label costs the same).
const CONTEXT: &[u8] = b"liaison bench v1";

fn member(authority: &SigningKey, key: &SigningKey, serial: u64) -> MemberCertificate {
    let mut rng = os_rng();
    let request = CertificateRequest::new(key, &format!("officer-{serial}"), "Bench Org", &mut rng)
        .expect("bench setup: certificate request");
    let terms = CertificateTerms {
        role: Role::Officer,
        clearance: Classification::SecretUe,
        home_relay: Some(liaison_crypto::IdentityId::of(authority.verifying_key())),
        address: None,
        not_before: UnixTime(NOW - 3600),
        not_after: UnixTime(NOW + 86_400),
        serial,
    };
    certificate::issue(authority, &request, &terms, &mut rng).expect("bench setup: issue")
}

fn envelope(c: &mut Criterion) {
    let mut rng = os_rng();
    let authority = SigningKey::generate(Suite::Lq2, &mut rng);
    let trust = TrustStore::new(vec![authority.verifying_key().clone()]);
    let sender = SigningKey::generate(Suite::Lq2, &mut rng);
    let sender_cert = member(&authority, &sender, 1);
    let recipient = SigningKey::generate(Suite::Lq2, &mut rng);
    let recipient_cert = member(&authority, &recipient, 2);
    let (prekey, prekey_secret) = SignedPrekey::generate(
        &recipient,
        Suite::Lq2,
        UnixTime(NOW - 60),
        PREKEY_LIFETIME_SECS,
        &mut rng,
    )
    .expect("bench setup: prekey");
    let report: Vec<u8> = (0..REPORT_LEN).map(|i| (i % 251) as u8).collect();
    let now = UnixTime(NOW);
    let builder = || {
        EnvelopeBuilder::new(
            &sender,
            &sender_cert,
            Classification::RestreintUe,
            Tlp::Amber,
            ContentType::Text,
            now,
            now.plus_secs(3600),
        )
        .recipient(&recipient_cert, &prekey, None)
    };
    let sealed = builder()
        .seal(&report, &mut rng)
        .expect("bench setup: seal");
    let raw = sealed.raw().to_vec();
    let digest = [0x5a_u8; 64];
    let signature = sender
        .sign(CONTEXT, &digest, &mut rng)
        .expect("bench setup: sign");
    let (kem_ct, _) = prekey
        .public_key()
        .encapsulate(&mut rng)
        .expect("bench setup: encaps");
    let key = SymmetricKey::random(&mut rng);
    let nonce = [0u8; aead::NONCE_LEN];
    let aad = [0x11_u8; 32];
    let payload_ct = aead::seal(&key, &nonce, &aad, &report);
    let wrap_ct = aead::seal(&key, &nonce, &aad, &[0x22; 32]);

    let mut g = c.benchmark_group("envelope_1KiB");
    g.bench_function("seal/composite", |b| {
        b.iter(|| builder().seal(black_box(&report), &mut rng).expect("seal"))
    });
    g.bench_function("seal_unchecked/composite", |b| {
        b.iter(|| {
            builder()
                .seal_without_policy_checks(black_box(&report), &mut rng)
                .expect("seal")
        })
    });
    g.bench_function("seal/kem_encaps", |b| {
        b.iter(|| prekey.public_key().encapsulate(&mut rng).expect("encaps"))
    });
    g.bench_function("seal/sign", |b| {
        b.iter(|| {
            sender
                .sign(CONTEXT, black_box(&digest), &mut rng)
                .expect("sign")
        })
    });
    g.bench_function("seal/aead_payload", |b| {
        b.iter(|| aead::seal(&key, &nonce, &aad, black_box(&report)))
    });
    g.bench_function("seal/aead_wrap", |b| {
        b.iter(|| aead::seal(&key, &nonce, &aad, black_box(&[0x22; 32])))
    });
    g.bench_function("seal/verify_prekey", |b| {
        b.iter(|| {
            prekey
                .verify(black_box(&recipient_cert), now)
                .expect("prekey")
        })
    });
    g.bench_function("open/composite", |b| {
        b.iter(|| {
            sealed
                .open(&trust, &recipient_cert, &[&prekey_secret], None, now)
                .expect("open")
        })
    });
    g.bench_function("open/kem_decaps", |b| {
        b.iter(|| {
            prekey_secret
                .decapsulate(black_box(&kem_ct))
                .expect("decaps")
        })
    });
    g.bench_function("open/verify", |b| {
        b.iter(|| {
            sender
                .verifying_key()
                .verify(CONTEXT, black_box(&digest), &signature)
                .expect("verify")
        })
    });
    g.bench_function("open/aead_payload", |b| {
        b.iter(|| aead::open(&key, &nonce, &aad, black_box(&payload_ct)).expect("open"))
    });
    g.bench_function("open/aead_wrap", |b| {
        b.iter(|| aead::open(&key, &nonce, &aad, black_box(&wrap_ct)).expect("open"))
    });
    g.bench_function("open/validate_certificate", |b| {
        b.iter(|| {
            trust
                .validate_role(black_box(&sender_cert), Role::Officer, now)
                .expect("certificate")
        })
    });
    g.bench_function("diag_decode", |b| {
        b.iter(|| Envelope::decode(black_box(&raw)).expect("decode"))
    });
    g.finish();
}

criterion_group!(benches, envelope);
criterion_main!(benches);
