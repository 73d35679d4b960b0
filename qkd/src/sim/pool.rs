//! The simulated KMEs' key store, without any networking: which keys exist, for whom, and how
//! much key material each pair of SAEs has left.
//!
//! One process plays both KMEs of a link. A key handed to a master SAE is kept until every
//! named slave SAE has fetched it once, then erased (its buffer is zeroized on drop). Each
//! unordered pair of SAEs has a store of `max_key_count` keys (of `key_size` bits) that
//! refills at `key_rate` keys per second, which is how finite QKD key rates and exhaustion are
//! simulated. Every entry point takes `now`, so the logic is tested without clocks or sockets.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

use crate::key::SaeId;
use crate::wire::{self, KeyContainer, Status, WireKey};

/// Limits and behaviour of the simulated KMEs.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Default key size in bits.
    pub key_size: u32,
    /// Smallest key size served, in bits.
    pub min_key_size: u32,
    /// Largest key size served, in bits.
    pub max_key_size: u32,
    /// Most keys per `enc_keys` or `dec_keys` request.
    pub max_key_per_request: u32,
    /// Size of each pair's key store, in keys of `key_size` bits.
    pub max_key_count: u64,
    /// Most additional slave SAEs per request (0: no multicast).
    pub max_sae_id_count: u32,
    /// Refill rate in keys per second; `None` keeps every store full.
    pub key_rate: Option<f64>,
    /// Known SAEs and the id of the KME each is attached to; `None` accepts any SAE (its KME
    /// id is then `KME-<sae>`).
    pub sae_map: Option<HashMap<SaeId, String>>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            key_size: 256,
            min_key_size: 64,
            max_key_size: 1024,
            max_key_per_request: 128,
            max_key_count: 1000,
            max_sae_id_count: 2,
            key_rate: None,
            sae_map: None,
        }
    }
}

/// Why the simulator refuses a request; [`Refusal::status_code`] is the one mapping to HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// HTTP 400: the request is malformed or asks for something impossible.
    BadRequest(String),
    /// HTTP 401: the caller may not do this.
    Unauthorized(String),
    /// HTTP 503: the KME cannot serve now (store empty, simulated outage).
    Unavailable(String),
}

impl Refusal {
    /// The ETSI GS QKD 014 status code for this refusal.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Unavailable(_) => 503,
        }
    }

    /// The human-readable `message`.
    pub fn message(&self) -> &str {
        match self {
            Self::BadRequest(m) | Self::Unauthorized(m) | Self::Unavailable(m) => m,
        }
    }
}

struct Issued {
    master: SaeId,
    /// Slaves that may still fetch the key.
    pending: Vec<SaeId>,
    /// Slaves that already fetched it.
    delivered: Vec<SaeId>,
    key: Zeroizing<Vec<u8>>,
}

struct Stock {
    keys: f64,
    at: Instant,
}

/// The simulated key stores of all pairs of SAEs.
pub struct KeyPool {
    config: SimConfig,
    stock: HashMap<(SaeId, SaeId), Stock>,
    issued: HashMap<String, Issued>,
    /// Ids whose keys were fully delivered and erased, to tell "reused" from "unknown".
    erased: HashSet<String>,
}

impl std::fmt::Debug for KeyPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPool")
            .field("config", &self.config)
            .field("issued", &self.issued.len())
            .field("erased", &self.erased.len())
            .finish_non_exhaustive()
    }
}

type Refused<T> = Result<T, Refusal>;

impl KeyPool {
    /// An empty pool (every pair's store starts full).
    pub fn new(config: SimConfig) -> Self {
        Self {
            config,
            stock: HashMap::new(),
            issued: HashMap::new(),
            erased: HashSet::new(),
        }
    }

    /// Number of keys handed to masters and not yet fully delivered.
    pub fn pending_keys(&self) -> usize {
        self.issued.len()
    }

    /// "Get status" for `caller` as master towards `slave`.
    pub fn status(&mut self, caller: &SaeId, slave: &SaeId, now: Instant) -> Refused<Status> {
        self.check_pair(caller, slave)?;
        let stored = self.available(caller, slave, now);
        Ok(Status {
            source_kme_id: self.kme_of(caller),
            target_kme_id: self.kme_of(slave),
            master_sae_id: caller.to_string(),
            slave_sae_id: slave.to_string(),
            key_size: self.config.key_size,
            stored_key_count: stored.floor() as u64,
            max_key_count: self.config.max_key_count,
            max_key_per_request: self.config.max_key_per_request,
            max_key_size: self.config.max_key_size,
            min_key_size: self.config.min_key_size,
            max_sae_id_count: self.config.max_sae_id_count,
            status_extension: None,
        })
    }

