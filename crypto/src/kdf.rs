//! Key derivation (HKDF-SHA-384), transcript hashing (SHA-384), and the key combiner that
//! mixes hybrid-KEM secrets with an optional supplied (QKD or pre-shared) key.
//!
//! Every input is labelled and length-prefixed, so no two different input lists encode to the
//! same bytes:
//! ```text
//! info(label, parts) = be16(len(label)) || label || for each part: be32(len(part)) || part
//! ```
//!
//! The combiner ([`combine`]):
//! ```text
//! ikm = be16(n) || for each KEM secret: be32(32) || ss_i
//!       || flag (0x00 none | 0x01 supplied) || be32(len(k)) || k
//! prk = HKDF-Extract(salt = "liaison key combiner v1", ikm)         (48 bytes)
//! key = HKDF-Expand(prk, info(label, context parts), 32)            (per use)
//! ```
//! HMAC-SHA-384 keyed by a public salt over a concatenation is a dual-PRF/extractor on each
//! full-entropy component (the TLS 1.3 hybrid design, draft-ietf-tls-hybrid-design §3.2, and
//! Giacon–Heuer–Poettering, "KEM combiners", PKC 2018): the output stays secret while *any one*
//! input — X25519, ML-KEM (both inside each KEM secret) or the supplied key — stays secret.

use hkdf::Hkdf;
use sha2::{Digest, Sha384};
use zeroize::Zeroizing;

use crate::kem::KemSharedSecret;
use crate::secret::secret_array;
use crate::{CryptoError, SecretBytes, SymmetricKey, labels};

/// Bytes of a SHA-384 output (transcript hashes, the combiner's PRK).
pub const HASH_LEN: usize = 48;

/// Most bytes one HKDF-SHA-384 expansion can produce (RFC 5869: 255 * HashLen).
pub const MAX_EXPAND_LEN: usize = 255 * HASH_LEN;

/// Longest label or part [`info`] accepts. Every Liaison input is bounded far below this by the
/// wire limits (largest object: 256 MiB); the bound makes the length prefixes exact.
pub const MAX_INFO_PART_LEN: usize = u32::MAX as usize;

secret_array!(
    /// The combiner's pseudo-random key: the root every per-use key is expanded from.
    CombinedSecret,
    48
);

