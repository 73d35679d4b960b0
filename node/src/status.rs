//! The status report of a node (`liaison-node status`): what the running node serves on
//! `GET /status` ([`StatusReport`], JSON), the small HTTP client that fetches it ([`fetch`]), and
//! what can be read from a stopped node's custody database ([`read_offline`],
//! [`offline_report`]). The counters behind it live in [`crate::metrics`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use liaison_proto::certificate::MemberCertificate;
use redb::ReadableDatabase;
use serde::{Deserialize, Serialize};

use crate::metrics::{NodeMetrics, StoreSnapshot};
use crate::store::{COUNTERS, DEPTH, Destination};

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

/// Why [`fetch`] got no answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// Nothing accepted the TCP connection (the node is not running, or not on this port).
    #[error("nothing answers at {addr}: {source}")]
    Unreachable {
        /// The address tried.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The connection broke or timed out mid-answer.
    #[error("{addr}: {source}")]
    Io {
        /// The address tried.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The answer was not a successful HTTP response.
    #[error("{addr}: unexpected answer: {reason}")]
    BadResponse {
        /// The address tried.
        addr: SocketAddr,
        /// What was wrong.
        reason: String,
    },
}

/// `GET path` from the node's metrics endpoint at `addr` (blocking, bounded by `timeout` per
/// step and by [`MAX_RESPONSE`] bytes); returns the body.
pub fn fetch(addr: SocketAddr, path: &str, timeout: Duration) -> Result<String, FetchError> {
    let io = |source| FetchError::Io { addr, source };
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|source| FetchError::Unreachable { addr, source })?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: */*\r\n\r\n"
    )
    .map_err(io)?;
    let mut raw = Vec::new();
    stream
        .take(MAX_RESPONSE)
        .read_to_end(&mut raw)
        .map_err(io)?;
    let bad = |reason: &str| FetchError::BadResponse {
        addr,
        reason: reason.to_owned(),
    };
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| bad("headers not UTF-8"))?;
    let status = head.lines().next().unwrap_or_default();
    if !status.starts_with("HTTP/1.1 200") && !status.starts_with("HTTP/1.0 200") {
        return Err(bad(status));
    }
    let body = &raw[split + 4..];
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(body).ok_or_else(|| bad("bad chunked encoding"))?
    } else {
        body.to_vec()
    };
    String::from_utf8(body).map_err(|_| bad("body not UTF-8"))
}

/// Decodes an HTTP/1.1 chunked body; `None` if malformed.
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&body[..line_end]).ok()?;
        let size_text = size_text.split(';').next()?.trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        if body.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_decode_and_malformed_ones_do_not_panic() {
        assert_eq!(
            dechunk(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n").as_deref(),
            Some(&b"hello world"[..])
        );
        assert_eq!(dechunk(b"ff\r\nshort\r\n"), None);
        assert_eq!(dechunk(b"zz\r\n"), None);
        assert_eq!(dechunk(b""), None);
    }
}
