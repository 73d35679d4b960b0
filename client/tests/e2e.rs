//! End-to-end tests of the officer library against real relays run in-process (real QUIC on
//! loopback, real redb custody stores, real encrypted keystores and message stores): round
//! trip with a verified receipt, a multi-recipient report with one recipient offline, relay and
//! local policy refusals, a next hop's refusal after custody coming back as a verified
//! non-delivery notice, a receipt the relay defers sent again by the waiting session, idle
//! sessions dialling again after the relay closed their link or
//! restarted, no re-delivery to the application after a client restart, and a
//! report sealed with a remembered prekey bundle while the recipient's relay is unreachable.

mod support;

use std::time::Duration;

use liaison_client::profile::Profile;
use liaison_client::session::{
    ClientError, Event, ReceiptEvent, RecipientRef, Report, SendOutcome, Session,
};
use liaison_client::store::ReceivedMessage;
use liaison_crypto::IdentityId;
use liaison_crypto::rng::os_rng;
use liaison_proto::envelope::ContentType;
use liaison_proto::revocation::{RevocationContents, RevocationList};
use liaison_proto::{Classification, Tlp, UnixTime, WireCode};
use support::{Federation, publish_prekey, runtime, send_to};

const WAIT: Duration = Duration::from_secs(30);

const STIX: &[u8] = br#"{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-11-23T20:00:00.000Z","modified":"2026-11-23T20:00:00.000Z","name":"C2 beacon","pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix","valid_from":"2026-11-23T20:00:00Z"}]}"#;

fn stix() -> Report {
    Report {
        content_type: ContentType::Stix21Bundle,
        content: STIX.to_vec(),
    }
}

/// Sends the STIX bundle at RESTREINT UE to `to`, which must succeed.
async fn send_stix(session: &mut Session, to: &[IdentityId], tlp: Tlp) -> SendOutcome {
    send_to(session, &stix(), to, Classification::RestreintUe, tlp)
        .await
        .unwrap()
}

