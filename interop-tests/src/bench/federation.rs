//! A benchmark federation in a temporary directory: one authority, one or two relays (key
//! files, certificates, `relay.toml`), officers with prekeys, relays started as real
//! `liaison-node run` processes, and officer links made with the node's own link driver.
//!
//! Modelled on the test-only `node/tests/support/mod.rs` (which cannot be imported from
//! here); differences: relays log at `warn` so logging does not skew the numbers, limits
//! (connections, idle timeout) are parameters, officers may stay out of the relay directory
//! (the connections scenario holds 10,000 of them), and sealing a pool of envelopes runs on
//! every core so the generator measures the relay, not its own signing.

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use liaison_crypto::Suite;
use liaison_crypto::kem::KemSecretKey;
use liaison_crypto::rng::os_rng;
use liaison_crypto::sign::SigningKey;
use liaison_node::link::{self, Link, LinkEvent, LinkSupply};
use liaison_node::transport::{self, TransportLimits};
use liaison_node::{config, identity};
use liaison_proto::certificate::{
    self, CertificateRequest, CertificateTerms, MemberCertificate, Role,
};
use liaison_proto::envelope::{ContentType, Envelope, EnvelopeBuilder};
use liaison_proto::frame::{AckStatus, LinkFrame};
use liaison_proto::handshake::{LinkConfig, LocalIdentity, PeerPolicy, SupplyPolicy};
use liaison_proto::prekey::{PREKEY_LIFETIME_SECS, SignedPrekey};
use liaison_proto::record::RekeyPolicy;
use liaison_proto::trust::TrustStore;
use liaison_proto::{Classification, Tlp, UnixTime};
use tempfile::TempDir;

use super::BenchError;

/// Set to keep each federation directory (configs, relay logs) after the run, for diagnosis.
pub const KEEP_ENV: &str = "LIAISON_BENCH_KEEP";

/// Seconds since the epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A UDP port nobody is bound to right now (the relay binds it a moment later).
pub fn free_udp_port() -> Result<u16, BenchError> {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .map_err(BenchError::io("finding a free UDP port"))
}

/// How to lay out the federation.
#[derive(Debug, Clone)]
pub struct Layout {
    /// 1 or 2 relays; with 2, each routes to the other.
    pub relays: usize,
    /// Officers that receive (prekey, in the relay directory): their home relay index.
    pub recipients: Vec<usize>,
    /// Officers that only send or hold links: their home relay index.
    pub senders: Vec<usize>,
    /// `[limits] max_connections`.
    pub max_connections: usize,
    /// `[limits] idle_timeout_secs`.
    pub idle_timeout_secs: u64,
    /// `[limits] max_envelope_bytes` (absent: the relay's default).
    pub max_envelope_bytes: Option<usize>,
}

/// Per-link rate limits far above what one machine can offer: the benchmarks measure the
/// relay's capacity, not its brake on a runaway client (defaults: 20 envelopes/s per officer
/// link, 2,000/s per relay link), and the queue depth is raised so an offline recipient's
/// queue never defers. The peer timeout (default 20 s without a frame) is raised too: idle
/// links are the point of scenario 5, and generators are silent while they seal the next pool.
const UNLIMITED_RATE: &str = "envelopes_per_sec = 1000000.0\nenvelope_burst = 1000000\n\
                              bytes_per_sec = 100000000000\nbyte_burst = 100000000000\n";

/// One relay's files.
#[derive(Debug)]
pub struct RelayFiles {
    /// `relay-1`, `relay-2`.
    pub name: String,
    /// Its member certificate.
    pub cert: MemberCertificate,
    /// Its UDP listen address.
    pub addr: SocketAddr,
    /// `relay.toml`.
    pub config: PathBuf,
    /// Its stderr log.
    pub log: PathBuf,
}

/// One officer: identity and, for recipients, a signed prekey with its secret.
#[derive(Debug)]
pub struct Officer {
    /// Certificate and signing key.
    pub identity: Arc<LocalIdentity>,
    /// Home relay index.
    pub home: usize,
    /// Signed prekey and its secret (recipients only).
    pub prekey: Option<(SignedPrekey, KemSecretKey)>,
}

/// The federation on disk.
#[derive(Debug)]
pub struct BenchFederation {
    dir: TempDir,
    /// The authority's trust store.
    pub trust: Arc<TrustStore>,
    /// The relays.
    pub relays: Vec<RelayFiles>,
    /// Recipients first (indices `0..layout.recipients.len()`), then senders.
    pub officers: Vec<Officer>,
}

