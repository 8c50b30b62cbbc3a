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
use std::time::{Duration, Instant};

use anyhow::Context;
use log::{error, warn};

/// How long the accept loop pauses after running out of descriptors before
/// it tries again, rather than spin on the same failure.
pub const OUT_OF_DESCRIPTORS_PAUSE: Duration = Duration::from_millis(100);
/// How often, at most, running out of descriptors is logged.
const OUT_OF_DESCRIPTORS_LOG_EVERY: Duration = Duration::from_secs(10);

/// What a failure of `accept()` means for the server.
///
/// ```
/// use server_v3::accept_errors::{classify, AcceptFailure};
///
/// // Neither a lack of descriptors nor one connection's failure.
/// let other = std::io::Error::other("the listening socket is gone");
/// assert_eq!(classify(&other), AcceptFailure::ListeningSocket);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptFailure {
    /// No file descriptor left for the new connection, which stays in the
    /// queue: the server pauses for sessions to end, then accepts again.
    OutOfDescriptors,
    /// That one connection failed: the server accepts the next.
    OneConnection,
    /// The listening socket itself failed: the server cannot go on.
    ListeningSocket,
}

/// What `failure`, returned by `accept()`, means, on this system.
///
/// ```
/// use server_v3::accept_errors::{classify, AcceptFailure};
///
/// let aborted = std::io::Error::from(std::io::ErrorKind::ConnectionAborted);
/// assert_eq!(classify(&aborted), AcceptFailure::OneConnection);
/// ```
pub fn classify(failure: &io::Error) -> AcceptFailure {
    if is_out_of_descriptors(failure) {
        AcceptFailure::OutOfDescriptors
    } else if is_about_one_connection(failure) {
        AcceptFailure::OneConnection
    } else {
        AcceptFailure::ListeningSocket
    }
}

/// The log of `accept()`'s failures. It remembers when it last logged
/// running out of descriptors, which can repeat many times a second, so as
/// to log that at most every 10 seconds. server-v3's examples use it too.
///
/// ```
/// use server_v3::accept_errors::{AcceptFailure, FailureLog};
///
/// let mut failures = FailureLog::default();
/// let aborted = std::io::Error::from(std::io::ErrorKind::ConnectionAborted);
/// assert_eq!(failures.log(aborted)?, AcceptFailure::OneConnection); // go on
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Default)]
pub struct FailureLog {
    out_of_descriptors_logged: Option<Instant>,
}

impl FailureLog {
    /// Logs one failure of `accept()` and returns what it means (see
    /// [`classify`]); `Err`, the server's end, if the listening socket
    /// itself failed.
    pub fn log(&mut self, failure: io::Error) -> anyhow::Result<AcceptFailure> {
        let kind = classify(&failure);
        match kind {
            AcceptFailure::OutOfDescriptors => {
                let due = self
                    .out_of_descriptors_logged
                    .is_none_or(|logged| logged.elapsed() >= OUT_OF_DESCRIPTORS_LOG_EVERY);
                if due {
                    error!(
                        "accept failed: {failure}: no file descriptor left for the new connection, \
                         which waits in the queue until a session ends"
                    );
                    self.out_of_descriptors_logged = Some(Instant::now());
                }
            }
            AcceptFailure::OneConnection => warn!("accept failed for one connection: {failure}"),
            AcceptFailure::ListeningSocket => {
                return Err(failure).context("the listening socket failed");
            }
        }
        Ok(kind)
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
    fn running_out_of_descriptors_is_survived_and_logged_once_a_while() {
        #[cfg(unix)]
        let code = libc::EMFILE;
        #[cfg(windows)]
        let code = windows_sys::Win32::Networking::WinSock::WSAEMFILE;
        let failure = || io::Error::from_raw_os_error(code);
        assert_eq!(classify(&failure()), AcceptFailure::OutOfDescriptors);
        let mut failures = FailureLog::default();
        assert_eq!(failures.log(failure()).unwrap(), AcceptFailure::OutOfDescriptors);
        let logged = failures.out_of_descriptors_logged.expect("logged the first time");
        failures.log(failure()).unwrap();
        assert_eq!(
            failures.out_of_descriptors_logged,
            Some(logged),
            "not again at once"
        );
    }

    #[test]
    fn one_aborted_connection_is_survived() {
        let aborted = io::Error::from(io::ErrorKind::ConnectionAborted);
        assert_eq!(classify(&aborted), AcceptFailure::OneConnection);
        assert!(FailureLog::default().log(aborted).is_ok());
    }

    #[test]
    fn a_broken_listening_socket_ends_the_server() {
        // EBADF / WSAENOTSOCK: the listening socket is not a socket any more.
        #[cfg(unix)]
        let code = libc::EBADF;
        #[cfg(windows)]
        let code = windows_sys::Win32::Networking::WinSock::WSAENOTSOCK;
        let failure = || io::Error::from_raw_os_error(code);
        assert_eq!(classify(&failure()), AcceptFailure::ListeningSocket);
        let error = FailureLog::default().log(failure()).unwrap_err();
        assert!(
            error.to_string().contains("the listening socket failed"),
            "{error}"
        );
    }
}