/// The next message delivered to the application, failing on anything else or a timeout.
async fn next_message(session: &mut Session) -> ReceivedMessage {
    loop {
        match session.next_event(WAIT).await.unwrap() {
            Some(Event::Message(m)) => return m,
            Some(Event::Receipt(_)) => {}
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

/// The next receipt, failing on a timeout.
async fn next_receipt(session: &mut Session) -> ReceiptEvent {
    loop {
        match session.next_event(WAIT).await.unwrap() {
            Some(Event::Receipt(r)) => return r,
            Some(Event::Message(_)) => {}
            other => panic!("expected a receipt, got {other:?}"),
        }
    }
}

#[test]
fn round_trip_delivers_decrypts_and_returns_a_verified_receipt() {
    let mut fed = Federation::new(&[Classification::SecretUe]);
    let ana = fed.officer("Ana Ferreira", 0, Classification::ConfidentielUe);
    let bo = fed.officer("Bohdan Kovalenko", 0, Classification::ConfidentielUe);
    fed.start(0);
    let rt = runtime();
    rt.block_on(async {
        // Bohdan connects first: his prekey reaches the relay.
        let mut bohdan = Session::connect(fed.session_config(&bo)).await.unwrap();
        let mut ana_s = Session::connect(fed.session_config(&ana)).await.unwrap();
        let sent = send_stix(&mut ana_s, &[bo.id], Tlp::Amber).await;
        assert_eq!(sent.recipients.len(), 1);
        assert_eq!(sent.recipients[0].subject(), bo.id);

        let m = next_message(&mut bohdan).await;
        assert_eq!(m.message_id(), sent.message_id);
        assert_eq!(m.content(), STIX);
        assert_eq!(m.sender(), ana.id);
        assert_eq!(m.classification(), Classification::RestreintUe);
        assert_eq!(m.tlp(), Tlp::Amber);
        assert_eq!(*m.content_type(), ContentType::Stix21Bundle);

        let r = next_receipt(&mut ana_s).await;
        assert_eq!(r.message_id, sent.message_id);
        assert_eq!(r.recipient, bo.id);
        let record = ana_s.store().get_sent(sent.message_id).unwrap().unwrap();
        let receipts: Vec<_> = record.recipients_with_receipts();
        assert_eq!(receipts.len(), 1);
        assert!(
            receipts[0].1.is_some(),
            "receipt recorded in the sender's store"
        );

        // Bohdan's side learned Ana as a contact; a reply by name works.
        let reply = bohdan
            .send(
                &Report {
                    content_type: ContentType::Text,
                    content: b"received, thanks".to_vec(),
                },
                &[RecipientRef::Name("ana ferreira".into())],
                Classification::Unclassified,
                Tlp::Green,
            )
            .await
            .unwrap();
        let m = next_message(&mut ana_s).await;
        assert_eq!(m.message_id(), reply.message_id);
        assert_eq!(m.content(), b"received, thanks");
        bohdan.close().await;
        ana_s.close().await;
    });
}

#[test]
fn multi_recipient_report_reaches_an_offline_recipient_when_it_connects() {
    let mut fed = Federation::new(&[Classification::SecretUe, Classification::SecretUe]);
    let ana = fed.officer("Ana", 0, Classification::ConfidentielUe);
    let bo = fed.officer("Bohdan", 1, Classification::ConfidentielUe);
    let cl = fed.officer("Claire", 1, Classification::ConfidentielUe);
    fed.start(0);
    fed.start(1);
    let rt = runtime();
    rt.block_on(async {
        // Claire publishes her prekey once, then goes offline.
        publish_prekey(&fed, &cl).await;
        let mut bohdan = Session::connect(fed.session_config(&bo)).await.unwrap();
        let mut ana_s = Session::connect(fed.session_config(&ana)).await.unwrap();
        let sent = send_to(
            &mut ana_s,
            &stix(),
            &[bo.id, cl.id],
            Classification::ConfidentielUe,
            Tlp::Red,
        )
        .await
        .unwrap();
        assert_eq!(sent.recipients.len(), 2);

        let m = next_message(&mut bohdan).await;
        assert_eq!(m.message_id(), sent.message_id);
        assert_eq!(m.content(), STIX);
        let r = next_receipt(&mut ana_s).await;
        assert_eq!(r.recipient, bo.id);
        ana_s.close().await;

        // Claire comes online later: the relay held the envelope for her.
        let mut claire = Session::connect(fed.session_config(&cl)).await.unwrap();
        let m = next_message(&mut claire).await;
        assert_eq!(m.message_id(), sent.message_id);
        assert_eq!(m.content(), STIX);
        claire.close().await;

        // Ana reconnects and her second receipt arrives.
        let mut ana_s = Session::connect(fed.session_config(&ana)).await.unwrap();
        let r = next_receipt(&mut ana_s).await;
        assert_eq!(r.message_id, sent.message_id);
        assert_eq!(r.recipient, cl.id);
        let record = ana_s.store().get_sent(sent.message_id).unwrap().unwrap();
        assert!(
            record
                .recipients_with_receipts()
                .iter()
                .all(|(_, at)| at.is_some()),
            "both receipts recorded"
        );
        ana_s.close().await;
        bohdan.close().await;
    });
}

#[test]
fn relay_refusal_names_the_code_and_reason_and_records_nothing() {
    // The relay is cleared only up to RESTREINT UE; both officers up to CONFIDENTIEL UE, so
    // only the relay can refuse a CONFIDENTIEL UE report.
    let mut fed = Federation::new(&[Classification::RestreintUe]);
    let ana = fed.officer("Ana", 0, Classification::ConfidentielUe);
    let bo = fed.officer("Bohdan", 0, Classification::ConfidentielUe);
    fed.start(0);
    let rt = runtime();
    rt.block_on(async {
        publish_prekey(&fed, &bo).await;
        let mut ana_s = Session::connect(fed.session_config(&ana)).await.unwrap();
        let err = send_to(
            &mut ana_s,
            &stix(),
            &[bo.id],
            Classification::ConfidentielUe,
            Tlp::Amber,
        )
        .await
        .unwrap_err();
        match &err {
            ClientError::Refused { code, reason } => {
                assert_eq!(*code, WireCode::ClearanceExceeded as u16, "{reason}");
                assert!(!reason.is_empty());
            }
            other => panic!("expected a relay refusal, got {other:?}"),
        }
        assert_eq!(err.exit_code(), 3);
        assert!(ana_s.store().sent().unwrap().is_empty());
        // The refusal is per item: the same link still carries a permitted report.
        send_stix(&mut ana_s, &[bo.id], Tlp::Amber).await;
        ana_s.close().await;
    });
}

#[test]
fn a_report_the_next_relay_refuses_after_custody_comes_back_as_a_verified_notice() {
    // Relay 2 takes smaller envelopes than relay 1. Ana's home relay takes custody of her
    // report (the send succeeds), relay 2 refuses it, and relay 1 tells Ana in a signed
    // non-delivery notice, which her session verifies against the sent envelope and records.
    let mut fed = Federation::new(&[Classification::SecretUe, Classification::SecretUe]);
    let ana = fed.officer("Ana", 0, Classification::ConfidentielUe);
    let bo = fed.officer("Bohdan", 1, Classification::ConfidentielUe);
    let limit = 64 * 1024 + liaison_proto::envelope::MAX_ENVELOPE_OVERHEAD;
    fed.edit_relay_config(1, |text| format!("{text}max_envelope_bytes = {limit}\n"));
    fed.start(0);
    fed.start(1);
    let rt = runtime();
    rt.block_on(async {
        publish_prekey(&fed, &bo).await;
        let mut ana_s = Session::connect(fed.session_config(&ana)).await.unwrap();
        let big = Report {
            content_type: ContentType::Text,
            content: vec![b'x'; limit],
        };
        let sent = send_to(
            &mut ana_s,
            &big,
            &[bo.id],
            Classification::RestreintUe,
            Tlp::Amber,
        )
        .await
        .unwrap();
        let undelivered = match ana_s.next_event(WAIT).await.unwrap() {
            Some(Event::Undelivered(u)) => u,
            other => panic!("expected a non-delivery notice, got {other:?}"),
        };
        assert_eq!(undelivered.message_id, sent.message_id);
        assert_eq!(undelivered.recipients, vec![(bo.id, "Bohdan".to_owned())]);
        assert_eq!(
            undelivered.code,
            WireCode::TooLarge as u16,
            "{}",
            undelivered.reason
        );
        assert_eq!(undelivered.relay_name, "relay-1");
        assert_eq!(ana_s.stats().undelivered, 1);
        let record = ana_s.store().get_sent(sent.message_id).unwrap().unwrap();
        let notice = record.receipts[0]
            .undelivered
            .as_ref()
            .and_then(liaison_client::store::StoredNotice::notice)
            .expect("the notice is on record under Bohdan");
        assert_eq!(notice.terms().reason, undelivered.reason);
        assert!(record.receipts[0].receipt.is_none());
        ana_s.close().await;

        // Acknowledged: a new session gets nothing more.
        let mut ana_s = Session::connect(fed.session_config(&ana)).await.unwrap();
        assert!(
            ana_s
                .next_event(Duration::from_secs(2))
                .await
                .unwrap()
                .is_none()
        );
        ana_s.close().await;
    });
}

#[test]
fn a_receipt_the_relay_defers_is_sent_again_by_the_waiting_session() {
    // Relay queues hold two items. Carol's two reports fill Ana's queue while Ana is away, so
    // the relay defers Bohdan's receipt for Ana's report; his session keeps it pending and,
    // while it waits for events, sends it again after a pause. Once Ana collected Carol's
    // reports it is taken, reaches Ana verified, and is marked sent in Bohdan's store.
    let mut fed = Federation::new(&[Classification::SecretUe]);
    let ana = fed.officer("Ana", 0, Classification::ConfidentielUe);
    let bo = fed.officer("Bohdan", 0, Classification::ConfidentielUe);
    let carol = fed.officer("Carol", 0, Classification::ConfidentielUe);
    fed.edit_relay_config(0, |text| {
        assert!(text.contains("[limits]\n"));
        text.replace("[limits]\n", "[limits]\nmax_queue_depth = 2\n")
    });
    fed.start(0);
    let rt = runtime();
    rt.block_on(async {
        publish_prekey(&fed, &bo).await;
        publish_prekey(&fed, &ana).await;
        let mut ana_s = Session::connect(fed.session_config(&ana)).await.unwrap();
        let sent = send_stix(&mut ana_s, &[bo.id], Tlp::Amber).await;
        ana_s.close().await;
        let mut carol_s = Session::connect(fed.session_config(&carol)).await.unwrap();
        for _ in 0..2 {
            send_stix(&mut carol_s, &[ana.id], Tlp::Green).await;
        }
        carol_s.close().await;

        let mut bohdan = Session::connect(fed.session_config(&bo)).await.unwrap();
        assert_eq!(
            next_message(&mut bohdan).await.message_id(),
            sent.message_id
        );
        let deadline = tokio::time::Instant::now() + WAIT;
        while bohdan.stats().receipts_deferred == 0 {
            assert!(tokio::time::Instant::now() < deadline, "never deferred");
            assert!(
                bohdan
                    .next_event(Duration::from_millis(200))
                    .await
                    .unwrap()
                    .is_none()
            );
        }
        assert_eq!(
            bohdan.store().pending_receipts().unwrap(),
            vec![sent.message_id]
        );

        // Ana collects Carol's two reports; Bohdan's waiting session gets the receipt through.
        let mut ana_s = Session::connect(fed.session_config(&ana)).await.unwrap();
        for _ in 0..2 {
            next_message(&mut ana_s).await;
        }
        while !bohdan.store().pending_receipts().unwrap().is_empty() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "receipt never taken"
            );
            assert!(
                bohdan
                    .next_event(Duration::from_millis(500))
                    .await
                    .unwrap()
                    .is_none()
            );
        }
        let r = next_receipt(&mut ana_s).await;
        assert_eq!(r.message_id, sent.message_id);
        assert_eq!(r.recipient_name, "Bohdan");
        bohdan.close().await;
        ana_s.close().await;
    });
}

#[test]
fn an_idle_session_redials_when_the_relay_closed_its_link_or_restarted() {
    // The relay presumes an officer dead after 3 s without an answer to its pings. Sessions
    // left idle longer than that (nobody calls them, so nobody answers) find their link
    // closed on the next call and dial again, transparently; so after a relay restart.
    let mut fed = Federation::new(&[Classification::SecretUe]);
    let ana = fed.officer("Ana", 0, Classification::ConfidentielUe);
    let bo = fed.officer("Bohdan", 0, Classification::ConfidentielUe);
    fed.edit_relay_config(0, |text| {
        format!("{text}ping_interval_secs = 1\npeer_timeout_secs = 3\n")
    });
    fed.start(0);
    let rt = runtime();
    let (mut ana_s, mut bohdan) = rt.block_on(async {
        let ana_s = Session::connect(fed.session_config(&ana)).await.unwrap();
        let bohdan = Session::connect(fed.session_config(&bo)).await.unwrap();
        tokio::time::sleep(Duration::from_secs(6)).await; // idle: both links are closed
        (ana_s, bohdan)
    });
    rt.block_on(async {
        let sent = send_stix(&mut ana_s, &[bo.id], Tlp::Amber).await;
        assert_eq!(ana_s.stats().reconnects, 1);
        let m = next_message(&mut bohdan).await;
        assert_eq!(m.message_id(), sent.message_id);
        assert_eq!(bohdan.stats().reconnects, 1);
        let r = next_receipt(&mut ana_s).await;
        assert_eq!(r.message_id, sent.message_id);
    });
    // The relay restarts under Ana's waiting session: the wait survives it.
    fed.stop(0);
    fed.start(0);
    rt.block_on(async {
        send_stix(&mut bohdan, &[ana.id], Tlp::Amber).await;
        let m = next_message(&mut ana_s).await;
        assert_eq!(m.content(), STIX);
        assert_eq!(ana_s.stats().reconnects, 2);
        ana_s.close().await;
        bohdan.close().await;
    });
}

#[test]
fn relay_refuses_a_recipient_its_directory_does_not_clear() {
    // Bohdan (home: relay 2) is cleared to CONFIDENTIEL UE, and his prekey bundle says so; but
    // relay 1, Ana's home, holds a re-issued certificate clearing him only to RESTREINT UE.
    // Ana's client seals (her view of his clearance allows it); relay 1 refuses.
    let mut fed = Federation::new(&[Classification::SecretUe, Classification::SecretUe]);
    let ana = fed.officer("Ana", 0, Classification::ConfidentielUe);
    let bo = fed.officer("Bohdan", 1, Classification::ConfidentielUe);
    fed.override_at_relay(0, &bo, Classification::RestreintUe);
    fed.start(0);
    fed.start(1);
    let rt = runtime();
    rt.block_on(async {
        publish_prekey(&fed, &bo).await;
        let mut ana_s = Session::connect(fed.session_config(&ana)).await.unwrap();
        let err = send_to(
            &mut ana_s,
            &stix(),
            &[bo.id],
            Classification::ConfidentielUe,
            Tlp::Amber,
        )
        .await
        .unwrap_err();
        match &err {
            ClientError::Refused { code, reason } => {
                assert_eq!(*code, WireCode::ClearanceExceeded as u16, "{reason}");
                assert!(reason.contains("clearance"), "{reason}");
            }
            other => panic!("expected the relay's refusal, got {other:?}"),
        }
        assert_eq!(err.exit_code(), 3);
        assert!(ana_s.store().sent().unwrap().is_empty());
        ana_s.close().await;
    });
}

#[test]
fn a_revoked_recipient_is_refused_before_anything_is_sealed() {
    let mut fed = Federation::new(&[Classification::SecretUe]);
    let ana = fed.officer("Ana", 0, Classification::ConfidentielUe);
    let bo = fed.officer("Bohdan", 0, Classification::ConfidentielUe);
    fed.start(0);
    // The authority revokes Bohdan's certificate; Ana installs the signed list.
    let now = support::unix_now();
    let list = RevocationList::issue(
        &fed.authority,
        RevocationContents {
            number: 1,
            this_update: UnixTime(now - 60),
            next_update: UnixTime(now + 86_400),
            revoked_serials: vec![bo.cert.serial()],
            revoked_subjects: Vec::new(),
        },
        &mut os_rng(),
    )
    .unwrap();
    Profile::open(&ana.home)
        .unwrap()
        .install_crl(&list, UnixTime(now))
        .unwrap();
    let rt = runtime();
    rt.block_on(async {
        publish_prekey(&fed, &bo).await;
        let mut ana_s = Session::connect(fed.session_config(&ana)).await.unwrap();
        let err = send_to(
            &mut ana_s,
            &stix(),
            &[bo.id],
            Classification::RestreintUe,
            Tlp::Amber,
        )
        .await
        .unwrap_err();
        match &err {
            ClientError::RecipientKey { recipient, reason } => {
                assert_eq!(*recipient, bo.id);
                assert!(reason.contains("revoked"), "{reason}");
            }
            other => panic!("expected the bundle to be refused, got {other:?}"),
        }
        assert_eq!(err.exit_code(), 3);
        assert!(ana_s.store().sent().unwrap().is_empty());
        ana_s.close().await;
    });
}

#[test]
fn local_policy_refuses_a_classification_above_the_recipients_clearance() {
    let mut fed = Federation::new(&[Classification::SecretUe]);
    let ana = fed.officer("Ana", 0, Classification::ConfidentielUe);
    let bo = fed.officer("Bohdan", 0, Classification::RestreintUe);
    fed.start(0);
    let rt = runtime();
    rt.block_on(async {
        publish_prekey(&fed, &bo).await;
        let mut ana_s = Session::connect(fed.session_config(&ana)).await.unwrap();
        let err = send_to(
            &mut ana_s,
            &stix(),
            &[bo.id],
            Classification::ConfidentielUe,
            Tlp::Amber,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ClientError::Policy(_)), "{err:?}");
        assert_eq!(err.exit_code(), 3);
        assert!(err.to_string().contains("clearance"), "{err}");
        ana_s.close().await;
    });
}

