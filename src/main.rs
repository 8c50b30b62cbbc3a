//! The lesson's tour: `cargo run` tells the story of the backlog queue,
//! server-v1, server-v2 and server-v3 with real sockets on free ports, and
//! says after each step which code did what and how to try it by hand.
//!
//! The servers run on threads of this process, through the same `serve`
//! functions their programs call, so `cargo run` needs to build nothing else.

mod tour;

use std::process::ExitCode;

use clap::Parser;
use tour::narrator::{Lang, Narrator};

/// A narrated tour of the lesson: the backlog queue before accept(),
/// server-v1, server-v2 (one client at a time) and server-v3 (a thread per
/// client), with real sockets.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Run one step only.
    #[arg(long, value_enum)]
    step: Option<Step>,
    /// The narration's language.
    #[arg(long, value_enum, default_value = "en")]
    lang: Lang,
    /// Wait for Enter after each paragraph.
    #[arg(long)]
    pause: bool,
    /// Draw the pictures' boxes with ASCII characters (+-|).
    #[arg(long)]
    ascii: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Step {
    /// The backlog queue: two connections wait before any accept().
    Backlog,
    /// server-v1: one exchange.
    V1,
    /// server-v2: the second client starves.
    V2,
    /// server-v3: everyone is served; a crowd against V2 and V3.
    V3,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let tour = Narrator::new(args.lang, args.pause, args.ascii);
    // As the servers and crowd do: each connection is an open file, and the
    // tour holds both ends of the crowd's connections in this one process.
    // server-v3, run here, reads the limit for its capacity and logs it.
    client::net::raise_open_file_limit();
    let steps = match args.step {
        Some(step) => vec![step],
        None => vec![Step::Backlog, Step::V1, Step::V2, Step::V3],
    };
    for step in steps {
        let result = match step {
            Step::Backlog => tour::backlog::run(&tour),
            Step::V1 => tour::v1::run(&tour),
            Step::V2 => tour::v2::run(&tour),
            Step::V3 => tour::v3::run(&tour),
        };
        if let Err(error) = result {
            tour.show_log();
            return client::cli::finish(
                "socket-lesson",
                Err(error.context(format!("the tour failed at step {step:?}"))),
            );
        }
    }
    match args.step {
        None => tour.say(
            "That is the lesson. The book (docs/README.md) goes through each version beside its code.",
            "이것으로 수업을 마칩니다. 교재(docs/README.md)에서 각 버전을 코드와 함께 살펴볼 수 있습니다.",
        ),
        Some(_) => tour.say(
            "That is the step. `cargo run` runs them all; the book (docs/README.md) goes through each \
             version beside its code.",
            "이 단계를 마칩니다. `cargo run`은 모든 단계를 차례로 보여 줍니다. 교재(docs/README.md)에서 각 \
             버전을 코드와 함께 살펴볼 수 있습니다.",
        ),
    }
    ExitCode::SUCCESS
}
