//! The lesson's scenarios, each one a function that drives real clients
//! against a server and returns what happened, with what the kernel showed.
//!
//! `examine` runs them in order and turns each outcome into a [`Check`](crate::examine::Check); the
//! workspace's own tests of server-v1, server-v2, server-v3 and the examples
//! run the very same functions and assert on the outcomes, so that the
//! lesson's claims and the tool that checks a learner's server are one piece
//! of code.
//!
//! Every wait is bounded: a reply that should come is awaited at most
//! [`REPLY_WITHIN`]; a reply that may never come (the second client's, say)
//! for the caller's `silence`, and then the kernel is asked where the
//! client's bytes are. A negative finding ("B got no reply") always comes
//! with the kernel's positive one ("B's 14 bytes wait unread in the
//! server's receive buffer") where the system reports it.
//!
//! One module per scenario, and one for each thing they share: the server
//! examined (`target`), what came back to a client (`answer`), and where the
//! kernel holds a client's bytes (`evidence`).

use std::time::Duration;

mod after_a_leaves;
mod answer;
mod evidence;
mod frame;
mod many_at_once;
mod shutdown;
mod silent_first;
mod target;
mod vanishing;

pub use after_a_leaves::*;
pub use answer::*;
pub use evidence::*;
pub use frame::*;
pub use many_at_once::*;
pub use shutdown::*;
pub use silent_first::*;
pub use target::*;
pub use vanishing::*;

/// The longest a reply that should come, or a connection that should close,
/// is awaited: on loopback either takes well under a millisecond, and a JVM
/// starting its first thread a few. A server that takes longer counts as not
/// answering.
pub const REPLY_WITHIN: Duration = Duration::from_secs(5);

/// The longest a handshake is awaited. A server whose accept queue is full
/// leaves new handshakes unanswered (Linux and macOS drop the SYN).
pub const CONNECT_WITHIN: Duration = Duration::from_secs(3);

/// The first message, the course's: every server of the lesson answers it.
pub const HELLO: &str = "Hello";

/// What the second client sends while the first stays silent: 14 bytes as a
/// frame.
pub const FROM_B: &str = "Hello from B";

/// What a client sends to end its session, in the course.
pub const EXIT: &str = "exit";
