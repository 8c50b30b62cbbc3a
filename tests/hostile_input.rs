//! Hostile and unusual input: frames cut short, resets, bytes `readUTF`
//! refuses, an empty message, a reply too long for a frame, a silent client,
//! and a crowd.
//!
//! server-v3 must end only the session that received it, with a log line that
//! names the reason, while its other clients go on being answered. server-v2,
//! which has only one session, must end with one clear line on standard error
//! and a status that says whether the session failed.

use crate::common;

use std::io::BufReader;
use std::net::TcpStream;
use std::process::ExitStatus;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use client::protocol::{read_utf, write_utf, MAX_FRAME_PAYLOAD};
use common::{if_accepted_reported, wait_for_kernel, Peer, Server, PATIENCE, SILENCE};
use socket_lesson::kernel::TcpState;

/// A frame announcing 9 payload bytes that brings only 3.
const CUT_FRAME: [u8; 5] = [0x00, 0x09, b'c', b'u', b't'];
/// `FF` can start no character of modified UTF-8.
const FF_FRAME: [u8; 3] = [0x00, 0x01, 0xFF];
/// 😀 as standard UTF-8's four bytes, which Java's modified UTF-8 never uses.
const FOUR_BYTE_UTF8_FRAME: [u8; 6] = [0x00, 0x04, 0xF0, 0x9F, 0x98, 0x80];
/// "ok" then the first two bytes of 안 (`EC 95 88`): the frame ends inside it.
const CUT_CHARACTER_FRAME: [u8; 6] = [0x00, 0x04, b'o', b'k', 0xEC, 0x95];

/// The longest message whose reply (`message + " World!"`) still fits in a frame.
fn longest_answerable() -> String {
    "a".repeat(MAX_FRAME_PAYLOAD - " World!".len())
}

