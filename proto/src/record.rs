//! The record layer (`spec/protocol-link.md` §5): after the handshake every frame travels
//! sealed with ChaCha20-Poly1305 inside a `Record` frame, under one key per direction, with
//! an implicit counter nonce ([`liaison_crypto::aead::NonceSequence`]) — so a replayed,
//! reordered, dropped or injected record fails to authenticate. Rekeying by time and volume
//! runs a fresh hybrid KEM (and optionally a fresh supplied key) and ratchets the master
//! secret; old keys are dropped (zeroized) as soon as they are no longer needed.

use std::time::Duration;

use liaison_crypto::kdf::CombinedSecret;
use liaison_crypto::kem::{KemCiphertext, KemPublicKey, KemSecretKey};
use liaison_crypto::{CryptoError, SecretBytes, Suite, SymmetricKey, aead};
use rand_core::CryptoRng;

use crate::certificate::MemberCertificate;
use crate::error::{ProtoError, WireCode};
use crate::frame::{
    Frame, FrameType, LinkFrame, MAX_ERROR_TEXT_LEN, RekeyDone, RekeyRequest, RekeyResponse,
};
use crate::handshake::key_schedule::{self, DirectionKeys, TranscriptHash};
use crate::handshake::{
    LinkRole, Now, SuppliedKeyAnswer, SuppliedKeyRef, SuppliedKeys, SupplyPolicy, concat_keys,
};

/// When a session rekeys (`spec/protocol-link.md` §5.2); the supplied-key policy of rekeys is
/// the link's [`crate::handshake::LinkConfig::supply`]. A side whose send direction reaches
/// twice a threshold without completing a rekey refuses to send ([`ProtoError::RekeyOverdue`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RekeyPolicy {
    /// Rekey after this much time in one epoch.
    pub max_age: Duration,
    /// Rekey after this many plaintext bytes sent in one epoch.
    pub max_bytes: u64,
    /// Rekey after this many records sent in one epoch.
    pub max_records: u64,
    /// A started rekey must finish within this time, else the link is closed.
    pub rekey_timeout: Duration,
}

impl Default for RekeyPolicy {
    /// One hour, 1 GiB, 2^24 records; 30 s to finish a rekey.
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(3600),
            max_bytes: 1 << 30,
            max_records: 1 << 24,
            rekey_timeout: Duration::from_secs(30),
        }
    }
}

/// What an opened record asks of the caller.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    /// An application frame: envelope, ack, receipt, prekey request/response, ping, pong,
    /// close or error. After `Close` or `Error` the peer sends nothing more.
    Frame(LinkFrame),
    /// The peer started a rekey: fetch the named supplied keys (if any) and call
    /// [`LinkSession::accept_rekey`].
    RekeyRequested {
        /// Supplied-key ids to fetch, `None` when no key is to be mixed.
        supplied: Option<SuppliedKeyRef>,
    },
    /// A rekey finished; send `send` if present (our `RekeyDone`).
    RekeyCompleted {
        /// Record to write to the stream.
        send: Option<Vec<u8>>,
    },
    /// Nothing for the caller (a crossed rekey request that lost the tie-break).
    Nothing,
}

enum RekeyState {
    Idle,
    Requested {
        started: Duration,
        epoch: u32,
        kem_secret: KemSecretKey,
        supplied: Option<SecretBytes>,
        request_body: Vec<u8>,
    },
    PeerRequested {
        started: Duration,
        request: RekeyRequest,
        request_body: Vec<u8>,
    },
    AwaitDone {
        started: Duration,
        epoch: u32,
        next_recv: DirectionKeys,
        confirm: SymmetricKey,
        next_chain: TranscriptHash,
    },
}

impl core::fmt::Debug for RekeyState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Idle => "Idle",
            Self::Requested { .. } => "Requested",
            Self::PeerRequested { .. } => "PeerRequested",
            Self::AwaitDone { .. } => "AwaitDone",
        })
    }
}

pub(crate) struct SessionParams<'a> {
    pub(crate) role: LinkRole,
    pub(crate) suite: Suite,
    pub(crate) peer: MemberCertificate,
    pub(crate) supplied_key_mixed: bool,
    pub(crate) prk: &'a CombinedSecret,
    pub(crate) transcript_hash: TranscriptHash,
    pub(crate) rekey: RekeyPolicy,
    pub(crate) supply: SupplyPolicy,
    pub(crate) now: Now,
}

