//! `liaison devnet`: a whole federation on one machine, built from nothing in a fresh directory,
//! exercised end to end, and left running for the user to try the `liaison` CLI against.
//!
//! What it builds (every part real, nothing mocked):
//! * a federation authority ([`crate::authority::Authority`]) with its root key in an encrypted
//!   keystore;
//! * an ETSI GS QKD 014 KME simulator (`liaison_qkd::sim`) over HTTPS with mutual TLS, from a
//!   fresh test PKI, serving the QKD link between the two relays;
//! * two agencies' relays, `cert-eu-relay` and `cert-ua-relay` (`liaison_node::server`, real
//!   QUIC on loopback, real redb custody files, the same TOML configuration an agency writes),
//!   linked with `qkd = "required"`: no QKD key, no link;
//! * three officers with encrypted keystores, certificates and message stores
//!   ([`crate::session::Session`]), one at CERT-EU and two at CERT-UA, each an SAE of the KME.
//!
//! It then sends the shipped STIX 2.1 example report from the CERT-EU officer to both CERT-UA
//! officers, and reports each step from what the components themselves did: the relays' link
//! handshakes (suite, whether a supplied key was mixed), their custody events, the recipients'
//! verified and decrypted report, and the signed receipts back at the sender. Officers draw
//! end-to-end keys and officer-link keys from the same KME (`[supplied_keys]`,
//! `crate::supplied`), and a last SECRET UE follow-up, which needs both, goes to one recipient.
//!
//! The relays run in this process; their logs go to `DIR/devnet.log`. Link and custody events
//! are read from those same `tracing` events by [`EventLog`], a layer beside the file writer.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use liaison_crypto::Suite;
use liaison_crypto::rng::os_rng;
use liaison_node::config::Config;
use liaison_proto::certificate::{CertificateRequest, MemberCertificate, Role};
use liaison_proto::envelope::ContentType;
use liaison_proto::{Classification, Tlp};
use liaison_qkd::sim::{OutageConfig, SimConfig, SimServer};
use liaison_qkd::{TlsFiles, pki};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

use crate::authority::{Authority, SignTerms};
use crate::keystore::OfficerKeystore;
use crate::passphrase::Passphrase;
use crate::profile::{Profile, ProfileConfig};
use crate::session::{Event, RecipientRef, Report, Session, SessionConfig, unix_now};
use crate::supplied::SuppliedKeysConfig;

/// The example report shipped in `examples/reports/`, compiled in so `devnet` needs no files.
pub const EXAMPLE_REPORT: &[u8] =
    include_bytes!("../../examples/reports/phishing-campaign.stix.json");
/// Its file name, for messages.
pub const EXAMPLE_REPORT_NAME: &str = "examples/reports/phishing-campaign.stix.json";

/// How long each step may take before devnet gives up (a whole run takes seconds).
const STEP_TIMEOUT: Duration = Duration::from_secs(60);
/// The report's marking.
const CLASSIFICATION: Classification = Classification::ConfidentielUe;
const TLP: Tlp = Tlp::Amber;

/// The two agencies' relays: (certificate name, organisation).
const RELAYS: [(&str, &str); 2] = [("cert-eu-relay", "CERT-EU"), ("cert-ua-relay", "CERT-UA")];
/// The officers: (directory, certificate name, organisation, home relay index, clearance).
const OFFICERS: [(&str, &str, &str, usize, Classification); 3] = [
    (
        "anna",
        "Anna Keller",
        "CERT-EU",
        0,
        Classification::SecretUe,
    ),
    (
        "olena",
        "Olena Shevchenko",
        "CERT-UA",
        1,
        Classification::SecretUe,
    ),
    (
        "taras",
        "Taras Bondarenko",
        "CERT-UA",
        1,
        Classification::ConfidentielUe,
    ),
];

/// The SECRET UE follow-up devnet sends (step 7).
const SECRET_FOLLOW_UP: &str = "SECRET UE follow-up: the phishing infrastructure is attributed; \
                                 handling instructions follow through the usual channel.";

/// An officer's SAE id at the KME, from its directory name.
fn officer_sae(dirname: &str) -> String {
    format!("officer-{dirname}")
}

