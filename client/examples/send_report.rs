//! Library example: send a report from an enrolled officer's profile and wait for the signed
//! receipt — what an agency's ticketing system or SOC platform would do with
//! `liaison-client` instead of the `liaison` command.
//!
//! ```text
//! LIAISON_PASSPHRASE=... cargo run -p liaison-client --example send_report -- \
//!     ~/.liaison "Bohdan Kovalenko" incident.json RESTREINT_UE amber
//! ```
//!
//! The recipient is a contact name or a 64-hex identity id; the content type is detected from
//! the file (STIX bundles and MISP events are validated before anything is sent).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use liaison_client::content;
use liaison_client::passphrase::PassphraseSource;
use liaison_client::profile::Profile;
use liaison_client::session::{ClientError, Event, RecipientRef, Report, Session, SessionConfig};
use liaison_proto::{Classification, Tlp};

async fn run(args: &[String]) -> Result<(), ClientError> {
    let [home, recipient, file, rest @ ..] = args else {
        return Err(ClientError::BadInput(
            "usage: send_report HOME RECIPIENT FILE [CLASSIFICATION [TLP]]".into(),
        ));
    };
    let classification: Classification = rest
        .first()
        .map_or(Ok(Classification::RestreintUe), |c| c.parse())
        .map_err(|_| ClientError::BadInput("unknown classification".into()))?;
    let tlp: Tlp = rest
        .get(1)
        .map_or(Ok(Tlp::Amber), |t| t.parse())
        .map_err(|_| ClientError::BadInput("unknown TLP label".into()))?;

    // 1. Open the profile and unlock the keystore (LIAISON_PASSPHRASE, or a prompt).
    let profile = Profile::open(&PathBuf::from(home))?;
    let passphrase = PassphraseSource::from_cli(None, None).obtain("officer keystore", false)?;
    let config = SessionConfig::from_profile(&profile, passphrase)?;

    // 2. Read and validate the report before connecting.
    let path = PathBuf::from(file);
    let bytes = std::fs::read(&path).map_err(|e| ClientError::io(&path, e))?;
    let content_type = content::detect(&path, &bytes);
    content::validate(&content_type, &bytes)?;

    // 3. Connect (this also publishes our current prekey) and send.
    let mut session = Session::connect(config).await?;
    let outcome = session
        .send(
            &Report {
                content_type,
                content: bytes,
            },
            &[RecipientRef::parse(recipient)],
            classification,
            tlp,
        )
        .await?;
    println!("relay took custody of {}", outcome.message_id);

    // 4. Wait for the recipient's signed receipt (it comes later if the recipient is offline).
    while let Some(event) = session.next_event(Duration::from_secs(60)).await? {
        match event {
            Event::Receipt(r) if r.message_id == outcome.message_id => {
                println!(
                    "receipt from {} ({}) at {}",
                    r.recipient_name,
                    r.recipient.fingerprint(),
                    content::format_utc(r.received_at.0)
                );
                break;
            }
            Event::Message(m) => println!("meanwhile, message {} arrived", m.message_id),
            other => println!("meanwhile: {other:?}"),
        }
    }
    session.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("send_report: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
