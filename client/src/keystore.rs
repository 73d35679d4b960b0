//! Secrets at rest: a small versioned container sealed under a passphrase (Argon2id →
//! XChaCha20-Poly1305), and the officer keystore kept in one (identity key, message-store key,
//! prekey secrets, the officer's certificate).
//!
//! The byte layout is normative in `spec/client-storage.md` §1–2. In short:
//!
//! ```text
//! "LIAISONK" || version 0x01 || be8 kind_len || kind || kdf 0x01 (Argon2id v1.3)
//!   || be32 m_cost_kib || be32 t_cost || be32 p_cost || be8 salt_len || salt || nonce (24)
//!   || be32 ct_len || XChaCha20-Poly1305(key = Argon2id(passphrase, salt), nonce,
//!                                         ad = every byte before ct_len, plaintext)
//! ```
//!
//! The header is the AEAD's associated data, so a changed parameter, kind or salt fails
//! authentication like a changed ciphertext does. Every length is bounded before use, and the
//! KDF parameters read from a file are bounded too (a file cannot make us allocate 64 GiB).
//! Files are written 0600 through a temporary file, `fsync` and `rename`, so a crash leaves
//! either the old or the new keystore, never half of one; a file group or others can read is
//! refused, as OpenSSH does.
//!
//! Argon2id costs 64 MiB and 3 passes by default ([`KdfParams::DEFAULT`]). Setting
//! `LIAISON_KDF_PROFILE=test` selects [`KdfParams::TEST`] (256 KiB, 1 pass) so test suites stay
//! fast: **never use it in production** — it makes a stolen keystore cheap to brute-force. The
//! header records the parameters actually used, so files written either way open either way.

use std::fs;
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use liaison_crypto::aead::{TAG_LEN, XNONCE_LEN, open_x, seal_x};
use liaison_crypto::kem::KemSecretKey;
use liaison_crypto::sign::SigningKey;
use liaison_crypto::{IdentityId, SecretBytes, Seed32, Suite, SymmetricKey};
use liaison_proto::UnixTime;
use liaison_proto::certificate::{MAX_CERTIFICATE_LEN, MemberCertificate};
use liaison_proto::codec::Reader;
use liaison_proto::prekey::{PREKEY_LIFETIME_SECS, PREKEY_ROTATION_SECS, PrekeyId, SignedPrekey};
use rand_core::{CryptoRng, Rng as _};
use zeroize::Zeroizing;

/// First bytes of every sealed container.
pub const MAGIC: [u8; 8] = *b"LIAISONK";
/// The container version this code writes and reads.
pub const CONTAINER_VERSION: u8 = 1;
/// KDF id of Argon2id version 1.3 (0x13).
pub const KDF_ARGON2ID: u8 = 1;
/// Longest `kind` label, in bytes.
pub const MAX_KIND_LEN: usize = 32;
/// Bytes of salt written.
pub const SALT_LEN: usize = 32;
/// Shortest and longest salt accepted when reading.
pub const SALT_LEN_RANGE: (usize, usize) = (16, 64);
/// Largest plaintext a container holds (a keystore is a few KiB; this bounds reads).
pub const MAX_SEALED_PLAINTEXT: usize = 1024 * 1024;
/// Largest Argon2 memory cost accepted from a file: 1 GiB (in KiB).
pub const MAX_M_COST_KIB: u32 = 1024 * 1024;
/// Largest Argon2 pass count accepted from a file.
pub const MAX_T_COST: u32 = 32;
/// Largest Argon2 lane count accepted from a file.
pub const MAX_P_COST: u32 = 16;
/// The environment variable selecting the KDF profile for new files (`default` or `test`).
pub const KDF_PROFILE_ENV: &str = "LIAISON_KDF_PROFILE";
/// The `kind` of an officer keystore container.
pub const OFFICER_KIND: &str = "officer";
/// Most prekeys (current plus not yet deletable) an officer keystore keeps.
pub const MAX_STORED_PREKEYS: usize = 64;
/// Longest signed prekey stored.
const MAX_SIGNED_PREKEY_LEN: usize = 8 * 1024;
/// Version of the officer keystore plaintext layout.
const OFFICER_FORMAT_VERSION: u8 = 1;

