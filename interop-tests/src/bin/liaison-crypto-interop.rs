//! `liaison-crypto-interop`: the Rust half of the cross-implementation check of
//! `liaison-crypto` (project issue 2, item 4).
//!
//! * `emit [--seed N]` prints JSON vectors made by `liaison-crypto` for both suites (hybrid
//!   KEM, composite signatures with identities, ChaCha20-/XChaCha20-Poly1305, the KDF and key
//!   combiner). The Python tests in `python/crypto/` recompute or verify every one of them with
//!   independent implementations.
//! * `check FILE` reads what the Python side made (encapsulations to the fixed Rust recipients
//!   published by `emit`, signatures by Python keys, AEAD ciphertexts, KDF outputs), verifies
//!   each with `liaison-crypto`, prints one line per item and `N passed, N failed`, and exits
//!   non-zero if anything failed or nothing was checked. Items marked `"expect": "reject"`
//!   (tampered by Python) pass only if `liaison-crypto` refuses them.
//!
//! The JSON shapes are in [`liaison_interop_tests::crypto_vectors`]. Vectors are reproducible:
//! all randomness comes from `ChaCha20Rng::seed_from_u64(seed)`.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use chacha20::ChaCha20Rng;
use clap::{Parser, Subcommand};
use rand_core::{Rng, SeedableRng};

use liaison_crypto::kem::KemSharedSecret;
use liaison_crypto::kem::{EncapsulationSeed, KemCiphertext, KemSecretKey};
use liaison_crypto::sign::{Signature, SigningKey, VerifyingKey, composite_message};
use liaison_crypto::{CryptoError, IdentityId, Seed32, Suite, SymmetricKey, aead, kdf};
use liaison_interop_tests::crypto_vectors::{
    AeadAlgorithm, AeadVector, CheckFile, CombineVector, DeriveVector, EmittedVectors, ExpandedKey,
    Expect, InfoVector, KdfVectors, KemRecipient, KemVector, SignatureVector,
};

/// Encapsulations per suite in `emit`.
const KEM_VECTORS_PER_SUITE: usize = 3;
/// (context, message length) of the signatures per suite in `emit`.
const SIGNATURE_CASES: [(&[u8], usize); 4] = [
    (b"", 0),
    (b"liaison envelope v1", 6),
    (b"liaison receipt v1", 1500),
    (&[0xA5; 255], 33),
];
/// (aad length, plaintext length) of the AEAD vectors per algorithm in `emit`.
const AEAD_CASES: [(usize, usize); 5] = [(0, 0), (13, 1), (0, 64), (32, 1000), (7, 4099)];

#[derive(Debug, Parser)]
#[command(about = "Emits liaison-crypto interop vectors and checks vectors made elsewhere")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print JSON vectors made by liaison-crypto for both suites.
    Emit {
        /// Seed of the ChaCha20 RNG all vector randomness comes from.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Verify a JSON file of vectors made by another implementation.
    Check {
        /// The file (shape: `crypto_vectors::CheckFile`).
        file: PathBuf,
    },
}

