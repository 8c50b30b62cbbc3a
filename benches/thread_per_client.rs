//! How far does one thread per client go, and what does it cost?
//!
//! `cargo bench --bench thread_per_client` drives, with `crowd`'s engine and
//! interleaved round by round:
//! - **server-v3** (the release build, `--quiet`);
//! - **the same design written plainly in Java** (benches/java/
//!   ThreadPerClientServer.java: a platform thread per client,
//!   `readUTF`/`writeUTF`), compiled with `javac` here;
//! - **server-v3's `pool` example**: a bounded pool of 8 worker threads per
//!   core, started before any client; the clients beyond them wait in the
//!   kernel's accept queue until a worker is free;
//! - **server-v3's `shutdown` example**: server-v3's accept loop and sessions
//!   (without its session limit) plus the registry of sessions that its
//!   orderly shutdown needs, at 500 clients only, far below that limit: there
//!   the one difference from server-v3 is what the registry costs;
//! - **the floor**: a thread in this process that answers the same frames over
//!   loopback TCP with nothing else to do, the most one connection can carry
//!   on this machine.
//!
//! Each is measured at 1 client × 20,000 messages, 50 × 2,000 and 500 × 100,
//! each run on a fresh server after a short warm-up on the same server, and
//! the pool once more at 500 × 100 with clients that wait only 0.1 s. The
//! table gives the median of the rounds (`BENCH_ROUNDS`, default 5): how the
//! clients ended, replies per second, the server's own CPU time per message,
//! round-trip p50/p99/max, and each server's peak resident memory (`VmHWM`)
//! and peak thread count, read from /proc. Then one run each at 1,000 and
//! 10,000 clients, with how many sessions the server really had at once and
//! what the kernel held for them. It is printed and written to
//! docs/benchmark.md.
//!
//! It runs on Linux only, since it reads /proc, but it compiles everywhere.

#[path = "thread_per_client/at_once.rs"]
mod at_once;
#[path = "../tests/common/mod.rs"]
mod common;
#[path = "thread_per_client/java.rs"]
mod java;
#[path = "thread_per_client/process.rs"]
mod process;
#[path = "thread_per_client/report.rs"]
mod report;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::Duration;

use common::{Running, Server};
use java::{compile_java, Java};
use process::{cpu_ticks, settled_threads, status_field, Sampler, UNITS};
use report::{load_average, outcome, quote_between_markers, seconds, show, show_f64, table};
use socket_lesson::crowd::{Crowd, Report};

/// How long a client waits for its connection, and then for each reply.
/// Long enough that every server here answers every client it has accepted
/// in time, so that the tables measure speed, not the clients' patience. A
/// client queued behind the pool's busy workers waits well under this: its
/// wait shows in the longest round trip, not as a starved client.
const PATIENT: Duration = Duration::from_secs(10);

/// Clients that give up after 0.1 s: the same pool, seen by clients with
/// little patience (a person at a prompt, a health check).
const IMPATIENT: Duration = Duration::from_millis(100);

/// A crowd, and the servers measured against it.
struct Workload {
    clients: usize,
    messages: usize,
    timeout: Duration,
    targets: &'static [Target],
}

/// The rounds' workloads. The pool is not measured with one client: it
/// would be server-v3 with a thread handed over instead of started.
const WORKLOADS: [Workload; 4] = [
    Workload {
        clients: 1,
        messages: 20_000,
        timeout: PATIENT,
        targets: &[Target::Rust, Target::Java, Target::Floor],
    },
    Workload {
        clients: 50,
        messages: 2_000,
        timeout: PATIENT,
        targets: &[
            Target::Rust,
            Target::Java,
            Target::Pool,
            Target::TokioMulti,
            Target::TokioCurrent,
            Target::JavaVirtual,
        ],
    },
    Workload {
        clients: 500,
        messages: 100,
        timeout: PATIENT,
        targets: &[
            Target::Rust,
            Target::Java,
            Target::Pool,
            Target::Shutdown,
            Target::TokioMulti,
            Target::TokioCurrent,
            Target::JavaVirtual,
        ],
    },
    Workload {
        clients: 500,
        messages: 100,
        timeout: IMPATIENT,
        targets: &[Target::Pool],
    },
];

/// Every server gets the same listen backlog, as large as Linux allows by
/// default (net.core.somaxconn, 4096), so that a burst of thousands of
/// connects is queued rather than dropped.
const BACKLOG: &str = "4096";

/// How often the samplers look at a running server: often enough to catch
/// a peak of threads, cheaply (a read of a small /proc file).
const SAMPLE_EVERY: Duration = Duration::from_millis(2);

#[derive(Clone, Copy, PartialEq)]
enum Target {
    Rust,
    Java,
    /// The Java design with a virtual thread per client (JDK 21 and later).
    JavaVirtual,
    Pool,
    Shutdown,
    /// server-v3's `tokio` example, a task per client, on a worker thread
    /// per core.
    TokioMulti,
    /// The same on one thread (`--current-thread`).
    TokioCurrent,
    Floor,
}