/// Errors reading or writing sealed files. Messages name the file and never carry secrets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeystoreError {
    /// Authentication failed: wrong passphrase, or the file was modified.
    #[error("{path}: wrong passphrase (or the file was modified)")]
    WrongPassphrase {
        /// The file.
        path: PathBuf,
    },
    /// The file is not a well-formed container, or its contents are inconsistent.
    #[error("{path}: corrupt keystore: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The file holds a different kind of secret than the caller asked for.
    #[error("{path}: holds a {found:?} keystore, expected {expected:?}")]
    WrongKind {
        /// The file.
        path: PathBuf,
        /// What the caller asked for.
        expected: String,
        /// What the header says.
        found: String,
    },
    /// Group or others may access the file.
    #[error("{path}: permissions {mode:o} let others read it; run `chmod 600 {path}`")]
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The container version is not one this program reads.
    #[error("{path}: keystore version {version} is not supported (this program reads 1)")]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version byte found.
        version: u8,
    },
    /// Refusing to overwrite an existing keystore.
    #[error("{path}: already exists; refusing to overwrite a keystore")]
    AlreadyExists {
        /// The file.
        path: PathBuf,
    },
    /// No passphrase could be obtained (no terminal, missing variable, unreadable file, …).
    #[error("{reason}")]
    PassphraseUnavailable {
        /// What went wrong, naming the source.
        reason: String,
    },
    /// `LIAISON_KDF_PROFILE` holds an unknown value.
    #[error("{KDF_PROFILE_ENV}={value:?} is not a KDF profile (use `default` or `test`)")]
    BadKdfProfile {
        /// The value found.
        value: String,
    },
    /// A certificate offered for this keystore certifies another key.
    #[error("certificate for {certificate} does not certify this keystore's identity {identity}")]
    CertificateMismatch {
        /// The keystore's identity id.
        identity: IdentityId,
        /// The certificate's subject id.
        certificate: IdentityId,
    },
    /// What the caller asked to seal is not allowed (bad kind label, too large).
    #[error("{path}: cannot write keystore: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A cryptographic operation failed (signing a new prekey).
    #[error("cannot create a prekey: {0}")]
    Prekey(liaison_proto::ProtoError),
}

/// Argon2id cost parameters, as recorded in a container's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Passes over memory.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl KdfParams {
    /// The production default: 64 MiB, 3 passes, 1 lane (RFC 9106 §7.4's second
    /// recommendation, with more passes).
    pub const DEFAULT: Self = Self {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        p_cost: 1,
    };

    /// Cheap parameters for test suites only (`LIAISON_KDF_PROFILE=test`): 256 KiB, 1 pass.
    /// Unsafe for real keystores.
    pub const TEST: Self = Self {
        m_cost_kib: 256,
        t_cost: 1,
        p_cost: 1,
    };

    /// The profile `LIAISON_KDF_PROFILE` selects: unset, empty or `default` → [`Self::DEFAULT`],
    /// `test` → [`Self::TEST`]; anything else is an error (a typo must not silently weaken or
    /// strengthen anything).
    pub fn from_env() -> Result<Self, KeystoreError> {
        match std::env::var(KDF_PROFILE_ENV) {
            Err(_) => Ok(Self::DEFAULT),
            Ok(v) if v.is_empty() || v == "default" => Ok(Self::DEFAULT),
            Ok(v) if v == "test" => Ok(Self::TEST),
            Ok(v) => Err(KeystoreError::BadKdfProfile {
                value: v.chars().take(32).collect(),
            }),
        }
    }

    fn check(&self) -> Result<argon2::Params, String> {
        if self.m_cost_kib > MAX_M_COST_KIB {
            return Err(format!(
                "Argon2 memory {} KiB exceeds the limit {MAX_M_COST_KIB} KiB",
                self.m_cost_kib
            ));
        }
        if self.t_cost == 0 || self.t_cost > MAX_T_COST {
            return Err(format!(
                "Argon2 passes {} outside 1..={MAX_T_COST}",
                self.t_cost
            ));
        }
        if self.p_cost == 0 || self.p_cost > MAX_P_COST {
            return Err(format!(
                "Argon2 lanes {} outside 1..={MAX_P_COST}",
                self.p_cost
            ));
        }
        argon2::Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32))
            .map_err(|e| format!("Argon2 parameters refused: {e}"))
    }
}

