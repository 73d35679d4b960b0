//! Relay logic (DESIGN.md, "Relay behaviour"): what a node does with the envelopes and
//! receipts that arrive on its links, and how it hands them on.
//!
//! * [`Relay::take_envelope`]: the header checks of `spec/protocol.md` §11.5 (sender,
//!   signature, expiry, crypto policy, clearance of recipients, of the incoming link and of the
//!   next hop, TLP:RED named recipients, first hop sent by the authenticated officer itself,
//!   size limit), routing to local recipient queues or next-hop relay queues, custody
//!   ([`CustodyStore::accept`]) — and only then the upstream `Ack`. A refusal is audited and
//!   answered with a non-fatal `Refused` frame carrying the code and reason; the link stays up.
//! * [`Relay::take_receipt`]: receipts travel back to the envelope's sender the same way,
//!   under the receipt's custody id ([`Receipt::custody_id`]).
//! * Non-delivery notices ([`Relay::take_notice`]): when an envelope this relay acknowledged
//!   goes no further (the next hop refused it for good, or it expired in a queue), the relay
//!   signs a notice saying so and sends it back to the sender like a receipt
//!   (`spec/protocol.md` §13.1).
//! * Prekeys ([`prekeys`]): officers publish theirs to their home relay; requests are answered
//!   from the store or routed towards the owner's home relay and the answer relayed back.
//! * Routing: a recipient's home relay is reached through a configured route — directly, or
//!   `via` a neighbouring relay (multi-hop) — or, without a route, directly over the link that
//!   relay opens to us (held until it does).
//! * [`Relay::forward`]: one task per link, sending what waits in the store for the link's
//!   peer and releasing each entry when the downstream `Ack` arrives. A per-destination lease
//!   lets only one link drain a queue at a time, so two links between the same relays (both
//!   dial each other) never send one entry twice.

mod notices;
pub mod prekeys;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use liaison_crypto::IdentityId;
use liaison_crypto::sign::SigningKey;
use liaison_proto::certificate::{DocumentType, MemberCertificate, Role};
use liaison_proto::envelope::{Envelope, MAX_ENVELOPE_LIFETIME_SECS, PayloadDigest};
use liaison_proto::envelope_parts::Spooled;
use liaison_proto::frame::{AckStatus, LinkFrame, MAX_ERROR_TEXT_LEN};
use liaison_proto::receipt::Receipt;
use liaison_proto::trust::TrustStore;
use liaison_proto::{ProtoError, UnixTime, WireCode};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::config::Route;
use crate::reload::{Directory, Live};
use crate::store::{AcceptOutcome, CustodyStore, Destination, Handoff, Incoming, SpoolTicket};

/// Envelopes sent on one link and not yet acknowledged.
const WINDOW: usize = 32;
/// How often a forwarder looks at its queue even without a notification.
const REPOLL: Duration = Duration::from_secs(2);
/// How long a forwarder pauses after the next hop answered `Deferred` or `RateLimited`.
const RETRY_PAUSE: Duration = Duration::from_secs(1);
/// How long answered queue entries wait to be released together. A release is not on any
/// envelope's path (custody was handed off when the answer arrived) and a lost one only makes
/// the relay hand the entry off again, so at a steady rate the releases of this window share
/// one commit instead of costing one each.
const RELEASE_WINDOW: Duration = Duration::from_millis(10);
/// Most entries released in one commit.
const RELEASE_BATCH: usize = 256;
/// Envelopes up to this size are checked on the async worker that received them rather than
/// on the blocking pool (see [`Relay::take_envelope`]).
const INLINE_CHECK_MAX: usize = 64 * 1024;

/// What the peer of a link said about an item this relay sent it (routed to the forwarder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Downstream {
    /// An `Ack`.
    Ack {
        /// The acknowledged id (message id or receipt custody id).
        id: Vec<u8>,
        /// Its status.
        status: AckStatus,
    },
    /// A `Refused` of one item.
    Refused {
        /// The refused id.
        id: Vec<u8>,
        /// The peer's wire code.
        code: u16,
        /// The peer's reason.
        reason: String,
    },
}

/// Unregisters a neighbour's link when dropped ([`Relay::neighbour_up`]).
#[derive(Debug)]
pub struct NeighbourLink {
    relay: Arc<Relay>,
    id: IdentityId,
    link: u64,
}

impl Drop for NeighbourLink {
    fn drop(&mut self) {
        let mut map = self
            .relay
            .neighbours
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if map
            .get(&self.id)
            .is_some_and(|(link, _)| *link == self.link)
        {
            map.remove(&self.id);
        }
    }
}

