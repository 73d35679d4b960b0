//! How commands present results: human text or one JSON object, the classification banner
//! every message display starts and ends with, and the progress bar for large reports.

use std::io::IsTerminal as _;

use indicatif::{ProgressBar, ProgressStyle};
use liaison_proto::{Classification, Tlp};
use serde_json::Value;

/// Reports at least this large get a progress bar (on a terminal, without `--json`).
pub(crate) const PROGRESS_THRESHOLD: u64 = 1024 * 1024;

/// A finished command: what to print, and the exit code (0 unless the command found a
/// problem it reports rather than fails on, as `verify` does).
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) json: Value,
    pub(crate) human: String,
    pub(crate) exit_code: u8,
}

impl Outcome {
    pub(crate) fn ok(json: Value, human: String) -> Self {
        Self {
            json,
            human,
            exit_code: 0,
        }
    }

    pub(crate) fn print(&self, json: bool) {
        if json {
            println!("{}", self.json);
        } else if !self.human.is_empty() {
            print!("{}", self.human);
            if !self.human.ends_with('\n') {
                println!();
            }
        }
    }
}

/// `==== SECRET UE/EU SECRET — TLP:AMBER ====`.
pub(crate) fn banner(classification: Classification, tlp: Tlp) -> String {
    let level = if classification.marking() == classification.english() {
        classification.marking().to_owned()
    } else {
        format!("{}/{}", classification.marking(), classification.english())
    };
    format!("==== {level} — {} ====", tlp.label())
}

/// A byte count for people.
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A Unix time for people (`2026-11-23T22:13:20Z`).
pub(crate) fn human_time(secs: u64) -> String {
    liaison_client::content::format_utc(secs)
}

/// Progress display for one large report: a byte bar while reading, then a spinner per stage.
/// Hidden unless stderr is a terminal, the report is large, and output is not JSON.
#[derive(Debug)]
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub(crate) fn new(total: Option<u64>, json: bool) -> Self {
        let show = !json
            && std::io::stderr().is_terminal()
            && total.is_some_and(|t| t >= PROGRESS_THRESHOLD);
        let bar = show.then(|| {
            let bar = ProgressBar::new(total.unwrap_or(0));
            if let Ok(style) = ProgressStyle::with_template(
                "{msg:>12} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message("reading");
            bar
        });
        Self { bar }
    }

    pub(crate) fn advance(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    /// Switches to a spinner showing `stage` (sealing, sending, waiting for custody).
    pub(crate) fn stage(&self, stage: &'static str) {
        if let Some(b) = &self.bar {
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                b.set_style(style);
            }
            b.set_message(stage);
            b.enable_steady_tick(std::time::Duration::from_millis(120));
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_names_both_markings_and_the_tlp_label() {
        assert_eq!(
            banner(Classification::SecretUe, Tlp::Amber),
            "==== SECRET UE/EU SECRET — TLP:AMBER ===="
        );
        assert_eq!(
            banner(Classification::Unclassified, Tlp::Clear),
            "==== UNCLASSIFIED — TLP:CLEAR ===="
        );
    }

    #[test]
    fn times_and_sizes_print_for_people() {
        assert_eq!(human_time(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
