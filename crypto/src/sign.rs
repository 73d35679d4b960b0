//! Composite signatures: Ed25519 and ML-DSA over the same domain-separated message.
//!
//! ```text
//! M'        = "liaison composite signature v1" || suite_id (1) || len(context) (1) || context || message
//! signature = Ed25519.Sign(sk_E, M') (64) || ML-DSA.Sign(sk_D, M', ctx = "") (3309 | 4627)
//! public    = pk_E (32) || pk_D (1952 | 2592)
//! ```
//! ML-DSA is `LQ1`: ML-DSA-65, `LQ2`: ML-DSA-87, hedged signing (FIPS 204 Algorithm 2) with
//! randomness from the caller's RNG. Ed25519 verification is strict (RFC 8032 §5.1.7 with
//! canonical `S` and no small-order `A`/`R`). A signature verifies only if both halves verify;
//! the suite and context are inside `M'`, so a signature cannot be moved to another suite or
//! another use.
//!
//! Two ML-DSA implementations, each where it fits (`spec/dependencies.md`):
//! * key generation: RustCrypto `ml-dsa` (FIPS 204 `ML-DSA.KeyGen_internal` from the seed `ξ`,
//!   which PQClean cannot take). The key is then kept only as its FIPS 204 encoding
//!   (`skEncode`, 4032 | 4896 bytes) in zeroizing memory.
//! * signing: PQClean through `pqcrypto-mldsa` over that encoding (AVX2 code when the CPU has
//!   it, about 10x faster than RustCrypto: ML-DSA signing was two thirds of a relay's CPU per
//!   link handshake). The vendored C is patched (`vendor/README.md`) to take the hedging
//!   randomness `rnd` from us, drawn from the caller's RNG exactly as RustCrypto drew it, and
//!   to scrub its stack; FIPS 204 signing is a function of `(sk, M', ctx, rnd)`, so the
//!   signatures are byte for byte those RustCrypto would make (tests below and
//!   `tests/wycheproof.rs`), and seeded test vectors are unchanged.
//! * verification: PQClean as well (two upstream AVX2 bug fixes applied, `vendor/README.md`).
//!   It touches only public data and is deterministic, and it computes the same FIPS 204
//!   Algorithm 3 over the same `M'` and empty ML-DSA context, so it accepts exactly what
//!   RustCrypto accepts (`tests/verify_backends_agree.rs`, `tests/wycheproof.rs`). A
//!   [`VerifyingKey`] therefore keeps only the encoded ML-DSA key: parsing it is a length
//!   check, and no matrix `Â` is expanded until a signature is checked. The key-only parts of
//!   a verification (`tr`, `Â`, `NTT(t1 · 2^d)`) are then kept for the 128 most recently
//!   used public keys (module `expanded`; vendored patch 7), so a relay checking the same
//!   senders' envelopes again and again does not re-derive them.

use std::sync::{Arc, OnceLock};

use ed25519_dalek::Signer as _;
use ml_dsa::{B32, MlDsa65, MlDsa87, MlDsaParams};
use pqcrypto_mldsa::{mldsa65, mldsa87};
use pqcrypto_traits::sign::{DetachedSignature as _, PublicKey as _};
use rand_core::CryptoRng;
use sha3::Shake256;
use sha3::digest::{ExtendableOutput, Update, XofReader};
use zeroize::{Zeroize as _, Zeroizing};

use crate::expanded::{self, Expanded};
use crate::suite::{ED25519_PK_LEN, ED25519_SIG_LEN, MLDSA65_SIG_LEN, MLDSA87_SIG_LEN};
use crate::{CryptoError, IdentityId, Seed32, Suite, labels};

/// Bytes of the ML-DSA hedging randomness `rnd` (FIPS 204 Algorithm 2, line 5).
const ML_DSA_RND_LEN: usize = 32;

/// The FIPS 204 context string of the ML-DSA half: empty, because the composite's own context
/// is already inside `M'`. Signing and verification share it so they cannot drift apart.
const ML_DSA_CONTEXT: &[u8] = b"";

