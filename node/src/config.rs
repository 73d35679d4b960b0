//! The relay's configuration file (`liaison-node run --config relay.toml`): a TOML document read
//! once at start-up into [`Config`], then checked and loaded into a [`NodeSetup`] — keys,
//! certificates, trust anchors, routes and key supplies — so that every mistake surfaces before
//! the node binds a socket, with an error naming the file and the key.
//!
//! Relative paths are resolved against the directory holding the configuration file. The
//! annotated example is `examples/relay.toml`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use liaison_crypto::sign::{SigningKey, VerifyingKey};
use liaison_crypto::{IdentityId, Suite};
use liaison_proto::certificate::{MemberCertificate, Role};
use liaison_proto::revocation::RevocationList;
use liaison_proto::trust::TrustStore;
use liaison_proto::{ProtoError, UnixTime};
use liaison_qkd::{KeySupply, KeySupplyConfig, QkdPolicy};
use serde::Deserialize;

use crate::identity;
use crate::ratelimit::RateLimit;

/// First line of an authority public-key file (a trust anchor).
pub const AUTHORITY_KEY_MAGIC: &str = "liaison-authority-public-key v1";

/// The configuration file, as written by the operator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// UDP address the QUIC endpoint listens on (`0.0.0.0:7443`; port 0 picks one).
    pub listen: SocketAddr,
    /// The node's identity key file (`liaison-node init`; mode 0600).
    pub identity_key: PathBuf,
    /// The node's member certificate issued by the federation authority.
    pub certificate: PathBuf,
    /// The custody database (`custody.redb`; created on first start).
    pub storage: PathBuf,
    /// Trust anchors: files holding federation authority public keys.
    pub trust_anchors: Vec<PathBuf>,
    /// The authority's signed revocation list, if one is published.
    #[serde(default)]
    pub revocation_list: Option<PathBuf>,
    /// Member certificates of the federation (officers and relays) this node routes by: one
    /// file per certificate, or directories whose `*.cert` files are read.
    #[serde(default)]
    pub directory: Vec<PathBuf>,
    /// This node's ETSI GS QKD 014 SAE id, when it uses a key supply.
    #[serde(default)]
    pub sae_id: Option<String>,
    /// The key supply (ETSI 014 KME or pre-shared keys), shared by every peer.
    #[serde(default)]
    pub key_supply: Option<KeySupplyConfig>,
    /// Supplied-key policy on links with this relay's officers.
    #[serde(default = "default_officer_qkd")]
    pub officer_qkd: QkdPolicy,
    /// Neighbouring relays this node dials and forwards to.
    #[serde(default, rename = "route")]
    pub routes: Vec<RouteConfig>,
    /// Resource limits.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Local HTTP address serving Prometheus `/metrics` and the `/status` report read by
    /// `liaison-node status` (e.g. `127.0.0.1:9464`; absent: no endpoint).
    #[serde(default)]
    pub metrics_listen: Option<SocketAddr>,
    /// Unix socket serving `/status` and `/metrics` to `liaison-node status` on this machine
    /// (mode 0600: the node's user and root). Absent: the custody database's path with `.sock`
    /// appended (`custody.redb.sock`).
    #[serde(default)]
    pub status_socket: Option<PathBuf>,
    /// Seconds between checks of the revocation list's and directory's modification times;
    /// a change reloads them as SIGHUP does (0: only on SIGHUP).
    #[serde(default = "default_reload_check_secs")]
    pub reload_check_secs: u64,
}

/// Appended to the custody database's path for the default status socket
/// (`custody.redb` → `custody.redb.sock`), unless `status_socket` says.
pub const STATUS_SOCKET_SUFFIX: &str = ".sock";

/// The Unix socket a node serves `/status` and `/metrics` on ([`Config::status_socket`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSocket {
    /// Its path.
    pub path: PathBuf,
    /// Whether the configuration names it (then failing to bind it stops the node; the
    /// default place only gets a warning).
    pub configured: bool,
}

fn default_reload_check_secs() -> u64 {
    30
}

fn default_officer_qkd() -> QkdPolicy {
    QkdPolicy::Off
}

