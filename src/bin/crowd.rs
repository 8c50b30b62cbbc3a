//! crowd: many clients at once against one server, and what each got.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use clap::Parser;
use crossterm::{cursor, style, terminal, QueueableCommand};
use socket_lesson::crowd::{Crowd, Report, DEFAULT_TIMEOUT};

/// Opens many clients at once, each sending messages one at a time, and
/// reports who was served and who starved, and how fast.
///
/// Each client ends in one of these ways, and each is counted: served (every
/// reply right and within the time-out, then `exit` sent, and the server
/// closed); starved (no reply at all: the time-out passed, or the server
/// closed the connection without answering, as server-v2 does to the clients
/// in its accept queue when it exits); stalled (some replies, then none
/// within the time-out); a reply cut off (part of a reply's frame came, then
/// no more); a wrong reply; an extra frame (bytes after the last reply that
/// no request asked for); closed or reset by the server mid-run; refused;
/// connect timed out (the accept queue was full and the server's kernel
/// dropped the SYN); or connect failed otherwise.
///
/// The exit status is 0 when every client ended served, starved or stalled:
/// that is a measurement. Otherwise the counts are printed all the same,
/// then one line saying what went wrong, and the status is 1.
#[derive(Parser)]
#[command(name = "crowd", version)]
struct Args {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The server's port.
    #[arg(long, default_value_t = 12345)]
    port: u16,
    /// How many clients connect at once (each needs a local port and an open
    /// file).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    clients: u32,
    /// How many messages each client sends, waiting for each reply.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    messages: u32,
    /// How long a client waits for its connection, and then for each reply,
    /// before it gives up: 2000 ms (2 s) unless given. A reply later than
    /// this does not count.
    #[arg(
        long,
        default_value_t = DEFAULT_TIMEOUT.as_millis() as u64,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    timeout_ms: u64,
    /// The message each client sends; its reply, the message and " World!",
    /// must fit in one frame (65535 bytes encoded).
    #[arg(long, default_value = "Hello")]
    message: String,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    client::cli::finish("crowd", run(&args))
}

fn run(args: &Args) -> Result<()> {
    let mut crowd = Crowd::new(
        &args.host,
        args.port,
        args.clients as usize,
        args.messages as usize,
    )?;
    crowd.timeout = Duration::from_millis(args.timeout_ms);
    crowd.message = args.message.clone();

    let mut progress = Progress::new(u64::from(args.clients) * u64::from(args.messages));
    let report = crowd.run(|replies| progress.show(replies));
    progress.clear();
    let report = report?;

    match (show(&report, args.json), report.failure()) {
        // Standard output closed early (`crowd | head -1`): the reader has
        // what it wanted, but the status still says how the run went.
        (Err(error), Some(what)) if client::output::output_closed(&error) => Err(anyhow!(what)),
        (Err(error), _) => Err(error),
        (Ok(()), Some(what)) => Err(anyhow!(what)),
        (Ok(()), None) => Ok(()),
    }
}

/// Writes the report on standard output, through `client::output::stdout`, so
/// that a closed standard output ends the program quietly and a full disk
/// is named as standard output's.
fn show(report: &Report, json: bool) -> Result<()> {
    let mut out = client::output::stdout();
    if json {
        writeln!(out, "{}", serde_json::to_string(report)?)?;
    } else {
        write_table(&mut out, report)?;
    }
    out.flush()?;
    Ok(())
}

fn write_table(out: &mut impl Write, report: &Report) -> io::Result<()> {
    writeln!(out, "clients          {}", report.clients)?;
    writeln!(out, "connected        {}", report.connected)?;
    writeln!(out, "served           {}", report.served)?;
    match report.starved_then_closed {
        0 => writeln!(out, "starved          {}", report.starved)?,
        closed => writeln!(
            out,
            "starved          {}  (the server closed or reset {closed} before any reply)",
            report.starved
        )?,
    }
    writeln!(out, "stalled          {}", report.stalled)?;
    writeln!(out, "reply cut off    {}", report.half_replies)?;
    writeln!(out, "wrong replies    {}", report.wrong_replies)?;
    writeln!(out, "extra frames     {}", report.extra_frames)?;
    writeln!(out, "closed mid-run   {}", report.closed)?;
    writeln!(out, "reset mid-run    {}", report.reset)?;
    writeln!(out, "refused          {}", report.refused)?;
    writeln!(out, "connect time-out {}", report.connect_timed_out)?;
    match &report.connect_error {
        Some(error) if report.connect_failed > 0 => {
            writeln!(out, "connect failed   {}  ({error})", report.connect_failed)?;
        }
        _ => writeln!(out, "connect failed   {}", report.connect_failed)?,
    }
    writeln!(out, "replies          {}", report.replies)?;
    writeln!(out, "late replies     {}", report.late_replies)?;
    writeln!(
        out,
        "elapsed          {:.3} s  ({:.3} s connecting)",
        report.elapsed_s, report.connect_s
    )?;
    writeln!(out, "replies/s        {:.0}", report.replies_per_s)?;
    match (report.p50_us, report.p99_us, report.max_us) {
        (Some(p50), Some(p99), Some(max)) => {
            writeln!(out, "round trip       p50 {p50} µs, p99 {p99} µs, max {max} µs")
        }
        // Nothing to measure: a 0 would read as a round trip too fast to see.
        _ => writeln!(out, "round trip       none measured (no reply came in time)"),
    }
}

/// The count of replies so far, redrawn in place on standard error: only
/// when it is a terminal, and once a run has lasted a second.
struct Progress {
    terminal: bool,
    started: Instant,
    expected: u64,
    drawn: bool,
}

impl Progress {
    fn new(expected: u64) -> Progress {
        Progress {
            terminal: io::stderr().is_terminal(),
            started: Instant::now(),
            expected,
            drawn: false,
        }
    }

    fn show(&mut self, replies: u64) {
        if self.terminal && self.started.elapsed() > Duration::from_secs(1) {
            self.drawn = true;
            // A courtesy: a standard error that cannot be written must not
            // stop the crowd.
            let _ = redraw(&format!("{replies} of {} replies ...", self.expected));
        }
    }

    fn clear(&mut self) {
        if self.drawn {
            let _ = redraw("");
        }
    }
}

/// Replaces the terminal's current line with `text`. Through crossterm,
/// which speaks ANSI escapes where the terminal understands them and calls
/// the console's own functions on a Windows console that does not.
fn redraw(text: &str) -> io::Result<()> {
    let mut err = io::stderr().lock();
    err.queue(cursor::MoveToColumn(0))?
        .queue(terminal::Clear(terminal::ClearType::CurrentLine))?
        .queue(style::Print(text))?;
    err.flush()
}
