//! Hybrid key encapsulation: X25519 + ML-KEM with X-Wing's SHA3-256 combiner.
//!
//! * `LQ1` is X-Wing exactly (draft-connolly-cfrg-xwing-kem-10): ML-KEM-768, label `\./` `/^\`.
//! * `LQ2` has the same shape with ML-KEM-1024 and the label [`labels::LQ2_KEM_LABEL`].
//!
//! Shapes (both suites):
//! ```text
//! expanded      = SHAKE256(seed, 96 bytes)            ; seed = the 32-byte decapsulation key
//! (pk_M, sk_M)  = ML-KEM.KeyGen_internal(expanded[0..32], expanded[32..64])
//! sk_X          = expanded[64..96];  pk_X = X25519(sk_X, 9)
//! pk            = pk_M || pk_X
//! encapsulate(pk, eseed[64]):  ct_X = X25519(eseed[32..64], 9); ss_X = X25519(eseed[32..64], pk_X)
//!                              (ct_M, ss_M) = ML-KEM.Encaps_internal(pk_M, eseed[0..32])
//! ct            = ct_M || ct_X
//! ss            = SHA3-256(ss_M || ss_X || ct_X || pk_X || label)
//! ```
//! One deliberate strictness beyond X-Wing: an X25519 result of all zeros (a low-order point
//! from the peer) is refused with [`CryptoError::NonContributory`]. Honest keys never produce
//! it, so the draft's test vectors are unaffected.

