//! The daily commands: `liaison send`, `inbox`, `read`, `receipts`, `verify`, and `demo`.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use liaison_client::content;
use liaison_client::demo;
use liaison_client::keystore::OfficerKeystore;
use liaison_client::passphrase::PassphraseArgs;
use liaison_client::profile::{self, read_bounded};
use liaison_client::session::{
    ClientError, Event, RecipientRef, Report, Session, SessionConfig, unix_now,
};
use liaison_client::store::{MessageStore, ReceivedSummary, StoreError, StoredNotice};
use liaison_crypto::Suite;
use liaison_proto::envelope::{ContentType, Envelope, MAX_PAYLOAD_LEN};
use liaison_proto::{Classification, Tlp};
use serde_json::{Value, json};

use super::output::{Outcome, Progress, banner, human_bytes, human_time};
use super::{Failure, GlobalArgs};

/// What `--type` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TypeArg {
    /// A STIX 2.1 bundle (JSON), validated before sending.
    Stix,
    /// A MISP event (JSON), validated before sending.
    Misp,
    /// UTF-8 free text.
    Text,
    /// Any file, sent as an attachment with its name.
    File,
}

fn parse_classification(s: &str) -> Result<Classification, String> {
    s.parse().map_err(|_| {
        let names: Vec<&str> = Classification::ALL.iter().map(|c| c.marking()).collect();
        format!(
            "unknown classification {s:?}; one of: {} (or the English marking, e.g. EU_RESTRICTED)",
            names.join(", ")
        )
    })
}

fn parse_tlp(s: &str) -> Result<Tlp, String> {
    s.parse().map_err(|_| {
        format!("unknown TLP label {s:?}; one of: clear, green, amber, amber+strict, red")
    })
}

/// `liaison send`.
#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    #[command(flatten)]
    pass: PassphraseArgs,
    /// A recipient: 64-hex identity id or a contact's name (repeat for several).
    #[arg(long = "to", required = true, value_name = "ID|NAME")]
    to: Vec<String>,
    /// Classification: UNCLASSIFIED, RESTREINT_UE, CONFIDENTIEL_UE, SECRET_UE, TRES_SECRET_UE
    /// (or EU_RESTRICTED, EU_CONFIDENTIAL, ...).
    #[arg(long, value_parser = parse_classification, value_name = "LEVEL")]
    classification: Classification,
    /// TLP label: clear, green, amber, amber+strict, red.
    #[arg(long, value_parser = parse_tlp, value_name = "LABEL")]
    tlp: Tlp,
    /// What the report is [default: detected from the content and file name].
    #[arg(long = "type", value_enum)]
    kind: Option<TypeArg>,
    /// Attachment name for `--type file` [default: the file's name].
    #[arg(long, value_name = "NAME")]
    filename: Option<String>,
    /// Hours until relays drop the envelope if undelivered (at most 336).
    #[arg(long, default_value_t = 168, value_name = "HOURS")]
    expires_hours: u64,
    /// Also write the sealed envelope to this file (for `liaison verify` or archives).
    #[arg(long, value_name = "FILE")]
    save_envelope: Option<PathBuf>,
    /// The report file, or `-` for standard input.
    file: PathBuf,
}

/// `liaison inbox` and `liaison receipts`.
#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    #[command(flatten)]
    pass: PassphraseArgs,
    /// List what is in the local store without connecting to the relay.
    #[arg(long)]
    offline: bool,
    /// Stop fetching once the relay has been quiet this many seconds.
    #[arg(long, default_value_t = 2, value_name = "SECS")]
    quiet: u64,
    /// Fetch for at most this many seconds.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    max_wait: u64,
}

/// `liaison read`.
#[derive(Debug, Args)]
pub(crate) struct ReadArgs {
    #[command(flatten)]
    pass: PassphraseArgs,
    /// Message id (hex, or a unique prefix of at least 4 digits) as `liaison inbox` shows it.
    msg: String,
    /// Directory to write the report into.
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    /// Also write the signed envelope as received (for `liaison verify`).
    #[arg(long, value_name = "FILE")]
    save_envelope: Option<PathBuf>,
}

