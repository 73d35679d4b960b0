//! [`Session`]: an officer's live connection to its home relay, over the node's own link driver
//! (`liaison_node::link`) on QUIC — the library API that the `liaison` CLI and other programs
//! (a ticketing system, a SOC platform) use.
//!
//! What a session does, in protocol order (`spec/protocol-link.md`, `spec/protocol.md`):
//!
//! * **connect**: dial the home relay named by the relay certificate (or the profile's
//!   override), run the link handshake expecting exactly that relay, then prekey upkeep:
//!   rotate the signed prekey when due, prune expired secrets, and `PrekeyPublish` the current
//!   prekey, waiting for the relay's `Ack` (or `Refused`).
//! * **send** ([`Session::send`]): per recipient a `PrekeyRequest` → `PrekeyResponse`
//!   bundle, verified here (the relay is not trusted for it) and saved as a contact; one
//!   envelope sealed for all recipients; custody `Ack` or `Refused { code, reason }`; the sent
//!   message recorded in the local store.
//! * **receive** ([`Session::next_event`]): each envelope the relay pushes is verified and
//!   decrypted, stored durably, and only then acknowledged; a signed receipt goes back to
//!   its sender. A message already in the store is acknowledged again but not delivered twice.
//!   Receipts for our messages are verified against the sent envelope and the recipient's
//!   certificate, recorded, and acknowledged by their custody id.
//! * **stay connected**: a session left idle between calls does not answer the relay's
//!   keepalive, so the relay closes the link after `peer_timeout_secs` (20 s by default); a
//!   relay may also restart. Each call first checks the link and, when it was closed, dials
//!   the home relay again (same identity, same checks) before going on; a link lost while
//!   [`Session::next_event`] or [`Session::fetch_pending`] waits is redialled once in that
//!   call. Nothing is lost meanwhile: the relay keeps custody until we acknowledge, and
//!   receipts not yet acknowledged are sent again on the new link.

mod error;
mod inbound;
mod receipts;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use liaison_crypto::rng::os_rng;
use liaison_crypto::sign::SigningKey;
use liaison_crypto::{IdentityId, Seed32};
use liaison_node::link::{self, Link, LinkError, LinkEvent, LinkSupply};
use liaison_node::transport::{self, TransportLimits};
use liaison_proto::certificate::{MemberCertificate, Role};
use liaison_proto::envelope::{ContentType, EnvelopeBuilder, MessageId, SuppliedKey};
use liaison_proto::frame::{AckStatus, LinkFrame};
use liaison_proto::handshake::{LinkConfig, LocalIdentity, PeerPolicy};
use liaison_proto::prekey::PrekeyBundle;
use liaison_proto::record::RekeyPolicy;
use liaison_proto::trust::TrustStore;
use liaison_proto::{Classification, Tlp, UnixTime, WireCode};

pub use self::error::{
    ClientError, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_KEYSTORE, EXIT_OK, EXIT_REFUSED,
    EXIT_UNREACHABLE,
};
pub use self::inbound::{Event, ReceiptEvent, UndeliveredEvent};
use crate::keystore::OfficerKeystore;
use crate::passphrase::Passphrase;
use crate::profile::Profile;
use crate::store::{MessageStore, SentMessage, StoreError};
use crate::supplied::SuppliedKeys;

/// How long envelopes live by default (relays drop them after): 7 days.
pub const DEFAULT_LIFETIME_SECS: u64 = 7 * 24 * 3600;

/// Current Unix time.
pub fn unix_now() -> UnixTime {
    UnixTime(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
}

/// Time limits of a session.
#[derive(Debug, Clone)]
pub struct Timeouts {
    /// Dialling plus the link handshake.
    pub connect: Duration,
    /// Waiting for one answer from the relay (custody `Ack`, prekey bundle).
    pub answer: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(15),
            answer: Duration::from_secs(30),
        }
    }
}

/// Everything a session needs, opened: the keystore and message store (unlocked), the trust
/// anchors, the home relay.
#[derive(Debug)]
pub struct SessionConfig {
    /// The officer's keystore (identity, prekeys, certificate).
    pub keystore: OfficerKeystore,
    /// The passphrase, kept to save the keystore after a prekey rotation.
    pub passphrase: Passphrase,
    /// Where the keystore is saved.
    pub keystore_path: std::path::PathBuf,
    /// The encrypted message store.
    pub store: MessageStore,
    /// Trust anchors (and revocations).
    pub trust: TrustStore,
    /// The home relay's certificate.
    pub relay: MemberCertificate,
    /// Where to dial it (`host:port`).
    pub relay_address: String,
    /// Time limits.
    pub timeouts: Timeouts,
    /// End-to-end supplied keys (`[supplied_keys]` in `profile.toml`), if configured.
    pub supplied_keys: Option<SuppliedKeys>,
}