    /// "Get key": new keys for `caller` as master, to be released to `slave` (and the request's
    /// additional slaves). `fill` provides random bytes.
    pub fn enc_keys(
        &mut self,
        caller: &SaeId,
        slave: &SaeId,
        request: &wire::KeyRequest,
        now: Instant,
        fill: &mut dyn FnMut(&mut [u8]) -> Result<(), String>,
    ) -> Refused<KeyContainer> {
        self.check_pair(caller, slave)?;
        let c = &self.config;
        let number = request.number.unwrap_or(1);
        if number == 0 || number > c.max_key_per_request {
            return Err(bad(format!(
                "number must be between 1 and max_key_per_request ({}), got {number}",
                c.max_key_per_request
            )));
        }
        let size = request.size.unwrap_or(c.key_size);
        if !size.is_multiple_of(8) || size < c.min_key_size || size > c.max_key_size {
            return Err(bad(format!(
                "size must be a multiple of 8 between min_key_size ({}) and max_key_size ({}), got {size}",
                c.min_key_size, c.max_key_size
            )));
        }
        if let Some(names) = mandatory_extension_names(&request.extension_mandatory) {
            return Err(bad(format!("unsupported mandatory extension(s): {names}")));
        }
        let slaves = self.slaves_of(caller, slave, &request.additional_slave_sae_ids)?;
        let per_key = f64::from(size.div_ceil(self.config.key_size.max(1)));
        let needed = per_key * f64::from(number);
        let available = self.available(caller, slave, now);
        if available < needed {
            return Err(Refusal::Unavailable(format!(
                "key store for {caller} and {slave} is exhausted: {} key(s) of {size} bits available, {number} requested",
                (available / per_key).floor()
            )));
        }
        let mut container = KeyContainer::default();
        for _ in 0..number {
            let mut key = Zeroizing::new(vec![0u8; size as usize / 8]);
            fill(&mut key).map_err(|e| {
                Refusal::Unavailable(format!("random number generator failed: {e}"))
            })?;
            let key_id = uuid::Uuid::new_v4().to_string();
            container.keys.push(WireKey {
                key_id: key_id.clone(),
                key: BASE64.encode(key.as_slice()),
                key_id_extension: None,
                key_extension: None,
            });
            self.issued.insert(
                key_id,
                Issued {
                    master: caller.clone(),
                    pending: slaves.clone(),
                    delivered: Vec::new(),
                    key,
                },
            );
        }
        if let Some(stock) = self.stock.get_mut(&pair(caller, slave)) {
            stock.keys -= needed;
        }
        Ok(container)
    }

    /// "Get key with key IDs": `caller` as slave fetches keys that `master` obtained. All ids
    /// are checked before any key is released, so a refused request consumes nothing.
    pub fn dec_keys(
        &mut self,
        caller: &SaeId,
        master: &SaeId,
        key_ids: &[String],
    ) -> Refused<KeyContainer> {
        self.check_known(caller, "calling")?;
        if key_ids.is_empty() {
            return Err(bad("key_IDs must name at least one key"));
        }
        if key_ids.len() > self.config.max_key_per_request as usize {
            return Err(bad(format!(
                "at most max_key_per_request ({}) key_IDs per request, got {}",
                self.config.max_key_per_request,
                key_ids.len()
            )));
        }
        let mut seen = HashSet::new();
        for id in key_ids {
            if !seen.insert(id) {
                return Err(bad(format!("key_ID {id} is listed twice")));
            }
            let Some(issued) = self.issued.get(id) else {
                return Err(if self.erased.contains(id) {
                    bad(format!("key_ID {id} was already delivered and erased"))
                } else {
                    bad(format!("key_ID {id} is unknown"))
                });
            };
            if &issued.master != master {
                return Err(Refusal::Unauthorized(format!(
                    "key_ID {id} was not issued to master SAE {master}"
                )));
            }
            if issued.delivered.contains(caller) {
                return Err(bad(format!(
                    "key_ID {id} was already delivered to SAE {caller}"
                )));
            }
            if !issued.pending.contains(caller) {
                return Err(Refusal::Unauthorized(format!(
                    "SAE {caller} is not a slave SAE of key_ID {id}"
                )));
            }
        }
        let mut container = KeyContainer::default();
        for id in key_ids {
            let Some(issued) = self.issued.get_mut(id) else {
                continue; // ok: every id was checked present above, under the same &mut self.
            };
            container.keys.push(WireKey {
                key_id: id.clone(),
                key: BASE64.encode(issued.key.as_slice()),
                key_id_extension: None,
                key_extension: None,
            });
            issued.pending.retain(|s| s != caller);
            issued.delivered.push(caller.clone());
            if issued.pending.is_empty() {
                // Dropping the entry zeroizes the key.
                self.issued.remove(id);
                self.erased.insert(id.clone());
            }
        }
        Ok(container)
    }