/// `liaison verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    pass: PassphraseArgs,
    /// A saved envelope (`liaison send --save-envelope`, `liaison read --save-envelope`).
    file: PathBuf,
    /// When the envelope is addressed to you, write the decrypted report into this directory.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// Reads the report (file or stdin), bounded by the largest payload an envelope carries.
fn read_report(path: &Path, progress_json: bool) -> Result<(Vec<u8>, Progress), Failure> {
    let max = MAX_PAYLOAD_LEN;
    let unreadable = |reason: String| ClientError::Unreadable {
        path: path.to_owned(),
        reason,
    };
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| unreadable(e.to_string()))?;
        if bytes.len() as u64 > max {
            return Err(
                unreadable(format!("more than {} on standard input", human_bytes(max))).into(),
            );
        }
        return Ok((bytes, Progress::new(None, progress_json)));
    }
    let meta = std::fs::metadata(path).map_err(|e| unreadable(e.to_string()))?;
    if !meta.is_file() {
        return Err(unreadable("not a regular file".into()).into());
    }
    if meta.len() > max {
        return Err(unreadable(format!(
            "{} is larger than the {} an envelope carries",
            human_bytes(meta.len()),
            human_bytes(max)
        ))
        .into());
    }
    let progress = Progress::new(Some(meta.len()), progress_json);
    let mut file = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    let mut chunk = vec![0u8; 1024 * 1024];
    loop {
        let n = file
            .read(&mut chunk)
            .map_err(|e| unreadable(e.to_string()))?;
        if n == 0 {
            break;
        }
        if (bytes.len() + n) as u64 > max {
            return Err(
                unreadable("the file grew past the envelope limit while reading".into()).into(),
            );
        }
        bytes.extend_from_slice(&chunk[..n]);
        progress.advance(n as u64);
    }
    Ok((bytes, progress))
}

/// Decides the content type and validates STIX/MISP before anything is sent.
fn classify_content(
    kind: Option<TypeArg>,
    path: &Path,
    filename: Option<String>,
    bytes: &[u8],
) -> Result<ContentType, Failure> {
    let attachment = || -> Result<ContentType, Failure> {
        let name = filename.clone().or_else(|| {
            (path != Path::new("-"))
                .then(|| path.file_name().map(|n| n.to_string_lossy().into_owned()))
                .flatten()
        });
        let name = name.ok_or_else(|| {
            Failure::bad_input("an attachment read from standard input needs --filename")
        })?;
        Ok(ContentType::Attachment {
            filename: content::sanitize_file_name(&name),
        })
    };
    let content_type = match kind {
        Some(TypeArg::Stix) => ContentType::Stix21Bundle,
        Some(TypeArg::Misp) => ContentType::MispEvent,
        Some(TypeArg::Text) => ContentType::Text,
        Some(TypeArg::File) => attachment()?,
        None => match content::detect(path, bytes) {
            ContentType::Attachment { .. } => attachment()?,
            detected => detected,
        },
    };
    content::validate(&content_type, bytes).map_err(|e| match (&content_type, e) {
        (ContentType::Text, _) => Failure::bad_input(format!(
            "{}: not UTF-8 text; send it with --type file",
            path.display()
        )),
        (_, e) => Failure::from(ClientError::from(e)),
    })?;
    Ok(content_type)
}

fn content_type_name(ct: &ContentType) -> &'static str {
    match ct {
        ContentType::Stix21Bundle => "stix",
        ContentType::MispEvent => "misp",
        ContentType::Text => "text",
        ContentType::Attachment { .. } => "file",
    }
}

