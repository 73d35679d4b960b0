//! Pre-shared key supply, for sites without QKD equipment (the role of WireGuard's PSK).
//!
//! Each peer has a key file (base64 of 32 to 64 random bytes, mode 0600). Per-use keys are
//! derived from it by key id, so both ends obtain the same key without any KME:
//!
//! ```text
//! key = HKDF-SHA-384(salt = none, ikm = psk,
//!                    info = lp("liaison psk key v1") || lp(master_SAE_ID) || lp(slave_SAE_ID)
//!                           || lp(key_ID),
//!                    L = key_size / 8)
//! lp(x) = u32 big-endian length of x in bytes || x (UTF-8)
//! ```
//!
//! The master side picks fresh random (UUID v4) key ids; the slave side refuses an id it has
//! already served, in memory or persisted in a small `redb` file, so a replayed id cannot make
//! it reuse a key. This derivation should move into liaison-crypto's KDF module (and its label
//! into `crypto/src/labels.rs`) once that crate exists; it is here so that `qkd` does not depend
//! on a crate still being written. The exact bytes are in `spec/key-supply.md`.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hkdf::Hkdf;
use redb::ReadableTable as _;
use sha2::Sha384;
use tracing::{debug, warn};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::key::{KeyId, SaeId, SuppliedKey};
use crate::supply::{KeyRequest, KeyStatus, KeySupply, SupplyFuture};

/// HKDF `info` label of per-use keys derived from a pre-shared key.
pub const PSK_KEY_LABEL: &[u8] = b"liaison psk key v1";
/// Smallest accepted pre-shared key, in bytes.
pub const MIN_PSK_LEN: usize = 32;
/// Largest accepted pre-shared key, in bytes.
pub const MAX_PSK_LEN: usize = 64;
/// Largest per-use key HKDF-SHA-384 can give in one expansion, in bits (255 × 48 bytes).
pub const MAX_DERIVED_KEY_BITS: u32 = 255 * 48 * 8;
/// Keys the supply claims to have in `status`: a PSK never runs out.
const UNLIMITED: u64 = u32::MAX as u64;

/// A pre-shared key loaded from a file.
pub struct PreSharedKey(Zeroizing<Vec<u8>>);

impl PreSharedKey {
    /// Wraps raw key bytes (32 to 64 bytes).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        let bytes = Zeroizing::new(bytes);
        if !(MIN_PSK_LEN..=MAX_PSK_LEN).contains(&bytes.len()) {
            return Err(Error::Config {
                reason: format!(
                    "a pre-shared key must have {MIN_PSK_LEN} to {MAX_PSK_LEN} bytes, not {}",
                    bytes.len()
                ),
            });
        }
        Ok(Self(bytes))
    }

    /// Loads a key file: refuses it if group or others may read or write it, then decodes the
    /// base64 content.
    pub fn load(path: &Path) -> Result<Self> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(Error::InsecureKeyFile {
                path: path.to_path_buf(),
                mode,
            });
        }
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?);
        let bytes = BASE64
            .decode(text.trim().as_bytes())
            .map_err(|e| invalid(path, format!("not base64: {e}")))?;
        Self::from_bytes(bytes).map_err(|e| invalid(path, e.to_string()))
    }
}

impl fmt::Debug for PreSharedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<SECRET>")
    }
}

/// Derives the per-use key for `key_id` between `master` and `slave` (see the module docs).
pub fn derive_key(
    psk: &PreSharedKey,
    master: &SaeId,
    slave: &SaeId,
    key_id: &KeyId,
    size_bits: u32,
) -> Result<SuppliedKey> {
    if size_bits == 0 || !size_bits.is_multiple_of(8) || size_bits > MAX_DERIVED_KEY_BITS {
        return Err(Error::Unsatisfiable {
            reason: format!(
                "derived key size {size_bits} bits must be a positive multiple of 8 up to {MAX_DERIVED_KEY_BITS}"
            ),
        });
    }
    let mut info = Vec::new();
    for part in [
        PSK_KEY_LABEL,
        master.as_str().as_bytes(),
        slave.as_str().as_bytes(),
        key_id.as_str().as_bytes(),
    ] {
        let len = u32::try_from(part.len()).map_err(|_| Error::Config {
            reason: "an id is longer than 4 GiB".into(),
        })?;
        info.extend_from_slice(&len.to_be_bytes());
        info.extend_from_slice(part);
    }
    let mut okm = vec![0u8; size_bits as usize / 8];
    Hkdf::<Sha384>::new(None, &psk.0)
        .expand(&info, &mut okm)
        .map_err(|_| Error::Unsatisfiable {
            // ok: unreachable, the length was checked against MAX_DERIVED_KEY_BITS above.
            reason: "HKDF output too long".into(),
        })?;
    Ok(SuppliedKey::from_bytes(okm))
}

