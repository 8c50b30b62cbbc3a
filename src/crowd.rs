//! A crowd of clients at once: the engine behind the `crowd` binary, the
//! tour's side-by-side table, and the benchmarks.
//!
//! Every client connects, then all start together: each sends a message and
//! waits for its reply, `messages` times, then sends `exit`. A client waits
//! at most `timeout` for its connection, and then for each reply. Each
//! client ends in exactly one of these ways, and the [`Report`] counts each:
//!
//! | outcome | what happened |
//! |---|---|
//! | served | every reply came, right and within the time-out, then `exit` was sent |
//! | starved | no reply ever came: the time-out passed, or the server closed or reset the connection without answering once. Against server-v2 that is every client but the first: they wait in its accept queue, and it resets them when it exits |
//! | stalled | some replies came, then one did not come within the time-out |
//! | wrong reply | a reply was not `message + " World!"` |
//! | closed, reset | after replies had begun, the server closed the connection, or reset it (or it broke otherwise): the server was stopped mid-run, say |
//! | refused | the connect was refused: nothing listens there (or, on Windows, the accept queue was full) |
//! | connect timed out | the handshake did not finish within the time-out: the server's accept queue was full and its kernel dropped the SYN (Linux and macOS do), or the server cannot be reached |
//! | connect failed | the connect failed otherwise: out of file descriptors or local ports, say |
//!
//! A reply that completes after its client's time-out does not count, however
//! right it is: the client is starved or stalled, and the report counts the
//! reply in `late_replies`.
//!
//! The run measured what was asked ([`Report::failure`] is `None`) when every
//! client ended served, starved or stalled: a server too busy, too slow or
//! too single-minded to answer in time is what a crowd is there to show.
//! Any other outcome means the crowd did not measure the server it was
//! pointed at: it answered wrongly, went away mid-run, or could not be
//! reached.
//!
//! The crowd must never be what limits a measurement, so it is not built like
//! the servers it measures. A few threads (one per core) each drive many
//! clients with non-blocking sockets and one poller (through `mio`: `epoll`
//! on Linux, `kqueue` on macOS, the AFD driver on Windows): a reply
//! costs a `read` or two and the next request one `write`, with no thread
//! switch per message. Nothing is allocated per message, and memory does not
//! grow with `messages`: the request and the expected reply are encoded once,
//! each client keeps a few counters, and the round trips go into one
//! fixed-size histogram per thread, merged at the end.
//!
//! What cannot work is refused before anything is allocated
//! ([`Crowd::check`]): more clients than this system has local ports for
//! outgoing connections, or than this process may open files, and a message
//! whose reply would not fit in a frame.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Registry, Token};

use client::protocol::{encode, write_utf, MAX_FRAME_PAYLOAD};

/// How long a client waits for its connection, and then for each reply,
/// unless told otherwise: [`Crowd::new`]'s, and `crowd --timeout-ms`'s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// What a crowd does.
#[derive(Debug, Clone)]
pub struct Crowd {
    /// The server's address.
    pub server: SocketAddr,
    /// How many clients connect at once.
    pub clients: usize,
    /// How many messages each client sends, one at a time.
    pub messages: usize,
    /// How long a client waits for its connection, and then for each reply,
    /// before it gives up.
    pub timeout: Duration,
    /// The message each client sends.
    pub message: String,
}

/// What a crowd saw. Each client is counted in exactly one outcome:
/// `served + starved + stalled + wrong_replies + closed + reset + refused +
/// connect_timed_out + connect_failed == clients`. The module's
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
    /// Clients that got a reply that was not `message + " World!"` (each
    /// stops at its first, so this is also the number of wrong replies).
    pub wrong_replies: usize,
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
    /// Round-trip time, median, in microseconds.
    pub p50_us: u64,
    /// Round-trip time, 99th percentile, in microseconds.
    pub p99_us: u64,
    /// Round-trip time, longest, in microseconds.
    pub max_us: u64,
}

impl Crowd {
    /// A crowd of `clients` clients sending `messages` messages each to
    /// `host:port`, with the default message (`Hello`) and time-out
    /// ([`DEFAULT_TIMEOUT`], 2 s).
    pub fn new(host: &str, port: u16, clients: usize, messages: usize) -> Result<Crowd> {
        let server = client::net::resolve(host, port)?;
        Ok(Crowd {
            server,
            clients,
            messages,
            timeout: DEFAULT_TIMEOUT,
            message: "Hello".to_string(),
        })
    }

    /// Refuses a crowd that cannot work, with the limit that applies and what
    /// to do: no clients or no messages; more clients than this system has
    /// local ports for outgoing connections (every connection to one server
    /// needs its own); more than this process may open files (every
    /// connection is one; the limit is raised to its ceiling first); the
    /// message `exit`, or one whose reply would not fit in a frame.
    ///
    /// [`Crowd::run`] checks this first, before it allocates anything.
    ///
    /// ```
    /// let crowd = socket_lesson::crowd::Crowd::new("127.0.0.1", 12345, 1_000_000_000, 5)?;
    /// assert!(crowd.check().unwrap_err().to_string().contains("local ports"));
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn check(&self) -> Result<()> {
        self.prepare().map(drop)
    }

