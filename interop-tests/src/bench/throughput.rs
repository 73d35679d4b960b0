//! Scenario 1, durable throughput: sealed 1 KiB reports for one recipient, sent through one
//! relay that fsyncs before it acknowledges custody, by 1 to 64 concurrent senders (one
//! officer and one QUIC link each, one envelope in flight per sender: send, await the `Ack`).
//! The baseline in the same run publishes the very same envelope bytes to NATS JetStream (file
//! storage), one connection per sender, awaiting each publish ack.
//!
//! Envelopes are sealed before the clock starts (a pool per sender, on every core), so the
//! numbers are the relay's, not the generator's signing speed. The recipient is not connected:
//! envelopes stay in custody, as they would for an officer who is offline.

use std::time::{Duration, Instant};

use bytes::Bytes;
use liaison_proto::frame::LinkFrame;

use super::federation::{BenchFederation, Layout, expect_accepted, message_id, officer_endpoint};
use super::nats::{NatsServer, publish_run};
use super::{BenchError, BenchOptions, Measurement, Profiler};

/// Plaintext size of each report.
pub const REPORT_LEN: usize = 1024;
const ACK_WAIT: Duration = Duration::from_secs(60);

/// One sender's envelopes: the warm-up one, then the timed ones, with their ids.
type Pool = Vec<(Vec<u8>, [u8; 16])>;

/// Runs scenario 1 for every concurrency in `opts.concurrency`, Liaison then NATS, `runs`
/// times; returns msg/s for both and their ratio.
pub async fn run(opts: &BenchOptions) -> Result<Vec<Measurement>, BenchError> {
    let max = opts.concurrency.iter().copied().max().unwrap_or(1);
    let total: usize = if opts.quick { 64 } else { 3000 };
    let fed = BenchFederation::build(&Layout {
        relays: 1,
        recipients: vec![0],
        senders: vec![0; max],
        max_connections: max + 64,
        idle_timeout_secs: 30,
        max_envelope_bytes: None,
    })?;
    let report: Vec<u8> = (0..REPORT_LEN).map(|i| (i % 251) as u8).collect();
    let mut out = Vec::new();
    let mut env_len = 0;
    for &c in &opts.concurrency {
        let mut liaison =
            Measurement::new("1 throughput", format!("liaison, {c} senders"), "msg/s", "");
        let mut nats =
            Measurement::new("1 throughput", format!("nats-js, {c} senders"), "msg/s", "");
        let mut ratio = Measurement::new(
            "1 throughput",
            format!("ratio liaison/nats, {c} senders"),
            "x",
            "",
        );
        for _ in 0..opts.runs {
            let per_sender = total.div_ceil(c);
            let mut pools = Vec::new();
            for s in 0..c {
                let raw = fed.seal_pool(1 + s, 0, &report, per_sender + 1)?;
                let pool: Pool = raw
                    .into_iter()
                    .map(|r| message_id(&r).map(|id| (r, id)))
                    .collect::<Result<_, _>>()?;
                pools.push(pool);
            }
            env_len = pools[0][0].0.len();
            let l = liaison_run(&fed, opts, &pools).await?;
            liaison.push(l);
            // The same envelope bytes, warm-ups excluded (NATS warms its connections itself).
            let payloads: Vec<Bytes> = pools
                .iter()
                .flat_map(|p| p.iter().skip(1).map(|(r, _)| Bytes::from(r.clone())))
                .collect();
            let server = NatsServer::start(&opts.nats_bin)?;
            let n = publish_run(&server, c, &payloads).await?;
            drop(server);
            nats.push(n);
            ratio.push(l / n);
            eprintln!("  throughput c={c}: liaison {l:.0} msg/s, nats {n:.0} msg/s");
        }
        let note = format!("{total} envelopes of {env_len} B (1 KiB report sealed, LQ2) per run");
        liaison.note.clone_from(&note);
        nats.note = format!("same {env_len} B envelopes, JetStream file store");
        out.extend([liaison, nats, ratio]);
    }
    Ok(out)
}

/// One timed run against a fresh relay (new custody database): returns msg/s.
async fn liaison_run(
    fed: &BenchFederation,
    opts: &BenchOptions,
    pools: &[Pool],
) -> Result<f64, BenchError> {
    let storage = fed.path().join(&fed.relays[0].name).join("custody.redb");
    let _ = std::fs::remove_file(&storage); // absent on the first run
    let relay = fed.start(&opts.node_bin, 0)?;
    let mut links = Vec::new();
    for (s, pool) in pools.iter().enumerate() {
        let endpoint = officer_endpoint()?;
        let mut link = fed.connect(1 + s, &endpoint).await?;
        let (raw, id) = &pool[0];
        link.send(&LinkFrame::Envelope(raw.clone())).await?;
        expect_accepted(&mut link, id, ACK_WAIT).await?;
        links.push((link, endpoint));
    }
    let timed: usize = pools.iter().map(|p| p.len() - 1).sum();
    let profiler = Profiler::attach(Some(relay.pid()), &format!("perf-{}", pools.len()))?;
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for ((mut link, endpoint), pool) in links.into_iter().zip(pools.iter().cloned()) {
        tasks.spawn(async move {
            for (raw, id) in pool.into_iter().skip(1) {
                link.send(&LinkFrame::Envelope(raw)).await?;
                expect_accepted(&mut link, &id, ACK_WAIT).await?;
            }
            let done = Instant::now();
            link.close().await;
            drop(endpoint);
            Ok::<_, BenchError>(done)
        });
    }
    let mut last = start;
    let mut result = Ok(());
    while let Some(done) = tasks.join_next().await {
        match done.map_err(|e| BenchError::Unexpected(format!("sender task: {e}"))) {
            Ok(Ok(at)) => last = last.max(at),
            Ok(Err(e)) | Err(e) => result = result.and(Err(e)),
        }
    }
    if let Some(p) = profiler {
        p.stop()?;
    }
    result?;
    drop(relay);
    Ok(timed as f64 / (last - start).as_secs_f64())
}
