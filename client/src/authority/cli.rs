//! The `liaison authority` command line: the clap definitions of the subcommands and [`run`],
//! which obtains the passphrase, calls [`super::Authority`] and prints human output or one
//! JSON object; plus `inspect`, the offline look at a request, certificate or list.

use std::fs;
use std::path::{Path, PathBuf};

use liaison_crypto::{IdentityId, Suite};
use liaison_proto::certificate::{CertificateRequest, MemberCertificate, Role};
use liaison_proto::revocation::RevocationList;
use liaison_proto::{Classification, ProtoError};

use super::{
    Authority, AuthorityError, KEY_FILE, PUBLIC_FILE, RevokeOutcome, RevokeTarget, SignTerms,
    check_fingerprint, now, read_bounded, read_certificate, read_request,
};
use crate::keystore;
use crate::passphrase::PassphraseArgs;

/// `--role` values.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleArg {
    /// A liaison officer (needs `--home-relay`).
    Officer,
    /// A relay node (needs `--address`).
    Relay,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Officer => Self::Officer,
            RoleArg::Relay => Self::Relay,
        }
    }
}

/// `liaison authority …` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum AuthorityCommand {
    /// Create a federation authority: a root signing key sealed under a passphrase, the public
    /// trust-anchor file `authority.pub`, and the state database.
    Init {
        /// The authority directory (created 0700; keep it offline).
        #[arg(long)]
        dir: PathBuf,
        /// The authority's name, shown in `list`.
        #[arg(long, default_value = "Liaison federation authority")]
        name: String,
        /// Cryptographic suite of the root key (`lq2` default, `lq1`).
        #[arg(long, default_value = "lq2")]
        suite: Suite,
        /// Where the root key's passphrase comes from.
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
    /// Issue a member certificate for a certificate request (from `liaison enroll` or
    /// `liaison-node init`).
    Sign {
        /// The certificate request file.
        request: PathBuf,
        /// The authority directory.
        #[arg(long)]
        dir: PathBuf,
        /// What the member may do.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Highest classification the member may handle (`unclassified`, `restreint-ue`,
        /// `confidentiel-ue`, `secret-ue`, `tres-secret-ue`, or the English names).
        #[arg(long)]
        clearance: Classification,
        /// Validity in days from now (1..=3650).
        #[arg(long, default_value_t = 365)]
        valid_days: u32,
        /// Officers: the home relay, as its certificate file or its 64-hex-digit id.
        #[arg(long, value_name = "CERT_FILE|ID")]
        home_relay: Option<String>,
        /// Relays: the `host:port` other members dial.
        #[arg(long, value_name = "HOST:PORT")]
        address: Option<String>,
        /// Where to write the certificate.
        #[arg(long)]
        out: PathBuf,
        /// Refuse unless the request's key has this fingerprint (or id prefix), as read out by
        /// the member over a trusted channel. Spaces and case are ignored.
        #[arg(long, value_name = "FINGERPRINT")]
        expect_fingerprint: Option<String>,
        /// Where the root key's passphrase comes from.
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
    /// Show what a request, certificate or revocation list file says, and check its signature
    /// (a request's own; a certificate's or list's against `--dir`'s key). No passphrase.
    Inspect {
        /// The file.
        file: PathBuf,
        /// The authority directory whose public key checks certificates and lists.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Revoke a certificate (by serial or certificate file); it appears in the next `crl`.
    Revoke {
        /// Serial number, or a certificate file issued by this authority.
        target: String,
        /// The authority directory.
        #[arg(long)]
        dir: PathBuf,
        /// Why (recorded in the state database).
        #[arg(long, default_value = "unspecified")]
        reason: String,
        /// Revoke the subject's key itself: every certificate ever issued for it.
        #[arg(long)]
        subject: bool,
        /// Where the root key's passphrase comes from.
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
    /// Sign a revocation list of everything revoked so far, numbered one above the last.
    Crl {
        /// The authority directory.
        #[arg(long)]
        dir: PathBuf,
        /// Where to write the list.
        #[arg(long)]
        out: PathBuf,
        /// Days until the next list is due (1..=90).
        #[arg(long, default_value_t = 7)]
        valid_days: u32,
        /// Where the root key's passphrase comes from.
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
    /// List issued certificates and their status (needs no passphrase).
    List {
        /// The authority directory.
        #[arg(long)]
        dir: PathBuf,
    },
}

/// Runs one authority command, printing human output, or one JSON object with `json`.
pub fn run(cmd: AuthorityCommand, json: bool) -> Result<(), AuthorityError> {
    let mut rng = liaison_crypto::rng::os_rng();
    let now = now();
    match cmd {
        AuthorityCommand::Init {
            dir,
            name,
            suite,
            passphrase,
        } => {
            if dir.join(KEY_FILE).exists() {
                return Err(AuthorityError::AlreadyInitialised { dir });
            }
            let pass = passphrase.source().obtain("authority key", true)?;
            let auth = Authority::init(&dir, &name, suite, &pass, &mut rng)?;
            let id = auth.id();
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "dir": dir.display().to_string(),
                        "name": name,
                        "suite": suite.name(),
                        "id": id.to_string(),
                        "fingerprint": id.fingerprint(),
                        "public_key_file": dir.join(PUBLIC_FILE).display().to_string(),
                    })
                );
            } else {
                println!("federation authority created in {}", dir.display());
                println!("  name          {name}");
                println!("  suite         {}", suite.name());
                println!("  fingerprint   {}", id.fingerprint());
                println!(
                    "  trust anchor  {}  (give this file to every relay and officer)",
                    dir.join(PUBLIC_FILE).display()
                );
            }
            Ok(())
        }
        AuthorityCommand::Sign {
            request,
            dir,
            role,
            clearance,
            valid_days,
            home_relay,
            address,
            out,
            expect_fingerprint,
            passphrase,
        } => {
            let req = read_request(&request)?;
            if let Some(expected) = &expect_fingerprint {
                check_fingerprint(&req.subject(), expected)?;
            }
            let home_relay = home_relay.as_deref().map(parse_home_relay).transpose()?;
            let terms = SignTerms {
                role: role.into(),
                clearance,
                valid_days,
                home_relay,
                address,
            };
            terms.check()?;
            if !json {
                println!("request {}", request.display());
                println!("  subject       {} ({})", req.name(), req.organisation());
                println!("  fingerprint   {}", req.subject().fingerprint());
                println!("  suite         {}", req.public_key().suite().name());
                println!("  self-signature verified");
            }
            Authority::require(&dir)?;
            let pass = passphrase.source().obtain("authority key", false)?;
            let auth = Authority::open(&dir, &pass)?;
            let cert = auth.sign(&req, &terms, now, &mut rng)?;
            keystore::write_atomic(&out, cert.raw(), 0o644)?;
            if json {
                let mut v = cert_json(&cert);
                v["out"] = out.display().to_string().into();
                println!("{v}");
            } else {
                println!("issued certificate serial {}", cert.serial());
                println!("  role          {}", cert.role().name());
                println!("  clearance     {}", cert.clearance().marking());
                println!(
                    "  valid         {} .. {}",
                    crate::content::format_utc(cert.not_before().0),
                    crate::content::format_utc(cert.not_after().0)
                );
                if let Some(h) = cert.home_relay() {
                    println!("  home relay    {}", h.fingerprint());
                }
                if let Some(a) = cert.address() {
                    println!("  address       {a}");
                }
                println!("  written to    {}", out.display());
            }
            Ok(())
        }
        AuthorityCommand::Revoke {
            target,
            dir,
            reason,
            subject,
            passphrase,
        } => {
            Authority::require(&dir)?;
            let pass = passphrase.source().obtain("authority key", false)?;
            let auth = Authority::open(&dir, &pass)?;
            let target = auth.parse_revoke_target(&target, subject)?;
            let outcome = auth.revoke(&target, &reason, now)?;
            let (what, value) = match &target {
                RevokeTarget::Serial(s) => ("serial", s.to_string()),
                RevokeTarget::Subject(id) => ("subject", id.to_string()),
            };
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        what: value,
                        "newly_revoked": outcome == RevokeOutcome::Revoked,
                        "reason": reason,
                    })
                );
            } else {
                match outcome {
                    RevokeOutcome::Revoked => println!("revoked {what} {value} ({reason})"),
                    RevokeOutcome::AlreadyRevoked => println!("{what} {value} was already revoked"),
                }
                println!(
                    "publish a new list: liaison authority crl --dir {} --out FILE",
                    dir.display()
                );
            }
            Ok(())
        }
        AuthorityCommand::Crl {
            dir,
            out,
            valid_days,
            passphrase,
        } => {
            Authority::require(&dir)?;
            let pass = passphrase.source().obtain("authority key", false)?;
            let auth = Authority::open(&dir, &pass)?;
            let crl = auth.issue_crl(valid_days, now, &mut rng)?;
            keystore::write_atomic(&out, crl.raw(), 0o644)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "number": crl.number(),
                        "this_update": crl.this_update().0,
                        "next_update": crl.next_update().0,
                        "revoked_serials": crl.contents().revoked_serials,
                        "revoked_subjects": crl.contents().revoked_subjects.iter().map(ToString::to_string).collect::<Vec<_>>(),
                        "out": out.display().to_string(),
                    })
                );
            } else {
                println!("revocation list number {}", crl.number());
                println!(
                    "  revoked       {} serial(s), {} subject(s)",
                    crl.contents().revoked_serials.len(),
                    crl.contents().revoked_subjects.len()
                );
                println!(
                    "  next update   {}",
                    crate::content::format_utc(crl.next_update().0)
                );
                println!("  written to    {}", out.display());
            }
            Ok(())
        }
        AuthorityCommand::Inspect { file, dir } => {
            let report = inspect(&file, dir.as_deref())?;
            if json {
                println!("{}", report.json);
            } else {
                print!("{}", report.text);
            }
            Ok(())
        }
        AuthorityCommand::List { dir } => {
            let entries = Authority::list(&dir)?;
            if json {
                let items: Vec<_> = entries
                    .iter()
                    .map(|e| {
                        let mut v = cert_json(&e.certificate);
                        v["revoked"] = e.revoked.is_some().into();
                        if let Some(r) = &e.revoked {
                            v["revocation_reason"] = r.reason.clone().into();
                            v["revoked_at"] = r.at.0.into();
                        }
                        v
                    })
                    .collect();
                println!("{}", serde_json::json!({ "certificates": items }));
            } else if entries.is_empty() {
                println!("no certificates issued yet");
            } else {
                for e in &entries {
                    let c = &e.certificate;
                    let status = match &e.revoked {
                        Some(r) => format!("REVOKED ({})", r.reason),
                        None if c.not_after() < now => "expired".to_string(),
                        None => "valid".to_string(),
                    };
                    println!(
                        "{:>5}  {:<7} {:<24} {:<16} {}  until {}  {}",
                        c.serial(),
                        c.role().name(),
                        c.name(),
                        c.organisation(),
                        c.subject().fingerprint(),
                        crate::content::format_utc(c.not_after().0),
                        status
                    );
                }
            }
            Ok(())
        }
    }
}

