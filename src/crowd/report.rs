//! What a crowd saw: how each client ended, counted once, and the round
//! trips, merged from every thread into the [`Report`].

use std::io;
use std::time::{Duration, Instant};

use super::round_trips::RoundTrips;

/// What a crowd saw. Each client is counted in exactly one outcome:
/// `served + starved + stalled + half_replies + wrong_replies +
/// extra_frames + closed + reset + refused + connect_timed_out +
/// connect_failed == clients`. The module's
/// documentation says what each outcome means.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    /// Clients started.
    pub clients: usize,
    /// Clients whose connect succeeded (the kernel finished the handshake).
    pub connected: usize,
    /// Clients that got every reply, right and in time, then sent `exit`.
    pub served: usize,
    /// Clients that never got a reply.
    pub starved: usize,
    /// Of the starved, those whose connection the server closed or reset
    /// without answering once, rather than leaving them to time out.
    pub starved_then_closed: usize,
    /// Clients that got some replies, then not the next one in time.
    pub stalled: usize,
    /// Clients whose awaited reply stopped in the middle of its frame: some
    /// of its bytes came, each right, then no more within the time-out, or
    /// the server closed or reset the connection.
    pub half_replies: usize,
    /// Clients that got a reply that was not `message + " World!"` (each
    /// stops at its first, so this is also the number of wrong replies).
    pub wrong_replies: usize,
    /// Clients that got every reply in time, then bytes no request asked
    /// for, after the last reply and before the server closed the
    /// connection.
    pub extra_frames: usize,
    /// Clients whose connection the server closed after replies had begun.
    pub closed: usize,
    /// Clients whose connection the server reset after replies had begun.
    pub reset: usize,
    /// Clients whose connect was refused.
    pub refused: usize,
    /// Clients whose handshake did not finish within the time-out.
    pub connect_timed_out: usize,
    /// Clients whose connect failed in another way.
    pub connect_failed: usize,
    /// The first failed connect's error, as the system said it.
    pub connect_error: Option<String>,
    /// Right replies received in time, all clients together.
    pub replies: u64,
    /// Replies that completed after their client's time-out: not counted in
    /// `replies`.
    pub late_replies: u64,
    /// Wall-clock time of the whole run: from before the first connect to the
    /// end of the last client, connects and time-outs included.
    pub elapsed_s: f64,
    /// Of `elapsed_s`, the time until every client had connected or given up.
    pub connect_s: f64,
    /// `replies / elapsed_s`.
    pub replies_per_s: f64,
    /// Round-trip time, median, in microseconds; `None` when no reply came
    /// in time, so that nothing was measured.
    pub p50_us: Option<u64>,
    /// Round-trip time, 99th percentile, in microseconds; `None` as for
    /// `p50_us`.
    pub p99_us: Option<u64>,
    /// Round-trip time, longest, in microseconds; `None` as for `p50_us`.
    pub max_us: Option<u64>,
}

impl Report {
    /// Why this run did not measure what was asked, in one line naming the
    /// counts, or `None` when it did: when every client ended served, starved
    /// or stalled.
    ///
    /// Starving and stalling are measurements: the server did not answer in
    /// time (server-v2's starvation is the lesson). A reply cut off in the
    /// middle of its frame, a wrong reply, an extra frame, a connection
    /// closed or reset mid-run, or a connect that failed means the crowd did
    /// not measure the server it was pointed at.
    pub fn failure(&self) -> Option<String> {
        let were = |count: usize| if count == 1 { "was" } else { "were" };
        let outcomes = [
            (
                self.half_replies,
                "got a reply that stopped in the middle of its frame (did the server stop mid-write?)"
                    .to_string(),
            ),
            (
                self.wrong_replies,
                "got a wrong reply (is the server one of the lesson's?)".to_string(),
            ),
            (
                self.extra_frames,
                "got bytes after their last reply that no request asked for (is the server one of \
                 the lesson's?)"
                    .to_string(),
            ),
            (
                self.reset,
                format!(
                    "{} reset by the server mid-run (was it stopped?)",
                    were(self.reset)
                ),
            ),
            (
                self.closed,
                format!(
                    "{} closed by the server mid-run (was it stopped?)",
                    were(self.closed)
                ),
            ),
            (
                self.refused,
                format!("{} refused (is the server still running?)", were(self.refused)),
            ),
            (
                self.connect_timed_out,
                "could not connect within the time-out (the server's accept queue was full: raise \
                 its --backlog, or the time-out)"
                    .to_string(),
            ),
            (
                self.connect_failed,
                format!(
                    "could not connect ({})",
                    self.connect_error.as_deref().unwrap_or("no reason given")
                ),
            ),
        ];
        let mut failed = outcomes.into_iter().filter(|(count, _)| *count > 0);
        let (count, what) = failed.next()?;
        let mut line = format!("{count} of {} clients {what}", self.clients);
        for (count, what) in failed {
            line += &format!(", {count} {what}");
        }
        Some(line)
    }
}

