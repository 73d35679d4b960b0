//! ETSI GS QKD 014 v1.1.1 client: asks a KME for keys over HTTPS with mutual TLS and offers
//! them through [`KeySupply`].
//!
//! The client honours the limits the KME announces in its status (`min_key_size`,
//! `max_key_size`, `max_key_per_request`, `stored_key_count`): an impossible size is refused
//! before anything is sent, large requests are split, and a visibly empty store is reported as
//! [`Error::Exhausted`] without consuming anything. Answers are checked (count, size, ids)
//! before any key is handed on. Key bytes never reach a log line or an error message;
//! reqwest's own buffers holding the response body are not under our control and are not
//! zeroized.

use std::collections::HashMap;
use std::error::Error as _;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::{Method, StatusCode, Url};
use tracing::{debug, warn};

use crate::error::{Error, Result};
use crate::key::{KeyId, SaeId, SuppliedKey};
use crate::supply::{KeyRequest, KeyStatus, KeySupply, SupplyFuture, order_by_ids};
use crate::tls::{TlsFiles, client_config};
use crate::wire::{self, ErrorBody, KeyContainer, KeyIdEntry, KeyIds};

/// Default time a KME gets to answer one request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Which ETSI 014 call a request was, so errors can be mapped precisely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Status,
    EncKeys,
    DecKeys,
}

/// A client of one KME, authenticated as one SAE by its client certificate.
#[derive(Debug)]
pub struct Etsi014Client {
    base: Url,
    http: reqwest::Client,
    timeout: Duration,
    /// `max_key_per_request` last seen per peer, used to split `dec_keys` requests.
    limits: Mutex<HashMap<SaeId, u32>>,
}

