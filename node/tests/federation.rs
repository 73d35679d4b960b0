//! Federation tests with real processes: three `liaison-node run` relays in a line on loopback
//! (relay 1 — relay 2 — relay 3), officers driven over real QUIC links. They cover multi-hop
//! routing (`via`), forwarding over accepted links, a middle relay down and back, prekey
//! publication and relayed prekey requests, one envelope to recipients at different relays,
//! non-fatal refusals and the size limit, and non-delivery notices (a next hop's refusal after
//! custody, an envelope expiring in its recipient's queue). Every wait is bounded; relays die with their test.

#[allow(dead_code)] // each test binary uses a different part of the support module
mod support;

use std::collections::HashSet;
use std::time::Duration;

use liaison_crypto::rng::os_rng;
use liaison_crypto::{IdentityId, Suite};
use liaison_proto::envelope::{Envelope, MAX_ENVELOPE_OVERHEAD};
use liaison_proto::frame::{AckStatus, LinkFrame};
use liaison_proto::notice::NonDelivery;
use liaison_proto::prekey::{PREKEY_LIFETIME_SECS, PrekeyBundle, SignedPrekey};
use liaison_proto::receipt::Receipt;
use liaison_proto::{Classification, UnixTime, WireCode};
use support::{Federation, OfficerClient, Options, RouteSpec, unix_now};

const WAIT: Duration = Duration::from_secs(30);

/// Relay 1 dials relay 2 and reaches relay 3 via relay 2; relay 2 dials relay 3 and has no
/// route back to relay 1 (relay 1 dials it, so it forwards over the accepted link); relay 3
/// dials nobody and reaches relay 1 via relay 2. Officers: 0 at relay 1, 1 at relay 3, 2 at
/// relay 2, 3 at relay 1.
fn line(options: Options) -> Federation {
    Federation::build_topology(
        3,
        &[
            RouteSpec::direct(0, 1),
            RouteSpec::via(0, 2, 1),
            RouteSpec::direct(1, 2),
            RouteSpec::via(2, 0, 1),
        ],
        &[
            (0, Classification::SecretUe),
            (2, Classification::SecretUe),
            (1, Classification::SecretUe),
            (0, Classification::SecretUe),
        ],
        options,
    )
}

/// The next frame that is not keepalive traffic.
async fn next(client: &mut OfficerClient) -> Option<LinkFrame> {
    loop {
        match client.next(WAIT).await {
            Some(LinkFrame::Ping(_) | LinkFrame::Pong(_)) => {}
            other => return other,
        }
    }
}

async fn expect_ack(client: &mut OfficerClient, id: &[u8]) -> AckStatus {
    match next(client).await {
        Some(LinkFrame::Ack { message_id, status }) => {
            assert_eq!(message_id, id);
            status
        }
        other => panic!("expected an Ack, got {other:?}"),
    }
}

async fn send_accepted(client: &mut OfficerClient, env: &Envelope) {
    client.send(env).await;
    assert_eq!(
        expect_ack(client, &env.header().message_id.0).await,
        AckStatus::Accepted
    );
}

/// Receives one envelope as officer `who`, checks its plaintext, acks it, and sends and gets
/// custody of a receipt for it.
async fn receive_and_sign(
    fed: &Federation,
    client: &mut OfficerClient,
    who: usize,
    plaintext: &[u8],
) -> Receipt {
    let raw = match next(client).await {
        Some(LinkFrame::Envelope(raw)) => raw,
        other => panic!("officer {who}: expected an envelope, got {other:?}"),
    };
    let (env, opened) = fed.open(who, &raw);
    assert_eq!(opened, plaintext);
    client.ack(&env).await;
    let receipt = client.send_receipt(&fed.officers[who], &env).await;
    assert_eq!(
        expect_ack(client, &receipt.custody_id()).await,
        AckStatus::Accepted
    );
    receipt
}

