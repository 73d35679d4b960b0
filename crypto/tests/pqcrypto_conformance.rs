//! Cross-implementation conformance: the RustCrypto ML-KEM / ML-DSA crates `liaison-crypto` is
//! built on must agree with PQClean (through `pqcrypto-mlkem` / `pqcrypto-mldsa`), an
//! independent FIPS 203 / FIPS 204 implementation, on keys, ciphertexts and signatures made by
//! either side.
//!
//! * ML-KEM-768 / ML-KEM-1024: a key pair from one side, encapsulation on the other, and
//!   decapsulation back on the first yield the same shared secret; a tampered ciphertext yields
//!   the same implicit-rejection secret in both.
//! * ML-DSA-65 / ML-DSA-87: a signature by one side verifies on the other (pure ML-DSA, empty
//!   and non-empty context), and a signature with one flipped byte fails on both. The ML-DSA
//!   half of a Liaison composite signature is a standard ML-DSA signature over `M'`.
//!
//! PQClean's `crypto_sign_signature_ctx` / `crypto_sign_verify_ctx` hash
//! `tr || 0x00 || len(ctx) || ctx || M` (pure ML-DSA, FIPS 204 Algorithm 2/3), and the
//! `pqcrypto` functions without `_ctx` pass an empty context, which is what our composite uses.

use liaison_crypto::rng::os_rng;
use liaison_crypto::sign::{SigningKey, composite_message};
use liaison_crypto::{ED25519_PK_LEN, ED25519_SIG_LEN, Suite};
use ml_dsa::{B32, EncodedSignature, EncodedVerifyingKey, ExpandedSigningKey, MlDsaParams};
use ml_kem::array::Array;
use ml_kem::{
    Decapsulate as _, DecapsulationKey, Encapsulate as _, EncapsulationKey, KeyExport as _,
    MlKem768, MlKem1024,
};
use pqcrypto_traits::kem::{
    Ciphertext as _, PublicKey as _, SecretKey as _, SharedSecret as PqSharedSecret,
};
use pqcrypto_traits::sign::{DetachedSignature as _, PublicKey as _};
use rand_core::Rng as _;

/// Iterations per direction: each one uses fresh keys and fresh randomness.
const ITERATIONS: usize = 20;

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    os_rng().fill_bytes(&mut out);
    out
}

/// A copy of `bytes` with one byte at a random position XORed with a random non-zero mask.
fn flip_one_byte(bytes: &[u8]) -> Vec<u8> {
    let mut rng = os_rng();
    let mut out = bytes.to_vec();
    let len = u32::try_from(out.len()).expect("short input");
    let at = (rng.next_u32() % len) as usize;
    let mask = (rng.next_u32() % 255 + 1) as u8;
    out[at] ^= mask;
    out
}

macro_rules! ml_kem_conformance {
    ($name:ident, $params:ty, $pq:ident) => {
        mod $name {
            use super::*;
            use pqcrypto_mlkem::$pq as pq;

            #[test]
            fn pqclean_key_pair_rustcrypto_encapsulation_agree() {
                for _ in 0..ITERATIONS {
                    let (pq_pk, pq_sk) = pq::keypair();
                    let ek_bytes = Array::try_from(pq_pk.as_bytes()).expect("key length");
                    let ek = EncapsulationKey::<$params>::new(&ek_bytes)
                        .expect("PQClean public key passes the FIPS 203 modulus check");
                    let (ct, rust_ss) = ek.encapsulate_with_rng(&mut os_rng());
                    let pq_ct = pq::Ciphertext::from_bytes(&ct).expect("ciphertext length");
                    let pq_ss = pq::decapsulate(&pq_ct, &pq_sk);
                    assert_eq!(pq_ss.as_bytes(), &rust_ss[..]);
                }
            }

            #[test]
            fn rustcrypto_key_pair_pqclean_encapsulation_agree() {
                for _ in 0..ITERATIONS {
                    let dk = DecapsulationKey::<$params>::from_seed(Array::from(random_bytes()));
                    let ek_bytes = dk.encapsulation_key().to_bytes();
                    let pq_pk = pq::PublicKey::from_bytes(&ek_bytes).expect("key length");
                    let (pq_ss, pq_ct) = pq::encapsulate(&pq_pk);
                    let ct = Array::try_from(pq_ct.as_bytes()).expect("ciphertext length");
                    assert_eq!(&dk.decapsulate(&ct)[..], pq_ss.as_bytes());
                }
            }

            // ok: the expanded form is deprecated for storage, but it is the only form PQClean
            // exports, and this test needs both implementations to hold the same `z`.
            #[allow(deprecated)]
            #[test]
            fn tampered_ciphertext_gives_the_same_implicit_rejection_secret() {
                for _ in 0..ITERATIONS {
                    let (pq_pk, pq_sk) = pq::keypair();
                    // PQClean stores the expanded FIPS 203 decapsulation key (dk_PKE || ek ||
                    // H(ek) || z); the seed form RustCrypto prefers is not available from it.
                    let dk_bytes = Array::try_from(pq_sk.as_bytes()).expect("key length");
                    let dk = <DecapsulationKey<$params> as ml_kem::ExpandedKeyEncoding>::from_expanded_bytes(&dk_bytes)
                        .expect("PQClean decapsulation key is consistent");
                    let (pq_ss, pq_ct) = pq::encapsulate(&pq_pk);
                    let ct = Array::try_from(pq_ct.as_bytes()).expect("ciphertext length");
                    assert_eq!(&dk.decapsulate(&ct)[..], pq_ss.as_bytes());

                    let tampered = flip_one_byte(pq_ct.as_bytes());
                    let pq_tampered = pq::Ciphertext::from_bytes(&tampered).expect("length");
                    let pq_rejected = pq::decapsulate(&pq_tampered, &pq_sk);
                    let rust_rejected = dk.decapsulate(&Array::try_from(&tampered[..]).unwrap());
                    assert_ne!(pq_rejected.as_bytes(), pq_ss.as_bytes());
                    assert_eq!(&rust_rejected[..], pq_rejected.as_bytes());
                }
            }
        }
    };
}

