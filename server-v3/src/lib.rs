//! server-v3: the main thread only accepts; each client gets a session thread.
//!
//! server-v2's two blocking calls now have threads of their own: the main
//! thread waits in `accept()`, and each session thread waits in its client's
//! read. A client's silence holds up only its own thread, so every client
//! that connects is answered.

use std::io;
use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use anyhow::Result;
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
/// is logged with its reason; the server goes on accepting. Returns only if
/// the listening socket itself cannot be read.
///
/// ```no_run
/// let listener = std::net::TcpListener::bind("127.0.0.1:12345")?;
/// server_v3::serve(listener)?; // never returns
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn serve(listener: TcpListener) -> Result<()> {
    info!("listening on {}", listener.local_addr()?);

    let mut sessions = 0u64;
    loop {
        // The main thread's only blocking call: wait for the kernel to hand
        // over the next finished handshake from the accept queue.
        let (socket, client) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(failure) if is_out_of_descriptors(&failure) => {
                let limit = client::net::open_file_limit();
                error!("accept failed: {failure}: the open-file limit, {limit}, is too low for this many clients; start the server from a shell after `ulimit -n {}`", limit * 2);
                // The connection stays queued; let sessions end and free
                // descriptors rather than spin on the same failure.
                thread::sleep(Duration::from_millis(100));
                continue;
            }
            Err(failure) => {
                error!("accept failed: {failure}");
                continue;
            }
        };
        info!("connected: client {client} -> server {}", socket.local_addr()?);

        sessions += 1;
        let session = thread::Builder::new()
            .name(format!("session-{sessions}"))
            .stack_size(SESSION_STACK_SIZE)
            .spawn(move || {
                match server_v2::session(&socket) {
                    Ok(end) => info!("session ended: {end}"),
                    Err(failure) => warn!("session ended: {failure}"),
                }
                // `socket` is dropped here, however the session ended, and
                // dropping it closes it. The Java lesson needs two more
                // versions (a `finally` block, then try-with-resources) to
                // close its sockets on every path; ownership does it here.
            });
        if let Err(failure) = session {
            // The closure, and the socket in it, are dropped: the client sees
            // its connection close.
            error!("cannot start a thread for {client}: {failure}");
        }
    }
}

/// EMFILE or ENFILE: the process or the system has no file descriptor left
/// for the new connection.
fn is_out_of_descriptors(failure: &io::Error) -> bool {
    matches!(failure.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}
