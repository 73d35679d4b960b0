//! Key-budget awareness: a poller that reads a supply's `status` periodically, publishes what
//! the KME can give (a `watch` channel and counters), warns when the store runs low, and helps
//! consumers pace rekeys by it instead of discovering exhaustion in the middle of a handshake.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::error::Result;
use crate::key::SaeId;
use crate::supply::KeySupply;

/// What the supply could deliver for one slave SAE at the last poll.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyBudget {
    /// Keys (of `key_size` bits) stored for the pair.
    pub stored_key_count: u64,
    /// Capacity of the store.
    pub max_key_count: u64,
    /// Most keys per request.
    pub max_key_per_request: u32,
    /// Default key size, in bits.
    pub key_size: u32,
    /// Refill rate seen between the last two polls, in keys per second, when it grew.
    pub refill_per_sec: Option<f64>,
    /// When the status was read.
    pub observed_at: Instant,
}

impl KeyBudget {
    /// How many rekeys, each taking `keys_per_rekey` keys of `size_bits`, the store allows now.
    pub fn rekeys_available(&self, keys_per_rekey: u32, size_bits: u32) -> u64 {
        let per_key = u64::from(size_bits.div_ceil(self.key_size.max(1)).max(1));
        self.stored_key_count / (per_key * u64::from(keys_per_rekey.max(1)))
    }

    /// The shortest interval between rekeys the refill rate sustains, if a rate was seen.
    pub fn sustainable_rekey_interval(&self, keys_per_rekey: u32) -> Option<Duration> {
        let rate = self.refill_per_sec.filter(|r| *r > 0.0)?;
        Some(Duration::from_secs_f64(
            f64::from(keys_per_rekey.max(1)) / rate,
        ))
    }
}

/// Counters of the poller, for the node's metrics endpoint.
#[derive(Debug, Default)]
pub struct BudgetMetrics {
    /// `stored_key_count` at the last successful poll.
    pub stored_key_count: AtomicU64,
    /// Successful polls.
    pub polls: AtomicU64,
    /// Failed polls.
    pub poll_failures: AtomicU64,
    /// Polls that found the store below the threshold.
    pub low_budget: AtomicU64,
}

/// Reads `status` for one slave SAE every `interval`.
#[derive(Debug)]
pub struct BudgetPoller {
    supply: Arc<dyn KeySupply>,
    slave: SaeId,
    interval: Duration,
    low_threshold: u64,
    metrics: Arc<BudgetMetrics>,
    last: Option<KeyBudget>,
}

impl BudgetPoller {
    /// A poller of `supply` for `slave`, warning when fewer than `low_threshold` keys remain.
    pub fn new(
        supply: Arc<dyn KeySupply>,
        slave: SaeId,
        interval: Duration,
        low_threshold: u64,
    ) -> Self {
        Self {
            supply,
            slave,
            interval,
            low_threshold,
            metrics: Arc::default(),
            last: None,
        }
    }

    /// The poller's counters (shared; keep a clone for the metrics exporter).
    pub fn metrics(&self) -> Arc<BudgetMetrics> {
        self.metrics.clone()
    }

    /// Reads the status once, updating counters and warning when low.
    pub async fn poll_once(&mut self) -> Result<KeyBudget> {
        let status = match self.supply.status(&self.slave).await {
            Ok(status) => status,
            Err(error) => {
                self.metrics.poll_failures.fetch_add(1, Ordering::Relaxed);
                warn!(slave = %self.slave, %error, "key budget poll failed");
                return Err(error);
            }
        };
        let now = Instant::now();
        let refill_per_sec = self.last.as_ref().and_then(|last| {
            let elapsed = now
                .saturating_duration_since(last.observed_at)
                .as_secs_f64();
            let grew = status.stored_key_count.checked_sub(last.stored_key_count)?;
            (grew > 0 && elapsed > 0.0).then(|| grew as f64 / elapsed)
        });
        let budget = KeyBudget {
            stored_key_count: status.stored_key_count,
            max_key_count: status.max_key_count,
            max_key_per_request: status.max_key_per_request,
            key_size: status.key_size,
            refill_per_sec: refill_per_sec.or(self.last.as_ref().and_then(|l| l.refill_per_sec)),
            observed_at: now,
        };
        self.metrics.polls.fetch_add(1, Ordering::Relaxed);
        self.metrics
            .stored_key_count
            .store(budget.stored_key_count, Ordering::Relaxed);
        if budget.stored_key_count < self.low_threshold {
            self.metrics.low_budget.fetch_add(1, Ordering::Relaxed);
            warn!(slave = %self.slave, stored = budget.stored_key_count, threshold = self.low_threshold, "key budget low");
        } else {
            debug!(slave = %self.slave, stored = budget.stored_key_count, "key budget");
        }
        self.last = Some(budget.clone());
        Ok(budget)
    }

    /// Polls until `cancel` fires, publishing each budget (`None` until the first success).
    pub fn spawn(
        mut self,
        cancel: CancellationToken,
    ) -> (watch::Receiver<Option<KeyBudget>>, JoinHandle<()>) {
        let (tx, rx) = watch::channel(None);
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(self.interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = cancel.cancelled() => break,
                    _ = ticker.tick() => {}
                }
                if let Ok(budget) = self.poll_once().await {
                    // A closed channel only means nobody listens any more.
                    let _ = tx.send(Some(budget));
                }
            }
        });
        (rx, task)
    }
}

/// Waits until the published budget allows `keys` keys, or `timeout` passes. Consumers call
/// this before a rekey to pace themselves by the KME. Returns whether the budget was reached.
pub async fn wait_for_budget(
    budget: &mut watch::Receiver<Option<KeyBudget>>,
    keys: u64,
    timeout: Duration,
) -> bool {
    let enough = |b: &Option<KeyBudget>| b.as_ref().is_some_and(|b| b.stored_key_count >= keys);
    tokio::time::timeout(timeout, budget.wait_for(enough))
        .await
        .is_ok_and(|r| r.is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(stored: u64, rate: Option<f64>) -> KeyBudget {
        KeyBudget {
            stored_key_count: stored,
            max_key_count: 100,
            max_key_per_request: 10,
            key_size: 256,
            refill_per_sec: rate,
            observed_at: Instant::now(),
        }
    }

    #[test]
    fn counts_rekeys_by_key_size() {
        assert_eq!(budget(10, None).rekeys_available(1, 256), 10);
        assert_eq!(budget(10, None).rekeys_available(1, 512), 5);
        assert_eq!(budget(10, None).rekeys_available(3, 256), 3);
    }

    #[test]
    fn paces_rekeys_by_the_refill_rate() {
        assert_eq!(
            budget(0, Some(2.0)).sustainable_rekey_interval(1),
            Some(Duration::from_millis(500))
        );
        assert_eq!(budget(0, None).sustainable_rekey_interval(1), None);
    }
}
