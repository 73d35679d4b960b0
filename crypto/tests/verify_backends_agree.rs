//! Composite verification runs its ML-DSA half on PQClean (`pqcrypto-mldsa`) while signing stays
//! on RustCrypto `ml-dsa` (see `crypto/src/sign.rs`). These tests hold the switch to "no
//! verdict changes": for every signature they build, [`VerifyingKey::verify`] must say exactly
//! what the previous, RustCrypto-only verifier says (Ed25519 `verify_strict` and
//! `ml_dsa::VerifyingKey::verify_with_context` over the same `M'`, empty ML-DSA context).
//!
//! The cases are the ones where two FIPS 204 implementations could disagree: a valid
//! signature, one flipped byte in each region of the ML-DSA half (`c~`, `z`, the hint
//! encoding with its index bytes, zero padding and per-row counts), and a signature whose
//! Ed25519 half is valid for another context or message while the ML-DSA half is not, so the
//! ML-DSA verdict alone decides. Each case also checks the reference's verdict against the
//! expected one, so the comparison cannot pass with both sides wrong in the same way.

use std::ops::Range;

use liaison_crypto::sign::{Signature, SigningKey, VerifyingKey, composite_message};
use liaison_crypto::{ED25519_PK_LEN, ED25519_SIG_LEN, Seed32, Suite};
use ml_dsa::{EncodedSignature, EncodedVerifyingKey, MlDsa65, MlDsa87, MlDsaParams};
use proptest::prelude::*;
use proptest::sample::Index;

