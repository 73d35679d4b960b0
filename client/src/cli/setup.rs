//! Setting an officer up: `liaison init` (identity key in a new encrypted keystore, profile),
//! `liaison enroll` (certificate request; `--install` of the signed certificate, the home
//! relay's certificate and the trust anchors), and `liaison contacts`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use liaison_client::keystore::OfficerKeystore;
use liaison_client::passphrase::PassphraseArgs;
use liaison_client::profile::{self, Profile, ProfileConfig, read_bounded};
use liaison_client::session::{ClientError, unix_now};
use liaison_client::store::MessageStore;
use liaison_crypto::Suite;
use liaison_crypto::rng::os_rng;
use liaison_node::config::parse_authority_key;
use liaison_proto::certificate::{
    CertificateRequest, MAX_CERTIFICATE_LEN, MemberCertificate, Role,
};
use liaison_proto::revocation::RevocationList;
use serde_json::json;

use super::output::{Outcome, human_time};
use super::{Failure, GlobalArgs};

/// `liaison init`.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    #[command(flatten)]
    pass: PassphraseArgs,
    /// Your name as it will appear in your certificate [default: $USER].
    #[arg(long)]
    name: Option<String>,
    /// Your organisation (e.g. CERT-EU) [default: unspecified].
    #[arg(long)]
    org: Option<String>,
    /// Cryptographic suite of the identity key.
    #[arg(long, default_value = "LQ2")]
    suite: Suite,
}

/// `liaison enroll`.
#[derive(Debug, Args)]
pub(crate) struct EnrollArgs {
    #[command(flatten)]
    pass: PassphraseArgs,
    /// Where to write the certificate request [default: HOME/request.csr].
    #[arg(long, value_name = "FILE", conflicts_with = "install")]
    out: Option<PathBuf>,
    /// Install the certificate the authority signed for you.
    #[arg(long, value_name = "CERT", requires_all = ["relay_cert", "trust"])]
    install: Option<PathBuf>,
    /// With --install: your home relay's certificate (its identity and address).
    #[arg(long, value_name = "RELAY_CERT", requires = "install")]
    relay_cert: Option<PathBuf>,
    /// With --install: the federation authority's public key (repeat for several anchors).
    #[arg(long, value_name = "AUTHORITY_PUB", requires = "install")]
    trust: Vec<PathBuf>,
    /// With --install: the authority's signed revocation list.
    #[arg(long, value_name = "FILE", requires = "install")]
    crl: Option<PathBuf>,
    /// With --install: dial the relay here instead of the address in its certificate.
    #[arg(long, value_name = "HOST:PORT", requires = "install")]
    relay_address: Option<String>,
}

/// `liaison contacts`.
#[derive(Debug, Args)]
pub(crate) struct ContactsArgs {
    #[command(flatten)]
    pass: PassphraseArgs,
    #[command(subcommand)]
    action: Option<ContactsAction>,
}

#[derive(Debug, Subcommand)]
enum ContactsAction {
    /// Add an officer's certificate file as a contact (checked against the trust anchors).
    Add {
        /// The certificate file.
        cert: PathBuf,
    },
}

pub(crate) fn init(args: InitArgs, global: &GlobalArgs) -> Result<Outcome, Failure> {
    let home = global.home();
    if home.join(profile::PROFILE_FILE).exists() {
        return Err(ClientError::AlreadyInitialised { home }.into());
    }
    let name = args
        .name
        .or_else(|| std::env::var("USER").ok())
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| Failure::bad_input("give your name with --name"))?;
    let org = args
        .org
        .filter(|o| !o.trim().is_empty())
        .unwrap_or_else(|| "unspecified".to_owned());
    std::fs::create_dir_all(&home).map_err(|e| ClientError::io(&home, e))?;
    let passphrase = global.passphrase(&args.pass, true)?;
    let keystore_path = home.join("keystore");
    let keystore = OfficerKeystore::create(&keystore_path, &passphrase, args.suite, &mut os_rng())?;
    let id = keystore.identity_id();
    Profile::create(
        &home,
        ProfileConfig {
            name: name.clone(),
            organisation: org.clone(),
            identity: id.to_string(),
            relay_address: None,
            supplied_keys: None,
        },
    )?;
    let human = format!(
        "created officer profile in {}\n  name         {name}\n  organisation {org}\n  identity     {id}\n  fingerprint  {}\nnext: `liaison enroll` to write a certificate request for your federation authority\n",
        home.display(),
        id.fingerprint()
    );
    Ok(Outcome::ok(
        json!({
            "ok": true,
            "home": home,
            "name": name,
            "organisation": org,
            "identity": id.to_string(),
            "fingerprint": id.fingerprint(),
            "suite": args.suite.name(),
        }),
        human,
    ))
}

pub(crate) fn enroll(args: EnrollArgs, global: &GlobalArgs) -> Result<Outcome, Failure> {
    let profile = global.profile()?;
    if let Some(cert) = &args.install {
        return install(&args, cert, profile, global);
    }
    let passphrase = global.passphrase(&args.pass, false)?;
    let keystore = OfficerKeystore::open(&profile.keystore_path(), &passphrase)?;
    let config = profile.config();
    let request = CertificateRequest::new(
        keystore.identity(),
        &config.name,
        &config.organisation,
        &mut os_rng(),
    )
    .map_err(|e| Failure::bad_input(format!("cannot build the request: {e}")))?;
    let out = args.out.unwrap_or_else(|| profile.request_path());
    profile::write_file(&out, request.raw(), 0o644)?;
    let id = keystore.identity_id();
    let human = format!(
        "certificate request written to {}\n  name         {}\n  organisation {}\n  fingerprint  {}\n\
         Give it to your federation authority, who checks the fingerprint with you and signs it:\n  \
         liaison authority sign {} --role officer --clearance LEVEL --home-relay RELAY_ID ...\n\
         then install what you get back:\n  \
         liaison enroll --install officer.cert --relay-cert relay.cert --trust authority.pub\n",
        out.display(),
        config.name,
        config.organisation,
        id.fingerprint(),
        out.display()
    );
    Ok(Outcome::ok(
        json!({
            "ok": true,
            "request": out,
            "identity": id.to_string(),
            "fingerprint": id.fingerprint(),
        }),
        human,
    ))
}

