//! Operations tests with real `liaison-node run` processes on loopback: the Prometheus endpoint
//! after real traffic, `liaison-node status` against a running and a stopped node, revocation
//! at connect and after a SIGHUP reload, a real ETSI 014 KME simulator (mutual TLS) going down
//! under `required` and `preferred`, per-peer rate limits, and keepalive noticing a killed
//! neighbour. Every wait is bounded; relays are killed when dropped.

#[allow(dead_code)] // each test binary uses part of the shared set-up
mod support;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use liaison_crypto::rng::os_rng;
use liaison_node::link::{LinkError, LinkEvent};
use liaison_node::status::{self, Endpoint, StatusReport};
use liaison_proto::envelope::Envelope;
use liaison_proto::frame::{AckStatus, LinkFrame};
use liaison_proto::revocation::{RevocationContents, RevocationList};
use liaison_proto::{Classification, UnixTime, WireCode};
use support::{Federation, OfficerClient, unix_now};

const WAIT: Duration = Duration::from_secs(30);

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free TCP port")
}

/// Rewrites relay `i`'s configuration file.
fn edit_config(fed: &Federation, i: usize, edit: impl FnOnce(String) -> String) {
    let path = &fed.relays[i].config;
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, edit(text)).unwrap();
}

/// Adds top-level keys (they must precede every table, so they go first).
fn set_top_level(fed: &Federation, i: usize, lines: &str) {
    edit_config(fed, i, |text| format!("{lines}\n{text}"));
}

/// Adds keys to the `[limits]` table.
fn set_limits(fed: &Federation, i: usize, lines: &str) {
    edit_config(fed, i, |text| {
        assert!(text.contains("[limits]\n"));
        text.replace("[limits]\n", &format!("[limits]\n{lines}\n"))
    });
}

/// Gives relay `i` a metrics endpoint on a free loopback port.
fn with_metrics(fed: &Federation, i: usize) -> SocketAddr {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_tcp_port()).parse().unwrap();
    set_top_level(fed, i, &format!("metrics_listen = \"{addr}\""));
    addr
}

/// One scrape of `/metrics`, parsed: `name{labels}` → value.
struct Scrape {
    text: String,
    values: BTreeMap<String, f64>,
}

impl Scrape {
    fn get(&self, key: &str) -> f64 {
        self.values.get(key).copied().unwrap_or(0.0)
    }

    /// Sum over every label set of `name`.
    fn sum(&self, name: &str) -> f64 {
        self.values
            .iter()
            .filter(|(k, _)| *k == name || k.starts_with(&format!("{name}{{")))
            .map(|(_, v)| v)
            .sum()
    }
}

async fn scrape(addr: SocketAddr) -> Scrape {
    let text = tokio::task::spawn_blocking(move || {
        status::fetch(&Endpoint::Http(addr), "/metrics", Duration::from_secs(5))
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("scrape {addr}: {e}"));
    let mut values = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (key, value) = line.rsplit_once(' ').expect("`name value`");
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line}"));
        values.insert(key.to_owned(), value);
    }
    Scrape { text, values }
}

