//! The mutual link handshake (`spec/protocol-link.md` §4): typed states for both roles,
//! consumed by `handle(self, …)` so an invalid transition does not compile (rustls
//! `client/hs.rs`).
//!
//! ```text
//! initiator                                          responder
//! InitiatorStart::start ── InitiatorHello ─────────▶ ResponderStart::handle
//!                                                    AwaitSuppliedKey (caller fetches keys)
//! ExpectResponderHello ◀── ResponderHello ───────── AwaitSuppliedKey::resume
//! ExpectResponderHello::handle ── InitiatorFinish ─▶ ExpectInitiatorFinish::handle
//! LinkSession                                        LinkSession
//! ```
//! This module holds what both roles share: configuration, the supplied-key (ETSI GS QKD 014)
//! references, the peer checks, and the clock type.

mod initiator;
pub(crate) mod key_schedule;
pub mod messages;
mod responder;

use std::sync::Arc;
use std::time::Duration;

use liaison_crypto::sign::SigningKey;
use liaison_crypto::{IdentityId, SecretBytes, Suite};

use crate::UnixTime;
use crate::certificate::{MemberCertificate, Role};
use crate::codec::{Reader, Writer};
use crate::error::{DecodeError, ProtoError};
use crate::record::RekeyPolicy;
use crate::trust::TrustStore;

pub use initiator::{ExpectResponderHello, InitiatorStart};
pub use responder::{AwaitSuppliedKey, ExpectInitiatorFinish, ResponderStart};

/// The link protocol version carried in `InitiatorHello`.
pub const LINK_VERSION: u16 = 1;
/// Bytes of the TLS exporter value the caller passes in.
pub const CHANNEL_BINDING_LEN: usize = 32;
/// The TLS exporter label (RFC 8446 §7.5) the caller uses, with an empty context.
pub const TLS_EXPORTER_LABEL: &[u8] = liaison_crypto::labels::LINK_TLS_EXPORTER;
/// Bytes of each side's handshake nonce.
pub const HANDSHAKE_NONCE_LEN: usize = 32;
/// Largest SAE id (ETSI GS QKD 014 identifiers are short strings).
pub const MAX_SAE_ID_LEN: usize = 255;
/// Largest key id (ETSI 014 `key_ID` is a UUID, 36 characters).
pub const MAX_KEY_ID_LEN: usize = 64;
/// Most supplied keys one handshake or rekey may mix.
pub const MAX_SUPPLIED_KEYS: usize = 8;
/// Shortest supplied key accepted (128 bits).
pub const MIN_SUPPLIED_KEY_LEN: usize = 16;
/// Longest supplied key accepted (ETSI 014 keys are usually 256 bits).
pub const MAX_SUPPLIED_KEY_LEN: usize = 128;
/// Largest member certificate carried in the handshake.
pub const MAX_CERTIFICATE_LEN: usize = crate::certificate::MAX_CERTIFICATE_LEN;

/// The caller's notion of "now": wall-clock time for certificate validity and a monotonic
/// reading (from any fixed origin) for timeouts and rekey ages. The crate never reads a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Wall-clock time (certificate validity).
    pub unix: UnixTime,
    /// Monotonic time since an arbitrary origin fixed for the connection's life.
    pub monotonic: Duration,
}

/// 32 bytes of `export_keying_material(label = "EXPORTER-liaison-link-v1", context = "")` from
/// the QUIC connection's TLS session. Binds the handshake to that one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelBinding(pub [u8; CHANNEL_BINDING_LEN]);

/// Which side of the handshake (and of the ETSI 014 master/slave relation) we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRole {
    /// Opened the QUIC connection and sent `InitiatorHello`; ETSI master.
    Initiator,
    /// Accepted it; ETSI slave.
    Responder,
}

/// Per-peer supplied-key policy (`qkd = required | preferred | off` in configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupplyPolicy {
    /// Fail closed unless a supplied key is mixed.
    Required,
    /// Mix one when available; fall back to hybrid-only (the session says so).
    Preferred,
    /// Never mix one.
    Off,
}

/// Which peers a link accepts (`spec/protocol-link.md` §4.6). The role rules beyond these
/// flags are fixed: an officer links only to its home relay, and a relay accepts an officer
/// only if the officer's certificate names it as home relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerPolicy {
    /// The identity the initiator dialled (from routes or the officer's home relay); the
    /// handshake fails unless the peer proves exactly this identity.
    pub expected_peer: Option<IdentityId>,
    /// Accept relay peers.
    pub allow_relays: bool,
    /// Accept officer peers (that name us as home relay).
    pub allow_officers: bool,
}

