//! Link frames (`spec/protocol-link.md` §3 "Frames"): `type (u8) || be32(length) || body`, the
//! unit the link channel carries on the first bidirectional QUIC stream.
//!
//! Two layers use the same encoding:
//! * On the stream: the handshake frames (plaintext), a plaintext `Error` before the handshake
//!   completes, and afterwards only `Record` frames (sealed, see [`crate::record`]).
//! * Inside a `Record`: exactly one [`LinkFrame`] (envelope, ack, receipt, ping, rekey, …).
//!
//! Every length is checked against the per-type limit ([`FrameType::max_body_len`]) before
//! a byte of the body is buffered, and the streaming [`FrameDecoder`] keeps "need more bytes"
//! ([`FrameError::Incomplete`]) apart from "malformed" ([`FrameError::Malformed`]).

use crate::codec::{Reader, Writer};
use crate::error::DecodeError;
use crate::handshake::SuppliedKeyRef;

/// Bytes of a frame header: type (1) and body length (4).
pub const FRAME_HEADER_LEN: usize = 5;
/// Largest handshake frame body (two certificates' worth of composite keys plus KEM material).
pub const MAX_HANDSHAKE_BODY: usize = 64 * 1024;
/// Largest opaque envelope carried in one `Envelope` frame: the largest envelope the protocol
/// allows ([`crate::envelope::MAX_ENVELOPE_LEN`], 256 MiB of payload plus overhead). Relays
/// apply their own, usually smaller, `limits.max_envelope_bytes` and refuse larger envelopes
/// with a non-fatal `Refused` (`WireCode::TooLarge`).
pub const MAX_ENVELOPE_LEN: usize = crate::envelope::MAX_ENVELOPE_LEN;
/// Largest opaque receipt.
pub const MAX_RECEIPT_LEN: usize = 64 * 1024;
/// Largest opaque prekey bundle in a `PrekeyResponse` ([`crate::prekey::PrekeyBundle`]:
/// a certificate and a signed prekey with their length prefixes fit well below it).
pub const MAX_PREKEY_RESPONSE_LEN: usize = 64 * 1024;
/// Largest signed prekey in a `PrekeyPublish`.
pub const MAX_PREKEY_PUBLISH_LEN: usize = crate::prekey::MAX_SIGNED_PREKEY_LEN;
/// Largest message id carried by an `Ack`.
pub const MAX_MESSAGE_ID_LEN: usize = 64;
/// Largest human-readable reason in an `Error` frame (1 KiB).
pub const MAX_ERROR_TEXT_LEN: usize = 1024;
/// Largest rekey frame body (a hybrid KEM key or ciphertext plus supplied-key ids).
pub const MAX_REKEY_BODY: usize = 8 * 1024;
/// Largest `Refused` body: id length, id, code, reason length, reason.
pub const MAX_REFUSED_BODY: usize = 1 + MAX_MESSAGE_ID_LEN + 2 + 2 + MAX_ERROR_TEXT_LEN;
/// Largest body of any inner (sealed) frame.
pub const MAX_INNER_FRAME_BODY: usize = MAX_ENVELOPE_LEN + 64;
/// Largest `Record` body: one inner frame, its header and the AEAD tag.
pub const MAX_RECORD_BODY: usize =
    MAX_INNER_FRAME_BODY + FRAME_HEADER_LEN + liaison_crypto::aead::TAG_LEN;
/// Bytes of a ping/pong payload.
pub const PING_LEN: usize = 8;
/// Most envelope bytes one `EnvelopePart` carries (1 MiB): a large envelope crosses the link
/// as a sequence of records of at most this much, so the receiver opens, hashes and buffers
/// each part while the next is in flight (`spec/protocol-link.md` §3.3).
pub const MAX_ENVELOPE_PART: usize = 1024 * 1024;
/// Bytes of an `EnvelopePart`'s own fields before the envelope bytes: total (4), offset (4).
pub const ENVELOPE_PART_HEADER_LEN: usize = 8;
/// Envelopes longer than this are sent as `EnvelopePart`s; shorter ones as one `Envelope`.
pub const ENVELOPE_PART_THRESHOLD: usize = MAX_ENVELOPE_PART;

/// The one-byte frame type (`spec/protocol-link.md` §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameType {
    /// Handshake message 1, plaintext.
    InitiatorHello,
    /// Handshake message 2, plaintext.
    ResponderHello,
    /// Handshake message 3, plaintext.
    InitiatorFinish,
    /// A sealed record carrying one inner frame.
    Record,
    /// An opaque end-to-end envelope.
    Envelope,
    /// One bounded piece of a large envelope (total length, offset, bytes).
    EnvelopePart,
    /// Custody acknowledgement for a message id.
    Ack,
    /// An opaque signed receipt.
    Receipt,
    /// Asks for a recipient's prekey bundle.
    PrekeyRequest,
    /// Answers a prekey request with an opaque bundle.
    PrekeyResponse,
    /// Non-fatal refusal of one item (envelope, receipt, prekey publish or request).
    Refused,
    /// An opaque relay-signed non-delivery notice (`spec/protocol.md` §13.1).
    NonDelivery,
    /// An officer publishes its own signed prekey to its home relay.
    PrekeyPublish,
    /// Liveness probe.
    Ping,
    /// Answer to a ping.
    Pong,
    /// Starts a rekey (fresh hybrid KEM key, optional supplied-key ids).
    RekeyRequest,
    /// Answers a rekey (KEM ciphertext, confirmation).
    RekeyResponse,
    /// Finishes a rekey (confirmation).
    RekeyDone,
    /// Orderly close.
    Close,
    /// An error code and a human reason; the sender closes afterwards (fatal).
    Error,
}

