//! The crate's errors: [`DecodeError`] for bytes that do not parse, [`ProtoError`] for
//! everything a peer or a document can do wrong once parsed. Variants name what was wrong and
//! never carry secret material. [`ProtoError::wire_code`] is the one mapping to wire error codes.
//!
//! Engineers adding a module append their variants here (keep the groups).

use liaison_crypto::{IdentityId, Suite};
use thiserror::Error;

use crate::classification::Classification;

/// Bytes that do not decode. "Need more bytes" on a stream is separate:
/// see `frame::FrameError::Incomplete`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended inside a field.
    #[error("truncated {what}: needed {needed} bytes, {available} available")]
    Truncated {
        /// Field being read.
        what: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the input.
        available: usize,
    },
    /// A length prefix exceeded the field's limit.
    #[error("{what} too long: {len} bytes, limit {max}")]
    TooLong {
        /// Field being read.
        what: &'static str,
        /// Declared length.
        len: usize,
        /// The field's limit.
        max: usize,
    },
    /// Bytes were left after a complete object.
    #[error("{count} trailing bytes after {what}")]
    TrailingBytes {
        /// Object that was complete.
        what: &'static str,
        /// Unconsumed bytes.
        count: usize,
    },
    /// A string field was not UTF-8.
    #[error("{what} is not valid UTF-8")]
    InvalidUtf8 {
        /// Field being read.
        what: &'static str,
    },
    /// An enumerated field had a value outside its closed set.
    #[error("unknown {what} value {value:#x}")]
    UnknownValue {
        /// Field being read.
        what: &'static str,
        /// The value received.
        value: u64,
    },
    /// A field parsed but broke an encoding rule (e.g. an unsorted list that must be sorted).
    #[error("non-canonical {what}: {reason}")]
    NonCanonical {
        /// Field being read.
        what: &'static str,
        /// The rule that was broken.
        reason: &'static str,
    },
}

