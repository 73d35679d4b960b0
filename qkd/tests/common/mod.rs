//! Shared set-up for the integration tests: a throw-away PKI, an in-process simulator on a
//! real HTTPS socket with mutual TLS, and clients authenticated as given SAEs.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use liaison_qkd::sim::{OutageConfig, SimConfig, SimServer};
use liaison_qkd::{Etsi014Client, TlsFiles, pki};

/// A temporary directory with a CA, a KME certificate and certificates for alice, bob, carol.
pub struct Pki {
    pub dir: tempfile::TempDir,
}

impl Pki {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("test setup: temp dir");
        pki::generate(dir.path(), &["alice".into(), "bob".into(), "carol".into()])
            .expect("test setup: pki");
        Self { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn files(&self, stem: &str) -> TlsFiles {
        TlsFiles {
            cert: self.path().join(format!("{stem}.pem")),
            key: self.path().join(format!("{stem}-key.pem")),
            ca: self.path().join("ca.pem"),
        }
    }

    pub fn ca(&self) -> PathBuf {
        self.path().join("ca.pem")
    }
}

/// Starts a simulator on 127.0.0.1:0.
pub async fn start_sim(pki: &Pki, config: SimConfig) -> SimServer {
    SimServer::start(
        "127.0.0.1:0".parse().expect("test setup: address"),
        &pki.files("kme"),
        config,
        OutageConfig::default(),
    )
    .await
    .expect("test setup: simulator")
}

/// A client of `sim` authenticated as SAE `sae`.
pub fn client(pki: &Pki, sim: &SimServer, sae: &str) -> Etsi014Client {
    Etsi014Client::new(&sim.url(), &pki.files(sae), Duration::from_secs(5))
        .expect("test setup: client")
}