/// Seals `plaintext` under `passphrase` into `path` (mode 0600, atomic replace), with the KDF
/// profile from `LIAISON_KDF_PROFILE`. `kind` names what the file holds (`"officer"`,
/// `"authority"`); [`read_sealed`] checks it.
pub fn write_sealed(
    path: &Path,
    passphrase: &crate::passphrase::Passphrase,
    kind: &str,
    plaintext: &[u8],
) -> Result<(), KeystoreError> {
    write_sealed_with(path, passphrase, kind, plaintext, KdfParams::from_env()?)
}

/// [`write_sealed`] with explicit KDF parameters.
pub fn write_sealed_with(
    path: &Path,
    passphrase: &crate::passphrase::Passphrase,
    kind: &str,
    plaintext: &[u8],
    params: KdfParams,
) -> Result<(), KeystoreError> {
    let invalid = |reason: String| KeystoreError::Invalid {
        path: path.to_owned(),
        reason,
    };
    check_kind(kind).map_err(invalid)?;
    if plaintext.len() > MAX_SEALED_PLAINTEXT {
        return Err(invalid(format!(
            "{} bytes exceed the keystore limit of {MAX_SEALED_PLAINTEXT}",
            plaintext.len()
        )));
    }
    let mut rng = liaison_crypto::rng::os_rng();
    let mut salt = [0u8; SALT_LEN];
    rng.fill_bytes(&mut salt);
    let mut nonce = [0u8; XNONCE_LEN];
    rng.fill_bytes(&mut nonce);

    let mut header = Vec::with_capacity(64 + kind.len() + SALT_LEN);
    header.extend_from_slice(&MAGIC);
    header.push(CONTAINER_VERSION);
    header.push(kind.len() as u8); // ok: check_kind bounds it to MAX_KIND_LEN
    header.extend_from_slice(kind.as_bytes());
    header.push(KDF_ARGON2ID);
    header.extend_from_slice(&params.m_cost_kib.to_be_bytes());
    header.extend_from_slice(&params.t_cost.to_be_bytes());
    header.extend_from_slice(&params.p_cost.to_be_bytes());
    header.push(SALT_LEN as u8);
    header.extend_from_slice(&salt);
    header.extend_from_slice(&nonce);

    let key = derive_key(passphrase, &salt, params).map_err(invalid)?;
    let ciphertext = seal_x(&key, &nonce, &header, plaintext);
    let mut file = header;
    file.extend_from_slice(&(ciphertext.len() as u32).to_be_bytes()); // ok: ≤ 1 MiB + tag
    file.extend_from_slice(&ciphertext);
    write_atomic(path, &file, 0o600)
}

