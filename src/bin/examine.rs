//! examine: which version of the course a server behaves like, and why.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use clap::Parser;
use socket_lesson::examine::command::{self, CommandFailed, Started};
use socket_lesson::examine::json::{self, CommandJson};
use socket_lesson::examine::scenarios::seconds;
use socket_lesson::examine::{self as lesson, BehavesLike, Options, Report, Target, Version};

/// Examines a server that speaks the lesson's frame (Java's writeUTF and
/// readUTF) and says which version of the course it behaves like, and why:
/// one line per check, each with what was done and seen (and the kernel's
/// evidence where the system reports it), then the verdict.
///
/// Without a command, it examines the server already listening on
/// HOST:PORT. With `-- COMMAND ARGS...` it starts the command (`java -cp out
/// network.tcp.v2.ServerV2`, `cargo run -p server-v2`), waits until
/// HOST:PORT listens, examines it, and at the end stops it and everything
/// it started.
///
/// Exit status: 0 when the server was examined (with --expect: and behaves
/// like that version); 1 with --expect when it does not; 2 when it could
/// not be examined: nothing listens, the command could not start, or ended
/// before it listened, or the flags are wrong.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The server's port (the course's is 12345).
    #[arg(long, default_value_t = 12345, value_parser = clap::value_parser!(u16).range(1..))]
    port: u16,
    /// Print one JSON object instead of the lines.
    #[arg(long)]
    json: bool,
    /// Grade the server: exit status 0 if it behaves like this version, 1
    /// if not, with the checks that differ named.
    #[arg(long, value_enum, value_name = "VERSION")]
    expect: Option<Version>,
    /// End by sending the started command Ctrl-C (SIGINT on Unix,
    /// Ctrl-Break on Windows) with clients connected, and check what the
    /// course's V6 promises: every client reads an orderly close, and the
    /// process ends by itself, with status 0 or 130. Needs the command;
    /// --expect v6 needs it.
    #[arg(long, requires = "command", required_if_eq("expect", "v6"))]
    signal: bool,
    /// How many clients connect at once in the many_at_once check.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..=1000))]
    clients: u16,
    /// How long a reply that may never come is awaited before its client
    /// counts as not answered, in seconds.
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = client::cli::parse_seconds)]
    silence: Duration,
    /// How long the command may take to listen, in seconds (a first `cargo
    /// run` builds first).
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = client::cli::parse_seconds)]
    wait: Duration,
    /// The server's command and its arguments, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// "Could not examine".
const CANNOT: u8 = 2;

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(status) => status,
        Err(error) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "examine: error: {error:#}");
            if let Some(failed) = error.downcast_ref::<CommandFailed>() {
                write_output(&mut stderr, &failed.output, "its last lines of output:");
            }
            ExitCode::from(CANNOT)
        }
    }
}

fn run(args: &Args) -> Result<ExitCode> {
    let address = client::net::resolve(&args.host, args.port)?;
    let mut started = match args.command.split_first() {
        Some((program, rest)) => Some(start(program, rest, address, args.wait)?),
        None => None,
    };
    let target = Target::at(address);
    if started.is_none() && !target.here && address.ip().is_loopback() {
        return Err(anyhow!(
            "nothing listens on {address}: start the server first, or give its command after --, e.g. \
             `examine -- cargo run -p server-v2`"
        ));
    }
    let options = Options {
        clients: usize::from(args.clients),
        silence: args.silence,
        signal: args.signal,
    };

    let mut out = client::cli::stdout();
    // A closed standard output stops the lines, not the examination: the
    // exit status still says the verdict. Any other failure to write ends
    // the program with it once the server is stopped.
    let mut write_failed: Option<std::io::Error> = None;
    let mut say = |out: &mut dyn Write, text: &str| {
        if write_failed.is_none()
            && !args.json
            && let Err(error) = writeln!(out, "{text}").and_then(|()| out.flush())
        {
            write_failed = Some(error);
        }
    };
    let heading = match &started {
        Some((started, after)) => format!(
            "examining {address}: `{}`, listening after {}",
            started.line(),
            seconds(*after)
        ),
        None => format!("examining {address}"),
    };
    say(&mut out, &heading);
    let examined = lesson::examine(
        &target,
        &options,
        started.as_mut().map(|(started, _)| started),
        |check| say(&mut out, &check.to_string()),
    );
    let ended = started.as_mut().and_then(|(started, _)| started.stop());
    let report = examined.with_context(|| format!("cannot examine {address}"))?;

    let command = started.as_ref().map(|(started, after)| CommandJson {
        line: started.line().to_string(),
        listening_after_s: after.as_secs_f64(),
        ended: ended.map(command::status_words),
        output: match ended {
            Some(_) => started.output_after_end(),
            None => Vec::new(),
        },
    });
    if args.json {
        say_json(
            &mut out,
            &json::to_json(&report, args.expect, command),
            &mut write_failed,
        );
    } else {
        for line in closing_lines(&report, args.expect, command.as_ref()) {
            say(&mut out, &line);
        }
    }
    if let Some(error) = write_failed {
        let error = anyhow::Error::from(error);
        if !client::cli::output_closed(&error) {
            return Err(error);
        }
    }
    Ok(status(&report, args.expect))
}

