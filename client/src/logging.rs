//! The lesson's log line: `HH:MM:SS.mmm [thread-name] message`.
//!
//! The thread name is right-aligned in 9 columns, as in the Java lesson's
//! logger (`[     main]`, `[session-1]`); a longer name is shown whole. It
//! tells which thread did the work, which is the whole point of server-v3.
//!
//! Programs log with the [`log`] macros: `info!` for what the lesson is about
//! (listening, connections, session ends), `debug!` for each message, so that
//! `--quiet` can keep only the former.

use std::io::Write;

use log::LevelFilter;

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
    let level = if quiet {
        LevelFilter::Info
    } else {
        LevelFilter::Debug
    };
    let _already_installed = env_logger::Builder::new()
        .filter_level(level)
        .target(env_logger::Target::Pipe(Box::new(Stdout)))
        .format(|out, record| write_line(out, record.args()))
        .try_init();
}

/// Standard output for the logger, which ignores write errors: this writer
/// acts on them instead.
struct Stdout;

impl Write for Stdout {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut out = std::io::stdout().lock();
        match out.write_all(bytes).and_then(|()| out.flush()) {
            Ok(()) => Ok(bytes.len()),
            Err(error) => crate::cli::exit_on_output_failure(&crate::cli::program_name(), error),
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
