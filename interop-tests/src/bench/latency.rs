//! Scenario 2, end-to-end latency: one sender offers sealed 1 KiB reports at a fixed rate to
//! its relay, which takes custody (fsync), forwards them to a second relay (custody again),
//! which delivers them to the recipient officer. Latency runs from each envelope's *scheduled*
//! send time to the moment its frame is decoded at the recipient's link (before the recipient
//! opens it), so a stall delays every later envelope too (no coordinated omission).

use std::collections::HashMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use liaison_proto::frame::{AckStatus, LinkFrame};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::federation::{
    BenchFederation, Layout, expect_accepted, message_id, next_frame, officer_endpoint,
};
use super::throughput::REPORT_LEN;
use super::{BenchError, BenchOptions, Measurement};

const WAIT: Duration = Duration::from_secs(60);
/// The second, lower offered rate.
pub const LOW_RATE: u32 = 100;

/// Runs scenario 2 at `opts.latency_rate` and, below it, at [`LOW_RATE`] (what the relays
/// sustain on a busy machine); returns p50, p99, p99.9 and max in milliseconds per rate.
pub async fn run(opts: &BenchOptions) -> Result<Vec<Measurement>, BenchError> {
    let mut rates = vec![opts.latency_rate.max(1)];
    if !opts.quick && opts.latency_rate > LOW_RATE {
        rates.push(LOW_RATE);
    }
    // Officer 0 (recipient) at relay 2, officer 1 (sender) at relay 1.
    let fed = BenchFederation::build(&Layout {
        relays: 2,
        recipients: vec![1],
        senders: vec![0],
        max_connections: 64,
        idle_timeout_secs: 30,
        max_envelope_bytes: None,
    })?;
    let relays = [fed.start(&opts.node_bin, 0)?, fed.start(&opts.node_bin, 1)?];
    let report: Vec<u8> = (0..REPORT_LEN).map(|i| (i % 251) as u8).collect();
    let sender_ep = officer_endpoint()?;
    let receiver_ep = officer_endpoint()?;
    let mut sender = fed.connect(1, &sender_ep).await?;
    let mut receiver = fed.connect(0, &receiver_ep).await?;
    // Warm-up: the relays' link to each other is up and the whole path delivers.
    let warm = fed.seal_pool(1, 0, &report, 3)?;
    for raw in &warm {
        let id = message_id(raw)?;
        sender.send(&LinkFrame::Envelope(raw.clone())).await?;
        expect_accepted(&mut sender, &id, WAIT).await?;
        receive_one(&mut receiver, &id).await?;
    }
    let mut out = Vec::new();
    for rate in rates {
        let count = if opts.quick { 200 } else { 5 * rate as usize };
        let note =
            format!("{count} envelopes at {rate}/s, 2 relays, from scheduled send to arrival");
        let mut ms = ["p50", "p99", "p99.9", "max"]
            .map(|q| Measurement::new("2 latency", format!("{q} at {rate}/s"), "ms", note.clone()));
        for run in 0..opts.runs {
            let pool = fed.seal_pool(1, 0, &report, count)?;
            let ids: HashMap<[u8; 16], usize> = pool
                .iter()
                .enumerate()
                .map(|(i, raw)| message_id(raw).map(|id| (id, i)))
                .collect::<Result<_, _>>()?;
            let period = Duration::from_secs(1) / rate;
            let start = Instant::now() + Duration::from_millis(50);
            let receiving = tokio::spawn(async move {
                let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)
                    .map_err(|e| BenchError::Unexpected(e.to_string()))?;
                let mut seen = 0;
                let mut trace = Vec::new();
                while seen < ids.len() {
                    match next_frame(&mut receiver, WAIT).await? {
                        LinkFrame::Envelope(raw) => {
                            let arrived = Instant::now();
                            let id = message_id(&raw)?;
                            receiver
                                .send(&LinkFrame::Ack {
                                    message_id: id.to_vec(),
                                    status: AckStatus::Accepted,
                                })
                                .await?;
                            let Some(i) = ids.get(&id) else { continue };
                            let scheduled = start + period * u32::try_from(*i).unwrap_or(u32::MAX);
                            let us = arrived.saturating_duration_since(scheduled).as_micros();
                            hist.saturating_record(u64::try_from(us).unwrap_or(u64::MAX).max(1));
                            trace.push((*i, us));
                            seen += 1;
                        }
                        LinkFrame::Ping(_) | LinkFrame::Pong(_) | LinkFrame::Ack { .. } => {}
                        other => {
                            return Err(BenchError::Unexpected(format!(
                                "recipient got {:?}",
                                other.frame_type()
                            )));
                        }
                    }
                }
                if let Ok(path) = std::env::var("LIAISON_BENCH_LATENCY_TRACE") {
                    let origin = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap_or_default()
                        .saturating_sub(start.elapsed());
                    let mut lines = format!("# start {:.6}\n", origin.as_secs_f64());
                    lines.extend(trace.iter().map(|(i, us)| format!("{i} {us}\n")));
                    let file = format!("{path}.{rate}.{run}");
                    if let Err(e) = std::fs::write(&file, lines) {
                        eprintln!("  latency trace not written to {file}: {e}");
                    }
                }
                Ok::<_, BenchError>((receiver, hist))
            });
            send_at_rate(&mut sender, &pool, start, period).await?;
            let (back, hist) = receiving
                .await
                .map_err(|e| BenchError::Unexpected(format!("receiver task: {e}")))??;
            receiver = back;
            for (m, q) in ms.iter_mut().zip([0.5, 0.99, 0.999, 1.0]) {
                m.push(hist.value_at_quantile(q) as f64 / 1000.0);
            }
            eprintln!(
                "  latency: p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms",
                hist.value_at_quantile(0.5) as f64 / 1000.0,
                hist.value_at_quantile(0.99) as f64 / 1000.0,
                hist.value_at_quantile(0.999) as f64 / 1000.0
            );
        }
        out.extend(ms);
    }
    drop(relays);
    Ok(out)
}