/// The client certificate and key `pki::generate` made for SAE `sae`.
fn sae_files(
    pki_files: &pki::PkiFiles,
    sae: &str,
    step: &'static str,
) -> Result<(PathBuf, PathBuf), DevnetError> {
    pki_files
        .saes
        .iter()
        .find(|(id, _, _)| id == sae)
        .map(|(_, c, k)| (c.clone(), k.clone()))
        .ok_or_else(|| DevnetError::Step {
            step,
            reason: format!("no SAE certificate for {sae}"),
        })
}

/// An officer's `[supplied_keys]`: its own SAE at the devnet KME, its home relay's SAE for the
/// link, and every other officer by name.
fn officer_supplied_keys(
    dirname: &str,
    relay: &str,
    pki_files: &pki::PkiFiles,
    kme: &str,
) -> Result<SuppliedKeysConfig, DevnetError> {
    let me = officer_sae(dirname);
    let (cert, key) = sae_files(pki_files, &me, "configuring an officer's supplied keys")?;
    Ok(SuppliedKeysConfig {
        sae_id: me,
        policy: liaison_qkd::QkdPolicy::Preferred,
        key_bits: 256,
        peers: OFFICERS
            .iter()
            .filter(|o| o.0 != dirname)
            .map(|o| (o.1.to_owned(), officer_sae(o.0)))
            .collect(),
        relay_sae_id: Some(relay.to_owned()),
        supply: liaison_qkd::KeySupplyConfig::Etsi014 {
            kme: kme.to_owned(),
            cert,
            key,
            ca: pki_files.ca_cert.clone(),
            timeout_secs: 10,
        },
    })
}

/// Why devnet failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevnetError {
    /// A setup step failed.
    #[error("{step}: {reason}")]
    Step {
        /// What devnet was doing.
        step: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// A step did not finish in time.
    #[error("{step}: nothing after {secs} s")]
    Timeout {
        /// What devnet was waiting for.
        step: &'static str,
        /// How long it waited.
        secs: u64,
    },
}

fn step<E: std::fmt::Display>(step: &'static str) -> impl Fn(E) -> DevnetError {
    move |e| DevnetError::Step {
        step,
        reason: e.to_string(),
    }
}

/// One relay-to-relay link as the dialling relay reported it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RelayLink {
    /// The relay that dialled.
    pub relay: String,
    /// The relay it linked to.
    pub peer: String,
    /// The negotiated suite.
    pub suite: String,
    /// Whether a QKD key from the KME was mixed into the link keys.
    pub supplied_key: bool,
}

/// One officer of the federation.
#[derive(Debug, Clone, Serialize)]
pub struct OfficerInfo {
    /// The certificate name.
    pub name: String,
    /// The agency.
    pub organisation: String,
    /// The home relay's name.
    pub relay: String,
    /// The identity id (64 hex digits).
    pub identity: String,
    /// The identity fingerprint.
    pub fingerprint: String,
    /// The officer's `liaison` home directory.
    pub home: PathBuf,
}

/// What devnet achieved; printed as the last stdout line with `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Everything checked out: delivered to every recipient and every receipt verified.
    pub ok: bool,
    /// Reports decrypted and verified by recipients.
    pub delivered: usize,
    /// Recipients the report was sent to.
    pub recipients: usize,
    /// Receipts verified by the sender.
    pub receipts_verified: usize,
    /// Every relay-to-relay link mixed a supplied (QKD) key.
    pub qkd_key_mixed: bool,
    /// Recipients of the report whose key mixed an end-to-end QKD key.
    pub e2e_qkd_keys: usize,
    /// The SECRET UE follow-up reached its recipient intact, with an end-to-end QKD key.
    pub secret_ue_delivered: bool,
    /// The suites of the relay links (and of the envelope).
    pub suites: Vec<String>,
    /// The relay links.
    pub relay_links: Vec<RelayLink>,
    /// The report's message id.
    pub message_id: String,
    /// Custody events the relays committed for it, in order.
    pub custody: Vec<String>,
    /// The federation's directory.
    pub dir: PathBuf,
    /// The officers.
    pub officers: Vec<OfficerInfo>,
    /// Milliseconds from start to the last receipt.
    pub elapsed_ms: u128,
}

