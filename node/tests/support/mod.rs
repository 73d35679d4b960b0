//! Test federation for the multi-process relay tests: an authority, relays with key files,
//! certificates and config files in a temporary directory, officers with prekeys, relay
//! processes that are killed when dropped, and a small officer client built on the node's
//! link driver (`liaison_node::link`) over a real QUIC connection.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use liaison_crypto::kem::KemSecretKey;
use liaison_crypto::rng::os_rng;
use liaison_crypto::sign::SigningKey;
use liaison_crypto::{IdentityId, Seed32, Suite};
use liaison_node::link::{self, Link, LinkEvent, LinkSupply};
use liaison_node::transport::{self, TransportLimits};
use liaison_node::{config, identity};
use liaison_proto::certificate::{
    self, CertificateRequest, CertificateTerms, MemberCertificate, Role,
};
use liaison_proto::envelope::{ContentType, Envelope, EnvelopeBuilder};
use liaison_proto::frame::LinkFrame;
use liaison_proto::handshake::{LinkConfig, LocalIdentity, PeerPolicy, SupplyPolicy};
use liaison_proto::prekey::{PREKEY_LIFETIME_SECS, SignedPrekey};
use liaison_proto::receipt::Receipt;
use liaison_proto::record::RekeyPolicy;
use liaison_proto::trust::TrustStore;
use liaison_proto::{Classification, Tlp, UnixTime};

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free UDP port")
}

/// One relay's files.
pub(crate) struct RelayFiles {
    pub(crate) name: String,
    pub(crate) cert: MemberCertificate,
    pub(crate) addr: SocketAddr,
    pub(crate) config: PathBuf,
    pub(crate) storage: PathBuf,
    pub(crate) log: PathBuf,
}

/// One officer.
pub(crate) struct Officer {
    pub(crate) key: SigningKey,
    pub(crate) cert: MemberCertificate,
    pub(crate) prekey: SignedPrekey,
    pub(crate) prekey_secret: KemSecretKey,
}

impl Officer {
    /// An officer with `key` and `cert` and a fresh signed prekey valid from a minute before
    /// `now`.
    fn new(key: SigningKey, cert: MemberCertificate, now: u64) -> Self {
        let (prekey, prekey_secret) = SignedPrekey::generate(
            &key,
            Suite::Lq2,
            UnixTime(now - 60),
            PREKEY_LIFETIME_SECS,
            &mut os_rng(),
        )
        .unwrap();
        Self {
            key,
            cert,
            prekey,
            prekey_secret,
        }
    }
}

pub(crate) struct Federation {
    pub(crate) dir: tempfile::TempDir,
    /// The federation authority's key (to issue revocation lists in tests).
    #[allow(dead_code)] // not every test binary issues revocation lists
    pub(crate) authority: SigningKey,
    pub(crate) trust: Arc<TrustStore>,
    pub(crate) relays: Vec<RelayFiles>,
    pub(crate) officers: Vec<Officer>,
}

fn cert_for(
    authority: &SigningKey,
    key: &SigningKey,
    name: &str,
    terms: CertificateTerms,
) -> MemberCertificate {
    let mut rng = os_rng();
    let request = CertificateRequest::new(key, name, "Test Org", &mut rng).unwrap();
    certificate::issue(authority, &request, &terms, &mut rng).unwrap()
}

/// How the relays key their links.
#[derive(Clone, Copy, Default)]
pub(crate) struct Options {
    /// Relay-to-relay links mix a pre-shared key (`qkd = "required"` both ways).
    pub(crate) psk_links: bool,
    /// Relay `i` requires a supplied key on its officers' links (`officer_qkd = "required"`).
    pub(crate) officer_qkd_required: [bool; 2],
    /// Each route's primary address is a port nobody listens on; the real one is the
    /// alternate.
    pub(crate) dead_primary: bool,
    /// Relay 1 names this SAE id for relay 2, one its key supply has no key for.
    pub(crate) wrong_peer_sae: bool,
    /// `limits.max_envelope_bytes` of every relay, when not the default.
    pub(crate) max_envelope_bytes: Option<usize>,
    /// `limits.max_queue_depth` of every relay, when not the default.
    pub(crate) max_queue_depth: Option<u64>,
    /// `(relay, bytes)`: that one relay's `limits.max_envelope_bytes` (others keep theirs).
    pub(crate) max_envelope_bytes_at: Option<(usize, usize)>,
}

