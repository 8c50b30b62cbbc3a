//! crowd: many clients at once against one server, and what each got.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Parser;
use socket_lesson::crowd::{Crowd, Report};

/// Opens many clients at once, each sending messages one at a time, and
/// reports who was served and who starved, and how fast.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The server's port.
    #[arg(long, default_value_t = 12345)]
    port: u16,
    /// How many clients connect at once.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    clients: u32,
    /// How many messages each client sends, waiting for each reply.
    #[arg(long, default_value_t = 10)]
    messages: u32,
    /// How long a client waits for its connection or a reply before giving up.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
    timeout_ms: u64,
    /// The message each client sends.
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

    // Each client is an open file; say so before the crowd fails for it.
    let needed = u64::from(args.clients) + 16;
    if let Some(limit) = client::net::raise_open_file_limit().filter(|&limit| needed > limit) {
        eprintln!(
            "crowd: warning: {} clients need about {needed} open files, but the limit is {limit}; \
             some will fail to connect. Run `ulimit -n {needed}` first (`ulimit -Hn` shows the most allowed)",
            args.clients
        );
    }

    let started = Instant::now();
    let show_progress = io::stderr().is_terminal();
    let expected = u64::from(args.clients) * u64::from(args.messages);
    let report = crowd.run(|replies| {
        if show_progress && started.elapsed() > Duration::from_secs(1) {
            eprint!("\r{replies} of {expected} replies ...");
        }
    })?;
    if show_progress && started.elapsed() > Duration::from_secs(1) {
        eprint!("\r\x1b[2K");
    }

    let mut out = io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&report)?)?;
    } else {
        write_table(&mut out, &report)?;
    }
    Ok(())
}

fn write_table(out: &mut impl Write, report: &Report) -> io::Result<()> {
    writeln!(out, "clients          {}", report.clients)?;
    writeln!(out, "connected        {}", report.connected)?;
    writeln!(out, "served           {}", report.served)?;
    writeln!(out, "starved          {}", report.starved)?;
    writeln!(out, "replies          {}", report.replies)?;
    if report.wrong_replies > 0 {
        writeln!(out, "wrong replies    {}", report.wrong_replies)?;
    }
    writeln!(out, "elapsed          {:.3} s", report.elapsed_s)?;
    writeln!(out, "replies/s        {:.0}", report.replies_per_s)?;
    writeln!(
        out,
        "round trip       p50 {} µs, p99 {} µs, max {} µs",
        report.p50_us, report.p99_us, report.max_us
    )
}
