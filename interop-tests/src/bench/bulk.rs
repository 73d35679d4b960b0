//! Scenario 3, bulk transfer: one large attachment (64 MiB, or the largest envelope the
//! relay's link accepts when that is smaller) sealed for one recipient and sent through one
//! relay, against raw quinn streaming the same number of bytes over loopback with the same
//! TLS provider and transport settings (`liaison_node::transport`, hybrid group only).
//!
//! Liaison is timed twice per run: sender to custody `Ack` (the relay received, checked and
//! fsynced the envelope), and sender to recipient (the relay also delivered it). Raw quinn is
//! timed from the first byte written to the server's one-byte answer after reading them all.
//! Established connections on both sides: connection set-up is not timed.
//!
//! Every run of the harness first makes one transfer of each kind that the timed runs do not
//! count: on fresh QUIC connections both sides start in slow start, and the first large
//! envelope a fresh relay takes also grows its custody file and its heap; that transfer costs
//! 10–15 % more than the next ones (raw quinn's too). Relays and their links run for months,
//! so the timed runs measure the steady state; the first transfer is reported on its own rows
//! ("first into a fresh relay"), not dropped.
//!
//! `Link::send` carries an envelope this large as 1 MiB `EnvelopePart` records
//! (`spec/protocol-link.md` §3.3), each sealed just before it is written; the relay opens and
//! hashes each part while the next is in flight. The timer starts before the first part is
//! sealed, so the sender's sealing is part of what is measured, as before.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use liaison_node::transport::{self, TlsIdentity, TransportLimits};
use liaison_proto::frame::{AckStatus, LinkFrame};

use super::federation::{
    BenchFederation, Layout, expect_accepted, message_id, next_frame, officer_endpoint,
};
use super::{BenchError, BenchOptions, Measurement, Profiler};

/// The size the issue asks for.
pub const TARGET_LEN: usize = 64 * 1024 * 1024;
const WAIT: Duration = Duration::from_secs(300);
const MIB: f64 = 1024.0 * 1024.0;

fn transport_err(e: impl std::fmt::Display) -> BenchError {
    BenchError::Transport(e.to_string())
}

