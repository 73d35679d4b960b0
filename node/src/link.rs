//! The link driver: runs the sans-IO `liaison-proto` link (`spec/protocol-link.md`) over the
//! first bidirectional stream of one QUIC connection, following the call order of §9
//! ("Driving the link"): TLS exporter → handshake (initiator when dialling a relay, responder
//! when accepting) with the key supply consulted in between → sealed records.
//!
//! [`Link`] is the established channel: [`Link::send`] seals and writes one frame,
//! [`Link::recv`] returns the next frame (cancel-safe, so it can sit in a `tokio::select!`
//! beside an outbound queue). Anything the protocol itself must answer (our `RekeyDone`) is
//! queued and written by [`Link::flush`]. Officers' test clients use the same driver.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use liaison_crypto::SecretBytes;
use liaison_crypto::rng::os_rng;
use liaison_proto::certificate::MemberCertificate;
use liaison_proto::envelope::PayloadDigest;
use liaison_proto::envelope_parts::{self, Assembled, EnvelopeAssembler, PartSinks, Spooled};
use liaison_proto::frame::{Frame, FrameDecoder, FrameType, LinkFrame, MAX_ENVELOPE_LEN};
use liaison_proto::handshake::messages::InitiatorHello;
use liaison_proto::handshake::{
    ChannelBinding, InitiatorStart, LinkConfig, Now, ResponderStart, SuppliedKeyAnswer,
    SuppliedKeyRef, SuppliedKeys, SupplyPolicy,
};
use liaison_proto::record::{self, Incoming, LinkSession};
use liaison_proto::{ProtoError, UnixTime, WireCode};
use liaison_qkd::{
    Error as QkdError, KeyId, KeyRequest, KeySupply, KeySupplyMetrics, QkdPolicy, SaeId,
};

use crate::transport::{self, TransportError};

/// Most bytes taken from the stream per read. Reads borrow quinn's own receive buffers
/// (`read_chunk`), so a link waiting for its peer holds no read buffer of its own: with
/// thousands of idle links on a relay, a 64 KiB buffer per waiting link was a quarter of the
/// relay's memory (docs/BENCHMARKS.md, "Idle link memory").
const READ_CHUNK: usize = 64 * 1024;
/// Most bytes [`Link::recv`] takes from the stream ahead of the record it is about to open.
/// Taking what already arrived before the CPU work of opening (and, for an `EnvelopePart`,
/// hashing) returns QUIC flow-control credit to the sender at once, so the next part travels
/// while this one is processed instead of after it.
const READ_AHEAD: usize = 4 * 1024 * 1024;
/// Size of each supplied key drawn for a link (256 bits, ETSI 014's usual size).
const SUPPLIED_KEY_BITS: u32 = 256;
/// QUIC application close code after an orderly `Close`.
const CLOSE_OK: u32 = 0;
/// QUIC application close code after an `Error` frame.
const CLOSE_ERROR: u32 = 1;