impl FrameType {
    /// Every frame type.
    pub const ALL: [Self; 20] = [
        Self::InitiatorHello,
        Self::ResponderHello,
        Self::InitiatorFinish,
        Self::Record,
        Self::Envelope,
        Self::EnvelopePart,
        Self::NonDelivery,
        Self::Ack,
        Self::Receipt,
        Self::PrekeyRequest,
        Self::PrekeyResponse,
        Self::Refused,
        Self::PrekeyPublish,
        Self::Ping,
        Self::Pong,
        Self::RekeyRequest,
        Self::RekeyResponse,
        Self::RekeyDone,
        Self::Close,
        Self::Error,
    ];

    /// The wire id.
    pub const fn id(self) -> u8 {
        match self {
            Self::InitiatorHello => 0x01,
            Self::ResponderHello => 0x02,
            Self::InitiatorFinish => 0x03,
            Self::Record => 0x17,
            Self::Envelope => 0x20,
            Self::Ack => 0x21,
            Self::Receipt => 0x22,
            Self::PrekeyRequest => 0x23,
            Self::PrekeyResponse => 0x24,
            Self::Refused => 0x25,
            Self::PrekeyPublish => 0x26,
            Self::EnvelopePart => 0x27,
            Self::NonDelivery => 0x28,
            Self::Ping => 0x30,
            Self::Pong => 0x31,
            Self::RekeyRequest => 0x40,
            Self::RekeyResponse => 0x41,
            Self::RekeyDone => 0x42,
            Self::Close => 0x50,
            Self::Error => 0x51,
        }
    }

    /// Parses a wire id.
    pub fn from_id(id: u8) -> Result<Self, DecodeError> {
        Self::ALL
            .into_iter()
            .find(|t| t.id() == id)
            .ok_or(DecodeError::UnknownValue {
                what: "frame type",
                value: u64::from(id),
            })
    }

    /// The largest body this type may carry; checked before buffering.
    pub const fn max_body_len(self) -> usize {
        match self {
            Self::InitiatorHello | Self::ResponderHello | Self::InitiatorFinish => {
                MAX_HANDSHAKE_BODY
            }
            Self::Record => MAX_RECORD_BODY,
            Self::Envelope => MAX_ENVELOPE_LEN,
            Self::EnvelopePart => ENVELOPE_PART_HEADER_LEN + MAX_ENVELOPE_PART,
            Self::Ack => 1 + MAX_MESSAGE_ID_LEN + 1,
            Self::Receipt => MAX_RECEIPT_LEN,
            Self::NonDelivery => crate::notice::MAX_NOTICE_LEN,
            Self::PrekeyRequest => liaison_crypto::IDENTITY_ID_LEN,
            Self::PrekeyResponse => MAX_PREKEY_RESPONSE_LEN,
            Self::Refused => MAX_REFUSED_BODY,
            Self::PrekeyPublish => MAX_PREKEY_PUBLISH_LEN,
            Self::Ping | Self::Pong => PING_LEN,
            Self::RekeyRequest | Self::RekeyResponse | Self::RekeyDone => MAX_REKEY_BODY,
            Self::Close => 0,
            Self::Error => 2 + 2 + MAX_ERROR_TEXT_LEN,
        }
    }

    /// True for the types that may appear inside a `Record` (everything after the handshake).
    pub const fn is_inner(self) -> bool {
        !matches!(
            self,
            Self::InitiatorHello | Self::ResponderHello | Self::InitiatorFinish | Self::Record
        )
    }
}

/// One decoded frame: its type and body bytes (exactly as on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The frame's type.
    pub frame_type: FrameType,
    /// The body, at most `frame_type.max_body_len()` bytes.
    pub body: Vec<u8>,
}

/// Why a buffer did not yield a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The buffer holds a valid prefix; at least `needed` more bytes are required.
    #[error("incomplete frame: {needed} more bytes needed")]
    Incomplete {
        /// Minimum number of further bytes before another attempt can succeed.
        needed: usize,
    },
    /// The bytes can never become a valid frame.
    #[error(transparent)]
    Malformed(#[from] DecodeError),
}

impl Frame {
    /// A frame of `frame_type` with `body`; fails if the body exceeds the type's limit.
    pub fn new(frame_type: FrameType, body: Vec<u8>) -> Result<Self, DecodeError> {
        check_body_len(frame_type, body.len())?;
        Ok(Self { frame_type, body })
    }

    /// The frame header for a body of `len` bytes.
    pub fn header(frame_type: FrameType, len: usize) -> [u8; FRAME_HEADER_LEN] {
        let len = u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes();
        [frame_type.id(), len[0], len[1], len[2], len[3]]
    }

    /// The wire encoding `type || be32(len) || body`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FRAME_HEADER_LEN + self.body.len());
        out.extend_from_slice(&Self::header(self.frame_type, self.body.len()));
        out.extend_from_slice(&self.body);
        out
    }

    /// Decodes one frame from the front of `buf`; returns it and the bytes consumed.
    pub fn decode(buf: &[u8]) -> Result<(Self, usize), FrameError> {
        let Some(header) = buf.get(..FRAME_HEADER_LEN) else {
            return Err(FrameError::Incomplete {
                needed: FRAME_HEADER_LEN - buf.len(),
            });
        };
        let frame_type = FrameType::from_id(header[0])?;
        let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        check_body_len(frame_type, len)?;
        let total = FRAME_HEADER_LEN + len;
        match buf.get(FRAME_HEADER_LEN..total) {
            Some(body) => Ok((
                Self {
                    frame_type,
                    body: body.to_vec(),
                },
                total,
            )),
            None => Err(FrameError::Incomplete {
                needed: total - buf.len(),
            }),
        }
    }

    /// Decodes exactly one frame that fills `buf` (inside a record).
    pub fn decode_exact(buf: &[u8]) -> Result<Self, DecodeError> {
        match Self::decode(buf) {
            Ok((frame, used)) if used == buf.len() => Ok(frame),
            Ok((_, used)) => Err(DecodeError::TrailingBytes {
                what: "frame",
                count: buf.len() - used,
            }),
            Err(FrameError::Incomplete { needed }) => Err(DecodeError::Truncated {
                what: "frame",
                needed: buf.len() + needed,
                available: buf.len(),
            }),
            Err(FrameError::Malformed(e)) => Err(e),
        }
    }
}

