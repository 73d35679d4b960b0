//! Liaison key supply: where the link and envelope layers get the extra, independent key
//! material (QKD or pre-shared) they mix into session keys.
//!
//! - [`KeySupply`] — the object-safe async trait every source implements, with ETSI GS QKD 014
//!   semantics (master asks for new keys and sends their ids in-band; slave asks for those ids).
//! - [`Etsi014Client`] — a client of an ETSI GS QKD 014 KME (HTTPS, mutual TLS).
//! - [`PskSupply`] — keys derived from per-peer pre-shared key files, with replay protection.
//! - [`sim::SimServer`] — a KME simulator serving ETSI GS QKD 014, for tests and demos.
//! - [`QkdPolicy`] and [`obtain_master_key`]/[`obtain_slave_key`] — `required | preferred |
//!   off` per peer, with fallbacks counted in [`KeySupplyMetrics`]; [`settle`] is the one place
//!   any consumer's attempt is judged, counted and logged under the policy.
//! - [`BudgetPoller`] — watches the KME's key store so consumers can pace rekeys.
//! - [`KeySupplyConfig`] — the `[key_supply]` config section and the one function building
//!   an `Arc<dyn KeySupply>` from it.
//!
//! Supplied keys are [`SuppliedKey`]s: zeroized on drop, never printed, used once. The
//! normative description, including the PSK derivation and how to wrap other equipment, is
//! `spec/key-supply.md`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod budget;
pub mod client;
pub mod config;
pub mod error;
pub mod key;
pub mod pki;
pub mod policy;
pub mod psk;
pub mod sim;
pub mod supply;
pub mod tls;
pub mod wire;

pub use budget::{BudgetMetrics, BudgetPoller, KeyBudget, wait_for_budget};
pub use client::Etsi014Client;
pub use config::KeySupplyConfig;
pub use error::{Error, Result};
pub use key::{KeyId, SaeId, SuppliedKey};
pub use policy::{
    KeySupplyMetrics, QkdPolicy, SupplyOutcome, obtain_master_key, obtain_slave_key, settle,
};
pub use psk::{PreSharedKey, PskSupply, UsedIds};
pub use supply::{KeyRequest, KeyStatus, KeySupply, SupplyFuture};
pub use tls::TlsFiles;
