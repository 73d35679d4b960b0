//! End-to-end supplied keys (`[supplied_keys]` in `profile.toml`, `client/src/supplied.rs`)
//! against a real relay and a real ETSI GS QKD 014 KME simulator over HTTPS with mutual TLS,
//! and with pre-shared key files: a SECRET UE report travels only with a supplied key for its
//! recipient, the key is used once, a missing key is refused before sending with the reason,
//! a KME outage fails closed or falls back by policy, and a message whose key the recipient
//! cannot obtain is held at the relay, not lost, until the recipient can; one the recipient
//! cannot open (mismatched keys) is refused and comes back to the sender as a notice.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use liaison_client::profile::Profile;
use liaison_client::session::{ClientError, Event, SendOutcome, Session};
use liaison_client::supplied::{PSK_USED_IDS_FILE, SuppliedKeys};
use liaison_proto::envelope::Envelope;
use liaison_proto::{Classification, Tlp};
use liaison_qkd::TlsFiles;
use liaison_qkd::sim::{OutageConfig, SimConfig, SimServer};
use support::{Federation, OfficerHome, publish_prekey, runtime, send_to, text_report};

const WAIT: Duration = Duration::from_secs(30);

/// A one-relay federation with Ana and Bohdan at it, both cleared SECRET UE.
fn ana_and_bohdan() -> (Federation, OfficerHome, OfficerHome) {
    let mut fed = Federation::new(&[Classification::SecretUe]);
    let ana = fed.officer("Ana Ferreira", 0, Classification::SecretUe);
    let bo = fed.officer("Bohdan Kovalenko", 0, Classification::SecretUe);
    (fed, ana, bo)
}

/// Appends a `[supplied_keys]` section to `officer`'s `profile.toml`.
fn configure(officer: &OfficerHome, section: &str) {
    let path = officer.home.join("profile.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push('\n');
    text.push_str(section);
    std::fs::write(&path, text).unwrap();
    // The section must parse through the real profile loader.
    Profile::open(&officer.home).unwrap();
}

fn etsi014_section(me: &str, policy: &str, peers: &str, pki: &Path, url: &str) -> String {
    format!(
        "[supplied_keys]\nsae_id = \"{me}\"\npolicy = \"{policy}\"\nrelay_sae_id = \"relay-1\"\n\
         peers = {{ {peers} }}\n[supplied_keys.supply]\n{}",
        etsi014_supply(me, pki, url)
    )
}

fn etsi014_supply(me: &str, pki: &Path, url: &str) -> String {
    format!(
        "kind = \"etsi014\"\nkme = \"{url}\"\ncert = \"{}\"\nkey = \"{}\"\nca = \"{}\"\n\
         timeout_secs = 2\n",
        pki.join(format!("{me}.pem")).display(),
        pki.join(format!("{me}-key.pem")).display(),
        pki.join("ca.pem").display()
    )
}

/// `me`'s section with pre-shared keys: `psk_peers` maps SAE ids to key files.
fn psk_section(me: &str, policy: &str, peers: &str, psk_peers: &[(&str, &Path)]) -> String {
    format!(
        "[supplied_keys]\nsae_id = \"{me}\"\npolicy = \"{policy}\"\nrelay_sae_id = \"relay-1\"\n\
         peers = {{ {peers} }}\n[supplied_keys.supply]\n{}",
        psk_supply(me, psk_peers)
    )
}

fn psk_supply(me: &str, psk_peers: &[(&str, &Path)]) -> String {
    let peers: Vec<String> = psk_peers
        .iter()
        .map(|(sae, path)| format!("{sae} = \"{}\"", path.display()))
        .collect();
    format!(
        "kind = \"psk\"\nsae_id = \"{me}\"\npeers = {{ {} }}\n",
        peers.join(", ")
    )
}

/// Gives relay 0 the SAE id `relay-1`, `supply` as its key supply, and
/// `officer_qkd = "preferred"`: officer links mix a key when the officer asks for one.
fn relay_supply(fed: &Federation, supply: &str) {
    fed.edit_relay_config(0, |text| {
        format!("sae_id = \"relay-1\"\nofficer_qkd = \"preferred\"\n{text}\n[key_supply]\n{supply}")
    });
}

/// A KME simulator for `sae-ana`, `sae-bohdan` and `relay-1` (their client certificates, the
/// KME's certificate and the CA in `fed`'s directory), down while `toggle` exists; relay 0
/// draws its officer-link keys from it.
async fn kme(fed: &Federation, toggle: Option<PathBuf>) -> (SimServer, PathBuf) {
    let pki = fed.path().join("kme-pki");
    let saes = ["sae-ana", "sae-bohdan", "relay-1"].map(str::to_owned);
    liaison_qkd::pki::generate(&pki, &saes).unwrap();
    let sim = SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        &TlsFiles {
            cert: pki.join("kme.pem"),
            key: pki.join("kme-key.pem"),
            ca: pki.join("ca.pem"),
        },
        SimConfig::default(),
        OutageConfig {
            after_requests: None,
            toggle_file: toggle,
        },
    )
    .await
    .unwrap();
    relay_supply(fed, &etsi014_supply("relay-1", &pki, &sim.url()));
    (sim, pki)
}