impl Frame {
    /// Like [`Frame::decode_exact`], but takes the buffer and keeps it as the body (no copy of
    /// the body: the header is shifted out in place). For the plaintext of a large record.
    pub fn decode_exact_owned(mut buf: Vec<u8>) -> Result<Self, DecodeError> {
        let Some(header) = buf.get(..FRAME_HEADER_LEN) else {
            return Err(DecodeError::Truncated {
                what: "frame",
                needed: FRAME_HEADER_LEN,
                available: buf.len(),
            });
        };
        let frame_type = FrameType::from_id(header[0])?;
        let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        check_body_len(frame_type, len)?;
        let have = buf.len() - FRAME_HEADER_LEN;
        if have < len {
            return Err(DecodeError::Truncated {
                what: "frame",
                needed: FRAME_HEADER_LEN + len,
                available: buf.len(),
            });
        }
        if have > len {
            return Err(DecodeError::TrailingBytes {
                what: "frame",
                count: have - len,
            });
        }
        buf.drain(..FRAME_HEADER_LEN);
        Ok(Self {
            frame_type,
            body: buf,
        })
    }
}

fn check_body_len(frame_type: FrameType, len: usize) -> Result<(), DecodeError> {
    let max = frame_type.max_body_len();
    if len > max {
        Err(DecodeError::TooLong {
            what: "frame body",
            len,
            max,
        })
    } else {
        Ok(())
    }
}

/// A streaming decoder: feed it stream bytes, take complete frames out.
///
/// Call [`FrameDecoder::push`] with whatever the stream delivered, then
/// [`FrameDecoder::poll_frame`] until it returns `Ok(None)`. After a
/// [`FrameError::Malformed`] the stream is unusable: close the connection.
#[derive(Debug)]
pub struct FrameDecoder {
    /// Received bytes; those before `start` were returned as frames already.
    buf: Vec<u8>,
    start: usize,
    max_body: usize,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            max_body: usize::MAX,
        }
    }
}

impl FrameDecoder {
    /// An empty decoder enforcing only the per-type limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty decoder for the handshake phase: besides the per-type limits, no frame body
    /// may exceed [`MAX_HANDSHAKE_BODY`], so a peer that has not authenticated cannot make the
    /// receiver buffer a 256 MiB `Record`. Call [`Self::set_max_body`] with `usize::MAX` once
    /// the handshake is complete.
    pub fn handshake() -> Self {
        Self {
            max_body: MAX_HANDSHAKE_BODY,
            ..Self::default()
        }
    }

    /// Caps every frame body at `max_body` bytes (on top of the per-type limits).
    pub fn set_max_body(&mut self, max_body: usize) {
        self.max_body = max_body;
    }

    /// Appends bytes received from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        // Returned frames are dropped from the front once they are at least half the buffer,
        // so each byte is moved a bounded number of times however many frames follow it.
        if self.start > 0 && self.start >= self.buf.len() - self.start {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes buffered but not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next complete frame, `Ok(None)` if more bytes are needed, or the malformation.
    #[must_use = "frames must be processed"]
    pub fn poll_frame(&mut self) -> Result<Option<Frame>, DecodeError> {
        // Only the header is inspected until the whole body has arrived: the buffer grows with
        // the bytes received, never with the length a header claims.
        let Some(header) = self
            .buf
            .get(self.start..)
            .and_then(|b| b.get(..FRAME_HEADER_LEN))
        else {
            return Ok(None);
        };
        let frame_type = FrameType::from_id(header[0])?;
        let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        check_body_len(frame_type, len)?;
        if len > self.max_body {
            return Err(DecodeError::TooLong {
                what: "frame body in this phase",
                len,
                max: self.max_body,
            });
        }
        let total = FRAME_HEADER_LEN + len;
        if self.buffered() < total {
            return Ok(None);
        }
        let end = self.start + total;
        let body = if self.start == 0 && end == self.buf.len() {
            // The buffer is exactly this frame: hand it over as the body (one large record is
            // not copied again).
            let mut body = std::mem::take(&mut self.buf);
            body.drain(..FRAME_HEADER_LEN);
            body
        } else {
            // Bytes of the next frames follow (read ahead): copy the body out, keep them.
            self.buf[self.start + FRAME_HEADER_LEN..end].to_vec()
        };
        self.start = end;
        if self.start >= self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        Ok(Some(Frame { frame_type, body }))
    }
}

/// Custody status carried by an `Ack` (`spec/protocol-link.md` §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckStatus {
    /// Durably committed; the sender may delete its copy.
    Accepted,
    /// Already held (duplicate); the sender may delete its copy.
    Duplicate,
    /// Refused by policy. Kept for wire compatibility: relays now send a non-fatal
    /// [`LinkFrame::Refused`] (which carries the code and reason) instead. The sender must not
    /// retry unchanged.
    Refused,
    /// Temporarily unable to accept (storage full); retry later.
    Deferred,
}

impl AckStatus {
    /// The wire value.
    pub const fn wire(self) -> u8 {
        match self {
            Self::Accepted => 0x00,
            Self::Duplicate => 0x01,
            Self::Refused => 0x02,
            Self::Deferred => 0x03,
        }
    }

    /// Parses a wire value.
    pub const fn from_wire(v: u8) -> Result<Self, DecodeError> {
        match v {
            0x00 => Ok(Self::Accepted),
            0x01 => Ok(Self::Duplicate),
            0x02 => Ok(Self::Refused),
            0x03 => Ok(Self::Deferred),
            other => Err(DecodeError::UnknownValue {
                what: "ack status",
                value: other as u64,
            }),
        }
    }
}

/// `RekeyRequest` body (`spec/protocol-link.md` §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RekeyRequest {
    /// The epoch the rekey creates (current epoch + 1).
    pub epoch: u32,
    /// Fresh hybrid KEM public key of the session's suite.
    pub kem_public_key: Vec<u8>,
    /// ETSI 014 references of a fresh supplied key, if one is mixed.
    pub supplied: Option<SuppliedKeyRef>,
}

