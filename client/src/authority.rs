//! The federation authority: the offline tool that enrols members (`liaison authority …`).
//!
//! An authority directory holds (formats in `spec/client-storage.md` §3):
//!
//! * `authority.key`: the root signing key, sealed under a passphrase (kind `"authority"`);
//!   keep the directory on an offline machine;
//! * `authority.pub`: the trust-anchor file relays and officers load (the format of
//!   `liaison_node::config::format_authority_key`);
//! * `authority.redb`: what the authority has done — every issued certificate by serial, every
//!   revocation with its reason, every revocation list it signed, the next serial and list
//!   number. Serials and list numbers only ever increase.
//!
//! Commands: `init`, `sign REQUEST` (checks the request's proof of possession first, prints
//! the subject and its fingerprint; with `--expect-fingerprint` it refuses a key other than the
//! one the member read out over a trusted channel), `revoke SERIAL|CERT_FILE`, `crl` (a signed
//! revocation list with the next number), `inspect FILE` and `list`. Certificates, requests and lists are the binary
//! documents of `spec/protocol.md` §6–8, one per file.
//!
//! The library API ([`Authority`]) does the work; [`run`] is the CLI shell around it.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use liaison_crypto::sign::SigningKey;
use liaison_crypto::{IdentityId, Seed32, Suite};
use liaison_proto::certificate::{
    CertificateRequest, CertificateTerms, MAX_ADDRESS_LEN, MAX_CERTIFICATE_LEN, MAX_NAME_LEN,
    MemberCertificate, Role, issue,
};
use liaison_proto::codec::Reader;
use liaison_proto::revocation::{RevocationContents, RevocationList};
use liaison_proto::{Classification, ProtoError, UnixTime};
use rand_core::CryptoRng;
use redb::{
    Durability, ReadableDatabase as _, ReadableTable as _, ReadableTableMetadata as _,
    TableDefinition,
};
use zeroize::Zeroizing;

use crate::keystore::{self, KdfParams, KeystoreError};
use crate::passphrase::Passphrase;

/// File name of the sealed root key inside an authority directory.
pub const KEY_FILE: &str = "authority.key";
/// File name of the public trust-anchor file.
pub const PUBLIC_FILE: &str = "authority.pub";
/// File name of the state database.
pub const STATE_FILE: &str = "authority.redb";
/// The keystore kind of the root key.
pub const AUTHORITY_KIND: &str = "authority";
/// Longest certificate validity the tool issues: 10 years.
pub const MAX_VALID_DAYS: u32 = 3650;
/// Longest revocation-list validity: 90 days.
pub const MAX_CRL_VALID_DAYS: u32 = 90;
/// Backdating of `not_before`, for members whose clocks run a little behind.
pub const NOT_BEFORE_BACKDATE_SECS: u64 = 300;
/// Longest revocation reason, in bytes.
pub const MAX_REASON_LEN: usize = 256;
/// Largest request file read.
const MAX_REQUEST_LEN: u64 = 16 * 1024;

/// Exit code for bad input (malformed request or certificate, bad arguments, unknown serial).
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for keystore access failures (wrong passphrase, permissions, no passphrase).
pub const EXIT_KEYSTORE: u8 = 5;
/// Exit code for anything else (I/O, storage).
pub const EXIT_FAILURE: u8 = 1;

const CERTIFICATES: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("certificates");
const REVOKED_SERIALS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("revoked_serials");
const REVOKED_SUBJECTS: TableDefinition<'_, [u8; 32], &[u8]> =
    TableDefinition::new("revoked_subjects");
const CRLS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("revocation_lists");
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("meta");
const NEXT_SERIAL: &str = "next_serial";
const LAST_CRL: &str = "last_crl_number";
const KEY_FORMAT_VERSION: u8 = 1;

