//! The operations view of a node: counters, gauges and the custody-latency histogram that
//! `liaison-node run` exports in the Prometheus text format on a local HTTP port
//! (`metrics_listen`) and on its status socket (a Unix socket, `status_socket`), the JSON
//! status report `liaison-node status` reads from the socket (or the port),
//! and the link registry a revocation reload closes links through. The report itself, the
//! client that fetches it and the offline reading of a stopped node are in [`crate::status`].
//!
//! Everything here is public information about the node's work: identity fingerprints and
//! certificate names, counts, depths, durations. No key, key id, message content or message id
//! is ever recorded, so nothing secret can reach a scrape.
//!
//! Endpoints (HTTP/1.1; bind the port to loopback or a management network; the socket is
//! mode 0600):
//! * `GET /metrics` — Prometheus text exposition format 0.0.4.
//! * `GET /status` — [`StatusReport`] as JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use liaison_crypto::IdentityId;
use liaison_proto::WireCode;
use liaison_proto::certificate::{MemberCertificate, Role};
use liaison_proto::frame::LinkFrame;
use liaison_proto::trust::TrustStore;
use liaison_qkd::KeySupplyMetrics;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::link::LinkError;
use crate::status::{LinkStatus, QueueStatus, StatusReport};
use crate::store::{CustodyStore, Destination};
use crate::transport::TransportError;

/// Upper bounds (seconds) of the custody-latency histogram buckets.
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The roles counted separately; index into the per-role arrays.
fn role_index(role: Role) -> usize {
    match role {
        Role::Officer => 0,
        _ => 1,
    }
}
const ROLE_LABELS: [&str; 2] = ["officer", "relay"];

/// A latency histogram with fixed buckets ([`LATENCY_BUCKETS`]); lock-free.
#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = LATENCY_BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str) {
        let mut cumulative = 0u64;
        for (bound, n) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            cumulative += n.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// One link that is up, as the registry knows it.
#[derive(Debug)]
struct LiveLink {
    peer: MemberCertificate,
    remote: SocketAddr,
    supplied_key: bool,
    since: Instant,
    /// The link's outbound queue: an `Error` put here is sent and the link closed.
    out: tokio::sync::mpsc::Sender<LinkFrame>,
    cancel: CancellationToken,
}

/// Counters and gauges of one running node. Shared by every task; all updates are atomic or
/// behind short-lived locks.
#[derive(Debug)]
pub struct NodeMetrics {
    started: Instant,
    node: IdentityId,
    name: String,
    listen: Mutex<Option<SocketAddr>>,
    key_supply: Arc<KeySupplyMetrics>,
    handshakes_ok: [AtomicU64; 2],
    handshake_failures: Mutex<BTreeMap<&'static str, u64>>,
    refusals: Mutex<BTreeMap<u16, u64>>,
    rate_limited: [AtomicU64; 2],
    link_timeouts: AtomicU64,
    custody_latency: Histogram,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    links_revoked: AtomicU64,
    next_link: AtomicU64,
    links: Mutex<BTreeMap<u64, LiveLink>>,
    names: RwLock<BTreeMap<IdentityId, (String, Role)>>,
    /// Installed revocation lists: (issuer fingerprint, number, next_update).
    revocations: Mutex<Vec<(String, u64, u64)>>,
}

/// Keeps a link in the registry (and in `liaison_links_up`) until dropped.
#[derive(Debug)]
#[must_use = "the link counts as up only while the registration lives"]
pub struct LinkRegistration {
    metrics: Arc<NodeMetrics>,
    id: u64,
}

