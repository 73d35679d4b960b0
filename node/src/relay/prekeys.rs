//! Prekeys at a relay (`spec/protocol-link.md` §3.5): officers publish their signed prekeys to
//! their home relay, which holds the newest few durably in the custody database; senders ask
//! any relay with `PrekeyRequest` and receive a [`PrekeyBundle`].
//!
//! A request for a local officer is answered from the store. A request for an officer homed
//! elsewhere goes to the next hop towards that officer's home relay (the envelope routes), and
//! the `PrekeyResponse` or `Refused` coming back is handed to every requester waiting for that
//! identity. The table of such requests is bounded ([`MAX_PENDING`]) and every wait ends after
//! [`ANSWER_TIMEOUT`] with `Refused(NoRoute)`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use liaison_crypto::IdentityId;
use liaison_proto::certificate::Role;
use liaison_proto::frame::{AckStatus, LinkFrame};
use liaison_proto::prekey::{PREKEY_ID_LEN, PrekeyBundle, SignedPrekey};
use liaison_proto::{UnixTime, WireCode};
use tokio::sync::oneshot;

use super::{LinkPeer, Refusal, Relay, unix_now};
use crate::store::{AcceptOutcome, PrekeyRecord};

/// Signed prekeys kept per local officer (newest by creation time).
pub const PREKEYS_KEPT: usize = 4;
/// How long a relayed prekey request waits for its answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a request waiting for the next hop's link looks again.
const NEIGHBOUR_POLL: Duration = Duration::from_millis(200);
/// Most identities with a relayed prekey request outstanding at once.
pub const MAX_PENDING: usize = 1024;

/// The relay a request was sent to, and the requesters waiting for its answer.
type Waiting = (IdentityId, Vec<oneshot::Sender<LinkFrame>>);

/// Requesters waiting for the answer about one identity, by identity.
#[derive(Debug, Default)]
pub(super) struct Pending {
    waiting: Mutex<HashMap<IdentityId, Waiting>>,
}

impl Pending {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IdentityId, Waiting>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Relay {
    /// Handles `PrekeyPublish` from `peer`: the prekey must be the peer's own, the peer one of
    /// this relay's officers, the signature, suite and validity good. Answers `Ack(prekey id)`
    /// once stored durably, or `Refused(prekey id)` (audited).
    pub async fn take_prekey_publish(&self, peer: &LinkPeer, raw: Vec<u8>) -> LinkFrame {
        let now = unix_now();
        let (id, checked) = match SignedPrekey::decode(&raw) {
            Ok(prekey) => (
                *prekey.id().as_bytes(),
                self.check_prekey(peer, &prekey, now),
            ),
            Err(e) => ([0; PREKEY_ID_LEN], Err(Refusal::from(e))),
        };
        let refusal = match checked {
            Ok(record) => match self.store.put_prekey(record, PREKEYS_KEPT).await {
                Ok(outcome) => {
                    let status = match outcome {
                        AcceptOutcome::Stored => AckStatus::Accepted,
                        AcceptOutcome::Duplicate => AckStatus::Duplicate,
                    };
                    tracing::debug!(prekey = %hex::encode(id), ?status, "prekey held");
                    return LinkFrame::Ack {
                        message_id: id.to_vec(),
                        status,
                    };
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot store a prekey");
                    Refusal::new(
                        WireCode::RateLimited,
                        "prekey storage unavailable; retry later",
                    )
                }
            },
            Err(refusal) => refusal,
        };
        let detail = format!(
            "prekey {}: {:#06x} {}",
            hex::encode(id),
            refusal.code,
            refusal.reason
        );
        tracing::warn!(%detail, "prekey refused");
        let from = *peer.certificate.subject().as_bytes();
        if let Err(e) = self.store.record_refusal([0; 16], from, detail, now).await {
            tracing::error!(error = %e, "cannot audit a refusal");
        }
        refusal.into_frame(&id)
    }

    fn check_prekey(
        &self,
        peer: &LinkPeer,
        prekey: &SignedPrekey,
        now: u64,
    ) -> Result<PrekeyRecord, Refusal> {
        let cert = &peer.certificate;
        if cert.role() != Role::Officer || cert.home_relay() != Some(self.me.subject()) {
            return Err(Refusal::new(
                WireCode::PeerNotAllowed,
                "only this relay's own officers publish prekeys here",
            ));
        }
        // Owner is the link's authenticated peer, signed by it, same suite, valid now.
        prekey.verify(cert, UnixTime(now))?;
        Ok(PrekeyRecord {
            owner: *prekey.owner().as_bytes(),
            prekey_id: *prekey.id().as_bytes(),
            created: prekey.created().0,
            expires: prekey.expires().0,
            raw: prekey.raw().to_vec(),
        })
    }