/// A refusal: the wire code and the reason sent to the peer (and written to the audit log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `WireCode` value.
    pub code: u16,
    /// Human-readable reason.
    pub reason: String,
}

impl From<ProtoError> for Refusal {
    fn from(e: ProtoError) -> Self {
        match liaison_proto::record::error_frame(&e) {
            LinkFrame::Error { code, reason } => Self { code, reason },
            _ => Self {
                code: e.wire_code() as u16,
                reason: e.to_string(),
            },
        }
    }
}

impl Refusal {
    fn new(code: WireCode, reason: impl Into<String>) -> Self {
        let mut reason = reason.into();
        if reason.len() > MAX_ERROR_TEXT_LEN {
            let mut cut = MAX_ERROR_TEXT_LEN;
            while !reason.is_char_boundary(cut) {
                cut -= 1;
            }
            reason.truncate(cut);
        }
        Self {
            code: code as u16,
            reason,
        }
    }

    /// The non-fatal `Refused` frame naming `id`.
    pub fn into_frame(self, id: &[u8]) -> LinkFrame {
        LinkFrame::Refused {
            id: id.to_vec(),
            code: self.code,
            reason: self.reason,
        }
    }
}

/// What the incoming link tells the relay about its peer.
#[derive(Debug, Clone)]
pub struct LinkPeer {
    /// The peer's validated certificate.
    pub certificate: MemberCertificate,
    /// The link's suite.
    pub suite: liaison_crypto::Suite,
    /// Whether the link mixed a supplied key.
    pub supplied_key_mixed: bool,
}

/// The relay's shared state.
#[derive(Debug)]
pub struct Relay {
    store: CustodyStore,
    /// Signs non-delivery notices.
    signing_key: Arc<SigningKey>,
    /// Swapped whole by a revocation list reload ([`crate::reload`]).
    trust: Arc<Live<TrustStore>>,
    me: MemberCertificate,
    /// Swapped whole by a directory reload.
    directory: Arc<Live<Directory>>,
    routes: BTreeMap<IdentityId, Route>,
    max_envelope_bytes: usize,
    /// One lease per destination: the forwarder holding it is the only one draining the queue.
    leases: Mutex<HashMap<Destination, Arc<tokio::sync::Mutex<()>>>>,
    /// Relays with a link up (dialled or accepted): the newest link's outbound queue.
    neighbours: Mutex<HashMap<IdentityId, (u64, mpsc::Sender<LinkFrame>)>>,
    link_numbers: AtomicU64,
    /// Prekey requests sent towards other relays and not yet answered.
    pending_prekeys: prekeys::Pending,
    /// Envelope verifications allowed to run at once on the blocking pool.
    verifiers: tokio::sync::Semaphore,
    /// Queue depth beyond which new items (envelopes, receipts, notices) for a destination are
    /// deferred.
    max_queue_depth: u64,
}

/// Current Unix time in seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The id a receipt is held under in custody and acknowledged by (`spec/protocol.md` §13).
/// Kept for callers of the earlier API; it is [`Receipt::custody_id`], same bytes.
pub fn receipt_custody_id(receipt: &Receipt) -> [u8; 16] {
    receipt.custody_id()
}