/// `RekeyResponse` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RekeyResponse {
    /// Echo of the request's epoch.
    pub epoch: u32,
    /// Hybrid KEM ciphertext to the request's key.
    pub kem_ciphertext: Vec<u8>,
    /// Whether the responder mixed the supplied key the request named.
    pub supplied_used: bool,
    /// Responder's confirmation of the new secret.
    pub confirm: [u8; 32],
}

/// `RekeyDone` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RekeyDone {
    /// Echo of the epoch.
    pub epoch: u32,
    /// Requester's confirmation of the new secret.
    pub confirm: [u8; 32],
}

/// `EnvelopePart` body (`spec/protocol-link.md` §3.3): `total (be32) || offset (be32) || bytes`.
///
/// Each part on its own is checked here (`total` within [`MAX_ENVELOPE_LEN`], `bytes`
/// non-empty and within [`MAX_ENVELOPE_PART`], `offset + len <= total`); the order of a
/// sequence is checked by [`crate::envelope_parts::EnvelopeAssembler`].
#[derive(Clone, PartialEq, Eq)]
pub struct EnvelopePart {
    /// Length of the whole envelope, the same in every part of one sequence.
    pub total: u32,
    /// Where `bytes` start in the envelope: the bytes of all earlier parts.
    pub offset: u32,
    /// The next `1..=MAX_ENVELOPE_PART` bytes of the envelope.
    pub bytes: Vec<u8>,
}

impl core::fmt::Debug for EnvelopePart {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EnvelopePart")
            .field("total", &self.total)
            .field("offset", &self.offset)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl EnvelopePart {
    /// Whether this part ends its envelope.
    pub fn is_last(&self) -> bool {
        u64::from(self.offset) + self.bytes.len() as u64 == u64::from(self.total)
    }

    fn check(total: u32, offset: u32, len: usize) -> Result<(), DecodeError> {
        let total_len = usize::try_from(total).unwrap_or(usize::MAX);
        if total_len > MAX_ENVELOPE_LEN {
            return Err(DecodeError::TooLong {
                what: "envelope part total",
                len: total_len,
                max: MAX_ENVELOPE_LEN,
            });
        }
        if len == 0 {
            return Err(DecodeError::NonCanonical {
                what: "envelope part",
                reason: "carries no bytes",
            });
        }
        if len > MAX_ENVELOPE_PART {
            return Err(DecodeError::TooLong {
                what: "envelope part",
                len,
                max: MAX_ENVELOPE_PART,
            });
        }
        if u64::from(offset) + len as u64 > u64::from(total) {
            return Err(DecodeError::NonCanonical {
                what: "envelope part",
                reason: "ends beyond the announced total",
            });
        }
        Ok(())
    }

    fn read(mut body: Vec<u8>) -> Result<Self, DecodeError> {
        let mut r = Reader::new(&body);
        let total = r.u32("envelope part total")?;
        let offset = r.u32("envelope part offset")?;
        Self::check(total, offset, r.rest().len())?;
        body.drain(..ENVELOPE_PART_HEADER_LEN);
        Ok(Self {
            total,
            offset,
            bytes: body,
        })
    }
}

/// A frame carried inside a sealed record, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkFrame {
    /// Opaque envelope bytes (`spec/protocol.md`, envelopes).
    Envelope(Vec<u8>),
    /// One bounded piece of a large envelope; the link reassembles the sequence.
    EnvelopePart(EnvelopePart),
    /// Custody acknowledgement.
    Ack {
        /// The acknowledged message id (opaque, at most [`MAX_MESSAGE_ID_LEN`] bytes).
        message_id: Vec<u8>,
        /// What happened to it.
        status: AckStatus,
    },
    /// Opaque receipt bytes.
    Receipt(Vec<u8>),
    /// Opaque non-delivery notice bytes ([`crate::notice::NonDelivery`]).
    NonDelivery(Vec<u8>),
    /// Asks for the prekey bundle of an identity.
    PrekeyRequest(liaison_crypto::IdentityId),
    /// An opaque prekey bundle ([`crate::prekey::PrekeyBundle`] bytes).
    PrekeyResponse(Vec<u8>),
    /// Non-fatal refusal of one item; the link stays open (`spec/protocol-link.md` §3.4).
    Refused {
        /// What is refused: an envelope's message id, a receipt's custody id, a prekey id, or
        /// the identity id of a prekey request (opaque, at most [`MAX_MESSAGE_ID_LEN`] bytes).
        id: Vec<u8>,
        /// The `WireCode` as sent (unknown codes are kept, not refused).
        code: u16,
        /// Human-readable reason, at most [`MAX_ERROR_TEXT_LEN`] bytes of UTF-8.
        reason: String,
    },
    /// An officer's own signed prekey (`spec/protocol.md` §10 bytes), for its home relay.
    PrekeyPublish(Vec<u8>),
    /// Liveness probe with an opaque payload echoed by `Pong`.
    Ping([u8; PING_LEN]),
    /// Echo of a `Ping`.
    Pong([u8; PING_LEN]),
    /// Rekey step 1.
    RekeyRequest(RekeyRequest),
    /// Rekey step 2.
    RekeyResponse(RekeyResponse),
    /// Rekey step 3.
    RekeyDone(RekeyDone),
    /// Orderly close: no more frames follow.
    Close,
    /// Error code (a [`crate::WireCode`] value) and a human reason.
    Error {
        /// The `WireCode` as sent (unknown codes are kept, not refused).
        code: u16,
        /// Human-readable reason, at most [`MAX_ERROR_TEXT_LEN`] bytes of UTF-8.
        reason: String,
    },
}