/// Encodes `info(label, parts)` as defined in the module docs.
pub fn info(label: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(2 + label.len() + parts.iter().map(|p| 4 + p.len()).sum::<usize>());
    // Labels are compile-time constants far below 64 KiB and parts are bounded by the callers'
    // wire limits (≤ 256 MiB), so the prefixes below are exact; the debug assertions document
    // (and in tests enforce) that invariant.
    debug_assert!(label.len() <= usize::from(u16::MAX));
    debug_assert!(parts.iter().all(|p| p.len() <= MAX_INFO_PART_LEN));
    out.extend_from_slice(&(label.len() as u16).to_be_bytes());
    out.extend_from_slice(label);
    for part in parts {
        out.extend_from_slice(&(part.len() as u32).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

/// Plain RFC 5869 HKDF-SHA-384 (`Expand(Extract(salt, ikm), info, out.len())`), the primitive
/// under every labelled derivation here. Checked against Wycheproof's `hkdf_sha384` vectors.
pub fn hkdf_sha384(
    salt: &[u8],
    ikm: &[u8],
    info: &[u8],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    let hk = Hkdf::<Sha384>::new(Some(salt), ikm);
    hk.expand(info, out)
        .map_err(|_| CryptoError::KdfOutputTooLong(out.len()))
}

/// HKDF-SHA-384 with labelled, length-prefixed info: `Expand(Extract(salt, ikm), info, len)`.
pub fn derive(
    label: &[u8],
    salt: &[u8],
    ikm: &[u8],
    context: &[&[u8]],
    len: usize,
) -> Result<SecretBytes, CryptoError> {
    let hk = Hkdf::<Sha384>::new(Some(salt), ikm);
    let mut out = vec![0u8; len];
    hk.expand(&info(label, context), &mut out)
        .map_err(|_| CryptoError::KdfOutputTooLong(len))?;
    Ok(SecretBytes::new(out))
}

/// [`derive()`] for a 32-byte symmetric key.
pub fn derive_key(label: &[u8], salt: &[u8], ikm: &[u8], context: &[&[u8]]) -> SymmetricKey {
    let hk = Hkdf::<Sha384>::new(Some(salt), ikm);
    let mut out = Zeroizing::new([0u8; 32]);
    // ok: 32 bytes is far below HKDF-SHA-384's 255 * 48 limit
    let _ = hk.expand(&info(label, context), &mut out[..]);
    SymmetricKey::from_bytes(*out)
}

/// Mixes one or more hybrid-KEM secrets and an optional supplied key into one secret.
pub fn combine(kem_secrets: &[&KemSharedSecret], supplied: Option<&[u8]>) -> CombinedSecret {
    let mut ikm = Zeroizing::new(Vec::with_capacity(2 + kem_secrets.len() * 36 + 5 + 64));
    ikm.extend_from_slice(&(kem_secrets.len() as u16).to_be_bytes());
    for ss in kem_secrets {
        ikm.extend_from_slice(&32u32.to_be_bytes());
        ikm.extend_from_slice(ss.expose_secret());
    }
    match supplied {
        Some(k) => {
            ikm.push(0x01);
            ikm.extend_from_slice(&(k.len() as u32).to_be_bytes());
            ikm.extend_from_slice(k);
        }
        None => {
            ikm.push(0x00);
            ikm.extend_from_slice(&0u32.to_be_bytes());
        }
    }
    let (prk, _) = Hkdf::<Sha384>::extract(Some(labels::KEY_COMBINER), &ikm);
    let mut bytes = Zeroizing::new([0u8; HASH_LEN]);
    bytes.copy_from_slice(&prk);
    CombinedSecret::from_bytes(*bytes)
}

impl CombinedSecret {
    /// Expands a 32-byte key for one use: `HKDF-Expand(prk, info(label, context), 32)`.
    pub fn derive_key(&self, label: &[u8], context: &[&[u8]]) -> SymmetricKey {
        let out = Zeroizing::new(self.expand_array::<32>(label, context));
        SymmetricKey::from_bytes(*out)
    }

    /// Expands `out.len()` bytes for one use; more than [`MAX_EXPAND_LEN`] is an error.
    pub fn expand(
        &self,
        label: &[u8],
        context: &[&[u8]],
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        let hk = Hkdf::<Sha384>::from_prk(self.expose_secret())
            .map_err(|_| CryptoError::KdfOutputTooLong(out.len()))?;
        hk.expand(&info(label, context), out)
            .map_err(|_| CryptoError::KdfOutputTooLong(out.len()))
    }

    /// Expands exactly `N` bytes; `N` above [`MAX_EXPAND_LEN`] does not compile.
    pub fn expand_array<const N: usize>(&self, label: &[u8], context: &[&[u8]]) -> [u8; N] {
        const {
            assert!(
                N <= MAX_EXPAND_LEN,
                "HKDF-SHA-384 expands at most 255 * 48 bytes"
            )
        };
        let mut out = [0u8; N];
        // ok: N is within HKDF's limit (checked at compile time above) and a HashLen-byte PRK
        // is always accepted, so expansion cannot fail.
        let _ = self.expand(label, context, &mut out);
        out
    }
}

/// An incremental SHA-384 transcript of labelled, length-prefixed fields.
#[derive(Clone, Debug)]
pub struct Transcript {
    hash: Sha384,
}

impl Transcript {
    /// Starts a transcript with its protocol label (absorbed as `info(label, [])`).
    pub fn new(label: &[u8]) -> Self {
        let mut hash = Sha384::new();
        hash.update(info(label, &[]));
        Self { hash }
    }

    /// Absorbs one field as `be32(len) || field`.
    pub fn absorb(&mut self, field: &[u8]) {
        self.hash.update((field.len() as u32).to_be_bytes());
        self.hash.update(field);
    }

    /// The hash of everything absorbed so far (the transcript continues).
    pub fn current(&self) -> [u8; HASH_LEN] {
        self.hash.clone().finalize().into()
    }
}

/// One labelled field hashed as [`Transcript::new`]`(label)` then [`Transcript::absorb`]`(field)`
/// would hash it, for a field whose bytes arrive in pieces (a large envelope's payload
/// ciphertext received part by part). The length is declared up front, as the prefix must be;
/// [`Self::finish`] refuses unless exactly that many bytes were given.
///
/// This is the hash of bulk data (every envelope's payload and the envelope hash), so it runs
/// on AWS-LC's SHA-384 (`aws-lc-rs`, already linked by rustls), about 10 % faster than
/// RustCrypto's on x86-64; the short transcripts of [`Transcript`] stay on `sha2`. Same
/// function, same bytes: the unit test below checks the two against each other.
#[derive(Clone)]
pub struct TranscriptField {
    hash: aws_lc_rs::digest::Context,
    declared: usize,
    absorbed: usize,
}

impl core::fmt::Debug for TranscriptField {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TranscriptField")
            .field("declared", &self.declared)
            .field("absorbed", &self.absorbed)
            .finish_non_exhaustive()
    }
}

impl TranscriptField {
    /// Starts the transcript `label` and the field's length prefix, for a field of `len`
    /// bytes (at most 4 GiB − 1, the prefix's range).
    pub fn new(label: &[u8], len: usize) -> Result<Self, CryptoError> {
        let prefix = u32::try_from(len).map_err(|_| CryptoError::BadLength {
            what: "transcript field (at most 2^32 - 1 bytes)",
            expected: u32::MAX as usize,
            got: len,
        })?;
        // The transcript's start as `Transcript::new` writes it, then the field's length prefix
        // as `absorb` writes it.
        let mut hash = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA384);
        hash.update(&info(label, &[]));
        hash.update(&prefix.to_be_bytes());
        Ok(Self {
            hash,
            declared: len,
            absorbed: 0,
        })
    }

    /// Absorbs the next piece of the field; refuses bytes beyond the declared length.
    pub fn update(&mut self, piece: &[u8]) -> Result<(), CryptoError> {
        let total = self.absorbed.saturating_add(piece.len());
        if total > self.declared {
            return Err(CryptoError::BadLength {
                what: "transcript field",
                expected: self.declared,
                got: total,
            });
        }
        self.hash.update(piece);
        self.absorbed = total;
        Ok(())
    }

    /// Bytes absorbed so far.
    pub fn absorbed(&self) -> usize {
        self.absorbed
    }

    /// The transcript's hash, once the whole declared field was absorbed.
    pub fn finish(self) -> Result<[u8; HASH_LEN], CryptoError> {
        if self.absorbed != self.declared {
            return Err(CryptoError::BadLength {
                what: "transcript field",
                expected: self.declared,
                got: self.absorbed,
            });
        }
        let digest = self.hash.finish();
        let mut out = [0; HASH_LEN];
        // ok: a SHA-384 digest is always HASH_LEN (48) bytes
        out.copy_from_slice(digest.as_ref());
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_in_pieces_hashes_as_the_whole_field_and_only_when_complete() {
        for len in [0usize, 1, 127, 128, 4096, 100_000] {
            let field: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let mut whole = Transcript::new(b"liaison test field v1");
            whole.absorb(&field);
            for piece in [1usize, 999, 65_536] {
                let mut t = TranscriptField::new(b"liaison test field v1", len).unwrap();
                for chunk in field.chunks(piece) {
                    t.update(chunk).unwrap();
                }
                assert_eq!(t.absorbed(), len);
                assert_eq!(
                    t.finish().unwrap(),
                    whole.current(),
                    "len {len} piece {piece}"
                );
            }
        }
        let mut short = TranscriptField::new(b"l", 10).unwrap();
        short.update(&[0; 9]).unwrap();
        assert!(short.clone().finish().is_err(), "one byte short");
        assert!(short.update(&[0; 2]).is_err(), "one byte too many");
        short.update(&[0]).unwrap();
        assert!(short.finish().is_ok());
    }

    fn ss(b: u8) -> KemSharedSecret {
        KemSharedSecret::from_bytes([b; 32])
    }

    #[test]
    fn info_is_injective_on_part_boundaries() {
        assert_ne!(info(b"l", &[b"ab", b"c"]), info(b"l", &[b"a", b"bc"]));
        assert_ne!(info(b"la", &[b"b"]), info(b"l", &[b"ab"]));
    }

    #[test]
    fn every_combiner_input_changes_the_output() {
        let base = combine(&[&ss(1)], Some(b"qkd"));
        assert_ne!(base, combine(&[&ss(2)], Some(b"qkd")));
        assert_ne!(base, combine(&[&ss(1)], Some(b"qke")));
        assert_ne!(base, combine(&[&ss(1)], None));
        assert_ne!(combine(&[&ss(1)], None), combine(&[&ss(1)], Some(b"")));
        assert_ne!(
            combine(&[&ss(1), &ss(2)], None),
            combine(&[&ss(2), &ss(1)], None)
        );
    }

    #[test]
    fn derived_keys_are_separated_by_label_and_context() {
        let prk = combine(&[&ss(1)], None);
        let a = prk.derive_key(b"a", &[b"x"]);
        assert_ne!(a, prk.derive_key(b"b", &[b"x"]));
        assert_ne!(a, prk.derive_key(b"a", &[b"y"]));
        assert_eq!(a, prk.derive_key(b"a", &[b"x"]));
    }

    #[test]
    fn overlong_output_is_an_error() {
        assert_eq!(
            derive(b"l", b"", b"k", &[], 255 * 48 + 1).err(),
            Some(CryptoError::KdfOutputTooLong(255 * 48 + 1))
        );
    }
}
