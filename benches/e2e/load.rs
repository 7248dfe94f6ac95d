//! One timed round: `concurrency` tasks calling in a loop for a fixed time, each call's
//! latency kept.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Barrier;

use crate::alloc::{Counted, Counting};
use crate::setup::{Bench, Side, discard_journal, open_journal};

/// What one round measured.
#[derive(Debug, Clone)]
pub struct Round {
    /// Calls completed.
    pub calls: usize,
    /// From the common start to the last task's end, in seconds.
    pub seconds: f64,
    /// Each call's latency in milliseconds, sorted.
    pub latencies_ms: Vec<f64>,
    /// What the counting allocator saw from the common start to the end, when asked.
    pub counted: Option<Counted>,
}

impl Round {
    /// Calls per second.
    pub fn rate(&self) -> f64 {
        self.calls as f64 / self.seconds
    }

    /// The `q` quantile (0..=1) of latency, in milliseconds.
    pub fn quantile(&self, q: f64) -> f64 {
        quantile(&self.latencies_ms, q)
    }
}

/// The `q` quantile of sorted values (nearest rank).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of unsorted values (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Run one round of `side` at `concurrency` for `duration`. Each task makes one untimed
/// call first (so connections are open), then all start together. A bcss round journals
/// into a fresh journal under `root`, deleted afterwards. With `count`, the counting
/// allocator (already on) is reset at the start and read at the end.
pub async fn round(
    bench: &Arc<Bench>,
    side: Side,
    concurrency: usize,
    duration: Duration,
    root: &Path,
    count: bool,
) -> Round {
    let journal = match side {
        Side::Bcss => Some(open_journal(root, "round").await),
        Side::Raw => None,
    };
    let client = journal.as_ref().map(|(j, _)| bench.client(j.clone()));
    let barrier = Arc::new(Barrier::new(concurrency + 1));
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (bench, client, barrier) = (bench.clone(), client.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let call = async || match &client {
                Some(client) => bench.bcss_call(client).await,
                None => bench.raw_call().await,
            };
            call().await;
            barrier.wait().await;
            let deadline = Instant::now() + duration;
            let mut latencies = Vec::with_capacity(4096);
            loop {
                let started = Instant::now();
                if started >= deadline {
                    break;
                }
                call().await;
                latencies.push(started.elapsed().as_secs_f64() * 1e3);
            }
            latencies
        }));
    }
    barrier.wait().await;
    if count {
        Counting::reset();
    }
    let started = Instant::now();
    let mut latencies_ms = Vec::new();
    for task in tasks {
        latencies_ms.extend(task.await.expect("a calling task"));
    }
    let seconds = started.elapsed().as_secs_f64();
    let counted = count.then(Counting::read);
    drop(client);
    if let Some((journal, dir)) = journal {
        discard_journal(journal, &dir).await;
    }
    latencies_ms.sort_by(f64::total_cmp);
    Round {
        calls: latencies_ms.len(),
        seconds,
        latencies_ms,
        counted,
    }
}
