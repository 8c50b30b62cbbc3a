//! server-v3's command line. The lesson itself is [`server_v3::serve`], in `lib.rs`.

use std::process::ExitCode;

use clap::Parser;
use std::time::Duration;

/// Accepts on the main thread and gives each client its own session thread: every client is served (the lesson's ServerV3).
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    server: client::cli::ServerArgs,
    /// End a session whose client sends nothing for this many seconds, or
    /// that cannot send a byte of a reply for this long (a client that
    /// stopped reading); default: wait for ever, as the lesson does.
    #[arg(long, value_name = "SECS", value_parser = client::cli::parse_seconds, allow_negative_numbers = true)]
    idle_timeout: Option<Duration>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let options = server_v3::Options {
        idle_timeout: args.idle_timeout,
    };
    client::cli::run_server("server-v3", &args.server, |listener| {
        server_v3::serve(listener, &options)
    })
}