fn issue(
    authority: &SigningKey,
    key: &SigningKey,
    name: &str,
    terms: &CertificateTerms,
) -> Result<MemberCertificate, BenchError> {
    let mut rng = os_rng();
    let request = CertificateRequest::new(key, name, "Bench Org", &mut rng)?;
    Ok(certificate::issue(authority, &request, terms, &mut rng)?)
}

fn write(path: &std::path::Path, bytes: impl AsRef<[u8]>) -> Result<(), BenchError> {
    std::fs::write(path, bytes).map_err(BenchError::io(format!("writing {}", path.display())))
}

/// Runs `f(i)` for `i in 0..n` on every core, keeping the order of results.
fn parallel<T: Send>(
    n: usize,
    f: impl Fn(usize) -> Result<T, BenchError> + Sync,
) -> Result<Vec<T>, BenchError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .min(n.max(1));
    let f = &f;
    let chunks: Vec<Result<Vec<T>, BenchError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| s.spawn(move || (t..n).step_by(threads).map(f).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(BenchError::Unexpected("a worker thread panicked".into()))
                })
            })
            .collect()
    });
    // Thread t produced items t, t+threads, ...: interleave them back into order.
    let mut per_thread = Vec::new();
    for c in chunks {
        per_thread.push(c?.into_iter());
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        if let Some(item) = per_thread[i % threads].next() {
            out.push(item);
        }
    }
    Ok(out)
}

