//! How far does one thread per client go, and what does it cost?
//!
//! `cargo bench --bench thread_per_client` drives, with `crowd`'s engine and
//! interleaved round by round:
//! - **server-v3** (the release build, `--quiet`);
//! - **the same design written plainly in Java** (benches/java/
//!   ThreadPerClientServer.java: a platform thread per client,
//!   `readUTF`/`writeUTF`), compiled with `javac` here;
//! - **the floor**: a thread in this process that answers the same frames over
//!   loopback TCP with nothing else to do, the most one connection can carry
//!   on this machine.
//!
//! Each is measured at 1 client × 20,000 messages, 50 × 2,000 and 500 × 100,
//! each run on a fresh server after a short warm-up on the same server. The
//! table gives the median of the rounds (`BENCH_ROUNDS`, default 5): replies
//! per second, round-trip p50/p99, and each server's peak resident memory
//! (`VmHWM`) and peak thread count, read from /proc. It is printed and
//! written to docs/benchmark.md.

#[path = "../tests/common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use common::{Running, Server};
use socket_lesson::crowd::{Crowd, Report};

/// (clients, messages per client)
const WORKLOADS: [(usize, usize); 3] = [(1, 20_000), (50, 2_000), (500, 100)];

/// The scale runs, once each after the rounds: how far one thread per client
/// goes, and what it costs in memory and threads.
const SCALE: [(usize, usize); 2] = [(1_000, 10), (10_000, 10)];

/// Both servers get the same listen backlog, as large as Linux allows by
/// default (net.core.somaxconn, 4096), so that a burst of thousands of
/// connects is queued rather than dropped.
const BACKLOG: &str = "4096";

#[derive(Clone, Copy, PartialEq)]
enum Target {
    Rust,
    Java,
    Floor,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Rust => "server-v3",
            Target::Java => "Java",
            Target::Floor => "floor",
        }
    }
}

/// One measured run.
#[derive(Clone)]
struct Sample {
    report: Report,
    /// Peak resident memory in KiB, and peak thread count; none for the floor.
    peak_rss_kib: Option<u64>,
    peak_threads: Option<u64>,
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(5);
    let java_classes = compile_java();
    let mut samples: Vec<(usize, Target, Sample)> = Vec::new();
    for round in 1..=rounds {
        for (index, &(clients, messages)) in WORKLOADS.iter().enumerate() {
            let targets: &[Target] = if clients == 1 {
                &[Target::Rust, Target::Java, Target::Floor]
            } else {
                &[Target::Rust, Target::Java]
            };
            for &target in targets {
                let sample = measure(target, clients, messages, &java_classes);
                let replies = sample.report.replies as usize;
                assert_eq!(
                    replies,
                    clients * messages,
                    "{} lost replies: {:?}",
                    target.name(),
                    sample.report
                );
                eprintln!(
                    "round {round}/{rounds}: {:>9} {clients:>3} x {messages:>6}: {:>8.0} replies/s, p50 {:>5} us, p99 {:>5} us, rss {:>7} KiB, threads {:>4}",
                    target.name(),
                    sample.report.replies_per_s,
                    sample.report.p50_us,
                    sample.report.p99_us,
                    show(sample.peak_rss_kib),
                    show(sample.peak_threads),
                );
                samples.push((index, target, sample));
            }
        }
    }

