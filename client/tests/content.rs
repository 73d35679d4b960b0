//! Incident-report validation against the shipped examples (`examples/reports/`): the valid
//! STIX bundle and MISP event pass, and each broken case is refused with the JSON path of the
//! problem. Also content-type detection and output file names.

use std::path::Path;

use liaison_client::content::{
    ContentError, detect, output_file_name, validate_misp_event, validate_stix_bundle,
};
use liaison_proto::envelope::{ContentType, MessageId};
use serde_json::{Value, json};

const STIX: &[u8] = include_bytes!("../../examples/reports/phishing-campaign.stix.json");
const MISP: &[u8] = include_bytes!("../../examples/reports/phishing-campaign.misp.json");
const INVALID_STIX: &[u8] = include_bytes!("../../examples/reports/invalid-indicator-id.stix.json");

fn stix() -> Value {
    serde_json::from_slice(STIX).unwrap()
}

fn misp() -> Value {
    serde_json::from_slice(MISP).unwrap()
}

/// Validates a mutated bundle and returns (path, message).
fn stix_error(bundle: &Value) -> (String, String) {
    let err = validate_stix_bundle(&serde_json::to_vec(bundle).unwrap())
        .expect_err("the mutated bundle must be refused");
    assert!(matches!(err, ContentError::Stix { .. }), "{err}");
    (err.path().to_string(), err.to_string())
}

fn misp_error(event: &Value) -> (String, String) {
    let err = validate_misp_event(&serde_json::to_vec(event).unwrap())
        .expect_err("the mutated event must be refused");
    assert!(matches!(err, ContentError::Misp { .. }), "{err}");
    (err.path().to_string(), err.to_string())
}

#[test]
fn shipped_examples_are_valid() {
    validate_stix_bundle(STIX).unwrap();
    validate_misp_event(MISP).unwrap();
}

#[test]
fn shipped_invalid_example_names_the_bad_identifier() {
    let err = validate_stix_bundle(INVALID_STIX).unwrap_err();
    assert_eq!(err.path(), "objects[4].id");
    assert_eq!(
        err.to_string(),
        "invalid STIX 2.1 bundle: objects[4].id: \"indicator--xyz\" is not \"<type>--<UUID>\""
    );
}

#[test]
fn refuses_wrong_spec_version_with_its_path() {
    let mut b = stix();
    b["objects"][0]["spec_version"] = json!("2.0");
    let (path, msg) = stix_error(&b);
    assert_eq!(path, "objects[0].spec_version");
    assert!(msg.contains("must be \"2.1\""), "{msg}");
}

#[test]
fn refuses_missing_created_and_modified_on_sdos() {
    let mut b = stix();
    b["objects"][2].as_object_mut().unwrap().remove("created");
    assert_eq!(stix_error(&b).0, "objects[2].created");

    let mut b = stix();
    b["objects"][6].as_object_mut().unwrap().remove("modified");
    let (path, msg) = stix_error(&b);
    assert_eq!(path, "objects[6].modified");
    assert!(msg.contains("required on a malware"), "{msg}");
}

#[test]
fn refuses_bad_timestamps() {
    for bad in [
        "2026-11-20 09:10:00Z",
        "2026-11-20T09:10:00+01:00",
        "2026-02-30T00:00:00Z",
        "yesterday",
    ] {
        let mut b = stix();
        b["objects"][3]["created"] = json!(bad);
        b["objects"][3]["modified"] = json!(bad);
        let (path, msg) = stix_error(&b);
        assert_eq!(path, "objects[3].created", "{bad}");
        assert!(msg.contains("not a STIX timestamp"), "{msg}");
    }
    let mut b = stix();
    b["objects"][2]["modified"] = json!("2026-11-19T00:00:00Z");
    let (path, msg) = stix_error(&b);
    assert_eq!(path, "objects[2].modified");
    assert!(msg.contains("earlier than created"), "{msg}");
}

#[test]
fn refuses_identifier_whose_type_differs_from_the_object() {
    let mut b = stix();
    b["objects"][6]["id"] = json!("indicator--6e0c7ab8-fd2d-482f-b0b7-cc90e9ab0a5f");
    let (path, msg) = stix_error(&b);
    assert_eq!(path, "objects[6].id");
    assert!(msg.contains("must name a malware"), "{msg}");
}

#[test]
fn refuses_bad_bundle_envelope() {
    let mut b = stix();
    b["type"] = json!("report");
    assert_eq!(stix_error(&b).0, "type");

    let mut b = stix();
    b["id"] = json!("bundle--not-a-uuid");
    assert_eq!(stix_error(&b).0, "id");

    let mut b = stix();
    b["objects"] = json!({});
    assert_eq!(stix_error(&b).0, "objects");

    let mut b = stix();
    b["objects"] = json!([]);
    assert_eq!(stix_error(&b).0, "objects");
}

