//! The command-line flags the programs share, and how they end.

use std::io::{self, Write};
use std::process::ExitCode;

use crate::net::DEFAULT_PORT;
// Standard output's handling, for the programs that end through [`finish`].
#[doc(no_inline)]
pub use crate::output::{exit_on_output_failure, output_closed, stdout, Output};

/// The flags every server takes. Each server flattens this into its own
/// `Args`, whose doc comment says what that version demonstrates.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    #[command(flatten)]
    pub listen: ListenArgs,
    /// Log only start, connections, session ends and errors, not every message.
    #[arg(long)]
    pub quiet: bool,
}

/// Where and how to listen: the flags of every program that plays the
/// server (the servers, and `lab`, which makes their calls by hand).
#[derive(Debug, Clone, clap::Args)]
pub struct ListenArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on; 0 takes a free port (the `listening on` line says
    /// which).
    #[arg(long, default_value_t = DEFAULT_PORT)]
    pub port: u16,
    /// How many finished handshakes the kernel may queue before accept();
    /// default: 128, what Rust's standard library asks for.
    ///
    /// The kernel may keep less without a word: Linux caps it at
    /// net.core.somaxconn (`peek` shows the limit it kept). When the queue is
    /// full, the kernel drops new handshakes, and on Linux also the last ACK
    /// of one, which leaves that client connected while the server's side
    /// still waits in SYN_RECV.
    #[arg(long, value_parser = clap::value_parser!(i32).range(0..))]
    pub backlog: Option<i32>,
}

impl ListenArgs {
    /// Binds and listens as these flags say; see [`crate::net::listen`].
    pub fn listen(&self) -> anyhow::Result<std::net::TcpListener> {
        crate::net::listen(&self.host, self.port, self.backlog)
    }
}

/// The flags every client takes to find its server.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// The server's port.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    pub port: u16,
    /// Connect from this local port (as the lesson's clients on 50000 and
    /// 60000); default: one the kernel picks.
    #[arg(long)]
    pub local_port: Option<u16>,
    /// Give up when the server has not answered for SECS seconds (e.g. 5 or
    /// 0.5): the handshake, or a reply; default: wait for ever, as the
    /// lesson's clients do.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds, allow_negative_numbers = true)]
    pub timeout: Option<std::time::Duration>,
}

impl ClientArgs {
    /// Connects to the server these flags name, and logs the connection's
    /// two ends, as the lesson's clients do.
    ///
    /// `connect` returns once the kernel has finished the three-way
    /// handshake, whether or not the server's program has called `accept()`
    /// yet.
    ///
    /// With `--timeout`, the handshake and every read from the returned
    /// socket give up after that long: a read fails with
    /// [`std::io::ErrorKind::WouldBlock`] (Unix) or `TimedOut` (Windows).
    pub fn connect(&self) -> anyhow::Result<std::net::TcpStream> {
        let socket = crate::net::connect_within(&self.host, self.port, self.local_port, self.timeout)?;
        socket.set_read_timeout(self.timeout)?;
        log::info!(
            "connected: client {} -> server {}",
            socket.local_addr()?,
            socket.peer_addr()?
        );
        Ok(socket)
    }
}

/// A flag's number of seconds (`--timeout`, server-v3's `--idle-timeout`):
/// positive, whole or not, and no more than a `Duration` holds.
///
/// ```
/// use std::time::Duration;
/// use client::cli::parse_seconds;
///
/// assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
/// for refused in ["0", "-1", "soon", "1e20", "inf"] {
///     assert!(parse_seconds(refused).is_err(), "{refused}");
/// }
/// ```
pub fn parse_seconds(text: &str) -> Result<std::time::Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|seconds| std::time::Duration::try_from_secs_f64(seconds).ok())
        .filter(|duration| !duration.is_zero())
        .ok_or_else(|| format!("{text:?} is not a positive number of seconds (such as 5 or 0.5)"))
}

/// Turns a program's result into its exit status: success, or one line on
/// standard error (`program: error: what happened; what to do`) and status 1.
///
/// A failure to write to standard output because it was closed (the reader
/// of a pipe went away, as in `peek | head -1`) is not an error: the program
/// has said all anyone wants to read, and ends quietly with status 0, as
/// Unix programs do. Any other failure to write it (a full disk) is an error
/// like the others.
///
/// ```
/// use std::process::ExitCode;
///
/// assert_eq!(client::cli::finish("demo", Ok(())), ExitCode::SUCCESS);
/// ```
pub fn finish(program: &str, result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if output_closed(&error) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the whole chain of causes on one line. A closed
            // standard error has nowhere left to say it: the status says it.
            let _ = writeln!(io::stderr(), "{program}: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The whole `main` of a server: log in the lesson's format, bind and
/// listen on the flags' address, raise the open-file limit (each client is
/// an open file), hand the listening socket to the lesson's `serve`, and
/// turn its result into the exit status. A server that cannot listen says
/// only that.
///
/// ```no_run
/// use clap::Parser;
///
/// #[derive(Parser)]
/// struct Args {
///     #[command(flatten)]
///     server: client::cli::ServerArgs,
/// }
///
/// fn main() -> std::process::ExitCode {
///     let args = Args::parse();
///     // The lesson's part: what to do with the listening socket.
///     client::cli::run_server("accept-once", &args.server, |listener| {
///         let (_socket, client) = listener.accept()?;
///         log::info!("connected: client {client}");
///         Ok(())
///     })
/// }
/// ```
pub fn run_server(
    program: &str,
    args: &ServerArgs,
    serve: impl FnOnce(std::net::TcpListener) -> anyhow::Result<()>,
) -> ExitCode {
    crate::logging::init(args.quiet);
    let result = args.listen.listen().and_then(|listener| {
        match crate::net::raise_open_file_limit() {
            Some(limit) => log::info!("open-file limit {limit} (each connection is an open file)"),
            None => log::info!("no open-file limit on this system (sockets are handles, bounded by memory)"),
        }
        serve(listener)
    });
    finish(program, result)
}
