//! The command-line flags the programs share, and how they end.

use std::process::ExitCode;

/// The flags every server takes. Each server flattens this into its own
/// `Args`, whose doc comment says what that version demonstrates.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on; 0 takes a free port (the log says which).
    #[arg(long, default_value_t = 12345)]
    pub port: u16,
    /// How many finished handshakes the kernel may queue before accept();
    /// default: what Rust's standard library asks for.
    #[arg(long, value_parser = clap::value_parser!(i32).range(0..))]
    pub backlog: Option<i32>,
    /// Log only start, connections, session ends and errors, not every message.
    #[arg(long)]
    pub quiet: bool,
}

/// The flags every client takes to find its server.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// The server's port.
    #[arg(long, default_value_t = 12345)]
    pub port: u16,
    /// Connect from this local port (as the lesson's clients on 50000 and
    /// 60000); default: one the kernel picks.
    #[arg(long)]
    pub local_port: Option<u16>,
}

impl ClientArgs {
    /// Connects to the server these flags name, and logs the connection's
    /// two ends, as the lesson's clients do.
    ///
    /// `connect` returns once the kernel has finished the three-way
    /// handshake, whether or not the server's program has called `accept()`
    /// yet.
    pub fn connect(&self) -> anyhow::Result<std::net::TcpStream> {
        let socket = crate::net::connect(&self.host, self.port, self.local_port)?;
        log::info!(
            "connected: client {} -> server {}",
            socket.local_addr()?,
            socket.peer_addr()?
        );
        Ok(socket)
    }
}

/// Turns a program's result into its exit status: success, or one line on
/// standard error (`program: error: what happened; what to do`) and status 1.
///
/// ```
/// use std::process::ExitCode;
///
/// assert_eq!(client::cli::finish("demo", Ok(())), ExitCode::SUCCESS);
/// ```
pub fn finish(program: &str, result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the whole chain of causes on one line.
            eprintln!("{program}: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The whole `main` of a server: log in the lesson's format, raise the
/// open-file limit (each client is an open file), bind and listen
/// on the flags' address, hand the listening socket to the lesson's `serve`,
/// and turn its result into the exit status.
pub fn run_server(
    program: &str,
    args: &ServerArgs,
    serve: fn(std::net::TcpListener) -> anyhow::Result<()>,
) -> ExitCode {
    crate::logging::init(args.quiet);
    let limit = crate::net::raise_open_file_limit();
    log::info!("open-file limit {limit} (each connection is an open file)");
    let result = crate::net::listen(&args.host, args.port, args.backlog).and_then(serve);
    finish(program, result)
}