/// An established link: seals and opens records, and rekeys.
#[derive(Debug)]
pub struct LinkSession {
    role: LinkRole,
    suite: Suite,
    peer: MemberCertificate,
    supplied_key_mixed: bool,
    session_hash: TranscriptHash,
    chain_hash: TranscriptHash,
    epoch: u32,
    master: CombinedSecret,
    send: DirectionKeys,
    recv: DirectionKeys,
    policy: RekeyPolicy,
    supply: SupplyPolicy,
    epoch_started: Duration,
    bytes_sent: u64,
    rekey: RekeyState,
    send_closed: bool,
    recv_closed: bool,
}

impl LinkSession {
    pub(crate) fn new(p: SessionParams<'_>) -> Self {
        let master = key_schedule::master_secret(p.prk, &p.transcript_hash);
        let (send, recv) = key_schedule::traffic_keys(&master, &p.transcript_hash, p.role);
        Self {
            role: p.role,
            suite: p.suite,
            peer: p.peer,
            supplied_key_mixed: p.supplied_key_mixed,
            session_hash: p.transcript_hash,
            chain_hash: p.transcript_hash,
            epoch: 0,
            master,
            send,
            recv,
            policy: p.rekey,
            supply: p.supply,
            epoch_started: p.now.monotonic,
            bytes_sent: 0,
            rekey: RekeyState::Idle,
            send_closed: false,
            recv_closed: false,
        }
    }

    /// Our side of the link.
    pub fn role(&self) -> LinkRole {
        self.role
    }

    /// The negotiated suite.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// The peer's validated member certificate (subject, role, clearance, …).
    pub fn peer_certificate(&self) -> &MemberCertificate {
        &self.peer
    }

    /// Whether the current epoch's keys mixed a supplied (QKD/PSK) key.
    pub fn supplied_key_mixed(&self) -> bool {
        self.supplied_key_mixed
    }

    /// The handshake transcript hash: a public session identifier for logs.
    pub fn session_hash(&self) -> &[u8; 48] {
        &self.session_hash
    }

    /// The current key epoch (0 after the handshake, +1 per rekey).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Whether the caller should call [`Self::start_rekey`] now (time or volume threshold
    /// reached and no rekey in progress).
    #[must_use]
    pub fn needs_rekey(&self, now: Now) -> bool {
        matches!(self.rekey, RekeyState::Idle)
            && (now.monotonic.saturating_sub(self.epoch_started) >= self.policy.max_age
                || self.bytes_sent >= self.policy.max_bytes
                || self.send.nonces.position() >= self.policy.max_records)
    }

    /// The next instant the caller must act: the current epoch's age threshold (then call
    /// [`Self::needs_rekey`]) or, while a rekey is in progress, its deadline (then call
    /// [`Self::handle_timeout`]).
    #[must_use]
    pub fn poll_timeout(&self) -> Duration {
        let age = self.epoch_started.saturating_add(self.policy.max_age);
        match self.rekey_started() {
            Some(started) => age.min(started.saturating_add(self.policy.rekey_timeout)),
            None => age,
        }
    }

    /// Fails with [`ProtoError::RekeyOverdue`] when a rekey in progress has not finished within
    /// [`RekeyPolicy::rekey_timeout`]: send the error and close the link.
    pub fn handle_timeout(&self, now: Now) -> Result<(), ProtoError> {
        match self.rekey_started() {
            Some(started) if now.monotonic.saturating_sub(started) > self.policy.rekey_timeout => {
                Err(ProtoError::RekeyOverdue)
            }
            _ => Ok(()),
        }
    }

    fn rekey_started(&self) -> Option<Duration> {
        match self.rekey {
            RekeyState::Idle => None,
            RekeyState::Requested { started, .. }
            | RekeyState::PeerRequested { started, .. }
            | RekeyState::AwaitDone { started, .. } => Some(started),
        }
    }