    /// [`Crowd::check`], returning the frames the clients will send and expect.
    fn prepare(&self) -> Result<Frames> {
        if self.clients == 0 {
            bail!("a crowd needs at least one client");
        }
        if self.messages == 0 {
            bail!("each client needs at least one message to send: with none, nothing is measured");
        }
        let ports = ephemeral_ports();
        if self.clients > ports.count() {
            bail!(
                "{} clients need as many local ports, but this system gives outgoing connections {} \
                 (ports {} to {}, {}): use at most {} clients",
                self.clients,
                ports.count(),
                ports.first,
                ports.last,
                ports.source,
                ports.count()
            );
        }
        // `None` where the system has no such limit (Windows).
        if let Some(limit) = client::net::raise_open_file_limit() {
            let needed = self.open_files_needed();
            if needed > limit {
                bail!(
                    "{} clients need about {needed} open files (each connection is one), but this \
                     process may open {limit}: run `ulimit -n {needed}` first (`ulimit -Hn` shows the \
                     most allowed), or use fewer clients",
                    self.clients
                );
            }
        }
        Frames::new(&self.message)
    }

    /// About how many files a run keeps open: a socket per client, an
    /// poller per thread, and a margin for the standard streams and the rest.
    fn open_files_needed(&self) -> u64 {
        (self.clients + workers(self.clients) + 16) as u64
    }

    /// Runs the crowd to its end and reports. `progress` is told the number
    /// of replies so far, about every 200 ms, while the crowd runs.
    ///
    /// Fails when the crowd cannot run at all: [`Crowd::check`] refuses it,
    /// or no client could connect. Every other outcome is in the report, and
    /// [`Report::failure`] says whether it measured what was asked.
    ///
    /// ```no_run
    /// let crowd = socket_lesson::crowd::Crowd::new("127.0.0.1", 12345, 20, 5)?;
    /// let report = crowd.run(|_replies| {})?;
    /// println!("{} served, {} starved", report.served, report.starved);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn run(&self, mut progress: impl FnMut(u64)) -> Result<Report> {
        let frames = Arc::new(self.prepare()?);
        let started = Instant::now();
        let workers = workers(self.clients);
        let replies = Arc::new(AtomicU64::new(0));
        // Every worker connects its clients, then all start talking together.
        let start_line = Arc::new(Barrier::new(workers + 1));
        // Each worker wakes this thread when it is done, so that the run ends
        // when its last client does, not at the next progress report.
        let finished = Arc::new(AtomicUsize::new(0));
        let this_thread = thread::current();

        let mut handles = Vec::with_capacity(workers);
        for worker in 0..workers {
            // Clients worker, worker + workers, worker + 2 * workers, ...
            let clients = (worker..self.clients).step_by(workers).count();
            let (crowd, frames, replies, start_line, finished, this_thread) = (
                self.clone(),
                frames.clone(),
                replies.clone(),
                start_line.clone(),
                finished.clone(),
                this_thread.clone(),
            );
            let handle = thread::Builder::new()
                .name(format!("crowd-{}", worker + 1))
                .spawn(move || {
                    let worker = Worker::connect(&crowd, &frames, clients);
                    // Whatever happened, meet the others, so that no one waits for ever.
                    start_line.wait();
                    let tally = worker.and_then(|worker| worker.talk(&replies));
                    finished.fetch_add(1, Ordering::Release);
                    this_thread.unpark();
                    tally
                })
                .context("cannot start the crowd's threads")?;
            handles.push(handle);
        }

        start_line.wait();
        while finished.load(Ordering::Acquire) < workers {
            progress(replies.load(Ordering::Relaxed));
            thread::park_timeout(Duration::from_millis(200));
        }
        let mut tally = Tally::default();
        for handle in handles {
            let worker_tally = handle.join().expect("a crowd thread panicked");
            tally.merge(worker_tally.context("the crowd's event loop failed")?);
        }
        // No client connected at all: there is no server to measure.
        if tally.connected == 0 {
            let reason = tally.connect_error.as_deref().unwrap_or("no answer");
            bail!(
                "cannot connect to {}: {reason}; is a server running on port {}? Start one there first",
                self.server,
                self.server.port()
            );
        }
        // Both measured by the workers: the talking ends after every worker
        // is done connecting, as the start line makes them wait for each other.
        let connected_by = tally.connected_by.unwrap_or(started);
        let ended = tally.ended.unwrap_or(connected_by);
        Ok(tally.report(
            self.clients,
            ended.saturating_duration_since(started),
            connected_by.saturating_duration_since(started),
        ))
    }
}

/// How many threads drive a crowd of `clients`: one per core, at most one
/// per client.
fn workers(clients: usize) -> usize {
    let cores = thread::available_parallelism().map_or(1, |cores| cores.get());
    cores.min(clients).max(1)
}