/// Errors of the authority tool. Messages name the file or value at fault, never a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorityError {
    /// The root keystore could not be opened or written.
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
    /// `init` found an existing authority.
    #[error("{dir}: an authority already exists here; refusing to overwrite it")]
    AlreadyInitialised {
        /// The directory.
        dir: PathBuf,
    },
    /// The directory holds no authority.
    #[error("{dir}: no authority here (run `liaison authority init --dir {dir}`)")]
    NotInitialised {
        /// The directory.
        dir: PathBuf,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The request file is not a certificate request.
    #[error("{path}: not a certificate request: {reason}")]
    BadRequest {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The request is not signed by the key it carries (proof of possession failed).
    #[error("{path}: the request's self-signature does not verify; it was altered or forged")]
    RequestSignature {
        /// The file.
        path: PathBuf,
    },
    /// The terms asked for are not allowed.
    #[error("{0}")]
    BadTerms(String),
    /// A certificate file could not be read as a member certificate.
    #[error("{path}: not a member certificate: {reason}")]
    BadCertificateFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A certificate presented for revocation was issued by another authority.
    #[error("certificate serial {serial} was issued by {issuer}, not by this authority")]
    NotIssuedHere {
        /// Its serial.
        serial: u64,
        /// Its issuer id.
        issuer: IdentityId,
    },
    /// The request's key is not the one the member said it would be.
    #[error(
        "the request's fingerprint is {actual}, not {expected}: do not sign; ask the member to \
         read the fingerprint again"
    )]
    FingerprintMismatch {
        /// The fingerprint given with `--expect-fingerprint`.
        expected: String,
        /// The request's fingerprint.
        actual: String,
    },
    /// A file given to `inspect` is none of the documents the authority deals with.
    #[error("{path}: not a certificate request, member certificate or revocation list")]
    UnknownDocument {
        /// The file.
        path: PathBuf,
    },
    /// No certificate with this serial was issued here.
    #[error("no certificate with serial {serial} was issued by this authority")]
    UnknownSerial {
        /// The serial asked for.
        serial: u64,
    },
    /// The state database failed.
    #[error("{path}: state database: {reason}")]
    Storage {
        /// The database file.
        path: PathBuf,
        /// The database error.
        reason: String,
    },
    /// The state database is inconsistent (edited or damaged).
    #[error("{path}: state database is inconsistent: {reason}")]
    CorruptState {
        /// The database file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Issuing a document failed.
    #[error("cannot issue: {0}")]
    Issue(ProtoError),
}

impl AuthorityError {
    /// The process exit code for this error ([`EXIT_BAD_INPUT`], [`EXIT_KEYSTORE`] or
    /// [`EXIT_FAILURE`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Keystore(KeystoreError::Io { .. }) => EXIT_FAILURE,
            Self::Keystore(_) => EXIT_KEYSTORE,
            Self::AlreadyInitialised { .. }
            | Self::NotInitialised { .. }
            | Self::BadRequest { .. }
            | Self::RequestSignature { .. }
            | Self::BadTerms(_)
            | Self::BadCertificateFile { .. }
            | Self::NotIssuedHere { .. }
            | Self::FingerprintMismatch { .. }
            | Self::UnknownDocument { .. }
            | Self::UnknownSerial { .. } => EXIT_BAD_INPUT,
            Self::Issue(ProtoError::BadSignature { .. }) => EXIT_BAD_INPUT,
            Self::Io { .. } | Self::Storage { .. } | Self::CorruptState { .. } | Self::Issue(_) => {
                EXIT_FAILURE
            }
        }
    }
}

mod cli;

pub use cli::{AuthorityCommand, Inspection, RoleArg, inspect, run};

/// What the authority decides when signing (the request supplies key, name, organisation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignTerms {
    /// Officer or relay.
    pub role: Role,
    /// Highest classification.
    pub clearance: Classification,
    /// Validity in days from now.
    pub valid_days: u32,
    /// Officers' home relay.
    pub home_relay: Option<IdentityId>,
    /// Relays' `host:port`.
    pub address: Option<String>,
}

