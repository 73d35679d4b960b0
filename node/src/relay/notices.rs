//! Non-delivery notices (`spec/protocol.md` §13.1): once a relay has taken custody of an
//! envelope and acknowledged it, the sender hears nothing more from that link. If the envelope
//! then goes no further, the relay holding it tells the sender, in a notice it signs:
//!
//! * the next hop refused it for good (`Refused` with any code but `RateLimited`, or a legacy
//!   `Ack(Refused)`): the forwarder gives up on it ([`Relay::give_up_queued`]);
//! * it expired in a queue (its recipient never collected it, or the next hop never took it):
//!   the expiry sweep gives up on it ([`Relay::give_up`]).
//!
//! A notice names the envelope (message id, envelope hash), the recipients behind the queue
//! that held it, the code and the reason. It travels to the sender like a receipt: in custody,
//! relay by relay, under its own custody id. Relays carrying it check the issuing relay's
//! certificate (inside the notice) and signature; the sender also checks it against the
//! envelope it sent. No notice is ever issued about a receipt or a notice.

use std::sync::Arc;

use liaison_crypto::IdentityId;
use liaison_crypto::rng::os_rng;
use liaison_proto::certificate::Role;
use liaison_proto::envelope::{Envelope, EnvelopeHeader, MAX_ENVELOPE_LIFETIME_SECS};
use liaison_proto::frame::LinkFrame;
use liaison_proto::notice::{NonDelivery, NoticeTerms};
use liaison_proto::{UnixTime, WireCode};

use super::{LinkPeer, Refusal, Relay, unix_now};
use crate::store::{Destination, Incoming, UndeliveredEnvelope};

/// The sender of an undelivered envelope could not be told yet because the store failed:
/// keep what was given up on, and try again.
#[derive(Debug)]
pub(crate) struct NotTold;

impl Relay {
    /// Handles one `NonDelivery` frame: checks it, routes it towards the envelope's sender.
    /// Only relays issue notices; an officer sending one is refused before any signature work.
    pub async fn take_notice(self: &Arc<Self>, peer: &LinkPeer, raw: Vec<u8>) -> Vec<LinkFrame> {
        let from = *peer.certificate.subject().as_bytes();
        let notice = match NonDelivery::decode(&raw) {
            Ok(n) => n,
            Err(e) => return self.answer([0; 16], from, Err(e.into()), unix_now()).await,
        };
        let id = notice.custody_id();
        if peer.certificate.role() != Role::Relay {
            let refusal = Refusal::new(
                WireCode::PeerNotAllowed,
                "only relays issue non-delivery notices",
            );
            return self.answer(id, from, Err(refusal), unix_now()).await;
        }
        self.take_returning(
            peer,
            id,
            raw,
            "non-delivery notice",
            move |relay, _, now| {
                notice.verify_issuer(&relay.trust.load(), UnixTime(now))?;
                relay.route_to_sender(notice.sender())
            },
        )
        .await
    }

    /// Gives up on the envelope at `seq` in `destination`'s queue, which the next hop refused
    /// for good (`code`, `reason`): tells its sender. Reads the entry back from the store (a
    /// refusal is rare; the forwarder does not keep what it sent) and parses and hashes it on
    /// the blocking pool (it may be a large one). Call before the entry is released; an error
    /// means the store failed and the entry must stay.
    pub(super) async fn give_up_queued(
        &self,
        destination: Destination,
        seq: u64,
        code: u16,
        reason: &str,
    ) -> Result<(), NotTold> {
        let entry = match self.store.pending(destination, seq.checked_sub(1), 1).await {
            Ok(mut batch) if batch.first().is_some_and(|q| q.seq == seq) => batch.remove(0),
            Ok(_) => return Ok(()), // already released: the notice went with the first refusal
            Err(e) => {
                tracing::error!(error = %e, "cannot read a refused entry back");
                return Err(NotTold);
            }
        };
        let parsed = tokio::task::spawn_blocking(move || {
            let envelope = Envelope::decode_owned(entry.raw, None).ok()?;
            Some(UndeliveredEnvelope {
                header: envelope.header().clone(),
                envelope_hash: envelope.envelope_hash(),
            })
        })
        .await;
        match parsed {
            Ok(Some(undelivered)) => self.give_up(&undelivered, destination, code, reason).await,
            Ok(None) => Ok(()), // a receipt or a notice: no notice about those
            Err(_) => Err(NotTold),
        }
    }

