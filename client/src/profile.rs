//! The officer's home directory (`--home DIR`, `$LIAISON_HOME`, default `~/.liaison`): where
//! `liaison init` puts the keystore and `liaison enroll --install` the certificates, and what
//! every other command reads to find the home relay and the federation's trust anchors.
//!
//! ```text
//! ~/.liaison/                      (mode 0700)
//!   profile.toml                   name, organisation, identity id, optional relay address
//!   keystore                       identity and prekey secrets, encrypted (keystore.rs)
//!   messages.redb                  received and sent messages, encrypted (store.rs)
//!   request.csr                    certificate request for the authority (`liaison enroll`)
//!   certificate.cert               own member certificate (copy; the keystore holds it too)
//!   relay.cert                     the home relay's member certificate (address and identity)
//!   trust/*.pub                    federation authority public keys (trust anchors)
//!   revocation.crl                 the authority's signed revocation list, if installed
//! ```
//!
//! Nothing here is secret: the profile holds public material only, so commands that need no
//! secret (`liaison verify` of an envelope not addressed to us, `liaison contacts`) do not ask
//! for the passphrase.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use liaison_crypto::IdentityId;
use liaison_crypto::sign::VerifyingKey;
use liaison_node::config::{format_authority_key, parse_authority_key};
use liaison_proto::UnixTime;
use liaison_proto::certificate::{MemberCertificate, Role};
use liaison_proto::revocation::RevocationList;
use liaison_proto::trust::TrustStore;
use serde::{Deserialize, Serialize};

use crate::session::ClientError;
use crate::supplied::SuppliedKeysConfig;

/// The profile file's name inside the home directory.
pub const PROFILE_FILE: &str = "profile.toml";
/// Environment variable naming the home directory.
pub const HOME_ENV: &str = "LIAISON_HOME";

/// `profile.toml`: what `liaison init` wrote, plus an optional relay address override.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ProfileConfig {
    /// The officer's name as it goes into the certificate request.
    pub name: String,
    /// The officer's organisation.
    pub organisation: String,
    /// The officer's identity id (64 hex digits), so offline commands know who "me" is.
    pub identity: String,
    /// `host:port` of the home relay, overriding the address in the relay's certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay_address: Option<String>,
    /// End-to-end supplied keys (QKD or pre-shared), `crate::supplied`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplied_keys: Option<SuppliedKeysConfig>,
}

/// An officer's home directory, opened.
#[derive(Debug, Clone)]
pub struct Profile {
    home: PathBuf,
    config: ProfileConfig,
}

