//! ml-dsa-87
//!
//! These bindings use the clean version from [PQClean][pqc]
//!
//! # Example
//! ```
//! // if using pqcrypto-mldsa
//! use pqcrypto_mldsa::mldsa87::*;
//! // or if using the pqcrypto crate:
//! // use pqcrypto::sign::mldsa87::*;
//! let message = vec![0, 1, 2, 3, 4, 5];
//! let (pk, sk) = keypair();
//! let sm = sign(&message, &sk);
//! let verifiedmsg = open(&sm, &pk).unwrap();
//! assert!(verifiedmsg == message);
//! ```
//!
//! [pqc]: https://github.com/pqclean/pqclean/

// This file is generated.

#[cfg(feature = "serialization")]
use serde::{Deserialize, Serialize};
#[cfg(feature = "serialization")]
use serde_big_array::BigArray;

use crate::ffi;
use alloc::vec::Vec;
use pqcrypto_traits::sign as primitive;
use pqcrypto_traits::{Error, Result};

use paste::paste;

#[cfg(feature = "std")]
use std::fmt;

macro_rules! simple_struct {
    ($type: ident, $size: expr) => {
        #[derive(Clone, Copy)]
        #[cfg_attr(feature = "serialization", derive(Serialize, Deserialize))]
        pub struct $type(
            #[cfg_attr(feature = "serialization", serde(with = "BigArray"))] [u8; $size],
        );

        impl $type {
            /// Generates an uninitialized object
            ///
            /// Used to pass to ``ffi`` interfaces.
            ///
            /// Internal use only!
            fn new() -> Self {
                $type([0u8; $size])
            }
        }

        impl primitive::$type for $type {
            /// Get this object as a byte slice
            #[inline]
            fn as_bytes(&self) -> &[u8] {
                &self.0
            }

            /// Construct this object from a byte slice
            fn from_bytes(bytes: &[u8]) -> Result<Self> {
                if bytes.len() != $size {
                    Err(Error::BadLength {
                        name: stringify!($type),
                        actual: bytes.len(),
                        expected: $size,
                    })
                } else {
                    let mut array = [0u8; $size];
                    array.copy_from_slice(bytes);
                    Ok($type(array))
                }
            }
        }

        impl PartialEq for $type {
            /// By no means constant time comparison
            fn eq(&self, other: &Self) -> bool {
                self.0
                    .iter()
                    .zip(other.0.iter())
                    .try_for_each(|(a, b)| if a == b { Ok(()) } else { Err(()) })
                    .is_ok()
            }
        }

        #[cfg(feature = "std")]
        impl fmt::Debug for $type {
            /// Add a debug implementation that won't leak private values
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} ({} bytes)", stringify!($type), self.0.len())
            }
        }
    };
}

simple_struct!(PublicKey, ffi::PQCLEAN_MLDSA87_CLEAN_CRYPTO_PUBLICKEYBYTES);
simple_struct!(SecretKey, ffi::PQCLEAN_MLDSA87_CLEAN_CRYPTO_SECRETKEYBYTES);

#[derive(Clone, Copy)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct DetachedSignature(
    #[cfg_attr(feature = "serialization", serde(with = "BigArray"))]
    [u8; ffi::PQCLEAN_MLDSA87_CLEAN_CRYPTO_BYTES],
    usize,
);

// for internal use
impl DetachedSignature {
    fn new() -> Self {
        DetachedSignature([0u8; ffi::PQCLEAN_MLDSA87_CLEAN_CRYPTO_BYTES], 0)
    }
}

impl primitive::DetachedSignature for DetachedSignature {
    /// Get this object as a byte slice
    #[inline]
    fn as_bytes(&self) -> &[u8] {
        &self.0[..self.1]
    }

    #[inline]
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let actual = bytes.len();
        let expected = ffi::PQCLEAN_MLDSA87_CLEAN_CRYPTO_BYTES;
        if actual > expected {
            return Err(Error::BadLength {
                name: "DetachedSignature",
                actual,
                expected,
            });
        }
        let mut array = [0u8; ffi::PQCLEAN_MLDSA87_CLEAN_CRYPTO_BYTES];
        array[..bytes.len()].copy_from_slice(bytes);
        Ok(DetachedSignature(array, actual))
    }
}

