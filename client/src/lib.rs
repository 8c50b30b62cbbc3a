//! The client side of the lesson, and the pieces every program shares.
//!
//! - [`protocol`]: the wire format, Java's `writeUTF`/`readUTF` frame. The
//!   servers use it as `client::protocol`, exactly as the Java lesson's
//!   servers and clients share `DataInputStream` and `DataOutputStream`.
//! - [`net`]: opening the listening socket and connecting, with errors that
//!   say what to do.
//! - [`logging`]: the lesson's log line, `HH:MM:SS.mmm [thread] message`.
//! - [`output`]: standard output, closed or full, and the program's name.
//! - [`cli`]: the command-line flags the programs share, their exit, and the
//!   whole `main` of a server (`run_server`).
//! - [`conversation`]: what a client makes of a silence, a close or a
//!   time-out, and leaving the server to close first.
//! - [`text`]: text from a peer, shown so that it cannot forge a log line
//!   or drive the terminal.
//!
//! The binaries are `client-v1` (one message) and `client-v2` (a line at a
//! time from standard input). The instruments that watch the kernel (`peek`,
//! `crowd`, the tour) are in the workspace's root package, `socket-lesson`.

pub mod cli;
pub mod conversation;
pub mod logging;
pub mod net;
pub mod output;
pub mod protocol;
pub mod text;
