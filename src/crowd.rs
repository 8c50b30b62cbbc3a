//! A crowd of clients at once: the engine behind the `crowd` binary, the
//! tour's side-by-side table, and the benchmarks.
//!
//! Every client connects, then all start together: each sends a message and
//! waits for its reply, `messages` times, then sends `exit`. A client that
//! hears nothing for `timeout` gives up: it is *starved*. Against server-v2
//! that is every client but the first; against server-v3, none.
//!
//! The crowd must never be what limits a measurement, so it is not built like
//! the servers it measures. A few threads (one per core) each drive many
//! clients with non-blocking sockets and one `epoll` (through `mio`): a reply
//! costs one `read` and the next request one `write`, with no thread switch
//! per message. Nothing is allocated per message: the request and the
//! expected reply are encoded once, and each client keeps its own latencies,
//! merged at the end.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use client::protocol::write_utf;

/// What a crowd does.
#[derive(Debug, Clone)]
pub struct Crowd {
    /// The server's address.
    pub server: SocketAddr,
    /// How many clients connect at once.
    pub clients: usize,
    /// How many messages each client sends, one at a time.
    pub messages: usize,
    /// How long a client waits for a connection or a reply before giving up.
    pub timeout: Duration,
    /// The message each client sends.
    pub message: String,
}

/// What a crowd saw. `served + starved == clients`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    /// Clients started.
    pub clients: usize,
    /// Clients whose connect succeeded (the kernel finished the handshake).
    pub connected: usize,
    /// Clients that got at least one reply.
    pub served: usize,
    /// Clients that got no reply at all.
    pub starved: usize,
    /// Correct replies received, all clients together.
    pub replies: u64,
    /// Replies that were not `message + " World!"`.
    pub wrong_replies: u64,
    /// Wall-clock time from the first connect to the last client's end.
    pub elapsed_s: f64,
    /// `replies / elapsed_s`.
    pub replies_per_s: f64,
    /// Round-trip time, median, in microseconds.
    pub p50_us: u64,
    /// Round-trip time, 99th percentile, in microseconds.
    pub p99_us: u64,
    /// Round-trip time, longest, in microseconds.
    pub max_us: u64,
}

/// What one client saw.
struct ClientOutcome {
    /// The connect's result: `Err` holds why it failed.
    connection: Result<(), io::ErrorKind>,
    /// When the client finished.
    ended: Instant,
    /// Replies that were not `message + " World!"`.
    wrong_replies: u64,
    /// One entry per correct reply, in microseconds.
    round_trips: Vec<u64>,
}

impl Crowd {
    /// A crowd of `clients` clients sending `messages` messages each to
    /// `host:port`, with the default message (`Hello`) and time-out (2 s).
    pub fn new(host: &str, port: u16, clients: usize, messages: usize) -> Result<Crowd> {
        let server = client::net::resolve(host, port)?;
        Ok(Crowd {
            server,
            clients,
            messages,
            timeout: Duration::from_secs(2),
            message: "Hello".to_string(),
        })
    }

    /// Runs the crowd to its end and reports. `progress` is told the number
    /// of replies so far, about every 200 ms, while the crowd runs.
    ///
    /// Fails only when the crowd could not run at all: no client could
    /// connect, or the message does not fit in a frame. Starved clients are a
    /// result, not a failure.
    ///
    /// ```no_run
    /// let crowd = socket_lesson::crowd::Crowd::new("127.0.0.1", 12345, 20, 5)?;
    /// let report = crowd.run(|_replies| {})?;
    /// println!("{} served, {} starved", report.served, report.starved);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn run(&self, mut progress: impl FnMut(u64)) -> Result<Report> {
        let frames = Arc::new(Frames {
            request: frame(&self.message)?,
            reply: frame(&format!("{} World!", self.message))?,
            exit: frame("exit")?,
        });
        let cores = thread::available_parallelism().map_or(1, |cores| cores.get());
        let workers = cores.min(self.clients).max(1);
        let replies = Arc::new(AtomicU64::new(0));
        // Every worker connects its clients, then all start talking together.
        let start_line = Arc::new(Barrier::new(workers + 1));

        let mut handles = Vec::with_capacity(workers);
        for worker in 0..workers {
            // Clients worker, worker + workers, worker + 2 * workers, ...
            let clients = (worker..self.clients).step_by(workers).count();
            let (crowd, frames, replies, start_line) =
                (self.clone(), frames.clone(), replies.clone(), start_line.clone());
            let handle = thread::Builder::new()
                .name(format!("crowd-{}", worker + 1))
                .spawn(move || {
                    let worker = Worker::connect(&crowd, &frames, clients);
                    // Whatever happened, meet the others, so that no one waits for ever.
                    start_line.wait();
                    worker?.talk(&replies)
                })
                .context("cannot start the crowd's threads")?;
            handles.push(handle);
        }