impl Drop for LinkRegistration {
    fn drop(&mut self) {
        lock(&self.metrics.links).remove(&self.id);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl NodeMetrics {
    /// Metrics of the node `me`, sharing the key-supply counters the links update.
    pub fn new(me: &MemberCertificate, key_supply: Arc<KeySupplyMetrics>) -> Self {
        Self {
            started: Instant::now(),
            node: me.subject(),
            name: me.name().to_owned(),
            listen: Mutex::default(),
            key_supply,
            handshakes_ok: Default::default(),
            handshake_failures: Mutex::default(),
            refusals: Mutex::default(),
            rate_limited: Default::default(),
            link_timeouts: AtomicU64::new(0),
            custody_latency: Histogram::default(),
            reloads_ok: AtomicU64::new(0),
            reloads_failed: AtomicU64::new(0),
            links_revoked: AtomicU64::new(0),
            next_link: AtomicU64::new(0),
            links: Mutex::default(),
            names: RwLock::default(),
            revocations: Mutex::default(),
        }
    }

    /// Records the revocation lists `trust` holds (at start and after each reload), so their
    /// numbers and due dates can be watched.
    pub fn set_revocations(&self, trust: &TrustStore) {
        *lock(&self.revocations) = trust
            .anchor_ids()
            .filter_map(|issuer| {
                let list = trust.revocation_list(issuer)?;
                Some((issuer.fingerprint(), list.number(), list.next_update().0))
            })
            .collect();
    }

    /// The key-supply counters (keys obtained, fallbacks, required failures).
    pub fn key_supply(&self) -> &Arc<KeySupplyMetrics> {
        &self.key_supply
    }

    /// Records the QUIC address the node listens on.
    pub fn set_listen(&self, addr: SocketAddr) {
        *lock(&self.listen) = Some(addr);
    }

    /// Names queue destinations and links by the member directory (replaced on reload).
    pub fn set_directory<'a>(&self, members: impl IntoIterator<Item = &'a MemberCertificate>) {
        let names = members
            .into_iter()
            .map(|c| (c.subject(), (c.name().to_owned(), c.role())))
            .collect();
        *self.names.write().unwrap_or_else(|p| p.into_inner()) = names;
    }

    /// A link handshake succeeded with a peer of `role`.
    pub fn handshake_ok(&self, role: Role) {
        self.handshakes_ok[role_index(role)].fetch_add(1, Ordering::Relaxed);
    }

    /// A link handshake failed (either direction); counted by [`failure_reason`].
    pub fn handshake_failed(&self, error: &LinkError) {
        self.handshake_failed_because(failure_reason(error));
    }

    /// A link was refused after its handshake because of the per-peer policy (`reason` is a
    /// fixed label such as `supplied_key_required`).
    pub fn handshake_failed_because(&self, reason: &'static str) {
        *lock(&self.handshake_failures).entry(reason).or_default() += 1;
    }

    /// Registers a link that is up until the returned registration is dropped. `out` is the
    /// link's outbound frame queue and `cancel` its token: [`Self::close_links_where`] uses them
    /// to close it when a revocation list reload revokes its peer.
    pub fn link_up(
        self: &Arc<Self>,
        peer: &MemberCertificate,
        remote: SocketAddr,
        supplied_key: bool,
        out: tokio::sync::mpsc::Sender<LinkFrame>,
        cancel: CancellationToken,
    ) -> LinkRegistration {
        let id = self.next_link.fetch_add(1, Ordering::Relaxed);
        lock(&self.links).insert(
            id,
            LiveLink {
                peer: peer.clone(),
                remote,
                supplied_key,
                since: Instant::now(),
                out,
                cancel,
            },
        );
        LinkRegistration {
            metrics: Arc::clone(self),
            id,
        }
    }

    /// Closes every live link whose peer `revoked` returns a reason for, with an `Error`
    /// frame carrying `WireCode::CertificateRevoked` and that reason; returns the closed peers'
    /// certificates.
    pub fn close_links_where(
        &self,
        mut revoked: impl FnMut(&MemberCertificate) -> Option<String>,
    ) -> Vec<MemberCertificate> {
        let mut closed = Vec::new();
        for link in lock(&self.links).values() {
            if link.cancel.is_cancelled() {
                continue;
            }
            let Some(reason) = revoked(&link.peer) else {
                continue;
            };
            let error = LinkFrame::Error {
                code: WireCode::CertificateRevoked as u16,
                reason,
            };
            if link.out.try_send(error).is_err() {
                link.cancel.cancel(); // queue full or link ending: close without the frame
            }
            closed.push(link.peer.clone());
        }
        self.links_revoked
            .fetch_add(closed.len() as u64, Ordering::Relaxed);
        closed
    }

    /// Links up now, per role (officer, relay).
    pub fn links_up(&self) -> [u64; 2] {
        let mut up = [0u64; 2];
        for link in lock(&self.links).values() {
            up[role_index(link.peer.role())] += 1;
        }
        up
    }

    /// Counts what a frame about to be sent to a peer says: a `Refused` (or a fatal `Error`
    /// carrying a refusal) by its wire code.
    pub fn frame_sent(&self, frame: &LinkFrame) {
        if let LinkFrame::Refused { code, .. } | LinkFrame::Error { code, .. } = frame {
            *lock(&self.refusals).entry(*code).or_default() += 1;
        }
    }

    /// Custody of one item arriving at `arrived` was answered with `frames`: an accepting
    /// `Ack` means the item is durably committed, so the elapsed time is custody latency.
    pub fn custody_answered(&self, arrived: Instant, frames: &[LinkFrame]) {
        let committed = frames.iter().any(|f| {
            matches!(f, LinkFrame::Ack { status, .. }
                if *status == liaison_proto::frame::AckStatus::Accepted)
        });
        if committed {
            self.custody_latency.observe(arrived.elapsed());
        }
    }

    /// An item from a peer of `role` was refused by its rate limit.
    pub fn rate_limited(&self, role: Role) {
        self.rate_limited[role_index(role)].fetch_add(1, Ordering::Relaxed);
    }

    /// A link was closed because its peer fell silent (no frame within `peer_timeout_secs`).
    pub fn link_timed_out(&self) {
        self.link_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    /// A revocation list / directory reload finished.
    pub fn reloaded(&self, ok: bool) {
        let counter = if ok {
            &self.reloads_ok
        } else {
            &self.reloads_failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn describe(&self, id: &IdentityId) -> (String, &'static str) {
        let names = self.names.read().unwrap_or_else(|p| p.into_inner());
        match names.get(id) {
            Some((name, role)) => (name.clone(), role.name()),
            None => (String::new(), "unknown"),
        }
    }

    /// In-process counters by name (the keys of [`StatusReport::counters`] they fill).
    fn process_counters(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for (i, role) in ROLE_LABELS.iter().enumerate() {
            out.insert(
                format!("handshakes_ok_{role}"),
                self.handshakes_ok[i].load(Ordering::Relaxed),
            );
            out.insert(
                format!("rate_limited_{role}"),
                self.rate_limited[i].load(Ordering::Relaxed),
            );
        }
        let failed: u64 = lock(&self.handshake_failures).values().sum();
        out.insert("handshakes_failed".into(), failed);
        let refused: u64 = lock(&self.refusals).values().sum();
        out.insert("refusals_sent".into(), refused);
        out.insert(
            "link_timeouts".into(),
            self.link_timeouts.load(Ordering::Relaxed),
        );
        out.insert(
            "links_revoked".into(),
            self.links_revoked.load(Ordering::Relaxed),
        );
        out.insert(
            "custody_commits_observed".into(),
            self.custody_latency.count.load(Ordering::Relaxed),
        );
        for (name, v) in self.key_supply.snapshot() {
            let short = name
                .trim_start_matches("liaison_")
                .trim_end_matches("_total");
            out.insert(short.to_owned(), v);
        }
        out
    }

    /// The Prometheus text exposition of everything, with the store's queue depths and
    /// durable counters (`store` may be empty when the store could not be read).
    pub fn render_prometheus(&self, store: &StoreSnapshot) -> String {
        let mut out = String::with_capacity(4096);
        let fp = self.node.fingerprint();
        let listen = lock(&self.listen)
            .map(|a| a.to_string())
            .unwrap_or_default();
        header(
            &mut out,
            "liaison_node_info",
            "gauge",
            "Identity of this node (value 1).",
        );
        let _ = writeln!(
            out,
            "liaison_node_info{{node=\"{}\",name=\"{}\",listen=\"{}\",version=\"{}\"}} 1",
            escape(&fp),
            escape(&self.name),
            escape(&listen),
            env!("CARGO_PKG_VERSION")
        );
        header(
            &mut out,
            "liaison_uptime_seconds",
            "gauge",
            "Seconds since the node started.",
        );
        let _ = writeln!(
            out,
            "liaison_uptime_seconds {}",
            self.started.elapsed().as_secs()
        );

        header(
            &mut out,
            "liaison_queue_depth",
            "gauge",
            "Items in custody waiting for a destination (a next-hop relay or a local officer).",
        );
        let mut total = 0u64;
        for (dest, depth) in &store.depths {
            let id = IdentityId::from_bytes(dest.0);
            let (name, kind) = self.describe(&id);
            total += depth;
            let _ = writeln!(
                out,
                "liaison_queue_depth{{destination=\"{}\",name=\"{}\",kind=\"{kind}\"}} {depth}",
                id.fingerprint(),
                escape(&name)
            );
        }
        header(
            &mut out,
            "liaison_queue_depth_total",
            "gauge",
            "Items in custody waiting, all destinations.",
        );
        let _ = writeln!(out, "liaison_queue_depth_total {total}");

        header(
            &mut out,
            "liaison_custody_events_total",
            "counter",
            "Custody events recorded durably by the store, since the database was created.",
        );
        for (name, v) in &store.counters {
            let event = match name.as_str() {
                "stored" => "accepted",
                "duplicates" => "duplicate",
                "commits" | "audit_entries" => continue,
                other => other,
            };
            let _ = writeln!(
                out,
                "liaison_custody_events_total{{event=\"{}\"}} {v}",
                escape(event)
            );
        }
        for (metric, key, help) in [
            (
                "liaison_custody_commits_total",
                "commits",
                "Durable store commits (one commit serves many arrivals).",
            ),
            (
                "liaison_audit_entries",
                "audit_entries",
                "Entries in the hash-chained audit log.",
            ),
        ] {
            if let Some((_, v)) = store.counters.iter().find(|(k, _)| k == key) {
                let kind = if metric.ends_with("_total") {
                    "counter"
                } else {
                    "gauge"
                };
                header(&mut out, metric, kind, help);
                let _ = writeln!(out, "{metric} {v}");
            }
        }

        header(
            &mut out,
            "liaison_custody_latency_seconds",
            "histogram",
            "From an envelope or receipt arriving on a link to its durable commit (the upstream Ack).",
        );
        self.custody_latency
            .render(&mut out, "liaison_custody_latency_seconds");

        header(
            &mut out,
            "liaison_handshakes_total",
            "counter",
            "Link handshakes completed, by peer role.",
        );
        for (i, role) in ROLE_LABELS.iter().enumerate() {
            let _ = writeln!(
                out,
                "liaison_handshakes_total{{role=\"{role}\"}} {}",
                self.handshakes_ok[i].load(Ordering::Relaxed)
            );
        }
        header(
            &mut out,
            "liaison_handshake_failures_total",
            "counter",
            "Link handshakes that failed or were refused, by reason.",
        );
        for (reason, n) in lock(&self.handshake_failures).iter() {
            let _ = writeln!(
                out,
                "liaison_handshake_failures_total{{reason=\"{reason}\"}} {n}"
            );
        }

        header(
            &mut out,
            "liaison_links_up",
            "gauge",
            "Links up now, by peer role.",
        );
        for (role, n) in ROLE_LABELS.iter().zip(self.links_up()) {
            let _ = writeln!(out, "liaison_links_up{{role=\"{role}\"}} {n}");
        }
        header(
            &mut out,
            "liaison_link_timeouts_total",
            "counter",
            "Links closed because the peer sent nothing within peer_timeout_secs.",
        );
        let _ = writeln!(
            out,
            "liaison_link_timeouts_total {}",
            self.link_timeouts.load(Ordering::Relaxed)
        );
        header(
            &mut out,
            "liaison_links_revoked_total",
            "counter",
            "Live links closed because a reloaded revocation list revoked the peer.",
        );
        let _ = writeln!(
            out,
            "liaison_links_revoked_total {}",
            self.links_revoked.load(Ordering::Relaxed)
        );

        header(
            &mut out,
            "liaison_refusals_total",
            "counter",
            "Refusals sent to peers, by wire code.",
        );
        for (code, n) in lock(&self.refusals).iter() {
            let _ = writeln!(
                out,
                "liaison_refusals_total{{code=\"{code:#06x}\",reason=\"{}\"}} {n}",
                code_name(*code)
            );
        }
        header(
            &mut out,
            "liaison_rate_limited_total",
            "counter",
            "Items (envelopes, receipts, prekey publications and requests) refused by a per-peer rate limit, by peer role.",
        );
        for (i, role) in ROLE_LABELS.iter().enumerate() {
            let _ = writeln!(
                out,
                "liaison_rate_limited_total{{role=\"{role}\"}} {}",
                self.rate_limited[i].load(Ordering::Relaxed)
            );
        }

        for (name, v) in self.key_supply.snapshot() {
            let help = match name {
                "liaison_key_supply_keys_obtained_total" => {
                    "Supplied (QKD/PSK) keys obtained for link handshakes and rekeys."
                }
                "liaison_key_supply_fallbacks_total" => {
                    "Times qkd = preferred went on hybrid-only because the supply failed."
                }
                _ => "Times qkd = required failed closed (link not opened or refused).",
            };
            header(&mut out, name, "counter", help);
            let _ = writeln!(out, "{name} {v}");
        }

        header(
            &mut out,
            "liaison_revocation_list_number",
            "gauge",
            "Number of the installed revocation list, per issuing authority.",
        );
        let revocations = lock(&self.revocations).clone();
        for (issuer, number, _) in &revocations {
            let _ = writeln!(
                out,
                "liaison_revocation_list_number{{issuer=\"{issuer}\"}} {number}"
            );
        }
        header(
            &mut out,
            "liaison_revocation_list_next_update_seconds",
            "gauge",
            "Unix time after which the installed revocation list is stale (fetch a new one before).",
        );
        for (issuer, _, next_update) in &revocations {
            let _ = writeln!(
                out,
                "liaison_revocation_list_next_update_seconds{{issuer=\"{issuer}\"}} {next_update}"
            );
        }
        header(
            &mut out,
            "liaison_revocation_reloads_total",
            "counter",
            "Reloads of the revocation list and member directory, by result.",
        );
        let _ = writeln!(
            out,
            "liaison_revocation_reloads_total{{result=\"ok\"}} {}",
            self.reloads_ok.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "liaison_revocation_reloads_total{{result=\"failed\"}} {}",
            self.reloads_failed.load(Ordering::Relaxed)
        );
        out
    }

    /// The status report of the running node.
    pub fn report(&self, store: &StoreSnapshot) -> StatusReport {
        let now = Instant::now();
        let links = lock(&self.links)
            .values()
            .map(|l| LinkStatus {
                peer: l.peer.subject().fingerprint(),
                name: l.peer.name().to_owned(),
                role: l.peer.role().name().to_owned(),
                remote: l.remote.to_string(),
                supplied_key: l.supplied_key,
                up_secs: now.saturating_duration_since(l.since).as_secs(),
            })
            .collect();
        let mut counters: BTreeMap<String, u64> = store.counters.iter().cloned().collect();
        counters.extend(self.process_counters());
        StatusReport {
            running: true,
            node: self.node.fingerprint(),
            name: self.name.clone(),
            listen: lock(&self.listen).map(|a| a.to_string()),
            uptime_secs: Some(self.started.elapsed().as_secs()),
            links: Some(links),
            queues: self.queues(&store.depths),
            counters,
            unreadable: None,
        }
    }

    pub(crate) fn queues(&self, depths: &[(Destination, u64)]) -> Vec<QueueStatus> {
        depths
            .iter()
            .map(|(d, depth)| {
                let id = IdentityId::from_bytes(d.0);
                let (name, kind) = self.describe(&id);
                QueueStatus {
                    destination: id.fingerprint(),
                    name,
                    kind: kind.to_owned(),
                    depth: *depth,
                }
            })
            .collect()
    }
}

/// A fixed, low-cardinality label for a failed handshake.
pub fn failure_reason(error: &LinkError) -> &'static str {
    match error {
        LinkError::Proto(e) => code_name(e.wire_code() as u16),
        LinkError::Transport(_) => "tls_exporter",
        LinkError::Connection(_) | LinkError::Write(_) | LinkError::Read(_) => "connection",
        LinkError::Dial { .. } => "dial",
        LinkError::Truncated => "truncated",
        LinkError::HandshakeTimeout => "timeout",
        LinkError::PeerRefused { .. } => "refused_by_peer",
        LinkError::SuppliedKeyRequired(_) => "supplied_key_required",
        LinkError::PeerSilent { .. } => "peer_silent",
    }
}

/// The snake-case name of a wire code (`recipient_refused`), or `unknown`.
pub fn code_name(code: u16) -> &'static str {
    let Some(c) = WireCode::from_u16(code) else {
        return "unknown";
    };
    match c {
        WireCode::Malformed => "malformed",
        WireCode::AuthenticationFailed => "authentication_failed",
        WireCode::UnexpectedMessage => "unexpected_message",
        WireCode::UnsupportedVersion => "unsupported_version",
        WireCode::NoCommonSuite => "no_common_suite",
        WireCode::PeerNotAllowed => "peer_not_allowed",
        WireCode::Timeout => "timeout",
        WireCode::UnknownIssuer => "unknown_issuer",
        WireCode::CertificateExpired => "certificate_expired",
        WireCode::CertificateRevoked => "certificate_revoked",
        WireCode::WrongRole => "wrong_role",
        WireCode::ClearanceExceeded => "clearance_exceeded",
        WireCode::CryptoPolicyViolation => "crypto_policy_violation",
        WireCode::EnvelopeExpired => "envelope_expired",
        WireCode::RecipientRefused => "recipient_refused",
        WireCode::PrekeyRefused => "prekey_refused",
        WireCode::RevocationListRefused => "revocation_list_refused",
        WireCode::ReceiptMismatch => "receipt_mismatch",
        WireCode::SuppliedKeyUnavailable => "supplied_key_unavailable",
        WireCode::TooLarge => "too_large",
        WireCode::NoRoute => "no_route",
        WireCode::RateLimited => "rate_limited",
        WireCode::NoPrekey => "no_prekey",
        _ => "unknown",
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Escapes a Prometheus label value (backslash, double quote, newline).
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// What the custody store says about itself: queue depths and durable counters.
#[derive(Debug, Clone, Default)]
pub struct StoreSnapshot {
    /// Depth per destination.
    pub depths: Vec<(Destination, u64)>,
    /// Store counters (`stored`, `duplicates`, `forwarded`, `delivered`, `expired`,
    /// `refused`, `commits`, `audit_entries`).
    pub counters: Vec<(String, u64)>,
}

impl StoreSnapshot {
    /// Reads the running store (each half left empty, and logged, if it cannot be read).
    pub async fn of(store: &CustodyStore) -> Self {
        let depths = store.depths().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "metrics: cannot read queue depths");
            Vec::new()
        });
        let counters = store.counters().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "metrics: cannot read store counters");
            Vec::new()
        });
        Self { depths, counters }
    }
}

