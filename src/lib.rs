//! The lesson's instruments: what lets a learner *see* what the servers'
//! code cannot show, because it happens in the kernel.
//!
//! The servers (`server-v1`, `server-v2`, `server-v3`) and the clients
//! (`client`) are the lesson itself. This package holds what surrounds
//! them:
//!
//! - [`kernel`]: the kernel's table of TCP sockets, read the way each system
//!   reports it, and [`kernel::PortView`], one server port as the lesson
//!   talks about it: the listening socket's accept queue, each connection,
//!   and the bytes no one has read.
//! - [`picture`]: the lesson's picture of a port, drawn from a
//!   [`kernel::PortView`]: the listening socket and its queue as a row of
//!   slots, the server's sockets from `accept()`, the clients.
//! - [`crowd`]: many clients at once, to compare the servers and measure
//!   them.
//! - [`peer`]: one client speaking the protocol, for the tour and the tests.
//! - [`examine`]: the lesson's checks run against any server of the frame,
//!   and which version of the course it behaves like, with the kernel's
//!   evidence.
//! - [`term`]: what the terminal can show (colour, box characters, width).
//!
//! The programs built from it:
//!
//! - `socket-lesson` (`cargo run`): the tour, which runs each server in this
//!   process and narrates what happens;
//! - `peek` (`cargo run --bin peek`): the kernel's view of one port;
//! - `crowd` (`cargo run --bin crowd`): a crowd of clients and what each got;
//! - `lab` (`cargo run --bin lab`): a server whose calls (accept, read,
//!   write, close) you make by hand, with the picture after each;
//! - `examine` (`cargo run --bin examine`): which version of the course a
//!   server behaves like, and why.

pub mod crowd;
pub mod examine;
pub mod kernel;
pub mod peer;
pub mod picture;
pub mod term;

/// The language the tour and the picture speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// English.
    En,
    /// Korean (한국어), the language of the original lesson.
    Ko,
}

impl Lang {
    /// The text in this language, of the two given.
    ///
    /// ```
    /// use socket_lesson::Lang;
    ///
    /// assert_eq!(Lang::Ko.pick("queue", "큐"), "큐");
    /// ```
    pub fn pick<T>(self, en: T, ko: T) -> T {
        match self {
            Lang::En => en,
            Lang::Ko => ko,
        }
    }
}