impl Relay {
    /// A relay over `store`, trusting `trust`, routing with `directory` and `routes`, signing
    /// its non-delivery notices with `signing_key` (the key `me` certifies).
    pub fn new(
        store: CustodyStore,
        signing_key: Arc<SigningKey>,
        trust: Arc<Live<TrustStore>>,
        me: MemberCertificate,
        directory: Arc<Live<Directory>>,
        routes: &[Route],
        max_envelope_bytes: usize,
    ) -> Self {
        Self {
            store,
            signing_key,
            trust,
            me,
            directory,
            routes: routes.iter().map(|r| (r.relay, r.clone())).collect(),
            max_envelope_bytes,
            leases: Mutex::default(),
            neighbours: Mutex::default(),
            link_numbers: AtomicU64::new(0),
            pending_prekeys: prekeys::Pending::default(),
            verifiers: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            ),
            max_queue_depth: u64::MAX,
        }
    }

    /// Defers (`Ack(Deferred)`: retry later) new envelopes, receipts and non-delivery notices
    /// for a destination whose queue holds `depth` items or more, so a dead next hop or an absent officer cannot fill the disk.
    #[must_use]
    pub fn with_max_queue_depth(mut self, depth: u64) -> Self {
        self.max_queue_depth = depth;
        self
    }

    /// The first of `destinations` whose queue is full, if any. Reads the store: call it on
    /// a blocking thread.
    fn full_queue(&self, destinations: &[Destination]) -> Option<Destination> {
        if self.max_queue_depth == u64::MAX {
            return None;
        }
        destinations
            .iter()
            .copied()
            .find(|&d| self.store.depth_now(d) >= self.max_queue_depth)
    }

    /// Registers the link to neighbouring relay `id` (its outbound frame queue) until the
    /// returned guard is dropped. The newest link of a relay is the one prekey requests use,
    /// and a relay with a link up is routable even without a configured route.
    pub fn neighbour_up(
        self: &Arc<Self>,
        id: IdentityId,
        out: mpsc::Sender<LinkFrame>,
    ) -> NeighbourLink {
        let link = self.link_numbers.fetch_add(1, Ordering::Relaxed);
        self.neighbours
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, (link, out));
        NeighbourLink {
            relay: Arc::clone(self),
            id,
            link,
        }
    }

    fn neighbour(&self, id: &IdentityId) -> Option<mpsc::Sender<LinkFrame>> {
        self.neighbours
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .map(|(_, out)| out.clone())
    }

    /// The neighbouring relay whose queue leads to relay `home`: the route's `via` or the
    /// routed relay itself; without a route, `home` itself when it is a relay of the federation
    /// (a neighbour that dials us: what waits for it goes out over the link it opens, and is
    /// held meanwhile like anything else whose next hop is down).
    pub fn next_hop(&self, home: IdentityId) -> Option<IdentityId> {
        if let Some(route) = self.routes.get(&home) {
            return Some(route.via.unwrap_or(home));
        }
        let known_relay = self
            .directory
            .load()
            .get(&home)
            .is_some_and(|c| c.role() == Role::Relay);
        (known_relay || self.neighbour(&home).is_some()).then_some(home)
    }

    fn lease(&self, destination: Destination) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.leases.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(map.entry(destination).or_default())
    }

    /// The custody store.
    pub fn store(&self) -> &CustodyStore {
        &self.store
    }

    fn wakeup(&self, destination: Destination) -> Arc<Notify> {
        self.store.wakeup(destination)
    }

    /// Refuses (non-fatally, audited) an envelope of `len` bytes from `peer` over this relay's
    /// limit: one sent whole, or one sent in parts whose parts the link did not keep
    /// ([`crate::link::LinkEvent::EnvelopeTooLarge`]). `message_id` is the 16 bytes where its
    /// id sits (zeros when there were fewer).
    pub async fn refuse_too_large(
        &self,
        peer: &LinkPeer,
        message_id: &[u8],
        len: usize,
    ) -> Vec<LinkFrame> {
        let message_id = <[u8; 16]>::try_from(message_id).unwrap_or([0; 16]);
        let refusal = Refusal::new(
            WireCode::TooLarge,
            format!(
                "envelope of {len} bytes exceeds this relay's limit of {}",
                self.max_envelope_bytes
            ),
        );
        let from = *peer.certificate.subject().as_bytes();
        self.answer(message_id, from, Err(refusal), unix_now())
            .await
    }

    /// Handles one `Envelope` frame from `peer`; returns the frames to send back (an `Ack`, or
    /// a `Refused` after which the link stays up). Parsing and signature checks run as many at
    /// a time as the machine has CPUs: on the async worker for an envelope up to 64 KiB (the
    /// checks cost less than a trip to another thread), on the blocking pool for a larger one
    /// (they hash the whole envelope, up to the size limit). `digest` is the payload hash the
    /// link computed while the envelope arrived in parts
    /// ([`crate::link::Link::take_payload_digest`]), which spares hashing the payload again;
    /// the checks are the same without it. `spool` holds most of the bytes of a large
    /// envelope the store wrote while it arrived ([`crate::link::Link::take_spool`]): adopted
    /// as its body if the envelope is taken, dropped if not.
    pub async fn take_envelope(
        self: &Arc<Self>,
        peer: &LinkPeer,
        raw: Vec<u8>,
        (digest, spool): (Option<PayloadDigest>, Option<Spooled>),
    ) -> Vec<LinkFrame> {
        let spool = spool.and_then(SpoolTicket::from_spooled);
        let now = unix_now();
        let from = *peer.certificate.subject().as_bytes();
        if raw.len() > self.max_envelope_bytes {
            // Refused before spending a parse on it; the id is read from its fixed position
            // (after the 3-byte preamble) so the sender can tell which envelope it was.
            return self
                .refuse_too_large(peer, raw.get(3..19).unwrap_or_default(), raw.len())
                .await;
        }
        // The permit bounds the checks running at once (CPU work), not the items waiting for
        // their commit: those must pile up so that one group commit serves many of them.
        let Ok(permit) = self.verifiers.acquire().await else {
            return Vec::new(); // not reached: the semaphore is never closed
        };
        let raw_len = raw.len();
        let (relay, link_peer) = (Arc::clone(self), peer.clone());
        let started = std::time::Instant::now();
        let check = move || {
            // The envelope keeps the buffer while it is checked and hands it back: a large
            // envelope is not copied.
            let (raw, checked) = match Envelope::decode_owned(raw, digest.as_ref()) {
                Ok(env) => {
                    let checked = (
                        env.header().message_id.0,
                        relay.check_envelope(&link_peer, &env, now),
                    );
                    (env.into_raw(), checked)
                }
                Err(e) => (Vec::new(), ([0; 16], Err(Refusal::from(e)))),
            };
            let full = match &checked.1 {
                Ok((_, destinations)) => relay.full_queue(destinations),
                Err(_) => None,
            };
            (raw, checked, full)
        };
        // A small envelope's checks (one composite verification, ~0.15 ms) run right here:
        // handing them to the blocking pool and back costs two thread wake-ups, more than
        // they take. Larger ones (hashing up to the size limit) go to the blocking pool.
        let verified = if raw_len <= INLINE_CHECK_MAX {
            Ok(check())
        } else {
            tokio::task::spawn_blocking(check).await
        };
        drop(permit);
        let Ok((raw, (message_id, checked), full)) = verified else {
            tracing::error!("envelope verification task failed");
            return Vec::new(); // no answer: the sender keeps custody and retransmits
        };
        if let Some(full) = full {
            tracing::warn!(id = %hex::encode(message_id), queue = %hex::encode(full.0), "queue full; deferring");
            return vec![LinkFrame::Ack {
                message_id: message_id.to_vec(),
                status: AckStatus::Deferred,
            }];
        }
        let checked_at = std::time::Instant::now();
        let outcome = match checked {
            Ok((expires, destinations)) => {
                let bytes = raw.len();
                let incoming = Incoming {
                    message_id,
                    raw,
                    expires,
                    from,
                    destinations,
                    spool: spool.map(SpoolTicket::take),
                };
                let taken = self.take_custody(incoming, now, "envelope").await;
                tracing::debug!(
                    bytes,
                    check_ms = (checked_at - started).as_secs_f64() * 1e3,
                    store_ms = checked_at.elapsed().as_secs_f64() * 1e3,
                    "envelope checked and stored"
                );
                match taken {
                    Ok(outcome) => Ok(outcome),
                    Err(deferred) => return deferred,
                }
            }
            Err(refusal) => Err(refusal),
        };
        self.answer(message_id, from, outcome, now).await
    }

    /// Stores an item that passed its checks and wakes the forwarders of its destinations. If
    /// the store fails, the answer is `Deferred`: the sender keeps custody and retries.
    async fn take_custody(
        &self,
        incoming: Incoming,
        now: u64,
        what: &'static str,
    ) -> Result<AcceptOutcome, Vec<LinkFrame>> {
        let message_id = incoming.message_id;
        let destinations = incoming.destinations.clone();
        match self.store.accept(incoming, now).await {
            Ok(outcome) => {
                // The writer woke the forwarders already when it staged the entries; this
                // covers those it did not stage (cache disabled, or an envelope larger than
                // the cache), which the forwarders can read only now that they are committed.
                for d in destinations {
                    self.wakeup(d).notify_one();
                }
                Ok(outcome)
            }
            Err(e) => {
                tracing::error!(error = %e, what, "custody store refused an item");
                Err(vec![LinkFrame::Ack {
                    message_id: message_id.to_vec(),
                    status: AckStatus::Deferred,
                }])
            }
        }
    }

    async fn answer(
        &self,
        message_id: [u8; 16],
        from: [u8; 32],
        outcome: Result<AcceptOutcome, Refusal>,
        now: u64,
    ) -> Vec<LinkFrame> {
        match outcome {
            Ok(outcome) => {
                let status = match outcome {
                    AcceptOutcome::Stored => AckStatus::Accepted,
                    AcceptOutcome::Duplicate => AckStatus::Duplicate,
                };
                tracing::debug!(id = %hex::encode(message_id), ?status, "custody taken");
                vec![LinkFrame::Ack {
                    message_id: message_id.to_vec(),
                    status,
                }]
            }
            Err(refusal) => {
                tracing::warn!(id = %hex::encode(message_id), code = refusal.code, reason = %refusal.reason, "refused");
                let detail = format!("{:#06x} {}", refusal.code, refusal.reason);
                if let Err(e) = self
                    .store
                    .record_refusal(message_id, from, detail, now)
                    .await
                {
                    tracing::error!(error = %e, "cannot audit a refusal");
                }
                vec![refusal.into_frame(&message_id)]
            }
        }
    }

    /// The relay checks; on success the expiry and the queues to place the envelope in.
    fn check_envelope(
        &self,
        peer: &LinkPeer,
        env: &Envelope,
        now: u64,
    ) -> Result<(u64, Vec<Destination>), Refusal> {
        let h = env.header();
        if peer.certificate.role() == Role::Officer && h.sender != peer.certificate.subject() {
            return Err(Refusal::new(
                WireCode::PeerNotAllowed,
                "an officer may only send envelopes as itself",
            ));
        }
        let directory = self.directory.load();
        let known: Vec<MemberCertificate> = h
            .recipients
            .iter()
            .filter_map(|r| directory.get(r).cloned())
            .collect();
        env.verify_header(&self.trust.load(), &known, UnixTime(now))?;
        // The link it came over and this relay must both be cleared, and the link's crypto
        // must meet the classification's policy.
        env.check_hop(&peer.certificate)?;
        env.check_hop(&self.me)?;
        if !h
            .classification
            .min_policy()
            .permits(peer.suite, peer.supplied_key_mixed)
        {
            return Err(Refusal::new(
                WireCode::CryptoPolicyViolation,
                format!(
                    "{} needs a stronger link (suite or supplied key)",
                    h.classification
                ),
            ));
        }
        let destinations = self.route(env, &h.recipients)?;
        Ok((h.expires.0, destinations))
    }

    /// Where each of `targets` is reached from here: its own queue when this is its home
    /// relay, else the queue of the neighbouring relay on the route to its home relay.
    fn route(&self, env: &Envelope, targets: &[IdentityId]) -> Result<Vec<Destination>, Refusal> {
        let mut out = Vec::new();
        let directory = self.directory.load();
        for id in targets {
            let cert = directory.get(id).ok_or_else(|| {
                Refusal::new(
                    WireCode::RecipientRefused,
                    format!("recipient {id} is unknown to this relay"),
                )
            })?;
            let home = cert.home_relay().ok_or_else(|| {
                Refusal::new(
                    WireCode::RecipientRefused,
                    format!("{id} is not an officer"),
                )
            })?;
            let destination = if home == self.me.subject() {
                Destination(*id.as_bytes())
            } else {
                let hop = self.next_hop(home).ok_or_else(|| {
                    Refusal::new(
                        WireCode::NoRoute,
                        format!("no route to relay {home} (home of {id})"),
                    )
                })?;
                // Every relay the envelope will cross that this relay knows must be cleared
                // for it: the next hop and the recipient's home relay.
                for relay in [hop, home] {
                    if let Some(cert) = directory.get(&relay) {
                        env.check_hop(cert)?;
                    }
                }
                Destination(*hop.as_bytes())
            };
            if !out.contains(&destination) {
                out.push(destination);
            }
        }
        Ok(out)
    }

    /// Handles one `Receipt` frame: checks it, routes it towards the envelope's sender.
    /// Its signature is checked on the blocking pool, like an envelope's.
    pub async fn take_receipt(self: &Arc<Self>, peer: &LinkPeer, raw: Vec<u8>) -> Vec<LinkFrame> {
        let now = unix_now();
        let from = *peer.certificate.subject().as_bytes();
        let receipt = match Receipt::decode(&raw) {
            Ok(r) => r,
            Err(e) => return self.answer([0; 16], from, Err(e.into()), now).await,
        };
        let id = receipt.custody_id();
        self.take_returning(peer, id, raw, "receipt", move |relay, peer, _| {
            relay.check_receipt(peer, &receipt)
        })
        .await
    }

    /// What receipts and non-delivery notices share on their way back to a sender: `check`
    /// (a signature verification, given the relay, the link's peer and the time) runs on the
    /// blocking pool like an envelope's; then custody under `id` in the queue it names, and
    /// the answer (`Ack`, or a `Refused` saying why).
    async fn take_returning(
        self: &Arc<Self>,
        peer: &LinkPeer,
        id: [u8; 16],
        raw: Vec<u8>,
        what: &'static str,
        check: impl FnOnce(&Self, &LinkPeer, u64) -> Result<Destination, Refusal> + Send + 'static,
    ) -> Vec<LinkFrame> {
        let now = unix_now();
        let from = *peer.certificate.subject().as_bytes();
        let Ok(permit) = self.verifiers.acquire().await else {
            return Vec::new(); // not reached: the semaphore is never closed
        };
        let (relay, link_peer) = (Arc::clone(self), peer.clone());
        let checked = tokio::task::spawn_blocking(move || check(&relay, &link_peer, now)).await;
        drop(permit); // checks only: see `take_envelope`
        let Ok(checked) = checked else {
            tracing::error!(what, "verification task failed");
            return Vec::new(); // no answer: the sender keeps custody and retransmits
        };
        let outcome = match checked {
            Ok(destination) => {
                // Back-pressure as for envelopes: a sender whose relay is unreachable for
                // long must not grow its queue without bound with what comes back to it.
                if self.full_queue(&[destination]).is_some() {
                    tracing::warn!(what, id = %hex::encode(id), queue = %hex::encode(destination.0), "queue full; deferring");
                    return vec![LinkFrame::Ack {
                        message_id: id.to_vec(),
                        status: AckStatus::Deferred,
                    }];
                }
                let incoming = Incoming {
                    message_id: id,
                    raw,
                    expires: now.saturating_add(MAX_ENVELOPE_LIFETIME_SECS),
                    from,
                    destinations: vec![destination],
                    spool: None,
                };
                match self.take_custody(incoming, now, what).await {
                    Ok(outcome) => Ok(outcome),
                    Err(deferred) => return deferred,
                }
            }
            Err(r) => Err(r),
        };
        self.answer(id, from, outcome, now).await
    }

    fn check_receipt(&self, peer: &LinkPeer, receipt: &Receipt) -> Result<Destination, Refusal> {
        let directory = self.directory.load();
        let recipient = directory.get(&receipt.recipient()).ok_or_else(|| {
            Refusal::new(
                WireCode::RecipientRefused,
                "receipt from a recipient unknown to this relay",
            )
        })?;
        receipt.verify_signature(recipient)?;
        if peer.certificate.role() == Role::Officer
            && receipt.recipient() != peer.certificate.subject()
        {
            return Err(Refusal::new(
                WireCode::PeerNotAllowed,
                "an officer may only send its own receipts",
            ));
        }
        self.route_to_sender(receipt.sender())
    }

    /// Runs until `cancel`: sends what waits for `destination` on `out`, and releases each entry
    /// when its `Ack` (or `Refused`) arrives on `acks`. `peer` is the link's validated
    /// certificate. Waits first for the destination's lease, so that of several links to one
    /// peer only one drains its queue; the next takes over when that link ends.
    ///
    /// Acknowledged entries are released by a companion task, so the forwarder keeps sending
    /// while their commit is in flight and one commit serves every answer that arrived
    /// meanwhile. The lease is held until those releases are durable.
    pub async fn forward(
        self: Arc<Self>,
        destination: Destination,
        peer: LinkPeer,
        out: mpsc::Sender<LinkFrame>,
        acks: mpsc::Receiver<Downstream>,
        cancel: CancellationToken,
    ) {
        let lease = self.lease(destination);
        let _lease = tokio::select! {
            () = cancel.cancelled() => return,
            held = lease.lock_owned() => held,
        };
        let how = handoff_to(&peer);
        let (release, to_release) = mpsc::channel(4 * WINDOW);
        let failed = cancel.child_token();
        let releaser = tokio::spawn(release_loop(
            self.store.clone(),
            destination,
            how,
            to_release,
            failed.clone(),
        ));
        Arc::clone(&self)
            .drive(destination, &peer, &out, acks, &release, &failed)
            .await;
        drop(release);
        if releaser.await.is_err() {
            tracing::error!("queue release task failed");
        }
    }

    /// The forwarder's loop (see [`Self::forward`]); returns when the link or the store
    /// fails, or on `cancel`.
    async fn drive(
        self: Arc<Self>,
        destination: Destination,
        peer: &LinkPeer,
        out: &mpsc::Sender<LinkFrame>,
        mut acks: mpsc::Receiver<Downstream>,
        release: &mpsc::Sender<u64>,
        cancel: &CancellationToken,
    ) {
        let how = handoff_to(peer);
        let wakeup = self.wakeup(destination);
        let mut inflight: HashMap<Vec<u8>, u64> = HashMap::new();
        let mut cursor: Option<u64> = None;
        loop {
            if inflight.len() < WINDOW {
                match self
                    .store
                    .pending(destination, cursor, WINDOW - inflight.len())
                    .await
                {
                    Ok(batch) => {
                        let now = unix_now();
                        for q in batch {
                            cursor = Some(q.seq);
                            if q.expires <= now {
                                continue; // the expiry sweep drops it, audited
                            }
                            let frame = match self.outbound_frame(peer, q.raw) {
                                Ok(f) => f,
                                Err(reason) => {
                                    tracing::warn!(id = %hex::encode(q.message_id), %reason, "held back: this link may not carry it");
                                    continue;
                                }
                            };
                            inflight.insert(q.message_id.to_vec(), q.seq);
                            if out.send(frame).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot read the custody queue");
                        return;
                    }
                }
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = wakeup.notified() => {}
                () = tokio::time::sleep(REPOLL) => {}
                answer = acks.recv() => {
                    let Some(first) = answer else { return };
                    // Everything already answered goes into one release, so one commit (one
                    // fsync) serves the whole burst instead of one commit per answer.
                    let mut answers = vec![first];
                    while answers.len() < WINDOW {
                        match acks.try_recv() {
                            Ok(a) => answers.push(a),
                            Err(_) => break,
                        }
                    }
                    let mut pause = false;
                    for answer in answers {
                        let (id, refused) = match answer {
                            Downstream::Ack { id, status: AckStatus::Deferred } => {
                                pause |= inflight.contains_key(&id);
                                continue;
                            }
                            // "Later", not "never": pause, then resend from the queue's start.
                            Downstream::Refused { id, code, .. }
                                if code == WireCode::RateLimited as u16 =>
                            {
                                pause |= inflight.contains_key(&id);
                                continue;
                            }
                            Downstream::Ack { id, status: AckStatus::Refused } => (
                                id,
                                Some((
                                    WireCode::RecipientRefused as u16,
                                    "refused without a reason (legacy Ack(Refused))".to_owned(),
                                )),
                            ),
                            Downstream::Ack { id, .. } => (id, None),
                            Downstream::Refused { id, code, reason } => (id, Some((code, reason))),
                        };
                        let Some(seq) = inflight.remove(&id) else { continue };
                        if let Some((code, reason)) = refused {
                            // Not retried unchanged (protocol-link §3.4): dropped, audited, and
                            // the sender told in a non-delivery notice.
                            let detail = format!("refused by the next hop: {code:#06x} {reason}");
                            tracing::warn!(id = %hex::encode(&id), %detail, "next hop refused custody; dropping");
                            let message_id = <[u8; 16]>::try_from(id.as_slice()).unwrap_or([0; 16]);
                            let peer_id = *peer.certificate.subject().as_bytes();
                            if let Err(e) = self.store.record_refusal(message_id, peer_id, detail, unix_now()).await {
                                tracing::error!(error = %e, "cannot audit a downstream refusal");
                            }
                            let reason = match peer.certificate.role() {
                                Role::Relay => format!("relay {} refused it: {reason}", peer.certificate.name()),
                                Role::Officer => format!("the recipient's client ({}) refused it: {reason}", peer.certificate.name()),
                            };
                            if self.give_up_queued(destination, seq, code, &reason).await.is_err() {
                                return; // the store failed: the entry stays, the link ends
                            }
                        } else {
                            tracing::debug!(
                                id = %hex::encode(&id),
                                to = peer.certificate.name(),
                                ?how,
                                "custody handed off"
                            );
                        }
                        if release.send(seq).await.is_err() {
                            return; // the releaser stopped: the store failed
                        }
                    }
                    if pause {
                        // Deferred or rate limited: pause, then resend from the queue's start
                        // (what was acknowledged above is released; the rest is resent).
                        cursor = None;
                        inflight.clear();
                        tokio::select! {
                            () = cancel.cancelled() => return,
                            () = tokio::time::sleep(RETRY_PAUSE) => {}
                        }
                    }
                }
            }
        }
    }

    /// The frame carrying a queued item on `peer`'s link, if the link may carry it.
    fn outbound_frame(&self, peer: &LinkPeer, raw: Vec<u8>) -> Result<LinkFrame, String> {
        // Everything queued passed its checks on the way in; its document type says what it is.
        match raw.get(1) {
            Some(&t) if t == DocumentType::Receipt.wire() => return Ok(LinkFrame::Receipt(raw)),
            Some(&t) if t == DocumentType::NonDelivery.wire() => {
                return Ok(LinkFrame::NonDelivery(raw));
            }
            _ => {}
        }
        let env = Envelope::decode(&raw).map_err(|e| e.to_string())?;
        env.check_hop(&peer.certificate)
            .map_err(|e| e.to_string())?;
        let level = env.header().classification;
        if !level
            .min_policy()
            .permits(peer.suite, peer.supplied_key_mixed)
        {
            return Err(format!("{level} needs a stronger link"));
        }
        Ok(LinkFrame::Envelope(raw))
    }

    /// Runs until `cancel`: drops expired envelopes every `interval` (audited by the store).
    pub async fn sweep(self: Arc<Self>, interval: Duration, cancel: CancellationToken) {
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
            // Senders are told before anything is dropped: a crash in between makes the next
            // pass tell them again, and the second notice is a duplicate of the first (same
            // custody id), not a loss.
            let now = unix_now();
            let expiring = match self.store.expiring(now).await {
                Ok(expiring) => expiring,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read what expires; sweep skipped");
                    continue;
                }
            };
            let mut told = true;
            for item in &expiring {
                for &destination in &item.destinations {
                    let reason = self.expiry_reason(destination);
                    let code = WireCode::EnvelopeExpired as u16;
                    told &= self
                        .give_up(&item.envelope, destination, code, &reason)
                        .await
                        .is_ok();
                }
            }
            if !told {
                tracing::error!(
                    "non-delivery notices not stored; expired envelopes kept until the next sweep"
                );
                continue;
            }
            match self.store.sweep_expired(now).await {
                Ok(ids) if !ids.is_empty() => {
                    tracing::info!(count = ids.len(), "expired envelopes dropped");
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "expiry sweep failed"),
            }
        }
    }
}