impl Report {
    /// Why this run did not measure what was asked, in one line naming the
    /// counts, or `None` when it did: when every client ended served, starved
    /// or stalled.
    ///
    /// Starving and stalling are measurements: the server did not answer in
    /// time (server-v2's starvation is the lesson). A wrong reply, a
    /// connection closed or reset mid-run, or a connect that failed means the
    /// crowd did not measure the server it was pointed at.
    pub fn failure(&self) -> Option<String> {
        let were = |count: usize| if count == 1 { "was" } else { "were" };
        let outcomes = [
            (
                self.wrong_replies,
                "got a wrong reply (is the server one of the lesson's?)".to_string(),
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

/// The frames every client sends and expects, encoded once.
struct Frames {
    request: Vec<u8>,
    reply: Vec<u8>,
    exit: Vec<u8>,
}

/// What the server adds to a message to make its reply.
const REPLY_SUFFIX: &str = " World!";

impl Frames {
    /// The frames for `message`, or why it cannot be sent: `exit` ends the
    /// session instead of getting a reply, and the message and its reply
    /// must each fit in one frame.
    fn new(message: &str) -> Result<Frames> {
        if message == "exit" {
            bail!("the message \"exit\" ends the session instead of getting a reply: choose another");
        }
        let most = MAX_FRAME_PAYLOAD - REPLY_SUFFIX.len();
        let message_len = encode(message).len();
        if message_len > MAX_FRAME_PAYLOAD {
            bail!(
                "the message is {message_len} bytes encoded, more than one frame carries \
                 ({MAX_FRAME_PAYLOAD}), and its reply would be longer still: send at most {most} bytes"
            );
        }
        // The suffix is ASCII: one byte per character in any encoding.
        let reply_len = message_len + REPLY_SUFFIX.len();
        if reply_len > MAX_FRAME_PAYLOAD {
            bail!(
                "the reply to this message (the message and \"{REPLY_SUFFIX}\") would be {reply_len} \
                 bytes encoded, more than one frame carries ({MAX_FRAME_PAYLOAD}): send at most {most} \
                 bytes"
            );
        }
        Ok(Frames {
            request: frame(message),
            reply: frame(&format!("{message}{REPLY_SUFFIX}")),
            exit: frame("exit"),
        })
    }
}

/// The bytes `write_utf` would send for `message`, whose length
/// [`Frames::new`] has checked.
fn frame(message: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    write_utf(&mut bytes, message).expect("a checked length fits in a frame, and a Vec takes any write");
    bytes
}

/// The local ports this system gives outgoing connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PortRange {
    first: u16,
    last: u16,
    /// Where the range comes from, for messages.
    source: &'static str,
}

impl PortRange {
    fn count(&self) -> usize {
        usize::from(self.last) - usize::from(self.first) + 1
    }
}

/// Linux's range, as the system says it now.
#[cfg(target_os = "linux")]
fn ephemeral_ports() -> PortRange {
    const SOURCE: &str = "/proc/sys/net/ipv4/ip_local_port_range";
    std::fs::read_to_string(SOURCE)
        .ok()
        .and_then(|text| parse_port_range(&text))
        .map_or(
            PortRange {
                first: 32768,
                last: 60999,
                source: "Linux's default range",
            },
            |(first, last)| PortRange {
                first,
                last,
                source: SOURCE,
            },
        )
}

/// `/proc/sys/net/ipv4/ip_local_port_range`: two numbers, first and last.
#[cfg(any(target_os = "linux", test))]
fn parse_port_range(text: &str) -> Option<(u16, u16)> {
    let mut numbers = text.split_whitespace().map(str::parse::<u16>);
    let (first, last) = (numbers.next()?.ok()?, numbers.next()?.ok()?);
    (first <= last).then_some((first, last))
}

/// macOS's range, from its sysctls; the default if they cannot be read.
#[cfg(target_os = "macos")]
fn ephemeral_ports() -> PortRange {
    fn sysctl(name: &std::ffi::CStr) -> Option<u16> {
        u16::try_from(client::net::sysctl_int(name)?).ok()
    }
    match (
        sysctl(c"net.inet.ip.portrange.first"),
        sysctl(c"net.inet.ip.portrange.last"),
    ) {
        (Some(first), Some(last)) if first <= last => PortRange {
            first,
            last,
            source: "sysctl net.inet.ip.portrange",
        },
        _ => PortRange {
            first: 49152,
            last: 65535,
            source: "macOS's default range",
        },
    }
}

/// Windows' default dynamic range (and IANA's, which other systems follow).
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn ephemeral_ports() -> PortRange {
    PortRange {
        first: 49152,
        last: 65535,
        source: if cfg!(windows) {
            "Windows' default; `netsh int ipv4 show dynamicport tcp` shows this machine's"
        } else {
            "IANA's dynamic range"
        },
    }
}

/// How one client ended. Each ends in exactly one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Served,
    Starved,
    StarvedThenClosed,
    Stalled,
    WrongReply,
    Closed,
    Reset,
    Refused,
    ConnectTimedOut,
    ConnectFailed,
}

/// What one thread's clients saw, merged into the report at the end.
#[derive(Debug, Default)]
struct Tally {
    served: usize,
    starved: usize,
    starved_then_closed: usize,
    stalled: usize,
    wrong_replies: usize,
    closed: usize,
    reset: usize,
    refused: usize,
    connect_timed_out: usize,
    connect_failed: usize,
    connected: usize,
    connect_error: Option<String>,
    late_replies: u64,
    round_trips: Histogram,
    /// When every client of the thread had connected or given up: the end of
    /// its connecting phase, measured by the thread itself.
    connected_by: Option<Instant>,
    /// When the thread's last client ended.
    ended: Option<Instant>,
}

impl Tally {
    fn count(&mut self, end: End) {
        let count = match end {
            End::Served => &mut self.served,
            End::Starved => &mut self.starved,
            End::StarvedThenClosed => {
                self.starved_then_closed += 1;
                &mut self.starved
            }
            End::Stalled => &mut self.stalled,
            End::WrongReply => &mut self.wrong_replies,
            End::Closed => &mut self.closed,
            End::Reset => &mut self.reset,
            End::Refused => &mut self.refused,
            End::ConnectTimedOut => &mut self.connect_timed_out,
            End::ConnectFailed => &mut self.connect_failed,
        };
        *count += 1;
    }

    /// A connect failed: counts it by its cause, and keeps the first error.
    fn connect_failed(&mut self, error: &io::Error) {
        self.count(match error.kind() {
            io::ErrorKind::ConnectionRefused => End::Refused,
            io::ErrorKind::TimedOut => End::ConnectTimedOut,
            _ => End::ConnectFailed,
        });
        self.connect_error.get_or_insert_with(|| error.to_string());
    }

    fn merge(&mut self, other: Tally) {
        self.served += other.served;
        self.starved += other.starved;
        self.starved_then_closed += other.starved_then_closed;
        self.stalled += other.stalled;
        self.wrong_replies += other.wrong_replies;
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

    fn report(&self, clients: usize, elapsed: Duration, connecting: Duration) -> Report {
        let replies = self.round_trips.total;
        let elapsed_s = elapsed.as_secs_f64();
        Report {
            clients,
            connected: self.connected,
            served: self.served,
            starved: self.starved,
            starved_then_closed: self.starved_then_closed,
            stalled: self.stalled,
            wrong_replies: self.wrong_replies,
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
            p50_us: self.round_trips.percentile(50.0),
            p99_us: self.round_trips.percentile(99.0),
            max_us: self.round_trips.max,
        }
    }
}

/// Round-trip times in microseconds, counted in buckets whose width grows
/// with the value, so that its memory is fixed whatever the number of
/// messages (about 58 KiB).
///
/// Below 256 µs each microsecond has its own bucket; above, each doubling is
/// cut into 128 buckets, so a value is known to within 1/128 of itself
/// (under 0.8 %): finer than the difference between two round trips of the
/// same run, from a loopback median to a stall of seconds. A percentile is
/// its bucket's highest value, never above the longest round trip; as
/// HdrHistogram does, with two significant digits.
#[derive(Debug, Clone)]
struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

/// Buckets per doubling above [`EXACT`]: 2^7.
const SUB_BITS: u32 = 7;
const HALF: usize = 1 << SUB_BITS;
/// Values below this have a bucket each.
const EXACT: u64 = 2 << SUB_BITS;
/// 256 exact buckets, then 128 for each of the 56 doublings up to `u64::MAX`.
const BUCKETS: usize = EXACT as usize + (64 - SUB_BITS as usize - 1) * HALF;

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            max: 0,
        }
    }
}

