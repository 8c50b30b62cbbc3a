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

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{Running, Server};
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

/// The peaks a [`Sampler`] saw.
struct Peaks {
    /// The server's peak thread count; 0 without a server.
    threads: u64,
}

/// Samples, every [`SAMPLE_EVERY`] while a crowd runs, the server's thread
/// count, and keeps its peak.
struct Sampler {
    running: Arc<AtomicBool>,
    sampler: thread::JoinHandle<Peaks>,
}

impl Sampler {
    fn start(pid: Option<u32>) -> Sampler {
        let running = Arc::new(AtomicBool::new(true));
        let still_running = running.clone();
        let sampler = thread::spawn(move || {
            let mut threads = 0;
            loop {
                if let Some(pid) = pid {
                    threads = threads.max(status_field(pid, "Threads:"));
                }
                if !still_running.load(Ordering::Relaxed) {
                    break;
                }
                thread::sleep(SAMPLE_EVERY);
            }
            Peaks { threads }
        });
        Sampler { running, sampler }
    }

    fn stop(self) -> Peaks {
        self.running.store(false, Ordering::Relaxed);
        self.sampler.join().expect("the sampler")
    }
}

/// The server's thread count once it has stopped changing: the warm-up's
/// session threads end a moment after their clients. The same for 100 ms,
/// or whatever it is after 5 s.
fn settled_threads(pid: u32) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut threads = status_field(pid, "Threads:");
    let mut since = Instant::now();
    loop {
        thread::sleep(Duration::from_millis(10));
        let now = status_field(pid, "Threads:");
        if now != threads {
            threads = now;
            since = Instant::now();
        } else if since.elapsed() >= Duration::from_millis(100) || Instant::now() >= deadline {
            return threads;
        }
    }
}

/// A number from /proc/<pid>/status, e.g. `VmHWM:` (KiB) or `Threads:`.
fn status_field(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("reading /proc/<pid>/status");
    number_after(&status, field).unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// The number after `field` at the start of a line of `text` (`field`
/// empty: at the start of `text`).
fn number_after(text: &str, field: &str) -> Option<u64> {
    let value = if field.is_empty() {
        text
    } else {
        text.lines().find_map(|line| line.strip_prefix(field))?
    };
    value.split_whitespace().next()?.parse().ok()
}

/// The CPU time the process has had so far, user and system, all its
/// threads (those that have ended too), in clock ticks: fields 14 (utime)
/// and 15 (stime) of /proc/<pid>/stat, the process's own accounting.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("reading /proc/<pid>/stat");
    // Field 2, the name, is in parentheses and may hold spaces: count the
    // fields after it, from field 3.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let field = |number: usize| -> u64 {
        fields
            .get(number - 3)
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("no field {number} in /proc/{pid}/stat: {stat}"))
    };
    field(14) + field(15)
}

/// The units of /proc's figures on this system.
struct Units {
    /// Clock ticks per second: the unit of /proc/<pid>/stat's CPU times.
    clock_ticks_per_s: u64,
    /// Bytes per page: the unit of /proc/net/sockstat's `mem`.
    page_size: u64,
}

static UNITS: std::sync::LazyLock<Units> = std::sync::LazyLock::new(units);

/// What `getconf CLK_TCK` and `getconf PAGESIZE` say.
#[cfg(unix)]
fn units() -> Units {
    let get = |name| {
        // SAFETY: sysconf reads a constant of the system, and takes nothing
        // but its name.
        let value = unsafe { libc::sysconf(name) };
        u64::try_from(value).ok().filter(|&value| value > 0)
    };
    Units {
        clock_ticks_per_s: get(libc::_SC_CLK_TCK).expect("sysconf(_SC_CLK_TCK)"),
        page_size: get(libc::_SC_PAGESIZE).expect("sysconf(_SC_PAGESIZE)"),
    }
}

/// Never used: `main` stops first where there is no /proc. Linux's values.
#[cfg(not(unix))]
fn units() -> Units {
    Units {
        clock_ticks_per_s: 100,
        page_size: 4096,
    }
}

/// The most open files a process may have here: the hard limit, to which
/// the servers raise their own, as this does.
fn open_file_limit() -> String {
    client::net::raise_open_file_limit()
        .map_or_else(|| "an unknown number".to_string(), |limit| limit.to_string())
}

/// The Java servers, compiled.
struct Java {
    /// Their class path.
    classes: std::path::PathBuf,
    /// The JDK (21 or later) that runs VirtualThreadServer, or why there is
    /// none here.
    virtual_threads: Result<Jdk, String>,
}

