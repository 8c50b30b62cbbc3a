//! Standard output, as every program of the workspace writes it: a closed
//! output (the reader of a pipe went away, as in `peek | head -1`) ends a
//! program quietly with status 0, as Unix programs do; any other failure to
//! write it (a full disk) is one line on standard error, with the program's
//! name, and status 1.
//!
//! The logger ([`crate::logging`]) and the programs' ends
//! ([`crate::cli::finish`]) both rest on it.

use std::io::{self, Write};

/// Standard output, whose write errors say that they are standard output's:
/// [`crate::cli::finish`] ends quietly when it was closed, and names it
/// otherwise.
///
/// ```
/// use std::io::Write;
///
/// writeln!(client::output::stdout(), "hello")?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn stdout() -> Output<io::StdoutLock<'static>> {
    Output(io::stdout().lock())
}

/// A writer whose errors are marked as standard output's; see [`stdout`].
///
/// ```
/// use std::io::Write;
/// use client::output::Output;
///
/// let mut out = Output(Vec::new());
/// write!(out, "hello")?;
/// assert_eq!(out.0, b"hello");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Output<W>(pub W);

impl<W: Write> Write for Output<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.write(bytes).map_err(output_failed)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().map_err(output_failed)
    }
}

/// Why standard output could not be written.
#[derive(Debug)]
struct OutputFailed(io::Error);

impl std::fmt::Display for OutputFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write to standard output: {}", self.0)
    }
}

impl std::error::Error for OutputFailed {}

fn output_failed(error: io::Error) -> io::Error {
    io::Error::new(error.kind(), OutputFailed(error))
}

/// Whether `error` is standard output found closed (written through
/// [`stdout`]): what [`crate::cli::finish`] ends quietly on.
///
/// ```
/// // A broken pipe on a socket is not standard output's.
/// let socket: anyhow::Error = std::io::Error::from(std::io::ErrorKind::BrokenPipe).into();
/// assert!(!client::output::output_closed(&socket));
/// ```
pub fn output_closed(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<io::Error>().is_some_and(|error| {
            error.kind() == io::ErrorKind::BrokenPipe
                && error.get_ref().is_some_and(|inner| inner.is::<OutputFailed>())
        })
    })
}

/// Ends the process after a failure to write standard output, from a place
/// that cannot return an error (a logger, a narrator): quietly with status 0
/// when it was closed, with one line and status 1 otherwise.
///
/// ```no_run
/// use std::io::Write;
///
/// if let Err(error) = writeln!(std::io::stdout(), "a line of the log") {
///     client::output::exit_on_output_failure("server-v3", error);
/// }
/// ```
pub fn exit_on_output_failure(program: &str, error: io::Error) -> ! {
    if error.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    // An error from `stdout()` already says whose it is.
    let marked = error.get_ref().is_some_and(|inner| inner.is::<OutputFailed>());
    let what = if marked {
        ""
    } else {
        "cannot write to standard output: "
    };
    let _ = writeln!(io::stderr(), "{program}: error: {what}{error}");
    std::process::exit(1);
}

/// The name this program was started as, for its messages: `client-v2`.
///
/// ```
/// // A test runs as its own program, named after its file.
/// assert!(!client::output::program_name().is_empty());
/// ```
pub fn program_name() -> String {
    std::env::args_os()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(std::path::Path::file_stem)
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "program".to_string())
}