/// Key ids the slave side has already served, so a replayed id is refused.
#[derive(Debug, Clone)]
pub enum UsedIds {
    /// Kept in memory: forgotten when the process restarts.
    Memory(Arc<Mutex<HashSet<(SaeId, KeyId)>>>),
    /// Persisted in a `redb` file: survives restarts.
    Persistent {
        /// The database.
        db: Arc<redb::Database>,
        /// Its file, for error messages.
        path: PathBuf,
    },
}

const USED_TABLE: redb::TableDefinition<'static, (&str, &str), u64> =
    redb::TableDefinition::new("used_key_ids");

impl UsedIds {
    /// An in-memory guard (replays are refused until the process restarts).
    pub fn in_memory() -> Self {
        Self::Memory(Arc::default())
    }

    /// A guard persisted in the `redb` file at `path` (created if missing).
    pub fn open(path: &Path) -> Result<Self> {
        let db = redb::Database::create(path).map_err(|e| store_err(path, e))?;
        Ok(Self::Persistent {
            db: Arc::new(db),
            path: path.to_path_buf(),
        })
    }

    /// Records `(master, key_id)` as used; `false` if it was already recorded.
    pub async fn mark(&self, master: &SaeId, key_id: &KeyId) -> Result<bool> {
        match self {
            Self::Memory(set) => {
                let mut set = set.lock().map_err(|_| Error::UsedIdStore {
                    path: PathBuf::from("<memory>"),
                    reason: "lock poisoned by a panicking thread".into(),
                })?;
                Ok(set.insert((master.clone(), key_id.clone())))
            }
            Self::Persistent { db, path } => {
                let (db, path, master, key_id) =
                    (db.clone(), path.clone(), master.clone(), key_id.clone());
                let err_path = path.clone();
                tokio::task::spawn_blocking(move || mark_persistent(&db, &path, &master, &key_id))
                    .await
                    .map_err(|e| store_err(&err_path, e))?
            }
        }
    }
}

fn mark_persistent(
    db: &redb::Database,
    path: &Path,
    master: &SaeId,
    key_id: &KeyId,
) -> Result<bool> {
    let txn = db.begin_write().map_err(|e| store_err(path, e))?;
    let fresh = {
        let mut table = txn.open_table(USED_TABLE).map_err(|e| store_err(path, e))?;
        let key = (master.as_str(), key_id.as_str());
        let seen = table.get(key).map_err(|e| store_err(path, e))?.is_some();
        if !seen {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            table.insert(key, now).map_err(|e| store_err(path, e))?;
        }
        !seen
    };
    txn.commit().map_err(|e| store_err(path, e))?;
    Ok(fresh)
}

/// A [`KeySupply`] deriving keys from per-peer pre-shared key files.
#[derive(Debug)]
pub struct PskSupply {
    me: SaeId,
    key_size_bits: u32,
    peers: HashMap<SaeId, PreSharedKey>,
    used: UsedIds,
}

impl PskSupply {
    /// A supply for the local SAE `me` delivering keys of `key_size_bits` (both ends must agree
    /// on it, as the slave side learns only ids), refusing replays through `used`.
    pub fn new(me: SaeId, key_size_bits: u32, used: UsedIds) -> Result<Self> {
        if key_size_bits == 0
            || !key_size_bits.is_multiple_of(8)
            || key_size_bits > MAX_DERIVED_KEY_BITS
        {
            return Err(Error::Config {
                reason: format!(
                    "PSK key size {key_size_bits} bits must be a positive multiple of 8 up to {MAX_DERIVED_KEY_BITS}"
                ),
            });
        }
        Ok(Self {
            me,
            key_size_bits,
            peers: HashMap::new(),
            used,
        })
    }

    /// Adds the pre-shared key for `peer` read from `path` (refused unless mode 0600 or
    /// stricter).
    pub fn add_peer_file(&mut self, peer: SaeId, path: &Path) -> Result<()> {
        let psk = PreSharedKey::load(path)?;
        self.peers.insert(peer, psk);
        Ok(())
    }

    /// Adds the pre-shared key for `peer`.
    pub fn add_peer_key(&mut self, peer: SaeId, psk: PreSharedKey) {
        self.peers.insert(peer, psk);
    }

    fn psk(&self, peer: &SaeId) -> Result<&PreSharedKey> {
        self.peers
            .get(peer)
            .ok_or_else(|| Error::UnknownPeer { peer: peer.clone() })
    }