/// A message that fits in a frame but whose reply does not.
fn unanswerable() -> String {
    "a".repeat(MAX_FRAME_PAYLOAD)
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// The name of the server-v3 thread serving `peer`, e.g. `session-2`: the
/// main thread numbers sessions in the order it accepts them, and logs each
/// accept.
fn session_of(server: &mut Server, peer: &Peer) -> String {
    let accepted = format!("connected: client 127.0.0.1:{} ", peer.port());
    server.expect_log(&accepted);
    let log = server.log();
    let position = log
        .iter()
        .position(|line| line.contains(&accepted))
        .expect("the line just read");
    let number = log[..=position]
        .iter()
        .filter(|line| line.contains("] connected: client "))
        .count();
    format!("session-{number}")
}

/// Asserts that the server closed `peer`'s connection without sending a
/// single byte: `read_utf` reports a clean end only when the stream ends
/// before any byte of a frame, so neither a reply nor part of one came.
fn assert_closed_without_a_byte(peer: &mut Peer) {
    match peer.receive() {
        Ok(None) => {}
        other => panic!("expected the connection to end with no byte, got {other:?}"),
    }
}

/// What a [`Regular`]'s thread has done so far.
#[derive(Default)]
struct Progress {
    /// Exchanges completed, each reply checked.
    exchanges: u64,
    /// Set by the test: send `exit` and stop.
    stop: bool,
    /// Set by the thread when it ends: `Ok` after a clean `exit`, or what went wrong.
    outcome: Option<Result<(), String>>,
}

/// A well-behaved client on its own thread: it exchanges numbered messages
/// with the server back to back, checking every reply, until stopped. The
/// hostile sessions happen while it is being served.
struct Regular {
    shared: Arc<(Mutex<Progress>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Regular {
    /// Connects, makes a first exchange (so this client is the server's
    /// first session), then goes on in the background.
    fn start(server: &Server) -> Regular {
        let mut peer = Peer::connect(server.port).unwrap();
        peer.exchange("regular 0").unwrap();
        let shared = Arc::new((Mutex::new(Progress::default()), Condvar::new()));
        let thread = thread::spawn({
            let shared = Arc::clone(&shared);
            move || {
                let outcome = Regular::converse(&mut peer, &shared);
                shared.0.lock().unwrap().outcome = Some(outcome);
                shared.1.notify_all();
            }
        });
        Regular {
            shared,
            thread: Some(thread),
        }
    }

    /// The background thread's loop. It reports failures instead of
    /// panicking, so that the test can name them.
    fn converse(peer: &mut Peer, shared: &(Mutex<Progress>, Condvar)) -> Result<(), String> {
        for number in 1.. {
            if shared.0.lock().unwrap().stop {
                break;
            }
            let message = format!("regular {number}");
            peer.exchange(&message).map_err(|error| format!("{error:#}"))?;
            shared.0.lock().unwrap().exchanges += 1;
            shared.1.notify_all();
        }
        write_utf(&mut peer.socket, "exit").map_err(|error| format!("sending exit: {error}"))?;
        match peer.receive() {
            Ok(None) => Ok(()),
            other => Err(format!("after exit, expected the server to close, got {other:?}")),
        }
    }

    /// Waits until `done` holds, at most [`PATIENCE`]; panics if the thread
    /// failed first or nothing happened.
    fn wait_until(&self, what: &str, done: impl Fn(&Progress) -> bool) -> MutexGuard<'_, Progress> {
        let (lock, changed) = &*self.shared;
        let deadline = Instant::now() + PATIENCE;
        let mut progress = lock.lock().unwrap();
        loop {
            if let Some(Err(failure)) = &progress.outcome {
                panic!("the regular client failed: {failure}");
            }
            if done(&progress) {
                return progress;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the regular client never {what} within {PATIENCE:?}: {} exchanges",
                progress.exchanges
            );
            progress = changed.wait_timeout(progress, left).unwrap().0;
        }
    }

    /// Asserts that the regular client is served now: at least one exchange
    /// both starts and completes after this call begins.
    fn assert_served_now(&self) {
        let mark = self.shared.0.lock().unwrap().exchanges;
        drop(self.wait_until("completed another exchange", |progress| {
            progress.exchanges >= mark + 2
        }));
    }

    /// Sends `exit`, and asserts the server answered with a close, every
    /// reply before it having been correct.
    fn stop(mut self) {
        self.shared.0.lock().unwrap().stop = true;
        {
            let progress = self.wait_until("finished", |progress| progress.outcome.is_some());
            assert!(matches!(progress.outcome, Some(Ok(()))));
        }
        self.thread
            .take()
            .expect("stopped once")
            .join()
            .expect("the regular's thread");
    }
}

/// A server-v3 with a regular client being served, where one hostile session
/// is played out.
struct Scene {
    server: Server,
    regular: Regular,
    regular_session: String,
}

impl Scene {
    fn start() -> Scene {
        let mut server = Server::start("server-v3", &[]);
        let regular = Regular::start(&server);
        server.expect_log("[session-1] received: regular 0");
        Scene {
            server,
            regular,
            regular_session: "session-1".to_string(),
        }
    }

    /// Connects the hostile client, waits for the server to accept it, and
    /// returns it with the name of its session.
    fn hostile(&mut self) -> (Peer, String) {
        let peer = Peer::connect(self.server.port).unwrap();
        let session = session_of(&mut self.server, &peer);
        assert_ne!(session, self.regular_session);
        (peer, session)
    }

    /// Waits for `session`'s end to be logged with `reason`.
    fn expect_end(&mut self, session: &str, reason: &str) {
        self.server
            .expect_log(&format!("[{session}] session ended: {reason}"));
    }

    /// After the hostile session: the regular is still served and leaves
    /// cleanly, a newcomer is served, and the server, killed only now, was
    /// running all along and never panicked.
    fn finish(mut self) -> Vec<String> {
        self.regular.assert_served_now();
        self.regular.stop();
        self.server.expect_log(&format!(
            "[{}] session ended: the client sent exit",
            self.regular_session
        ));
        assert_server_unharmed(self.server)
    }
}

/// A newcomer is served, the server is still running, and once killed its
/// whole output shows no panic and nothing on standard error. Returns the log.
fn assert_server_unharmed(mut server: Server) -> Vec<String> {
    let mut newcomer = Peer::connect(server.port).unwrap();
    newcomer.exchange("newcomer").unwrap();
    assert!(server.process.is_running(), "the server exited");

    server.process.child.kill().expect("killing the server");
    let (status, stderr) = server.process.wait_exit();
    assert!(ended_by_kill(status), "ended by our kill: {status}");
    assert_eq!(stderr, "", "server-v3 logs to standard output only");
    let log = server.log().to_vec();
    assert!(!log.iter().any(|line| line.contains("panicked")), "{log:#?}");
    log
}

/// Whether the process ended because `Child::kill` killed it: SIGKILL on
/// Unix, `TerminateProcess` with exit code 1 on Windows.
fn ended_by_kill(status: ExitStatus) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        const SIGKILL: i32 = 9;
        status.signal() == Some(SIGKILL)
    }
    #[cfg(windows)]
    {
        status.code() == Some(1)
    }
}