    fn slaves_of(
        &self,
        caller: &SaeId,
        slave: &SaeId,
        additional: &[String],
    ) -> Refused<Vec<SaeId>> {
        if additional.len() > self.config.max_sae_id_count as usize {
            return Err(bad(format!(
                "at most max_SAE_ID_count ({}) additional_slave_SAE_IDs, got {}",
                self.config.max_sae_id_count,
                additional.len()
            )));
        }
        let mut slaves = vec![slave.clone()];
        for extra in additional {
            let extra = SaeId::new(extra.clone());
            if &extra == caller || slaves.contains(&extra) {
                return Err(bad(format!("additional_slave_SAE_IDs repeats SAE {extra}")));
            }
            self.check_known(&extra, "slave")?;
            slaves.push(extra);
        }
        Ok(slaves)
    }

    fn check_pair(&self, caller: &SaeId, slave: &SaeId) -> Refused<()> {
        self.check_known(caller, "calling")?;
        self.check_known(slave, "slave")?;
        if caller == slave {
            return Err(bad(format!(
                "slave_SAE_ID {slave} is the calling SAE itself; a key is shared with another SAE"
            )));
        }
        Ok(())
    }

    fn check_known(&self, sae: &SaeId, role: &str) -> Refused<()> {
        match &self.config.sae_map {
            Some(map) if !map.contains_key(sae) => Err(if role == "calling" {
                Refusal::Unauthorized(format!("SAE {sae} is not registered with this KME"))
            } else {
                bad(format!("{role} SAE {sae} is not known to this KME"))
            }),
            _ => Ok(()),
        }
    }

    fn kme_of(&self, sae: &SaeId) -> String {
        self.config
            .sae_map
            .as_ref()
            .and_then(|m| m.get(sae).cloned())
            .unwrap_or_else(|| format!("KME-{sae}"))
    }

    /// Keys available to the pair now, after refilling at `key_rate` since the last look.
    fn available(&mut self, a: &SaeId, b: &SaeId, now: Instant) -> f64 {
        let max = self.config.max_key_count as f64;
        let rate = self.config.key_rate;
        let stock = self
            .stock
            .entry(pair(a, b))
            .or_insert(Stock { keys: max, at: now });
        match rate {
            None => stock.keys = max,
            Some(rate) => {
                let elapsed = now.saturating_duration_since(stock.at).as_secs_f64();
                stock.keys = (stock.keys + rate * elapsed).min(max);
            }
        }
        stock.at = now;
        stock.keys
    }
}

fn pair(a: &SaeId, b: &SaeId) -> (SaeId, SaeId) {
    if a <= b {
        (a.clone(), b.clone())
    } else {
        (b.clone(), a.clone())
    }
}

fn bad(message: impl Into<String>) -> Refusal {
    Refusal::BadRequest(message.into())
}

