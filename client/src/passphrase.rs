//! Where a keystore passphrase comes from: an interactive prompt for officers at a desk, an
//! environment variable or a file for services and scripts.
//!
//! The command-line convention every `liaison` command follows
//! ([`PassphraseSource::from_cli`]), first match wins:
//!
//! 1. `--passphrase-file FILE` (the file must not be readable by group or others);
//! 2. `--passphrase-env VAR`;
//! 3. the environment variable `LIAISON_PASSPHRASE`, if it is set;
//! 4. an interactive prompt on the terminal (echo off). When stdin is not a terminal this is an
//!    error rather than a hang, so a service without a passphrase configured fails at once.
//!
//! The passphrase itself lives in a [`Passphrase`], which zeroizes on drop and prints as
//! `<SECRET>`.

use std::fmt;
use std::io::IsTerminal as _;
use std::path::PathBuf;

use zeroize::Zeroizing;

use crate::keystore::KeystoreError;

/// The environment variable consulted when no passphrase flag is given.
pub const PASSPHRASE_ENV: &str = "LIAISON_PASSPHRASE";
/// Longest passphrase accepted from a file, in bytes (a guard against pointing at a big file).
pub const MAX_PASSPHRASE_FILE_LEN: u64 = 4096;

/// A keystore passphrase: zeroized on drop, never printed.
///
/// ```
/// let p = liaison_client::passphrase::Passphrase::new("correct horse".to_string());
/// assert_eq!(format!("{p:?}"), "Passphrase(<SECRET>)");
/// assert_eq!(p.expose_secret(), "correct horse");
/// ```
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// Takes ownership of a passphrase.
    pub fn new(secret: String) -> Self {
        Self(Zeroizing::new(secret))
    }

    /// Read access to the passphrase text.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<SECRET>)")
    }
}

/// Where to obtain a passphrase from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassphraseSource {
    /// Ask on the terminal (echo off).
    Prompt,
    /// Read the named environment variable.
    Env(String),
    /// Read the file (first line; a trailing newline is dropped).
    File(PathBuf),
}

impl PassphraseSource {
    /// Applies the command-line convention (see the module docs): `file` beats `env`, which
    /// beats `LIAISON_PASSPHRASE`, which beats the prompt.
    pub fn from_cli(file: Option<PathBuf>, env: Option<String>) -> Self {
        if let Some(path) = file {
            Self::File(path)
        } else if let Some(var) = env {
            Self::Env(var)
        } else if std::env::var_os(PASSPHRASE_ENV).is_some() {
            Self::Env(PASSPHRASE_ENV.to_string())
        } else {
            Self::Prompt
        }
    }

    /// Obtains the passphrase for `what` (e.g. `"officer keystore"`, shown in the prompt).
    /// With `confirm_new`, a prompted passphrase is asked twice and must match (other sources
    /// are taken as given). An empty passphrase is always refused.
    pub fn obtain(&self, what: &str, confirm_new: bool) -> Result<Passphrase, KeystoreError> {
        let passphrase = match self {
            Self::Prompt => prompt(what, confirm_new)?,
            Self::Env(var) => match std::env::var(var) {
                Ok(value) => Passphrase::new(value),
                Err(std::env::VarError::NotPresent) => {
                    return Err(KeystoreError::PassphraseUnavailable {
                        reason: format!("environment variable {var} is not set"),
                    });
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(KeystoreError::PassphraseUnavailable {
                        reason: format!("environment variable {var} is not valid UTF-8"),
                    });
                }
            },
            Self::File(path) => read_file(path)?,
        };
        if passphrase.expose_secret().is_empty() {
            return Err(KeystoreError::PassphraseUnavailable {
                reason: format!("the passphrase for the {what} is empty"),
            });
        }
        Ok(passphrase)
    }
}

/// The `--passphrase-file` / `--passphrase-env` flags, to `#[command(flatten)]` into any
/// command that opens a keystore.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct PassphraseArgs {
    /// Read the passphrase from this file (mode 0600; first line). For services.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Read the passphrase from this environment variable (default: LIAISON_PASSPHRASE if set,
    /// else prompt).
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
}

