//! client-v2: sends each line of standard input and prints each reply, until
//! `exit` or the end of input.

use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use client::protocol::{read_utf, write_utf};
use log::info;

/// Sends each line typed and prints each reply, until `exit` (the lesson's ClientV2).
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    server: client::cli::ClientArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    client::logging::init(false);
    client::cli::finish("client-v2", run(&args))
}

fn run(args: &Args) -> Result<()> {
    let socket = args.server.connect()?;
    let mut input = BufReader::new(&socket);
    let mut output = &socket;

    let stdin = io::stdin();
    let prompt = stdin.is_terminal();
    let mut line = String::new();
    loop {
        if prompt {
            print!("message (exit to quit)> ");
            io::stdout().flush()?;
        }
        line.clear();
        // The end of input (Ctrl-D, or the end of a pipe) ends the client like `exit`.
        let message = match stdin
            .lock()
            .read_line(&mut line)
            .context("cannot read standard input")?
        {
            0 => "exit",
            _ => line.trim_end_matches(['\n', '\r']),
        };

        write_utf(&mut output, message).context("cannot send the message")?;
        info!("sent: {message}");
        if message == "exit" {
            break;
        }

        // Blocks until the reply arrives. Against server-v2, a second client
        // waits here until the server ends and the kernel resets its
        // connection: its message sits unread in the server's kernel.
        let reply = read_utf(&mut input)
            .context("cannot read the server's reply")?
            .context("the server closed the connection without replying")?;
        info!("received: {reply}");
    }

    info!("closing");
    Ok(())
}