/// The regions of a composite signature's ML-DSA half, FIPS 204 `sigEncode`:
/// `c~` (λ/4 bytes), `z` (ℓ polynomials of 32·(1 + bitlen(γ1 − 1)) bytes), `h` (ω + k bytes),
/// as ranges of the whole composite signature.
fn ml_dsa_regions(suite: Suite) -> [(&'static str, Range<usize>); 3] {
    let (c_tilde, z, hints) = match suite {
        // ML-DSA-65: λ = 192, ℓ = 5, γ1 = 2^19 (20-bit z), ω = 55, k = 6.
        Suite::Lq1 => (48, 5 * 640, 55 + 6),
        // ML-DSA-87: λ = 256, ℓ = 7, γ1 = 2^19 (20-bit z), ω = 75, k = 8.
        Suite::Lq2 => (64, 7 * 640, 75 + 8),
    };
    let start = ED25519_SIG_LEN;
    assert_eq!(start + c_tilde + z + hints, suite.signature_len());
    [
        ("c~", start..start + c_tilde),
        ("z", start + c_tilde..start + c_tilde + z),
        ("hints", start + c_tilde + z..suite.signature_len()),
    ]
}

fn rustcrypto_ml_dsa<P: MlDsaParams>(public: &[u8], m: &[u8], sig: &[u8]) -> bool {
    let Ok(public) = EncodedVerifyingKey::<P>::try_from(public) else {
        return false;
    };
    let vk = ml_dsa::VerifyingKey::<P>::decode(&public);
    EncodedSignature::<P>::try_from(sig)
        .ok()
        .and_then(|enc| ml_dsa::Signature::<P>::decode(&enc))
        .is_some_and(|sig| vk.verify_with_context(m, b"", &sig))
}

/// The verdict of the RustCrypto-only composite verifier this crate used before PQClean.
fn reference_verdict(
    suite: Suite,
    public: &[u8],
    context: &[u8],
    message: &[u8],
    signature: &[u8],
) -> bool {
    let m = composite_message(suite, context, message).expect("short context");
    let (pk_e, pk_d) = public.split_at(ED25519_PK_LEN);
    let (sig_e, sig_d) = signature.split_at(ED25519_SIG_LEN);
    let pk_e = ed25519_dalek::VerifyingKey::from_bytes(&pk_e.try_into().expect("32 bytes"))
        .expect("valid Ed25519 key");
    let sig_e = ed25519_dalek::Signature::from_bytes(&sig_e.try_into().expect("64 bytes"));
    let ed_ok = pk_e.verify_strict(&m, &sig_e).is_ok();
    let ml_ok = match suite {
        Suite::Lq1 => rustcrypto_ml_dsa::<MlDsa65>(pk_d, &m, sig_d),
        Suite::Lq2 => rustcrypto_ml_dsa::<MlDsa87>(pk_d, &m, sig_d),
    };
    ed_ok && ml_ok
}

/// Checks that the PQClean-backed verifier and the reference agree on `signature`, and that the
/// reference says `expected`. `what` names the case in a failure.
fn assert_same_verdict(
    vk: &VerifyingKey,
    context: &[u8],
    message: &[u8],
    signature: &[u8],
    expected: bool,
    what: &str,
) -> Result<(), TestCaseError> {
    let suite = vk.suite();
    let reference = reference_verdict(suite, vk.as_bytes(), context, message, signature);
    prop_assert_eq!(reference, expected, "{} {}: reference verdict", suite, what);
    let parsed = Signature::from_bytes(suite, signature).expect("composite length");
    let ours = vk.verify(context, message, &parsed).is_ok();
    prop_assert_eq!(ours, reference, "{} {}: PQClean verdict", suite, what);
    // The same through a key parsed from the wire, as a relay holds it.
    let reparsed = VerifyingKey::from_bytes(suite, vk.as_bytes()).expect("valid key");
    prop_assert_eq!(
        reparsed.verify(context, message, &parsed).is_ok(),
        reference
    );
    Ok(())
}

/// The Ed25519 half of one signature with the ML-DSA half of another.
fn splice(ed_from: &Signature, ml_from: &Signature) -> Vec<u8> {
    let mut out = ed_from.as_bytes()[..ED25519_SIG_LEN].to_vec();
    out.extend_from_slice(&ml_from.as_bytes()[ED25519_SIG_LEN..]);
    out
}

fn suite() -> impl Strategy<Value = Suite> {
    prop_oneof![Just(Suite::Lq1), Just(Suite::Lq2)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn pqclean_and_rustcrypto_verifiers_agree(
        suite in suite(),
        seed in any::<[u8; 32]>(),
        context in proptest::collection::vec(any::<u8>(), 0..255),
        message in proptest::collection::vec(any::<u8>(), 0..2048),
        flips in proptest::collection::vec((any::<Index>(), 1u8..=255), 3),
    ) {
        let mut rng = liaison_crypto::rng::os_rng();
        let key = SigningKey::from_seed(suite, Seed32::from_bytes(seed));
        let vk = key.verifying_key();
        let sig = key.sign(&context, &message, &mut rng).expect("sign");
        assert_same_verdict(vk, &context, &message, sig.as_bytes(), true, "valid")?;

        for ((name, region), (at, mask)) in ml_dsa_regions(suite).into_iter().zip(&flips) {
            let mut flipped = sig.as_bytes().to_vec();
            flipped[region.start + at.index(region.len())] ^= mask;
            assert_same_verdict(vk, &context, &message, &flipped, false, &format!("flip in {name}"))?;
        }

        // Wrong context / wrong message, with an Ed25519 half that is valid for them: only the
        // ML-DSA half (signed over the original M') can refuse.
        let mut other_context = context.clone();
        other_context.push(0x01);
        let for_other_context = key.sign(&other_context, &message, &mut rng).expect("sign");
        let spliced = splice(&for_other_context, &sig);
        assert_same_verdict(vk, &other_context, &message, &spliced, false, "wrong context")?;
        assert_same_verdict(vk, &other_context, &message, for_other_context.as_bytes(), true, "other context")?;

        let mut other_message = message.clone();
        other_message.push(0x01);
        let for_other_message = key.sign(&context, &other_message, &mut rng).expect("sign");
        let spliced = splice(&for_other_message, &sig);
        assert_same_verdict(vk, &context, &other_message, &spliced, false, "wrong message")?;
        // And the original pair under the wrong context/message: both halves refuse.
        assert_same_verdict(vk, &other_context, &message, sig.as_bytes(), false, "wrong context, both halves")?;
        assert_same_verdict(vk, &context, &other_message, sig.as_bytes(), false, "wrong message, both halves")?;
    }
}

/// Every byte of `c~` and of the hint encoding, and every 16th byte of `z` (each with a random
/// non-zero mask), flipped one at a time in one signature per suite: hint encodings are where
/// FIPS 204 implementations have differed (index order, zero padding, counts above ω).
#[test]
fn every_single_byte_flip_in_the_ml_dsa_half_is_refused_by_both() {
    let mut rng = liaison_crypto::rng::os_rng();
    for suite in Suite::ALL {
        let key = SigningKey::generate(suite, &mut rng);
        let sig = key.sign(b"flip", b"every byte", &mut rng).expect("sign");
        let mut checked = 0;
        for (name, region) in ml_dsa_regions(suite) {
            let step = if name == "z" { 16 } else { 1 };
            for at in region.step_by(step) {
                let mut flipped = sig.as_bytes().to_vec();
                flipped[at] ^= (rng.next_u32() % 255 + 1) as u8;
                assert_same_verdict(
                    key.verifying_key(),
                    b"flip",
                    b"every byte",
                    &flipped,
                    false,
                    &format!("flip at {at} ({name})"),
                )
                .unwrap();
                checked += 1;
            }
        }
        println!("{suite}: {checked} single-byte flips refused by both verifiers");
    }
}

/// Hint padding must be zero (FIPS 204 Algorithm 21, `HintBitUnpack`): set the first unused
/// byte of the hint index area to 255 (the largest index, so it reads as one more increasing
/// index to a decoder that does not check padding) and check both verifiers refuse it.
#[test]
fn non_zero_hint_padding_is_refused_by_both() {
    let mut rng = liaison_crypto::rng::os_rng();
    for suite in Suite::ALL {
        let key = SigningKey::generate(suite, &mut rng);
        let [_, _, (_, hints)] = ml_dsa_regions(suite);
        let omega = hints.len() - if suite == Suite::Lq1 { 6 } else { 8 };
        // The last count byte is the total number of hints; a signature using all ω slots has
        // no padding (rare), so sign again until one has a free slot.
        let (sig, used) = (0..16)
            .map(|_| {
                let sig = key.sign(b"pad", b"hint padding", &mut rng).expect("sign");
                let used = usize::from(sig.as_bytes()[hints.end - 1]);
                (sig, used)
            })
            .find(|(_, used)| *used < omega)
            .expect("a signature with a free hint slot");
        let mut padded = sig.as_bytes().to_vec();
        padded[hints.start + used] = 0xff;
        assert_same_verdict(
            key.verifying_key(),
            b"pad",
            b"hint padding",
            &padded,
            false,
            "non-zero hint padding",
        )
        .unwrap();
    }
}