// ---------------------------------------------------------------------------
// server-v3: each hostile input ends its own session only
// ---------------------------------------------------------------------------

#[test]
fn v3_a_frame_cut_short_then_closed() {
    let mut scene = Scene::start();
    let (mut hostile, session) = scene.hostile();
    hostile.send_bytes(&CUT_FRAME).unwrap();

    // While the server waits for the rest of the frame, the regular is
    // served, and the hostile client is sent nothing (not even a close).
    scene.regular.assert_served_now();
    hostile.silence(SILENCE).unwrap();

    drop(hostile);
    scene.expect_end(&session, "connection closed in the middle of a message");
    scene.finish();
}

#[test]
fn v3_a_client_that_closes_between_messages() {
    let mut scene = Scene::start();
    let (mut hostile, session) = scene.hostile();
    hostile.exchange("one").unwrap();
    scene.regular.assert_served_now();
    hostile.exchange("two").unwrap();

    drop(hostile);
    scene.expect_end(&session, "the client closed the connection");
    scene.finish();
}

#[test]
fn v3_a_reset_in_the_middle_of_a_session() {
    let mut scene = Scene::start();
    let (mut hostile, session) = scene.hostile();
    hostile.exchange("before the reset").unwrap();
    hostile.send_bytes(&CUT_FRAME).unwrap();
    scene.regular.assert_served_now();

    hostile.reset().unwrap();
    scene.expect_end(&session, "the client reset the connection (RST)");
    scene.finish();
}

/// Sends `frame`, which `readUTF` refuses, and checks the session ends with
/// `reason`, the client receiving no byte.
fn v3_refuses(frame: &[u8], reason: &str) {
    let mut scene = Scene::start();
    let (mut hostile, session) = scene.hostile();
    hostile.exchange("valid first").unwrap();
    scene.regular.assert_served_now();

    hostile.send_bytes(frame).unwrap();
    scene.expect_end(&session, reason);
    assert_closed_without_a_byte(&mut hostile);
    let log = scene.finish();
    let replies: Vec<&String> = log
        .iter()
        .filter(|line| line.contains(&format!("[{session}] sent: ")))
        .collect();
    assert_eq!(
        replies.len(),
        1,
        "only the valid message was answered: {replies:?}"
    );
    assert!(replies[0].ends_with("sent: valid first World!"), "{replies:?}");
}

#[test]
fn v3_the_byte_ff() {
    v3_refuses(
        &FF_FRAME,
        "invalid message: byte 0xFF at offset 0 cannot start a character",
    );
}

#[test]
fn v3_raw_four_byte_utf8() {
    v3_refuses(
        &FOUR_BYTE_UTF8_FRAME,
        "invalid message: byte 0xF0 at offset 0 cannot start a character",
    );
}

#[test]
fn v3_a_three_byte_character_cut_by_the_end_of_the_frame() {
    v3_refuses(
        &CUT_CHARACTER_FRAME,
        "invalid message: the message ends in the middle of a character (at offset 2)",
    );
}

