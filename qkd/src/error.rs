//! The crate's one error type: every way asking for a supplied key can fail.
//!
//! Variants name what went wrong and where (the KME URL, the file, the key id) so that an
//! operator reading a log line knows what to fix. No variant ever carries key bytes: errors end
//! up in logs, and secrets must never reach logs (see `STYLE.md`, "Secrets").

use std::path::PathBuf;
use std::time::Duration;

use crate::key::{KeyId, SaeId};

/// Everything that can go wrong while obtaining, serving or configuring supplied keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The KME could not be reached at all (DNS, TCP, TLS handshake, connection reset).
    #[error("KME at {url} is unreachable: {reason}")]
    Unreachable {
        /// The URL that was asked.
        url: String,
        /// What the transport reported.
        reason: String,
    },

    /// The KME did not answer within the configured time.
    #[error("KME at {url} did not answer within {after:?}")]
    Timeout {
        /// The URL that was asked.
        url: String,
        /// The configured timeout.
        after: Duration,
    },

    /// The KME refused the caller's identity (HTTP 401 in ETSI GS QKD 014).
    #[error("KME refused the request as unauthorized (HTTP 401): {message}")]
    Unauthorized {
        /// The KME's `message`.
        message: String,
    },

    /// Not enough key material is available for this pair of SAEs right now.
    #[error(
        "key supply for slave SAE {slave} is exhausted: {available} key(s) available, {requested} requested"
    )]
    Exhausted {
        /// The slave SAE the keys were for.
        slave: SaeId,
        /// Keys the supply reported as available.
        available: u64,
        /// Keys asked for.
        requested: u64,
    },

    /// The KME reported a server-side error (HTTP 503 in ETSI GS QKD 014), which real KMEs also
    /// use when their key store has run dry.
    #[error("KME reported a server-side error (HTTP 503): {message}")]
    KmeUnavailable {
        /// The KME's `message`.
        message: String,
    },

    /// The key ids asked for on the slave side are unknown, were already delivered, or belong to
    /// another pair of SAEs.
    #[error("key id(s) {key_ids:?} refused: {message}")]
    UnknownKeyId {
        /// The ids that were asked for.
        key_ids: Vec<KeyId>,
        /// Why (the KME's `message`, or the local reason).
        message: String,
    },

    /// The slave side was asked for a key id it already served once (replay).
    #[error("key id {key_id} from master SAE {master} was already used; refusing a replay")]
    KeyIdReplayed {
        /// The master SAE that sent the id.
        master: SaeId,
        /// The replayed id.
        key_id: KeyId,
    },

    /// The KME refused the request as malformed (HTTP 400) for another reason than key ids.
    #[error("KME rejected the request (HTTP 400): {message}{details}")]
    Rejected {
        /// The KME's `message`.
        message: String,
        /// The KME's `details`, rendered (empty when absent).
        details: String,
    },

    /// The request cannot be satisfied by this supply (for example a key size outside the
    /// KME's `min_key_size..=max_key_size`), so it was not sent.
    #[error("request cannot be satisfied: {reason}")]
    Unsatisfiable {
        /// What limit the request breaks.
        reason: String,
    },

    /// The KME answered something that does not follow ETSI GS QKD 014.
    #[error("KME at {url} sent a bad response: {reason}")]
    BadResponse {
        /// The URL that was asked.
        url: String,
        /// What was wrong with it (never including key material).
        reason: String,
    },

    /// A policy of `required` could not be met, so the caller must fail closed.
    #[error("QKD/PSK key required for peer {peer} but none could be obtained: {source}")]
    KeyRequired {
        /// The peer SAE.
        peer: SaeId,
        /// Why no key was obtained.
        #[source]
        source: Box<Self>,
    },

    /// The peer (master side) sent no key id although this side requires a supplied key.
    #[error("peer {peer} sent no key id")]
    NoKeyIdFromPeer {
        /// The peer SAE.
        peer: SaeId,
    },

    /// A pre-shared key file is readable by group or others.
    #[error("pre-shared key file {} has mode {mode:04o}; it must not be readable by group or others (chmod 600)", path.display())]
    InsecureKeyFile {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },

    /// A pre-shared key file exists but its content is not a usable key.
    #[error("pre-shared key file {} is invalid: {reason}", path.display())]
    InvalidKeyFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it (never including the key).
        reason: String,
    },

    /// No pre-shared key is configured for this peer.
    #[error("no pre-shared key configured for peer SAE {peer}")]
    UnknownPeer {
        /// The peer SAE.
        peer: SaeId,
    },

    /// A certificate, private key or CA file could not be used for TLS.
    #[error("TLS configuration from {} is unusable: {reason}", path.display())]
    TlsConfig {
        /// The file (or directory) concerned.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// Reading or writing a local file failed.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// The persistent store of used key ids failed.
    #[error("used key id store {} failed: {reason}", path.display())]
    UsedIdStore {
        /// The store file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },

    /// Generating test certificates failed.
    #[error("certificate generation failed: {reason}")]
    Pki {
        /// What failed.
        reason: String,
    },

    /// A configuration value is invalid.
    #[error("invalid configuration: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// Whether the error means the supply is (temporarily) not delivering, as opposed to a
    /// configuration or protocol mistake. The `preferred` policy falls back on any error, but
    /// metrics and logs distinguish the two.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::Unreachable { .. }
                | Self::Timeout { .. }
                | Self::Exhausted { .. }
                | Self::KmeUnavailable { .. }
        )
    }
}

/// Short-hand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
