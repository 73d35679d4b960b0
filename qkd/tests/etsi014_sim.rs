//! The ETSI 014 client against the in-process KME simulator over real HTTPS with mutual TLS:
//! the master/slave flow, refusals, exhaustion, outages under each policy, the budget poller,
//! and that no key byte ever reaches a log line.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine as _;
use liaison_qkd::sim::SimConfig;
use liaison_qkd::{
    BudgetPoller, Error, Etsi014Client, KeyId, KeyRequest, KeySupply, KeySupplyMetrics, QkdPolicy,
    SaeId, SupplyOutcome, obtain_master_key, obtain_slave_key,
};

use common::{Pki, capture_logs, client, start_sim};

fn alice() -> SaeId {
    SaeId::new("alice")
}

fn bob() -> SaeId {
    SaeId::new("bob")
}

fn ids(keys: &[(KeyId, liaison_qkd::SuppliedKey)]) -> Vec<KeyId> {
    keys.iter().map(|(id, _)| id.clone()).collect()
}

#[tokio::test]
async fn slave_receives_the_same_keys_as_master_split_over_requests() {
    let pki = Pki::new();
    let config = SimConfig {
        max_key_per_request: 2,
        ..SimConfig::default()
    };
    let sim = start_sim(&pki, config).await;
    let master = client(&pki, &sim, "alice");
    let slave = client(&pki, &sim, "bob");

    let sent = master
        .enc_keys(
            &bob(),
            KeyRequest {
                number: 5,
                size_bits: 512,
            },
        )
        .await
        .expect("enc_keys");
    assert_eq!(sent.len(), 5);
    assert!(sent.iter().all(|(_, k)| k.len_bits() == 512));
    let received = slave
        .dec_keys(&alice(), &ids(&sent))
        .await
        .expect("dec_keys");
    for ((sent_id, sent_key), (got_id, got_key)) in sent.iter().zip(&received) {
        assert_eq!(sent_id, got_id);
        assert!(sent_key == got_key);
    }
    assert_eq!(sim.pending_keys(), 0, "delivered keys are erased");

    let again = slave.dec_keys(&alice(), &ids(&sent)[..1]).await;
    assert!(
        matches!(again, Err(Error::UnknownKeyId { ref message, .. }) if message.contains("already delivered")),
        "{again:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn another_sae_cannot_fetch_a_pairs_keys() {
    let pki = Pki::new();
    let sim = start_sim(&pki, SimConfig::default()).await;
    let sent = client(&pki, &sim, "alice")
        .enc_keys(&bob(), KeyRequest::one(256))
        .await
        .expect("enc_keys");
    let carol = client(&pki, &sim, "carol");
    let stolen = carol.dec_keys(&alice(), &ids(&sent)).await;
    assert!(
        matches!(stolen, Err(Error::Unauthorized { .. })),
        "{stolen:?}"
    );
    // The refused attempt consumed nothing: bob still gets the key.
    let bob_keys = client(&pki, &sim, "bob")
        .dec_keys(&alice(), &ids(&sent))
        .await;
    assert!(bob_keys.is_ok());
    sim.shutdown().await;
}

#[tokio::test]
async fn impossible_sizes_are_refused_before_asking() {
    let pki = Pki::new();
    let sim = start_sim(&pki, SimConfig::default()).await;
    let master = client(&pki, &sim, "alice");
    for size_bits in [12, 32, 4096] {
        let refused = master
            .enc_keys(
                &bob(),
                KeyRequest {
                    number: 1,
                    size_bits,
                },
            )
            .await;
        assert!(
            matches!(refused, Err(Error::Unsatisfiable { .. })),
            "{size_bits}: {refused:?}"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn an_exhausted_store_is_reported_and_preferred_falls_back() {
    let pki = Pki::new();
    let config = SimConfig {
        max_key_count: 2,
        key_rate: Some(0.0),
        ..SimConfig::default()
    };
    let sim = start_sim(&pki, config).await;
    let master = client(&pki, &sim, "alice");
    master
        .enc_keys(
            &bob(),
            KeyRequest {
                number: 2,
                size_bits: 256,
            },
        )
        .await
        .expect("the store holds two keys");
    let dry = master.enc_keys(&bob(), KeyRequest::one(256)).await;
    assert!(
        matches!(
            dry,
            Err(Error::Exhausted {
                available: 0,
                requested: 1,
                ..
            })
        ),
        "{dry:?}"
    );

    let metrics = KeySupplyMetrics::default();
    let outcome = obtain_master_key(QkdPolicy::Preferred, &master, &bob(), 256, &metrics).await;
    assert!(matches!(outcome, Ok(SupplyOutcome::NoSuppliedKey { .. })));
    assert_eq!(metrics.fallbacks.load(Ordering::Relaxed), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn outage_fails_closed_under_required_and_falls_back_under_preferred() {
    let pki = Pki::new();
    let sim = start_sim(&pki, SimConfig::default()).await;
    let master: Arc<dyn KeySupply> = Arc::new(client(&pki, &sim, "alice"));
    let metrics = KeySupplyMetrics::default();

    let before =
        obtain_master_key(QkdPolicy::Required, master.as_ref(), &bob(), 256, &metrics).await;
    assert!(matches!(before, Ok(SupplyOutcome::Supplied { .. })));

    sim.set_outage(true);
    let required =
        obtain_master_key(QkdPolicy::Required, master.as_ref(), &bob(), 256, &metrics).await;
    let error = required.expect_err("required must fail closed");
    let text = error.to_string();
    assert!(text.contains("required for peer bob"), "{text}");
    let Error::KeyRequired { source, .. } = &error else {
        panic!("expected KeyRequired, got {error:?}");
    };
    assert!(source.is_unavailable(), "{source:?}");
    assert_eq!(metrics.required_failures.load(Ordering::Relaxed), 1);

    let (captured, guard) = capture_logs();
    let preferred =
        obtain_master_key(QkdPolicy::Preferred, master.as_ref(), &bob(), 256, &metrics).await;
    drop(guard);
    assert!(
        captured.text().contains("continuing hybrid-only"),
        "the fallback is logged"
    );
    assert!(matches!(preferred, Ok(SupplyOutcome::NoSuppliedKey { .. })));
    assert_eq!(metrics.fallbacks.load(Ordering::Relaxed), 1);

    let off = obtain_master_key(QkdPolicy::Off, master.as_ref(), &bob(), 256, &metrics).await;
    assert!(matches!(off, Ok(SupplyOutcome::NotAsked)));

    sim.set_outage(false);
    let after =
        obtain_master_key(QkdPolicy::Required, master.as_ref(), &bob(), 256, &metrics).await;
    assert!(matches!(after, Ok(SupplyOutcome::Supplied { .. })));
    assert_eq!(metrics.keys_obtained.load(Ordering::Relaxed), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn policy_helpers_deliver_the_same_key_to_both_sides() {
    let pki = Pki::new();
    let sim = start_sim(&pki, SimConfig::default()).await;
    let (master, slave) = (client(&pki, &sim, "alice"), client(&pki, &sim, "bob"));
    let metrics = KeySupplyMetrics::default();
    let Ok(SupplyOutcome::Supplied { key_id, key }) =
        obtain_master_key(QkdPolicy::Required, &master, &bob(), 256, &metrics).await
    else {
        panic!("master got no key");
    };
    let Ok(SupplyOutcome::Supplied { key: slave_key, .. }) = obtain_slave_key(
        QkdPolicy::Required,
        &slave,
        &alice(),
        Some(&key_id),
        &metrics,
    )
    .await
    else {
        panic!("slave got no key");
    };
    assert!(key == slave_key);
    let no_id = obtain_slave_key(QkdPolicy::Required, &slave, &alice(), None, &metrics).await;
    assert!(matches!(no_id, Err(Error::KeyRequired { .. })));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_kme_with_an_untrusted_certificate_is_unreachable_with_a_reason() {
    let pki = Pki::new();
    let other = Pki::new();
    let sim = start_sim(&pki, SimConfig::default()).await;
    let mut files = pki.files("alice");
    files.ca = other.ca();
    let client = Etsi014Client::new(&sim.url(), &files, Duration::from_secs(5)).expect("client");
    let refused = client.status(&bob()).await;
    let Err(Error::Unreachable { reason, .. }) = refused else {
        panic!("expected Unreachable, got {refused:?}");
    };
    assert!(reason.to_lowercase().contains("certificate"), "{reason}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_silent_kme_times_out() {
    let pki = Pki::new();
    // Accepts TCP connections (the kernel completes them) but never says anything.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("https://{}", silent.local_addr().expect("addr"));
    let client =
        Etsi014Client::new(&url, &pki.files("alice"), Duration::from_millis(300)).expect("client");
    let started = std::time::Instant::now();
    let result = client.status(&bob()).await;
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(silent);
}

#[tokio::test]
async fn budget_poller_tracks_the_store_and_counts_low_budget() {
    let pki = Pki::new();
    let config = SimConfig {
        max_key_count: 5,
        key_rate: Some(0.0),
        ..SimConfig::default()
    };
    let sim = start_sim(&pki, config).await;
    let master: Arc<dyn KeySupply> = Arc::new(client(&pki, &sim, "alice"));
    let mut poller = BudgetPoller::new(master.clone(), bob(), Duration::from_millis(50), 3);
    let metrics = poller.metrics();
    let first = poller.poll_once().await.expect("poll");
    assert_eq!(first.stored_key_count, 5);
    assert_eq!(first.rekeys_available(1, 256), 5);
    master
        .enc_keys(
            &bob(),
            KeyRequest {
                number: 3,
                size_bits: 256,
            },
        )
        .await
        .expect("enc_keys");
    let second = poller.poll_once().await.expect("poll");
    assert_eq!(second.stored_key_count, 2);
    assert_eq!(metrics.low_budget.load(Ordering::Relaxed), 1);

    let cancel = tokio_util::sync::CancellationToken::new();
    let (mut budget, task) = poller.spawn(cancel.clone());
    assert!(liaison_qkd::wait_for_budget(&mut budget, 2, Duration::from_secs(5)).await);
    assert!(!liaison_qkd::wait_for_budget(&mut budget, 3, Duration::from_millis(200)).await);
    cancel.cancel();
    task.await.expect("poller task");
    sim.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn no_key_byte_is_ever_logged() {
    let (captured, _guard) = capture_logs();

    let pki = Pki::new();
    let sim = start_sim(&pki, SimConfig::default()).await;
    let (master, slave) = (client(&pki, &sim, "alice"), client(&pki, &sim, "bob"));
    let sent = master
        .enc_keys(
            &bob(),
            KeyRequest {
                number: 3,
                size_bits: 256,
            },
        )
        .await
        .expect("enc_keys");
    let received = slave
        .dec_keys(&alice(), &ids(&sent))
        .await
        .expect("dec_keys");
    let replay = slave.dec_keys(&alice(), &ids(&sent)).await;
    assert!(replay.is_err());
    let replay_text = format!("{replay:?}");
    sim.shutdown().await;

    let logs = captured.text();
    assert!(logs.contains("enc_keys"), "the capture works: {logs}");
    // Our client and simulator agree on the hybrid post-quantum group.
    assert!(
        logs.contains("X25519MLKEM768"),
        "hybrid group not negotiated"
    );
    for (_, key) in sent.iter().chain(&received) {
        let b64 = base64::engine::general_purpose::STANDARD.encode(key.expose_secret());
        let hex: String = key
            .expose_secret()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        for secret in [&b64, &hex, &hex.to_uppercase()] {
            assert!(
                !logs.contains(secret.as_str()),
                "a key leaked into the logs"
            );
            assert!(
                !replay_text.contains(secret.as_str()),
                "a key leaked into an error"
            );
        }
    }
}