/// A relay, a KME simulator (which also keys the relay's links) and Ana and Bohdan, both
/// SECRET UE, configured by [`configure_kme_pair`]; the relay is running.
struct KmePair {
    fed: Federation,
    ana: OfficerHome,
    bo: OfficerHome,
    rt: tokio::runtime::Runtime,
    sim: SimServer,
}

fn kme_pair(ana_policy: &str) -> KmePair {
    let (mut fed, ana, bo) = ana_and_bohdan();
    let rt = runtime();
    let (sim, pki) = rt.block_on(kme(&fed, None));
    fed.start(0);
    configure_kme_pair(&ana, &bo, ana_policy, &pki, &sim.url());
    KmePair {
        fed,
        ana,
        bo,
        rt,
        sim,
    }
}

/// Ana and Bohdan draw end-to-end keys from the KME at `url`: Ana (the sender, `ana_policy`)
/// names Bohdan by certificate name (in lower case: names match case-insensitively), Bohdan
/// (`required`) names Ana by identity id.
fn configure_kme_pair(
    ana: &OfficerHome,
    bo: &OfficerHome,
    ana_policy: &str,
    pki: &Path,
    url: &str,
) {
    configure(
        ana,
        &etsi014_section(
            "sae-ana",
            ana_policy,
            "\"bohdan kovalenko\" = \"sae-bohdan\"",
            pki,
            url,
        ),
    );
    configure(
        bo,
        &etsi014_section(
            "sae-bohdan",
            "required",
            &format!("\"{}\" = \"sae-ana\"", ana.id),
            pki,
            url,
        ),
    );
}