/// What the endpoint's handlers read.
#[derive(Debug, Clone)]
struct Endpoint {
    metrics: Arc<NodeMetrics>,
    store: CustodyStore,
}

/// `GET /metrics`: the Prometheus text exposition.
async fn get_metrics(State(e): State<Endpoint>) -> impl IntoResponse {
    let snapshot = StoreSnapshot::of(&e.store).await;
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        e.metrics.render_prometheus(&snapshot),
    )
}

/// `GET /status`: the [`StatusReport`] as JSON.
async fn get_status(State(e): State<Endpoint>) -> Json<StatusReport> {
    let snapshot = StoreSnapshot::of(&e.store).await;
    Json(e.metrics.report(&snapshot))
}

/// Binds `addr` and serves `/metrics` and `/status` until `cancel`; returns the bound address.
pub async fn spawn_endpoint(
    addr: SocketAddr,
    metrics: Arc<NodeMetrics>,
    store: CustodyStore,
    tracker: &TaskTracker,
    cancel: CancellationToken,
) -> Result<SocketAddr, TransportError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| TransportError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| TransportError::Bind { addr, source })?;
    let router = routes(metrics, store);
    tracker.spawn(async move {
        let shutdown = cancel.clone();
        if let Err(e) = axum::serve(listener, router)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
        {
            tracing::error!(error = %e, "metrics endpoint failed");
        }
    });
    tracing::info!(addr = %local, "metrics endpoint up (/metrics, /status)");
    Ok(local)
}