/// One `[[route]]`: a neighbouring relay, how to reach it and how to key the link.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// The relay's identity id (64 hex digits) or its certificate name from `directory`.
    pub relay: String,
    /// Its address (`host:port`); defaults to the address in its certificate.
    #[serde(default)]
    pub address: Option<String>,
    /// Further addresses tried in turn when the first is unreachable.
    #[serde(default)]
    pub alternates: Vec<String>,
    /// `required | preferred | off`: whether the link must mix a supplied key.
    #[serde(default = "default_route_qkd")]
    pub qkd: QkdPolicy,
    /// The peer's SAE id at the key supply (needed unless `qkd = "off"`).
    #[serde(default)]
    pub sae_id: Option<String>,
    /// A relay that is not a neighbour: reached through this neighbouring relay (its id or
    /// certificate name), e.g. `via = "relay-2"`. Such a route is never dialled; what is bound
    /// for it waits in the neighbour's queue.
    #[serde(default)]
    pub via: Option<String>,
}

fn default_route_qkd() -> QkdPolicy {
    QkdPolicy::Preferred
}

/// `[limits]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest envelope accepted, in bytes.
    #[serde(default = "default_max_envelope")]
    pub max_envelope_bytes: usize,
    /// Most simultaneous QUIC connections (further ones are refused).
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Most items waiting in one destination's queue (a next-hop relay or a local officer);
    /// beyond it, new envelopes, receipts and non-delivery notices for that destination are
    /// answered `Ack(Deferred)` (retry later) instead of being taken into custody.
    #[serde(default = "default_max_queue_depth")]
    pub max_queue_depth: u64,
    /// Seconds a link handshake may take, key supply included.
    #[serde(default = "default_handshake_secs")]
    pub handshake_timeout_secs: u64,
    /// Seconds between expiry sweeps of the custody store.
    #[serde(default = "default_sweep_secs")]
    pub sweep_interval_secs: u64,
    /// Seconds of silence after which a QUIC connection is considered dead (keep-alives go
    /// out at a third of it), so a crashed neighbour is noticed and redialled quickly.
    #[serde(default = "default_idle_secs")]
    pub idle_timeout_secs: u64,
    /// Seconds between keepalive `Ping`s on every link.
    #[serde(default = "default_ping_secs")]
    pub ping_interval_secs: u64,
    /// Seconds without any frame from a peer (not even a `Pong`) after which its link is
    /// closed as dead; must exceed `ping_interval_secs`.
    #[serde(default = "default_peer_timeout_secs")]
    pub peer_timeout_secs: u64,
    /// Rate limit on each officer's link (`[limits.officers]`).
    #[serde(default = "default_officer_rate")]
    pub officers: RateLimit,
    /// Rate limit on each neighbouring relay's link (`[limits.relays]`).
    #[serde(default = "default_relay_rate")]
    pub relays: RateLimit,
}

fn default_ping_secs() -> u64 {
    5
}
fn default_peer_timeout_secs() -> u64 {
    20
}
fn default_officer_rate() -> RateLimit {
    RateLimit::OFFICERS
}
fn default_relay_rate() -> RateLimit {
    RateLimit::RELAYS
}

/// 64 MiB of payload plus the largest envelope overhead, so a 64 MiB attachment crosses a
/// relay by default (the protocol itself allows up to 256 MiB; `spec/protocol-link.md` §10).
fn default_max_envelope() -> usize {
    64 * 1024 * 1024 + liaison_proto::envelope::MAX_ENVELOPE_OVERHEAD
}
fn default_max_connections() -> usize {
    1024
}
fn default_max_queue_depth() -> u64 {
    100_000
}
fn default_handshake_secs() -> u64 {
    10
}
fn default_sweep_secs() -> u64 {
    60
}
fn default_idle_secs() -> u64 {
    10
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_envelope_bytes: default_max_envelope(),
            max_queue_depth: default_max_queue_depth(),
            max_connections: default_max_connections(),
            handshake_timeout_secs: default_handshake_secs(),
            sweep_interval_secs: default_sweep_secs(),
            idle_timeout_secs: default_idle_secs(),
            ping_interval_secs: default_ping_secs(),
            peer_timeout_secs: default_peer_timeout_secs(),
            officers: default_officer_rate(),
            relays: default_relay_rate(),
        }
    }
}