/// Opens the container at `path` with `passphrase`, checking that it holds `kind`.
pub fn read_sealed(
    path: &Path,
    passphrase: &crate::passphrase::Passphrase,
    kind: &str,
) -> Result<SecretBytes, KeystoreError> {
    let bytes = read_private_file(path, (MAX_SEALED_PLAINTEXT + 512) as u64)?;
    let corrupt = |reason: String| KeystoreError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    let mut r = Reader::new(&bytes);
    let magic: [u8; 8] = r
        .array("magic")
        .map_err(|_| corrupt("too short to be a keystore".into()))?;
    if magic != MAGIC {
        return Err(corrupt("not a Liaison keystore (bad magic)".into()));
    }
    let version = r.u8("version").map_err(|e| corrupt(e.to_string()))?;
    if version != CONTAINER_VERSION {
        return Err(KeystoreError::UnsupportedVersion {
            path: path.to_owned(),
            version,
        });
    }
    let d = |e: liaison_proto::DecodeError| corrupt(e.to_string());
    let kind_len = usize::from(r.u8("kind length").map_err(d)?);
    if kind_len == 0 || kind_len > MAX_KIND_LEN {
        return Err(corrupt(format!(
            "kind length {kind_len} outside 1..={MAX_KIND_LEN}"
        )));
    }
    let found = r.take("kind", kind_len).map_err(d)?;
    let found = String::from_utf8_lossy(found).into_owned();
    if found != kind {
        return Err(KeystoreError::WrongKind {
            path: path.to_owned(),
            expected: kind.to_owned(),
            found,
        });
    }
    let kdf = r.u8("kdf").map_err(d)?;
    if kdf != KDF_ARGON2ID {
        return Err(corrupt(format!("unknown KDF id {kdf}")));
    }
    let params = KdfParams {
        m_cost_kib: r.u32("m_cost").map_err(d)?,
        t_cost: r.u32("t_cost").map_err(d)?,
        p_cost: r.u32("p_cost").map_err(d)?,
    };
    let salt_len = usize::from(r.u8("salt length").map_err(d)?);
    if salt_len < SALT_LEN_RANGE.0 || salt_len > SALT_LEN_RANGE.1 {
        return Err(corrupt(format!(
            "salt length {salt_len} outside {}..={}",
            SALT_LEN_RANGE.0, SALT_LEN_RANGE.1
        )));
    }
    let salt = r.take("salt", salt_len).map_err(d)?;
    let nonce: [u8; XNONCE_LEN] = r.array("nonce").map_err(d)?;
    let header_len = r.position();
    let ciphertext = r
        .bytes_u32("ciphertext", MAX_SEALED_PLAINTEXT + TAG_LEN)
        .map_err(d)?;
    r.expect_end("keystore").map_err(d)?;
    if ciphertext.len() < TAG_LEN {
        return Err(corrupt("ciphertext shorter than its tag".into()));
    }
    let key = derive_key(passphrase, salt, params).map_err(corrupt)?;
    let plaintext = open_x(&key, &nonce, &bytes[..header_len], ciphertext).map_err(|_| {
        KeystoreError::WrongPassphrase {
            path: path.to_owned(),
        }
    })?;
    Ok(SecretBytes::new(plaintext))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory (created with
/// `mode`), `fsync`, `rename` over `path`, `fsync` of the directory.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeystoreError> {
    let io = |source| KeystoreError::Io {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io(std::io::Error::other("not a file path")))?;
    let mut tag = [0u8; 8];
    liaison_crypto::rng::os_rng().fill_bytes(&mut tag);
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        hex::encode(tag)
    ));
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        fs::File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// Reads a file that must not be accessible to group or others, of at most `max` bytes.
pub(crate) fn read_private_file(path: &Path, max: u64) -> Result<Vec<u8>, KeystoreError> {
    let io = |source| KeystoreError::Io {
        path: path.to_owned(),
        source,
    };
    let file = fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeystoreError::InsecurePermissions {
            path: path.to_owned(),
            mode,
        });
    }
    if meta.len() > max {
        return Err(KeystoreError::Corrupt {
            path: path.to_owned(),
            reason: format!(
                "{} bytes is larger than any keystore (limit {max})",
                meta.len()
            ),
        });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize); // ok: bounded by `max` above
    file.take(max).read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}

fn check_kind(kind: &str) -> Result<(), String> {
    let ok = !kind.is_empty()
        && kind.len() <= MAX_KIND_LEN
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "kind {kind:?} must be 1..={MAX_KIND_LEN} of [a-z0-9-]"
        ))
    }
}

fn derive_key(
    passphrase: &crate::passphrase::Passphrase,
    salt: &[u8],
    params: KdfParams,
) -> Result<SymmetricKey, String> {
    let argon_params = params.check()?;
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon_params,
    );
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.expose_secret().as_bytes(), salt, &mut out[..])
        .map_err(|e| format!("Argon2id failed: {e}"))?;
    Ok(SymmetricKey::from_bytes(*out))
}

/// One prekey the officer published, with its secret.
struct PrekeyEntry {
    signed: SignedPrekey,
    secret: KemSecretKey,
}