impl SignTerms {
    /// Checks the role rules and bounds before anything is signed.
    pub fn check(&self) -> Result<(), AuthorityError> {
        if self.valid_days == 0 || self.valid_days > MAX_VALID_DAYS {
            return Err(AuthorityError::BadTerms(format!(
                "--valid-days {} outside 1..={MAX_VALID_DAYS}",
                self.valid_days
            )));
        }
        match (self.role, &self.home_relay, &self.address) {
            (Role::Officer, Some(_), None) => Ok(()),
            (Role::Officer, None, _) => Err(AuthorityError::BadTerms(
                "an officer certificate needs --home-relay (the relay's certificate or id)".into(),
            )),
            (Role::Officer, Some(_), Some(_)) => Err(AuthorityError::BadTerms(
                "--address is for relays; an officer has a --home-relay instead".into(),
            )),
            (Role::Relay, _, None) => Err(AuthorityError::BadTerms(
                "a relay certificate needs --address HOST:PORT".into(),
            )),
            (Role::Relay, Some(_), _) => Err(AuthorityError::BadTerms(
                "--home-relay is for officers; a relay has an --address instead".into(),
            )),
            (Role::Relay, None, Some(addr)) => check_address(addr),
        }
    }
}

/// What to revoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeTarget {
    /// One certificate.
    Serial(u64),
    /// Every certificate of a key.
    Subject(IdentityId),
}

/// Whether a revocation changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeOutcome {
    /// Newly revoked.
    Revoked,
    /// It was revoked before; nothing changed.
    AlreadyRevoked,
}

/// A revocation on record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// When it was recorded.
    pub at: UnixTime,
    /// Why.
    pub reason: String,
}

/// One issued certificate and its status, from [`Authority::list`].
#[derive(Debug, Clone)]
pub struct IssuedCertificate {
    /// The certificate.
    pub certificate: MemberCertificate,
    /// Set when its serial or its subject is revoked.
    pub revoked: Option<Revocation>,
}

/// An opened federation authority: root key and state.
pub struct Authority {
    dir: PathBuf,
    key: SigningKey,
    name: String,
    db: redb::Database,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("dir", &self.dir)
            .field("name", &self.name)
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

impl Authority {
    /// Creates an authority in `dir` (created 0700 if missing): root key of `suite`, sealed
    /// under `passphrase`; `authority.pub`; an empty state database.
    pub fn init(
        dir: &Path,
        name: &str,
        suite: Suite,
        passphrase: &Passphrase,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Self, AuthorityError> {
        Self::init_with_params(dir, name, suite, passphrase, KdfParams::from_env()?, rng)
    }

    /// [`Self::init`] with explicit KDF parameters for the root keystore (tests use
    /// [`KdfParams::TEST`]).
    pub fn init_with_params(
        dir: &Path,
        name: &str,
        suite: Suite,
        passphrase: &Passphrase,
        params: KdfParams,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Self, AuthorityError> {
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return Err(AuthorityError::BadTerms(format!(
                "--name must be 1..={MAX_NAME_LEN} bytes"
            )));
        }
        // `authority.key` is written last: it marks a complete authority. A state file without
        // it is what a crash during `init` leaves; it is reused only if nothing was recorded
        // in it (no serial or list number may ever be handed out twice).
        let key_path = dir.join(KEY_FILE);
        let db_path = dir.join(STATE_FILE);
        if key_path.exists() {
            return Err(AuthorityError::AlreadyInitialised {
                dir: dir.to_owned(),
            });
        }
        let io = |source| AuthorityError::Io {
            path: dir.to_owned(),
            source,
        };
        if !dir.exists() {
            fs::create_dir_all(dir).map_err(io)?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io)?;
        }
        let db = redb::Database::create(&db_path).st(&db_path)?;
        let key = SigningKey::generate(suite, rng);
        let this = Self {
            dir: dir.to_owned(),
            key,
            name: name.to_owned(),
            db,
        };
        let mut used = false;
        this.write(|txn| {
            used |= !txn.open_table(CERTIFICATES)?.is_empty()?;
            txn.open_table(REVOKED_SERIALS)?;
            txn.open_table(REVOKED_SUBJECTS)?;
            used |= !txn.open_table(CRLS)?.is_empty()?;
            let mut meta = txn.open_table(META)?;
            used |= meta.get(NEXT_SERIAL)?.is_some_and(|v| v.value() > 1);
            used |= meta.get(LAST_CRL)?.is_some_and(|v| v.value() > 0);
            if !used {
                meta.insert(NEXT_SERIAL, 1)?;
                meta.insert(LAST_CRL, 0)?;
            }
            Ok(())
        })?;
        if used {
            return Err(AuthorityError::AlreadyInitialised {
                dir: dir.to_owned(),
            });
        }
        let public = liaison_node::config::format_authority_key(this.key.verifying_key());
        keystore::write_atomic(&dir.join(PUBLIC_FILE), public.as_bytes(), 0o644)?;
        let mut plain = Zeroizing::new(Vec::with_capacity(2 + 32 + 2 + name.len()));
        plain.push(KEY_FORMAT_VERSION);
        plain.push(suite.id());
        plain.extend_from_slice(this.key.seed().expose_secret());
        plain.extend_from_slice(&(name.len() as u16).to_be_bytes()); // ok: ≤ MAX_NAME_LEN
        plain.extend_from_slice(name.as_bytes());
        keystore::write_sealed_with(&key_path, passphrase, AUTHORITY_KIND, &plain, params)?;
        Ok(this)
    }

