//! Criterion benchmarks for `liaison-crypto`: every composite operation of both suites next to
//! the raw primitives it is built from, so `docs/BENCHMARKS.md` can compare the composite's
//! median with the sum of its primitives' medians (goal: at most 1.1x).
//!
//! Benchmark ids are `<group>/<operation>/<part>`:
//! * `composite`: our public API (`KemSecretKey::generate`, `KemPublicKey::encapsulate`, …);
//! * any other part: one primitive the composite calls, invoked directly on its crate with the
//!   same inputs (the ML-DSA and Ed25519 parts sign the same composite message `M'`);
//! * `pqclean`: the same ML-KEM / ML-DSA operation in PQClean (`pqcrypto-*`, AVX2), the
//!   reference for what the C library would cost in place of the RustCrypto ML part. For
//!   signing and verification, whose ML-DSA half now runs on PQClean, it is the primitive and
//!   the RustCrypto `mldsa` part is the reference instead (see `summarize.py`);
//! * `diag_*`: diagnostics that explain an overhead; they are not part of any sum. The
//!   `diag_rustcrypto*` parts replay the RustCrypto-only verifier and signer `sign.rs` used
//!   before ML-DSA verification (issue 9) and signing (issue 9, scenario 4) moved to PQClean,
//!   so old and new are measured in one run.
//!
//! Verification only: `cargo bench -p liaison-crypto --bench crypto -- verify`.
//!
//! Run: `cargo bench -p liaison-crypto --bench crypto -- --warm-up-time 1 --measurement-time 3`
//! (see `docs/BENCHMARKS.md`), then `python3 crypto/benches/summarize.py <target>/criterion`.

use std::hint::black_box;

use chacha20poly1305::aead::{Aead, KeyInit as _, Payload};
use chacha20poly1305::{ChaCha20Poly1305, XChaCha20Poly1305};
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::Signer as _;
use liaison_crypto::kem::KemSecretKey;
use liaison_crypto::rng::os_rng;
use liaison_crypto::sign::{SigningKey, VerifyingKey, composite_message};
use liaison_crypto::{
    ED25519_PK_LEN, ED25519_SIG_LEN, IdentityId, Suite, SymmetricKey, aead, labels,
};
use ml_dsa::{
    B32, EncodedSignature, EncodedVerifyingKey, ExpandedSigningKey, MlDsa65, MlDsa87, MlDsaParams,
};
use ml_kem::array::Array;
use ml_kem::{
    Decapsulate as _, DecapsulationKey, Encapsulate as _, EncapsulationKey, KeyExport as _,
    MlKem768, MlKem1024,
};
use pqcrypto_traits::kem::{Ciphertext as _, PublicKey as _};
use pqcrypto_traits::sign::{DetachedSignature as _, SecretKey as _};
use rand_core::Rng as _;
use sha3::digest::{ExtendableOutput, Update, XofReader};
use sha3::{Digest, Sha3_256, Shake256};
use x25519_dalek::{PublicKey as XPublicKey, StaticSecret};

/// Context string of the signature benchmarks (any short label would do).
const CONTEXT: &[u8] = b"liaison bench v1";
/// Size of the signed message: a typical envelope header plus a small body.
const SIGNED_MESSAGE_LEN: usize = 1024;

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

/// X25519 parts shared by every hybrid KEM operation.
fn x25519_parts(g: &mut Group<'_>, op: &str, base: bool, dh: bool) {
    let secret = StaticSecret::from([0x42; 32]);
    let peer = XPublicKey::from(&StaticSecret::from([0x24; 32]));
    if base {
        g.bench_function(format!("{op}/x25519_base"), |b| {
            b.iter(|| XPublicKey::from(black_box(&secret)))
        });
    }
    if dh {
        g.bench_function(format!("{op}/x25519_dh"), |b| {
            b.iter(|| black_box(&secret).diffie_hellman(black_box(&peer)))
        });
    }
}

