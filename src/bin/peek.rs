//! peek: the kernel's view of one server port, from `/proc/net/tcp{,6}`.

use std::io::{self, Write};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Parser;
use socket_lesson::kernel::{self, PortView};

/// Shows what the kernel holds for a server port: the accept queue, each
/// connection, accepted or not, and the bytes no one has read yet.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The server's port.
    #[arg(long, default_value_t = 12345)]
    port: u16,
    /// Redraw every half second, until Ctrl-C.
    #[arg(long, conflicts_with = "json")]
    watch: bool,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    client::cli::finish("peek", run(&args))
}

fn run(args: &Args) -> Result<()> {
    loop {
        let view = PortView::of(&read_table(args.port)?, args.port);
        let mut out = io::stdout().lock();
        if args.json {
            writeln!(out, "{}", serde_json::to_string(&view)?)?;
            return Ok(());
        }
        if !args.watch {
            write!(out, "{view}")?;
            return Ok(());
        }
        // Home the cursor and clear the screen, then draw the view again.
        write!(
            out,
            "\x1b[H\x1b[2J{}\n{view}",
            chrono::Local::now().format("%H:%M:%S%.3f")
        )?;
        writeln!(out, "\n(redrawn every half second; Ctrl-C to stop)")?;
        out.flush()?;
        drop(out);
        thread::sleep(Duration::from_millis(500));
    }
}

fn read_table(port: u16) -> Result<Vec<kernel::TcpRow>> {
    match kernel::read_table() {
        Ok(rows) => Ok(rows),
        Err(error) if error.kind() == io::ErrorKind::NotFound => bail!(
            "this system has no /proc/net/tcp (peek reads Linux's socket table); \
             try `ss -tan '( sport = :{port} or dport = :{port} )'` or `netstat -an | grep {port}` instead"
        ),
        Err(error) => bail!("cannot read the kernel's socket table: {error}"),
    }
}