fn main() -> anyhow::Result<ExitCode> {
    match Cli::parse().command {
        Command::Emit { seed } => {
            let vectors = emit(seed)?;
            println!("{}", serde_json::to_string_pretty(&vectors)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let items: CheckFile = serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", file.display()))?;
            let mut report = Report::default();
            check(&items, &mut report);
            println!("{} passed, {} failed", report.passed, report.failed);
            Ok(if report.failed == 0 && report.passed > 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// The fixed KEM recipient of `suite` that Python encapsulates to. Its seed is the first
/// 32 bytes of `ChaCha20Rng::from_seed([suite_id; 32])`; the Python side only ever sees the
/// public key (in `emit`'s `recipients`).
fn recipient(suite: Suite) -> KemSecretKey {
    let mut rng = ChaCha20Rng::from_seed([suite.id(); 32]);
    KemSecretKey::generate(suite, &mut rng)
}

fn random_bytes(rng: &mut ChaCha20Rng, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    rng.fill_bytes(&mut out);
    out
}

fn random_array<const N: usize>(rng: &mut ChaCha20Rng) -> [u8; N] {
    let mut out = [0u8; N];
    rng.fill_bytes(&mut out);
    out
}

fn hexes(parts: &[&[u8]]) -> Vec<String> {
    parts.iter().map(hex::encode).collect()
}

fn emit(seed: u64) -> anyhow::Result<EmittedVectors> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let suites = [Suite::Lq1, Suite::Lq2];

    let recipients = suites
        .iter()
        .map(|&suite| KemRecipient {
            suite: suite.name().into(),
            public_key: hex::encode(recipient(suite).public_key().as_bytes()),
        })
        .collect();

    let mut kem = Vec::new();
    for suite in suites {
        for _ in 0..KEM_VECTORS_PER_SUITE {
            let seed: [u8; 32] = random_array(&mut rng);
            let eseed: [u8; 64] = random_array(&mut rng);
            let sk = KemSecretKey::from_seed(suite, Seed32::from_bytes(seed));
            let (ct, ss) = sk
                .public_key()
                .encapsulate_derand(&EncapsulationSeed::from_bytes(eseed))?;
            if sk.decapsulate(&ct)? != ss {
                bail!("{suite}: liaison-crypto does not decapsulate its own encapsulation");
            }
            kem.push(KemVector {
                suite: suite.name().into(),
                seed: Some(hex::encode(seed)),
                public_key: hex::encode(sk.public_key().as_bytes()),
                eseed: Some(hex::encode(eseed)),
                ciphertext: hex::encode(ct.as_bytes()),
                shared_secret: hex::encode(ss.expose_secret()),
                via: None,
                expect: None,
                note: None,
            });
        }
    }

    let mut signatures = Vec::new();
    for suite in suites {
        for (context, message_len) in SIGNATURE_CASES {
            let seed: [u8; 32] = random_array(&mut rng);
            let message = random_bytes(&mut rng, message_len);
            let sk = SigningKey::from_seed(suite, Seed32::from_bytes(seed));
            let signature = sk.sign(context, &message, &mut rng)?;
            let vk = sk.verifying_key();
            vk.verify(context, &message, &signature)?;
            let id = IdentityId::of(vk);
            signatures.push(SignatureVector {
                suite: suite.name().into(),
                seed: Some(hex::encode(seed)),
                public_key: hex::encode(vk.as_bytes()),
                context: hex::encode(context),
                message: hex::encode(&message),
                composite_message: Some(hex::encode(composite_message(suite, context, &message)?)),
                signature: hex::encode(signature.as_bytes()),
                identity_id: Some(id.to_string()),
                fingerprint: Some(id.fingerprint()),
                via: None,
                expect: None,
                note: None,
            });
        }
    }

    let mut aead_vectors = Vec::new();
    for algorithm in [
        AeadAlgorithm::Chacha20Poly1305,
        AeadAlgorithm::Xchacha20Poly1305,
    ] {
        for (aad_len, plaintext_len) in AEAD_CASES {
            let key: [u8; 32] = random_array(&mut rng);
            let aad = random_bytes(&mut rng, aad_len);
            let plaintext = random_bytes(&mut rng, plaintext_len);
            let sym = SymmetricKey::from_bytes(key);
            let (nonce, ciphertext) = match algorithm {
                AeadAlgorithm::Chacha20Poly1305 => {
                    let nonce: [u8; aead::NONCE_LEN] = random_array(&mut rng);
                    (nonce.to_vec(), aead::seal(&sym, &nonce, &aad, &plaintext))
                }
                AeadAlgorithm::Xchacha20Poly1305 => {
                    let nonce: [u8; aead::XNONCE_LEN] = random_array(&mut rng);
                    (nonce.to_vec(), aead::seal_x(&sym, &nonce, &aad, &plaintext))
                }
            };
            aead_vectors.push(AeadVector {
                algorithm,
                key: hex::encode(key),
                nonce: hex::encode(nonce),
                aad: hex::encode(aad),
                plaintext: hex::encode(plaintext),
                ciphertext: hex::encode(ciphertext),
                via: None,
                expect: None,
                note: None,
            });
        }
    }

    Ok(EmittedVectors {
        generator: format!("liaison-crypto-interop {}", env!("CARGO_PKG_VERSION")),
        seed,
        recipients,
        kem,
        signatures,
        aead: aead_vectors,
        kdf: emit_kdf(&mut rng)?,
    })
}

/// (label, salt length, ikm length, context, output length) of one `kdf::derive` vector.
type DeriveCase<'a> = (&'a [u8], usize, usize, Vec<&'a [u8]>, usize);

fn emit_kdf(rng: &mut ChaCha20Rng) -> anyhow::Result<KdfVectors> {
    let long_part = random_bytes(rng, 300);
    let info_cases: [(&[u8], Vec<&[u8]>); 4] = [
        (b"liaison", vec![]),
        (b"l", vec![b"", b"ab"]),
        (b"", vec![b""]),
        (b"liaison session key v1", vec![&long_part, &[0x02]]),
    ];
    let info = info_cases
        .iter()
        .map(|(label, parts)| InfoVector {
            label: hex::encode(label),
            parts: hexes(parts),
            encoded: hex::encode(kdf::info(label, parts)),
        })
        .collect();

    let mut derive = Vec::new();
    let derive_cases: [DeriveCase; 5] = [
        (b"liaison test derive", 0, 32, vec![], 32),
        (b"liaison test derive", 48, 64, vec![b"a", b"bc"], 48),
        (
            b"liaison transport keys v1",
            32,
            32,
            vec![b"initiator"],
            100,
        ),
        (b"x", 13, 0, vec![b""], 1),
        (b"liaison max output", 16, 32, vec![], 255 * kdf::HASH_LEN),
    ];
    for (label, salt_len, ikm_len, context, length) in derive_cases {
        let salt = random_bytes(rng, salt_len);
        let ikm = random_bytes(rng, ikm_len);
        let okm = kdf::derive(label, &salt, &ikm, &context, length)?;
        if length == 32 {
            let key = kdf::derive_key(label, &salt, &ikm, &context);
            if key.expose_secret()[..] != okm.expose_secret()[..] {
                bail!("kdf::derive_key differs from kdf::derive(.., 32)");
            }
        }
        derive.push(DeriveVector {
            label: hex::encode(label),
            salt: hex::encode(salt),
            ikm: hex::encode(ikm),
            context: hexes(&context),
            length,
            okm: hex::encode(okm.expose_secret()),
        });
    }

    let mut combine = Vec::new();
    // (number of KEM secrets, supplied key length or none)
    let combine_cases: [(usize, Option<usize>); 6] = [
        (1, None),
        (1, Some(32)),
        (2, None),
        (2, Some(64)),
        (1, Some(0)),
        (3, Some(17)),
    ];
    for (count, supplied_len) in combine_cases {
        let secrets: Vec<[u8; 32]> = (0..count).map(|_| random_array(rng)).collect();
        let supplied = supplied_len.map(|len| random_bytes(rng, len));
        let wrapped: Vec<KemSharedSecret> = secrets
            .iter()
            .map(|s| KemSharedSecret::from_bytes(*s))
            .collect();
        let refs: Vec<&KemSharedSecret> = wrapped.iter().collect();
        let prk = kdf::combine(&refs, supplied.as_deref());
        let session_context: [&[u8]; 2] = [b"initiator", b"responder"];
        let session = prk.derive_key(b"liaison session key v1", &session_context);
        let mut expanded = vec![0u8; 80];
        prk.expand(b"liaison test expand", &[], &mut expanded)?;
        combine.push(CombineVector {
            kem_secrets: secrets.iter().map(hex::encode).collect(),
            supplied: supplied.map(hex::encode),
            prk: hex::encode(prk.expose_secret()),
            keys: vec![
                ExpandedKey {
                    label: hex::encode(b"liaison session key v1"),
                    context: hexes(&session_context),
                    length: 32,
                    okm: hex::encode(session.expose_secret()),
                },
                ExpandedKey {
                    label: hex::encode(b"liaison test expand"),
                    context: vec![],
                    length: expanded.len(),
                    okm: hex::encode(&expanded),
                },
            ],
        });
    }
    Ok(KdfVectors {
        info,
        derive,
        combine,
    })
}

/// Tally of `check`.
#[derive(Debug, Default)]
struct Report {
    passed: usize,
    failed: usize,
}

/// What `liaison-crypto` made of one item: accepted, or refused with a reason.
enum Verdict {
    Accepted,
    Refused(String),
}

impl Report {
    /// Records one item: `outcome` is `Err` when the item itself is malformed (always a failure).
    fn record(
        &mut self,
        kind: &str,
        suite: &str,
        via: Option<&str>,
        note: Option<&str>,
        expect: Option<Expect>,
        outcome: anyhow::Result<Verdict>,
    ) {
        let expect = expect.unwrap_or(Expect::Accept);
        let (ok, detail) = match (&outcome, expect) {
            (Ok(Verdict::Accepted), Expect::Accept) => (true, "accepted".to_owned()),
            (Ok(Verdict::Refused(why)), Expect::Reject) => {
                (true, format!("rejected as expected ({why})"))
            }
            (Ok(Verdict::Accepted), Expect::Reject) => {
                (false, "accepted an item that must be rejected".to_owned())
            }
            (Ok(Verdict::Refused(why)), Expect::Accept) => (false, format!("rejected: {why}")),
            (Err(e), _) => (false, format!("malformed item: {e:#}")),
        };
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
        let mut name = format!("{kind} {suite}");
        if let Some(via) = via {
            name.push_str(&format!(" via {via}"));
        }
        if let Some(note) = note {
            name.push_str(&format!(" [{note}]"));
        }
        println!("{} {name}: {detail}", if ok { "PASS" } else { "FAIL" });
    }
}

fn check(file: &CheckFile, report: &mut Report) {
    for item in &file.kem {
        let outcome = check_kem(item);
        report.record(
            "kem",
            &item.suite,
            item.via.as_deref(),
            item.note.as_deref(),
            item.expect,
            outcome,
        );
    }
    for item in &file.signatures {
        let outcome = check_signature(item);
        report.record(
            "signature",
            &item.suite,
            item.via.as_deref(),
            item.note.as_deref(),
            item.expect,
            outcome,
        );
    }
    for item in &file.aead {
        let outcome = check_aead(item);
        let name = match item.algorithm {
            AeadAlgorithm::Chacha20Poly1305 => "ChaCha20-Poly1305",
            AeadAlgorithm::Xchacha20Poly1305 => "XChaCha20-Poly1305",
        };
        report.record(
            "aead",
            name,
            item.via.as_deref(),
            item.note.as_deref(),
            item.expect,
            outcome,
        );
    }
    for item in &file.kdf.info {
        report.record("kdf", "info", None, None, None, check_info(item));
    }
    for item in &file.kdf.derive {
        report.record("kdf", "derive", None, None, None, check_derive(item));
    }
    for item in &file.kdf.combine {
        report.record("kdf", "combine", None, None, None, check_combine(item));
    }
}

fn unhex(field: &str, value: &str) -> anyhow::Result<Vec<u8>> {
    hex::decode(value).with_context(|| format!("field {field} is not hex"))
}

fn unhex_array<const N: usize>(field: &str, value: &str) -> anyhow::Result<[u8; N]> {
    let bytes = unhex(field, value)?;
    let got = bytes.len();
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("field {field}: expected {N} bytes, got {got}"))
}

fn unhex_all(field: &str, values: &[String]) -> anyhow::Result<Vec<Vec<u8>>> {
    values.iter().map(|v| unhex(field, v)).collect()
}

fn suite(name: &str) -> anyhow::Result<Suite> {
    name.parse()
        .map_err(|_| anyhow::anyhow!("unknown suite {name:?}"))
}

/// A `liaison-crypto` refusal is a verdict, not a malformed item.
fn refused(e: CryptoError) -> Verdict {
    Verdict::Refused(e.to_string())
}

fn equal_or_refused(what: &str, ours: &[u8], theirs: &[u8]) -> Verdict {
    if ours == theirs {
        Verdict::Accepted
    } else {
        Verdict::Refused(format!(
            "{what} differs: liaison-crypto {}, other {}",
            hex::encode(ours),
            hex::encode(theirs)
        ))
    }
}

fn check_kem(item: &KemVector) -> anyhow::Result<Verdict> {
    let suite = suite(&item.suite)?;
    let sk = recipient(suite);
    let public_key = unhex("public_key", &item.public_key)?;
    if public_key != sk.public_key().as_bytes() {
        bail!("public_key is not the fixed {suite} recipient published by emit");
    }
    let ciphertext = unhex("ciphertext", &item.ciphertext)?;
    let claimed = unhex("shared_secret", &item.shared_secret)?;
    let ct = match KemCiphertext::from_bytes(suite, &ciphertext) {
        Ok(ct) => ct,
        Err(e) => return Ok(refused(e)),
    };
    Ok(match sk.decapsulate(&ct) {
        Ok(ss) => equal_or_refused("shared secret", ss.expose_secret(), &claimed),
        Err(e) => refused(e),
    })
}

fn check_signature(item: &SignatureVector) -> anyhow::Result<Verdict> {
    let suite = suite(&item.suite)?;
    let public_key = unhex("public_key", &item.public_key)?;
    let context = unhex("context", &item.context)?;
    let message = unhex("message", &item.message)?;
    let signature = unhex("signature", &item.signature)?;
    if let Some(seed) = &item.seed {
        let sk = SigningKey::from_seed(suite, Seed32::from_bytes(unhex_array("seed", seed)?));
        if sk.verifying_key().as_bytes() != public_key {
            return Ok(equal_or_refused(
                "public key derived from seed",
                sk.verifying_key().as_bytes(),
                &public_key,
            ));
        }
    }
    if let Some(m) = &item.composite_message {
        let ours = composite_message(suite, &context, &message)?;
        let theirs = unhex("composite_message", m)?;
        if ours != theirs {
            return Ok(equal_or_refused("M'", &ours, &theirs));
        }
    }
    let vk = match VerifyingKey::from_bytes(suite, &public_key) {
        Ok(vk) => vk,
        Err(e) => return Ok(refused(e)),
    };
    let id = IdentityId::of(&vk);
    if let Some(theirs) = &item.identity_id
        && id.to_string() != *theirs
    {
        return Ok(Verdict::Refused(format!(
            "identity id differs: liaison-crypto {id}, other {theirs}"
        )));
    }
    if let Some(theirs) = &item.fingerprint
        && id.fingerprint() != *theirs
    {
        return Ok(Verdict::Refused(format!(
            "fingerprint differs: liaison-crypto {:?}, other {theirs:?}",
            id.fingerprint()
        )));
    }
    let signature = match Signature::from_bytes(suite, &signature) {
        Ok(s) => s,
        Err(e) => return Ok(refused(e)),
    };
    Ok(match vk.verify(&context, &message, &signature) {
        Ok(()) => Verdict::Accepted,
        Err(e) => refused(e),
    })
}

fn check_aead(item: &AeadVector) -> anyhow::Result<Verdict> {
    let key = SymmetricKey::from_bytes(unhex_array("key", &item.key)?);
    let aad = unhex("aad", &item.aad)?;
    let plaintext = unhex("plaintext", &item.plaintext)?;
    let ciphertext = unhex("ciphertext", &item.ciphertext)?;
    let opened = match item.algorithm {
        AeadAlgorithm::Chacha20Poly1305 => {
            aead::open(&key, &unhex_array("nonce", &item.nonce)?, &aad, &ciphertext)
        }
        AeadAlgorithm::Xchacha20Poly1305 => {
            aead::open_x(&key, &unhex_array("nonce", &item.nonce)?, &aad, &ciphertext)
        }
    };
    Ok(match opened {
        Ok(opened) => equal_or_refused("plaintext", &opened, &plaintext),
        Err(e) => refused(e),
    })
}

fn check_info(item: &InfoVector) -> anyhow::Result<Verdict> {
    let label = unhex("label", &item.label)?;
    let parts = unhex_all("parts", &item.parts)?;
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    let encoded = unhex("encoded", &item.encoded)?;
    Ok(equal_or_refused(
        "info",
        &kdf::info(&label, &refs),
        &encoded,
    ))
}

fn check_derive(item: &DeriveVector) -> anyhow::Result<Verdict> {
    let label = unhex("label", &item.label)?;
    let salt = unhex("salt", &item.salt)?;
    let ikm = unhex("ikm", &item.ikm)?;
    let context = unhex_all("context", &item.context)?;
    let refs: Vec<&[u8]> = context.iter().map(Vec::as_slice).collect();
    let okm = unhex("okm", &item.okm)?;
    Ok(match kdf::derive(&label, &salt, &ikm, &refs, item.length) {
        Ok(ours) => equal_or_refused("okm", ours.expose_secret(), &okm),
        Err(e) => refused(e),
    })
}

fn check_combine(item: &CombineVector) -> anyhow::Result<Verdict> {
    let secrets = item
        .kem_secrets
        .iter()
        .map(|s| unhex_array::<32>("kem_secrets", s).map(KemSharedSecret::from_bytes))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let refs: Vec<&KemSharedSecret> = secrets.iter().collect();
    let supplied = item
        .supplied
        .as_deref()
        .map(|s| unhex("supplied", s))
        .transpose()?;
    let prk = kdf::combine(&refs, supplied.as_deref());
    let theirs = unhex("prk", &item.prk)?;
    if prk.expose_secret()[..] != theirs[..] {
        return Ok(equal_or_refused("prk", prk.expose_secret(), &theirs));
    }
    for key in &item.keys {
        let label = unhex("keys.label", &key.label)?;
        let context = unhex_all("keys.context", &key.context)?;
        let refs: Vec<&[u8]> = context.iter().map(Vec::as_slice).collect();
        let theirs = unhex("keys.okm", &key.okm)?;
        let ours = if key.length == 32 {
            prk.derive_key(&label, &refs).expose_secret().to_vec()
        } else {
            if key.length > 255 * kdf::HASH_LEN {
                bail!("keys.length {} exceeds HKDF-SHA-384's limit", key.length);
            }
            let mut out = vec![0u8; key.length];
            prk.expand(&label, &refs, &mut out)?;
            out
        };
        if ours != theirs {
            return Ok(equal_or_refused("expanded key", &ours, &theirs));
        }
    }
    Ok(Verdict::Accepted)
}
