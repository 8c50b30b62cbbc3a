//! Round-trip times in microseconds, in an HdrHistogram: a fixed-size
//! histogram whose buckets widen with the value, so that its memory does not
//! grow with the messages (about 58 KiB), and recording a reply allocates
//! nothing.
//!
//! With two significant digits, a value below 256 µs has a bucket of its
//! own; above, each doubling is cut into 128 buckets, so a value is known to
//! within 1/128 of itself (under 0.8 %): finer than the difference between
//! two round trips of the same run, from a loopback median to a stall of
//! seconds.

use hdrhistogram::Histogram;

/// The round trips of a thread's clients, or of the whole crowd once merged.
#[derive(Debug, Clone)]
pub(super) struct RoundTrips {
    histogram: Histogram<u64>,
    /// The longest round trip exactly, where the histogram knows only its
    /// bucket.
    max: u64,
}

impl Default for RoundTrips {
    fn default() -> RoundTrips {
        RoundTrips {
            // Every u64 value fits: nothing recorded is ever clamped.
            histogram: Histogram::new_with_bounds(1, u64::MAX, 2)
                .expect("bounds 1 to u64::MAX with 2 significant digits are valid"),
            max: 0,
        }
    }
}

impl RoundTrips {
    /// Records one round trip of `micros` microseconds, allocating nothing.
    pub(super) fn record(&mut self, micros: u64) {
        self.histogram.saturating_record(micros);
        self.max = self.max.max(micros);
    }

    /// Adds another thread's round trips to these.
    pub(super) fn merge(&mut self, other: &RoundTrips) {
        self.histogram
            .add(&other.histogram)
            .expect("histograms of the same bounds add up");
        self.max = self.max.max(other.max);
    }

    /// How many round trips were recorded.
    pub(super) fn len(&self) -> u64 {
        self.histogram.len()
    }

    /// The longest round trip; 0 when none was recorded.
    pub(super) fn max(&self) -> u64 {
        self.max
    }

    /// The nearest-rank percentile, to its bucket's precision (the bucket's
    /// highest value), never above the longest round trip; 0 when empty.
    pub(super) fn percentile(&self, percent: f64) -> u64 {
        if self.histogram.is_empty() {
            return 0;
        }
        self.histogram.value_at_quantile(percent / 100.0).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips(values: impl IntoIterator<Item = u64>) -> RoundTrips {
        let mut round_trips = RoundTrips::default();
        for value in values {
            round_trips.record(value);
        }
        round_trips
    }

    #[test]
    fn nearest_rank_percentiles_are_exact_below_256_us() {
        let values = round_trips(1..=100);
        assert_eq!(values.percentile(50.0), 50);
        assert_eq!(values.percentile(99.0), 99);
        assert_eq!(round_trips([7]).percentile(99.0), 7);
        assert_eq!(round_trips([0, 0, 3]).percentile(50.0), 0);
        assert_eq!(round_trips([]).percentile(50.0), 0);
    }

    #[test]
    fn a_percentile_is_known_within_a_128th() {
        let mut value = 1u64;
        while value < u64::MAX / 3 {
            for value in [value, value + 1, value * 2 - 1] {
                // Recorded with a larger one, so that the longest round trip
                // does not cap the percentile at the value itself.
                let median = round_trips([value, u64::MAX]).percentile(50.0);
                assert!(median >= value, "{value}: {median}");
                assert!(median - value <= value / 128, "{value}: {median}");
            }
            value = value * 3 / 2 + 1;
        }
        // The largest value there is, recorded without being clamped.
        let largest = round_trips([u64::MAX]).percentile(100.0);
        assert!(u64::MAX - largest <= u64::MAX / 128, "{largest}");
    }

    #[test]
    fn percentiles_never_exceed_the_longest_round_trip() {
        let mut values = round_trips([1000, 1000, 2_000_000]);
        assert_eq!(values.percentile(50.0), 1003); // 1000 to 1003 share a bucket
        assert_eq!(values.percentile(99.0), 2_000_000);
        values.merge(&round_trips([5]));
        assert_eq!((values.len(), values.max()), (4, 2_000_000));
        assert_eq!(values.percentile(25.0), 5);
    }
}