impl Histogram {
    fn record(&mut self, value: u64) {
        self.counts[bucket(value)] += 1;
        self.total += 1;
        self.max = self.max.max(value);
    }

    fn merge(&mut self, other: &Histogram) {
        for (count, other) in self.counts.iter_mut().zip(&other.counts) {
            *count += other;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    /// The nearest-rank percentile, to its bucket's precision; 0 when empty.
    fn percentile(&self, percent: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((percent / 100.0 * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (index, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return highest_in(index).min(self.max);
            }
        }
        self.max
    }
}

/// The bucket that counts `value`.
fn bucket(value: u64) -> usize {
    if value < EXACT {
        return value as usize;
    }
    // `value` has 9 to 64 significant bits: keep its top 8, and say how far
    // they were shifted.
    let shift = (64 - value.leading_zeros()) - (SUB_BITS + 1);
    EXACT as usize + (shift as usize - 1) * HALF + ((value >> shift) as usize - HALF)
}

/// The highest value that bucket `index` counts.
fn highest_in(index: usize) -> u64 {
    if index < EXACT as usize {
        return index as u64;
    }
    let above = index - EXACT as usize;
    let shift = above / HALF + 1;
    let top = (above % HALF + HALF) as u64;
    // The last bucket ends at u64::MAX: the shift drops its top bit, and the
    // subtraction wraps to it.
    ((top + 1) << shift).wrapping_sub(1)
}

/// Where a client is in its conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The handshake is under way.
    Connecting,
    /// Connected, waiting for the others.
    Ready,
    /// Sending requests and reading replies, then sending `exit`.
    Talking,
    /// Ended; its [`End`] is counted.
    Done,
}

/// Which frame a client is sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outgoing {
    Request,
    Exit,
}

/// One client of a worker: a socket and a few counters, the same size
/// however many messages it sends.
struct Client {
    socket: TcpStream,
    stage: Stage,
    outgoing: Outgoing,
    /// Bytes of the outgoing frame written so far.
    written: usize,
    /// Bytes of the awaited reply received so far, each checked as it came.
    received: usize,
    /// Right replies received in time.
    replies: usize,
    /// Whether the socket is registered for writable events too: only while
    /// a frame is half-written.
    writable_too: bool,
    /// The last turn of its worker's event loop that handled it.
    turn: u64,
    sent_at: Instant,
    /// When this client gives up if its connection or reply is not complete.
    deadline: Instant,
}

/// What a worker's clients share while they talk.
struct Shared<'a> {
    frames: &'a Frames,
    messages: usize,
    timeout: Duration,
    registry: &'a Registry,
    /// Where replies are read into, to be compared with the expected one.
    scratch: &'a mut [u8],
    tally: &'a mut Tally,
    /// Replies so far, all threads together, for the progress report.
    replies: &'a AtomicU64,
}