use ml_kem::array::Array;
use ml_kem::{Decapsulate, DecapsulationKey, EncapsulationKey, KeyExport, MlKem768, MlKem1024};
use rand_core::CryptoRng;
use sha3::digest::{ExtendableOutput, Update, XofReader};
use sha3::{Digest, Sha3_256, Shake256};
use x25519_dalek::{PublicKey as XPublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::secret::secret_array;
use crate::suite::{MLKEM768_CT_LEN, MLKEM1024_CT_LEN, X25519_LEN};
use crate::{CryptoError, Seed32, Suite, labels};

secret_array!(
    /// The 32-byte output of a hybrid KEM: feed it to [`crate::kdf`], never use it directly.
    ///
    /// ```
    /// let ss = liaison_crypto::kem::KemSharedSecret::from_bytes([9u8; 32]);
    /// assert_eq!(format!("{ss:?}"), "KemSharedSecret(<SECRET>)");
    /// ```
    KemSharedSecret,
    32
);

secret_array!(
    /// The 64 bytes of randomness one encapsulation consumes (X-Wing's `eseed`).
    EncapsulationSeed,
    64
);

enum MlKemDk {
    K768(Box<DecapsulationKey<MlKem768>>),
    K1024(Box<DecapsulationKey<MlKem1024>>),
}

enum MlKemEk {
    K768(Box<EncapsulationKey<MlKem768>>),
    K1024(Box<EncapsulationKey<MlKem1024>>),
}

/// A hybrid KEM decapsulation (private) key. Serialises as its 32-byte seed.
pub struct KemSecretKey {
    suite: Suite,
    seed: Seed32,
    ml_kem: MlKemDk,
    x25519: StaticSecret,
    public: KemPublicKey,
}

/// A hybrid KEM encapsulation (public) key: `pk_M || pk_X`, validated and parsed once on
/// construction (re-parsing per encapsulation cost 6–8% of ML-KEM encapsulation).
#[derive(Clone)]
pub struct KemPublicKey {
    suite: Suite,
    bytes: Vec<u8>,
    ml_kem: std::sync::Arc<MlKemEk>,
}

/// A hybrid KEM ciphertext: `ct_M || ct_X`.
#[derive(Clone, PartialEq, Eq)]
pub struct KemCiphertext {
    suite: Suite,
    bytes: Vec<u8>,
}

impl KemSecretKey {
    /// A fresh key pair from `rng`.
    pub fn generate(suite: Suite, rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        Self::from_seed(suite, Seed32::random(rng))
    }

    /// Derives the key pair from its 32-byte seed (X-Wing `GenerateKeyPairDerand`).
    pub fn from_seed(suite: Suite, seed: Seed32) -> Self {
        let mut expanded = Zeroizing::new([0u8; 96]);
        let mut xof = Shake256::default();
        xof.update(seed.expose_secret());
        xof.finalize_xof().read(&mut expanded[..]);

        let mut ml_seed = Zeroizing::new([0u8; 64]);
        ml_seed.copy_from_slice(&expanded[..64]);
        let mut x_bytes = Zeroizing::new([0u8; 32]);
        x_bytes.copy_from_slice(&expanded[64..]);
        let x25519 = StaticSecret::from(*x_bytes);
        let pk_x = XPublicKey::from(&x25519);

        let (ml_kem, ek, pk_m) = match suite {
            Suite::Lq1 => {
                let dk = DecapsulationKey::<MlKem768>::from_seed(Array::from(*ml_seed));
                let ek = dk.encapsulation_key().clone();
                let pk = ek.to_bytes().to_vec();
                (MlKemDk::K768(Box::new(dk)), MlKemEk::K768(Box::new(ek)), pk)
            }
            Suite::Lq2 => {
                let dk = DecapsulationKey::<MlKem1024>::from_seed(Array::from(*ml_seed));
                let ek = dk.encapsulation_key().clone();
                let pk = ek.to_bytes().to_vec();
                (
                    MlKemDk::K1024(Box::new(dk)),
                    MlKemEk::K1024(Box::new(ek)),
                    pk,
                )
            }
        };
        let mut bytes = pk_m;
        bytes.extend_from_slice(pk_x.as_bytes());
        let public = KemPublicKey {
            suite,
            bytes,
            ml_kem: std::sync::Arc::new(ek),
        };
        Self {
            suite,
            seed,
            ml_kem,
            x25519,
            public,
        }
    }

    /// The suite of this key.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The matching public key.
    pub fn public_key(&self) -> &KemPublicKey {
        &self.public
    }

    /// The 32-byte seed: the whole private key, for storage in an encrypted keystore.
    pub fn seed(&self) -> &Seed32 {
        &self.seed
    }

    /// Decapsulates `ciphertext` (X-Wing `Decapsulate`).
    ///
    /// A tampered ML-KEM part yields a different (implicitly rejected) secret, so the caller's
    /// AEAD fails; a low-order X25519 part is refused outright.
    pub fn decapsulate(&self, ciphertext: &KemCiphertext) -> Result<KemSharedSecret, CryptoError> {
        self.suite.expect(ciphertext.suite)?;
        let (ct_m, ct_x) = ciphertext.split();
        let ss_m = match &self.ml_kem {
            MlKemDk::K768(dk) => {
                let ct = Array::try_from(ct_m).map_err(|_| ct_len(ct_m, MLKEM768_CT_LEN))?;
                Zeroizing::new(<[u8; 32]>::from(dk.decapsulate(&ct)))
            }
            MlKemDk::K1024(dk) => {
                let ct = Array::try_from(ct_m).map_err(|_| ct_len(ct_m, MLKEM1024_CT_LEN))?;
                Zeroizing::new(<[u8; 32]>::from(dk.decapsulate(&ct)))
            }
        };
        let ct_x: [u8; X25519_LEN] = core::array::from_fn(|i| ct_x[i]);
        let ss_x = self.x25519.diffie_hellman(&XPublicKey::from(ct_x));
        if !ss_x.was_contributory() {
            return Err(CryptoError::NonContributory);
        }
        Ok(combine(
            self.suite,
            &ss_m[..],
            ss_x.as_bytes(),
            &ct_x,
            self.public.x25519_part(),
        ))
    }
}

impl core::fmt::Debug for KemSecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "KemSecretKey({}, <SECRET>)", self.suite)
    }
}

impl KemPublicKey {
    /// Parses and validates an encapsulation key (ML-KEM modulus check included).
    pub fn from_bytes(suite: Suite, bytes: &[u8]) -> Result<Self, CryptoError> {
        let expected = suite.kem_public_key_len();
        Suite::check_len("hybrid KEM public key", expected, bytes)?;
        let ml_kem = std::sync::Arc::new(parse_ml_kem(suite, &bytes[..expected - X25519_LEN])?);
        Ok(Self {
            suite,
            bytes: bytes.to_vec(),
            ml_kem,
        })
    }