#[derive(Clone)]
#[cfg_attr(feature = "serialization", derive(Serialize, Deserialize))]
pub struct SignedMessage(Vec<u8>);
impl primitive::SignedMessage for SignedMessage {
    /// Get this object as a byte slice
    #[inline]
    fn as_bytes(&self) -> &[u8] {
        self.0.as_slice()
    }

    /// Construct this object from a byte slice
    #[inline]
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Ok(SignedMessage(bytes.to_vec()))
    }
}

impl SignedMessage {
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// Get the number of bytes for a public key
pub const fn public_key_bytes() -> usize {
    ffi::PQCLEAN_MLDSA87_CLEAN_CRYPTO_PUBLICKEYBYTES
}

/// Get the number of bytes for a secret key
pub const fn secret_key_bytes() -> usize {
    ffi::PQCLEAN_MLDSA87_CLEAN_CRYPTO_SECRETKEYBYTES
}

/// Get the number of bytes that a signature occupies
pub const fn signature_bytes() -> usize {
    ffi::PQCLEAN_MLDSA87_CLEAN_CRYPTO_BYTES
}

macro_rules! gen_keypair {
    ($variant:ident) => {{
        let mut pk = PublicKey::new();
        let mut sk = SecretKey::new();
        assert_eq!(
            unsafe { ffi::$variant(pk.0.as_mut_ptr(), sk.0.as_mut_ptr()) },
            0
        );
        (pk, sk)
    }};
}

/// Generate a ml-dsa-87 keypair
pub fn keypair() -> (PublicKey, SecretKey) {
    #[cfg(all(enable_x86_avx2, feature = "avx2"))]
    {
        if std::is_x86_feature_detected!("avx2") {
            return gen_keypair!(PQCLEAN_MLDSA87_AVX2_crypto_sign_keypair);
        }
    }
    #[cfg(all(enable_aarch64_neon, feature = "neon"))]
    {
        // always use AArch64 code, when target is detected as all AArch64 targets have NEON
        // support, and std::is_aarch64_feature_detected!("neon") works only with Rust nightly at
        // the moment
        if true {
            return gen_keypair!(PQCLEAN_MLDSA87_AARCH64_crypto_sign_keypair);
        }
    }
    gen_keypair!(PQCLEAN_MLDSA87_CLEAN_crypto_sign_keypair)
}

macro_rules! gen_signature {
    ($variant:ident, $msg:ident, $sk:ident) => {{
        let max_len = $msg.len() + signature_bytes();
        let mut signed_msg = Vec::with_capacity(max_len);
        let mut smlen: usize = 0;
        unsafe {
            paste! {
                ffi::[<$variant _ctx>](
                signed_msg.as_mut_ptr(),
                &mut smlen as *mut usize,
                $msg.as_ptr(),
                $msg.len(),
                core::ptr::null(), 0,
                $sk.0.as_ptr(),
            );
            }
            debug_assert!(smlen <= max_len, "exceeded vector capacity");
            signed_msg.set_len(smlen);
        }
        SignedMessage(signed_msg)
    }};
}

macro_rules! gen_signature_ctx {
    ($variant:ident, $msg:ident, $ctx:ident, $sk:ident) => {{
        let max_len = $msg.len() + signature_bytes();
        let mut signed_msg = Vec::with_capacity(max_len);
        let mut smlen: usize = 0;
        unsafe {
            ffi::$variant(
                signed_msg.as_mut_ptr(),
                &mut smlen as *mut usize,
                $msg.as_ptr(),
                $msg.len(),
                $ctx.as_ptr(),
                $ctx.len(),
                $sk.0.as_ptr(),
            );
            debug_assert!(smlen <= max_len, "exceeded vector capacity");
            signed_msg.set_len(smlen);
        }
        SignedMessage(signed_msg)
    }};
}

/// Sign the message and return the signed message.
pub fn sign(msg: &[u8], sk: &SecretKey) -> SignedMessage {
    #[cfg(all(enable_x86_avx2, feature = "avx2"))]
    {
        if std::is_x86_feature_detected!("avx2") {
            return gen_signature!(PQCLEAN_MLDSA87_AVX2_crypto_sign, msg, sk);
        }
    }
    #[cfg(all(enable_aarch64_neon, feature = "neon"))]
    {
        if true {
            return gen_signature!(PQCLEAN_MLDSA87_AARCH64_crypto_sign, msg, sk);
        }
    }
    gen_signature!(PQCLEAN_MLDSA87_CLEAN_crypto_sign, msg, sk)
}

/// Sign the message for the provided context and return the signed message.
pub fn sign_ctx(msg: &[u8], ctx: &[u8], sk: &SecretKey) -> SignedMessage {
    #[cfg(all(enable_x86_avx2, feature = "avx2"))]
    {
        if std::is_x86_feature_detected!("avx2") {
            return gen_signature_ctx!(PQCLEAN_MLDSA87_AVX2_crypto_sign_ctx, msg, ctx, sk);
        }
    }
    #[cfg(all(enable_aarch64_neon, feature = "neon"))]
    {
        if true {
            return gen_signature_ctx!(PQCLEAN_MLDSA87_AARCH64_crypto_sign_ctx, msg, ctx, sk);
        }
    }
    gen_signature_ctx!(PQCLEAN_MLDSA87_CLEAN_crypto_sign_ctx, msg, ctx, sk)
}

macro_rules! open_signed {
    ($variant:ident, $sm:ident, $pk:ident) => {{
        let mut m: Vec<u8> = Vec::with_capacity($sm.len());
        let mut mlen: usize = 0;
        match unsafe {
            paste! { ffi:: [<$variant _ctx>] (
                m.as_mut_ptr(),
                &mut mlen as *mut usize,
                $sm.0.as_ptr(),
                $sm.len(),
                core::ptr::null() as *const u8, 0,
                $pk.0.as_ptr(),
            )}
        } {
            0 => {
                unsafe { m.set_len(mlen) };
                Ok(m)
            }
            -1 => Err(primitive::VerificationError::InvalidSignature),
            _ => Err(primitive::VerificationError::UnknownVerificationError),
        }
    }};
}

macro_rules! open_signed_ctx {
    ($variant:ident, $sm:ident, $ctx: ident, $pk:ident) => {{
        let mut m: Vec<u8> = Vec::with_capacity($sm.len());
        let mut mlen: usize = 0;
        match unsafe {
            ffi::$variant(
                m.as_mut_ptr(),
                &mut mlen as *mut usize,
                $sm.0.as_ptr(),
                $sm.len(),
                $ctx.as_ptr(),
                $ctx.len(),
                $pk.0.as_ptr(),
            )
        } {
            0 => {
                unsafe { m.set_len(mlen) };
                Ok(m)
            }
            -1 => Err(primitive::VerificationError::InvalidSignature),
            _ => Err(primitive::VerificationError::UnknownVerificationError),
        }
    }};
}

/// Open the signed message and if verification succeeds return the message
pub fn open(
    sm: &SignedMessage,
    pk: &PublicKey,
) -> core::result::Result<Vec<u8>, primitive::VerificationError> {
    #[cfg(all(enable_x86_avx2, feature = "avx2"))]
    {
        if std::is_x86_feature_detected!("avx2") {
            return open_signed!(PQCLEAN_MLDSA87_AVX2_crypto_sign_open, sm, pk);
        }
    }
    #[cfg(all(enable_aarch64_neon, feature = "neon"))]
    {
        if true {
            return open_signed!(PQCLEAN_MLDSA87_AARCH64_crypto_sign_open, sm, pk);
        }
    }
    open_signed!(PQCLEAN_MLDSA87_CLEAN_crypto_sign_open, sm, pk)
}

/// Open the signed message and if verification succeeds return the message
pub fn open_ctx(
    sm: &SignedMessage,
    ctx: &[u8],
    pk: &PublicKey,
) -> core::result::Result<Vec<u8>, primitive::VerificationError> {
    #[cfg(all(enable_x86_avx2, feature = "avx2"))]
    {
        if std::is_x86_feature_detected!("avx2") {
            return open_signed_ctx!(PQCLEAN_MLDSA87_AVX2_crypto_sign_open_ctx, sm, ctx, pk);
        }
    }
    #[cfg(all(enable_aarch64_neon, feature = "neon"))]
    {
        if true {
            return open_signed_ctx!(PQCLEAN_MLDSA87_AARCH64_crypto_sign_open_ctx, sm, ctx, pk);
        }
    }
    open_signed_ctx!(PQCLEAN_MLDSA87_CLEAN_crypto_sign_open_ctx, sm, ctx, pk)
}

macro_rules! detached_signature {
    ($variant:ident, $msg:ident, $sk:ident) => {{
        let mut sig = DetachedSignature::new();
        unsafe {
            paste! {
                ffi:: [<$variant _ctx >](
                    sig.0.as_mut_ptr(),
                    &mut sig.1 as *mut usize,
                    $msg.as_ptr(),
                    $msg.len(),
                    core::ptr::null(), 0,
                    $sk.0.as_ptr(),
                );
            }
        }
        sig
    }};
}

macro_rules! detached_signature_ctx {
    ($variant:ident, $msg:ident, $ctx:ident, $sk:ident) => {{
        let mut sig = DetachedSignature::new();
        unsafe {
            ffi::$variant(
                sig.0.as_mut_ptr(),
                &mut sig.1 as *mut usize,
                $msg.as_ptr(),
                $msg.len(),
                $ctx.as_ptr(),
                $ctx.len(),
                $sk.0.as_ptr(),
            );
        }
        sig
    }};
}

/// Create a detached signature on the message
pub fn detached_sign(msg: &[u8], sk: &SecretKey) -> DetachedSignature {
    #[cfg(all(enable_x86_avx2, feature = "avx2"))]
    {
        if std::is_x86_feature_detected!("avx2") {
            return detached_signature!(PQCLEAN_MLDSA87_AVX2_crypto_sign_signature, msg, sk);
        }
    }
    #[cfg(all(enable_aarch64_neon, feature = "neon"))]
    {
        if true {
            return detached_signature!(PQCLEAN_MLDSA87_AARCH64_crypto_sign_signature, msg, sk);
        }
    }
    detached_signature!(PQCLEAN_MLDSA87_CLEAN_crypto_sign_signature, msg, sk)
}

/// Create a detached signature on the message
pub fn detached_sign_ctx(msg: &[u8], ctx: &[u8], sk: &SecretKey) -> DetachedSignature {
    #[cfg(all(enable_x86_avx2, feature = "avx2"))]
    {
        if std::is_x86_feature_detected!("avx2") {
            return detached_signature_ctx!(
                PQCLEAN_MLDSA87_AVX2_crypto_sign_signature_ctx,
                msg,
                ctx,
                sk
            );
        }
    }
    #[cfg(all(enable_aarch64_neon, feature = "neon"))]
    {
        if true {
            return detached_signature_ctx!(
                PQCLEAN_MLDSA87_AARCH64_crypto_sign_signature_ctx,
                msg,
                ctx,
                sk
            );
        }
    }
    detached_signature_ctx!(
        PQCLEAN_MLDSA87_CLEAN_crypto_sign_signature_ctx,
        msg,
        ctx,
        sk
    )
}

macro_rules! verify_detached_sig {
    ($variant:ident, $sig:ident, $msg:ident, $pk:ident) => {{
        let res = unsafe {
            paste! {
                ffi:: [<$variant _ctx >](
                    $sig.0.as_ptr(),
                    $sig.1,
                    $msg.as_ptr(),
                    $msg.len(),
                    core::ptr::null(), 0,
                    $pk.0.as_ptr(),
                )
            }
        };
        match res {
            0 => Ok(()),
            -1 => Err(primitive::VerificationError::InvalidSignature),
            _ => Err(primitive::VerificationError::UnknownVerificationError),
        }
    }};
}

macro_rules! verify_detached_sig_ctx {
    ($variant:ident, $sig:ident, $msg:ident, $ctx:ident, $pk:ident) => {{
        let res = unsafe {
            ffi::$variant(
                $sig.0.as_ptr(),
                $sig.1,
                $msg.as_ptr(),
                $msg.len(),
                $ctx.as_ptr(),
                $ctx.len(),
                $pk.0.as_ptr(),
            )
        };
        match res {
            0 => Ok(()),
            -1 => Err(primitive::VerificationError::InvalidSignature),
            _ => Err(primitive::VerificationError::UnknownVerificationError),
        }
    }};
}

/// Verify the detached signature
pub fn verify_detached_signature(
    sig: &DetachedSignature,
    msg: &[u8],
    pk: &PublicKey,
) -> core::result::Result<(), primitive::VerificationError> {
    #[cfg(all(enable_x86_avx2, feature = "avx2"))]
    {
        if std::is_x86_feature_detected!("avx2") {
            return verify_detached_sig!(PQCLEAN_MLDSA87_AVX2_crypto_sign_verify, sig, msg, pk);
        }
    }
    #[cfg(all(enable_aarch64_neon, feature = "neon"))]
    {
        if true {
            return verify_detached_sig!(PQCLEAN_MLDSA87_AARCH64_crypto_sign_verify, sig, msg, pk);
        }
    }
    verify_detached_sig!(PQCLEAN_MLDSA87_CLEAN_crypto_sign_verify, sig, msg, pk)
}

/// Verify the detached signature
pub fn verify_detached_signature_ctx(
    sig: &DetachedSignature,
    msg: &[u8],
    ctx: &[u8],
    pk: &PublicKey,
) -> core::result::Result<(), primitive::VerificationError> {
    #[cfg(all(enable_x86_avx2, feature = "avx2"))]
    {
        if std::is_x86_feature_detected!("avx2") {
            return verify_detached_sig_ctx!(
                PQCLEAN_MLDSA87_AVX2_crypto_sign_verify_ctx,
                sig,
                msg,
                ctx,
                pk
            );
        }
    }
    #[cfg(all(enable_aarch64_neon, feature = "neon"))]
    {
        if true {
            return verify_detached_sig_ctx!(
                PQCLEAN_MLDSA87_AARCH64_crypto_sign_verify_ctx,
                sig,
                msg,
                ctx,
                pk
            );
        }
    }
    verify_detached_sig_ctx!(
        PQCLEAN_MLDSA87_CLEAN_crypto_sign_verify_ctx,
        sig,
        msg,
        ctx,
        pk
    )
}

// Liaison patch: signing with the secret key as bytes and caller-supplied hedging randomness.
// See vendor/README.md.

/// Length of the hedging randomness `rnd` of FIPS 204 Algorithm 2 (Liaison patch).
pub const RND_BYTES: usize = 32; // Liaison patch

macro_rules! detached_signature_rnd { // Liaison patch
    ($variant:ident, $msg:ident, $pre:ident, $rnd:ident, $sk:ident) => {{ // Liaison patch
        let mut sig = DetachedSignature::new(); // Liaison patch
        // Safety: `sk` is checked to be `secret_key_bytes()` long, `rnd` is 32 bytes,
        // `sig.0` has room for `signature_bytes()`; the C code only reads the inputs. // Liaison patch
        let rc = unsafe { // Liaison patch
            ffi::$variant( // Liaison patch
                sig.0.as_mut_ptr(), // Liaison patch
                &mut sig.1 as *mut usize, // Liaison patch
                $msg.as_ptr(), // Liaison patch
                $msg.len(), // Liaison patch
                $pre.as_ptr(), // Liaison patch
                $pre.len(), // Liaison patch
                $rnd.as_ptr(), // Liaison patch
                $sk.as_ptr(), // Liaison patch
            ) // Liaison patch
        }; // Liaison patch
        (rc, sig) // Liaison patch
    }}; // Liaison patch
} // Liaison patch

/// Liaison patch: FIPS 204 `ML-DSA.Sign(sk, msg, ctx)` (Algorithm 2, hedged) with the
/// encoded secret key given as bytes and the 32-byte randomness `rnd` supplied by the
/// caller, so no [`SecretKey`] (a `Copy` array that cannot be zeroized) is created and the
/// signature is a deterministic function of `(sk, msg, ctx, rnd)`.
///
/// The C code (`crypto_sign_signature_internal`) scrubs its secret stack values before it
/// returns. Dispatches to the AVX2 code when the CPU has it, like [`detached_sign_ctx`].
///
/// Errors, never panics: `sk` not `secret_key_bytes()` long, `ctx` longer than 255 bytes.
pub fn detached_sign_ctx_with_rnd( // Liaison patch
    msg: &[u8], // Liaison patch
    ctx: &[u8], // Liaison patch
    sk: &[u8], // Liaison patch
    rnd: &[u8; RND_BYTES], // Liaison patch
) -> Result<DetachedSignature> { // Liaison patch
    if sk.len() != secret_key_bytes() { // Liaison patch
        return Err(Error::BadLength { // Liaison patch
            name: "SecretKey", // Liaison patch
            actual: sk.len(), // Liaison patch
            expected: secret_key_bytes(), // Liaison patch
        }); // Liaison patch
    } // Liaison patch
    let Ok(ctx_len) = u8::try_from(ctx.len()) else { // Liaison patch
        return Err(Error::BadLength { // Liaison patch
            name: "context", // Liaison patch
            actual: ctx.len(), // Liaison patch
            expected: 255, // Liaison patch
        }); // Liaison patch
    }; // Liaison patch
    // FIPS 204 Algorithm 2, line 10: M' = 0 || len(ctx) || ctx || msg; the C code takes the
    // prefix and the message apart. // Liaison patch
    let mut pre_buf = [0u8; 2 + 255]; // Liaison patch
    pre_buf[1] = ctx_len; // Liaison patch
    pre_buf[2..2 + ctx.len()].copy_from_slice(ctx); // Liaison patch
    let pre = &pre_buf[..2 + ctx.len()]; // Liaison patch
    let (rc, sig) = 'sign: { // Liaison patch
        #[cfg(all(enable_x86_avx2, feature = "avx2"))] // Liaison patch
        { // Liaison patch
            if std::is_x86_feature_detected!("avx2") { // Liaison patch
                break 'sign detached_signature_rnd!( // Liaison patch
                    PQCLEAN_MLDSA87_AVX2_crypto_sign_signature_internal, // Liaison patch
                    msg, pre, rnd, sk // Liaison patch
                ); // Liaison patch
            } // Liaison patch
        } // Liaison patch
        #[cfg(all(enable_aarch64_neon, feature = "neon"))] // Liaison patch
        { // Liaison patch
            if true { // Liaison patch
                break 'sign detached_signature_rnd!( // Liaison patch
                    PQCLEAN_MLDSA87_AARCH64_crypto_sign_signature_internal, // Liaison patch
                    msg, pre, rnd, sk // Liaison patch
                ); // Liaison patch
            } // Liaison patch
        } // Liaison patch
        detached_signature_rnd!( // Liaison patch
            PQCLEAN_MLDSA87_CLEAN_crypto_sign_signature_internal, // Liaison patch
            msg, pre, rnd, sk // Liaison patch
        ) // Liaison patch
    }; // Liaison patch
    // The C function has no failure path; check anyway rather than trust it. // Liaison patch
    if rc != 0 || sig.1 != signature_bytes() { // Liaison patch
        return Err(Error::BadLength { // Liaison patch
            name: "DetachedSignature", // Liaison patch
            actual: sig.1, // Liaison patch
            expected: signature_bytes(), // Liaison patch
        }); // Liaison patch
    } // Liaison patch
    Ok(sig) // Liaison patch
} // Liaison patch