impl<'a> Shared<'a> {
    /// Lends a worker's parts to its clients for one batch of events.
    fn new(
        crowd: &Crowd,
        frames: &'a Frames,
        poll: &'a Poll,
        scratch: &'a mut [u8],
        tally: &'a mut Tally,
        replies: &'a AtomicU64,
    ) -> Shared<'a> {
        Shared {
            frames,
            messages: crowd.messages,
            timeout: crowd.timeout,
            registry: poll.registry(),
            scratch,
            tally,
            replies,
        }
    }
}

/// One thread's share of the crowd, on one poller.
struct Worker<'a> {
    crowd: &'a Crowd,
    frames: &'a Frames,
    poll: Poll,
    events: Events,
    clients: Vec<Client>,
    scratch: Vec<u8>,
    tally: Tally,
    /// Turns of the event loop so far, in both phases.
    turns: u64,
}

impl<'a> Worker<'a> {
    /// Phase 1: starts `count` non-blocking connects and waits until every
    /// handshake has completed, failed, or timed out.
    fn connect(crowd: &'a Crowd, frames: &'a Frames, count: usize) -> io::Result<Worker<'a>> {
        let mut worker = Worker {
            crowd,
            frames,
            poll: Poll::new()?,
            events: Events::with_capacity(1024),
            clients: Vec::with_capacity(count),
            scratch: vec![0; 16 * 1024],
            tally: Tally::default(),
            turns: 0,
        };
        for _ in 0..count {
            let now = Instant::now();
            match TcpStream::connect(crowd.server) {
                Ok(mut socket) => {
                    let token = Token(worker.clients.len());
                    worker
                        .poll
                        .registry()
                        .register(&mut socket, token, Interest::WRITABLE)?;
                    worker.clients.push(Client {
                        socket,
                        stage: Stage::Connecting,
                        outgoing: Outgoing::Request,
                        written: 0,
                        received: 0,
                        replies: 0,
                        writable_too: false,
                        turn: 0,
                        sent_at: now,
                        deadline: now + crowd.timeout,
                    });
                }
                Err(error) => worker.tally.connect_failed(&error),
            }
        }
        worker.drive(Stage::Connecting, &AtomicU64::new(0))?;
        worker.tally.connected_by = Some(Instant::now());
        Ok(worker)
    }

    /// Phase 2: every connected client talks until it ends.
    fn talk(mut self, replies: &AtomicU64) -> io::Result<Tally> {
        let mut shared = Shared::new(
            self.crowd,
            self.frames,
            &self.poll,
            &mut self.scratch,
            &mut self.tally,
            replies,
        );
        for (index, client) in self.clients.iter_mut().enumerate() {
            if client.stage == Stage::Ready {
                let token = Token(index);
                shared
                    .registry
                    .reregister(&mut client.socket, token, Interest::READABLE)?;
                client.stage = Stage::Talking;
                client.send(Outgoing::Request, token, &mut shared)?;
            }
        }
        self.drive(Stage::Talking, replies)?;
        self.tally.ended = Some(Instant::now());
        Ok(self.tally)
    }

    /// Handles events until no client is at `stage` any more.
    fn drive(&mut self, stage: Stage, replies: &AtomicU64) -> io::Result<()> {
        // Deadlines are swept every 10 ms, cheaply even with thousands of
        // clients; a reply is also checked against its deadline when it
        // completes, so a late one never counts, even between two sweeps.
        const SWEEP: Duration = Duration::from_millis(10);
        let mut next_sweep = Instant::now() + SWEEP;
        // Counted once, then kept up to date as clients move on, so that a
        // batch of events costs nothing per idle client.
        let mut at_stage = self.clients.iter().filter(|client| client.stage == stage).count();
        // Clients to read again: each took one reply and sent its next
        // request, but did not read on to `WouldBlock` (see `read_replies`).
        // Two lists that trade places each turn, so that neither allocates
        // once it has grown: this turn's, and the next one's.
        let mut again: Vec<usize> = Vec::new();
        let mut this_turn: Vec<usize> = Vec::new();
        while at_stage > 0 {
            // With clients to read again, only look for new events: no wait.
            let wait = if again.is_empty() { SWEEP } else { Duration::ZERO };
            match self.poll.poll(&mut self.events, Some(wait)) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                other => other?,
            }
            let mut shared = Shared::new(
                self.crowd,
                self.frames,
                &self.poll,
                &mut self.scratch,
                &mut self.tally,
                replies,
            );
            // A turn: the clients with an event, then those to read again,
            // each once.
            self.turns += 1;
            let turn = self.turns;
            let with_events = self.events.iter().map(|event| event.token().0);
            std::mem::swap(&mut again, &mut this_turn);
            for index in with_events.chain(this_turn.drain(..)) {
                let client = &mut self.clients[index];
                if client.stage != stage || client.turn == turn {
                    continue;
                }
                client.turn = turn;
                let read_again = match stage {
                    Stage::Connecting => {
                        client.finish_connect(shared.tally);
                        false
                    }
                    Stage::Talking => client.on_ready(Token(index), &mut shared)?,
                    Stage::Ready | Stage::Done => false,
                };
                if read_again {
                    again.push(index);
                }
                if client.stage != stage {
                    at_stage -= 1;
                }
            }
            let now = Instant::now();
            if now >= next_sweep {
                for client in self.clients.iter_mut().filter(|client| client.stage == stage) {
                    if now >= client.deadline {
                        match stage {
                            Stage::Connecting => client.end(End::ConnectTimedOut, shared.tally),
                            _ => client.deadline_passed(&mut shared),
                        }
                        at_stage -= 1;
                    }
                }
                next_sweep = now + SWEEP;
            }
        }
        Ok(())
    }
}