impl Profile {
    /// The home directory to use: `explicit`, else `$LIAISON_HOME`, else `~/.liaison`.
    pub fn resolve_home(explicit: Option<&Path>) -> PathBuf {
        if let Some(p) = explicit {
            return p.to_owned();
        }
        if let Some(p) = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
            return PathBuf::from(p);
        }
        std::env::var_os("HOME")
            .map_or_else(|| PathBuf::from("."), PathBuf::from)
            .join(".liaison")
    }

    /// Creates the home directory (mode 0700) and writes `profile.toml`. Refuses to overwrite
    /// an existing profile.
    pub fn create(home: &Path, config: ProfileConfig) -> Result<Self, ClientError> {
        let file = home.join(PROFILE_FILE);
        if file.exists() {
            return Err(ClientError::AlreadyInitialised {
                home: home.to_owned(),
            });
        }
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(home)
            .map_err(|source| ClientError::io(home, source))?;
        let profile = Self {
            home: home.to_owned(),
            config,
        };
        profile.save()?;
        Ok(profile)
    }

    /// Opens the profile in `home`.
    pub fn open(home: &Path) -> Result<Self, ClientError> {
        let file = home.join(PROFILE_FILE);
        let text = match fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ClientError::NotInitialised {
                    home: home.to_owned(),
                });
            }
            Err(e) => return Err(ClientError::io(&file, e)),
        };
        let config: ProfileConfig = toml::from_str(&text).map_err(|e| ClientError::Profile {
            path: file.clone(),
            reason: e.to_string(),
        })?;
        config
            .identity
            .parse::<IdentityId>()
            .map_err(|_| ClientError::Profile {
                path: file,
                reason: "`identity` is not 64 hex digits".into(),
            })?;
        Ok(Self {
            home: home.to_owned(),
            config,
        })
    }

    /// Writes `profile.toml` (atomically: a temporary file renamed over it).
    pub fn save(&self) -> Result<(), ClientError> {
        let text = toml::to_string(&self.config).map_err(|e| ClientError::Profile {
            path: self.home.join(PROFILE_FILE),
            reason: e.to_string(),
        })?;
        write_file(&self.home.join(PROFILE_FILE), text.as_bytes(), 0o600)
    }

    /// The home directory.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The profile's settings.
    pub fn config(&self) -> &ProfileConfig {
        &self.config
    }

    /// Sets (or clears) the relay address override; call [`Self::save`] to keep it.
    pub fn set_relay_address(&mut self, address: Option<String>) {
        self.config.relay_address = address;
    }

    /// The officer's identity id.
    pub fn identity(&self) -> IdentityId {
        // ok: checked when the profile was opened or created from a real key.
        self.config
            .identity
            .parse()
            .unwrap_or(IdentityId::from_bytes([0; 32]))
    }

    /// The encrypted keystore file.
    pub fn keystore_path(&self) -> PathBuf {
        self.home.join("keystore")
    }

    /// The encrypted message store.
    pub fn store_path(&self) -> PathBuf {
        self.home.join("messages.redb")
    }

    /// The certificate request written by `liaison enroll`.
    pub fn request_path(&self) -> PathBuf {
        self.home.join("request.csr")
    }

    /// The officer's own certificate (a public copy).
    pub fn certificate_path(&self) -> PathBuf {
        self.home.join("certificate.cert")
    }

    /// The home relay's certificate.
    pub fn relay_certificate_path(&self) -> PathBuf {
        self.home.join("relay.cert")
    }

    /// Directory of trust anchors.
    pub fn trust_dir(&self) -> PathBuf {
        self.home.join("trust")
    }

    /// The installed revocation list.
    pub fn crl_path(&self) -> PathBuf {
        self.home.join("revocation.crl")
    }

    /// Whether `liaison enroll --install` has run (certificate, relay and trust present).
    pub fn is_enrolled(&self) -> bool {
        self.certificate_path().exists()
            && self.relay_certificate_path().exists()
            && self.trust_dir().is_dir()
    }

    /// The trust anchors installed in `trust/`.
    pub fn trust_anchors(&self) -> Result<Vec<VerifyingKey>, ClientError> {
        let dir = self.trust_dir();
        let listing = match fs::read_dir(&dir) {
            Ok(l) => l,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ClientError::NotEnrolled {
                    home: self.home.clone(),
                });
            }
            Err(e) => return Err(ClientError::io(&dir, e)),
        };
        let mut files: Vec<PathBuf> = listing
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "pub"))
            .collect();
        files.sort();
        let mut anchors = Vec::new();
        for path in files {
            let text = read_bounded(&path, 64 * 1024)?;
            let text = String::from_utf8(text).map_err(|_| ClientError::Profile {
                path: path.clone(),
                reason: "not a text file".into(),
            })?;
            let key = parse_authority_key(&text)
                .map_err(|reason| ClientError::Profile { path, reason })?;
            anchors.push(key);
        }
        if anchors.is_empty() {
            return Err(ClientError::NotEnrolled {
                home: self.home.clone(),
            });
        }
        Ok(anchors)
    }

    /// The trust store: the anchors and, when installed, the revocation list (checked at `now`).
    pub fn trust_store(&self, now: UnixTime) -> Result<TrustStore, ClientError> {
        let mut trust = TrustStore::new(self.trust_anchors()?);
        let crl = self.crl_path();
        if crl.exists() {
            let bytes = read_bounded(&crl, MAX_CRL_FILE)?;
            let list = RevocationList::decode(&bytes).map_err(|e| ClientError::Profile {
                path: crl.clone(),
                reason: e.to_string(),
            })?;
            trust
                .install_revocations(list, now)
                .map_err(|e| ClientError::Profile {
                    path: crl,
                    reason: e.to_string(),
                })?;
        }
        Ok(trust)
    }

    /// The officer's own certificate.
    pub fn certificate(&self) -> Result<MemberCertificate, ClientError> {
        self.read_certificate(&self.certificate_path())
    }

    /// The home relay's certificate.
    pub fn relay_certificate(&self) -> Result<MemberCertificate, ClientError> {
        self.read_certificate(&self.relay_certificate_path())
    }

    fn read_certificate(&self, path: &Path) -> Result<MemberCertificate, ClientError> {
        if !path.exists() {
            return Err(ClientError::NotEnrolled {
                home: self.home.clone(),
            });
        }
        let bytes = read_bounded(path, liaison_proto::certificate::MAX_CERTIFICATE_LEN)?;
        MemberCertificate::decode(&bytes).map_err(|e| ClientError::Profile {
            path: path.to_owned(),
            reason: e.to_string(),
        })
    }

    /// Where to dial the home relay: the override in `profile.toml`, else the address in the
    /// relay's certificate.
    pub fn relay_address(&self) -> Result<String, ClientError> {
        if let Some(a) = &self.config.relay_address {
            return Ok(a.clone());
        }
        let relay = self.relay_certificate()?;
        relay
            .address()
            .map(str::to_owned)
            .ok_or_else(|| ClientError::Profile {
                path: self.relay_certificate_path(),
                reason: "the relay certificate names no address; set relay_address in profile.toml or pass --relay-address".into(),
            })
    }

    /// Installs the enrolment material after checking it fits together: `certificate` is an
    /// officer certificate for this profile's identity, valid under `anchors` (and `crl`) at
    /// `now`, whose home relay is `relay`, itself a valid relay certificate.
    pub fn install(
        &self,
        certificate: &MemberCertificate,
        relay: &MemberCertificate,
        anchors: &[VerifyingKey],
        crl: Option<&RevocationList>,
        now: UnixTime,
    ) -> Result<(), ClientError> {
        let mut trust = TrustStore::new(anchors.to_vec());
        if let Some(list) = crl {
            trust
                .install_revocations(list.clone(), now)
                .map_err(|e| ClientError::BadInput(format!("revocation list: {e}")))?;
        }
        if certificate.subject() != self.identity() {
            return Err(ClientError::BadInput(format!(
                "the certificate is for {}, not for this officer ({})",
                certificate.subject().fingerprint(),
                self.identity().fingerprint()
            )));
        }
        trust
            .validate_role(certificate, Role::Officer, now)
            .map_err(|e| ClientError::BadInput(format!("certificate: {e}")))?;
        trust
            .validate_role(relay, Role::Relay, now)
            .map_err(|e| ClientError::BadInput(format!("relay certificate: {e}")))?;
        if certificate.home_relay() != Some(relay.subject()) {
            return Err(ClientError::BadInput(format!(
                "the certificate names home relay {}, but the relay certificate is {} ({})",
                certificate
                    .home_relay()
                    .map_or_else(|| "none".to_owned(), |h| h.fingerprint()),
                relay.name(),
                relay.subject().fingerprint()
            )));
        }
        let dir = self.trust_dir();
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|source| ClientError::io(&dir, source))?;
        for key in anchors {
            let id = IdentityId::of(key);
            write_file(
                &dir.join(format!("{}.pub", &id.to_string()[..16])),
                format_authority_key(key).as_bytes(),
                0o644,
            )?;
        }
        if let Some(list) = crl {
            write_file(&self.crl_path(), list.raw(), 0o644)?;
        }
        write_file(&self.relay_certificate_path(), relay.raw(), 0o644)?;
        write_file(&self.certificate_path(), certificate.raw(), 0o644)?;
        Ok(())
    }

    /// Replaces the installed revocation list (after checking it under the trust anchors).
    pub fn install_crl(&self, list: &RevocationList, now: UnixTime) -> Result<(), ClientError> {
        let mut trust = TrustStore::new(self.trust_anchors()?);
        trust
            .install_revocations(list.clone(), now)
            .map_err(|e| ClientError::BadInput(format!("revocation list: {e}")))?;
        write_file(&self.crl_path(), list.raw(), 0o644)
    }
}

