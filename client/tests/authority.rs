//! The federation authority end to end on real files: init, sign a relay and an officer,
//! validate under a trust store built from `authority.pub`, revoke, sign revocation lists that
//! proto's revocation API accepts, state surviving a reopen, and the refusals. The last test
//! drives the real `liaison authority` binary.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use liaison_client::authority::{
    Authority, AuthorityError, EXIT_BAD_INPUT, EXIT_KEYSTORE, KEY_FILE, PUBLIC_FILE, RevokeOutcome,
    RevokeTarget, SignTerms, check_fingerprint, inspect, read_certificate, read_request,
};
use liaison_client::keystore::{KdfParams, KeystoreError};
use liaison_client::passphrase::Passphrase;
use liaison_crypto::Suite;
use liaison_crypto::sign::SigningKey;
use liaison_node::config::parse_authority_key;
use liaison_proto::certificate::{CertificateRequest, Role};
use liaison_proto::revocation::RevocationList;
use liaison_proto::trust::TrustStore;
use liaison_proto::{Classification, ProtoError, UnixTime};

const NOW: UnixTime = UnixTime(1_800_000_000);

fn pass() -> Passphrase {
    Passphrase::new("authority root passphrase".into())
}

fn init(dir: &Path) -> Authority {
    Authority::init_with_params(
        dir,
        "EU Liaison Federation",
        Suite::Lq2,
        &pass(),
        KdfParams::TEST,
        &mut liaison_crypto::rng::os_rng(),
    )
    .unwrap()
}

/// Writes a request for a fresh key; returns the key and the file.
fn request_file(
    dir: &Path,
    file: &str,
    name: &str,
    suite: Suite,
) -> (SigningKey, std::path::PathBuf) {
    let mut rng = liaison_crypto::rng::os_rng();
    let key = SigningKey::generate(suite, &mut rng);
    let req = CertificateRequest::new(&key, name, "CERT-EU", &mut rng).unwrap();
    let path = dir.join(file);
    std::fs::write(&path, req.raw()).unwrap();
    (key, path)
}

fn relay_terms() -> SignTerms {
    SignTerms {
        role: Role::Relay,
        clearance: Classification::SecretUe,
        valid_days: 365,
        home_relay: None,
        address: Some("relay1.cert-eu.example:7443".into()),
    }
}

fn trust_from_pub(dir: &Path) -> TrustStore {
    let text = std::fs::read_to_string(dir.join(PUBLIC_FILE)).unwrap();
    TrustStore::new(vec![parse_authority_key(&text).unwrap()])
}

