//! The client side of the lesson, and the pieces every program shares.
//!
//! - [`protocol`]: the wire format, Java's `writeUTF`/`readUTF` frame. The
//!   servers use it as `client::protocol`, exactly as the Java lesson's
//!   servers and clients share `DataInputStream` and `DataOutputStream`.
//! - [`net`]: opening the listening socket and connecting, with errors that
//!   say what to do.
//! - [`kernel`]: the kernel's table of TCP sockets, to see what `accept()`
//!   has not taken yet.
//! - [`logging`]: the lesson's log line, `HH:MM:SS.mmm [thread] message`.
//! - [`cli`]: the command-line flags the programs share, and their exit.
//! - [`crowd`]: many clients at once, to compare the versions and measure them.
//!
//! The binaries are `client-v1` (one message) and `client-v2` (a line at a
//! time from standard input).

pub mod cli;
pub mod crowd;
pub mod kernel;
pub mod logging;
pub mod net;
pub mod protocol;