/// A configuration problem; the message names the file and the offending key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file could not be read.
    #[error("{file}: {key}: cannot read {path}: {source}")]
    Read {
        /// The configuration file.
        file: PathBuf,
        /// The key naming the path.
        key: String,
        /// The path that failed.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TOML did not parse or had unknown or missing keys.
    #[error("{file}: {message}")]
    Syntax {
        /// The configuration file.
        file: PathBuf,
        /// The parser's message (it names the key and line).
        message: String,
    },
    /// A value was read but is not acceptable.
    #[error("{file}: {key}: {reason}")]
    Invalid {
        /// The configuration file.
        file: PathBuf,
        /// The offending key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A neighbouring relay, resolved.
#[derive(Debug, Clone)]
pub struct Route {
    /// The relay's identity.
    pub relay: IdentityId,
    /// Its certificate, when the directory holds it.
    pub certificate: Option<MemberCertificate>,
    /// Addresses to try, first the primary.
    pub addresses: Vec<String>,
    /// Supplied-key policy of the link.
    pub qkd: QkdPolicy,
    /// The peer's SAE id.
    pub sae_id: Option<String>,
    /// The neighbouring relay through which this relay is reached (not dialled itself).
    pub via: Option<IdentityId>,
}

/// Everything the node needs, loaded and checked.
#[derive(Debug)]
pub struct NodeSetup {
    /// The configuration file (for messages).
    pub file: PathBuf,
    /// Listen address.
    pub listen: SocketAddr,
    /// Identity key.
    pub signing_key: SigningKey,
    /// Own member certificate (a relay's, matching the key).
    pub certificate: MemberCertificate,
    /// Trust anchors and revocations.
    pub trust: TrustStore,
    /// Known member certificates by subject.
    pub directory: BTreeMap<IdentityId, MemberCertificate>,
    /// Neighbouring relays.
    pub routes: Vec<Route>,
    /// Custody database path.
    pub storage: PathBuf,
    /// Own SAE id.
    pub sae_id: Option<String>,
    /// The key supply, when configured.
    pub key_supply: Option<Arc<dyn KeySupply>>,
    /// Policy for officer links.
    pub officer_qkd: QkdPolicy,
    /// Limits.
    pub limits: LimitsConfig,
    /// Handshake timeout.
    pub handshake_timeout: Duration,
    /// Where `/metrics` and `/status` are served, if anywhere.
    pub metrics_listen: Option<SocketAddr>,
    /// The Unix socket serving `/status` and `/metrics` locally.
    pub status_socket: StatusSocket,
    /// How often watched files are checked for changes (zero: only on SIGHUP).
    pub reload_check: Duration,
}

impl Config {
    /// Reads and parses `file` (no validation beyond the TOML schema).
    pub fn read(file: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
            file: file.to_owned(),
            key: "(config file)".into(),
            path: file.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Syntax {
            file: file.to_owned(),
            message: e.to_string(),
        })
    }

    /// Checks every value and loads every file the configuration names.
    pub fn load(self, file: &Path, now: UnixTime) -> Result<NodeSetup, ConfigError> {
        let base = file.parent().unwrap_or(Path::new("."));
        let resolve = |p: &Path| base.join(p);
        let invalid = |key: &str, reason: String| ConfigError::Invalid {
            file: file.to_owned(),
            key: key.to_owned(),
            reason,
        };
        let read = |key: &str, path: &Path| {
            std::fs::read(path).map_err(|source| ConfigError::Read {
                file: file.to_owned(),
                key: key.to_owned(),
                path: path.to_owned(),
                source,
            })
        };

        let signing_key = identity::load(&resolve(&self.identity_key))
            .map_err(|e| invalid("identity_key", e.to_string()))?;
        let cert_path = resolve(&self.certificate);
        let certificate = MemberCertificate::decode(&read("certificate", &cert_path)?)
            .map_err(|e| invalid("certificate", e.to_string()))?;
        if certificate.public_key() != signing_key.verifying_key() {
            return Err(invalid(
                "certificate",
                "the certificate does not certify identity_key".into(),
            ));
        }
        if certificate.role() != Role::Relay {
            return Err(invalid("certificate", "not a relay certificate".to_owned()));
        }

        let Membership {
            trust,
            mut directory,
        } = self.load_membership(file, now)?;
        trust
            .validate_role(&certificate, Role::Relay, now)
            .map_err(|e: ProtoError| invalid("certificate", e.to_string()))?;
        directory.insert(certificate.subject(), certificate.clone());

        let mut routes = Vec::new();
        for (i, r) in self.routes.iter().enumerate() {
            let key = format!("route[{i}]");
            let relay = resolve_member(&directory, &r.relay).ok_or_else(|| {
                invalid(
                    &format!("{key}.relay"),
                    format!(
                        "unknown relay {:?}: neither 64 hex digits nor a name in `directory`",
                        r.relay
                    ),
                )
            })?;
            let certificate = directory.get(&relay).cloned();
            if let Some(via) = &r.via {
                let hop = resolve_member(&directory, via)
                    .filter(|hop| *hop != relay)
                    .ok_or_else(|| {
                        invalid(
                            &format!("{key}.via"),
                            format!("{via:?} is not another relay in `directory`"),
                        )
                    })?;
                if r.address.is_some() || !r.alternates.is_empty() {
                    return Err(invalid(
                        &format!("{key}.via"),
                        "a route reached via a neighbour has no address of its own".into(),
                    ));
                }
                routes.push(Route {
                    relay,
                    certificate,
                    addresses: Vec::new(),
                    qkd: r.qkd,
                    sae_id: r.sae_id.clone(),
                    via: Some(hop),
                });
                continue;
            }
            let mut addresses: Vec<String> = r
                .address
                .clone()
                .or_else(|| {
                    certificate
                        .as_ref()
                        .and_then(|c| c.address().map(str::to_owned))
                })
                .into_iter()
                .collect();
            addresses.extend(r.alternates.iter().cloned());
            if addresses.is_empty() {
                return Err(invalid(
                    &format!("{key}.address"),
                    "no address given and none in the relay's certificate".into(),
                ));
            }
            if r.qkd == QkdPolicy::Required && self.key_supply.is_none() {
                return Err(invalid(
                    &format!("{key}.qkd"),
                    "\"required\" needs a [key_supply] section".into(),
                ));
            }
            if r.qkd != QkdPolicy::Off && self.key_supply.is_some() && r.sae_id.is_none() {
                return Err(invalid(
                    &format!("{key}.sae_id"),
                    "the peer's SAE id is needed to draw keys for it".into(),
                ));
            }
            routes.push(Route {
                relay,
                certificate,
                addresses,
                qkd: r.qkd,
                sae_id: r.sae_id.clone(),
                via: None,
            });
        }
        // A `via` must lead to a neighbour: a relay reached directly (dialled, or one that
        // dials us and is therefore not routed), never to another `via` route.
        for r in &routes {
            if let Some(hop) = r.via
                && routes.iter().any(|o| o.relay == hop && o.via.is_some())
            {
                return Err(invalid(
                    "route.via",
                    format!("{hop} is itself reached via another relay; name the neighbour"),
                ));
            }
        }

        let key_supply = match &self.key_supply {
            None => None,
            Some(ks) => {
                if self.sae_id.is_none() {
                    return Err(invalid(
                        "sae_id",
                        "a [key_supply] needs this node's SAE id".into(),
                    ));
                }
                let ks = resolve_supply_paths(ks.clone(), base);
                Some(
                    ks.build()
                        .map_err(|e| invalid("key_supply", e.to_string()))?,
                )
            }
        };
        if self.officer_qkd == QkdPolicy::Required && key_supply.is_none() {
            return Err(invalid(
                "officer_qkd",
                "\"required\" needs a [key_supply] section".into(),
            ));
        }
        if self.limits.max_queue_depth == 0 {
            return Err(invalid(
                "limits.max_queue_depth",
                "must be at least 1".into(),
            ));
        }
        if self.limits.max_connections == 0 || self.limits.max_envelope_bytes == 0 {
            return Err(invalid("limits", "limits must be positive".into()));
        }
        if self.limits.handshake_timeout_secs == 0
            || self.limits.sweep_interval_secs == 0
            || self.limits.idle_timeout_secs < 3
        {
            return Err(invalid(
                "limits",
                "intervals must be at least 1 s (idle_timeout_secs at least 3)".into(),
            ));
        }
        if self.limits.ping_interval_secs == 0
            || self.limits.peer_timeout_secs <= self.limits.ping_interval_secs
        {
            return Err(invalid(
                "limits.peer_timeout_secs",
                format!(
                    "must exceed limits.ping_interval_secs ({}), which must be at least 1",
                    self.limits.ping_interval_secs
                ),
            ));
        }
        for (key, rate) in [
            ("limits.officers", &self.limits.officers),
            ("limits.relays", &self.limits.relays),
        ] {
            if let Some(problem) = rate.problem(self.limits.max_envelope_bytes) {
                return Err(invalid(key, problem));
            }
        }
        Ok(NodeSetup {
            file: file.to_owned(),
            metrics_listen: self.metrics_listen,
            status_socket: self.status_socket(file),
            reload_check: Duration::from_secs(self.reload_check_secs),
            listen: self.listen,
            signing_key,
            certificate,
            trust,
            directory,
            routes,
            storage: resolve(&self.storage),
            sae_id: self.sae_id,
            key_supply,
            officer_qkd: self.officer_qkd,
            handshake_timeout: Duration::from_secs(self.limits.handshake_timeout_secs),
            limits: self.limits,
        })
    }
}

/// The parts of the configuration a running node reloads without a restart (on SIGHUP or when
/// a watched file changes): trust anchors with the revocation list, and the member directory.
#[derive(Debug)]
pub struct Membership {
    /// Trust anchors and revocations.
    pub trust: TrustStore,
    /// Known member certificates by subject (the node's own is added by [`Config::load`]).
    pub directory: BTreeMap<IdentityId, MemberCertificate>,
}

impl Config {
    /// Loads the trust anchors, the revocation list and the member directory (relative paths
    /// from `file`'s directory).
    pub fn load_membership(&self, file: &Path, now: UnixTime) -> Result<Membership, ConfigError> {
        let base = file.parent().unwrap_or(Path::new("."));
        let resolve = |p: &Path| base.join(p);
        let invalid = |key: &str, reason: String| ConfigError::Invalid {
            file: file.to_owned(),
            key: key.to_owned(),
            reason,
        };
        let read = |key: &str, path: &Path| {
            std::fs::read(path).map_err(|source| ConfigError::Read {
                file: file.to_owned(),
                key: key.to_owned(),
                path: path.to_owned(),
                source,
            })
        };
        if self.trust_anchors.is_empty() {
            return Err(invalid(
                "trust_anchors",
                "at least one authority key is needed".into(),
            ));
        }
        let mut anchors = Vec::new();
        for path in &self.trust_anchors {
            let path = resolve(path);
            let text = String::from_utf8(read("trust_anchors", &path)?)
                .map_err(|_| invalid("trust_anchors", format!("{}: not text", path.display())))?;
            let key = parse_authority_key(&text)
                .map_err(|r| invalid("trust_anchors", format!("{}: {r}", path.display())))?;
            anchors.push(key);
        }
        let mut trust = TrustStore::new(anchors);
        if let Some(path) = &self.revocation_list {
            let path = resolve(path);
            let crl = RevocationList::decode(&read("revocation_list", &path)?)
                .map_err(|e| invalid("revocation_list", e.to_string()))?;
            trust
                .install_revocations(crl, now)
                .map_err(|e| invalid("revocation_list", e.to_string()))?;
        }
        let mut directory = BTreeMap::new();
        for path in self.directory_files(file)? {
            let cert = MemberCertificate::decode(&read("directory", &path)?)
                .map_err(|e| invalid("directory", format!("{}: {e}", path.display())))?;
            directory.insert(cert.subject(), cert);
        }
        Ok(Membership { trust, directory })
    }

    /// Where the node serves its status locally: `status_socket` if set, else the custody
    /// database's path with `.sock` appended (relative paths from `file`'s directory).
    pub fn status_socket(&self, file: &Path) -> StatusSocket {
        let base = file.parent().unwrap_or(Path::new("."));
        match &self.status_socket {
            Some(path) => StatusSocket {
                path: base.join(path),
                configured: true,
            },
            None => {
                // Named after the database, not its directory: two nodes whose databases
                // share a directory get a socket each.
                let mut path = base.join(&self.storage).into_os_string();
                path.push(STATUS_SOCKET_SUFFIX);
                StatusSocket {
                    path: path.into(),
                    configured: false,
                }
            }
        }
    }

    /// Every certificate file the `directory` key names (directories expanded to their
    /// `*.cert` files, sorted).
    pub fn directory_files(&self, file: &Path) -> Result<Vec<PathBuf>, ConfigError> {
        let base = file.parent().unwrap_or(Path::new("."));
        let mut out = Vec::new();
        for entry in &self.directory {
            let entry = base.join(entry);
            if entry.is_dir() {
                let listing = std::fs::read_dir(&entry).map_err(|source| ConfigError::Read {
                    file: file.to_owned(),
                    key: "directory".into(),
                    path: entry.clone(),
                    source,
                })?;
                let mut files: Vec<PathBuf> = listing
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "cert"))
                    .collect();
                files.sort();
                out.extend(files);
            } else {
                out.push(entry);
            }
        }
        Ok(out)
    }

    /// The files whose change triggers a reload: the revocation list, the directory entries
    /// (a directory's own modification time changes when a certificate is added or removed)
    /// and the certificate files in them.
    pub fn watched_files(&self, file: &Path) -> Vec<PathBuf> {
        let base = file.parent().unwrap_or(Path::new("."));
        let mut out: Vec<PathBuf> = self
            .revocation_list
            .iter()
            .chain(&self.directory)
            .map(|p| base.join(p))
            .collect();
        out.extend(self.directory_files(file).unwrap_or_default());
        out
    }
}