fn read_certificate(path: &Path) -> Result<MemberCertificate, Failure> {
    let bytes = read_bounded(path, MAX_CERTIFICATE_LEN)?;
    MemberCertificate::decode(&bytes).map_err(|e| {
        Failure::bad_input(format!("{}: not a member certificate: {e}", path.display()))
    })
}

fn install(
    args: &EnrollArgs,
    cert_path: &Path,
    mut profile: Profile,
    global: &GlobalArgs,
) -> Result<Outcome, Failure> {
    let now = unix_now();
    let cert = read_certificate(cert_path)?;
    let relay_path = args
        .relay_cert
        .as_deref()
        .ok_or_else(|| Failure::bad_input("--install needs --relay-cert"))?;
    let relay = read_certificate(relay_path)?;
    let mut anchors = Vec::new();
    for path in &args.trust {
        let text = read_bounded(path, 64 * 1024)?;
        let text = String::from_utf8(text)
            .map_err(|_| Failure::bad_input(format!("{}: not a text file", path.display())))?;
        anchors.push(
            parse_authority_key(&text)
                .map_err(|r| Failure::bad_input(format!("{}: {r}", path.display())))?,
        );
    }
    let crl = match &args.crl {
        Some(path) => {
            let bytes = read_bounded(path, 16 * 1024 * 1024)?;
            Some(RevocationList::decode(&bytes).map_err(|e| {
                Failure::bad_input(format!("{}: not a revocation list: {e}", path.display()))
            })?)
        }
        None => None,
    };
    let passphrase = global.passphrase(&args.pass, false)?;
    let keystore_path = profile.keystore_path();
    let mut keystore = OfficerKeystore::open(&keystore_path, &passphrase)?;
    profile.install(&cert, &relay, &anchors, crl.as_ref(), now)?;
    keystore.set_certificate(cert.clone())?;
    keystore.save(&keystore_path, &passphrase)?;
    if args.relay_address.is_some() {
        profile.set_relay_address(args.relay_address.clone());
        profile.save()?;
    }
    let address = profile.relay_address()?;
    let human = format!(
        "enrolled: {} ({}), cleared up to {}, certificate valid until {}\n  home relay  {} ({}) at {address}\nnext: `liaison send` and `liaison inbox`\n",
        cert.name(),
        cert.subject().fingerprint(),
        cert.clearance(),
        human_time(cert.not_after().0),
        relay.name(),
        relay.subject().fingerprint(),
    );
    Ok(Outcome::ok(
        json!({
            "ok": true,
            "identity": cert.subject().to_string(),
            "clearance": cert.clearance().marking(),
            "not_after": cert.not_after().0,
            "relay": relay.subject().to_string(),
            "relay_name": relay.name(),
            "relay_address": address,
        }),
        human,
    ))
}

pub(crate) fn contacts(args: ContactsArgs, global: &GlobalArgs) -> Result<Outcome, Failure> {
    let profile = global.profile()?;
    let passphrase = global.passphrase(&args.pass, false)?;
    let keystore = OfficerKeystore::open(&profile.keystore_path(), &passphrase)?;
    let store = MessageStore::open(&profile.store_path(), keystore.store_key())
        .map_err(ClientError::from)?;
    if let Some(ContactsAction::Add { cert }) = args.action {
        let cert = read_certificate(&cert)?;
        let trust = profile.trust_store(unix_now())?;
        trust
            .validate_role(&cert, Role::Officer, unix_now())
            .map_err(|e| Failure::bad_input(format!("certificate refused: {e}")))?;
        store.upsert_contact(&cert).map_err(ClientError::from)?;
        return Ok(Outcome::ok(
            json!({
                "ok": true,
                "added": contact_json(&cert),
            }),
            format!(
                "added contact {} ({}) {}\n",
                cert.name(),
                cert.organisation(),
                cert.subject().fingerprint()
            ),
        ));
    }
    let list = store.contacts().map_err(ClientError::from)?;
    let mut human = String::new();
    if list.is_empty() {
        human.push_str("no contacts yet (they are added when you send to or hear from someone, or with `liaison contacts add CERT`)\n");
    }
    for c in &list {
        let _ = writeln!(
            human,
            "{:<24} {:<16} {:<16} {}\n{:<24} {}",
            c.name(),
            c.organisation(),
            c.clearance().marking(),
            c.subject().fingerprint(),
            "",
            c.subject()
        );
    }
    Ok(Outcome::ok(
        json!({
            "ok": true,
            "contacts": list.iter().map(contact_json).collect::<Vec<_>>(),
        }),
        human,
    ))
}

fn contact_json(c: &MemberCertificate) -> serde_json::Value {
    json!({
        "identity": c.subject().to_string(),
        "fingerprint": c.subject().fingerprint(),
        "name": c.name(),
        "organisation": c.organisation(),
        "clearance": c.clearance().marking(),
        "not_after": c.not_after().0,
    })
}