/// One `[[route]]` of a test topology: relay `from` routes to relay `to`, dialling it, or —
/// with `via` — through its neighbour `via` (not dialled).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RouteSpec {
    pub(crate) from: usize,
    pub(crate) to: usize,
    pub(crate) via: Option<usize>,
}

impl RouteSpec {
    /// `from` dials `to`.
    pub(crate) const fn direct(from: usize, to: usize) -> Self {
        Self {
            from,
            to,
            via: None,
        }
    }

    /// `from` reaches `to` through its neighbour `via`.
    pub(crate) const fn via(from: usize, to: usize, via: usize) -> Self {
        Self {
            from,
            to,
            via: Some(via),
        }
    }
}

impl Federation {
    /// Two relays routed to each other; officers `(home relay index, clearance)`.
    pub(crate) fn build(officers: &[(usize, Classification)]) -> Self {
        Self::build_with(officers, Options::default())
    }

    /// [`Self::build`] with key-supply options.
    pub(crate) fn build_with(officers: &[(usize, Classification)], options: Options) -> Self {
        Self::build_topology(
            2,
            &[RouteSpec::direct(0, 1), RouteSpec::direct(1, 0)],
            officers,
            options,
        )
    }

    /// `relay_count` relays with the given routes; officers `(home relay index, clearance)`.
    pub(crate) fn build_topology(
        relay_count: usize,
        routes: &[RouteSpec],
        officers: &[(usize, Classification)],
        options: Options,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut rng = os_rng();
        let now = unix_now();
        let authority = SigningKey::generate(Suite::Lq2, &mut rng);
        std::fs::write(
            root.join("authority.pub"),
            config::format_authority_key(authority.verifying_key()),
        )
        .unwrap();
        let trust = Arc::new(TrustStore::new(vec![authority.verifying_key().clone()]));
        std::fs::create_dir_all(root.join("members")).unwrap();
        let mut relays = Vec::new();
        for i in 0..relay_count {
            let name = format!("relay-{}", i + 1);
            let rdir = root.join(&name);
            std::fs::create_dir_all(&rdir).unwrap();
            let key = identity::generate(&rdir.join("node.key"), Suite::Lq2).unwrap();
            let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
            let cert = cert_for(
                &authority,
                &key,
                &name,
                CertificateTerms {
                    role: Role::Relay,
                    clearance: Classification::SecretUe,
                    home_relay: None,
                    address: Some(addr.to_string()),
                    not_before: UnixTime(now - 3600),
                    not_after: UnixTime(now + 86_400),
                    serial: i as u64 + 1,
                },
            );
            std::fs::write(rdir.join("node.cert"), cert.raw()).unwrap();
            std::fs::write(
                root.join("members").join(format!("{name}.cert")),
                cert.raw(),
            )
            .unwrap();
            relays.push(RelayFiles {
                name,
                cert,
                addr,
                config: rdir.join("relay.toml"),
                storage: rdir.join("custody.redb"),
                log: rdir.join("relay.log"),
            });
        }
        let mut people = Vec::new();
        for (i, (home, clearance)) in officers.iter().enumerate() {
            let key = SigningKey::generate(Suite::Lq2, &mut rng);
            let cert = cert_for(
                &authority,
                &key,
                &format!("officer-{i}"),
                CertificateTerms {
                    role: Role::Officer,
                    clearance: *clearance,
                    home_relay: Some(relays[*home].cert.subject()),
                    address: None,
                    not_before: UnixTime(now - 3600),
                    not_after: UnixTime(now + 86_400),
                    serial: 100 + i as u64,
                },
            );
            std::fs::write(
                root.join("members").join(format!("officer-{i}.cert")),
                cert.raw(),
            )
            .unwrap();
            people.push(Officer::new(key, cert, now));
        }
        if options.psk_links {
            use std::os::unix::fs::PermissionsExt as _;

            use base64::Engine as _;
            let psk = root.join("link.psk");
            let bytes: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0x5a);
            std::fs::write(
                &psk,
                base64::engine::general_purpose::STANDARD.encode(bytes),
            )
            .unwrap();
            std::fs::set_permissions(&psk, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        for (i, r) in relays.iter().enumerate() {
            let officer_qkd = if options.officer_qkd_required.get(i) == Some(&true) {
                "required"
            } else {
                "off"
            };
            let supply = if options.psk_links {
                let peers: Vec<String> = relays
                    .iter()
                    .filter(|o| o.name != r.name)
                    .map(|o| format!("{} = \"../link.psk\"", o.name))
                    .collect();
                format!(
                    "sae_id = \"{me}\"\n[key_supply]\nkind = \"psk\"\nsae_id = \"{me}\"\n\
                     peers = {{ {peers} }}\n",
                    me = r.name,
                    peers = peers.join(", ")
                )
            } else {
                String::new()
            };
            let mut route_text = String::new();
            for route in routes.iter().filter(|route| route.from == i) {
                let other = &relays[route.to];
                if let Some(via) = route.via {
                    route_text.push_str(&format!(
                        "[[route]]\nrelay = \"{}\"\nvia = \"{}\"\nqkd = \"off\"\n\n",
                        other.name, relays[via].name
                    ));
                    continue;
                }
                let route_qkd = if options.psk_links {
                    format!(
                        "qkd = \"required\"\nsae_id = \"{}\"",
                        if options.wrong_peer_sae && i == 0 {
                            "nobody"
                        } else {
                            &other.name
                        }
                    )
                } else {
                    "qkd = \"off\"".to_owned()
                };
                let route_addr = if options.dead_primary {
                    format!(
                        "address = \"127.0.0.1:{}\"\nalternates = [\"{}\"]",
                        free_port(),
                        other.addr
                    )
                } else {
                    format!("address = \"{}\"", other.addr)
                };
                route_text.push_str(&format!(
                    "[[route]]\nrelay = \"{}\"\n{route_addr}\n{route_qkd}\n\n",
                    other.name
                ));
            }
            let mut max_envelope = options
                .max_envelope_bytes_at
                .filter(|&(at, _)| at == i)
                .map(|(_, n)| n)
                .or(options.max_envelope_bytes)
                .map(|n| format!("max_envelope_bytes = {n}\n"))
                .unwrap_or_default();
            if let Some(depth) = options.max_queue_depth {
                max_envelope.push_str(&format!("max_queue_depth = {depth}\n"));
            }
            let text = format!(
                "listen = \"{addr}\"\nidentity_key = \"node.key\"\ncertificate = \"node.cert\"\n\
                 storage = \"custody.redb\"\ntrust_anchors = [\"../authority.pub\"]\n\
                 directory = [\"../members\"]\nofficer_qkd = \"{officer_qkd}\"\n{supply}\n\
                 {route_text}\
                 [limits]\nidle_timeout_secs = 4\nsweep_interval_secs = 5\nhandshake_timeout_secs = 3\n\
                 {max_envelope}",
                addr = r.addr,
            );
            std::fs::write(&r.config, text).unwrap();
        }
        Self {
            dir,
            authority,
            trust,
            relays,
            officers: people,
        }
    }

    /// Starts relay `i` as a `liaison-node run` process and waits until it listens.
    pub(crate) fn start(&self, i: usize) -> RelayProcess {
        let r = &self.relays[i];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&r.log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_liaison-node"))
            .args(["run", "--config"])
            .arg(&r.config)
            .env("RUST_LOG", "info,liaison_node=debug")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let process = RelayProcess {
            child,
            log: r.log.clone(),
        };
        let mark = process.log_text().matches("listening").count();
        let deadline = Instant::now() + Duration::from_secs(30);
        while process.log_text().matches("listening").count() <= mark {
            assert!(
                Instant::now() < deadline,
                "relay {i} did not start:\n{}",
                process.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        process
    }

    /// Seals `plaintext` from officer `from` to officer `to` (policy checks skipped when
    /// `unchecked`, to produce envelopes a relay must refuse).
    pub(crate) fn seal(
        &self,
        from: usize,
        to: usize,
        level: Classification,
        plaintext: &[u8],
        unchecked: bool,
    ) -> Envelope {
        self.seal_for(from, to, level, plaintext, unchecked, 3600)
    }

    /// [`Self::seal`] with an envelope that expires `lifetime` seconds from now.
    pub(crate) fn seal_for(
        &self,
        from: usize,
        to: usize,
        level: Classification,
        plaintext: &[u8],
        unchecked: bool,
        lifetime: u64,
    ) -> Envelope {
        let (s, r) = (&self.officers[from], &self.officers[to]);
        let now = UnixTime(unix_now());
        let builder = EnvelopeBuilder::new(
            &s.key,
            &s.cert,
            level,
            Tlp::Amber,
            ContentType::Text,
            now,
            now.plus_secs(lifetime),
        )
        .recipient(&r.cert, &r.prekey, None);
        let mut rng = os_rng();
        if unchecked {
            builder
                .seal_without_policy_checks(plaintext, &mut rng)
                .unwrap()
        } else {
            builder.seal(plaintext, &mut rng).unwrap()
        }
    }

    /// Seals `plaintext` from officer `from` to every officer in `to` (one envelope).
    #[allow(dead_code)] // used by the federation tests only
    pub(crate) fn seal_to_many(
        &self,
        from: usize,
        to: &[usize],
        level: Classification,
        plaintext: &[u8],
    ) -> Envelope {
        let s = &self.officers[from];
        let now = UnixTime(unix_now());
        let mut builder = EnvelopeBuilder::new(
            &s.key,
            &s.cert,
            level,
            Tlp::Amber,
            ContentType::Text,
            now,
            now.plus_secs(3600),
        );
        for &r in to {
            let r = &self.officers[r];
            builder = builder.recipient(&r.cert, &r.prekey, None);
        }
        builder.seal(plaintext, &mut os_rng()).unwrap()
    }

    /// Opens `raw` as officer `who`.
    pub(crate) fn open(&self, who: usize, raw: &[u8]) -> (Envelope, Vec<u8>) {
        let me = &self.officers[who];
        let env = Envelope::decode(raw).unwrap();
        let opened = env
            .open(
                &self.trust,
                &me.cert,
                &[&me.prekey_secret],
                None,
                UnixTime(unix_now()),
            )
            .unwrap();
        (env, opened.plaintext)
    }

    /// Connects officer `who` to its home relay.
    pub(crate) async fn connect(&self, who: usize) -> OfficerClient {
        self.try_connect(who).await.unwrap()
    }

    /// Connects officer `who` to its home relay, returning the refusal if there is one.
    pub(crate) async fn try_connect(&self, who: usize) -> Result<OfficerClient, link::LinkError> {
        let me = &self.officers[who];
        let home = me.cert.home_relay().unwrap();
        let relay = self
            .relays
            .iter()
            .find(|r| r.cert.subject() == home)
            .unwrap();
        OfficerClient::connect(me, &self.trust, relay.addr, home).await
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `liaison-node audit verify --json` of stopped relay `relay`'s custody file, checked
    /// against its certificate; the log must verify.
    pub(crate) fn audit_report(&self, relay: usize) -> serde_json::Value {
        let out = Command::new(env!("CARGO_BIN_EXE_liaison-node"))
            .args(["audit", "verify", "--json"])
            .arg(&self.relays[relay].storage)
            .arg("--certificate")
            .arg(self.path().join(format!("relay-{}/node.cert", relay + 1)))
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["ok"], true, "{report}");
        report
    }

    /// An officer homed at relay `home` whose certificate another authority issued: a
    /// stranger to this federation.
    pub(crate) fn stranger(&self, home: usize) -> Officer {
        let mut rng = os_rng();
        let now = unix_now();
        let authority = SigningKey::generate(Suite::Lq2, &mut rng);
        let key = SigningKey::generate(Suite::Lq2, &mut rng);
        let cert = cert_for(
            &authority,
            &key,
            "stranger",
            CertificateTerms {
                role: Role::Officer,
                clearance: Classification::SecretUe,
                home_relay: Some(self.relays[home].cert.subject()),
                address: None,
                not_before: UnixTime(now - 3600),
                not_after: UnixTime(now + 86_400),
                serial: 9,
            },
        );
        Officer::new(key, cert, now)
    }

    /// Connects `me` (any officer, e.g. a [`Self::stranger`]) to relay `relay`.
    pub(crate) async fn try_connect_as(
        &self,
        me: &Officer,
        relay: usize,
    ) -> Result<OfficerClient, link::LinkError> {
        let relay = &self.relays[relay];
        OfficerClient::connect(me, &self.trust, relay.addr, relay.cert.subject()).await
    }
}

/// A relay process, killed (SIGKILL) when dropped.
pub(crate) struct RelayProcess {
    child: Child,
    log: PathBuf,
}

impl RelayProcess {
    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends a signal by name (`HUP`, `STOP`, ...) to the relay process.
    #[allow(dead_code)] // used by the operations tests only
    pub(crate) fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{name} {pid} failed");
    }

    /// SIGKILL, no chance to clean up.
    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for a clean exit.
    pub(crate) fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "relay did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- {} ---\n{}", self.log.display(), self.log_text());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test officer on a real QUIC link to its home relay.
pub(crate) struct OfficerClient {
    pub(crate) link: Link,
    _endpoint: quinn::Endpoint,
}

impl OfficerClient {
    async fn connect(
        me: &Officer,
        trust: &Arc<TrustStore>,
        addr: SocketAddr,
        home: IdentityId,
    ) -> Result<Self, link::LinkError> {
        let endpoint =
            transport::client_endpoint("127.0.0.1:0".parse().unwrap(), &TransportLimits::default())
                .unwrap();
        let seed = Seed32::try_from_slice(me.key.seed().expose_secret()).unwrap();
        let config = LinkConfig {
            identity: Arc::new(LocalIdentity {
                certificate: me.cert.clone(),
                signing_key: SigningKey::from_seed(me.key.suite(), seed),
            }),
            trust: Arc::clone(trust),
            suites: vec![Suite::Lq2],
            supply: SupplyPolicy::Off,
            local_sae_id: None,
            peer: PeerPolicy {
                expected_peer: Some(home),
                allow_relays: true,
                allow_officers: false,
            },
            handshake_timeout: Duration::from_secs(10),
            rekey: RekeyPolicy::default(),
        };
        let conn = endpoint
            .connect(addr, "liaison-node")
            .unwrap()
            .await
            .unwrap();
        let link = link::initiate(conn, config, LinkSupply::off()).await?;
        Ok(Self {
            link,
            _endpoint: endpoint,
        })
    }

    pub(crate) async fn send(&mut self, env: &Envelope) {
        self.link
            .send(&LinkFrame::Envelope(env.raw().to_vec()))
            .await
            .unwrap();
    }

    /// The next application frame, or `None` when the link closed or `wait` passed.
    pub(crate) async fn next(&mut self, wait: Duration) -> Option<LinkFrame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.link.recv()).await {
                Err(_) => return None,
                // The relay's keepalive: answered here, as a real client does.
                Ok(Ok(LinkEvent::Frame(LinkFrame::Ping(p)))) => {
                    self.link.send(&LinkFrame::Pong(p)).await.ok()?
                }
                Ok(Ok(LinkEvent::Frame(f))) => return Some(f),
                Ok(Ok(LinkEvent::Housekeeping)) => self.link.flush().await.ok()?,
                Ok(Ok(LinkEvent::RekeyDue)) => self.link.start_rekey().await.ok()?,
                Ok(Ok(LinkEvent::RekeyRequested(s))) => self.link.answer_rekey(s).await.ok()?,
                Ok(Ok(LinkEvent::EnvelopeTooLarge {
                    message_id,
                    total,
                    limit,
                })) => self
                    .link
                    .refuse_too_large(message_id, total, limit)
                    .await
                    .ok()?,
                Ok(Ok(LinkEvent::Closed) | Err(_)) => return None,
            }
        }
    }

    /// Sends a signed receipt for `env` as officer `me`.
    pub(crate) async fn send_receipt(&mut self, me: &Officer, env: &Envelope) -> Receipt {
        let receipt = Receipt::issue(&me.key, env, UnixTime(unix_now()), &mut os_rng()).unwrap();
        self.link
            .send(&LinkFrame::Receipt(receipt.raw().to_vec()))
            .await
            .unwrap();
        receipt
    }

    /// Acknowledges custody of a receipt.
    pub(crate) async fn ack_receipt(&mut self, receipt: &Receipt) {
        self.link
            .send(&LinkFrame::Ack {
                message_id: liaison_node::relay::receipt_custody_id(receipt).to_vec(),
                status: liaison_proto::frame::AckStatus::Accepted,
            })
            .await
            .unwrap();
    }

    /// Sends any bytes as an `Envelope` frame (to provoke refusals).
    #[allow(dead_code)] // used by the federation tests only
    pub(crate) async fn send_raw(&mut self, raw: Vec<u8>) {
        self.link.send(&LinkFrame::Envelope(raw)).await.unwrap();
    }

    /// Publishes `prekey` to the home relay.
    #[allow(dead_code)] // used by the federation tests only
    pub(crate) async fn publish_prekey(&mut self, prekey: &SignedPrekey) {
        self.link
            .send(&LinkFrame::PrekeyPublish(prekey.raw().to_vec()))
            .await
            .unwrap();
    }

    /// Asks the home relay for `whom`'s prekey bundle.
    #[allow(dead_code)] // used by the federation tests only
    pub(crate) async fn request_prekey(&mut self, whom: IdentityId) {
        self.link
            .send(&LinkFrame::PrekeyRequest(whom))
            .await
            .unwrap();
    }

    /// Acknowledges custody of the item with custody id `id` (a notice's, say).
    #[allow(dead_code)] // used by the federation tests only
    pub(crate) async fn ack_id(&mut self, id: &[u8]) {
        self.link
            .send(&LinkFrame::Ack {
                message_id: id.to_vec(),
                status: liaison_proto::frame::AckStatus::Accepted,
            })
            .await
            .unwrap();
    }

    /// Sends any frame (to provoke refusals).
    #[allow(dead_code)] // used by the federation tests only
    pub(crate) async fn send_frame(&mut self, frame: &LinkFrame) {
        self.link.send(frame).await.unwrap();
    }

    /// Acknowledges delivery of `raw` (an envelope) to the relay.
    pub(crate) async fn ack(&mut self, env: &Envelope) {
        self.link
            .send(&LinkFrame::Ack {
                message_id: env.header().message_id.0.to_vec(),
                status: liaison_proto::frame::AckStatus::Accepted,
            })
            .await
            .unwrap();
    }
}