impl SessionConfig {
    /// Opens the keystore (with `passphrase`) and the message store of `profile`.
    pub fn from_profile(profile: &Profile, passphrase: Passphrase) -> Result<Self, ClientError> {
        let now = unix_now();
        let trust = profile.trust_store(now)?;
        let relay = profile.relay_certificate()?;
        let relay_address = profile.relay_address()?;
        let keystore_path = profile.keystore_path();
        let keystore = OfficerKeystore::open(&keystore_path, &passphrase)?;
        if keystore.certificate().is_none() {
            return Err(ClientError::NotEnrolled {
                home: profile.home().to_owned(),
            });
        }
        let store = MessageStore::open(&profile.store_path(), keystore.store_key())?;
        let supplied_keys = profile
            .config()
            .supplied_keys
            .as_ref()
            .map(|c| SuppliedKeys::from_config(c, profile.home()))
            .transpose()?;
        Ok(Self {
            keystore,
            passphrase,
            keystore_path,
            store,
            trust,
            relay,
            relay_address,
            timeouts: Timeouts::default(),
            supplied_keys,
        })
    }
}

/// A report to send: its content type and bytes.
#[derive(Debug, Clone)]
pub struct Report {
    /// What it is (STIX bundle, MISP event, text, file with its name).
    pub content_type: ContentType,
    /// The bytes, exactly as they will be written out at the recipient.
    pub content: Vec<u8>,
}

/// Who to send to: an identity id, or the name of a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientRef {
    /// An identity id.
    Id(IdentityId),
    /// A contact's certificate name (exact, case-insensitive).
    Name(String),
}

impl RecipientRef {
    /// Parses `--to`: 64 hex digits is an id, anything else a name.
    pub fn parse(text: &str) -> Self {
        text.parse::<IdentityId>()
            .map_or_else(|_| Self::Name(text.to_owned()), Self::Id)
    }
}

/// What [`Session::send`] achieved.
#[derive(Debug, Clone)]
pub struct SendOutcome {
    /// The envelope's message id.
    pub message_id: MessageId,
    /// The recipients' certificates (as verified from their prekey bundles).
    pub recipients: Vec<MemberCertificate>,
    /// `Accepted`, or `Duplicate` when the relay already held it.
    pub status: AckStatus,
    /// The sealed envelope (what `liaison verify` checks).
    pub envelope: Vec<u8>,
    /// How many recipients' keys mix an end-to-end supplied (QKD or pre-shared) key.
    pub supplied_keys: usize,
}

/// What a session has taken in so far (for monitoring, e.g. an integrator's metrics).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// New messages stored and handed to the application.
    pub messages: u64,
    /// Deliveries of messages already in the store: acknowledged, not handed over again.
    pub duplicates: u64,
    /// Receipts for our messages verified and recorded.
    pub receipts: u64,
    /// Relays' non-delivery notices for our messages verified and recorded.
    pub undelivered: u64,
    /// Envelopes or receipts refused (failed verification or decryption).
    pub rejected: u64,
    /// Envelopes left with the relay, unacknowledged, because their supplied key could not be
    /// obtained (the relay delivers them again on the next connection).
    pub held: u64,
    /// Times the link to the home relay was dialled again after it closed.
    pub reconnects: u64,
    /// Times the relay could not take one of our receipts yet (`Ack(Deferred)`, or refused
    /// as rate limited): it stays pending and is sent again after a pause.
    pub receipts_deferred: u64,
}

/// Everything needed to dial the home relay again ([`Session::reconnect`]).
#[derive(Debug, Clone)]
struct Dialer {
    addr: SocketAddr,
    relay_address: String,
    config: LinkConfig,
    supply: LinkSupply,
    timeout: Duration,
}

impl Dialer {
    fn unreachable(&self, reason: String) -> ClientError {
        ClientError::Unreachable {
            address: self.relay_address.clone(),
            reason,
        }
    }

    /// Dials the home relay over `endpoint` and runs the link handshake, within the timeout.
    async fn dial(&self, endpoint: &quinn::Endpoint) -> Result<Link, ClientError> {
        let dial = async {
            let conn = endpoint
                .connect(self.addr, "liaison-node")
                .map_err(|e| self.unreachable(e.to_string()))?
                .await
                .map_err(|e| self.unreachable(e.to_string()))?;
            link::initiate(conn, self.config.clone(), self.supply.clone())
                .await
                .map_err(|e| match e {
                    LinkError::PeerRefused { code, reason } => {
                        ClientError::Refused { code, reason }
                    }
                    LinkError::Proto(p) => ClientError::Refused {
                        code: p.wire_code() as u16,
                        reason: format!("link handshake: {p}"),
                    },
                    other => self.unreachable(other.to_string()),
                })
        };
        match tokio::time::timeout(self.timeout, dial).await {
            Ok(link) => link,
            Err(_) => Err(self.unreachable(format!("no link within {} s", self.timeout.as_secs()))),
        }
    }
}