#[test]
fn refuses_relationship_with_malformed_or_missing_refs() {
    let mut b = stix();
    b["objects"][7]["target_ref"] = json!("identity-0ae95672");
    let (path, msg) = stix_error(&b);
    assert_eq!(path, "objects[7].target_ref");
    assert!(msg.contains("<type>--<UUID>"), "{msg}");

    let mut b = stix();
    b["objects"][8]
        .as_object_mut()
        .unwrap()
        .remove("source_ref");
    assert_eq!(stix_error(&b).0, "objects[8].source_ref");

    let mut b = stix();
    b["objects"][8]
        .as_object_mut()
        .unwrap()
        .remove("relationship_type");
    assert_eq!(stix_error(&b).0, "objects[8].relationship_type");
}

#[test]
fn refuses_indicator_without_pattern_fields() {
    for prop in ["pattern", "pattern_type", "valid_from"] {
        let mut b = stix();
        b["objects"][3].as_object_mut().unwrap().remove(prop);
        let (path, msg) = stix_error(&b);
        assert_eq!(path, format!("objects[3].{prop}"));
        assert!(msg.contains("required on an indicator"), "{msg}");
    }
    let mut b = stix();
    b["objects"][3]["pattern"] = json!("[domain-name:value = 'eu-careers-login.example'");
    let (path, msg) = stix_error(&b);
    assert_eq!(path, "objects[3].pattern");
    assert!(msg.contains("unclosed"), "{msg}");

    let mut b = stix();
    b["objects"][3]["valid_until"] = json!("2026-11-01T00:00:00Z");
    assert_eq!(stix_error(&b).0, "objects[3].valid_until");
}

#[test]
fn refuses_report_without_object_refs_and_bad_marking_ref() {
    let mut b = stix();
    b["objects"][11]["object_refs"] = json!([]);
    assert_eq!(stix_error(&b).0, "objects[11].object_refs");

    let mut b = stix();
    b["objects"][11]["object_refs"][2] = json!("indicator--nope");
    assert_eq!(stix_error(&b).0, "objects[11].object_refs[2]");

    let mut b = stix();
    b["objects"][11]["object_marking_refs"] =
        json!(["identity--7fcc6f4b-fef2-4c3c-80f1-277b5f488309"]);
    let (path, msg) = stix_error(&b);
    assert_eq!(path, "objects[11].object_marking_refs[0]");
    assert!(msg.contains("marking-definition"), "{msg}");
}

#[test]
fn refuses_misspelt_type_and_duplicate_objects_but_accepts_custom_types() {
    let mut b = stix();
    b["objects"][3]["type"] = json!("indicatr");
    b["objects"][3]["id"] = json!("indicatr--3a4a78d5-947d-483b-801e-310ca5906595");
    let (path, msg) = stix_error(&b);
    assert_eq!(path, "objects[3].type");
    assert!(msg.contains("not a STIX 2.1 object type"), "{msg}");

    let mut b = stix();
    let dup = b["objects"][1].clone();
    b["objects"].as_array_mut().unwrap().push(dup);
    let (path, msg) = stix_error(&b);
    assert_eq!(path, "objects[12].id");
    assert!(msg.contains("objects[1]"), "{msg}");

    let mut b = stix();
    b["objects"].as_array_mut().unwrap().push(json!({
        "type": "x-eu-desk-note",
        "spec_version": "2.1",
        "id": "x-eu-desk-note--65d782ea-67fd-455b-9dcb-a3780997db56",
        "created": "2026-11-21T15:00:00Z",
        "modified": "2026-11-21T15:00:00Z",
        "x_text": "internal"
    }));
    validate_stix_bundle(&serde_json::to_vec(&b).unwrap()).unwrap();
}