impl LinkFrame {
    /// This frame's type.
    pub fn frame_type(&self) -> FrameType {
        match self {
            Self::Envelope(_) => FrameType::Envelope,
            Self::EnvelopePart(_) => FrameType::EnvelopePart,
            Self::Ack { .. } => FrameType::Ack,
            Self::Receipt(_) => FrameType::Receipt,
            Self::NonDelivery(_) => FrameType::NonDelivery,
            Self::PrekeyRequest(_) => FrameType::PrekeyRequest,
            Self::PrekeyResponse(_) => FrameType::PrekeyResponse,
            Self::Refused { .. } => FrameType::Refused,
            Self::PrekeyPublish(_) => FrameType::PrekeyPublish,
            Self::Ping(_) => FrameType::Ping,
            Self::Pong(_) => FrameType::Pong,
            Self::RekeyRequest(_) => FrameType::RekeyRequest,
            Self::RekeyResponse(_) => FrameType::RekeyResponse,
            Self::RekeyDone(_) => FrameType::RekeyDone,
            Self::Close => FrameType::Close,
            Self::Error { .. } => FrameType::Error,
        }
    }

    /// Encodes as a frame; fails if a field exceeds its limit.
    pub fn to_frame(&self) -> Result<Frame, DecodeError> {
        let mut w = Writer::with_capacity(self.body_len_hint());
        self.write_body(&mut w)?;
        Frame::new(self.frame_type(), w.into_vec())
    }

    /// The frame's wire encoding `type || be32(len) || body` in one buffer with `spare` bytes
    /// of room left at its end (for an AEAD tag): what a record seals, without the copies of
    /// [`Self::to_frame`] followed by [`Frame::encode`]. Same bytes, same limits.
    pub fn encode_with_spare(&self, spare: usize) -> Result<Vec<u8>, DecodeError> {
        let mut w = Writer::with_capacity(FRAME_HEADER_LEN + self.body_len_hint() + spare);
        w.raw(&[0; FRAME_HEADER_LEN]);
        self.write_body(&mut w)?;
        let mut out = w.into_vec();
        let len = out.len() - FRAME_HEADER_LEN;
        check_body_len(self.frame_type(), len)?;
        out[..FRAME_HEADER_LEN].copy_from_slice(&Frame::header(self.frame_type(), len));
        out.reserve(spare); // no-op when the hint was exact (the large frames)
        Ok(out)
    }

    /// Room to reserve for the body: exact for the opaque and bulk frames, small otherwise.
    fn body_len_hint(&self) -> usize {
        match self {
            Self::Envelope(b)
            | Self::Receipt(b)
            | Self::NonDelivery(b)
            | Self::PrekeyResponse(b)
            | Self::PrekeyPublish(b) => b.len(),
            Self::EnvelopePart(p) => ENVELOPE_PART_HEADER_LEN + p.bytes.len(),
            _ => 64,
        }
    }

    fn write_body(&self, w: &mut Writer) -> Result<(), DecodeError> {
        match self {
            Self::Envelope(b)
            | Self::Receipt(b)
            | Self::NonDelivery(b)
            | Self::PrekeyResponse(b)
            | Self::PrekeyPublish(b) => w.raw(b),
            Self::EnvelopePart(p) => {
                EnvelopePart::check(p.total, p.offset, p.bytes.len())?;
                w.u32(p.total);
                w.u32(p.offset);
                w.raw(&p.bytes);
            }
            Self::Ack { message_id, status } => {
                write_item_id(w, "message id", message_id)?;
                w.u8(status.wire());
            }
            Self::Refused { id, code, reason } => {
                write_item_id(w, "refused id", id)?;
                w.u16(*code);
                w.bytes_u16("refusal reason", reason.as_bytes(), MAX_ERROR_TEXT_LEN)?;
            }
            Self::PrekeyRequest(id) => w.raw(id.as_bytes()),
            Self::Ping(p) | Self::Pong(p) => w.raw(p),
            Self::RekeyRequest(r) => {
                w.u32(r.epoch);
                w.bytes_u16("rekey KEM public key", &r.kem_public_key, MAX_REKEY_BODY)?;
                SuppliedKeyRef::encode_option(r.supplied.as_ref(), w)?;
            }
            Self::RekeyResponse(r) => {
                w.u32(r.epoch);
                w.bytes_u16("rekey KEM ciphertext", &r.kem_ciphertext, MAX_REKEY_BODY)?;
                w.u8(u8::from(r.supplied_used));
                w.raw(&r.confirm);
            }
            Self::RekeyDone(r) => {
                w.u32(r.epoch);
                w.raw(&r.confirm);
            }
            Self::Close => {}
            Self::Error { code, reason } => {
                w.u16(*code);
                w.bytes_u16("error reason", reason.as_bytes(), MAX_ERROR_TEXT_LEN)?;
            }
        }
        Ok(())
    }

    /// Parses an inner frame, taking its body (opaque bodies such as envelopes are moved, not
    /// copied); refuses handshake and record types.
    pub fn from_owned_frame(frame: Frame) -> Result<Self, DecodeError> {
        check_body_len(frame.frame_type, frame.body.len())?;
        match frame.frame_type {
            FrameType::Envelope => Ok(Self::Envelope(frame.body)),
            FrameType::Receipt => Ok(Self::Receipt(frame.body)),
            FrameType::NonDelivery => Ok(Self::NonDelivery(frame.body)),
            FrameType::PrekeyResponse => Ok(Self::PrekeyResponse(frame.body)),
            FrameType::PrekeyPublish => Ok(Self::PrekeyPublish(frame.body)),
            FrameType::EnvelopePart => Ok(Self::EnvelopePart(EnvelopePart::read(frame.body)?)),
            _ => Self::from_frame(&frame),
        }
    }