/// Runs scenario 3; returns MiB/s for Liaison (custody and end to end) and raw quinn, and the
/// ratio Liaison custody / raw quinn.
pub async fn run(opts: &BenchOptions) -> Result<Vec<Measurement>, BenchError> {
    let fed = BenchFederation::build(&Layout {
        relays: 1,
        recipients: vec![0],
        senders: vec![0],
        max_connections: 64,
        idle_timeout_secs: 60,
        max_envelope_bytes: Some(liaison_proto::frame::MAX_ENVELOPE_LEN.min(2 * TARGET_LEN)),
    })?;
    // The largest envelope one `Envelope` frame carries in this build; the attachment is
    // what fits in it next to the envelope's own header, block and signature.
    let frame_cap = liaison_proto::frame::MAX_ENVELOPE_LEN.min(2 * TARGET_LEN);
    let overhead = fed.seal_pool(1, 0, b"x", 1)?[0].len() - 1 + 64;
    let target = if opts.quick {
        4 * 1024 * 1024
    } else {
        TARGET_LEN
    };
    let len = target.min(frame_cap.saturating_sub(overhead));
    let note = if len < target {
        format!(
            "{:.2} MiB attachment: the largest that fits this build's {} MiB envelope frame",
            len as f64 / MIB,
            frame_cap / (1024 * 1024)
        )
    } else {
        format!("{:.0} MiB attachment", len as f64 / MIB)
    };
    let attachment: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
    let mut custody = Measurement::new(
        "3 bulk",
        "liaison sender→custody ack",
        "MiB/s",
        note.clone(),
    );
    let mut e2e = Measurement::new("3 bulk", "liaison sender→recipient", "MiB/s", note.clone());
    let mut raw = Measurement::new("3 bulk", "raw quinn stream", "MiB/s", note.clone());
    let mut ratio = Measurement::new(
        "3 bulk",
        "ratio liaison custody/raw quinn",
        "x",
        note.clone(),
    );
    let mut cold = Measurement::new(
        "3 bulk",
        "liaison sender→custody ack, first into a fresh relay",
        "MiB/s",
        format!("{note}; one per harness run, before the timed runs"),
    );
    let mut cold_ratio = Measurement::new(
        "3 bulk",
        "ratio liaison custody/raw quinn, first into a fresh relay",
        "x",
        format!("{note}; one per harness run, before the timed runs"),
    );

    let relay = fed.start(&opts.node_bin, 0)?;
    let (sender_ep, receiver_ep) = (officer_endpoint()?, officer_endpoint()?);
    let mut sender = fed.connect(1, &sender_ep).await?;
    let mut receiver = fed.connect(0, &receiver_ep).await?;
    let (server, server_addr) = raw_server(len)?;
    let client = transport::client_endpoint(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        &TransportLimits::default(),
    )
    .map_err(transport_err)?;
    let conn = client
        .connect(server_addr, "liaison-node")
        .map_err(transport_err)?
        .await
        .map_err(transport_err)?;
    // Transfer 0 is the first into the fresh relay, reported apart (see the module's doc).
    for transfer in 0..=opts.runs {
        let envelope = fed.seal_pool(1, 0, &attachment, 1)?.remove(0);
        let id = message_id(&envelope)?;
        let profiler = Profiler::attach(None, &format!("perf-bulk-{transfer}"))?;
        let start = Instant::now();
        let receiving = tokio::spawn(async move {
            loop {
                if let LinkFrame::Envelope(got) = next_frame(&mut receiver, WAIT).await? {
                    let at = Instant::now();
                    let got_id = message_id(&got)?;
                    receiver
                        .send(&LinkFrame::Ack {
                            message_id: got_id.to_vec(),
                            status: AckStatus::Accepted,
                        })
                        .await?;
                    if got_id == id {
                        return Ok::<_, BenchError>((receiver, at));
                    }
                }
            }
        });
        sender.send(&LinkFrame::Envelope(envelope)).await?;
        // The last part handed to QUIC (flow control lets the sender run at most a window
        // ahead of the relay): what follows is the relay's tail, the custody commit above all.
        let written = start.elapsed().as_secs_f64();
        expect_accepted(&mut sender, &id, WAIT).await?;
        let acked = start.elapsed().as_secs_f64();
        if let Some(p) = profiler {
            p.stop()?;
        }
        let (back, at) = receiving
            .await
            .map_err(|e| BenchError::Unexpected(format!("receiver task: {e}")))??;
        receiver = back;
        let delivered = (at - start).as_secs_f64();
        let quinn_secs = raw_transfer(&conn, &attachment).await?;
        let mb = len as f64 / MIB;
        if transfer == 0 {
            cold.push(mb / acked);
            cold_ratio.push(quinn_secs / acked);
        } else {
            custody.push(mb / acked);
            e2e.push(mb / delivered);
            raw.push(mb / quinn_secs);
            ratio.push(quinn_secs / acked);
        }
        eprintln!(
            "  bulk {mb:.1} MiB{}: last byte written {:.0} ms, custody ack {:.0} ms; custody {:.1} \
             MiB/s, delivered {:.1} MiB/s, raw quinn {:.1} MiB/s",
            if transfer == 0 {
                " (first into a fresh relay)"
            } else {
                ""
            },
            written * 1e3,
            acked * 1e3,
            mb / acked,
            mb / delivered,
            mb / quinn_secs
        );
    }
    conn.close(0u32.into(), b"done");
    server.abort();
    drop(relay);
    Ok(vec![custody, e2e, raw, ratio, cold, cold_ratio])
}

/// A quinn server that reads each bidirectional stream to its end (at most `len` bytes) and
/// answers one byte.
fn raw_server(len: usize) -> Result<(tokio::task::JoinHandle<()>, SocketAddr), BenchError> {
    let identity = TlsIdentity::generate().map_err(transport_err)?;
    let endpoint = transport::server_endpoint(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        &identity,
        &TransportLimits::default(),
    )
    .map_err(transport_err)?;
    let addr = endpoint
        .local_addr()
        .map_err(BenchError::io("server address"))?;
    let task = tokio::spawn(async move {
        while let Some(incoming) = endpoint.accept().await {
            let Ok(conn) = incoming.await else { continue };
            tokio::spawn(async move {
                while let Ok((mut send, mut recv)) = conn.accept_bi().await {
                    if recv.read_to_end(len).await.is_ok() {
                        let _ = send.write_all(&[1]).await;
                        let _ = send.finish();
                    }
                }
            });
        }
    });
    Ok((task, addr))
}

/// Streams `bytes` on a new stream of `conn` and waits for the server's answer; seconds.
async fn raw_transfer(conn: &quinn::Connection, bytes: &[u8]) -> Result<f64, BenchError> {
    let start = Instant::now();
    let (mut send, mut recv) = conn.open_bi().await.map_err(transport_err)?;
    send.write_all(bytes).await.map_err(transport_err)?;
    send.finish().map_err(transport_err)?;
    let answer = tokio::time::timeout(WAIT, recv.read_to_end(16))
        .await
        .map_err(|_| BenchError::Timeout("the raw quinn server's answer".into()))?
        .map_err(transport_err)?;
    if answer != [1] {
        return Err(BenchError::Unexpected(
            "raw quinn server did not read everything".into(),
        ));
    }
    Ok(start.elapsed().as_secs_f64())
}
