//! `cargo run -p server-v3 --example pool -- --workers N`: server-v3 with a
//! bounded pool of session threads instead of a thread per client.
//!
//! N worker threads are started once. The accepting thread waits until a
//! worker is free, and only then calls `accept()`, and hands the connection
//! over. While every worker is busy, nobody calls `accept()`: the clients
//! that come wait in the kernel's accept queue, the queue the lesson is
//! about, now used on purpose. The price is server-v2's, N times over: a
//! client that stays connected holds a worker, and the next client waits
//! until one leaves.
//!
//! Ctrl-C shuts it down as the `shutdown` example does; then the pool's
//! `Drop` closes its channel and joins its workers, as the Rust Book's final
//! thread pool does: all but a worker whose session did not end in time,
//! which is left alone, as the `shutdown` example leaves such a session.

mod shared;

use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use anyhow::{bail, Context, Result};
use clap::Parser;
use log::{info, warn};
use server_v3::accept_errors::{self, AcceptFailure, FailureLog};
use server_v3::Capacity;
use shared::{AcceptWaker, Registry, Stop, SESSIONS_END_WITHIN};

/// server-v3 with a bounded pool of N session threads: N clients are served
/// at once, and the next ones wait in the kernel's accept queue.
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    server: client::cli::ServerArgs,
    /// How many worker threads, so how many clients at once; default: 8 per
    /// core.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    workers: Option<u16>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    client::cli::run_server("pool", &args.server, |listener| {
        serve(listener, args.workers.map(usize::from))
    })
}

/// The open files each worker's session holds: its connection, and the
/// registry's handle on it for a shutdown.
const FILES_PER_WORKER: u64 = 2;

/// How many workers to start: as many as asked, if the system's limits
/// hold them all (server-v3's capacity, for sessions of two open files);
/// without `--workers`, 8 per core, or fewer if the limits say so.
fn worker_count(asked: Option<usize>) -> Result<usize> {
    let capacity = Capacity::of_this_process(FILES_PER_WORKER);
    let room = capacity.sessions.unwrap_or(usize::MAX);
    if room == 0 {
        bail!("cannot start a single worker: {capacity}");
    }
    match asked {
        Some(workers) if workers > room => {
            bail!("cannot start {workers} workers: {capacity}")
        }
        Some(workers) => Ok(workers),
        None => {
            let eight_per_core = 8 * thread::available_parallelism().map_or(1, |cores| cores.get());
            if eight_per_core > room {
                info!("fewer workers than 8 per core: {capacity}");
            }
            Ok(eight_per_core.min(room))
        }
    }
}

fn serve(listener: TcpListener, workers: Option<usize>) -> Result<()> {
    let address = listener.local_addr()?;
    info!("listening on {address}");
    // Checked before any worker starts: a pool past the limits would fail
    // half-started, or take the process down.
    let workers = worker_count(workers)?;
    info!("a pool of {workers} workers: {workers} clients at once, the next ones wait in the accept queue");
    let registry = Registry::default();
    let stop = Stop::default();
    let mut pool = Pool::new(workers, &registry, &stop)?;
    // Ctrl-C asks to stop, and wakes the main thread whichever way it waits:
    // for a free worker, or in accept().
    let ready = pool.ready.clone();
    let waker = AcceptWaker::new(address)?;
    stop.on_ctrl_c(move || {
        let _ = ready.try_send(Wake::Stop);
        waker.wake();
    })?;

    let mut failures = FailureLog::default();
    loop {
        // Wait for a free worker first: while all are busy, this thread does
        // not call accept(), and new clients wait in the kernel's queue.
        if !pool.wait_for_a_free_worker() || stop.requested() {
            break;
        }
        let (socket, client) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(failure) => {
                // Err only if the listening socket itself failed.
                if failures.log(failure)? == AcceptFailure::OutOfDescriptors {
                    // The connection waits in the queue: give sessions a
                    // moment to end and free a descriptor, rather than spin.
                    thread::sleep(accept_errors::OUT_OF_DESCRIPTORS_PAUSE);
                }
                // The free worker got nothing: it is still free next turn.
                pool.worker_still_free();
                continue;
            }
        };
        if stop.requested() {
            break; // the connection that woke us, or one that came with it
        }
        server_v3::log_connected(client, socket.local_addr());
        pool.hand_over(socket);
    }

    drop(listener);
    info!(
        "shutting down: closing {}",
        server_v3::sessions_word(registry.len())
    );
    registry.shut_down_all();
    for number in registry.wait_until_empty(SESSIONS_END_WITHIN) {
        warn!("worker-{number}'s session did not end within {SESSIONS_END_WITHIN:?}; leaving it");
        pool.leave(number); // not joined: it would hold up the shutdown
    }
    drop(pool); // closes the channel; each other worker ends its loop, and is joined
    info!("server stopped");
    Ok(())
}