/// A running devnet: the KME simulator and the relays, until [`Devnet::shutdown`].
#[derive(Debug)]
pub struct Devnet {
    dir: PathBuf,
    passphrase_file: PathBuf,
    officers: Vec<OfficerInfo>,
    kme: SimServer,
    cancel: CancellationToken,
    relays: Vec<tokio::task::JoinHandle<()>>,
}

impl Devnet {
    /// The federation's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Shell commands to paste to use the running federation with the `liaison` CLI;
    /// `message_id` is the report devnet sent.
    pub fn commands(&self, liaison: &str, message_id: &str) -> String {
        let pass = self.passphrase_file.display();
        let home = |i: usize| self.officers[i].home.display().to_string();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Olena's inbox, then the report written out in its original format:\n\
             {liaison} --home {h1} inbox --passphrase-file {pass}\n\
             {liaison} --home {h1} read {message_id} --out . --passphrase-file {pass}\n\
             # Anna sends a text report to both CERT-UA officers, then lists her receipts:\n\
             echo 'Phishing wave ongoing; IOCs follow.' | {liaison} --home {h0} send --to \"{n1}\" --to \"{n2}\" \\\n    \
             --classification RESTREINT-UE --tlp GREEN --passphrase-file {pass} -\n\
             {liaison} --home {h2} inbox --passphrase-file {pass}\n\
             {liaison} --home {h0} receipts --passphrase-file {pass}\n\
             # A SECRET UE report to Olena: a QKD key from the KME for her, and on both officer links:\n\
             echo 'Attribution follows.' | {liaison} --home {h0} send --to \"{n1}\" --classification SECRET-UE --tlp RED --passphrase-file {pass} -\n\
             # Taras is cleared up to CONFIDENTIEL UE: a SECRET UE report to him is refused (exit code 3):\n\
             {liaison} --home {h0} send --to \"{n2}\" --classification SECRET-UE --tlp RED --passphrase-file {pass} {report}",
            h0 = home(0),
            h1 = home(1),
            h2 = home(2),
            n1 = self.officers[1].name,
            n2 = self.officers[2].name,
            report = self.dir.join("phishing-campaign.stix.json").display(),
        );
        out
    }

    /// Stops the relays (gracefully: commits finished, links closed) and the KME simulator.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        for relay in self.relays {
            let _ = tokio::time::timeout(Duration::from_secs(20), relay).await;
        }
        self.kme.shutdown().await;
    }
}

/// Link and custody events the relays logged, captured from `tracing`.
#[derive(Debug, Clone, Default)]
pub struct EventLog(Arc<Mutex<Vec<CapturedEvent>>>);

/// One captured relay event.
#[derive(Debug, Clone)]
pub struct CapturedEvent {
    /// The relay it came from (the `devnet_relay` span around that relay).
    pub relay: Option<String>,
    /// The event's message.
    pub message: String,
    /// Its fields.
    pub fields: BTreeMap<String, String>,
}

impl EventLog {
    fn snapshot(&self) -> Vec<CapturedEvent> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// The relay-to-relay links reported so far (dialling side, latest per relay).
    pub fn relay_links(&self) -> Vec<RelayLink> {
        let mut latest: BTreeMap<String, RelayLink> = BTreeMap::new();
        for e in self.snapshot() {
            // The dialling side logs `peer`; the accepting side logs `role`/`name`.
            if e.message != "link up" || !e.fields.contains_key("peer") {
                continue;
            }
            let (Some(relay), Some(peer), Some(suite), Some(mixed)) = (
                e.relay.clone(),
                e.fields.get("peer"),
                e.fields.get("suite"),
                e.fields.get("supplied_key"),
            ) else {
                continue;
            };
            latest.insert(
                relay.clone(),
                RelayLink {
                    relay,
                    peer: peer.clone(),
                    suite: suite.clone(),
                    supplied_key: mixed == "true",
                },
            );
        }
        latest.into_values().collect()
    }

    /// Custody events of the message with hex id `id`, as "relay: what".
    pub fn custody_of(&self, id: &str) -> Vec<String> {
        self.snapshot()
            .into_iter()
            .filter(|e| e.fields.get("id").is_some_and(|v| v == id))
            .map(|e| {
                let mut line = format!("{}: {}", e.relay.as_deref().unwrap_or("?"), e.message);
                for key in ["status", "how", "to", "peer", "code", "reason"] {
                    if let Some(v) = e.fields.get(key) {
                        let _ = write!(line, " {key}={v}");
                    }
                }
                line
            })
            .collect()
    }
}

