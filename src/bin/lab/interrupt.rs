//! The lab's blocking calls, which Ctrl-C interrupts: the call returns, the
//! lab says so and goes back to its prompt, instead of ending.
//!
//! - **Unix**: the real blocking `accept()` and `recv()`. A SIGINT handler
//!   installed *without* `SA_RESTART` makes a blocked call return `EINTR`
//!   rather than be restarted by the kernel. (`accept` here is socket2's,
//!   which, unlike the standard library's, does not retry on `EINTR`.)
//!   The line editor puts a SIGINT handler of its own in place for as long
//!   as it exists, so the lab's is put back for the time of each blocking
//!   call ([`Catching`]), and the editor's after it.
//! - **Windows**: a thread blocked in a Winsock call cannot be interrupted
//!   from the thread that runs a Ctrl-C handler. So the lab waits for the
//!   socket to be ready with `WSAPoll`, a tenth of a second at a time,
//!   looking for Ctrl-C in between, and then makes the call, which then
//!   returns at once.

use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the handler, cleared by whoever notices it.
static PRESSED: AtomicBool = AtomicBool::new(false);

/// Whether Ctrl-C was pressed since the last time this was asked.
pub fn pressed() -> bool {
    PRESSED.swap(false, Ordering::SeqCst)
}

/// Makes Ctrl-C interrupt the lab's blocking calls instead of ending it.
#[cfg(unix)]
pub fn install() -> io::Result<()> {
    set_handler().map(|_previous| ())
}

/// Puts the lab's SIGINT handler in place; returns the one it replaces.
#[cfg(unix)]
fn set_handler() -> io::Result<nix::sys::signal::SigAction> {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

    extern "C" fn on_ctrl_c(_signal: nix::libc::c_int) {
        PRESSED.store(true, Ordering::SeqCst);
    }
    // No SA_RESTART: a call blocked when Ctrl-C comes returns EINTR.
    let action = SigAction::new(SigHandler::Handler(on_ctrl_c), SaFlags::empty(), SigSet::empty());
    // SAFETY: the handler only stores to an atomic, which is safe to do in
    // a signal handler.
    Ok(unsafe { sigaction(Signal::SIGINT, &action) }?)
}

/// While it lives, Ctrl-C is the lab's: it interrupts the blocking call.
/// A Ctrl-C pressed before it started does not count. Started before the
/// lab says it blocks, so that a Ctrl-C pressed on reading that line is
/// the lab's, not the line editor's.
pub struct Catching {
    /// The SIGINT handler that was in place before (the line editor's), put
    /// back on drop.
    #[cfg(unix)]
    previous: nix::sys::signal::SigAction,
}

impl Catching {
    /// Takes Ctrl-C for the lab until dropped.
    pub fn start() -> io::Result<Catching> {
        PRESSED.store(false, Ordering::SeqCst);
        Ok(Catching {
            #[cfg(unix)]
            previous: set_handler()?,
        })
    }
}

#[cfg(unix)]
impl Drop for Catching {
    fn drop(&mut self) {
        // SAFETY: puts back a handler that was in place before this one.
        let _ = unsafe { nix::sys::signal::sigaction(nix::sys::signal::Signal::SIGINT, &self.previous) };
    }
}

/// Makes Ctrl-C interrupt the lab's waits instead of ending it.
#[cfg(windows)]
pub fn install() -> io::Result<()> {
    ctrlc::set_handler(|| PRESSED.store(true, Ordering::SeqCst)).map_err(io::Error::other)
}

/// Blocks in `accept()` until a finished handshake is in the queue, and
/// takes it. After Ctrl-C, `Err` of kind `Interrupted`; `_ctrl_c` says the
/// lab holds Ctrl-C meanwhile.
pub fn accept(listener: &TcpListener, _ctrl_c: &Catching) -> io::Result<(TcpStream, SocketAddr)> {
    loop {
        interrupted_yet()?;
        wait_until_readable(listener)?;
        match socket2::SockRef::from(listener).accept() {
            Ok((socket, client)) => {
                let client = client
                    .as_socket()
                    .ok_or_else(|| io::Error::other("accept() returned a non-IP address"))?;
                return Ok((socket.into(), client));
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted && !pressed() => continue,
            Err(error) => return Err(error),
        }
    }
}

/// Reads from `socket` as `read()` does: blocks until bytes, or the end of
/// the stream, come. After Ctrl-C, an error that [`is_ctrl_c`] recognises,
/// and not one of kind `Interrupted`: `read_exact`, which `read_utf` calls
/// for the rest of a frame, retries those, and would wait on for bytes that
/// may never come. Called while a [`Catching`] lives, as the lab's `read`
/// holds one for the whole frame.
pub fn read(socket: &TcpStream, bytes: &mut [u8]) -> io::Result<usize> {
    read_until_ctrl_c(socket, bytes).map_err(|error| match error.kind() {
        io::ErrorKind::Interrupted => io::Error::other(CtrlC),
        _ => error,
    })
}

fn read_until_ctrl_c(mut socket: &TcpStream, bytes: &mut [u8]) -> io::Result<usize> {
    loop {
        interrupted_yet()?;
        wait_until_readable(socket)?;
        match socket.read(bytes) {
            Err(error) if error.kind() == io::ErrorKind::Interrupted && !pressed() => continue,
            other => return other,
        }
    }
}

/// Whether `error` is a read that Ctrl-C interrupted (see [`read`]).
pub fn is_ctrl_c(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|inner| inner.is::<CtrlC>())
}

/// What [`read`] returns after Ctrl-C.
#[derive(Debug)]
struct CtrlC;

impl std::fmt::Display for CtrlC {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted (Ctrl-C)")
    }
}

impl std::error::Error for CtrlC {}

/// `Err` of kind `Interrupted` if Ctrl-C came before the call could start
/// (between the lab saying it blocks and the call itself).
fn interrupted_yet() -> io::Result<()> {
    match pressed() {
        true => Err(io::ErrorKind::Interrupted.into()),
        false => Ok(()),
    }
}

/// Unix: nothing to wait for here; the blocking call itself waits.
#[cfg(unix)]
fn wait_until_readable<S>(_socket: &S) -> io::Result<()> {
    Ok(())
}

/// Windows: waits with `WSAPoll` until `socket` can be read (a connection
/// to accept, bytes to read, or the end of the stream), looking for Ctrl-C
/// every tenth of a second.
#[cfg(windows)]
fn wait_until_readable<S: std::os::windows::io::AsRawSocket>(socket: &S) -> io::Result<()> {
    use windows_sys::Win32::Networking::WinSock::{
        WSAGetLastError, WSAPoll, POLLRDNORM, SOCKET_ERROR, WSAPOLLFD,
    };

    loop {
        if pressed() {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let mut watched = WSAPOLLFD {
            fd: socket.as_raw_socket() as usize,
            events: POLLRDNORM,
            revents: 0,
        };
        // SAFETY: one valid WSAPOLLFD, alive for the whole call.
        let ready = unsafe { WSAPoll(&mut watched, 1, 100) };
        if ready == SOCKET_ERROR {
            // SAFETY: reads this thread's last Winsock error; no pointers.
            return Err(io::Error::from_raw_os_error(unsafe { WSAGetLastError() }));
        }
        if ready > 0 {
            return Ok(());
        }
    }
}