#[test]
fn v3_an_empty_message_is_answered() {
    let mut scene = Scene::start();
    let (mut hostile, session) = scene.hostile();
    hostile.send("").unwrap();
    assert_eq!(hostile.receive().unwrap().as_deref(), Some(" World!"));
    scene.regular.assert_served_now();

    // The session goes on as usual after it.
    hostile.exchange("after the empty one").unwrap();
    hostile.send("exit").unwrap();
    scene.expect_end(&session, "the client sent exit");
    assert_closed_without_a_byte(&mut hostile);
    scene.finish();
}

#[test]
fn v3_a_reply_too_long_for_a_frame_ends_the_session_without_a_partial_frame() {
    let mut scene = Scene::start();
    let (mut hostile, session) = scene.hostile();

    // The longest answerable message gets its 65,535-byte reply...
    hostile.exchange(&longest_answerable()).unwrap();
    scene.regular.assert_served_now();

    // ...one byte more and the reply cannot be framed: the session ends and
    // the client sees the close, not a truncated or mislabelled frame.
    hostile.send(&unanswerable()).unwrap();
    scene.expect_end(
        &session,
        "cannot send the reply: message too long for one frame: 65542 bytes encoded, at most 65535",
    );
    assert_closed_without_a_byte(&mut hostile);
    scene.finish();
}

#[test]
fn v3_a_client_that_never_speaks_holds_up_no_one() {
    let mut scene = Scene::start();
    let (mut silent, session) = scene.hostile();

    // While the silent client's session waits, the regular and a newcomer
    // are served, and the silent client is sent nothing, not even a close:
    // its session is still open.
    scene.regular.assert_served_now();
    let mut newcomer = Peer::connect(scene.server.port).unwrap();
    newcomer.exchange("while someone is silent").unwrap();
    silent.silence(SILENCE).unwrap();

    drop(silent);
    scene.expect_end(&session, "the client closed the connection");
    newcomer.exchange("after the silent one left").unwrap();
    scene.finish();
}

// ---------------------------------------------------------------------------
// server-v3: a crowd
// ---------------------------------------------------------------------------

/// A rendezvous for a fixed number of threads, with a time-out so that a
/// thread that died cannot leave the others waiting for ever.
struct Gate {
    arrived: Mutex<usize>,
    changed: Condvar,
    expected: usize,
}

impl Gate {
    fn new(expected: usize) -> Gate {
        Gate {
            arrived: Mutex::new(0),
            changed: Condvar::new(),
            expected,
        }
    }

    fn arrive_and_wait(&self, what: &str) {
        let mut arrived = self.arrived.lock().unwrap();
        *arrived += 1;
        self.changed.notify_all();
        let (arrived, waited) = self
            .changed
            .wait_timeout_while(arrived, PATIENCE, |arrived| *arrived < self.expected)
            .unwrap();
        assert!(
            !waited.timed_out(),
            "only {} of {} threads reached {what} within {PATIENCE:?}",
            *arrived,
            self.expected
        );
    }
}

/// One client of the crowd: one socket (no clone, to spare descriptors),
/// read through a buffer and written directly.
struct CrowdClient {
    id: usize,
    input: BufReader<TcpStream>,
}

impl CrowdClient {
    fn send(&mut self, message: &str) {
        let mut socket = self.input.get_ref();
        write_utf(&mut socket, message).unwrap_or_else(|error| panic!("client {}: {error}", self.id));
    }

    fn receive(&mut self) -> Option<String> {
        read_utf(&mut self.input).unwrap_or_else(|error| panic!("client {}: {error}", self.id))
    }
}