/// A pre-shared key file (base64 of 32 random bytes, mode 0600).
fn psk_file(fed: &Federation, name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;

    use base64::Engine as _;
    let path = fed.path().join(name);
    let mut key = [0u8; 32];
    rand_core::Rng::fill_bytes(&mut liaison_crypto::rng::os_rng(), &mut key);
    std::fs::write(&path, base64::engine::general_purpose::STANDARD.encode(key)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// Pre-shared keys Ana–Bohdan, Ana–relay and Bohdan–relay; relay 0 configured with its two.
struct Psks {
    ana_bohdan: PathBuf,
    ana_relay: PathBuf,
    bohdan_relay: PathBuf,
}

fn psks(fed: &Federation) -> Psks {
    let psks = Psks {
        ana_bohdan: psk_file(fed, "ana-bohdan.psk"),
        ana_relay: psk_file(fed, "ana-relay.psk"),
        bohdan_relay: psk_file(fed, "bohdan-relay.psk"),
    };
    relay_supply(
        fed,
        &psk_supply(
            "relay-1",
            &[
                ("sae-ana", &psks.ana_relay),
                ("sae-bohdan", &psks.bohdan_relay),
            ],
        ),
    );
    psks
}

/// Ana's `[supplied_keys]`: pre-shared keys with Bohdan and with relay 0, under `policy`.
fn configure_ana_psk(ana: &OfficerHome, psks: &Psks, policy: &str) {
    configure(
        ana,
        &psk_section(
            "sae-ana",
            policy,
            "\"Bohdan Kovalenko\" = \"sae-bohdan\"",
            &[
                ("sae-bohdan", &psks.ana_bohdan),
                ("relay-1", &psks.ana_relay),
            ],
        ),
    );
}

/// Ana sends `text` (TLP AMBER) to Bohdan, who is not connected (his prekey published for
/// her), and disconnects: the relay holds the message for him.
async fn send_to_offline(
    fed: &Federation,
    ana: &OfficerHome,
    bo: &OfficerHome,
    text: &str,
    classification: Classification,
) -> SendOutcome {
    publish_prekey(fed, bo).await;
    let mut ana_s = Session::connect(fed.session_config(ana)).await.unwrap();
    let sent = send_to(
        &mut ana_s,
        &text_report(text),
        &[bo.id],
        classification,
        Tlp::Amber,
    )
    .await
    .unwrap();
    ana_s.close().await;
    sent
}

async fn next_event(session: &mut Session) -> Event {
    loop {
        match session.next_event(WAIT).await.unwrap() {
            Some(Event::Receipt(_)) => {}
            Some(e) => return e,
            None => panic!("no event within {WAIT:?}"),
        }
    }
}

#[test]
fn secret_ue_travels_with_kme_keys_on_the_link_and_end_to_end_each_used_once() {
    let KmePair {
        fed,
        ana,
        bo,
        rt,
        sim: _sim,
    } = kme_pair("preferred");
    rt.block_on(async {
        let mut bohdan = Session::connect(fed.session_config(&bo)).await.unwrap();
        let mut ana_s = Session::connect(fed.session_config(&ana)).await.unwrap();
        let sent = send_to(
            &mut ana_s,
            &text_report("SECRET UE: exfiltration from the staging network"),
            &[bo.id],
            Classification::SecretUe,
            Tlp::Amber,
        )
        .await
        .unwrap();
        assert_eq!(sent.supplied_keys, 1);
        let envelope = Envelope::decode(&sent.envelope).unwrap();
        let reference = envelope.blocks()[0].supplied.clone().unwrap();
        assert_eq!(reference.source_sae, "sae-ana");
        assert_eq!(reference.target_sae, "sae-bohdan");

        match next_event(&mut bohdan).await {
            Event::Message(m) => {
                assert_eq!(m.message_id(), sent.message_id);
                assert_eq!(m.classification(), Classification::SecretUe);
                assert_eq!(
                    m.content(),
                    b"SECRET UE: exfiltration from the staging network"
                );
            }
            other => panic!("expected the message, got {other:?}"),
        }

        // The KME handed the key out once: asking for it again is refused.
        let profile = Profile::open(&bo.home).unwrap();
        let keys =
            SuppliedKeys::from_config(profile.config().supplied_keys.as_ref().unwrap(), &bo.home)
                .unwrap();
        let again = keys.for_block(&reference).await.unwrap_err();
        assert!(matches!(again, ClientError::KeySupply { .. }), "{again}");
        ana_s.close().await;
        bohdan.close().await;
    });
}

#[test]
fn a_missing_supplied_key_is_refused_before_sending_and_says_what_to_configure() {
    let (mut fed, ana, bo) = ana_and_bohdan();
    let eva = fed.officer("Eva Lind", 0, Classification::SecretUe);
    let psks = psks(&fed);
    fed.start(0);
    let rt = runtime();
    rt.block_on(async {
        publish_prekey(&fed, &bo).await;
        publish_prekey(&fed, &eva).await;
        // No [supplied_keys] at all: the link to the relay mixes no key.
        let mut ana_s = Session::connect(fed.session_config(&ana)).await.unwrap();
        let err = send_to(
            &mut ana_s,
            &text_report("x"),
            &[bo.id],
            Classification::SecretUe,
            Tlp::Amber,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, ClientError::SuppliedKeyMissing { .. }),
            "{err}"
        );
        assert_eq!(err.exit_code(), 3);
        let text = err.to_string();
        assert!(
            text.contains("SECRET UE") && text.contains("relay_sae_id"),
            "{text}"
        );
        ana_s.close().await;

        // Keys for the relay and Bohdan, but no SAE id for Eva: the error names her.
        configure_ana_psk(&ana, &psks, "preferred");
        let mut ana_s = Session::connect(fed.session_config(&ana)).await.unwrap();
        let err = send_to(
            &mut ana_s,
            &text_report("x"),
            &[bo.id, eva.id],
            Classification::SecretUe,
            Tlp::Amber,
        )
        .await
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("Eva Lind") && text.contains("[supplied_keys.peers]"),
            "{text}"
        );
        assert_eq!(err.exit_code(), 3);
        assert!(ana_s.store().sent().unwrap().is_empty(), "nothing was sent");
        ana_s.close().await;
    });
}