/// Names of mandatory extensions asked for (the simulator supports none).
fn mandatory_extension_names(extensions: &[serde_json::Value]) -> Option<String> {
    if extensions.is_empty() {
        return None;
    }
    let names: Vec<String> = extensions
        .iter()
        .flat_map(|e| match e.as_object() {
            Some(map) => map.keys().cloned().collect::<Vec<_>>(),
            None => vec![e.to_string()],
        })
        .collect();
    Some(names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sae(s: &str) -> SaeId {
        SaeId::new(s)
    }

    fn zeros(buf: &mut [u8]) -> Result<(), String> {
        buf.fill(7);
        Ok(())
    }

    fn request(number: u32, size: u32) -> wire::KeyRequest {
        wire::KeyRequest {
            number: Some(number),
            size: Some(size),
            ..Default::default()
        }
    }

    #[test]
    fn a_key_is_released_once_to_the_named_slave_then_erased() {
        let mut pool = KeyPool::new(SimConfig::default());
        let now = Instant::now();
        let got = pool.enc_keys(
            &sae("alice"),
            &sae("bob"),
            &request(1, 256),
            now,
            &mut zeros,
        );
        let ids: Vec<String> = got
            .map(|c| c.keys.iter().map(|k| k.key_id.clone()).collect())
            .unwrap_or_default();
        assert_eq!(ids.len(), 1);
        assert!(matches!(
            pool.dec_keys(&sae("carol"), &sae("alice"), &ids),
            Err(Refusal::Unauthorized(_))
        ));
        assert!(matches!(
            pool.dec_keys(&sae("bob"), &sae("carol"), &ids),
            Err(Refusal::Unauthorized(_))
        ));
        assert!(pool.dec_keys(&sae("bob"), &sae("alice"), &ids).is_ok());
        assert_eq!(pool.pending_keys(), 0);
        let again = pool.dec_keys(&sae("bob"), &sae("alice"), &ids);
        assert!(matches!(again, Err(Refusal::BadRequest(m)) if m.contains("already delivered")));
    }

    #[test]
    fn a_finite_store_runs_dry_and_refills_at_the_key_rate() {
        let config = SimConfig {
            max_key_count: 2,
            key_rate: Some(1.0),
            ..SimConfig::default()
        };
        let mut pool = KeyPool::new(config);
        let t0 = Instant::now();
        let (a, b) = (sae("alice"), sae("bob"));
        assert!(
            pool.enc_keys(&a, &b, &request(2, 256), t0, &mut zeros)
                .is_ok()
        );
        let dry = pool.enc_keys(&a, &b, &request(1, 256), t0, &mut zeros);
        assert!(matches!(dry, Err(Refusal::Unavailable(_))));
        let later = t0 + std::time::Duration::from_secs(1);
        assert_eq!(
            pool.status(&a, &b, later).map(|s| s.stored_key_count),
            Ok(1)
        );
        assert!(
            pool.enc_keys(&a, &b, &request(1, 256), later, &mut zeros)
                .is_ok()
        );
    }

    #[test]
    fn refuses_impossible_requests() {
        let mut pool = KeyPool::new(SimConfig::default());
        let now = Instant::now();
        let (a, b) = (sae("alice"), sae("bob"));
        for req in [
            request(0, 256),
            request(1, 257),
            request(1, 32),
            request(1000, 256),
        ] {
            let refused = pool.enc_keys(&a, &b, &req, now, &mut zeros);
            assert!(matches!(refused, Err(Refusal::BadRequest(_))), "{req:?}");
        }
        let mandatory = wire::KeyRequest {
            extension_mandatory: vec![serde_json::json!({"route": "direct"})],
            ..Default::default()
        };
        assert!(pool.enc_keys(&a, &b, &mandatory, now, &mut zeros).is_err());
        assert!(
            pool.enc_keys(&a, &a, &request(1, 256), now, &mut zeros)
                .is_err()
        );
    }

    #[test]
    fn multicast_keys_wait_for_every_slave() {
        let mut pool = KeyPool::new(SimConfig::default());
        let now = Instant::now();
        let req = wire::KeyRequest {
            additional_slave_sae_ids: vec!["carol".into()],
            ..Default::default()
        };
        let ids: Vec<String> = pool
            .enc_keys(&sae("alice"), &sae("bob"), &req, now, &mut zeros)
            .map(|c| c.keys.iter().map(|k| k.key_id.clone()).collect())
            .unwrap_or_default();
        assert!(pool.dec_keys(&sae("bob"), &sae("alice"), &ids).is_ok());
        assert_eq!(pool.pending_keys(), 1);
        assert!(pool.dec_keys(&sae("carol"), &sae("alice"), &ids).is_ok());
        assert_eq!(pool.pending_keys(), 0);
    }
}
