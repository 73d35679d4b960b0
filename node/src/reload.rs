//! Reloading the revocation list and the member directory while the node runs: on SIGHUP, and
//! when a watched file's modification time or size changes (`reload_check_secs`).
//!
//! A reload re-reads the configuration file, loads the trust anchors, the revocation list and
//! the directory exactly as start-up does ([`Config::load_membership`]), refuses a revocation
//! list older than the installed one (rollback) or the removal of one, then swaps them in:
//! new handshakes and relay checks use the new state at once. Every live link whose peer the
//! new state no longer accepts is closed with an `Error` carrying `WireCode::CertificateRevoked`,
//! and each closure is written to the audit log. A failed reload changes nothing; the node
//! keeps running on what it had. Other configuration changes still need a restart.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use liaison_crypto::IdentityId;
use liaison_proto::UnixTime;
use liaison_proto::certificate::MemberCertificate;
use liaison_proto::trust::TrustStore;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, ConfigError, Membership};
use crate::metrics::NodeMetrics;
use crate::relay::unix_now;
use crate::store::CustodyStore;

/// A value readers take a snapshot of and a reload replaces whole.
#[derive(Debug)]
pub struct Live<T>(RwLock<Arc<T>>);

impl<T> Live<T> {
    /// Holds `value`.
    pub fn new(value: T) -> Self {
        Self(RwLock::new(Arc::new(value)))
    }

    /// The current value (a snapshot: a later reload does not change it).
    pub fn load(&self) -> Arc<T> {
        Arc::clone(&self.0.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Replaces the value for every later [`Self::load`].
    pub fn store(&self, value: Arc<T>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = value;
    }
}

/// The member directory: certificates by subject.
pub type Directory = BTreeMap<IdentityId, MemberCertificate>;

/// Why a reload was refused (nothing changed).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// The configuration or a file it names could not be read or is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The new revocation list is older than the installed one.
    #[error(
        "revocation list of authority {issuer} is number {offered}, older than the installed \
         number {installed}; refusing the rollback"
    )]
    Rollback {
        /// The authority.
        issuer: IdentityId,
        /// Installed list number.
        installed: u64,
        /// Offered list number.
        offered: u64,
    },
    /// The new configuration has no revocation list where one was installed.
    #[error("the revocation list of authority {issuer} disappeared; keeping the installed one")]
    Dropped {
        /// The authority.
        issuer: IdentityId,
    },
}

/// What one successful reload did.
#[derive(Debug)]
pub struct ReloadReport {
    /// Installed revocation list numbers, per authority.
    pub revocation_lists: Vec<(IdentityId, u64)>,
    /// Certificates in the directory.
    pub members: usize,
    /// Peers whose live links were closed.
    pub closed: Vec<MemberCertificate>,
}

/// Everything a reload touches.
#[derive(Debug)]
pub struct Reloader {
    /// The configuration file.
    pub file: PathBuf,
    /// The node's own certificate (always in the directory).
    pub me: MemberCertificate,
    /// The trust store handshakes and relay checks read.
    pub trust: Arc<Live<TrustStore>>,
    /// The directory routing and checks read.
    pub directory: Arc<Live<Directory>>,
    /// Link registry and counters.
    pub metrics: Arc<NodeMetrics>,
    /// For auditing closed links.
    pub store: CustodyStore,
}