#[test]
fn a_message_is_not_delivered_again_after_a_client_restart() {
    let mut fed = Federation::new(&[Classification::SecretUe]);
    let ana = fed.officer("Ana", 0, Classification::ConfidentielUe);
    let bo = fed.officer("Bohdan", 0, Classification::ConfidentielUe);
    fed.start(0);
    let rt = runtime();
    let saved = rt.block_on(async {
        publish_prekey(&fed, &bo).await;
        let mut ana_s = Session::connect(fed.session_config(&ana)).await.unwrap();
        let sent = send_stix(&mut ana_s, &[bo.id], Tlp::Amber).await;
        ana_s.close().await;
        let mut bohdan = Session::connect(fed.session_config(&bo)).await.unwrap();
        let m = next_message(&mut bohdan).await;
        assert_eq!(m.message_id(), sent.message_id);
        bohdan.close().await;
        sent
    });
    // The relay loses its custody database (restored from an old backup), so it no longer
    // remembers delivering the envelope, and the sender retransmits the same envelope.
    fed.stop(0);
    std::fs::remove_file(&fed.relays[0].storage).unwrap();
    fed.start(0);
    rt.block_on(async {
        let mut bohdan = Session::connect(fed.session_config(&bo)).await.unwrap();
        let mut ana_s = Session::connect(fed.session_config(&ana)).await.unwrap();
        // Take in the receipt of the first delivery, if the relay still held it.
        let _ = ana_s
            .fetch_pending(Duration::from_secs(2), WAIT)
            .await
            .unwrap();
        let status = ana_s.resend(&saved.envelope).await.unwrap();
        assert_eq!(status, liaison_proto::frame::AckStatus::Accepted);
        // The relay delivers it again; Bohdan's client (a fresh session over the same store)
        // acknowledges it but does not hand it to the application a second time.
        let events = bohdan
            .fetch_pending(Duration::from_secs(3), WAIT)
            .await
            .unwrap();
        assert!(
            !events.iter().any(|e| matches!(e, Event::Message(_))),
            "delivered twice: {events:?}"
        );
        assert_eq!(bohdan.store().received().unwrap().len(), 1);
        // The second delivery did reach Bohdan's client, which acknowledged it as a duplicate.
        assert_eq!(bohdan.stats().duplicates, 1, "{:?}", bohdan.stats());
        assert_eq!(bohdan.stats().messages, 0);
        // Ana holds exactly one receipt from Bohdan for it.
        let _ = ana_s
            .fetch_pending(Duration::from_secs(2), WAIT)
            .await
            .unwrap();
        let record = ana_s.store().get_sent(saved.message_id).unwrap().unwrap();
        assert_eq!(record.receipts.len(), 1);
        assert!(record.receipts[0].receipt.is_some());
        ana_s.close().await;
        bohdan.close().await;
    });
}