// Liaison patch: verification with the public key expanded once (vendor/README.md, patch 7).

/// Bytes of an [`ExpandedPublicKey`] (Liaison patch): `tr`, the matrix A and NTT(t1 * 2^d).
pub const EXPANDED_PUBLIC_KEY_BYTES: usize = 65600; // Liaison patch

/// The parts of verification that depend on the public key alone, computed once (Liaison
/// patch). Public data; 32-byte aligned as the AVX2 code needs.
#[repr(C, align(32))] // Liaison patch
pub struct ExpandedPublicKey([u8; EXPANDED_PUBLIC_KEY_BYTES]); // Liaison patch

impl core::fmt::Debug for ExpandedPublicKey { // Liaison patch
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result { // Liaison patch
        f.write_str("ExpandedPublicKey") // Liaison patch
    } // Liaison patch
} // Liaison patch

/// Expands `pk` for [`verify_detached_signature_ctx_expanded`] (Liaison patch). `None` where
/// the AVX2 code does not run (verify with [`verify_detached_signature_ctx`] there).
pub fn expand_public_key(pk: &PublicKey) -> Option<alloc::boxed::Box<ExpandedPublicKey>> { // Liaison patch
    #[cfg(all(enable_x86_avx2, feature = "avx2"))] // Liaison patch
    { // Liaison patch
        if std::is_x86_feature_detected!("avx2") { // Liaison patch
            // The C struct's size must be the one this crate allocates. // Liaison patch
            if unsafe { ffi::PQCLEAN_MLDSA87_AVX2_crypto_sign_expanded_pk_bytes() } != EXPANDED_PUBLIC_KEY_BYTES { // Liaison patch
                return None; // Liaison patch
            } // Liaison patch
            let mut epk = alloc::boxed::Box::new(ExpandedPublicKey([0; EXPANDED_PUBLIC_KEY_BYTES])); // Liaison patch
            unsafe { ffi::PQCLEAN_MLDSA87_AVX2_crypto_sign_expand_pk(epk.0.as_mut_ptr(), pk.0.as_ptr()) }; // Liaison patch
            return Some(epk); // Liaison patch
        } // Liaison patch
    } // Liaison patch
    let _ = pk; // Liaison patch
    None // Liaison patch
} // Liaison patch

