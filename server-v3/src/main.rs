//! server-v3's command line. The lesson itself is [`server_v3::serve`], in `lib.rs`.

use std::process::ExitCode;

use clap::Parser;

/// Accepts on the main thread and gives each client its own session thread: every client is served (the lesson's ServerV3).
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    server: client::cli::ServerArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    client::cli::run_server("server-v3", &args.server, server_v3::serve)
}
