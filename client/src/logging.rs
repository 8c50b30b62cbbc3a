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
        .target(env_logger::Target::Stdout)
        .format(|out, record| write_line(out, record.args()))
        .try_init();
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