    /// Tells the sender of `undelivered` that it will not reach the recipients this relay
    /// routes through `destination`: issues a notice (signed on the blocking pool) and takes
    /// it into custody towards the sender. A sender this relay cannot reach (unknown here, no
    /// route) is logged and audited: there is nobody else to tell. [`NotTold`] means the store
    /// failed: try again later.
    pub(crate) async fn give_up(
        &self,
        undelivered: &UndeliveredEnvelope,
        destination: Destination,
        code: u16,
        reason: &str,
    ) -> Result<(), NotTold> {
        let header = &undelivered.header;
        let id = hex::encode(header.message_id.0);
        let now = unix_now();
        let to = match self.route_to_sender(header.sender) {
            Ok(to) => to,
            Err(refusal) => {
                tracing::error!(%id, reason = %refusal.reason, "cannot route a non-delivery notice to the sender");
                let detail = format!("sender not told of non-delivery: {}", refusal.reason);
                let sender = *header.sender.as_bytes();
                return self
                    .store
                    .record_refusal(header.message_id.0, sender, detail, now)
                    .await
                    .map_err(|_| NotTold);
            }
        };
        let terms = NoticeTerms {
            message_id: header.message_id,
            envelope_hash: undelivered.envelope_hash,
            sender: header.sender,
            recipients: self.recipients_via(header, destination),
            code,
            reason: reason.to_owned(),
        };
        let (key, me) = (Arc::clone(&self.signing_key), self.me.clone());
        let issued = tokio::task::spawn_blocking(move || {
            NonDelivery::issue(&key, &me, terms, UnixTime(now), &mut os_rng())
        })
        .await;
        let notice = match issued {
            Ok(Ok(n)) => n,
            Ok(Err(e)) => {
                // Not reached: the relay's own certificate and key (checked at start).
                tracing::error!(%id, error = %e, "cannot issue a non-delivery notice");
                return Ok(());
            }
            Err(_) => return Err(NotTold),
        };
        let incoming = Incoming {
            message_id: notice.custody_id(),
            raw: notice.raw().to_vec(),
            expires: now.saturating_add(MAX_ENVELOPE_LIFETIME_SECS),
            from: *self.me.subject().as_bytes(),
            destinations: vec![to],
            spool: None,
        };
        match self
            .take_custody(incoming, now, "non-delivery notice")
            .await
        {
            Ok(_) => {
                tracing::info!(%id, code, reason, sender = %header.sender.fingerprint(), "non-delivery notice issued");
                Ok(())
            }
            Err(_) => Err(NotTold),
        }
    }

    /// The queue an item for `sender` goes into: the sender's own when this is its home relay,
    /// else the next hop towards its home relay.
    pub(super) fn route_to_sender(&self, sender: IdentityId) -> Result<Destination, Refusal> {
        let directory = self.directory.load();
        let cert = directory.get(&sender).ok_or_else(|| {
            Refusal::new(
                WireCode::RecipientRefused,
                format!("sender {sender} is unknown to this relay"),
            )
        })?;
        let home = cert.home_relay().unwrap_or(sender);
        if home == self.me.subject() {
            return Ok(Destination(*sender.as_bytes()));
        }
        self.next_hop(home)
            .map(|hop| Destination(*hop.as_bytes()))
            .ok_or_else(|| Refusal::new(WireCode::NoRoute, format!("no route to relay {home}")))
    }

    /// The recipients of `header` this relay reaches through `destination` (all of them if the
    /// routes changed since and none does now: the notice must name someone).
    fn recipients_via(&self, header: &EnvelopeHeader, destination: Destination) -> Vec<IdentityId> {
        let directory = self.directory.load();
        let via: Vec<IdentityId> = header
            .recipients
            .iter()
            .copied()
            .filter(|r| {
                if Destination(*r.as_bytes()) == destination {
                    return true;
                }
                directory
                    .get(r)
                    .and_then(liaison_proto::certificate::MemberCertificate::home_relay)
                    .filter(|home| *home != self.me.subject())
                    .and_then(|home| self.next_hop(home))
                    .is_some_and(|hop| Destination(*hop.as_bytes()) == destination)
            })
            .collect();
        if via.is_empty() {
            header.recipients.clone()
        } else {
            via
        }
    }
}
