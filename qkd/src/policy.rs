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
    settle_with_reason(policy, peer, result, metrics).map(outcome)
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
    settle_with_reason(policy, peer, result, metrics).map(outcome)
}

/// Settles one attempt to obtain supplied-key material under `policy`, in the one place the
/// outcome is counted and logged: success counts in [`KeySupplyMetrics::keys_obtained`] and
/// gives `Ok(Some(value))`; a failure under `required` counts in
/// [`KeySupplyMetrics::required_failures`], warns and gives [`Error::KeyRequired`] (fail
/// closed); a failure under `preferred` counts in [`KeySupplyMetrics::fallbacks`], warns and
/// gives `Ok(None)` (go on hybrid-only). Under `off` the supply is normally not asked; if it
/// was (the peer named keys in a rekey), a key is used and counted like any other, and a
/// failure is `Ok(None)` without a warning or a count.
///
/// Generic over what was obtained (one key with its id, a batch of keys, a protocol object
/// built from them) so every consumer — [`obtain_master_key`], [`obtain_slave_key`], the
/// relay's link driver — shares the same accounting.
///
/// ```
/// use liaison_qkd::{Error, KeySupplyMetrics, QkdPolicy, SaeId, policy::settle};
///
/// let metrics = KeySupplyMetrics::default();
/// let peer = SaeId::new("relay-b");
/// let down = || Err::<u8, _>(Error::Unsatisfiable { reason: "KME down".into() });
/// assert!(matches!(settle(QkdPolicy::Preferred, &peer, down(), &metrics), Ok(None)));
/// assert!(matches!(
///     settle(QkdPolicy::Required, &peer, down(), &metrics),
///     Err(Error::KeyRequired { .. })
/// ));
/// assert_eq!(settle(QkdPolicy::Required, &peer, Ok::<_, Error>(7u8), &metrics).ok(), Some(Some(7)));
/// let [obtained, fallbacks, failures] = metrics.snapshot();
/// assert_eq!((obtained.1, fallbacks.1, failures.1), (1, 1, 1));
/// ```
pub fn settle<T, E: Into<Error>>(
    policy: QkdPolicy,
    peer: &SaeId,
    result: std::result::Result<T, E>,
    metrics: &KeySupplyMetrics,
) -> Result<Option<T>> {
    settle_with_reason(policy, peer, result.map_err(Into::into), metrics).map(|r| r.ok())
}

/// [`settle`], keeping the fallback's reason for [`SupplyOutcome::NoSuppliedKey`].
fn settle_with_reason<T>(
    policy: QkdPolicy,
    peer: &SaeId,
    result: Result<T>,
    metrics: &KeySupplyMetrics,
) -> Result<std::result::Result<T, String>> {
    match result {
        Err(error) if policy == QkdPolicy::Off => {
            debug!(%peer, %error, "no supplied key (qkd = off)");
            Ok(Err(error.to_string()))
        }
        Ok(value) => {
            metrics.keys_obtained.fetch_add(1, Ordering::Relaxed);
            debug!(%peer, "supplied key obtained");
            Ok(Ok(value))
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
            Ok(Err(error.to_string()))
        }
    }
}

fn outcome(settled: std::result::Result<(KeyId, SuppliedKey), String>) -> SupplyOutcome {
    match settled {
        Ok((key_id, key)) => SupplyOutcome::Supplied { key_id, key },
        Err(reason) => SupplyOutcome::NoSuppliedKey { reason },
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