/// Largest revocation list file read.
const MAX_CRL_FILE: usize = 16 * 1024 * 1024;

/// Reads `path`, refusing files larger than `max` bytes before reading them.
pub fn read_bounded(path: &Path, max: usize) -> Result<Vec<u8>, ClientError> {
    let meta = fs::metadata(path).map_err(|e| ClientError::Unreadable {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    if meta.len() > max as u64 {
        return Err(ClientError::Unreadable {
            path: path.to_owned(),
            reason: format!("{} bytes is more than the {max} allowed", meta.len()),
        });
    }
    fs::read(path).map_err(|e| ClientError::Unreadable {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// Writes `bytes` to `path` through a temporary file, fsync'd and renamed, with `mode`.
pub fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), ClientError> {
    let tmp = path.with_extension("tmp");
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(|e| ClientError::io(&tmp, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| ClientError::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| ClientError::io(path, e))
}

#[cfg(test)]
mod tests {
    use liaison_crypto::Suite;
    use liaison_crypto::rng::os_rng;
    use liaison_crypto::sign::SigningKey;
    use liaison_proto::Classification;
    use liaison_proto::certificate::{self, CertificateRequest, CertificateTerms};

    use super::*;

    fn config(id: IdentityId) -> ProfileConfig {
        ProfileConfig {
            name: "Ana".into(),
            organisation: "CERT-EU".into(),
            identity: id.to_string(),
            relay_address: None,
            supplied_keys: None,
        }
    }

    #[test]
    fn create_refuses_to_overwrite_and_open_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("h");
        let id = IdentityId::from_bytes([7; 32]);
        let p = Profile::create(&home, config(id)).unwrap();
        assert_eq!(p.identity(), id);
        assert!(matches!(
            Profile::create(&home, config(id)),
            Err(ClientError::AlreadyInitialised { .. })
        ));
        let q = Profile::open(&home).unwrap();
        assert_eq!(q.config(), p.config());
        assert!(!q.is_enrolled());
        assert!(matches!(
            Profile::open(&dir.path().join("nothing")),
            Err(ClientError::NotInitialised { .. })
        ));
    }

    #[test]
    fn install_checks_that_the_certificate_is_ours_and_homed_at_the_relay() {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = os_rng();
        let authority = SigningKey::generate(Suite::Lq2, &mut rng);
        let me = SigningKey::generate(Suite::Lq2, &mut rng);
        let relay_key = SigningKey::generate(Suite::Lq2, &mut rng);
        let now = UnixTime(1_800_000_000);
        let terms = |role, home| CertificateTerms {
            role,
            clearance: Classification::ConfidentielUe,
            home_relay: home,
            address: (role == Role::Relay).then(|| "127.0.0.1:7443".to_owned()),
            not_before: now.minus_secs(10),
            not_after: now.plus_secs(1000),
            serial: 1,
        };
        let relay_req = CertificateRequest::new(&relay_key, "relay", "EU", &mut rng).unwrap();
        let relay = certificate::issue(&authority, &relay_req, &terms(Role::Relay, None), &mut rng)
            .unwrap();
        let req = CertificateRequest::new(&me, "Ana", "CERT-EU", &mut rng).unwrap();
        let cert = certificate::issue(
            &authority,
            &req,
            &terms(Role::Officer, Some(relay.subject())),
            &mut rng,
        )
        .unwrap();
        let p = Profile::create(
            &dir.path().join("h"),
            config(IdentityId::of(me.verifying_key())),
        )
        .unwrap();
        let anchors = [authority.verifying_key().clone()];
        // The relay certificate in the place of ours: refused.
        assert!(matches!(
            p.install(&relay, &relay, &anchors, None, now),
            Err(ClientError::BadInput(_))
        ));
        p.install(&cert, &relay, &anchors, None, now).unwrap();
        assert!(p.is_enrolled());
        assert_eq!(p.relay_address().unwrap(), "127.0.0.1:7443");
        assert_eq!(p.certificate().unwrap(), cert);
        p.trust_store(now)
            .unwrap()
            .validate_role(&cert, Role::Officer, now)
            .unwrap();
    }
}