/// Scrapes until `key` satisfies `ok`, or fails after [`WAIT`].
async fn wait_metric(addr: SocketAddr, key: &str, ok: impl Fn(f64) -> bool) -> Scrape {
    let deadline = Instant::now() + WAIT;
    loop {
        let s = scrape(addr).await;
        if ok(s.get(key)) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "{key} stayed at {} on {addr}:\n{}",
            s.get(key),
            s.text
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Relay `i`'s status socket in its default place: its custody database's path + `.sock`.
fn socket_of(fed: &Federation, i: usize) -> PathBuf {
    let mut path = fed.relays[i].storage.clone().into_os_string();
    path.push(liaison_node::config::STATUS_SOCKET_SUFFIX);
    path.into()
}

/// Runs `liaison-node status --config <relay i> [--json]`: exit code, stdout, stderr.
async fn run_status(fed: &Federation, i: usize, json: bool) -> (i32, String, String) {
    let config = fed.relays[i].config.clone();
    tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_liaison-node"));
        cmd.args(["status", "--config"]).arg(&config);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

async fn expect_ack(client: &mut OfficerClient, env: &Envelope) -> AckStatus {
    match client.next(WAIT).await {
        Some(LinkFrame::Ack { message_id, status }) => {
            assert_eq!(message_id, env.header().message_id.0.to_vec());
            status
        }
        other => panic!("expected an Ack, got {other:?}"),
    }
}

/// Waits for one envelope, checks it opens to `plaintext`, acks it.
async fn receive_one(fed: &Federation, client: &mut OfficerClient, who: usize, plaintext: &[u8]) {
    match client.next(WAIT).await {
        Some(LinkFrame::Envelope(raw)) => {
            let (env, opened) = fed.open(who, &raw);
            assert_eq!(opened, plaintext);
            client.ack(&env).await;
        }
        other => panic!("expected an envelope, got {other:?}"),
    }
}

/// Writes a revocation list numbered `number`, signed by the test authority, revoking
/// `subjects` (officer indexes).
fn write_crl(fed: &Federation, number: u64, officers: &[usize]) {
    let now = unix_now();
    let crl = RevocationList::issue(
        &fed.authority,
        RevocationContents {
            number,
            this_update: UnixTime(now - 60),
            next_update: UnixTime(now + 86_400),
            revoked_serials: Vec::new(),
            revoked_subjects: officers
                .iter()
                .map(|i| fed.officers[*i].cert.subject())
                .collect(),
        },
        &mut os_rng(),
    )
    .unwrap();
    // Written to a temporary name and renamed, as an operator's deployment should.
    let path = fed.path().join("federation.crl");
    let tmp = fed.path().join("federation.crl.tmp");
    std::fs::write(&tmp, crl.raw()).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
}

/// The next link-level outcome for a client whose handshake the relay may have refused.
async fn refusal_code(client: &mut OfficerClient) -> Option<u16> {
    match tokio::time::timeout(WAIT, client.link.recv()).await {
        Ok(Err(LinkError::PeerRefused { code, .. })) => Some(code),
        Ok(Ok(LinkEvent::Frame(LinkFrame::Error { code, .. }))) => Some(code),
        Ok(other) => panic!("expected a refusal, got {other:?}"),
        Err(_) => None,
    }
}

/// Waits until relay `r`'s log holds `text` more than `before` times.
async fn wait_log(r: &support::RelayProcess, text: &str, before: usize) {
    let deadline = Instant::now() + WAIT;
    while r.log_text().matches(text).count() <= before {
        assert!(
            Instant::now() < deadline,
            "no {text:?} in:\n{}",
            r.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A 3 MiB envelope is written to each relay's store while its parts arrive (counted as
/// `spooled`) and arrives intact. A relay killed (SIGKILL) with half an envelope written
/// deletes those chunks when it starts again, and takes the whole envelope afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_envelopes_are_written_while_they_arrive_and_a_kill_mid_envelope_leaves_nothing() {
    let fed = Federation::build(&[(0, Classification::SecretUe), (1, Classification::SecretUe)]);
    let (m1, m2) = (with_metrics(&fed, 0), with_metrics(&fed, 1));
    let r1 = fed.start(0);
    let _r2 = fed.start(1);
    let payload: Vec<u8> = (0..3 * 1024 * 1024 + 5).map(|i| (i % 241) as u8).collect();
    let mut alice = fed.connect(0).await;
    let env = fed.seal(0, 1, Classification::RestreintUe, &payload, false);
    alice.send(&env).await;
    assert_eq!(expect_ack(&mut alice, &env).await, AckStatus::Accepted);
    let mut bob = fed.connect(1).await;
    receive_one(&fed, &mut bob, 1, &payload).await;
    for m in [m1, m2] {
        let spooled = "liaison_custody_events_total{event=\"spooled\"}";
        let s = wait_metric(m, spooled, |v| v >= 1.0).await;
        assert_eq!(s.get(spooled), 1.0);
    }

    // Half of the next envelope, then SIGKILL once its chunks are committed.
    let next = fed.seal(0, 1, Classification::RestreintUe, &payload, false);
    let written = r1
        .log_text()
        .matches("chunks of arriving envelopes written")
        .count();
    for part in liaison_proto::envelope_parts::parts(next.raw())
        .unwrap()
        .take(2)
    {
        alice
            .link
            .send(&LinkFrame::EnvelopePart(part))
            .await
            .unwrap();
    }
    wait_log(&r1, "chunks of arriving envelopes written", written).await;
    r1.kill();
    let r1 = fed.start(0);
    wait_log(&r1, "deleted the chunks of large envelopes", 0).await;
    assert!(r1.log_text().contains("spools=1"), "{}", r1.log_text());
    let mut alice = fed.connect(0).await;
    alice.send(&next).await;
    assert_eq!(expect_ack(&mut alice, &next).await, AckStatus::Accepted);
    receive_one(&fed, &mut bob, 1, &payload).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_endpoint_serves_real_values_after_a_delivery() {
    let fed = Federation::build(&[(0, Classification::SecretUe), (1, Classification::SecretUe)]);
    let m1 = with_metrics(&fed, 0);
    let m2 = with_metrics(&fed, 1);
    let _r1 = fed.start(0);
    let _r2 = fed.start(1);

    let before = scrape(m1).await;
    assert!(
        before
            .text
            .contains("# TYPE liaison_custody_latency_seconds histogram")
    );
    assert!(before.text.contains("# TYPE liaison_queue_depth gauge"));
    assert_eq!(before.get("liaison_custody_latency_seconds_count"), 0.0);
    assert_eq!(
        before.get("liaison_custody_events_total{event=\"accepted\"}"),
        0.0
    );
    wait_metric(m1, "liaison_links_up{role=\"relay\"}", |v| v >= 1.0).await;

    let mut alice = fed.connect(0).await;
    let env = fed.seal(
        0,
        1,
        Classification::RestreintUe,
        b"counted, never shown",
        false,
    );
    alice.send(&env).await;
    assert_eq!(expect_ack(&mut alice, &env).await, AckStatus::Accepted);
    let mut bob = fed.connect(1).await;
    receive_one(&fed, &mut bob, 1, b"counted, never shown").await;

    let s2 = wait_metric(
        m2,
        "liaison_custody_events_total{event=\"delivered\"}",
        |v| v >= 1.0,
    )
    .await;
    assert_eq!(
        s2.get("liaison_custody_events_total{event=\"accepted\"}"),
        1.0
    );
    assert_eq!(s2.get("liaison_links_up{role=\"officer\"}"), 1.0);
    let s1 = wait_metric(
        m1,
        "liaison_custody_events_total{event=\"forwarded\"}",
        |v| v >= 1.0,
    )
    .await;
    assert_eq!(
        s1.get("liaison_custody_events_total{event=\"accepted\"}"),
        1.0
    );
    assert_eq!(s1.get("liaison_custody_latency_seconds_count"), 1.0);
    assert_eq!(
        s1.get("liaison_custody_latency_seconds_bucket{le=\"+Inf\"}"),
        1.0
    );
    assert!(s1.get("liaison_custody_latency_seconds_sum") > 0.0);
    eprintln!(
        "custody latency (arrival to durable commit) of one envelope: {:.4} s",
        s1.get("liaison_custody_latency_seconds_sum")
    );
    assert!(s1.get("liaison_handshakes_total{role=\"officer\"}") >= 1.0);
    assert!(s1.get("liaison_handshakes_total{role=\"relay\"}") >= 1.0);
    assert_eq!(s1.get("liaison_queue_depth_total"), 0.0);
    assert!(s1.get("liaison_custody_commits_total") >= 2.0);
    let fingerprint = fed.relays[0].cert.subject().fingerprint();
    assert!(
        s1.text.contains(&format!("node=\"{fingerprint}\"")),
        "{}",
        s1.text
    );
    // Nothing about the message itself: neither its id nor its content.
    let id_hex = hex::encode(env.header().message_id.0);
    assert!(!s1.text.contains(&id_hex) && !s2.text.contains(&id_hex));
    assert!(!s1.text.contains("never shown") && !s2.text.contains("never shown"));

    // A refusal is counted by its wire code: alice may only send as herself.
    let forged = fed.seal(1, 0, Classification::RestreintUe, b"as bob", false);
    alice.send(&forged).await;
    let refused = format!(
        "liaison_refusals_total{{code=\"{:#06x}\",reason=\"peer_not_allowed\"}}",
        WireCode::PeerNotAllowed as u16
    );
    let s1 = wait_metric(m1, &refused, |v| v >= 1.0).await;
    assert_eq!(s1.sum("liaison_refusals_total"), 1.0, "{}", s1.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reports_a_running_node_and_says_clearly_when_it_is_not() {
    let fed = Federation::build(&[(0, Classification::SecretUe), (1, Classification::SecretUe)]);
    let m1 = with_metrics(&fed, 0);
    let r1 = fed.start(0);
    // Relay 2 is down: the envelope waits in relay 1's queue for it.
    let mut alice = fed.connect(0).await;
    let env = fed.seal(0, 1, Classification::RestreintUe, b"queued", false);
    alice.send(&env).await;
    assert_eq!(expect_ack(&mut alice, &env).await, AckStatus::Accepted);
    wait_metric(m1, "liaison_queue_depth_total", |v| v == 1.0).await;

    let (code, out, err) = run_status(&fed, 0, true).await;
    assert_eq!(code, 0, "{out}{err}");
    let report: StatusReport = serde_json::from_str(&out).unwrap();
    assert!(report.running);
    assert_eq!(report.node, fed.relays[0].cert.subject().fingerprint());
    assert_eq!(report.name, "relay-1");
    assert_eq!(report.listen, Some(fed.relays[0].addr.to_string()));
    let queue = report.queues.iter().find(|q| q.name == "relay-2").unwrap();
    assert_eq!((queue.depth, queue.kind.as_str()), (1, "relay"));
    assert_eq!(report.counters["stored"], 1);
    let links = report.links.as_ref().unwrap();
    assert!(
        links
            .iter()
            .any(|l| l.name == "officer-0" && l.role == "officer"),
        "{links:?}"
    );
    let (code, human, _) = run_status(&fed, 0, false).await;
    assert_eq!(code, 0);
    assert!(human.contains("running, up"), "{human}");
    assert!(
        human.contains("relay-2") && human.contains("officer-0"),
        "{human}"
    );

    // Another node's socket is not taken for this one's: relay 2 (not running) pointed at
    // relay 1's socket is reported as not running, and why.
    let config_2 = std::fs::read_to_string(&fed.relays[1].config).unwrap();
    let socket_1 = socket_of(&fed, 0);
    set_top_level(
        &fed,
        1,
        &format!("status_socket = \"{}\"", socket_1.display()),
    );
    let (code, out, err) = run_status(&fed, 1, false).await;
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.contains("answered as node relay-1"), "{out}");
    std::fs::write(&fed.relays[1].config, config_2).unwrap();

    // Stopped: a distinct exit code, a clear statement, and what the database still says. A
    // clean stop removes the socket.
    drop(alice);
    assert!(socket_1.exists());
    assert!(r1.terminate().success());
    assert!(
        !socket_1.exists(),
        "relay 1 stopped cleanly and left its socket"
    );
    let (code, out, err) = run_status(&fed, 0, true).await;
    assert_eq!(code, 3, "{out}{err}");
    let report: StatusReport = serde_json::from_str(&out).unwrap();
    assert!(!report.running && report.links.is_none());
    let queue = report.queues.iter().find(|q| q.name == "relay-2").unwrap();
    assert_eq!(queue.depth, 1);
    assert_eq!(report.counters["stored"], 1);
    let (code, human, _) = run_status(&fed, 0, false).await;
    assert_eq!(code, 3);
    assert!(human.starts_with("NOT RUNNING"), "{human}");

    // Without a metrics port the status socket beside the database answers: the same report.
    let r2 = fed.start(1);
    let socket = socket_of(&fed, 1);
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&socket).unwrap().permissions());
    assert_eq!(
        mode & 0o777,
        0o600,
        "the socket is for the node's user only"
    );
    let (code, out, err) = run_status(&fed, 1, true).await;
    assert_eq!(code, 0, "{out}{err}");
    let report: StatusReport = serde_json::from_str(&out).unwrap();
    assert!(report.running && report.name == "relay-2", "{out}");
    let metrics = tokio::task::spawn_blocking({
        let socket = socket.clone();
        move || {
            status::fetch(
                &Endpoint::Socket(socket),
                "/metrics",
                Duration::from_secs(5),
            )
        }
    })
    .await
    .unwrap()
    .unwrap();
    assert!(metrics.contains("liaison_queue_depth_total"), "{metrics}");

    // Killed: the socket stays behind, answers nothing, and status says not running (exit 3),
    // and whatever the file allows is said plainly.
    r2.kill();
    assert!(socket.exists());
    let (code, out, err) = run_status(&fed, 1, false).await;
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.starts_with("NOT RUNNING"), "{out}");
    // redb refuses a read-only open of an uncleanly closed file (the node repairs it on start);
    // status must say that rather than show empty queues.
    if out.contains("not readable") {
        assert!(
            out.contains("queues       unknown: ") && out.contains("not closed cleanly"),
            "{out}"
        );
    } else {
        assert!(out.contains("queues       "), "{out}{err}");
    }

    // Started again, the node replaces the stale socket. With the socket gone from under it,
    // the locked database gives the running node away (exit 4).
    let r2 = fed.start(1);
    let (code, out, err) = run_status(&fed, 1, false).await;
    assert_eq!(code, 0, "{out}{err}");
    std::fs::remove_file(&socket).unwrap();
    let (code, _, err) = run_status(&fed, 1, false).await;
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("RUNNING") && err.contains("no status answer"),
        "{err}"
    );
    assert!(r2.terminate().success());
}

#[test]
fn a_configured_status_socket_that_cannot_be_served_stops_the_node_with_the_reason() {
    let fed = Federation::build(&[(0, Classification::SecretUe)]);
    let blocker = fed.relays[0].config.with_file_name("in-the-way");
    std::fs::write(&blocker, b"not a socket").unwrap();
    set_top_level(&fed, 0, "status_socket = \"in-the-way\"");
    let mut node = std::process::Command::new(env!("CARGO_BIN_EXE_liaison-node"))
        .args(["run", "--config"])
        .arg(&fed.relays[0].config)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while node.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            node.kill().unwrap();
            panic!("the node ran with its status socket blocked");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = node.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("in-the-way") && err.contains("not a socket"),
        "{err}"
    );
    assert_eq!(std::fs::read(&blocker).unwrap(), b"not a socket");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_officer_is_refused_at_connect_and_after_a_sighup_reload() {
    // Officers 0 and 1 at relay 1; the first list revokes officer 1.
    let fed = Federation::build(&[(0, Classification::SecretUe), (0, Classification::SecretUe)]);
    write_crl(&fed, 1, &[1]);
    let m1 = with_metrics(&fed, 0);
    // SIGHUP alone triggers the reload here (no periodic check).
    set_top_level(
        &fed,
        0,
        "revocation_list = \"../federation.crl\"\nreload_check_secs = 0",
    );
    let r1 = fed.start(0);

    let mut mallory = fed.connect(1).await;
    assert_eq!(
        refusal_code(&mut mallory).await,
        Some(WireCode::CertificateRevoked as u16)
    );
    let s = wait_metric(
        m1,
        "liaison_handshake_failures_total{reason=\"certificate_revoked\"}",
        |v| v == 1.0,
    )
    .await;
    assert_eq!(s.get("liaison_links_up{role=\"officer\"}"), 0.0);

    // Officer 0 is fine until the authority revokes it too; the node picks the new list up on
    // SIGHUP, closes its live link and refuses it from then on.
    let mut alice = fed.connect(0).await;
    wait_metric(m1, "liaison_links_up{role=\"officer\"}", |v| v == 1.0).await;
    write_crl(&fed, 2, &[0, 1]);
    r1.signal("HUP");
    match alice.next(WAIT).await {
        Some(LinkFrame::Error { code, reason }) => {
            assert_eq!(code, WireCode::CertificateRevoked as u16, "{reason}");
        }
        other => panic!("expected the link to be closed as revoked, got {other:?}"),
    }
    let s = wait_metric(m1, "liaison_revocation_reloads_total{result=\"ok\"}", |v| {
        v == 1.0
    })
    .await;
    assert_eq!(s.get("liaison_links_revoked_total"), 1.0);
    let issuer = liaison_crypto::IdentityId::of(fed.authority.verifying_key()).fingerprint();
    assert_eq!(
        s.get(&format!(
            "liaison_revocation_list_number{{issuer=\"{issuer}\"}}"
        )),
        2.0,
        "{}",
        s.text
    );
    let due = s.get(&format!(
        "liaison_revocation_list_next_update_seconds{{issuer=\"{issuer}\"}}"
    ));
    assert!(due > unix_now() as f64, "{}", s.text);
    let mut again = fed.connect(0).await;
    assert_eq!(
        refusal_code(&mut again).await,
        Some(WireCode::CertificateRevoked as u16)
    );

    // A rolled-back list (number 1 again) is refused on reload; the newer one stays.
    write_crl(&fed, 1, &[1]);
    r1.signal("HUP");
    wait_metric(
        m1,
        "liaison_revocation_reloads_total{result=\"failed\"}",
        |v| v == 1.0,
    )
    .await;
    let mut still = fed.connect(0).await;
    assert_eq!(
        refusal_code(&mut still).await,
        Some(WireCode::CertificateRevoked as u16)
    );
    assert!(r1.terminate().success());
    let report = fed.audit_report(0);
    // In the signed audit log: the three refused connection attempts and the live link the
    // reload closed.
    assert_eq!(report["by_kind"]["refused"], 4, "{report}");
}

/// Handshakes refused for a reason other than revocation come from peers not yet
/// authenticated: each is refused and counted, but the signed audit log gets one entry per
/// reason per minute (with the count), so a flood of them cannot flood the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_handshakes_of_strangers_are_counted_and_audited_once_per_reason_and_minute() {
    let fed = Federation::build(&[(0, Classification::SecretUe)]);
    let m1 = with_metrics(&fed, 0);
    let r1 = fed.start(0);
    let stranger = fed.stranger(0);
    for _ in 0..3 {
        let code = match fed.try_connect_as(&stranger, 0).await {
            Err(LinkError::PeerRefused { code, .. }) => Some(code),
            Err(other) => panic!("expected a refusal, got {other}"),
            Ok(mut client) => refusal_code(&mut client).await,
        };
        assert_eq!(code, Some(WireCode::UnknownIssuer as u16));
    }
    wait_metric(
        m1,
        "liaison_handshake_failures_total{reason=\"unknown_issuer\"}",
        |v| v == 3.0,
    )
    .await;
    assert!(r1.log_text().contains("link handshake refused"));
    assert!(r1.terminate().success());
    let report = fed.audit_report(0);
    assert_eq!(report["by_kind"]["refused"], 1, "{report}");
}

/// A federation whose relay link draws keys from a real ETSI 014 KME simulator (mutual TLS),
/// in this process; the relays are separate processes.
struct KmeFederation {
    fed: Federation,
    sim: liaison_qkd::sim::SimServer,
    metrics: [SocketAddr; 2],
}

async fn kme_federation(policy: &str) -> KmeFederation {
    let fed = Federation::build(&[(0, Classification::SecretUe), (1, Classification::SecretUe)]);
    let pki_dir = fed.path().join("kme-pki");
    let saes = ["relay-1".to_owned(), "relay-2".to_owned()];
    liaison_qkd::pki::generate(&pki_dir, &saes).unwrap();
    let sim = liaison_qkd::sim::SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        &liaison_qkd::TlsFiles {
            cert: pki_dir.join("kme.pem"),
            key: pki_dir.join("kme-key.pem"),
            ca: pki_dir.join("ca.pem"),
        },
        liaison_qkd::sim::SimConfig::default(),
        liaison_qkd::sim::OutageConfig::default(),
    )
    .await
    .unwrap();
    let metrics = [with_metrics(&fed, 0), with_metrics(&fed, 1)];
    for i in 0..2 {
        let (me, other) = (&saes[i], &saes[1 - i]);
        set_top_level(&fed, i, &format!("sae_id = \"{me}\""));
        let supply = supply_section(&pki_dir, &sim.url(), me);
        edit_config(&fed, i, |text| {
            // The route's own `qkd` line (not `officer_qkd`).
            let route = format!("\nqkd = \"{policy}\"\nsae_id = \"{other}\"");
            format!("{}\n{supply}", text.replace("\nqkd = \"off\"", &route))
        });
    }
    KmeFederation { fed, sim, metrics }
}

fn supply_section(pki: &Path, url: &str, sae: &str) -> String {
    format!(
        "[key_supply]\nkind = \"etsi014\"\nkme = \"{url}\"\ncert = \"{}\"\nkey = \"{}\"\n\
         ca = \"{}\"\ntimeout_secs = 2\n",
        pki.join(format!("{sae}.pem")).display(),
        pki.join(format!("{sae}-key.pem")).display(),
        pki.join("ca.pem").display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kme_outage_under_required_keeps_the_link_closed_until_the_kme_returns() {
    let k = kme_federation("required").await;
    k.sim.set_outage(true);
    let _r1 = k.fed.start(0);
    let _r2 = k.fed.start(1);
    let mut alice = k.fed.connect(0).await;
    let env = k
        .fed
        .seal(0, 1, Classification::RestreintUe, b"needs QKD", false);
    alice.send(&env).await;
    assert_eq!(expect_ack(&mut alice, &env).await, AckStatus::Accepted);
    let mut bob = k.fed.connect(1).await;

    // Fails closed: counted, no relay link, nothing forwarded, the envelope waits. (Both
    // relays dial; each master's failure is counted where it happened.)
    let deadline = Instant::now() + WAIT;
    let s = loop {
        let (s, s2) = (scrape(k.metrics[0]).await, scrape(k.metrics[1]).await);
        let key = "liaison_key_supply_required_failures_total";
        let refused = "liaison_handshake_failures_total{reason=\"supplied_key_required\"}";
        if s.get(key) + s2.get(key) >= 2.0 && s.get(refused) + s2.get(refused) >= 2.0 {
            break s;
        }
        assert!(Instant::now() < deadline, "{}\n{}", s.text, s2.text);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(s.get("liaison_links_up{role=\"relay\"}"), 0.0);
    assert_eq!(
        s.get("liaison_custody_events_total{event=\"forwarded\"}"),
        0.0
    );
    assert_eq!(s.get("liaison_queue_depth_total"), 1.0);
    assert_eq!(s.get("liaison_key_supply_fallbacks_total"), 0.0);
    assert!(
        bob.next(Duration::from_secs(2)).await.is_none(),
        "nothing may arrive without the required key"
    );

    // The KME is back: the link comes up with a supplied key and the envelope goes through.
    k.sim.set_outage(false);
    receive_one(&k.fed, &mut bob, 1, b"needs QKD").await;
    let s = scrape(k.metrics[0]).await;
    assert!(s.get("liaison_key_supply_keys_obtained_total") >= 1.0);
    let (code, out, _) = run_status(&k.fed, 0, true).await;
    assert_eq!(code, 0);
    let report: StatusReport = serde_json::from_str(&out).unwrap();
    let links = report.links.unwrap();
    assert!(
        links.iter().any(|l| l.role == "relay" && l.supplied_key),
        "{links:?}"
    );
    assert!(links.iter().all(|l| l.role != "relay" || l.supplied_key));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kme_outage_under_preferred_links_hybrid_only_counts_the_fallback_and_delivers() {
    let k = kme_federation("preferred").await;
    k.sim.set_outage(true);
    let _r1 = k.fed.start(0);
    let _r2 = k.fed.start(1);
    let mut alice = k.fed.connect(0).await;
    let env = k.fed.seal(
        0,
        1,
        Classification::RestreintUe,
        b"hybrid is enough",
        false,
    );
    alice.send(&env).await;
    assert_eq!(expect_ack(&mut alice, &env).await, AckStatus::Accepted);
    let mut bob = k.fed.connect(1).await;
    receive_one(&k.fed, &mut bob, 1, b"hybrid is enough").await;

    // Whichever relay dialled drew (or failed to draw) the key as master.
    let (s, s2) = (scrape(k.metrics[0]).await, scrape(k.metrics[1]).await);
    let both = |key: &str| s.get(key) + s2.get(key);
    assert!(
        both("liaison_key_supply_fallbacks_total") >= 1.0,
        "{}\n{}",
        s.text,
        s2.text
    );
    assert_eq!(both("liaison_key_supply_required_failures_total"), 0.0);
    assert_eq!(both("liaison_key_supply_keys_obtained_total"), 0.0);
    assert!(s.get("liaison_links_up{role=\"relay\"}") >= 1.0);
    let (_, out, _) = run_status(&k.fed, 0, true).await;
    let report: StatusReport = serde_json::from_str(&out).unwrap();
    assert!(
        report
            .links
            .unwrap()
            .iter()
            .any(|l| l.role == "relay" && !l.supplied_key)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_refuses_the_excess_and_keeps_the_link_up() {
    let fed = Federation::build(&[(0, Classification::SecretUe), (1, Classification::SecretUe)]);
    let m1 = with_metrics(&fed, 0);
    // Two at once, then one every four seconds.
    edit_config(&fed, 0, |text| {
        format!(
            "{text}\n[limits.officers]\nenvelopes_per_sec = 0.25\nenvelope_burst = 2\n\
             bytes_per_sec = 1000000\nbyte_burst = 1073741824\n"
        )
    });
    let r1 = fed.start(0);
    let mut alice = fed.connect(0).await;
    let envs: Vec<Envelope> = (0..3u8)
        .map(|n| fed.seal(0, 1, Classification::RestreintUe, &[n; 32], false))
        .collect();
    for env in &envs {
        alice.send(env).await;
    }
    let mut answers = BTreeMap::new();
    while answers.len() < 3 {
        match alice.next(WAIT).await {
            Some(LinkFrame::Ack { message_id, status }) => {
                assert_eq!(status, AckStatus::Accepted);
                answers.insert(message_id, None);
            }
            Some(LinkFrame::Refused { id, code, reason }) => {
                answers.insert(id, Some((code, reason)));
            }
            other => panic!("expected Ack or Refused, got {other:?}"),
        }
    }
    let third = envs[2].header().message_id.0.to_vec();
    let (code, reason) = answers[&third]
        .clone()
        .expect("the third is over the limit");
    assert_eq!(code, WireCode::RateLimited as u16);
    assert!(reason.contains("rate limit"), "{reason}");
    assert_eq!(answers.values().filter(|a| a.is_none()).count(), 2);

    // The link is still up, and once a token is back the refused envelope goes through.
    alice
        .link
        .send(&LinkFrame::Ping(*b"still up"))
        .await
        .unwrap();
    loop {
        match alice.next(WAIT).await {
            Some(LinkFrame::Pong(p)) => {
                assert_eq!(&p, b"still up");
                break;
            }
            Some(LinkFrame::Ping(_)) => {}
            other => panic!("expected the Pong, got {other:?}"),
        }
    }
    let s = scrape(m1).await;
    assert_eq!(s.get("liaison_rate_limited_total{role=\"officer\"}"), 1.0);
    assert_eq!(s.get("liaison_links_up{role=\"officer\"}"), 1.0);
    assert_eq!(
        s.get(&format!(
            "liaison_refusals_total{{code=\"{:#06x}\",reason=\"rate_limited\"}}",
            WireCode::RateLimited as u16
        )),
        1.0
    );
    tokio::time::sleep(Duration::from_millis(4500)).await;
    alice.send(&envs[2]).await;
    assert_eq!(expect_ack(&mut alice, &envs[2]).await, AckStatus::Accepted);
    drop(alice);
    assert!(r1.terminate().success());
    let report = fed.audit_report(0);
    assert_eq!(report["by_kind"]["refused"], 1, "{report}");
    assert_eq!(report["by_kind"]["accepted"], 3, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepalive_notices_a_killed_neighbour_long_before_the_idle_timeout() {
    let fed = Federation::build(&[(0, Classification::SecretUe), (1, Classification::SecretUe)]);
    let m1 = with_metrics(&fed, 0);
    for i in 0..2 {
        // QUIC alone would take a minute; the link keepalive must notice in seconds.
        edit_config(&fed, i, |text| {
            text.replace("idle_timeout_secs = 4", "idle_timeout_secs = 60")
        });
        set_limits(&fed, i, "ping_interval_secs = 1\npeer_timeout_secs = 5");
    }
    let r1 = fed.start(0);
    let r2 = fed.start(1);
    wait_metric(m1, "liaison_links_up{role=\"relay\"}", |v| v >= 1.0).await;
    // Pings flow both ways and keep a quiet link up well past the peer timeout.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let s = scrape(m1).await;
    assert_eq!(
        s.get("liaison_link_timeouts_total"),
        0.0,
        "{}",
        r1.log_text()
    );
    assert!(s.get("liaison_links_up{role=\"relay\"}") >= 1.0);

    r2.kill();
    let killed = Instant::now();
    let s = wait_metric(m1, "liaison_link_timeouts_total", |v| v >= 1.0).await;
    let noticed = killed.elapsed();
    eprintln!(
        "killed neighbour noticed after {noticed:?} (ping 1 s, peer timeout 5 s, QUIC idle 60 s)"
    );
    assert!(
        noticed < Duration::from_secs(30),
        "noticed after {noticed:?}, not before the 60 s QUIC idle timeout"
    );
    wait_metric(m1, "liaison_links_up{role=\"relay\"}", |v| v == 0.0).await;
    assert!(s.get("liaison_handshakes_total{role=\"relay\"}") >= 1.0);
    assert!(r1.log_text().contains("presumed dead"), "{}", r1.log_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_relay_link_slows_forwarding_but_loses_nothing() {
    let fed = Federation::build(&[(0, Classification::SecretUe), (1, Classification::SecretUe)]);
    let m2 = with_metrics(&fed, 1);
    // Relay 2 takes one envelope at a time from its neighbour, one per second.
    edit_config(&fed, 1, |text| {
        format!(
            "{text}\n[limits.relays]\nenvelopes_per_sec = 1.0\nenvelope_burst = 1\n\
             bytes_per_sec = 100000000\nbyte_burst = 1073741824\n"
        )
    });
    let _r1 = fed.start(0);
    let _r2 = fed.start(1);
    let mut alice = fed.connect(0).await;
    let plaintexts: Vec<Vec<u8>> = (0..4u8).map(|n| vec![b'a' + n; 16]).collect();
    for p in &plaintexts {
        let env = fed.seal(0, 1, Classification::RestreintUe, p, false);
        alice.send(&env).await;
        assert_eq!(expect_ack(&mut alice, &env).await, AckStatus::Accepted);
    }
    let mut bob = fed.connect(1).await;
    let mut got = Vec::new();
    while got.len() < plaintexts.len() {
        match bob.next(WAIT).await {
            Some(LinkFrame::Envelope(raw)) => {
                let (env, opened) = fed.open(1, &raw);
                bob.ack(&env).await;
                assert!(!got.contains(&opened), "delivered twice");
                got.push(opened);
            }
            other => panic!("expected an envelope, got {other:?}"),
        }
    }
    got.sort();
    assert_eq!(got, plaintexts);
    // Relay 2 may pass an envelope on before its own commit (cut-through), so its counter of
    // accepted envelopes can trail the deliveries by one commit.
    let s = wait_metric(
        m2,
        "liaison_custody_events_total{event=\"accepted\"}",
        |v| v == 4.0,
    )
    .await;
    assert!(
        s.get("liaison_rate_limited_total{role=\"relay\"}") >= 1.0,
        "{}",
        s.text
    );
    assert!(s.get("liaison_links_up{role=\"relay\"}") >= 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn periodic_check_picks_up_a_new_member_without_a_signal_or_restart() {
    // Officer 1's certificate is not in relay 1's directory yet.
    let fed = Federation::build(&[(0, Classification::SecretUe), (0, Classification::SecretUe)]);
    let members = fed.path().join("members");
    let held_back = fed.path().join("officer-1.cert.later");
    std::fs::rename(members.join("officer-1.cert"), &held_back).unwrap();
    let m1 = with_metrics(&fed, 0);
    set_top_level(&fed, 0, "reload_check_secs = 1");
    let _r1 = fed.start(0);
    let mut alice = fed.connect(0).await;

    let early = fed.seal(0, 1, Classification::RestreintUe, b"too early", false);
    alice.send(&early).await;
    match alice.next(WAIT).await {
        Some(LinkFrame::Refused { id, reason, .. }) => {
            assert_eq!(id, early.header().message_id.0.to_vec(), "{reason}");
        }
        other => panic!("expected a refusal for an unknown recipient, got {other:?}"),
    }

    // The authority's new certificate lands in members/: picked up within the check interval.
    std::fs::rename(&held_back, members.join("officer-1.cert")).unwrap();
    let s = wait_metric(m1, "liaison_revocation_reloads_total{result=\"ok\"}", |v| {
        v >= 1.0
    })
    .await;
    assert_eq!(
        s.get("liaison_revocation_reloads_total{result=\"failed\"}"),
        0.0
    );
    let later = fed.seal(0, 1, Classification::RestreintUe, b"now known", false);
    alice.send(&later).await;
    assert_eq!(expect_ack(&mut alice, &later).await, AckStatus::Accepted);
    let mut bob = fed.connect(1).await;
    receive_one(&fed, &mut bob, 1, b"now known").await;
}