/// A JDK found on this machine.
struct Jdk {
    /// Its `java`.
    java: std::path::PathBuf,
    /// The first line of its `java -version`.
    version: String,
}

impl Java {
    /// Whether `target` can run here: all but the virtual threads without a
    /// JDK 21.
    fn runs(&self, target: Target) -> bool {
        target != Target::JavaVirtual || self.virtual_threads.is_ok()
    }
}

/// Compiles the Java servers into the target directory: ThreadPerClientServer
/// with the JDK on PATH, VirtualThreadServer with a JDK 21 or later if one is
/// found.
fn compile_java() -> Java {
    let classes = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-java");
    std::fs::create_dir_all(&classes).expect("creating the Java class directory");
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/java");
    let source = sources.join("ThreadPerClientServer.java");
    let status = Command::new("javac")
        .arg("-d")
        .arg(&classes)
        .arg(&source)
        .status()
        .expect("the benchmark needs a JDK: install one (apt-get install default-jdk-headless)");
    assert!(status.success(), "javac failed on {}", source.display());
    let virtual_threads = jdk_21_or_later().and_then(|jdk| {
        let source = sources.join("VirtualThreadServer.java");
        let javac = jdk.java.with_file_name("javac");
        let compiled = Command::new(&javac)
            .arg("-cp")
            .arg(&classes)
            .arg("-d")
            .arg(&classes)
            .arg(&source)
            .status()
            .map_err(|error| format!("cannot run {}: {error}", javac.display()))?;
        if !compiled.success() {
            return Err(format!("{} failed on {}", javac.display(), source.display()));
        }
        Ok(jdk)
    });
    Java {
        classes,
        virtual_threads,
    }
}

/// A JDK whose `java -version` is 21 or later, with its `javac` beside it:
/// `$JAVA_HOME`'s, the one on PATH, or one in /usr/lib/jvm (Debian's
/// packages and others put theirs there), the latest; or why there is none.
fn jdk_21_or_later() -> Result<Jdk, String> {
    let mut candidates: Vec<std::path::PathBuf> = Vec::new();
    if let Some(home) = std::env::var_os("JAVA_HOME") {
        candidates.push(Path::new(&home).join("bin/java"));
    }
    if let Ok(on_path) = std::fs::canonicalize("/usr/bin/java") {
        candidates.push(on_path);
    }
    if let Ok(jvms) = std::fs::read_dir("/usr/lib/jvm") {
        candidates.extend(jvms.filter_map(|jvm| Some(jvm.ok()?.path().join("bin/java"))));
    }
    let mut seen = Vec::new();
    let mut best: Option<(u32, Jdk)> = None;
    for java in candidates {
        if !java.with_file_name("javac").exists() {
            continue;
        }
        let version = first_line(&java.display().to_string(), &["-version"]);
        // `openjdk version "25.0.3" 2026-04-21`, `java version "21.0.8"`.
        let major = version
            .split('"')
            .nth(1)
            .and_then(|number| number.split(['.', '-', '+']).next()?.parse::<u32>().ok());
        seen.push(version.clone());
        if let Some(major) = major.filter(|&major| major >= 21) {
            if best.as_ref().map_or(true, |(best, _)| major > *best) {
                best = Some((major, Jdk { java, version }));
            }
        }
    }
    best.map(|(_, jdk)| jdk).ok_or_else(|| {
        seen.dedup();
        format!(
            "no JDK 21 or later here (found: {}); Thread.ofVirtual() needs one (apt-get install \
             openjdk-21-jdk-headless, where the distribution has it)",
            if seen.is_empty() {
                "none".to_string()
            } else {
                seen.join("; ")
            }
        )
    })
}

/// The load average over 1, 5 and 15 minutes, as /proc/loadavg says it.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".to_string(),
        |text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

/// The median of `values`, or `None` if there are none.
fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut values: Vec<f64> = values.into_iter().collect();
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

fn show(value: Option<u64>) -> String {
    value.map_or("-".to_string(), |value| value.to_string())
}

fn show_f64(value: Option<f64>, decimals: usize) -> String {
    value.map_or("-".to_string(), |value| format!("{value:.decimals$}"))
}

fn mib(kib: f64) -> String {
    format!("{:.1} MiB", kib / 1024.0)
}

fn signed_mib(kib: i64) -> String {
    format!("{:+.1} MiB", kib as f64 / 1024.0)
}

