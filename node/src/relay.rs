//! Relay logic (DESIGN.md, "Relay behaviour"): what a node does with the envelopes and
//! receipts that arrive on its links, and how it hands them on.
//!
//! * [`Relay::take_envelope`]: the header checks of `spec/protocol.md` §11.5 (sender,
//!   signature, expiry, crypto policy, clearance of recipients, of the incoming link and of the
//!   next hop, TLP:RED named recipients, first hop sent by the authenticated officer itself,
//!   size limit), routing to local recipient queues or next-hop relay queues, custody
//!   ([`CustodyStore::accept`]) — and only then the upstream `Ack`. A refusal is audited and
//!   answered with `Ack(Refused)` plus an `Error` frame carrying the code and reason.
//! * [`Relay::take_receipt`]: receipts travel back to the envelope's sender the same way,
//!   under a custody id derived from the receipt ([`receipt_custody_id`]).
//! * [`Relay::forward`]: one task per destination while its link is up, sending what waits in
//!   the store and releasing each entry when the downstream `Ack` arrives.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use liaison_crypto::IdentityId;
use liaison_proto::certificate::{MemberCertificate, Role};
use liaison_proto::envelope::{Envelope, MAX_ENVELOPE_LIFETIME_SECS};
use liaison_proto::frame::{AckStatus, LinkFrame};
use liaison_proto::receipt::Receipt;
use liaison_proto::trust::TrustStore;
use liaison_proto::{ProtoError, UnixTime, WireCode};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::config::Route;
use crate::store::{AcceptOutcome, CustodyStore, Destination, Handoff, Incoming};

/// Envelopes sent on one link and not yet acknowledged.
const WINDOW: usize = 32;
/// How often a forwarder looks at its queue even without a notification.
const REPOLL: Duration = Duration::from_secs(2);

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
        Self {
            code: code as u16,
            reason: reason.into(),
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
    trust: Arc<TrustStore>,
    me: MemberCertificate,
    directory: BTreeMap<IdentityId, MemberCertificate>,
    routes: BTreeMap<IdentityId, Route>,
    max_envelope_bytes: usize,
    wakeups: Mutex<HashMap<Destination, Arc<Notify>>>,
}

/// Current Unix time in seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The id a receipt is held under in custody and acknowledged by (`spec/protocol.md` §13):
/// the first 16 bytes of `SHA-384(info("liaison receipt custody id v1", [message id, envelope
/// hash, recipient id]))`. It differs from the envelope's own id, and receipts from different
/// recipients of one envelope get different ids, so none is mistaken for a duplicate.
pub fn receipt_custody_id(receipt: &Receipt) -> [u8; 16] {
    custody_id_of_receipt(
        &receipt.message_id().0,
        receipt.envelope_hash(),
        &receipt.recipient(),
    )
}

fn custody_id_of_receipt(
    message_id: &[u8; 16],
    envelope_hash: &[u8],
    recipient: &IdentityId,
) -> [u8; 16] {
    let mut t = liaison_crypto::kdf::Transcript::new(liaison_crypto::labels::RECEIPT_CUSTODY_ID);
    t.absorb(message_id);
    t.absorb(envelope_hash);
    t.absorb(recipient.as_bytes());
    let hash = t.current();
    core::array::from_fn(|i| hash[i])
}

impl Relay {
    /// A relay over `store`, trusting `trust`, routing with `directory` and `routes`.
    pub fn new(
        store: CustodyStore,
        trust: Arc<TrustStore>,
        me: MemberCertificate,
        directory: BTreeMap<IdentityId, MemberCertificate>,
        routes: &[Route],
        max_envelope_bytes: usize,
    ) -> Self {
        Self {
            store,
            trust,
            me,
            directory,
            routes: routes.iter().map(|r| (r.relay, r.clone())).collect(),
            max_envelope_bytes,
            wakeups: Mutex::default(),
        }
    }

    /// The custody store.
    pub fn store(&self) -> &CustodyStore {
        &self.store
    }

    fn wakeup(&self, destination: Destination) -> Arc<Notify> {
        let mut map = self.wakeups.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(map.entry(destination).or_default())
    }

