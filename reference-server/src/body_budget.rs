//! The memory all connections together may hold in request bodies that are still
//! arriving in the connection table: a body takes its share before it is buffered.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What is left of the total buffering bound (`Config::body_buffer_total_bytes`).
#[derive(Debug, Clone)]
pub(crate) struct BodyBudget {
    left: Arc<AtomicU64>,
}

/// One body's share of the budget, given back when it is dropped: when a worker
/// takes the request, or the connection ends.
#[derive(Debug)]
pub(crate) struct BodyShare {
    left: Arc<AtomicU64>,
    bytes: u64,
}

impl BodyBudget {
    pub(crate) fn new(total: u64) -> Self {
        Self {
            left: Arc::new(AtomicU64::new(total)),
        }
    }

    /// Takes `bytes` of the budget, or nothing when less is left: then the body is
    /// not buffered, and streams to the app as a body above the bound does.
    pub(crate) fn take(&self, bytes: u64) -> Option<BodyShare> {
        self.left
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                left.checked_sub(bytes)
            })
            .ok()
            .map(|_| BodyShare {
                left: self.left.clone(),
                bytes,
            })
    }

    /// Bytes left to give.
    #[cfg(test)]
    pub(crate) fn left(&self) -> u64 {
        self.left.load(Ordering::Acquire)
    }
}

impl Drop for BodyShare {
    fn drop(&mut self) {
        self.left.fetch_add(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_refused_past_the_total_and_given_back_when_dropped() {
        let budget = BodyBudget::new(100);
        let a = budget.take(60).expect("60 of 100");
        assert!(budget.take(41).is_none(), "only 40 are left");
        let b = budget.take(40).expect("the last 40");
        assert_eq!(budget.left(), 0);
        drop(a);
        assert_eq!(budget.left(), 60);
        drop(b);
        assert_eq!(budget.left(), 100);
        assert!(budget.take(101).is_none(), "never more than the total");
    }
}