impl BenchFederation {
    /// Writes keys, certificates and configs for `layout`.
    pub fn build(layout: &Layout) -> Result<Self, BenchError> {
        let mut dir = tempfile::Builder::new()
            .prefix("liaison-bench-")
            .tempdir()
            .map_err(BenchError::io("creating the federation directory"))?;
        if std::env::var_os(KEEP_ENV).is_some() {
            dir.disable_cleanup(true);
            eprintln!("  federation kept in {}", dir.path().display());
        }
        let root = dir.path().to_path_buf();
        let now = unix_now();
        let authority = SigningKey::generate(Suite::Lq2, &mut os_rng());
        write(
            &root.join("authority.pub"),
            config::format_authority_key(authority.verifying_key()),
        )?;
        let trust = Arc::new(TrustStore::new(vec![authority.verifying_key().clone()]));
        let members = root.join("members");
        std::fs::create_dir_all(&members).map_err(BenchError::io("creating members/"))?;
        let mut relays = Vec::new();
        for i in 0..layout.relays {
            let name = format!("relay-{}", i + 1);
            let rdir = root.join(&name);
            std::fs::create_dir_all(&rdir).map_err(BenchError::io("creating a relay directory"))?;
            let key = identity::generate(&rdir.join("node.key"), Suite::Lq2)
                .map_err(|e| BenchError::Node(e.to_string()))?;
            let addr = SocketAddr::from(([127, 0, 0, 1], free_udp_port()?));
            let cert = issue(
                &authority,
                &key,
                &name,
                &CertificateTerms {
                    role: Role::Relay,
                    clearance: Classification::SecretUe,
                    home_relay: None,
                    address: Some(addr.to_string()),
                    not_before: UnixTime(now - 3600),
                    not_after: UnixTime(now + 86_400),
                    serial: i as u64 + 1,
                },
            )?;
            write(&rdir.join("node.cert"), cert.raw())?;
            write(&members.join(format!("{name}.cert")), cert.raw())?;
            relays.push(RelayFiles {
                name,
                cert,
                addr,
                config: rdir.join("relay.toml"),
                log: rdir.join("relay.log"),
            });
        }
        let homes: Vec<(usize, bool)> = layout
            .recipients
            .iter()
            .map(|h| (*h, true))
            .chain(layout.senders.iter().map(|h| (*h, false)))
            .collect();
        let relay_ids: Vec<_> = relays.iter().map(|r| r.cert.subject()).collect();
        let officers = parallel(homes.len(), |i| {
            let (home, recipient) = homes[i];
            let mut rng = os_rng();
            let key = SigningKey::generate(Suite::Lq2, &mut rng);
            let cert = issue(
                &authority,
                &key,
                &format!("officer-{i}"),
                &CertificateTerms {
                    role: Role::Officer,
                    clearance: Classification::SecretUe,
                    home_relay: Some(relay_ids[home]),
                    address: None,
                    not_before: UnixTime(now - 3600),
                    not_after: UnixTime(now + 86_400),
                    serial: 100 + i as u64,
                },
            )?;
            let prekey = if recipient {
                Some(SignedPrekey::generate(
                    &key,
                    Suite::Lq2,
                    UnixTime(now - 60),
                    PREKEY_LIFETIME_SECS,
                    &mut rng,
                )?)
            } else {
                None
            };
            Ok(Officer {
                identity: Arc::new(LocalIdentity {
                    certificate: cert,
                    signing_key: key,
                }),
                home,
                prekey,
            })
        })?;
        for (i, o) in officers.iter().enumerate().take(layout.recipients.len()) {
            write(
                &members.join(format!("officer-{i}.cert")),
                o.identity.certificate.raw(),
            )?;
        }
        for (i, r) in relays.iter().enumerate() {
            let routes = relays
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, other)| {
                    format!(
                        "[[route]]\nrelay = \"{}\"\naddress = \"{}\"\nqkd = \"off\"\n\n",
                        other.name, other.addr
                    )
                })
                .collect::<String>();
            let text = format!(
                "listen = \"{addr}\"\nidentity_key = \"node.key\"\ncertificate = \"node.cert\"\n\
                 storage = \"custody.redb\"\ntrust_anchors = [\"../authority.pub\"]\n\
                 directory = [\"../members\"]\nofficer_qkd = \"off\"\n\n{routes}\
                 [limits]\nmax_connections = {max}\nidle_timeout_secs = {idle}\n\
                 handshake_timeout_secs = 30\nmax_queue_depth = 10000000\n\
                 ping_interval_secs = 60\npeer_timeout_secs = 3600\n{envelope}\n\
                 [limits.officers]\n{unlimited}\n[limits.relays]\n{unlimited}",
                envelope = layout
                    .max_envelope_bytes
                    .map(|n| format!("max_envelope_bytes = {n}\n"))
                    .unwrap_or_default(),
                addr = r.addr,
                unlimited = UNLIMITED_RATE,
                max = layout.max_connections,
                idle = layout.idle_timeout_secs,
            );
            write(&r.config, text)?;
        }
        Ok(Self {
            dir,
            trust,
            relays,
            officers,
        })
    }

    /// The federation's directory.
    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Starts relay `i` as `node_bin run --config …` and waits until it listens.
    pub fn start(&self, node_bin: &std::path::Path, i: usize) -> Result<RelayProcess, BenchError> {
        let r = &self.relays[i];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&r.log)
            .map_err(BenchError::io("opening the relay log"))?;
        let child = Command::new(node_bin)
            .args(["run", "--config"])
            .arg(&r.config)
            // Per-envelope debug lines would be part of what we measure; keep the start line
            // unless a diagnosis asks for more (`LIAISON_BENCH_RELAY_LOG`, an `EnvFilter`).
            .env(
                "RUST_LOG",
                std::env::var("LIAISON_BENCH_RELAY_LOG")
                    .unwrap_or_else(|_| "warn,liaison_node::server=info".into()),
            )
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(BenchError::io(format!("starting {}", node_bin.display())))?;
        let process = RelayProcess {
            child,
            log: r.log.clone(),
        };
        let wait = Duration::from_secs(60);
        let deadline = Instant::now() + wait;
        while !process.log_text().contains("listening") {
            if Instant::now() > deadline {
                return Err(BenchError::NotReady {
                    what: format!("{} ({})", r.name, process.log_text().trim()),
                    after: wait,
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(process)
    }

    /// Seals `count` distinct envelopes (each has its own random message id) from officer
    /// `from` to recipient `to`, on every core. The first is sealed with the sender-side
    /// policy checks; the rest skip re-verifying the same prekey (their bytes are identical in
    /// form: the checks do not change what is sealed).
    pub fn seal_pool(
        &self,
        from: usize,
        to: usize,
        payload: &[u8],
        count: usize,
    ) -> Result<Vec<Vec<u8>>, BenchError> {
        let (s, r) = (&self.officers[from], &self.officers[to]);
        let (prekey, _) = r
            .prekey
            .as_ref()
            .ok_or_else(|| BenchError::Unexpected(format!("officer {to} has no prekey")))?;
        let now = UnixTime(unix_now());
        let builder = || {
            EnvelopeBuilder::new(
                &s.identity.signing_key,
                &s.identity.certificate,
                Classification::RestreintUe,
                Tlp::Amber,
                ContentType::Text,
                now,
                now.plus_secs(3600),
            )
            .recipient(&r.identity.certificate, prekey, None)
        };
        builder().seal(payload, &mut os_rng())?;
        parallel(count, |_| {
            Ok(builder()
                .seal_without_policy_checks(payload, &mut os_rng())?
                .raw()
                .to_vec())
        })
    }

    /// Opens a QUIC connection from `endpoint` to officer `who`'s home relay and runs the link
    /// handshake as that officer.
    pub async fn connect(
        &self,
        who: usize,
        endpoint: &quinn::Endpoint,
    ) -> Result<Link, BenchError> {
        let me = &self.officers[who];
        let relay = &self.relays[me.home];
        let config = LinkConfig {
            identity: Arc::clone(&me.identity),
            trust: Arc::clone(&self.trust),
            suites: vec![Suite::Lq2],
            supply: SupplyPolicy::Off,
            local_sae_id: None,
            peer: PeerPolicy {
                expected_peer: Some(relay.cert.subject()),
                allow_relays: true,
                allow_officers: false,
            },
            handshake_timeout: Duration::from_secs(60),
            rekey: RekeyPolicy::default(),
        };
        let conn = endpoint
            .connect(relay.addr, "liaison-node")
            .map_err(|e| BenchError::Transport(e.to_string()))?
            .await
            .map_err(|e| BenchError::Transport(e.to_string()))?;
        Ok(link::initiate(conn, config, LinkSupply::off()).await?)
    }
}

/// A client-only QUIC endpoint with the node's TLS and transport settings.
pub fn officer_endpoint() -> Result<quinn::Endpoint, BenchError> {
    officer_endpoint_with(&TransportLimits::default())
}

/// [`officer_endpoint`] with explicit limits (idle timeout, keep-alive).
pub fn officer_endpoint_with(limits: &TransportLimits) -> Result<quinn::Endpoint, BenchError> {
    transport::client_endpoint(SocketAddr::from(([127, 0, 0, 1], 0)), limits)
        .map_err(|e| BenchError::Transport(e.to_string()))
}

/// A relay process, killed (SIGKILL) when dropped.
#[derive(Debug)]
pub struct RelayProcess {
    child: Child,
    log: PathBuf,
}

impl RelayProcess {
    /// The relay's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The process id (for `perf` and `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident set size in KiB (`VmRSS` in `/proc/<pid>/status`).
    pub fn rss_kib(&self) -> Result<u64, BenchError> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .map_err(BenchError::io("reading /proc/<pid>/status"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| BenchError::Unexpected("no VmRSS line".into()))
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The next application frame on `link`, answering protocol housekeeping (rekeys) on the way;
/// an error when the link closes or `wait` passes.
pub async fn next_frame(link: &mut Link, wait: Duration) -> Result<LinkFrame, BenchError> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let event = tokio::time::timeout_at(deadline, link.recv())
            .await
            .map_err(|_| BenchError::Timeout("a frame from the relay".into()))??;
        match event {
            // The relay closes links that stay silent past its peer timeout.
            LinkEvent::Frame(LinkFrame::Ping(p)) => link.send(&LinkFrame::Pong(p)).await?,
            LinkEvent::Frame(f) => return Ok(f),
            LinkEvent::Housekeeping => link.flush().await?,
            LinkEvent::RekeyDue => link.start_rekey().await?,
            LinkEvent::RekeyRequested(s) => link.answer_rekey(s).await?,
            LinkEvent::EnvelopeTooLarge {
                message_id,
                total,
                limit,
            } => link.refuse_too_large(message_id, total, limit).await?,
            LinkEvent::Closed => {
                return Err(BenchError::Unexpected("the relay closed the link".into()));
            }
        }
    }
}

/// Waits for the relay's `Ack` of `id`; an error unless it is `Accepted`.
pub async fn expect_accepted(link: &mut Link, id: &[u8], wait: Duration) -> Result<(), BenchError> {
    loop {
        match next_frame(link, wait).await? {
            LinkFrame::Ack { message_id, status } if message_id == id => {
                return if status == AckStatus::Accepted {
                    Ok(())
                } else {
                    Err(BenchError::Unexpected(format!(
                        "custody answered {status:?}"
                    )))
                };
            }
            LinkFrame::Ack { .. } | LinkFrame::Ping(_) | LinkFrame::Pong(_) => {}
            LinkFrame::Error { code, reason } => {
                return Err(BenchError::Unexpected(format!(
                    "relay error {code:#06x}: {reason}"
                )));
            }
            LinkFrame::Refused {
                id: refused,
                code,
                reason,
            } if refused == id => {
                return Err(BenchError::Unexpected(format!(
                    "relay refused {code:#06x}: {reason}"
                )));
            }
            other => {
                return Err(BenchError::Unexpected(format!(
                    "expected an Ack, got {:?}",
                    other.frame_type()
                )));
            }
        }
    }
}

/// The message id of a sealed envelope.
pub fn message_id(raw: &[u8]) -> Result<[u8; 16], BenchError> {
    Ok(Envelope::decode(raw)?.header().message_id.0)
}