/// Everything that can go wrong in the protocol core.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProtoError {
    /// Malformed bytes.
    #[error("malformed message: {0}")]
    Decode(#[from] DecodeError),
    /// A cryptographic operation failed (details stay local; peers see one opaque code).
    #[error("cryptographic failure: {0}")]
    Crypto(#[from] liaison_crypto::CryptoError),
    // --- link: frames, handshake, record layer (`spec/protocol-link.md`) ---
    /// A frame arrived that the current link state does not allow.
    #[error("unexpected {got:?} frame, expected {expected}")]
    UnexpectedFrame {
        /// What the state machine was waiting for.
        expected: &'static str,
        /// What arrived.
        got: crate::frame::FrameType,
    },
    /// The peer speaks a link protocol version we do not.
    #[error("unsupported link protocol version {0}")]
    UnsupportedVersion(u16),
    /// No suite is both offered by the initiator and accepted by the responder.
    #[error("no common suite")]
    NoCommonSuite,
    /// The responder chose a suite the initiator did not offer.
    #[error("responder chose {0}, which was not offered")]
    SuiteNotOffered(Suite),
    /// Handshake key confirmation failed: a different supplied key, TLS exporter or tampered
    /// transcript. Opaque to the peer.
    #[error("key confirmation failed")]
    KeyConfirmationFailed,
    /// A sealed record failed to authenticate (tampered, replayed, reordered, wrong key).
    /// Opaque to the peer.
    #[error("record authentication failed")]
    RecordAuthenticationFailed,
    /// Our policy for this link requires a supplied key and none was mixed.
    #[error("a supplied key is required on this link but none was mixed")]
    LinkSuppliedKeyRequired,
    /// Supplied-key references or key material that cannot be used.
    #[error("unusable supplied key: {reason}")]
    SuppliedKeyInvalid {
        /// The rule broken.
        reason: &'static str,
    },
    /// The peer proved an identity other than the one we dialled.
    #[error("peer is {got}, expected {expected}")]
    UnexpectedPeer {
        /// The identity we expected.
        expected: IdentityId,
        /// The identity the peer proved.
        got: IdentityId,
    },
    /// The peer's role (or home relay) is not allowed on this link.
    #[error("peer not allowed: {reason}")]
    PeerRoleNotAllowed {
        /// The role rule broken.
        reason: &'static str,
    },
    /// The link handshake did not complete in time.
    #[error("link handshake timed out")]
    HandshakeTimedOut,
    /// The peer broke the rekey protocol (wrong epoch, unexpected step).
    #[error("rekey protocol violation: {reason}")]
    RekeyViolation {
        /// The rule broken.
        reason: &'static str,
    },
    /// The peer broke the `EnvelopePart` rules (`spec/protocol-link.md` §3.3: out of order,
    /// interleaved with another envelope, or beyond the announced total).
    #[error("envelope part violation: {reason}")]
    EnvelopePartViolation {
        /// The rule broken.
        reason: &'static str,
    },
    /// The send direction reached its hard limit before a rekey completed.
    #[error("rekey overdue: send key reached its hard limit")]
    RekeyOverdue,
    /// The link is closed; nothing more can be sent or received.
    #[error("link closed")]
    LinkClosed,
    /// The peer sent an `Error` frame.
    #[error("peer reported error {code:#06x}: {reason}")]
    PeerError {
        /// The peer's wire code.
        code: u16,
        /// The peer's human reason.
        reason: String,
    },
    // --- documents: certificates, revocation lists, prekeys, envelopes, receipts ---
    /// A certificate or revocation list names an issuer that is not a trust anchor.
    #[error("issuer {issuer} is not a trust anchor")]
    UnknownIssuer {
        /// The issuer id the document names.
        issuer: IdentityId,
    },
    /// A document's signature did not verify (opaque to peers).
    #[error("signature on {what} does not verify")]
    BadSignature {
        /// The kind of document.
        what: &'static str,
    },
    /// A certificate's subject id is not the hash of its public key.
    #[error("certificate subject {subject} is not the id of its public key")]
    SubjectKeyMismatch {
        /// The subject id the certificate claims.
        subject: IdentityId,
    },
    /// A certificate is not valid yet.
    #[error("certificate of {subject} not valid before {not_before}")]
    CertificateNotYetValid {
        /// The certificate's subject.
        subject: IdentityId,
        /// Start of validity.
        not_before: crate::UnixTime,
    },
    /// A certificate has expired.
    #[error("certificate of {subject} expired at {not_after}")]
    CertificateExpired {
        /// The certificate's subject.
        subject: IdentityId,
        /// End of validity.
        not_after: crate::UnixTime,
    },
    /// A certificate (by serial or by subject) is on the installed revocation list.
    #[error("certificate serial {serial} of {subject} is revoked")]
    CertificateRevoked {
        /// The revoked certificate's serial.
        serial: u64,
        /// Its subject.
        subject: IdentityId,
    },
    /// A party has the wrong role for what it did (e.g. a relay sending an envelope).
    #[error("{who} must be a {expected}")]
    WrongRole {
        /// The party.
        who: IdentityId,
        /// The role required (`"relay"` or `"officer"`).
        expected: &'static str,
    },
    /// Content is classified above a party's clearance.
    #[error("{level} is above the clearance {clearance} of {who}")]
    ClassificationAboveClearance {
        /// The content's classification.
        level: Classification,
        /// The party's clearance.
        clearance: Classification,
        /// The party (sender, recipient or hop).
        who: IdentityId,
    },
    /// A revocation list older than (or conflicting with) the installed one.
    #[error("revocation list {offered} of {issuer} does not supersede installed {installed}")]
    RevocationListRollback {
        /// The list's issuer.
        issuer: IdentityId,
        /// Number of the installed list.
        installed: u64,
        /// Number of the offered list.
        offered: u64,
    },
    /// A revocation list past its `next_update` (or not yet current).
    #[error("revocation list {number} is outside its validity (next update {next_update})")]
    RevocationListExpired {
        /// The list's number.
        number: u64,
        /// When it should have been replaced.
        next_update: crate::UnixTime,
    },
    /// Two keys or objects that must share a suite do not.
    #[error("suite mismatch: expected {expected}, got {got}")]
    SuiteMismatch {
        /// The suite required.
        expected: Suite,
        /// The suite found.
        got: Suite,
    },
    /// A signed prekey is signed for another owner than expected.
    #[error("prekey belongs to {got}, expected {expected}")]
    PrekeyOwnerMismatch {
        /// The owner expected.
        expected: IdentityId,
        /// The owner named by the prekey.
        got: IdentityId,
    },
    /// A signed prekey is expired (or not yet valid).
    #[error("prekey of {owner} is outside its validity (expires {expires})")]
    PrekeyExpired {
        /// The prekey's owner.
        owner: IdentityId,
        /// Its expiry.
        expires: crate::UnixTime,
    },
    /// No prekey secret matches the prekey id in the recipient block.
    #[error("no prekey secret for prekey id {prekey_id}")]
    UnknownPrekey {
        /// The prekey id named by the block (hex).
        prekey_id: String,
    },
    /// An envelope's expiry has passed.
    #[error("envelope {message_id} expired at {expires}")]
    EnvelopeExpired {
        /// The message id (hex).
        message_id: String,
        /// Its expiry.
        expires: crate::UnixTime,
    },
    /// An envelope is dated further in the future than the allowed clock skew.
    #[error("envelope {message_id} created in the future ({created})")]
    EnvelopeFromFuture {
        /// The message id (hex).
        message_id: String,
        /// Its creation time.
        created: crate::UnixTime,
    },
    /// The sender's certificate does not belong to the envelope's sender id.
    #[error("sender certificate is for {certificate}, envelope names {sender}")]
    SenderMismatch {
        /// The sender id in the header.
        sender: IdentityId,
        /// The certificate's subject.
        certificate: IdentityId,
    },
    /// The opener is not among the envelope's recipients.
    #[error("{id} is not a recipient of this envelope")]
    NotARecipient {
        /// The would-be recipient.
        id: IdentityId,
    },
    /// A recipient's certificate is needed for a policy check but was not supplied.
    #[error("no certificate for recipient {id}")]
    UnknownRecipient {
        /// The recipient.
        id: IdentityId,
    },
    /// TLP:RED content addressed to someone who is not a named, certified officer.
    #[error("TLP:RED envelope addressed to unnamed recipient {id}")]
    TlpRedUnnamedRecipient {
        /// The recipient.
        id: IdentityId,
    },
    /// A recipient block does not belong to this envelope, recipient and prekey (its key does
    /// not unwrap): swapped, corrupted, or opened with the wrong prekey or supplied key.
    #[error("recipient block does not unwrap for {recipient}")]
    RecipientBlockMismatch {
        /// The recipient whose block failed.
        recipient: IdentityId,
    },
    /// The payload did not authenticate under the unwrapped content key.
    #[error("payload does not decrypt")]
    PayloadDecryptionFailed,
    /// The envelope's suite is below the classification's minimum.
    #[error("suite {suite} is below the minimum for {level}")]
    SuiteBelowPolicy {
        /// The envelope's suite.
        suite: Suite,
        /// The classification.
        level: Classification,
    },
    /// The classification requires a supplied (QKD/PSK) key in every recipient block.
    #[error("{level} requires a supplied key for recipient {recipient}")]
    SuppliedKeyRequired {
        /// The classification.
        level: Classification,
        /// The recipient whose block has none.
        recipient: IdentityId,
    },
    /// The recipient block names a supplied key but the opener did not provide it.
    #[error("supplied key {key_id} needed to open this envelope")]
    SuppliedKeyNotProvided {
        /// The key id named by the block.
        key_id: String,
    },
    /// A supplied key was provided for a block that names none.
    #[error("a supplied key was provided but the recipient block names none")]
    UnexpectedSuppliedKey,
    /// A supplied key of a length outside the allowed range.
    #[error("supplied key of {len} bytes (allowed {min}..={max})")]
    SuppliedKeyLength {
        /// Its length.
        len: usize,
        /// Minimum.
        min: usize,
        /// Maximum.
        max: usize,
    },
    /// A receipt that does not match the envelope or recipient it is checked against.
    #[error("receipt does not match: {what}")]
    ReceiptMismatch {
        /// The field that differs.
        what: &'static str,
    },
    /// A non-delivery notice that does not match the envelope it is checked against.
    #[error("non-delivery notice does not match: {what}")]
    NoticeMismatch {
        /// The field that differs.
        what: &'static str,
    },
    /// A document could not be built from the given inputs (a builder precondition).
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// The document being built.
        what: &'static str,
        /// The rule broken.
        reason: &'static str,
    },
}