        start_line.wait();
        let started = Instant::now();
        while !handles.iter().all(|handle| handle.is_finished()) {
            progress(replies.load(Ordering::Relaxed));
            thread::park_timeout(Duration::from_millis(200));
        }
        let mut outcomes = Vec::with_capacity(self.clients);
        for handle in handles {
            let worker_outcomes = handle.join().expect("a crowd thread panicked");
            outcomes.extend(worker_outcomes.context("the crowd's event loop failed")?);
        }
        // No client connected at all: there is no server to measure.
        if let Some(Err(reason)) = outcomes.first().map(|outcome| outcome.connection) {
            if outcomes.iter().all(|outcome| outcome.connection.is_err()) {
                bail!(
                    "cannot connect to {}: {reason}; is the server running? Start one first",
                    self.server
                );
            }
        }
        let ended = outcomes
            .iter()
            .map(|outcome| outcome.ended)
            .max()
            .unwrap_or(started);
        Ok(Report::from_outcomes(
            &outcomes,
            ended.saturating_duration_since(started),
        ))
    }
}

/// The frames every client sends and expects, encoded once.
struct Frames {
    request: Vec<u8>,
    reply: Vec<u8>,
    exit: Vec<u8>,
}

/// Where a client is in its conversation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The handshake is under way.
    Connecting,
    /// Connected, waiting for the others.
    Ready,
    /// A request is out; part of the reply may be in.
    AwaitingReply,
    /// Finished: served, starved, refused or closed.
    Done,
}

/// One client of a worker.
struct Client {
    socket: TcpStream,
    stage: Stage,
    /// The reply so far: `filled` bytes of it.
    received: Vec<u8>,
    filled: usize,
    /// Requests still to send after the current one.
    remaining: usize,
    sent_at: Instant,
    /// When this client gives up if nothing arrives.
    deadline: Instant,
    outcome: ClientOutcome,
}