pub(crate) async fn send(args: SendArgs, global: &GlobalArgs) -> Result<Outcome, Failure> {
    if args.expires_hours == 0 || args.expires_hours > 336 {
        return Err(Failure::bad_input(
            "--expires-hours must be between 1 and 336 (14 days)",
        ));
    }
    let (bytes, progress) = read_report(&args.file, global.json)?;
    let content_type = match classify_content(args.kind, &args.file, args.filename, &bytes) {
        Ok(ct) => ct,
        Err(e) => {
            progress.finish();
            return Err(e);
        }
    };
    let recipients: Vec<RecipientRef> = args.to.iter().map(|t| RecipientRef::parse(t)).collect();
    let config = global.session_config(&args.pass)?;
    progress.stage("connecting to the home relay");
    let result = async {
        let mut session = Session::connect(config).await?;
        progress.stage("sealing and handing over to the relay");
        let report = Report {
            content_type: content_type.clone(),
            content: bytes,
        };
        let sent = session
            .send_with_lifetime(
                &report,
                &recipients,
                args.classification,
                args.tlp,
                args.expires_hours * 3600,
            )
            .await;
        session.close().await;
        sent
    }
    .await;
    progress.finish();
    let outcome = result?;
    if let Some(path) = &args.save_envelope {
        profile::write_file(path, &outcome.envelope, 0o600)?;
    }
    let mut human = String::new();
    let b = banner(args.classification, args.tlp);
    let _ = writeln!(human, "{b}");
    let _ = writeln!(
        human,
        "sent {} ({}, {})",
        outcome.message_id,
        content_type_name(&content_type),
        human_bytes(report_len(&outcome))
    );
    for r in &outcome.recipients {
        let _ = writeln!(
            human,
            "  to {} ({}) {}",
            r.name(),
            r.organisation(),
            r.subject().fingerprint()
        );
    }
    if outcome.supplied_keys > 0 {
        let _ = writeln!(
            human,
            "  supplied (QKD/pre-shared) key mixed in for {} of {} recipient(s)",
            outcome.supplied_keys,
            outcome.recipients.len()
        );
    }
    let _ = writeln!(
        human,
        "the home relay has taken custody ({:?}); `liaison receipts` shows the signed receipts as they arrive",
        outcome.status
    );
    if let Some(path) = &args.save_envelope {
        let _ = writeln!(human, "envelope saved to {}", path.display());
    }
    let _ = writeln!(human, "{b}");
    Ok(Outcome::ok(
        json!({
            "ok": true,
            "message_id": outcome.message_id.to_string(),
            "classification": args.classification.marking(),
            "tlp": args.tlp.label(),
            "type": content_type_name(&content_type),
            "custody": format!("{:?}", outcome.status).to_lowercase(),
            "envelope_bytes": outcome.envelope.len(),
            "supplied_keys": outcome.supplied_keys,
            "recipients": outcome.recipients.iter().map(|r| json!({
                "identity": r.subject().to_string(),
                "fingerprint": r.subject().fingerprint(),
                "name": r.name(),
            })).collect::<Vec<_>>(),
        }),
        human,
    ))
}

fn report_len(outcome: &liaison_client::session::SendOutcome) -> u64 {
    Envelope::decode(&outcome.envelope).map_or(0, |e| e.header().payload_len)
}

/// Connects, takes in everything pending, closes; returns the events.
/// Connects, takes in everything pending, closes; returns the events and the store.
async fn sync(
    config: SessionConfig,
    args: &SyncArgs,
) -> Result<(Vec<Event>, Arc<MessageStore>), ClientError> {
    let mut session = Session::connect(config).await?;
    let events = session
        .fetch_pending(
            Duration::from_secs(args.quiet.max(1)),
            Duration::from_secs(args.max_wait.max(1)),
        )
        .await;
    let store = session.finish().await;
    Ok((events?, store))
}

/// The store, after a sync with the relay unless `--offline`.
async fn synced_store(
    args: &SyncArgs,
    global: &GlobalArgs,
) -> Result<(Vec<Event>, Arc<MessageStore>), Failure> {
    if args.offline {
        Ok((Vec::new(), Arc::new(open_store(global, &args.pass)?)))
    } else {
        let config = global.session_config(&args.pass)?;
        Ok(sync(config, args).await?)
    }
}

fn open_store(global: &GlobalArgs, pass: &PassphraseArgs) -> Result<MessageStore, Failure> {
    let profile = global.profile()?;
    let passphrase = global.passphrase(pass, false)?;
    let keystore = OfficerKeystore::open(&profile.keystore_path(), &passphrase)?;
    Ok(
        MessageStore::open(&profile.store_path(), keystore.store_key())
            .map_err(ClientError::from)?,
    )
}

/// What one sync fetched: counts, refusals and non-delivery notices.
struct Fetched {
    messages: usize,
    receipts: usize,
    rejected: Vec<Value>,
    undelivered: Vec<Value>,
}