impl Client {
    /// The socket became writable: the handshake is done, or failed.
    fn finish_connect(&mut self, tally: &mut Tally) {
        match self.socket.take_error() {
            Ok(None) => {}
            Ok(Some(error)) | Err(error) => {
                self.stage = Stage::Done;
                return tally.connect_failed(&error);
            }
        }
        match self.socket.peer_addr() {
            Ok(_) => {
                tally.connected += 1;
                self.stage = Stage::Ready;
            }
            // Not yet: a spurious wake-up.
            Err(error) if error.kind() == io::ErrorKind::NotConnected => {}
            Err(error) => {
                self.stage = Stage::Done;
                tally.connect_failed(&error);
            }
        }
    }

    /// The socket is readable or writable, or the client's turn to read
    /// again has come: finish a half-written frame, then read what has
    /// arrived. Returns whether to read again on the next turn.
    fn on_ready(&mut self, token: Token, shared: &mut Shared) -> io::Result<bool> {
        if self.writable_too {
            self.write_rest(token, shared)?;
            // A reply is read once its request is all out: no server answers
            // what it has not had whole, and whatever came meanwhile waits.
            if self.writable_too {
                return Ok(false);
            }
        }
        self.read_replies(token, shared)
    }

    /// Starts sending the next request, which starts its reply's time-out,
    /// or `exit` after the last reply.
    fn send(&mut self, outgoing: Outgoing, token: Token, shared: &mut Shared) -> io::Result<()> {
        let now = Instant::now();
        self.outgoing = outgoing;
        self.written = 0;
        self.received = 0;
        self.sent_at = now;
        self.deadline = now + shared.timeout;
        self.write_rest(token, shared)
    }

