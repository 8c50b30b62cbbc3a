//! client-v1: connects, sends one message, prints the one reply, and exits.

use std::io::BufReader;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use client::conversation::{
    arrives_within, closed_without_replying, let_the_server_close_first, no_reply, reply_stopped,
};
use client::net::is_time_out;
use client::protocol::{read_utf, write_utf, ProtocolError};
use client::text::shown;
use log::info;

/// Sends one message, prints the server's one reply, and exits (the lesson's ClientV1).
#[derive(Parser)]
#[command(name = "client-v1", version)]
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
    // --timeout, at most that long): first until its first byte, so that a
    // time-out tells no reply at all from a reply that stopped midway.
    if !arrives_within(&socket, args.server.timeout).context("cannot read the server's reply")? {
        let timeout = args.server.timeout.unwrap_or_default();
        return Err(no_reply(timeout, args.server.port));
    }
    let reply = read_utf(&mut input)
        .map_err(|error| reply_failed(error, args))?
        .ok_or_else(|| closed_without_replying(&args.message))?;
    info!("received: {}", shown(&reply));

    // server-v1 closes right behind its reply: listen a moment for that, so
    // that the server, closing first, keeps the TIME_WAIT. (server-v2 and
    // v3 wait for the client to close: for them this costs the moment.)
    let_the_server_close_first(&mut input, GOODBYE, args.server.timeout)?;
    info!("closing");
    Ok(())
}

/// How long client-v1 listens after its reply for the server to close.
const GOODBYE: Duration = Duration::from_millis(250);

/// The error for a reply that could not be read. Its first byte had
/// arrived, so a time-out here is a frame that stopped in the middle.
fn reply_failed(error: ProtocolError, args: &Args) -> anyhow::Error {
    match (&error, args.server.timeout) {
        (ProtocolError::Io(cause), Some(timeout)) if is_time_out(cause) => reply_stopped(timeout),
        _ => anyhow::Error::new(error).context("cannot read the server's reply"),
    }
}