    /// Parses an inner frame; refuses handshake and record types.
    pub fn from_frame(frame: &Frame) -> Result<Self, DecodeError> {
        check_body_len(frame.frame_type, frame.body.len())?;
        let mut r = Reader::new(&frame.body);
        let out = match frame.frame_type {
            FrameType::Envelope => Self::Envelope(r.rest().to_vec()),
            FrameType::Receipt => Self::Receipt(r.rest().to_vec()),
            FrameType::NonDelivery => Self::NonDelivery(r.rest().to_vec()),
            FrameType::PrekeyResponse => Self::PrekeyResponse(r.rest().to_vec()),
            FrameType::PrekeyPublish => Self::PrekeyPublish(r.rest().to_vec()),
            FrameType::EnvelopePart => {
                let total = r.u32("envelope part total")?;
                let offset = r.u32("envelope part offset")?;
                let bytes = r.rest();
                EnvelopePart::check(total, offset, bytes.len())?;
                Self::EnvelopePart(EnvelopePart {
                    total,
                    offset,
                    bytes: bytes.to_vec(),
                })
            }
            FrameType::Ack => {
                let message_id = read_item_id(&mut r, "message id")?;
                let status = AckStatus::from_wire(r.u8("ack status")?)?;
                Self::Ack { message_id, status }
            }
            FrameType::Refused => Self::Refused {
                id: read_item_id(&mut r, "refused id")?,
                code: r.u16("refusal code")?,
                reason: r
                    .string_u16("refusal reason", MAX_ERROR_TEXT_LEN)?
                    .to_owned(),
            },
            FrameType::PrekeyRequest => {
                Self::PrekeyRequest(liaison_crypto::IdentityId::from_bytes(r.array("identity")?))
            }
            FrameType::Ping => Self::Ping(r.array("ping")?),
            FrameType::Pong => Self::Pong(r.array("pong")?),
            FrameType::RekeyRequest => Self::RekeyRequest(RekeyRequest {
                epoch: r.u32("rekey epoch")?,
                kem_public_key: r
                    .bytes_u16("rekey KEM public key", MAX_REKEY_BODY)?
                    .to_vec(),
                supplied: SuppliedKeyRef::decode_option(&mut r)?,
            }),
            FrameType::RekeyResponse => Self::RekeyResponse(RekeyResponse {
                epoch: r.u32("rekey epoch")?,
                kem_ciphertext: r
                    .bytes_u16("rekey KEM ciphertext", MAX_REKEY_BODY)?
                    .to_vec(),
                supplied_used: read_bool(&mut r, "supplied key used")?,
                confirm: r.array("rekey confirmation")?,
            }),
            FrameType::RekeyDone => Self::RekeyDone(RekeyDone {
                epoch: r.u32("rekey epoch")?,
                confirm: r.array("rekey confirmation")?,
            }),
            FrameType::Close => Self::Close,
            FrameType::Error => Self::Error {
                code: r.u16("error code")?,
                reason: r.string_u16("error reason", MAX_ERROR_TEXT_LEN)?.to_owned(),
            },
            other => {
                return Err(DecodeError::UnknownValue {
                    what: "inner frame type",
                    value: u64::from(other.id()),
                });
            }
        };
        r.expect_end("inner frame")?;
        Ok(out)
    }
}

/// Writes `u8 length || id` for an `Ack` or `Refused` id (at most [`MAX_MESSAGE_ID_LEN`]).
fn write_item_id(w: &mut Writer, what: &'static str, id: &[u8]) -> Result<(), DecodeError> {
    let len = u8::try_from(id.len())
        .ok()
        .filter(|&l| usize::from(l) <= MAX_MESSAGE_ID_LEN)
        .ok_or(DecodeError::TooLong {
            what,
            len: id.len(),
            max: MAX_MESSAGE_ID_LEN,
        })?;
    w.u8(len);
    w.raw(id);
    Ok(())
}