/// A composite signing (private) key. Serialises as its 32-byte seed.
pub struct SigningKey {
    suite: Suite,
    seed: Seed32,
    ed25519: ed25519_dalek::SigningKey,
    /// The FIPS 204 encoded ML-DSA private key (`skEncode`, Algorithm 24:
    /// `ρ || K || tr || s1 || s2 || t0`), the form PQClean signs with.
    ml_dsa: Zeroizing<Box<[u8]>>,
    public: VerifyingKey,
}

/// A composite verifying (public) key `pk_E || pk_D`, validated on construction.
///
/// Holds the wire bytes and the decompressed Ed25519 point; the ML-DSA half stays encoded
/// (FIPS 204 `pkDecode` cannot fail, so there is nothing to validate beyond its length).
/// Cloning shares the bytes. The [`IdentityId`] is computed on first use and kept (a clone
/// made after that carries it along): lazily rather than at parse time, because hashing the
/// ~2.6 KB key would nearly double the cost of a parse (7.6 µs; parse and hash 14.3 µs, LQ2)
/// on paths that never ask for the id, while a cached `IdentityId::of` costs a few ns.
#[derive(Clone)]
pub struct VerifyingKey {
    suite: Suite,
    bytes: Arc<[u8]>,
    ed25519: ed25519_dalek::VerifyingKey,
    id: OnceLock<IdentityId>,
}

/// A composite signature `sig_E || sig_D` of the suite's fixed length.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature {
    suite: Suite,
    bytes: Vec<u8>,
}

impl SigningKey {
    /// A fresh key from `rng`.
    pub fn generate(suite: Suite, rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        Self::from_seed(suite, Seed32::random(rng))
    }

    /// Derives both halves from one 32-byte seed:
    /// `SHAKE256("liaison sig seed expand v1" || seed, 64)` = Ed25519 seed || ML-DSA `ξ`.
    pub fn from_seed(suite: Suite, seed: Seed32) -> Self {
        let (ed_seed, xi) = expand_seed(&seed);
        let ed25519 = ed25519_dalek::SigningKey::from_bytes(&ed_seed);
        let (ml_public, ml_dsa) = match suite {
            Suite::Lq1 => ml_dsa_key_gen::<MlDsa65>(&xi),
            Suite::Lq2 => ml_dsa_key_gen::<MlDsa87>(&xi),
        };
        let mut bytes = ed25519.verifying_key().to_bytes().to_vec();
        bytes.extend_from_slice(&ml_public);
        let public = VerifyingKey {
            suite,
            bytes: bytes.into(),
            ed25519: ed25519.verifying_key(),
            id: OnceLock::new(),
        };
        Self {
            suite,
            seed,
            ed25519,
            ml_dsa,
            public,
        }
    }

    /// The suite of this key.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The 32-byte seed: the whole private key, for an encrypted keystore.
    pub fn seed(&self) -> &Seed32 {
        &self.seed
    }

    /// The matching verifying key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }

    /// Signs `message` for the use named by `context` (at most 255 bytes, e.g.
    /// `b"liaison envelope v1"`), with hedging randomness from `rng`.
    pub fn sign(
        &self,
        context: &[u8],
        message: &[u8],
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Signature, CryptoError> {
        let m = composite_message(self.suite, context, message)?;
        let mut rnd = Zeroizing::new([0u8; ML_DSA_RND_LEN]);
        rng.fill_bytes(&mut rnd[..]);
        let mut bytes = Vec::with_capacity(self.suite.signature_len());
        bytes.extend_from_slice(&self.ed25519.sign(&m).to_bytes());
        bytes.extend_from_slice(&ml_dsa_sign(self.suite, &self.ml_dsa, &m, &rnd)?);
        Ok(Signature {
            suite: self.suite,
            bytes,
        })
    }
}

impl core::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SigningKey({}, <SECRET>)", self.suite)
    }
}

