//! Which failures of `accept()` the server survives, and which end it.
//!
//! `accept()` can fail without anything being wrong with the listening
//! socket, and server-v3 must not end for that: its other clients are being
//! served. Three kinds of failure:
//! - **no file descriptor left** for the new connection (the process's or
//!   the system's limit): the connection stays in the queue; the server waits
//!   a moment for sessions to end and free descriptors, and tries again;
//! - **a failure of that one connection**, which the system reports through
//!   `accept()` (each system its own, below): the server goes on with the
//!   next;
//! - anything else means the listening socket itself failed: the server
//!   ends with the error.
//!
//! Note what is *not* here on Linux: a connection reset while it waited in
//! the queue. Linux's `accept()` still returns it; the reset shows on the
//! session's first read, and that session ends alone.

use std::io;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use log::{error, warn};

/// How long the server waits after running out of descriptors before it
/// tries again, rather than spin on the same failure.
const OUT_OF_DESCRIPTORS_PAUSE: Duration = Duration::from_millis(100);
/// How often, at most, running out of descriptors is logged.
const OUT_OF_DESCRIPTORS_LOG_EVERY: Duration = Duration::from_secs(10);

/// Sorts `accept()`'s failures, remembering when it last logged one that can
/// repeat many times a second. server-v3's examples use it too.
///
/// ```
/// let mut errors = server_v3::accept_errors::Sorter::default();
/// let aborted = std::io::Error::from(std::io::ErrorKind::ConnectionAborted);
/// assert!(errors.sort(aborted).is_ok()); // one connection's failure: go on
/// ```
#[derive(Default)]
pub struct Sorter {
    out_of_descriptors_logged: Option<Instant>,
}

impl Sorter {
    /// Handles one failure of `accept()`: `Ok` to go on accepting, `Err` if
    /// the listening socket itself failed.
    pub fn sort(&mut self, failure: io::Error) -> anyhow::Result<()> {
        if is_out_of_descriptors(&failure) {
            let due = self
                .out_of_descriptors_logged
                .map_or(true, |logged| logged.elapsed() >= OUT_OF_DESCRIPTORS_LOG_EVERY);
            if due {
                error!(
                    "accept failed: {failure}: no file descriptor left for the new connection, \
                     which waits in the queue until a session ends"
                );
                self.out_of_descriptors_logged = Some(Instant::now());
            }
            thread::sleep(OUT_OF_DESCRIPTORS_PAUSE);
            return Ok(());
        }
        if is_about_one_connection(&failure) {
            warn!("accept failed for one connection: {failure}");
            return Ok(());
        }
        Err(failure).context("the listening socket failed")
    }
}

/// The process or the system has no file descriptor left: Unix's `EMFILE`
/// and `ENFILE`, Winsock's `WSAEMFILE`; and no memory for the socket
/// (`ENOBUFS`, `ENOMEM`, `WSAENOBUFS`), which passes the same way.
fn is_out_of_descriptors(failure: &io::Error) -> bool {
    #[cfg(unix)]
    let codes = [libc::EMFILE, libc::ENFILE, libc::ENOBUFS, libc::ENOMEM];
    #[cfg(windows)]
    let codes = [
        windows_sys::Win32::Networking::WinSock::WSAEMFILE,
        windows_sys::Win32::Networking::WinSock::WSAENOBUFS,
    ];
    failure.raw_os_error().is_some_and(|code| codes.contains(&code))
}

/// A failure of the connection being accepted, not of the listening socket.
///
/// Every system: the call was interrupted by a signal, or the connection was
/// aborted (`ECONNABORTED`) before it could be handed over. Windows also
/// reports a connection reset while it waited (`WSAECONNRESET`). Linux
/// passes a new connection's pending network error through `accept()`, and
/// its manual says to treat those as "try again" (`EPROTO`, `ENETDOWN`,
/// `ENOPROTOOPT`, `EHOSTDOWN`, `ENONET`, `EHOSTUNREACH`, `EOPNOTSUPP`,
/// `ENETUNREACH`), and a firewall rule that forbids the connection (`EPERM`).
fn is_about_one_connection(failure: &io::Error) -> bool {
    let by_kind = matches!(
        failure.kind(),
        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
    );
    #[cfg(target_os = "linux")]
    let codes = [
        libc::EPROTO,
        libc::ENETDOWN,
        libc::ENOPROTOOPT,
        libc::EHOSTDOWN,
        libc::ENONET,
        libc::EHOSTUNREACH,
        libc::EOPNOTSUPP,
        libc::ENETUNREACH,
        libc::EPERM,
    ];
    #[cfg(windows)]
    let codes = [windows_sys::Win32::Networking::WinSock::WSAECONNRESET];
    #[cfg(not(any(target_os = "linux", windows)))]
    let codes: [i32; 0] = [];
    by_kind || failure.raw_os_error().is_some_and(|code| codes.contains(&code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_out_of_descriptors_is_survived() {
        #[cfg(unix)]
        let code = libc::EMFILE;
        #[cfg(windows)]
        let code = windows_sys::Win32::Networking::WinSock::WSAEMFILE;
        let mut sorter = Sorter::default();
        assert!(sorter.sort(io::Error::from_raw_os_error(code)).is_ok());
        assert!(sorter.out_of_descriptors_logged.is_some());
    }

    #[test]
    fn one_aborted_connection_is_survived() {
        let aborted = io::Error::from(io::ErrorKind::ConnectionAborted);
        assert!(Sorter::default().sort(aborted).is_ok());
    }

    #[test]
    fn a_broken_listening_socket_ends_the_server() {
        // EBADF / WSAENOTSOCK: the listening socket is not a socket any more.
        #[cfg(unix)]
        let code = libc::EBADF;
        #[cfg(windows)]
        let code = windows_sys::Win32::Networking::WinSock::WSAENOTSOCK;
        let error = Sorter::default()
            .sort(io::Error::from_raw_os_error(code))
            .unwrap_err();
        assert!(
            error.to_string().contains("the listening socket failed"),
            "{error}"
        );
    }
}