ml_kem_conformance!(ml_kem_768, MlKem768, mlkem768);
ml_kem_conformance!(ml_kem_1024, MlKem1024, mlkem1024);

/// RustCrypto verification of encoded bytes, as `liaison-crypto` performs it.
fn rustcrypto_verifies<P: MlDsaParams>(pk: &[u8], message: &[u8], ctx: &[u8], sig: &[u8]) -> bool {
    let Ok(pk) = EncodedVerifyingKey::<P>::try_from(pk) else {
        return false;
    };
    let vk = ml_dsa::VerifyingKey::<P>::decode(&pk);
    EncodedSignature::<P>::try_from(sig)
        .ok()
        .and_then(|enc| ml_dsa::Signature::<P>::decode(&enc))
        .is_some_and(|sig| vk.verify_with_context(message, ctx, &sig))
}

macro_rules! ml_dsa_conformance {
    ($name:ident, $params:ty, $pq:ident, $suite:expr) => {
        mod $name {
            use super::*;
            use pqcrypto_mldsa::$pq as pq;

            fn pqclean_verifies(pk: &[u8], message: &[u8], ctx: &[u8], sig: &[u8]) -> bool {
                let Ok(pk) = pq::PublicKey::from_bytes(pk) else {
                    return false;
                };
                let Ok(sig) = pq::DetachedSignature::from_bytes(sig) else {
                    return false;
                };
                if ctx.is_empty() {
                    pq::verify_detached_signature(&sig, message, &pk).is_ok()
                } else {
                    pq::verify_detached_signature_ctx(&sig, message, ctx, &pk).is_ok()
                }
            }

            #[test]
            fn rustcrypto_signature_verifies_under_pqclean_and_tampering_fails_both() {
                for i in 0..ITERATIONS {
                    let sk = ExpandedSigningKey::<$params>::from_seed(&B32::from(random_bytes()));
                    let pk = sk.verifying_key().encode();
                    let message = random_bytes::<100>();
                    let ctx: &[u8] = if i % 2 == 0 {
                        b""
                    } else {
                        b"liaison conformance"
                    };
                    let sig = sk
                        .sign_randomized(&message, ctx, &mut os_rng())
                        .expect("sign")
                        .encode();
                    assert!(pqclean_verifies(&pk, &message, ctx, &sig));
                    assert!(!pqclean_verifies(&pk, &message, b"other", &sig));

                    let tampered = flip_one_byte(&sig);
                    assert!(!pqclean_verifies(&pk, &message, ctx, &tampered));
                    assert!(!rustcrypto_verifies::<$params>(
                        &pk, &message, ctx, &tampered
                    ));
                }
            }

            #[test]
            fn pqclean_signature_verifies_under_rustcrypto_and_tampering_fails_both() {
                for i in 0..ITERATIONS {
                    let (pk, sk) = pq::keypair();
                    let pk = pk.as_bytes();
                    let message = random_bytes::<100>();
                    let ctx: &[u8] = if i % 2 == 0 {
                        b""
                    } else {
                        b"liaison conformance"
                    };
                    let sig = if ctx.is_empty() {
                        pq::detached_sign(&message, &sk)
                    } else {
                        pq::detached_sign_ctx(&message, ctx, &sk)
                    };
                    let sig = sig.as_bytes();
                    assert!(rustcrypto_verifies::<$params>(pk, &message, ctx, sig));
                    assert!(!rustcrypto_verifies::<$params>(pk, &message, b"other", sig));

                    let tampered = flip_one_byte(sig);
                    assert!(!rustcrypto_verifies::<$params>(
                        pk, &message, ctx, &tampered
                    ));
                    assert!(!pqclean_verifies(pk, &message, ctx, &tampered));
                }
            }

            #[test]
            fn composite_ml_dsa_half_is_a_standard_signature_over_the_composite_message() {
                let suite: Suite = $suite;
                for _ in 0..ITERATIONS {
                    let key = SigningKey::generate(suite, &mut os_rng());
                    let message = random_bytes::<100>();
                    let sig = key.sign(b"conformance", &message, &mut os_rng()).unwrap();
                    let m_prime = composite_message(suite, b"conformance", &message).unwrap();
                    let pk = &key.verifying_key().as_bytes()[ED25519_PK_LEN..];
                    let ml_sig = &sig.as_bytes()[ED25519_SIG_LEN..];
                    assert!(pqclean_verifies(pk, &m_prime, b"", ml_sig));
                    assert!(!pqclean_verifies(pk, &message, b"", ml_sig));
                }
            }
        }
    };
}

ml_dsa_conformance!(ml_dsa_65, ml_dsa::MlDsa65, mldsa65, Suite::Lq1);
ml_dsa_conformance!(ml_dsa_87, ml_dsa::MlDsa87, mldsa87, Suite::Lq2);
