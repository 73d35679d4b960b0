//! The `liaison` binary driven as an officer would drive it, against real relays run
//! in-process (real QUIC on loopback): the documented walk from nothing to a receipted STIX
//! report (authority included), and the exit codes of wrong passphrase (5), invalid STIX (2,
//! nothing sent), tampered envelope (2), relay refusal (3) and unreachable relay (4).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use liaison_proto::Classification;
use liaison_proto::certificate::CertificateRequest;
use serde_json::Value;
use support::Federation;

const PASS: &str = "officer passphrase for tests";

const STIX: &str = r#"{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-11-23T20:00:00.000Z","modified":"2026-11-23T20:00:00.000Z","name":"C2 beacon","pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix","valid_from":"2026-11-23T20:00:00Z"}]}"#;

/// Runs `liaison` with the test KDF profile, the passphrase in the environment, no stdin.
fn liaison(home: Option<&Path>, args: &[&str]) -> Output {
    liaison_with(home, args, PASS)
}

fn liaison_with(home: Option<&Path>, args: &[&str], passphrase: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_liaison"));
    if let Some(h) = home {
        cmd.arg("--home").arg(h);
    }
    cmd.args(args)
        .env("LIAISON_KDF_PROFILE", "test")
        .env("LIAISON_PASSPHRASE", passphrase)
        .env_remove("LIAISON_HOME")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("run liaison")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Asserts success and returns stdout parsed as one JSON object.
fn ok_json(o: &Output) -> Value {
    assert!(o.status.success(), "{}", text(o));
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {}", text(o)))
}

/// `liaison --json send --to TO --classification C --tlp T FILE` as the officer at `home`.
fn send_json(home: &Path, to: &str, classification: &str, tlp: &str, file: &Path) -> Output {
    liaison(
        Some(home),
        &[
            "--json",
            "send",
            "--to",
            to,
            "--classification",
            classification,
            "--tlp",
            tlp,
            p(file),
        ],
    )
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// An officer made with `liaison init` / `enroll` / `enroll --install`, certified by the
/// federation's in-test authority.
struct CliOfficer {
    home: PathBuf,
    id: String,
}

fn cli_officer(
    fed: &mut Federation,
    name: &str,
    relay: usize,
    clearance: Classification,
) -> CliOfficer {
    let home = fed.path().join("officers").join(name);
    let init = ok_json(&liaison(
        Some(&home),
        &["--json", "init", "--name", name, "--org", "Test CSIRT"],
    ));
    ok_json(&liaison(Some(&home), &["--json", "enroll"]));
    let request =
        CertificateRequest::decode(&std::fs::read(home.join("request.csr")).unwrap()).unwrap();
    let cert = fed.issue_officer(&request, relay, clearance);
    let cert_file = fed.path().join(format!("{name}.cert"));
    std::fs::write(&cert_file, cert.raw()).unwrap();
    let relay_cert = fed.relays[relay].cert_path.clone();
    let authority = fed.authority_pub.clone();
    ok_json(&liaison(
        Some(&home),
        &[
            "--json",
            "enroll",
            "--install",
            p(&cert_file),
            "--relay-cert",
            p(&relay_cert),
            "--trust",
            p(&authority),
        ],
    ));
    CliOfficer {
        home,
        id: init["identity"].as_str().unwrap().to_owned(),
    }
}

#[test]
fn officer_goes_from_nothing_to_a_receipted_stix_report() {
    let work = tempfile::tempdir().unwrap();
    let auth = work.path().join("authority");
    // The federation authority.
    ok_json(&liaison(
        None,
        &["--json", "authority", "init", "--dir", p(&auth)],
    ));
    let authority_pub = auth.join("authority.pub");
    let mut sign_relay =
        |csr: &Path, clearance: Classification, addr: std::net::SocketAddr, out: &Path| {
            let clearance = clearance.marking().replace(' ', "-").to_lowercase();
            ok_json(&liaison(
                None,
                &[
                    "--json",
                    "authority",
                    "sign",
                    p(csr),
                    "--dir",
                    p(&auth),
                    "--role",
                    "relay",
                    "--clearance",
                    &clearance,
                    "--address",
                    &addr.to_string(),
                    "--out",
                    p(out),
                ],
            ));
        };
    let mut fed =
        Federation::with_relay_signer(&[Classification::SecretUe], &authority_pub, &mut sign_relay);
    let relay_cert = fed.relays[0].cert_path.clone();
    let members = fed.path().join("members");

    // Two officers: init, enroll, the authority signs, install.
    let mut officers = Vec::new();
    for name in ["Ana Ferreira", "Bohdan Kovalenko"] {
        let home = work
            .path()
            .join(name.split(' ').next().unwrap().to_lowercase());
        let init = ok_json(&liaison(
            Some(&home),
            &["--json", "init", "--name", name, "--org", "CERT-EU"],
        ));
        let enroll = ok_json(&liaison(Some(&home), &["--json", "enroll"]));
        assert_eq!(enroll["fingerprint"], init["fingerprint"]);
        let csr = home.join("request.csr");
        let cert = work
            .path()
            .join(format!("{}.cert", init["identity"].as_str().unwrap()));
        ok_json(&liaison(
            None,
            &[
                "--json",
                "authority",
                "sign",
                p(&csr),
                "--dir",
                p(&auth),
                "--role",
                "officer",
                "--clearance",
                "confidentiel-ue",
                "--home-relay",
                p(&relay_cert),
                "--out",
                p(&cert),
            ],
        ));
        // The relay operator adds the member to the relay's directory.
        std::fs::copy(&cert, members.join(cert.file_name().unwrap())).unwrap();
        let installed = ok_json(&liaison(
            Some(&home),
            &[
                "--json",
                "enroll",
                "--install",
                p(&cert),
                "--relay-cert",
                p(&relay_cert),
                "--trust",
                p(&authority_pub),
            ],
        ));
        assert_eq!(installed["clearance"], "CONFIDENTIEL UE");
        officers.push((home, cert, init["identity"].as_str().unwrap().to_owned()));
    }
    fed.start(0);
    let (ana, _, _) = &officers[0];
    let (bohdan, bohdan_cert, bohdan_id) = &officers[1];

    // Bohdan connects once (his prekey reaches the relay); Ana adds him as a contact.
    ok_json(&liaison(Some(bohdan), &["--json", "inbox"]));
    let added = ok_json(&liaison(
        Some(ana),
        &["--json", "contacts", "add", p(bohdan_cert)],
    ));
    assert_eq!(added["added"]["identity"], bohdan_id.as_str());

    // Ana sends a STIX report to Bohdan by name.
    let report = work.path().join("incident.json");
    std::fs::write(&report, STIX).unwrap();
    let sent = ok_json(&send_json(
        ana,
        "Bohdan Kovalenko",
        "restreint-ue",
        "amber",
        &report,
    ));
    assert_eq!(sent["type"], "stix");
    assert_eq!(sent["custody"], "accepted");
    let id = sent["message_id"].as_str().unwrap().to_owned();

    // Bohdan fetches and reads it: the report comes out byte for byte.
    let inbox = ok_json(&liaison(Some(bohdan), &["--json", "inbox"]));
    assert_eq!(inbox["fetched"]["messages"], 1, "{inbox}");
    assert_eq!(inbox["messages"][0]["message_id"], id.as_str());
    assert_eq!(inbox["messages"][0]["new"], true);
    let out = work.path().join("out");
    let read = liaison(Some(bohdan), &["read", &id[..8], "--out", p(&out)]);
    assert!(read.status.success(), "{}", text(&read));
    let shown = String::from_utf8_lossy(&read.stdout);
    assert!(
        shown.contains("==== RESTREINT UE/EU RESTRICTED — TLP:AMBER ===="),
        "{shown}"
    );
    assert!(shown.contains("Ana Ferreira"), "{shown}");
    let written = std::fs::read_to_string(out.join(format!("{id}.stix.json"))).unwrap();
    assert_eq!(written, STIX);

    // Ana sees the signed receipt.
    let receipts = ok_json(&liaison(Some(ana), &["--json", "receipts"]));
    let entry = &receipts["sent"][0];
    assert_eq!(entry["message_id"], id.as_str());
    assert_eq!(entry["recipients"][0]["identity"], bohdan_id.as_str());
    assert!(
        entry["recipients"][0]["receipt_received_at"].is_u64(),
        "no receipt yet: {receipts}"
    );
    // A second inbox run delivers nothing new.
    let again = ok_json(&liaison(Some(bohdan), &["--json", "inbox"]));
    assert_eq!(again["fetched"]["messages"], 0, "{again}");
    assert_eq!(again["messages"].as_array().unwrap().len(), 1);
    assert_eq!(again["messages"][0]["new"], false);
}

#[test]
fn wrong_passphrase_exits_5_and_says_so() {
    let mut fed = Federation::new(&[Classification::SecretUe]);
    let ana = cli_officer(&mut fed, "Ana", 0, Classification::ConfidentielUe);
    let out = liaison_with(
        Some(&ana.home),
        &["--json", "inbox", "--offline"],
        "not the passphrase",
    );
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["kind"], "keystore");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("passphrase"),
        "{}",
        text(&out)
    );
    // The right one works.
    ok_json(&liaison(Some(&ana.home), &["--json", "inbox", "--offline"]));
}