impl Target {
    fn name(self) -> String {
        match self {
            Target::Rust => "server-v3".to_string(),
            Target::Java => "Java".to_string(),
            Target::JavaVirtual => "Java virtual threads".to_string(),
            Target::TokioMulti => "tokio (multi-thread)".to_string(),
            Target::TokioCurrent => "tokio (current-thread)".to_string(),
            Target::Pool => format!("pool ({} workers)", pool_workers()),
            Target::Shutdown => "shutdown".to_string(),
            Target::Floor => "floor".to_string(),
        }
    }

    /// Whether every client must be served, every reply in time. A thread
    /// per client answers everyone at once. The pool answers as many as it
    /// has workers; the others wait in the accept queue, and may give up
    /// there (starved), or find the queue full and their connect time out:
    /// that is what it is measured for.
    fn serves_everyone(self) -> bool {
        self != Target::Pool
    }
}

/// The pool's size: its own default, 8 workers per core, given explicitly
/// so that the table can say it.
fn pool_workers() -> usize {
    8 * thread::available_parallelism().map_or(1, |cores| cores.get())
}

/// One measured run.
#[derive(Clone)]
struct Sample {
    report: Report,
    /// What the server's process showed; none for the floor, which runs in
    /// this process.
    server: Option<Process>,
}

/// A server process, from /proc/<pid>.
#[derive(Clone, Copy)]
struct Process {
    /// CPU time, user and system, all its threads, from just before to just
    /// after the measured crowd, per reply of that crowd, in µs; none if no
    /// reply came.
    cpu_us_per_reply: Option<f64>,
    /// Peak resident memory over its whole life (VmHWM), KiB.
    peak_rss_kib: u64,
    /// Peak thread count during the measured crowd.
    peak_threads: u64,
}

fn main() {
    // The benchmark starts itself again to hold clients (at_once).
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(at_once::HOLDER_FLAG) {
        at_once::hold_clients(&args[1..]);
        return;
    }
    at_once::this_program();
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    if !Path::new("/proc/self/stat").exists() {
        eprintln!("thread_per_client reads the servers' figures from /proc: it runs on Linux only");
        return;
    }
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(5);
    // Other work on the machine shows in its load; said in the table.
    let load_before = load_average();
    let java = compile_java();
    if let Err(why) = &java.virtual_threads {
        eprintln!("Java virtual threads are not measured: {why}");
    }
    let mut samples: Vec<(usize, Target, Sample)> = Vec::new();
    for round in 1..=rounds {
        for (index, workload) in WORKLOADS.iter().enumerate() {
            for &target in workload.targets {
                if !java.runs(target) {
                    continue;
                }
                let sample = measure(target, workload, &java);
                let server = sample.server.as_ref();
                eprintln!(
                    "round {round}/{rounds}: {:>18} {:>3} x {:>6} ({:>4}): {}; {:>8.0} replies/s, cpu {:>5} us/msg, p50 {:>5} us, p99 {:>6} us, max {:>7} us, rss {:>7} KiB, threads {:>4}",
                    target.name(),
                    workload.clients,
                    workload.messages,
                    seconds(workload.timeout),
                    outcome(&[&sample]),
                    sample.report.replies_per_s,
                    show_f64(server.and_then(|server| server.cpu_us_per_reply), 1),
                    show(sample.report.p50_us),
                    show(sample.report.p99_us),
                    show(sample.report.max_us),
                    show(server.map(|server| server.peak_rss_kib)),
                    show(server.map(|server| server.peak_threads)),
                );
                samples.push((index, target, sample));
            }
        }
    }

    let load = format!(
        "Load average before the rounds: {load_before}; after the last run: {}.",
        load_average()
    );
    let mut table = table(&samples, rounds, &java, &load);
    table += &at_once::table(&java);
    println!("\n{table}");
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    std::fs::write(docs.join("benchmark.md"), &table).expect("writing docs/benchmark.md");
    println!("written to {}", docs.join("benchmark.md").display());
    // The "After V3" chapter quotes the table between two markers.
    for chapter in ["en/06-after-v3.md", "ko/06-after-v3.md"] {
        let path = docs.join(chapter);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if let Some(updated) = quote_between_markers(&text, &table) {
            std::fs::write(&path, updated).expect("updating the chapter");
            println!("quoted in {}", path.display());
        }
    }
}