/// The officer's secrets, kept in a sealed container of kind [`OFFICER_KIND`].
///
/// ```no_run
/// use liaison_client::keystore::OfficerKeystore;
/// use liaison_client::passphrase::Passphrase;
/// use liaison_crypto::Suite;
///
/// let pass = Passphrase::new("a long passphrase".into());
/// let path = std::path::Path::new("officer.keystore");
/// let mut rng = liaison_crypto::rng::os_rng();
/// let ks = OfficerKeystore::create(path, &pass, Suite::Lq2, &mut rng)?;
/// println!("identity {}", ks.identity_id().fingerprint());
/// # Ok::<(), liaison_client::keystore::KeystoreError>(())
/// ```
pub struct OfficerKeystore {
    identity: SigningKey,
    store_key: SymmetricKey,
    certificate: Option<MemberCertificate>,
    /// Oldest first.
    prekeys: Vec<PrekeyEntry>,
    /// KDF parameters for [`Self::save`]; `None`: the `LIAISON_KDF_PROFILE` profile.
    kdf: Option<KdfParams>,
}

impl std::fmt::Debug for OfficerKeystore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfficerKeystore")
            .field("identity", &self.identity_id())
            .field("suite", &self.identity.suite())
            .field(
                "certificate",
                &self.certificate.as_ref().map(|c| c.serial()),
            )
            .field("prekeys", &self.prekeys.len())
            .field("secrets", &"<SECRET>")
            .finish()
    }
}

