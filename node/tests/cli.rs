//! The `liaison-node` binary as an operator runs it.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::sync::Arc;

use liaison_node::store::{CustodyStore, Destination, Incoming, StoreConfig};
use liaison_proto::certificate::CertificateRequest;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_liaison-node"))
}

#[test]
fn init_writes_a_private_key_and_a_verifiable_request() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["init", "--dir"])
        .arg(dir.path())
        .args(["--name", "cert-eu-relay-1", "--organisation", "CERT-EU"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = std::fs::metadata(dir.path().join("node.key"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let csr =
        CertificateRequest::decode(&std::fs::read(dir.path().join("node.csr")).unwrap()).unwrap();
    csr.verify().unwrap();
    assert_eq!(csr.name(), "cert-eu-relay-1");
    assert!(String::from_utf8_lossy(&out.stdout).contains(&csr.subject().fingerprint()));

    // A second init must not destroy the key.
    let again = bin()
        .args(["init", "--dir"])
        .arg(dir.path())
        .args(["--name", "x", "--organisation", "y"])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[tokio::test]
async fn audit_verify_reports_counts_and_fails_on_a_foreign_key() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("node.key");
    let key =
        Arc::new(liaison_node::identity::generate(&key_path, liaison_crypto::Suite::Lq2).unwrap());
    let store_path = dir.path().join("custody.redb");
    let store = CustodyStore::open(&store_path, key, StoreConfig::default()).unwrap();
    for n in 0..5u8 {
        let inc = Incoming {
            message_id: [n; 16],
            raw: vec![n; 10],
            expires: u64::MAX,
            from: [1; 32],
            destinations: vec![Destination([2; 32])],
            spool: None,
        };
        store.accept(inc, 1_800_000_000).await.unwrap();
    }
    store.close().await.unwrap();
    drop(store);

    let out = bin()
        .args(["audit", "verify", "--json"])
        .arg(&store_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["entries"], 5);
    assert_eq!(report["by_kind"]["accepted"], 5);
    assert_eq!(report["checkpoints"], 1);

    let missing = bin()
        .args(["audit", "verify"])
        .arg(dir.path().join("nope.redb"))
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("FAILED"));
}

#[test]
fn status_of_a_node_that_never_ran_says_so_with_exit_code_3() {
    use liaison_crypto::rng::os_rng;
    use liaison_proto::certificate::{self, CertificateTerms, Role};
    use liaison_proto::{Classification, UnixTime};

    let dir = tempfile::tempdir().unwrap();
    let mut rng = os_rng();
    let authority =
        liaison_crypto::sign::SigningKey::generate(liaison_crypto::Suite::Lq2, &mut rng);
    let key =
        liaison_node::identity::generate(&dir.path().join("node.key"), liaison_crypto::Suite::Lq2)
            .unwrap();
    let request = CertificateRequest::new(&key, "relay-x", "Test Org", &mut rng).unwrap();
    let now = 1_800_000_000;
    let cert = certificate::issue(
        &authority,
        &request,
        &CertificateTerms {
            role: Role::Relay,
            clearance: Classification::SecretUe,
            home_relay: None,
            address: Some("127.0.0.1:7443".into()),
            not_before: UnixTime(now - 3600),
            not_after: UnixTime(now + 3600),
            serial: 1,
        },
        &mut rng,
    )
    .unwrap();
    std::fs::write(dir.path().join("node.cert"), cert.raw()).unwrap();
    // A port nothing listens on: bound once and released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let config = dir.path().join("relay.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\nidentity_key = \"node.key\"\ncertificate = \"node.cert\"\n\
             storage = \"custody.redb\"\ntrust_anchors = [\"authority.pub\"]\n\
             metrics_listen = \"127.0.0.1:{port}\"\n"
        ),
    )
    .unwrap();

    let out = bin()
        .args(["status", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.starts_with("NOT RUNNING"), "{stdout}");
    assert!(stdout.contains("no status answer"), "{stdout}");
    assert!(stdout.contains("never run"), "{stdout}");
    assert!(stdout.contains(&cert.subject().fingerprint()), "{stdout}");

    let json = bin()
        .args(["status", "--json", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(3));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["running"], false);
    assert_eq!(report["name"], "relay-x");
    assert!(
        report["unreadable"]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );
}
