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

impl Relay {
    /// Handles one `NonDelivery` frame: checks it, routes it towards the envelope's sender.
    /// Only relays issue notices; an officer sending one is refused.
    pub async fn take_notice(self: &Arc<Self>, peer: &LinkPeer, raw: Vec<u8>) -> Vec<LinkFrame> {
        let now = unix_now();
        let from = *peer.certificate.subject().as_bytes();
        let notice = match NonDelivery::decode(&raw) {
            Ok(n) => n,
            Err(e) => return self.answer([0; 16], from, Err(e.into()), now).await,
        };
        let id = notice.custody_id();
        let Ok(permit) = self.verifiers.acquire().await else {
            return Vec::new(); // not reached: the semaphore is never closed
        };
        let (relay, link_peer) = (Arc::clone(self), peer.clone());
        let checked =
            tokio::task::spawn_blocking(move || relay.check_notice(&link_peer, &notice, now)).await;
        drop(permit);
        let Ok(checked) = checked else {
            tracing::error!("notice verification task failed");
            return Vec::new(); // no answer: the sender keeps custody and retransmits
        };
        let outcome = match checked {
            Ok(destination) => {
                let incoming = Incoming {
                    message_id: id,
                    raw,
                    expires: now.saturating_add(MAX_ENVELOPE_LIFETIME_SECS),
                    from,
                    destinations: vec![destination],
                };
                match self
                    .take_custody(incoming, now, "non-delivery notice")
                    .await
                {
                    Ok(outcome) => Ok(outcome),
                    Err(deferred) => return deferred,
                }
            }
            Err(r) => Err(r),
        };
        self.answer(id, from, outcome, now).await
    }

    fn check_notice(
        &self,
        peer: &LinkPeer,
        notice: &NonDelivery,
        now: u64,
    ) -> Result<Destination, Refusal> {
        if peer.certificate.role() != Role::Relay {
            return Err(Refusal::new(
                WireCode::PeerNotAllowed,
                "only relays issue non-delivery notices",
            ));
        }
        notice.verify_issuer(&self.trust.load(), UnixTime(now))?;
        self.route_to_sender(notice.sender())
    }

    /// Gives up on the envelope at `seq` in `destination`'s queue, which the next hop refused
    /// for good (`code`, `reason`): tells its sender. Reads the entry back from the store (a
    /// refusal is rare; the forwarder does not keep what it sent). Call before the entry is
    /// released.
    pub(super) async fn give_up_queued(
        &self,
        destination: Destination,
        seq: u64,
        code: u16,
        reason: &str,
    ) {
        let entry = match self.store.pending(destination, seq.checked_sub(1), 1).await {
            Ok(mut batch) if batch.first().is_some_and(|q| q.seq == seq) => batch.remove(0),
            Ok(_) => return, // already released: the notice went with the first refusal
            Err(e) => {
                tracing::error!(error = %e, "cannot read a refused entry back; sender not told");
                return;
            }
        };
        let Ok(envelope) = Envelope::decode_owned(entry.raw, None) else {
            return; // a receipt or a notice: no notice about those
        };
        let undelivered = UndeliveredEnvelope {
            header: envelope.header().clone(),
            envelope_hash: envelope.envelope_hash(),
        };
        self.give_up(&undelivered, destination, code, reason).await;
    }

    /// Tells the sender of `undelivered` that it will not reach the recipients this relay
    /// routes through `destination`: issues a notice and takes it into custody towards the
    /// sender. Failures are logged (there is nobody else to tell).
    pub(crate) async fn give_up(
        &self,
        undelivered: &UndeliveredEnvelope,
        destination: Destination,
        code: u16,
        reason: &str,
    ) {
        let header = &undelivered.header;
        let id = hex::encode(header.message_id.0);
        let to = match self.route_to_sender(header.sender) {
            Ok(to) => to,
            Err(refusal) => {
                tracing::error!(%id, reason = %refusal.reason, "cannot route a non-delivery notice to the sender");
                return;
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
        let now = unix_now();
        let notice = match NonDelivery::issue(
            &self.signing_key,
            &self.me,
            terms,
            UnixTime(now),
            &mut os_rng(),
        ) {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(%id, error = %e, "cannot issue a non-delivery notice");
                return;
            }
        };
        let incoming = Incoming {
            message_id: notice.custody_id(),
            raw: notice.raw().to_vec(),
            expires: now.saturating_add(MAX_ENVELOPE_LIFETIME_SECS),
            from: *self.me.subject().as_bytes(),
            destinations: vec![to],
        };
        if self
            .take_custody(incoming, now, "non-delivery notice")
            .await
            .is_ok()
        {
            tracing::info!(%id, code, reason, sender = %header.sender.fingerprint(), "non-delivery notice issued");
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