/// An officer's live session with its home relay.
#[derive(Debug)]
pub struct Session {
    link: Link,
    dialer: Dialer,
    endpoint: quinn::Endpoint,
    keystore: OfficerKeystore,
    passphrase: Passphrase,
    keystore_path: std::path::PathBuf,
    store: Arc<MessageStore>,
    trust: Arc<TrustStore>,
    certificate: MemberCertificate,
    events: VecDeque<Event>,
    /// Our receipts in flight, and those the relay deferred.
    receipts: receipts::ReceiptTracker,
    timeouts: Timeouts,
    /// A refusal that arrived as `Ack(Refused)`, waiting for the `Error` that explains it.
    pending_refusal: Option<Vec<u8>>,
    stats: SessionStats,
    supplied: Option<SuppliedKeys>,
    /// Non-delivery notices that arrived before their message was recorded as sent.
    early_notices: Vec<(MessageId, Vec<u8>)>,
}

/// One control answer from the relay.
#[derive(Debug)]
enum Answer {
    Ack {
        id: Vec<u8>,
        status: AckStatus,
    },
    Refused {
        id: Vec<u8>,
        code: u16,
        reason: String,
    },
    Bundle(Vec<u8>),
}

impl Session {
    /// Connects to the home relay and publishes the current signed prekey (rotating it first
    /// when due). Envelopes and receipts the relay pushes meanwhile are taken in and queued for
    /// [`Self::next_event`].
    pub async fn connect(config: SessionConfig) -> Result<Self, ClientError> {
        let SessionConfig {
            keystore,
            passphrase,
            keystore_path,
            store,
            trust,
            relay,
            relay_address,
            timeouts,
            supplied_keys,
        } = config;
        let certificate = keystore
            .certificate()
            .cloned()
            .ok_or_else(|| ClientError::BadInput("the keystore holds no certificate".into()))?;
        if certificate.home_relay() != Some(relay.subject()) {
            return Err(ClientError::BadInput(format!(
                "our certificate names another home relay than {} ({})",
                relay.name(),
                relay.subject().fingerprint()
            )));
        }
        let trust = Arc::new(trust);
        let unreachable = |reason: String| ClientError::Unreachable {
            address: relay_address.clone(),
            reason,
        };
        let addr: SocketAddr = tokio::net::lookup_host(relay_address.as_str())
            .await
            .map_err(|e| unreachable(e.to_string()))?
            .next()
            .ok_or_else(|| unreachable("the name resolves to no address".into()))?;
        let bind: SocketAddr = if addr.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let endpoint = transport::client_endpoint(
            bind,
            &TransportLimits {
                idle_timeout: Duration::from_secs(30),
                keep_alive: Duration::from_secs(5),
                ..TransportLimits::default()
            },
        )
        .map_err(|e| unreachable(e.to_string()))?;
        let link_supply = supplied_keys
            .as_ref()
            .map_or_else(LinkSupply::off, SuppliedKeys::link_supply);
        let link_config = LinkConfig {
            identity: Arc::new(LocalIdentity {
                certificate: certificate.clone(),
                signing_key: copy_key(keystore.identity())?,
            }),
            trust: Arc::clone(&trust),
            suites: vec![certificate.suite()],
            supply: link_supply.proto_policy(),
            local_sae_id: link_supply.local_sae.clone(),
            peer: PeerPolicy {
                expected_peer: Some(relay.subject()),
                allow_relays: true,
                allow_officers: false,
            },
            handshake_timeout: timeouts.connect,
            rekey: RekeyPolicy::default(),
        };
        let dialer = Dialer {
            addr,
            relay_address: relay_address.clone(),
            config: link_config,
            supply: link_supply,
            timeout: timeouts.connect,
        };
        let link = dialer.dial(&endpoint).await?;
        tracing::info!(relay = %relay.subject().fingerprint(), "link up");
        if certificate.clearance().min_policy().supplied_key_required
            && !link.session().supplied_key_mixed()
        {
            // Relays hand SECRET UE and above only to links that mixed a supplied key.
            tracing::warn!(
                "this link to the home relay mixes no supplied key, so the relay holds any \
                 SECRET UE report for you until you connect with one: set relay_sae_id in \
                 [supplied_keys] (docs/CLIENT.md)"
            );
        }
        let mut session = Self {
            link,
            dialer,
            endpoint,
            keystore,
            passphrase,
            keystore_path,
            store: Arc::new(store),
            trust,
            certificate,
            events: VecDeque::new(),
            receipts: receipts::ReceiptTracker::default(),
            timeouts,
            pending_refusal: None,
            stats: SessionStats::default(),
            supplied: supplied_keys,
            early_notices: Vec::new(),
        };
        session.prekey_upkeep().await?;
        session.resend_pending_receipts().await?;
        let now = unix_now();
        let swept = session
            .blocking(move |store| store.sweep_kept_supplied_keys(now))
            .await?;
        if swept > 0 {
            tracing::info!(swept, "kept supplied keys of expired messages erased");
        }
        Ok(session)
    }

