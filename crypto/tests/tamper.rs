//! Tampering with any byte of any ciphertext, tag, signature or public key is rejected, in
//! both suites — exhaustively over every byte position, not a sample.

use liaison_crypto::kem::{KemCiphertext, KemPublicKey, KemSecretKey};
use liaison_crypto::rng::os_rng;
use liaison_crypto::sign::{Signature, SigningKey, VerifyingKey};
use liaison_crypto::{CryptoError, Suite, SymmetricKey, aead};

#[test]
fn every_kem_ciphertext_byte_is_bound_to_the_secret() {
    let mut rng = os_rng();
    for suite in Suite::ALL {
        let sk = KemSecretKey::generate(suite, &mut rng);
        let (ct, ss) = sk.public_key().encapsulate(&mut rng).unwrap();
        for i in 0..ct.as_bytes().len() {
            let mut bytes = ct.as_bytes().to_vec();
            bytes[i] ^= 0x01;
            let tampered = KemCiphertext::from_bytes(suite, &bytes).unwrap();
            // ML-KEM rejects implicitly (a pseudorandom secret); X25519 yields another point.
            match sk.decapsulate(&tampered) {
                Ok(other) => assert_ne!(other, ss, "{suite}: byte {i} not bound"),
                Err(e) => assert_eq!(e, CryptoError::NonContributory),
            }
        }
    }
}

#[test]
fn every_kem_public_key_byte_is_bound_to_the_secret() {
    let mut rng = os_rng();
    for suite in Suite::ALL {
        let sk = KemSecretKey::generate(suite, &mut rng);
        for i in 0..suite.kem_public_key_len() {
            let mut bytes = sk.public_key().as_bytes().to_vec();
            bytes[i] ^= 0x80;
            // Either the key is refused, or what it encapsulates is useless to the real holder.
            let Ok(pk) = KemPublicKey::from_bytes(suite, &bytes) else {
                continue;
            };
            let Ok((ct, ss)) = pk.encapsulate(&mut rng) else {
                continue;
            };
            assert_ne!(
                sk.decapsulate(&ct).ok(),
                Some(ss),
                "{suite}: pk byte {i} not bound"
            );
        }
    }
}

#[test]
fn every_signature_byte_is_checked() {
    let mut rng = os_rng();
    for suite in Suite::ALL {
        let sk = SigningKey::generate(suite, &mut rng);
        let vk = sk.verifying_key();
        let sig = sk.sign(b"tamper", b"incident report", &mut rng).unwrap();
        vk.verify(b"tamper", b"incident report", &sig).unwrap();
        for i in 0..sig.as_bytes().len() {
            let mut bytes = sig.as_bytes().to_vec();
            bytes[i] ^= 0x01;
            let tampered = Signature::from_bytes(suite, &bytes).unwrap();
            assert_eq!(
                vk.verify(b"tamper", b"incident report", &tampered),
                Err(CryptoError::BadSignature),
                "{suite}: signature byte {i}"
            );
        }
    }
}

#[test]
fn every_verifying_key_byte_is_checked() {
    let mut rng = os_rng();
    for suite in Suite::ALL {
        let sk = SigningKey::generate(suite, &mut rng);
        let sig = sk.sign(b"tamper", b"m", &mut rng).unwrap();
        for i in 0..suite.signature_public_key_len() {
            let mut bytes = sk.verifying_key().as_bytes().to_vec();
            bytes[i] ^= 0x01;
            if let Ok(vk) = VerifyingKey::from_bytes(suite, &bytes) {
                assert!(
                    vk.verify(b"tamper", b"m", &sig).is_err(),
                    "{suite}: key byte {i}"
                );
            }
        }
    }
}

#[test]
fn every_aead_bit_and_every_aad_byte_is_checked() {
    let key = SymmetricKey::from_bytes([0x42; 32]);
    let nonce = [7u8; aead::NONCE_LEN];
    let xnonce = [9u8; aead::XNONCE_LEN];
    let sealed = aead::seal(&key, &nonce, b"header", &[0x55; 64]);
    let xsealed = aead::seal_x(&key, &xnonce, b"header", &[0x55; 64]);
    for bit in 0..sealed.len() * 8 {
        let mut c = sealed.clone();
        c[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(
            aead::open(&key, &nonce, b"header", &c),
            Err(CryptoError::AeadFailure)
        );
        let mut x = xsealed.clone();
        x[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(
            aead::open_x(&key, &xnonce, b"header", &x),
            Err(CryptoError::AeadFailure)
        );
    }
    for i in 0..6 {
        let mut aad = b"header".to_vec();
        aad[i] ^= 1;
        assert_eq!(
            aead::open(&key, &nonce, &aad, &sealed),
            Err(CryptoError::AeadFailure)
        );
    }
    let mut other = nonce;
    other[0] ^= 1;
    assert_eq!(
        aead::open(&key, &other, b"header", &sealed),
        Err(CryptoError::AeadFailure)
    );
    assert_eq!(
        aead::open(&key, &nonce, b"header", &sealed[..sealed.len() - 1]),
        Err(CryptoError::AeadFailure)
    );
}
