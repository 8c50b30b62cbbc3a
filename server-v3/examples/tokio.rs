//! `cargo run -p server-v3 --example tokio`: server-v3's design on tokio, a
//! task per client instead of a thread.
//!
//! It reads like server-v3's `serve` beside it: accept in a loop, and give
//! each client a session of its own that reads a frame, replies
//! `… World!`, and ends at `exit`. What changes is what waits. A thread
//! that reads blocks in the kernel until the client's bytes come, and holds
//! its stack all that time. A task that reads with `.await` gives its thread
//! back to tokio's runtime when no bytes are there; the runtime's poller
//! (`epoll` on Linux, `kqueue` on macOS, the AFD driver on Windows) wakes
//! the task when the kernel has some. A task waiting for a read holds no
//! thread: it is a small value on the heap (its local variables and where
//! it stopped), and a few threads run every task that is ready.
//!
//! What a task is not: a thread of its own. A task runs until its next
//! `.await` that must wait; one that computes for a long time, or calls a
//! blocking function (`std::net`, `thread::sleep`), holds its runtime
//! thread and every task queued behind it. And `.await` is not `spawn`:
//! with `--await-in-loop` the accept loop awaits each session itself, which
//! is server-v2's mistake in async form. The loop then does not come back
//! to `accept()` until the client leaves, and the next client connects,
//! sends, and waits in the kernel's accept queue, unanswered.
//!
//! The frame is `client::protocol`'s ([`protocol::encode_utf`],
//! [`protocol::payload_len`], [`protocol::decode_utf`]); this file does
//! only the I/O around it, with tokio's `read_exact` and `write_all`. Like
//! the `shutdown` example, it leaves out server-v3's session limit and
//! `--idle-timeout`, which are not what it shows.

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Result;
use clap::Parser;
use client::protocol::{self, ProtocolError};
use client::text::shown;
use log::{debug, info, warn};
use server_v2::{SessionEnd, SessionError};
use server_v3::accept_errors::{self, AcceptFailure, FailureLog};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::{Builder, Runtime};

/// server-v3's design on tokio: each client a task, not a thread, so every
/// client that connects is answered, by a few threads.
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    server: client::cli::ServerArgs,
    /// Run every task on the main thread alone (tokio's current-thread
    /// runtime); default: a worker thread per core.
    #[arg(long)]
    current_thread: bool,
    /// server-v2's mistake in async form: the accept loop awaits each
    /// client's session instead of spawning it as a task, so one client is
    /// served at a time and the next waits in the accept queue.
    #[arg(long)]
    await_in_loop: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    client::cli::run_server("tokio", &args.server, |listener| {
        let runtime = runtime(args.current_thread)?;
        runtime.block_on(serve(listener, args.await_in_loop))
    })
}

/// tokio's runtime: its poller, its timers, and the threads that run the
/// tasks: the calling thread alone, or worker threads `tokio-1`,
/// `tokio-2`, … (one per core, tokio's default) while the calling thread
/// runs the accept loop.
fn runtime(current_thread: bool) -> std::io::Result<Runtime> {
    let mut builder = if current_thread {
        Builder::new_current_thread()
    } else {
        Builder::new_multi_thread()
    };
    let started = AtomicUsize::new(0);
    builder
        .enable_io()
        .enable_time()
        .thread_name_fn(move || format!("tokio-{}", started.fetch_add(1, Ordering::Relaxed) + 1))
        .build()
}

