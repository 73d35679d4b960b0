//! The status report of a node (`liaison-node status`): what the running node serves on
//! `GET /status` ([`StatusReport`], JSON), fetching it from the node's status socket or
//! metrics port ([`fetch`]), and
//! what can be read from a stopped node's custody database ([`read_offline`],
//! [`offline_report`]). The counters behind it live in [`crate::metrics`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use liaison_proto::certificate::MemberCertificate;
use redb::ReadableDatabase;
use serde::{Deserialize, Serialize};

use crate::metrics::{NodeMetrics, StoreSnapshot};
use crate::store::{COUNTERS, DEPTH, Destination};
use crate::transport::crypto_provider;

/// Largest HTTP response [`fetch`] reads.
pub const MAX_RESPONSE: u64 = 8 * 1024 * 1024;

/// The JSON document of `GET /status`, and what `liaison-node status --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// Whether the report came from the running node (`false`: read offline from its files).
    pub running: bool,
    /// The node's identity fingerprint.
    pub node: String,
    /// Its certificate name.
    pub name: String,
    /// The QUIC address it listens on (running only).
    pub listen: Option<String>,
    /// Seconds since start (running only).
    pub uptime_secs: Option<u64>,
    /// Links up (running only).
    pub links: Option<Vec<LinkStatus>>,
    /// Queue depths per destination.
    pub queues: Vec<QueueStatus>,
    /// Counters: the store's durable ones and, when running, the process's own.
    pub counters: BTreeMap<String, u64>,
    /// Why the custody database could not be read offline (queues and counters unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

impl StatusReport {
    /// The report for people: identity, links, queues, counters.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let state = match self.uptime_secs {
            Some(up) if self.running => format!("running, up {}", human_duration(up)),
            _ => "not running".to_owned(),
        };
        let _ = writeln!(out, "node         {} ({state})", self.name);
        let _ = writeln!(out, "identity     {}", self.node);
        if let Some(listen) = &self.listen {
            let _ = writeln!(out, "listen       {listen}");
        }
        if let Some(links) = &self.links {
            let _ = writeln!(out, "links        {} up", links.len());
            for l in links {
                let key = if l.supplied_key {
                    "supplied key"
                } else {
                    "hybrid only"
                };
                let _ = writeln!(
                    out,
                    "  {:<8} {:<24} {}  {}  {key}, up {}",
                    l.role,
                    l.name,
                    l.peer,
                    l.remote,
                    human_duration(l.up_secs)
                );
            }
        }
        if let Some(reason) = &self.unreadable {
            let _ = writeln!(out, "queues       unknown: {reason}");
            return out;
        }
        let waiting: u64 = self.queues.iter().map(|q| q.depth).sum();
        let _ = writeln!(
            out,
            "queues       {waiting} item(s) waiting for {} destination(s)",
            self.queues.iter().filter(|q| q.depth > 0).count()
        );
        for q in self.queues.iter().filter(|q| q.depth > 0) {
            let name = if q.name.is_empty() { "?" } else { &q.name };
            let _ = writeln!(
                out,
                "  {:<8} {:<24} {}  {}",
                q.kind, name, q.destination, q.depth
            );
        }
        let _ = writeln!(out, "counters");
        for (k, v) in &self.counters {
            let _ = writeln!(out, "  {k:<32} {v}");
        }
        out
    }
}

fn human_duration(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// One link in a [`StatusReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStatus {
    /// Peer fingerprint.
    pub peer: String,
    /// Peer certificate name.
    pub name: String,
    /// `officer` or `relay`.
    pub role: String,
    /// Remote UDP address.
    pub remote: String,
    /// Whether the link mixed a supplied (QKD/PSK) key.
    pub supplied_key: bool,
    /// Seconds the link has been up.
    pub up_secs: u64,
}

/// One queue in a [`StatusReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueStatus {
    /// Destination fingerprint.
    pub destination: String,
    /// Its certificate name, when the directory knows it.
    pub name: String,
    /// `officer`, `relay` or `unknown`.
    pub kind: String,
    /// Items waiting.
    pub depth: u64,
}

/// Where a running node answers `GET /status` and `GET /metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// Its status socket (`status_socket`), on this machine.
    Socket(PathBuf),
    /// Its metrics port (`metrics_listen`).
    Http(SocketAddr),
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Socket(path) => write!(f, "socket {}", path.display()),
            Self::Http(addr) => write!(f, "http://{addr}"),
        }
    }
}

/// Why [`fetch`] got no answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// Nothing accepted the connection (the node is not running, or not there).
    #[error("{endpoint}: {reason}")]
    Unreachable {
        /// Where it asked.
        endpoint: Endpoint,
        /// Why, as the HTTP client says it.
        reason: String,
    },
    /// The connection broke or timed out mid-answer, or the answer was not a successful
    /// HTTP response with a UTF-8 body of at most [`MAX_RESPONSE`] bytes.
    #[error("{endpoint}: {reason}")]
    BadResponse {
        /// Where it asked.
        endpoint: Endpoint,
        /// What was wrong.
        reason: String,
    },
}

