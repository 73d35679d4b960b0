//! [`ClientError`]: everything that can go wrong for an officer, in categories a person (and a
//! script, through [`ClientError::exit_code`]) can act on: bad input, refused by a relay or by
//! policy, relay unreachable, keystore or passphrase, and internal failures.

use std::path::{Path, PathBuf};

use liaison_crypto::IdentityId;
use liaison_proto::ProtoError;

use crate::content::ContentError;
use crate::keystore::KeystoreError;
use crate::store::StoreError;

/// Process exit code: success.
pub const EXIT_OK: u8 = 0;
/// Process exit code: internal error (a bug, a disk failure, a corrupt local store).
pub const EXIT_INTERNAL: u8 = 1;
/// Process exit code: bad input (usage, invalid STIX/MISP, unreadable or tampered file).
pub const EXIT_BAD_INPUT: u8 = 2;
/// Process exit code: refused by the relay or by policy (classification, clearance, revoked).
pub const EXIT_REFUSED: u8 = 3;
/// Process exit code: the home relay is unreachable (or went away, or timed out).
pub const EXIT_UNREACHABLE: u8 = 4;
/// Process exit code: keystore problem (missing profile, wrong passphrase, damaged keystore).
pub const EXIT_KEYSTORE: u8 = 5;

/// Why an officer operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The relay refused the item (`Refused` frame, or `Ack(Refused)` + `Error`), or refused
    /// the link itself.
    #[error("refused by the relay: {reason} (code {code:#06x})")]
    Refused {
        /// The relay's `WireCode`.
        code: u16,
        /// The relay's reason.
        reason: String,
    },
    /// Local policy refused to seal (classification above a recipient's or our clearance,
    /// suite below the classification's policy, ...): nothing was sent.
    #[error("refused by policy before sending: {0}")]
    Policy(#[source] ProtoError),
    /// A recipient (or the link to the home relay) needs a supplied key, by classification or
    /// by the profile's `required` policy, and the profile gives no way to obtain one.
    #[error("{peer}: {reason}")]
    SuppliedKeyMissing {
        /// Whom the key is for: a recipient (name and fingerprint) or the link to the relay.
        peer: String,
        /// What is needed and what is missing.
        reason: String,
    },
    /// The key supply (ETSI 014 KME or pre-shared keys) could not deliver a supplied key.
    #[error("key supply could not deliver {what}: {reason}")]
    KeySupply {
        /// Which key.
        what: String,
        /// The supply's error.
        reason: String,
    },
    /// A recipient's prekey bundle did not verify.
    #[error("recipient {recipient}: prekey bundle refused: {reason}")]
    RecipientKey {
        /// The recipient.
        recipient: IdentityId,
        /// Why.
        reason: String,
    },
    /// The home relay could not be reached (dial, QUIC or handshake timeout, connection lost).
    #[error("home relay {address} unreachable: {reason}")]
    Unreachable {
        /// The address dialled.
        address: String,
        /// Why.
        reason: String,
    },
    /// The relay stopped answering during an operation.
    #[error("no answer from the relay within {seconds} s while waiting for {what}")]
    Timeout {
        /// What we were waiting for.
        what: &'static str,
        /// How long we waited.
        seconds: u64,
    },
    /// The relay could not take custody right now (its store is full or failing); try later.
    #[error("the relay deferred message {message_id}: try again later")]
    Deferred {
        /// The message.
        message_id: String,
    },
    /// The link failed after it was established.
    #[error("link to the home relay failed: {0}")]
    Link(#[source] liaison_node::link::LinkError),
    /// Input the user gave is wrong (arguments, files).
    #[error("{0}")]
    BadInput(String),
    /// A file could not be read, or is too large.
    #[error("{path}: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A report failed content validation (STIX 2.1 / MISP).
    #[error(transparent)]
    Content(#[from] ContentError),
    /// A recipient name matches no contact (or several).
    #[error(
        "recipient {query:?}: {reason}; give the 64-hex identity id, or the name of a contact (`liaison contacts`; add one with `liaison contacts add CERT`)"
    )]
    UnknownRecipient {
        /// What was given.
        query: String,
        /// Why it does not name one contact.
        reason: String,
    },
    /// A saved envelope failed verification (tampered, untrusted sender, expired, not for us).
    #[error("envelope verification failed: {0}")]
    Verification(#[source] ProtoError),
    /// No message matches.
    #[error("no message {0} in the local store (see `liaison inbox`)")]
    NoSuchMessage(String),
    /// `liaison init` has not been run for this home directory.
    #[error(
        "{home}: no Liaison profile here; run `liaison init` (or pass --home / set LIAISON_HOME)"
    )]
    NotInitialised {
        /// The home directory.
        home: PathBuf,
    },
    /// A profile exists already.
    #[error("{home}: a Liaison profile exists already; refusing to overwrite it")]
    AlreadyInitialised {
        /// The home directory.
        home: PathBuf,
    },
    /// `liaison enroll --install` has not been run.
    #[error(
        "{home}: not enrolled yet; run `liaison enroll`, have the authority sign it, then `liaison enroll --install`"
    )]
    NotEnrolled {
        /// The home directory.
        home: PathBuf,
    },
    /// A profile file is malformed.
    #[error("{path}: {reason}")]
    Profile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The keystore could not be opened or saved (wrong passphrase included).
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
    /// The local message store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A protocol operation on our own data failed (a bug or corrupt local state).
    #[error("protocol: {0}")]
    Proto(#[from] ProtoError),
    /// A local file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl ClientError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }

    /// The process exit code for this error (see the `EXIT_*` constants and docs/CLIENT.md).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::BadInput(_)
            | Self::Unreadable { .. }
            | Self::Content(_)
            | Self::UnknownRecipient { .. }
            | Self::Verification(_)
            | Self::NoSuchMessage(_)
            | Self::NotEnrolled { .. }
            | Self::AlreadyInitialised { .. } => EXIT_BAD_INPUT,
            Self::Refused { .. }
            | Self::Policy(_)
            | Self::RecipientKey { .. }
            | Self::SuppliedKeyMissing { .. } => EXIT_REFUSED,
            Self::Unreachable { .. }
            | Self::Timeout { .. }
            | Self::Deferred { .. }
            | Self::KeySupply { .. } => EXIT_UNREACHABLE,
            Self::Link(e) => match e {
                liaison_node::link::LinkError::PeerRefused { .. } => EXIT_REFUSED,
                _ => EXIT_UNREACHABLE,
            },
            Self::Keystore(_) | Self::NotInitialised { .. } | Self::Profile { .. } => EXIT_KEYSTORE,
            Self::Store(_) | Self::Proto(_) | Self::Io { .. } => EXIT_INTERNAL,
        }
    }

    /// A short machine-readable category for `--json` output.
    pub fn kind(&self) -> &'static str {
        match self.exit_code() {
            EXIT_BAD_INPUT => "bad_input",
            EXIT_REFUSED => "refused",
            EXIT_UNREACHABLE => "unreachable",
            EXIT_KEYSTORE => "keystore",
            _ => "internal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_category_has_its_documented_exit_code() {
        let cases: [(ClientError, u8, &str); 6] = [
            (
                ClientError::BadInput("x".into()),
                EXIT_BAD_INPUT,
                "bad_input",
            ),
            (
                ClientError::Refused {
                    code: 0x0108,
                    reason: "clearance".into(),
                },
                EXIT_REFUSED,
                "refused",
            ),
            (
                ClientError::Unreachable {
                    address: "127.0.0.1:1".into(),
                    reason: "timeout".into(),
                },
                EXIT_UNREACHABLE,
                "unreachable",
            ),
            (
                ClientError::NotInitialised {
                    home: PathBuf::from("/nowhere"),
                },
                EXIT_KEYSTORE,
                "keystore",
            ),
            (
                ClientError::io(Path::new("/x"), std::io::Error::other("disk")),
                EXIT_INTERNAL,
                "internal",
            ),
            (
                ClientError::Timeout {
                    what: "custody",
                    seconds: 3,
                },
                EXIT_UNREACHABLE,
                "unreachable",
            ),
        ];
        for (err, code, kind) in cases {
            assert_eq!(err.exit_code(), code, "{err}");
            assert_eq!(err.kind(), kind, "{err}");
        }
    }

    #[test]
    fn a_relay_refusal_shows_its_reason_and_code() {
        let e = ClientError::Refused {
            code: 0x0108,
            reason: "SECRET UE exceeds the clearance of relay-1".into(),
        };
        assert_eq!(
            e.to_string(),
            "refused by the relay: SECRET UE exceeds the clearance of relay-1 (code 0x0108)"
        );
    }
}