/// SHA3-256 over the X-Wing combiner input `ss_M || ss_X || ct_X || pk_X || label`.
fn sha3_combiner(g: &mut Group<'_>, op: &str, label: &'static [u8]) {
    let parts = [[1u8; 32], [2; 32], [3; 32], [4; 32]];
    g.bench_function(format!("{op}/sha3_combiner"), |b| {
        b.iter(|| {
            let mut h = Sha3_256::new();
            for part in black_box(&parts) {
                Digest::update(&mut h, part);
            }
            Digest::update(&mut h, label);
            h.finalize()
        })
    });
}

/// One 32-byte draw from the OS generator, as `Seed32::random` makes in every key generation.
fn os_rng_seed(g: &mut Group<'_>, op: &str) {
    let mut rng = os_rng();
    g.bench_function(format!("{op}/os_rng_32"), |b| {
        b.iter(|| {
            let mut seed = [0u8; 32];
            rng.fill_bytes(&mut seed);
            seed
        })
    });
}

/// SHAKE256 seed expansion into `len` bytes, with an optional label prefix.
fn shake_expand(g: &mut Group<'_>, op: &str, label: &'static [u8], len: usize) {
    let seed = [7u8; 32];
    g.bench_function(format!("{op}/shake256_expand"), |b| {
        b.iter(|| {
            let mut out = [0u8; 96];
            let mut xof = Shake256::default();
            xof.update(label);
            xof.update(black_box(&seed));
            xof.finalize_xof().read(&mut out[..len]);
            out
        })
    });
}

/// The composite verifying key as `sign.rs` parsed it before issue 9: Ed25519 point plus a
/// decoded RustCrypto ML-DSA key (`VerifyingKey::decode` expands the matrix `Â`).
struct RustCryptoVerifier<P: MlDsaParams> {
    ed25519: ed25519_dalek::VerifyingKey,
    ml_dsa: ml_dsa::VerifyingKey<P>,
}

impl<P: MlDsaParams> RustCryptoVerifier<P> {
    /// The former `VerifyingKey::from_bytes` (lengths already right in the benchmark).
    fn parse(bytes: &[u8]) -> Option<Self> {
        let (ed, ml) = bytes.split_at(ED25519_PK_LEN);
        let ed25519 = ed25519_dalek::VerifyingKey::from_bytes(ed.try_into().ok()?).ok()?;
        if ed25519.is_weak() {
            return None;
        }
        let enc = EncodedVerifyingKey::<P>::try_from(ml).ok()?;
        Some(Self {
            ed25519,
            ml_dsa: ml_dsa::VerifyingKey::decode(&enc),
        })
    }

    /// The former `VerifyingKey::verify`: `M'`, Ed25519 `verify_strict`, RustCrypto ML-DSA.
    fn verify(&self, suite: Suite, message: &[u8], signature: &[u8]) -> bool {
        let Ok(m) = composite_message(suite, CONTEXT, message) else {
            return false;
        };
        let (sig_e, sig_d) = signature.split_at(ED25519_SIG_LEN);
        let Ok(sig_e) = <[u8; ED25519_SIG_LEN]>::try_from(sig_e) else {
            return false;
        };
        let ed_ok = self
            .ed25519
            .verify_strict(&m, &ed25519_dalek::Signature::from_bytes(&sig_e))
            .is_ok();
        let ml_ok = EncodedSignature::<P>::try_from(sig_d)
            .ok()
            .and_then(|enc| ml_dsa::Signature::decode(&enc))
            .is_some_and(|sig| self.ml_dsa.verify_with_context(&m, b"", &sig));
        ed_ok && ml_ok
    }
}

