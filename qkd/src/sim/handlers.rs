//! HTTP side of the KME simulator: the ETSI GS QKD 014 routes, request parsing with clear
//! 400 answers, caller identification, and simulated outages.
//!
//! Every refusal is answered with the standard's error body `{"message": …}` and one of the
//! standard's codes (400, 401, 503); the server keeps serving whatever a caller sends. The
//! caller's SAE id comes from its client certificate's common name, inserted as a `Caller`
//! extension by the connection code in [`super`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use tracing::{info, warn};

use super::pool::{KeyPool, Refusal};
use crate::key::SaeId;
use crate::wire::{self, ErrorBody, KeyIds};

/// The SAE id of the caller of a request, from its client certificate (`None`: no certificate).
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub(crate) Option<SaeId>);

/// When the simulated KME is "down".
#[derive(Debug, Default)]
pub(crate) struct Outage {
    /// Serve this many requests, then fail every later one.
    pub(crate) after_requests: Option<u64>,
    /// Down while this file exists.
    pub(crate) toggle_file: Option<PathBuf>,
    /// Down while set (in-process tests).
    pub(crate) forced: AtomicBool,
    requests: AtomicU64,
}

impl Outage {
    pub(crate) fn new(after_requests: Option<u64>, toggle_file: Option<PathBuf>) -> Self {
        Self {
            after_requests,
            toggle_file,
            ..Self::default()
        }
    }

    /// Whether the KME is down right now (without counting a request).
    pub(crate) fn active(&self) -> bool {
        self.forced.load(Ordering::Relaxed)
            || self
                .after_requests
                .is_some_and(|n| self.requests.load(Ordering::Relaxed) >= n)
            || self.toggle_file.as_ref().is_some_and(|f| f.exists())
    }

    /// Counts one request; whether it falls in an outage.
    fn admit_request(&self) -> bool {
        let down = self.active();
        if !down {
            self.requests.fetch_add(1, Ordering::Relaxed);
        }
        down
    }
}

/// State shared by all connections of one simulator.
#[derive(Debug)]
pub(crate) struct SimState {
    pub(crate) pool: Mutex<KeyPool>,
    pub(crate) outage: Outage,
}

/// The ETSI GS QKD 014 routes.
pub(crate) fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route("/api/v1/keys/{slave}/status", get(status))
        .route(
            "/api/v1/keys/{slave}/enc_keys",
            get(enc_keys_get).post(enc_keys_post),
        )
        .route(
            "/api/v1/keys/{master}/dec_keys",
            get(dec_keys_get).post(dec_keys_post),
        )
        .fallback(unknown_route)
        .with_state(state)
}

type Shared = State<Arc<SimState>>;
type QueryMap = Result<Query<HashMap<String, String>>, QueryRejection>;

async fn status(
    State(state): Shared,
    Extension(caller): Extension<Caller>,
    Path(slave): Path<String>,
) -> Response {
    let result = admit(&state, &caller).and_then(|caller| {
        lock(&state)?.status(&caller, &SaeId::new(slave.clone()), Instant::now())
    });
    answer("status", &caller, &slave, result)
}

async fn enc_keys_get(
    State(state): Shared,
    Extension(caller): Extension<Caller>,
    Path(slave): Path<String>,
    query: QueryMap,
) -> Response {
    let result = admit(&state, &caller).and_then(|caller| {
        let query = query_map(query)?;
        let request = wire::KeyRequest {
            number: number_param(&query, "number")?,
            size: number_param(&query, "size")?,
            ..Default::default()
        };
        enc_keys(&state, &caller, &slave, &request)
    });
    answer("enc_keys", &caller, &slave, result)
}

async fn enc_keys_post(
    State(state): Shared,
    Extension(caller): Extension<Caller>,
    Path(slave): Path<String>,
    body: Bytes,
) -> Response {
    let result = admit(&state, &caller).and_then(|caller| {
        let request: wire::KeyRequest = if body.iter().all(u8::is_ascii_whitespace) {
            wire::KeyRequest::default()
        } else {
            json_body(&body)?
        };
        enc_keys(&state, &caller, &slave, &request)
    });
    answer("enc_keys", &caller, &slave, result)
}