    async fn dec_keys_checked(
        &self,
        master: &SaeId,
        key_ids: &[KeyId],
    ) -> Result<Vec<(KeyId, SuppliedKey)>> {
        let psk = self.psk(master)?;
        let mut out = Vec::with_capacity(key_ids.len());
        for id in key_ids {
            if uuid::Uuid::parse_str(id.as_str()).is_err() {
                return Err(Error::UnknownKeyId {
                    key_ids: vec![id.clone()],
                    message: "pre-shared key ids are UUIDs".into(),
                });
            }
            if !self.used.mark(master, id).await? {
                warn!(%master, key_id = %id, "refused a replayed pre-shared key id");
                return Err(Error::KeyIdReplayed {
                    master: master.clone(),
                    key_id: id.clone(),
                });
            }
            out.push((
                id.clone(),
                derive_key(psk, master, &self.me, id, self.key_size_bits)?,
            ));
        }
        debug!(%master, key_ids = ?key_ids, "derived pre-shared keys as slave");
        Ok(out)
    }
}

impl KeySupply for PskSupply {
    fn status<'a>(&'a self, slave: &'a SaeId) -> SupplyFuture<'a, KeyStatus> {
        Box::pin(async move {
            self.psk(slave)?;
            Ok(KeyStatus {
                source_kme_id: format!("psk:{}", self.me),
                target_kme_id: format!("psk:{slave}"),
                master_sae_id: self.me.to_string(),
                slave_sae_id: slave.to_string(),
                key_size: self.key_size_bits,
                stored_key_count: UNLIMITED,
                max_key_count: UNLIMITED,
                max_key_per_request: u32::MAX,
                max_key_size: self.key_size_bits,
                min_key_size: self.key_size_bits,
                max_sae_id_count: 0,
                status_extension: None,
            })
        })
    }

    fn enc_keys<'a>(
        &'a self,
        slave: &'a SaeId,
        request: KeyRequest,
    ) -> SupplyFuture<'a, Vec<(KeyId, SuppliedKey)>> {
        Box::pin(async move {
            if request.size_bits != self.key_size_bits {
                return Err(Error::Unsatisfiable {
                    reason: format!(
                        "this pre-shared key supply delivers {}-bit keys, not {}",
                        self.key_size_bits, request.size_bits
                    ),
                });
            }
            let psk = self.psk(slave)?;
            let mut out = Vec::with_capacity(request.number as usize);
            for _ in 0..request.number {
                let id = KeyId::random();
                let key = derive_key(psk, &self.me, slave, &id, self.key_size_bits)?;
                out.push((id, key));
            }
            debug!(%slave, number = out.len(), "derived pre-shared keys as master");
            Ok(out)
        })
    }

    fn dec_keys<'a>(
        &'a self,
        master: &'a SaeId,
        key_ids: &'a [KeyId],
    ) -> SupplyFuture<'a, Vec<(KeyId, SuppliedKey)>> {
        Box::pin(self.dec_keys_checked(master, key_ids))
    }
}

fn invalid(path: &Path, reason: String) -> Error {
    Error::InvalidKeyFile {
        path: path.to_path_buf(),
        reason,
    }
}

fn store_err(path: &Path, error: impl fmt::Display) -> Error {
    Error::UsedIdStore {
        path: path.to_path_buf(),
        reason: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn psk() -> PreSharedKey {
        PreSharedKey::from_bytes((0u8..32).collect()).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn derivation_binds_every_input() {
        let (a, b) = (SaeId::new("alice"), SaeId::new("bob"));
        let id = KeyId::new("4f6a3c2e-0000-4000-8000-000000000001");
        let base = derive_key(&psk(), &a, &b, &id, 256).ok();
        assert_eq!(base.as_ref().map(SuppliedKey::len_bits), Some(256));
        let swapped = derive_key(&psk(), &b, &a, &id, 256).ok();
        let other_id = derive_key(&psk(), &a, &b, &KeyId::new("x"), 256).ok();
        assert!(base.is_some() && base != swapped && base != other_id);
        assert_eq!(base, derive_key(&psk(), &a, &b, &id, 256).ok());
    }

    #[test]
    fn length_prefixes_keep_ids_apart() {
        // "ab" + "c" and "a" + "bc" must not derive the same key.
        let id = KeyId::new("k");
        let one = derive_key(&psk(), &SaeId::new("ab"), &SaeId::new("c"), &id, 256).ok();
        let two = derive_key(&psk(), &SaeId::new("a"), &SaeId::new("bc"), &id, 256).ok();
        assert!(one.is_some() && one != two);
    }

    #[test]
    fn refuses_short_keys() {
        assert!(PreSharedKey::from_bytes(vec![1; 16]).is_err());
    }
}