    /// Dials the home relay again and carries on over the new link: the same handshake and
    /// checks as [`Self::connect`], prekey upkeep (a rotation falls due in a long session);
    /// receipts the relay had not acknowledged are sent again.
    /// Called by the session itself when it finds the link closed (see the module docs);
    /// callable directly, e.g. after an `Unreachable` error once the network is back.
    pub async fn reconnect(&mut self) -> Result<(), ClientError> {
        let link = self.dialer.dial(&self.endpoint).await?;
        let old = std::mem::replace(&mut self.link, link);
        // The old link is gone already (that is why we are here); close what is left of it
        // without waiting on a peer that may not answer.
        drop(old);
        self.stats.reconnects += 1;
        self.pending_refusal = None;
        self.receipts.clear(); // every pending receipt is sent again just below
        tracing::info!(relay = %self.dialer.relay_address, "link to the home relay dialled again");
        self.prekey_upkeep().await?;
        self.resend_pending_receipts().await
    }

    /// Redials first if the relay closed the link while we were not looking (an idle session
    /// does not answer keepalives; the relay may have restarted).
    async fn ensure_link(&mut self) -> Result<(), ClientError> {
        if let Some(reason) = self.link.connection().close_reason() {
            tracing::info!(%reason, "the link to the home relay was closed; dialling again");
            self.reconnect().await?;
        }
        Ok(())
    }

    /// Counters of what this session has taken in.
    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    /// Our own certificate.
    pub fn certificate(&self) -> &MemberCertificate {
        &self.certificate
    }

    /// The local message store (received and sent messages, receipts, contacts).
    pub fn store(&self) -> &MessageStore {
        &self.store
    }

    /// Rotates the signed prekey when due (saving the keystore), prunes expired secrets, and
    /// publishes the current prekey to the home relay.
    async fn prekey_upkeep(&mut self) -> Result<(), ClientError> {
        let now = unix_now();
        let rotated = self
            .keystore
            .try_rotate_prekey_if_due(now, &mut os_rng())?
            .is_some();
        let pruned = self.keystore.prune(now);
        if rotated || pruned > 0 {
            self.keystore.save(&self.keystore_path, &self.passphrase)?;
        }
        let Some(prekey) = self.keystore.current_prekey().cloned() else {
            return Err(ClientError::BadInput("the keystore holds no prekey".into()));
        };
        let id = prekey.id().as_bytes().to_vec();
        self.send_frame(&LinkFrame::PrekeyPublish(prekey.raw().to_vec()))
            .await?;
        match self.await_answer(&id, "the prekey publication").await? {
            Answer::Ack { .. } => {
                tracing::info!(prekey = %prekey.id(), rotated, "prekey published");
                Ok(())
            }
            Answer::Refused { code, reason, .. } => Err(ClientError::Refused { code, reason }),
            Answer::Bundle(_) => Err(ClientError::Refused {
                code: 0,
                reason: "unexpected prekey bundle".into(),
            }),
        }
    }

    /// Seals `report` for `recipients` at `classification`/`tlp` and hands it to the home
    /// relay; returns once the relay has taken custody (its `Ack`), and records the message.
    pub async fn send(
        &mut self,
        report: &Report,
        recipients: &[RecipientRef],
        classification: Classification,
        tlp: Tlp,
    ) -> Result<SendOutcome, ClientError> {
        self.send_with_lifetime(
            report,
            recipients,
            classification,
            tlp,
            DEFAULT_LIFETIME_SECS,
        )
        .await
    }

