//! `liaison-bench`: side-by-side benchmarks of the Liaison relay (issue 9) against what a user
//! would pick instead: NATS JetStream for durable messaging and raw quinn for bulk transfer.
//!
//! Each scenario drives real processes over loopback: `liaison-node run` relays started from a
//! federation written to a temporary directory ([`federation`]), officers on real QUIC links
//! made with the node's own link driver, and a `nats-server` with JetStream file storage
//! ([`nats`]). Handshakes ([`handshake`]) run the sans-IO core in memory on one thread.
//!
//! Every scenario returns [`Measurement`]s, one value per run; the binary prints medians with
//! min–max and the 1-minute load average seen during the runs, and can write them as JSON.
//! Numbers taken on a busy machine are noisy: the load average is recorded next to each one.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

pub mod bulk;
pub mod connections;
pub mod federation;
pub mod handshake;
pub mod latency;
pub mod nats;
pub mod throughput;

/// Everything that can stop a benchmark.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A protocol object could not be built (certificate, prekey, envelope, handshake).
    #[error("protocol: {0}")]
    Proto(#[from] liaison_proto::ProtoError),
    /// The node library refused something (key file, link, transport).
    #[error("node: {0}")]
    Node(String),
    /// A link to a relay failed.
    #[error("link: {0}")]
    Link(#[from] liaison_node::link::LinkError),
    /// A QUIC endpoint could not be set up or a connection failed.
    #[error("transport: {0}")]
    Transport(String),
    /// The NATS server or client failed.
    #[error("nats: {0}")]
    Nats(String),
    /// A process did not become ready in time.
    #[error("{what} not ready after {after:?}")]
    NotReady {
        /// Which process.
        what: String,
        /// How long we waited.
        after: Duration,
    },
    /// The system under test answered something other than what the scenario expects.
    #[error("unexpected answer: {0}")]
    Unexpected(String),
    /// A bounded wait ran out.
    #[error("timed out waiting for {0}")]
    Timeout(String),
}

impl BenchError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| Self::Io { what, source }
    }
}

/// How a whole run is parameterised.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Small counts everywhere: a ~10-second smoke of every code path.
    pub quick: bool,
    /// Repetitions of each measurement (the table shows their median and range).
    pub runs: usize,
    /// The `liaison-node` binary to start as the relay.
    pub node_bin: PathBuf,
    /// The `nats-server` binary for the JetStream baseline.
    pub nats_bin: PathBuf,
    /// Sender concurrencies for the throughput scenario.
    pub concurrency: Vec<usize>,
    /// Idle officer links held in the connections scenario.
    pub connections: usize,
    /// Envelopes per second offered in the latency scenario.
    pub latency_rate: u32,
}

/// One measured quantity, one value per run.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    /// Scenario number and name (`"1 throughput"`).
    pub scenario: String,
    /// What was measured (`"liaison 16 senders"`).
    pub name: String,
    /// Unit of `values` (`"msg/s"`, `"ms"`, `"MiB/s"`, `"handshakes/s"`, `"MiB"`).
    pub unit: String,
    /// One value per run.
    pub values: Vec<f64>,
    /// The 1-minute load average at the end of each run.
    pub load: Vec<f64>,
    /// Free-form context (sizes, counts, deviations from the setup).
    pub note: String,
}

impl Measurement {
    /// A measurement with no runs yet.
    pub fn new(
        scenario: &str,
        name: impl Into<String>,
        unit: &str,
        note: impl Into<String>,
    ) -> Self {
        Self {
            scenario: scenario.to_owned(),
            name: name.into(),
            unit: unit.to_owned(),
            values: Vec::new(),
            load: Vec::new(),
            note: note.into(),
        }
    }

    /// Records one run's value with the current load average.
    pub fn push(&mut self, value: f64) {
        self.values.push(value);
        self.load.push(load_average());
    }

    /// Median of the runs (mean of the middle two for an even count); NaN when empty.
    pub fn median(&self) -> f64 {
        median(&self.values)
    }

    /// Smallest run value.
    pub fn min(&self) -> f64 {
        self.values.iter().copied().fold(f64::INFINITY, f64::min)
    }

    /// Largest run value.
    pub fn max(&self) -> f64 {
        self.values
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    }

    /// Median load average over the runs.
    pub fn load_median(&self) -> f64 {
        median(&self.load)
    }
}

/// Set to a directory to record `perf` profiles during each timed run: of the relay in
/// scenario 1 (`perf-<senders>.data`), of the whole machine (sender, relay, everything) in
/// scenario 3 (`perf-bulk-<transfer>.data`, 0 being the first into a fresh relay);
/// `docs/BENCHMARKS.md` gives the report commands.
pub const PERF_ENV: &str = "LIAISON_BENCH_PERF";

/// A `perf record` running while a timed run does, when [`PERF_ENV`] asks for one.
#[derive(Debug)]
pub struct Profiler {
    child: std::process::Child,
}

impl Profiler {
    /// Starts `perf record` of process `pid` (with call graphs), or of every CPU when `None`
    /// (samples only), into `<PERF_ENV>/<name>.data`; `None` when no profile was asked for.
    pub fn attach(pid: Option<u32>, name: &str) -> Result<Option<Self>, BenchError> {
        let Some(dir) = std::env::var_os(PERF_ENV) else {
            return Ok(None);
        };
        let out = std::path::Path::new(&dir).join(format!("{name}.data"));
        let mut perf = std::process::Command::new("perf");
        match pid {
            Some(pid) => perf
                .args(["record", "-F", "499", "--call-graph", "dwarf,32768", "-p"])
                .arg(pid.to_string()),
            None => perf.args(["record", "-F", "1999", "-a"]),
        };
        let child = perf
            .arg("-o")
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(BenchError::io("starting perf record"))?;
        // perf needs a moment to attach before the clock starts.
        std::thread::sleep(Duration::from_millis(500));
        Ok(Some(Self { child }))
    }

    /// Stops the recording (SIGINT, so perf writes its file) and waits for it.
    pub fn stop(mut self) -> Result<(), BenchError> {
        std::process::Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .map_err(BenchError::io("stopping perf record"))?;
        self.child
            .wait()
            .map_err(BenchError::io("waiting for perf"))?;
        Ok(())
    }
}

/// Median of `values`; NaN when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    }
}

/// The 1-minute load average from `/proc/loadavg` (NaN when unreadable).
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// Formats a number with three significant digits for the table.
pub fn fmt_value(x: f64) -> String {
    if x.is_nan() {
        "-".to_owned()
    } else if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// The results table (Markdown): median, min–max, unit, load, note.
pub fn table(measurements: &[Measurement]) -> String {
    let mut out = String::from(
        "| scenario | measurement | median | min–max | unit | runs | load (1 min) | note |\n\
         |---|---|---:|---:|---|---:|---:|---|\n",
    );
    for m in measurements {
        out.push_str(&format!(
            "| {} | {} | {} | {}–{} | {} | {} | {} | {} |\n",
            m.scenario,
            m.name,
            fmt_value(m.median()),
            fmt_value(m.min()),
            fmt_value(m.max()),
            m.unit,
            m.values.len(),
            fmt_value(m.load_median()),
            m.note
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn table_shows_median_and_range() {
        let mut m = Measurement::new("1 throughput", "liaison 4 senders", "msg/s", "");
        m.values = vec![900.0, 1100.0, 1000.0];
        m.load = vec![2.0, 2.0, 2.0];
        let t = table(&[m]);
        assert!(t.contains("| 1000 | 900–1100 | msg/s | 3 | 2.00 |"), "{t}");
    }
}
