//! Shared helpers for Liaison interop tests.
#![forbid(unsafe_code)]

pub mod bench;
pub mod crypto_vectors;