#[test]
fn invalid_stix_is_refused_with_its_path_and_nothing_is_sent() {
    let mut fed = Federation::new(&[Classification::SecretUe]);
    let ana = cli_officer(&mut fed, "Ana", 0, Classification::ConfidentielUe);
    let bo = cli_officer(&mut fed, "Bohdan", 0, Classification::ConfidentielUe);
    fed.start(0);
    ok_json(&liaison(Some(&bo.home), &["--json", "inbox"]));
    let bad = fed.path().join("bad.json");
    std::fs::write(&bad, STIX.replace("indicator--8e2e2d2b", "indicator--xyz")).unwrap();
    let out = liaison(
        Some(&ana.home),
        &[
            "send",
            "--to",
            &bo.id,
            "--classification",
            "restreint-ue",
            "--tlp",
            "amber",
            "--type",
            "stix",
            p(&bad),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("objects[0].id"),
        "the message names the problem: {err}"
    );
    let receipts = ok_json(&liaison(
        Some(&ana.home),
        &["--json", "receipts", "--offline"],
    ));
    assert_eq!(receipts["sent"].as_array().unwrap().len(), 0);
    let inbox = ok_json(&liaison(
        Some(&bo.home),
        &["--json", "inbox", "--quiet", "1"],
    ));
    assert_eq!(inbox["messages"].as_array().unwrap().len(), 0, "{inbox}");
}

#[test]
fn tampered_saved_envelope_is_detected_by_verify() {
    let mut fed = Federation::new(&[Classification::SecretUe]);
    let ana = cli_officer(&mut fed, "Ana", 0, Classification::ConfidentielUe);
    let bo = cli_officer(&mut fed, "Bohdan", 0, Classification::ConfidentielUe);
    fed.start(0);
    ok_json(&liaison(Some(&bo.home), &["--json", "inbox"]));
    let report = fed.path().join("note.txt");
    std::fs::write(
        &report,
        "phishing wave against ministries, details to follow",
    )
    .unwrap();
    let saved = fed.path().join("sent.env");
    ok_json(&liaison(
        Some(&ana.home),
        &[
            "--json",
            "send",
            "--to",
            &bo.id,
            "--classification",
            "unclassified",
            "--tlp",
            "green",
            "--save-envelope",
            p(&saved),
            p(&report),
        ],
    ));
    // Intact: valid for anyone holding the trust anchor; decrypts for Bohdan.
    let v = ok_json(&liaison(Some(&ana.home), &["--json", "verify", p(&saved)]));
    assert_eq!(v["valid"], true);
    assert_eq!(v["for_me"], false);
    let out_dir = fed.path().join("verified");
    let v = ok_json(&liaison(
        Some(&bo.home),
        &["--json", "verify", p(&saved), "--out", p(&out_dir)],
    ));
    assert_eq!(v["for_me"], true);
    let written = PathBuf::from(v["written_to"].as_str().unwrap());
    assert_eq!(
        std::fs::read(written).unwrap(),
        std::fs::read(&report).unwrap()
    );
    // One flipped byte anywhere past the header is caught.
    let mut bytes = std::fs::read(&saved).unwrap();
    for at in [bytes.len() / 2, bytes.len() - 10] {
        let tampered = fed.path().join(format!("tampered-{at}.env"));
        bytes[at] ^= 0x01;
        std::fs::write(&tampered, &bytes).unwrap();
        bytes[at] ^= 0x01;
        let out = liaison(Some(&bo.home), &["verify", p(&tampered)]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("verification failed"),
            "{}",
            text(&out)
        );
    }
}

#[test]
fn a_large_attachment_arrives_byte_for_byte_under_its_own_name() {
    let mut fed = Federation::new(&[Classification::SecretUe]);
    let ana = cli_officer(&mut fed, "Ana", 0, Classification::ConfidentielUe);
    let bo = cli_officer(&mut fed, "Bohdan", 0, Classification::ConfidentielUe);
    fed.start(0);
    ok_json(&liaison(Some(&bo.home), &["--json", "inbox"]));
    // 6 MiB of non-text bytes: detected as an attachment, named after the file.
    let big = fed.path().join("memory-dump.bin");
    let bytes: Vec<u8> = (0..6 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&big, &bytes).unwrap();
    let sent = ok_json(&send_json(
        &ana.home,
        &bo.id,
        "restreint-ue",
        "amber+strict",
        &big,
    ));
    assert_eq!(sent["type"], "file");
    let id = sent["message_id"].as_str().unwrap().to_owned();
    ok_json(&liaison(Some(&bo.home), &["--json", "inbox"]));
    let out = fed.path().join("received");
    let read = ok_json(&liaison(
        Some(&bo.home),
        &["--json", "read", &id, "--out", p(&out)],
    ));
    assert_eq!(read["tlp"], "TLP:AMBER+STRICT");
    assert_eq!(std::fs::read(out.join("memory-dump.bin")).unwrap(), bytes);
}

#[test]
fn a_report_refused_further_along_shows_as_not_delivered_with_the_reason() {
    // Relay 2 (Bohdan's) takes envelopes up to 64 KiB of payload; Ana's relay takes more. The
    // send succeeds (Ana's relay took custody); relay 2 refuses it, and `receipts` shows the
    // relay-signed notice instead of "awaiting" forever.
    let mut fed = Federation::new(&[Classification::SecretUe, Classification::SecretUe]);
    let ana = cli_officer(&mut fed, "Ana", 0, Classification::ConfidentielUe);
    let bo = cli_officer(&mut fed, "Bohdan", 1, Classification::ConfidentielUe);
    let limit = 64 * 1024 + liaison_proto::envelope::MAX_ENVELOPE_OVERHEAD;
    fed.edit_relay_config(1, |text| format!("{text}max_envelope_bytes = {limit}\n"));
    fed.start(0);
    fed.start(1);
    ok_json(&liaison(Some(&bo.home), &["--json", "inbox"]));
    let report = fed.path().join("big.txt");
    std::fs::write(&report, "x".repeat(limit)).unwrap();
    let sent = ok_json(&send_json(
        &ana.home,
        &bo.id,
        "restreint-ue",
        "amber",
        &report,
    ));
    let id = sent["message_id"].as_str().unwrap().to_owned();
    let mut undelivered = Value::Null;
    for _ in 0..10 {
        let v = ok_json(&liaison(Some(&ana.home), &["--json", "receipts"]));
        let entry = &v["sent"][0];
        assert_eq!(entry["message_id"], id.as_str());
        undelivered = entry["recipients"][0]["undelivered"].clone();
        if !undelivered.is_null() {
            break;
        }
    }
    assert_eq!(undelivered["code_name"], "TooLarge", "{undelivered}");
    assert_eq!(undelivered["relay"], "relay-1");
    let reason = undelivered["reason"].as_str().unwrap();
    assert!(reason.contains("relay-2 refused it"), "{reason}");
    let human = liaison(Some(&ana.home), &["receipts", "--offline"]);
    assert!(
        text(&human).contains("NOT DELIVERED to Bohdan"),
        "{}",
        text(&human)
    );
}

#[test]
fn relay_refusal_exits_3_with_the_relays_reason() {
    // The relay is cleared up to RESTREINT UE only; the officers up to CONFIDENTIEL UE.
    let mut fed = Federation::new(&[Classification::RestreintUe]);
    let ana = cli_officer(&mut fed, "Ana", 0, Classification::ConfidentielUe);
    let bo = cli_officer(&mut fed, "Bohdan", 0, Classification::ConfidentielUe);
    fed.start(0);
    ok_json(&liaison(Some(&bo.home), &["--json", "inbox"]));
    let report = fed.path().join("r.json");
    std::fs::write(&report, STIX).unwrap();
    let out = send_json(&ana.home, &bo.id, "confidentiel-ue", "amber", &report);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "refused");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("refused by the relay"), "{message}");
    assert!(
        message.contains("clearance"),
        "the relay's reason: {message}"
    );
}

#[test]
fn unreachable_relay_exits_4() {
    let mut fed = Federation::new(&[Classification::SecretUe]);
    let ana = cli_officer(&mut fed, "Ana", 0, Classification::ConfidentielUe);
    // The relay is never started.
    let out = liaison(Some(&ana.home), &["--json", "--timeout", "2", "inbox"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "unreachable");
}

#[test]
fn help_documents_the_exit_codes_and_bad_usage_exits_2() {
    let out = liaison(None, &["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for line in ["3  refused", "4  home relay unreachable", "5  keystore"] {
        assert!(help.contains(line), "{help}");
    }
    let out = liaison(None, &["send", "--classification", "restreint-ue"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let dir = tempfile::tempdir().unwrap();
    let out = liaison(Some(dir.path()), &["--json", "inbox"]);
    assert_eq!(out.status.code(), Some(5), "no profile: {}", text(&out));
}
