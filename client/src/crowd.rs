//! A crowd of clients at once: the engine behind the `crowd` binary, the
//! tour's side-by-side table, and the benchmarks.
//!
//! Each client runs on its own small thread: connect, then send a message and
//! wait for its reply, `messages` times, then send `exit`. A client that hears
//! nothing for `timeout` gives up: it is *starved*. Against server-v2 that is
//! every client but the first; against server-v3, none.
//!
//! The crowd must never be what limits a measurement, so a client's hot path
//! allocates nothing and shares nothing: the request frame and the expected
//! reply frame are encoded once, each round trip is one `write` and reads into
//! a buffer made beforehand, and each client keeps its own latencies, merged
//! only at the end.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::protocol::write_utf;

/// The stack of each client thread: it only moves bytes between buffers on
/// the heap, so a small stack lets a crowd of thousands fit in memory.
const CLIENT_STACK_SIZE: usize = 64 * 1024;

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
    wrong_replies: u64,
    /// One entry per correct reply, in microseconds.
    round_trips: Vec<u64>,
}

impl Crowd {
    /// A crowd of `clients` clients sending `messages` messages each to
    /// `host:port`, with the default message (`Hello`) and time-out (2 s).
    pub fn new(host: &str, port: u16, clients: usize, messages: usize) -> Result<Crowd> {
        let server = (host, port)
            .to_socket_addrs()
            .with_context(|| format!("cannot resolve host {host:?}"))?
            .next()
            .with_context(|| format!("host {host:?} has no address"))?;
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
    /// Fails only when the crowd could not run at all: no server listening,
    /// or a message that does not fit in a frame. Starved clients are a
    /// result, not a failure.
    ///
    /// ```no_run
    /// let crowd = client::crowd::Crowd::new("127.0.0.1", 12345, 20, 5)?;
    /// let report = crowd.run(|_replies| {})?;
    /// println!("{} served, {} starved", report.served, report.starved);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn run(&self, mut progress: impl FnMut(u64)) -> Result<Report> {
        let request = frame(&self.message)?;
        let reply = frame(&format!("{} World!", self.message))?;
        let (request, reply) = (Arc::new(request), Arc::new(reply));
        let replies = Arc::new(AtomicU64::new(0));
        // Every client connects, then all start talking together.
        let start_line = Arc::new(Barrier::new(self.clients + 1));

        let mut clients = Vec::with_capacity(self.clients);
        for number in 1..=self.clients {
            let (request, reply, replies, start_line) = (
                request.clone(),
                reply.clone(),
                replies.clone(),
                start_line.clone(),
            );
            let crowd = self.clone();
            let spawned = thread::Builder::new()
                .name(format!("crowd-{number}"))
                .stack_size(CLIENT_STACK_SIZE)
                .spawn(move || crowd.client(&request, &reply, &replies, &start_line));
            match spawned {
                Ok(client) => clients.push(client),
                Err(error) => {
                    // The threads already started are waiting at the barrier
                    // for a count that can no longer be reached.
                    bail!("cannot start client thread {number}: {error}; try fewer --clients")
                }
            }
        }

        start_line.wait();
        let started = Instant::now();
        while !clients.iter().all(|client| client.is_finished()) {
            progress(replies.load(Ordering::Relaxed));
            thread::park_timeout(Duration::from_millis(200));
        }
        let outcomes: Vec<ClientOutcome> = clients
            .into_iter()
            .map(|client| client.join().expect("a crowd client panicked"))
            .collect();
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

    /// One client, start to end.
    fn client(
        &self,
        request: &[u8],
        reply: &[u8],
        replies: &AtomicU64,
        start_line: &Barrier,
    ) -> ClientOutcome {
        let connection = TcpStream::connect_timeout(&self.server, self.timeout);
        start_line.wait();
        let mut outcome = ClientOutcome {
            connection: connection.as_ref().map(|_| ()).map_err(io::Error::kind),
            ended: Instant::now(),
            wrong_replies: 0,
            round_trips: Vec::with_capacity(self.messages),
        };
        let Ok(mut socket) = connection else {
            return outcome;
        };
        self.talk(&mut socket, request, reply, replies, &mut outcome);
        outcome.ended = Instant::now();
        outcome
    }

    /// A connected client's messages, one round trip at a time.
    fn talk(
        &self,
        socket: &mut TcpStream,
        request: &[u8],
        reply: &[u8],
        replies: &AtomicU64,
        outcome: &mut ClientOutcome,
    ) {
        if socket.set_read_timeout(Some(self.timeout)).is_err() {
            return;
        }
        let mut received = vec![0u8; reply.len()];
        for _ in 0..self.messages {
            let sent = Instant::now();
            // The reply's length is known, so read exactly that many bytes: a
            // reply of another length shows up as a mismatch or a time-out.
            if socket.write_all(request).is_err() || socket.read_exact(&mut received).is_err() {
                return; // starved, reset or closed: this client is done
            }
            if received != reply {
                outcome.wrong_replies += 1;
                return;
            }
            outcome.round_trips.push(sent.elapsed().as_micros() as u64);
            replies.fetch_add(1, Ordering::Relaxed);
        }
        let _ = write_utf(socket, "exit");
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
