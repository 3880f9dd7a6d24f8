//! A quota of events per reader key and hour. Any member whose credential
//! verifies may send events, so without it one reader could fill the
//! originator's database and bury the real events. The count runs in fixed
//! one-hour windows that start with a reader's first event, in memory: a
//! restart of the collector starts every window afresh.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Length of a quota window.
const WINDOW: Duration = Duration::from_secs(3600);

/// Readers whose windows are kept before expired ones are dropped. Only
/// keys the trust list verified reach the quota, so the map stays small, and
/// this bound limits the work of dropping them.
const PRUNE_ABOVE: usize = 10_000;

/// A reader over its quota: who, and the seconds until its window ends.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct OverQuota {
    pub(crate) kid: String,
    pub(crate) retry_after_seconds: u64,
}

/// Events each reader key may send per window.
pub(crate) struct ReaderQuota {
    per_window: u64,
    /// Start of each reader's current window and the events counted in it.
    windows: Mutex<HashMap<String, (Instant, u64)>>,
}

impl ReaderQuota {
    /// Creates a quota of `per_hour` events for each reader key.
    pub(crate) fn new(per_hour: u64) -> ReaderQuota {
        ReaderQuota { per_window: per_hour, windows: Mutex::new(HashMap::new()) }
    }

    /// Counts one batch, `counts` events per reader key, at `now`. The batch
    /// counts whole or not at all: when any reader would pass its quota,
    /// nothing is counted and the first such reader is returned.
    pub(crate) fn take(&self, counts: &BTreeMap<String, u64>, now: Instant) -> Result<(), OverQuota> {
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = |windows: &HashMap<String, (Instant, u64)>, kid: &str| {
            windows.get(kid).copied().filter(|(start, _)| now.duration_since(*start) < WINDOW).unwrap_or((now, 0))
        };
        for (kid, count) in counts {
            let (start, used) = current(&windows, kid);
            if used.saturating_add(*count) > self.per_window {
                let left = WINDOW.saturating_sub(now.duration_since(start));
                return Err(OverQuota { kid: kid.clone(), retry_after_seconds: left.as_secs().max(1) });
            }
        }
        for (kid, count) in counts {
            let (start, used) = current(&windows, kid);
            windows.insert(kid.clone(), (start, used + count));
        }
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(entries: &[(&str, u64)]) -> BTreeMap<String, u64> {
        entries.iter().map(|(kid, count)| ((*kid).to_owned(), *count)).collect()
    }

    #[test]
    fn counts_each_reader_apart() {
        let quota = ReaderQuota::new(10);
        let start = Instant::now();
        quota.take(&batch(&[("a", 6), ("b", 10)]), start).expect("first batch");
        quota.take(&batch(&[("a", 4)]), start).expect("a reaches its quota");
        let over = quota.take(&batch(&[("a", 1)]), start + Duration::from_secs(600)).expect_err("a is over");
        assert_eq!(over, OverQuota { kid: "a".into(), retry_after_seconds: 3000 });
    }

    #[test]
    fn rejected_batch_counts_nothing() {
        let quota = ReaderQuota::new(10);
        let start = Instant::now();
        quota.take(&batch(&[("a", 8)]), start).expect("first batch");
        assert!(quota.take(&batch(&[("a", 1), ("b", 11)]), start).is_err(), "b passes its quota");
        quota.take(&batch(&[("a", 2), ("b", 10)]), start).expect("neither counted the rejected batch");
    }

    #[test]
    fn new_window_starts_afresh() {
        let quota = ReaderQuota::new(10);
        let start = Instant::now();
        quota.take(&batch(&[("a", 10)]), start).expect("first batch");
        assert!(quota.take(&batch(&[("a", 1)]), start + Duration::from_secs(3599)).is_err());
        quota.take(&batch(&[("a", 10)]), start + WINDOW).expect("the next hour");
    }
}
