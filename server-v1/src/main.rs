//! server-v1's command line. The lesson itself is [`server_v1::serve`], in `lib.rs`.

use std::process::ExitCode;

use clap::Parser;

/// Accepts one client, answers its one message, and exits (the lesson's ServerV1).
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    server: client::cli::ServerArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    client::cli::run_server("server-v1", &args.server, server_v1::serve)
}
