//! Figures from a run: throughput and the spread of latencies.

use std::time::Duration;

/// Durations, sorted, to read percentiles from.
#[derive(Debug, Clone, Default)]
pub struct Spread(Vec<Duration>);

impl Spread {
    pub fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort();
        Self(samples)
    }

    /// The `p`th percentile (nearest rank), or zero with no samples.
    pub fn percentile(&self, p: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// A closed-loop run: how many finished, in how long, and each one's latency.
#[derive(Debug, Clone)]
pub struct Run {
    pub latency: Spread,
    pub elapsed: Duration,
    pub failures: usize,
}

impl Run {
    pub fn new(latencies: Vec<Duration>, elapsed: Duration, failures: usize) -> Self {
        Self {
            latency: Spread::new(latencies),
            elapsed,
            failures,
        }
    }

    /// Runs taken in turns, as one.
    pub fn combined(runs: Vec<Run>) -> Self {
        let mut latencies = Vec::new();
        let (mut elapsed, mut failures) = (Duration::ZERO, 0);
        for run in runs {
            latencies.extend(run.latency.0);
            elapsed += run.elapsed;
            failures += run.failures;
        }
        Self::new(latencies, elapsed, failures)
    }

    pub fn per_second(&self) -> f64 {
        self.latency.len() as f64 / self.elapsed.as_secs_f64()
    }
}

/// Milliseconds with one decimal, for the table.
pub fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let spread = Spread::new((1..=100).rev().map(Duration::from_millis).collect());
        assert_eq!(spread.percentile(50.0), Duration::from_millis(50));
        assert_eq!(spread.percentile(99.0), Duration::from_millis(99));
        assert_eq!(spread.percentile(100.0), Duration::from_millis(100));
        assert_eq!(Spread::default().percentile(99.0), Duration::ZERO);
    }
}