/// `GET path` from a running node at `endpoint` (blocking: call it outside an async runtime
/// or from its blocking pool; bounded by `timeout` and by [`MAX_RESPONSE`] bytes); returns
/// the body.
pub fn fetch(endpoint: &Endpoint, path: &str, timeout: Duration) -> Result<String, FetchError> {
    let bad = |reason: String| FetchError::BadResponse {
        endpoint: endpoint.clone(),
        reason,
    };
    // Plain HTTP, but the client insists on a TLS configuration: the node's own provider.
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(crypto_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(format!("TLS configuration: {e}")))?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let builder = reqwest::blocking::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .http1_only()
        .connect_timeout(timeout)
        .timeout(timeout);
    let (builder, url) = match endpoint {
        Endpoint::Socket(socket) => (
            builder.unix_socket(socket.as_path()),
            format!("http://liaison-node{path}"),
        ),
        Endpoint::Http(addr) => (builder, format!("http://{addr}{path}")),
    };
    let client = builder
        .build()
        .map_err(|e| bad(format!("HTTP client: {}", chain(&e))))?;
    let response = client.get(url).send().map_err(|e| {
        if e.is_connect() {
            let mut reason = root_cause(&e);
            if io_kind(&e) == Some(std::io::ErrorKind::PermissionDenied) {
                reason.push_str(" (run status as the node's user, or root)");
            }
            FetchError::Unreachable {
                endpoint: endpoint.clone(),
                reason,
            }
        } else {
            bad(chain(&e))
        }
    })?;
    if !response.status().is_success() {
        return Err(bad(format!("HTTP {}", response.status())));
    }
    let mut body = Vec::new();
    response
        .take(MAX_RESPONSE + 1)
        .read_to_end(&mut body)
        .map_err(|e| bad(e.to_string()))?;
    if body.len() as u64 > MAX_RESPONSE {
        return Err(bad(format!("answer longer than {MAX_RESPONSE} bytes")));
    }
    String::from_utf8(body).map_err(|_| bad("body not UTF-8".into()))
}

/// The kind of the first I/O error among `e`'s sources.
fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        next = err.source();
    }
    None
}

/// The innermost source of `e` (for a refused connection, the OS error).
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut innermost = e;
    while let Some(s) = innermost.source() {
        innermost = s;
    }
    innermost.to_string()
}

/// `e` and its sources, `: `-separated (reqwest's own message is terse: "error sending
/// request").
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let _ = write!(text, ": {s}");
        source = s.source();
    }
    text
}

/// Why a custody database could not be read offline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OfflineError {
    /// Another process holds the database: the node is running.
    #[error("{0} is open in another process (the node is running)")]
    InUse(String),
    /// The node stopped uncleanly (crash, SIGKILL): redb repairs the file on the next start
    /// and refuses to be read until then.
    #[error(
        "{0} was not closed cleanly (the node crashed or was killed); nothing acknowledged is \
         lost, and the node repairs the file when it next starts, but it cannot be read \
         offline until then"
    )]
    NeedsRecovery(String),
    /// The file does not exist (the node never ran with this storage path).
    #[error("{0} does not exist (the node has never run with this storage)")]
    Missing(String),
    /// The file could not be opened or read.
    #[error("{path}: {reason}")]
    Storage {
        /// The file.
        path: String,
        /// What failed.
        reason: String,
    },
}

/// Reads queue depths and counters from a stopped node's custody database, read-only.
pub fn read_offline(path: &Path) -> Result<StoreSnapshot, OfflineError> {
    let shown = path.display().to_string();
    if !path.exists() {
        return Err(OfflineError::Missing(shown));
    }
    let storage = |e: &dyn std::fmt::Display| OfflineError::Storage {
        path: shown.clone(),
        reason: e.to_string(),
    };
    let db = match redb::Database::builder().open_read_only(path) {
        Ok(db) => db,
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
            return Err(OfflineError::InUse(shown));
        }
        Err(redb::DatabaseError::RepairAborted) => return Err(OfflineError::NeedsRecovery(shown)),
        Err(e) => return Err(storage(&e)),
    };
    let txn = db.begin_read().map_err(|e| storage(&e))?;
    let mut snapshot = StoreSnapshot::default();
    if let Ok(table) = txn.open_table(DEPTH) {
        for item in table.range::<[u8; 32]>(..).map_err(|e| storage(&e))? {
            let (k, v) = item.map_err(|e| storage(&e))?;
            snapshot.depths.push((Destination(k.value()), v.value()));
        }
    }
    if let Ok(table) = txn.open_table(COUNTERS) {
        for item in table.range::<&str>(..).map_err(|e| storage(&e))? {
            let (k, v) = item.map_err(|e| storage(&e))?;
            snapshot.counters.push((k.value().to_owned(), v.value()));
        }
    }
    Ok(snapshot)
}

/// The report of a stopped node, from its certificate and its custody database.
pub fn offline_report(
    me: &MemberCertificate,
    members: &[MemberCertificate],
    store: &StoreSnapshot,
) -> StatusReport {
    let metrics = NodeMetrics::new(me, Arc::default());
    metrics.set_directory(members);
    StatusReport {
        running: false,
        node: me.subject().fingerprint(),
        name: me.name().to_owned(),
        listen: None,
        uptime_secs: None,
        links: None,
        queues: metrics.queues(&store.depths),
        counters: store.counters.iter().cloned().collect(),
        unreadable: None,
    }
}