/// [`verify_detached_signature_ctx`] with the key expanded by [`expand_public_key`] (Liaison
/// patch): the same verdicts, without re-deriving the key-only parts.
pub fn verify_detached_signature_ctx_expanded( // Liaison patch
    sig: &DetachedSignature, // Liaison patch
    msg: &[u8], // Liaison patch
    ctx: &[u8], // Liaison patch
    epk: &ExpandedPublicKey, // Liaison patch
) -> core::result::Result<(), primitive::VerificationError> { // Liaison patch
    #[cfg(all(enable_x86_avx2, feature = "avx2"))] // Liaison patch
    { // Liaison patch
        if std::is_x86_feature_detected!("avx2") { // Liaison patch
            return verify_detached_sig_ctx!( // Liaison patch
                PQCLEAN_MLDSA87_AVX2_crypto_sign_verify_ctx_expanded, // Liaison patch
                sig, // Liaison patch
                msg, // Liaison patch
                ctx, // Liaison patch
                epk // Liaison patch
            ); // Liaison patch
        } // Liaison patch
    } // Liaison patch
    // An expanded key exists only where the AVX2 code runs. // Liaison patch
    let _ = (sig, msg, ctx, epk); // Liaison patch
    Err(primitive::VerificationError::UnknownVerificationError) // Liaison patch
} // Liaison patch

