//! `liaison-bench`: runs the relay benchmarks of issue 9 (see `docs/BENCHMARKS.md`) and prints
//! a table of medians with min–max and load average; `--json` writes the same for plotting
//! (`interop-tests/bench/plot.py`).
//!
//! ```text
//! cargo build --release -p liaison-node -p liaison-interop-tests --bin liaison-bench
//! target/release/liaison-bench all --runs 3 --json interop-tests/bench/results.json
//! target/release/liaison-bench all --quick          # ~10-second smoke
//! ```
//!
//! Scenario 6 (crypto) is a criterion bench: `cargo bench -p liaison-proto --bench envelope`.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use clap::{Parser, ValueEnum};
use liaison_interop_tests::bench::{
    self, BenchOptions, Measurement, bulk, connections, handshake, latency, nats::NatsServer,
    throughput,
};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// 1: durable throughput vs NATS JetStream.
    Throughput,
    /// 2: end-to-end latency across two relays.
    Latency,
    /// 3: 64 MiB attachment vs raw quinn.
    Bulk,
    /// 4: link handshakes per second per core.
    Handshakes,
    /// 5: relay RSS holding N idle officer links.
    Connections,
    /// Every scenario above, in order.
    All,
}

/// Relay benchmarks: Liaison vs NATS JetStream and raw quinn (issue 9).
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// Which scenario to run.
    #[arg(value_enum)]
    scenario: Scenario,
    /// Small counts everywhere: a ~10-second smoke of every code path (one run each).
    #[arg(long)]
    quick: bool,
    /// Runs per measurement (median and min–max are reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Write the measurements as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// The relay binary (default: `liaison-node` next to this program).
    #[arg(long)]
    node_bin: Option<PathBuf>,
    /// The NATS server binary (Debian package `nats-server`).
    #[arg(long, default_value = "nats-server")]
    nats_bin: PathBuf,
    /// Sender concurrencies for scenario 1.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16,64")]
    concurrency: Vec<usize>,
    /// Idle links for scenario 5.
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// Envelopes per second offered in scenario 2.
    #[arg(long, default_value_t = 1000)]
    rate: u32,
}

#[derive(Debug, Serialize)]
struct Report<'a> {
    started_unix: u64,
    finished_unix: u64,
    machine: Machine,
    quick: bool,
    runs: usize,
    nats_server: String,
    command: String,
    measurements: &'a [Measurement],
}

#[derive(Debug, Serialize)]
struct Machine {
    cpu: String,
    cores: usize,
    memory: String,
    kernel: String,
}

fn first_line_with(path: &str, key: &str) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split(':').nth(1))
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default()
}

fn machine() -> Machine {
    Machine {
        cpu: first_line_with("/proc/cpuinfo", "model name"),
        cores: std::thread::available_parallelism().map_or(1, |p| p.get()),
        memory: first_line_with("/proc/meminfo", "MemTotal"),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_default(),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

async fn run_one(scenario: Scenario, opts: &BenchOptions) -> anyhow::Result<Vec<Measurement>> {
    eprintln!("scenario {scenario:?} (load {:.2})", bench::load_average());
    Ok(match scenario {
        Scenario::Throughput => throughput::run(opts).await?,
        Scenario::Latency => latency::run(opts).await?,
        Scenario::Bulk => bulk::run(opts).await?,
        Scenario::Handshakes => {
            let o = opts.clone();
            tokio::task::spawn_blocking(move || handshake::run(&o)).await??
        }
        Scenario::Connections => connections::run(opts).await?,
        Scenario::All => bail!("`all` is not one scenario"),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let node_bin = match cli.node_bin {
        Some(p) => p,
        None => std::env::current_exe()
            .context("locating this program")?
            .with_file_name("liaison-node"),
    };
    if !node_bin.exists() {
        bail!(
            "relay binary {} not found: build it (cargo build --release -p liaison-node) or pass --node-bin",
            node_bin.display()
        );
    }
    let opts = BenchOptions {
        quick: cli.quick,
        runs: if cli.quick { 1 } else { cli.runs.max(1) },
        node_bin,
        nats_bin: cli.nats_bin,
        concurrency: if cli.quick {
            vec![1, 4]
        } else {
            cli.concurrency
        },
        connections: cli.connections,
        latency_rate: cli.rate,
    };
    let started = unix_now();
    let scenarios = match cli.scenario {
        Scenario::All => vec![
            Scenario::Throughput,
            Scenario::Latency,
            Scenario::Bulk,
            Scenario::Handshakes,
            Scenario::Connections,
        ],
        one => vec![one],
    };
    let mut measurements = Vec::new();
    for s in scenarios {
        measurements.extend(run_one(s, &opts).await?);
    }
    println!("{}", bench::table(&measurements));
    println!("scenario 6 (crypto): cargo bench -p liaison-proto --bench envelope");
    if let Some(path) = cli.json {
        let report = Report {
            started_unix: started,
            finished_unix: unix_now(),
            machine: machine(),
            quick: opts.quick,
            runs: opts.runs,
            nats_server: NatsServer::version(&opts.nats_bin),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            measurements: &measurements,
        };
        std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
