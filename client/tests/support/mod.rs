//! A small federation for the client's end-to-end tests: an authority key, one or two relays
//! run IN-PROCESS through `liaison_node::server::run` (real QUIC on loopback, real redb custody
//! files, config files written to a temporary directory), and officer home directories made
//! either through the library (`Profile` + `OfficerKeystore`) or by the tests through the
//! `liaison` binary.

#![allow(dead_code, unreachable_pub)]

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use liaison_client::keystore::OfficerKeystore;
use liaison_client::passphrase::Passphrase;
use liaison_client::profile::{Profile, ProfileConfig};
use liaison_client::session::{
    ClientError, RecipientRef, Report, SendOutcome, Session, SessionConfig, Timeouts,
};
use liaison_crypto::IdentityId;
use liaison_crypto::Suite;
use liaison_crypto::rng::os_rng;
use liaison_crypto::sign::SigningKey;
use liaison_node::config::{Config, format_authority_key};
use liaison_node::{identity, server};
use liaison_proto::certificate::{
    self, CertificateRequest, CertificateTerms, MemberCertificate, Role,
};
use liaison_proto::envelope::ContentType;
use liaison_proto::{Classification, Tlp, UnixTime};
use tokio_util::sync::CancellationToken;

/// A runtime for a test's officer sessions (the relays run on the federation's own).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Connects `officer` once and disconnects: connecting publishes its prekey, so others can
/// then send to it while it is offline.
pub async fn publish_prekey(fed: &Federation, officer: &OfficerHome) {
    Session::connect(fed.session_config(officer))
        .await
        .unwrap()
        .close()
        .await;
}

/// A plain-text report.
pub fn text_report(text: &str) -> Report {
    Report {
        content_type: ContentType::Text,
        content: text.as_bytes().to_vec(),
    }
}

/// Sends `report` to the officers `to` (by identity id).
pub async fn send_to(
    session: &mut Session,
    report: &Report,
    to: &[IdentityId],
    classification: Classification,
    tlp: Tlp,
) -> Result<SendOutcome, ClientError> {
    let to: Vec<RecipientRef> = to.iter().copied().map(RecipientRef::Id).collect();
    session.send(report, &to, classification, tlp).await
}

/// Passphrase of every officer made by the library helpers.
pub const PASSPHRASE: &str = "correct horse battery staple";