    /// The suite of this key.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The wire encoding `pk_M || pk_X`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn x25519_part(&self) -> &[u8] {
        &self.bytes[self.bytes.len() - X25519_LEN..]
    }

    fn x25519_array(&self) -> [u8; X25519_LEN] {
        // Length was checked when the key was constructed.
        let part = self.x25519_part();
        core::array::from_fn(|i| part[i])
    }

    /// Encapsulates to this key with fresh randomness from `rng`.
    pub fn encapsulate(
        &self,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<(KemCiphertext, KemSharedSecret), CryptoError> {
        self.encapsulate_derand(&EncapsulationSeed::random(rng))
    }

    /// Encapsulates with caller-chosen randomness (X-Wing `EncapsulateDerand`).
    ///
    /// For test vectors and injected-randomness replays only: reusing an `eseed` is fatal.
    pub fn encapsulate_derand(
        &self,
        eseed: &EncapsulationSeed,
    ) -> Result<(KemCiphertext, KemSharedSecret), CryptoError> {
        let eseed = eseed.expose_secret();
        let m: Array<u8, _> = Array::from(core::array::from_fn::<u8, 32, _>(|i| eseed[i]));
        let (mut bytes, ss_m) = match &*self.ml_kem {
            MlKemEk::K768(ek) => {
                let (ct, ss) = ek.encapsulate_deterministic(&m);
                (ct.to_vec(), Zeroizing::new(<[u8; 32]>::from(ss)))
            }
            MlKemEk::K1024(ek) => {
                let (ct, ss) = ek.encapsulate_deterministic(&m);
                (ct.to_vec(), Zeroizing::new(<[u8; 32]>::from(ss)))
            }
        };
        let mut ek_x = Zeroizing::new([0u8; 32]);
        ek_x.copy_from_slice(&eseed[32..]);
        let ek_x = StaticSecret::from(*ek_x);
        let ct_x = XPublicKey::from(&ek_x);
        let pk_x = self.x25519_array();
        let ss_x = ek_x.diffie_hellman(&XPublicKey::from(pk_x));
        if !ss_x.was_contributory() {
            return Err(CryptoError::NonContributory);
        }
        let ss = combine(
            self.suite,
            &ss_m[..],
            ss_x.as_bytes(),
            ct_x.as_bytes(),
            &pk_x,
        );
        bytes.extend_from_slice(ct_x.as_bytes());
        Ok((
            KemCiphertext {
                suite: self.suite,
                bytes,
            },
            ss,
        ))
    }
}

impl core::fmt::Debug for KemPublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "KemPublicKey({}, {}…)",
            self.suite,
            hex::encode(&self.bytes[..8])
        )
    }
}

impl PartialEq for KemPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.suite == other.suite && self.bytes == other.bytes
    }
}

impl Eq for KemPublicKey {}

impl KemCiphertext {
    /// Parses a ciphertext, checking its length for the suite.
    pub fn from_bytes(suite: Suite, bytes: &[u8]) -> Result<Self, CryptoError> {
        let expected = suite.kem_ciphertext_len();
        Suite::check_len("hybrid KEM ciphertext", expected, bytes)?;
        Ok(Self {
            suite,
            bytes: bytes.to_vec(),
        })
    }

    /// The suite of this ciphertext.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The wire encoding `ct_M || ct_X`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn split(&self) -> (&[u8], &[u8]) {
        let ml_len = match self.suite {
            Suite::Lq1 => MLKEM768_CT_LEN,
            Suite::Lq2 => MLKEM1024_CT_LEN,
        };
        self.bytes.split_at(ml_len)
    }
}

impl core::fmt::Debug for KemCiphertext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "KemCiphertext({}, {} bytes)",
            self.suite,
            self.bytes.len()
        )
    }
}

