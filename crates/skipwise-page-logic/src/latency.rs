//! Click-to-new-list times of one page load: from a play's end (the click that ended it, or
//! Autopilot's stop) to the list the worker computed *after that play's update*, matched by the
//! request's id. "Under the hood" prints their median and 95th percentile.

/// The times recorded so far, milliseconds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Latencies {
    millis: Vec<f64>,
}

/// How many plays were timed, and their p50 and p95 (nearest rank), in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub p50: f64,
    pub p95: f64,
}

impl Latencies {
    /// Records one play's time; a negative or non-finite time (a clock that jumped) is not one.
    pub fn push(&mut self, ms: f64) {
        if ms.is_finite() && ms >= 0.0 {
            self.millis.push(ms);
        }
    }

    pub fn summary(&self) -> Option<Summary> {
        let mut sorted = self.millis.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        // Nearest rank: the smallest time at least q of the plays did not exceed.
        let at = |q: f64| sorted[((q * n as f64).ceil() as usize).clamp(1, n) - 1];
        (n > 0).then(|| Summary { count: n, p50: at(0.5), p95: at(0.95) })
    }

    pub fn clear(&mut self) {
        self.millis.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank_and_bad_times_left_out() {
        let mut l = Latencies::default();
        assert_eq!(l.summary(), None);
        for ms in (1..=20).rev() {
            l.push(ms as f64);
        }
        l.push(f64::NAN);
        l.push(-3.0);
        assert_eq!(l.summary(), Some(Summary { count: 20, p50: 10.0, p95: 19.0 }));
        l.push(500.0);
        let s = l.summary().expect("some");
        assert_eq!((s.count, s.p50, s.p95), (21, 11.0, 20.0));
        l.clear();
        assert_eq!(l.summary(), None);
    }
}
