//! The `liaison` command line: argument definitions (clap), the dispatch to each command, and
//! the one place that turns a failure into a message and an exit code.
//!
//! Every command prints human text by default and exactly one JSON object on stdout with
//! `--json` (errors included: `{"ok": false, "error": {...}}`), so scripts never parse prose.
//! Exit codes: 0 ok, 1 internal, 2 bad input, 3 refused, 4 relay unreachable, 5 keystore.

mod devnet;
mod messages;
mod output;
mod setup;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use liaison_client::authority::{AuthorityCommand, AuthorityError};
use liaison_client::keystore::KeystoreError;
use liaison_client::passphrase::{Passphrase, PassphraseArgs};
use liaison_client::profile::Profile;
use liaison_client::session::{
    ClientError, EXIT_BAD_INPUT, EXIT_INTERNAL, SessionConfig, Timeouts,
};
use serde_json::{Value, json};

pub(crate) use self::output::Outcome;

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  internal error (bug, disk failure, corrupt local store)
  2  bad input (usage, invalid STIX/MISP, unreadable or tampered file, unknown recipient)
  3  refused by the relay or by policy (classification above a clearance, revoked, ...)
  4  home relay unreachable (or timed out, or the link dropped)
  5  keystore problem (no profile, wrong passphrase, damaged keystore)";

/// `liaison`: the officer's command-line tool.
#[derive(Debug, Parser)]
#[command(
    name = "liaison",
    version,
    about = "Liaison: quantum-safe incident-report exchange for liaison officers",
    after_help = EXIT_CODES_HELP
)]
pub(crate) struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// The officer's home directory [env: LIAISON_HOME] [default: ~/.liaison]
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) home: Option<PathBuf>,
    /// Print exactly one JSON object on stdout (for scripts).
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Seconds to wait for the link to the home relay (each answer waits at least 30).
    #[arg(long, global = true, value_name = "SECS", default_value_t = 15)]
    pub(crate) timeout: u64,
}

impl GlobalArgs {
    pub(crate) fn home(&self) -> PathBuf {
        Profile::resolve_home(self.home.as_deref())
    }

    pub(crate) fn profile(&self) -> Result<Profile, ClientError> {
        Profile::open(&self.home())
    }

    pub(crate) fn passphrase(
        &self,
        pass: &PassphraseArgs,
        confirm_new: bool,
    ) -> Result<Passphrase, ClientError> {
        Ok(pass.source().obtain("officer keystore", confirm_new)?)
    }

    pub(crate) fn timeouts(&self) -> Timeouts {
        let t = Duration::from_secs(self.timeout.max(1));
        Timeouts {
            connect: t,
            answer: t.max(Duration::from_secs(30)),
        }
    }

    /// Opens the profile, keystore and store for a session.
    pub(crate) fn session_config(
        &self,
        pass: &PassphraseArgs,
    ) -> Result<SessionConfig, ClientError> {
        let profile = self.profile()?;
        let mut config = SessionConfig::from_profile(&profile, self.passphrase(pass, false)?)?;
        config.timeouts = self.timeouts();
        Ok(config)
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a profile: a new identity key in an encrypted keystore (asks for a passphrase).
    Init(setup::InitArgs),
    /// Write a certificate request for the federation authority, or (with --install) install
    /// the signed certificate, the home relay's certificate and the trust anchor.
    Enroll(setup::EnrollArgs),
    /// Send a report (STIX 2.1 bundle, MISP event, text or any file) to one or more officers.
    Send(messages::SendArgs),
    /// Fetch pending messages and receipts from the home relay and list received messages.
    Inbox(messages::SyncArgs),
    /// Show one received message and write the report out in its original format.
    Read(messages::ReadArgs),
    /// Fetch pending receipts and list sent messages with their receipts.
    Receipts(messages::SyncArgs),
    /// List known contacts (officers' certificates), or add one from a certificate file.
    Contacts(setup::ContactsArgs),
    /// Check a saved envelope offline: signature, certificate chain, policy; decrypt it if it
    /// is addressed to this officer.
    Verify(messages::VerifyArgs),
    /// Federation authority: root key, signing requests, revocation lists.
    #[command(subcommand)]
    Authority(AuthorityCommand),
    /// Demonstrate the hybrid cryptography end to end (both suites) and check every step.
    Demo,
    /// Build a whole local federation (authority, QKD-keyed relays, officers), send the
    /// example STIX report across it, and keep it running to try the CLI against.
    Devnet(devnet::DevnetArgs),
}

/// Runs the command line and returns the process exit code.
pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Devnet(args) = &cli.command {
        // Devnet installs its own logger (the relays' logs go to a file it reads events from).
        return devnet::main(args, cli.global.json);
    }
    init_logging();
    let json = cli.global.json;
    let result = match cli.command {
        Command::Authority(cmd) => {
            // The authority tool prints its own output (human or --json) and has its own codes.
            return match liaison_client::authority::run(cmd, json) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => report_failure(json, &Failure::from(e)),
            };
        }
        Command::Demo => messages::demo(),
        command => runtime().and_then(|rt| rt.block_on(dispatch(command, &cli.global))),
    };
    match result {
        Ok(outcome) => {
            outcome.print(json);
            ExitCode::from(outcome.exit_code)
        }
        Err(failure) => report_failure(json, &failure),
    }
}

async fn dispatch(command: Command, global: &GlobalArgs) -> Result<Outcome, Failure> {
    match command {
        Command::Init(args) => setup::init(args, global),
        Command::Enroll(args) => setup::enroll(args, global),
        Command::Contacts(args) => setup::contacts(args, global),
        Command::Send(args) => messages::send(args, global).await,
        Command::Inbox(args) => messages::inbox(args, global).await,
        Command::Read(args) => messages::read(args, global),
        Command::Receipts(args) => messages::receipts(args, global).await,
        Command::Verify(args) => messages::verify(args, global),
        Command::Authority(_) | Command::Demo | Command::Devnet(_) => {
            Err(Failure::internal("dispatched twice"))
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::internal(format!("cannot start the async runtime: {e}")))
}

/// Logs go to stderr, quiet unless `RUST_LOG` asks for more.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// A failed command: its exit code, a category and the message.
#[derive(Debug)]
pub(crate) struct Failure {
    code: u8,
    kind: &'static str,
    message: String,
}

impl Failure {
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self {
            code: EXIT_INTERNAL,
            kind: "internal",
            message: message.into(),
        }
    }

    pub(crate) fn bad_input(message: impl Into<String>) -> Self {
        Self {
            code: EXIT_BAD_INPUT,
            kind: "bad_input",
            message: message.into(),
        }
    }
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        Self {
            code: e.exit_code(),
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

impl From<KeystoreError> for Failure {
    fn from(e: KeystoreError) -> Self {
        ClientError::from(e).into()
    }
}

impl From<AuthorityError> for Failure {
    fn from(e: AuthorityError) -> Self {
        let code = e.exit_code();
        Self {
            code,
            kind: match code {
                2 => "bad_input",
                3 => "refused",
                5 => "keystore",
                _ => "internal",
            },
            message: e.to_string(),
        }
    }
}

fn report_failure(json: bool, failure: &Failure) -> ExitCode {
    eprintln!("liaison: error: {}", failure.message);
    if json {
        let value: Value = json!({
            "ok": false,
            "error": {
                "kind": failure.kind,
                "message": failure.message,
                "exit_code": failure.code,
            }
        });
        println!("{value}");
    }
    ExitCode::from(failure.code)
}