impl VerifyingKey {
    /// Parses and validates a composite public key.
    ///
    /// Cheap enough to call per message: a length check, Ed25519 point decompression and the
    /// small-order check. The ML-DSA half needs no validation (every 1952/2592-byte string is
    /// a FIPS 204 public key) and is expanded only by [`VerifyingKey::verify`].
    pub fn from_bytes(suite: Suite, bytes: &[u8]) -> Result<Self, CryptoError> {
        let expected = suite.signature_public_key_len();
        Suite::check_len("composite signature public key", expected, bytes)?;
        let ed: [u8; ED25519_PK_LEN] = core::array::from_fn(|i| bytes[i]);
        let ed25519 = ed25519_dalek::VerifyingKey::from_bytes(&ed)
            .map_err(|_| CryptoError::InvalidPublicKey("Ed25519 public key"))?;
        if ed25519.is_weak() {
            return Err(CryptoError::InvalidPublicKey(
                "Ed25519 public key (small order)",
            ));
        }
        Ok(Self {
            suite,
            bytes: bytes.into(),
            ed25519,
            id: OnceLock::new(),
        })
    }

    /// The suite of this key.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The wire encoding `pk_E || pk_D`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The identity id, hashed on first use and then kept ([`IdentityId::of`]).
    pub(crate) fn cached_id(&self) -> IdentityId {
        *self
            .id
            .get_or_init(|| IdentityId::compute(self.suite, &self.bytes))
    }

    /// Verifies `signature` over `message` for the use `context`. Both halves must verify.
    pub fn verify(
        &self,
        context: &[u8],
        message: &[u8],
        signature: &Signature,
    ) -> Result<(), CryptoError> {
        self.suite.expect(signature.suite)?;
        let m = composite_message(self.suite, context, message)?;
        let (sig_e, sig_d) = signature.bytes.split_at(ED25519_SIG_LEN);
        let sig_e: [u8; ED25519_SIG_LEN] = core::array::from_fn(|i| sig_e[i]);
        let ed_ok = self
            .ed25519
            .verify_strict(&m, &ed25519_dalek::Signature::from_bytes(&sig_e))
            .is_ok();
        let ml_ok = ml_dsa_verify(self.suite, &self.bytes[ED25519_PK_LEN..], &m, sig_d);
        if ed_ok && ml_ok {
            Ok(())
        } else {
            Err(CryptoError::BadSignature)
        }
    }
}

impl core::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "VerifyingKey({}, {})", self.suite, IdentityId::of(self))
    }
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.suite == other.suite && self.bytes == other.bytes
    }
}

impl Eq for VerifyingKey {}

impl Signature {
    /// Parses a composite signature, checking its length for the suite.
    pub fn from_bytes(suite: Suite, bytes: &[u8]) -> Result<Self, CryptoError> {
        let expected = suite.signature_len();
        Suite::check_len("composite signature", expected, bytes)?;
        Ok(Self {
            suite,
            bytes: bytes.to_vec(),
        })
    }

    /// The suite of this signature.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The wire encoding `sig_E || sig_D`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl core::fmt::Debug for Signature {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Signature({}, {} bytes)", self.suite, self.bytes.len())
    }
}

/// `SHAKE256("liaison sig seed expand v1" || seed, 64)` split into the Ed25519 seed and the
/// ML-DSA seed `ξ`.
fn expand_seed(seed: &Seed32) -> (Zeroizing<[u8; 32]>, Zeroizing<B32>) {
    let mut expanded = Zeroizing::new([0u8; 64]);
    let mut xof = Shake256::default();
    xof.update(labels::SIG_SEED_EXPAND);
    xof.update(seed.expose_secret());
    xof.finalize_xof().read(&mut expanded[..]);
    let ed_seed = Zeroizing::new(core::array::from_fn(|i| expanded[i]));
    let xi = Zeroizing::new(B32::from(core::array::from_fn::<u8, 32, _>(|i| {
        expanded[32 + i]
    })));
    (ed_seed, xi)
}