/// Accepts clients for ever, each served by a task of its own (with
/// `await_in_loop`, by the accept loop itself, one after another). Returns
/// only if the listening socket fails.
async fn serve(listener: std::net::TcpListener, await_in_loop: bool) -> Result<()> {
    // The listening socket the flags made (address, --backlog), handed to
    // tokio: non-blocking, and registered with the runtime's poller.
    listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(listener)?;
    info!("listening on {}", listener.local_addr()?);
    let mut failures = FailureLog::default();

    loop {
        // The accept loop's one wait. With no finished handshake in the
        // accept queue, `.await` gives this thread back to the runtime: on
        // one thread (--current-thread), the runtime runs the sessions on it
        // meanwhile; with worker threads, they run there. The poller wakes
        // the loop when the kernel queues the next connection.
        let (socket, client) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(failure) => {
                // Err only if the listening socket itself failed.
                if failures.log(failure)? == AcceptFailure::OutOfDescriptors {
                    // A pause that holds no thread: the runtime's threads go
                    // on running the sessions, whose end frees descriptors.
                    tokio::time::sleep(accept_errors::OUT_OF_DESCRIPTORS_PAUSE).await;
                }
                continue;
            }
        };
        // The connection's own address, not the listener's (0.0.0.0 with
        // --host 0.0.0.0).
        server_v3::log_connected(client, socket.local_addr());

        if await_in_loop {
            // server-v2's mistake: this task, the accept loop, now waits for
            // the whole session. Nothing else calls accept() meanwhile: the
            // next clients' handshakes finish in the kernel, their bytes wait
            // in its buffers, and nobody reads them until this client leaves.
            run_session(socket).await;
        } else {
            // server-v3's fix: the session becomes a task of its own, and the
            // loop goes straight back to accept(). Spawning starts no thread:
            // the runtime's threads run the task whenever it is ready.
            tokio::spawn(run_session(socket));
        }
    }
}

/// One client's session and its end logged, as server-v3's are; dropping
/// `socket` at the end closes the connection.
async fn run_session(mut socket: TcpStream) {
    match session(&mut socket).await {
        Ok(end) => info!("session ended: {end}"),
        Err(failure) => warn!("session ended: {failure}"),
    }
}

/// server-v2's session loop, awaited: read a message, reply
/// `message + " World!"`, and again, until the client sends `exit` or closes
/// the connection between messages.
async fn session(socket: &mut TcpStream) -> Result<SessionEnd, SessionError> {
    loop {
        // The task waits here for the client's next frame, and holds no
        // thread while it waits.
        let Some(received) = read_utf(socket).await.map_err(SessionError::Receive)? else {
            return Ok(SessionEnd::ClientClosed);
        };
        debug!("received: {}", shown(&received));
        if received == "exit" {
            return Ok(SessionEnd::Exit);
        }

        let reply = format!("{received} World!");
        write_utf(socket, &reply).await.map_err(SessionError::Reply)?;
        debug!("sent: {}", shown(&reply));
    }
}

/// `client::protocol::read_utf`, awaited: one frame's message, or `None` if
/// the client closed the connection cleanly between messages.
///
/// No buffer is kept between frames: a task waiting for its next message
/// holds only the two bytes of a length. That costs a second read per
/// message (the length, then the payload), where server-v2's `BufReader`
/// often gets both with one.
async fn read_utf(socket: &mut TcpStream) -> Result<Option<String>, ProtocolError> {
    let mut length = [0; protocol::LENGTH_BYTES];
    // The first read tells a clean end between messages (no bytes) from the
    // start of a frame.
    let first = socket.read(&mut length).await?;
    if first == 0 {
        return Ok(None);
    }
    socket
        .read_exact(&mut length[first..])
        .await
        .map_err(ProtocolError::reading)?;
    let mut payload = vec![0; protocol::payload_len(length)];
    socket
        .read_exact(&mut payload)
        .await
        .map_err(ProtocolError::reading)?;
    Ok(Some(protocol::decode_utf(payload)?))
}

/// `client::protocol::write_utf`, awaited: the whole frame in one write, for
/// the reason `write_utf` gives (Nagle's algorithm and a delayed ACK).
async fn write_utf(socket: &mut TcpStream, message: &str) -> Result<(), ProtocolError> {
    let frame = protocol::encode_utf(message)?;
    socket.write_all(&frame).await?;
    Ok(())
}