impl OfficerKeystore {
    /// Creates a new identity of `suite` and a random store key, and writes them to `path`
    /// (which must not exist).
    pub fn create(
        path: &Path,
        passphrase: &crate::passphrase::Passphrase,
        suite: Suite,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Self, KeystoreError> {
        Self::create_inner(path, passphrase, suite, None, rng)
    }

    /// [`Self::create`] with explicit KDF parameters, kept for later [`Self::save`]s (tests
    /// use [`KdfParams::TEST`] without touching the environment).
    pub fn create_with_params(
        path: &Path,
        passphrase: &crate::passphrase::Passphrase,
        suite: Suite,
        params: KdfParams,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Self, KeystoreError> {
        Self::create_inner(path, passphrase, suite, Some(params), rng)
    }

    fn create_inner(
        path: &Path,
        passphrase: &crate::passphrase::Passphrase,
        suite: Suite,
        kdf: Option<KdfParams>,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Self, KeystoreError> {
        if path.exists() {
            return Err(KeystoreError::AlreadyExists {
                path: path.to_owned(),
            });
        }
        let this = Self {
            identity: SigningKey::generate(suite, rng),
            store_key: SymmetricKey::random(rng),
            certificate: None,
            prekeys: Vec::new(),
            kdf,
        };
        this.save(path, passphrase)?;
        Ok(this)
    }

    /// Opens the keystore at `path`.
    pub fn open(
        path: &Path,
        passphrase: &crate::passphrase::Passphrase,
    ) -> Result<Self, KeystoreError> {
        let plaintext = read_sealed(path, passphrase, OFFICER_KIND)?;
        Self::decode(plaintext.expose_secret()).map_err(|reason| KeystoreError::Corrupt {
            path: path.to_owned(),
            reason,
        })
    }

    /// Writes the keystore to `path` (atomic replace, 0600).
    pub fn save(
        &self,
        path: &Path,
        passphrase: &crate::passphrase::Passphrase,
    ) -> Result<(), KeystoreError> {
        let plaintext = self.encode();
        let params = match self.kdf {
            Some(p) => p,
            None => KdfParams::from_env()?,
        };
        write_sealed_with(path, passphrase, OFFICER_KIND, &plaintext, params)
    }

    /// Uses `params` for later [`Self::save`]s instead of the `LIAISON_KDF_PROFILE` profile.
    pub fn set_kdf_params(&mut self, params: KdfParams) {
        self.kdf = Some(params);
    }

    /// The officer's composite identity key.
    pub fn identity(&self) -> &SigningKey {
        &self.identity
    }

    /// The id of [`Self::identity`].
    pub fn identity_id(&self) -> IdentityId {
        IdentityId::of(self.identity.verifying_key())
    }

    /// The key that encrypts the local message store.
    pub fn store_key(&self) -> &SymmetricKey {
        &self.store_key
    }

    /// The officer's certificate, once enrolled.
    pub fn certificate(&self) -> Option<&MemberCertificate> {
        self.certificate.as_ref()
    }

    /// Stores the officer's certificate after checking it certifies this identity key (its
    /// authority signature is the caller's business: validate it against the trust store).
    pub fn set_certificate(&mut self, cert: MemberCertificate) -> Result<(), KeystoreError> {
        let identity = self.identity_id();
        if cert.subject() != identity || cert.public_key() != self.identity.verifying_key() {
            return Err(KeystoreError::CertificateMismatch {
                identity,
                certificate: cert.subject(),
            });
        }
        self.certificate = Some(cert);
        Ok(())
    }

    /// The newest signed prekey, if any.
    pub fn current_prekey(&self) -> Option<&SignedPrekey> {
        self.prekeys
            .iter()
            .max_by_key(|e| e.signed.created())
            .map(|e| &e.signed)
    }

    /// Generates a new prekey when there is none or the current one is at least
    /// [`PREKEY_ROTATION_SECS`] old, and returns it for the caller to publish (and then
    /// [`Self::save`]). `None` when no rotation is due. A signing failure also yields `None`;
    /// [`Self::try_rotate_prekey_if_due`] reports it.
    pub fn rotate_prekey_if_due(
        &mut self,
        now: UnixTime,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Option<SignedPrekey> {
        self.try_rotate_prekey_if_due(now, rng).ok().flatten()
    }

    /// [`Self::rotate_prekey_if_due`], reporting a failure to sign the new prekey.
    pub fn try_rotate_prekey_if_due(
        &mut self,
        now: UnixTime,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Option<SignedPrekey>, KeystoreError> {
        let due = match self.current_prekey() {
            None => true,
            Some(p) => now.secs_since(p.created()) >= PREKEY_ROTATION_SECS || now < p.created(),
        };
        if !due {
            return Ok(None);
        }
        let (signed, secret) = SignedPrekey::generate(
            &self.identity,
            self.identity.suite(),
            now,
            PREKEY_LIFETIME_SECS,
            rng,
        )
        .map_err(KeystoreError::Prekey)?;
        self.prekeys.push(PrekeyEntry {
            signed: signed.clone(),
            secret,
        });
        // Bound the keystore: drop the oldest beyond the cap (they are long past rotation).
        while self.prekeys.len() > MAX_STORED_PREKEYS {
            self.prekeys.remove(0);
        }
        Ok(Some(signed))
    }

    /// Every prekey secret still kept, newest first (what `Envelope::open` tries).
    pub fn prekey_secrets(&self) -> Vec<&KemSecretKey> {
        self.prekeys.iter().rev().map(|e| &e.secret).collect()
    }

    /// The secret of prekey `id`, if still kept.
    pub fn prekey_secret(&self, id: &PrekeyId) -> Option<&KemSecretKey> {
        self.prekeys
            .iter()
            .find(|e| e.signed.id() == *id)
            .map(|e| &e.secret)
    }

    /// Every signed prekey still kept, oldest first.
    pub fn signed_prekeys(&self) -> impl Iterator<Item = &SignedPrekey> {
        self.prekeys.iter().map(|e| &e.signed)
    }

    /// Deletes prekey secrets whose grace period is over (`expires + PREKEY_GRACE_SECS` before
    /// `now`): from then on envelopes sealed to them cannot be opened (forward secrecy).
    /// Returns how many were deleted; the caller saves the keystore.
    pub fn prune(&mut self, now: UnixTime) -> usize {
        let before = self.prekeys.len();
        self.prekeys.retain(|e| !e.signed.secret_deletable(now));
        before - self.prekeys.len()
    }

    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let cert_len = self.certificate.as_ref().map_or(0, |c| c.raw().len());
        let prekeys_len: usize = self
            .prekeys
            .iter()
            .map(|e| 4 + e.signed.raw().len() + 32)
            .sum();
        // Reserve everything up front so no reallocation leaves a copy of a secret behind.
        let mut out = Zeroizing::new(Vec::with_capacity(
            2 + 32 + 32 + 1 + 4 + cert_len + 2 + prekeys_len,
        ));
        out.push(OFFICER_FORMAT_VERSION);
        out.push(self.identity.suite().id());
        out.extend_from_slice(self.identity.seed().expose_secret());
        out.extend_from_slice(self.store_key.expose_secret());
        match &self.certificate {
            Some(c) => {
                out.push(1);
                out.extend_from_slice(&(c.raw().len() as u32).to_be_bytes()); // ok: ≤ 16 KiB
                out.extend_from_slice(c.raw());
            }
            None => out.push(0),
        }
        out.extend_from_slice(&(self.prekeys.len() as u16).to_be_bytes()); // ok: ≤ 64
        for e in &self.prekeys {
            out.extend_from_slice(&(e.signed.raw().len() as u32).to_be_bytes()); // ok: ≤ 8 KiB
            out.extend_from_slice(e.signed.raw());
            out.extend_from_slice(e.secret.seed().expose_secret());
        }
        out
    }

    fn decode(bytes: &[u8]) -> Result<Self, String> {
        let d = |e: liaison_proto::DecodeError| e.to_string();
        let mut r = Reader::new(bytes);
        let version = r.u8("format version").map_err(d)?;
        if version != OFFICER_FORMAT_VERSION {
            return Err(format!(
                "officer keystore format {version} is not supported"
            ));
        }
        let suite_id = r.u8("suite").map_err(d)?;
        let suite = Suite::from_id(suite_id).map_err(|e| e.to_string())?;
        let seed = Seed32::try_from_slice(r.take("identity seed", 32).map_err(d)?)
            .map_err(|e| e.to_string())?;
        let identity = SigningKey::from_seed(suite, seed);
        let store_key = SymmetricKey::try_from_slice(r.take("store key", 32).map_err(d)?)
            .map_err(|e| e.to_string())?;
        let certificate = match r.u8("certificate flag").map_err(d)? {
            0 => None,
            1 => {
                let raw = r.bytes_u32("certificate", MAX_CERTIFICATE_LEN).map_err(d)?;
                Some(MemberCertificate::decode(raw).map_err(|e| format!("certificate: {e}"))?)
            }
            other => return Err(format!("certificate flag {other} is not 0 or 1")),
        };
        let count = usize::from(r.u16("prekey count").map_err(d)?);
        if count > MAX_STORED_PREKEYS {
            return Err(format!(
                "{count} prekeys exceed the limit {MAX_STORED_PREKEYS}"
            ));
        }
        let mut prekeys = Vec::with_capacity(count);
        for i in 0..count {
            let raw = r
                .bytes_u32("signed prekey", MAX_SIGNED_PREKEY_LEN)
                .map_err(d)?;
            let signed = SignedPrekey::decode(raw).map_err(|e| format!("prekey {i}: {e}"))?;
            let seed = Seed32::try_from_slice(r.take("prekey seed", 32).map_err(d)?)
                .map_err(|e| e.to_string())?;
            let secret = KemSecretKey::from_seed(signed.suite(), seed);
            if secret.public_key() != signed.public_key() {
                return Err(format!("prekey {i}: secret does not match its public key"));
            }
            if signed.owner() != IdentityId::of(identity.verifying_key()) {
                return Err(format!("prekey {i}: belongs to another identity"));
            }
            prekeys.push(PrekeyEntry { signed, secret });
        }
        r.expect_end("officer keystore").map_err(d)?;
        let mut this = Self {
            identity,
            store_key,
            certificate: None,
            prekeys,
            kdf: None,
        };
        if let Some(cert) = certificate {
            this.set_certificate(cert).map_err(|e| e.to_string())?;
        }
        Ok(this)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passphrase::Passphrase;

    #[test]
    fn kind_labels_are_restricted() {
        assert!(check_kind("officer").is_ok());
        assert!(check_kind("").is_err());
        assert!(check_kind("Officer").is_err());
        assert!(check_kind(&"a".repeat(33)).is_err());
    }

    #[test]
    fn absurd_kdf_parameters_are_refused_before_hashing() {
        let p = Passphrase::new("x".into());
        let huge = KdfParams {
            m_cost_kib: u32::MAX,
            t_cost: 1,
            p_cost: 1,
        };
        assert!(derive_key(&p, &[0; 32], huge).is_err());
        let zero = KdfParams {
            t_cost: 0,
            ..KdfParams::TEST
        };
        assert!(derive_key(&p, &[0; 32], zero).is_err());
    }
}
