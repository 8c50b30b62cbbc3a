//! The lesson's log line: `HH:MM:SS.mmm [thread-name] message`.
//!
//! The thread name is right-aligned in 9 columns, as in the Java lesson's
//! logger (`[     main]`, `[session-1]`); a longer name is shown whole. It
//! tells which thread did the work, which is the whole point of server-v3.
//!
//! Programs log with the [`log`] macros: `info!` for what the lesson is about
//! (listening, connections, session ends), `debug!` for each message, so that
//! `--quiet` can keep only the former. Only the workspace's own code logs:
//! the libraries a program uses (the line editor, the event loop) write
//! nothing, or every key pressed in `lab` would print a library's trace.

use std::io::Write;

use log::LevelFilter;

use crate::output;

/// Sends log lines to standard output in the lesson's format, one flushed
/// line at a time, with each message's line too unless `quiet`.
///
/// A line that cannot be written ends the program, as any other output
/// would: quietly when standard output was closed (`server-v3 | head`), with
/// one line on standard error and status 1 otherwise (a full disk). A log
/// that silently stops would hide what the program does.
///
/// Does nothing if a logger is already installed (the tour installs its own).
///
/// ```
/// client::logging::init(false);
/// log::info!("listening on 127.0.0.1:12345");
/// // 14:03:07.123 [     main] listening on 127.0.0.1:12345
/// ```
pub fn init(quiet: bool) {
    let _already_installed = builder(quiet, &output::program_name())
        .target(env_logger::Target::Pipe(Box::new(Stdout)))
        .format(|out, record| write_line(out, record.args()))
        .try_init();
}

/// The workspace's libraries, whose lines the programs log; any other
/// crate's are dropped.
const WORKSPACE_CRATES: [&str; 5] = ["client", "server_v1", "server_v2", "server_v3", "socket_lesson"];

/// A logger that keeps the lines of the workspace's libraries and of
/// `program` (a binary or example's own crate: `client-v2` logs as
/// `client_v2`) at the level the program chose, and no other crate's.
fn builder(quiet: bool, program: &str) -> env_logger::Builder {
    let level = if quiet {
        LevelFilter::Info
    } else {
        LevelFilter::Debug
    };
    let mut builder = env_logger::Builder::new();
    builder.filter_level(LevelFilter::Off);
    for own in WORKSPACE_CRATES {
        builder.filter_module(own, level);
    }
    builder.filter_module(&program.replace('-', "_"), level);
    builder
}

/// Standard output for the logger, which ignores write errors: this writer
/// acts on them instead.
struct Stdout;

impl Write for Stdout {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut out = std::io::stdout().lock();
        match out.write_all(bytes).and_then(|()| out.flush()) {
            Ok(()) => Ok(bytes.len()),
            Err(error) => output::exit_on_output_failure(&output::program_name(), error),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes one log line for `message` to `out`, stamped with the local time
/// and the calling thread's name.
///
/// ```
/// let mut out = Vec::new();
/// client::logging::write_line(&mut out, &format_args!("hello"))?;
/// let line = String::from_utf8(out).unwrap();
/// assert!(line.ends_with("] hello\n"));
/// assert_eq!(&line[12..14], " ["); // after HH:MM:SS.mmm
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_line(out: &mut dyn Write, message: &std::fmt::Arguments) -> std::io::Result<()> {
    let thread = std::thread::current();
    writeln!(
        out,
        "{} [{:>9}] {message}",
        chrono::Local::now().format("%H:%M:%S%.3f"),
        thread.name().unwrap_or("unnamed"),
    )
}

#[cfg(test)]
mod tests {
    use log::{Level, Log, Metadata};

    fn keeps(quiet: bool, program: &str, target: &str, level: Level) -> bool {
        let logger = super::builder(quiet, program).build();
        logger.enabled(&Metadata::builder().target(target).level(level).build())
    }

    #[test]
    fn the_workspace_logs_at_the_level_the_program_chose() {
        assert!(keeps(false, "server-v3", "server_v2", Level::Debug));
        assert!(keeps(false, "lab", "lab::watcher", Level::Debug));
        assert!(keeps(false, "client-v2", "client_v2", Level::Info));
        assert!(keeps(false, "shutdown", "shutdown", Level::Info));
        assert!(!keeps(true, "server-v3", "server_v2", Level::Debug));
        assert!(keeps(true, "server-v3", "server_v3", Level::Info));
    }

    #[test]
    fn other_crates_log_nothing() {
        // rustyline traces every key at debug level, and warns mid-prompt.
        for level in [Level::Debug, Level::Warn, Level::Error] {
            assert!(!keeps(false, "lab", "rustyline::edit", level));
            assert!(!keeps(false, "lab", "mio::poll", level));
        }
    }
}
