//! `liaison devnet`: builds a whole local federation, sends the example STIX report across it,
//! and keeps it running for the user (see `liaison_client::devnet`). With `--json` it prints the
//! summary object as its last stdout line and exits: 0 when the report was delivered to every
//! recipient, every receipt verified and every relay link QKD-keyed; 1 otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use liaison_client::devnet;

/// Options of `liaison devnet`.
#[derive(Debug, Args)]
pub(crate) struct DevnetArgs {
    /// Build the federation here (must be new or empty) [default: a new directory under the
    /// system's temporary directory]
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Stop the federation after the exchange instead of leaving it running.
    #[arg(long)]
    exit: bool,
}

/// Runs devnet; `json` prints the summary as the last stdout line and implies `--exit`.
pub(crate) fn main(args: &DevnetArgs, json: bool) -> ExitCode {
    let dir = args.dir.clone();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("liaison devnet: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async move {
        match run(dir, args.exit || json, json).await {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => {
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"ok": false, "error": e.to_string()})
                    );
                }
                eprintln!("liaison devnet: {e}");
                ExitCode::from(1)
            }
        }
    })
}

async fn run(dir: Option<PathBuf>, exit: bool, json: bool) -> Result<bool, devnet::DevnetError> {
    let dir = devnet::prepare_dir(dir.as_deref())?;
    let log = dir.join("devnet.log");
    let events = devnet::install_logging(&log)?;
    let (net, summary) = devnet::run(&dir, &events).await?;
    let ok = summary.ok;
    println!(
        "{}: {} of {} recipients decrypted and verified the report; {} of {} receipts verified; QKD key mixed on every relay link: {}, end to end for {} of {} recipients; SECRET UE follow-up delivered: {}; suites {}; {} ms",
        if ok { "OK" } else { "FAILED" },
        summary.delivered,
        summary.recipients,
        summary.receipts_verified,
        summary.recipients,
        if summary.qkd_key_mixed { "yes" } else { "no" },
        summary.e2e_qkd_keys,
        summary.recipients,
        if summary.secret_ue_delivered {
            "yes"
        } else {
            "no"
        },
        summary.suites.join(", "),
        summary.elapsed_ms,
    );
    println!("relay logs: {}", log.display());
    if exit {
        net.shutdown().await;
        if json {
            match serde_json::to_string(&summary) {
                Ok(line) => println!("{line}"),
                Err(e) => {
                    eprintln!("liaison devnet: cannot encode the summary: {e}");
                    return Ok(false);
                }
            }
        }
        return Ok(ok);
    }
    let liaison =
        std::env::current_exe().map_or_else(|_| "liaison".to_owned(), |p| p.display().to_string());
    println!(
        "\nThe federation keeps running (Ctrl-C stops it). Try the CLI as its officers, from another terminal:\n\n{}",
        net.commands(&liaison, &summary.message_id)
    );
    stop_signal().await;
    println!("stopping the relays and the KME simulator…");
    net.shutdown().await;
    Ok(ok)
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