/// Machine-readable error codes carried by error frames (`spec/protocol.md`, "Error codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
#[non_exhaustive]
pub enum WireCode {
    /// The message did not parse.
    Malformed = 0x0001,
    /// Authentication or decryption failed (deliberately undifferentiated).
    AuthenticationFailed = 0x0002,
    // --- link (0x02xx) ---
    /// A frame or rekey step not allowed in the current state.
    UnexpectedMessage = 0x0201,
    /// Unsupported link protocol version.
    UnsupportedVersion = 0x0202,
    /// No suite both sides accept.
    NoCommonSuite = 0x0203,
    /// The peer's identity or role is not allowed on this link.
    PeerNotAllowed = 0x0204,
    /// The handshake or a rekey took too long.
    Timeout = 0x0205,
    // --- documents (0x01xx) ---
    /// A certificate or list from an issuer that is not a trust anchor.
    UnknownIssuer = 0x0101,
    /// A certificate outside its validity window.
    CertificateExpired = 0x0102,
    /// A revoked certificate.
    CertificateRevoked = 0x0103,
    /// A party acting outside its role.
    WrongRole = 0x0104,
    /// Content classified above a party's clearance.
    ClearanceExceeded = 0x0105,
    /// Suite or supplied-key policy for the classification not met.
    CryptoPolicyViolation = 0x0106,
    /// An expired (or future-dated) envelope.
    EnvelopeExpired = 0x0107,
    /// Recipient not named, not known, or not allowed (TLP:RED).
    RecipientRefused = 0x0108,
    /// Prekey unknown, expired or of another owner.
    PrekeyRefused = 0x0109,
    /// A revocation list that is stale or older than the installed one.
    RevocationListRefused = 0x010a,
    /// A receipt that does not match its envelope.
    ReceiptMismatch = 0x010b,
    /// A supplied (QKD/PSK) key is missing or unusable.
    SuppliedKeyUnavailable = 0x010c,
    // --- relay (0x03xx): per-item refusals carried by `Refused` frames ---
    /// The item is larger than this relay accepts (`limits.max_envelope_bytes`).
    TooLarge = 0x0301,
    /// No route (or no answer in time) towards the recipient's or the prekey owner's relay.
    NoRoute = 0x0302,
    /// The peer exceeded its rate limit, or the relay is too busy; retry later.
    RateLimited = 0x0303,
    /// No valid prekey is held for this identity (unknown identity or none published).
    NoPrekey = 0x0304,
}

