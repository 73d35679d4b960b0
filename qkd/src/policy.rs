//! Per-peer key-supply policy (`qkd = required | preferred | off`) and the helpers consumers
//! call to obtain a supplied key under it.
//!
//! `required` fails closed with [`Error::KeyRequired`]; `preferred` carries on without a
//! supplied key (the link stays hybrid-only), says so with a `tracing` warning and counts the
//! fallback in [`KeySupplyMetrics`] so the node can export it as a metric; `off` never asks.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use tracing::{debug, warn};

use crate::error::{Error, Result};
use crate::key::{KeyId, SaeId, SuppliedKey};
use crate::supply::{KeyRequest, KeySupply};

/// Whether a supplied (QKD or pre-shared) key must, may or must not be mixed in for a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QkdPolicy {
    /// No session without a supplied key: fail closed.
    Required,
    /// Use a supplied key when the supply delivers; otherwise fall back visibly.
    #[default]
    Preferred,
    /// Never ask the supply.
    Off,
}

/// Counters a node exports as metrics. Each is monotonic.
#[derive(Debug, Default)]
pub struct KeySupplyMetrics {
    /// Supplied keys obtained (master and slave side).
    pub keys_obtained: AtomicU64,
    /// Times `preferred` went on without a supplied key.
    pub fallbacks: AtomicU64,
    /// Times `required` failed closed.
    pub required_failures: AtomicU64,
}

impl KeySupplyMetrics {
    /// The current values as `(name, value)` pairs, named for a Prometheus exporter.
    pub fn snapshot(&self) -> [(&'static str, u64); 3] {
        [
            (
                "liaison_key_supply_keys_obtained_total",
                self.keys_obtained.load(Ordering::Relaxed),
            ),
            (
                "liaison_key_supply_fallbacks_total",
                self.fallbacks.load(Ordering::Relaxed),
            ),
            (
                "liaison_key_supply_required_failures_total",
                self.required_failures.load(Ordering::Relaxed),
            ),
        ]
    }
}

/// What a policy-aware request for a supplied key gave.
#[derive(Debug)]
pub enum SupplyOutcome {
    /// A key, with the id to send to (master side) or received from (slave side) the peer.
    Supplied {
        /// The key id.
        key_id: KeyId,
        /// The key, to be consumed by the session key derivation.
        key: SuppliedKey,
    },
    /// `preferred` and the supply failed: go on without a supplied key.
    NoSuppliedKey {
        /// Why (for logs and the transcript's diagnostics; contains no key material).
        reason: String,
    },
    /// `off`: the supply was not asked.
    NotAsked,
}

/// Master side: obtains one new key of `size_bits` for `peer` under `policy`.
pub async fn obtain_master_key(
    policy: QkdPolicy,
    supply: &dyn KeySupply,
    peer: &SaeId,
    size_bits: u32,
    metrics: &KeySupplyMetrics,
) -> Result<SupplyOutcome> {
    if policy == QkdPolicy::Off {
        return Ok(SupplyOutcome::NotAsked);
    }
    let result = supply
        .enc_keys(peer, KeyRequest::one(size_bits))
        .await
        .and_then(|mut keys| {
            let only = keys.pop();
            match (only, keys.is_empty()) {
                (Some(pair), true) => Ok(pair),
                _ => Err(Error::Unsatisfiable {
                    reason: "the supply did not return exactly one key".into(),
                }),
            }
        });
    settle(policy, peer, result, metrics)
}

/// Slave side: obtains the key `key_id` that master `peer` announced, under `policy`. A
/// `None` id means the master went on without a supplied key.
pub async fn obtain_slave_key(
    policy: QkdPolicy,
    supply: &dyn KeySupply,
    peer: &SaeId,
    key_id: Option<&KeyId>,
    metrics: &KeySupplyMetrics,
) -> Result<SupplyOutcome> {
    if policy == QkdPolicy::Off {
        return Ok(SupplyOutcome::NotAsked);
    }
    let result = match key_id {
        None => Err(Error::NoKeyIdFromPeer { peer: peer.clone() }),
        Some(id) => supply
            .dec_keys(peer, std::slice::from_ref(id))
            .await
            .and_then(|mut keys| match keys.pop() {
                Some(pair) if keys.is_empty() && &pair.0 == id => Ok(pair),
                _ => Err(Error::UnknownKeyId {
                    key_ids: vec![id.clone()],
                    message: "the supply did not return exactly the key asked for".into(),
                }),
            }),
    };
    settle(policy, peer, result, metrics)
}

fn settle(
    policy: QkdPolicy,
    peer: &SaeId,
    result: Result<(KeyId, SuppliedKey)>,
    metrics: &KeySupplyMetrics,
) -> Result<SupplyOutcome> {
    match result {
        Ok((key_id, key)) => {
            metrics.keys_obtained.fetch_add(1, Ordering::Relaxed);
            debug!(%peer, %key_id, "supplied key obtained");
            Ok(SupplyOutcome::Supplied { key_id, key })
        }
        Err(error) if policy == QkdPolicy::Required => {
            metrics.required_failures.fetch_add(1, Ordering::Relaxed);
            warn!(%peer, %error, "supplied key required but unavailable; failing closed");
            Err(Error::KeyRequired {
                peer: peer.clone(),
                source: Box::new(error),
            })
        }
        Err(error) => {
            metrics.fallbacks.fetch_add(1, Ordering::Relaxed);
            warn!(%peer, %error, "no supplied key; continuing hybrid-only (qkd = preferred)");
            Ok(SupplyOutcome::NoSuppliedKey {
                reason: error.to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_reads_lowercase_names() {
        #[derive(Deserialize)]
        struct Peer {
            qkd: QkdPolicy,
        }
        for (text, want) in [
            ("required", QkdPolicy::Required),
            ("preferred", QkdPolicy::Preferred),
            ("off", QkdPolicy::Off),
        ] {
            let peer: Option<Peer> = toml::from_str(&format!("qkd = \"{text}\"")).ok();
            assert_eq!(peer.map(|p| p.qkd), Some(want));
        }
        assert!(toml::from_str::<Peer>("qkd = \"Required\"").is_err());
    }
}