fn event_summary(events: &[Event]) -> Fetched {
    let mut messages = 0;
    let mut receipts = 0;
    let mut rejected = Vec::new();
    let mut undelivered = Vec::new();
    for e in events {
        match e {
            Event::Message(_) => messages += 1,
            Event::Receipt(_) => receipts += 1,
            Event::Undelivered(u) => undelivered.push(json!({
                "message_id": u.message_id.to_string(),
                "recipients": u.recipients.iter().map(|(id, name)| json!({
                    "identity": id.to_string(),
                    "fingerprint": id.fingerprint(),
                    "name": name,
                })).collect::<Vec<_>>(),
                "relay": u.relay_name,
                "code": u.code,
                "code_name": wire_code_name(u.code),
                "reason": u.reason,
                "issued_at": u.issued_at.0,
            })),
            Event::Rejected {
                message_id,
                what,
                reason,
            } => rejected.push(json!({
                "what": what,
                "message_id": message_id.map(|m| m.to_string()),
                "reason": reason,
            })),
            // Listed with the refusals, marked as held: nothing was dropped.
            Event::Held { message_id, reason } => rejected.push(json!({
                "what": "envelope",
                "held": true,
                "message_id": message_id.to_string(),
                "reason": reason,
            })),
            _ => {}
        }
    }
    Fetched {
        messages,
        receipts,
        rejected,
        undelivered,
    }
}

/// The name of wire code `code` (`spec/protocol.md` §14), or its hex value.
fn wire_code_name(code: u16) -> String {
    liaison_proto::WireCode::from_u16(code)
        .map_or_else(|| format!("{code:#06x}"), |c| format!("{c:?}"))
}

/// One line per non-delivery notice of [`event_summary`].
fn write_undelivered(human: &mut String, undelivered: &[Value]) {
    for u in undelivered {
        let to: Vec<String> = u["recipients"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .map(|r| {
                        format!(
                            "{} {}",
                            r["name"].as_str().unwrap_or(""),
                            r["fingerprint"].as_str().unwrap_or("")
                        )
                        .trim()
                        .to_owned()
                    })
                    .collect()
            })
            .unwrap_or_default();
        let _ = writeln!(
            human,
            "NOT DELIVERED message {} to {}: {} [{}] (notice signed by relay {})",
            u["message_id"].as_str().unwrap_or(""),
            to.join(", "),
            u["reason"].as_str().unwrap_or(""),
            u["code_name"].as_str().unwrap_or(""),
            u["relay"].as_str().unwrap_or("")
        );
    }
}

/// One line per refused (or held) envelope or receipt of [`event_summary`].
fn write_rejections(human: &mut String, rejected: &[Value]) {
    for r in rejected {
        let verdict = if r["held"].as_bool() == Some(true) {
            "HELD (left with the relay; its supplied key is not available)"
        } else {
            "REFUSED"
        };
        let _ = writeln!(
            human,
            "{verdict} {} {}: {}",
            r["what"].as_str().unwrap_or("item"),
            r["message_id"].as_str().unwrap_or("(unreadable)"),
            r["reason"].as_str().unwrap_or("")
        );
    }
}

fn received_json(m: &ReceivedSummary) -> Value {
    json!({
        "message_id": m.message_id.to_string(),
        "sender": m.sender.to_string(),
        "sender_fingerprint": m.sender_fingerprint,
        "sender_name": m.sender_name,
        "classification": m.classification.marking(),
        "tlp": m.tlp.label(),
        "type": content_type_name(&m.content_type),
        "bytes": m.size,
        "received_at": m.received_at.0,
        "receipt_sent": m.receipt_sent,
    })
}

