//! The sealed container and the officer keystore on real files: round trips, wrong
//! passphrase, tampering, permissions, recorded KDF parameters, prekey upkeep, and that no
//! secret reaches `Debug`.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use liaison_client::keystore::{
    KdfParams, KeystoreError, OfficerKeystore, read_sealed, write_sealed_with,
};
use liaison_client::passphrase::Passphrase;
use liaison_crypto::sign::SigningKey;
use liaison_crypto::{IdentityId, Suite};
use liaison_proto::certificate::{CertificateRequest, CertificateTerms, Role, issue};
use liaison_proto::prekey::{PREKEY_GRACE_SECS, PREKEY_LIFETIME_SECS, PREKEY_ROTATION_SECS};
use liaison_proto::{Classification, UnixTime};

// The production default must stay at least 64 MiB and 3 passes (checked at compile time).
const _: () = assert!(KdfParams::DEFAULT.m_cost_kib >= 64 * 1024 && KdfParams::DEFAULT.t_cost >= 3);

const SECRET: &[u8] = b"identity seed: 0123456789abcdef0123456789abcdef";

fn pass(s: &str) -> Passphrase {
    Passphrase::new(s.to_string())
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn sealed_file(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("secret.keystore");
    write_sealed_with(
        &path,
        &pass("correct horse battery staple"),
        "officer",
        SECRET,
        KdfParams::TEST,
    )
    .unwrap();
    path
}

#[test]
fn sealed_container_round_trips_with_mode_0600_and_no_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let path = sealed_file(dir.path());
    assert_eq!(mode(&path), 0o600);
    let raw = std::fs::read(&path).unwrap();
    assert!(
        !raw.windows(16).any(|w| w == &SECRET[..16]),
        "plaintext on disk"
    );
    let opened = read_sealed(&path, &pass("correct horse battery staple"), "officer").unwrap();
    assert_eq!(opened.expose_secret(), SECRET);
    // The atomic write leaves no temporary file behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("secret.keystore")]);
}

#[test]
fn wrong_passphrase_is_reported_as_wrong_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let path = sealed_file(dir.path());
    let err = read_sealed(&path, &pass("correct horse battery stapler"), "officer").unwrap_err();
    assert!(
        matches!(err, KeystoreError::WrongPassphrase { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("wrong passphrase"));
}

#[test]
fn every_tampered_byte_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = sealed_file(dir.path());
    let good = std::fs::read(&path).unwrap();
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        std::fs::write(&path, &bad).unwrap();
        let got = read_sealed(&path, &pass("correct horse battery staple"), "officer");
        assert!(got.is_err(), "flipping byte {i} went unnoticed");
    }
    // Structure-level damage gets a precise error, not a panic.
    let mut bad = good.clone();
    bad[8] = 9;
    std::fs::write(&path, &bad).unwrap();
    assert!(matches!(
        read_sealed(&path, &pass("x"), "officer"),
        Err(KeystoreError::UnsupportedVersion { version: 9, .. })
    ));
    for truncated in [0, 5, 30, good.len() - 1] {
        std::fs::write(&path, &good[..truncated]).unwrap();
        assert!(matches!(
            read_sealed(&path, &pass("x"), "officer"),
            Err(KeystoreError::Corrupt { .. })
        ));
    }
    let mut longer = good.clone();
    longer.push(0);
    std::fs::write(&path, &longer).unwrap();
    assert!(matches!(
        read_sealed(&path, &pass("x"), "officer"),
        Err(KeystoreError::Corrupt { .. })
    ));
}

