//! Scenario 5, connection footprint: the resident memory (`VmRSS` in `/proc/<pid>/status`) of
//! a relay process holding N idle officer links (N distinct officers, each with its own QUIC
//! connection and completed link handshake), next to the same relay with no links.
//! The relay's `[limits] max_connections` is raised to fit N.

use std::sync::Arc;
use std::time::Duration;

use liaison_node::link::Link;
use tokio::task::JoinSet;

use super::federation::{BenchFederation, Layout, officer_endpoint};
use super::{BenchError, BenchOptions, Measurement};

/// Links being set up at once.
const PARALLEL_DIALS: usize = 32;
/// Officer links per client endpoint (UDP socket) on the generator side.
const LINKS_PER_ENDPOINT: usize = 1000;

/// Runs scenario 5; returns the relay's RSS with N links, without, and per link.
pub async fn run(opts: &BenchOptions) -> Result<Vec<Measurement>, BenchError> {
    let n = if opts.quick { 50 } else { opts.connections };
    eprintln!("  connections: issuing {n} officer certificates");
    let fed = Arc::new(BenchFederation::build(&Layout {
        relays: 1,
        recipients: Vec::new(),
        senders: vec![0; n],
        max_connections: n + 64,
        idle_timeout_secs: 120,
        max_envelope_bytes: None,
    })?);
    let note = format!("{n} idle officer links, LQ2, one QUIC connection each");
    let mut idle = Measurement::new("5 connections", "relay RSS, no links", "MiB", "");
    let mut full = Measurement::new(
        "5 connections",
        format!("relay RSS, {n} links"),
        "MiB",
        note.clone(),
    );
    let mut per = Measurement::new("5 connections", "RSS per link", "KiB", note);
    let endpoints = (0..n.div_ceil(LINKS_PER_ENDPOINT).max(1))
        .map(|_| officer_endpoint())
        .collect::<Result<Vec<_>, _>>()?;
    for _ in 0..opts.runs {
        let storage = fed.path().join(&fed.relays[0].name).join("custody.redb");
        let _ = std::fs::remove_file(&storage);
        let relay = fed.start(&opts.node_bin, 0)?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = relay.rss_kib()?;
        let links = connect_all(&fed, &endpoints, n).await?;
        // Let every handshake's transient state go before reading.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after = relay.rss_kib()?;
        if relay.log_text().contains("connection limit reached") {
            return Err(BenchError::Unexpected(
                "the relay refused links: limit reached".into(),
            ));
        }
        idle.push(before as f64 / 1024.0);
        full.push(after as f64 / 1024.0);
        per.push(after.saturating_sub(before) as f64 / n as f64);
        eprintln!(
            "  connections: {n} links, relay RSS {:.1} MiB (idle {:.1} MiB)",
            after as f64 / 1024.0,
            before as f64 / 1024.0
        );
        for link in links {
            link.connection().close(0u32.into(), b"");
        }
        drop(relay);
    }
    Ok(vec![idle, full, per])
}

/// Connects officers `0..n`, `PARALLEL_DIALS` at a time; keeps every link.
async fn connect_all(
    fed: &Arc<BenchFederation>,
    endpoints: &[quinn::Endpoint],
    n: usize,
) -> Result<Vec<Link>, BenchError> {
    let mut links = Vec::with_capacity(n);
    let mut next = 0;
    let mut set: JoinSet<Result<Link, BenchError>> = JoinSet::new();
    while links.len() < n {
        while next < n && set.len() < PARALLEL_DIALS {
            let endpoint = endpoints[next % endpoints.len()].clone();
            let fed = Arc::clone(fed);
            let who = next;
            set.spawn(async move { fed.connect(who, &endpoint).await });
            next += 1;
        }
        match set.join_next().await {
            Some(done) => {
                links.push(done.map_err(|e| BenchError::Unexpected(format!("dial task: {e}")))??)
            }
            None => break,
        }
        if links.len().is_multiple_of(1000) {
            eprintln!("  connections: {} links up", links.len());
        }
    }
    Ok(links)
}