macro_rules! kem_suite {
    ($c:expr, $suite:expr, $mlkem:ty, $pq:ident, $label:expr) => {{
        use pqcrypto_mlkem::$pq as pq;
        let suite: Suite = $suite;
        let mut rng = os_rng();
        let mut g = $c.benchmark_group(suite.name());

        // Key generation.
        g.bench_function("kem_keygen/composite", |b| {
            b.iter(|| KemSecretKey::generate(suite, &mut rng))
        });
        let ml_seed = Array::from([5u8; 64]);
        g.bench_function("kem_keygen/mlkem", |b| {
            b.iter(|| {
                let dk = DecapsulationKey::<$mlkem>::from_seed(black_box(ml_seed));
                let pk = dk.encapsulation_key().to_bytes();
                (dk, pk)
            })
        });
        x25519_parts(&mut g, "kem_keygen", true, false);
        shake_expand(&mut g, "kem_keygen", b"", 96);
        os_rng_seed(&mut g, "kem_keygen");
        g.bench_function("kem_keygen/pqclean", |b| b.iter(pq::keypair));

        // Encapsulation, through the public key as a sender holds it.
        let sk = KemSecretKey::generate(suite, &mut rng);
        let pk = sk.public_key().clone();
        g.bench_function("kem_encaps/composite", |b| {
            b.iter(|| pk.encapsulate(&mut rng))
        });
        let x_len = pk.as_bytes().len() - 32;
        let pk_m = Array::try_from(&pk.as_bytes()[..x_len]).expect("ML-KEM key length");
        let ek = EncapsulationKey::<$mlkem>::new(&pk_m).expect("valid ML-KEM key");
        g.bench_function("kem_encaps/mlkem", |b| {
            b.iter(|| black_box(&ek).encapsulate_with_rng(&mut rng))
        });
        x25519_parts(&mut g, "kem_encaps", true, true);
        sha3_combiner(&mut g, "kem_encaps", $label);
        g.bench_function("kem_encaps/diag_mlkem_parse_key", |b| {
            b.iter(|| EncapsulationKey::<$mlkem>::new(black_box(&pk_m)))
        });
        let (pq_pk, pq_sk) = pq::keypair();
        g.bench_function("kem_encaps/pqclean", |b| {
            b.iter(|| pq::encapsulate(black_box(&pq_pk)))
        });

        // Decapsulation.
        let (ct, _) = pk.encapsulate(&mut rng).expect("encapsulate");
        g.bench_function("kem_decaps/composite", |b| {
            b.iter(|| sk.decapsulate(black_box(&ct)))
        });
        let dk = DecapsulationKey::<$mlkem>::from_seed(ml_seed);
        let (ml_ct, _) = dk.encapsulation_key().encapsulate_with_rng(&mut rng);
        g.bench_function("kem_decaps/mlkem", |b| {
            b.iter(|| dk.decapsulate(black_box(&ml_ct)))
        });
        x25519_parts(&mut g, "kem_decaps", false, true);
        sha3_combiner(&mut g, "kem_decaps", $label);
        let (_, pq_ct) = pq::encapsulate(&pq_pk);
        g.bench_function("kem_decaps/pqclean", |b| {
            b.iter(|| pq::decapsulate(black_box(&pq_ct), &pq_sk))
        });
        let _ = (pq_ct.as_bytes(), pq_pk.as_bytes());
        g.finish();
    }};
}

