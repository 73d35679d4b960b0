//! The pre-shared key supply: file permission checks, master/slave agreement, replay refusal
//! (in memory and persisted across restarts), and use through the policy helpers.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use liaison_qkd::psk::derive_key;
use liaison_qkd::{
    Error, KeyId, KeyRequest, KeySupply, KeySupplyMetrics, PreSharedKey, PskSupply, QkdPolicy,
    SaeId, SupplyOutcome, UsedIds, obtain_master_key, obtain_slave_key,
};

const PSK_B64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn write_psk(dir: &Path, name: &str, mode: u32) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{PSK_B64}\n")).expect("write psk");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path
}

fn supply(me: &str, peer: &str, file: &Path, used: UsedIds) -> PskSupply {
    let mut supply = PskSupply::new(SaeId::new(me), 256, used).expect("supply");
    supply
        .add_peer_file(SaeId::new(peer), file)
        .expect("psk file");
    supply
}

#[test]
fn refuses_a_group_or_world_readable_key_file_naming_file_and_mode() {
    let dir = tempfile::tempdir().expect("temp dir");
    for mode in [0o640, 0o604, 0o644, 0o660] {
        let path = write_psk(dir.path(), "peer.psk", mode);
        let error = PreSharedKey::load(&path).expect_err("must refuse");
        assert!(matches!(error, Error::InsecureKeyFile { mode: m, .. } if m == mode));
        let text = error.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(text.contains(&format!("{mode:04o}")), "{text}");
    }
    let path = write_psk(dir.path(), "peer.psk", 0o600);
    assert!(PreSharedKey::load(&path).is_ok());
}

#[test]
fn refuses_a_key_file_that_is_not_a_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bad.psk");
    std::fs::write(&path, "c2hvcnQ=\n").expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let error = PreSharedKey::load(&path).expect_err("too short");
    assert!(matches!(error, Error::InvalidKeyFile { .. }), "{error}");
}

#[tokio::test]
async fn both_sides_derive_the_same_key_and_replays_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write_psk(dir.path(), "ab.psk", 0o600);
    let alice = supply("alice", "bob", &file, UsedIds::in_memory());
    let bob = supply("bob", "alice", &file, UsedIds::in_memory());

    let sent = alice
        .enc_keys(
            &SaeId::new("bob"),
            KeyRequest {
                number: 2,
                size_bits: 256,
            },
        )
        .await
        .expect("enc_keys");
    let ids: Vec<KeyId> = sent.iter().map(|(id, _)| id.clone()).collect();
    assert_ne!(ids[0], ids[1]);
    let received = bob
        .dec_keys(&SaeId::new("alice"), &ids)
        .await
        .expect("dec_keys");
    assert!(sent[0].1 == received[0].1 && sent[1].1 == received[1].1);
    assert!(sent[0].1 != sent[1].1);

    let replay = bob.dec_keys(&SaeId::new("alice"), &ids[..1]).await;
    assert!(
        matches!(replay, Err(Error::KeyIdReplayed { .. })),
        "{replay:?}"
    );
    let wrong_size = alice
        .enc_keys(&SaeId::new("bob"), KeyRequest::one(512))
        .await;
    assert!(matches!(wrong_size, Err(Error::Unsatisfiable { .. })));
    let stranger = alice
        .enc_keys(&SaeId::new("carol"), KeyRequest::one(256))
        .await;
    assert!(matches!(stranger, Err(Error::UnknownPeer { .. })));
}

#[tokio::test]
async fn persisted_used_ids_survive_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write_psk(dir.path(), "ab.psk", 0o600);
    let store = dir.path().join("used.redb");
    let alice = supply("alice", "bob", &file, UsedIds::in_memory());
    let sent = alice
        .enc_keys(&SaeId::new("bob"), KeyRequest::one(256))
        .await
        .expect("enc_keys");
    let ids = vec![sent[0].0.clone()];
    {
        let bob = supply("bob", "alice", &file, UsedIds::open(&store).expect("store"));
        bob.dec_keys(&SaeId::new("alice"), &ids)
            .await
            .expect("first use");
    }
    let bob = supply(
        "bob",
        "alice",
        &file,
        UsedIds::open(&store).expect("reopen"),
    );
    let replay = bob.dec_keys(&SaeId::new("alice"), &ids).await;
    assert!(
        matches!(replay, Err(Error::KeyIdReplayed { .. })),
        "{replay:?}"
    );
}

#[tokio::test]
async fn psk_supply_works_through_the_policy_helpers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write_psk(dir.path(), "ab.psk", 0o600);
    let alice = supply("alice", "bob", &file, UsedIds::in_memory());
    let bob = supply("bob", "alice", &file, UsedIds::in_memory());
    let metrics = KeySupplyMetrics::default();
    let Ok(SupplyOutcome::Supplied { key_id, key }) = obtain_master_key(
        QkdPolicy::Required,
        &alice,
        &SaeId::new("bob"),
        256,
        &metrics,
    )
    .await
    else {
        panic!("no master key");
    };
    let Ok(SupplyOutcome::Supplied { key: other, .. }) = obtain_slave_key(
        QkdPolicy::Required,
        &bob,
        &SaeId::new("alice"),
        Some(&key_id),
        &metrics,
    )
    .await
    else {
        panic!("no slave key");
    };
    assert!(key == other);
}

/// The derivation vector printed in spec/key-supply.md.
#[test]
fn derivation_matches_the_spec_vector() {
    let psk = PreSharedKey::from_bytes((0u8..32).collect()).expect("psk");
    let key = derive_key(
        &psk,
        &SaeId::new("alice"),
        &SaeId::new("bob"),
        &KeyId::new("00000000-0000-4000-8000-000000000000"),
        256,
    )
    .expect("derive");
    let hex: String = key
        .expose_secret()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hex, SPEC_VECTOR);
}

const SPEC_VECTOR: &str = "977f049f4d41664f3caa053ed346f78ce6dc87781a313667412be7525c524dea";
