//! `cargo run -p server-v3 --example shutdown`: server-v3's accept loop and
//! sessions with the course's V6, an orderly shutdown. Ctrl-C no longer ends
//! the process on the spot: the server stops accepting, closes every
//! session's connection so that each client reads an orderly end of the
//! stream, waits for the session threads, and exits 0. It leaves out
//! server-v3's session limit and `--idle-timeout`, which have nothing to do
//! with shutting down.
//!
//! What the Java course's V6 needs, and what it becomes here:
//! - a session manager that every session adds itself to and removes itself
//!   from (`SessionManagerV6`): the [`shared::Registry`], whose guard removes
//!   a session however it ends, by ownership;
//! - a shutdown hook (`Runtime.addShutdownHook`): a Ctrl-C handler
//!   ([`shared::Stop`]);
//! - in the hook, `closeAll()`, `serverSocket.close()`, and a one-second
//!   sleep: here, closing the server socket is dropping it, `closeAll()` is
//!   `shut_down_all()`, and instead of sleeping, the main thread waits for
//!   the sessions to end.

mod shared;

use std::net::TcpListener;
use std::process::ExitCode;
use std::thread;

use anyhow::Result;
use clap::Parser;
use log::{info, warn};
use server_v3::accept_errors::{self, AcceptFailure, FailureLog};
use server_v3::sessions_word;
use shared::{AcceptWaker, Registry, Stop, SESSIONS_END_WITHIN};

/// server-v3 with an orderly shutdown (the course's V6): Ctrl-C closes every
/// session, each client reads the end of the stream, and the server exits 0.
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    server: client::cli::ServerArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    client::cli::run_server("shutdown", &args.server, serve)
}

fn serve(listener: TcpListener) -> Result<()> {
    let address = listener.local_addr()?;
    info!("listening on {address}");
    // Ctrl-C asks to stop, and wakes the main thread from accept().
    let stop = Stop::default();
    let waker = AcceptWaker::new(address)?;
    stop.on_ctrl_c(move || waker.wake())?;
    let registry = Registry::default();
    let mut sessions = Vec::new();
    let mut failures = FailureLog::default();

    let mut number = 0;
    // Looked at before each accept() too: while accept() fails (no
    // descriptor left, say), the connection that would wake it cannot come.
    while !stop.requested() {
        let (socket, client) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(failure) => {
                // Err only if the listening socket itself failed.
                if failures.log(failure)? == AcceptFailure::OutOfDescriptors {
                    // The connection waits in the queue: give sessions a
                    // moment to end and free a descriptor, rather than spin.
                    thread::sleep(accept_errors::OUT_OF_DESCRIPTORS_PAUSE);
                }
                continue;
            }
        };
        if stop.requested() {
            break; // the connection that woke us, or one that came with it
        }
        server_v3::log_connected(client, socket.local_addr());
        number += 1;

        // The session registers its socket, so that a shutdown can reach it.
        // The registry's handle is a second descriptor: without one, the
        // connection is closed rather than left where a shutdown cannot
        // reach it.
        let registered = match registry.register(number, &socket) {
            Ok(registered) => registered,
            Err(failure) => {
                warn!("cannot register {client} for a shutdown: {failure}; closing its connection");
                continue;
            }
        };
        let stop = stop.clone();
        let started = thread::Builder::new()
            .name(format!("session-{number}"))
            .stack_size(server_v3::SESSION_STACK_SIZE)
            .spawn(move || {
                let _registered = registered;
                let ended = server_v2::session(&socket);
                shared::end_session(&socket, ended, &stop);
                // Dropped here, in reverse order: `_registered` takes the
                // session out of the registry; then `socket` closes.
            });
        match started {
            Ok(session) => sessions.push((number, session)),
            // The closure, and the socket and registration in it, are
            // dropped: the client sees its connection close.
            Err(failure) => warn!("cannot start a thread for {client}: {failure}"),
        }
        // Sessions that have ended are done with.
        sessions.retain(|(_, session)| !session.is_finished());
    }

    // The orderly shutdown. Dropping the server socket stops accepting; the
    // kernel resets the connections still waiting in its queue.
    drop(listener);
    info!("shutting down: closing {}", sessions_word(registry.len()));
    registry.shut_down_all();
    let still_open = registry.wait_until_empty(SESSIONS_END_WITHIN);
    for (number, session) in sessions {
        if still_open.contains(&number) {
            warn!("session-{number} did not end within {SESSIONS_END_WITHIN:?}; leaving it");
        } else if session.join().is_err() {
            warn!("session-{number} panicked");
        }
    }
    info!("server stopped");
    Ok(())
}