#[derive(Default)]
struct FieldMap(BTreeMap<String, String>);

impl Visit for FieldMap {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

/// The `tracing` layer feeding [`EventLog`]: records each span's fields, and for every
/// `liaison_node` event its fields plus the `devnet_relay` of its span scope.
struct CaptureLayer(EventLog);

impl<S> Layer<S> for CaptureLayer
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut fields = FieldMap::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        if !event.metadata().target().starts_with("liaison_node") {
            return;
        }
        let mut fields = FieldMap::default();
        event.record(&mut fields);
        let relay = ctx.event_scope(event).and_then(|scope| {
            scope.from_root().find_map(|span| {
                span.extensions()
                    .get::<FieldMap>()
                    .and_then(|f| f.0.get("devnet_relay").cloned())
            })
        });
        let message = fields.0.remove("message").unwrap_or_default();
        if let Ok(mut log) = (self.0).0.lock() {
            log.push(CapturedEvent {
                relay,
                message,
                fields: fields.0,
            });
        }
    }
}

/// Installs the process-wide logger: relay logs to `log_file`, and the capture layer.
/// Fails if a global subscriber is already set.
pub fn install_logging(log_file: &Path) -> Result<EventLog, DevnetError> {
    let file = std::fs::File::create(log_file).map_err(step("creating the log file"))?;
    let events = EventLog::default();
    let filter = |default: &str| {
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default))
    };
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(Mutex::new(file))
                .with_filter(filter("info,liaison_node=debug")),
        )
        .with(
            CaptureLayer(events.clone())
                .with_filter(EnvFilter::new("liaison_client=info,liaison_node=debug")),
        )
        .try_init()
        .map_err(step("installing the logger"))?;
    Ok(events)
}

/// Prints one narrated step.
fn say(line: impl AsRef<str>) {
    println!("{}", line.as_ref());
}

fn free_udp_port() -> Result<u16, DevnetError> {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .map_err(step("finding a free UDP port"))
}

/// Picks and creates the federation's directory: `dir` if given (it must be absent or empty),
/// else a new one under the temporary directory. Returns it absolute.
pub fn prepare_dir(dir: Option<&Path>) -> Result<PathBuf, DevnetError> {
    let dir = match dir {
        Some(d) => d.to_owned(),
        None => std::env::temp_dir().join(format!(
            "liaison-devnet-{}-{}",
            unix_now().0,
            std::process::id()
        )),
    };
    if dir.exists()
        && std::fs::read_dir(&dir)
            .map_err(step("reading the devnet directory"))?
            .next()
            .is_some()
    {
        return Err(DevnetError::Step {
            step: "preparing the directory",
            reason: format!(
                "{} is not empty; devnet builds a fresh federation (give --dir a new path)",
                dir.display()
            ),
        });
    }
    std::fs::create_dir_all(&dir).map_err(step("creating the devnet directory"))?;
    // Make it absolute so the printed commands work from anywhere.
    std::fs::canonicalize(&dir).map_err(step("resolving the devnet directory"))
}

fn write_secret(path: &Path, bytes: &[u8]) -> Result<(), DevnetError> {
    crate::keystore::write_atomic(path, bytes, 0o600).map_err(step("writing a secret file"))
}