    /// Handles `PrekeyRequest(id)` from `peer`: a `PrekeyResponse` with the bundle of a local
    /// officer, the answer of the relay towards a remote officer's home, or `Refused(id)`.
    pub async fn take_prekey_request(&self, peer: &LinkPeer, id: IdentityId) -> LinkFrame {
        match self.find_prekey(peer, id).await {
            Ok(frame) => frame,
            Err(refusal) => {
                tracing::debug!(identity = %id, code = refusal.code, reason = %refusal.reason, "prekey request refused");
                refusal.into_frame(id.as_bytes())
            }
        }
    }

    async fn find_prekey(&self, peer: &LinkPeer, id: IdentityId) -> Result<LinkFrame, Refusal> {
        let no_prekey = |why: &str| Refusal::new(WireCode::NoPrekey, format!("{id}: {why}"));
        let certificate = self
            .directory
            .load()
            .get(&id)
            .cloned()
            .ok_or_else(|| no_prekey("identity unknown to this relay"))?;
        let (Role::Officer, Some(home)) = (certificate.role(), certificate.home_relay()) else {
            return Err(no_prekey("not an officer"));
        };
        if home == self.me.subject() {
            let now = UnixTime(unix_now());
            let held = self.store.prekeys(*id.as_bytes()).await.map_err(|e| {
                tracing::error!(error = %e, "cannot read prekeys");
                Refusal::new(
                    WireCode::RateLimited,
                    "prekey storage unavailable; retry later",
                )
            })?;
            // Newest first: the first one still valid and still the owner's.
            let prekey = held
                .iter()
                .filter_map(|(_, raw)| SignedPrekey::decode(raw).ok())
                .find(|p| p.verify(&certificate, now).is_ok())
                .ok_or_else(|| no_prekey("no valid prekey published"))?;
            let bundle = PrekeyBundle {
                certificate,
                prekey,
            };
            return Ok(LinkFrame::PrekeyResponse(bundle.encode()));
        }
        let no_route = |why: String| Refusal::new(WireCode::NoRoute, why);
        let hop = self
            .next_hop(home)
            .ok_or_else(|| no_route(format!("no route to relay {home} (home of {id})")))?;
        if hop == peer.certificate.subject() {
            return Err(no_route(format!(
                "the route to {home} leads back to the asking relay"
            )));
        }
        // A link that is being (re)established is worth waiting for, within the answer time.
        let deadline = tokio::time::Instant::now() + ANSWER_TIMEOUT;
        let out = loop {
            if let Some(out) = self.neighbour(&hop) {
                break out;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(no_route(format!(
                    "next hop {hop} towards {home} is not connected"
                )));
            }
            tokio::time::sleep(NEIGHBOUR_POLL).await;
        };
        let (tx, rx) = oneshot::channel();
        let first = {
            let mut waiting = self.pending_prekeys.lock();
            if !waiting.contains_key(&id) && waiting.len() >= MAX_PENDING {
                return Err(Refusal::new(
                    WireCode::RateLimited,
                    "too many prekey requests in flight; retry later",
                ));
            }
            let (_, list) = waiting.entry(id).or_insert_with(|| (hop, Vec::new()));
            list.push(tx);
            list.len() == 1
        };
        if first && out.try_send(LinkFrame::PrekeyRequest(id)).is_err() {
            self.pending_prekeys.lock().remove(&id);
            return Err(no_route(format!(
                "next hop {hop} towards {home} is busy or gone"
            )));
        }
        match tokio::time::timeout_at(deadline, rx).await {
            Ok(Ok(answer)) => Ok(answer),
            _ => {
                // Everyone still waiting for this identity hears the same: no answer in time.
                self.pending_prekeys.lock().remove(&id);
                Err(no_route(format!(
                    "no answer from {hop} towards {home} within {} s",
                    ANSWER_TIMEOUT.as_secs()
                )))
            }
        }
    }

    /// Hands a `PrekeyResponse` or a 32-byte-id `Refused` from neighbouring relay `from` to the
    /// requesters waiting for that identity. Only the relay the request went to can answer it.
    /// Returns false when nobody was waiting for it there (late or unsolicited: dropped).
    pub fn take_prekey_answer(&self, from: IdentityId, frame: LinkFrame) -> bool {
        let owner = match &frame {
            LinkFrame::PrekeyResponse(raw) => match PrekeyBundle::decode(raw) {
                // Only an answer naming the identity asked about can satisfy its requesters;
                // the requesters verify the bundle themselves.
                Ok(bundle) if bundle.certificate.subject() == bundle.owner() => bundle.owner(),
                _ => return false,
            },
            LinkFrame::Refused { id, .. } => match <[u8; 32]>::try_from(id.as_slice()) {
                Ok(id) => IdentityId::from_bytes(id),
                Err(_) => return false,
            },
            _ => return false,
        };
        let waiters = {
            let mut waiting = self.pending_prekeys.lock();
            match waiting.remove(&owner) {
                Some((asked, waiters)) if asked == from => waiters,
                Some(other) => {
                    // Not from the relay that was asked: keep waiting for the real answer.
                    waiting.insert(owner, other);
                    return false;
                }
                None => return false,
            }
        };
        for waiter in waiters {
            let _ = waiter.send(frame.clone());
        }
        true
    }
}