/// FIPS 204 `ML-DSA.KeyGen_internal(ξ)` (Algorithm 6) on RustCrypto: the encoded public key and
/// the encoded private key (`skEncode`) in zeroizing memory. RustCrypto's key types zeroize
/// themselves on drop; the stack copy of the encoding is wiped here.
fn ml_dsa_key_gen<P: MlDsaParams>(xi: &B32) -> (Vec<u8>, Zeroizing<Box<[u8]>>) {
    let key = ml_dsa::SigningKey::<P>::from_seed(xi);
    let expanded = key.expanded_key();
    // `to_expanded` is deprecated because RustCrypto prefers storing the seed, which we do
    // (`SigningKey::seed`); this encoding only ever lives in memory, for PQClean.
    #[allow(deprecated)]
    let mut encoded = expanded.to_expanded();
    let secret = Zeroizing::new(Box::<[u8]>::from(&encoded[..]));
    encoded.as_mut_slice().zeroize();
    (expanded.verifying_key().encode().to_vec(), secret)
}

/// FIPS 204 `ML-DSA.Sign(sk, M', ctx = "")` (Algorithm 2) on PQClean, with the hedging
/// randomness `rnd` from the caller: returns the encoded ML-DSA signature.
fn ml_dsa_sign(
    suite: Suite,
    secret: &[u8],
    message: &[u8],
    rnd: &[u8; ML_DSA_RND_LEN],
) -> Result<Vec<u8>, CryptoError> {
    let signature = match suite {
        Suite::Lq1 => mldsa65::detached_sign_ctx_with_rnd(message, ML_DSA_CONTEXT, secret, rnd)
            .map(|s| s.as_bytes().to_vec()),
        Suite::Lq2 => mldsa87::detached_sign_ctx_with_rnd(message, ML_DSA_CONTEXT, secret, rnd)
            .map(|s| s.as_bytes().to_vec()),
    };
    // The only failures are a wrong key length (impossible: the key is ours, made for this
    // suite) and a context over 255 bytes (ours is empty); neither carries a secret.
    signature.map_err(|_| CryptoError::SigningFailed)
}

/// FIPS 204 `ML-DSA.Verify(pk, M', σ, ctx = "")` (Algorithm 3) on PQClean.
///
/// PQClean's `crypto_sign_verify_ctx` hashes `μ = H(tr || 0x00 || len(ctx) || ctx || M')`, the
/// same pure-ML-DSA input RustCrypto's `verify_with_context(M', ctx, σ)` builds, and rejects
/// what RustCrypto's `Signature::decode` and norm check reject: a wrong length, a malformed
/// hint (indices not strictly increasing, non-zero padding, more than ω hints), and
/// `‖z‖∞ ≥ γ1 − β`. PQClean's AVX2 verifier as released in `pqcrypto-mldsa` 0.1.2 skipped the
/// `z` bound and mishandled UseHint at `r0 = 0`; the build links a patched copy
/// (`vendor/README.md`). The `z` bound is also checked here first
/// ([`z_within_bound`], about a microsecond), so it cannot regress with the C code.
fn ml_dsa_verify(suite: Suite, public: &[u8], message: &[u8], signature: &[u8]) -> bool {
    macro_rules! verify_with {
        ($pq:ident, $sig_len:expr, $shape:expr, $variant:ident) => {{
            // `DetachedSignature::from_bytes` accepts short input (PQClean then refuses it);
            // refuse it here too so no path depends on the C side for a length rule.
            if signature.len() != $sig_len {
                return false;
            }
            let shape: ZShape = $shape;
            let z = &signature[shape.c_tilde_len..shape.c_tilde_len + shape.z_len];
            if !z_within_bound(z, shape.beta) {
                return false;
            }
            let Ok(sig) = $pq::DetachedSignature::from_bytes(signature) else {
                return false;
            };
            // The key-only parts of verification, computed once per recent key (`expanded`);
            // the key is parsed (a copy) only when it has to be expanded or used as it is.
            let kept = expanded::expanded(suite, public, || {
                let pk = $pq::PublicKey::from_bytes(public).ok()?;
                $pq::expand_public_key(&pk).map(Expanded::$variant)
            });
            match kept.as_deref() {
                Some(Expanded::$variant(epk)) => {
                    $pq::verify_detached_signature_ctx_expanded(&sig, message, ML_DSA_CONTEXT, epk)
                        .is_ok()
                }
                _ => $pq::PublicKey::from_bytes(public).is_ok_and(|pk| {
                    $pq::verify_detached_signature_ctx(&sig, message, ML_DSA_CONTEXT, &pk).is_ok()
                }),
            }
        }};
    }
    match suite {
        Suite::Lq1 => verify_with!(mldsa65, MLDSA65_SIG_LEN, MLDSA65_Z, Lq1),
        Suite::Lq2 => verify_with!(mldsa87, MLDSA87_SIG_LEN, MLDSA87_Z, Lq2),
    }
}