/// Our own identity: member certificate and the matching composite signing key.
#[derive(Debug)]
pub struct LocalIdentity {
    /// Our member certificate, as sent to peers.
    pub certificate: MemberCertificate,
    /// The signing key whose public half the certificate certifies.
    pub signing_key: SigningKey,
}

/// Everything a handshake needs that does not change per connection.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// Our identity.
    pub identity: Arc<LocalIdentity>,
    /// Trust anchors and revocations used to validate the peer's certificate.
    pub trust: Arc<TrustStore>,
    /// Suites we accept, in any order; the responder picks the strongest both accept.
    pub suites: Vec<Suite>,
    /// Supplied-key policy for this peer.
    pub supply: SupplyPolicy,
    /// Our own ETSI 014 SAE id (responders check the `slave_sae_id` against it).
    pub local_sae_id: Option<String>,
    /// Which peers we accept.
    pub peer: PeerPolicy,
    /// Handshake must complete within this time from `start` / the first message.
    pub handshake_timeout: Duration,
    /// When the session rekeys.
    pub rekey: RekeyPolicy,
}

/// ETSI GS QKD 014 references for a supplied key: the master (initiator) and slave SAE ids
/// and the `key_ID`s, in the order their keys are concatenated. Sent in the clear and
/// absorbed into the transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppliedKeyRef {
    /// SAE id of the side that called `enc_keys`.
    pub master_sae_id: String,
    /// SAE id of the side that must call `dec_keys`.
    pub slave_sae_id: String,
    /// The `key_ID`s, 1 to [`MAX_SUPPLIED_KEYS`].
    pub key_ids: Vec<String>,
}

impl SuppliedKeyRef {
    /// Encodes `flag || [refs]` (flag 0 = none, 1 = present).
    pub fn encode_option(this: Option<&Self>, w: &mut Writer) -> Result<(), DecodeError> {
        match this {
            None => w.u8(0),
            Some(r) => {
                w.u8(1);
                w.bytes_u16("master SAE id", r.master_sae_id.as_bytes(), MAX_SAE_ID_LEN)?;
                w.bytes_u16("slave SAE id", r.slave_sae_id.as_bytes(), MAX_SAE_ID_LEN)?;
                check_key_count(r.key_ids.len())?;
                w.u8(r.key_ids.len() as u8); // ok: checked ≤ 8
                for id in &r.key_ids {
                    w.bytes_u16("key id", id.as_bytes(), MAX_KEY_ID_LEN)?;
                }
            }
        }
        Ok(())
    }

    /// Decodes what [`Self::encode_option`] wrote.
    pub fn decode_option(r: &mut Reader<'_>) -> Result<Option<Self>, DecodeError> {
        if !crate::frame::read_bool(r, "supplied key flag")? {
            return Ok(None);
        }
        let master_sae_id = r.string_u16("master SAE id", MAX_SAE_ID_LEN)?.to_owned();
        let slave_sae_id = r.string_u16("slave SAE id", MAX_SAE_ID_LEN)?.to_owned();
        let count = usize::from(r.u8("key id count")?);
        check_key_count(count)?;
        let mut key_ids = Vec::with_capacity(count);
        for _ in 0..count {
            key_ids.push(r.string_u16("key id", MAX_KEY_ID_LEN)?.to_owned());
        }
        Ok(Some(Self {
            master_sae_id,
            slave_sae_id,
            key_ids,
        }))
    }
}

fn check_key_count(count: usize) -> Result<(), DecodeError> {
    if count == 0 || count > MAX_SUPPLIED_KEYS {
        Err(DecodeError::NonCanonical {
            what: "key id count",
            reason: "must be 1 to 8",
        })
    } else {
        Ok(())
    }
}

/// Supplied keys drawn from the key supply, with their references. Used once, then zeroized.
#[derive(Debug)]
pub struct SuppliedKeys {
    reference: SuppliedKeyRef,
    material: SecretBytes,
}

impl SuppliedKeys {
    /// Pairs `keys` (one per `reference.key_ids` entry, same order) with their references.
    pub fn new(reference: SuppliedKeyRef, keys: Vec<SecretBytes>) -> Result<Self, ProtoError> {
        let material = concat_keys(reference.key_ids.len(), keys)?;
        check_key_count(reference.key_ids.len())?;
        Ok(Self {
            reference,
            material,
        })
    }

    /// The references sent in-band.
    pub fn reference(&self) -> &SuppliedKeyRef {
        &self.reference
    }

    pub(crate) fn into_material(self) -> SecretBytes {
        self.material
    }
}