impl Etsi014Client {
    /// A client for the KME at `kme` (e.g. `https://kme-a.example:8443`), presenting the SAE
    /// certificate in `tls` and trusting only `tls.ca` for the KME's certificate.
    pub fn new(kme: &str, tls: &TlsFiles, timeout: Duration) -> Result<Self> {
        let base = Url::parse(kme).map_err(|e| Error::Config {
            reason: format!("KME URL {kme:?} is invalid: {e}"),
        })?;
        if base.scheme() != "https" {
            return Err(Error::Config {
                reason: format!("KME URL {kme:?} must use https (ETSI GS QKD 014 requires TLS)"),
            });
        }
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(client_config(tls)?)
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| Error::Config {
                reason: format!("cannot build the HTTPS client: {}", chain(&e)),
            })?;
        Ok(Self {
            base,
            http,
            timeout,
            limits: Mutex::new(HashMap::new()),
        })
    }

    /// `GET /api/v1/keys/{slave_SAE_ID}/status`, as the KME sent it.
    pub async fn status_raw(&self, slave: &SaeId) -> Result<KeyStatus> {
        let url = self.url(slave, "status")?;
        let body = self
            .send(Method::GET, url.clone(), None, Call::Status, &[])
            .await?;
        let status: KeyStatus = parse(&url, &body)?;
        if let Ok(mut limits) = self.limits.lock() {
            limits.insert(slave.clone(), status.max_key_per_request);
        }
        Ok(status)
    }

    /// One `POST /api/v1/keys/{slave_SAE_ID}/enc_keys` with `request` as body, as the KME sent
    /// it (no splitting, no checks beyond the JSON shape).
    pub async fn enc_keys_raw(
        &self,
        slave: &SaeId,
        request: &wire::KeyRequest,
    ) -> Result<KeyContainer> {
        let url = self.url(slave, "enc_keys")?;
        let json = serde_json::to_vec(request).map_err(|e| Error::Config {
            reason: format!("cannot encode the key request: {e}"),
        })?;
        let body = self
            .send(Method::POST, url.clone(), Some(json), Call::EncKeys, &[])
            .await?;
        parse(&url, &body)
    }

    /// One `POST /api/v1/keys/{master_SAE_ID}/dec_keys` for `key_ids`, as the KME sent it.
    pub async fn dec_keys_raw(&self, master: &SaeId, key_ids: &[KeyId]) -> Result<KeyContainer> {
        let url = self.url(master, "dec_keys")?;
        let request = KeyIds {
            key_ids: key_ids
                .iter()
                .map(|id| KeyIdEntry {
                    key_id: id.to_string(),
                    key_id_extension: None,
                })
                .collect(),
            key_ids_extension: None,
        };
        let json = serde_json::to_vec(&request).map_err(|e| Error::Config {
            reason: format!("cannot encode the key ids: {e}"),
        })?;
        let body = self
            .send(
                Method::POST,
                url.clone(),
                Some(json),
                Call::DecKeys,
                key_ids,
            )
            .await?;
        parse(&url, &body)
    }

    async fn enc_keys_checked(
        &self,
        slave: &SaeId,
        request: KeyRequest,
    ) -> Result<Vec<(KeyId, SuppliedKey)>> {
        let status = self.status_raw(slave).await?;
        let plan = plan_request(slave, &status, request)?;
        let url = self.url(slave, "enc_keys")?;
        let mut out = Vec::with_capacity(request.number as usize);
        for chunk in plan {
            let body = wire::KeyRequest {
                number: Some(chunk),
                size: Some(request.size_bits),
                ..Default::default()
            };
            let container = self.enc_keys_raw(slave, &body).await?;
            let keys = decode_container(&url, container, Some(request.size_bits))?;
            if keys.len() != chunk as usize {
                return Err(bad(
                    &url,
                    format!("asked for {chunk} key(s), got {}", keys.len()),
                ));
            }
            out.extend(keys);
        }
        let mut ids: Vec<&KeyId> = out.iter().map(|(id, _)| id).collect();
        ids.sort();
        ids.dedup();
        if ids.len() != out.len() {
            return Err(bad(&url, "the KME returned the same key_ID twice"));
        }
        debug!(%slave, number = out.len(), size = request.size_bits, key_ids = ?out.iter().map(|(id, _)| id).collect::<Vec<_>>(), "obtained keys as master");
        Ok(out)
    }

    async fn dec_keys_checked(
        &self,
        master: &SaeId,
        key_ids: &[KeyId],
    ) -> Result<Vec<(KeyId, SuppliedKey)>> {
        if key_ids.is_empty() {
            return Ok(Vec::new());
        }
        let url = self.url(master, "dec_keys")?;
        let known = || self.limits.lock().ok().and_then(|l| l.get(master).copied());
        let mut limit = known();
        if limit.is_none() && key_ids.len() > 1 {
            // Learn max_key_per_request from the status of the reverse direction (KMEs of a
            // link announce the same limits both ways); without it, send one request.
            if let Err(error) = self.status_raw(master).await {
                debug!(%master, %error, "no status for splitting dec_keys; sending one request");
            }
            limit = known();
        }
        let chunk = limit
            .filter(|&n| n > 0)
            .map_or(key_ids.len(), |n| n as usize);
        let mut out = Vec::with_capacity(key_ids.len());
        for ids in key_ids.chunks(chunk) {
            let container = self.dec_keys_raw(master, ids).await?;
            let keys = decode_container(&url, container, None)?;
            out.extend(order_by_ids(ids, keys).map_err(|reason| bad(&url, reason))?);
        }
        debug!(%master, key_ids = ?key_ids, "obtained keys as slave");
        Ok(out)
    }

    fn url(&self, sae: &SaeId, call: &str) -> Result<Url> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::Config {
                reason: format!("KME URL {} cannot carry a path", self.base),
            })?
            .pop_if_empty()
            .extend(["api", "v1", "keys", sae.as_str(), call]);
        Ok(url)
    }

    async fn send(
        &self,
        method: Method,
        url: Url,
        json: Option<Vec<u8>>,
        call: Call,
        key_ids: &[KeyId],
    ) -> Result<Vec<u8>> {
        let mut builder = self.http.request(method, url.clone());
        if let Some(json) = json {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(json);
        }
        let response = builder.send().await.map_err(|e| self.transport(&url, &e))?;
        let code = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport(&url, &e))?
            .to_vec();
        if code.is_success() {
            return Ok(body);
        }
        let error = serde_json::from_slice::<ErrorBody>(&body).ok();
        let message = error.as_ref().map_or_else(
            || format!("HTTP {code} without an ETSI 014 error body"),
            |e| e.message.clone(),
        );
        warn!(%url, %code, %message, "KME refused the request");
        Err(match (code, call) {
            (StatusCode::UNAUTHORIZED, _) => Error::Unauthorized { message },
            (StatusCode::SERVICE_UNAVAILABLE, _) => Error::KmeUnavailable { message },
            (StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND, Call::DecKeys) => {
                Error::UnknownKeyId {
                    key_ids: key_ids.to_vec(),
                    message,
                }
            }
            (StatusCode::BAD_REQUEST, _) => Error::Rejected {
                message,
                details: error.map(|e| e.details_text()).unwrap_or_default(),
            },
            _ => bad(&url, format!("unexpected HTTP status {code}: {message}")),
        })
    }

    fn transport(&self, url: &Url, error: &reqwest::Error) -> Error {
        if error.is_timeout() {
            Error::Timeout {
                url: url.to_string(),
                after: self.timeout,
            }
        } else {
            Error::Unreachable {
                url: url.to_string(),
                reason: chain(error),
            }
        }
    }
}

impl KeySupply for Etsi014Client {
    fn status<'a>(&'a self, slave: &'a SaeId) -> SupplyFuture<'a, KeyStatus> {
        Box::pin(self.status_raw(slave))
    }

    fn enc_keys<'a>(
        &'a self,
        slave: &'a SaeId,
        request: KeyRequest,
    ) -> SupplyFuture<'a, Vec<(KeyId, SuppliedKey)>> {
        Box::pin(self.enc_keys_checked(slave, request))
    }

    fn dec_keys<'a>(
        &'a self,
        master: &'a SaeId,
        key_ids: &'a [KeyId],
    ) -> SupplyFuture<'a, Vec<(KeyId, SuppliedKey)>> {
        Box::pin(self.dec_keys_checked(master, key_ids))
    }
}