/// Starts a fresh server, warms it up, measures one crowd against it, and
/// reads what its process showed meanwhile.
fn measure(target: Target, workload: &Workload, java: &Java) -> Sample {
    let &Workload {
        clients,
        messages,
        timeout,
        ..
    } = workload;
    let server = start(target, java);
    let port = match &server {
        Some(server) => server.port,
        None => floor_server(),
    };
    let pid = server.as_ref().map(|server| server.process.child.id());
    // Warm-up: a tenth of the messages (JIT compilation for Java, page
    // faults and allocator arenas for all). The pool's, with as many clients
    // as it has workers: the others would only wait in the kernel's queue,
    // and at 10,000 clients would spend the warm-up's time-out on connects
    // that the full queue drops.
    let warm_clients = match target {
        Target::Pool => clients.min(pool_workers()),
        _ => clients,
    };
    let warm_messages = (messages / 10).max(1);
    let warm_up = crowd(port, warm_clients, warm_messages, PATIENT);
    check(target, &warm_up, warm_messages, true, "in the warm-up");

    // The warm-up's session threads end a moment after their clients.
    if let Some(pid) = pid {
        settled_threads(pid);
    }
    let cpu_before = pid.map(cpu_ticks);
    let sampler = Sampler::start(pid);
    let report = crowd(port, clients, messages, timeout);
    let peaks = sampler.stop();
    let cpu_after = pid.map(cpu_ticks);
    check(target, &report, messages, target.serves_everyone(), "");

    let server = pid.map(|pid| {
        let ticks = cpu_after.unwrap_or(0).saturating_sub(cpu_before.unwrap_or(0));
        Process {
            cpu_us_per_reply: (report.replies > 0)
                .then(|| ticks as f64 * 1e6 / UNITS.clock_ticks_per_s as f64 / report.replies as f64),
            peak_rss_kib: status_field(pid, "VmHWM:"),
            peak_threads: peaks.threads,
        }
    });
    Sample { report, server }
}

/// Starts `target` on a free port with the same backlog for all, and waits
/// for its `listening on` line; `None` for the floor.
fn start(target: Target, java: &Java) -> Option<Server> {
    let mut command = match target {
        Target::Rust => Command::new(common::binary("server-v3")),
        Target::TokioMulti => Command::new(common::example("tokio")),
        Target::TokioCurrent => {
            let mut tokio = Command::new(common::example("tokio"));
            tokio.arg("--current-thread");
            tokio
        }
        Target::Pool => {
            let mut pool = Command::new(common::example("pool"));
            pool.args(["--workers", &pool_workers().to_string()]);
            pool
        }
        Target::Shutdown => Command::new(common::example("shutdown")),
        Target::Java | Target::JavaVirtual => {
            let (program, class) = match target {
                Target::Java => (Path::new("java"), "ThreadPerClientServer"),
                _ => (
                    java.virtual_threads.as_ref().ok()?.java.as_path(),
                    "VirtualThreadServer",
                ),
            };
            let mut command = Command::new(program);
            command.args(["-cp", &java.classes.display().to_string(), class, BACKLOG]);
            return Some(Server::from_process(Running::start_command(command)));
        }
        Target::Floor => return None,
    };
    command.args(["--port", "0", "--quiet", "--backlog", BACKLOG]);
    Some(Server::from_process(Running::start_command(command)))
}

fn crowd(port: u16, clients: usize, messages: usize, timeout: Duration) -> Report {
    let mut crowd = Crowd::new("127.0.0.1", port, clients, messages).expect("127.0.0.1 resolves");
    crowd.timeout = timeout;
    crowd.run(|_| {}).expect("the crowd runs")
}

/// Fails the benchmark, loudly, on any outcome that is not a measurement of
/// the server: a wrong reply, a connection closed before any reply or
/// closed or reset mid-run, a connect refused or failed. With `everyone`,
/// every client must moreover have been served, every reply in time. The
/// pool may leave clients starved or stalled in its queue, or with their
/// connect timed out past it: `crowd` counts those, and the table shows
/// them.
fn check(target: Target, report: &Report, messages: usize, everyone: bool, when: &str) {
    let unexpected = report.starved_then_closed
        + report.wrong_replies
        + report.closed
        + report.reset
        + report.refused
        + report.connect_failed;
    assert!(
        unexpected == 0,
        "{}{when}: {}: {report:?}",
        target.name(),
        report.failure().unwrap_or_else(|| {
            format!(
                "{} clients were closed by the server before any reply",
                report.starved_then_closed
            )
        }),
    );
    if everyone {
        assert!(
            report.served == report.clients && report.replies == (report.clients * messages) as u64,
            "{}{when} did not serve every client in time: {report:?}",
            target.name()
        );
    }
}

/// The floor: a thread that answers every frame with the same reply frame,
/// reading the length and the payload and writing a frame made beforehand:
/// no decoding, no allocation, no logging. Serves connections one after
/// another (the warm-up's, then the measured one's).
fn floor_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding the floor's port");
    let port = listener.local_addr().expect("the floor's port").port();
    let mut reply = Vec::new();
    client::protocol::write_utf(&mut reply, "Hello World!").expect("a small frame");
    thread::spawn(move || {
        for connection in listener.incoming() {
            let Ok(mut socket) = connection else { continue };
            // "Hello", the crowd's message, is 2 + 5 bytes. The final "exit"
            // is shorter: the read fails when the client closes after it.
            let mut frame = [0u8; 2 + 5];
            while socket.read_exact(&mut frame).is_ok() && socket.write_all(&reply).is_ok() {}
        }
    });
    port
}

/// The first line a command prints (on stdout or stderr), or "unknown".
fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|output| {
            let text = if output.stdout.is_empty() {
                output.stderr
            } else {
                output.stdout
            };
            String::from_utf8_lossy(&text).lines().next().map(str::to_string)
        })
        .unwrap_or_else(|| "unknown".to_string())
}