#[test]
fn kme_outage_fails_closed_for_secret_ue_and_falls_back_below_it_when_preferred() {
    let (mut fed, ana, bo) = ana_and_bohdan();
    let down = fed.path().join("kme-down");
    let rt = runtime();
    let (sim, pki) = rt.block_on(kme(&fed, Some(down.clone())));
    fed.start(0);
    let peers = "\"Bohdan Kovalenko\" = \"sae-bohdan\"";
    configure(
        &ana,
        &etsi014_section("sae-ana", "preferred", peers, &pki, &sim.url()),
    );
    rt.block_on(async {
        publish_prekey(&fed, &bo).await;
        let mut ana_s = Session::connect(fed.session_config(&ana)).await.unwrap();
        std::fs::write(&down, b"").unwrap();
        // SECRET UE needs the key whatever the policy: fails closed, exit 4 (try again).
        let err = send_to(
            &mut ana_s,
            &text_report("x"),
            &[bo.id],
            Classification::SecretUe,
            Tlp::Amber,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ClientError::KeySupply { .. }), "{err}");
        assert_eq!(err.exit_code(), 4);
        // RESTREINT UE under `preferred`: sent with the hybrid KEM alone, and said so.
        let sent = send_to(
            &mut ana_s,
            &text_report("restreint"),
            &[bo.id],
            Classification::RestreintUe,
            Tlp::Green,
        )
        .await
        .unwrap();
        assert_eq!(sent.supplied_keys, 0);
        // The KME is back: the next report mixes a key in.
        std::fs::remove_file(&down).unwrap();
        let sent = send_to(
            &mut ana_s,
            &text_report("restreint, again"),
            &[bo.id],
            Classification::RestreintUe,
            Tlp::Green,
        )
        .await
        .unwrap();
        assert_eq!(sent.supplied_keys, 1);
        ana_s.close().await;
    });
}

#[test]
fn a_message_whose_key_cannot_be_had_is_held_at_the_relay_then_delivered() {
    let (mut fed, ana, bo) = ana_and_bohdan();
    let psks = psks(&fed);
    fed.start(0);
    configure_ana_psk(&ana, &psks, "required");
    let rt = runtime();
    rt.block_on(async {
        // Below SECRET UE, so that the relay delivers it on a link without a supplied key;
        // Ana's `required` policy mixes one in end to end anyway.
        let sent =
            send_to_offline(&fed, &ana, &bo, "pre-shared", Classification::RestreintUe).await;
        assert_eq!(sent.supplied_keys, 1);

        // Bohdan has no [supplied_keys] yet: the message is held, not refused.
        let mut bohdan = Session::connect(fed.session_config(&bo)).await.unwrap();
        match next_event(&mut bohdan).await {
            Event::Held { message_id, reason } => {
                assert_eq!(message_id, sent.message_id);
                assert!(reason.contains("[supplied_keys]"), "{reason}");
            }
            other => panic!("expected the message to be held, got {other:?}"),
        }
        assert_eq!(bohdan.stats().held, 1);
        assert!(bohdan.store().received().unwrap().is_empty());
        bohdan.close().await;

        // Configured: the relay still has it and delivers it, once.
        configure(
            &bo,
            &psk_section(
                "sae-bohdan",
                "preferred",
                "\"Ana Ferreira\" = \"sae-ana\"",
                &[
                    ("sae-ana", &psks.ana_bohdan),
                    ("relay-1", &psks.bohdan_relay),
                ],
            ),
        );
        let mut bohdan = Session::connect(fed.session_config(&bo)).await.unwrap();
        match next_event(&mut bohdan).await {
            Event::Message(m) => {
                assert_eq!(m.message_id(), sent.message_id);
                assert_eq!(m.content(), b"pre-shared");
            }
            other => panic!("expected the message, got {other:?}"),
        }
        bohdan.close().await;
        // The pre-shared supply remembers the key ids it served, across sessions.
        assert!(bo.home.join(PSK_USED_IDS_FILE).exists());
    });
}