macro_rules! sig_suite {
    ($c:expr, $suite:expr, $mldsa:ty, $pq:ident) => {{
        use pqcrypto_mldsa::$pq as pq;
        let suite: Suite = $suite;
        let mut rng = os_rng();
        let mut g = $c.benchmark_group(suite.name());
        let message = vec![0x5a; SIGNED_MESSAGE_LEN];
        let m_prime = composite_message(suite, CONTEXT, &message).expect("short context");
        let xi = B32::from([9u8; 32]);

        // Key generation.
        g.bench_function("sig_keygen/composite", |b| {
            b.iter(|| SigningKey::generate(suite, &mut rng))
        });
        g.bench_function("sig_keygen/mldsa", |b| {
            b.iter(|| {
                let sk = ml_dsa::SigningKey::<$mldsa>::from_seed(black_box(&xi));
                let pk = AsRef::<ml_dsa::VerifyingKey<$mldsa>>::as_ref(&sk).encode();
                (sk, pk)
            })
        });
        g.bench_function("sig_keygen/ed25519", |b| {
            b.iter(|| {
                let sk = ed25519_dalek::SigningKey::from_bytes(black_box(&[3; 32]));
                let pk = sk.verifying_key().to_bytes();
                (sk, pk)
            })
        });
        shake_expand(&mut g, "sig_keygen", labels::SIG_SEED_EXPAND, 64);
        os_rng_seed(&mut g, "sig_keygen");
        // What `sign.rs` adds to the line above: the `skEncode` bytes PQClean signs with.
        g.bench_function("sig_keygen/diag_mldsa_then_sk_encode", |b| {
            b.iter(|| {
                let sk = ml_dsa::SigningKey::<$mldsa>::from_seed(black_box(&xi));
                #[allow(deprecated)] // skEncode, as `sign.rs` keeps it
                let enc = sk.expanded_key().to_expanded();
                let pk = AsRef::<ml_dsa::VerifyingKey<$mldsa>>::as_ref(&sk).encode();
                (enc, pk)
            })
        });
        g.bench_function("sig_keygen/pqclean", |b| b.iter(pq::keypair));

        // Signing (hedged ML-DSA, empty ML-DSA context, over M').
        let signer = SigningKey::generate(suite, &mut rng);
        g.bench_function("sign/composite", |b| {
            b.iter(|| signer.sign(CONTEXT, black_box(&message), &mut rng))
        });
        let ml_sk = ExpandedSigningKey::<$mldsa>::from_seed(&xi);
        g.bench_function("sign/mldsa", |b| {
            b.iter(|| {
                ml_sk
                    .sign_randomized(black_box(&m_prime), b"", &mut rng)
                    .map(|sig| sig.encode())
            })
        });
        let ed_sk = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
        g.bench_function("sign/ed25519", |b| {
            b.iter(|| ed_sk.sign(black_box(&m_prime)).to_bytes())
        });
        let (pq_pk, pq_sk) = pq::keypair();
        // What `sign.rs` calls since scenario 4: PQClean over the encoded key, rnd from `rng`.
        let pq_sk_bytes = pq_sk.as_bytes().to_vec();
        g.bench_function("sign/pqclean", |b| {
            b.iter(|| {
                let mut rnd = [0u8; 32];
                rng.fill_bytes(&mut rnd);
                pq::detached_sign_ctx_with_rnd(black_box(&m_prime), b"", &pq_sk_bytes, &rnd)
            })
        });
        // PQClean's own entry point (its `randombytes`, a `Copy` secret key): the patched
        // entry point above must cost the same.
        g.bench_function("sign/diag_pqclean_randombytes", |b| {
            b.iter(|| pq::detached_sign(black_box(&m_prime), &pq_sk))
        });
        // Before scenario 4: the composite signer on RustCrypto (Ed25519 + `sign_randomized`).
        g.bench_function("sign/diag_rustcrypto_composite", |b| {
            b.iter(|| {
                let m = composite_message(suite, CONTEXT, black_box(&message)).expect("short");
                let mut sig = ed_sk.sign(&m).to_bytes().to_vec();
                let ml = ml_sk.sign_randomized(&m, b"", &mut rng).expect("sign");
                sig.extend_from_slice(&ml.encode());
                sig
            })
        });

        // Verification, with a key parsed once (as a cached peer key is).
        let signature = signer.sign(CONTEXT, &message, &mut rng).expect("sign");
        let verifier = signer.verifying_key().clone();
        g.bench_function("verify/composite", |b| {
            b.iter(|| verifier.verify(CONTEXT, black_box(&message), &signature))
        });
        let ml_vk = ml_sk.verifying_key();
        let ml_sig = ml_sk
            .sign_randomized(&m_prime, b"", &mut rng)
            .expect("sign")
            .encode();
        g.bench_function("verify/mldsa", |b| {
            b.iter(|| {
                let enc = EncodedSignature::<$mldsa>::try_from(black_box(&ml_sig[..])).ok();
                enc.and_then(|enc| ml_dsa::Signature::decode(&enc))
                    .is_some_and(|sig| ml_vk.verify_with_context(&m_prime, b"", &sig))
            })
        });
        let ed_vk = ed_sk.verifying_key();
        let ed_sig = ed_sk.sign(&m_prime);
        g.bench_function("verify/ed25519", |b| {
            b.iter(|| ed_vk.verify_strict(black_box(&m_prime), &ed_sig))
        });
        let pq_sig = pq::detached_sign(&m_prime, &pq_sk);
        g.bench_function("verify/pqclean", |b| {
            b.iter(|| pq::verify_detached_signature(&pq_sig, black_box(&m_prime), &pq_pk))
        });
        let _ = pq_sig.as_bytes();
        // Before issue 9: the same composite check on RustCrypto alone, key parsed once.
        let public = verifier.as_bytes().to_vec();
        let old = RustCryptoVerifier::<$mldsa>::parse(&public).expect("valid key");
        assert!(old.verify(suite, &message, signature.as_bytes()));
        g.bench_function("verify/diag_rustcrypto_composite", |b| {
            b.iter(|| old.verify(suite, black_box(&message), signature.as_bytes()))
        });

        // Parsing a verifying key from the wire, as a relay does for every certificate.
        g.bench_function("verify_key_parse/composite", |b| {
            b.iter(|| VerifyingKey::from_bytes(suite, black_box(&public)))
        });
        let ed_public: [u8; ED25519_PK_LEN] = public[..ED25519_PK_LEN].try_into().expect("32");
        g.bench_function("verify_key_parse/ed25519", |b| {
            b.iter(|| {
                ed25519_dalek::VerifyingKey::from_bytes(black_box(&ed_public))
                    .map(|key| key.is_weak())
            })
        });
        g.bench_function("verify_key_parse/diag_rustcrypto", |b| {
            b.iter(|| RustCryptoVerifier::<$mldsa>::parse(black_box(&public)).is_some())
        });

        // Parse, then verify: the per-envelope cost on a relay, new against old.
        g.bench_function("verify_with_key_parse/composite", |b| {
            b.iter(|| {
                VerifyingKey::from_bytes(suite, black_box(&public))
                    .and_then(|key| key.verify(CONTEXT, &message, &signature))
            })
        });
        g.bench_function("verify_with_key_parse/diag_rustcrypto", |b| {
            b.iter(|| {
                RustCryptoVerifier::<$mldsa>::parse(black_box(&public))
                    .is_some_and(|key| key.verify(suite, &message, signature.as_bytes()))
            })
        });

        // Identity ids: hashed once per key, then read from the key (`IdentityId::of`). The
        // diagnostic is a fresh parse plus the first `of`, the hash a parse would cost if the
        // id were computed eagerly, against `verify_key_parse/composite` (lazy).
        let _ = IdentityId::of(&verifier);
        g.bench_function("identity_id/composite", |b| {
            b.iter(|| IdentityId::of(black_box(&verifier)))
        });
        g.bench_function("identity_id/diag_parse_then_first_id", |b| {
            b.iter(|| {
                VerifyingKey::from_bytes(suite, black_box(&public)).map(|k| IdentityId::of(&k))
            })
        });
        g.finish();
    }};
}