/// Waits for receipts from each of `signers` for `env` at the sender, acking each.
async fn expect_receipts(
    fed: &Federation,
    sender: &mut OfficerClient,
    env: &Envelope,
    signers: &[usize],
) {
    let mut want: HashSet<IdentityId> = signers
        .iter()
        .map(|&i| fed.officers[i].cert.subject())
        .collect();
    while !want.is_empty() {
        match next(sender).await {
            Some(LinkFrame::Receipt(raw)) => {
                let receipt = Receipt::decode(&raw).unwrap();
                assert_eq!(receipt.message_id(), env.header().message_id);
                assert!(
                    want.remove(&receipt.recipient()),
                    "unexpected or repeated receipt"
                );
                let signer = fed
                    .officers
                    .iter()
                    .find(|o| o.cert.subject() == receipt.recipient())
                    .unwrap();
                receipt
                    .verify(&fed.trust, &signer.cert, env, UnixTime(unix_now()))
                    .unwrap();
                sender.ack_receipt(&receipt).await;
            }
            other => panic!("expected a receipt, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivers_across_three_relays_and_the_receipt_comes_back() {
    let fed = line(Options::default());
    let _r1 = fed.start(0);
    let _r2 = fed.start(1);
    let _r3 = fed.start(2);
    let mut alice = fed.connect(0).await;
    let mut carol = fed.connect(1).await;
    let env = fed.seal(0, 1, Classification::RestreintUe, b"three hops", false);
    send_accepted(&mut alice, &env).await;
    receive_and_sign(&fed, &mut carol, 1, b"three hops").await;
    // Relay 3 has no route to relay 2 of its own: the receipt rides the link relay 2 opened.
    expect_receipts(&fed, &mut alice, &env, &[1]).await;
    assert!(
        carol.next(Duration::from_secs(1)).await.is_none(),
        "nothing delivered twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn middle_relay_down_then_back_delivers_what_was_stored() {
    let fed = line(Options::default());
    let _r1 = fed.start(0);
    let r2 = fed.start(1);
    let _r3 = fed.start(2);
    let mut alice = fed.connect(0).await;
    let mut carol = fed.connect(1).await;
    r2.kill();
    // Relay 1 takes custody although its only way to relay 3 is down.
    let env = fed.seal(0, 1, Classification::RestreintUe, b"held while down", false);
    send_accepted(&mut alice, &env).await;
    assert!(
        carol.next(Duration::from_secs(2)).await.is_none(),
        "nothing can arrive while the middle relay is down"
    );
    let _r2 = fed.start(1);
    receive_and_sign(&fed, &mut carol, 1, b"held while down").await;
    expect_receipts(&fed, &mut alice, &env, &[1]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prekey_published_at_relay_3_is_fetched_through_relay_1_and_verifies() {
    let fed = line(Options::default());
    let _r1 = fed.start(0);
    let _r2 = fed.start(1);
    let _r3 = fed.start(2);
    let mut carol = fed.connect(1).await;
    let carol_id = fed.officers[1].cert.subject();
    let now = unix_now();
    let (prekey, _secret) = SignedPrekey::generate(
        &fed.officers[1].key,
        Suite::Lq2,
        UnixTime(now - 10),
        PREKEY_LIFETIME_SECS,
        &mut os_rng(),
    )
    .unwrap();
    carol.publish_prekey(&prekey).await;
    assert_eq!(
        expect_ack(&mut carol, prekey.id().as_bytes()).await,
        AckStatus::Accepted
    );
    // Publishing someone else's prekey is refused, without closing the link.
    carol.publish_prekey(&fed.officers[0].prekey).await;
    match next(&mut carol).await {
        Some(LinkFrame::Refused { id, .. }) => {
            assert_eq!(id, fed.officers[0].prekey.id().as_bytes().to_vec());
        }
        other => panic!("expected a Refused, got {other:?}"),
    }
    let mut alice = fed.connect(0).await;
    alice.request_prekey(carol_id).await;
    match next(&mut alice).await {
        Some(LinkFrame::PrekeyResponse(raw)) => {
            let bundle = PrekeyBundle::decode(&raw).unwrap();
            bundle.verify(&fed.trust, UnixTime(unix_now())).unwrap();
            assert_eq!(bundle.owner(), carol_id);
            assert_eq!(bundle.prekey, prekey);
        }
        other => panic!("expected a PrekeyResponse, got {other:?}"),
    }
    // An officer who published nothing: a relayed refusal naming the identity.
    let dave_id = fed.officers[2].cert.subject();
    alice.request_prekey(dave_id).await;
    match next(&mut alice).await {
        Some(LinkFrame::Refused { id, code, reason }) => {
            assert_eq!(id, dave_id.as_bytes().to_vec());
            assert_eq!(code, WireCode::NoPrekey as u16, "{reason}");
        }
        other => panic!("expected a Refused, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_envelope_to_officers_at_two_relays_returns_both_receipts() {
    let fed = line(Options::default());
    let _r1 = fed.start(0);
    let _r2 = fed.start(1);
    let _r3 = fed.start(2);
    let mut alice = fed.connect(0).await;
    let mut carol = fed.connect(1).await;
    let mut dave = fed.connect(2).await;
    let env = fed.seal_to_many(0, &[1, 2], Classification::RestreintUe, b"to two relays");
    send_accepted(&mut alice, &env).await;
    receive_and_sign(&fed, &mut carol, 1, b"to two relays").await;
    receive_and_sign(&fed, &mut dave, 2, b"to two relays").await;
    expect_receipts(&fed, &mut alice, &env, &[1, 2]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusal_is_not_fatal_and_the_same_link_delivers_the_next_envelope() {
    let fed = line(Options::default());
    let _r1 = fed.start(0);
    let mut alice = fed.connect(0).await;
    // Forged: an envelope whose signature no longer verifies.
    let good = fed.seal(0, 3, Classification::RestreintUe, b"first", false);
    let mut forged = good.raw().to_vec();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    alice.send_raw(forged).await;
    match next(&mut alice).await {
        Some(LinkFrame::Refused { id, code, reason }) => {
            assert_eq!(id, good.header().message_id.0.to_vec());
            assert_eq!(code, WireCode::AuthenticationFailed as u16, "{reason}");
        }
        other => panic!("expected a Refused, got {other:?}"),
    }
    // Same link, next envelope: accepted and delivered.
    let env = fed.seal(0, 3, Classification::RestreintUe, b"second", false);
    send_accepted(&mut alice, &env).await;
    let mut bob = fed.connect(3).await;
    match next(&mut bob).await {
        Some(LinkFrame::Envelope(raw)) => {
            let (env, plaintext) = fed.open(3, &raw);
            assert_eq!(plaintext, b"second");
            bob.ack(&env).await;
        }
        other => panic!("expected an envelope, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_envelope_is_refused_with_the_too_large_code() {
    let limit = 4096 + MAX_ENVELOPE_OVERHEAD;
    let fed = line(Options {
        max_envelope_bytes: Some(limit),
        ..Options::default()
    });
    let _r1 = fed.start(0);
    let mut alice = fed.connect(0).await;
    let big = vec![0x42; limit];
    let env = fed.seal(0, 3, Classification::RestreintUe, &big, false);
    assert!(env.raw().len() > limit);
    alice.send(&env).await;
    match next(&mut alice).await {
        Some(LinkFrame::Refused { id, code, reason }) => {
            assert_eq!(id, env.header().message_id.0.to_vec());
            assert_eq!(code, WireCode::TooLarge as u16, "{reason}");
        }
        other => panic!("expected a Refused, got {other:?}"),
    }
    // Just under the limit still passes on the same link.
    let small = fed.seal(0, 3, Classification::RestreintUe, &[0x42; 4096], false);
    send_accepted(&mut alice, &small).await;
}

/// The sender's next frame is a non-delivery notice for `env`: checks it against the
/// envelope, the trust anchors, the issuing relay `issuer`, the recipients and `code`, acks it,
/// and returns it.
async fn expect_notice(
    fed: &Federation,
    sender: &mut OfficerClient,
    env: &Envelope,
    issuer: usize,
    recipients: &[usize],
    code: WireCode,
) -> NonDelivery {
    let raw = match next(sender).await {
        Some(LinkFrame::NonDelivery(raw)) => raw,
        other => panic!("expected a non-delivery notice, got {other:?}"),
    };
    let notice = check_notice(fed, &raw, env, issuer, recipients, code);
    sender.ack_id(&notice.custody_id()).await;
    notice
}

/// Checks notice `raw` against `env`, the trust anchors, the issuing relay `issuer`, the
/// recipients and `code`.
fn check_notice(
    fed: &Federation,
    raw: &[u8],
    env: &Envelope,
    issuer: usize,
    recipients: &[usize],
    code: WireCode,
) -> NonDelivery {
    let notice = NonDelivery::decode(raw).unwrap();
    notice
        .verify(&fed.trust, env, UnixTime(unix_now()))
        .unwrap();
    assert_eq!(
        notice.relay(),
        &fed.relays[issuer].cert,
        "issued by the relay that gave up"
    );
    let want: Vec<IdentityId> = recipients
        .iter()
        .map(|&i| fed.officers[i].cert.subject())
        .collect();
    assert_eq!(notice.terms().recipients, want);
    assert_eq!(
        notice.terms().code,
        code as u16,
        "{}",
        notice.terms().reason
    );
    notice
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_hop_refusal_after_custody_reaches_the_sender_as_a_signed_notice() {
    // Relay 2 takes less than relay 1: relay 1 takes custody of Ana's report (and says so),
    // relay 2 refuses it for good, and Ana hears why from relay 1 instead of never.
    let limit = 4096 + MAX_ENVELOPE_OVERHEAD;
    let fed = line(Options {
        max_envelope_bytes_at: Some((1, limit)),
        ..Options::default()
    });
    let r1 = fed.start(0);
    let _r2 = fed.start(1);
    let mut alice = fed.connect(0).await;
    let env = fed.seal(0, 1, Classification::RestreintUe, &vec![0x42; limit], false);
    send_accepted(&mut alice, &env).await;
    let notice = expect_notice(&fed, &mut alice, &env, 0, &[1], WireCode::TooLarge).await;
    assert!(
        notice.terms().reason.contains("refused it") && notice.terms().reason.contains("limit"),
        "the next hop's reason travels: {}",
        notice.terms().reason
    );
    // Custody of the notice was handed over: it is not delivered again.
    assert!(alice.next(Duration::from_secs(2)).await.is_none());
    // Officers do not issue notices: a relay refuses one from an officer, non-fatally.
    alice
        .send_frame(&LinkFrame::NonDelivery(notice.raw().to_vec()))
        .await;
    match next(&mut alice).await {
        Some(LinkFrame::Refused { code, .. }) => assert_eq!(code, WireCode::PeerNotAllowed as u16),
        other => panic!("expected a Refused, got {other:?}"),
    }
    // In relay 1's signed audit log: relay 2's refusal and Ana's notice.
    assert!(r1.terminate().success());
    let report = fed.audit_report(0);
    assert_eq!(report["by_kind"]["refused"], 2, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notice_from_a_middle_relay_travels_two_hops_back_to_the_sender() {
    // Carol (relay 3) writes to Ana (relay 1) through relay 2; relay 1 takes less than relay 2.
    // Relay 2 gives up, and its notice goes back to relay 3, which checks it and delivers it.
    let limit = 4096 + MAX_ENVELOPE_OVERHEAD;
    let fed = line(Options {
        max_envelope_bytes_at: Some((0, limit)),
        ..Options::default()
    });
    let _r1 = fed.start(0);
    let _r2 = fed.start(1);
    let _r3 = fed.start(2);
    let mut carol = fed.connect(1).await;
    let env = fed.seal(1, 0, Classification::RestreintUe, &vec![0x42; limit], false);
    send_accepted(&mut carol, &env).await;
    expect_notice(&fed, &mut carol, &env, 1, &[0], WireCode::TooLarge).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recipient_refusing_an_envelope_is_reported_to_the_sender_with_its_code() {
    // Officer 3 (relay 1, like Ana) refuses what it was handed, as a client does when an
    // envelope fails to open: relay 1 tells Ana, naming the recipient's client.
    let fed = line(Options::default());
    let _r1 = fed.start(0);
    let mut alice = fed.connect(0).await;
    let mut olek = fed.connect(3).await;
    let env = fed.seal(0, 3, Classification::RestreintUe, b"for olek", false);
    send_accepted(&mut alice, &env).await;
    match next(&mut olek).await {
        Some(LinkFrame::Envelope(raw)) => assert_eq!(raw, env.raw()),
        other => panic!("expected the envelope, got {other:?}"),
    }
    olek.send_frame(&LinkFrame::Refused {
        id: env.header().message_id.0.to_vec(),
        code: WireCode::AuthenticationFailed as u16,
        reason: "authentication failed".into(),
    })
    .await;
    let notice = expect_notice(
        &fed,
        &mut alice,
        &env,
        0,
        &[3],
        WireCode::AuthenticationFailed,
    )
    .await;
    assert!(
        notice.terms().reason.contains("recipient's client"),
        "{}",
        notice.terms().reason
    );
    // Released, not handed to Olek again, even on a new link.
    drop(olek);
    let mut olek = fed.connect(3).await;
    assert!(olek.next(Duration::from_secs(2)).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelope_expiring_before_its_recipient_collects_it_is_reported_to_the_sender() {
    // Dora (relay 2) never connects. Her relay's expiry sweep (every 5 s here) drops Ana's
    // two reports and tells Ana, over the link relay 1 opened to relay 2. The second is 3 MiB,
    // kept in chunks: its notice's envelope hash is taken chunk by chunk, and must still be
    // the hash of the envelope Ana sent.
    let fed = line(Options::default());
    let _r1 = fed.start(0);
    let _r2 = fed.start(1);
    let mut alice = fed.connect(0).await;
    let small = fed.seal_for(0, 2, Classification::RestreintUe, b"read me soon", false, 3);
    let large = fed.seal_for(
        0,
        2,
        Classification::RestreintUe,
        &vec![7; 3 << 20],
        false,
        3,
    );
    send_accepted(&mut alice, &small).await;
    send_accepted(&mut alice, &large).await;
    // Relays check notices concurrently, so the two may arrive in either order.
    let mut waiting = vec![&small, &large];
    while !waiting.is_empty() {
        let raw = match next(&mut alice).await {
            Some(LinkFrame::NonDelivery(raw)) => raw,
            other => panic!("expected a non-delivery notice, got {other:?}"),
        };
        let id = NonDelivery::decode(&raw).unwrap().message_id();
        let at = waiting
            .iter()
            .position(|e| e.header().message_id == id)
            .expect("a notice for one of the two, once");
        let env = waiting.remove(at);
        let notice = check_notice(&fed, &raw, env, 1, &[2], WireCode::EnvelopeExpired);
        assert!(
            notice.terms().reason.contains("before"),
            "{}",
            notice.terms().reason
        );
        alice.ack_id(&notice.custody_id()).await;
    }
    // Dora, connecting later, gets nothing: the envelope is gone, and the sender knows.
    let mut dora = fed.connect(2).await;
    assert!(dora.next(Duration::from_secs(2)).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_defers_new_envelopes_until_it_drains() {
    let fed = line(Options {
        max_queue_depth: Some(2),
        ..Options::default()
    });
    let _r1 = fed.start(0);
    let mut alice = fed.connect(0).await;
    // Officer 3 (at relay 1) is offline: its queue fills up to the limit, then defers.
    let first = fed.seal(0, 3, Classification::RestreintUe, b"one", false);
    let second = fed.seal(0, 3, Classification::RestreintUe, b"two", false);
    let third = fed.seal(0, 3, Classification::RestreintUe, b"three", false);
    send_accepted(&mut alice, &first).await;
    send_accepted(&mut alice, &second).await;
    alice.send(&third).await;
    assert_eq!(
        expect_ack(&mut alice, &third.header().message_id.0).await,
        AckStatus::Deferred
    );
    // The recipient drains its queue; the retried envelope is then taken.
    let mut bob = fed.connect(3).await;
    for _ in 0..2 {
        match next(&mut bob).await {
            Some(LinkFrame::Envelope(raw)) => {
                let (env, _) = fed.open(3, &raw);
                bob.ack(&env).await;
            }
            other => panic!("expected an envelope, got {other:?}"),
        }
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        alice.send(&third).await;
        match expect_ack(&mut alice, &third.header().message_id.0).await {
            AckStatus::Accepted => break,
            AckStatus::Deferred if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => panic!("expected the retry to be accepted, got {other:?}"),
        }
    }
    match next(&mut bob).await {
        Some(LinkFrame::Envelope(raw)) => assert_eq!(fed.open(3, &raw).1, b"three"),
        other => panic!("expected an envelope, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_for_a_sender_with_a_full_queue_are_deferred_until_it_drains() {
    // Ana (officer 0) and Olek (officer 3) share relay 1, whose queues hold two items. Ana's
    // queue is full of Olek's reports while she is away: his receipt for hers is deferred
    // like an envelope would be, and taken once she collected them.
    let fed = line(Options {
        max_queue_depth: Some(2),
        ..Options::default()
    });
    let _r1 = fed.start(0);
    let mut alice = fed.connect(0).await;
    let for_olek = fed.seal(0, 3, Classification::RestreintUe, b"for olek", false);
    send_accepted(&mut alice, &for_olek).await;
    drop(alice);
    let mut olek = fed.connect(3).await;
    let env = match next(&mut olek).await {
        Some(LinkFrame::Envelope(raw)) => fed.open(3, &raw).0,
        other => panic!("expected Ana's envelope, got {other:?}"),
    };
    olek.ack(&env).await;
    let replies = [b"one".as_slice(), b"two"]
        .map(|text| fed.seal(3, 0, Classification::RestreintUe, text, false));
    for reply in &replies {
        send_accepted(&mut olek, reply).await;
    }
    let receipt = olek.send_receipt(&fed.officers[3], &env).await;
    assert_eq!(
        expect_ack(&mut olek, &receipt.custody_id()).await,
        AckStatus::Deferred
    );

    // Ana collects the two replies; the same receipt is then taken and reaches her.
    let mut alice = fed.connect(0).await;
    for _ in 0..2 {
        match next(&mut alice).await {
            Some(LinkFrame::Envelope(raw)) => alice.ack(&fed.open(0, &raw).0).await,
            other => panic!("expected a reply, got {other:?}"),
        }
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        olek.send_frame(&LinkFrame::Receipt(receipt.raw().to_vec()))
            .await;
        match expect_ack(&mut olek, &receipt.custody_id()).await {
            AckStatus::Accepted => break,
            AckStatus::Deferred if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => panic!("expected the retried receipt to be taken, got {other:?}"),
        }
    }
    expect_receipts(&fed, &mut alice, &for_olek, &[3]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prekey_request_without_a_live_next_hop_is_refused_with_no_route_in_bounded_time() {
    let fed = line(Options::default());
    let _r1 = fed.start(0);
    let mut alice = fed.connect(0).await;
    // An identity the federation does not know: refused at once, naming the identity.
    let stranger = IdentityId::from_bytes([0x5a; 32]);
    alice.request_prekey(stranger).await;
    match next(&mut alice).await {
        Some(LinkFrame::Refused { id, code, reason }) => {
            assert_eq!(id, stranger.as_bytes().to_vec());
            assert_eq!(code, WireCode::NoPrekey as u16, "{reason}");
        }
        other => panic!("expected a Refused, got {other:?}"),
    }
    // Carol's home is relay 3, reached via relay 2, which never comes up.
    let carol_id = fed.officers[1].cert.subject();
    alice.request_prekey(carol_id).await;
    match next(&mut alice).await {
        Some(LinkFrame::Refused { id, code, reason }) => {
            assert_eq!(id, carol_id.as_bytes().to_vec());
            assert_eq!(code, WireCode::NoRoute as u16, "{reason}");
        }
        other => panic!("expected a Refused, got {other:?}"),
    }
    // The link is still usable afterwards.
    let env = fed.seal(0, 3, Classification::RestreintUe, b"still here", false);
    send_accepted(&mut alice, &env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelope_above_the_old_16_mib_frame_cap_crosses_three_relays() {
    let fed = line(Options::default());
    let _r1 = fed.start(0);
    let _r2 = fed.start(1);
    let _r3 = fed.start(2);
    let mut alice = fed.connect(0).await;
    let mut carol = fed.connect(1).await;
    let payload: Vec<u8> = (0..17 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let env = fed.seal(0, 1, Classification::RestreintUe, &payload, false);
    assert!(env.raw().len() > 16 * 1024 * 1024);
    send_accepted(&mut alice, &env).await;
    receive_and_sign(&fed, &mut carol, 1, &payload).await;
    expect_receipts(&fed, &mut alice, &env, &[1]).await;
}

#[test]
fn run_refuses_via_routes_that_cannot_work_naming_the_key() {
    let fed = line(Options::default());
    let config = &fed.relays[0].config;
    let good = std::fs::read_to_string(config).unwrap();
    let run = |text: String| {
        std::fs::write(config, text).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_liaison-node"))
            .args(["run", "--config"])
            .arg(config)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // A via route with an address of its own.
    let stderr = run(good.replace(
        "via = \"relay-2\"",
        "via = \"relay-2\"\naddress = \"127.0.0.1:9\"",
    ));
    assert!(stderr.contains("route[1].via"), "{stderr}");
    // A via naming no relay of the federation.
    let stderr = run(good.replace("via = \"relay-2\"", "via = \"relay-9\""));
    assert!(
        stderr.contains("route[1].via") && stderr.contains("relay-9"),
        "{stderr}"
    );
    // A via leading to another via route.
    let stderr = run(format!(
        "{good}\n[[route]]\nrelay = \"relay-2\"\nvia = \"relay-3\"\nqkd = \"off\"\n"
    ));
    assert!(stderr.contains("route.via"), "{stderr}");
}