pub(crate) async fn inbox(args: SyncArgs, global: &GlobalArgs) -> Result<Outcome, Failure> {
    let (events, store) = synced_store(&args, global).await?;
    let Fetched {
        messages: new_messages,
        receipts,
        rejected,
        undelivered,
    } = event_summary(&events);
    let list = store.received().map_err(ClientError::from)?;
    let mut human = String::new();
    if !args.offline {
        let _ = writeln!(
            human,
            "fetched {new_messages} new message(s) and {receipts} receipt(s) from the home relay"
        );
    }
    write_rejections(&mut human, &rejected);
    write_undelivered(&mut human, &undelivered);
    if list.is_empty() {
        human.push_str("inbox is empty\n");
    }
    let fresh: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m.message_id),
            _ => None,
        })
        .collect();
    for m in &list {
        let _ = writeln!(
            human,
            "{} {}  {}  {:<16} {:<17} {:<5} {:>10}  from {} {}",
            if fresh.contains(&m.message_id) {
                "NEW"
            } else {
                "   "
            },
            m.message_id,
            human_time(m.received_at.0),
            m.classification.marking(),
            m.tlp.label(),
            content_type_name(&m.content_type),
            human_bytes(m.size),
            m.sender_name,
            m.sender_fingerprint
        );
    }
    Ok(Outcome::ok(
        json!({
            "ok": true,
            "fetched": { "messages": new_messages, "receipts": receipts },
            "rejected": rejected,
            "undelivered": undelivered,
            "messages": list.iter().map(|m| {
                let mut v = received_json(m);
                v["new"] = json!(fresh.contains(&m.message_id));
                v
            }).collect::<Vec<_>>(),
        }),
        human,
    ))
}

/// Where to write a report named `name` in `dir` without clobbering another file: `name` when
/// it is free or already holds exactly `bytes` (reading a message twice), else `stem-2.ext`,
/// `stem-3.ext`, … (two attachments called `report.pdf` from different senders).
fn free_output_path(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let holds_these_bytes = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.len() == bytes.len() as u64)
            && std::fs::read(p).is_ok_and(|b| b == bytes)
    };
    let first = dir.join(name);
    if !first.exists() || holds_these_bytes(&first) {
        return first;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, format!(".{ext}")),
        _ => (name, String::new()),
    };
    (2u32..)
        .map(|n| dir.join(format!("{stem}-{n}{ext}")))
        .find(|p| !p.exists() || holds_these_bytes(p))
        .unwrap_or(first) // ok: the range is unbounded, so `find` only ends on a match
}

pub(crate) fn read(args: ReadArgs, global: &GlobalArgs) -> Result<Outcome, Failure> {
    let store = open_store(global, &args.pass)?;
    let m = store.get_received(args.msg.trim()).map_err(|e| match e {
        StoreError::NotFound { .. } => ClientError::NoSuchMessage(args.msg.clone()).into(),
        StoreError::Ambiguous { .. } => Failure::bad_input(e.to_string()),
        other => ClientError::from(other).into(),
    })?;
    let envelope = Envelope::decode(&m.envelope_raw).map_err(ClientError::from)?;
    let sender = &envelope.header().sender_certificate;
    std::fs::create_dir_all(&args.out).map_err(|e| ClientError::io(&args.out, e))?;
    let name = content::output_file_name(&m.content_type, m.message_id);
    let path = free_output_path(&args.out, &name, &m.plaintext);
    profile::write_file(&path, &m.plaintext, 0o600)?;
    if let Some(p) = &args.save_envelope {
        profile::write_file(p, &m.envelope_raw, 0o600)?;
    }
    let b = banner(m.classification, m.tlp);
    let mut human = String::new();
    let _ = writeln!(human, "{b}");
    let _ = writeln!(human, "message     {}", m.message_id);
    let _ = writeln!(
        human,
        "from        {} ({})\nfingerprint {}",
        m.sender_name,
        sender.organisation(),
        m.sender_fingerprint
    );
    let _ = writeln!(
        human,
        "sent        {}",
        human_time(envelope.header().created.0)
    );
    let _ = writeln!(human, "received    {}", human_time(m.received_at.0));
    let _ = writeln!(
        human,
        "content     {} ({})",
        content_type_name(&m.content_type),
        human_bytes(m.plaintext.len() as u64)
    );
    let _ = writeln!(human, "written to  {}", path.display());
    if m.content_type == ContentType::Text {
        let _ = writeln!(human, "\n{}\n", String::from_utf8_lossy(&m.plaintext));
    }
    let _ = writeln!(human, "{b}");
    Ok(Outcome::ok(
        json!({
            "ok": true,
            "message_id": m.message_id.to_string(),
            "sender": m.sender.to_string(),
            "sender_fingerprint": m.sender_fingerprint,
            "sender_name": m.sender_name,
            "sender_organisation": sender.organisation(),
            "classification": m.classification.marking(),
            "tlp": m.tlp.label(),
            "type": content_type_name(&m.content_type),
            "bytes": m.plaintext.len(),
            "created": envelope.header().created.0,
            "received_at": m.received_at.0,
            "written_to": path,
        }),
        human,
    ))
}