/// The crash window of a single-use key: the recipient fetched its supplied key from the KME
/// (which then refuses it to anyone, this recipient included) and stopped before storing the
/// message. The key was kept in the encrypted store before use, so the relay's next delivery
/// (the message was never acknowledged) is opened with it; once the message is stored, the
/// kept key is gone.
#[test]
fn a_supplied_key_fetched_before_a_crash_opens_the_message_at_its_next_delivery() {
    let KmePair {
        fed,
        ana,
        bo,
        rt,
        sim: _sim,
    } = kme_pair("required");
    rt.block_on(async {
        let sent = send_to_offline(
            &fed,
            &ana,
            &bo,
            "SECRET UE: kept key",
            Classification::SecretUe,
        )
        .await;
        let envelope = Envelope::decode(&sent.envelope).unwrap();
        let reference = envelope.blocks()[0].supplied.clone().unwrap();

        // What Bohdan's client did before it stopped: fetch the key (the KME's one hand-out)
        // and keep it. The message itself was never stored, nor acknowledged to the relay.
        let profile = Profile::open(&bo.home).unwrap();
        let keys =
            SuppliedKeys::from_config(profile.config().supplied_keys.as_ref().unwrap(), &bo.home)
                .unwrap();
        let key = keys.for_block(&reference).await.unwrap();
        let config = fed.session_config(&bo);
        let expires = envelope.header().expires;
        config
            .store
            .keep_supplied_key(sent.message_id, expires, &key)
            .unwrap();
        assert!(
            keys.for_block(&reference).await.is_err(),
            "the KME hands a key out once"
        );

        let mut bohdan = Session::connect(config).await.unwrap();
        match next_event(&mut bohdan).await {
            Event::Message(m) => {
                assert_eq!(m.message_id(), sent.message_id);
                assert_eq!(m.content(), b"SECRET UE: kept key");
            }
            other => panic!("expected the message, opened with the kept key; got {other:?}"),
        }
        assert!(
            bohdan
                .store()
                .kept_supplied_key(sent.message_id)
                .unwrap()
                .is_none(),
            "the kept key is erased once the message is stored"
        );
        bohdan.close().await;
    });
}

#[test]
fn a_report_its_recipient_cannot_open_comes_back_to_the_sender_as_a_notice() {
    // Ana and Bohdan hold different files for their shared key (a provisioning mistake): his
    // client cannot authenticate her report, refuses it, and the relay, which took custody,
    // tells Ana in a signed notice naming his client and the code. Nothing is left queued.
    let (mut fed, ana, bo) = ana_and_bohdan();
    let psks = psks(&fed);
    let wrong = psk_file(&fed, "bohdan-ana-mismatched.psk");
    fed.start(0);
    configure_ana_psk(&ana, &psks, "required");
    configure(
        &bo,
        &psk_section(
            "sae-bohdan",
            "preferred",
            "\"Ana Ferreira\" = \"sae-ana\"",
            &[("sae-ana", &wrong), ("relay-1", &psks.bohdan_relay)],
        ),
    );
    let rt = runtime();
    rt.block_on(async {
        let sent =
            send_to_offline(&fed, &ana, &bo, "mismatched", Classification::RestreintUe).await;
        assert_eq!(sent.supplied_keys, 1);

        let mut bohdan = Session::connect(fed.session_config(&bo)).await.unwrap();
        match next_event(&mut bohdan).await {
            Event::Rejected {
                message_id, reason, ..
            } => {
                assert_eq!(message_id, Some(sent.message_id));
                assert!(reason.contains("does not unwrap"), "{reason}");
            }
            other => panic!("expected the envelope to be refused, got {other:?}"),
        }
        assert_eq!(bohdan.stats().rejected, 1);
        assert!(bohdan.store().received().unwrap().is_empty());

        let mut ana_s = Session::connect(fed.session_config(&ana)).await.unwrap();
        let undelivered = match next_event(&mut ana_s).await {
            Event::Undelivered(u) => u,
            other => panic!("expected a non-delivery notice, got {other:?}"),
        };
        assert_eq!(undelivered.message_id, sent.message_id);
        assert_eq!(
            undelivered.recipients,
            vec![(bo.id, "Bohdan Kovalenko".to_owned())]
        );
        assert_eq!(
            undelivered.code,
            liaison_proto::WireCode::AuthenticationFailed as u16,
            "{}",
            undelivered.reason
        );
        // Only "authentication failed" travels: which check failed stays with Bohdan.
        assert!(
            undelivered.reason.contains("recipient's client")
                && undelivered.reason.contains("Bohdan Kovalenko")
                && undelivered.reason.ends_with("authentication failed"),
            "{}",
            undelivered.reason
        );
        ana_s.close().await;

        // Released at the relay: Bohdan's next session is handed nothing again.
        bohdan.close().await;
        let mut bohdan = Session::connect(fed.session_config(&bo)).await.unwrap();
        assert!(
            bohdan
                .next_event(Duration::from_secs(2))
                .await
                .unwrap()
                .is_none()
        );
        bohdan.close().await;
    });
}
