//! Link frame vectors (`spec/protocol-link.md` §3.3–3.5): one encoded example of every inner
//! frame type — including `Refused`, `PrekeyPublish` and `EnvelopePart` — and a `PrekeyBundle` built from the
//! first officer of `certificates.json`, written to `spec/test-vectors/frames.json`.
//!
//! The test fails unless the file is reproduced byte for byte; regenerate after an intended
//! change with
//! `LIAISON_REGENERATE_VECTORS=1 cargo test -p liaison-proto --test vectors_frames`.

use std::path::PathBuf;

use liaison_crypto::IdentityId;
use liaison_proto::WireCode;
use liaison_proto::certificate::MemberCertificate;
use liaison_proto::frame::{AckStatus, EnvelopePart, FrameType, LinkFrame};
use liaison_proto::prekey::{PrekeyBundle, SignedPrekey};
use serde_json::{Value, json};

fn hex_field(value: &Value, path: &[&str]) -> Vec<u8> {
    let mut v = value;
    for key in path {
        v = &v[*key];
    }
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn build(dir: &std::path::Path) -> Value {
    let certificates: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("certificates.json")).unwrap())
            .unwrap();
    let officer = &certificates["officers"][0];
    let certificate = MemberCertificate::decode(&hex_field(officer, &["certificate"])).unwrap();
    let prekey = SignedPrekey::decode(&hex_field(officer, &["prekey", "signed_prekey"])).unwrap();
    let bundle = PrekeyBundle {
        certificate,
        prekey: prekey.clone(),
    };
    let owner = bundle.owner();
    let message_id: Vec<u8> = (0..16).collect();
    let frames = [
        ("envelope", LinkFrame::Envelope(vec![0x01, 0x05, 0x02])),
        (
            "envelope_part",
            LinkFrame::EnvelopePart(EnvelopePart {
                total: 3,
                offset: 1,
                bytes: vec![0x05, 0x02],
            }),
        ),
        (
            "ack accepted",
            LinkFrame::Ack {
                message_id: message_id.clone(),
                status: AckStatus::Accepted,
            },
        ),
        (
            "ack deferred",
            LinkFrame::Ack {
                message_id: message_id.clone(),
                status: AckStatus::Deferred,
            },
        ),
        ("receipt", LinkFrame::Receipt(vec![0x01, 0x06, 0x02])),
        (
            "non-delivery notice",
            LinkFrame::NonDelivery(vec![0x01, 0x07, 0x02]),
        ),
        ("prekey request", LinkFrame::PrekeyRequest(owner)),
        (
            "prekey response",
            LinkFrame::PrekeyResponse(bundle.encode()),
        ),
        (
            "refused envelope (too large)",
            LinkFrame::Refused {
                id: message_id.clone(),
                code: WireCode::TooLarge as u16,
                reason: "envelope of 70000000 bytes exceeds this relay's limit of 67371008".into(),
            },
        ),
        (
            "refused prekey request (no prekey)",
            LinkFrame::Refused {
                id: owner.as_bytes().to_vec(),
                code: WireCode::NoPrekey as u16,
                reason: "no valid prekey published".into(),
            },
        ),
        (
            "refused with an empty id and reason",
            LinkFrame::Refused {
                id: Vec::new(),
                code: WireCode::RateLimited as u16,
                reason: String::new(),
            },
        ),
        (
            "prekey publish",
            LinkFrame::PrekeyPublish(prekey.raw().to_vec()),
        ),
        ("ping", LinkFrame::Ping(*b"liaison!")),
        ("close", LinkFrame::Close),
        (
            "error",
            LinkFrame::Error {
                code: WireCode::Malformed as u16,
                reason: "unknown frame type 0xee".into(),
            },
        ),
    ];
    let frames: Vec<Value> = frames
        .iter()
        .map(|(name, frame)| {
            let encoded = frame.to_frame().unwrap();
            json!({
                "name": name,
                "type": encoded.frame_type.id(),
                "body": hex::encode(&encoded.body),
                "frame": hex::encode(encoded.encode()),
            })
        })
        .collect();
    let limits: Vec<Value> = FrameType::ALL
        .iter()
        .map(|t| json!({ "type": t.id(), "max_body": t.max_body_len() }))
        .collect();
    json!({
        "description": "Liaison link frame vectors (spec/protocol-link.md §3.3-3.5): one encoded example per inner frame type, the per-type body limits, and a prekey bundle of the first officer of certificates.json.",
        "frames": frames,
        "limits": limits,
        "wire_codes": {
            "TooLarge": WireCode::TooLarge as u16,
            "NoRoute": WireCode::NoRoute as u16,
            "RateLimited": WireCode::RateLimited as u16,
            "NoPrekey": WireCode::NoPrekey as u16,
        },
        "bundle": {
            "owner": IdentityId::to_string(&owner),
            "certificate": hex::encode(bundle.certificate.raw()),
            "signed_prekey": hex::encode(bundle.prekey.raw()),
            "bundle": hex::encode(bundle.encode()),
        },
    })
}

#[test]
fn frame_vectors_are_reproduced_byte_for_byte() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/test-vectors");
    let text = serde_json::to_string_pretty(&build(&dir)).unwrap() + "\n";
    let path = dir.join("frames.json");
    if std::env::var_os("LIAISON_REGENERATE_VECTORS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with LIAISON_REGENERATE_VECTORS=1",
            path.display()
        )
    });
    assert!(
        on_disk == text,
        "{} differs from what the code produces; if the change is intended, run \
         LIAISON_REGENERATE_VECTORS=1 cargo test -p liaison-proto --test vectors_frames",
        path.display()
    );
    // Every vector frame decodes back to itself.
    let value: Value = serde_json::from_str(&on_disk).unwrap();
    for f in value["frames"].as_array().unwrap() {
        let wire = hex::decode(f["frame"].as_str().unwrap()).unwrap();
        let frame = liaison_proto::frame::Frame::decode_exact(&wire).unwrap();
        let parsed = LinkFrame::from_frame(&frame).unwrap();
        assert_eq!(parsed.to_frame().unwrap().encode(), wire, "{}", f["name"]);
    }
}
