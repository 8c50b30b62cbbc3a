//! client-v1: connects, sends one message, prints the one reply, and exits.

use std::io::BufReader;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use client::protocol::{read_utf, write_utf};
use log::info;

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
    info!("sent: {}", args.message);

    // Blocks until the server's reply is in our receive buffer.
    let reply = read_utf(&mut input)
        .context("cannot read the server's reply")?
        .context("the server closed the connection without replying")?;
    info!("received: {reply}");

    info!("closing");
    Ok(())
}
