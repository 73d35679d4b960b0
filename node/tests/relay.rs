//! End-to-end relay tests with real processes and sockets: two `liaison-node run` processes on
//! loopback, officers driven from the test over real QUIC links. Each test builds its own
//! federation in a temporary directory, bounds every wait, and kills its relays on drop.

#[allow(dead_code)] // each test binary uses a different part of the support module
mod support;

use std::collections::HashSet;
use std::time::Duration;

use liaison_proto::Classification;
use liaison_proto::envelope::Envelope;
use liaison_proto::frame::{AckStatus, LinkFrame};
use liaison_proto::receipt::Receipt;
use support::{Federation, OfficerClient, Options, RelayProcess};

const WAIT: Duration = Duration::from_secs(30);

/// Officers: 0 at relay 1, 1 at relay 2 (both SECRET UE), 2 at relay 2 cleared only for
/// UNCLASSIFIED, 3 at relay 1.
fn federation() -> Federation {
    Federation::build(&[
        (0, Classification::SecretUe),
        (1, Classification::SecretUe),
        (1, Classification::Unclassified),
        (0, Classification::SecretUe),
    ])
}

/// Sends `env` and asserts the relay acknowledged custody of it.
async fn send_accepted(client: &mut OfficerClient, env: &Envelope) {
    client.send(env).await;
    assert_eq!(
        expect_ack(client, env.header().message_id.0).await,
        AckStatus::Accepted
    );
}

async fn expect_ack(client: &mut OfficerClient, id: [u8; 16]) -> AckStatus {
    match client.next(WAIT).await {
        Some(LinkFrame::Ack { message_id, status }) => {
            assert_eq!(message_id, id.to_vec());
            status
        }
        other => panic!("expected an Ack, got {other:?}"),
    }
}