pub(crate) async fn receipts(args: SyncArgs, global: &GlobalArgs) -> Result<Outcome, Failure> {
    let (events, store) = synced_store(&args, global).await?;
    let Fetched {
        receipts: new_receipts,
        rejected,
        undelivered,
        ..
    } = event_summary(&events);
    let sent = store.sent().map_err(ClientError::from)?;
    let mut human = String::new();
    if !args.offline {
        let _ = writeln!(human, "fetched {new_receipts} new receipt(s)");
    }
    write_rejections(&mut human, &rejected);
    write_undelivered(&mut human, &undelivered);
    if sent.is_empty() {
        human.push_str("nothing sent yet\n");
    }
    let mut list = Vec::new();
    for summary in &sent {
        let m = &summary.message;
        let _ = writeln!(
            human,
            "{}  {}  {:<16} {:<17} {}",
            m.message_id,
            human_time(m.sent_at.0),
            m.classification.marking(),
            m.tlp.label(),
            content_type_name(&m.content_type),
        );
        let mut recipients = Vec::new();
        for r in &summary.receipts {
            let notice = r.undelivered.as_ref().and_then(StoredNotice::notice);
            match (&r.receipt, &notice) {
                (Some(receipt), _) => {
                    let _ = writeln!(
                        human,
                        "    receipt from {} {} at {}",
                        r.name,
                        r.recipient.fingerprint(),
                        human_time(receipt.received_at.0)
                    );
                }
                (None, Some(n)) => {
                    let _ = writeln!(
                        human,
                        "    NOT DELIVERED to {} {}: {} [{}] (relay {} at {})",
                        r.name,
                        r.recipient.fingerprint(),
                        n.terms().reason,
                        wire_code_name(n.terms().code),
                        n.relay().name(),
                        human_time(n.issued_at().0)
                    );
                }
                (None, None) => {
                    let _ = writeln!(
                        human,
                        "    awaiting     {} {}",
                        r.name,
                        r.recipient.fingerprint()
                    );
                }
            }
            recipients.push(json!({
                "identity": r.recipient.to_string(),
                "fingerprint": r.recipient.fingerprint(),
                "name": r.name,
                "receipt_received_at": r.receipt.as_ref().map(|t| t.received_at.0),
                "undelivered": notice.as_ref().map(|n| json!({
                    "relay": n.relay().name(),
                    "code": n.terms().code,
                    "code_name": wire_code_name(n.terms().code),
                    "reason": n.terms().reason,
                    "issued_at": n.issued_at().0,
                })),
            }));
        }
        list.push(json!({
            "message_id": m.message_id.to_string(),
            "sent_at": m.sent_at.0,
            "classification": m.classification.marking(),
            "tlp": m.tlp.label(),
            "type": content_type_name(&m.content_type),
            "complete": summary.complete(),
            "recipients": recipients,
        }));
    }
    Ok(Outcome::ok(
        json!({
            "ok": true,
            "fetched": { "receipts": new_receipts },
            "rejected": rejected,
            "undelivered": undelivered,
            "sent": list,
        }),
        human,
    ))
}

