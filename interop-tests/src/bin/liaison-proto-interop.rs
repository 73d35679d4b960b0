//! `liaison-proto-interop`: the Rust half of the cross-implementation check of the Liaison
//! protocol documents (project issue 4, item 4). The Python side (`python/protocol/`) is an
//! independent implementation written from `spec/protocol.md`; it seals envelopes and issues
//! receipts, and this binary checks them with the public API of `liaison-proto`.
//!
//! Subcommands (all hex is lower-case; big inputs are passed as files holding raw bytes):
//!
//! * `open --envelope FILE --recipient-cert HEX --prekey-seed HEX [--supplied-key HEX]
//!   --trust ANCHOR_PK_HEX --now SECS` runs `Envelope::open` as that recipient.
//! * `verify-receipt --receipt FILE --envelope FILE --recipient-cert HEX
//!   --trust ANCHOR_PK_HEX --now SECS` runs `Receipt::decode` and `Receipt::verify`.
//!
//! On success it prints one JSON object with `"ok": true` and what it recovered (header
//! fields, plaintext, hashes) and exits 0. When `liaison-proto` refuses the input it prints
//! `{"ok": false, "error": <variant>, "wire_code": <u16>, "reason": <text>}` and exits 1.
//! Usage errors exit 2. The trust anchor's suite follows from its public-key length.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Context as _, anyhow, bail};
use serde_json::{Value, json};

use liaison_crypto::kem::KemSecretKey;
use liaison_crypto::sign::VerifyingKey;
use liaison_crypto::{SecretBytes, Seed32, Suite};
use liaison_proto::certificate::MemberCertificate;
use liaison_proto::envelope::Envelope;
use liaison_proto::receipt::Receipt;
use liaison_proto::trust::TrustStore;
use liaison_proto::{ProtoError, UnixTime};

const USAGE: &str = "usage: liaison-proto-interop open --envelope FILE --recipient-cert HEX \
--prekey-seed HEX [--supplied-key HEX] --trust PK_HEX --now SECS\n       \
liaison-proto-interop verify-receipt --receipt FILE --envelope FILE --recipient-cert HEX \
--trust PK_HEX --now SECS";

/// `--name value` pairs after the subcommand.
struct Args(BTreeMap<String, String>);

impl Args {
    fn parse(raw: &[String]) -> anyhow::Result<Self> {
        let mut map = BTreeMap::new();
        let mut it = raw.iter();
        while let Some(k) = it.next() {
            let name = k
                .strip_prefix("--")
                .ok_or_else(|| anyhow!("unexpected argument {k:?}"))?;
            let v = it.next().ok_or_else(|| anyhow!("{k} needs a value"))?;
            if map.insert(name.to_owned(), v.clone()).is_some() {
                bail!("{k} given twice");
            }
        }
        Ok(Self(map))
    }

    fn get(&self, name: &str) -> anyhow::Result<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| anyhow!("missing --{name}"))
    }

    fn hex(&self, name: &str) -> anyhow::Result<Vec<u8>> {
        hex::decode(self.get(name)?).with_context(|| format!("--{name} is not hex"))
    }

    fn opt_hex(&self, name: &str) -> anyhow::Result<Option<Vec<u8>>> {
        self.0
            .get(name)
            .map(|v| hex::decode(v).with_context(|| format!("--{name} is not hex")))
            .transpose()
    }

    fn file(&self, name: &str) -> anyhow::Result<Vec<u8>> {
        let path = self.get(name)?;
        std::fs::read(path).with_context(|| format!("reading --{name} {path}"))
    }

    fn now(&self) -> anyhow::Result<UnixTime> {
        Ok(UnixTime(self.get("now")?.parse().context("--now")?))
    }

    fn trust(&self) -> anyhow::Result<TrustStore> {
        let pk = self.hex("trust")?;
        let suite = [Suite::Lq1, Suite::Lq2]
            .into_iter()
            .find(|s| s.signature_public_key_len() == pk.len())
            .ok_or_else(|| anyhow!("--trust: no suite has a {}-byte public key", pk.len()))?;
        let key = VerifyingKey::from_bytes(suite, &pk).map_err(|e| anyhow!("--trust: {e}"))?;
        Ok(TrustStore::new(vec![key]))
    }
}

/// Either a usage problem (exit 2) or a refusal by `liaison-proto` (exit 1, reported as JSON).
enum Failure {
    Usage(anyhow::Error),
    Refused(ProtoError),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Self::Usage(e)
    }
}

