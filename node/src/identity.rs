//! The node's identity key on disk: a composite signing key stored as its 32-byte seed in a
//! file only the service user can read (mode 0600; a file readable by group or others is
//! refused, as OpenSSH and WireGuard do). The file is text so operators can inspect its suite:
//!
//! ```text
//! liaison-node-key v1
//! suite LQ2
//! seed 3f…(64 hex digits)
//! ```

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use liaison_crypto::sign::SigningKey;
use liaison_crypto::{Seed32, Suite};
use zeroize::Zeroizing;

const MAGIC: &str = "liaison-node-key v1";

/// Errors reading or writing a key file. Messages name the file; none contains key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Group or others may read the file.
    #[error("{path}: permissions {mode:o} let others read the node key; run `chmod 600 {path}`")]
    TooOpen {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file is not a Liaison node key.
    #[error("{path}: not a liaison node key file ({reason})")]
    Malformed {
        /// The key file.
        path: PathBuf,
        /// What was wrong.
        reason: &'static str,
    },
    /// Refusing to overwrite an existing key.
    #[error("{0}: already exists; refusing to overwrite a node key")]
    Exists(PathBuf),
}

/// Writes a fresh key for `suite` to `path` (mode 0600, never overwriting).
pub fn generate(path: &Path, suite: Suite) -> Result<SigningKey, KeyFileError> {
    let key = SigningKey::generate(suite, &mut liaison_crypto::rng::os_rng());
    let text = Zeroizing::new(format!(
        "{MAGIC}\nsuite {}\nseed {}\n",
        suite.name(),
        hex::encode(key.seed().expose_secret())
    ));
    let io = |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                KeyFileError::Exists(path.to_owned())
            } else {
                io(e)
            }
        })?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(key)
}

/// Loads a key file, refusing one that group or others can read.
pub fn load(path: &Path) -> Result<SigningKey, KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    };
    let mode = fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::TooOpen {
            path: path.to_owned(),
            mode,
        });
    }
    let text = Zeroizing::new(fs::read_to_string(path).map_err(io)?);
    let malformed = |reason| KeyFileError::Malformed {
        path: path.to_owned(),
        reason,
    };
    let mut lines = text.lines();
    if lines.next() != Some(MAGIC) {
        return Err(malformed("missing header line"));
    }
    let suite = lines
        .next()
        .and_then(|l| l.strip_prefix("suite "))
        .and_then(|s| s.parse::<Suite>().ok())
        .ok_or(malformed("bad suite line"))?;
    let seed_hex = lines
        .next()
        .and_then(|l| l.strip_prefix("seed "))
        .ok_or(malformed("bad seed line"))?;
    let seed =
        Zeroizing::new(hex::decode(seed_hex.trim()).map_err(|_| malformed("seed is not hex"))?);
    let seed = Seed32::try_from_slice(&seed).map_err(|_| malformed("seed is not 32 bytes"))?;
    Ok(SigningKey::from_seed(suite, seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_open_permissions_and_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.key");
        let key = generate(&path, Suite::Lq2).unwrap();
        assert_eq!(load(&path).unwrap().verifying_key(), key.verifying_key());
        assert!(matches!(
            generate(&path, Suite::Lq2),
            Err(KeyFileError::Exists(_))
        ));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = load(&path).unwrap_err();
        assert!(matches!(err, KeyFileError::TooOpen { mode: 0o644, .. }));
        assert!(
            !err.to_string()
                .contains(&hex::encode(key.seed().expose_secret()))
        );
    }
}