pub(crate) fn verify(args: VerifyArgs, global: &GlobalArgs) -> Result<Outcome, Failure> {
    let bytes = read_bounded(&args.file, liaison_proto::envelope::MAX_ENVELOPE_LEN)?;
    let envelope = Envelope::decode(&bytes).map_err(ClientError::Verification)?;
    let profile = global.profile()?;
    let now = unix_now();
    let trust = profile.trust_store(now)?;
    envelope
        .verify_sender(&trust, now)
        .map_err(ClientError::Verification)?;
    let h = envelope.header();
    let me = profile.identity();
    let for_me = h.recipients.contains(&me);
    let mut decrypted = None;
    if for_me {
        let passphrase = global.passphrase(&args.pass, false)?;
        let keystore = OfficerKeystore::open(&profile.keystore_path(), &passphrase)?;
        let cert = profile.certificate()?;
        let secrets = keystore.prekey_secrets();
        let opened = envelope
            .open(&trust, &cert, &secrets, None, now)
            .map_err(ClientError::Verification)?;
        let written = match &args.out {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| ClientError::io(dir, e))?;
                let name = content::output_file_name(&h.content_type, h.message_id);
                let path = free_output_path(dir, &name, &opened.plaintext);
                profile::write_file(&path, &opened.plaintext, 0o600)?;
                Some(path)
            }
            None => None,
        };
        decrypted = Some((opened.plaintext.len(), written));
    }
    let b = banner(h.classification, h.tlp);
    let sender = &h.sender_certificate;
    let mut human = String::new();
    let _ = writeln!(human, "{b}");
    let _ = writeln!(
        human,
        "envelope    {} ({})",
        h.message_id,
        args.file.display()
    );
    let _ = writeln!(
        human,
        "sender      {} ({})\nfingerprint {}",
        sender.name(),
        sender.organisation(),
        h.sender.fingerprint()
    );
    let _ = writeln!(human, "signature   valid (composite {})", h.suite);
    let _ = writeln!(human, "certificate valid, issued by a trusted authority");
    let _ = writeln!(
        human,
        "created     {}   expires {}",
        human_time(h.created.0),
        human_time(h.expires.0)
    );
    let _ = writeln!(human, "recipients  {}", h.recipients.len());
    match &decrypted {
        Some((len, written)) => {
            let _ = writeln!(
                human,
                "decrypted   yes: {} for you",
                human_bytes(*len as u64)
            );
            if let Some(p) = written {
                let _ = writeln!(human, "written to  {}", p.display());
            }
        }
        None => {
            let _ = writeln!(human, "decrypted   no: not addressed to you");
        }
    }
    let _ = writeln!(human, "{b}");
    Ok(Outcome::ok(
        json!({
            "ok": true,
            "valid": true,
            "message_id": h.message_id.to_string(),
            "sender": h.sender.to_string(),
            "sender_fingerprint": h.sender.fingerprint(),
            "sender_name": sender.name(),
            "classification": h.classification.marking(),
            "tlp": h.tlp.label(),
            "type": content_type_name(&h.content_type),
            "recipients": h.recipients.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "for_me": for_me,
            "decrypted_bytes": decrypted.as_ref().map(|d| d.0),
            "written_to": decrypted.and_then(|d| d.1),
        }),
        human,
    ))
}

/// `liaison demo`.
pub(crate) fn demo() -> Result<Outcome, Failure> {
    let mut human = String::from("Liaison hybrid cryptography self-demonstration\n\n");
    let mut all_ok = true;
    let mut summary = Vec::new();
    for suite in Suite::ALL {
        let report = demo::run_suite(suite).map_err(|e| Failure::internal(e.to_string()))?;
        human.push_str(&report.render());
        all_ok &= report.all_ok();
        summary.push(json!({
            "suite": suite.name(),
            "ok": report.all_ok(),
            "fingerprint": report.fingerprint,
        }));
    }
    human.push_str(if all_ok {
        "\nall checks passed\n"
    } else {
        "\nSOME CHECKS FAILED\n"
    });
    Ok(Outcome {
        json: json!({ "ok": all_ok, "suites": summary }),
        human,
        exit_code: if all_ok { 0 } else { 1 },
    })
}

#[cfg(test)]
mod tests {
    use super::free_output_path;

    #[test]
    fn a_second_attachment_with_the_same_name_does_not_overwrite_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let first = free_output_path(dir.path(), "report.pdf", b"one");
        assert_eq!(first, dir.path().join("report.pdf"));
        std::fs::write(&first, b"one").unwrap();
        // The same bytes again (reading the same message twice): same file.
        assert_eq!(free_output_path(dir.path(), "report.pdf", b"one"), first);
        // Different bytes under the same name: a new file beside it.
        let second = free_output_path(dir.path(), "report.pdf", b"two");
        assert_eq!(second, dir.path().join("report-2.pdf"));
        std::fs::write(&second, b"two").unwrap();
        assert_eq!(
            free_output_path(dir.path(), "report.pdf", b"three"),
            dir.path().join("report-3.pdf")
        );
        assert_eq!(
            free_output_path(dir.path(), "README", b"x"),
            dir.path().join("README")
        );
    }
}
