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

use ed25519_dalek::Signer as _;
use ml_dsa::{B32, ExpandedSigningKey, MlDsa65, MlDsa87};
use rand_core::CryptoRng;
use sha3::Shake256;
use sha3::digest::{ExtendableOutput, Update, XofReader};
use zeroize::Zeroizing;

use crate::suite::{ED25519_PK_LEN, ED25519_SIG_LEN};
use crate::{CryptoError, Seed32, Suite, labels};

enum MlDsaSigning {
    D65(Box<ExpandedSigningKey<MlDsa65>>),
    D87(Box<ExpandedSigningKey<MlDsa87>>),
}

enum MlDsaVerifying {
    D65(Box<ml_dsa::VerifyingKey<MlDsa65>>),
    D87(Box<ml_dsa::VerifyingKey<MlDsa87>>),
}

/// A composite signing (private) key. Serialises as its 32-byte seed.
pub struct SigningKey {
    suite: Suite,
    seed: Seed32,
    ed25519: ed25519_dalek::SigningKey,
    ml_dsa: MlDsaSigning,
    public: VerifyingKey,
}

/// A composite verifying (public) key `pk_E || pk_D`, validated on construction.
#[derive(Clone)]
pub struct VerifyingKey {
    suite: Suite,
    bytes: Vec<u8>,
    ed25519: ed25519_dalek::VerifyingKey,
    ml_dsa: std::sync::Arc<MlDsaVerifying>,
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
        let mut expanded = Zeroizing::new([0u8; 64]);
        let mut xof = Shake256::default();
        xof.update(labels::SIG_SEED_EXPAND);
        xof.update(seed.expose_secret());
        xof.finalize_xof().read(&mut expanded[..]);

        let ed_seed: Zeroizing<[u8; 32]> = Zeroizing::new(core::array::from_fn(|i| expanded[i]));
        let ed25519 = ed25519_dalek::SigningKey::from_bytes(&ed_seed);
        let xi: B32 = B32::from(core::array::from_fn::<u8, 32, _>(|i| expanded[32 + i]));

        let mut bytes = ed25519.verifying_key().to_bytes().to_vec();
        let (ml_dsa, ml_public) = match suite {
            Suite::Lq1 => {
                let sk = ExpandedSigningKey::<MlDsa65>::from_seed(&xi);
                let vk = sk.verifying_key();
                bytes.extend_from_slice(&vk.encode());
                (
                    MlDsaSigning::D65(Box::new(sk)),
                    MlDsaVerifying::D65(Box::new(vk)),
                )
            }
            Suite::Lq2 => {
                let sk = ExpandedSigningKey::<MlDsa87>::from_seed(&xi);
                let vk = sk.verifying_key();
                bytes.extend_from_slice(&vk.encode());
                (
                    MlDsaSigning::D87(Box::new(sk)),
                    MlDsaVerifying::D87(Box::new(vk)),
                )
            }
        };
        let public = VerifyingKey {
            suite,
            bytes,
            ed25519: ed25519.verifying_key(),
            ml_dsa: std::sync::Arc::new(ml_public),
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
        let mut bytes = Vec::with_capacity(self.suite.signature_len());
        bytes.extend_from_slice(&self.ed25519.sign(&m).to_bytes());
        match &self.ml_dsa {
            MlDsaSigning::D65(sk) => {
                let sig = sk
                    .sign_randomized(&m, b"", rng)
                    .map_err(|_| CryptoError::SigningFailed)?;
                bytes.extend_from_slice(&sig.encode());
            }
            MlDsaSigning::D87(sk) => {
                let sig = sk
                    .sign_randomized(&m, b"", rng)
                    .map_err(|_| CryptoError::SigningFailed)?;
                bytes.extend_from_slice(&sig.encode());
            }
        }
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
    pub fn from_bytes(suite: Suite, bytes: &[u8]) -> Result<Self, CryptoError> {
        let expected = suite.signature_public_key_len();
        Suite::check_len("composite signature public key", expected, bytes)?;
        let (ed, ml) = bytes.split_at(ED25519_PK_LEN);
        let ed: [u8; 32] = core::array::from_fn(|i| ed[i]);
        let ed25519 = ed25519_dalek::VerifyingKey::from_bytes(&ed)
            .map_err(|_| CryptoError::InvalidPublicKey("Ed25519 public key"))?;
        if ed25519.is_weak() {
            return Err(CryptoError::InvalidPublicKey(
                "Ed25519 public key (small order)",
            ));
        }
        let invalid = || CryptoError::InvalidPublicKey("ML-DSA public key");
        let ml_dsa = match suite {
            Suite::Lq1 => {
                let enc =
                    ml_dsa::EncodedVerifyingKey::<MlDsa65>::try_from(ml).map_err(|_| invalid())?;
                MlDsaVerifying::D65(Box::new(ml_dsa::VerifyingKey::decode(&enc)))
            }
            Suite::Lq2 => {
                let enc =
                    ml_dsa::EncodedVerifyingKey::<MlDsa87>::try_from(ml).map_err(|_| invalid())?;
                MlDsaVerifying::D87(Box::new(ml_dsa::VerifyingKey::decode(&enc)))
            }
        };
        Ok(Self {
            suite,
            bytes: bytes.to_vec(),
            ed25519,
            ml_dsa: std::sync::Arc::new(ml_dsa),
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
        let ml_ok = match &*self.ml_dsa {
            MlDsaVerifying::D65(vk) => ml_dsa::EncodedSignature::<MlDsa65>::try_from(sig_d)
                .ok()
                .and_then(|enc| ml_dsa::Signature::decode(&enc))
                .is_some_and(|sig| vk.verify_with_context(&m, b"", &sig)),
            MlDsaVerifying::D87(vk) => ml_dsa::EncodedSignature::<MlDsa87>::try_from(sig_d)
                .ok()
                .and_then(|enc| ml_dsa::Signature::decode(&enc))
                .is_some_and(|sig| vk.verify_with_context(&m, b"", &sig)),
        };
        if ed_ok && ml_ok {
            Ok(())
        } else {
            Err(CryptoError::BadSignature)
        }
    }
}

impl core::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "VerifyingKey({}, {})",
            self.suite,
            crate::IdentityId::of(self)
        )
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
    use super::*;
    use crate::rng::os_rng;

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

    #[test]
    fn overlong_context_is_refused() {
        let mut rng = os_rng();
        let sk = SigningKey::generate(Suite::Lq1, &mut rng);
        assert_eq!(
            sk.sign(&[0; 256], b"m", &mut rng).err(),
            Some(CryptoError::ContextTooLong(256))
        );
    }
}
