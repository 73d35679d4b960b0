//! # liaison-proto
//!
//! The Liaison protocol core, sans-IO like `quinn-proto`: no sockets, no files, no async, no
//! clock. Every entry point takes the current time and an injected `CryptoRng`, and returns
//! bytes and events. `spec/protocol.md` is the normative text; each module names its section.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod certificate;
pub mod codec;
pub mod envelope;
pub mod envelope_parts;
mod error;
pub mod frame;
pub mod handshake;
pub mod record;

pub use error::{DecodeError, ProtoError, WireCode};
pub mod classification;
pub mod notice;
pub mod prekey;
pub mod receipt;
pub mod revocation;
pub mod time;
pub mod trust;

pub use classification::{Classification, CryptoPolicy, Tlp};
pub use time::UnixTime;