/// Checks `request` against the KME's announced limits and splits it into per-request counts.
pub fn plan_request(slave: &SaeId, status: &KeyStatus, request: KeyRequest) -> Result<Vec<u32>> {
    let size = request.size_bits;
    if request.number == 0 {
        return Err(Error::Unsatisfiable {
            reason: "asked for zero keys".into(),
        });
    }
    if size == 0 || !size.is_multiple_of(8) {
        return Err(Error::Unsatisfiable {
            reason: format!("key size {size} bits is not a positive multiple of 8"),
        });
    }
    if size < status.min_key_size || size > status.max_key_size {
        return Err(Error::Unsatisfiable {
            reason: format!(
                "key size {size} bits is outside the KME's range {}..={} bits",
                status.min_key_size, status.max_key_size
            ),
        });
    }
    // A key larger than the default size uses proportionally more of the store.
    let per_key = u64::from(size.div_ceil(status.key_size.max(1)));
    let needed = per_key * u64::from(request.number);
    if status.stored_key_count < needed {
        return Err(Error::Exhausted {
            slave: slave.clone(),
            available: status.stored_key_count / per_key,
            requested: u64::from(request.number),
        });
    }
    let max = status.max_key_per_request.max(1);
    let mut left = request.number;
    let mut plan = Vec::new();
    while left > 0 {
        let chunk = left.min(max);
        plan.push(chunk);
        left -= chunk;
    }
    Ok(plan)
}

/// Decodes a key container, checking ids are present and (if given) every key has `size` bits.
fn decode_container(
    url: &Url,
    container: KeyContainer,
    size: Option<u32>,
) -> Result<Vec<(KeyId, SuppliedKey)>> {
    let mut out = Vec::with_capacity(container.keys.len());
    for wire_key in &container.keys {
        if wire_key.key_id.is_empty() {
            return Err(bad(url, "a key has an empty key_ID"));
        }
        // The decoder's error names only a position, never the key text.
        let bytes = BASE64.decode(wire_key.key.as_bytes()).map_err(|e| {
            bad(
                url,
                format!("key {} is not valid base64: {e}", wire_key.key_id),
            )
        })?;
        let key = SuppliedKey::from_bytes(bytes);
        if let Some(size) = size
            && key.len_bits() != size as usize
        {
            return Err(bad(
                url,
                format!(
                    "key {} has {} bits, {size} were asked for",
                    wire_key.key_id,
                    key.len_bits()
                ),
            ));
        }
        out.push((KeyId::new(wire_key.key_id.clone()), key));
    }
    Ok(out)
}

fn parse<T: serde::de::DeserializeOwned>(url: &Url, body: &[u8]) -> Result<T> {
    // serde_json's error names a line and column, never the offending text.
    serde_json::from_slice(body).map_err(|e| bad(url, format!("not ETSI 014 JSON: {e}")))
}

fn bad(url: &Url, reason: impl Into<String>) -> Error {
    Error::BadResponse {
        url: url.to_string(),
        reason: reason.into(),
    }
}

/// An error and all its sources on one line (reqwest hides the TLS cause in the chain).
fn chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(stored: u64, per_request: u32) -> KeyStatus {
        KeyStatus {
            source_kme_id: "A".into(),
            target_kme_id: "B".into(),
            master_sae_id: "alice".into(),
            slave_sae_id: "bob".into(),
            key_size: 256,
            stored_key_count: stored,
            max_key_count: 1000,
            max_key_per_request: per_request,
            max_key_size: 1024,
            min_key_size: 64,
            max_sae_id_count: 0,
            status_extension: None,
        }
    }

    fn bob() -> SaeId {
        SaeId::new("bob")
    }

    #[test]
    fn splits_requests_by_max_key_per_request() {
        let plan = plan_request(
            &bob(),
            &status(100, 4),
            KeyRequest {
                number: 10,
                size_bits: 256,
            },
        );
        assert_eq!(plan.ok(), Some(vec![4, 4, 2]));
    }

    #[test]
    fn refuses_sizes_the_kme_cannot_deliver() {
        for size in [0, 12, 32, 2048] {
            let plan = plan_request(
                &bob(),
                &status(100, 4),
                KeyRequest {
                    number: 1,
                    size_bits: size,
                },
            );
            assert!(matches!(plan, Err(Error::Unsatisfiable { .. })), "{size}");
        }
    }

    #[test]
    fn reports_exhaustion_before_asking() {
        let plan = plan_request(
            &bob(),
            &status(3, 4),
            KeyRequest {
                number: 2,
                size_bits: 512,
            },
        );
        assert!(matches!(
            plan,
            Err(Error::Exhausted {
                available: 1,
                requested: 2,
                ..
            })
        ));
    }
}
