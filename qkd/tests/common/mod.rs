//! Shared set-up for the integration tests: a throw-away PKI, an in-process simulator on a
//! real HTTPS socket with mutual TLS, and clients authenticated as given SAEs.

#![allow(dead_code, unreachable_pub)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
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

/// Everything logged while the guard of [`capture_logs`] lives (on this thread).
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures all tracing output, at every level, on the current thread (use a current-thread
/// runtime so that spawned tasks log into it too).
pub fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}