/// A time-out as the table says it: `10 s`, `0.1 s`.
fn seconds(timeout: Duration) -> String {
    format!("{} s", timeout.as_secs_f64())
}

/// How the clients of `runs` ended: each outcome that any run had, with the
/// lowest and highest count where the runs differ (`500 served`,
/// `98–130 served, 370–402 starved`).
fn outcome(runs: &[&Sample]) -> String {
    type Count = fn(&Report) -> usize;
    let outcomes: [(&str, Count); 4] = [
        ("served", |report| report.served),
        ("starved", |report| report.starved),
        ("stalled", |report| report.stalled),
        ("connect timed out", |report| report.connect_timed_out),
    ];
    let mut parts = Vec::new();
    for (name, count) in outcomes {
        let counts = runs.iter().map(|sample| count(&sample.report));
        let (low, high) = (counts.clone().min().unwrap_or(0), counts.max().unwrap_or(0));
        if high == 0 && name != "served" {
            continue;
        }
        parts.push(if low == high {
            format!("{low} {name}")
        } else {
            format!("{low}–{high} {name}")
        });
    }
    parts.join(", ")
}

/// The Markdown table of medians, with the ratios.
fn table(samples: &[(usize, Target, Sample)], rounds: usize, java: &Java, load: &str) -> String {
    let workers = pool_workers();
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmark: one thread per client, a pool, tasks\n");
    let virtual_threads = match &java.virtual_threads {
        Ok(jdk) => format!("{} for the virtual threads", jdk.version),
        Err(why) => format!("Java virtual threads not measured: {why}"),
    };
    let _ = writeln!(
        out,
        "Written by `cargo bench --bench thread_per_client` ({rounds} rounds, interleaved; medians). \
         Machine: {} cores, {}; {}; {}; {virtual_threads}. {load}\n",
        thread::available_parallelism().map_or(0, |cores| cores.get()),
        first_line("uname", &["-sr"]),
        first_line("rustc", &["--version"]),
        first_line("java", &["-version"]),
    );
    let _ = writeln!(
        out,
        "The servers: server-v3; the same design in Java; **pool**, server-v3's `pool` example with \
         {workers} workers (8 per core), the clients beyond them waiting in the kernel's accept queue; \
         **shutdown**, server-v3's `shutdown` example, which is server-v3's accept loop and sessions \
         (without its session limit) plus the registry of sessions its orderly shutdown needs (per session, a second descriptor for the connection and an insert \
         and a removal in a locked map; at each accept, a pass over the list of session threads), \
         measured at 500 × 100, the rounds' most sessions at once; **tokio**, server-v3's `tokio` \
         example, a task per client, on tokio's multi-thread runtime (a worker thread per core) and on \
         its current-thread runtime (every task on one thread); **Java virtual threads**, the Java \
         design with `Thread.ofVirtual()` instead of `new Thread()` (benches/java/\
         VirtualThreadServer.java, the same session); and the floor, a thread in the \
         benchmark's own process answering the same frames with nothing else to do. shutdown is not in \
         the connections-at-once runs: there it would show only that its registry's second descriptor \
         per connection needs twice server-v3's open files (this machine's limit per process, before \
         those runs: {}). Each run is on \
         a fresh server, after a warm-up with a tenth of the messages (for the pool, with as many \
         clients as it has workers). The columns:\n\n\
         - **time-out**: how long each client waited for its connection, and then for each reply, \
         before it gave up.\n\
         - **outcome**: how the clients ended, with the lowest and highest of the rounds where they \
         differ. *Served*: every reply came, in time. *Starved*: no reply came in time (the client \
         waited in the accept queue). *Stalled*: some replies came, then one not in time. *Connect \
         timed out*: the handshake did not finish in time (the accept queue was full). Anything else (a \
         wrong reply, a connection closed or reset) fails the benchmark, as does any client that a \
         server with a thread per client did not serve.\n\
         - **replies/s**: the replies that came in time, all clients together, over the whole run, \
         connects included: for the pool, only what it served.\n\
         - **CPU µs per message**: the server process's CPU time, user and system, all its threads \
         (`utime` + `stime` in /proc/<pid>/stat, in ticks of {} ms), from just before to just after \
         the measured crowd, divided by the replies of that crowd. The floor has no process of its \
         own: `-`.\n\
         - **p50, p99, max µs**: a message's round trip, from its sending to its reply. A client's first \
         includes its wait for the server to accept it: the pool's queued clients show in the max.\n\
         - **peak RSS**: the server's peak resident memory (`VmHWM` in /proc/<pid>/status), over its \
         life, warm-up included. **peak threads**: its thread count during the crowd, sampled every \
         {} ms.\n",
        open_file_limit(),
        1000 / UNITS.clock_ticks_per_s,
        SAMPLE_EVERY.as_millis(),
    );
    let _ = writeln!(
        out,
        "| clients × messages | server | time-out | outcome | replies/s | CPU µs per message | p50 µs | \
         p99 µs | max µs | peak RSS | peak threads |"
    );
    let _ = writeln!(out, "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut ratios = String::new();
    for (index, workload) in WORKLOADS.iter().enumerate() {
        // Each target's runs, in round order.
        let runs_of = |wanted: Target| -> Vec<&Sample> {
            samples
                .iter()
                .filter(|(workload, target, _)| *workload == index && *target == wanted)
                .map(|(_, _, sample)| sample)
                .collect()
        };
        let (clients, messages) = (workload.clients, workload.messages);
        for &target in workload.targets {
            let runs = runs_of(target);
            if runs.is_empty() {
                continue;
            }
            let of_report = |value: fn(&Report) -> f64| {
                median(runs.iter().map(|sample| value(&sample.report))).unwrap_or(0.0)
            };
            // Runs without a reply measured no round trip: left out.
            let of_round_trip = |value: fn(&Report) -> Option<u64>| {
                median(
                    runs.iter()
                        .filter_map(|sample| value(&sample.report))
                        .map(|us| us as f64),
                )
            };
            let of_server = |value: fn(&Process) -> Option<f64>| {
                median(
                    runs.iter()
                        .filter_map(|sample| sample.server.as_ref().and_then(value)),
                )
            };
            let _ = writeln!(
                out,
                "| {clients} × {messages} | {} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {} |",
                target.name(),
                seconds(workload.timeout),
                outcome(&runs),
                of_report(|report| report.replies_per_s),
                show_f64(of_server(|server| server.cpu_us_per_reply), 1),
                show_f64(of_round_trip(|report| report.p50_us), 0),
                show_f64(of_round_trip(|report| report.p99_us), 0),
                show_f64(of_round_trip(|report| report.max_us), 0),
                of_server(|server| Some(server.peak_rss_kib as f64)).map_or("-".to_string(), mib),
                show_f64(of_server(|server| Some(server.peak_threads as f64)), 0),
            );
        }
        // server-v3 against each other server of the workload, round by round.
        if !workload.targets.contains(&Target::Rust) {
            continue;
        }
        let ours = runs_of(Target::Rust);
        let others = workload.targets.iter().filter(|&&target| target != Target::Rust);
        let mut speed = Vec::new();
        let mut cpu = Vec::new();
        for &other in others {
            let theirs = runs_of(other);
            let name = other.name();
            if let Some(summary) = paired_ratios(&ours, &theirs, |sample| Some(sample.report.replies_per_s)) {
                speed.push(format!("server-v3 / {name} = {summary}"));
            }
            let cpu_of = |sample: &Sample| sample.server.and_then(|server| server.cpu_us_per_reply);
            if let Some(summary) = paired_ratios(&ours, &theirs, cpu_of) {
                cpu.push(format!("server-v3 / {name} = {summary}"));
            }
        }
        let _ = write!(
            ratios,
            "\n- {clients} × {messages}: replies per second: {}; CPU per message: {}.",
            speed.join(", "),
            cpu.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "\nRatios, server-v3's over the other server's in the same round (the two ran back to back, so \
         they shared the machine's conditions): the median, then the lowest and highest round. Replies \
         per second above 1: server-v3 answered more. CPU per message below 1: server-v3 spent less of \
         its own CPU on each message. On a machine with few cores the first is bounded by the load \
         generator, which shares the cores with the server, and by the wake-ups of sleeping cores; the \
         second is each server's own cost.{ratios}"
    );
    out
}

/// The median of the per-round ratios `value(ours[i]) / value(theirs[i])`,
/// with the lowest and the highest; `None` when no round has both.
fn paired_ratios(
    ours: &[&Sample],
    theirs: &[&Sample],
    value: impl Fn(&Sample) -> Option<f64>,
) -> Option<String> {
    let mut ratios: Vec<f64> = ours
        .iter()
        .zip(theirs)
        .filter_map(|(ours, theirs)| Some(value(ours)? / value(theirs)?))
        .collect();
    ratios.sort_by(f64::total_cmp);
    let median = median(ratios.iter().copied())?;
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