impl Relay {
    /// Why an envelope that expired in `destination`'s queue was not delivered.
    fn expiry_reason(&self, destination: Destination) -> String {
        let id = IdentityId::from_bytes(destination.0);
        let name = self
            .directory
            .load()
            .get(&id)
            .map_or_else(|| id.fingerprint(), |c| c.name().to_owned());
        if self.next_hop(id).is_some() {
            format!(
                "expired at relay {} while waiting for relay {name} to take it",
                self.me.name()
            )
        } else {
            format!(
                "expired at relay {} before {name} collected it",
                self.me.name()
            )
        }
    }
}

/// How an entry leaves its queue when `peer` acknowledges it.
fn handoff_to(peer: &LinkPeer) -> Handoff {
    if peer.certificate.role() == Role::Officer {
        Handoff::Delivered
    } else {
        Handoff::Forwarded
    }
}

/// Releases the queue entries `forward` hands it: those answered within [`RELEASE_WINDOW`] of
/// the first (and any that arrived while the previous commit was in flight) in one commit.
/// Stops when the forwarder drops its sender (after releasing everything sent) or when a
/// commit fails, which cancels `failed`.
async fn release_loop(
    store: CustodyStore,
    destination: Destination,
    how: Handoff,
    mut seqs: mpsc::Receiver<u64>,
    failed: CancellationToken,
) {
    while let Some(first) = seqs.recv().await {
        let mut batch = vec![first];
        let until = tokio::time::Instant::now() + RELEASE_WINDOW;
        while batch.len() < RELEASE_BATCH {
            tokio::select! {
                seq = seqs.recv() => match seq {
                    Some(seq) => batch.push(seq),
                    None => break, // the forwarder ended: release what was answered now
                },
                () = tokio::time::sleep_until(until) => break,
            }
        }
        if let Err(e) = store
            .acknowledge_many(destination, &batch, how, unix_now())
            .await
        {
            tracing::error!(error = %e, "cannot release queue entries");
            failed.cancel();
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_reasons_are_cut_to_the_frame_limit_on_a_char_boundary() {
        let refusal = Refusal::new(WireCode::NoRoute, "é".repeat(MAX_ERROR_TEXT_LEN));
        assert!(refusal.reason.len() <= MAX_ERROR_TEXT_LEN);
        assert!(refusal.reason.len() > MAX_ERROR_TEXT_LEN - 2);
        let frame = refusal.into_frame(&[7; 16]);
        let wire = frame.to_frame().expect("fits the Refused frame").encode();
        let parsed = LinkFrame::from_frame(
            &liaison_proto::frame::Frame::decode_exact(&wire).expect("decodes"),
        )
        .expect("parses");
        assert!(matches!(
            parsed,
            LinkFrame::Refused { ref id, code, .. } if id == &[7; 16] && code == WireCode::NoRoute as u16
        ));
    }
}