#[test]
fn absurd_kdf_cost_in_a_file_is_refused_before_hashing() {
    let dir = tempfile::tempdir().unwrap();
    let path = sealed_file(dir.path());
    let mut bad = std::fs::read(&path).unwrap();
    // magic 8, version 1, kind len 1, "officer" 7, kdf id 1 → m_cost at 18..22.
    bad[18..22].copy_from_slice(&u32::MAX.to_be_bytes());
    std::fs::write(&path, &bad).unwrap();
    let err = read_sealed(&path, &pass("x"), "officer").unwrap_err();
    match err {
        KeystoreError::Corrupt { reason, .. } => assert!(reason.contains("memory"), "{reason}"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn group_or_world_readable_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = sealed_file(dir.path());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let err = read_sealed(&path, &pass("correct horse battery staple"), "officer").unwrap_err();
    assert!(
        matches!(err, KeystoreError::InsecurePermissions { mode: 0o640, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("chmod 600"));
}

#[test]
fn a_keystore_of_another_kind_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = sealed_file(dir.path());
    let err = read_sealed(&path, &pass("correct horse battery staple"), "authority").unwrap_err();
    match err {
        KeystoreError::WrongKind {
            expected, found, ..
        } => {
            assert_eq!(
                (expected.as_str(), found.as_str()),
                ("authority", "officer")
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn default_profile_is_64_mib_3_passes_and_the_header_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k");
    write_sealed_with(&path, &pass("p"), "officer", b"x", KdfParams::DEFAULT).unwrap();
    let raw = std::fs::read(&path).unwrap();
    assert_eq!(&raw[..8], b"LIAISONK");
    assert_eq!(u32::from_be_bytes(raw[18..22].try_into().unwrap()), 65_536);
    assert_eq!(u32::from_be_bytes(raw[22..26].try_into().unwrap()), 3);
    assert_eq!(
        read_sealed(&path, &pass("p"), "officer")
            .unwrap()
            .expose_secret(),
        b"x"
    );
}

fn officer_certificate(
    officer: &SigningKey,
    serial: u64,
) -> liaison_proto::certificate::MemberCertificate {
    let mut rng = liaison_crypto::rng::os_rng();
    let authority = SigningKey::generate(Suite::Lq2, &mut rng);
    let req = CertificateRequest::new(officer, "Ana Ionescu", "CERT-EU", &mut rng).unwrap();
    let terms = CertificateTerms {
        role: Role::Officer,
        clearance: Classification::RestreintUe,
        home_relay: Some(IdentityId::from_bytes([7; 32])),
        address: None,
        not_before: UnixTime(0),
        not_after: UnixTime(4_000_000_000),
        serial,
    };
    issue(&authority, &req, &terms, &mut rng).unwrap()
}

#[test]
fn officer_keystore_round_trips_identity_store_key_prekeys_and_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keystore");
    let p = pass("officer passphrase");
    let mut rng = liaison_crypto::rng::os_rng();
    let mut ks =
        OfficerKeystore::create_with_params(&path, &p, Suite::Lq2, KdfParams::TEST, &mut rng)
            .unwrap();
    assert_eq!(mode(&path), 0o600);
    assert!(ks.certificate().is_none() && ks.current_prekey().is_none());
    let now = UnixTime(1_800_000_000);
    let prekey = ks
        .rotate_prekey_if_due(now, &mut rng)
        .expect("first prekey");
    let cert = officer_certificate(ks.identity(), 11);
    ks.set_certificate(cert.clone()).unwrap();
    ks.save(&path, &p).unwrap();

    let again = OfficerKeystore::open(&path, &p).unwrap();
    assert_eq!(again.identity_id(), ks.identity_id());
    assert_eq!(again.identity().seed(), ks.identity().seed());
    assert_eq!(again.store_key(), ks.store_key());
    assert_eq!(again.current_prekey(), Some(&prekey));
    assert_eq!(again.certificate(), Some(&cert));
    assert_eq!(
        again.prekey_secrets()[0].public_key(),
        prekey.public_key(),
        "the prekey secret survived"
    );
    assert!(matches!(
        OfficerKeystore::open(&path, &pass("officer passphrase!")),
        Err(KeystoreError::WrongPassphrase { .. })
    ));
    assert!(matches!(
        OfficerKeystore::create_with_params(&path, &p, Suite::Lq2, KdfParams::TEST, &mut rng),
        Err(KeystoreError::AlreadyExists { .. })
    ));
}

#[test]
fn certificate_for_another_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = liaison_crypto::rng::os_rng();
    let mut ks = OfficerKeystore::create_with_params(
        &dir.path().join("k"),
        &pass("p"),
        Suite::Lq1,
        KdfParams::TEST,
        &mut rng,
    )
    .unwrap();
    let stranger = SigningKey::generate(Suite::Lq1, &mut rng);
    let err = ks
        .set_certificate(officer_certificate(&stranger, 1))
        .unwrap_err();
    assert!(
        matches!(err, KeystoreError::CertificateMismatch { .. }),
        "{err:?}"
    );
    assert!(ks.certificate().is_none());
}

#[test]
fn prekeys_rotate_weekly_and_old_secrets_are_pruned_after_grace() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = liaison_crypto::rng::os_rng();
    let mut ks = OfficerKeystore::create_with_params(
        &dir.path().join("k"),
        &pass("p"),
        Suite::Lq1,
        KdfParams::TEST,
        &mut rng,
    )
    .unwrap();
    let t0 = UnixTime(1_800_000_000);
    let first = ks.rotate_prekey_if_due(t0, &mut rng).unwrap();
    assert_eq!(first.owner(), ks.identity_id());
    assert_eq!(first.expires(), t0.plus_secs(PREKEY_LIFETIME_SECS));
    assert!(
        ks.rotate_prekey_if_due(t0.plus_secs(PREKEY_ROTATION_SECS - 1), &mut rng)
            .is_none()
    );
    let t1 = t0.plus_secs(PREKEY_ROTATION_SECS);
    let second = ks.rotate_prekey_if_due(t1, &mut rng).unwrap();
    assert_ne!(first.id(), second.id());
    assert_eq!(ks.current_prekey(), Some(&second));
    let secrets = ks.prekey_secrets();
    assert_eq!(secrets.len(), 2);
    assert_eq!(secrets[0].public_key(), second.public_key(), "newest first");
    assert!(ks.prekey_secret(&first.id()).is_some());

    // Still within the first prekey's grace period: nothing is deleted.
    let grace_end = first.expires().plus_secs(PREKEY_GRACE_SECS);
    assert_eq!(ks.prune(grace_end), 0);
    assert_eq!(ks.prune(grace_end.plus_secs(1)), 1);
    assert!(ks.prekey_secret(&first.id()).is_none(), "forward secrecy");
    assert!(ks.prekey_secret(&second.id()).is_some());
}

#[test]
fn debug_output_never_contains_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = liaison_crypto::rng::os_rng();
    let mut ks = OfficerKeystore::create_with_params(
        &dir.path().join("k"),
        &pass("hunter2-but-longer"),
        Suite::Lq1,
        KdfParams::TEST,
        &mut rng,
    )
    .unwrap();
    ks.rotate_prekey_if_due(UnixTime(1_800_000_000), &mut rng)
        .unwrap();
    let printed = format!("{ks:?} {:?}", pass("hunter2-but-longer"));
    for secret in [
        hex::encode(ks.identity().seed().expose_secret()),
        hex::encode(ks.store_key().expose_secret()),
        hex::encode(ks.prekey_secrets()[0].seed().expose_secret()),
    ] {
        assert!(!printed.contains(&secret[..16]), "{printed}");
    }
    assert!(!printed.contains("hunter2"), "{printed}");
    assert!(printed.contains("<SECRET>"), "{printed}");
}