#[test]
fn init_sign_revoke_crl_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("authority");
    let auth = init(&dir);
    let mut rng = liaison_crypto::rng::os_rng();
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        std::fs::metadata(dir.join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let trust = trust_from_pub(&dir);
    assert_eq!(trust.anchor_ids().next(), Some(&auth.id()));

    // A relay, then an officer homed on it.
    let (_, relay_req) = request_file(tmp.path(), "relay.req", "cert-eu-relay-1", Suite::Lq2);
    let relay = auth
        .sign(
            &read_request(&relay_req).unwrap(),
            &relay_terms(),
            NOW,
            &mut rng,
        )
        .unwrap();
    assert_eq!(relay.serial(), 1);
    assert_eq!(relay.address(), Some("relay1.cert-eu.example:7443"));
    trust.validate_role(&relay, Role::Relay, NOW).unwrap();

    let (officer_key, officer_req) = request_file(tmp.path(), "ana.req", "Ana Ionescu", Suite::Lq1);
    let terms = SignTerms {
        role: Role::Officer,
        clearance: Classification::RestreintUe,
        valid_days: 30,
        home_relay: Some(relay.subject()),
        address: None,
    };
    let officer = auth
        .sign(&read_request(&officer_req).unwrap(), &terms, NOW, &mut rng)
        .unwrap();
    assert_eq!(officer.serial(), 2);
    assert_eq!(officer.public_key(), officer_key.verifying_key());
    assert_eq!(officer.home_relay(), Some(relay.subject()));
    assert_eq!(officer.not_after(), NOW.plus_secs(30 * 86_400));
    assert!(officer.not_before() <= NOW);
    trust.validate_role(&officer, Role::Officer, NOW).unwrap();
    assert!(matches!(
        trust.validate(&officer, NOW.plus_secs(31 * 86_400)),
        Err(ProtoError::CertificateExpired { .. })
    ));

    // Revoke the officer; the list names serial 2 and verifies with proto's API.
    assert_eq!(
        auth.revoke(&RevokeTarget::Serial(2), "laptop stolen", NOW)
            .unwrap(),
        RevokeOutcome::Revoked
    );
    assert_eq!(
        auth.revoke(&RevokeTarget::Serial(2), "again", NOW).unwrap(),
        RevokeOutcome::AlreadyRevoked
    );
    assert!(matches!(
        auth.revoke(&RevokeTarget::Serial(99), "typo", NOW),
        Err(AuthorityError::UnknownSerial { serial: 99 })
    ));
    let crl = auth.issue_crl(7, NOW, &mut rng).unwrap();
    let crl = RevocationList::decode(crl.raw()).unwrap();
    assert_eq!(crl.number(), 1);
    assert_eq!(crl.issuer(), auth.id());
    crl.verify_signature(auth.verifying_key()).unwrap();
    assert!(crl.revokes_serial(2) && !crl.revokes_serial(1));
    assert_eq!(crl.next_update(), NOW.plus_secs(7 * 86_400));

    let mut trust = trust;
    trust.install_revocations(crl, NOW).unwrap();
    assert!(matches!(
        trust.validate(&officer, NOW),
        Err(ProtoError::CertificateRevoked { serial: 2, .. })
    ));
    trust.validate(&relay, NOW).unwrap();

    // Revoking the relay's key itself; the next list has a higher number and lists it.
    auth.revoke(
        &RevokeTarget::Subject(relay.subject()),
        "key compromise",
        NOW,
    )
    .unwrap();
    let crl2 = auth.issue_crl(7, NOW.plus_secs(60), &mut rng).unwrap();
    assert_eq!(crl2.number(), 2);
    assert!(crl2.revokes_subject(&relay.subject()));
    trust.install_revocations(crl2, NOW.plus_secs(60)).unwrap();
    assert!(matches!(
        trust.validate(&relay, NOW.plus_secs(60)),
        Err(ProtoError::CertificateRevoked { .. })
    ));
}

#[test]
fn state_survives_reopen_and_serials_keep_increasing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a");
    let mut rng = liaison_crypto::rng::os_rng();
    let (_, req) = request_file(tmp.path(), "r.req", "relay-2", Suite::Lq1);
    {
        let auth = init(&dir);
        auth.sign(&read_request(&req).unwrap(), &relay_terms(), NOW, &mut rng)
            .unwrap();
        auth.revoke(&RevokeTarget::Serial(1), "decommissioned", NOW)
            .unwrap();
        auth.issue_crl(7, NOW, &mut rng).unwrap();
    }
    let list = Authority::list(&dir).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0].revoked.as_ref().map(|r| r.reason.as_str()),
        Some("decommissioned")
    );
    let auth = Authority::open(&dir, &pass()).unwrap();
    assert_eq!(auth.name(), "EU Liaison Federation");
    let second = auth
        .sign(&read_request(&req).unwrap(), &relay_terms(), NOW, &mut rng)
        .unwrap();
    assert_eq!(second.serial(), 2);
    assert_eq!(auth.issue_crl(7, NOW, &mut rng).unwrap().number(), 2);
}