/// Where `z` sits in an ML-DSA signature `c~ || z || h` and the bound it must meet.
struct ZShape {
    /// λ/4 bytes of the commitment hash `c~`.
    c_tilde_len: usize,
    /// ℓ polynomials of 256 coefficients, 20 bits each (γ1 = 2^19 in both parameter sets).
    z_len: usize,
    /// β = τ·η.
    beta: u32,
}

/// ML-DSA-65: λ = 192, ℓ = 5, τ = 49, η = 4.
const MLDSA65_Z: ZShape = ZShape {
    c_tilde_len: 48,
    z_len: 5 * 640,
    beta: 196,
};
/// ML-DSA-87: λ = 256, ℓ = 7, τ = 60, η = 2.
const MLDSA87_Z: ZShape = ZShape {
    c_tilde_len: 64,
    z_len: 7 * 640,
    beta: 120,
};

/// γ1 of ML-DSA-65 and ML-DSA-87.
const GAMMA1: u32 = 1 << 19;

/// FIPS 204 Algorithm 8, line 13, on the encoded `z`: every coefficient `γ1 − r` (`sigDecode`,
/// Algorithm 27, unpacks `z` with `BitUnpack(·, γ1 − 1, γ1)`: 20-bit little-endian `r`, two per
/// 5 bytes) must satisfy `|γ1 − r| < γ1 − β`, that is `β < r < 2γ1 − β`.
fn z_within_bound(z: &[u8], beta: u32) -> bool {
    z.chunks_exact(5).all(|b| {
        let [b0, b1, b2, b3, b4] = [b[0], b[1], b[2], b[3], b[4]].map(u32::from);
        let low = b0 | b1 << 8 | (b2 & 0x0f) << 16;
        let high = b2 >> 4 | b3 << 4 | b4 << 12;
        [low, high]
            .into_iter()
            .all(|r| r > beta && r < 2 * GAMMA1 - beta)
    })
}

/// Builds `M'`, the message both halves sign. Public so independent implementations and
/// test-vector emitters can show the exact bytes.
pub fn composite_message(
    suite: Suite,
    context: &[u8],
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let ctx_len =
        u8::try_from(context.len()).map_err(|_| CryptoError::ContextTooLong(context.len()))?;
    let prefix = labels::COMPOSITE_SIG_PREFIX;
    let mut m = Vec::with_capacity(prefix.len() + 2 + context.len() + message.len());
    m.extend_from_slice(prefix);
    m.push(suite.id());
    m.push(ctx_len);
    m.extend_from_slice(context);
    m.extend_from_slice(message);
    Ok(m)
}

#[cfg(test)]
mod tests {
    use core::convert::Infallible;

    use ml_dsa::ExpandedSigningKey;
    use proptest::prelude::*;

    use super::*;
    use crate::rng::os_rng;

    /// An RNG that hands out `rnd` (cyclically) and counts the bytes taken, so two signers can
    /// be given the same hedging randomness.
    struct FixedRng {
        rnd: [u8; ML_DSA_RND_LEN],
        taken: usize,
    }

    impl FixedRng {
        fn new(rnd: [u8; ML_DSA_RND_LEN]) -> Self {
            Self { rnd, taken: 0 }
        }
    }

