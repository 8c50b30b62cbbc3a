//! client-v1: connects, sends one message, prints the one reply, and exits.

use std::io::{self, BufReader};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use clap::Parser;
use client::protocol::{read_utf, write_utf, ProtocolError};
use client::text::shown;
use log::{info, warn};

/// Sends one message, prints the server's one reply, and exits (the lesson's ClientV1).
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    server: client::cli::ClientArgs,
    /// The message to send.
    #[arg(long, default_value = "Hello")]
    message: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    client::logging::init(false);
    client::cli::finish("client-v1", run(&args))
}

fn run(args: &Args) -> Result<()> {
    // connect() returns once the kernel has finished the three-way handshake,
    // whether or not the server's program has called accept() yet.
    let socket = args.server.connect()?;
    let mut input = BufReader::new(&socket);
    let mut output = &socket;

    write_utf(&mut output, &args.message).context("cannot send the message")?;
    info!("sent: {}", shown(&args.message));

    // Blocks until the server's reply is in our receive buffer (with
    // --timeout, at most that long).
    let reply = read_utf(&mut input)
        .map_err(|error| reply_failed(error, args))?
        .ok_or_else(|| closed_without_replying(&args.message))?;
    info!("received: {}", shown(&reply));

    let_the_server_close_first(&socket, &mut input, args.server.timeout)?;
    info!("closing");
    Ok(())
}

/// How long client-v1 listens after its reply for the server to close.
const GOODBYE: Duration = Duration::from_millis(250);

/// Listens a moment after the reply, until the server closes (at most
/// [`GOODBYE`], or `--timeout` if shorter), and reports anything else it
/// sent: a reply is one frame, and a second one was not asked for.
///
/// server-v1 closes as soon as it has replied, its FIN right behind the
/// reply. Letting it close first leaves TIME_WAIT on the server's side (the
/// side that closes first keeps it), so this client's `--local-port` is free
/// for the next run at once. server-v2 and v3 wait for the client to close,
/// so for them this costs the quarter second, and then we close.
fn let_the_server_close_first(
    socket: &TcpStream,
    input: &mut BufReader<&TcpStream>,
    timeout: Option<Duration>,
) -> Result<()> {
    let deadline = Instant::now() + timeout.map_or(GOODBYE, |timeout| timeout.min(GOODBYE));
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        socket.set_read_timeout(Some(left))?;
        match read_utf(input) {
            Ok(Some(unasked)) => warn!(
                "the server sent a message that was not asked for: {}",
                shown(&unasked)
            ),
            // The server closed, as it should; or the time is up, or the
            // connection failed: either way, we close now.
            Ok(None) | Err(_) => return Ok(()),
        }
    }
}

/// The error for a reply that could not be read, saying what a time-out
/// means.
fn reply_failed(error: ProtocolError, args: &Args) -> anyhow::Error {
    match (&error, args.server.timeout) {
        (ProtocolError::Io(cause), Some(timeout)) if is_time_out(cause) => anyhow!(
            "no reply within {timeout:?} (--timeout): the server has not answered; it may not have \
             accepted this connection (`cargo run --bin peek -- --port {}` shows the message waiting \
             unread in its receive buffer), or it is busy or stuck",
            args.server.port
        ),
        _ => anyhow::Error::new(error).context("cannot read the server's reply"),
    }
}

/// The error for a server that closed instead of replying, which says why
/// when the reason is on our side: the reply, `message + " World!"`, would
/// need more bytes than a frame holds, so the server could not send it.
fn closed_without_replying(message: &str) -> anyhow::Error {
    let reply = client::protocol::encode(&format!("{message} World!")).len();
    if reply > client::protocol::MAX_FRAME_PAYLOAD {
        anyhow!(
            "the server closed the connection without replying: the reply to this message, {reply} \
             bytes, would not fit in one frame (the lesson's frame holds at most 65535 bytes), so the \
             server could not send it; send a shorter message"
        )
    } else {
        anyhow!("the server closed the connection without replying")
    }
}

/// Whether a read failed because its time-out passed: `WouldBlock` on Unix,
/// `TimedOut` on Windows.
fn is_time_out(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}