    /// Handles one `Envelope` frame from `peer`; returns the frames to send back (an `Ack`,
    /// or `Ack(Refused)` and an `Error` after which the link closes).
    pub async fn take_envelope(&self, peer: &LinkPeer, raw: Vec<u8>) -> Vec<LinkFrame> {
        let now = unix_now();
        let from = *peer.certificate.subject().as_bytes();
        let (message_id, checked) = match Envelope::decode(&raw) {
            Ok(env) => (
                env.header().message_id.0,
                self.check_envelope(peer, &env, raw.len(), now),
            ),
            Err(e) => ([0; 16], Err(Refusal::from(e))),
        };
        let outcome = match checked {
            Ok((expires, destinations)) => {
                let incoming = Incoming {
                    message_id,
                    raw,
                    expires,
                    from,
                    destinations: destinations.clone(),
                };
                match self.store.accept(incoming, now).await {
                    Ok(outcome) => {
                        for d in destinations {
                            self.wakeup(d).notify_one();
                        }
                        Ok(outcome)
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "custody store refused an envelope");
                        return vec![LinkFrame::Ack {
                            message_id: message_id.to_vec(),
                            status: AckStatus::Deferred,
                        }];
                    }
                }
            }
            Err(refusal) => Err(refusal),
        };
        self.answer(message_id, from, outcome, now).await
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
                vec![
                    LinkFrame::Ack {
                        message_id: message_id.to_vec(),
                        status: AckStatus::Refused,
                    },
                    LinkFrame::Error {
                        code: refusal.code,
                        reason: refusal.reason,
                    },
                ]
            }
        }
    }

    /// The relay checks; on success the expiry and the queues to place the envelope in.
    fn check_envelope(
        &self,
        peer: &LinkPeer,
        env: &Envelope,
        size: usize,
        now: u64,
    ) -> Result<(u64, Vec<Destination>), Refusal> {
        if size > self.max_envelope_bytes {
            return Err(Refusal::new(
                WireCode::Malformed,
                format!(
                    "envelope of {size} bytes exceeds this relay's limit of {}",
                    self.max_envelope_bytes
                ),
            ));
        }
        let h = env.header();
        if peer.certificate.role() == Role::Officer && h.sender != peer.certificate.subject() {
            return Err(Refusal::new(
                WireCode::PeerNotAllowed,
                "an officer may only send envelopes as itself",
            ));
        }
        let known: Vec<MemberCertificate> = h
            .recipients
            .iter()
            .filter_map(|r| self.directory.get(r).cloned())
            .collect();
        env.verify_header(&self.trust, &known, UnixTime(now))?;
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
        for id in targets {
            let cert = self.directory.get(id).ok_or_else(|| {
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
                let route = self.routes.get(&home).ok_or_else(|| {
                    Refusal::new(
                        WireCode::RecipientRefused,
                        format!("no route to relay {home} (home of {id})"),
                    )
                })?;
                if let Some(hop) = &route.certificate {
                    env.check_hop(hop)?;
                }
                Destination(*home.as_bytes())
            };
            if !out.contains(&destination) {
                out.push(destination);
            }
        }
        Ok(out)
    }

    /// Handles one `Receipt` frame: checks it, routes it towards the envelope's sender.
    pub async fn take_receipt(&self, peer: &LinkPeer, raw: Vec<u8>) -> Vec<LinkFrame> {
        let now = unix_now();
        let from = *peer.certificate.subject().as_bytes();
        let receipt = match Receipt::decode(&raw) {
            Ok(r) => r,
            Err(e) => return self.answer([0; 16], from, Err(e.into()), now).await,
        };
        let id = receipt_custody_id(&receipt);
        let checked = self.check_receipt(peer, &receipt);
        let outcome = match checked {
            Ok(destinations) => {
                let incoming = Incoming {
                    message_id: id,
                    raw,
                    expires: now.saturating_add(MAX_ENVELOPE_LIFETIME_SECS),
                    from,
                    destinations: destinations.clone(),
                };
                match self.store.accept(incoming, now).await {
                    Ok(o) => {
                        for d in destinations {
                            self.wakeup(d).notify_one();
                        }
                        Ok(o)
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "custody store refused a receipt");
                        return vec![LinkFrame::Ack {
                            message_id: id.to_vec(),
                            status: AckStatus::Deferred,
                        }];
                    }
                }
            }
            Err(r) => Err(r),
        };
        self.answer(id, from, outcome, now).await
    }

    fn check_receipt(
        &self,
        peer: &LinkPeer,
        receipt: &Receipt,
    ) -> Result<Vec<Destination>, Refusal> {
        let recipient = self.directory.get(&receipt.recipient()).ok_or_else(|| {
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
        let mut out = Vec::new();
        let sender = receipt.sender();
        let cert = self.directory.get(&sender).ok_or_else(|| {
            Refusal::new(
                WireCode::RecipientRefused,
                format!("sender {sender} is unknown to this relay"),
            )
        })?;
        let home = cert.home_relay().unwrap_or(sender);
        if home == self.me.subject() {
            out.push(Destination(*sender.as_bytes()));
        } else if self.routes.contains_key(&home) {
            out.push(Destination(*home.as_bytes()));
        } else {
            return Err(Refusal::new(
                WireCode::RecipientRefused,
                format!("no route to relay {home}"),
            ));
        }
        Ok(out)
    }

    /// Runs until `cancel`: sends what waits for `destination` on `out`, and releases each entry
    /// when its `Ack` arrives on `acks`. `peer` is the link's validated certificate.
    pub async fn forward(
        self: Arc<Self>,
        destination: Destination,
        peer: LinkPeer,
        out: mpsc::Sender<LinkFrame>,
        mut acks: mpsc::Receiver<(Vec<u8>, AckStatus)>,
        cancel: CancellationToken,
    ) {
        let how = if peer.certificate.role() == Role::Officer {
            Handoff::Delivered
        } else {
            Handoff::Forwarded
        };
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
                            let frame = match self.outbound_frame(&peer, q.raw) {
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
                ack = acks.recv() => {
                    let Some((id, status)) = ack else { return };
                    let Some(seq) = inflight.remove(&id) else { continue };
                    match status {
                        AckStatus::Accepted | AckStatus::Duplicate | AckStatus::Refused => {
                            if status == AckStatus::Refused {
                                tracing::warn!(id = %hex::encode(&id), "next hop refused custody; dropping");
                                let mut message_id = [0u8; 16];
                                if id.len() == 16 {
                                    message_id.copy_from_slice(&id);
                                }
                                let detail = "refused by the next hop (its Error frame explains)".to_owned();
                                let peer_id = *peer.certificate.subject().as_bytes();
                                if let Err(e) = self.store.record_refusal(message_id, peer_id, detail, unix_now()).await {
                                    tracing::error!(error = %e, "cannot audit a downstream refusal");
                                }
                            }
                            if let Err(e) = self.store.acknowledge(destination, seq, how, unix_now()).await {
                                tracing::error!(error = %e, "cannot release a queue entry");
                                return;
                            }
                        }
                        AckStatus::Deferred => {
                            // Resend from the start of the queue on the next pass.
                            cursor = None;
                            inflight.clear();
                        }
                    }
                }
            }
        }
    }

    /// The frame carrying a queued item on `peer`'s link, if the link may carry it.
    fn outbound_frame(&self, peer: &LinkPeer, raw: Vec<u8>) -> Result<LinkFrame, String> {
        if Receipt::decode(&raw).is_ok() {
            return Ok(LinkFrame::Receipt(raw));
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
            match self.store.sweep_expired(unix_now()).await {
                Ok(ids) if !ids.is_empty() => {
                    tracing::info!(count = ids.len(), "expired envelopes dropped")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "expiry sweep failed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_of_different_recipients_have_different_custody_ids() {
        let message_id = [7u8; 16];
        let hash = [9u8; 48];
        let alice = IdentityId::from_bytes([1; 32]);
        let bob = IdentityId::from_bytes([2; 32]);
        let a = custody_id_of_receipt(&message_id, &hash, &alice);
        assert_ne!(a, custody_id_of_receipt(&message_id, &hash, &bob));
        assert_ne!(
            a, message_id,
            "a receipt must not share the envelope's custody id"
        );
        assert_eq!(a, custody_id_of_receipt(&message_id, &hash, &alice));
    }
}
