//! `liaison`: the officer command-line tool. Today: `liaison demo`, the cryptographic
//! self-demonstration; the officer commands arrive with the relay node and protocol core.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use liaison_client::demo;
use liaison_crypto::Suite;

#[derive(Parser)]
#[command(
    name = "liaison",
    version,
    about = "Liaison: quantum-safe incident-report exchange"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Demonstrate the hybrid cryptography end to end (both suites) and check every step.
    Demo {
        /// Print a JSON summary as the last line.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo { json } => {
            println!("Liaison hybrid cryptography self-demonstration\n");
            let mut all_ok = true;
            let mut summary = Vec::new();
            for suite in Suite::ALL {
                let report = demo::run_suite(suite)?;
                print!("{}", report.render());
                all_ok &= report.all_ok();
                summary.push(serde_json::json!({
                    "suite": suite.name(),
                    "ok": report.all_ok(),
                    "fingerprint": report.fingerprint,
                }));
            }
            println!(
                "\n{}",
                if all_ok {
                    "all checks passed"
                } else {
                    "SOME CHECKS FAILED"
                }
            );
            if json {
                println!("{}", serde_json::json!({ "ok": all_ok, "suites": summary }));
            }
            Ok(if all_ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}