/// Why the status socket could not be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SocketError {
    /// Another process answers on the socket (another node configured with the same path).
    #[error("status socket {}: another process answers on it", path.display())]
    InUse {
        /// The socket.
        path: PathBuf,
    },
    /// Something other than a socket is at the path.
    #[error("status socket {}: the path exists and is not a socket", path.display())]
    NotASocket {
        /// The path.
        path: PathBuf,
    },
    /// The OS refused (a missing directory, permissions, a path too long for a socket).
    #[error("status socket {}: {source}", path.display())]
    Io {
        /// The socket.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Serves `/status` and `/metrics` on the Unix socket `path` (mode 0600) until `cancel`, then
/// removes it (if it is still the one this call made). A socket left at `path` by a node that
/// was killed (connecting is refused) is replaced; a live one, one whose state cannot be told,
/// or anything that is not a socket, is an error.
///
/// The socket is bound under a temporary name in the same directory, given mode 0600 and only
/// then renamed to `path`, so it is never reachable at `path` with the process umask's mode.
pub async fn spawn_status_socket(
    path: &Path,
    metrics: Arc<NodeMetrics>,
    store: CustodyStore,
    tracker: &TaskTracker,
    cancel: CancellationToken,
) -> Result<(), SocketError> {
    use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, PermissionsExt as _};

    let io = |source| SocketError::Io {
        path: path.to_owned(),
        source,
    };
    let is_socket = |p: &Path| {
        std::fs::symlink_metadata(p)
            .map(|m| m.file_type().is_socket())
            .map_err(|e| e.kind())
    };
    match is_socket(path) {
        Ok(true) => match tokio::net::UnixStream::connect(path).await {
            Ok(_) => {
                return Err(SocketError::InUse {
                    path: path.to_owned(),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                tracing::info!(path = %path.display(), "replacing a stale status socket");
            }
            Err(e) => return Err(io(e)),
        },
        Ok(false) => {
            return Err(SocketError::NotASocket {
                path: path.to_owned(),
            });
        }
        Err(std::io::ErrorKind::NotFound) => {}
        Err(kind) => return Err(io(kind.into())),
    }
    let temporary = path.with_file_name(format!(".status-{}.tmp", std::process::id()));
    if is_socket(&temporary) == Ok(true) {
        std::fs::remove_file(&temporary).map_err(io)?; // a process with our pid, killed
    }
    let listener = tokio::net::UnixListener::bind(&temporary).map_err(io)?;
    let placed = std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(0o600))
        .and_then(|()| std::fs::rename(&temporary, path))
        .and_then(|()| std::fs::symlink_metadata(path));
    let ours = match placed {
        Ok(meta) => (meta.dev(), meta.ino()),
        Err(e) => {
            let _ = std::fs::remove_file(&temporary);
            return Err(io(e));
        }
    };
    let router = routes(metrics, store);
    let owned = path.to_owned();
    tracker.spawn(async move {
        let shutdown = cancel.clone();
        if let Err(e) = axum::serve(listener, router)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
        {
            tracing::error!(error = %e, "status socket failed");
        }
        // Only the socket this node made: not whatever took its place meanwhile.
        match std::fs::symlink_metadata(&owned) {
            Ok(meta) if (meta.dev(), meta.ino()) == ours => {
                if let Err(e) = std::fs::remove_file(&owned) {
                    tracing::warn!(path = %owned.display(), error = %e, "status socket not removed");
                }
            }
            _ => tracing::debug!(path = %owned.display(), "status socket replaced or gone; left alone"),
        }
    });
    tracing::info!(path = %path.display(), "status socket up (/status, /metrics)");
    Ok(())
}

fn routes(metrics: Arc<NodeMetrics>, store: CustodyStore) -> axum::Router {
    axum::Router::new()
        .route("/metrics", get(get_metrics))
        .route("/status", get(get_status))
        .with_state(Endpoint { metrics, store })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(300));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(30));
        let mut out = String::new();
        h.render(&mut out, "x");
        assert!(out.contains("x_bucket{le=\"0.0005\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"0.005\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"10\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("x_count 3\n"), "{out}");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn every_known_wire_code_has_a_name() {
        for code in WireCode::ALL {
            assert_ne!(code_name(code as u16), "unknown", "{code:?}");
        }
        assert_eq!(code_name(0xfff0), "unknown");
    }
}