#[test]
fn refusals_have_precise_errors_and_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a");
    drop(init(&dir));
    let mut rng = liaison_crypto::rng::os_rng();

    let again =
        Authority::init_with_params(&dir, "x", Suite::Lq2, &pass(), KdfParams::TEST, &mut rng)
            .unwrap_err();
    assert!(matches!(again, AuthorityError::AlreadyInitialised { .. }));
    assert_eq!(again.exit_code(), EXIT_BAD_INPUT);

    let wrong = Authority::open(&dir, &Passphrase::new("guess".into())).unwrap_err();
    assert!(matches!(
        wrong,
        AuthorityError::Keystore(KeystoreError::WrongPassphrase { .. })
    ));
    assert_eq!(wrong.exit_code(), EXIT_KEYSTORE);

    assert!(matches!(
        Authority::open(&tmp.path().join("nowhere"), &pass()),
        Err(AuthorityError::NotInitialised { .. })
    ));

    // A request whose signature was made by another key: proof of possession fails.
    let a = SigningKey::generate(Suite::Lq1, &mut rng);
    let b = SigningKey::generate(Suite::Lq1, &mut rng);
    let ra = CertificateRequest::new(&a, "Mallory", "Nowhere", &mut rng).unwrap();
    let rb = CertificateRequest::new(&b, "Mallory", "Nowhere", &mut rng).unwrap();
    let sig_len = Suite::Lq1.signature_len() + 3;
    let mut forged = ra.raw()[..ra.raw().len() - sig_len].to_vec();
    forged.extend_from_slice(&rb.raw()[rb.raw().len() - sig_len..]);
    let forged_path = tmp.path().join("forged.req");
    std::fs::write(&forged_path, &forged).unwrap();
    let err = read_request(&forged_path).unwrap_err();
    assert!(
        matches!(err, AuthorityError::RequestSignature { .. }),
        "{err:?}"
    );
    assert_eq!(err.exit_code(), EXIT_BAD_INPUT);

    let garbage = tmp.path().join("garbage.req");
    std::fs::write(&garbage, b"not a request").unwrap();
    assert!(matches!(
        read_request(&garbage),
        Err(AuthorityError::BadRequest { .. })
    ));

    // Role rules are checked before anything is signed.
    let auth = Authority::open(&dir, &pass()).unwrap();
    let (_, req) = request_file(tmp.path(), "o.req", "Bohdan Kovalenko", Suite::Lq2);
    let req = read_request(&req).unwrap();
    let officer_without_home = SignTerms {
        role: Role::Officer,
        clearance: Classification::RestreintUe,
        valid_days: 30,
        home_relay: None,
        address: None,
    };
    let err = auth
        .sign(&req, &officer_without_home, NOW, &mut rng)
        .unwrap_err();
    assert!(err.to_string().contains("--home-relay"), "{err}");
    let bad_port = SignTerms {
        address: Some("relay.example:0".into()),
        ..relay_terms()
    };
    assert!(matches!(
        auth.sign(&req, &bad_port, NOW, &mut rng),
        Err(AuthorityError::BadTerms(_))
    ));
    let too_long = SignTerms {
        valid_days: 100_000,
        ..relay_terms()
    };
    assert!(matches!(
        auth.sign(&req, &too_long, NOW, &mut rng),
        Err(AuthorityError::BadTerms(_))
    ));
    assert!(auth.issued().unwrap().is_empty(), "nothing issued");

    // A certificate from another authority cannot be revoked here.
    let other_dir = tmp.path().join("other");
    let other = init(&other_dir);
    let foreign = other.sign(&req, &relay_terms(), NOW, &mut rng).unwrap();
    let foreign_path = tmp.path().join("foreign.cert");
    std::fs::write(&foreign_path, foreign.raw()).unwrap();
    assert!(matches!(
        auth.parse_revoke_target(foreign_path.to_str().unwrap(), false),
        Err(AuthorityError::NotIssuedHere { .. })
    ));
}

