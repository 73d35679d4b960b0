//! The NATS JetStream baseline: a `nats-server -js` process with file storage in a temporary
//! directory, and `async-nats` publishers that await each publish acknowledgement, as a user
//! who needs "stored before acknowledged" would write them.
//!
//! JetStream's file store writes each message to its block file before acknowledging, but
//! fsyncs only periodically (server 2.9's default interval is two minutes); Liaison fsyncs
//! before every acknowledgement (group commit). The comparison is the issue's, not a
//! like-for-like durability one, and the report says so.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, stream};
use bytes::Bytes;
use tempfile::TempDir;

use super::BenchError;

/// The stream every publisher writes to.
const STREAM: &str = "REPORTS";

/// A running `nats-server` with JetStream, killed when dropped.
#[derive(Debug)]
pub struct NatsServer {
    child: Child,
    addr: SocketAddr,
    _store: TempDir,
}

fn free_tcp_port() -> Result<u16, BenchError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(BenchError::io("finding a free TCP port"))
}

impl NatsServer {
    /// Starts `bin -js` on a loopback port with a fresh file store and waits until it accepts
    /// connections.
    pub fn start(bin: &Path) -> Result<Self, BenchError> {
        let store = tempfile::Builder::new()
            .prefix("liaison-bench-nats-")
            .tempdir()
            .map_err(BenchError::io("creating the JetStream store directory"))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], free_tcp_port()?));
        let child = Command::new(bin)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &addr.port().to_string(),
                "-js",
                "-sd",
            ])
            .arg(store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(BenchError::io(format!(
                "starting {} (install: apt-get install -y nats-server)",
                bin.display()
            )))?;
        let server = Self {
            child,
            addr,
            _store: store,
        };
        let wait = Duration::from_secs(20);
        let deadline = Instant::now() + wait;
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if Instant::now() > deadline {
                return Err(BenchError::NotReady {
                    what: "nats-server".into(),
                    after: wait,
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }

    /// `host:port` for clients.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's version line (`nats-server: v2.9.10`).
    pub fn version(bin: &Path) -> String {
        Command::new(bin)
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_else(|e| format!("unknown ({e})"))
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nats_err(e: impl std::fmt::Display) -> BenchError {
    BenchError::Nats(e.to_string())
}

/// Publishes `messages` from `senders` concurrent clients (one connection each, messages dealt
/// round-robin), each awaiting every publish ack before the next; returns messages per second.
/// A first message per client before the clock starts warms its connection.
pub async fn publish_run(
    server: &NatsServer,
    senders: usize,
    messages: &[Bytes],
) -> Result<f64, BenchError> {
    let url = format!("nats://{}", server.addr());
    let setup = async_nats::connect(&url).await.map_err(nats_err)?;
    let js = jetstream::new(setup);
    js.get_or_create_stream(stream::Config {
        name: STREAM.to_owned(),
        subjects: vec!["reports.>".to_owned()],
        storage: stream::StorageType::File,
        ..Default::default()
    })
    .await
    .map_err(nats_err)?;
    let mut contexts = Vec::new();
    for i in 0..senders {
        let client = async_nats::connect(&url).await.map_err(nats_err)?;
        let js = jetstream::new(client);
        // Warm-up: one acknowledged publish on this connection.
        js.publish(
            format!("reports.warmup.{i}"),
            Bytes::from_static(b"warm-up"),
        )
        .await
        .map_err(nats_err)?
        .await
        .map_err(nats_err)?;
        contexts.push(js);
    }
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, js) in contexts.into_iter().enumerate() {
        let mine: Vec<Bytes> = messages.iter().skip(i).step_by(senders).cloned().collect();
        tasks.spawn(async move {
            let subject = format!("reports.officer.{i}");
            for m in mine {
                let ack = js.publish(subject.clone(), m).await.map_err(nats_err)?;
                tokio::time::timeout(Duration::from_secs(30), ack)
                    .await
                    .map_err(|_| BenchError::Timeout("a JetStream publish ack".into()))?
                    .map_err(nats_err)?;
            }
            Ok::<_, BenchError>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| BenchError::Unexpected(format!("publisher task: {e}")))??;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let stored = js
        .get_stream(STREAM)
        .await
        .map_err(nats_err)?
        .info()
        .await
        .map_err(nats_err)?
        .state
        .messages;
    let expected = (messages.len() + senders) as u64;
    if stored != expected {
        return Err(BenchError::Unexpected(format!(
            "JetStream holds {stored} messages, expected {expected}"
        )));
    }
    Ok(messages.len() as f64 / elapsed)
}