/// Reads `u8 length || id`, the length checked against [`MAX_MESSAGE_ID_LEN`] first.
fn read_item_id(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<u8>, DecodeError> {
    let len = usize::from(r.u8(what)?);
    if len > MAX_MESSAGE_ID_LEN {
        return Err(DecodeError::TooLong {
            what,
            len,
            max: MAX_MESSAGE_ID_LEN,
        });
    }
    Ok(r.take(what, len)?.to_vec())
}

/// Reads a boolean byte that must be exactly 0 or 1.
pub(crate) fn read_bool(r: &mut Reader<'_>, what: &'static str) -> Result<bool, DecodeError> {
    match r.u8(what)? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(DecodeError::UnknownValue {
            what,
            value: u64::from(other),
        }),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::WireCode;

    #[test]
    fn incomplete_is_distinguished_from_malformed() {
        let frame = LinkFrame::Ping([7; 8]).to_frame().unwrap().encode();
        for cut in 0..frame.len() {
            assert!(matches!(
                Frame::decode(&frame[..cut]),
                Err(FrameError::Incomplete { .. })
            ));
        }
        assert!(matches!(
            Frame::decode(&[0xee, 0, 0, 0, 0]),
            Err(FrameError::Malformed(DecodeError::UnknownValue { .. }))
        ));
        // A ping claiming 9 bytes is refused from the header alone.
        assert!(matches!(
            Frame::decode(&[0x30, 0, 0, 0, 9]),
            Err(FrameError::Malformed(DecodeError::TooLong { .. }))
        ));
    }

    #[test]
    fn streaming_decoder_reassembles_byte_by_byte() {
        let frames = [
            LinkFrame::Envelope(vec![1, 2, 3]),
            LinkFrame::Close,
            LinkFrame::Error {
                code: 2,
                reason: "no".into(),
            },
        ];
        let mut wire = Vec::new();
        for f in &frames {
            wire.extend(f.to_frame().unwrap().encode());
        }
        let mut dec = FrameDecoder::new();
        let mut got = Vec::new();
        for b in wire {
            dec.push(&[b]);
            while let Some(f) = dec.poll_frame().unwrap() {
                got.push(LinkFrame::from_frame(&f).unwrap());
            }
        }
        assert_eq!(got, frames);
        assert_eq!(dec.buffered(), 0);
    }

    #[test]
    fn decoder_keeps_bytes_read_ahead_of_the_frame_it_returns() {
        let frames: Vec<LinkFrame> = (0..5u8)
            .map(|i| LinkFrame::Envelope(vec![i; 1000 + usize::from(i)]))
            .collect();
        let wire: Vec<u8> = frames
            .iter()
            .flat_map(|f| f.to_frame().unwrap().encode())
            .collect();
        let cut = wire.len() - 600;
        let mut dec = FrameDecoder::new();
        dec.push(&wire[..cut]);
        let mut got = Vec::new();
        while let Some(f) = dec.poll_frame().unwrap() {
            got.push(LinkFrame::from_owned_frame(f).unwrap());
        }
        assert_eq!(got.len(), 4);
        assert_eq!(
            dec.buffered(),
            cut - (wire.len() - (FRAME_HEADER_LEN + 1004))
        );
        dec.push(&wire[cut..]);
        got.push(LinkFrame::from_owned_frame(dec.poll_frame().unwrap().unwrap()).unwrap());
        assert_eq!(got, frames);
        assert_eq!(dec.buffered(), 0);
        assert_eq!(dec.poll_frame(), Ok(None));
    }

    #[test]
    fn oversized_error_text_is_refused_both_ways() {
        let long = LinkFrame::Error {
            code: 1,
            reason: "x".repeat(MAX_ERROR_TEXT_LEN + 1),
        };
        assert!(long.to_frame().is_err());
    }

    fn arb_link_frame() -> impl Strategy<Value = LinkFrame> {
        let bytes = || proptest::collection::vec(any::<u8>(), 0..300);
        prop_oneof![
            bytes().prop_map(LinkFrame::Envelope),
            (
                proptest::collection::vec(any::<u8>(), 1..300),
                any::<u32>(),
                any::<u32>()
            )
                .prop_map(|(bytes, offset, extra)| {
                    let len = bytes.len() as u32;
                    let offset = offset % (MAX_ENVELOPE_LEN as u32 - len);
                    let total = offset + len + extra % (MAX_ENVELOPE_LEN as u32 - offset - len + 1);
                    LinkFrame::EnvelopePart(EnvelopePart {
                        total,
                        offset,
                        bytes,
                    })
                }),
            (
                proptest::collection::vec(any::<u8>(), 0..=MAX_MESSAGE_ID_LEN),
                0u8..4
            )
                .prop_map(|(message_id, s)| LinkFrame::Ack {
                    message_id,
                    status: AckStatus::from_wire(s).unwrap(),
                }),
            bytes().prop_map(LinkFrame::Receipt),
            bytes().prop_map(LinkFrame::NonDelivery),
            any::<[u8; 32]>()
                .prop_map(|b| LinkFrame::PrekeyRequest(liaison_crypto::IdentityId::from_bytes(b))),
            bytes().prop_map(LinkFrame::PrekeyResponse),
            (
                proptest::collection::vec(any::<u8>(), 0..=MAX_MESSAGE_ID_LEN),
                any::<u16>(),
                "\\PC{0,200}"
            )
                .prop_map(|(id, code, reason)| LinkFrame::Refused { id, code, reason }),
            bytes().prop_map(LinkFrame::PrekeyPublish),
            any::<[u8; 8]>().prop_map(LinkFrame::Ping),
            any::<[u8; 8]>().prop_map(LinkFrame::Pong),
            (any::<u32>(), bytes(), any::<bool>()).prop_map(|(epoch, pk, with)| {
                LinkFrame::RekeyRequest(RekeyRequest {
                    epoch,
                    kem_public_key: pk,
                    supplied: with.then(|| SuppliedKeyRef {
                        master_sae_id: "A".into(),
                        slave_sae_id: "B".into(),
                        key_ids: vec!["k1".into(), "k2".into()],
                    }),
                })
            }),
            (any::<u32>(), bytes(), any::<bool>(), any::<[u8; 32]>()).prop_map(
                |(epoch, ct, used, confirm)| LinkFrame::RekeyResponse(RekeyResponse {
                    epoch,
                    kem_ciphertext: ct,
                    supplied_used: used,
                    confirm,
                })
            ),
            (any::<u32>(), any::<[u8; 32]>())
                .prop_map(|(epoch, confirm)| LinkFrame::RekeyDone(RekeyDone { epoch, confirm })),
            Just(LinkFrame::Close),
            (any::<u16>(), "\\PC{0,200}")
                .prop_map(|(code, reason)| LinkFrame::Error { code, reason }),
        ]
    }

    proptest! {
        #[test]
        fn every_link_frame_round_trips(frame in arb_link_frame()) {
            let wire = frame.to_frame().unwrap().encode();
            let direct = frame.encode_with_spare(16).unwrap();
            prop_assert_eq!(&direct, &wire);
            prop_assert!(direct.capacity() >= wire.len() + 16);
            let (decoded, used) = Frame::decode(&wire).unwrap();
            prop_assert_eq!(used, wire.len());
            prop_assert_eq!(LinkFrame::from_frame(&decoded).unwrap(), frame);
        }

        #[test]
        fn owned_decoding_matches_borrowed_decoding(frame in arb_link_frame()) {
            let wire = frame.to_frame().unwrap().encode();
            let owned = Frame::decode_exact_owned(wire.clone()).unwrap();
            prop_assert_eq!(&owned, &Frame::decode_exact(&wire).unwrap());
            prop_assert_eq!(LinkFrame::from_owned_frame(owned).unwrap(), frame);
        }

        #[test]
        fn mutated_frames_fail_cleanly_or_reencode_exactly(
            frame in arb_link_frame(), at in any::<usize>(), xor in 1u8..=255
        ) {
            // One flipped byte: the decoder must not panic, and whatever it accepts must be a
            // frame whose encoding is exactly the mutated bytes (no two encodings of one frame).
            let mut wire = frame.to_frame().unwrap().encode();
            let at = at % wire.len();
            wire[at] ^= xor;
            if let Ok((decoded, used)) = Frame::decode(&wire)
                && let Ok(parsed) = LinkFrame::from_frame(&decoded)
            {
                let again = parsed.to_frame().unwrap().encode();
                prop_assert_eq!(&again[..], &wire[..used]);
            }
            let _ = Frame::decode_exact_owned(wire);
        }

        #[test]
        fn decoder_never_panics_on_arbitrary_bytes(
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8)
        ) {
            let mut dec = FrameDecoder::new();
            for chunk in &chunks {
                dec.push(chunk);
                while let Ok(Some(frame)) = dec.poll_frame() {
                    let _ = LinkFrame::from_frame(&frame);
                }
            }
            let all: Vec<u8> = chunks.concat();
            let _ = Frame::decode_exact(&all);
            let _ = crate::handshake::messages::InitiatorHello::decode(&all);
            let _ = crate::handshake::messages::ResponderHello::decode(&all);
            let _ = crate::handshake::messages::InitiatorFinish::decode(&all);
        }

        #[test]
        fn valid_header_with_any_body_is_incomplete_until_complete(
            body in proptest::collection::vec(any::<u8>(), 0..200), cut in 0usize..205
        ) {
            let wire = Frame::new(FrameType::Receipt, body).unwrap().encode();
            let cut = cut.min(wire.len());
            match Frame::decode(&wire[..cut]) {
                Ok((_, used)) => prop_assert_eq!(used, wire.len()),
                Err(FrameError::Incomplete { needed }) => prop_assert!(cut + needed <= wire.len()),
                Err(FrameError::Malformed(e)) => prop_assert!(false, "{e}"),
            }
        }
    }

    #[test]
    fn refused_and_ack_ids_longer_than_the_limit_are_refused_both_ways() {
        let long = LinkFrame::Refused {
            id: vec![1; MAX_MESSAGE_ID_LEN + 1],
            code: WireCode::TooLarge as u16,
            reason: String::new(),
        };
        assert!(matches!(long.to_frame(), Err(DecodeError::TooLong { .. })));
        let mut body = vec![(MAX_MESSAGE_ID_LEN + 1) as u8];
        body.extend([0; MAX_MESSAGE_ID_LEN + 1 + 4]);
        let frame = Frame::new(FrameType::Refused, body).unwrap();
        assert!(matches!(
            LinkFrame::from_frame(&frame),
            Err(DecodeError::TooLong { .. })
        ));
    }

    #[test]
    fn wire_ids_are_unique_and_new_types_are_inner() {
        let mut ids: Vec<u8> = FrameType::ALL.iter().map(|t| t.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), FrameType::ALL.len());
        assert_eq!(FrameType::Refused.id(), 0x25);
        assert_eq!(FrameType::PrekeyPublish.id(), 0x26);
        assert!(FrameType::Refused.is_inner() && FrameType::PrekeyPublish.is_inner());
        assert_eq!(FrameType::EnvelopePart.id(), 0x27);
        assert!(FrameType::EnvelopePart.is_inner());
    }

    #[test]
    fn envelope_parts_beyond_their_total_or_limit_or_empty_are_malformed() {
        let body = |total: u32, offset: u32, len: usize| {
            let mut b = total.to_be_bytes().to_vec();
            b.extend(offset.to_be_bytes());
            b.extend(vec![9; len]);
            Frame::new(FrameType::EnvelopePart, b).unwrap()
        };
        let ok = body(100, 90, 10);
        assert!(matches!(
            LinkFrame::from_frame(&ok),
            Ok(LinkFrame::EnvelopePart(p)) if p.is_last()
        ));
        for bad in [
            body(100, 91, 10),
            body(100, 0, 0),
            body(MAX_ENVELOPE_LEN as u32 + 1, 0, 10),
            body(u32::MAX, u32::MAX, 10),
        ] {
            assert!(LinkFrame::from_frame(&bad).is_err());
            assert!(LinkFrame::from_owned_frame(bad).is_err());
        }
        // A part longer than 1 MiB is refused from the frame header alone.
        let header = Frame::header(
            FrameType::EnvelopePart,
            ENVELOPE_PART_HEADER_LEN + MAX_ENVELOPE_PART + 1,
        );
        assert!(matches!(
            Frame::decode(&header),
            Err(FrameError::Malformed(DecodeError::TooLong { .. }))
        ));
        let too_long = LinkFrame::EnvelopePart(EnvelopePart {
            total: MAX_ENVELOPE_LEN as u32,
            offset: 0,
            bytes: vec![0; MAX_ENVELOPE_PART + 1],
        });
        assert!(too_long.to_frame().is_err());
    }

    #[test]
    fn largest_envelope_frame_header_is_accepted_before_its_body_arrives() {
        let header = Frame::header(FrameType::Record, MAX_RECORD_BODY);
        let mut dec = FrameDecoder::new();
        dec.push(&header);
        dec.push(&[0; 1000]);
        assert_eq!(dec.poll_frame(), Ok(None));
        // Only what arrived is buffered, not what the header announced.
        assert_eq!(dec.buffered(), FRAME_HEADER_LEN + 1000);
        // Before the handshake completes, a large record is refused from its header.
        let mut dec = FrameDecoder::handshake();
        dec.push(&header);
        assert!(matches!(dec.poll_frame(), Err(DecodeError::TooLong { .. })));
        let mut dec = FrameDecoder::handshake();
        dec.push(&Frame::header(FrameType::Record, 100));
        dec.push(&[0; 100]);
        assert!(dec.poll_frame().unwrap().is_some());
        let too_long = Frame::header(FrameType::Record, MAX_RECORD_BODY + 1);
        let mut dec = FrameDecoder::new();
        dec.push(&too_long);
        assert!(matches!(dec.poll_frame(), Err(DecodeError::TooLong { .. })));
        const { assert!(MAX_ENVELOPE_LEN >= 256 * 1024 * 1024) };
    }

    #[test]
    fn handshake_types_are_not_inner_frames() {
        let f = Frame::new(FrameType::InitiatorHello, vec![]).unwrap();
        assert!(LinkFrame::from_frame(&f).is_err());
        assert!(!FrameType::Record.is_inner());
    }
}