    /// [`Self::send`] with an explicit lifetime (seconds until relays drop the envelope).
    pub async fn send_with_lifetime(
        &mut self,
        report: &Report,
        recipients: &[RecipientRef],
        classification: Classification,
        tlp: Tlp,
        lifetime_secs: u64,
    ) -> Result<SendOutcome, ClientError> {
        if recipients.is_empty() {
            return Err(ClientError::BadInput("no recipient given".into()));
        }
        let mut ids = Vec::new();
        for r in recipients {
            let id = self.resolve(r)?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        self.ensure_link().await?;
        let mut bundles = Vec::new();
        for id in ids {
            bundles.push(self.fetch_bundle(id).await?);
        }
        if classification.min_policy().supplied_key_required
            && !self.link.session().supplied_key_mixed()
        {
            // The relay would refuse it on this link (`officer_qkd`); say how to fix it here.
            return Err(ClientError::SuppliedKeyMissing {
                peer: format!("the link to home relay {}", self.link.peer().name()),
                reason: format!(
                    "{} travels only on links that mix a supplied key, and this one does not: \
                     set relay_sae_id in [supplied_keys] (docs/CLIENT.md) and reconnect",
                    classification.marking()
                ),
            });
        }
        let mut keys = Vec::with_capacity(bundles.len());
        for b in &bundles {
            // Without a [supplied_keys] section none is mixed in; a classification that needs
            // one was refused above already (the link to the relay mixes none either).
            keys.push(match &self.supplied {
                Some(supplied) => {
                    supplied
                        .for_recipient(&b.certificate, classification)
                        .await?
                }
                None => None,
            });
        }
        let supplied_keys = keys.iter().filter(|k| k.is_some()).count();
        let now = unix_now();
        let mut builder = EnvelopeBuilder::new(
            self.keystore.identity(),
            &self.certificate,
            classification,
            tlp,
            report.content_type.clone(),
            now,
            now.plus_secs(lifetime_secs),
        );
        for (b, key) in bundles.iter().zip(&keys) {
            let supplied = key.as_ref().map(|k| SuppliedKey {
                reference: k.reference.clone(),
                key: &k.key,
            });
            builder = builder.recipient(&b.certificate, &b.prekey, supplied);
        }
        let envelope = off_runtime(|| builder.seal(&report.content, &mut os_rng()))
            .map_err(ClientError::Policy)?;
        let message_id = envelope.header().message_id;
        self.send_frame(&LinkFrame::Envelope(envelope.raw().to_vec()))
            .await?;
        let status = match self
            .await_answer(&message_id.0, "custody of the envelope")
            .await?
        {
            Answer::Ack { status, .. } => status,
            Answer::Refused { code, reason, .. } => {
                return Err(ClientError::Refused { code, reason });
            }
            Answer::Bundle(_) => unreachable_answer()?,
        };
        if status == AckStatus::Deferred {
            return Err(ClientError::Deferred {
                message_id: message_id.to_string(),
            });
        }
        let recipients: Vec<MemberCertificate> =
            bundles.into_iter().map(|b| b.certificate).collect();
        let record = SentMessage {
            message_id,
            recipients: recipients
                .iter()
                .map(|c| (c.subject(), c.name().to_owned()))
                .collect(),
            classification,
            tlp,
            content_type: report.content_type.clone(),
            sent_at: unix_now(),
            size: report.content.len() as u64,
        };
        let raw = envelope.raw().to_vec();
        self.blocking(move |store| {
            store.record_sent(&record)?;
            store.record_sent_envelope(message_id, &raw)
        })
        .await?;
        tracing::info!(id = %message_id, ?status, supplied_keys, "relay took custody");
        self.retry_early_notices(message_id).await?;
        Ok(SendOutcome {
            message_id,
            recipients,
            status,
            envelope: envelope.raw().to_vec(),
            supplied_keys,
        })
    }

    /// Hands a previously sealed envelope of ours (`SendOutcome::envelope`, or a file saved
    /// with `liaison send --save-envelope`) to the relay again, e.g. after the relay lost it
    /// or custody was never confirmed. Relays deduplicate by message id, and recipients' clients
    /// by their stores, so a retransmission is never delivered twice.
    pub async fn resend(&mut self, envelope: &[u8]) -> Result<AckStatus, ClientError> {
        let parsed = liaison_proto::envelope::Envelope::decode(envelope)
            .map_err(|e| ClientError::BadInput(format!("not an envelope: {e}")))?;
        if parsed.header().sender != self.certificate.subject() {
            return Err(ClientError::BadInput(
                "only our own envelopes can be retransmitted".into(),
            ));
        }
        let id = parsed.header().message_id;
        self.ensure_link().await?;
        self.send_frame(&LinkFrame::Envelope(envelope.to_vec()))
            .await?;
        match self.await_answer(&id.0, "custody of the envelope").await? {
            Answer::Ack {
                status: AckStatus::Deferred,
                ..
            } => Err(ClientError::Deferred {
                message_id: id.to_string(),
            }),
            Answer::Ack { status, .. } => Ok(status),
            Answer::Refused { code, reason, .. } => Err(ClientError::Refused { code, reason }),
            Answer::Bundle(_) => unreachable_answer(),
        }
    }

    /// The next incoming event (a message or a receipt), waiting at most `wait`; `None` when
    /// nothing arrived in time.
    pub async fn next_event(&mut self, wait: Duration) -> Result<Option<Event>, ClientError> {
        let deadline = tokio::time::Instant::now() + wait;
        if self.events.is_empty() {
            self.ensure_link().await?;
        }
        let mut redialled = false;
        loop {
            if let Some(e) = self.events.pop_front() {
                return Ok(Some(e));
            }
            match self.pump_redialling(deadline, &mut redialled).await? {
                Pumped::Timeout => return Ok(None),
                Pumped::Handled => {}
                Pumped::Answer(a) => {
                    tracing::debug!(?a, "answer with nothing waiting for it; ignored");
                }
            }
        }
    }

    /// Takes in everything the relay has queued for us: returns the events that arrived until
    /// the link stayed quiet for `quiet` (bounded by `max_wait` overall).
    pub async fn fetch_pending(
        &mut self,
        quiet: Duration,
        max_wait: Duration,
    ) -> Result<Vec<Event>, ClientError> {
        let end = tokio::time::Instant::now() + max_wait;
        self.ensure_link().await?;
        let mut out: Vec<Event> = self.events.drain(..).collect();
        // Only something for the application restarts the quiet period: the relay's keepalive
        // Pings (and rekeys, duplicates) keep arriving on an idle link and must not.
        let mut deadline = (tokio::time::Instant::now() + quiet).min(end);
        let mut redialled = false;
        loop {
            let was_redialled = redialled;
            let pumped = match self.pump_redialling(deadline, &mut redialled).await {
                Ok(p) => p,
                Err(e) => {
                    // What was taken in is stored and acknowledged: hand it over on the next
                    // call rather than lose it with this error.
                    out.extend(self.events.drain(..));
                    self.events = out.into();
                    return Err(e);
                }
            };
            match pumped {
                Pumped::Timeout => break,
                Pumped::Handled | Pumped::Answer(_) => {
                    let before = out.len();
                    out.extend(self.events.drain(..));
                    // A new link gets its own quiet period: the relay starts sending anew.
                    if out.len() > before || redialled != was_redialled {
                        deadline = (tokio::time::Instant::now() + quiet).min(end);
                    }
                }
            }
            if tokio::time::Instant::now() >= end {
                break;
            }
        }
        Ok(out)
    }

    /// Closes the link in order (a sealed `Close`) and waits briefly for the endpoint.
    pub async fn close(self) {
        let _ = self.finish().await;
    }

    /// Closes the link like [`Self::close`] and hands back the message store, to list what
    /// arrived without opening the keystore again.
    pub async fn finish(self) -> Arc<MessageStore> {
        self.link.close().await;
        let _ = tokio::time::timeout(Duration::from_secs(2), self.endpoint.wait_idle()).await;
        self.store
    }

    /// Runs a store operation off the async runtime (each write is an fsync'd commit).
    pub(super) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&MessageStore) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ClientError> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| ClientError::Io {
                path: self.store.path().to_owned(),
                source: std::io::Error::other(e.to_string()),
            })?
            .map_err(ClientError::from)
    }

    fn resolve(&self, r: &RecipientRef) -> Result<IdentityId, ClientError> {
        match r {
            RecipientRef::Id(id) => Ok(*id),
            RecipientRef::Name(name) => match self.store.find_contact(name) {
                Ok(cert) => Ok(cert.subject()),
                Err(e @ (StoreError::NotFound { .. } | StoreError::Ambiguous { .. })) => {
                    Err(ClientError::UnknownRecipient {
                        query: name.clone(),
                        reason: e.to_string(),
                    })
                }
                Err(e) => Err(e.into()),
            },
        }
    }

    /// Asks the relay for `id`'s prekey bundle and verifies it.
    /// The recipient's prekey bundle, from the relay, verified and remembered. When the relay
    /// cannot reach the recipient's home relay (a partition: `NoRoute`, or no answer in
    /// time), the last bundle remembered for it is used instead if it still verifies (the
    /// recipient keeps its previous prekeys until they expire), so that the report can be
    /// taken into custody now and forwarded when the route returns.
    async fn fetch_bundle(&mut self, id: IdentityId) -> Result<PrekeyBundle, ClientError> {
        let raw = match self.request_bundle(id).await {
            Ok(raw) => raw,
            Err(e) if is_partition(&e) => {
                let cached = self.blocking(move |store| store.prekey_bundle(&id)).await?;
                let Some(raw) = cached else { return Err(e) };
                let bundle = self.check_bundle(id, &raw).map_err(|_| e)?;
                tracing::warn!(
                    recipient = %id.fingerprint(),
                    "the recipient's home relay is out of reach: sealing with its remembered prekey bundle"
                );
                return Ok(bundle);
            }
            Err(e) => return Err(e),
        };
        let bundle = self.check_bundle(id, &raw)?;
        let cert = bundle.certificate.clone();
        self.blocking(move |store| store.remember_prekey_bundle(&cert, &raw))
            .await?;
        Ok(bundle)
    }

    /// Asks the relay for `id`'s prekey bundle.
    async fn request_bundle(&mut self, id: IdentityId) -> Result<Vec<u8>, ClientError> {
        self.send_frame(&LinkFrame::PrekeyRequest(id)).await?;
        match self
            .await_answer(id.as_bytes(), "a recipient's prekey bundle")
            .await?
        {
            Answer::Bundle(raw) => Ok(raw),
            Answer::Refused { code, reason, .. } => Err(ClientError::Refused {
                code,
                reason: format!("prekey of {}: {reason}", id.fingerprint()),
            }),
            Answer::Ack { .. } => unreachable_answer(),
        }
    }

    /// Decodes and verifies a bundle for recipient `id` (certificate chain, revocation,
    /// validity, prekey signature, officer role).
    fn check_bundle(&self, id: IdentityId, raw: &[u8]) -> Result<PrekeyBundle, ClientError> {
        let refused = |reason: String| ClientError::RecipientKey {
            recipient: id,
            reason,
        };
        let bundle = PrekeyBundle::decode(raw).map_err(|e| refused(e.to_string()))?;
        if bundle.certificate.subject() != id {
            return Err(refused(format!(
                "the relay answered with the bundle of {}",
                bundle.certificate.subject().fingerprint()
            )));
        }
        bundle
            .verify(&self.trust, unix_now())
            .map_err(|e| refused(e.to_string()))?;
        if bundle.certificate.role() != Role::Officer {
            return Err(refused("not an officer".into()));
        }
        Ok(bundle)
    }

    async fn send_frame(&mut self, frame: &LinkFrame) -> Result<(), ClientError> {
        self.link.send(frame).await.map_err(ClientError::Link)
    }

    /// Pumps the link until the answer for `id` arrives (taking in envelopes and receipts
    /// meanwhile), bounded by the answer timeout.
    async fn await_answer(&mut self, id: &[u8], what: &'static str) -> Result<Answer, ClientError> {
        let deadline = tokio::time::Instant::now() + self.timeouts.answer;
        loop {
            match self.pump(deadline).await? {
                Pumped::Timeout => {
                    return Err(ClientError::Timeout {
                        what,
                        seconds: self.timeouts.answer.as_secs(),
                    });
                }
                Pumped::Handled => {}
                Pumped::Answer(a) => {
                    let matches = match &a {
                        Answer::Ack { id: got, .. } | Answer::Refused { id: got, .. } => got == id,
                        // Bundles carry no request id: requests are sent one at a time.
                        Answer::Bundle(_) => true,
                    };
                    if matches {
                        return Ok(a);
                    }
                    tracing::debug!(?a, "answer for another item; ignored");
                }
            }
        }
    }

    /// [`Self::pump`], but a lost link is dialled again (once: `redialled` records it) and
    /// counts as something handled, so the caller goes on waiting on the new link.
    async fn pump_redialling(
        &mut self,
        deadline: tokio::time::Instant,
        redialled: &mut bool,
    ) -> Result<Pumped, ClientError> {
        match self.pump(deadline).await {
            Err(e) if !*redialled && is_link_loss(&e) => {
                tracing::info!(error = %e, "link to the home relay lost while waiting; dialling again");
                *redialled = true;
                self.reconnect().await?;
                Ok(Pumped::Handled)
            }
            other => other,
        }
    }

    /// Reads and handles one event from the link, up to `deadline`; sends deferred receipts
    /// again when their pause ends first.
    async fn pump(&mut self, deadline: tokio::time::Instant) -> Result<Pumped, ClientError> {
        let retry = self
            .receipts
            .next_wake(self.timeouts.answer)
            .filter(|&wake| wake < deadline);
        let event = match tokio::time::timeout_at(retry.unwrap_or(deadline), self.link.recv()).await
        {
            Err(_) if retry.is_some() => {
                self.resend_due_receipts().await?;
                return Ok(Pumped::Handled);
            }
            Err(_) => return Ok(Pumped::Timeout),
            Ok(Err(e)) => return Err(ClientError::Link(e)),
            Ok(Ok(e)) => e,
        };
        match event {
            LinkEvent::Frame(frame) => self.take_frame(frame).await,
            LinkEvent::Housekeeping => {
                self.link.flush().await.map_err(ClientError::Link)?;
                Ok(Pumped::Handled)
            }
            LinkEvent::RekeyDue => {
                self.link.start_rekey().await.map_err(ClientError::Link)?;
                Ok(Pumped::Handled)
            }
            LinkEvent::RekeyRequested(s) => {
                self.link.answer_rekey(s).await.map_err(ClientError::Link)?;
                Ok(Pumped::Handled)
            }
            LinkEvent::EnvelopeTooLarge {
                message_id,
                total,
                limit,
            } => {
                // Not reached with the default limit (`MAX_ENVELOPE_LEN`), which the part
                // decoder enforces itself; answered as the protocol says all the same.
                self.link
                    .refuse_too_large(message_id, total, limit)
                    .await
                    .map_err(ClientError::Link)?;
                Ok(Pumped::Handled)
            }
            LinkEvent::Closed => Err(ClientError::Unreachable {
                address: self.link.connection().remote_address().to_string(),
                reason: "the relay closed the link".into(),
            }),
        }
    }

    async fn take_frame(&mut self, frame: LinkFrame) -> Result<Pumped, ClientError> {
        match frame {
            LinkFrame::Envelope(raw) => {
                self.take_envelope(raw).await?;
                Ok(Pumped::Handled)
            }
            LinkFrame::Receipt(raw) => {
                self.take_receipt(raw).await?;
                Ok(Pumped::Handled)
            }
            LinkFrame::NonDelivery(raw) => {
                self.take_notice(raw).await?;
                Ok(Pumped::Handled)
            }
            LinkFrame::Ack { message_id, status } => {
                if status == AckStatus::Refused {
                    // Older relays: `Ack(Refused)` then a fatal `Error` with the reason.
                    self.pending_refusal = Some(message_id);
                    return Ok(Pumped::Handled);
                }
                if self.receipt_answered(&message_id, Ok(status)).await? {
                    return Ok(Pumped::Handled);
                }
                Ok(Pumped::Answer(Answer::Ack {
                    id: message_id,
                    status,
                }))
            }
            LinkFrame::Refused { id, code, reason } => {
                if self.receipt_answered(&id, Err((code, &reason))).await? {
                    return Ok(Pumped::Handled);
                }
                Ok(Pumped::Answer(Answer::Refused { id, code, reason }))
            }
            LinkFrame::PrekeyResponse(raw) => Ok(Pumped::Answer(Answer::Bundle(raw))),
            LinkFrame::Ping(p) => {
                self.send_frame(&LinkFrame::Pong(p)).await?;
                Ok(Pumped::Handled)
            }
            LinkFrame::Error { code, reason } => match self.pending_refusal.take() {
                Some(id) if self.receipt_answered(&id, Err((code, &reason))).await? => {
                    Ok(Pumped::Handled)
                }
                Some(id) => Ok(Pumped::Answer(Answer::Refused { id, code, reason })),
                None => Err(ClientError::Refused { code, reason }),
            },
            LinkFrame::Close => Err(ClientError::Unreachable {
                address: self.link.connection().remote_address().to_string(),
                reason: "the relay closed the link".into(),
            }),
            other => {
                tracing::debug!(frame = ?other.frame_type(), "frame ignored");
                Ok(Pumped::Handled)
            }
        }
    }
}

