//! `cargo run -p server-v3 --example shutdown`: server-v3 with the course's
//! V6, an orderly shutdown. Ctrl-C no longer ends the process on the spot:
//! the server stops accepting, closes every session's connection so that
//! each client reads an orderly end of the stream, waits for the session
//! threads, and exits 0.
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
use std::time::Duration;

use anyhow::Result;
use clap::Parser;
use log::{info, warn};
use shared::{Registry, Stop};

/// How long the server waits for its sessions to end once it has shut their
/// connections down. They end at once; the bound is for one that does not.
const SESSIONS_END_WITHIN: Duration = Duration::from_secs(3);

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
    stop.on_ctrl_c(move || shared::wake_accept(address))?;
    let registry = Registry::default();
    let mut sessions = Vec::new();

    for number in 1.. {
        let (socket, client) = listener.accept()?;
        if stop.requested() {
            break; // the connection that woke us, or one that came with it
        }
        info!("connected: client {client} -> server {address}");

        // The session registers its socket, so that a shutdown can reach it.
        let registered = registry.register(number, &socket)?;
        let stop = stop.clone();
        let session = thread::Builder::new()
            .name(format!("session-{number}"))
            .stack_size(server_v3::SESSION_STACK_SIZE)
            .spawn(move || {
                let _registered = registered;
                let ended = server_v2::session(&socket);
                if stop.requested() {
                    info!("session ended: server shutting down");
                } else {
                    match ended {
                        Ok(end) => info!("session ended: {end}"),
                        Err(failure) => warn!("session ended: {failure}"),
                    }
                }
                shared::drain(&socket);
                // Dropped here, in reverse order: `_registered` takes the
                // session out of the registry; then `socket` closes.
            })?;
        sessions.push((number, session));
        // Sessions that have ended are done with.
        sessions.retain(|(_, session)| !session.is_finished());
    }

    // The orderly shutdown. Dropping the server socket stops accepting; the
    // kernel resets the connections still waiting in its queue.
    drop(listener);
    info!("shutting down: closing {} sessions", registry.len());
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