/// How one client ended. Each ends in exactly one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    Served,
    Starved,
    StarvedThenClosed,
    Stalled,
    HalfReply,
    WrongReply,
    ExtraFrame,
    Closed,
    Reset,
    Refused,
    ConnectTimedOut,
    ConnectFailed,
}

/// What one thread's clients saw, merged into the report at the end.
#[derive(Debug, Default)]
pub(super) struct Tally {
    served: usize,
    starved: usize,
    starved_then_closed: usize,
    stalled: usize,
    half_replies: usize,
    wrong_replies: usize,
    extra_frames: usize,
    closed: usize,
    reset: usize,
    refused: usize,
    connect_timed_out: usize,
    connect_failed: usize,
    pub(super) connected: usize,
    pub(super) connect_error: Option<String>,
    pub(super) late_replies: u64,
    pub(super) round_trips: RoundTrips,
    /// When every client of the thread had connected or given up: the end of
    /// its connecting phase, measured by the thread itself.
    pub(super) connected_by: Option<Instant>,
    /// When the thread's last client ended.
    pub(super) ended: Option<Instant>,
}

impl Tally {
    /// Counts one client's end.
    pub(super) fn count(&mut self, end: End) {
        let count = match end {
            End::Served => &mut self.served,
            End::Starved => &mut self.starved,
            End::StarvedThenClosed => {
                self.starved_then_closed += 1;
                &mut self.starved
            }
            End::Stalled => &mut self.stalled,
            End::HalfReply => &mut self.half_replies,
            End::WrongReply => &mut self.wrong_replies,
            End::ExtraFrame => &mut self.extra_frames,
            End::Closed => &mut self.closed,
            End::Reset => &mut self.reset,
            End::Refused => &mut self.refused,
            End::ConnectTimedOut => &mut self.connect_timed_out,
            End::ConnectFailed => &mut self.connect_failed,
        };
        *count += 1;
    }

    /// A connect failed: counts it by its cause, and keeps the first error.
    pub(super) fn connect_failed(&mut self, error: &io::Error) {
        self.count(match error.kind() {
            io::ErrorKind::ConnectionRefused => End::Refused,
            io::ErrorKind::TimedOut => End::ConnectTimedOut,
            _ => End::ConnectFailed,
        });
        self.connect_error.get_or_insert_with(|| error.to_string());
    }

    /// Adds another thread's tally to this one.
    pub(super) fn merge(&mut self, other: Tally) {
        self.served += other.served;
        self.starved += other.starved;
        self.starved_then_closed += other.starved_then_closed;
        self.stalled += other.stalled;
        self.half_replies += other.half_replies;
        self.wrong_replies += other.wrong_replies;
        self.extra_frames += other.extra_frames;
        self.closed += other.closed;
        self.reset += other.reset;
        self.refused += other.refused;
        self.connect_timed_out += other.connect_timed_out;
        self.connect_failed += other.connect_failed;
        self.connected += other.connected;
        if self.connect_error.is_none() {
            self.connect_error = other.connect_error;
        }
        self.late_replies += other.late_replies;
        self.round_trips.merge(&other.round_trips);
        self.connected_by = self.connected_by.max(other.connected_by);
        self.ended = self.ended.max(other.ended);
    }