async fn dec_keys_get(
    State(state): Shared,
    Extension(caller): Extension<Caller>,
    Path(master): Path<String>,
    query: QueryMap,
) -> Response {
    let result = admit(&state, &caller).and_then(|caller| {
        let query = query_map(query)?;
        let Some(id) = query.get("key_ID") else {
            return Err(Refusal::BadRequest(
                "GET dec_keys needs a key_ID query parameter".into(),
            ));
        };
        lock(&state)?.dec_keys(
            &caller,
            &SaeId::new(master.clone()),
            std::slice::from_ref(id),
        )
    });
    answer("dec_keys", &caller, &master, result)
}

async fn dec_keys_post(
    State(state): Shared,
    Extension(caller): Extension<Caller>,
    Path(master): Path<String>,
    body: Bytes,
) -> Response {
    let result = admit(&state, &caller).and_then(|caller| {
        let request: KeyIds = json_body(&body)?;
        let ids: Vec<String> = request.key_ids.into_iter().map(|k| k.key_id).collect();
        lock(&state)?.dec_keys(&caller, &SaeId::new(master.clone()), &ids)
    });
    answer("dec_keys", &caller, &master, result)
}

async fn unknown_route(uri: axum::http::Uri) -> Response {
    let body = ErrorBody::new(format!("no such ETSI GS QKD 014 endpoint: {}", uri.path()));
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

fn enc_keys(
    state: &SimState,
    caller: &SaeId,
    slave: &str,
    request: &wire::KeyRequest,
) -> Result<wire::KeyContainer, Refusal> {
    let mut fill = |buf: &mut [u8]| getrandom::fill(buf).map_err(|e| e.to_string());
    lock(state)?.enc_keys(
        caller,
        &SaeId::new(slave),
        request,
        Instant::now(),
        &mut fill,
    )
}

/// Counts the request against the outage budget and checks the caller has a certificate.
fn admit(state: &SimState, caller: &Caller) -> Result<SaeId, Refusal> {
    if state.outage.admit_request() {
        return Err(Refusal::Unavailable(
            "KME unavailable (simulated outage)".into(),
        ));
    }
    caller.0.clone().ok_or_else(|| {
        Refusal::Unauthorized(
            "no client certificate presented; ETSI GS QKD 014 requires mutual TLS".into(),
        )
    })
}

fn lock(state: &SimState) -> Result<std::sync::MutexGuard<'_, KeyPool>, Refusal> {
    state
        .pool
        .lock()
        .map_err(|_| Refusal::Unavailable("key store lock poisoned".into()))
}

fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    serde_json::from_slice(body)
        .map_err(|e| Refusal::BadRequest(format!("malformed JSON request body: {e}")))
}

fn query_map(query: QueryMap) -> Result<HashMap<String, String>, Refusal> {
    query
        .map(|Query(q)| q)
        .map_err(|e| Refusal::BadRequest(format!("malformed query string: {e}")))
}

fn number_param(query: &HashMap<String, String>, name: &str) -> Result<Option<u32>, Refusal> {
    query
        .get(name)
        .map(|v| {
            v.parse::<u32>().map_err(|_| {
                Refusal::BadRequest(format!("{name} must be a non-negative integer, got {v:?}"))
            })
        })
        .transpose()
}

/// Turns a handler's outcome into the HTTP answer, logging it (ids only, never keys).
fn answer<T: Serialize>(
    call: &str,
    caller: &Caller,
    target: &str,
    result: Result<T, Refusal>,
) -> Response {
    let who = caller.0.as_ref().map_or("<no certificate>", SaeId::as_str);
    match result {
        Ok(body) => {
            info!(caller = who, call, target, "served");
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Err(refusal) => {
            warn!(
                caller = who,
                call,
                target,
                code = refusal.status_code(),
                message = refusal.message(),
                "refused"
            );
            let code = StatusCode::from_u16(refusal.status_code())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (code, axum::Json(ErrorBody::new(refusal.message()))).into_response()
        }
    }
}