/// Builds the federation in `dir` (from [`prepare_dir`]), runs the report exchange and returns
/// the running devnet with the summary. `events` must come from [`install_logging`] (the
/// relays' link and custody events are read from it).
pub async fn run(dir: &Path, events: &EventLog) -> Result<(Devnet, Summary), DevnetError> {
    let started = Instant::now();
    let dir = dir.to_owned();
    let mut rng = os_rng();
    say(format!("Liaison devnet in {}", dir.display()));

    // One random passphrase for every keystore of the demo, in a 0600 file the printed
    // commands pass with --passphrase-file.
    let passphrase_file = dir.join("passphrase");
    let secret = {
        let mut bytes = [0u8; 18];
        rand_core::Rng::fill_bytes(&mut rng, &mut bytes);
        hex::encode(bytes)
    };
    write_secret(&passphrase_file, secret.as_bytes())?;
    let passphrase = || Passphrase::new(secret.clone());
    std::fs::write(dir.join("phishing-campaign.stix.json"), EXAMPLE_REPORT)
        .map_err(step("writing the example report"))?;

    // 1. The federation authority.
    let authority_dir = dir.join("authority");
    let authority = Authority::init(
        &authority_dir,
        "EU Cyber Liaison Federation (devnet)",
        Suite::Lq2,
        &passphrase(),
        &mut rng,
    )
    .map_err(step("creating the federation authority"))?;
    say(format!(
        "[1/7] federation authority {} (root key {}, encrypted keystore {})",
        authority.name(),
        authority.id().fingerprint(),
        authority_dir.display()
    ));
    // `Authority::init` wrote the trust anchor the relays load.
    let anchor = authority_dir.join(crate::authority::PUBLIC_FILE);
    let members = dir.join("members");
    std::fs::create_dir_all(&members).map_err(step("creating members/"))?;

    // 2. The QKD key management entity (ETSI GS QKD 014 over mutual TLS), for the relays and
    // the officers (end-to-end keys and officer links).
    let sae_ids: Vec<String> = RELAYS
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .chain(OFFICERS.iter().map(|o| officer_sae(o.0)))
        .collect();
    let pki_files =
        pki::generate(&dir.join("kme-pki"), &sae_ids).map_err(step("making the KME PKI"))?;
    let kme = SimServer::start(
        "127.0.0.1:0"
            .parse()
            .map_err(step("parsing the KME address"))?,
        &TlsFiles {
            cert: pki_files.kme.0.clone(),
            key: pki_files.kme.1.clone(),
            ca: pki_files.ca_cert.clone(),
        },
        SimConfig::default(),
        OutageConfig::default(),
    )
    .await
    .map_err(step("starting the KME simulator"))?;
    say(format!(
        "[2/7] QKD key management entity (ETSI GS QKD 014, mutual TLS) at {} for SAEs {}",
        kme.url(),
        sae_ids.join(", ")
    ));

    // 3. The relays: identity, certificate from the authority, configuration, start.
    let now = unix_now();
    let mut relay_certs = Vec::new();
    let mut relay_dirs = Vec::new();
    for (name, org) in RELAYS {
        let rdir = dir.join(name);
        std::fs::create_dir_all(&rdir).map_err(step("creating a relay directory"))?;
        let key = liaison_node::identity::generate(&rdir.join("node.key"), Suite::Lq2)
            .map_err(step("creating a relay identity"))?;
        let addr: SocketAddr = SocketAddr::from(([127, 0, 0, 1], free_udp_port()?));
        let request =
            CertificateRequest::new(&key, name, org, &mut rng).map_err(step("relay request"))?;
        let cert = authority
            .sign(
                &request,
                &SignTerms {
                    role: Role::Relay,
                    clearance: Classification::SecretUe,
                    valid_days: 30,
                    home_relay: None,
                    address: Some(addr.to_string()),
                },
                now,
                &mut rng,
            )
            .map_err(step("signing a relay certificate"))?;
        std::fs::write(rdir.join("node.cert"), cert.raw()).map_err(step("writing node.cert"))?;
        std::fs::write(members.join(format!("{name}.cert")), cert.raw())
            .map_err(step("writing members/"))?;
        relay_certs.push(cert);
        relay_dirs.push(rdir);
    }

    // 4. The officers: keystore, profile, certificate request signed by the authority.
    let mut officers = Vec::new();
    for (dirname, name, org, home, clearance) in OFFICERS {
        let home_dir = dir.join("officers").join(dirname);
        let keystore_profile = ProfileConfig {
            name: name.to_owned(),
            organisation: org.to_owned(),
            identity: String::new(),
            relay_address: None,
            supplied_keys: Some(officer_supplied_keys(
                dirname,
                RELAYS[home].0,
                &pki_files,
                &kme.url(),
            )?),
        };
        let info = enrol_officer(
            &home_dir,
            keystore_profile,
            &passphrase(),
            &authority,
            &relay_certs[home],
            clearance,
            &members,
            &mut rng,
        )?;
        officers.push(info);
    }
    say(format!(
        "[3/7] officers enrolled: {}",
        officers
            .iter()
            .map(|o| format!(
                "{} ({}, {}, {})",
                o.name, o.organisation, o.relay, o.fingerprint
            ))
            .collect::<Vec<_>>()
            .join("; ")
    ));
    drop(authority);

    let cancel = CancellationToken::new();
    let mut relays = Vec::new();
    for (i, (name, _)) in RELAYS.iter().enumerate() {
        let other = RELAYS[1 - i].0;
        let (sae_cert, sae_key) = sae_files(&pki_files, name, "configuring a relay")?;
        let config_file = relay_dirs[i].join("relay.toml");
        let text = format!(
            "# Written by `liaison devnet`; the same schema as examples/relay.toml.\n\
             listen = \"{listen}\"\nidentity_key = \"node.key\"\ncertificate = \"node.cert\"\n\
             storage = \"custody.redb\"\ntrust_anchors = [{anchor:?}]\ndirectory = [{members:?}]\n\
             sae_id = \"{name}\"\nofficer_qkd = \"preferred\"\n\n\
             [key_supply]\nkind = \"etsi014\"\nkme = \"{kme}\"\ncert = {cert:?}\nkey = {key:?}\nca = {ca:?}\n\n\
             [[route]]\nrelay = \"{other}\"\nqkd = \"required\"\nsae_id = \"{other}\"\n",
            listen = relay_certs[i].address().unwrap_or("127.0.0.1:0"),
            anchor = anchor.display().to_string(),
            members = members.display().to_string(),
            kme = kme.url(),
            cert = sae_cert.display().to_string(),
            key = sae_key.display().to_string(),
            ca = pki_files.ca_cert.display().to_string(),
        );
        std::fs::write(&config_file, text).map_err(step("writing relay.toml"))?;
        let setup = Config::read(&config_file)
            .and_then(|c| c.load(&config_file, unix_now()))
            .map_err(step("loading relay.toml"))?;
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let relay_cancel = cancel.clone();
        let span = tracing::info_span!("relay", devnet_relay = *name);
        let task = tokio::spawn(
            async move {
                if let Err(e) = liaison_node::server::run(setup, relay_cancel, Some(ready_tx)).await
                {
                    tracing::error!(error = %e, "relay stopped");
                }
            }
            .instrument(span),
        );
        let bound = tokio::time::timeout(STEP_TIMEOUT, ready_rx)
            .await
            .map_err(|_| DevnetError::Timeout {
                step: "starting a relay",
                secs: STEP_TIMEOUT.as_secs(),
            })?
            .map_err(|_| DevnetError::Step {
                step: "starting a relay",
                reason: format!(
                    "{name} stopped before listening; see {}",
                    dir.join("devnet.log").display()
                ),
            })?;
        say(format!(
            "[4/7] relay {name} listening on {bound} (QUIC, TLS 1.3 X25519MLKEM768 only; custody {})",
            relay_dirs[i].join("custody.redb").display()
        ));
        relays.push(task);
    }
    let devnet = Devnet {
        dir: dir.clone(),
        passphrase_file,
        officers: officers.clone(),
        kme,
        cancel,
        relays,
    };

    // Both relays dial each other; wait until both links are up.
    let links = wait_for(STEP_TIMEOUT, "the QKD-keyed relay links", || {
        let links = events.relay_links();
        (links.len() == RELAYS.len()).then_some(links)
    })
    .await?;
    for l in &links {
        say(format!(
            "      link {} -> {}: hybrid handshake suite {} (X25519 + ML-KEM-1024, Ed25519 + ML-DSA-87), QKD key from the KME {}",
            l.relay,
            l.peer,
            l.suite,
            if l.supplied_key {
                "mixed in"
            } else {
                "NOT mixed in"
            }
        ));
    }

    // 5. The exchange: recipients come online (publishing prekeys), Anna sends, they read.
    let mut sessions = Vec::new();
    for o in &officers {
        let profile = Profile::open(&o.home).map_err(step("opening an officer profile"))?;
        let config = SessionConfig::from_profile(&profile, passphrase())
            .map_err(step("unlocking an officer keystore"))?;
        let session = tokio::time::timeout(STEP_TIMEOUT, Session::connect(config))
            .await
            .map_err(|_| DevnetError::Timeout {
                step: "connecting an officer",
                secs: STEP_TIMEOUT.as_secs(),
            })?
            .map_err(step("connecting an officer"))?;
        sessions.push(session);
    }
    let recipients: Vec<RecipientRef> = officers[1..]
        .iter()
        .map(|o| o.identity.parse().map(RecipientRef::Id))
        .collect::<Result<_, _>>()
        .map_err(step("naming the recipients"))?;
    let report = Report {
        content_type: ContentType::Stix21Bundle,
        content: EXAMPLE_REPORT.to_vec(),
    };
    crate::content::validate_stix_bundle(EXAMPLE_REPORT)
        .map_err(step("validating the example report"))?;
    let outcome = sessions[0]
        .send(&report, &recipients, CLASSIFICATION, TLP)
        .await
        .map_err(step("sending the report"))?;
    let message_id = outcome.message_id.to_string();
    say(format!(
        "[5/7] {} sent {} ({} bytes, STIX 2.1, {} / {}) to {}: one envelope, {} recipient blocks ({} with a QKD key from the KME mixed in end to end), custody acknowledged by {} (message {})",
        officers[0].name,
        EXAMPLE_REPORT_NAME,
        EXAMPLE_REPORT.len(),
        CLASSIFICATION.marking(),
        TLP.label(),
        officers[1..]
            .iter()
            .map(|o| o.name.as_str())
            .collect::<Vec<_>>()
            .join(" and "),
        outcome.recipients.len(),
        outcome.supplied_keys,
        officers[0].relay,
        message_id
    ));

    let mut delivered = 0;
    for (i, session) in sessions.iter_mut().enumerate().skip(1) {
        let message = receive_message(session, &outcome.message_id).await?;
        let intact = message.plaintext.as_slice() == EXAMPLE_REPORT;
        say(format!(
            "      {} received it:\n      ==== {} / {} — {} ====\n      from {} ({}), signature and certificate verified, {} bytes of STIX 2.1{}",
            officers[i].name,
            message.classification.marking(),
            message.classification.english(),
            message.tlp.label(),
            message.sender_name,
            message.sender_fingerprint,
            message.plaintext.len(),
            if intact {
                ", identical to the original"
            } else {
                ", DIFFERENT from the original"
            }
        ));
        if intact {
            delivered += 1;
        }
    }

    // 6. The receipts, signed by each recipient, back at Anna.
    let mut receipts_verified = 0;
    let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
    while receipts_verified < recipients.len() {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            break;
        }
        match sessions[0]
            .next_event(left)
            .await
            .map_err(step("waiting for receipts"))?
        {
            Some(Event::Receipt(r)) if r.message_id == outcome.message_id => {
                receipts_verified += 1;
                say(format!(
                    "[6/7] signed receipt from {} ({}) verified by {}",
                    r.recipient_name,
                    r.recipient.fingerprint(),
                    officers[0].name
                ));
            }
            Some(_) | None => {}
        }
    }
    // 7. SECRET UE: only with a supplied key for the recipient and on both officer links.
    let secret = sessions[0]
        .send(
            &Report {
                content_type: ContentType::Text,
                content: SECRET_FOLLOW_UP.as_bytes().to_vec(),
            },
            &recipients[..1],
            Classification::SecretUe,
            Tlp::Red,
        )
        .await
        .map_err(step("sending the SECRET UE follow-up"))?;
    let got = receive_message(&mut sessions[1], &secret.message_id).await?;
    let secret_ue_delivered =
        got.plaintext.as_slice() == SECRET_FOLLOW_UP.as_bytes() && secret.supplied_keys == 1;
    say(format!(
        "[7/7] {} sent a SECRET UE / TLP:RED follow-up to {} (QKD key mixed in end to end and on both officer links, which SECRET UE requires); {} decrypted it{}",
        officers[0].name,
        officers[1].name,
        officers[1].name,
        if secret_ue_delivered {
            ""
        } else {
            ": NOT as sent"
        }
    ));

    let custody = events.custody_of(&hex::encode(outcome.message_id.0));
    if !custody.is_empty() {
        say("      custody hops, as the relays committed them:");
        for line in &custody {
            say(format!("        {line}"));
        }
    }
    for session in sessions {
        session.close().await;
    }

    let links = events.relay_links();
    let mut suites: Vec<String> = links.iter().map(|l| l.suite.clone()).collect();
    suites.push(relay_certs[0].suite().name().to_owned());
    suites.sort();
    suites.dedup();
    let qkd_key_mixed = !links.is_empty() && links.iter().all(|l| l.supplied_key);
    let e2e_qkd_keys = outcome.supplied_keys;
    let summary = Summary {
        ok: delivered == recipients.len()
            && receipts_verified == recipients.len()
            && qkd_key_mixed
            && e2e_qkd_keys == recipients.len()
            && secret_ue_delivered,
        delivered,
        e2e_qkd_keys,
        secret_ue_delivered,
        recipients: recipients.len(),
        receipts_verified,
        qkd_key_mixed,
        suites,
        relay_links: links,
        message_id,
        custody,
        dir,
        officers,
        elapsed_ms: started.elapsed().as_millis(),
    };
    Ok((devnet, summary))
}