    /// The report of a run of `clients` clients that took `elapsed`, of
    /// which `connecting` to connect them.
    pub(super) fn report(&self, clients: usize, elapsed: Duration, connecting: Duration) -> Report {
        let replies = self.round_trips.len();
        let elapsed_s = elapsed.as_secs_f64();
        Report {
            clients,
            connected: self.connected,
            served: self.served,
            starved: self.starved,
            starved_then_closed: self.starved_then_closed,
            stalled: self.stalled,
            half_replies: self.half_replies,
            wrong_replies: self.wrong_replies,
            extra_frames: self.extra_frames,
            closed: self.closed,
            reset: self.reset,
            refused: self.refused,
            connect_timed_out: self.connect_timed_out,
            connect_failed: self.connect_failed,
            connect_error: self.connect_error.clone(),
            replies,
            late_replies: self.late_replies,
            elapsed_s,
            connect_s: connecting.as_secs_f64(),
            replies_per_s: if elapsed_s > 0.0 {
                replies as f64 / elapsed_s
            } else {
                0.0
            },
            // No reply, no round trip: nothing to show, rather than a 0.
            p50_us: (replies > 0).then(|| self.round_trips.percentile(50.0)),
            p99_us: (replies > 0).then(|| self.round_trips.percentile(99.0)),
            max_us: (replies > 0).then(|| self.round_trips.max()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(ends: &[End]) -> Tally {
        let mut tally = Tally::default();
        for &end in ends {
            tally.count(end);
        }
        tally
    }

    #[test]
    fn a_report_counts_each_client_once() {
        let mut first = tally(&[End::Served, End::Starved, End::StarvedThenClosed]);
        first.connected = 3;
        first.round_trips.record(10);
        first.round_trips.record(30);
        let mut second = tally(&[End::Stalled, End::WrongReply, End::ConnectTimedOut]);
        second.connected = 2;
        first.merge(second);
        let report = first.report(6, Duration::from_secs(2), Duration::from_millis(500));
        assert_eq!(
            (report.clients, report.connected, report.served, report.starved),
            (6, 5, 1, 2)
        );
        assert_eq!(
            (report.starved_then_closed, report.stalled, report.wrong_replies),
            (1, 1, 1)
        );
        assert_eq!(report.connect_timed_out, 1);
        assert_eq!((report.replies, report.max_us), (2, Some(30)));
        assert_eq!((report.replies_per_s, report.connect_s), (1.0, 0.5));
    }

    fn report(ends: &[End]) -> Report {
        tally(ends).report(ends.len(), Duration::from_secs(1), Duration::ZERO)
    }

    #[test]
    fn without_a_reply_no_round_trip_is_shown() {
        let starved = report(&[End::Starved, End::StarvedThenClosed]);
        assert_eq!(
            (starved.p50_us, starved.p99_us, starved.max_us),
            (None, None, None)
        );
    }

    #[test]
    fn served_starved_and_stalled_are_measurements() {
        let ends = [End::Served, End::Starved, End::StarvedThenClosed, End::Stalled];
        assert_eq!(report(&ends).failure(), None);
    }

    #[test]
    fn anything_else_fails_in_one_line_with_the_counts() {
        let failure = report(&[End::Served, End::Reset, End::Reset, End::WrongReply])
            .failure()
            .unwrap();
        assert_eq!(
            failure,
            "1 of 4 clients got a wrong reply (is the server one of the lesson's?), \
             2 were reset by the server mid-run (was it stopped?)"
        );
        let failure = report(&[End::Served, End::Closed]).failure().unwrap();
        assert_eq!(
            failure,
            "1 of 2 clients was closed by the server mid-run (was it stopped?)"
        );
        let failure = report(&[End::Served, End::HalfReply, End::ExtraFrame])
            .failure()
            .unwrap();
        assert_eq!(
            failure,
            "1 of 3 clients got a reply that stopped in the middle of its frame (did the server \
             stop mid-write?), 1 got bytes after their last reply that no request asked for (is \
             the server one of the lesson's?)"
        );
        for end in [End::Refused, End::ConnectTimedOut, End::ConnectFailed] {
            assert!(report(&[end]).failure().unwrap().starts_with("1 of 1 clients "));
        }
    }
}
