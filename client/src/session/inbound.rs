//! What arrives on an officer's link unasked: envelopes addressed to us, and receipts and
//! relays' non-delivery notices for the envelopes we sent. Each is checked here, stored
//! durably, and only then acknowledged to the relay, which deletes its copy on that
//! acknowledgement (custody, DESIGN.md). Our own receipts leave from here too; what happens to
//! them on the way is in `receipts.rs`.

use std::time::Duration;

use liaison_crypto::rng::os_rng;
use liaison_crypto::{IdentityId, SecretBytes};
use liaison_proto::envelope::{Envelope, MessageId};
use liaison_proto::frame::{AckStatus, LinkFrame};
use liaison_proto::notice::NonDelivery;
use liaison_proto::receipt::Receipt;
use liaison_proto::{UnixTime, WireCode};
use zeroize::Zeroizing;

use super::receipts::{self, Verdict};
use super::{ClientError, Session, unix_now};
use crate::store::ReceivedMessage;

/// Something that arrived from the relay.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A new message for us: verified (sender, certificate chain, policy), decrypted, stored,
    /// acknowledged, and receipted.
    Message(ReceivedMessage),
    /// A receipt for a message we sent: verified against the sent envelope and the
    /// recipient's certificate, and recorded.
    Receipt(ReceiptEvent),
    /// A relay's notice that a message we sent will not reach some of its recipients
    /// (`spec/protocol.md` §13.1): verified against the sent envelope and the federation's
    /// trust anchors, and recorded.
    Undelivered(UndeliveredEvent),
    /// A message for us whose end-to-end supplied key could not be obtained (no
    /// `[supplied_keys]` in the profile, or the key supply failed). It was neither opened nor
    /// acknowledged: the relay keeps it and delivers it again on the next connection, until it
    /// expires.
    Held {
        /// The envelope's message id.
        message_id: MessageId,
        /// Why the key could not be had.
        reason: String,
    },
    /// Something that failed its checks; it was refused (and the relay told to drop it).
    Rejected {
        /// The envelope's message id, when it could be read.
        message_id: Option<MessageId>,
        /// What it was (`"envelope"`, `"receipt"` or `"non-delivery notice"`).
        what: &'static str,
        /// Why it was refused.
        reason: String,
    },
}

/// A verified receipt for one of our messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptEvent {
    /// The message it acknowledges.
    pub message_id: MessageId,
    /// The recipient that signed it.
    pub recipient: IdentityId,
    /// The recipient's certificate name.
    pub recipient_name: String,
    /// When the recipient says it received the message.
    pub received_at: UnixTime,
}

/// Notices kept for messages not yet on record ([`Session::retry_early_notices`]).
pub(super) const MAX_EARLY_NOTICES: usize = 32;

/// A verified non-delivery notice for one of our messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndeliveredEvent {
    /// The message that will not be delivered.
    pub message_id: MessageId,
    /// The recipients it will not reach, with their names as we know them.
    pub recipients: Vec<(IdentityId, String)>,
    /// The relay that gave up on it (its certificate name).
    pub relay_name: String,
    /// Why, as a `WireCode` value.
    pub code: u16,
    /// Why, for a person.
    pub reason: String,
    /// When the relay gave up (its clock).
    pub issued_at: UnixTime,
}

impl Session {
    pub(super) async fn ack(&mut self, id: &[u8], status: AckStatus) -> Result<(), ClientError> {
        self.send_frame(&LinkFrame::Ack {
            message_id: id.to_vec(),
            status,
        })
        .await
    }