    /// Writes what is left of the outgoing frame, until it is all out or the
    /// send buffer is full. A frame written only in part is kept, and
    /// finished when the socket says it is writable again.
    fn write_rest(&mut self, token: Token, shared: &mut Shared) -> io::Result<()> {
        let frame = match self.outgoing {
            Outgoing::Request => &shared.frames.request,
            Outgoing::Exit => &shared.frames.exit,
        };
        while self.written < frame.len() {
            match self.socket.write(&frame[self.written..]) {
                Ok(0) => {
                    self.lost(End::Closed, shared.tally);
                    return Ok(());
                }
                Ok(written) => self.written += written,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    return self.want_writable(true, token, shared.registry);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.lost(End::Reset, shared.tally);
                    return Ok(());
                }
            }
        }
        self.want_writable(false, token, shared.registry)?;
        if self.outgoing == Outgoing::Exit {
            self.end(End::Served, shared.tally);
        }
        Ok(())
    }

    /// Asks for writable events too while a frame is half-written, and stops
    /// asking once it is out: otherwise on Windows, where mio re-arms a
    /// socket each time a call on it would block, every read that re-armed
    /// it would bring an event for the room to write.
    fn want_writable(&mut self, wanted: bool, token: Token, registry: &Registry) -> io::Result<()> {
        if self.writable_too != wanted {
            let interest = if wanted {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            registry.reregister(&mut self.socket, token, interest)?;
            self.writable_too = wanted;
        }
        Ok(())
    }

    /// Reads what has arrived, checking each byte against the expected reply
    /// as it comes, until the socket has nothing more (`WouldBlock`) or a
    /// reply is whole. Returns whether to read again on the next turn: after
    /// a whole reply the next request goes out, and more may have arrived
    /// already.
    ///
    /// Reading on until `WouldBlock` is mio's contract on every system: an
    /// event says that something arrived, not how much, and none may come
    /// for bytes already there. Linux's `epoll` happens to report each new
    /// reply anyway; mio on Windows re-arms a socket only when a call on it
    /// would block, so a client that stopped at the end of a reply would
    /// never hear of the next one. Reading on at the next turn, not at once,
    /// takes the clients in turn: a client whose server answers faster than
    /// the crowd reads would otherwise keep the thread to itself, while the
    /// others' replies waited and their round trips grew.
    fn read_replies(&mut self, token: Token, shared: &mut Shared) -> io::Result<bool> {
        // After the last reply only `exit` is still to send: nothing is awaited.
        while self.stage == Stage::Talking && self.outgoing == Outgoing::Request {
            let expected = &shared.frames.reply[self.received..];
            let chunk = expected.len().min(shared.scratch.len());
            match self.socket.read(&mut shared.scratch[..chunk]) {
                Ok(0) => self.lost(End::Closed, shared.tally),
                Ok(read) if shared.scratch[..read] != expected[..read] => {
                    self.end(End::WrongReply, shared.tally);
                }
                Ok(read) => {
                    self.received += read;
                    if self.received == shared.frames.reply.len() {
                        self.reply_complete(token, shared)?;
                        let awaiting = self.stage == Stage::Talking && self.outgoing == Outgoing::Request;
                        return Ok(awaiting && !self.writable_too);
                    }
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => self.lost(End::Reset, shared.tally),
            }
        }
        Ok(false)
    }

    /// A whole, right reply is in: count it if it came in time, then send the
    /// next request, or `exit`.
    fn reply_complete(&mut self, token: Token, shared: &mut Shared) -> io::Result<()> {
        let now = Instant::now();
        // The sweep may not have run since the deadline passed: a reply
        // completed after it is late, however right.
        if now >= self.deadline {
            shared.tally.late_replies += 1;
            self.time_out(shared.tally);
            return Ok(());
        }
        self.replies += 1;
        let round_trip = now.saturating_duration_since(self.sent_at).as_micros();
        shared
            .tally
            .round_trips
            .record(u64::try_from(round_trip).unwrap_or(u64::MAX));
        shared.replies.fetch_add(1, Ordering::Relaxed);
        let next = if self.replies == shared.messages {
            Outgoing::Exit
        } else {
            Outgoing::Request
        };
        self.send(next, token, shared)
    }

    /// The deadline passed with no reply for this client. Before counting it
    /// starved or stalled, asks its socket once: a connection that the server
    /// closed or reset just now, after the last poll and before this sweep,
    /// is counted as what it is.
    fn deadline_passed(&mut self, shared: &mut Shared) {
        match self.socket.read(&mut shared.scratch[..1]) {
            Ok(0) => self.lost(End::Closed, shared.tally),
            Err(error)
                if error.kind() != io::ErrorKind::WouldBlock
                    && error.kind() != io::ErrorKind::Interrupted =>
            {
                self.lost(End::Reset, shared.tally)
            }
            // Nothing, or bytes too late to count: the time-out it is.
            _ => self.time_out(shared.tally),
        }
    }

    /// The time-out passed: starved if no reply ever came, stalled otherwise.
    fn time_out(&mut self, tally: &mut Tally) {
        self.end(
            if self.replies == 0 {
                End::Starved
            } else {
                End::Stalled
            },
            tally,
        );
    }

    /// The server closed or reset the connection (`how`). Before any reply,
    /// the client is starved, as server-v2's queued clients are when it
    /// exits and resets them.
    fn lost(&mut self, how: End, tally: &mut Tally) {
        self.end(
            if self.replies == 0 {
                End::StarvedThenClosed
            } else {
                how
            },
            tally,
        );
    }

    fn end(&mut self, end: End, tally: &mut Tally) {
        self.stage = Stage::Done;
        tally.count(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client mid-run (one reply in) on a real loopback connection, and
    /// the server's side of it.
    fn client_mid_run() -> (Client, std::net::TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let socket = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        socket.set_nonblocking(true).unwrap();
        let (server_side, _) = listener.accept().unwrap();
        let now = Instant::now();
        let client = Client {
            socket: TcpStream::from_std(socket),
            stage: Stage::Talking,
            outgoing: Outgoing::Request,
            written: 0,
            received: 0,
            replies: 1,
            writable_too: false,
            turn: 0,
            sent_at: now,
            deadline: now,
        };
        (client, server_side)
    }

    /// What a client ends as when its deadline passes with no event, after
    /// `server_side` did what `then` does to the connection.
    fn at_deadline(then: impl FnOnce(std::net::TcpStream)) -> Tally {
        let (mut client, server_side) = client_mid_run();
        then(server_side);
        let (poll, frames) = (Poll::new().unwrap(), Frames::new("Hello").unwrap());
        let crowd = Crowd::new("127.0.0.1", 12345, 1, 10).unwrap();
        let (mut scratch, mut tally, replies) = (vec![0; 64], Tally::default(), AtomicU64::new(0));
        let mut shared = Shared::new(&crowd, &frames, &poll, &mut scratch, &mut tally, &replies);
        client.deadline_passed(&mut shared);
        assert_eq!(client.stage, Stage::Done);
        tally
    }

    #[test]
    fn at_its_deadline_a_client_asks_its_socket_what_became_of_the_server() {
        // The server closed, and no event ever said so: closed, not stalled.
        let closed = at_deadline(drop);
        assert_eq!((closed.closed, closed.stalled), (1, 0), "{closed:?}");
        // The server is there and silent: stalled.
        let mut kept = None;
        let silent = at_deadline(|server_side| kept = Some(server_side));
        assert_eq!((silent.stalled, silent.closed), (1, 0), "{silent:?}");
    }

    fn histogram(values: impl IntoIterator<Item = u64>) -> Histogram {
        let mut histogram = Histogram::default();
        for value in values {
            histogram.record(value);
        }
        histogram
    }

    #[test]
    fn nearest_rank_percentiles_are_exact_below_256_us() {
        let values = histogram(1..=100);
        assert_eq!(values.percentile(50.0), 50);
        assert_eq!(values.percentile(99.0), 99);
        assert_eq!(histogram([7]).percentile(99.0), 7);
        assert_eq!(histogram([]).percentile(50.0), 0);
    }

    #[test]
    fn a_bucket_holds_its_value_within_a_128th() {
        let mut value = 1u64;
        while value < u64::MAX / 3 {
            for value in [value, value + 1, value * 2 - 1] {
                let index = bucket(value);
                assert!(index < BUCKETS, "{value}");
                let highest = highest_in(index);
                assert!(highest >= value, "{value}: {highest}");
                assert!(highest - value <= value / 128, "{value}: {highest}");
                assert_eq!(bucket(highest), index, "{value}");
            }
            value = value * 3 / 2 + 1;
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
        assert_eq!(highest_in(BUCKETS - 1), u64::MAX);
    }

    #[test]
    fn percentiles_never_exceed_the_longest_round_trip() {
        let mut values = histogram([1000, 1000, 2_000_000]);
        assert_eq!(values.percentile(50.0), 1003); // 1000 to 1003 share a bucket
        assert_eq!(values.percentile(99.0), 2_000_000);
        values.merge(&histogram([5]));
        assert_eq!((values.total, values.max), (4, 2_000_000));
        assert_eq!(values.percentile(25.0), 5);
    }

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
        first.round_trips = histogram([10, 30]);
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
        assert_eq!((report.replies, report.max_us), (2, 30));
        assert_eq!((report.replies_per_s, report.connect_s), (1.0, 0.5));
    }

    fn report(ends: &[End]) -> Report {
        tally(ends).report(ends.len(), Duration::from_secs(1), Duration::ZERO)
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
        for end in [End::Refused, End::ConnectTimedOut, End::ConnectFailed] {
            assert!(report(&[end]).failure().unwrap().starts_with("1 of 1 clients "));
        }
    }

    #[test]
    fn a_reply_too_long_for_a_frame_is_refused_as_the_reply() {
        let most = "a".repeat(MAX_FRAME_PAYLOAD - REPLY_SUFFIX.len());
        assert_eq!(Frames::new(&most).unwrap().reply.len(), 2 + MAX_FRAME_PAYLOAD);
        let error = Frames::new(&format!("{most}a")).err().unwrap().to_string();
        assert!(
            error.starts_with("the reply to this message") && error.contains("65536 bytes encoded"),
            "{error}"
        );
        // Measured encoded: a NUL is two bytes in modified UTF-8.
        let error = Frames::new(&"\0".repeat(32_765)).err().unwrap().to_string();
        assert!(error.contains("would be 65537 bytes"), "{error}");
        let error = Frames::new(&"a".repeat(70_000)).err().unwrap().to_string();
        assert!(error.starts_with("the message is 70000 bytes encoded"), "{error}");
        let error = Frames::new("exit").err().unwrap().to_string();
        assert!(error.contains("ends the session"), "{error}");
    }

    #[test]
    fn the_port_range_is_read_as_the_kernel_writes_it() {
        assert_eq!(parse_port_range("32768\t60999\n"), Some((32768, 60999)));
        assert_eq!(parse_port_range("1024 1024"), Some((1024, 1024)));
        assert_eq!(parse_port_range("60999 32768"), None);
        assert_eq!(parse_port_range("32768"), None);
        assert!(ephemeral_ports().count() >= 1);
    }

    #[test]
    fn more_clients_than_ports_are_refused_before_anything_is_allocated() {
        let crowd = Crowd::new("127.0.0.1", 9, 1_000_000_000, 5).unwrap();
        let error = crowd.check().unwrap_err().to_string();
        let ports = ephemeral_ports();
        assert!(
            error.starts_with("1000000000 clients need as many local ports")
                && error.contains(&format!("use at most {} clients", ports.count())),
            "{error}"
        );
        let crowd = Crowd::new("127.0.0.1", 9, 1, 0).unwrap();
        assert!(crowd
            .check()
            .unwrap_err()
            .to_string()
            .contains("at least one message"));
    }

    /// Memory does not grow with the messages: a crowd that could send
    /// `usize::MAX` of them starts (and here ends at once, as the server
    /// closes it unanswered).
    #[test]
    fn a_client_keeps_nothing_per_message() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = thread::spawn(move || drop(listener.accept().unwrap()));
        let crowd = Crowd::new("127.0.0.1", port, 1, usize::MAX).unwrap();
        let report = crowd.run(|_| {}).unwrap();
        server.join().unwrap();
        assert_eq!(
            (report.connected, report.starved, report.starved_then_closed),
            (1, 1, 1)
        );
        assert_eq!(report.failure(), None);
    }
}