#[test]
fn a_report_to_a_partitioned_recipient_uses_its_remembered_bundle_and_arrives_later() {
    let mut fed = Federation::new(&[Classification::SecretUe, Classification::SecretUe]);
    let ana = fed.officer("Ana Ferreira", 0, Classification::ConfidentielUe);
    let bo = fed.officer("Bohdan Kovalenko", 1, Classification::ConfidentielUe);
    let eva = fed.officer("Eva Lind", 1, Classification::ConfidentielUe);
    fed.start(0);
    fed.start(1);
    let rt = runtime();
    let (mut ana_s, first) = rt.block_on(async {
        publish_prekey(&fed, &bo).await;
        publish_prekey(&fed, &eva).await;
        let mut ana_s = Session::connect(fed.session_config(&ana)).await.unwrap();
        // Fetched through relay 2 and remembered.
        let first = send_stix(&mut ana_s, &[bo.id], Tlp::Amber).await;
        (ana_s, first)
    });

    // Bohdan's home relay goes away: the prekey request can no longer be answered.
    fed.stop(1);
    let second = rt.block_on(async {
        let second = send_stix(&mut ana_s, &[bo.id], Tlp::Amber).await;
        assert_eq!(second.status, liaison_proto::frame::AckStatus::Accepted);
        // Nobody ever fetched Eva's bundle: nothing to fall back on, the refusal stands.
        let err = send_to(
            &mut ana_s,
            &stix(),
            &[eva.id],
            Classification::RestreintUe,
            Tlp::Amber,
        )
        .await
        .unwrap_err();
        match &err {
            ClientError::Refused { code, .. } => assert_eq!(*code, WireCode::NoRoute as u16),
            other => panic!("expected NoRoute, got {other}"),
        }
        ana_s.close().await;
        second
    });

    // The partition heals: relay 1 forwards what it kept, and Bohdan reads both reports.
    fed.start(1);
    rt.block_on(async {
        let mut bohdan = Session::connect(fed.session_config(&bo)).await.unwrap();
        let mut got = vec![
            next_message(&mut bohdan).await.message_id(),
            next_message(&mut bohdan).await.message_id(),
        ];
        got.sort();
        let mut want = vec![first.message_id, second.message_id];
        want.sort();
        assert_eq!(got, want);
        bohdan.close().await;
    });
}
