//! Authenticated encryption: ChaCha20-Poly1305 (RFC 8439) with counter nonces for streams of
//! records, and XChaCha20-Poly1305 with random 24-byte nonces for one-off objects.
//!
//! Back-ends: ChaCha20-Poly1305 runs on AWS-LC (`aws-lc-rs`, the library rustls and quinn
//! already link), whose assembly is about twice as fast as RustCrypto's on x86-64; it carries
//! every link record and every envelope payload. Its key lives only inside an AWS-LC
//! `EVP_AEAD_CTX` made for one call: AWS-LC allocates it with `OPENSSL_malloc`, and
//! `EVP_AEAD_CTX_free` wipes the whole allocation (`OPENSSL_free` → `OPENSSL_cleanse`) when
//! the key drops; each call also wipes the copies of the key it makes. XChaCha20-Poly1305 (which
//! aws-lc-rs does not offer) stays on RustCrypto's `chacha20poly1305`. Both are checked
//! against Wycheproof (`tests/wycheproof.rs`) and against each other (`tests/properties.rs`).
//!
//! Nonce discipline:
//! * A link direction uses its own key and a [`NonceSequence`]: nonce = IV XOR counter
//!   (64-bit big-endian counter in the last 8 bytes, as TLS 1.3 §5.3). The sequence refuses
//!   to wrap; the caller rekeys long before ([`NonceSequence::remaining`]).
//! * Envelopes and keystores use a fresh random key or a random 192-bit nonce
//!   ([`seal_x_random`]), for which random collision is negligible.

use aws_lc_rs::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use rand_core::CryptoRng;
use zeroize::Zeroize;

use crate::{CryptoError, SymmetricKey};

/// Bytes of a ChaCha20-Poly1305 nonce.
pub const NONCE_LEN: usize = 12;
/// Bytes of an XChaCha20-Poly1305 nonce.
pub const XNONCE_LEN: usize = 24;
/// Bytes of a Poly1305 tag.
pub const TAG_LEN: usize = 16;

/// The AWS-LC ChaCha20-Poly1305 key for one call; wiped by AWS-LC when it drops.
fn chacha20_poly1305(key: &SymmetricKey) -> LessSafeKey {
    let key = UnboundKey::new(&CHACHA20_POLY1305, key.expose_secret())
        // ok: refused only for a key that is not 32 bytes (a `SymmetricKey` always is) or when
        // AWS-LC cannot allocate 600 bytes, where Rust's own allocator would abort as well
        .expect("AWS-LC takes a 32-byte ChaCha20-Poly1305 key");
    LessSafeKey::new(key)
}

/// Encrypts `plaintext` with ChaCha20-Poly1305; returns `ciphertext || tag`.
pub fn seal(key: &SymmetricKey, nonce: &[u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(plaintext.len() + TAG_LEN);
    out.extend_from_slice(plaintext);
    seal_in_place(key, nonce, aad, &mut out);
    out
}

/// Encrypts `buffer` in place with ChaCha20-Poly1305 and appends the tag.
pub fn seal_in_place(
    key: &SymmetricKey,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buffer: &mut Vec<u8>,
) {
    let tag = chacha20_poly1305(key)
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(aad),
            buffer.as_mut_slice(),
        )
        // ok: refused only for plaintexts over 256 GiB, which no Liaison object approaches
        // (frames and payloads are bounded far below)
        .expect("ChaCha20-Poly1305 plaintexts are under 256 GiB");
    buffer.extend_from_slice(tag.as_ref());
}

/// Decrypts and authenticates `ciphertext || tag` with ChaCha20-Poly1305.
pub fn open(
    key: &SymmetricKey,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let body_len = ciphertext
        .len()
        .checked_sub(TAG_LEN)
        .ok_or(CryptoError::AeadFailure)?;
    let (body, tag) = ciphertext.split_at(body_len);
    let mut plaintext = vec![0; body_len];
    match chacha20_poly1305(key).open_separate_gather(
        Nonce::assume_unique_for_key(*nonce),
        Aad::from(aad),
        body,
        tag,
        &mut plaintext,
    ) {
        Ok(()) => Ok(plaintext),
        Err(_) => {
            // AWS-LC decrypts before it checks the tag: do not leave unauthenticated plaintext
            plaintext.zeroize();
            Err(CryptoError::AeadFailure)
        }
    }
}

/// Decrypts `buffer` (`ciphertext || tag`) in place; on success it holds the plaintext, on
/// failure it is wiped and empty (nothing unauthenticated is left in it).
pub fn open_in_place(
    key: &SymmetricKey,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buffer: &mut Vec<u8>,
) -> Result<(), CryptoError> {
    let opened = chacha20_poly1305(key)
        .open_in_place(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(aad),
            buffer.as_mut_slice(),
        )
        .map(|plaintext| plaintext.len());
    match opened {
        Ok(len) => {
            buffer.truncate(len);
            Ok(())
        }
        Err(_) => {
            buffer.zeroize();
            Err(CryptoError::AeadFailure)
        }
    }
}

