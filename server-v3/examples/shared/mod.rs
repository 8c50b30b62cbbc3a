//! What the two examples share: the course's V6 pieces, written once.
//!
//! - [`Registry`]: the live sessions' sockets, the course's
//!   `SessionManagerV6`. A session registers its socket when it starts; its
//!   [`Registered`] guard removes it when the session ends, however it ends.
//! - [`Stop`]: Ctrl-C as a request to stop; [`AcceptWaker`]: a way to wake
//!   the thread blocked in `accept()`.

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use log::{info, warn};
use server_v2::{SessionEnd, SessionError};

/// How long a server waits for its sessions to end once it has shut their
/// connections down. They end at once; the bound is for one that does not.
pub const SESSIONS_END_WITHIN: Duration = Duration::from_secs(3);

/// How long a shutdown lets clients close their side once they have read
/// the end of the stream, and a session read what its client still sends.
pub const CLIENTS_CLOSE_WITHIN: Duration = Duration::from_secs(1);

/// How much a session reads, at most, of what its client still sends once
/// the session has ended: well above what the two sockets' buffers hold
/// (on Linux a receive buffer may grow to `net.ipv4.tcp_rmem`'s maximum,
/// 32 MiB on the machine the lesson was measured on), yet a bound on a
/// client that never stops.
pub const DRAIN_AT_MOST: u64 = 64 * 1024 * 1024;

/// The live sessions: each one's number and a handle on its socket.
#[derive(Clone, Default)]
pub struct Registry {
    sessions: Arc<(Mutex<HashMap<u64, TcpStream>>, Condvar)>,
}

/// A session's place in the [`Registry`], given back when it is dropped.
pub struct Registered {
    registry: Registry,
    number: u64,
}

impl Registry {
    /// Registers session `number`'s socket, until the returned guard drops.
    ///
    /// The registry keeps its own handle on the socket (`try_clone`, a second
    /// descriptor for the same connection), so that it can shut the
    /// connection down from another thread.
    pub fn register(&self, number: u64, socket: &TcpStream) -> io::Result<Registered> {
        let handle = socket.try_clone()?;
        self.lock().insert(number, handle);
        Ok(Registered {
            registry: self.clone(),
            number,
        })
    }

    /// How many sessions are registered.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Shuts every registered session's connection down, in two steps.
    ///
    /// First the sending side only: the kernel sends each client, after the
    /// replies already written, a FIN, and a session blocked writing to a
    /// client that does not read returns at once. The receiving side stays
    /// open, so that each session can read what its client still sends
    /// before it closes (see [`drain`]). A client that reads the end of the
    /// stream closes its side, and its session's read returns.
    ///
    /// Then, for the sessions still registered after [`CLIENTS_CLOSE_WITHIN`]
    /// (a client that does not read, or does not close), the receiving side
    /// too: a session blocked in a read returns at once with the end of the
    /// stream.
    pub fn shut_down_all(&self) {
        self.shut_down(Shutdown::Write);
        if !self.wait_until_empty(CLIENTS_CLOSE_WITHIN).is_empty() {
            self.shut_down(Shutdown::Both);
        }
    }

    fn shut_down(&self, how: Shutdown) {
        for socket in self.lock().values() {
            // A connection the client already closed may refuse; it ends anyway.
            let _ = socket.shutdown(how);
        }
    }