/// One thread's share of the crowd, on one `epoll`.
struct Worker<'a> {
    crowd: &'a Crowd,
    frames: &'a Frames,
    poll: Poll,
    events: Events,
    clients: Vec<Client>,
    /// Clients that never had a socket (out of descriptors, say).
    failed: Vec<ClientOutcome>,
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
            failed: Vec::new(),
        };
        let now = Instant::now();
        for _ in 0..count {
            let outcome = ClientOutcome {
                connection: Err(io::ErrorKind::TimedOut),
                ended: now,
                wrong_replies: 0,
                round_trips: Vec::with_capacity(crowd.messages),
            };
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
                        received: vec![0; frames.reply.len()],
                        filled: 0,
                        remaining: crowd.messages,
                        sent_at: now,
                        deadline: now + crowd.timeout,
                        outcome,
                    });
                }
                Err(error) => worker.failed.push(ClientOutcome {
                    connection: Err(error.kind()),
                    ..outcome
                }),
            }
        }
        worker.drive(Stage::Connecting, &AtomicU64::new(0))?;
        Ok(worker)
    }

    /// Phase 2: every connected client talks until it is served or starved.
    fn talk(mut self, replies: &AtomicU64) -> io::Result<Vec<ClientOutcome>> {
        for (index, client) in self.clients.iter_mut().enumerate() {
            if client.stage == Stage::Ready {
                self.poll
                    .registry()
                    .reregister(&mut client.socket, Token(index), Interest::READABLE)?;
                client.send_next(self.frames, self.crowd.timeout);
            }
        }
        self.drive(Stage::AwaitingReply, replies)?;
        Ok(self
            .clients
            .into_iter()
            .map(|client| client.outcome)
            .chain(self.failed)
            .collect())
    }

    /// Handles events until no client is at `stage` any more.
    fn drive(&mut self, stage: Stage, replies: &AtomicU64) -> io::Result<()> {
        // Deadlines are checked every 10 ms: finer than any time-out, and
        // cheap even with thousands of clients.
        const SWEEP: Duration = Duration::from_millis(10);
        let mut next_sweep = Instant::now() + SWEEP;
        // Counted once, then kept up to date as clients move on, so that a
        // batch of events costs nothing per idle client.
        let mut at_stage = self.clients.iter().filter(|client| client.stage == stage).count();
        while at_stage > 0 {
            match self.poll.poll(&mut self.events, Some(SWEEP)) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                other => other?,
            }
            for event in self.events.iter() {
                let client = &mut self.clients[event.token().0];
                if client.stage != stage {
                    continue;
                }
                match stage {
                    Stage::Connecting => client.finish_connect(),
                    Stage::AwaitingReply => client.read_reply(self.frames, self.crowd.timeout, replies),
                    Stage::Ready | Stage::Done => {}
                }
                if client.stage != stage {
                    at_stage -= 1;
                }
            }
            let now = Instant::now();
            if now >= next_sweep {
                for client in self.clients.iter_mut().filter(|client| client.stage == stage) {
                    if now >= client.deadline {
                        client.finish(); // starved, or its connect timed out
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
    fn finish_connect(&mut self) {
        match self.socket.take_error() {
            Ok(None) => {}
            Ok(Some(error)) | Err(error) => {
                self.outcome.connection = Err(error.kind());
                return self.finish();
            }
        }
        match self.socket.peer_addr() {
            Ok(_) => {
                self.outcome.connection = Ok(());
                self.stage = Stage::Ready;
            }
            // Not yet: a spurious wake-up.
            Err(error) if error.kind() == io::ErrorKind::NotConnected => {}
            Err(error) => {
                self.outcome.connection = Err(error.kind());
                self.finish();
            }
        }
    }

    /// Sends the next request, or `exit` when none is left.
    fn send_next(&mut self, frames: &Frames, timeout: Duration) {
        if self.remaining == 0 {
            // The reply to `exit` never comes; the server just closes.
            let _ = self.socket.write_all(&frames.exit);
            return self.finish();
        }
        self.remaining -= 1;
        self.filled = 0;
        self.sent_at = Instant::now();
        self.deadline = self.sent_at + timeout;
        // A small frame into an empty send buffer is written whole at once.
        match self.socket.write(&frames.request) {
            Ok(written) if written == frames.request.len() => self.stage = Stage::AwaitingReply,
            _ => self.finish(),
        }
    }

    /// The socket is readable: take what has arrived of the reply.
    fn read_reply(&mut self, frames: &Frames, timeout: Duration, replies: &AtomicU64) {
        loop {
            match self.socket.read(&mut self.received[self.filled..]) {
                Ok(0) => return self.finish(), // the server closed: done
                Ok(read) => self.filled += read,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return self.finish(), // reset
            }
            if self.filled == self.received.len() {
                if self.received != frames.reply {
                    self.outcome.wrong_replies += 1;
                    return self.finish();
                }
                self.outcome
                    .round_trips
                    .push(self.sent_at.elapsed().as_micros() as u64);
                replies.fetch_add(1, Ordering::Relaxed);
                // The reply was all there was to read: the server sends
                // nothing unasked. The next reply's arrival is a new event,
                // so no read is spent here to see `WouldBlock`.
                return self.send_next(frames, timeout);
            }
        }
    }

    fn finish(&mut self) {
        self.stage = Stage::Done;
        self.outcome.ended = Instant::now();
    }
}

/// The bytes `write_utf` would send for `message`.
fn frame(message: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    write_utf(&mut bytes, message).context("the message does not fit in one frame")?;
    Ok(bytes)
}

impl Report {
    fn from_outcomes(outcomes: &[ClientOutcome], elapsed: Duration) -> Report {
        let mut round_trips: Vec<u64> = outcomes
            .iter()
            .flat_map(|outcome| outcome.round_trips.iter().copied())
            .collect();
        round_trips.sort_unstable();
        let served = outcomes
            .iter()
            .filter(|outcome| !outcome.round_trips.is_empty())
            .count();
        let replies = round_trips.len() as u64;
        let elapsed_s = elapsed.as_secs_f64();
        Report {
            clients: outcomes.len(),
            connected: outcomes
                .iter()
                .filter(|outcome| outcome.connection.is_ok())
                .count(),
            served,
            starved: outcomes.len() - served,
            replies,
            wrong_replies: outcomes.iter().map(|outcome| outcome.wrong_replies).sum(),
            elapsed_s,
            replies_per_s: if elapsed_s > 0.0 {
                replies as f64 / elapsed_s
            } else {
                0.0
            },
            p50_us: percentile(&round_trips, 50.0),
            p99_us: percentile(&round_trips, 99.0),
            max_us: round_trips.last().copied().unwrap_or(0),
        }
    }
}

/// The nearest-rank percentile of sorted `values`; 0 when there are none.
fn percentile(sorted: &[u64], percent: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (percent / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50.0), 50);
        assert_eq!(percentile(&values, 99.0), 99);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
    }

    #[test]
    fn a_report_counts_served_and_starved() {
        let outcome = |connection, round_trips| ClientOutcome {
            connection,
            ended: Instant::now(),
            wrong_replies: 0,
            round_trips,
        };
        let outcomes = [
            outcome(Ok(()), vec![10, 30]),
            outcome(Ok(()), vec![]),
            outcome(Err(io::ErrorKind::TimedOut), vec![]),
        ];
        let report = Report::from_outcomes(&outcomes, Duration::from_secs(2));
        assert_eq!(
            (report.clients, report.connected, report.served, report.starved),
            (3, 2, 1, 2)
        );
        assert_eq!((report.replies, report.max_us), (2, 30));
        assert_eq!(report.replies_per_s, 1.0);
    }
}
