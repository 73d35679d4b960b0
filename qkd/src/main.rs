//! `liaison-qkd`: the ETSI GS QKD 014 KME simulator (`sim`), operator tools that talk to any
//! ETSI 014 KME (`status`, `enc-keys`, `dec-keys`), and a test PKI generator (`pki`).
//!
//! Logs go to stderr (`RUST_LOG` filters them); results go to stdout, as human text or, with
//! `--json`, the KME's own JSON. Exit codes are listed in `--help`.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use clap::{Args, Parser, Subcommand};
use liaison_qkd::sim::{OutageConfig, SimConfig, SimServer};
use liaison_qkd::{Error, Etsi014Client, KeyId, KeyRequest, KeySupply, SaeId, TlsFiles, pki, wire};
use tracing_subscriber::EnvFilter;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  other error
  2  invalid command line
  3  KME unreachable or timed out
  4  KME refused the caller (HTTP 401)
  5  KME key store exhausted or KME unavailable (HTTP 503)
  6  request refused (HTTP 400, unknown or reused key_ID, impossible size)
  7  KME answered something that is not ETSI GS QKD 014
  8  local files or configuration unusable (certificates, keys, paths)";

#[derive(Debug, Parser)]
#[command(name = "liaison-qkd", version, about = "Liaison key supply: ETSI GS QKD 014 KME simulator and operator tools", after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve ETSI GS QKD 014 over HTTPS with mutual TLS, playing both KMEs of a link.
    /// Prints the bound address (host:port) as the first line of stdout.
    Sim(SimArgs),
    /// Ask the KME for its status towards a slave SAE.
    Status {
        #[command(flatten)]
        kme: KmeArgs,
        /// The slave SAE id.
        #[arg(long)]
        slave: String,
    },
    /// As master SAE, ask the KME for new keys shared with a slave SAE.
    EncKeys {
        #[command(flatten)]
        kme: KmeArgs,
        /// The slave SAE id.
        #[arg(long)]
        slave: String,
        /// Number of keys.
        #[arg(long, default_value_t = 1)]
        number: u32,
        /// Key size in bits (default: the KME's key_size).
        #[arg(long)]
        size: Option<u32>,
    },
    /// As slave SAE, ask the KME for the keys a master SAE obtained, by key_ID.
    DecKeys {
        #[command(flatten)]
        kme: KmeArgs,
        /// The master SAE id.
        #[arg(long)]
        master: String,
        /// The key ids.
        #[arg(required = true)]
        key_ids: Vec<String>,
    },
    /// Generate a test CA, a KME server certificate and one client certificate per SAE.
    Pki {
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// SAE ids (one client certificate each, CN = SAE id).
        #[arg(long, num_args = 1.., required = true)]
        sae: Vec<String>,
    },
}

#[derive(Debug, Args)]
struct KmeArgs {
    /// KME base URL, e.g. https://127.0.0.1:8443.
    #[arg(long)]
    kme: String,
    /// This SAE's client certificate (PEM).
    #[arg(long)]
    cert: PathBuf,
    /// This SAE's private key (PEM).
    #[arg(long)]
    key: PathBuf,
    /// CA bundle the KME's certificate must chain to (PEM).
    #[arg(long)]
    ca: PathBuf,
    /// Print the KME's JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Seconds to wait for each KME answer.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

#[derive(Debug, Args)]
struct SimArgs {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// KME server certificate (PEM).
    #[arg(long)]
    cert: PathBuf,
    /// KME server private key (PEM).
    #[arg(long)]
    key: PathBuf,
    /// CA bundle SAE client certificates must chain to (PEM).
    #[arg(long)]
    ca: PathBuf,
    /// Known SAEs and their KME ids, e.g. alice=KME_A,bob=KME_B (default: any SAE).
    #[arg(long, value_delimiter = ',')]
    sae_map: Vec<String>,
    /// Default key size in bits.
    #[arg(long, default_value_t = 256)]
    key_size: u32,
    /// Minimum key size in bits.
    #[arg(long, default_value_t = 64)]
    min_key_size: u32,
    /// Maximum key size in bits.
    #[arg(long, default_value_t = 1024)]
    max_key_size: u32,
    /// Maximum keys per request.
    #[arg(long, default_value_t = 128)]
    max_key_per_request: u32,
    /// Key store size per pair of SAEs, in keys.
    #[arg(long, default_value_t = 1000)]
    max_key_count: u64,
    /// Maximum additional slave SAEs per request (0: no multicast).
    #[arg(long, default_value_t = 2)]
    max_sae_id_count: u32,
    /// Refill rate in keys per second (default: stores never run low). 0 = never refill.
    #[arg(long)]
    key_rate: Option<f64>,
    /// Serve this many requests, then behave as down.
    #[arg(long)]
    outage_after: Option<u64>,
    /// Behave as down while this file exists.
    #[arg(long)]
    outage_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Sim(_)) {
        "info"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level)),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("liaison-qkd: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut text = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                text.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("liaison-qkd: error: {text}");
            ExitCode::from(exit_code(&error))
        }
    }
}

fn exit_code(error: &Error) -> u8 {
    match error {
        Error::Unreachable { .. } | Error::Timeout { .. } => 3,
        Error::Unauthorized { .. } => 4,
        Error::Exhausted { .. } | Error::KmeUnavailable { .. } => 5,
        Error::UnknownKeyId { .. }
        | Error::KeyIdReplayed { .. }
        | Error::Rejected { .. }
        | Error::Unsatisfiable { .. } => 6,
        Error::BadResponse { .. } => 7,
        Error::TlsConfig { .. }
        | Error::Io { .. }
        | Error::Config { .. }
        | Error::InsecureKeyFile { .. }
        | Error::InvalidKeyFile { .. }
        | Error::Pki { .. } => 8,
        _ => 1,
    }
}

async fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Sim(args) => sim(args).await,
        Command::Status { kme, slave } => {
            let client = connect(&kme)?;
            let status = client.status_raw(&SaeId::new(slave)).await?;
            if kme.json {
                print_json(&status)
            } else {
                print_status(&status);
                Ok(())
            }
        }
        Command::EncKeys {
            kme,
            slave,
            number,
            size,
        } => {
            let client = connect(&kme)?;
            let slave = SaeId::new(slave);
            if kme.json {
                let request = wire::KeyRequest {
                    number: Some(number),
                    size,
                    ..Default::default()
                };
                print_json(&client.enc_keys_raw(&slave, &request).await?)
            } else {
                let size_bits = match size {
                    Some(size) => size,
                    None => client.status_raw(&slave).await?.key_size,
                };
                let keys = client
                    .enc_keys(&slave, KeyRequest { number, size_bits })
                    .await?;
                print_keys(&keys);
                Ok(())
            }
        }
        Command::DecKeys {
            kme,
            master,
            key_ids,
        } => {
            let client = connect(&kme)?;
            let master = SaeId::new(master);
            let ids: Vec<KeyId> = key_ids.into_iter().map(KeyId::new).collect();
            if kme.json {
                print_json(&client.dec_keys_raw(&master, &ids).await?)
            } else {
                let keys = client.dec_keys(&master, &ids).await?;
                print_keys(&keys);
                Ok(())
            }
        }
        Command::Pki { out, sae } => {
            let files = pki::generate(&out, &sae)?;
            println!("CA certificate   {}", files.ca_cert.display());
            println!("CA key           {}", files.ca_key.display());
            println!("KME certificate  {}", files.kme.0.display());
            println!("KME key          {}", files.kme.1.display());
            for (sae, cert, key) in &files.saes {
                println!(
                    "SAE {sae}: certificate {} key {}",
                    cert.display(),
                    key.display()
                );
            }
            Ok(())
        }
    }
}

fn connect(args: &KmeArgs) -> Result<Etsi014Client, Error> {
    let tls = TlsFiles {
        cert: args.cert.clone(),
        key: args.key.clone(),
        ca: args.ca.clone(),
    };
    Etsi014Client::new(&args.kme, &tls, Duration::from_secs(args.timeout.max(1)))
}

async fn sim(args: SimArgs) -> Result<(), Error> {
    let sae_map = if args.sae_map.is_empty() {
        None
    } else {
        let mut map = HashMap::new();
        for entry in &args.sae_map {
            let Some((sae, kme)) = entry.split_once('=') else {
                return Err(Error::Config {
                    reason: format!("--sae-map entry {entry:?} must be SAE_ID=KME_ID"),
                });
            };
            map.insert(SaeId::new(sae.trim()), kme.trim().to_string());
        }
        Some(map)
    };
    if args.key_rate.is_some_and(|r| !r.is_finite() || r < 0.0) {
        return Err(Error::Config {
            reason: "--key-rate must be a non-negative number of keys per second".into(),
        });
    }
    let config = SimConfig {
        key_size: args.key_size,
        min_key_size: args.min_key_size,
        max_key_size: args.max_key_size,
        max_key_per_request: args.max_key_per_request,
        max_key_count: args.max_key_count,
        max_sae_id_count: args.max_sae_id_count,
        key_rate: args.key_rate,
        sae_map,
    };
    let tls = TlsFiles {
        cert: args.cert,
        key: args.key,
        ca: args.ca,
    };
    let outage = OutageConfig {
        after_requests: args.outage_after,
        toggle_file: args.outage_file,
    };
    let server = SimServer::start(args.listen, &tls, config, outage).await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{}", server.local_addr())
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::io("<stdout>", e))?;
    let cancel = server.cancel_token();
    tokio::spawn(async move {
        stop_signal().await;
        cancel.cancel();
    });
    server.wait().await;
    Ok(())
}

async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Config {
        reason: format!("cannot encode JSON: {e}"),
    })?;
    println!("{text}");
    Ok(())
}

fn print_status(status: &wire::Status) {
    let rows: [(&str, String); 11] = [
        ("source_KME_ID", status.source_kme_id.clone()),
        ("target_KME_ID", status.target_kme_id.clone()),
        ("master_SAE_ID", status.master_sae_id.clone()),
        ("slave_SAE_ID", status.slave_sae_id.clone()),
        ("key_size", format!("{} bits", status.key_size)),
        ("stored_key_count", status.stored_key_count.to_string()),
        ("max_key_count", status.max_key_count.to_string()),
        (
            "max_key_per_request",
            status.max_key_per_request.to_string(),
        ),
        ("max_key_size", format!("{} bits", status.max_key_size)),
        ("min_key_size", format!("{} bits", status.min_key_size)),
        ("max_SAE_ID_count", status.max_sae_id_count.to_string()),
    ];
    for (name, value) in rows {
        println!("{name:<20} {value}");
    }
}

/// Prints keys for an operator who asked for them: this is the tool's output, not a log.
fn print_keys(keys: &[(KeyId, liaison_qkd::SuppliedKey)]) {
    for (id, key) in keys {
        println!(
            "key_ID {id}  {} bits  key {}",
            key.len_bits(),
            BASE64.encode(key.expose_secret())
        );
    }
}
