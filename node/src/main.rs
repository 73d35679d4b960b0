//! `liaison-node`: the relay daemon's command line: `init` (identity key and certificate request
//! for the federation authority), `run` (the relay daemon: one config file, structured logs on
//! stderr, graceful shutdown on SIGTERM or Ctrl-C, revocation list and directory reload on
//! SIGHUP), `status` (what a running node reports on its status socket or metrics port, or
//! what a stopped node's files say) and `audit verify` (offline check of a custody database's signed,
//! hash-chained audit log).
//!
//! Exit codes: 0 success; 1 a check failed (`audit verify`); 2 usage or configuration error;
//! 3 (`status`) the node is not running; 4 (`status`) the node runs but its status endpoint does
//! not answer.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use liaison_crypto::{IdentityId, Suite};
use liaison_node::config::Config;
use liaison_node::status::{self, OfflineError, StatusReport};
use liaison_node::{audit, identity, server};
use liaison_proto::certificate::{CertificateRequest, MemberCertificate};

#[derive(Parser)]
#[command(name = "liaison-node", version, about = "Liaison relay node")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the node's identity key (0600) and a certificate request for the authority.
    Init {
        /// Directory for `node.key` and `node.csr` (created if missing).
        #[arg(long)]
        dir: PathBuf,
        /// The relay's name as it will appear in its certificate (e.g. `cert-eu-relay-1`).
        #[arg(long)]
        name: String,
        /// The operating organisation (e.g. `CERT-EU`).
        #[arg(long)]
        organisation: String,
        /// Cryptographic suite of the identity key.
        #[arg(long, default_value = "LQ2")]
        suite: Suite,
    },
    /// Run the relay until SIGTERM or Ctrl-C.
    Run {
        /// The configuration file (see `examples/relay.toml`).
        #[arg(long)]
        config: PathBuf,
        /// Log as JSON lines instead of text.
        #[arg(long)]
        log_json: bool,
    },
    /// Report on a node: links, queue depths and counters from the running node (its status
    /// socket, else its `metrics_listen` port), or, when it is not running, what its custody
    /// database says.
    /// Exit code 3 when the node is not running, 4 when it runs but does not answer.
    Status {
        /// The node's configuration file.
        #[arg(long)]
        config: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Seconds to wait for the running node's answer.
        #[arg(long, default_value_t = 3)]
        timeout: u64,
    },
    /// Audit-log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify a custody database's audit log end to end (run on a stopped node or a copy).
    Verify {
        /// The custody database file (`custody.redb`).
        store: PathBuf,
        /// The node's member certificate: checkpoints must be signed by its key.
        #[arg(long)]
        certificate: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("liaison-node: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `status`: the node is not running.
const EXIT_NOT_RUNNING: u8 = 3;
/// `status`: the node runs (its database is locked) but its status endpoint does not answer.
const EXIT_NOT_ANSWERING: u8 = 4;

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Status {
            config,
            json,
            timeout,
        } => report_status(&config, json, Duration::from_secs(timeout)),
        Command::Run { config, log_json } => {
            init_logging(log_json);
            run_node(&config)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Init {
            dir,
            name,
            organisation,
            suite,
        } => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let key = identity::generate(&dir.join("node.key"), suite)?;
            let request = CertificateRequest::new(
                &key,
                &name,
                &organisation,
                &mut liaison_crypto::rng::os_rng(),
            )
            .context("cannot build the certificate request")?;
            let csr = dir.join("node.csr");
            std::fs::write(&csr, request.raw())
                .with_context(|| format!("cannot write {}", csr.display()))?;
            let id = IdentityId::of(key.verifying_key());
            println!("node identity  {id}");
            println!("fingerprint    {}", id.fingerprint());
            println!(
                "key            {} (mode 0600; back it up offline)",
                dir.join("node.key").display()
            );
            println!(
                "request        {} -> send to your federation authority",
                csr.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command:
                AuditCommand::Verify {
                    store,
                    certificate,
                    json,
                },
        } => {
            let expected = match certificate {
                Some(path) => {
                    let bytes = std::fs::read(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    let cert = MemberCertificate::decode(&bytes).with_context(|| {
                        format!("{} is not a member certificate", path.display())
                    })?;
                    Some(cert.public_key().clone())
                }
                None => None,
            };
            match audit::verify(&store, expected.as_ref()) {
                Ok(report) => {
                    if json {
                        let kinds: serde_json::Map<String, serde_json::Value> = report
                            .by_kind
                            .iter()
                            .map(|(k, n)| (k.name().to_owned(), (*n).into()))
                            .collect();
                        println!(
                            "{}",
                            serde_json::json!({
                                "ok": true, "entries": report.entries, "checkpoints": report.checkpoints,
                                "unsigned_tail": report.unsigned_tail, "node": report.node_fingerprint, "by_kind": kinds,
                            })
                        );
                    } else {
                        println!(
                            "audit log OK: {} entries, {} signed checkpoints, {} entries after the last checkpoint",
                            report.entries, report.checkpoints, report.unsigned_tail
                        );
                        println!("signed by node {}", report.node_fingerprint);
                        for (kind, n) in &report.by_kind {
                            println!("  {:<10} {n}", kind.name());
                        }
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    if json {
                        println!(
                            "{}",
                            serde_json::json!({ "ok": false, "error": e.to_string() })
                        );
                    }
                    eprintln!("liaison-node: audit log verification FAILED: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

/// `liaison-node status`: ask the running node; if nothing answers, read its files.
fn report_status(
    path: &std::path::Path,
    json: bool,
    timeout: Duration,
) -> anyhow::Result<ExitCode> {
    let config = Config::read(path)?;
    let base = path.parent().unwrap_or(std::path::Path::new("."));
    // The status socket first (always served, unless its place did not suit a socket), then
    // the metrics port. A wildcard listen address is reached over loopback.
    let mut endpoints = vec![status::Endpoint::Socket(config.status_socket(path).path)];
    if let Some(addr) = config.metrics_listen {
        let target = match addr.ip() {
            ip if ip.is_unspecified() && ip.is_ipv4() => {
                SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, addr.port()))
            }
            ip if ip.is_unspecified() => {
                SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, addr.port()))
            }
            _ => addr,
        };
        endpoints.push(status::Endpoint::Http(target));
    }
    let cert_path = base.join(&config.certificate);
    let me = std::fs::read(&cert_path)
        .ok()
        .and_then(|b| MemberCertificate::decode(&b).ok())
        .with_context(|| format!("cannot read the node certificate {}", cert_path.display()))?;
    let fingerprint = me.subject().fingerprint();
    let mut unanswered = Vec::new();
    for endpoint in endpoints {
        let report = status::fetch(&endpoint, "/status", timeout)
            .map_err(|e| e.to_string())
            .and_then(|body| {
                serde_json::from_str::<StatusReport>(&body)
                    .map_err(|e| format!("{endpoint}: not a status report ({e})"))
            })
            .and_then(|report| {
                // Another node's endpoint (a copied configuration, a shared port): not ours.
                if report.node == fingerprint {
                    Ok(report)
                } else {
                    Err(format!(
                        "{endpoint}: answered as node {} ({}), not this configuration's",
                        report.name, report.node
                    ))
                }
            });
        match report {
            Ok(report) => {
                print_report(&report, json)?;
                return Ok(ExitCode::SUCCESS);
            }
            Err(e) => unanswered.push(e),
        }
    }

    let members: Vec<MemberCertificate> = config
        .directory_files(path)
        .unwrap_or_default()
        .iter()
        .filter_map(|f| std::fs::read(f).ok())
        .filter_map(|b| MemberCertificate::decode(&b).ok())
        .collect();
    let endpoint = format!("no status answer ({})", unanswered.join("; "));
    let storage = base.join(&config.storage);
    match status::read_offline(&storage) {
        Err(OfflineError::InUse(_)) => {
            let message = format!(
                "node {} ({}) is RUNNING (its custody database {} is locked) but {endpoint}",
                me.name(),
                me.subject().fingerprint(),
                storage.display()
            );
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "running": true, "answering": false, "error": message })
                );
            }
            eprintln!("liaison-node: {message}");
            Ok(ExitCode::from(EXIT_NOT_ANSWERING))
        }
        offline => {
            let (snapshot, unreadable) = match offline {
                Ok(s) => (s, None),
                Err(e) => (
                    liaison_node::metrics::StoreSnapshot::default(),
                    Some(e.to_string()),
                ),
            };
            let mut report = status::offline_report(&me, &members, &snapshot);
            report.unreadable = unreadable;
            if !json {
                let how = match report.unreadable {
                    None => "custody database read offline",
                    Some(_) => "custody database not readable",
                };
                println!("NOT RUNNING: {endpoint}; {how}.");
            }
            print_report(&report, json)?;
            Ok(ExitCode::from(EXIT_NOT_RUNNING))
        }
    }
}

fn print_report(report: &StatusReport, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{}", report.render_text());
    }
    Ok(())
}

fn init_logging(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal: log files and journald get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Loads and checks the configuration, then runs the node until a shutdown signal.
fn run_node(path: &std::path::Path) -> anyhow::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let setup = Config::read(path)?.load(path, liaison_proto::UnixTime(now))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let cancel = tokio_util::sync::CancellationToken::new();
        let signals = cancel.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutdown signal received");
            signals.cancel();
        });
        server::run(setup, cancel, None).await
    })?;
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