impl From<ProtoError> for Failure {
    fn from(e: ProtoError) -> Self {
        Self::Refused(e)
    }
}

fn seed32(bytes: &[u8], what: &str) -> anyhow::Result<Seed32> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| anyhow!("{what} must be 32 bytes"))?;
    Ok(Seed32::from_bytes(arr))
}

fn ids(list: &[liaison_crypto::IdentityId]) -> Vec<String> {
    list.iter().map(|i| hex::encode(i.as_bytes())).collect()
}

fn envelope_json(env: &Envelope) -> Value {
    let h = env.header();
    json!({
        "suite": h.suite.name(),
        "message_id": hex::encode(h.message_id.0),
        "sender": hex::encode(h.sender.as_bytes()),
        "classification": h.classification.wire(),
        "tlp": h.tlp.wire(),
        "created": h.created.0,
        "expires": h.expires.0,
        "content_type": h.content_type.wire(),
        "payload_len": h.payload_len,
        "recipients": ids(&h.recipients),
        "header_hash": hex::encode(env.header_hash()),
        "signed_digest": hex::encode(env.signed_digest()),
        "envelope_hash": hex::encode(env.envelope_hash()),
        "blocks": env.blocks().iter().map(|b| json!({
            "recipient": hex::encode(b.recipient.as_bytes()),
            "prekey_id": hex::encode(b.prekey_id.as_bytes()),
            "supplied_key_id": b.supplied.as_ref().map(|r| r.key_id.clone()),
        })).collect::<Vec<_>>(),
    })
}

fn open(args: &Args) -> Result<Value, Failure> {
    let trust = args.trust()?;
    let now = args.now()?;
    let me = MemberCertificate::decode(&args.hex("recipient-cert")?)?;
    let env = Envelope::decode(&args.file("envelope")?)?;
    let prekey = KemSecretKey::from_seed(
        env.header().suite,
        seed32(&args.hex("prekey-seed")?, "--prekey-seed")?,
    );
    let supplied = args.opt_hex("supplied-key")?.map(SecretBytes::new);
    let opened = env.open(&trust, &me, &[&prekey], supplied.as_ref(), now)?;
    let mut out = envelope_json(&env);
    out["ok"] = json!(true);
    out["plaintext"] = json!(hex::encode(&opened.plaintext));
    out["opened_envelope_hash"] = json!(hex::encode(env.envelope_hash()));
    Ok(out)
}

fn verify_receipt(args: &Args) -> Result<Value, Failure> {
    let trust = args.trust()?;
    let now = args.now()?;
    let recipient = MemberCertificate::decode(&args.hex("recipient-cert")?)?;
    let env = Envelope::decode(&args.file("envelope")?)?;
    let receipt = Receipt::decode(&args.file("receipt")?)?;
    receipt.verify(&trust, &recipient, &env, now)?;
    Ok(json!({
        "ok": true,
        "suite": receipt.suite().name(),
        "message_id": hex::encode(receipt.message_id().0),
        "envelope_hash": hex::encode(receipt.envelope_hash()),
        "sender": hex::encode(receipt.sender().as_bytes()),
        "recipient": hex::encode(receipt.recipient().as_bytes()),
        "received_at": receipt.received_at().0,
    }))
}

/// The variant name at the start of a `Debug` form (`SenderMismatch { .. }` → `SenderMismatch`).
fn variant_name(debug: &str) -> String {
    debug
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The variant name of an error.
fn variant(e: &ProtoError) -> String {
    variant_name(&format!("{e:?}"))
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = argv.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = Args::parse(rest)
        .map_err(Failure::Usage)
        .and_then(|args| match cmd.as_str() {
            "open" => open(&args),
            "verify-receipt" => verify_receipt(&args),
            other => Err(Failure::Usage(anyhow!("unknown subcommand {other:?}"))),
        });
    match result {
        Ok(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(Failure::Refused(e)) => {
            // For decode errors, also the `DecodeError` variant (`Truncated`, `NonCanonical`, ...).
            let detail = match &e {
                ProtoError::Decode(d) => Some(variant_name(&format!("{d:?}"))),
                _ => None,
            };
            println!(
                "{}",
                json!({
                    "ok": false,
                    "error": variant(&e),
                    "detail": detail,
                    "wire_code": e.wire_code() as u16,
                    "reason": e.to_string(),
                })
            );
            ExitCode::from(1)
        }
        Err(Failure::Usage(e)) => {
            eprintln!("error: {e:#}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