/// The real `liaison authority` commands, passphrase from a 0600 file, cheap KDF profile.
#[test]
fn cli_authority_commands_write_files_relays_and_officers_load() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("authority");
    let pass_file = tmp.path().join("pass");
    std::fs::write(&pass_file, "authority root passphrase\n").unwrap();
    std::fs::set_permissions(&pass_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let liaison = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_liaison"))
            .args(args)
            .env("LIAISON_KDF_PROFILE", "test")
            .env_remove("LIAISON_PASSPHRASE")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let d = dir.to_str().unwrap();
    let p = pass_file.to_str().unwrap();
    let (code, out, err) = liaison(&["authority", "init", "--dir", d, "--passphrase-file", p]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("fingerprint"), "{out}");

    let (_, req) = request_file(tmp.path(), "relay.req", "cert-eu-relay-1", Suite::Lq2);
    let cert_path = tmp.path().join("relay.cert");
    let (code, out, err) = liaison(&[
        "authority",
        "sign",
        req.to_str().unwrap(),
        "--dir",
        d,
        "--role",
        "relay",
        "--clearance",
        "secret-ue",
        "--valid-days",
        "90",
        "--address",
        "127.0.0.1:7443",
        "--out",
        cert_path.to_str().unwrap(),
        "--passphrase-file",
        p,
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("self-signature verified"), "{out}");
    let cert = read_certificate(&cert_path).unwrap();
    assert_eq!(cert.name(), "cert-eu-relay-1");
    assert!(out.contains(&cert.subject().fingerprint()), "{out}");
    trust_from_pub(&dir)
        .validate_role(&cert, Role::Relay, liaison_client::authority::now())
        .unwrap();

    // A request whose key is not the one the member read out is refused, nothing written.
    let refused_path = tmp.path().join("refused.cert");
    let (code, _, err) = liaison(&[
        "authority",
        "sign",
        req.to_str().unwrap(),
        "--dir",
        d,
        "--role",
        "relay",
        "--clearance",
        "secret-ue",
        "--address",
        "127.0.0.1:7443",
        "--out",
        refused_path.to_str().unwrap(),
        "--expect-fingerprint",
        "0000 1111 2222 3333 4444",
        "--passphrase-file",
        p,
    ]);
    assert_eq!(code, Some(i32::from(EXIT_BAD_INPUT)), "{err}");
    assert!(err.contains("do not sign"), "{err}");
    assert!(!refused_path.exists());

    // An officer homed on that relay, named by its certificate file.
    let (_, officer_req) = request_file(tmp.path(), "ana.req", "Ana Ionescu", Suite::Lq2);
    let officer_path = tmp.path().join("ana.cert");
    let (code, out, err) = liaison(&[
        "authority",
        "sign",
        officer_req.to_str().unwrap(),
        "--dir",
        d,
        "--role",
        "officer",
        "--clearance",
        "RESTREINT UE",
        "--home-relay",
        cert_path.to_str().unwrap(),
        "--out",
        officer_path.to_str().unwrap(),
        "--passphrase-file",
        p,
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    let officer = read_certificate(&officer_path).unwrap();
    assert_eq!(officer.home_relay(), Some(cert.subject()));
    assert_eq!(officer.clearance(), Classification::RestreintUe);
    let (code, out, err) = liaison(&["--json", "authority", "list", "--dir", d]);
    assert_eq!(code, Some(0), "{out}{err}");
    let listed: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(listed["certificates"][1]["name"], "Ana Ionescu");
    assert_eq!(listed["certificates"][1]["serial"], 2);

    let crl_path = tmp.path().join("federation.crl");
    let (code, out, err) = liaison(&[
        "--json",
        "authority",
        "revoke",
        "1",
        "--dir",
        d,
        "--passphrase-file",
        p,
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) = liaison(&[
        "--json",
        "authority",
        "crl",
        "--dir",
        d,
        "--out",
        crl_path.to_str().unwrap(),
        "--passphrase-file",
        p,
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    let summary: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(summary["number"], 1);
    assert_eq!(summary["revoked_serials"], serde_json::json!([1]));
    let crl = RevocationList::decode(&std::fs::read(&crl_path).unwrap()).unwrap();
    assert!(crl.revokes_serial(1));

    // Wrong passphrase: keystore exit code, no output file.
    std::fs::write(&pass_file, "not it\n").unwrap();
    let (code, _, err) = liaison(&[
        "authority",
        "crl",
        "--dir",
        d,
        "--out",
        tmp.path().join("x.crl").to_str().unwrap(),
        "--passphrase-file",
        p,
    ]);
    assert_eq!(code, Some(i32::from(EXIT_KEYSTORE)), "{err}");
    assert!(err.contains("wrong passphrase"), "{err}");
    assert!(!tmp.path().join("x.crl").exists());
}

/// `LIAISON_PASSPHRASE` is used when no flag is given; with no source at all and no
/// terminal, the command fails at once with the keystore exit code instead of waiting.
#[test]
fn cli_passphrase_from_environment_and_no_terminal_is_an_error_not_a_hang() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let tmp = tempfile::tempdir().unwrap();
    let with_env = tmp.path().join("a");
    let out = Command::new(env!("CARGO_BIN_EXE_liaison"))
        .args(["authority", "init", "--dir", with_env.to_str().unwrap()])
        .env("LIAISON_KDF_PROFILE", "test")
        .env("LIAISON_PASSPHRASE", "from the environment")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Authority::open(&with_env, &Passphrase::new("from the environment".into())).unwrap();

    let without = tmp.path().join("b");
    let mut child = Command::new(env!("CARGO_BIN_EXE_liaison"))
        .args(["authority", "init", "--dir", without.to_str().unwrap()])
        .env("LIAISON_KDF_PROFILE", "test")
        .env_remove("LIAISON_PASSPHRASE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("liaison waited for a passphrase with no terminal");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(i32::from(EXIT_KEYSTORE)), "{err}");
    assert!(err.contains("not a terminal"), "{err}");
    assert!(!without.join(KEY_FILE).exists());
}

#[test]
fn fingerprint_check_and_inspect_catch_the_wrong_key_and_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a");
    let auth = init(&dir);
    let mut rng = liaison_crypto::rng::os_rng();
    let (_, req_path) = request_file(tmp.path(), "r.req", "relay-9", Suite::Lq1);
    let req = read_request(&req_path).unwrap();
    let fp = req.subject().fingerprint();
    check_fingerprint(&req.subject(), &fp).unwrap();
    check_fingerprint(&req.subject(), &fp.to_lowercase().replace(' ', "")).unwrap();
    assert!(matches!(
        check_fingerprint(&req.subject(), &fp[..9]),
        Err(AuthorityError::FingerprintMismatch { .. })
    ));
    let other = liaison_crypto::IdentityId::from_bytes([0x5a; 32]);
    assert!(matches!(
        check_fingerprint(&other, &fp),
        Err(AuthorityError::FingerprintMismatch { .. })
    ));

    let found = inspect(&req_path, None).unwrap();
    assert_eq!(found.json["document"], "certificate request");
    assert_eq!(found.json["signature"], "valid");
    assert!(found.text.contains(&fp));

    let cert = auth.sign(&req, &relay_terms(), NOW, &mut rng).unwrap();
    let cert_path = tmp.path().join("r.cert");
    std::fs::write(&cert_path, cert.raw()).unwrap();
    let found = inspect(&cert_path, Some(&dir)).unwrap();
    assert_eq!(found.json["signature"], "valid");
    assert_eq!(found.json["serial"], 1);
    // Raise the clearance byte in place: the authority's signature no longer verifies.
    let mut forged = cert.raw().to_vec();
    // preamble 3, serial 8, issuer 32, subject 32, key length 2, key, role 1, clearance 1
    let clearance_at = 3 + 8 + 32 + 32 + 2 + Suite::Lq1.signature_public_key_len() + 1;
    assert_eq!(forged[clearance_at], Classification::SecretUe.wire());
    forged[clearance_at] = Classification::TresSecretUe.wire();
    assert_eq!(
        liaison_proto::certificate::MemberCertificate::decode(&forged)
            .unwrap()
            .clearance(),
        Classification::TresSecretUe
    );
    std::fs::write(&cert_path, &forged).unwrap();
    assert_eq!(
        inspect(&cert_path, Some(&dir)).unwrap().json["signature"],
        "INVALID"
    );

    let crl = auth.issue_crl(7, NOW, &mut rng).unwrap();
    let crl_path = tmp.path().join("x.crl");
    std::fs::write(&crl_path, crl.raw()).unwrap();
    let found = inspect(&crl_path, Some(&dir)).unwrap();
    assert_eq!(found.json["document"], "revocation list");
    assert_eq!(found.json["signature"], "valid");

    std::fs::write(&crl_path, b"hello").unwrap();
    assert!(matches!(
        inspect(&crl_path, None),
        Err(AuthorityError::UnknownDocument { .. })
    ));
}

#[test]
fn init_after_a_crash_reuses_an_unused_state_but_never_resets_serials() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a");
    let mut rng = liaison_crypto::rng::os_rng();
    // A crash before the key file was written leaves an empty state: init completes.
    drop(init(&dir));
    std::fs::remove_file(dir.join(KEY_FILE)).unwrap();
    let auth = init(&dir);
    let (_, req) = request_file(tmp.path(), "r.req", "relay-3", Suite::Lq1);
    let cert = auth
        .sign(&read_request(&req).unwrap(), &relay_terms(), NOW, &mut rng)
        .unwrap();
    assert_eq!(cert.serial(), 1);
    drop(auth);
    // With certificates on record, losing the key file must not restart serials at 1.
    std::fs::remove_file(dir.join(KEY_FILE)).unwrap();
    let err = Authority::init_with_params(
        &dir,
        "again",
        Suite::Lq2,
        &pass(),
        KdfParams::TEST,
        &mut rng,
    )
    .unwrap_err();
    assert!(
        matches!(err, AuthorityError::AlreadyInitialised { .. }),
        "{err:?}"
    );
    assert!(!dir.join(KEY_FILE).exists());
    assert_eq!(Authority::list(&dir).unwrap().len(), 1);
}