/// What one pump step produced.
#[derive(Debug)]
enum Pumped {
    /// The deadline passed.
    Timeout,
    /// Something was handled internally (an envelope, a receipt, housekeeping).
    Handled,
    /// A control answer for a waiting operation.
    Answer(Answer),
}

/// Whether `e` means the link itself is gone (closed by the relay, silent, reset), as opposed
/// to a refusal or a protocol violation: worth dialling again.
fn is_link_loss(e: &ClientError) -> bool {
    match e {
        ClientError::Unreachable { .. } => true,
        ClientError::Link(l) => matches!(
            l,
            LinkError::Connection(_)
                | LinkError::Read(_)
                | LinkError::Write(_)
                | LinkError::Truncated
                | LinkError::PeerSilent { .. }
        ),
        _ => false,
    }
}

/// Whether a failed bundle request means the recipient's home relay is out of reach (rather
/// than a verdict about the recipient).
fn is_partition(e: &ClientError) -> bool {
    match e {
        ClientError::Refused { code, .. } => *code == WireCode::NoRoute as u16,
        ClientError::Timeout { .. } => true,
        _ => false,
    }
}

fn unreachable_answer<T>() -> Result<T, ClientError> {
    Err(ClientError::Refused {
        code: WireCode::UnexpectedMessage as u16,
        reason: "the relay answered with an unexpected frame".into(),
    })
}

/// Runs CPU-heavy work (sealing or opening a large envelope) without stalling the runtime's
/// other tasks: on a multi-threaded runtime the worker hands its tasks to another thread first;
/// on a current-thread runtime there is no other thread to hand them to, so it runs inline.
pub(crate) fn off_runtime<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// Duplicates a signing key through its seed (the link needs its own copy).
fn copy_key(key: &SigningKey) -> Result<SigningKey, ClientError> {
    let seed = Seed32::try_from_slice(key.seed().expose_secret())
        .map_err(|e| ClientError::Proto(e.into()))?;
    Ok(SigningKey::from_seed(key.suite(), seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_ids_when_64_hex_digits_and_names_otherwise() {
        let id = IdentityId::from_bytes([0xab; 32]);
        assert_eq!(RecipientRef::parse(&id.to_string()), RecipientRef::Id(id));
        assert_eq!(
            RecipientRef::parse("Bohdan Kovalenko"),
            RecipientRef::Name("Bohdan Kovalenko".into())
        );
        assert_eq!(
            RecipientRef::parse("abab"),
            RecipientRef::Name("abab".into()),
            "a short hex string is a name (or an id prefix the store resolves)"
        );
    }
}