/// Creates an officer's profile and keystore, has the authority sign its request, and installs
/// the certificate, the home relay's certificate and the trust anchor, exactly as `liaison
/// init`, `enroll` and `enroll --install` do.
#[allow(clippy::too_many_arguments)]
fn enrol_officer(
    home: &Path,
    mut config: ProfileConfig,
    passphrase: &Passphrase,
    authority: &Authority,
    relay: &MemberCertificate,
    clearance: Classification,
    members: &Path,
    rng: &mut (impl rand_core::CryptoRng + ?Sized),
) -> Result<OfficerInfo, DevnetError> {
    std::fs::create_dir_all(home).map_err(step("creating an officer home"))?;
    // The same file name `liaison init` uses (`Profile::keystore_path`).
    let keystore_path = home.join("keystore");
    let mut keystore = OfficerKeystore::create(&keystore_path, passphrase, Suite::Lq2, rng)
        .map_err(step("creating an officer keystore"))?;
    config.identity = keystore.identity_id().to_string();
    let (name, org) = (config.name.clone(), config.organisation.clone());
    let profile = Profile::create(home, config).map_err(step("creating an officer profile"))?;
    let request = CertificateRequest::new(keystore.identity(), &name, &org, rng)
        .map_err(step("an officer's certificate request"))?;
    let cert = authority
        .sign(
            &request,
            &SignTerms {
                role: Role::Officer,
                clearance,
                valid_days: 30,
                home_relay: Some(relay.subject()),
                address: None,
            },
            unix_now(),
            rng,
        )
        .map_err(step("signing an officer certificate"))?;
    std::fs::write(
        members.join(format!("{}.cert", &cert.subject().to_string()[..16])),
        cert.raw(),
    )
    .map_err(step("writing members/"))?;
    keystore
        .set_certificate(cert.clone())
        .map_err(step("installing an officer certificate"))?;
    keystore
        .save(&keystore_path, passphrase)
        .map_err(step("saving an officer keystore"))?;
    profile
        .install(
            &cert,
            relay,
            &[authority.verifying_key().clone()],
            None,
            unix_now(),
        )
        .map_err(step("installing an officer's enrolment"))?;
    Ok(OfficerInfo {
        name,
        organisation: org,
        relay: relay.name().to_owned(),
        identity: cert.subject().to_string(),
        fingerprint: cert.subject().fingerprint(),
        home: home.to_owned(),
    })
}

/// Waits for the message `id` on `session`, skipping anything else.
async fn receive_message(
    session: &mut Session,
    id: &liaison_proto::envelope::MessageId,
) -> Result<crate::store::ReceivedMessage, DevnetError> {
    let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Err(DevnetError::Timeout {
                step: "waiting for the report at a recipient",
                secs: STEP_TIMEOUT.as_secs(),
            });
        }
        match session
            .next_event(left)
            .await
            .map_err(step("waiting for the report at a recipient"))?
        {
            Some(Event::Message(m)) if m.message_id == *id => return Ok(m),
            Some(Event::Rejected { reason, .. }) => {
                return Err(DevnetError::Step {
                    step: "receiving the report",
                    reason,
                });
            }
            Some(_) | None => {}
        }
    }
}

/// Polls `check` every 50 ms until it yields, or fails after `limit`.
async fn wait_for<T>(
    limit: Duration,
    what: &'static str,
    mut check: impl FnMut() -> Option<T>,
) -> Result<T, DevnetError> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return Ok(v);
        }
        if Instant::now() >= deadline {
            return Err(DevnetError::Timeout {
                step: what,
                secs: limit.as_secs(),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
