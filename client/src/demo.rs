//! `liaison demo`: a self-contained demonstration of Liaison's hybrid cryptography, for a
//! newcomer's first command. It exercises the same `liaison-crypto` API the protocol uses and
//! prints what happened, with sizes and timings, for both suites.

use std::fmt::Write as _;
use std::time::Instant;

use liaison_crypto::kem::KemSecretKey;
use liaison_crypto::rng::os_rng;
use liaison_crypto::sign::SigningKey;
use liaison_crypto::{CryptoError, IdentityId, Suite, SymmetricKey, aead, kdf};

/// What one suite's demonstration measured.
#[derive(Debug)]
pub struct SuiteReport {
    /// Suite demonstrated.
    pub suite: Suite,
    /// Fingerprint of the demo officer's identity.
    pub fingerprint: String,
    /// Bytes of the hybrid KEM public key and ciphertext.
    pub kem_sizes: (usize, usize),
    /// Bytes of the composite public key and signature.
    pub signature_sizes: (usize, usize),
    /// Whether the decapsulated secret matched on both sides.
    pub kem_agreed: bool,
    /// Whether a QKD-style supplied key changed the session key (it must).
    pub supplied_key_mixed: bool,
    /// Whether the report decrypted and its signature verified.
    pub report_verified: bool,
    /// Whether a one-byte tamper of the signed report was refused.
    pub tamper_refused: bool,
    /// Microseconds for keygen + encapsulate + decapsulate + sign + verify.
    pub elapsed_micros: u128,
}

/// Runs the demonstration for `suite`.
pub fn run_suite(suite: Suite) -> Result<SuiteReport, CryptoError> {
    let mut rng = os_rng();
    let started = Instant::now();

    // An officer's identity: a composite Ed25519 + ML-DSA key; its id is a hash, shown as a fingerprint.
    let officer = SigningKey::generate(suite, &mut rng);
    let fingerprint = IdentityId::of(officer.verifying_key()).fingerprint();

    // A recipient's prekey: hybrid X25519 + ML-KEM. The sender encapsulates a fresh secret to it.
    let recipient = KemSecretKey::generate(suite, &mut rng);
    let (ciphertext, sender_secret) = recipient.public_key().encapsulate(&mut rng)?;
    let recipient_secret = recipient.decapsulate(&ciphertext)?;
    let kem_agreed = sender_secret == recipient_secret;

    // Mix in a supplied key (from QKD or a pre-shared key file): secure if any one input is.
    let supplied = [0x5a_u8; 32];
    let with_qkd = kdf::combine(&[&sender_secret], Some(&supplied)).derive_key(b"demo", &[]);
    let without = kdf::combine(&[&sender_secret], None).derive_key(b"demo", &[]);
    let supplied_key_mixed = with_qkd != without;

    // Seal a report under the derived key, sign it, then open and verify on the other side.
    let report = br#"{"type":"bundle","id":"bundle--demo","objects":[]}"#;
    let header = format!("{suite} RESTREINT UE TLP:AMBER");
    let nonce = [0u8; aead::NONCE_LEN]; // fresh key per message, so a fixed nonce is safe
    let sealed = aead::seal(&with_qkd, &nonce, header.as_bytes(), report);
    let signature = officer.sign(b"liaison demo report", &sealed, &mut rng)?;

    let receiver_key: SymmetricKey =
        kdf::combine(&[&recipient_secret], Some(&supplied)).derive_key(b"demo", &[]);
    let verified = officer
        .verifying_key()
        .verify(b"liaison demo report", &sealed, &signature);
    let opened = aead::open(&receiver_key, &nonce, header.as_bytes(), &sealed);
    let report_verified = verified.is_ok() && opened.as_deref() == Ok(&report[..]);

    let mut tampered = sealed.clone();
    tampered[0] ^= 1;
    let tamper_refused = officer
        .verifying_key()
        .verify(b"liaison demo report", &tampered, &signature)
        .is_err()
        && aead::open(&receiver_key, &nonce, header.as_bytes(), &tampered).is_err();

    Ok(SuiteReport {
        suite,
        fingerprint,
        kem_sizes: (suite.kem_public_key_len(), ciphertext.as_bytes().len()),
        signature_sizes: (suite.signature_public_key_len(), signature.as_bytes().len()),
        kem_agreed,
        supplied_key_mixed,
        report_verified,
        tamper_refused,
        elapsed_micros: started.elapsed().as_micros(),
    })
}

impl SuiteReport {
    /// True when every check of the demonstration passed.
    pub fn all_ok(&self) -> bool {
        self.kem_agreed && self.supplied_key_mixed && self.report_verified && self.tamper_refused
    }

    /// Human-readable lines.
    pub fn render(&self) -> String {
        let ok = |b: bool| if b { "ok" } else { "FAILED" };
        let mut s = String::new();
        let _ = writeln!(
            s,
            "suite {} (NIST category {})",
            self.suite,
            self.suite.nist_category()
        );
        let _ = writeln!(s, "  officer fingerprint     {}", self.fingerprint);
        let _ = writeln!(
            s,
            "  hybrid KEM              public key {} B, ciphertext {} B, secrets agree: {}",
            self.kem_sizes.0,
            self.kem_sizes.1,
            ok(self.kem_agreed)
        );
        let _ = writeln!(
            s,
            "  composite signature     public key {} B, signature {} B",
            self.signature_sizes.0, self.signature_sizes.1
        );
        let _ = writeln!(
            s,
            "  supplied key mixed in   {}",
            ok(self.supplied_key_mixed)
        );
        let _ = writeln!(s, "  report opened+verified  {}", ok(self.report_verified));
        let _ = writeln!(s, "  tampered report refused {}", ok(self.tamper_refused));
        let _ = writeln!(
            s,
            "  time                    {:.1} ms",
            self.elapsed_micros as f64 / 1000.0
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_passes_every_check_in_both_suites() {
        for suite in Suite::ALL {
            let report = run_suite(suite).unwrap();
            assert!(report.all_ok(), "{}", report.render());
        }
    }
}