/// Starts the command and waits until it listens on `address`; refuses if
/// something listens there already (it would be examined instead).
fn start(program: &str, args: &[String], address: SocketAddr, wait: Duration) -> Result<(Started, Duration)> {
    if Target::at(address).here {
        return Err(anyhow!(
            "something already listens on {address}, before the command started: stop it, or examine it \
             without a command"
        ));
    }
    command::stop_on_signals().context("cannot handle Ctrl-C")?;
    let mut started = Started::start(program, args)?;
    let after = started.wait_until_listening(address, wait)?;
    Ok((started, after))
}

/// The lines after the checks: those not examined, the command's end, the
/// verdict, the grade, the time.
fn closing_lines(report: &Report, expect: Option<Version>, command: Option<&CommandJson>) -> Vec<String> {
    let mut lines = Vec::new();
    // Checks skipped for the same reason share a line.
    let mut skipped: Vec<(Vec<&str>, &str)> = Vec::new();
    for not in &report.not_examined {
        match skipped.last_mut() {
            Some((names, why)) if *why == not.why => names.push(not.name.as_str()),
            _ => skipped.push((vec![not.name.as_str()], &not.why)),
        }
    }
    for (names, why) in skipped {
        lines.push(format!("skip  {}: not examined: {why}", names.join(", ")));
    }
    if let Some(CommandJson {
        ended: Some(ended),
        output,
        ..
    }) = command
    {
        let mut text = Vec::new();
        write_output(
            &mut text,
            output,
            &format!("the command ended by itself ({ended}); its last lines:"),
        );
        lines.extend(String::from_utf8_lossy(&text).lines().map(str::to_string));
    }
    lines.push(report.verdict());
    if let Some(version) = expect {
        let differences = lesson::verdict::differences(version, report);
        if differences.is_empty() {
            lines.push(format!(
                "expected {version}: yes, it behaves like {}",
                version.names()
            ));
        } else {
            lines.push(format!(
                "expected {version}: it does not behave like {}; it differs in:",
                version.names()
            ));
            lines.extend(differences.iter().map(|difference| format!("  - {difference}")));
        }
    }
    lines.push(format!("examined in {}", seconds(report.took)));
    lines
}

/// The command's last lines of output under `heading`, each escaped as
/// peer text is and marked as the command's.
fn write_output(out: &mut dyn Write, output: &[String], heading: &str) {
    const SHOWN: usize = 12;
    if output.is_empty() {
        return;
    }
    let _ = writeln!(out, "{heading}");
    for line in &output[output.len().saturating_sub(SHOWN)..] {
        let _ = writeln!(out, "  | {}", client::text::shown(line));
    }
}

fn say_json(out: &mut dyn Write, json: &str, write_failed: &mut Option<std::io::Error>) {
    if write_failed.is_none()
        && let Err(error) = writeln!(out, "{json}").and_then(|()| out.flush())
    {
        *write_failed = Some(error);
    }
}

/// 0 when examined; with `--expect`, 1 when the server does not behave like
/// that version.
fn status(report: &Report, expect: Option<Version>) -> ExitCode {
    match expect {
        Some(version) if report.behaves_like() != BehavesLike::Version(version) => ExitCode::FAILURE,
        _ => ExitCode::SUCCESS,
    }
}