/// Receives envelopes until `count` distinct ones arrived, acking each; then waits `quiet` to
/// make sure nothing arrives twice. Returns the plaintexts.
async fn receive(
    fed: &Federation,
    client: &mut OfficerClient,
    who: usize,
    count: usize,
    quiet: Duration,
) -> Vec<Vec<u8>> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    while seen.len() < count {
        match client.next(WAIT).await {
            Some(LinkFrame::Envelope(raw)) => {
                let (env, plaintext) = fed.open(who, &raw);
                assert!(seen.insert(env.header().message_id), "delivered twice");
                client.ack(&env).await;
                out.push(plaintext);
            }
            Some(LinkFrame::Ping(_) | LinkFrame::Pong(_)) => {}
            other => panic!("expected an envelope, got {other:?}"),
        }
    }
    if let Some(LinkFrame::Envelope(raw)) = client.next(quiet).await {
        let (env, _) = fed.open(who, &raw);
        panic!("delivered again: {}", env.header().message_id);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivers_across_two_hops_with_plaintext_intact() {
    let fed = federation();
    let _r1 = fed.start(0);
    let _r2 = fed.start(1);
    let mut alice = fed.connect(0).await;
    let env = fed.seal(
        0,
        1,
        Classification::RestreintUe,
        b"STIX bundle: indicator 42",
        false,
    );
    send_accepted(&mut alice, &env).await;
    let mut bob = fed.connect(1).await;
    let raw = match bob.next(WAIT).await {
        Some(LinkFrame::Envelope(raw)) => raw,
        other => panic!("expected an envelope, got {other:?}"),
    };
    let (delivered, plaintext) = fed.open(1, &raw);
    assert_eq!(plaintext, b"STIX bundle: indicator 42");
    bob.ack(&delivered).await;
    // The signed receipt travels back over both hops to the sender.
    let sent = bob.send_receipt(&fed.officers[1], &delivered).await;
    assert_eq!(
        expect_ack(&mut bob, liaison_node::relay::receipt_custody_id(&sent)).await,
        AckStatus::Accepted
    );
    match alice.next(WAIT).await {
        Some(LinkFrame::Receipt(raw)) => {
            let receipt = Receipt::decode(&raw).unwrap();
            assert_eq!(receipt, sent);
            assert_eq!(receipt.message_id(), env.header().message_id);
            receipt.verify_signature(&fed.officers[1].cert).unwrap();
            alice.ack_receipt(&receipt).await;
        }
        other => panic!("expected a receipt, got {other:?}"),
    }
    assert!(
        bob.next(Duration::from_secs(1)).await.is_none(),
        "nothing delivered twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psk_keyed_relay_link_carries_envelopes_and_required_officer_link_fails_closed() {
    let fed = Federation::build_with(
        &[(0, Classification::SecretUe), (1, Classification::SecretUe)],
        Options {
            psk_links: true,
            officer_qkd_required: [false, true],
            ..Options::default()
        },
    );
    let r1 = fed.start(0);
    let r2 = fed.start(1);
    let mut alice = fed.connect(0).await;
    let env = fed.seal(0, 1, Classification::RestreintUe, b"over a PSK link", false);
    send_accepted(&mut alice, &env).await;
    // Relay 1 forwards over its PSK-keyed link; relay 2 takes custody.
    wait_for_log(&r1, "supplied_key=true").await;
    wait_for_log(&r2, "custody taken").await;
    // Relay 2 requires a supplied key on officer links; this officer has none: fail closed.
    let mut bob = fed.connect(1).await;
    match bob.next(WAIT).await {
        Some(LinkFrame::Error { code, reason }) => {
            assert_eq!(
                code,
                liaison_proto::WireCode::SuppliedKeyUnavailable as u16,
                "{reason}"
            );
        }
        other => panic!("expected an Error frame, got {other:?}"),
    }
    assert!(r2.terminate().success());
    let report = fed.audit_report(1);
    assert_eq!(report["by_kind"]["refused"], 1, "{report}");
    assert_eq!(report["by_kind"]["accepted"], 1, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fails_over_to_the_alternate_address_when_the_primary_is_unreachable() {
    let fed = Federation::build_with(
        &[(0, Classification::SecretUe), (1, Classification::SecretUe)],
        Options {
            dead_primary: true,
            ..Options::default()
        },
    );
    let r1 = fed.start(0);
    let _r2 = fed.start(1);
    let mut alice = fed.connect(0).await;
    let env = fed.seal(
        0,
        1,
        Classification::RestreintUe,
        b"via the alternate",
        false,
    );
    send_accepted(&mut alice, &env).await;
    let mut bob = fed.connect(1).await;
    let got = receive(&fed, &mut bob, 1, 1, Duration::from_secs(1)).await;
    assert_eq!(got, vec![b"via the alternate".to_vec()]);
    let alternate = format!("link up address={}", fed.relays[1].addr);
    assert!(r1.log_text().contains(&alternate), "{}", r1.log_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_supplied_key_unavailable_keeps_the_route_closed_and_is_audited() {
    let fed = Federation::build_with(
        &[(0, Classification::SecretUe), (1, Classification::SecretUe)],
        Options {
            psk_links: true,
            wrong_peer_sae: true,
            ..Options::default()
        },
    );
    let r1 = fed.start(0);
    let _r2 = fed.start(1);
    let mut alice = fed.connect(0).await;
    let env = fed.seal(0, 1, Classification::RestreintUe, b"must wait", false);
    send_accepted(&mut alice, &env).await;
    // Several redials, each refused for want of the key: never a hybrid-only link.
    let deadline = std::time::Instant::now() + WAIT;
    while r1
        .log_text()
        .matches("not linking: supplied key required")
        .count()
        < 3
    {
        assert!(std::time::Instant::now() < deadline, "{}", r1.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !r1.log_text().contains("link up address="),
        "no link without the key"
    );
    assert!(r1.terminate().success());
    let report = fed.audit_report(0);
    // Relay 1's own dials are audited once per outage; relay 2's dials towards relay 1 are
    // refused too (the key they mix is not from the SAE id relay 1 expects), one entry each.
    assert!(report["by_kind"]["refused"].as_u64() >= Some(1), "{report}");
    assert_eq!(report["by_kind"]["forwarded"], 0, "{report}");
}

async fn wait_for_log(relay: &RelayProcess, needle: &str) {
    let deadline = std::time::Instant::now() + WAIT;
    while !relay.log_text().contains(needle) {
        assert!(
            std::time::Instant::now() < deadline,
            "no {needle:?} in the log"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_while_next_hop_is_down_and_forwards_once_it_returns() {
    let fed = federation();
    let r1 = fed.start(0);
    let r2 = fed.start(1);
    let mut alice = fed.connect(0).await;
    // A first envelope reaches relay 2 before it goes down, so relay 1's link to it is up and
    // has to be found dead (no close, no reset) before the next envelopes can move.
    let first = fed.seal(0, 1, Classification::Unclassified, b"before", false);
    alice.send(&first).await;
    assert_eq!(
        expect_ack(&mut alice, first.header().message_id.0).await,
        AckStatus::Accepted
    );
    wait_for_log(&r2, "custody taken").await;
    r2.kill();
    let mut sent = Vec::new();
    for text in [&b"while down 1"[..], b"while down 2"] {
        let env = fed.seal(0, 1, Classification::RestreintUe, text, false);
        send_accepted(&mut alice, &env).await;
        sent.push(text.to_vec());
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _r2 = fed.start(1);
    let mut bob = fed.connect(1).await;
    let mut got = receive(&fed, &mut bob, 1, 3, Duration::from_secs(3)).await;
    // The dead hop's link ended: the one relay 1 dialled ("link down") or the one relay 2
    // dialled and relay 1 forwards over as well ("link failed").
    let log = r1.log_text();
    assert!(
        log.contains("link down") || log.contains("link failed"),
        "relay 1 noticed the dead hop"
    );
    got.sort();
    let mut want = sent;
    want.push(b"before".to_vec());
    want.sort();
    assert_eq!(got, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_classification_above_recipient_clearance_and_audits_it() {
    let fed = federation();
    let r1 = fed.start(0);
    let mut alice = fed.connect(0).await;
    // Officer 2 is cleared for UNCLASSIFIED only; the sender-side check is skipped on purpose.
    let env = fed.seal(0, 2, Classification::RestreintUe, b"too high", true);
    alice.send(&env).await;
    // A non-fatal refusal naming the envelope, with the code and reason.
    match alice.next(WAIT).await {
        Some(LinkFrame::Refused { id, code, reason }) => {
            assert_eq!(id, env.header().message_id.0.to_vec());
            assert_eq!(
                code,
                liaison_proto::WireCode::ClearanceExceeded as u16,
                "{reason}"
            );
        }
        other => panic!("expected a Refused frame, got {other:?}"),
    }
    // Stop the relay cleanly (final checkpoint), then verify its audit log offline.
    assert!(r1.terminate().success());
    let report = fed.audit_report(0);
    assert_eq!(report["by_kind"]["refused"], 1, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frame_closes_only_that_connection() {
    let fed = federation();
    let _r1 = fed.start(0);
    let _r2 = fed.start(1);
    let mut mallory = fed.connect(0).await;
    let mut dave = fed.connect(3).await;
    // Frame type 0xEE does not exist.
    mallory
        .link
        .write_raw(&[0xEE, 0, 0, 0, 1, 0])
        .await
        .unwrap();
    match mallory.next(WAIT).await {
        Some(LinkFrame::Error { code, .. }) => {
            assert_eq!(code, liaison_proto::WireCode::Malformed as u16);
        }
        other => panic!("expected an Error frame, got {other:?}"),
    }
    assert!(
        mallory.next(Duration::from_secs(2)).await.is_none(),
        "link stays closed"
    );
    // A record that does not authenticate (forged or corrupted) also ends only its link, with
    // the one opaque reason.
    let mut forger = fed.connect(0).await;
    let forged =
        liaison_proto::frame::Frame::new(liaison_proto::frame::FrameType::Record, vec![7; 48])
            .unwrap()
            .encode();
    forger.link.write_raw(&forged).await.unwrap();
    match forger.next(WAIT).await {
        Some(LinkFrame::Error { code, reason }) => {
            assert_eq!(code, liaison_proto::WireCode::AuthenticationFailed as u16);
            assert_eq!(reason, "authentication failed");
        }
        other => panic!("expected an Error frame, got {other:?}"),
    }
    let env = fed.seal(3, 1, Classification::Unclassified, b"still serving", false);
    dave.send(&env).await;
    assert_eq!(
        expect_ack(&mut dave, env.header().message_id.0).await,
        AckStatus::Accepted
    );
    let mut bob = fed.connect(1).await;
    let got = receive(&fed, &mut bob, 1, 1, Duration::from_secs(1)).await;
    assert_eq!(got, vec![b"still serving".to_vec()]);
}

#[test]
fn run_refuses_a_config_with_an_unknown_key_naming_file_and_key() {
    let fed = federation();
    let path = fed.relays[0].config.with_file_name("bad.toml");
    let good = std::fs::read_to_string(&fed.relays[0].config).unwrap();
    std::fs::write(&path, format!("listen_port = 7443\n{good}")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_liaison-node"))
        .args(["run", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.toml") && stderr.contains("listen_port"),
        "{stderr}"
    );
    // A value that parses but is wrong names its key too.
    std::fs::write(&path, good.replace("node.cert", "missing.cert")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_liaison-node"))
        .args(["run", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("certificate") && stderr.contains("missing.cert"),
        "{stderr}"
    );
}

/// Before a peer has authenticated, a frame header announcing a huge body is refused at once
/// (the node does not wait to buffer it): the connection gets a plaintext `Error` naming the
/// malformed frame well before the handshake timeout, and the node keeps serving others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_peer_cannot_make_the_node_buffer_a_huge_frame() {
    use liaison_node::transport::{self, TransportLimits};
    use liaison_proto::frame::{Frame, FrameType};

    let fed = federation();
    let _r1 = fed.start(0);
    let endpoint =
        transport::client_endpoint("127.0.0.1:0".parse().unwrap(), &TransportLimits::default())
            .unwrap();
    let conn = endpoint
        .connect(fed.relays[0].addr, "liaison-node")
        .unwrap()
        .await
        .unwrap();
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    // A Record of 200 MiB announced in the very first frame, and no body.
    send.write_all(&Frame::header(FrameType::Record, 200 << 20))
        .await
        .unwrap();
    // The test relays' handshake timeout is 3 s: an answer within 2 s is the refusal itself.
    let answer = tokio::time::timeout(Duration::from_secs(2), recv.read_to_end(64 * 1024))
        .await
        .expect("refused before the handshake timeout")
        .unwrap_or_default();
    let frame = Frame::decode_exact(&answer).expect("one plaintext frame");
    match LinkFrame::from_frame(&frame) {
        Ok(LinkFrame::Error { code, reason }) => {
            assert_eq!(code, liaison_proto::WireCode::Malformed as u16, "{reason}");
        }
        other => panic!("expected an Error frame, got {other:?}"),
    }
    // Others are still served.
    let mut dave = fed.connect(3).await;
    let env = fed.seal(3, 0, Classification::Unclassified, b"still serving", false);
    send_accepted(&mut dave, &env).await;
}

/// A certified officer may only send as itself, and an envelope past its expiry is not taken
/// into custody: both are refused with their wire codes (non-fatal: the same link then delivers
/// a valid envelope), and both refusals are in the signed audit log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_an_envelope_sent_as_someone_else_and_an_expired_one_and_audits_both() {
    use liaison_crypto::rng::os_rng;
    use liaison_proto::envelope::{ContentType, EnvelopeBuilder};
    use liaison_proto::{Tlp, UnixTime, WireCode};

    let fed = federation();
    let r1 = fed.start(0);
    let mut mallory = fed.connect(0).await;
    async fn expect_refused(client: &mut OfficerClient, env: &Envelope, want: WireCode) {
        client.send(env).await;
        match client.next(WAIT).await {
            Some(LinkFrame::Refused { id, code, reason }) => {
                assert_eq!(id, env.header().message_id.0.to_vec());
                assert_eq!(code, want as u16, "{reason}");
            }
            other => panic!("expected a Refused frame, got {other:?}"),
        }
    }
    // Officer 3's envelope (validly signed by officer 3) handed in on officer 0's link.
    let as_dave = fed.seal(
        3,
        0,
        Classification::Unclassified,
        b"as someone else",
        false,
    );
    expect_refused(&mut mallory, &as_dave, WireCode::PeerNotAllowed).await;
    // Officer 0's own envelope, created two hours ago and expired an hour ago.
    let (me, to) = (&fed.officers[0], &fed.officers[3]);
    let now = UnixTime(support::unix_now());
    let expired = EnvelopeBuilder::new(
        &me.key,
        &me.cert,
        Classification::Unclassified,
        Tlp::Amber,
        ContentType::Text,
        UnixTime(now.0 - 7200),
        UnixTime(now.0 - 3600),
    )
    .recipient(&to.cert, &to.prekey, None)
    .seal_without_policy_checks(b"stale", &mut os_rng())
    .unwrap();
    expect_refused(&mut mallory, &expired, WireCode::EnvelopeExpired).await;
    // The link is still up and its own valid envelope is taken.
    let valid = fed.seal(0, 3, Classification::Unclassified, b"valid", false);
    send_accepted(&mut mallory, &valid).await;
    assert!(r1.terminate().success());
    let report = fed.audit_report(0);
    assert_eq!(report["by_kind"]["refused"], 2, "{report}");
}

/// A 3 MiB envelope crosses the officer's link, the relay-to-relay link and the recipient's
/// link as `EnvelopePart` records (every `Link::send` above the threshold splits) and arrives
/// intact; a too-large one in parts is refused without closing the link.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_envelope_crosses_every_link_in_parts_and_opens_intact() {
    let fed = federation();
    let _r1 = fed.start(0);
    let _r2 = fed.start(1);
    let mut alice = fed.connect(0).await;
    let mut bob = fed.connect(1).await;
    let payload: Vec<u8> = (0..3 * 1024 * 1024 + 5).map(|i| (i % 241) as u8).collect();
    let env = fed.seal(0, 1, Classification::RestreintUe, &payload, false);
    assert!(liaison_proto::envelope_parts::sent_in_parts(
        env.raw().len()
    ));
    send_accepted(&mut alice, &env).await;
    let got = receive(&fed, &mut bob, 1, 1, Duration::from_secs(1)).await;
    assert_eq!(got, vec![payload]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelope_in_parts_over_the_relay_limit_is_refused_and_the_link_stays_up() {
    let limit = 2 * 1024 * 1024;
    let fed = Federation::build_with(
        &[
            (0, Classification::SecretUe),
            (1, Classification::SecretUe),
            (1, Classification::Unclassified),
            (0, Classification::SecretUe),
        ],
        Options {
            max_envelope_bytes: Some(limit),
            ..Options::default()
        },
    );
    let r1 = fed.start(0);
    let mut alice = fed.connect(0).await;
    let env = fed.seal(0, 3, Classification::RestreintUe, &vec![7; limit], false);
    alice.send(&env).await;
    match alice.next(WAIT).await {
        Some(LinkFrame::Refused { id, code, reason }) => {
            assert_eq!(id, env.header().message_id.0.to_vec());
            assert_eq!(code, liaison_proto::WireCode::TooLarge as u16, "{reason}");
        }
        other => panic!("expected a Refused, got {other:?}"),
    }
    let small = fed.seal(0, 3, Classification::RestreintUe, b"fits", false);
    send_accepted(&mut alice, &small).await;
    // Refused through the relay's own path: audited like an oversized `Envelope` frame.
    assert!(r1.terminate().success());
    let report = fed.audit_report(0);
    assert_eq!(report["by_kind"]["refused"], 1, "{report}");
}

/// Parts out of order, interleaved with another envelope or changing their total end only the
/// link that sent them, with an `Error`; the relay goes on serving. (A part running past its
/// total is malformed as a frame: `proto` unit tests, and `malformed_frame_closes_only_that_connection`
/// for how a malformed frame ends a link.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_envelope_parts_close_only_that_connection() {
    use liaison_proto::WireCode;
    use liaison_proto::frame::EnvelopePart;

    let fed = federation();
    let _r1 = fed.start(0);
    let _r2 = fed.start(1);
    let mut dave = fed.connect(3).await;
    let part = |total: u32, offset: u32, len: usize| {
        LinkFrame::EnvelopePart(EnvelopePart {
            total,
            offset,
            bytes: vec![1; len],
        })
    };
    let total = 3 * 1024 * 1024;
    let cases: Vec<(&str, Vec<LinkFrame>, WireCode)> = vec![
        (
            "first part not at 0",
            vec![part(total, 4096, 4096)],
            WireCode::UnexpectedMessage,
        ),
        (
            "part skips bytes",
            vec![part(total, 0, 4096), part(total, 8192, 4096)],
            WireCode::UnexpectedMessage,
        ),
        (
            "total changes",
            vec![part(total, 0, 4096), part(total + 1, 4096, 4096)],
            WireCode::UnexpectedMessage,
        ),
        (
            "envelope between parts",
            vec![part(total, 0, 4096), LinkFrame::Envelope(vec![1; 100])],
            WireCode::UnexpectedMessage,
        ),
        (
            "new envelope before the last part",
            vec![part(total, 0, 4096), part(total, 0, 4096)],
            WireCode::UnexpectedMessage,
        ),
    ];
    for (what, frames, expected) in cases {
        let mut mallory = fed.connect(0).await;
        for f in &frames {
            mallory.link.send(f).await.unwrap();
        }
        match mallory.next(WAIT).await {
            Some(LinkFrame::Error { code, reason }) => {
                assert_eq!(code, expected as u16, "{what}: {reason}");
            }
            other => panic!("{what}: expected an Error frame, got {other:?}"),
        }
        assert!(
            mallory.next(Duration::from_secs(2)).await.is_none(),
            "{what}: link closed"
        );
    }
    // The relay still takes envelopes from everyone else.
    let env = fed.seal(3, 1, Classification::Unclassified, b"still serving", false);
    dave.send(&env).await;
    assert_eq!(
        expect_ack(&mut dave, env.header().message_id.0).await,
        AckStatus::Accepted
    );
}