#[test]
fn refuses_non_json_with_position() {
    let err = validate_stix_bundle(b"{\"type\": \"bundle\",\n \"id\": }").unwrap_err();
    match err {
        ContentError::NotJson { line, .. } => assert_eq!(line, 2),
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn refuses_misp_event_problems_with_their_paths() {
    let mut e = misp();
    e["Event"].as_object_mut().unwrap().remove("info");
    assert_eq!(misp_error(&e).0, "Event.info");

    let mut e = misp();
    e["Event"]["Attribute"][3]["type"] = json!("ip-destination");
    let (path, msg) = misp_error(&e);
    assert_eq!(path, "Event.Attribute[3].type");
    assert!(msg.contains("not a MISP attribute type"), "{msg}");

    let mut e = misp();
    e["Event"]["Attribute"][0]["category"] = json!("Network");
    assert_eq!(misp_error(&e).0, "Event.Attribute[0].category");

    let mut e = misp();
    e["Event"]["date"] = json!("21/11/2026");
    assert_eq!(misp_error(&e).0, "Event.date");

    let mut e = misp();
    e["Event"]["threat_level_id"] = json!("7");
    assert_eq!(misp_error(&e).0, "Event.threat_level_id");

    let mut e = misp();
    e["Event"]["Object"][0]["Attribute"][1]
        .as_object_mut()
        .unwrap()
        .remove("object_relation");
    assert_eq!(
        misp_error(&e).0,
        "Event.Object[0].Attribute[1].object_relation"
    );

    let mut e = misp();
    e["Event"]["uuid"] = json!("5c3bcf48");
    assert_eq!(misp_error(&e).0, "Event.uuid");

    assert_eq!(misp_error(&json!({"info": "no wrapper"})).0, "Event");
}

#[test]
fn detects_content_types() {
    let p = Path::new("report.json");
    assert_eq!(detect(p, STIX), ContentType::Stix21Bundle);
    assert_eq!(detect(p, MISP), ContentType::MispEvent);
    assert_eq!(
        detect(
            Path::new("notes.txt"),
            "Phishing wave 2 seen at 09:00 UTC".as_bytes()
        ),
        ContentType::Text
    );
    assert_eq!(detect(p, b"{\"not\": \"a report\"}"), ContentType::Text);
    assert_eq!(
        detect(
            Path::new("/tmp/../evidence/.capture.pcap"),
            &[0xd4, 0xc3, 0xb2, 0xa1, 0xff]
        ),
        ContentType::Attachment {
            filename: "capture.pcap".into()
        }
    );
}

#[test]
fn output_names_keep_the_original_format_and_are_safe() {
    let id = MessageId([0xab; 16]);
    let hex = "ab".repeat(16);
    assert_eq!(
        output_file_name(&ContentType::Stix21Bundle, id),
        format!("{hex}.stix.json")
    );
    assert_eq!(
        output_file_name(&ContentType::MispEvent, [0xab; 16]),
        format!("{hex}.misp.json")
    );
    assert_eq!(
        output_file_name(&ContentType::Text, id),
        format!("{hex}.txt")
    );
    let evil = ContentType::Attachment {
        filename: "../../../home/officer/.ssh/authorized_keys".into(),
    };
    assert_eq!(output_file_name(&evil, id), "authorized_keys");
    let hidden = ContentType::Attachment {
        filename: "..\\..\\.profile".into(),
    };
    assert_eq!(output_file_name(&hidden, id), "profile");
}

#[test]
fn damaged_reports_never_panic_the_validators() {
    let stix = |b: &[u8]| validate_stix_bundle(b).is_ok();
    let misp = |b: &[u8]| validate_misp_event(b).is_ok();
    for (original, validate) in [(STIX, &stix as &dyn Fn(&[u8]) -> bool), (MISP, &misp)] {
        for i in 0..original.len() {
            let mut bad = original.to_vec();
            bad[i] ^= 0x01;
            let _ = validate(&bad);
            let _ = detect(Path::new("x"), &bad);
        }
        // Every proper prefix (short of the closing brace) is refused.
        let end = original.iter().rposition(|&b| b == b'}').unwrap();
        for len in (0..end).step_by(13) {
            assert!(
                !validate(&original[..len]),
                "prefix of {len} bytes accepted"
            );
        }
    }
    // Deep nesting is refused by the parser's depth limit, not by a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(validate_stix_bundle(deep.as_bytes()).is_err());
    assert_eq!(
        detect(Path::new("-"), &[0xff, 0x00]),
        ContentType::Attachment {
            filename: "attachment.bin".into()
        }
    );
}

#[test]
fn validate_dispatches_by_content_type() {
    use liaison_client::content::validate;
    validate(&ContentType::Stix21Bundle, STIX).unwrap();
    validate(&ContentType::MispEvent, MISP).unwrap();
    assert!(matches!(
        validate(&ContentType::MispEvent, STIX),
        Err(ContentError::Misp { .. })
    ));
    validate(&ContentType::Text, "Grüße aus Kyiv".as_bytes()).unwrap();
    assert_eq!(
        validate(&ContentType::Text, &[b'o', b'k', 0xff]),
        Err(ContentError::NotUtf8 { offset: 2 })
    );
    let any = ContentType::Attachment {
        filename: "image.png".into(),
    };
    validate(&any, &[0x89, b'P', b'N', b'G', 0xff]).unwrap();
}