    /// Fails with [`AuthorityError::NotInitialised`] unless `dir` holds an authority.
    pub fn require(dir: &Path) -> Result<(), AuthorityError> {
        if dir.join(KEY_FILE).exists() && dir.join(STATE_FILE).exists() {
            Ok(())
        } else {
            Err(AuthorityError::NotInitialised {
                dir: dir.to_owned(),
            })
        }
    }

    /// Opens the authority in `dir` with the root key's passphrase.
    pub fn open(dir: &Path, passphrase: &Passphrase) -> Result<Self, AuthorityError> {
        Self::require(dir)?;
        let key_path = dir.join(KEY_FILE);
        let plain = keystore::read_sealed(&key_path, passphrase, AUTHORITY_KIND)?;
        let corrupt = |reason: String| {
            AuthorityError::Keystore(KeystoreError::Corrupt {
                path: key_path.clone(),
                reason,
            })
        };
        let mut r = Reader::new(plain.expose_secret());
        let d = |e: liaison_proto::DecodeError| corrupt(e.to_string());
        let version = r.u8("format version").map_err(d)?;
        if version != KEY_FORMAT_VERSION {
            return Err(corrupt(format!(
                "authority key format {version} is not supported"
            )));
        }
        let suite =
            Suite::from_id(r.u8("suite").map_err(d)?).map_err(|e| corrupt(e.to_string()))?;
        let seed = Seed32::try_from_slice(r.take("seed", 32).map_err(d)?)
            .map_err(|e| corrupt(e.to_string()))?;
        let name = r.string_u16("name", MAX_NAME_LEN).map_err(d)?.to_owned();
        r.expect_end("authority key").map_err(d)?;
        let key = SigningKey::from_seed(suite, seed);
        let db_path = dir.join(STATE_FILE);
        let db = redb::Database::create(&db_path).st(&db_path)?;
        Ok(Self {
            dir: dir.to_owned(),
            key,
            name,
            db,
        })
    }

    /// The authority's id (the trust anchor's id).
    pub fn id(&self) -> IdentityId {
        IdentityId::of(self.key.verifying_key())
    }

    /// The authority's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The root key's public half (what `authority.pub` holds).
    pub fn verifying_key(&self) -> &liaison_crypto::sign::VerifyingKey {
        self.key.verifying_key()
    }