/// The key-supply section with its relative paths taken from the config file's directory.
fn resolve_supply_paths(config: KeySupplyConfig, base: &Path) -> KeySupplyConfig {
    match config {
        KeySupplyConfig::Etsi014 {
            kme,
            cert,
            key,
            ca,
            timeout_secs,
        } => KeySupplyConfig::Etsi014 {
            kme,
            cert: base.join(cert),
            key: base.join(key),
            ca: base.join(ca),
            timeout_secs,
        },
        KeySupplyConfig::Psk {
            sae_id,
            key_size,
            used_ids,
            peers,
        } => KeySupplyConfig::Psk {
            sae_id,
            key_size,
            used_ids: used_ids.map(|p| base.join(p)),
            peers: peers.into_iter().map(|(k, p)| (k, base.join(p))).collect(),
        },
    }
}

/// `relay` as an identity id (hex) or a certificate name in `directory`.
fn resolve_member(
    directory: &BTreeMap<IdentityId, MemberCertificate>,
    relay: &str,
) -> Option<IdentityId> {
    if let Ok(id) = relay.parse::<IdentityId>() {
        return Some(id);
    }
    directory
        .values()
        .find(|c| c.role() == Role::Relay && c.name() == relay)
        .map(MemberCertificate::subject)
}

/// Writes an authority public key in the trust-anchor file format:
///
/// ```text
/// liaison-authority-public-key v1
/// suite LQ2
/// public <hex>
/// ```
pub fn format_authority_key(key: &VerifyingKey) -> String {
    format!(
        "{AUTHORITY_KEY_MAGIC}\nsuite {}\npublic {}\n",
        key.suite().name(),
        hex::encode(key.as_bytes())
    )
}

