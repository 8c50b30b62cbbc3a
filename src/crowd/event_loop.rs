//! The crowd's threads: one per core, each driving its share of the
//! clients on non-blocking sockets and one poller, first connecting them
//! all, then, once every thread is ready, talking.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Registry, Token};

use super::frames::Frames;
use super::report::{End, Report, Tally};
use super::settings::{workers, Crowd};

impl Crowd {
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

/// Where a client is in its conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The handshake is under way.
    Connecting,
    /// Connected, waiting for the others.
    Ready,
    /// Sending requests and reading replies, then sending `exit` and
    /// waiting for the server to close.
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
        if self.outgoing == Outgoing::Exit {
            self.read_to_close(shared.tally);
            return Ok(false);
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
            // Nothing more to send: the server sees the end of the stream
            // after `exit`, should it not close on `exit` alone. The client
            // is served once the server closes (see `read_to_close`).
            let _ = self.socket.shutdown(Shutdown::Write);
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
                        // After the last reply too: what came with it is
                        // read next turn, as no event may say it is there.
                        return Ok(self.stage == Stage::Talking && !self.writable_too);
                    }
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => self.lost(End::Reset, shared.tally),
            }
        }
        Ok(false)
    }

    /// After `exit`: reads until the server closes the connection. The end
    /// of the stream, or a reset (a server that closed with `exit` unread),
    /// and the client was served; a byte first, and the server sent a frame
    /// no request asked for. Nothing yet, and the client waits on.
    fn read_to_close(&mut self, tally: &mut Tally) {
        let end = loop {
            match self.socket.read(&mut [0]) {
                Ok(0) => break End::Served,
                Ok(_) => break End::ExtraFrame,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break End::Served,
            }
        };
        self.end(end, tally);
    }

    /// A whole, right reply is in: count it if it came in time, then send the
    /// next request, or `exit`.
    fn reply_complete(&mut self, token: Token, shared: &mut Shared) -> io::Result<()> {
        let now = Instant::now();
        // The sweep may not have run since the deadline passed: a reply
        // completed after it is late, however right.
        if now >= self.deadline {
            // A whole reply, late: not one cut off.
            shared.tally.late_replies += 1;
            self.end(self.waited_in_vain(), shared.tally);
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
    ///
    /// After `exit`, the server has had the time-out to close: every reply
    /// came, so the client was served, unless bytes came that no request
    /// asked for.
    fn deadline_passed(&mut self, shared: &mut Shared) {
        if self.outgoing == Outgoing::Exit {
            self.read_to_close(shared.tally);
            if self.stage == Stage::Talking {
                self.end(End::Served, shared.tally);
            }
            return;
        }
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

    /// The time-out passed with no more of the awaited reply: a reply cut
    /// off if part of it came, else starved or stalled.
    fn time_out(&mut self, tally: &mut Tally) {
        let end = if self.reply_cut_off() {
            End::HalfReply
        } else {
            self.waited_in_vain()
        };
        self.end(end, tally);
    }

    /// Starved if no reply ever came, stalled otherwise.
    fn waited_in_vain(&self) -> End {
        if self.replies == 0 {
            End::Starved
        } else {
            End::Stalled
        }
    }

    /// The server closed or reset the connection (`how`). In the middle of a
    /// reply, the reply was cut off; before any reply, the client is
    /// starved, as server-v2's queued clients are when it exits and resets
    /// them.
    fn lost(&mut self, how: End, tally: &mut Tally) {
        let end = if self.reply_cut_off() {
            End::HalfReply
        } else if self.replies == 0 {
            End::StarvedThenClosed
        } else {
            how
        };
        self.end(end, tally);
    }

    /// Whether part of the awaited reply came. A whole one moves the client
    /// on at once (the next request starts `received` again, `exit` ends
    /// the wait for replies), so bytes of it here are never all of it.
    fn reply_cut_off(&self) -> bool {
        self.outgoing == Outgoing::Request && self.received > 0
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
    fn at_deadline(then: impl FnOnce(std::net::TcpStream)) -> Report {
        let (mut client, server_side) = client_mid_run();
        then(server_side);
        let (poll, frames) = (Poll::new().unwrap(), Frames::new("Hello").unwrap());
        let crowd = Crowd::new("127.0.0.1", 12345, 1, 10).unwrap();
        let (mut scratch, mut tally, replies) = (vec![0; 64], Tally::default(), AtomicU64::new(0));
        let mut shared = Shared::new(&crowd, &frames, &poll, &mut scratch, &mut tally, &replies);
        client.deadline_passed(&mut shared);
        assert_eq!(client.stage, Stage::Done);
        tally.report(1, Duration::ZERO, Duration::ZERO)
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
