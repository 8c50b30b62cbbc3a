//! server-v3: the main thread only accepts; each client gets a session thread.
//!
//! server-v2's two blocking calls now have threads of their own: the main
//! thread waits in `accept()`, and each session thread waits in its client's
//! read. A client's silence holds up only its own thread, so every client
//! that connects is answered.
//!
//! The lesson is [`serve`], in this file: take a session slot and start its
//! thread, accept, hand the connection to the thread, which runs server-v2's
//! session. Beside it, out of the lesson's way: what happens when a thread
//! cannot start (`start_session`), the session's idle time-out and how its
//! end is logged (`run_session`), and two policies:
//! - `capacity`: how many sessions this process can hold at once, from the
//!   limits this system really sets, and the slots that keep the server
//!   within them;
//! - `accept_errors`: which failures of `accept()` concern one connection,
//!   or a lack of file descriptors, and which mean the listening socket is
//!   broken.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, SyncSender};
use std::thread;
use std::time::Duration;

use anyhow::{bail, Result};
use client::protocol::ProtocolError;
use log::{error, info, warn};
use server_v2::SessionError;

pub mod accept_errors;
mod capacity;

use accept_errors::{AcceptFailure, FailureLog};

pub use capacity::{Capacity, Limit, FILES_PER_SESSION};

/// The stack each session thread gets. A session needs little: its buffers
/// are on the heap. Rust's default, 2 MiB, would reserve 2 GiB of address
/// space for 1,000 clients; 128 KiB leaves a debug build ample room.
pub const SESSION_STACK_SIZE: usize = 128 * 1024;

/// How a server-v3 runs, beyond its listening socket.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// End a session whose client sends nothing for this long. `None`, the
    /// lesson's default, waits for ever: a silent client then holds its
    /// thread for as long as it stays connected.
    pub idle_timeout: Option<Duration>,
}

/// Accepts clients for ever, each served by its own thread named
/// `session-1`, `session-2`, ... running server-v2's loop,
/// [`server_v2::session`].
///
/// A session that ends, by `exit`, by a close, or by an error, ends alone and
/// is logged with its reason; the server goes on accepting. When as many
/// sessions are open as the process can hold, or no thread can start, the
/// server stops accepting until one can: new clients wait in the kernel's
/// accept queue. Returns only if the listening socket itself fails, or at
/// once if the system's limits leave no room for a single session.
///
/// ```no_run
/// let listener = std::net::TcpListener::bind("127.0.0.1:12345")?;
/// server_v3::serve(listener, &server_v3::Options::default())?; // never returns
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn serve(listener: TcpListener, options: &Options) -> Result<()> {
    info!("listening on {}", listener.local_addr()?);
    let capacity = Capacity::of_this_process(capacity::FILES_PER_SESSION);
    if capacity.has_no_room() {
        bail!("cannot serve anybody: {capacity}");
    }
    info!("{capacity}");
    let slots = capacity::Slots::new(capacity.sessions);
    let mut failures = accept_errors::FailureLog::default();

    let mut sessions = 0u64;
    loop {
        // A slot and a thread first: when every session is taken, or no
        // thread can start, the main thread waits here instead of in
        // accept(), and new clients wait in the kernel's accept queue.
        sessions += 1;
        let session = start_session(&slots, sessions, options.idle_timeout);

        // The main thread's only other blocking call: wait for the kernel to
        // hand over the next finished handshake from the accept queue.
        let (socket, client) = accept(&listener, &mut failures)?;
        log_connected(client, socket.local_addr());
        session.hand_over(socket);
    }
}

/// A session thread that is started and waits for its connection.
struct Waiting(SyncSender<TcpStream>);

impl Waiting {
    /// Gives the session its connection; from here on it belongs to the
    /// session's thread.
    fn hand_over(self, socket: TcpStream) {
        // Room for one, so this never waits; the thread is waiting for it.
        let _ = self.0.try_send(socket);
    }
}

/// Takes a slot, then starts session `number`'s thread, which waits for the
/// connection the main thread accepts next. If the thread cannot start (the
/// system has no thread, or no memory for its stack, to give), the slot is
/// given back and no client has been accepted for it: the main thread
/// pauses and tries again, while the clients wait in the queue.
fn start_session(slots: &capacity::Slots, number: u64, idle_timeout: Option<Duration>) -> Waiting {
    let mut failed = false;
    loop {
        let slot = slots.take();
        let (hand_over, connection) = mpsc::sync_channel::<TcpStream>(1);
        let thread = thread::Builder::new()
            .name(format!("session-{number}"))
            .stack_size(SESSION_STACK_SIZE)
            .spawn(move || {
                let _slot = slot;
                // Err only if the server ended before it accepted a client.
                if let Ok(socket) = connection.recv() {
                    run_session(&socket, idle_timeout);
                }
                // `socket` and `_slot` are dropped here, however the session
                // ended: dropping the socket closes it, dropping the slot
                // gives it back. The Java lesson needs two more versions (a
                // `finally` block, then try-with-resources) to close its
                // sockets on every path; ownership does it here.
            });
        match thread {
            Ok(_) if failed => {
                info!("a session thread started again; accepting the next client");
                return Waiting(hand_over);
            }
            Ok(_) => return Waiting(hand_over),
            Err(failure) => {
                // The closure, and the slot in it, are dropped: the slot is free.
                if !failed {
                    error!(
                        "cannot start a session thread: {failure}; new clients wait in the accept \
                         queue, and the server tries again every {} ms",
                        THREAD_RETRY_PAUSE.as_millis()
                    );
                    failed = true;
                }
                thread::sleep(THREAD_RETRY_PAUSE);
            }
        }
    }
}