/// What `authority inspect` found in a file: human text and one JSON object.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// Lines for people.
    pub text: String,
    /// The same, for scripts.
    pub json: serde_json::Value,
}

/// Reads a request, certificate or revocation list and checks what can be checked offline:
/// a request's proof of possession; with `dir`, a certificate's or list's signature by that
/// authority.
pub fn inspect(path: &Path, dir: Option<&Path>) -> Result<Inspection, AuthorityError> {
    let bytes = read_bounded(path, 8 * 1024 * 1024)?;
    let anchor = match dir {
        Some(d) => {
            let p = d.join(PUBLIC_FILE);
            let text = fs::read_to_string(&p).map_err(|source| AuthorityError::Io {
                path: p.clone(),
                source,
            })?;
            Some(
                liaison_node::config::parse_authority_key(&text).map_err(|reason| {
                    AuthorityError::BadCertificateFile {
                        path: p.clone(),
                        reason,
                    }
                })?,
            )
        }
        None => None,
    };
    let verdict = |r: Result<(), ProtoError>| match r {
        Ok(()) => "valid",
        Err(_) => "INVALID",
    };
    // The second byte of every signed document is its type (spec/protocol.md §4).
    let mut text = String::new();
    let json = match bytes.get(1) {
        Some(0x01) => {
            let req =
                CertificateRequest::decode(&bytes).map_err(|e| AuthorityError::BadRequest {
                    path: path.to_owned(),
                    reason: e.to_string(),
                })?;
            let sig = verdict(req.verify());
            text.push_str(&format!(
                "certificate request
  subject       {} ({})
  fingerprint   {}
  suite         {}
  self-signature {sig}
",
                req.name(),
                req.organisation(),
                req.subject().fingerprint(),
                req.public_key().suite().name()
            ));
            serde_json::json!({
                "document": "certificate request",
                "name": req.name(),
                "organisation": req.organisation(),
                "subject": req.subject().to_string(),
                "fingerprint": req.subject().fingerprint(),
                "suite": req.public_key().suite().name(),
                "signature": sig,
            })
        }
        Some(0x02) => {
            let cert = read_certificate(path)?;
            let sig = anchor.as_ref().map(|k| verdict(cert.verify_signature(k)));
            text.push_str(&format!(
                "member certificate serial {}
  subject       {} ({}), {}
  fingerprint   {}
  clearance     {}
  valid         {} .. {}
  issuer        {}
",
                cert.serial(),
                cert.name(),
                cert.organisation(),
                cert.role().name(),
                cert.subject().fingerprint(),
                cert.clearance().marking(),
                crate::content::format_utc(cert.not_before().0),
                crate::content::format_utc(cert.not_after().0),
                cert.issuer().fingerprint()
            ));
            if let Some(sig) = sig {
                text.push_str(&format!(
                    "  signature     {sig}
"
                ));
            }
            let mut v = cert_json(&cert);
            v["document"] = "member certificate".into();
            v["signature"] = sig.into();
            v
        }
        Some(0x03) => {
            let crl =
                RevocationList::decode(&bytes).map_err(|e| AuthorityError::BadCertificateFile {
                    path: path.to_owned(),
                    reason: e.to_string(),
                })?;
            let sig = anchor.as_ref().map(|k| verdict(crl.verify_signature(k)));
            text.push_str(&format!(
                "revocation list number {}
  issued        {}
  next update   {}
  revoked       serials {:?}, {} subject(s)
  issuer        {}
",
                crl.number(),
                crate::content::format_utc(crl.this_update().0),
                crate::content::format_utc(crl.next_update().0),
                crl.contents().revoked_serials,
                crl.contents().revoked_subjects.len(),
                crl.issuer().fingerprint()
            ));
            if let Some(sig) = sig {
                text.push_str(&format!(
                    "  signature     {sig}
"
                ));
            }
            serde_json::json!({
                "document": "revocation list",
                "number": crl.number(),
                "this_update": crl.this_update().0,
                "next_update": crl.next_update().0,
                "revoked_serials": crl.contents().revoked_serials,
                "revoked_subjects": crl.contents().revoked_subjects.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "issuer": crl.issuer().to_string(),
                "signature": sig,
            })
        }
        _ => {
            return Err(AuthorityError::UnknownDocument {
                path: path.to_owned(),
            });
        }
    };
    Ok(Inspection { text, json })
}

fn parse_home_relay(arg: &str) -> Result<IdentityId, AuthorityError> {
    let path = Path::new(arg);
    if !path.exists()
        && let Ok(id) = arg.parse::<IdentityId>()
    {
        return Ok(id);
    }
    let cert = read_certificate(path)?;
    if cert.role() != Role::Relay {
        return Err(AuthorityError::BadTerms(format!(
            "--home-relay {arg}: {} is an {} certificate, not a relay's",
            cert.name(),
            cert.role().name()
        )));
    }
    Ok(cert.subject())
}

fn cert_json(cert: &MemberCertificate) -> serde_json::Value {
    serde_json::json!({
        "serial": cert.serial(),
        "subject": cert.subject().to_string(),
        "fingerprint": cert.subject().fingerprint(),
        "name": cert.name(),
        "organisation": cert.organisation(),
        "role": cert.role().name(),
        "clearance": cert.clearance().marking(),
        "suite": cert.suite().name(),
        "not_before": cert.not_before().0,
        "not_after": cert.not_after().0,
        "home_relay": cert.home_relay().map(|h| h.to_string()),
        "address": cert.address(),
        "issuer": cert.issuer().to_string(),
    })
}