async fn receive_one(
    receiver: &mut liaison_node::link::Link,
    id: &[u8; 16],
) -> Result<(), BenchError> {
    loop {
        if let LinkFrame::Envelope(raw) = next_frame(receiver, WAIT).await? {
            let got = message_id(&raw)?;
            receiver
                .send(&LinkFrame::Ack {
                    message_id: got.to_vec(),
                    status: AckStatus::Accepted,
                })
                .await?;
            if got == *id {
                return Ok(());
            }
        }
    }
}

/// Sends `pool[i]` at `start + i * period`, reading the relay's acks meanwhile; returns once
/// every envelope is acknowledged. The schedule is kept by [`pacer`], not by tokio's timer.
async fn send_at_rate(
    link: &mut liaison_node::link::Link,
    pool: &[Vec<u8>],
    start: Instant,
    period: Duration,
) -> Result<(), BenchError> {
    let mut ticks = pacer(pool.len(), start.into_std(), period);
    let mut acked = 0usize;
    let mut pacing = true;
    while acked < pool.len() {
        tokio::select! {
            tick = ticks.recv(), if pacing => match tick {
                Some(i) => link.send(&LinkFrame::Envelope(pool[i].clone())).await?,
                None => pacing = false,
            },
            frame = next_frame(link, WAIT) => match frame? {
                LinkFrame::Ack { status: AckStatus::Accepted, .. } => acked += 1,
                LinkFrame::Ack { status, .. } => {
                    return Err(BenchError::Unexpected(format!("custody answered {status:?}")));
                }
                _ => {}
            },
        }
    }
    Ok(())
}

/// Yields `0..count`, each at `start + i * period`, from an OS thread sleeping with
/// `std::thread::sleep` (the kernel's high-resolution timers wake it within tens of
/// microseconds). tokio's timer wheel has 1 ms granularity and rounds deadlines up, which
/// added up to a millisecond of the generator's own lateness to every measured latency.
fn pacer(count: usize, start: std::time::Instant, period: Duration) -> mpsc::Receiver<usize> {
    let (tx, rx) = mpsc::channel(count.max(1));
    std::thread::spawn(move || {
        for i in 0..count {
            let due = start + period * u32::try_from(i).unwrap_or(u32::MAX);
            let now = std::time::Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if tx.blocking_send(i).is_err() {
                return; // the sender gave up
            }
        }
    });
    rx
}