fn lq1(c: &mut Criterion) {
    kem_suite!(c, Suite::Lq1, MlKem768, mlkem768, labels::XWING_LABEL);
    sig_suite!(c, Suite::Lq1, MlDsa65, mldsa65);
}

fn lq2(c: &mut Criterion) {
    kem_suite!(c, Suite::Lq2, MlKem1024, mlkem1024, labels::LQ2_KEM_LABEL);
    sig_suite!(c, Suite::Lq2, MlDsa87, mldsa87);
}

/// AEAD is the same in both suites (ChaCha20-Poly1305), so it is measured once. The
/// ChaCha20-Poly1305 primitive includes making its key, as `aead::seal` does per call.
fn aead_sizes(c: &mut Criterion) {
    let key = SymmetricKey::from_bytes([0x11; 32]);
    let raw = ChaCha20Poly1305::new(key.expose_secret().into());
    let aws_key = || {
        let unbound = aws_lc_rs::aead::UnboundKey::new(
            &aws_lc_rs::aead::CHACHA20_POLY1305,
            key.expose_secret(),
        )
        .expect("32-byte key");
        aws_lc_rs::aead::LessSafeKey::new(unbound)
    };
    let raw_x = XChaCha20Poly1305::new(key.expose_secret().into());
    let nonce = [0x22; aead::NONCE_LEN];
    let xnonce = [0x33; aead::XNONCE_LEN];
    let aad = b"liaison bench aad";
    for (name, len) in [("1KiB", 1024), ("1MiB", 1024 * 1024)] {
        let mut g = c.benchmark_group("AEAD");
        g.throughput(Throughput::Bytes(len as u64));
        if len > 4096 {
            g.sample_size(20);
        }
        let plaintext = vec![0xab; len];
        let sealed = aead::seal(&key, &nonce, aad, &plaintext);
        let sealed_x = aead::seal_x(&key, &xnonce, aad, &plaintext);
        let payload = |msg| Payload { msg, aad };

        g.bench_function(format!("seal_{name}/composite"), |b| {
            b.iter(|| aead::seal(&key, &nonce, aad, black_box(&plaintext)))
        });
        // The primitive is AWS-LC's (the back-end `aead::seal` uses); RustCrypto's, the
        // former back-end, is kept as a diagnostic.
        g.bench_function(format!("seal_{name}/chacha20poly1305"), |b| {
            b.iter(|| {
                let key = aws_key();
                let mut buf = black_box(&plaintext[..]).to_vec();
                let tag = key.seal_in_place_separate_tag(
                    aws_lc_rs::aead::Nonce::assume_unique_for_key(nonce),
                    aws_lc_rs::aead::Aad::from(aad),
                    &mut buf,
                );
                (buf, tag.map(|t| *t.as_ref().first().unwrap_or(&0)))
            })
        });
        g.bench_function(format!("seal_{name}/diag_rustcrypto"), |b| {
            b.iter(|| raw.encrypt((&nonce).into(), payload(black_box(&plaintext[..]))))
        });
        g.bench_function(format!("open_{name}/composite"), |b| {
            b.iter(|| aead::open(&key, &nonce, aad, black_box(&sealed)))
        });
        g.bench_function(format!("open_{name}/chacha20poly1305"), |b| {
            b.iter(|| {
                let key = aws_key();
                let mut buf = black_box(&sealed[..]).to_vec();
                let len = key
                    .open_in_place(
                        aws_lc_rs::aead::Nonce::assume_unique_for_key(nonce),
                        aws_lc_rs::aead::Aad::from(aad),
                        &mut buf,
                    )
                    .map(|p| p.len());
                (buf, len)
            })
        });
        g.bench_function(format!("open_{name}/diag_rustcrypto"), |b| {
            b.iter(|| raw.decrypt((&nonce).into(), payload(black_box(&sealed[..]))))
        });
        g.bench_function(format!("xseal_{name}/composite"), |b| {
            b.iter(|| aead::seal_x(&key, &xnonce, aad, black_box(&plaintext)))
        });
        g.bench_function(format!("xseal_{name}/xchacha20poly1305"), |b| {
            b.iter(|| raw_x.encrypt((&xnonce).into(), payload(black_box(&plaintext[..]))))
        });
        g.bench_function(format!("xopen_{name}/composite"), |b| {
            b.iter(|| aead::open_x(&key, &xnonce, aad, black_box(&sealed_x)))
        });
        g.bench_function(format!("xopen_{name}/xchacha20poly1305"), |b| {
            b.iter(|| raw_x.decrypt((&xnonce).into(), payload(black_box(&sealed_x[..]))))
        });
        g.finish();
    }
}

criterion_group!(benches, lq1, lq2, aead_sizes);
criterion_main!(benches);