/// A link's closing writes, boxed (see [`Link::fail`]).
type Closing = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Why a link could not be established or ended abnormally.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The link protocol refused something (ours or the peer's).
    #[error(transparent)]
    Proto(#[from] ProtoError),
    /// The TLS exporter was unavailable.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The QUIC connection failed.
    #[error("connection: {0}")]
    Connection(#[from] quinn::ConnectionError),
    /// Writing to the stream failed.
    #[error("write: {0}")]
    Write(#[from] quinn::WriteError),
    /// Reading from the stream failed.
    #[error("read: {0}")]
    Read(#[from] quinn::ReadError),
    /// The relay's address could not be resolved or dialled.
    #[error("cannot dial {address}: {reason}")]
    Dial {
        /// The address from the route.
        address: String,
        /// Why.
        reason: String,
    },
    /// The stream ended in the middle of a frame or before the handshake finished.
    #[error("stream ended unexpectedly")]
    Truncated,
    /// The handshake did not finish in time.
    #[error("handshake timed out")]
    HandshakeTimeout,
    /// The peer refused the handshake with an `Error` frame.
    #[error("peer refused the link: code {code:#06x}: {reason}")]
    PeerRefused {
        /// The peer's wire code.
        code: u16,
        /// The peer's reason.
        reason: String,
    },
    /// `qkd = "required"` and no supplied key could be obtained or was mixed.
    #[error("supplied key required but unavailable: {0}")]
    SuppliedKeyRequired(String),
    /// Keepalive: the peer sent nothing (not even a `Pong`) for this long.
    #[error("peer silent for {silent_secs} s (no frame, no Pong); presumed dead")]
    PeerSilent {
        /// Seconds since the last bytes arrived.
        silent_secs: u64,
    },
}

/// Dead-peer detection on an established link ([`Link::set_keepalive`]): a `Ping` goes out every
/// `interval`, and the link fails with [`LinkError::PeerSilent`] when nothing at all arrived
/// for `timeout` — seconds after a neighbour is killed or hangs, well before (or without) the
/// QUIC idle timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    /// Time between our `Ping`s.
    pub interval: Duration,
    /// Silence after which the peer is presumed dead; longer than `interval`.
    pub timeout: Duration,
}

/// Key supply for one link: the policy, the supply, and the SAE ids of both ends.
#[derive(Debug, Clone)]
pub struct LinkSupply {
    /// `required | preferred | off` for this peer.
    pub policy: QkdPolicy,
    /// Where keys come from (absent: no supplied keys at all).
    pub supply: Option<Arc<dyn KeySupply>>,
    /// Our SAE id.
    pub local_sae: Option<String>,
    /// The peer's SAE id (initiator side: the slave we draw keys for).
    pub peer_sae: Option<String>,
    /// Counters (keys obtained, fallbacks, required failures).
    pub metrics: Arc<KeySupplyMetrics>,
}

impl LinkSupply {
    /// No supplied keys.
    pub fn off() -> Self {
        Self {
            policy: QkdPolicy::Off,
            supply: None,
            local_sae: None,
            peer_sae: None,
            metrics: Arc::default(),
        }
    }

    /// The proto-level policy matching ours.
    pub fn proto_policy(&self) -> SupplyPolicy {
        match self.policy {
            QkdPolicy::Required => SupplyPolicy::Required,
            QkdPolicy::Preferred => SupplyPolicy::Preferred,
            QkdPolicy::Off => SupplyPolicy::Off,
        }
    }

    /// Master side: draws one key for the peer under the policy. `Ok(None)`: go on without.
    async fn draw_master(&self) -> Result<Option<SuppliedKeys>, LinkError> {
        let (QkdPolicy::Required | QkdPolicy::Preferred) = self.policy else {
            return Ok(None);
        };
        let peer = SaeId::new(self.peer_sae.as_deref().unwrap_or("(no SAE id configured)"));
        let result = match (&self.supply, &self.local_sae, &self.peer_sae) {
            (Some(supply), Some(me), Some(peer_sae)) => supply
                .enc_keys(&peer, KeyRequest::one(SUPPLIED_KEY_BITS))
                .await
                .and_then(|keys| {
                    let (ids, keys): (Vec<KeyId>, Vec<_>) = keys.into_iter().unzip();
                    let reference = SuppliedKeyRef {
                        master_sae_id: me.clone(),
                        slave_sae_id: peer_sae.clone(),
                        key_ids: ids.iter().map(|i| i.as_str().to_owned()).collect(),
                    };
                    let keys = keys.into_iter().map(into_secret).collect();
                    SuppliedKeys::new(reference, keys).map_err(|e| QkdError::Unsatisfiable {
                        reason: e.to_string(),
                    })
                }),
            _ => Err(QkdError::Unsatisfiable {
                reason: "no key supply or SAE ids configured for this peer".into(),
            }),
        };
        self.settle(&peer, result)
    }

    /// Slave side: fetches the keys the peer named.
    async fn fetch_slave(&self, request: Option<&SuppliedKeyRef>) -> SuppliedKeyAnswer {
        let (Some(request), Some(supply)) = (request, &self.supply) else {
            return SuppliedKeyAnswer::None;
        };
        let ids: Vec<KeyId> = request.key_ids.iter().map(KeyId::new).collect();
        let master = SaeId::new(request.master_sae_id.as_str());
        let result = supply.dec_keys(&master, &ids).await.map(|keys| {
            keys.into_iter()
                .map(|(_, k)| into_secret(k))
                .collect::<Vec<SecretBytes>>()
        });
        match self.settle(&master, result) {
            Ok(Some(keys)) => SuppliedKeyAnswer::Keys(keys),
            _ => SuppliedKeyAnswer::None,
        }
    }

    /// The policy's verdict on one attempt ([`liaison_qkd::settle`] counts and logs it).
    fn settle<T>(&self, peer: &SaeId, result: Result<T, QkdError>) -> Result<Option<T>, LinkError> {
        liaison_qkd::settle(self.policy, peer, result, &self.metrics)
            .map_err(|e| LinkError::SuppliedKeyRequired(e.to_string()))
    }
}

fn into_secret(key: liaison_qkd::SuppliedKey) -> SecretBytes {
    let mut bytes = key.into_secret();
    // Moves the bytes out without a copy; the emptied Zeroizing wrapper has nothing left.
    SecretBytes::new(std::mem::take(&mut *bytes))
}

/// What [`Link::recv`] produced.
#[derive(Debug)]
pub enum LinkEvent {
    /// An application frame from the peer.
    Frame(LinkFrame),
    /// The peer asked for a rekey: call [`Link::answer_rekey`].
    RekeyRequested(Option<SuppliedKeyRef>),
    /// The current epoch is old enough to rekey: call [`Link::start_rekey`].
    RekeyDue,
    /// Protocol housekeeping was queued: call [`Link::flush`].
    Housekeeping,
    /// The peer finished the stream (or closed the connection) cleanly.
    Closed,
    /// The peer sent an envelope in parts longer than this link's limit
    /// ([`Link::set_max_envelope_len`]); none of it was kept. Answer it with a non-fatal
    /// `Refused(TooLarge)`: [`Link::refuse_too_large`] does, and a relay answers through its own
    /// refusal path, which also audits it.
    EnvelopeTooLarge {
        /// The 16 bytes where the envelope's message id sits (empty when the first part did
        /// not start like an envelope).
        message_id: Vec<u8>,
        /// The length its parts announced.
        total: usize,
        /// This link's limit.
        limit: usize,
    },
}

/// An established link over one QUIC connection.
#[derive(Debug)]
pub struct Link {
    conn: quinn::Connection,
    send: quinn::SendStream,
    recv: quinn::RecvStream,
    session: LinkSession,
    decoder: FrameDecoder,
    origin: Instant,
    outbox: Vec<Vec<u8>>,
    supply: LinkSupply,
    keepalive: Option<Keepalive>,
    /// When bytes last arrived from the peer.
    last_heard: Instant,
    /// When we last queued a `Ping`.
    last_ping: Instant,
    pings: u64,
    /// Puts envelopes sent as `EnvelopePart`s back together.
    assembler: EnvelopeAssembler,
    /// The payload hash of the envelope [`Self::recv`] returned last, when it came in parts.
    payload_digest: Option<PayloadDigest>,
    /// Where the parts of large envelopes are written while they arrive (a relay's store).
    part_sinks: Option<PartSinks>,
    /// What the part sink made of the envelope [`Self::recv`] returned last.
    spooled: Option<Spooled>,
    /// When the first part of the envelope in progress arrived (for the debug log).
    parts_started: Option<Instant>,
    /// SAE id of the master named in the handshake (responder side), for the caller's check.
    pub peer_master_sae: Option<String>,
}

fn now(origin: Instant) -> Now {
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Now {
        unix: UnixTime(unix),
        monotonic: origin.elapsed(),
    }
}

/// Reads one plaintext frame (handshake phase).
async fn read_frame(
    recv: &mut quinn::RecvStream,
    decoder: &mut FrameDecoder,
) -> Result<Frame, LinkError> {
    loop {
        if let Some(frame) = decoder.poll_frame().map_err(ProtoError::from)? {
            if frame.frame_type == FrameType::Error {
                return match LinkFrame::from_frame(&frame).map_err(ProtoError::from)? {
                    LinkFrame::Error { code, reason } => {
                        Err(LinkError::PeerRefused { code, reason })
                    }
                    _ => Err(LinkError::Truncated),
                };
            }
            return Ok(frame);
        }
        match recv.read_chunk(READ_CHUNK, true).await? {
            Some(chunk) => decoder.push(&chunk.bytes),
            None => return Err(LinkError::Truncated),
        }
    }
}

/// Writes the plaintext `Error` for a failed handshake (best effort) and closes.
async fn refuse(conn: &quinn::Connection, send: &mut quinn::SendStream, err: &LinkError) {
    if let LinkError::Proto(e) = err {
        let _ = send.write_all(&record::handshake_error_bytes(e)).await;
    }
    let _ = send.finish();
    let _ = tokio::time::timeout(Duration::from_secs(1), send.stopped()).await;
    conn.close(CLOSE_ERROR.into(), b"handshake failed");
}

/// Dials side: opens the stream and runs the initiator handshake.
///
/// The handshake's state is boxed and freed when it ends: a caller's future that goes on to
/// drive the link for hours does not keep room for it (about 2.6 KiB per link).
pub fn initiate(
    conn: quinn::Connection,
    config: LinkConfig,
    supply: LinkSupply,
) -> impl Future<Output = Result<Link, LinkError>> + Send + use<> {
    Box::pin(run_initiator(conn, config, supply))
}

async fn run_initiator(
    conn: quinn::Connection,
    config: LinkConfig,
    supply: LinkSupply,
) -> Result<Link, LinkError> {
    let origin = Instant::now();
    let binding = ChannelBinding(transport::exporter(&conn)?);
    let (mut send, mut recv) = conn.open_bi().await?;
    let timeout = config.handshake_timeout;
    let run = async {
        let supplied = supply.draw_master().await?;
        let start = InitiatorStart::new(config, binding, supplied)?;
        let mut rng = os_rng();
        let (state, hello) = start.start(now(origin), &mut rng)?;
        send.write_all(&hello).await?;
        // Until the peer has authenticated, no frame may be larger than a handshake message.
        let mut decoder = FrameDecoder::handshake();
        let frame = read_frame(&mut recv, &mut decoder).await?;
        let (session, finish) = state.handle(&frame, now(origin), &mut rng)?;
        send.write_all(&finish).await?;
        Ok::<_, LinkError>((session, decoder))
    };
    let outcome = tokio::time::timeout(timeout, run)
        .await
        .unwrap_or(Err(LinkError::HandshakeTimeout));
    conclude(conn, send, recv, outcome, origin, supply, None).await
}

/// Accepting side: accepts the stream and runs the responder handshake. The caller checks the
/// peer's per-peer policy afterwards (the responder cannot know the peer before its
/// certificate arrives in `InitiatorFinish`). Boxed like [`initiate`].
pub fn respond(
    conn: quinn::Connection,
    config: LinkConfig,
    supply: LinkSupply,
) -> impl Future<Output = Result<Link, LinkError>> + Send + use<> {
    Box::pin(run_responder(conn, config, supply))
}

async fn run_responder(
    conn: quinn::Connection,
    config: LinkConfig,
    supply: LinkSupply,
) -> Result<Link, LinkError> {
    let origin = Instant::now();
    let binding = ChannelBinding(transport::exporter(&conn)?);
    let timeout = config.handshake_timeout;
    let (mut send, mut recv) = match tokio::time::timeout(timeout, conn.accept_bi()).await {
        Ok(streams) => streams?,
        Err(_) => {
            conn.close(CLOSE_ERROR.into(), b"no stream");
            return Err(LinkError::HandshakeTimeout);
        }
    };
    let mut master_sae = None;
    let run = async {
        // Until the peer has authenticated, no frame may be larger than a handshake message.
        let mut decoder = FrameDecoder::handshake();
        let hello = read_frame(&mut recv, &mut decoder).await?;
        if let Ok(parsed) = InitiatorHello::decode(&hello.body) {
            master_sae = parsed.supplied.map(|s| s.master_sae_id);
        }
        let waiting = ResponderStart::new(config, binding).handle(&hello, now(origin))?;
        let answer = supply.fetch_slave(waiting.request()).await;
        let mut rng = os_rng();
        let (state, reply) = waiting.resume(answer, now(origin), &mut rng)?;
        send.write_all(&reply).await?;
        let finish = read_frame(&mut recv, &mut decoder).await?;
        let session = state.handle(&finish, now(origin))?;
        Ok::<_, LinkError>((session, decoder))
    };
    let outcome = tokio::time::timeout(timeout, run)
        .await
        .unwrap_or(Err(LinkError::HandshakeTimeout));
    conclude(conn, send, recv, outcome, origin, supply, master_sae).await
}

/// Turns a handshake's outcome into a [`Link`], or refuses the peer and closes on failure.
async fn conclude(
    conn: quinn::Connection,
    mut send: quinn::SendStream,
    recv: quinn::RecvStream,
    outcome: Result<(LinkSession, FrameDecoder), LinkError>,
    origin: Instant,
    supply: LinkSupply,
    peer_master_sae: Option<String>,
) -> Result<Link, LinkError> {
    match outcome {
        Ok((session, mut decoder)) => {
            // Authenticated: only the per-type limits apply from now on (a relay's own
            // `max_envelope_bytes` refuses large envelopes, without closing the link).
            decoder.set_max_body(usize::MAX);
            Ok(Link {
                conn,
                send,
                recv,
                session,
                decoder,
                origin,
                outbox: Vec::new(),
                supply,
                keepalive: None,
                last_heard: Instant::now(),
                last_ping: Instant::now(),
                pings: 0,
                assembler: EnvelopeAssembler::new(MAX_ENVELOPE_LEN).hash_in_background(),
                payload_digest: None,
                part_sinks: None,
                spooled: None,
                parts_started: None,
                peer_master_sae,
            })
        }
        Err(e) => {
            refuse(&conn, &mut send, &e).await;
            Err(e)
        }
    }
}

impl Link {
    /// The peer's validated member certificate.
    pub fn peer(&self) -> &MemberCertificate {
        self.session.peer_certificate()
    }

    /// The session (suite, whether a supplied key was mixed, epoch).
    pub fn session(&self) -> &LinkSession {
        &self.session
    }

    /// The QUIC connection (remote address, statistics).
    pub fn connection(&self) -> &quinn::Connection {
        &self.conn
    }

    /// Turns on dead-peer detection: [`Self::recv`] queues a `Ping` every `keepalive.interval`
    /// (returned as [`LinkEvent::Housekeeping`]; the caller's [`Self::flush`] sends it) and fails
    /// with [`LinkError::PeerSilent`] after `keepalive.timeout` without any bytes from the peer.
    pub fn set_keepalive(&mut self, keepalive: Keepalive) {
        self.keepalive = Some(keepalive);
        self.last_heard = Instant::now();
        self.last_ping = Instant::now();
    }

    /// Answers [`LinkEvent::EnvelopeTooLarge`] with a non-fatal `Refused(TooLarge)` naming
    /// the envelope's id (for a link user without a refusal path of its own).
    pub async fn refuse_too_large(
        &mut self,
        message_id: Vec<u8>,
        total: usize,
        limit: usize,
    ) -> Result<(), LinkError> {
        tracing::warn!(total, limit, "envelope in parts too large; refused");
        self.send(&LinkFrame::Refused {
            id: message_id,
            code: WireCode::TooLarge as u16,
            reason: format!("envelope of {total} bytes exceeds this link's limit of {limit}"),
        })
        .await
    }

    /// Keeps envelopes the peer sends in parts only up to `limit` bytes (at most
    /// `MAX_ENVELOPE_LEN`, the default): a longer one is reported as
    /// [`LinkEvent::EnvelopeTooLarge`] once its last part arrived, and its parts are never
    /// buffered.
    pub fn set_max_envelope_len(&mut self, limit: usize) {
        self.assembler = EnvelopeAssembler::new(limit)
            .hash_in_background()
            .with_part_sinks(self.part_sinks.clone());
    }

    /// Hands the parts of each large envelope to a sink from `sinks` as they arrive (a relay
    /// writes them to its custody store meanwhile); what the sink made of a complete envelope
    /// comes with it ([`Self::take_spool`]).
    pub fn set_part_sinks(&mut self, sinks: PartSinks) {
        self.part_sinks = Some(sinks);
        self.set_max_envelope_len(self.assembler.limit());
    }

    /// What the part sink made of the envelope the last [`Self::recv`] returned, when its
    /// parts went to one ([`Self::set_part_sinks`]; a relay's is a
    /// [`crate::store::SpoolTicket`]). Take it right after that `recv`; the next drops it.
    pub fn take_spool(&mut self) -> Option<Spooled> {
        self.spooled.take()
    }

    /// The payload hash of the envelope the last [`Self::recv`] returned, when it arrived in
    /// parts (computed while they arrived); `None` otherwise. Take it right after that `recv`
    /// and hand it to `Envelope::decode_owned` with that envelope's bytes; the next `recv`
    /// drops it.
    pub fn take_payload_digest(&mut self) -> Option<PayloadDigest> {
        self.payload_digest.take()
    }

    /// Seals and writes `frame`, first writing queued housekeeping and starting a rekey when
    /// one is due. An envelope longer than `ENVELOPE_PART_THRESHOLD` goes as a sequence of
    /// `EnvelopePart` records (`spec/protocol-link.md` §3.3), each sealed just before it is
    /// written, so the first bytes leave before the last are sealed.
    pub async fn send(&mut self, frame: &LinkFrame) -> Result<(), LinkError> {
        if let LinkFrame::Envelope(raw) = frame
            && envelope_parts::sent_in_parts(raw.len())
        {
            for part in envelope_parts::parts(raw)? {
                self.send_one(&LinkFrame::EnvelopePart(part)).await?;
            }
            return Ok(());
        }
        self.send_one(frame).await
    }

    async fn send_one(&mut self, frame: &LinkFrame) -> Result<(), LinkError> {
        self.flush().await?;
        if self.session.needs_rekey(now(self.origin)) {
            self.start_rekey().await?;
        }
        let bytes = self.session.seal_frame(frame)?;
        self.send.write_all(&bytes).await?;
        Ok(())
    }

    /// Starts a rekey (fresh KEM key and, under the policy, a fresh supplied key).
    pub async fn start_rekey(&mut self) -> Result<(), LinkError> {
        // Records queued earlier (a keepalive Ping) must reach the wire first: the peer opens
        // records in the order they were sealed.
        self.flush().await?;
        let supplied = self.supply.draw_master().await?;
        let request = self
            .session
            .start_rekey(supplied, now(self.origin), &mut os_rng())?;
        self.send.write_all(&request).await?;
        Ok(())
    }

    /// Writes protocol answers queued by [`Self::recv`].
    pub async fn flush(&mut self) -> Result<(), LinkError> {
        for bytes in std::mem::take(&mut self.outbox) {
            self.send.write_all(&bytes).await?;
        }
        Ok(())
    }

    /// Writes raw bytes to the stream, unsealed. Only for tests and diagnostics that must
    /// send what a conforming peer never would.
    pub async fn write_raw(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        self.send.write_all(bytes).await?;
        Ok(())
    }

    /// The next event from the peer. Cancel-safe: bytes already read stay buffered, and the
    /// parts of an envelope received so far stay with the link.
    pub async fn recv(&mut self) -> Result<LinkEvent, LinkError> {
        self.payload_digest = None;
        self.spooled = None;
        loop {
            if let Some(frame) = self.decoder.poll_frame().map_err(ProtoError::from)? {
                if frame.frame_type == FrameType::Error {
                    // A plaintext Error after our last handshake message: the peer refused
                    // the handshake (revoked certificate, policy). Only the peer can write it:
                    // the stream is inside TLS.
                    return Err(
                        match LinkFrame::from_frame(&frame).map_err(ProtoError::from)? {
                            LinkFrame::Error { code, reason } => {
                                LinkError::PeerRefused { code, reason }
                            }
                            _ => LinkError::Truncated,
                        },
                    );
                }
                self.read_ahead();
                return match self.session.open_record(&frame, now(self.origin))? {
                    Incoming::Frame(LinkFrame::EnvelopePart(part)) => {
                        let started = *self.parts_started.get_or_insert_with(Instant::now);
                        match self.assembler.push(part)? {
                            Assembled::Pending => continue,
                            Assembled::Complete(envelope) => {
                                self.parts_started = None;
                                tracing::debug!(
                                    bytes = envelope.raw.len(),
                                    first_to_last_part_ms = started.elapsed().as_secs_f64() * 1e3,
                                    hashed = envelope.digest.is_some(),
                                    "envelope reassembled from parts"
                                );
                                self.payload_digest = envelope.digest;
                                self.spooled = envelope.spooled;
                                Ok(LinkEvent::Frame(LinkFrame::Envelope(envelope.raw)))
                            }
                            Assembled::TooLarge {
                                total,
                                limit,
                                message_id,
                            } => {
                                self.parts_started = None;
                                Ok(LinkEvent::EnvelopeTooLarge {
                                    message_id,
                                    total,
                                    limit,
                                })
                            }
                        }
                    }
                    Incoming::Frame(f) => {
                        if matches!(f, LinkFrame::Envelope(_)) {
                            self.assembler.check_frame()?;
                        }
                        Ok(LinkEvent::Frame(f))
                    }
                    Incoming::RekeyRequested { supplied } => {
                        Ok(LinkEvent::RekeyRequested(supplied))
                    }
                    Incoming::RekeyCompleted { send } => {
                        self.outbox.extend(send);
                        Ok(LinkEvent::Housekeeping)
                    }
                    Incoming::Nothing => Ok(LinkEvent::Housekeeping),
                };
            }
            let mut wake = self.origin + self.session.poll_timeout();
            if let Some(k) = self.keepalive {
                wake = wake
                    .min(self.last_ping + k.interval)
                    .min(self.last_heard + k.timeout);
            }
            let read = tokio::select! {
                // Bytes already buffered win over an expired timer: after a long stretch of
                // sending (a large envelope) the peer's Pings wait here, and reading them first
                // keeps the keepalive from mistaking our own busyness for the peer's silence.
                biased;
                read = self.recv.read_chunk(READ_CHUNK, true) => read,
                () = tokio::time::sleep_until(tokio::time::Instant::from_std(wake)) => {
                    let at = now(self.origin);
                    self.session.handle_timeout(at)?;
                    if self.session.needs_rekey(at) {
                        return Ok(LinkEvent::RekeyDue);
                    }
                    if let Some(event) = self.keepalive_due()? {
                        return Ok(event);
                    }
                    continue;
                }
            };
            match read {
                Ok(Some(chunk)) => {
                    self.last_heard = Instant::now();
                    self.decoder.push(&chunk.bytes);
                }
                Ok(None) if self.decoder.buffered() == 0 => return Ok(LinkEvent::Closed),
                Ok(None) => return Err(LinkError::Truncated),
                Err(quinn::ReadError::ConnectionLost(
                    quinn::ConnectionError::ApplicationClosed(_)
                    | quinn::ConnectionError::LocallyClosed,
                )) => return Ok(LinkEvent::Closed),
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Moves the stream bytes that have already arrived into the decoder, without waiting and
    /// up to [`READ_AHEAD`] buffered. Synchronous (one poll of a cancel-safe read per chunk),
    /// so `recv` stays cancel-safe; the end of the stream or an error is left for the next
    /// real read to report.
    fn read_ahead(&mut self) {
        let mut cx = Context::from_waker(Waker::noop());
        while self.decoder.buffered() < READ_AHEAD {
            let read = std::pin::pin!(self.recv.read_chunk(READ_CHUNK, true)).poll(&mut cx);
            match read {
                Poll::Ready(Ok(Some(chunk))) => {
                    self.last_heard = Instant::now();
                    self.decoder.push(&chunk.bytes);
                }
                _ => break,
            }
        }
    }

    /// Keepalive bookkeeping when [`Self::recv`]'s timer fires: the peer's silence, or a `Ping`
    /// to queue. Synchronous, so `recv` stays cancel-safe.
    fn keepalive_due(&mut self) -> Result<Option<LinkEvent>, LinkError> {
        let Some(k) = self.keepalive else {
            return Ok(None);
        };
        let silent = self.last_heard.elapsed();
        if silent >= k.timeout {
            return Err(LinkError::PeerSilent {
                silent_secs: silent.as_secs(),
            });
        }
        if self.last_ping.elapsed() >= k.interval {
            self.last_ping = Instant::now();
            self.pings = self.pings.wrapping_add(1);
            let ping = LinkFrame::Ping(self.pings.to_be_bytes());
            // A Ping that cannot be sealed now (mid-rekey) is skipped; silence is still timed.
            if let Ok(bytes) = self.session.seal_frame(&ping) {
                self.outbox.push(bytes);
                return Ok(Some(LinkEvent::Housekeeping));
            }
        }
        Ok(None)
    }

    /// Answers the peer's rekey request with the supplied keys it named.
    pub async fn answer_rekey(
        &mut self,
        supplied: Option<SuppliedKeyRef>,
    ) -> Result<(), LinkError> {
        self.flush().await?;
        let answer = self.supply.fetch_slave(supplied.as_ref()).await;
        let bytes = self
            .session
            .accept_rekey(answer, now(self.origin), &mut os_rng())?;
        self.send.write_all(&bytes).await?;
        Ok(())
    }

    /// Sends an `Error` frame for `err` when one can still be sealed, then closes.
    ///
    /// This and the other closing calls return a boxed future: a caller's future that owns a
    /// [`Link`] and may end by closing it (a relay's link loop) then reserves a pointer for
    /// the closing state instead of a second `Link` and the writes (some 3 KiB per link).
    pub fn fail(self, err: &LinkError) -> impl Future<Output = ()> + Send + use<> {
        let frame = match err {
            LinkError::Proto(e) => Some(record::error_frame(e)),
            LinkError::SuppliedKeyRequired(_) => {
                Some(record::error_frame(&ProtoError::LinkSuppliedKeyRequired))
            }
            _ => None,
        };
        let closing: Closing = match frame {
            Some(frame) => Box::pin(self.close_with(frame, CLOSE_ERROR)),
            None => {
                self.conn.close(CLOSE_ERROR.into(), b"link error");
                Box::pin(std::future::ready(()))
            }
        };
        closing
    }

    /// Sends `frame` (an `Error` the caller built) and closes.
    pub fn close_with_error(
        self,
        code: u16,
        reason: String,
    ) -> impl Future<Output = ()> + Send + use<> {
        let closing: Closing =
            Box::pin(self.close_with(LinkFrame::Error { code, reason }, CLOSE_ERROR));
        closing
    }

    /// Orderly close: a sealed `Close`, the stream finished, the connection closed.
    pub fn close(self) -> impl Future<Output = ()> + Send + use<> {
        let closing: Closing = Box::pin(self.close_with(LinkFrame::Close, CLOSE_OK));
        closing
    }

    async fn close_with(mut self, frame: LinkFrame, code: u32) {
        let _ = self.flush().await;
        if let Ok(bytes) = self.session.seal_frame(&frame) {
            let _ = self.send.write_all(&bytes).await;
        }
        let _ = self.send.finish();
        // Give the peer a moment to read the last frame before the connection goes.
        let _ = tokio::time::timeout(Duration::from_millis(500), self.send.stopped()).await;
        self.conn.close(code.into(), b"");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Size of the future `f` returns, without calling it (no connection needed).
    fn future_size<A, B, C, F: Future>(_: &impl Fn(A, B, C) -> F) -> usize {
        size_of::<F>()
    }

    fn future_size1<A, F: Future>(_: &impl Fn(A) -> F) -> usize {
        size_of::<F>()
    }

    /// A relay's link loop owns its `Link` for as long as the peer stays connected; every
    /// state its future can reach is paid for by every idle link. The handshake and the
    /// closing writes must therefore be boxed (a pointer in the caller's future), and waiting
    /// for the peer must not hold a read buffer.
    #[test]
    fn a_link_owner_reserves_no_room_for_the_handshake_or_the_close() {
        let pointer = size_of::<Pin<Box<dyn Future<Output = ()> + Send>>>();
        assert!(future_size(&initiate) <= pointer);
        assert!(future_size(&respond) <= pointer);
        assert!(future_size1(&Link::close) <= pointer);
        assert!(future_size1(&|link: Link| link.close_with_error(0, String::new())) <= pointer);
        assert!(future_size1(&|link: Link| link.fail(&LinkError::Truncated)) <= pointer);
        // Waiting in `recv` keeps a few timers and quinn's read future, not a buffer.
        let recv = future_size1(&|link: &'static mut Link| link.recv());
        assert!(recv < 1024, "Link::recv future is {recv} bytes");
    }
}