/// The caller's answer when the responder asks for the supplied keys a peer named.
#[derive(Debug)]
pub enum SuppliedKeyAnswer {
    /// The keys for the requested ids, in the requested order.
    Keys(Vec<SecretBytes>),
    /// No keys (none were requested, the key supply failed, or our policy is `off`).
    /// Refused with [`ProtoError::SuppliedKeyRequired`] when our policy is `required`.
    None,
}

/// Concatenates supplied keys in order after checking count and lengths.
pub(crate) fn concat_keys(
    expected: usize,
    keys: Vec<SecretBytes>,
) -> Result<SecretBytes, ProtoError> {
    if keys.len() != expected {
        return Err(ProtoError::SuppliedKeyInvalid {
            reason: "number of keys differs from number of key ids",
        });
    }
    if keys
        .iter()
        .any(|k| k.len() < MIN_SUPPLIED_KEY_LEN || k.len() > MAX_SUPPLIED_KEY_LEN)
    {
        return Err(ProtoError::SuppliedKeyInvalid {
            reason: "key length outside 16..=128 bytes",
        });
    }
    // Lengths were checked first so the buffer is never abandoned half-filled unzeroized.
    let mut out = Vec::with_capacity(keys.iter().map(SecretBytes::len).sum());
    for k in &keys {
        out.extend_from_slice(k.expose_secret());
    }
    Ok(SecretBytes::new(out))
}

/// Validates the peer's certificate and the role rules; returns the parsed certificate.
pub(crate) fn check_peer(
    config: &LinkConfig,
    raw_certificate: &[u8],
    now: Now,
) -> Result<MemberCertificate, ProtoError> {
    let peer = MemberCertificate::decode(raw_certificate)?;
    config.trust.validate(&peer, now.unix)?;
    let local = &config.identity.certificate;
    if let Some(expected) = config.peer.expected_peer
        && peer.subject() != expected
    {
        return Err(ProtoError::UnexpectedPeer {
            expected,
            got: peer.subject(),
        });
    }
    if peer.subject() == local.subject() {
        return Err(ProtoError::PeerRoleNotAllowed {
            reason: "peer presented our own identity",
        });
    }
    match (local.role(), peer.role()) {
        (Role::Officer, Role::Relay) => {
            if local.home_relay() != Some(peer.subject()) {
                return Err(ProtoError::PeerRoleNotAllowed {
                    reason: "an officer links only to its home relay",
                });
            }
        }
        (Role::Officer, Role::Officer) => {
            return Err(ProtoError::PeerRoleNotAllowed {
                reason: "officers link only to relays",
            });
        }
        (Role::Relay, Role::Relay) => {
            if !config.peer.allow_relays {
                return Err(ProtoError::PeerRoleNotAllowed {
                    reason: "relay peers are not allowed here",
                });
            }
        }
        (Role::Relay, Role::Officer) => {
            if !config.peer.allow_officers {
                return Err(ProtoError::PeerRoleNotAllowed {
                    reason: "officer peers are not allowed here",
                });
            }
            if peer.home_relay() != Some(local.subject()) {
                return Err(ProtoError::PeerRoleNotAllowed {
                    reason: "officer's home relay is not this relay",
                });
            }
        }
    }
    Ok(peer)
}

/// Fails with [`ProtoError::HandshakeTimedOut`] once `now` passes `deadline`.
pub(crate) fn check_deadline(now: Now, deadline: Duration) -> Result<(), ProtoError> {
    if now.monotonic > deadline {
        Err(ProtoError::HandshakeTimedOut)
    } else {
        Ok(())
    }
}

/// An offer list is canonical when non-empty and strictly strongest-first (no duplicates).
pub(crate) fn check_peer_suite_list(
    suites: impl Iterator<Item = Suite>,
) -> Result<(), DecodeError> {
    let list: Vec<Suite> = suites.collect();
    if list.is_empty() || list.windows(2).any(|w| w[0] <= w[1]) {
        return Err(DecodeError::NonCanonical {
            what: "suite offer",
            reason: "must be non-empty, strongest first, without duplicates",
        });
    }
    Ok(())
}

/// Checks that a handshake frame has the expected type. A plaintext `Error` frame from the
/// peer becomes [`ProtoError::PeerError`] with its code and reason.
pub(crate) fn expect_frame(
    frame: &crate::frame::Frame,
    expected: crate::frame::FrameType,
    name: &'static str,
) -> Result<(), ProtoError> {
    use crate::frame::{FrameType, LinkFrame};
    if frame.frame_type == expected {
        return Ok(());
    }
    if frame.frame_type == FrameType::Error
        && let LinkFrame::Error { code, reason } = LinkFrame::from_frame(frame)?
    {
        return Err(ProtoError::PeerError { code, reason });
    }
    Err(ProtoError::UnexpectedFrame {
        expected: name,
        got: frame.frame_type,
    })
}