    /// The supplied key our recipient block names: the one kept in the store from an earlier
    /// delivery of this message, else fetched from the key supply (`dec_keys`) and kept
    /// durably before it is used ([`crate::store::MessageStore::keep_supplied_key`]: the
    /// supply hands it out only once). `None` when the block names none (or there is no block
    /// for us: `open` says so).
    async fn supplied_key_of(&self, envelope: &Envelope) -> Result<Option<SecretBytes>, String> {
        let me = self.certificate.subject();
        let Some(reference) = envelope
            .blocks()
            .iter()
            .find(|b| b.recipient == me)
            .and_then(|b| b.supplied.as_ref())
        else {
            return Ok(None);
        };
        let id = envelope.header().message_id;
        if let Some(kept) = self
            .store
            .kept_supplied_key(id)
            .map_err(|e| e.to_string())?
        {
            tracing::debug!(%id, "supplied key kept from an earlier delivery");
            return Ok(Some(kept));
        }
        let Some(keys) = &self.supplied else {
            return Err(format!(
                "it needs supplied key {} from SAE {}, and this profile has no [supplied_keys] \
                 section (docs/CLIENT.md)",
                reference.key_id, reference.source_sae
            ));
        };
        let key = keys.for_block(reference).await.map_err(|e| e.to_string())?;
        let kept = SecretBytes::from_slice(key.expose_secret());
        let expires = envelope.header().expires;
        if let Err(e) = self
            .blocking(move |store| store.keep_supplied_key(id, expires, &kept))
            .await
        {
            // The supply will not hand the key out again: use it now rather than hold a
            // message nothing could open later.
            tracing::warn!(%id, error = %e, "supplied key fetched but not kept; opening the message now");
        }
        Ok(Some(key))
    }