#[test]
fn v3_serves_300_clients_at_once_20_messages_each() {
    const CLIENTS: usize = 300;
    const MESSAGES: usize = 20;
    // Each test thread drives 20 connections in turn, so the test needs 15
    // threads and 300 descriptors, while the server runs 300 sessions.
    const THREADS: usize = 15;
    const CLIENTS_PER_THREAD: usize = CLIENTS / THREADS;

    let server = Server::start("server-v3", &[]);
    let port = server.port;
    // The threads and this one meet twice: once every client has been served
    // its first message, and once the kernel has been looked at.
    let all_served_once = Arc::new(Gate::new(THREADS + 1));
    let looked_at = Arc::new(Gate::new(THREADS + 1));
    // And the threads meet once more before anyone leaves, so that all 300
    // sessions stay open to the end.
    let all_done = Arc::new(Gate::new(THREADS));

    let threads: Vec<JoinHandle<()>> = (0..THREADS)
        .map(|thread_number| {
            let (all_served_once, looked_at, all_done) = (
                Arc::clone(&all_served_once),
                Arc::clone(&looked_at),
                Arc::clone(&all_done),
            );
            thread::spawn(move || {
                let mut clients: Vec<CrowdClient> = (0..CLIENTS_PER_THREAD)
                    .map(|index| {
                        let socket = TcpStream::connect(("127.0.0.1", port)).expect("connecting");
                        socket.set_read_timeout(Some(PATIENCE)).expect("a read time-out");
                        CrowdClient {
                            id: thread_number * CLIENTS_PER_THREAD + index,
                            input: BufReader::new(socket),
                        }
                    })
                    .collect();
                for number in 0..MESSAGES {
                    // Send on every connection first, then collect the
                    // replies: the server works on all of them at once.
                    for client in &mut clients {
                        client.send(&format!("client {} message {number}", client.id));
                    }
                    for client in &mut clients {
                        let reply = client.receive();
                        let expected = format!("client {} message {number} World!", client.id);
                        assert_eq!(reply.as_deref(), Some(expected.as_str()), "client {}", client.id);
                    }
                    if number == 0 {
                        all_served_once.arrive_and_wait("the first replies");
                        looked_at.arrive_and_wait("the kernel's check");
                    }
                }
                all_done.arrive_and_wait("the last replies");
                for client in &mut clients {
                    client.send("exit");
                }
                for client in &mut clients {
                    assert_eq!(client.receive(), None, "client {}: closed after exit", client.id);
                }
            })
        })
        .collect();

    // Every client has been answered once and none has left: the kernel shows
    // 300 connections to the server, each open, and each accepted where the
    // system says so. (The table keeps each connection once, though Linux
    // prints it in pieces while other sockets come and go.)
    all_served_once.arrive_and_wait("the first replies");
    let open = wait_for_kernel("300 accepted connections to the server", |table| {
        let clients = table
            .on_port(port)
            .filter(|row| row.state == TcpState::Established && row.held == if_accepted_reported(true))
            .count();
        (clients >= CLIENTS).then_some(clients)
    });
    assert_eq!(open, CLIENTS);
    looked_at.arrive_and_wait("the kernel's check");

    for thread in threads {
        thread.join().expect("a crowd thread failed");
    }

    let log = assert_server_unharmed(server);
    let count = |needle: &str| log.iter().filter(|line| line.contains(needle)).count();
    assert_eq!(count("session ended: the client sent exit"), CLIENTS);
    assert_eq!(count("] sent: client "), CLIENTS * MESSAGES);
    assert_eq!(count("session ended:"), CLIENTS, "no session ended any other way");
}

// ---------------------------------------------------------------------------
// server-v2: the same inputs end its only session, and so the server
// ---------------------------------------------------------------------------

/// Starts a server-v2, connects one client, lets `play` do its part, and
/// waits for the server to exit. Returns the exit status, standard error, the
/// log, and the client's port (the server names it in its error).
fn against_v2(play: impl FnOnce(&mut Server, Peer)) -> (ExitStatus, String, Vec<String>, u16) {
    let mut server = Server::start("server-v2", &[]);
    let peer = Peer::connect(server.port).unwrap();
    let port = peer.port();
    server.expect_log(&format!("connected: client 127.0.0.1:{port} "));
    play(&mut server, peer);
    let (status, stderr) = server.process.wait_exit();
    (status, stderr, server.log().to_vec(), port)
}

/// Asserts that server-v2 failed with exactly one line on standard error,
/// naming the client and `reason`, and logged no ordinary session end.
fn assert_v2_failed(outcome: (ExitStatus, String, Vec<String>, u16), reason: &str) {
    let (status, stderr, log, port) = outcome;
    assert_eq!(status.code(), Some(1), "{status}; stderr: {stderr}");
    assert_eq!(
        stderr,
        format!("server-v2: error: session with 127.0.0.1:{port}: {reason}\n")
    );
    assert!(!log.iter().any(|line| line.contains("session ended")), "{log:#?}");
}