/// How long the server waits, when a thread could not start, before it
/// tries again: time for sessions, or other programs, to end theirs.
const THREAD_RETRY_PAUSE: Duration = Duration::from_millis(100);

/// The next connection from the accept queue. A failure of `accept()` that
/// concerns one connection, or a lack of descriptors, is logged and the
/// call made again; `Err` only if the listening socket itself failed.
fn accept(listener: &TcpListener, failures: &mut FailureLog) -> Result<(TcpStream, SocketAddr)> {
    loop {
        match listener.accept() {
            Ok(accepted) => return Ok(accepted),
            Err(failure) => {
                if failures.log(failure)? == AcceptFailure::OutOfDescriptors {
                    // The connection waits in the queue: give sessions a
                    // moment to end and free a descriptor, rather than spin.
                    thread::sleep(accept_errors::OUT_OF_DESCRIPTORS_PAUSE);
                }
            }
        }
    }
}

/// Logs a connection just accepted: the client's address, and the server's
/// end of this connection, `server`, as the kernel reports it
/// (`local_addr()`). That is the address the client reached, where the
/// listening socket's may be every address (`0.0.0.0`, `::`). server-v3's
/// examples log their connections with it too.
///
/// ```
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let client = std::net::TcpStream::connect(listener.local_addr()?)?;
/// let (socket, from) = listener.accept()?;
/// server_v3::log_connected(from, socket.local_addr());
/// // 14:03:07.123 [     main] connected: client 127.0.0.1:50000 -> server 127.0.0.1:12345
/// # drop(client);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn log_connected(client: SocketAddr, server: io::Result<SocketAddr>) {
    match server {
        Ok(server) => info!("connected: client {client} -> server {server}"),
        // Never seen: an accepted socket has its address. Said, not guessed.
        Err(failure) => info!("connected: client {client} -> server (its address unknown: {failure})"),
    }
}

/// `1 session`, `3 sessions`: a count of sessions in words, for the log.
///
/// ```
/// assert_eq!(server_v3::sessions_word(1), "1 session");
/// assert_eq!(server_v3::sessions_word(3), "3 sessions");
/// ```
pub fn sessions_word(count: usize) -> String {
    match count {
        1 => "1 session".to_string(),
        count => format!("{count} sessions"),
    }
}

/// server-v2's session on `socket`, and its end logged. With an idle
/// time-out, a read that waits longer than it fails, and so does a write
/// that cannot send a byte for that long (a client that stopped reading):
/// the session ends instead of holding its thread.
fn run_session(socket: &TcpStream, idle_timeout: Option<Duration>) {
    let ended = match bound_silence(socket, idle_timeout) {
        Ok(()) => server_v2::session(socket),
        Err(failure) => Err(SessionError::Receive(failure.into())),
    };
    match ended {
        Ok(end) => info!("session ended: {end}"),
        Err(failure) => warn!("session ended: {}", why(&failure, idle_timeout)),
    }
}

/// Sets the idle time-out on both directions of `socket`. A blocked write
/// returns as soon as it has sent something, and `write_all` then writes
/// the rest with the time-out anew: a reply fails only when no byte of it
/// could be sent for that long, however slowly the client reads.
fn bound_silence(socket: &TcpStream, idle_timeout: Option<Duration>) -> io::Result<()> {
    socket.set_read_timeout(idle_timeout)?;
    socket.set_write_timeout(idle_timeout)
}

/// Why a session failed, in words: the idle time-out by name, either way,
/// and any other failure as `session` says it.
fn why(failure: &SessionError, idle_timeout: Option<Duration>) -> String {
    let Some(idle) = idle_timeout.map(|idle| idle.as_secs_f64()) else {
        return failure.to_string();
    };
    match failure {
        SessionError::Receive(ProtocolError::Io(error)) if client::net::is_time_out(error) => {
            format!("the client sent nothing for {idle} s (--idle-timeout)")
        }
        SessionError::Reply(ProtocolError::Io(error)) if client::net::is_time_out(error) => {
            format!("the client stopped reading for {idle} s: no byte of the reply could be sent (--idle-timeout)")
        }
        _ => failure.to_string(),
    }
}
