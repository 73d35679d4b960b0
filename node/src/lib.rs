//! # liaison-node
//!
//! The relay daemon agencies run. This crate is being built up in layers; today it holds the
//! durable core every other part stands on:
//!
//! * [`store`]: the custody store — envelopes, per-destination queues, de-duplication and
//!   expiry in one `redb` database, written by a single group-commit writer thread so an
//!   envelope is acknowledged upstream only after its transaction is durably committed, and
//!   many concurrent arrivals share one fsync.
//! * [`audit`]: the append-only, hash-chained custody audit log kept in the same database
//!   (each custody change and its audit entry commit atomically), with checkpoints signed by the
//!   node's identity key, and an offline verifier.
//! * [`config`]: the configuration file of `liaison-node run`, validated once at start-up.
//! * [`link`]: the link driver running the `liaison-proto` handshake and record layer over a
//!   QUIC stream.
//! * [`relay`]: relay checks, routing, custody hand-off and forwarding.
//! * [`server`]: the running node — endpoint, connection tasks, dialling, shutdown.
//! * [`metrics`]: Prometheus metrics on a local HTTP port.
//! * [`status`]: the status report (`liaison-node status`), live or read offline.
//! * [`ratelimit`]: per-peer token buckets (envelopes/s, bytes/s).
//! * [`reload`]: revocation list and directory reload on SIGHUP or file change.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
pub mod config;
pub mod identity;
pub mod link;
pub mod metrics;
pub mod ratelimit;
pub mod relay;
pub mod reload;
pub mod server;
pub mod status;
pub mod store;
pub mod transport;
