//! # liaison-crypto
//!
//! The only Liaison crate that touches cryptographic primitives. Everything above it
//! (`liaison-proto`, the node, the client) works with these types and never with a primitive
//! crate directly, so an algorithm change or an audit has one place to look.
//!
//! * [`Suite`]: `LQ2` (default, NIST category 5) and `LQ1` (X-Wing interoperability profile).
//! * [`kem`]: hybrid KEM, X25519 + ML-KEM with the X-Wing combiner.
//! * [`sign`]: composite signatures, Ed25519 + ML-DSA, both must verify.
//! * [`aead`]: ChaCha20-Poly1305 / XChaCha20-Poly1305 with explicit nonce discipline.
//! * [`kdf`]: HKDF-SHA-384 with labelled inputs, transcripts, and the key combiner that mixes a
//!   supplied QKD or pre-shared key so the result is secure if any one input is.
//! * [`IdentityId`]: public key → id → fingerprint.
//! * Secrets ([`Seed32`], [`SymmetricKey`], [`SecretBytes`], …) zeroize on drop, print as
//!   `<SECRET>` and compare in constant time.
//!
//! Randomness is always injected (`&mut impl CryptoRng`); use [`rng::os_rng`] in production.
//!
//! ```
//! use liaison_crypto::{kem::KemSecretKey, rng::os_rng, sign::SigningKey, Suite};
//!
//! let mut rng = os_rng();
//! let recipient = KemSecretKey::generate(Suite::Lq2, &mut rng);
//! let (ciphertext, sender_secret) = recipient.public_key().encapsulate(&mut rng)?;
//! assert_eq!(recipient.decapsulate(&ciphertext)?, sender_secret);
//!
//! let officer = SigningKey::generate(Suite::Lq2, &mut rng);
//! let signature = officer.sign(b"example", b"report", &mut rng)?;
//! officer.verifying_key().verify(b"example", b"report", &signature)?;
//! # Ok::<(), liaison_crypto::CryptoError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod aead;
mod error;
mod expanded;
mod identity;
pub mod kdf;
pub mod kem;
pub mod labels;
pub mod rng;
mod secret;
pub mod sign;
mod suite;

pub use error::CryptoError;
pub use identity::{FINGERPRINT_BYTES, IDENTITY_ID_LEN, IdentityId};
pub use secret::{SecretBytes, Seed32, SymmetricKey};
pub use suite::*;