    /// Seals `frame` into a `Record` frame to write to the stream. Refused with
    /// [`ProtoError::RekeyOverdue`] once the send direction reached twice a volume threshold
    /// (rekey frames, `Close` and `Error` are still sent, so the rekey or the close completes).
    #[must_use = "the sealed record must be sent"]
    pub fn seal_frame(&mut self, frame: &LinkFrame) -> Result<Vec<u8>, ProtoError> {
        if matches!(
            frame,
            LinkFrame::RekeyRequest(_) | LinkFrame::RekeyResponse(_) | LinkFrame::RekeyDone(_)
        ) {
            return Err(ProtoError::RekeyViolation {
                reason: "rekey frames are sent only by start_rekey and accept_rekey",
            });
        }
        let over = |n: u64, limit: u64| n >= limit.saturating_mul(2);
        let closing = matches!(frame, LinkFrame::Close | LinkFrame::Error { .. });
        let overdue = over(self.bytes_sent, self.policy.max_bytes)
            || over(self.send.nonces.position(), self.policy.max_records);
        if overdue && !closing {
            return Err(ProtoError::RekeyOverdue);
        }
        self.seal_any(frame)
    }

    fn seal_any(&mut self, frame: &LinkFrame) -> Result<Vec<u8>, ProtoError> {
        if self.send_closed {
            return Err(ProtoError::LinkClosed);
        }
        let inner = frame.encode_with_spare(aead::TAG_LEN)?;
        let inner_len = inner.len() as u64;
        let record = seal_with(&mut self.send, inner)?;
        self.bytes_sent = self.bytes_sent.saturating_add(inner_len);
        if matches!(frame, LinkFrame::Close | LinkFrame::Error { .. }) {
            self.send_closed = true;
        }
        Ok(record)
    }

    /// Opens one `Record` frame from the stream. Any authentication failure is
    /// [`ProtoError::RecordAuthenticationFailed`] (send the peer `AuthenticationFailed` and
    /// close): the counter is implicit, so replayed or reordered records fail here.
    #[must_use = "the opened frame must be processed"]
    pub fn open_record(&mut self, frame: &Frame, now: Now) -> Result<Incoming, ProtoError> {
        if self.recv_closed {
            return Err(ProtoError::LinkClosed);
        }
        if frame.frame_type != FrameType::Record {
            return Err(ProtoError::UnexpectedFrame {
                expected: "Record",
                got: frame.frame_type,
            });
        }
        let nonce = self
            .recv
            .nonces
            .next_nonce()
            .map_err(|_| ProtoError::RekeyOverdue)?;
        let aad = Frame::header(FrameType::Record, frame.body.len());
        let plain = aead::open(&self.recv.key, &nonce, &aad, &frame.body)
            .map_err(|_| ProtoError::RecordAuthenticationFailed)?;
        let inner = Frame::decode_exact_owned(plain)?;
        if !inner.frame_type.is_inner() {
            return Err(ProtoError::UnexpectedFrame {
                expected: "an inner frame",
                got: inner.frame_type,
            });
        }
        // Rekey steps need their exact body for the rekey transcript; everything else (a large
        // envelope above all) is moved into the parsed frame without another copy.
        let rekey_body = matches!(
            inner.frame_type,
            FrameType::RekeyRequest | FrameType::RekeyResponse
        )
        .then(|| inner.body.clone())
        .unwrap_or_default();
        match LinkFrame::from_owned_frame(inner)? {
            LinkFrame::RekeyRequest(request) => self.on_rekey_request(request, rekey_body, now),
            LinkFrame::RekeyResponse(response) => {
                self.on_rekey_response(&response, &rekey_body, now)
            }
            LinkFrame::RekeyDone(done) => self.on_rekey_done(&done, now),
            other => {
                if matches!(other, LinkFrame::Close | LinkFrame::Error { .. }) {
                    self.recv_closed = true;
                }
                Ok(Incoming::Frame(other))
            }
        }
    }