/// Parses a trust-anchor file written by [`format_authority_key`].
pub fn parse_authority_key(text: &str) -> Result<VerifyingKey, String> {
    let mut lines = text.lines();
    if lines.next() != Some(AUTHORITY_KEY_MAGIC) {
        return Err(format!("first line must be `{AUTHORITY_KEY_MAGIC}`"));
    }
    let suite = lines
        .next()
        .and_then(|l| l.strip_prefix("suite "))
        .and_then(|s| s.trim().parse::<Suite>().ok())
        .ok_or("bad `suite` line")?;
    let bytes = lines
        .next()
        .and_then(|l| l.strip_prefix("public "))
        .and_then(|h| hex::decode(h.trim()).ok())
        .ok_or("bad `public` line")?;
    VerifyingKey::from_bytes(suite, &bytes).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        listen = "127.0.0.1:0"
        identity_key = "node.key"
        certificate = "node.cert"
        storage = "custody.redb"
        trust_anchors = ["authority.pub"]
    "#;

    #[test]
    fn minimal_config_parses_with_defaults() {
        let c: Config = toml::from_str(MINIMAL).unwrap();
        assert!(c.routes.is_empty());
        assert_eq!(c.limits.max_connections, 1024);
        assert_eq!(c.officer_qkd, QkdPolicy::Off);
    }

    #[test]
    fn unknown_keys_are_refused_with_their_name() {
        let err = toml::from_str::<Config>(&format!("{MINIMAL}\nlisten_port = 4")).unwrap_err();
        assert!(err.to_string().contains("listen_port"), "{err}");
        let text = format!("{MINIMAL}\n[[route]]\nrelay = \"x\"\nqkd = \"sometimes\"\n");
        assert!(toml::from_str::<Config>(&text).is_err());
    }

    #[test]
    fn routes_and_key_supply_parse() {
        let text = format!(
            "{MINIMAL}\nsae_id = \"relay-a\"\n[key_supply]\nkind = \"psk\"\nsae_id = \"relay-a\"\npeers = {{ relay-b = \"b.psk\" }}\n[[route]]\nrelay = \"relay-b\"\naddress = \"10.0.0.2:7443\"\nalternates = [\"10.0.1.2:7443\"]\nqkd = \"required\"\nsae_id = \"relay-b\"\n"
        );
        let c: Config = toml::from_str(&text).unwrap();
        assert_eq!(c.routes[0].qkd, QkdPolicy::Required);
        assert_eq!(c.routes[0].alternates.len(), 1);
        assert!(matches!(c.key_supply, Some(KeySupplyConfig::Psk { .. })));
    }

    #[test]
    fn operations_keys_parse_with_defaults_and_limit_tables() {
        let c: Config = toml::from_str(MINIMAL).unwrap();
        assert_eq!(c.metrics_listen, None);
        assert_eq!(c.reload_check_secs, 30);
        assert_eq!(c.limits.officers, RateLimit::OFFICERS);
        assert!(c.limits.peer_timeout_secs > c.limits.ping_interval_secs);
        let text = format!(
            "metrics_listen = \"127.0.0.1:9464\"\nreload_check_secs = 0\n{MINIMAL}\n[limits]\n\
             ping_interval_secs = 2\npeer_timeout_secs = 6\n[limits.officers]\n\
             envelopes_per_sec = 1.5\nenvelope_burst = 3\nbytes_per_sec = 1000\nbyte_burst = 99\n"
        );
        let c: Config = toml::from_str(&text).unwrap();
        assert_eq!(c.metrics_listen, Some("127.0.0.1:9464".parse().unwrap()));
        assert_eq!(c.limits.officers.envelope_burst, 3);
        assert_eq!(c.limits.relays, RateLimit::RELAYS);
        assert!(
            c.limits
                .officers
                .problem(c.limits.max_envelope_bytes)
                .is_some()
        );
        let typo = text.replace("envelope_burst", "envelopes_burst");
        assert!(toml::from_str::<Config>(&typo).is_err());
    }

    #[test]
    fn authority_key_round_trips() {
        let key = SigningKey::generate(Suite::Lq2, &mut liaison_crypto::rng::os_rng());
        let text = format_authority_key(key.verifying_key());
        assert_eq!(&parse_authority_key(&text).unwrap(), key.verifying_key());
        assert!(parse_authority_key("nonsense").is_err());
    }
}