impl Reloader {
    /// Re-reads the revocation list and the directory, swaps them in and closes the links of
    /// peers no longer accepted.
    pub async fn reload(&self) -> Result<ReloadReport, ReloadError> {
        let config = Config::read(&self.file)?;
        let now = UnixTime(unix_now());
        let Membership {
            trust,
            mut directory,
        } = config.load_membership(&self.file, now)?;
        let old = self.trust.load();
        let mut lists = Vec::new();
        for issuer in old.anchor_ids().chain(trust.anchor_ids()) {
            match (old.revocation_list(issuer), trust.revocation_list(issuer)) {
                (Some(o), Some(n)) if n.number() < o.number() => {
                    return Err(ReloadError::Rollback {
                        issuer: *issuer,
                        installed: o.number(),
                        offered: n.number(),
                    });
                }
                (Some(_), None) => return Err(ReloadError::Dropped { issuer: *issuer }),
                (_, Some(n)) if !lists.contains(&(*issuer, n.number())) => {
                    lists.push((*issuer, n.number()));
                }
                _ => {}
            }
        }
        if let Err(e) = trust.validate(&self.me, now) {
            tracing::error!(error = %e, "this node's own certificate is not valid under the reloaded revocation list; the authority must reissue it");
        }
        directory.insert(self.me.subject(), self.me.clone());
        let trust = Arc::new(trust);
        self.metrics.set_directory(directory.values());
        self.metrics.set_revocations(&trust);
        let members = directory.len();
        self.trust.store(Arc::clone(&trust));
        self.directory.store(Arc::new(directory));

        let closed = self.metrics.close_links_where(|peer| {
            trust.validate(peer, now).err().map(|e| {
                format!("link closed: certificate no longer accepted after a revocation list reload: {e}")
            })
        });
        for peer in &closed {
            tracing::warn!(peer = %peer.subject().fingerprint(), name = peer.name(), "closing the link of a peer the reloaded revocation list revokes");
            let detail = format!(
                "{:#06x} live link closed on revocation list reload",
                liaison_proto::WireCode::CertificateRevoked as u16
            );
            if let Err(e) = self
                .store
                .record_refusal([0; 16], *peer.subject().as_bytes(), detail, now.0)
                .await
            {
                tracing::error!(error = %e, "cannot audit a link closed on reload");
            }
        }
        Ok(ReloadReport {
            revocation_lists: lists,
            members,
            closed,
        })
    }

    /// Modification time and size of every watched file (missing files count too).
    fn stamps(&self) -> Vec<(PathBuf, Option<(SystemTime, u64)>)> {
        let files = match Config::read(&self.file) {
            Ok(config) => config.watched_files(&self.file),
            Err(_) => Vec::new(),
        };
        std::iter::once(self.file.clone())
            .chain(files)
            .map(|p| {
                let stamp = std::fs::metadata(&p)
                    .ok()
                    .and_then(|m| Some((m.modified().ok()?, m.len())));
                (p, stamp)
            })
            .collect()
    }
}

/// Runs until `cancel`: reloads on SIGHUP, and every `check_every` (unless zero) when a watched
/// file changed.
pub async fn watch(reloader: Reloader, check_every: Duration, cancel: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};

    let mut hangup = match signal(SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP; reloads only by file check");
            None
        }
    };
    let mut stamps = reloader.stamps();
    loop {
        let why = tokio::select! {
            () = cancel.cancelled() => return,
            Some(()) = async {
                match hangup.as_mut() {
                    Some(h) => h.recv().await,
                    None => std::future::pending().await,
                }
            } => "SIGHUP",
            () = tokio::time::sleep(check_every), if !check_every.is_zero() => {
                if reloader.stamps() == stamps {
                    continue;
                }
                "a watched file changed"
            }
        };
        match reloader.reload().await {
            Ok(report) => {
                reloader.metrics.reloaded(true);
                tracing::info!(
                    trigger = why,
                    members = report.members,
                    revocation_lists = ?report
                        .revocation_lists
                        .iter()
                        .map(|(issuer, n)| format!("{}#{n}", issuer.fingerprint()))
                        .collect::<Vec<_>>(),
                    links_closed = report.closed.len(),
                    "revocation list and directory reloaded"
                );
            }
            Err(e) => {
                reloader.metrics.reloaded(false);
                tracing::error!(trigger = why, error = %e, "reload refused; keeping the current revocation list and directory");
            }
        }
        stamps = reloader.stamps();
    }
}
