//! Configuration of a node's or client's key supply, as a `serde` section of its config file,
//! and the one function that turns it into an `Arc<dyn KeySupply>`.
//!
//! ```toml
//! [key_supply]
//! kind = "etsi014"
//! kme = "https://kme-a.example:8443"
//! cert = "/etc/liaison/sae.pem"
//! key = "/etc/liaison/sae-key.pem"
//! ca = "/etc/liaison/kme-ca.pem"
//! timeout_secs = 10
//! ```
//!
//! ```toml
//! [key_supply]
//! kind = "psk"
//! sae_id = "relay-brussels"
//! key_size = 256
//! used_ids = "/var/lib/liaison/psk-used.redb"
//! peers = { relay-kyiv = "/etc/liaison/psk/relay-kyiv.psk" }
//! ```
//!
//! Unknown keys are refused (`deny_unknown_fields`), and everything the section names is checked
//! once, when [`KeySupplyConfig::build`] runs at start-up: certificates parse, key files exist
//! with mode 0600. The per-peer `qkd = required | preferred | off` policy lives with the peer's
//! own configuration ([`crate::QkdPolicy`]).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::client::Etsi014Client;
use crate::error::{Error, Result};
use crate::key::SaeId;
use crate::psk::{PskSupply, UsedIds};
use crate::supply::KeySupply;
use crate::tls::TlsFiles;

/// Which key supply to use and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum KeySupplyConfig {
    /// An ETSI GS QKD 014 KME.
    Etsi014 {
        /// KME base URL (`https://…`).
        kme: String,
        /// This SAE's client certificate (PEM).
        cert: PathBuf,
        /// This SAE's private key (PEM).
        key: PathBuf,
        /// CA bundle for the KME's certificate (PEM).
        ca: PathBuf,
        /// Seconds the KME gets per request.
        #[serde(default = "default_timeout_secs")]
        timeout_secs: u64,
    },
    /// Pre-shared key files, one per peer.
    Psk {
        /// This site's SAE id.
        sae_id: String,
        /// Size of every derived key, in bits; both ends must agree.
        #[serde(default = "default_key_size")]
        key_size: u32,
        /// File persisting the key ids already served (replay refusal across restarts);
        /// without it they are kept in memory only.
        #[serde(default)]
        used_ids: Option<PathBuf>,
        /// Peer SAE id → key file (mode 0600).
        peers: BTreeMap<String, PathBuf>,
    },
}

fn default_timeout_secs() -> u64 {
    crate::client::DEFAULT_TIMEOUT.as_secs()
}

fn default_key_size() -> u32 {
    256
}

impl KeySupplyConfig {
    /// Checks the configuration and builds the supply it describes.
    pub fn build(&self) -> Result<Arc<dyn KeySupply>> {
        match self {
            Self::Etsi014 {
                kme,
                cert,
                key,
                ca,
                timeout_secs,
            } => {
                if *timeout_secs == 0 {
                    return Err(Error::Config {
                        reason: "key_supply.timeout_secs must be at least 1".into(),
                    });
                }
                let tls = TlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                    ca: ca.clone(),
                };
                let client = Etsi014Client::new(kme, &tls, Duration::from_secs(*timeout_secs))?;
                Ok(Arc::new(client))
            }
            Self::Psk {
                sae_id,
                key_size,
                used_ids,
                peers,
            } => {
                if peers.is_empty() {
                    return Err(Error::Config {
                        reason: "key_supply.peers lists no peer".into(),
                    });
                }
                let used = match used_ids {
                    Some(path) => UsedIds::open(path)?,
                    None => UsedIds::in_memory(),
                };
                let mut supply = PskSupply::new(SaeId::new(sae_id.clone()), *key_size, used)?;
                for (peer, path) in peers {
                    supply.add_peer_file(SaeId::new(peer.clone()), path)?;
                }
                Ok(Arc::new(supply))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_kinds_with_defaults() {
        let etsi: Result<KeySupplyConfig, _> = toml::from_str(
            r#"kind = "etsi014"
               kme = "https://kme:8443"
               cert = "a.pem"
               key = "a-key.pem"
               ca = "ca.pem""#,
        );
        assert!(matches!(
            etsi,
            Ok(KeySupplyConfig::Etsi014 {
                timeout_secs: 10,
                ..
            })
        ));
        let psk: Result<KeySupplyConfig, _> = toml::from_str(
            r#"kind = "psk"
               sae_id = "alice"
               peers = { bob = "/etc/liaison/bob.psk" }"#,
        );
        assert!(matches!(
            psk,
            Ok(KeySupplyConfig::Psk {
                key_size: 256,
                used_ids: None,
                ..
            })
        ));
    }

    #[test]
    fn refuses_unknown_keys_naming_them() {
        let wrong: Result<KeySupplyConfig, _> = toml::from_str(
            r#"kind = "psk"
               sae_id = "alice"
               peer = { bob = "/etc/liaison/bob.psk" }"#,
        );
        let text = wrong.map(|_| ()).map_err(|e| e.to_string());
        assert!(matches!(&text, Err(t) if t.contains("peer")), "{text:?}");
    }

    #[test]
    fn psk_build_refuses_a_readable_key_file() {
        use std::os::unix::fs::PermissionsExt;
        let Ok(dir) = tempfile::tempdir() else {
            return;
        };
        let path = dir.path().join("bob.psk");
        let written = std::fs::write(&path, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
            .and_then(|()| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)));
        assert!(written.is_ok());
        let config = KeySupplyConfig::Psk {
            sae_id: "alice".into(),
            key_size: 256,
            used_ids: None,
            peers: BTreeMap::from([("bob".to_string(), path)]),
        };
        assert!(matches!(
            config.build(),
            Err(Error::InsecureKeyFile { mode: 0o644, .. })
        ));
    }
}