impl WireCode {
    /// Every code, for tables and tests.
    pub const ALL: [Self; 23] = [
        Self::Malformed,
        Self::AuthenticationFailed,
        Self::UnexpectedMessage,
        Self::UnsupportedVersion,
        Self::NoCommonSuite,
        Self::PeerNotAllowed,
        Self::Timeout,
        Self::UnknownIssuer,
        Self::CertificateExpired,
        Self::CertificateRevoked,
        Self::WrongRole,
        Self::ClearanceExceeded,
        Self::CryptoPolicyViolation,
        Self::EnvelopeExpired,
        Self::RecipientRefused,
        Self::PrekeyRefused,
        Self::RevocationListRefused,
        Self::ReceiptMismatch,
        Self::SuppliedKeyUnavailable,
        Self::TooLarge,
        Self::NoRoute,
        Self::RateLimited,
        Self::NoPrekey,
    ];

    /// The code a `u16` from the wire names, if it is one this version knows.
    pub fn from_u16(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|c| *c as u16 == code)
    }
}

impl ProtoError {
    /// The code sent to the peer for this error. The human reason travels beside it.
    pub fn wire_code(&self) -> WireCode {
        match self {
            Self::Decode(_) => WireCode::Malformed,
            Self::Crypto(_) => WireCode::AuthenticationFailed,
            Self::KeyConfirmationFailed | Self::RecordAuthenticationFailed => {
                WireCode::AuthenticationFailed
            }
            Self::UnexpectedFrame { .. }
            | Self::RekeyViolation { .. }
            | Self::EnvelopePartViolation { .. }
            | Self::LinkClosed
            | Self::PeerError { .. } => WireCode::UnexpectedMessage,
            Self::UnsupportedVersion(_) => WireCode::UnsupportedVersion,
            Self::NoCommonSuite | Self::SuiteNotOffered(_) => WireCode::NoCommonSuite,
            Self::LinkSuppliedKeyRequired | Self::SuppliedKeyInvalid { .. } => {
                WireCode::SuppliedKeyUnavailable
            }
            Self::UnexpectedPeer { .. } | Self::PeerRoleNotAllowed { .. } => {
                WireCode::PeerNotAllowed
            }
            Self::HandshakeTimedOut | Self::RekeyOverdue => WireCode::Timeout,
            Self::BadSignature { .. }
            | Self::SubjectKeyMismatch { .. }
            | Self::SenderMismatch { .. }
            | Self::RecipientBlockMismatch { .. }
            | Self::PayloadDecryptionFailed => WireCode::AuthenticationFailed,
            Self::UnknownIssuer { .. } => WireCode::UnknownIssuer,
            Self::CertificateNotYetValid { .. } | Self::CertificateExpired { .. } => {
                WireCode::CertificateExpired
            }
            Self::CertificateRevoked { .. } => WireCode::CertificateRevoked,
            Self::WrongRole { .. } => WireCode::WrongRole,
            Self::ClassificationAboveClearance { .. } => WireCode::ClearanceExceeded,
            Self::SuiteMismatch { .. }
            | Self::SuiteBelowPolicy { .. }
            | Self::SuppliedKeyRequired { .. } => WireCode::CryptoPolicyViolation,
            Self::EnvelopeExpired { .. } | Self::EnvelopeFromFuture { .. } => {
                WireCode::EnvelopeExpired
            }
            Self::NotARecipient { .. }
            | Self::UnknownRecipient { .. }
            | Self::TlpRedUnnamedRecipient { .. } => WireCode::RecipientRefused,
            Self::PrekeyOwnerMismatch { .. }
            | Self::PrekeyExpired { .. }
            | Self::UnknownPrekey { .. } => WireCode::PrekeyRefused,
            Self::RevocationListRollback { .. } | Self::RevocationListExpired { .. } => {
                WireCode::RevocationListRefused
            }
            Self::ReceiptMismatch { .. } | Self::NoticeMismatch { .. } => WireCode::ReceiptMismatch,
            Self::SuppliedKeyNotProvided { .. }
            | Self::UnexpectedSuppliedKey
            | Self::SuppliedKeyLength { .. } => WireCode::SuppliedKeyUnavailable,
            Self::InvalidInput { .. } => WireCode::Malformed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_codes_are_unique_and_parse_back() {
        for code in WireCode::ALL {
            assert_eq!(WireCode::from_u16(code as u16), Some(code));
        }
        let mut values: Vec<u16> = WireCode::ALL.iter().map(|c| *c as u16).collect();
        values.sort_unstable();
        values.dedup();
        assert_eq!(values.len(), WireCode::ALL.len());
        assert_eq!(WireCode::from_u16(0x0300), None);
        assert_eq!(WireCode::TooLarge as u16, 0x0301);
        assert_eq!(WireCode::NoRoute as u16, 0x0302);
        assert_eq!(WireCode::RateLimited as u16, 0x0303);
        assert_eq!(WireCode::NoPrekey as u16, 0x0304);
    }
}