    /// An envelope the relay pushed: verify, decrypt, store, then ack, then receipt.
    pub(super) async fn take_envelope(&mut self, raw: Vec<u8>) -> Result<(), ClientError> {
        let envelope = match Envelope::decode(&raw) {
            Ok(e) => e,
            Err(e) => {
                // Without a message id there is nothing to acknowledge; relays check envelopes,
                // so this is a misbehaving relay. Log it and let the relay retry.
                tracing::warn!(error = %e, "undecodable envelope from the relay");
                self.events.push_back(Event::Rejected {
                    message_id: None,
                    what: "envelope",
                    reason: e.to_string(),
                });
                return Ok(());
            }
        };
        let id = envelope.header().message_id;
        let now = unix_now();
        if self.store.has_received(id)? {
            // Already stored (the relay did not see our ack, or lost its record of it): ack
            // again, deliver nothing, and send the receipt again — relays deduplicate it by its
            // custody id, and the sender's store keeps the first.
            tracing::debug!(%id, "duplicate delivery acknowledged, not delivered again");
            self.stats.duplicates += 1;
            self.ack(&id.0, AckStatus::Duplicate).await?;
            self.send_receipt(&envelope, now, receipts::FIRST_PAUSE)
                .await?;
            return Ok(());
        }
        let supplied = match self.supplied_key_of(&envelope).await {
            Ok(key) => key,
            Err(reason) => {
                // Not refused: the key may come later (KME back, profile configured), and a
                // refusal would make the relay drop the only copy.
                tracing::warn!(%id, %reason, "message held: its supplied key is not available");
                self.stats.held += 1;
                self.events.push_back(Event::Held {
                    message_id: id,
                    reason,
                });
                return Ok(());
            }
        };
        let opened = {
            let secrets = self.keystore.prekey_secrets();
            super::off_runtime(|| {
                envelope.open(
                    &self.trust,
                    &self.certificate,
                    &secrets,
                    supplied.as_ref(),
                    now,
                )
            })
        };
        let opened = match opened {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(%id, error = %e, "envelope refused");
                if supplied.is_some() {
                    self.blocking(move |store| store.forget_supplied_key(id))
                        .await?;
                }
                self.stats.rejected += 1;
                self.events.push_back(Event::Rejected {
                    message_id: Some(id),
                    what: "envelope",
                    reason: e.to_string(),
                });
                // The code and a reason fit to travel: the relay puts them in the sender's
                // non-delivery notice.
                let (code, reason) = liaison_proto::record::wire_refusal(&e);
                return self
                    .send_frame(&LinkFrame::Refused {
                        id: id.0.to_vec(),
                        code: code as u16,
                        reason,
                    })
                    .await;
            }
        };
        let h = envelope.header();
        let message = ReceivedMessage {
            message_id: id,
            envelope_raw: raw,
            sender: h.sender,
            sender_name: h.sender_certificate.name().to_owned(),
            sender_fingerprint: h.sender.fingerprint(),
            classification: h.classification,
            tlp: h.tlp,
            content_type: h.content_type.clone(),
            plaintext: Zeroizing::new(opened.plaintext),
            received_at: now,
        };
        // Durable first: the relay deletes its copy when it sees the ack.
        let sender_certificate = h.sender_certificate.clone();
        let (message, new) = self
            .blocking(move |store| {
                let new = store.insert_received(&message)?;
                store.upsert_contact(&sender_certificate)?;
                Ok((message, new))
            })
            .await?;
        // Handed to the application before the ack goes out: if the link fails on the ack,
        // the relay delivers it again after a redial, and that delivery is a duplicate that
        // produces no event.
        if new {
            tracing::info!(%id, sender = %h.sender.fingerprint(), "message received");
            self.stats.messages += 1;
            self.events.push_back(Event::Message(message));
        }
        self.ack(&id.0, AckStatus::Accepted).await?;
        self.send_receipt(&envelope, now, receipts::FIRST_PAUSE)
            .await?;
        Ok(())
    }

    /// Signs and sends the receipt for `envelope`; the relay's answer to its custody id marks
    /// it handed over in the store, or schedules it again ([`Session::receipt_answered`]).
    /// `pause` is its wait if the relay defers it.
    pub(super) async fn send_receipt(
        &mut self,
        envelope: &Envelope,
        now: UnixTime,
        pause: Duration,
    ) -> Result<(), ClientError> {
        let receipt = Receipt::issue(self.keystore.identity(), envelope, now, &mut os_rng())?;
        self.receipts.sent(
            receipt.custody_id(),
            envelope.header().message_id,
            pause,
            tokio::time::Instant::now(),
        );
        self.send_frame(&LinkFrame::Receipt(receipt.raw().to_vec()))
            .await
    }

    /// The relay's answer to one of our receipts, if `custody_id` names one in flight: taken
    /// (`Accepted`, `Duplicate`: remember it was handed over), deferred (`Deferred`, or refused
    /// as `RateLimited`: it goes again after its pause), or refused for good (it stays pending
    /// in the store, and goes again at the next connection, when the relay's directory may
    /// know more). `false` when the answer is for something else.
    pub(super) async fn receipt_answered(
        &mut self,
        custody_id: &[u8],
        answer: Result<AckStatus, (u16, &str)>,
    ) -> Result<bool, ClientError> {
        let verdict = match answer {
            Ok(AckStatus::Accepted | AckStatus::Duplicate) => Verdict::Taken,
            Ok(AckStatus::Deferred) => Verdict::Later,
            Err((code, _)) if code == WireCode::RateLimited as u16 => Verdict::Later,
            Ok(AckStatus::Refused) | Err(_) => Verdict::Refused,
        };
        let now = tokio::time::Instant::now();
        let Some(message_id) = self.receipts.answered(custody_id, verdict, now) else {
            return Ok(false);
        };
        match verdict {
            Verdict::Taken => {
                self.blocking(move |store| store.mark_receipt_sent(message_id))
                    .await?;
            }
            Verdict::Later => {
                let why = answer
                    .err()
                    .map_or("its queue is full", |(_, reason)| reason);
                tracing::info!(%message_id, why, "the relay deferred our receipt; sending it again later");
                self.stats.receipts_deferred += 1;
            }
            Verdict::Refused => {
                let (code, reason) = answer.err().unwrap_or((0, "refused"));
                tracing::warn!(%message_id, code, reason, "the relay refused our receipt; it goes again at the next connection");
            }
        }
        Ok(true)
    }

    /// Sends the receipts of stored messages whose receipt never reached the relay (the
    /// client stopped between storing a message and the relay's ack of its receipt, or the
    /// link was lost), except those tracked already. At connection.
    pub(super) async fn resend_pending_receipts(&mut self) -> Result<(), ClientError> {
        let pending = self
            .blocking(|store| {
                let mut out = Vec::new();
                for id in store.pending_receipts()? {
                    out.extend(store.received_message(id)?);
                }
                Ok(out)
            })
            .await?;
        for message in pending {
            if self.receipts.tracks(message.message_id) {
                continue;
            }
            self.resend_receipt(&message, receipts::FIRST_PAUSE).await?;
        }
        Ok(())
    }

    /// Sends again the receipts whose retry time came, or whose answer did not come in time.
    pub(super) async fn resend_due_receipts(&mut self) -> Result<(), ClientError> {
        let due = self
            .receipts
            .take_due(tokio::time::Instant::now(), self.timeouts.answer);
        if due.is_empty() {
            return Ok(());
        }
        let ids: Vec<MessageId> = due.iter().map(|(id, _)| *id).collect();
        let read = self
            .blocking(move |store| {
                ids.into_iter()
                    .map(|id| store.received_message(id))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await;
        let messages = match read {
            Ok(messages) => messages,
            Err(e) => {
                self.receipts.put_back(due, tokio::time::Instant::now());
                return Err(e);
            }
        };
        for ((_, pause), message) in due.into_iter().zip(messages) {
            if let Some(message) = message {
                self.resend_receipt(&message, pause).await?;
            }
        }
        Ok(())
    }

    async fn resend_receipt(
        &mut self,
        message: &ReceivedMessage,
        pause: Duration,
    ) -> Result<(), ClientError> {
        match Envelope::decode(&message.envelope_raw) {
            Ok(envelope) => {
                self.send_receipt(&envelope, message.received_at, pause)
                    .await
            }
            // Stored after it was checked: only a damaged store gets here.
            Err(e) => {
                tracing::warn!(message_id = %message.message_id, error = %e, "stored envelope does not decode; no receipt");
                Ok(())
            }
        }
    }

    /// A receipt for one of our messages: verify against the sent envelope, record, ack.
    pub(super) async fn take_receipt(&mut self, raw: Vec<u8>) -> Result<(), ClientError> {
        let receipt = match Receipt::decode(&raw) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "undecodable receipt from the relay");
                self.events.push_back(Event::Rejected {
                    message_id: None,
                    what: "receipt",
                    reason: e.to_string(),
                });
                return Ok(());
            }
        };
        let custody = receipt.custody_id();
        let id = receipt.message_id();
        let (Some(sent), Some(envelope_raw)) =
            (self.store.get_sent(id)?, self.store.sent_envelope(id)?)
        else {
            // Not (yet) in our store — leave it with the relay rather than lose it.
            tracing::warn!(%id, "receipt for a message this store did not send; left with the relay");
            return Ok(());
        };
        let refuse = |reason: String| Event::Rejected {
            message_id: Some(id),
            what: "receipt",
            reason,
        };
        let recipient = self
            .store
            .find_contact(&receipt.recipient().to_string())
            .ok()
            .filter(|c| c.subject() == receipt.recipient());
        let Some(recipient) = recipient else {
            self.stats.rejected += 1;
            self.ack(&custody, AckStatus::Refused).await?;
            self.events.push_back(refuse(format!(
                "signed by {}, whose certificate we do not hold",
                receipt.recipient().fingerprint()
            )));
            return Ok(());
        };
        let envelope = Envelope::decode(&envelope_raw)?;
        let now = unix_now();
        if let Err(e) = receipt.verify(&self.trust, &recipient, &envelope, now) {
            tracing::warn!(%id, error = %e, "receipt refused");
            self.stats.rejected += 1;
            self.ack(&custody, AckStatus::Refused).await?;
            self.events.push_back(refuse(e.to_string()));
            return Ok(());
        }
        let (recipient_id, raw) = (receipt.recipient(), receipt.raw().to_vec());
        let new = self
            .blocking(move |store| store.record_receipt(id, recipient_id, &raw, now))
            .await?;
        if new {
            debug_assert!(
                sent.receipts
                    .iter()
                    .any(|r| r.recipient == receipt.recipient())
            );
            tracing::info!(%id, recipient = %receipt.recipient().fingerprint(), "receipt verified");
            self.stats.receipts += 1;
            self.events.push_back(Event::Receipt(ReceiptEvent {
                message_id: id,
                recipient: receipt.recipient(),
                recipient_name: recipient.name().to_owned(),
                received_at: receipt.received_at(),
            }));
        } else {
            tracing::debug!(%id, "receipt already on record");
        }
        // After the event is queued (see `take_envelope`).
        self.ack(&custody, AckStatus::Accepted).await
    }

    /// A relay's non-delivery notice for one of our messages: verify against the sent envelope
    /// and the trust anchors, record, ack.
    pub(super) async fn take_notice(&mut self, raw: Vec<u8>) -> Result<(), ClientError> {
        let notice = match NonDelivery::decode(&raw) {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "undecodable non-delivery notice from the relay");
                self.events.push_back(Event::Rejected {
                    message_id: None,
                    what: "non-delivery notice",
                    reason: e.to_string(),
                });
                return Ok(());
            }
        };
        let custody = notice.custody_id();
        let id = notice.message_id();
        let (Some(sent), Some(envelope_raw)) =
            (self.store.get_sent(id)?, self.store.sent_envelope(id)?)
        else {
            // Possibly one being sent right now: the next hop's refusal can overtake the
            // custody `Ack` that makes us record it. Kept and taken again once it is recorded
            // ([`Session::retry_early_notices`]); otherwise left with the relay, unacknowledged.
            if self.early_notices.len() < MAX_EARLY_NOTICES {
                self.early_notices.push((id, raw));
            }
            tracing::debug!(%id, "non-delivery notice for a message not on record (yet)");
            return Ok(());
        };
        let envelope = Envelope::decode(&envelope_raw)?;
        let now = unix_now();
        if let Err(e) = notice.verify(&self.trust, &envelope, now) {
            tracing::warn!(%id, error = %e, "non-delivery notice refused");
            self.stats.rejected += 1;
            self.ack(&custody, AckStatus::Refused).await?;
            self.events.push_back(Event::Rejected {
                message_id: Some(id),
                what: "non-delivery notice",
                reason: e.to_string(),
            });
            return Ok(());
        }
        let terms = notice.terms().clone();
        let (recipients, raw) = (terms.recipients.clone(), notice.raw().to_vec());
        let new = self
            .blocking(move |store| store.record_notice(id, &recipients, &raw, now))
            .await?;
        if !new {
            tracing::debug!(%id, "non-delivery notice already on record");
            return self.ack(&custody, AckStatus::Accepted).await;
        }
        tracing::warn!(%id, relay = notice.relay().name(), code = terms.code, reason = %terms.reason, "message not delivered");
        self.stats.undelivered += 1;
        let recipients = terms
            .recipients
            .iter()
            .map(|r| {
                let name = sent
                    .receipts
                    .iter()
                    .find(|s| s.recipient == *r)
                    .map(|s| s.name.clone())
                    .unwrap_or_default();
                (*r, name)
            })
            .collect();
        self.events.push_back(Event::Undelivered(UndeliveredEvent {
            message_id: id,
            recipients,
            relay_name: notice.relay().name().to_owned(),
            code: terms.code,
            reason: terms.reason,
            issued_at: notice.issued_at(),
        }));
        // After the event is queued (see `take_envelope`).
        self.ack(&custody, AckStatus::Accepted).await
    }

    /// Takes again the notices that arrived for message `id` before it was recorded as sent.
    pub(super) async fn retry_early_notices(&mut self, id: MessageId) -> Result<(), ClientError> {
        let (now_known, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.early_notices)
            .into_iter()
            .partition(|(m, _)| *m == id);
        self.early_notices = rest;
        for (_, raw) in now_known {
            self.take_notice(raw).await?;
        }
        Ok(())
    }
}
