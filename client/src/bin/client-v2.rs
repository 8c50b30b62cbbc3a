//! client-v2: sends each line of standard input and prints each reply, until
//! `exit` or the end of input.

use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;
use client::cli::ClientArgs;
use client::conversation::{
    arrives_within, closed_without_replying, let_the_server_close_first, no_reply, reply_stopped,
};
use client::net::is_time_out;
use client::protocol::{read_utf, write_utf, ProtocolError};
use client::text::shown;
use log::{info, warn};

/// Sends each line typed and prints each reply, until `exit` (the lesson's ClientV2).
#[derive(Parser)]
#[command(name = "client-v2", version)]
struct Args {
    #[command(flatten)]
    server: ClientArgs,
    /// client-v1's flag, taken only to say so.
    #[arg(long, hide = true, value_name = "TEXT")]
    message: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.message.is_some() {
        use clap::CommandFactory;
        Args::command()
            .error(
                clap::error::ErrorKind::UnknownArgument,
                "--message is client-v1's flag: client-v2 sends each line you type; for one message, \
                 run `cargo run -p client --bin client-v1 -- --message TEXT`",
            )
            .exit();
    }
    client::logging::init(false);
    client::cli::finish("client-v2", run(&args))
}

fn run(args: &Args) -> Result<()> {
    let socket = args.server.connect()?;
    let mut input = BufReader::new(&socket);
    let mut output = &socket;

    let stdin = io::stdin();
    let prompt = stdin.is_terminal();
    let mut line = Vec::new();
    loop {
        if prompt {
            let mut stdout = client::output::stdout();
            write!(stdout, "message (exit to quit)> ")?;
            stdout.flush()?;
        }
        line.clear();
        // The end of input (Ctrl-D, or the end of a pipe) ends the client like `exit`.
        let typed = stdin
            .lock()
            .read_until(b'\n', &mut line)
            .context("cannot read standard input")?;
        let end_of_input = typed == 0;
        if end_of_input && prompt {
            // Ctrl-D leaves the cursor on the prompt's line.
            writeln!(client::output::stdout())?;
        }
        let message = match std::str::from_utf8(&line) {
            _ if end_of_input => "exit",
            Ok(text) => text.trim_end_matches(['\n', '\r']),
            // The frame carries text: a line that is not UTF-8 is not a message.
            Err(error) => {
                warn!("this line is not UTF-8 text ({error}), so it was not sent; type it again");
                continue;
            }
        };

        // The server may have closed while we waited for this line: then
        // the message is not sent, and the client says so. At the end of
        // input there was no message to send: the client was leaving anyway.
        let server_closed = report_unasked(&socket, &mut input)?;
        if server_closed {
            if end_of_input {
                info!("the server had already closed the connection");
                return Ok(());
            }
            bail!("the server closed the connection; this message was not sent");
        }
        write_utf(&mut output, message).context("cannot send the message")?;
        info!("sent: {}", shown(message));
        if message == "exit" {
            break;
        }

        // Blocks until the reply arrives. Against server-v2, a second client
        // waits here until the server ends and the kernel resets its
        // connection: its message sits unread in the server's kernel. After
        // a second of silence, the client says so.
        wait_for_the_reply(&socket, &input, &args.server)?;
        let reply = read_utf(&mut input)
            .map_err(|error| reply_failed(error, &args.server))?
            .ok_or_else(|| closed_without_replying(message))?;
        info!("received: {}", shown(&reply));
        report_unasked(&socket, &mut input)?;
    }

    // After `exit`, the server closes: let it close first (see
    // client::conversation), a moment at most.
    let_the_server_close_first(&mut input, GOODBYE, args.server.timeout)?;
    info!("closing");
    Ok(())
}

/// How long client-v2 waits for a reply before it says why none may come.
const HINT_AFTER: Duration = Duration::from_secs(1);

