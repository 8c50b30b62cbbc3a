//! server-v3: the main thread only accepts; each client gets a session thread.
//!
//! server-v2's two blocking calls now have threads of their own: the main
//! thread waits in `accept()`, and each session thread waits in its client's
//! read. A client's silence holds up only its own thread, so every client
//! that connects is answered.

use std::io;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result};
use log::{error, info, warn};

/// The stack each session thread gets. A session needs little: its buffers
/// are on the heap. Rust's default, 2 MiB, would reserve 2 GiB of address
/// space for 1,000 clients; 128 KiB leaves a debug build ample room.
pub const SESSION_STACK_SIZE: usize = 128 * 1024;

/// Accepts clients for ever, each served by its own thread named
/// `session-1`, `session-2`, ... running server-v2's loop,
/// [`server_v2::session`].
///
/// A session that ends, by `exit`, by a close, or by an error, ends alone and
/// is logged with its reason; the server goes on accepting. So does a
/// failed `accept` that concerns one connection, or a lack of file
/// descriptors. Returns only if the listening socket itself fails.
///
/// ```no_run
/// let listener = std::net::TcpListener::bind("127.0.0.1:12345")?;
/// server_v3::serve(listener)?; // never returns
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn serve(listener: TcpListener) -> Result<()> {
    let address = listener.local_addr()?;
    info!("listening on {address}");
    let capacity = session_capacity();
    info!("room for {capacity} sessions at once, one thread each");
    let open_sessions = Arc::new(AtomicUsize::new(0));

    let mut sessions = 0u64;
    loop {
        // The main thread's only blocking call: wait for the kernel to hand
        // over the next finished handshake from the accept queue.
        let (socket, client) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(failure) if is_out_of_descriptors(&failure) => {
                let limit = client::net::open_file_limit();
                error!(
                    "accept failed: {failure}: the open-file limit, {limit}, is too low for this many \
                     clients; start the server from a shell after `ulimit -n {}`",
                    limit * 2
                );
                // The connection stays queued; let sessions end and free
                // descriptors rather than spin on the same failure.
                thread::sleep(Duration::from_millis(100));
                continue;
            }
            Err(failure) if is_about_one_connection(&failure) => {
                warn!("accept failed: {failure}");
                continue;
            }
            Err(failure) => return Err(failure).context("the listening socket failed"),
        };
        info!("connected: client {client} -> server {address}");
        if open_sessions.load(Ordering::Relaxed) >= capacity {
            // Dropping `socket` here closes the connection at once.
            warn!(
                "refusing {client}: {capacity} sessions are open, as many threads as this process can hold"
            );
            continue;
        }

        sessions += 1;
        let seat = Seat::take(&open_sessions);
        let session = thread::Builder::new()
            .name(format!("session-{sessions}"))
            .stack_size(SESSION_STACK_SIZE)
            .spawn(move || {
                let _seat = seat;
                match server_v2::session(&socket) {
                    Ok(end) => info!("session ended: {end}"),
                    Err(failure) => warn!("session ended: {failure}"),
                }
                // `socket` and `_seat` are dropped here, however the session
                // ended: dropping the socket closes it, dropping the seat
                // gives it back. The Java lesson needs two more versions (a
                // `finally` block, then try-with-resources) to close its
                // sockets on every path; ownership does it here.
            });
        if let Err(failure) = session {
            // The closure, and the socket and seat in it, are dropped: the
            // client sees its connection close.
            error!("cannot start a thread for {client}: {failure}");
        }
    }
}

/// One open session, counted for as long as it lives.
struct Seat(Arc<AtomicUsize>);

impl Seat {
    fn take(open_sessions: &Arc<AtomicUsize>) -> Seat {
        open_sessions.fetch_add(1, Ordering::Relaxed);
        Seat(open_sessions.clone())
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How many sessions this process can hold at once, one thread each.
///
/// Two limits meet here. Each session is an open file, so the open-file limit
/// caps them. And each thread costs the kernel four memory mappings (its
/// stack and guard page, and the same for the stack Rust switches to on a
/// stack overflow), while Linux caps a process's mappings at
/// `vm.max_map_count`, 65,530 by default: about 16,000 threads. A thread
/// started past that cap cannot set itself up, and takes the whole process
/// down with it, so server-v3 refuses clients before it gets there.
pub fn session_capacity() -> usize {
    const MAPPINGS_PER_THREAD: usize = 4;
    // The rest of the process (code, heap, libraries) needs mappings too.
    const MAPPINGS_FOR_THE_REST: usize = 1_000;
    let max_map_count = std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|text| text.trim().parse::<usize>().ok())
        .unwrap_or(65_530);
    let by_threads = max_map_count.saturating_sub(MAPPINGS_FOR_THE_REST) / MAPPINGS_PER_THREAD;
    // A few descriptors are the listening socket, stdio and the like.
    let by_files = (client::net::open_file_limit() as usize).saturating_sub(16);
    by_threads.min(by_files)
}

/// EMFILE or ENFILE: the process or the system has no file descriptor left
/// for the new connection.
fn is_out_of_descriptors(failure: &io::Error) -> bool {
    matches!(failure.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// A failure of the connection being accepted (it was reset while queued, or
/// the call was interrupted), not of the listening socket.
fn is_about_one_connection(failure: &io::Error) -> bool {
    matches!(
        failure.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted
    ) || matches!(
        failure.raw_os_error(),
        Some(libc::ENOBUFS | libc::ENOMEM | libc::EPROTO | libc::EPERM)
    )
}
