//! `liaison-node`: the relay daemon's command line. Implemented today: `init` (identity key and
//! certificate request for the federation authority) and `audit verify` (offline check of a
//! custody database's signed, hash-chained audit log), and `run` (the relay daemon: one
//! config file, structured logs on stderr, graceful shutdown on SIGTERM or Ctrl-C).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use liaison_crypto::{IdentityId, Suite};
use liaison_node::config::Config;
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

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
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