/// Waits until the reply begins to arrive (or the connection ends). After
/// [`HINT_AFTER`] of silence it says, once, why no reply may be coming, and
/// waits on; with `--timeout` it gives up after that long.
///
/// It waits with `peek` under the socket's read time-out, not with
/// `read_utf`: a read that times out in the middle of a frame loses what it
/// has read (`read_exact` has taken those bytes out of the `BufReader`, and
/// the next read would take the rest of the payload for a length), while
/// `peek` takes nothing. Once a byte is here, `read_utf` reads the frame
/// under `--timeout` alone, and a time-out there ends the program, so
/// nothing lost is missed.
fn wait_for_the_reply(socket: &TcpStream, input: &BufReader<&TcpStream>, args: &ClientArgs) -> Result<()> {
    if !input.buffer().is_empty() {
        return Ok(());
    }
    let first_wait = args.timeout.map_or(HINT_AFTER, |timeout| timeout.min(HINT_AFTER));
    let mut arrived = arrives_within(socket, Some(first_wait));
    if matches!(arrived, Ok(false)) && args.timeout != Some(first_wait) {
        info!(
            "no reply yet after {HINT_AFTER:?}: the server may not have accepted this connection, so the \
             message waits unread in the server's receive buffer (`cargo run --bin peek -- --port {}` \
             shows it); still waiting",
            args.port
        );
        arrived = arrives_within(socket, args.timeout.map(|timeout| timeout - HINT_AFTER));
    }
    socket.set_read_timeout(args.timeout)?;
    match arrived {
        Ok(true) => Ok(()),
        Ok(false) => Err(no_reply(args.timeout.unwrap_or_default(), args.port)),
        Err(error) => Err(anyhow::Error::new(error).context("cannot read the server's reply")),
    }
}

/// Reports, one line each, the messages the server has sent that no
/// message of ours asked for, so that none is taken for the next reply.
/// Called after each reply (a second frame often arrives with it) and
/// before each message is sent (one may have come while we read a line).
/// Returns whether the server has closed the connection.
fn report_unasked(socket: &TcpStream, input: &mut BufReader<&TcpStream>) -> Result<bool> {
    loop {
        match waiting(socket, input).context("cannot read from the server")? {
            Waiting::Nothing => return Ok(false),
            Waiting::End => return Ok(true),
            Waiting::Bytes => match read_utf(input).context("cannot read what the server sent")? {
                Some(unasked) => warn!(
                    "the server sent a message that was not asked for: {}",
                    shown(&unasked)
                ),
                None => return Ok(true),
            },
        }
    }
}

/// What waits to be read from the server, without waiting for it.
enum Waiting {
    Nothing,
    Bytes,
    /// The server closed the connection: the end of the stream.
    End,
}

/// What from the server waits to be read, without waiting for any: in the
/// `BufReader`'s buffer, or in the kernel's receive buffer.
fn waiting(socket: &TcpStream, input: &BufReader<&TcpStream>) -> io::Result<Waiting> {
    if !input.buffer().is_empty() {
        return Ok(Waiting::Bytes);
    }
    socket.set_nonblocking(true)?;
    let peeked = socket.peek(&mut [0]);
    socket.set_nonblocking(false)?;
    match peeked {
        Ok(0) => Ok(Waiting::End),
        Ok(_) => Ok(Waiting::Bytes),
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => Ok(Waiting::Nothing),
        Err(error) => Err(error),
    }
}

/// The longest client-v2 waits, after `exit`, for the server to close.
const GOODBYE: Duration = Duration::from_secs(2);

/// The error for a reply that could not be read. Its first byte had
/// arrived (see [`wait_for_the_reply`]), so a time-out here is a frame that
/// stopped in the middle.
fn reply_failed(error: ProtocolError, args: &ClientArgs) -> anyhow::Error {
    match (&error, args.timeout) {
        (ProtocolError::Io(cause), Some(timeout)) if is_time_out(cause) => reply_stopped(timeout),
        _ => anyhow::Error::new(error).context("cannot read the server's reply"),
    }
}
