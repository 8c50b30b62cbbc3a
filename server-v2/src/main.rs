//! server-v2's command line. The lesson itself is [`server_v2::serve`], in `lib.rs`.

use std::process::ExitCode;

use clap::Parser;

/// Accepts one client and talks only to it: a second client connects but is never answered (the lesson's ServerV2).
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    server: client::cli::ServerArgs,
}

fn main() -> ExitCode {
    let args = Args::parse();
    client::cli::run_server("server-v2", &args.server, server_v2::serve)
}