fn combine(suite: Suite, ss_m: &[u8], ss_x: &[u8], ct_x: &[u8], pk_x: &[u8]) -> KemSharedSecret {
    let label: &[u8] = match suite {
        Suite::Lq1 => labels::XWING_LABEL,
        Suite::Lq2 => labels::LQ2_KEM_LABEL,
    };
    let mut h = Sha3_256::new();
    Digest::update(&mut h, ss_m);
    Digest::update(&mut h, ss_x);
    Digest::update(&mut h, ct_x);
    Digest::update(&mut h, pk_x);
    Digest::update(&mut h, label);
    KemSharedSecret::from_bytes(h.finalize().into())
}

fn parse_ml_kem(suite: Suite, pk_m: &[u8]) -> Result<MlKemEk, CryptoError> {
    let invalid = || CryptoError::InvalidPublicKey("ML-KEM encapsulation key");
    Ok(match suite {
        Suite::Lq1 => {
            let key = Array::try_from(pk_m).map_err(|_| invalid())?;
            MlKemEk::K768(Box::new(
                EncapsulationKey::new(&key).map_err(|_| invalid())?,
            ))
        }
        Suite::Lq2 => {
            let key = Array::try_from(pk_m).map_err(|_| invalid())?;
            MlKemEk::K1024(Box::new(
                EncapsulationKey::new(&key).map_err(|_| invalid())?,
            ))
        }
    })
}

fn ct_len(got: &[u8], expected: usize) -> CryptoError {
    CryptoError::BadLength {
        what: "ML-KEM ciphertext",
        expected,
        got: got.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::os_rng;

    #[test]
    fn encapsulated_secret_decapsulates_in_both_suites() {
        let mut rng = os_rng();
        for suite in Suite::ALL {
            let sk = KemSecretKey::generate(suite, &mut rng);
            let (ct, ss) = sk.public_key().encapsulate(&mut rng).unwrap();
            assert_eq!(ct.as_bytes().len(), suite.kem_ciphertext_len());
            assert_eq!(sk.decapsulate(&ct).unwrap(), ss);
        }
    }

    #[test]
    fn seed_determines_the_key_pair() {
        let a = KemSecretKey::from_seed(Suite::Lq2, Seed32::from_bytes([3; 32]));
        let b = KemSecretKey::from_seed(Suite::Lq2, Seed32::from_bytes([3; 32]));
        assert_eq!(a.public_key(), b.public_key());
    }

    #[test]
    fn low_order_x25519_ciphertext_is_refused() {
        let mut rng = os_rng();
        let sk = KemSecretKey::generate(Suite::Lq1, &mut rng);
        let (ct, _) = sk.public_key().encapsulate(&mut rng).unwrap();
        let mut bytes = ct.as_bytes().to_vec();
        let n = bytes.len();
        bytes[n - 32..].fill(0); // the identity point
        let ct = KemCiphertext::from_bytes(Suite::Lq1, &bytes).unwrap();
        assert_eq!(sk.decapsulate(&ct), Err(CryptoError::NonContributory));
    }

    #[test]
    fn suite_mismatch_is_refused() {
        let mut rng = os_rng();
        let sk1 = KemSecretKey::generate(Suite::Lq1, &mut rng);
        let sk2 = KemSecretKey::generate(Suite::Lq2, &mut rng);
        let (ct, _) = sk2.public_key().encapsulate(&mut rng).unwrap();
        assert!(matches!(
            sk1.decapsulate(&ct),
            Err(CryptoError::SuiteMismatch { .. })
        ));
    }

    #[test]
    fn wrong_lengths_are_refused() {
        assert!(matches!(
            KemPublicKey::from_bytes(Suite::Lq1, &[0; 1215]),
            Err(CryptoError::BadLength {
                expected: 1216,
                got: 1215,
                ..
            })
        ));
        assert!(matches!(
            KemCiphertext::from_bytes(Suite::Lq2, &[0; 1120]),
            Err(CryptoError::BadLength { expected: 1600, .. })
        ));
    }

    #[test]
    fn unreduced_ml_kem_public_key_is_refused() {
        // All-0xff coefficients exceed q = 3329: FIPS 203's modulus check must reject them.
        let bytes = vec![0xff; Suite::Lq1.kem_public_key_len()];
        assert!(matches!(
            KemPublicKey::from_bytes(Suite::Lq1, &bytes),
            Err(CryptoError::InvalidPublicKey(_))
        ));
    }
}
