//! Property tests (proptest): round trips hold for arbitrary inputs, and distinct inputs give
//! distinct outputs where the construction promises it.

use liaison_crypto::kem::KemSharedSecret;
use liaison_crypto::kem::{EncapsulationSeed, KemSecretKey};
use liaison_crypto::rng::os_rng;
use liaison_crypto::sign::SigningKey;
use liaison_crypto::{Seed32, Suite, SymmetricKey, aead, kdf};
use proptest::prelude::*;

fn suite() -> impl Strategy<Value = Suite> {
    prop_oneof![Just(Suite::Lq1), Just(Suite::Lq2)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn kem_round_trips_for_any_seed(suite in suite(), seed in any::<[u8; 32]>(), eseed in proptest::collection::vec(any::<u8>(), 64)) {
        let sk = KemSecretKey::from_seed(suite, Seed32::from_bytes(seed));
        let eseed = EncapsulationSeed::try_from_slice(&eseed).unwrap();
        // A random eseed can hit a low-order X25519 scalar only with negligible probability.
        let (ct, ss) = sk.public_key().encapsulate_derand(&eseed).unwrap();
        prop_assert_eq!(sk.decapsulate(&ct).unwrap(), ss);
    }

    #[test]
    fn signatures_round_trip_for_any_message(
        suite in suite(),
        seed in any::<[u8; 32]>(),
        context in proptest::collection::vec(any::<u8>(), 0..=255),
        message in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let sk = SigningKey::from_seed(suite, Seed32::from_bytes(seed));
        let sig = sk.sign(&context, &message, &mut os_rng()).unwrap();
        prop_assert!(sk.verifying_key().verify(&context, &message, &sig).is_ok());
        let mut other = message.clone();
        other.push(0);
        prop_assert!(sk.verifying_key().verify(&context, &other, &sig).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The ChaCha20-Poly1305 back-end (AWS-LC) against RustCrypto's, byte for byte, and a
    /// flipped bit refused by both, with nothing left in the buffer opened in place.
    #[test]
    fn aead_back_ends_agree(key in any::<[u8; 32]>(), nonce in any::<[u8; 12]>(), aad in proptest::collection::vec(any::<u8>(), 0..64), pt in proptest::collection::vec(any::<u8>(), 0..4096), flip in any::<prop::sample::Index>()) {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let reference = chacha20poly1305::ChaCha20Poly1305::new(&key.into());
        let expected = reference.encrypt(&nonce.into(), Payload { msg: &pt, aad: &aad }).unwrap();
        let key = SymmetricKey::from_bytes(key);
        let ct = aead::seal(&key, &nonce, &aad, &pt);
        prop_assert_eq!(&ct, &expected);
        let mut buf = pt.clone();
        aead::seal_in_place(&key, &nonce, &aad, &mut buf);
        prop_assert_eq!(&buf, &expected);
        aead::open_in_place(&key, &nonce, &aad, &mut buf).unwrap();
        prop_assert_eq!(&buf, &pt);

        let mut tampered = ct.clone();
        let i = flip.index(tampered.len());
        tampered[i] ^= 1;
        let refused = reference.decrypt(&nonce.into(), Payload { msg: &tampered, aad: &aad });
        prop_assert!(refused.is_err());
        prop_assert!(aead::open(&key, &nonce, &aad, &tampered).is_err());
        prop_assert!(aead::open_in_place(&key, &nonce, &aad, &mut tampered).is_err());
        prop_assert!(tampered.is_empty());
    }

    #[test]
    fn aead_round_trips(key in any::<[u8; 32]>(), nonce in any::<[u8; 12]>(), aad in proptest::collection::vec(any::<u8>(), 0..64), pt in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let key = SymmetricKey::from_bytes(key);
        let ct = aead::seal(&key, &nonce, &aad, &pt);
        prop_assert_eq!(ct.len(), pt.len() + aead::TAG_LEN);
        prop_assert_eq!(aead::open(&key, &nonce, &aad, &ct).unwrap(), pt.clone());
        let sealed = aead::seal_x_random(&key, &aad, &pt, &mut os_rng());
        prop_assert_eq!(aead::open_x_random(&key, &aad, &sealed).unwrap(), pt);
    }

    #[test]
    fn combiner_output_changes_with_the_supplied_key(ss in any::<[u8; 32]>(), a in proptest::collection::vec(any::<u8>(), 0..64), b in proptest::collection::vec(any::<u8>(), 0..64)) {
        prop_assume!(a != b);
        let ss = KemSharedSecret::from_bytes(ss);
        prop_assert_ne!(kdf::combine(&[&ss], Some(&a)), kdf::combine(&[&ss], Some(&b)));
    }

    #[test]
    fn kdf_info_is_injective(label in proptest::collection::vec(any::<u8>(), 0..16), parts_a in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..8), 0..4), parts_b in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..8), 0..4)) {
        prop_assume!(parts_a != parts_b);
        let a: Vec<&[u8]> = parts_a.iter().map(Vec::as_slice).collect();
        let b: Vec<&[u8]> = parts_b.iter().map(Vec::as_slice).collect();
        prop_assert_ne!(kdf::info(&label, &a), kdf::info(&label, &b));
    }
}
