//! peek: the kernel's view of one server port.

use std::io::Write;
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use anyhow::Result;
use clap::Parser;
use crossterm::{cursor, terminal, QueueableCommand};
use socket_lesson::kernel::{self, PortView};
use socket_lesson::picture::{self, Known, Picture};
use socket_lesson::term::{self, Style};
use socket_lesson::Lang;

/// Shows what the kernel holds for a server port: each listening socket's
/// accept queue (the lesson's backlog queue), each connection, accepted or
/// not, and the bytes no one has read yet.
#[derive(Parser)]
#[command(name = "peek", version)]
struct Args {
    /// The server's port.
    #[arg(long, default_value_t = 12345)]
    port: u16,
    /// Draw the lesson's picture (the queue as a row of slots, the server's
    /// sockets, the clients) instead of the table.
    #[arg(long, conflicts_with = "json")]
    picture: bool,
    /// Redraw every half second, until Ctrl-C.
    #[arg(long, conflicts_with = "json")]
    watch: bool,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Draw boxes with ASCII characters (+-|) instead of box-drawing ones.
    #[arg(long)]
    ascii: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    client::cli::finish("peek", run(&args))
}

fn run(args: &Args) -> Result<()> {
    let style = Style::for_stdout(args.ascii);
    let mut out = client::output::stdout();
    if args.json {
        let view = kernel::read_port(args.port)?;
        writeln!(out, "{}", serde_json::to_string(&view)?)?;
        return Ok(());
    }
    let in_place = args.watch && style.colour;
    if in_place {
        out.queue(terminal::Clear(terminal::ClearType::All))?;
    }
    loop {
        let view = kernel::read_port(args.port)?;
        let mut frame = String::new();
        if args.watch {
            frame += &format!("{}\n", chrono::Local::now().format("%H:%M:%S%.3f"));
        }
        frame += &draw(&view, args.picture, style);
        if !args.watch {
            write!(out, "{frame}")?;
            return Ok(());
        }
        frame += "\n(redrawn every half second; Ctrl-C to stop)\n";
        if in_place {
            // Draw over the last frame line by line, clearing what is left of
            // each, so that the screen never goes blank between two frames.
            out.queue(cursor::MoveTo(0, 0))?;
            for line in frame.lines() {
                write!(out, "{line}")?;
                out.queue(terminal::Clear(terminal::ClearType::UntilNewLine))?;
                write!(out, "\r\n")?;
            }
            out.queue(terminal::Clear(terminal::ClearType::FromCursorDown))?;
        } else {
            // Not a terminal, or no colour wanted (NO_COLOR): one frame
            // after another.
            writeln!(out, "{frame}")?;
        }
        out.flush()?;
        thread::sleep(Duration::from_millis(500));
    }
}

/// The table, or the picture, and in either case where the facts came from
/// when the system leaves some out.
fn draw(view: &PortView, picture: bool, style: Style) -> String {
    if !picture {
        return view.to_string();
    }
    let columns = term::width().unwrap_or(picture::WIDTH);
    let mut text = Picture::new(view, &Known::default(), style, Lang::En)
        .fit(columns)
        .draw();
    if let Some(line) = view.not_reported_line() {
        text += &format!("{line}\n");
    }
    text
}