    /// Waits until every session has removed itself, at most `bound`;
    /// returns the numbers of those still registered.
    pub fn wait_until_empty(&self, bound: Duration) -> Vec<u64> {
        let deadline = Instant::now() + bound;
        let (_, removed) = &*self.sessions;
        let mut sessions = self.lock();
        while !sessions.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            sessions = removed
                .wait_timeout(sessions, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        let mut left: Vec<u64> = sessions.keys().copied().collect();
        left.sort_unstable();
        left
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, TcpStream>> {
        // A session that panicked left the map as it was: still usable.
        self.sessions
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.number);
        self.registry.sessions.1.notify_all();
    }
}

/// A request to stop, set by Ctrl-C.
#[derive(Clone, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    /// Makes Ctrl-C (SIGINT), SIGTERM and SIGHUP on Unix, Ctrl-C and
    /// Ctrl-Break on Windows, a request to stop instead of the end of the
    /// process. The `ctrlc` crate covers all of these, on every system, and
    /// runs the handler on a thread of its own: the first time, the handler
    /// sets the request and calls `wake`, which wakes whatever thread waits.
    pub fn on_ctrl_c(&self, wake: impl Fn() + Send + 'static) -> Result<(), ctrlc::Error> {
        let requested = self.clone();
        ctrlc::set_handler(move || {
            // A second Ctrl-C while stopping changes nothing.
            if !requested.0.swap(true, Ordering::SeqCst) {
                wake();
            }
        })
    }

    /// Whether a stop was requested.
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Wakes a thread blocked in `accept()` on the server socket: with a
/// connection of our own. A `TcpListener` cannot be shut down from another
/// thread on every system, but a connection makes `accept()` return,
/// everywhere.
///
/// The socket is made at the start, so that waking needs no new descriptor:
/// a server that has run out of them can still be stopped.
pub struct AcceptWaker {
    socket: socket2::Socket,
    address: SocketAddr,
}

impl AcceptWaker {
    /// A waker for the server socket listening on `listening`.
    pub fn new(listening: SocketAddr) -> io::Result<AcceptWaker> {
        let mut address = listening;
        // A server listening on every address is reached on the loopback one.
        match address.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => address.set_ip(Ipv4Addr::LOCALHOST.into()),
            IpAddr::V6(ip) if ip.is_unspecified() => address.set_ip(Ipv6Addr::LOCALHOST.into()),
            _ => {}
        }
        let socket =
            socket2::Socket::new(socket2::Domain::for_address(address), socket2::Type::STREAM, None)?;
        Ok(AcceptWaker { socket, address })
    }

    /// Connects, once. If that fails, the queue was full and `accept()` has
    /// connections to return anyway: the request is seen when it does.
    pub fn wake(&self) {
        let _ = self
            .socket
            .connect_timeout(&self.address.into(), Duration::from_secs(1));
    }
}

/// Logs how a session on `socket` ended, `ended` as server-v2's session
/// returned it, or the shutdown when one was asked for; then empties the
/// socket (see [`drain`]) so that it closes in order.
pub fn end_session(socket: &TcpStream, ended: Result<SessionEnd, SessionError>, stop: &Stop) {
    match ended {
        _ if stop.requested() => info!("session ended: server shutting down"),
        Ok(end) => info!("session ended: {end}"),
        Err(failure) => warn!("session ended: {failure}"),
    }
    drain(socket);
}

/// Closes the sending side, then reads and drops what the client still
/// sends, until it closes its side, for [`CLIENTS_CLOSE_WITHIN`] and
/// [`DRAIN_AT_MOST`] bytes at most.
///
/// A socket closed with unread bytes makes the kernel reset the connection
/// (RST) instead of closing it in order (FIN), and a reset throws away
/// whatever the client had not read yet. Bytes still on their way count
/// too: emptying only what has arrived is not enough while the client is
/// still sending. Once its stream ends (or it stays silent for the whole
/// bound), nothing is left unread, and the socket closes in order.
pub fn drain(socket: &TcpStream) {
    // Already shut down by a shutdown, or refused on a connection the
    // client has reset; either way the reads below tell.
    let _ = socket.shutdown(Shutdown::Write);
    let deadline = Instant::now() + CLIENTS_CLOSE_WITHIN;
    let mut read = 0;
    let mut scrap = [0u8; 64 * 1024];
    while read < DRAIN_AT_MOST {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || socket.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match (&*socket).read(&mut scrap) {
            Ok(0) => break, // the client's end of the stream
            Ok(count) => read += count as u64,
            Err(failure) if failure.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break, // the time is up, or the connection was reset
        }
    }
}