pub fn unix_now() -> u64 {
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

/// Signs a relay's certificate request: `(request file, clearance, address, output file)`.
pub type RelaySigner<'a> = &'a mut dyn FnMut(&Path, Classification, SocketAddr, &Path);

/// One relay's files and, while it runs, its task.
pub struct Relay {
    pub name: String,
    pub cert: MemberCertificate,
    pub cert_path: PathBuf,
    pub addr: SocketAddr,
    pub config: PathBuf,
    pub storage: PathBuf,
    running: Option<(CancellationToken, tokio::task::JoinHandle<()>)>,
}

/// An officer made through the library.
#[derive(Debug, Clone)]
pub struct OfficerHome {
    pub home: PathBuf,
    pub id: IdentityId,
    pub cert: MemberCertificate,
}

pub struct Federation {
    pub dir: tempfile::TempDir,
    pub authority: SigningKey,
    pub authority_pub: PathBuf,
    pub relays: Vec<Relay>,
    serial: u64,
    rt: tokio::runtime::Runtime,
}

impl Federation {
    /// `relay_clearances.len()` relays (one or two; two are routed to each other), certified
    /// by an authority key held in the test.
    pub fn new(relay_clearances: &[Classification]) -> Self {
        Self::build(relay_clearances, None)
    }

    /// Like [`Self::new`], but the relays' certificates come from an outside authority (the
    /// `liaison authority` command): `sign(request_file, clearance, address, out_file)`.
    pub fn with_relay_signer(
        relay_clearances: &[Classification],
        authority_pub: &Path,
        sign: RelaySigner<'_>,
    ) -> Self {
        Self::build(relay_clearances, Some((authority_pub, sign)))
    }

    fn build(
        relay_clearances: &[Classification],
        mut outside: Option<(&Path, RelaySigner<'_>)>,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut rng = os_rng();
        let now = unix_now();
        let authority = SigningKey::generate(Suite::Lq2, &mut rng);
        let authority_pub = root.join("authority.pub");
        match &outside {
            Some((public, _)) => {
                std::fs::copy(public, &authority_pub).unwrap();
            }
            None => std::fs::write(
                &authority_pub,
                format_authority_key(authority.verifying_key()),
            )
            .unwrap(),
        }
        std::fs::create_dir_all(root.join("members")).unwrap();
        let mut relays = Vec::new();
        for (i, clearance) in relay_clearances.iter().enumerate() {
            let name = format!("relay-{}", i + 1);
            let rdir = root.join(&name);
            std::fs::create_dir_all(rdir.join("override")).unwrap();
            let key = identity::generate(&rdir.join("node.key"), Suite::Lq2).unwrap();
            let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
            let request = CertificateRequest::new(&key, &name, "Test Relays", &mut rng).unwrap();
            let cert_path = rdir.join("node.cert");
            if let Some((_, sign)) = &mut outside {
                let csr = rdir.join("node.csr");
                std::fs::write(&csr, request.raw()).unwrap();
                sign(&csr, *clearance, addr, &cert_path);
            }
            let cert = if cert_path.exists() {
                MemberCertificate::decode(&std::fs::read(&cert_path).unwrap()).unwrap()
            } else {
                certificate::issue(
                    &authority,
                    &request,
                    &CertificateTerms {
                        role: Role::Relay,
                        clearance: *clearance,
                        home_relay: None,
                        address: Some(addr.to_string()),
                        not_before: UnixTime(now - 3600),
                        not_after: UnixTime(now + 86_400),
                        serial: i as u64 + 1,
                    },
                    &mut rng,
                )
                .unwrap()
            };
            std::fs::write(&cert_path, cert.raw()).unwrap();
            std::fs::write(
                root.join("members").join(format!("{name}.cert")),
                cert.raw(),
            )
            .unwrap();
            relays.push(Relay {
                name,
                cert,
                cert_path,
                addr,
                config: rdir.join("relay.toml"),
                storage: rdir.join("custody.redb"),
                running: None,
            });
        }
        for i in 0..relays.len() {
            let r = &relays[i];
            let route = relays
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, o)| {
                    format!(
                        "[[route]]\nrelay = \"{}\"\naddress = \"{}\"\nqkd = \"off\"\n",
                        o.name, o.addr
                    )
                })
                .collect::<String>();
            let text = format!(
                "listen = \"{addr}\"\nidentity_key = \"node.key\"\ncertificate = \"node.cert\"\n\
                 storage = \"custody.redb\"\ntrust_anchors = [\"../authority.pub\"]\n\
                 directory = [\"../members\", \"override\"]\n{route}\n\
                 [limits]\nidle_timeout_secs = 6\nsweep_interval_secs = 5\nhandshake_timeout_secs = 10\n",
                addr = r.addr,
            );
            std::fs::write(&r.config, text).unwrap();
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        Self {
            dir,
            authority,
            authority_pub,
            relays,
            serial: 100,
            rt,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Issues an officer certificate for `request`, homed at relay `relay`, and puts it in the
    /// relays' directory (start relays afterwards: they read it at start).
    pub fn issue_officer(
        &mut self,
        request: &CertificateRequest,
        relay: usize,
        clearance: Classification,
    ) -> MemberCertificate {
        self.serial += 1;
        let now = unix_now();
        let cert = certificate::issue(
            &self.authority,
            request,
            &CertificateTerms {
                role: Role::Officer,
                clearance,
                home_relay: Some(self.relays[relay].cert.subject()),
                address: None,
                not_before: UnixTime(now - 3600),
                not_after: UnixTime(now + 86_400),
                serial: self.serial,
            },
            &mut os_rng(),
        )
        .unwrap();
        std::fs::write(
            self.path()
                .join("members")
                .join(format!("officer-{}.cert", self.serial)),
            cert.raw(),
        )
        .unwrap();
        cert
    }

    /// An officer made through the library: keystore, profile, certificate installed.
    pub fn officer(&mut self, name: &str, relay: usize, clearance: Classification) -> OfficerHome {
        let home = self.path().join("officers").join(name);
        std::fs::create_dir_all(&home).unwrap();
        let pass = Passphrase::new(PASSPHRASE.into());
        let mut keystore =
            OfficerKeystore::create(&home.join("keystore"), &pass, Suite::Lq2, &mut os_rng())
                .unwrap();
        let id = keystore.identity_id();
        let profile = Profile::create(
            &home,
            ProfileConfig {
                name: name.into(),
                organisation: "Test CSIRT".into(),
                identity: id.to_string(),
                relay_address: None,
                supplied_keys: None,
            },
        )
        .unwrap();
        let request =
            CertificateRequest::new(keystore.identity(), name, "Test CSIRT", &mut os_rng())
                .unwrap();
        let cert = self.issue_officer(&request, relay, clearance);
        profile
            .install(
                &cert,
                &self.relays[relay].cert,
                &[self.authority.verifying_key().clone()],
                None,
                UnixTime(unix_now()),
            )
            .unwrap();
        keystore.set_certificate(cert.clone()).unwrap();
        keystore.save(&home.join("keystore"), &pass).unwrap();
        OfficerHome { home, id, cert }
    }

    /// Gives relay `relay` (only) another certificate for `officer`'s key, with `clearance`:
    /// its directory then disagrees with the others' (a re-issued certificate that reached
    /// one relay first). Call before starting the relay.
    pub fn override_at_relay(
        &mut self,
        relay: usize,
        officer: &OfficerHome,
        clearance: Classification,
    ) -> MemberCertificate {
        let pass = Passphrase::new(PASSPHRASE.into());
        let keystore = OfficerKeystore::open(&officer.home.join("keystore"), &pass).unwrap();
        let request = CertificateRequest::new(
            keystore.identity(),
            officer.cert.name(),
            officer.cert.organisation(),
            &mut os_rng(),
        )
        .unwrap();
        self.serial += 1;
        let now = unix_now();
        let cert = certificate::issue(
            &self.authority,
            &request,
            &CertificateTerms {
                role: Role::Officer,
                clearance,
                home_relay: officer.cert.home_relay(),
                address: None,
                not_before: UnixTime(now - 3600),
                not_after: UnixTime(now + 86_400),
                serial: self.serial,
            },
            &mut os_rng(),
        )
        .unwrap();
        let dir = self.relays[relay].config.parent().unwrap().join("override");
        std::fs::write(
            dir.join(format!("officer-{}.cert", self.serial)),
            cert.raw(),
        )
        .unwrap();
        cert
    }

    /// A session configuration for `officer` (short timeouts for tests).
    pub fn session_config(&self, officer: &OfficerHome) -> SessionConfig {
        let profile = Profile::open(&officer.home).unwrap();
        let mut config =
            SessionConfig::from_profile(&profile, Passphrase::new(PASSPHRASE.into())).unwrap();
        config.timeouts = Timeouts {
            connect: Duration::from_secs(15),
            answer: Duration::from_secs(30),
        };
        config
    }

    /// Rewrites relay `i`'s configuration file (call before starting it).
    pub fn edit_relay_config(&self, i: usize, edit: impl FnOnce(String) -> String) {
        let path = &self.relays[i].config;
        let text = std::fs::read_to_string(path).unwrap();
        std::fs::write(path, edit(text)).unwrap();
    }

    /// Starts relay `i` in-process and waits until it listens.
    pub fn start(&mut self, i: usize) {
        let path = self.relays[i].config.clone();
        let setup = Config::read(&path)
            .unwrap()
            .load(&path, UnixTime(unix_now()))
            .unwrap();
        let cancel = CancellationToken::new();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let token = cancel.clone();
        let task = self.rt.spawn(async move {
            if let Err(e) = server::run(setup, token, Some(tx)).await {
                eprintln!("relay stopped with an error: {e}");
            }
        });
        let listening = self
            .rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(30), rx).await });
        assert!(
            matches!(listening, Ok(Ok(_))),
            "relay {i} did not start listening"
        );
        self.relays[i].running = Some((cancel, task));
    }

    /// Stops relay `i` gracefully (its custody store is closed and kept).
    pub fn stop(&mut self, i: usize) {
        if let Some((cancel, task)) = self.relays[i].running.take() {
            cancel.cancel();
            let _ = self
                .rt
                .block_on(async { tokio::time::timeout(Duration::from_secs(30), task).await });
        }
    }
}

impl Drop for Federation {
    fn drop(&mut self) {
        for i in 0..self.relays.len() {
            if let Some((cancel, _)) = &self.relays[i].running {
                cancel.cancel();
            }
        }
        for i in 0..self.relays.len() {
            self.stop(i);
        }
    }
}