/// Encrypts with XChaCha20-Poly1305 under a caller-chosen 24-byte nonce.
pub fn seal_x(
    key: &SymmetricKey,
    nonce: &[u8; XNONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.expose_secret().into());
    cipher
        .encrypt(
            nonce.into(),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        // ok: only fails for plaintexts over 256 GiB
        .unwrap_or_default()
}

/// Decrypts XChaCha20-Poly1305 `ciphertext || tag`.
pub fn open_x(
    key: &SymmetricKey,
    nonce: &[u8; XNONCE_LEN],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let cipher = XChaCha20Poly1305::new(key.expose_secret().into());
    cipher
        .decrypt(
            nonce.into(),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map_err(|_| CryptoError::AeadFailure)
}

/// Encrypts with XChaCha20-Poly1305 under a random nonce; returns `nonce || ciphertext || tag`.
pub fn seal_x_random(
    key: &SymmetricKey,
    aad: &[u8],
    plaintext: &[u8],
    rng: &mut (impl CryptoRng + ?Sized),
) -> Vec<u8> {
    let mut nonce = [0u8; XNONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let mut out = nonce.to_vec();
    out.extend_from_slice(&seal_x(key, &nonce, aad, plaintext));
    out
}

/// Opens the output of [`seal_x_random`].
pub fn open_x_random(
    key: &SymmetricKey,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < XNONCE_LEN + TAG_LEN {
        return Err(CryptoError::AeadFailure);
    }
    let (nonce, ciphertext) = sealed.split_at(XNONCE_LEN);
    let nonce: [u8; XNONCE_LEN] = core::array::from_fn(|i| nonce[i]);
    open_x(key, &nonce, aad, ciphertext)
}

/// Counter nonces for one direction of a record stream: `IV XOR be64(counter)`.
#[derive(Debug)]
pub struct NonceSequence {
    iv: [u8; NONCE_LEN],
    next: u64,
    limit: u64,
}

impl NonceSequence {
    /// The hard limit: the counter never reaches `u64::MAX`, so a nonce can never repeat.
    pub const MAX_RECORDS: u64 = u64::MAX - 1;

    /// Starts a sequence at counter 0 from a derived IV.
    pub fn new(iv: [u8; NONCE_LEN]) -> Self {
        Self::with_limit(iv, Self::MAX_RECORDS)
    }

    /// Starts a sequence that refuses after `limit` nonces (a rekey threshold).
    pub fn with_limit(iv: [u8; NONCE_LEN], limit: u64) -> Self {
        Self {
            iv,
            next: 0,
            limit: limit.min(Self::MAX_RECORDS),
        }
    }

    /// The next nonce, or [`CryptoError::NonceExhausted`] once the limit is reached.
    pub fn next_nonce(&mut self) -> Result<[u8; NONCE_LEN], CryptoError> {
        if self.next >= self.limit {
            return Err(CryptoError::NonceExhausted);
        }
        let nonce = self.nonce_for(self.next);
        self.next += 1;
        Ok(nonce)
    }

    /// The nonce for an explicit counter (the receiving side tracks the counter itself).
    pub fn nonce_for(&self, counter: u64) -> [u8; NONCE_LEN] {
        let mut nonce = self.iv;
        for (n, c) in nonce[NONCE_LEN - 8..].iter_mut().zip(counter.to_be_bytes()) {
            *n ^= c;
        }
        nonce
    }

    /// Counter value the next [`Self::next_nonce`] will use.
    pub fn position(&self) -> u64 {
        self.next
    }

    /// How many nonces are left before the limit.
    pub fn remaining(&self) -> u64 {
        self.limit - self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::os_rng;

    #[test]
    fn round_trips_and_rejects_wrong_aad() {
        let key = SymmetricKey::from_bytes([7; 32]);
        let nonce = [1; NONCE_LEN];
        let ct = seal(&key, &nonce, b"aad", b"report");
        assert_eq!(open(&key, &nonce, b"aad", &ct).unwrap(), b"report");
        assert_eq!(
            open(&key, &nonce, b"other", &ct),
            Err(CryptoError::AeadFailure)
        );
        let mut buf = b"report".to_vec();
        seal_in_place(&key, &nonce, b"aad", &mut buf);
        assert_eq!(buf, ct);
        open_in_place(&key, &nonce, b"aad", &mut buf).unwrap();
        assert_eq!(buf, b"report");
    }

    #[test]
    fn random_nonce_variant_round_trips() {
        let key = SymmetricKey::from_bytes([9; 32]);
        let sealed = seal_x_random(&key, b"h", b"payload", &mut os_rng());
        assert_eq!(open_x_random(&key, b"h", &sealed).unwrap(), b"payload");
        assert_eq!(
            open_x_random(&key, b"h", &sealed[..20]),
            Err(CryptoError::AeadFailure)
        );
    }

    #[test]
    fn nonce_sequence_never_repeats_and_stops_at_limit() {
        let mut seq = NonceSequence::with_limit([0xAA; NONCE_LEN], 3);
        let a = seq.next_nonce().unwrap();
        let b = seq.next_nonce().unwrap();
        let c = seq.next_nonce().unwrap();
        assert!(a != b && b != c && a != c);
        assert_eq!(seq.next_nonce(), Err(CryptoError::NonceExhausted));
        assert_eq!(seq.nonce_for(1), b);
    }
}