#[cfg(test)]
mod test {
    use super::*;
    use rand::prelude::*;

    #[test]
    pub fn test_sign() {
        let mut rng = rand::rng();
        let len: u16 = rng.random();

        let message = (0..len).map(|_| rng.gen::<u8>()).collect::<Vec<_>>();
        let (pk, sk) = keypair();
        let sm = sign(&message, &sk);
        let verifiedmsg = open(&sm, &pk).unwrap();
        assert!(verifiedmsg == message);
    }

    #[test]
    pub fn test_sign_detached() {
        let mut rng = rand::rng();
        let len: u16 = rng.random();
        let message = (0..len).map(|_| rng.gen::<u8>()).collect::<Vec<_>>();

        let (pk, sk) = keypair();
        let sig = detached_sign(&message, &sk);
        assert!(verify_detached_signature(&sig, &message, &pk).is_ok());
        assert!(!verify_detached_signature(&sig, &message[..message.len() - 1], &pk).is_ok());
    }

    #[test]
    pub fn test_sign_ctx() {
        let mut rng = rand::rng();
        let len: u16 = rng.random();
        let ctx = (0..10).map(|_| rng.gen::<u8>()).collect::<Vec<_>>();

        let message = (0..len).map(|_| rng.gen::<u8>()).collect::<Vec<_>>();
        let (pk, sk) = keypair();
        let sm = sign_ctx(&message, &ctx, &sk);
        let verifiedmsg = open_ctx(&sm, &ctx, &pk).unwrap();
        assert!(verifiedmsg == message);
        assert!(open(&sm, &pk).is_err());
    }

    #[test]
    pub fn test_sign_detached_ctx() {
        let mut rng = rand::rng();
        let len: u16 = rng.random();
        let message = (0..len).map(|_| rng.gen::<u8>()).collect::<Vec<_>>();
        let ctx = (0..10).map(|_| rng.gen::<u8>()).collect::<Vec<_>>();

        let (pk, sk) = keypair();
        let sig = detached_sign_ctx(&message, &ctx, &sk);
        assert!(verify_detached_signature_ctx(&sig, &message, &ctx, &pk).is_ok());
        assert!(
            !verify_detached_signature_ctx(&sig, &message[..message.len() - 1], &ctx, &pk).is_ok()
        );
        assert!(!verify_detached_signature_ctx(
            &sig,
            &message[..message.len()],
            &ctx[..ctx.len() - 1],
            &pk
        )
        .is_ok());
        assert!(!verify_detached_signature(&sig, &message[..message.len() - 1], &pk).is_ok());
    }
}