/// Asserts that server-v2 exited with success, nothing on standard error,
/// having logged `end`.
fn assert_v2_succeeded(outcome: (ExitStatus, String, Vec<String>, u16), end: &str) {
    let (status, stderr, log, _) = outcome;
    assert!(status.success(), "{status}; stderr: {stderr}");
    assert_eq!(stderr, "");
    assert!(
        log.iter()
            .any(|line| line.ends_with(&format!("] session ended: {end}"))),
        "{log:#?}"
    );
}

#[test]
fn v2_a_frame_cut_short_then_closed() {
    let outcome = against_v2(|_, mut peer| {
        peer.exchange("one").unwrap();
        peer.send_bytes(&CUT_FRAME).unwrap();
    });
    assert_v2_failed(outcome, "connection closed in the middle of a message");
}

#[test]
fn v2_a_client_that_closes_between_messages() {
    let outcome = against_v2(|_, mut peer| {
        peer.exchange("one").unwrap();
    });
    assert_v2_succeeded(outcome, "the client closed the connection");
}

#[test]
fn v2_a_reset_in_the_middle_of_a_session() {
    let outcome = against_v2(|_, mut peer| {
        peer.exchange("before the reset").unwrap();
        peer.send_bytes(&CUT_FRAME).unwrap();
        peer.reset().unwrap();
    });
    assert_v2_failed(outcome, "the client reset the connection (RST)");
}

/// server-v2 refuses `frame` and exits; the client sees the close, no byte.
fn v2_refuses(frame: &[u8], reason: &str) {
    let outcome = against_v2(|_, mut peer| {
        peer.exchange("valid first").unwrap();
        peer.send_bytes(frame).unwrap();
        assert_closed_without_a_byte(&mut peer);
    });
    assert_v2_failed(outcome, reason);
}

#[test]
fn v2_the_byte_ff() {
    v2_refuses(
        &FF_FRAME,
        "invalid message: byte 0xFF at offset 0 cannot start a character",
    );
}

#[test]
fn v2_raw_four_byte_utf8() {
    v2_refuses(
        &FOUR_BYTE_UTF8_FRAME,
        "invalid message: byte 0xF0 at offset 0 cannot start a character",
    );
}

#[test]
fn v2_a_three_byte_character_cut_by_the_end_of_the_frame() {
    v2_refuses(
        &CUT_CHARACTER_FRAME,
        "invalid message: the message ends in the middle of a character (at offset 2)",
    );
}

#[test]
fn v2_an_empty_message_is_answered() {
    let outcome = against_v2(|_, mut peer| {
        peer.send("").unwrap();
        assert_eq!(peer.receive().unwrap().as_deref(), Some(" World!"));
        peer.exchange("after the empty one").unwrap();
        peer.send("exit").unwrap();
        assert_closed_without_a_byte(&mut peer);
    });
    assert_v2_succeeded(outcome, "the client sent exit");
}

#[test]
fn v2_a_reply_too_long_for_a_frame_ends_it_without_a_partial_frame() {
    let outcome = against_v2(|_, mut peer| {
        peer.exchange(&longest_answerable()).unwrap();
        peer.send(&unanswerable()).unwrap();
        assert_closed_without_a_byte(&mut peer);
    });
    assert_v2_failed(
        outcome,
        "cannot send the reply: message too long for one frame: 65542 bytes encoded, at most 65535",
    );
}

#[test]
fn v2_a_client_that_never_speaks_keeps_it_waiting() {
    let outcome = against_v2(|server, mut silent| {
        // Nothing comes, and the server does not give up on its own...
        silent.silence(SILENCE).unwrap();
        assert!(server.process.is_running());
        // ...until the client leaves.
        drop(silent);
    });
    assert_v2_succeeded(outcome, "the client closed the connection");
}