/// The workers, the channel that hands them connections, and the channel on
/// which each one says it is free.
struct Pool {
    /// Each worker's number and thread.
    workers: Vec<(u64, JoinHandle<()>)>,
    /// Connections for the workers. `None` once the pool is dropped: the
    /// workers' `recv` then fails, and they end.
    connections: Option<SyncSender<TcpStream>>,
    /// Sent each time a worker is ready for a connection, or by Ctrl-C to
    /// wake the accepting thread.
    ready: SyncSender<Wake>,
    free: Receiver<Wake>,
}

/// Why the accepting thread, waiting for a free worker, wakes.
enum Wake {
    /// A worker is ready for a connection.
    WorkerFree,
    /// Ctrl-C: stop accepting.
    Stop,
}

impl Pool {
    /// Starts `size` workers, named `worker-1` to `worker-N`. If one cannot
    /// start, those started end (their channel is dropped), and the error
    /// says which one failed.
    fn new(size: usize, registry: &Registry, stop: &Stop) -> Result<Pool> {
        // A connection is handed from hand to hand, never queued here: the
        // queue is the kernel's.
        let (connections, waiting) = mpsc::sync_channel::<TcpStream>(0);
        let waiting = Arc::new(Mutex::new(waiting));
        // Room for every worker's word and Ctrl-C's: a send never waits.
        let (ready, free) = mpsc::sync_channel(size + 1);
        let mut workers = Vec::with_capacity(size);
        for number in 1..=size {
            let (waiting, ready) = (Arc::clone(&waiting), ready.clone());
            let (registry, stop) = (registry.clone(), stop.clone());
            let number = number as u64;
            let worker = thread::Builder::new()
                .name(format!("worker-{number}"))
                .stack_size(server_v3::SESSION_STACK_SIZE)
                .spawn(move || loop {
                    let _ = ready.send(Wake::WorkerFree);
                    // The lock is held only while waiting for a connection,
                    // as in the Rust Book's pool.
                    let next = waiting.lock().map(|connections| connections.recv());
                    let Ok(Ok(socket)) = next else {
                        return; // the pool is gone: the worker ends
                    };
                    serve_one(&socket, number, &registry, &stop);
                })
                .with_context(|| format!("cannot start worker-{number} of {size}"))?;
            workers.push((number, worker));
        }
        Ok(Pool {
            workers,
            connections: Some(connections),
            ready,
            free,
        })
    }

    /// Waits until a worker is free; `false` when woken by Ctrl-C instead.
    fn wait_for_a_free_worker(&self) -> bool {
        matches!(self.free.recv(), Ok(Wake::WorkerFree))
    }

    /// Says again that a free worker is free: it got no connection.
    fn worker_still_free(&self) {
        let _ = self.ready.try_send(Wake::WorkerFree);
    }

    /// Lets worker `number` go without joining it: the pool's drop does not
    /// wait for its thread, which ends with the process if not before, as the
    /// `shutdown` example leaves a session that does not end in time.
    fn leave(&mut self, number: u64) {
        // Dropping a JoinHandle detaches its thread.
        self.workers.retain(|(worker, _)| *worker != number);
    }

    /// Gives the free worker its connection.
    fn hand_over(&self, socket: TcpStream) {
        if let Some(connections) = &self.connections {
            let _ = connections.send(socket);
        }
    }
}

/// One session, on a worker: server-v2's loop, registered so that a
/// shutdown can reach it.
fn serve_one(socket: &TcpStream, worker: u64, registry: &Registry, stop: &Stop) {
    if let Ok(client) = socket.peer_addr() {
        info!("session started: client {client}");
    }
    let _registered = match registry.register(worker, socket) {
        Ok(registered) => registered,
        Err(failure) => {
            warn!("session ended: cannot register it for a shutdown: {failure}");
            return;
        }
    };
    let ended = server_v2::session(socket);
    shared::end_session(socket, ended, stop);
}

impl Drop for Pool {
    /// Shuts the workers down and joins them: with the channel closed, each
    /// worker's next `recv` fails and its loop ends.
    fn drop(&mut self) {
        drop(self.connections.take());
        for (_, worker) in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}