    let mut table = table(&samples, rounds);
    table += &scale_table(&java_classes);
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

/// One run per scale and server, not interleaved: a table of peak memory and
/// threads at 1,000 and 10,000 clients.
fn scale_table(java_classes: &Path) -> String {
    let mut out = String::from(
        "\n### Scale\n\nOne run each, 10 messages per client, both servers with `--backlog 4096`.\n\n\
         | clients | server | replies | replies/s | peak RSS | RSS per client | peak threads |\n\
         |---:|---|---:|---:|---:|---:|---:|\n",
    );
    for (clients, messages) in SCALE {
        for target in [Target::Rust, Target::Java] {
            let sample = measure(target, clients, messages, java_classes);
            let rss = sample.peak_rss_kib.unwrap_or(0);
            eprintln!(
                "scale: {:>9} {clients:>5} clients: {} replies, rss {rss} KiB",
                target.name(),
                sample.report.replies
            );
            let _ = writeln!(
                out,
                "| {clients} | {} | {} of {} | {:.0} | {:.1} MiB | {:.1} KiB | {} |",
                target.name(),
                sample.report.replies,
                clients * messages,
                sample.report.replies_per_s,
                rss as f64 / 1024.0,
                rss as f64 / clients as f64,
                show(sample.peak_threads),
            );
        }
    }
    out
}

/// Starts a fresh server, warms it up, measures one crowd against it, and
/// reads its peak memory and threads.
fn measure(target: Target, clients: usize, messages: usize, java_classes: &Path) -> Sample {
    let server = match target {
        Target::Rust => Some(Server::start("server-v3", &["--quiet", "--backlog", BACKLOG])),
        Target::Java => {
            let mut java = Command::new("java");
            java.args([
                "-cp",
                &java_classes.display().to_string(),
                "ThreadPerClientServer",
                BACKLOG,
            ]);
            Some(Server::from_process(Running::start_command(java)))
        }
        Target::Floor => None,
    };
    let port = match &server {
        Some(server) => server.port,
        None => floor_server(),
    };
    let pid = server.as_ref().map(|server| server.process.child.id());

    // Warm-up: a tenth of the messages (JIT compilation for Java, page
    // faults and allocator arenas for both).
    crowd(port, clients, (messages / 10).max(1));

    let threads = pid.map(ThreadSampler::start);
    let report = crowd(port, clients, messages);
    let peak_threads = threads.map(ThreadSampler::stop);
    let peak_rss_kib = pid.map(|pid| status_field(pid, "VmHWM:"));
    Sample {
        report,
        peak_rss_kib,
        peak_threads,
    }
}

fn crowd(port: u16, clients: usize, messages: usize) -> Report {
    let mut crowd = Crowd::new("127.0.0.1", port, clients, messages).expect("127.0.0.1 resolves");
    crowd.timeout = Duration::from_secs(10);
    crowd.run(|_| {}).expect("the crowd runs")
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

/// Samples a process's thread count every 2 ms and keeps the peak.
struct ThreadSampler {
    running: Arc<AtomicBool>,
    sampler: thread::JoinHandle<u64>,
}

impl ThreadSampler {
    fn start(pid: u32) -> ThreadSampler {
        let running = Arc::new(AtomicBool::new(true));
        let still_running = running.clone();
        let sampler = thread::spawn(move || {
            let mut peak = 0;
            while still_running.load(Ordering::Relaxed) {
                peak = peak.max(status_field(pid, "Threads:"));
                thread::sleep(Duration::from_millis(2));
            }
            peak
        });
        ThreadSampler { running, sampler }
    }

    fn stop(self) -> u64 {
        self.running.store(false, Ordering::Relaxed);
        self.sampler.join().expect("the thread sampler")
    }
}

/// A number from /proc/<pid>/status, e.g. `VmHWM:` (KiB) or `Threads:`.
fn status_field(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("reading /proc/<pid>/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// Compiles the Java server into the target directory; returns the class path.
fn compile_java() -> std::path::PathBuf {
    let classes = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-java");
    std::fs::create_dir_all(&classes).expect("creating the Java class directory");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/java/ThreadPerClientServer.java");
    let status = Command::new("javac")
        .arg("-d")
        .arg(&classes)
        .arg(&source)
        .status()
        .expect("the benchmark needs a JDK: install one (apt-get install default-jdk-headless)");
    assert!(status.success(), "javac failed on {}", source.display());
    classes
}

fn median_by(samples: &[&Sample], value: impl Fn(&Sample) -> f64) -> f64 {
    let mut values: Vec<f64> = samples.iter().map(|sample| value(sample)).collect();
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn show(value: Option<u64>) -> String {
    value.map_or("-".to_string(), |value| value.to_string())
}

/// The Markdown table of medians, with the ratios.
fn table(samples: &[(usize, Target, Sample)], rounds: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmark: one thread per client\n");
    let _ = writeln!(
        out,
        "Written by `cargo bench --bench thread_per_client` ({rounds} rounds, interleaved; medians). \
         Machine: {} cores, {}; {}; {}.\n",
        thread::available_parallelism().map_or(0, |cores| cores.get()),
        first_line("uname", &["-sr"]),
        first_line("rustc", &["--version"]),
        first_line("java", &["-version"]),
    );
    let _ = writeln!(
        out,
        "| clients × messages | server | replies/s | p50 µs | p99 µs | peak RSS | peak threads |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|");
    let mut ratios = String::new();
    for (index, &(clients, messages)) in WORKLOADS.iter().enumerate() {
        // Each target's runs, in round order.
        let runs_of = |wanted: Target| -> Vec<&Sample> {
            samples
                .iter()
                .filter(|(workload, target, _)| *workload == index && *target == wanted)
                .map(|(_, _, sample)| sample)
                .collect()
        };
        for target in [Target::Rust, Target::Java, Target::Floor] {
            let runs = runs_of(target);
            if runs.is_empty() {
                continue;
            }
            let rss = runs[0]
                .peak_rss_kib
                .map(|_| median_by(&runs, |sample| sample.peak_rss_kib.unwrap_or(0) as f64));
            let threads = runs[0]
                .peak_threads
                .map(|_| median_by(&runs, |s| s.peak_threads.unwrap_or(0) as f64));
            let _ = writeln!(
                out,
                "| {clients} × {messages} | {} | {:.0} | {:.0} | {:.0} | {} | {} |",
                target.name(),
                median_by(&runs, |sample| sample.report.replies_per_s),
                median_by(&runs, |sample| sample.report.p50_us as f64),
                median_by(&runs, |sample| sample.report.p99_us as f64),
                rss.map_or("-".to_string(), |kib| format!("{:.1} MiB", kib / 1024.0)),
                threads.map_or("-".to_string(), |threads| format!("{threads:.0}")),
            );
        }
        let _ = write!(ratios, "\n- {clients} × {messages}:");
        for (other, name) in [(Target::Java, "Java"), (Target::Floor, "floor")] {
            if let Some(summary) = paired_ratios(&runs_of(Target::Rust), &runs_of(other)) {
                let _ = write!(ratios, " server-v3 / {name} = {summary};");
            }
        }
    }
    let _ = writeln!(
        out,
        "\nRatios of replies per second, server-v3's over the other's in the same round (the two ran \
         back to back, so they shared the machine's conditions): median, then the lowest and highest \
         round.{ratios}"
    );
    out
}

/// The median of the per-round ratios `ours[i] / theirs[i]`, with the lowest
/// and the highest; `None` when either side has no runs.
fn paired_ratios(ours: &[&Sample], theirs: &[&Sample]) -> Option<String> {
    let mut ratios: Vec<f64> = ours
        .iter()
        .zip(theirs)
        .map(|(ours, theirs)| ours.report.replies_per_s / theirs.report.replies_per_s)
        .collect();
    if ratios.is_empty() {
        return None;
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    Some(format!(
        "{median:.2} ({:.2} to {:.2})",
        ratios[0],
        ratios[ratios.len() - 1]
    ))
}

/// `text` with everything between `<!-- benchmark:begin -->` and
/// `<!-- benchmark:end -->` replaced by `table` (without its title), or `None`
/// if the markers are not there.
fn quote_between_markers(text: &str, table: &str) -> Option<String> {
    const BEGIN: &str = "<!-- benchmark:begin -->";
    const END: &str = "<!-- benchmark:end -->";
    let start = text.find(BEGIN)? + BEGIN.len();
    let end = text[start..].find(END)? + start;
    let body = table.split_once('\n').map_or(table, |(_title, rest)| rest).trim();
    Some(format!("{}\n{body}\n{}", &text[..start], &text[end..]))
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