impl PassphraseArgs {
    /// The source these flags select (see [`PassphraseSource::from_cli`]).
    pub fn source(&self) -> PassphraseSource {
        PassphraseSource::from_cli(self.passphrase_file.clone(), self.passphrase_env.clone())
    }
}

fn prompt(what: &str, confirm_new: bool) -> Result<Passphrase, KeystoreError> {
    if !std::io::stdin().is_terminal() {
        return Err(KeystoreError::PassphraseUnavailable {
            reason: format!(
                "no passphrase for the {what}: stdin is not a terminal; use --passphrase-file, \
                 --passphrase-env or {PASSPHRASE_ENV}"
            ),
        });
    }
    let read = |label: String| {
        rpassword::prompt_password(label)
            .map(Passphrase::new)
            .map_err(|e| KeystoreError::PassphraseUnavailable {
                reason: format!("cannot read the passphrase from the terminal: {e}"),
            })
    };
    let first = read(format!("Passphrase for the {what}: "))?;
    if confirm_new {
        let second = read(format!("Repeat the passphrase for the {what}: "))?;
        if first.expose_secret() != second.expose_secret() {
            return Err(KeystoreError::PassphraseUnavailable {
                reason: "the two passphrases differ".to_string(),
            });
        }
    }
    Ok(first)
}

fn read_file(path: &std::path::Path) -> Result<Passphrase, KeystoreError> {
    use std::io::Read as _;
    use std::os::unix::fs::PermissionsExt as _;

    let io = |source| KeystoreError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeystoreError::InsecurePermissions {
            path: path.to_owned(),
            mode,
        });
    }
    if meta.len() > MAX_PASSPHRASE_FILE_LEN {
        return Err(KeystoreError::PassphraseUnavailable {
            reason: format!(
                "{}: {} bytes is too long for a passphrase file (limit {MAX_PASSPHRASE_FILE_LEN})",
                path.display(),
                meta.len()
            ),
        });
    }
    // ok: meta.len() ≤ MAX_PASSPHRASE_FILE_LEN, checked above
    let mut bytes = Zeroizing::new(Vec::with_capacity(meta.len() as usize));
    file.take(MAX_PASSPHRASE_FILE_LEN)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| KeystoreError::PassphraseUnavailable {
        reason: format!("{}: the passphrase file is not UTF-8", path.display()),
    })?;
    let line = text.split(['\n', '\r']).next().unwrap_or_default();
    Ok(Passphrase::new(line.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_order_is_file_then_env_flag() {
        let f = PassphraseSource::from_cli(Some("p".into()), Some("X".into()));
        assert_eq!(f, PassphraseSource::File("p".into()));
        let e = PassphraseSource::from_cli(None, Some("X".into()));
        assert_eq!(e, PassphraseSource::Env("X".into()));
    }

    #[test]
    fn file_passphrase_drops_newline_and_refuses_open_modes() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pass");
        std::fs::write(&path, "s3cret phrase\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let src = PassphraseSource::File(path.clone());
        assert!(matches!(
            src.obtain("test", false),
            Err(KeystoreError::InsecurePermissions { mode: 0o644, .. })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            src.obtain("test", false).unwrap().expose_secret(),
            "s3cret phrase"
        );
        std::fs::write(&path, "\n").unwrap();
        assert!(matches!(
            src.obtain("test", false),
            Err(KeystoreError::PassphraseUnavailable { .. })
        ));
    }

    #[test]
    fn missing_env_variable_is_a_clear_error() {
        let src = PassphraseSource::Env("LIAISON_TEST_SURELY_UNSET_VARIABLE".into());
        let err = src.obtain("test", false).unwrap_err();
        assert!(
            err.to_string()
                .contains("LIAISON_TEST_SURELY_UNSET_VARIABLE")
        );
    }
}