    impl rand_core::TryRng for FixedRng {
        type Error = Infallible;

        fn try_next_u32(&mut self) -> Result<u32, Infallible> {
            let mut b = [0; 4];
            self.try_fill_bytes(&mut b)?;
            Ok(u32::from_le_bytes(b))
        }

        fn try_next_u64(&mut self) -> Result<u64, Infallible> {
            let mut b = [0; 8];
            self.try_fill_bytes(&mut b)?;
            Ok(u64::from_le_bytes(b))
        }

        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
            for byte in dst {
                *byte = self.rnd[self.taken % ML_DSA_RND_LEN];
                self.taken += 1;
            }
            Ok(())
        }
    }

    impl rand_core::TryCryptoRng for FixedRng {}

    /// RustCrypto's `ML-DSA.Sign(sk, M', "")` with the same `ξ` and `rnd`, and its verdict on
    /// the signature we made.
    fn rustcrypto_sign_and_verify<P: MlDsaParams>(
        xi: &B32,
        m: &[u8],
        rnd: [u8; ML_DSA_RND_LEN],
        ours: &[u8],
    ) -> (Vec<u8>, bool) {
        let sk = ExpandedSigningKey::<P>::from_seed(xi);
        let mut rng = FixedRng::new(rnd);
        let sig = sk.sign_randomized(m, ML_DSA_CONTEXT, &mut rng).unwrap();
        assert_eq!(rng.taken, ML_DSA_RND_LEN);
        let verdict = ml_dsa::EncodedSignature::<P>::try_from(ours)
            .ok()
            .and_then(|enc| ml_dsa::Signature::<P>::decode(&enc))
            .is_some_and(|sig| {
                sk.verifying_key()
                    .verify_with_context(m, ML_DSA_CONTEXT, &sig)
            });
        (sig.encode().to_vec(), verdict)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// FIPS 204 signing is deterministic given `rnd`: PQClean (our signer) and RustCrypto
        /// (the previous signer) must produce the same bytes, and both verifiers accept them.
        #[test]
        fn pqclean_signing_equals_rustcrypto_given_rnd(
            seed in any::<[u8; 32]>(),
            rnd in any::<[u8; ML_DSA_RND_LEN]>(),
            context in proptest::collection::vec(any::<u8>(), 0..=255),
            message in proptest::collection::vec(any::<u8>(), 0..2048),
            lq2 in any::<bool>(),
        ) {
            let suite = if lq2 { Suite::Lq2 } else { Suite::Lq1 };
            let seed = Seed32::from_bytes(seed);
            let (_, xi) = expand_seed(&seed);
            let sk = SigningKey::from_seed(suite, seed);
            let mut rng = FixedRng::new(rnd);
            let sig = sk.sign(&context, &message, &mut rng).unwrap();
            prop_assert_eq!(rng.taken, ML_DSA_RND_LEN);
            let m = composite_message(suite, &context, &message).unwrap();
            let ours = &sig.as_bytes()[ED25519_SIG_LEN..];
            let (reference, rustcrypto_accepts) = match suite {
                Suite::Lq1 => rustcrypto_sign_and_verify::<MlDsa65>(&xi, &m, rnd, ours),
                Suite::Lq2 => rustcrypto_sign_and_verify::<MlDsa87>(&xi, &m, rnd, ours),
            };
            prop_assert_eq!(ours, &reference[..]);
            prop_assert!(rustcrypto_accepts);
            prop_assert!(sk.verifying_key().verify(&context, &message, &sig).is_ok());
            // Another rnd gives another (equally valid) signature: rnd really is used.
            let mut other = rnd;
            other[0] ^= 1;
            let sig2 = sk.sign(&context, &message, &mut FixedRng::new(other)).unwrap();
            prop_assert_ne!(&sig2.as_bytes()[ED25519_SIG_LEN..], ours);
            prop_assert!(sk.verifying_key().verify(&context, &message, &sig2).is_ok());
        }
    }

    #[test]
    fn secret_key_is_the_fips_204_encoding_and_wrong_lengths_are_refused() {
        for (suite, sk_len) in [(Suite::Lq1, 4032), (Suite::Lq2, 4896)] {
            let sk = SigningKey::from_seed(suite, Seed32::from_bytes([3; 32]));
            assert_eq!(sk.ml_dsa.len(), sk_len, "{suite}");
            let m = composite_message(suite, b"c", b"m").unwrap();
            let rnd = [5; ML_DSA_RND_LEN];
            assert!(ml_dsa_sign(suite, &sk.ml_dsa, &m, &rnd).is_ok());
            for len in [0, 1, sk_len - 1, sk_len + 1, 4032 + 4896 - sk_len] {
                let mut wrong = sk.ml_dsa.to_vec();
                wrong.resize(len, 0);
                assert_eq!(
                    ml_dsa_sign(suite, &wrong, &m, &rnd),
                    Err(CryptoError::SigningFailed),
                    "{suite}: {len}-byte key"
                );
            }
        }
        // The vendored function itself: wrong key length and an overlong context.
        let short = vec![0u8; 100];
        assert!(mldsa65::detached_sign_ctx_with_rnd(b"m", b"", &short, &[0; 32]).is_err());
        assert!(mldsa87::detached_sign_ctx_with_rnd(b"m", b"", &short, &[0; 32]).is_err());
        let sk = SigningKey::from_seed(Suite::Lq2, Seed32::from_bytes([3; 32]));
        assert!(
            mldsa87::detached_sign_ctx_with_rnd(b"m", &[0; 256], &sk.ml_dsa, &[0; 32]).is_err()
        );
        assert!(mldsa87::detached_sign_ctx_with_rnd(b"m", &[0; 255], &sk.ml_dsa, &[0; 32]).is_ok());
    }

    #[test]
    fn signing_key_debug_is_redacted() {
        let sk = SigningKey::from_seed(Suite::Lq2, Seed32::from_bytes([9; 32]));
        assert_eq!(format!("{sk:?}"), "SigningKey(LQ2, <SECRET>)");
    }

    #[test]
    fn signatures_verify_in_both_suites() {
        let mut rng = os_rng();
        for suite in Suite::ALL {
            let sk = SigningKey::generate(suite, &mut rng);
            let sig = sk.sign(b"test", b"hello", &mut rng).unwrap();
            assert_eq!(sig.as_bytes().len(), suite.signature_len());
            sk.verifying_key().verify(b"test", b"hello", &sig).unwrap();
            let vk = VerifyingKey::from_bytes(suite, sk.verifying_key().as_bytes()).unwrap();
            vk.verify(b"test", b"hello", &sig).unwrap();
        }
    }

    #[test]
    fn wrong_context_or_message_fails() {
        let mut rng = os_rng();
        let sk = SigningKey::generate(Suite::Lq1, &mut rng);
        let sig = sk.sign(b"receipt", b"m", &mut rng).unwrap();
        let vk = sk.verifying_key();
        assert_eq!(
            vk.verify(b"envelope", b"m", &sig),
            Err(CryptoError::BadSignature)
        );
        assert_eq!(
            vk.verify(b"receipt", b"n", &sig),
            Err(CryptoError::BadSignature)
        );
    }

    #[test]
    fn one_valid_half_is_not_enough() {
        let mut rng = os_rng();
        let a = SigningKey::from_seed(Suite::Lq1, Seed32::from_bytes([1; 32]));
        let b = SigningKey::from_seed(Suite::Lq1, Seed32::from_bytes([2; 32]));
        let sig_a = a.sign(b"c", b"m", &mut rng).unwrap();
        let sig_b = b.sign(b"c", b"m", &mut rng).unwrap();
        // Ed25519 half from A, ML-DSA half from B: A's key must refuse it.
        let mut mixed = sig_a.as_bytes()[..64].to_vec();
        mixed.extend_from_slice(&sig_b.as_bytes()[64..]);
        let mixed = Signature::from_bytes(Suite::Lq1, &mixed).unwrap();
        assert_eq!(
            a.verifying_key().verify(b"c", b"m", &mixed),
            Err(CryptoError::BadSignature)
        );
    }

    /// Writes `r` as the first (low) coefficient of a 5-byte `z` group.
    fn set_first_coefficient(z: &mut [u8], r: u32) {
        z[0] = r as u8;
        z[1] = (r >> 8) as u8;
        z[2] = (z[2] & 0xf0) | ((r >> 16) as u8 & 0x0f);
    }

    #[test]
    fn z_bound_is_checked_at_both_edges() {
        let mut rng = os_rng();
        for (suite, shape) in [(Suite::Lq1, MLDSA65_Z), (Suite::Lq2, MLDSA87_Z)] {
            let sk = SigningKey::generate(suite, &mut rng);
            let sig = sk.sign(b"z", b"bound", &mut rng).unwrap();
            let start = ED25519_SIG_LEN + shape.c_tilde_len;
            let z = &sig.as_bytes()[start..start + shape.z_len];
            assert!(z_within_bound(z, shape.beta), "{suite}: honest z");
            let beta = shape.beta;
            // r = β and r = 2γ1 − β are |z| = γ1 − β exactly: out; one step inside: in.
            for (r, ok) in [
                (beta, false),
                (beta + 1, true),
                (2 * GAMMA1 - beta - 1, true),
                (2 * GAMMA1 - beta, false),
                (0, false),
                ((1 << 20) - 1, false),
            ] {
                let mut edited = z.to_vec();
                set_first_coefficient(&mut edited, r);
                assert_eq!(z_within_bound(&edited, beta), ok, "{suite}: r = {r}");
                // The high coefficient of the last group as well.
                let mut edited = z.to_vec();
                let n = edited.len();
                let last = &mut edited[n - 3..];
                last[0] = (last[0] & 0x0f) | ((r as u8 & 0x0f) << 4);
                last[1] = (r >> 4) as u8;
                last[2] = (r >> 12) as u8;
                assert_eq!(z_within_bound(&edited, beta), ok, "{suite}: last r = {r}");
            }
        }
    }

    #[test]
    fn overlong_context_is_refused() {
        let mut rng = os_rng();
        let sk = SigningKey::generate(Suite::Lq1, &mut rng);
        assert_eq!(
            sk.sign(&[0; 256], b"m", &mut rng).err(),
            Some(CryptoError::ContextTooLong(256))
        );
    }

    /// Expanded keys are found by the whole public key: a key sharing `ρ` (so `Â`) with a
    /// cached one but not `t1` gets its own expansion and refuses the other key's signature;
    /// the cache stays bounded; cached and fresh verdicts agree.
    #[test]
    fn expanded_keys_are_never_shared_between_different_public_keys() {
        for suite in [Suite::Lq1, Suite::Lq2] {
            let key = SigningKey::generate(suite, &mut os_rng());
            let sig = key.sign(b"ctx", b"message", &mut os_rng()).unwrap();
            let public = key.verifying_key();
            public.verify(b"ctx", b"message", &sig).unwrap();
            public.verify(b"ctx", b"message", &sig).unwrap(); // from the cache
            // Same Ed25519 key and ρ, one byte of t1 changed.
            let mut other = public.as_bytes().to_vec();
            let at = ED25519_PK_LEN + 32 + 100;
            other[at] ^= 1;
            let other = VerifyingKey::from_bytes(suite, &other).unwrap();
            for _ in 0..2 {
                assert!(other.verify(b"ctx", b"message", &sig).is_err());
            }
            public.verify(b"ctx", b"message", &sig).unwrap();
            assert!(public.verify(b"ctx", b"other message", &sig).is_err());
        }
        for _ in 0..expanded::CAPACITY + 3 {
            let key = SigningKey::generate(Suite::Lq1, &mut os_rng());
            let sig = key.sign(b"c", b"m", &mut os_rng()).unwrap();
            key.verifying_key().verify(b"c", b"m", &sig).unwrap();
        }
        assert!(expanded::kept() <= expanded::CAPACITY);
    }
}