    /// Starts a rekey: a fresh KEM key (and `supplied`, drawn from the key supply with us as
    /// master). Returns the `RekeyRequest` record to send.
    #[must_use = "the returned record must be sent"]
    pub fn start_rekey(
        &mut self,
        supplied: Option<SuppliedKeys>,
        now: Now,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Vec<u8>, ProtoError> {
        if !matches!(self.rekey, RekeyState::Idle) {
            return Err(ProtoError::RekeyViolation {
                reason: "a rekey is already in progress",
            });
        }
        let supplied = match self.supply {
            SupplyPolicy::Off => None,
            SupplyPolicy::Required if supplied.is_none() => {
                return Err(ProtoError::LinkSuppliedKeyRequired);
            }
            _ => supplied,
        };
        let epoch = self.next_epoch()?;
        let kem_secret = KemSecretKey::generate(self.suite, rng);
        let request = RekeyRequest {
            epoch,
            kem_public_key: kem_secret.public_key().as_bytes().to_vec(),
            supplied: supplied.as_ref().map(|s| s.reference().clone()),
        };
        let message = LinkFrame::RekeyRequest(request);
        let request_body = message.to_frame()?.body;
        let record = self.seal_any(&message)?;
        self.rekey = RekeyState::Requested {
            started: now.monotonic,
            epoch,
            kem_secret,
            supplied: supplied.map(SuppliedKeys::into_material),
            request_body,
        };
        Ok(record)
    }

    /// Answers the peer's rekey request ([`Incoming::RekeyRequested`]) with the supplied keys
    /// it named (fetched from the key supply) or [`SuppliedKeyAnswer::None`]. Returns the
    /// `RekeyResponse` record to send; our send direction switches to the new key at once.
    #[must_use = "the returned record must be sent"]
    pub fn accept_rekey(
        &mut self,
        answer: SuppliedKeyAnswer,
        now: Now,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Vec<u8>, ProtoError> {
        let RekeyState::PeerRequested {
            request,
            request_body,
            ..
        } = core::mem::replace(&mut self.rekey, RekeyState::Idle)
        else {
            return Err(ProtoError::RekeyViolation {
                reason: "no rekey request to answer",
            });
        };
        let wanted = request
            .supplied
            .as_ref()
            .filter(|_| self.supply != SupplyPolicy::Off);
        let supplied = match (wanted, answer) {
            (Some(r), SuppliedKeyAnswer::Keys(keys)) => Some(concat_keys(r.key_ids.len(), keys)?),
            (None, SuppliedKeyAnswer::Keys(_)) => {
                return Err(ProtoError::SuppliedKeyInvalid {
                    reason: "keys provided but none were requested",
                });
            }
            (_, SuppliedKeyAnswer::None) if self.supply == SupplyPolicy::Required => {
                return Err(ProtoError::LinkSuppliedKeyRequired);
            }
            (_, SuppliedKeyAnswer::None) => None,
        };
        let supplied_used = supplied.is_some();
        let public = KemPublicKey::from_bytes(self.suite, &request.kem_public_key)?;
        let (ciphertext, kem_ss) = public.encapsulate(rng)?;
        let fresh = key_schedule::handshake_secret(&kem_ss, supplied);
        let mut response = RekeyResponse {
            epoch: request.epoch,
            kem_ciphertext: ciphertext.as_bytes().to_vec(),
            supplied_used,
            confirm: [0; 32],
        };
        let body = LinkFrame::RekeyResponse(response.clone()).to_frame()?.body;
        let core = &body[..body.len() - 32];
        let th = key_schedule::rekey_transcript(&self.chain_hash, &request_body, core);
        let master = key_schedule::rekey_secret(&self.master, &fresh, &th)?;
        response.confirm = *key_schedule::rekey_confirm(&master, false, &th).expose_secret();
        let record = self.seal_any(&LinkFrame::RekeyResponse(response))?;
        let (send, next_recv) = key_schedule::traffic_keys(&master, &th, self.role);
        self.send = send;
        self.rekey = RekeyState::AwaitDone {
            started: now.monotonic,
            epoch: request.epoch,
            next_recv,
            confirm: key_schedule::rekey_confirm(&master, true, &th),
            next_chain: th,
        };
        self.master = master;
        self.supplied_key_mixed = supplied_used;
        self.restart_epoch_counters(now);
        Ok(record)
    }

    fn on_rekey_request(
        &mut self,
        request: RekeyRequest,
        request_body: Vec<u8>,
        now: Now,
    ) -> Result<Incoming, ProtoError> {
        if request.epoch != self.next_epoch()? {
            return Err(ProtoError::RekeyViolation {
                reason: "rekey request for the wrong epoch",
            });
        }
        match self.rekey {
            RekeyState::Idle => {}
            // Crossed requests: the link initiator's request wins (`spec` §5.2).
            RekeyState::Requested { .. } if self.role == LinkRole::Initiator => {
                return Ok(Incoming::Nothing);
            }
            RekeyState::Requested { .. } => {}
            RekeyState::PeerRequested { .. } | RekeyState::AwaitDone { .. } => {
                return Err(ProtoError::RekeyViolation {
                    reason: "rekey request while a rekey is in progress",
                });
            }
        }
        let supplied = request
            .supplied
            .clone()
            .filter(|_| self.supply != SupplyPolicy::Off);
        self.rekey = RekeyState::PeerRequested {
            started: now.monotonic,
            request,
            request_body,
        };
        Ok(Incoming::RekeyRequested { supplied })
    }

    fn on_rekey_response(
        &mut self,
        response: &RekeyResponse,
        body: &[u8],
        now: Now,
    ) -> Result<Incoming, ProtoError> {
        let RekeyState::Requested {
            epoch,
            kem_secret,
            supplied,
            request_body,
            ..
        } = core::mem::replace(&mut self.rekey, RekeyState::Idle)
        else {
            return Err(ProtoError::RekeyViolation {
                reason: "rekey response without a request",
            });
        };
        if response.epoch != epoch {
            return Err(ProtoError::RekeyViolation {
                reason: "rekey response for the wrong epoch",
            });
        }
        let supplied = match (supplied, response.supplied_used) {
            (Some(material), true) => Some(material),
            (None, true) => {
                return Err(ProtoError::SuppliedKeyInvalid {
                    reason: "peer mixed a supplied key that was never offered",
                });
            }
            (_, false) if self.supply == SupplyPolicy::Required => {
                return Err(ProtoError::LinkSuppliedKeyRequired);
            }
            (_, false) => None,
        };
        let supplied_used = supplied.is_some();
        let ciphertext = KemCiphertext::from_bytes(self.suite, &response.kem_ciphertext)?;
        let kem_ss = kem_secret.decapsulate(&ciphertext)?;
        drop(kem_secret);
        let fresh = key_schedule::handshake_secret(&kem_ss, supplied);
        let core = &body[..body.len().saturating_sub(32)];
        let th = key_schedule::rekey_transcript(&self.chain_hash, &request_body, core);
        let master = key_schedule::rekey_secret(&self.master, &fresh, &th)?;
        key_schedule::verify_finished(
            &key_schedule::rekey_confirm(&master, false, &th),
            &response.confirm,
        )?;
        let done = RekeyDone {
            epoch,
            confirm: *key_schedule::rekey_confirm(&master, true, &th).expose_secret(),
        };
        let record = self.seal_any(&LinkFrame::RekeyDone(done))?;
        let (send, recv) = key_schedule::traffic_keys(&master, &th, self.role);
        self.send = send;
        self.recv = recv;
        self.master = master;
        self.chain_hash = th;
        self.epoch = epoch;
        self.supplied_key_mixed = supplied_used;
        self.restart_epoch_counters(now);
        Ok(Incoming::RekeyCompleted { send: Some(record) })
    }

    fn on_rekey_done(&mut self, done: &RekeyDone, _now: Now) -> Result<Incoming, ProtoError> {
        let RekeyState::AwaitDone {
            epoch,
            next_recv,
            confirm,
            next_chain,
            ..
        } = core::mem::replace(&mut self.rekey, RekeyState::Idle)
        else {
            return Err(ProtoError::RekeyViolation {
                reason: "rekey done without a response",
            });
        };
        if done.epoch != epoch {
            return Err(ProtoError::RekeyViolation {
                reason: "rekey done for the wrong epoch",
            });
        }
        key_schedule::verify_finished(&confirm, &done.confirm)?;
        self.recv = next_recv;
        self.chain_hash = next_chain;
        self.epoch = epoch;
        Ok(Incoming::RekeyCompleted { send: None })
    }

    fn next_epoch(&self) -> Result<u32, ProtoError> {
        self.epoch.checked_add(1).ok_or(ProtoError::RekeyOverdue)
    }

    fn restart_epoch_counters(&mut self, now: Now) {
        self.epoch_started = now.monotonic;
        self.bytes_sent = 0;
    }
}

/// Seals the encoded inner frame in place (its buffer has room for the tag) and puts the record
/// header in front: one copy of the bytes instead of three.
fn seal_with(keys: &mut DirectionKeys, mut inner: Vec<u8>) -> Result<Vec<u8>, ProtoError> {
    let nonce = keys.nonces.next_nonce().map_err(|e| match e {
        CryptoError::NonceExhausted => ProtoError::RekeyOverdue,
        other => ProtoError::Crypto(other),
    })?;
    let header = Frame::header(FrameType::Record, inner.len() + aead::TAG_LEN);
    aead::seal_in_place(&keys.key, &nonce, &header, &mut inner);
    let mut out = Vec::with_capacity(header.len() + inner.len());
    out.extend_from_slice(&header);
    out.extend_from_slice(&inner);
    Ok(out)
}

/// The `Error` frame to send for `err`: its wire code and a human reason. Authentication
/// failures get one fixed reason so nothing about *why* leaks to the peer.
pub fn error_frame(err: &ProtoError) -> LinkFrame {
    let (code, reason) = wire_refusal(err);
    LinkFrame::Error {
        code: code as u16,
        reason,
    }
}

/// The code and reason that may travel for `err` (in an `Error` or a `Refused` frame): the
/// reason of an authentication failure is only `authentication failed`, and any reason is cut
/// to the frames' limit.
pub fn wire_refusal(err: &ProtoError) -> (WireCode, String) {
    let code = err.wire_code();
    let reason = if code == WireCode::AuthenticationFailed {
        "authentication failed".to_owned()
    } else {
        let mut text = err.to_string();
        if text.len() > MAX_ERROR_TEXT_LEN {
            let mut cut = MAX_ERROR_TEXT_LEN;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        text
    };
    (code, reason)
}

/// The plaintext `Error` frame bytes to send when the handshake fails (before any session
/// keys exist). After the handshake, seal [`error_frame`] with [`LinkSession::seal_frame`].
pub fn handshake_error_bytes(err: &ProtoError) -> Vec<u8> {
    error_frame(err)
        .to_frame()
        .map(|f| f.encode())
        // ok: error_frame truncates the reason to the frame's limit, so encoding cannot fail
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DecodeError;

    #[test]
    fn authentication_failures_get_one_fixed_reason() {
        for err in [
            ProtoError::RecordAuthenticationFailed,
            ProtoError::KeyConfirmationFailed,
            ProtoError::Crypto(CryptoError::BadSignature),
        ] {
            assert_eq!(
                error_frame(&err),
                LinkFrame::Error {
                    code: WireCode::AuthenticationFailed as u16,
                    reason: "authentication failed".into(),
                }
            );
        }
    }

    #[test]
    fn other_errors_carry_their_reason_and_code() {
        let LinkFrame::Error { code, reason } = error_frame(&ProtoError::NoCommonSuite) else {
            panic!("not an error frame");
        };
        assert_eq!(code, WireCode::NoCommonSuite as u16);
        assert_eq!(reason, "no common suite");
    }

    #[test]
    fn overlong_reasons_are_truncated_on_a_char_boundary() {
        let err = ProtoError::PeerError {
            code: 1,
            reason: "é".repeat(MAX_ERROR_TEXT_LEN),
        };
        let bytes = handshake_error_bytes(&err);
        let frame = Frame::decode_exact(&bytes).unwrap();
        let LinkFrame::Error { reason, .. } = LinkFrame::from_frame(&frame).unwrap() else {
            panic!("not an error frame");
        };
        assert!(reason.len() <= MAX_ERROR_TEXT_LEN && reason.len() > MAX_ERROR_TEXT_LEN - 2);
        let malformed = ProtoError::Decode(DecodeError::InvalidUtf8 { what: "x" });
        assert!(!handshake_error_bytes(&malformed).is_empty());
    }
}