    /// Issues a certificate for `request` (whose proof of possession is checked) under
    /// `terms`, valid from `now` (backdated [`NOT_BEFORE_BACKDATE_SECS`]) for
    /// `terms.valid_days`, with the next serial; records it durably before returning.
    pub fn sign(
        &self,
        request: &CertificateRequest,
        terms: &SignTerms,
        now: UnixTime,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<MemberCertificate, AuthorityError> {
        terms.check()?;
        let db_path = self.dir.join(STATE_FILE);
        let txn = self.begin()?;
        let cert = (|| {
            let serial = {
                let meta = txn.open_table(META).st(&db_path)?;
                let got = meta.get(NEXT_SERIAL).st(&db_path)?;
                got.map(|g| g.value())
                    .ok_or_else(|| AuthorityError::CorruptState {
                        path: db_path.clone(),
                        reason: "next serial missing".into(),
                    })?
            };
            let cert_terms = CertificateTerms {
                role: terms.role,
                clearance: terms.clearance,
                home_relay: terms.home_relay,
                address: terms.address.clone(),
                not_before: now.minus_secs(NOT_BEFORE_BACKDATE_SECS),
                not_after: now.plus_secs(u64::from(terms.valid_days) * 86_400),
                serial,
            };
            let cert =
                issue(&self.key, request, &cert_terms, rng).map_err(AuthorityError::Issue)?;
            txn.open_table(CERTIFICATES)
                .st(&db_path)?
                .insert(serial, cert.raw())
                .st(&db_path)?;
            txn.open_table(META)
                .st(&db_path)?
                .insert(NEXT_SERIAL, serial + 1)
                .st(&db_path)?;
            Ok::<_, AuthorityError>(cert)
        })()?;
        txn.commit().st(&db_path)?;
        Ok(cert)
    }

    /// Interprets a `revoke` argument: a decimal serial, or a certificate file of this
    /// authority; with `subject`, a certificate file or a 64-hex-digit id whose key is revoked.
    pub fn parse_revoke_target(
        &self,
        target: &str,
        subject: bool,
    ) -> Result<RevokeTarget, AuthorityError> {
        if !subject {
            if let Ok(serial) = target.parse::<u64>() {
                return Ok(RevokeTarget::Serial(serial));
            }
        } else if let Ok(id) = target.parse::<IdentityId>() {
            return Ok(RevokeTarget::Subject(id));
        }
        let cert = read_certificate(Path::new(target))?;
        if cert.issuer() != self.id() {
            return Err(AuthorityError::NotIssuedHere {
                serial: cert.serial(),
                issuer: cert.issuer(),
            });
        }
        Ok(if subject {
            RevokeTarget::Subject(cert.subject())
        } else {
            RevokeTarget::Serial(cert.serial())
        })
    }

    /// Records a revocation durably. A serial must be one this authority issued.
    pub fn revoke(
        &self,
        target: &RevokeTarget,
        reason: &str,
        now: UnixTime,
    ) -> Result<RevokeOutcome, AuthorityError> {
        if reason.is_empty() || reason.len() > MAX_REASON_LEN {
            return Err(AuthorityError::BadTerms(format!(
                "--reason must be 1..={MAX_REASON_LEN} bytes"
            )));
        }
        let mut record = Vec::with_capacity(8 + reason.len());
        record.extend_from_slice(&now.0.to_be_bytes());
        record.extend_from_slice(reason.as_bytes());
        let db_path = self.dir.join(STATE_FILE);
        let txn = self.begin()?;
        let outcome = match target {
            RevokeTarget::Serial(serial) => {
                let issued = txn
                    .open_table(CERTIFICATES)
                    .st(&db_path)?
                    .get(*serial)
                    .st(&db_path)?
                    .is_some();
                if !issued {
                    return Err(AuthorityError::UnknownSerial { serial: *serial });
                }
                let mut t = txn.open_table(REVOKED_SERIALS).st(&db_path)?;
                if t.get(*serial).st(&db_path)?.is_some() {
                    RevokeOutcome::AlreadyRevoked
                } else {
                    t.insert(*serial, record.as_slice()).st(&db_path)?;
                    RevokeOutcome::Revoked
                }
            }
            RevokeTarget::Subject(id) => {
                let mut t = txn.open_table(REVOKED_SUBJECTS).st(&db_path)?;
                if t.get(*id.as_bytes()).st(&db_path)?.is_some() {
                    RevokeOutcome::AlreadyRevoked
                } else {
                    t.insert(*id.as_bytes(), record.as_slice()).st(&db_path)?;
                    RevokeOutcome::Revoked
                }
            }
        };
        txn.commit().st(&db_path)?;
        Ok(outcome)
    }

    /// Signs a revocation list of every revoked serial and subject, numbered one above the
    /// last list, current from `now` for `valid_days`; records it durably before returning.
    pub fn issue_crl(
        &self,
        valid_days: u32,
        now: UnixTime,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<RevocationList, AuthorityError> {
        if valid_days == 0 || valid_days > MAX_CRL_VALID_DAYS {
            return Err(AuthorityError::BadTerms(format!(
                "--valid-days {valid_days} outside 1..={MAX_CRL_VALID_DAYS} for a revocation list"
            )));
        }
        let db_path = self.dir.join(STATE_FILE);
        let txn = self.begin()?;
        let crl = {
            let last = txn
                .open_table(META)
                .st(&db_path)?
                .get(LAST_CRL)
                .st(&db_path)?
                .map(|g| g.value())
                .unwrap_or(0);
            let mut revoked_serials = Vec::new();
            for entry in txn
                .open_table(REVOKED_SERIALS)
                .st(&db_path)?
                .iter()
                .st(&db_path)?
            {
                revoked_serials.push(entry.st(&db_path)?.0.value());
            }
            let mut revoked_subjects = Vec::new();
            for entry in txn
                .open_table(REVOKED_SUBJECTS)
                .st(&db_path)?
                .iter()
                .st(&db_path)?
            {
                revoked_subjects.push(IdentityId::from_bytes(entry.st(&db_path)?.0.value()));
            }
            let contents = RevocationContents {
                number: last + 1,
                this_update: now,
                next_update: now.plus_secs(u64::from(valid_days) * 86_400),
                revoked_serials,
                revoked_subjects,
            };
            let crl =
                RevocationList::issue(&self.key, contents, rng).map_err(AuthorityError::Issue)?;
            txn.open_table(CRLS)
                .st(&db_path)?
                .insert(crl.number(), crl.raw())
                .st(&db_path)?;
            txn.open_table(META)
                .st(&db_path)?
                .insert(LAST_CRL, crl.number())
                .st(&db_path)?;
            crl
        };
        txn.commit().st(&db_path)?;
        Ok(crl)
    }

    /// Every certificate issued in `dir`, by serial, with its revocation status. Needs no
    /// passphrase (the state holds only public documents).
    pub fn list(dir: &Path) -> Result<Vec<IssuedCertificate>, AuthorityError> {
        if !dir.join(STATE_FILE).exists() {
            return Err(AuthorityError::NotInitialised {
                dir: dir.to_owned(),
            });
        }
        let db_path = dir.join(STATE_FILE);
        let db = redb::Database::create(&db_path).st(&db_path)?;
        issued_in(&db, &db_path)
    }

    /// Every certificate this authority issued, with its status (see [`Self::list`]).
    pub fn issued(&self) -> Result<Vec<IssuedCertificate>, AuthorityError> {
        issued_in(&self.db, &self.dir.join(STATE_FILE))
    }

    fn begin(&self) -> Result<redb::WriteTransaction, AuthorityError> {
        let db_path = self.dir.join(STATE_FILE);
        let mut txn = self.db.begin_write().st(&db_path)?;
        txn.set_durability(Durability::Immediate).st(&db_path)?;
        Ok(txn)
    }

    fn write(
        &self,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<(), redb::Error>,
    ) -> Result<(), AuthorityError> {
        let db_path = self.dir.join(STATE_FILE);
        let txn = self.begin()?;
        f(&txn).st(&db_path)?;
        txn.commit().st(&db_path)
    }
}

fn issued_in(
    db: &redb::Database,
    db_path: &Path,
) -> Result<Vec<IssuedCertificate>, AuthorityError> {
    let db_path = db_path.to_owned();
    let txn = db.begin_read().st(&db_path)?;
    let certs = txn.open_table(CERTIFICATES).st(&db_path)?;
    let serials = txn.open_table(REVOKED_SERIALS).st(&db_path)?;
    let subjects = txn.open_table(REVOKED_SUBJECTS).st(&db_path)?;
    let decode_revocation = |raw: &[u8]| -> Result<Revocation, AuthorityError> {
        let bad = || AuthorityError::CorruptState {
            path: db_path.clone(),
            reason: "revocation record shorter than 8 bytes".into(),
        };
        let (at, reason) = raw.split_at_checked(8).ok_or_else(bad)?;
        let at: [u8; 8] = at.try_into().map_err(|_| bad())?;
        Ok(Revocation {
            at: UnixTime(u64::from_be_bytes(at)),
            reason: String::from_utf8_lossy(reason).into_owned(),
        })
    };
    let mut out = Vec::new();
    for entry in certs.iter().st(&db_path)? {
        let (serial, raw) = entry.st(&db_path)?;
        let certificate =
            MemberCertificate::decode(raw.value()).map_err(|e| AuthorityError::CorruptState {
                path: db_path.clone(),
                reason: format!("certificate {}: {e}", serial.value()),
            })?;
        let revoked = match serials.get(serial.value()).st(&db_path)? {
            Some(r) => Some(decode_revocation(r.value())?),
            None => match subjects
                .get(*certificate.subject().as_bytes())
                .st(&db_path)?
            {
                Some(r) => Some(decode_revocation(r.value())?),
                None => None,
            },
        };
        out.push(IssuedCertificate {
            certificate,
            revoked,
        });
    }
    Ok(out)
}

/// Reads and checks a certificate request file (decoded and its proof of possession verified).
pub fn read_request(path: &Path) -> Result<CertificateRequest, AuthorityError> {
    let bytes = read_bounded(path, MAX_REQUEST_LEN)?;
    let req = CertificateRequest::decode(&bytes).map_err(|e| AuthorityError::BadRequest {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    req.verify().map_err(|_| AuthorityError::RequestSignature {
        path: path.to_owned(),
    })?;
    Ok(req)
}

/// Reads a member certificate file (decoded, not validated).
pub fn read_certificate(path: &Path) -> Result<MemberCertificate, AuthorityError> {
    let bytes = read_bounded(path, MAX_CERTIFICATE_LEN as u64)?;
    MemberCertificate::decode(&bytes).map_err(|e| AuthorityError::BadCertificateFile {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// Checks that `id` matches `expected`: its fingerprint or a prefix of its hex id of at least
/// 16 hex digits (64 bits), spaces and case ignored.
pub fn check_fingerprint(id: &IdentityId, expected: &str) -> Result<(), AuthorityError> {
    let given: String = expected
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let ok = given.len() >= 16
        && given.bytes().all(|b| b.is_ascii_hexdigit())
        && id.to_string().starts_with(&given);
    if ok {
        Ok(())
    } else {
        Err(AuthorityError::FingerprintMismatch {
            expected: expected.trim().to_string(),
            actual: id.fingerprint(),
        })
    }
}

/// The current time, as the protocol counts it.
pub fn now() -> UnixTime {
    UnixTime(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
}

fn check_address(addr: &str) -> Result<(), AuthorityError> {
    let bad = |why: &str| AuthorityError::BadTerms(format!("--address {addr:?}: {why}"));
    if addr.is_empty() || addr.len() > MAX_ADDRESS_LEN {
        return Err(bad("must be 1..=255 bytes"));
    }
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| bad("expected HOST:PORT"))?;
    if host.is_empty() {
        return Err(bad("empty host"));
    }
    match port.parse::<u16>() {
        Ok(p) if p != 0 => Ok(()),
        _ => Err(bad("port must be 1..=65535")),
    }
}

fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, AuthorityError> {
    use std::io::Read as _;
    let io = |source| AuthorityError::Io {
        path: path.to_owned(),
        source,
    };
    let file = fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > max {
        return Err(AuthorityError::BadCertificateFile {
            path: path.to_owned(),
            reason: format!("larger than {max} bytes"),
        });
    }
    Ok(bytes)
}

/// Maps any `redb` error to [`AuthorityError::Storage`] naming the database file.
trait StorageResult<T> {
    fn st(self, path: &Path) -> Result<T, AuthorityError>;
}

impl<T, E: Into<redb::Error>> StorageResult<T> for Result<T, E> {
    fn st(self, path: &Path) -> Result<T, AuthorityError> {
        self.map_err(|e| AuthorityError::Storage {
            path: path.to_owned(),
            reason: e.into().to_string(),
        })
    }
}
