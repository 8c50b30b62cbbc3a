//! A crowd of clients at once: the engine behind the `crowd` binary, the
//! tour's side-by-side table, and the benchmarks.
//!
//! Every client connects, then all start together: each sends a message and
//! waits for its reply, `messages` times, then sends `exit`, closes its
//! sending side, and waits for the server to close the connection. A client
//! waits at most `timeout` for its connection, then for each reply, then for
//! the close. Each client ends in exactly one of these ways, and the [`Report`] counts each:
//!
//! | outcome | what happened |
//! |---|---|
//! | served | every reply came, right and within the time-out, then `exit` was sent, and the server closed the connection (or did not within the time-out) without sending anything more |
//! | starved | no reply ever came: the time-out passed, or the server closed or reset the connection without answering once. Against server-v2 that is every client but the first: they wait in its accept queue, and it resets them when it exits |
//! | stalled | some replies came, then one did not come within the time-out |
//! | reply cut off | part of a reply's frame came, each byte right, then no more: the time-out passed, or the server closed or reset the connection in the middle of the frame |
//! | wrong reply | a reply was not `message + " World!"` |
//! | extra frame | every reply came, then bytes that no request asked for, before the server closed |
//! | closed, reset | after replies had begun, the server closed the connection, or reset it (or it broke otherwise): the server was stopped mid-run, say |
//! | refused | the connect was refused: nothing listens there (or, on Windows, the accept queue was full) |
//! | connect timed out | the handshake did not finish within the time-out: the server's accept queue was full and its kernel dropped the SYN (Linux and macOS do), or the server cannot be reached |
//! | connect failed | the connect failed otherwise: out of file descriptors or local ports, say |
//!
//! A reply that completes after its client's time-out does not count, however
//! right it is: the client is starved or stalled, and the report counts the
//! reply in `late_replies`.
//!
//! The run measured what was asked ([`Report::failure`] is `None`) when every
//! client ended served, starved or stalled: a server too busy, too slow or
//! too single-minded to answer in time is what a crowd is there to show.
//! Any other outcome means the crowd did not measure the server it was
//! pointed at: it answered wrongly, went away mid-run, or could not be
//! reached.
//!
//! The crowd must never be what limits a measurement, so it is not built like
//! the servers it measures. A few threads (one per core) each drive many
//! clients with non-blocking sockets and one poller (through `mio`: `epoll`
//! on Linux, `kqueue` on macOS, the AFD driver on Windows): a reply
//! costs a `read` or two and the next request one `write`, with no thread
//! switch per message. Nothing is allocated per message, and memory does not
//! grow with `messages`: the request and the expected reply are encoded once,
//! each client keeps a few counters, and the round trips go into one
//! fixed-size histogram per thread (an HdrHistogram), merged at the end.
//!
//! What cannot work is refused before anything is allocated
//! ([`Crowd::check`]): more clients than this system has local ports for
//! outgoing connections, or than this process may open files, and a message
//! whose reply would not fit in a frame.

//! Its parts, one job each:
//! - `settings`: what a crowd does ([`Crowd`]), and what it refuses;
//! - `frames`: the request, the expected reply and `exit`, encoded once;
//! - `ports`: the local ports each system gives outgoing connections;
//! - `round_trips`: the histogram of round-trip times;
//! - `report`: how each client ended, counted ([`Report`]);
//! - `event_loop`: the threads, each driving its clients on one poller.

mod event_loop;
mod frames;
mod ports;
mod report;
mod round_trips;
mod settings;

pub use report::Report;
pub use settings::{Crowd, DEFAULT_TIMEOUT};
