//! Connections at once: how many clients each design holds, connected and
//! idle, then each active once; where it stops, why, and what each
//! connection costs the server's process and the kernel.
//!
//! For each server and each count, a fresh server: the clients connect one
//! after another and stay connected, idle; once all have connected (or the
//! server has stopped taking connections), each sends one message, and its
//! reply is read. With every connection still open, the server's memory and
//! threads and the kernel's memory are read; then the server is stopped and
//! the clients close.

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use crate::java::Java;
use crate::process::{number_after, UNITS};
use crate::report::mib;
use crate::{pool_workers, start, Target, BACKLOG};

/// The counts of connections held at once.
const COUNTS: [usize; 3] = [1_000, 10_000, 100_000];

/// The servers, in the table's order.
const TARGETS: [Target; 6] = [
    Target::Rust,
    Target::Java,
    Target::JavaVirtual,
    Target::Pool,
    Target::TokioMulti,
    Target::TokioCurrent,
];

/// Connections from one loopback source address: every connection to the
/// server's one address and port needs a local port of its own, and Linux
/// gives outgoing connections 28,232 by default (32768 to 60999). Past this
/// many, the clients bind 127.0.0.2, then 127.0.0.3, …: loopback addresses
/// all, as the whole of 127.0.0.0/8 is.
const PER_SOURCE: usize = 25_000;

/// How long one connect may wait for its handshake. A connect that waits
/// longer found the accept queue full that long: the server stopped taking
/// connections, and the clients stop connecting.
const CONNECT_WITHIN: Duration = Duration::from_secs(3);

/// How long the clients wait, all together, for their replies: long
/// enough for a server with 20,000 threads to wake each once.
const REPLIES_WITHIN: Duration = Duration::from_secs(30);

/// Tasks (processes and threads) left free for the rest of the machine: a
/// thread per connection takes one of the system's `kernel.pid_max` task
/// ids each; the clients stop connecting before the server would take the
/// ids the machine's other processes need.
const TASKS_KEPT_FREE: u64 = 4_096;

/// The open files the runs need in this process and in each server: a
/// socket per connection, and a margin.
const OPEN_FILES: u64 = 131_072;

/// What one run saw.
struct Held {
    /// Clients whose connect finished.
    connected: usize,
    /// Why the clients stopped connecting before all had, in words.
    stopped: Option<String>,
    /// Clients whose message was answered, right, in time.
    served: usize,
    /// From the first connect to the last reply read.
    took: Duration,
    /// The server's resident memory before any client, KiB.
    idle_rss_kib: Option<u64>,
    /// Its peak resident memory (VmHWM), with every connection open, KiB.
    peak_rss_kib: Option<u64>,
    /// Its threads, with every connection open.
    threads: Option<u64>,
    kernel_before: KernelNow,
    kernel_held: KernelNow,
    /// What the server said of a limit or a failure: its first such line.
    said: Option<String>,
    /// How the server ended, if it ended by itself during the run.
    ended: Option<String>,
}

/// The section of docs/benchmark.md: the runs, and the table.
pub fn table(java: &Java) -> String {
    let raised = raise_open_files(OPEN_FILES);
    let open_files = match &raised {
        Ok(Some(said)) => {
            eprintln!("connections at once: {said}");
            format!("{said}. ")
        }
        Ok(None) => String::new(),
        Err(why) => {
            eprintln!("connections at once: {why}");
            format!("{why}. ")
        }
    };
    let workers = pool_workers();
    let sources = COUNTS.iter().max().map_or(1, |&most| most.div_ceil(PER_SOURCE));
    let mut out = format!(
        "\n### Where each design stops: connections at once\n\n\
         Written by the same `cargo bench --bench thread_per_client`, after the rounds: one run per \
         count and server, each on a fresh server with `--backlog {BACKLOG}`. The clients connect one \
         after another and stay connected, idle; once all have connected, or the server has stopped \
         taking connections, each sends one message (`Hello`) and waits for its reply, all together \
         within {} s. A connect that waits more than {} s for its handshake found the server's accept \
         queue full all that time: the server has stopped taking connections, and the clients stop \
         connecting there. Past {PER_SOURCE} clients, they connect from several loopback source \
         addresses (127.0.0.1 to 127.0.0.{sources}, each with its own local ports; never an address \
         off this machine). The clients are held by child processes of the benchmark, at most \
         {PER_HOLDER} each, so that the servers meet their limits before the clients meet theirs. \
         {open_files}\
         The clients also stop before the machine's tasks (processes and threads) come within \
         {TASKS_KEPT_FREE} of `kernel.pid_max`, which the kernel's next thread would meet: a thread per \
         connection must not take the task ids the machine's other processes need.\n\n\
         This system's limits: {}.\n\n\
         - **connected**: clients whose handshake finished, accepted or waiting in the accept queue. \
         **served**: clients whose message was answered, with every other client still connected.\n\
         - **stopped, and why**: why the clients stopped connecting, and the server's own words about \
         its limit, where it logged or printed any (server-v3 logs the room it has at start; a JVM \
         prints the exception that ended its accept loop).\n\
         - **peak RSS**, **RSS per connection**: the server's peak resident memory (`VmHWM`) with every \
         connection open, and its growth from before the first client divided by the clients served \
         (all of them held at once); not for the pool, whose {workers} workers hold {workers} clients \
         and whose memory does not grow with them.\n\
         - **threads**: the server's threads with every connection open.\n\
         - **TCP sockets Δ**, **socket buffers Δ**, **kernel stacks Δ**: what the whole system's kernel \
         held more, with every connection open, than before the first client: TCP sockets in use and \
         the pages of their buffers (`inuse` and `mem` in /proc/net/sockstat, with `inuse` in \
         /proc/net/sockstat6 for the JVM's sockets, which are IPv6 sockets even on 127.0.0.1), and \
         the kernel stacks \
         of all threads (`KernelStack` in /proc/meminfo). Both ends of each connection are on this \
         machine: 1,000 connections are 2,000 sockets. RSS leaves all of these out.\n\n\
         | connections | server | connected | served | stopped, and why | took | peak RSS | RSS per \
         connection | threads | TCP sockets Δ | socket buffers Δ | kernel stacks Δ |\n\
         |---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|\n",
        REPLIES_WITHIN.as_secs(),
        CONNECT_WITHIN.as_secs(),
        limits(),
    );
    // BENCH_AT_ONCE_MAX=N: only the counts up to N, for a shorter run.
    let most = std::env::var("BENCH_AT_ONCE_MAX")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(usize::MAX);
    for count in COUNTS.into_iter().filter(|&count| count <= most) {
        for target in TARGETS {
            let name = target.name();
            if let (Target::JavaVirtual, Err(why)) = (target, &java.virtual_threads) {
                let _ = writeln!(
                    out,
                    "| {count} | {name} | - | - | not measured: {why} | | | | | | | |"
                );
                continue;
            }
            let held = hold(target, count, java);
            eprintln!(
                "at once: {name:>22} {count:>6}: {} connected, {} served in {:.1} s{}; rss {} KiB, threads {}",
                held.connected,
                held.served,
                held.took.as_secs_f64(),
                held.stopped
                    .as_deref()
                    .map_or(String::new(), |why| format!(" ({why})")),
                crate::show(held.peak_rss_kib),
                crate::show(held.threads),
            );
            let _ = writeln!(out, "{}", row(count, target, &held));
        }
    }
    out += "\nOthers' figures, for comparison (not measured here): in a 2023 measurement of up to one \
            million tasks that only sleep (Piotr Kołaczkowski, \"How Much Memory Do You Need to Run 1 \
            Million Concurrent Tasks?\"), a Tokio task took about 0.2 KB and a Rust OS thread about \
            4.6 KB. Those tasks held no socket and no buffer, and that figure leaves out each thread's \
            kernel stack, which the columns above count apart.\n";
    out
}

/// One line of the table.
fn row(count: usize, target: Target, held: &Held) -> String {
    let mut why = Vec::new();
    if let Some(stopped) = &held.stopped {
        why.push(stopped.clone());
    }
    if held.served < count
        && let Some(said) = &held.said
    {
        why.push(format!("the server: \"{said}\""));
    }
    if let Some(ended) = &held.ended {
        why.push(format!("the server ended by itself: {ended}"));
    }
    if why.is_empty() {
        why.push("all held and served".to_string());
    }
    let per_connection = match (held.idle_rss_kib, held.peak_rss_kib) {
        (Some(idle), Some(peak)) if target != Target::Pool && held.served > 0 => {
            format!("{:.1} KiB", peak.saturating_sub(idle) as f64 / held.served as f64)
        }
        _ => "-".to_string(),
    };
    let delta = |now: u64, before: u64| now as i64 - before as i64;
    format!(
        "| {count} | {} | {} | {} | {} | {:.1} s | {} | {per_connection} | {} | {:+} | {} | {} |",
        target.name(),
        held.connected,
        held.served,
        why.join("; ").replace('|', "\\|"),
        held.took.as_secs_f64(),
        held.peak_rss_kib.map_or("-".to_string(), |kib| mib(kib as f64)),
        crate::show(held.threads),
        delta(held.kernel_held.tcp_inuse, held.kernel_before.tcp_inuse),
        crate::report::signed_mib(delta(
            held.kernel_held.tcp_buffers_kib,
            held.kernel_before.tcp_buffers_kib
        )),
        crate::report::signed_mib(delta(held.kernel_held.stacks_kib, held.kernel_before.stacks_kib)),
    )
}

/// One run: a fresh server, `count` clients connected and held, each
/// served once; then the server stopped and the clients closed. The clients
/// are held by child processes of this benchmark ([`hold_clients`]), each
/// at most [`PER_HOLDER`]: a process may have only so many open files, and
/// the servers are to meet their limits, not the clients'.
fn hold(target: Target, count: usize, java: &Java) -> Held {
    // The previous run's sockets closing, out of this run's figures.
    KernelNow::settle();
    let mut server = start(target, java).expect("every target here has a process");
    let pid = server.process.child.id();
    let idle_rss_kib = status(pid, "VmRSS:");
    let kernel_before = KernelNow::read();
    let started = Instant::now();

    let mut holders = Vec::new();
    let (mut connected, mut stopped) = (0, None);
    while connected < count && stopped.is_none() {
        let share = PER_HOLDER.min(count - connected);
        let mut holder = Holder::start(server.port, connected, share, count);
        let (held, why) = holder.connected();
        connected += held;
        stopped = why;
        holders.push(holder);
    }
    // Every client active once, each holder's at the same time.
    for holder in &mut holders {
        holder.say("send");
    }
    let served: usize = holders.iter_mut().map(Holder::served).sum();
    let took = started.elapsed();

    // Every connection still open: what the server and the kernel hold.
    let kernel_held = KernelNow::read();
    let peak_rss_kib = status(pid, "VmHWM:");
    let threads = status(pid, "Threads:");
    let ended = match server.process.child.try_wait() {
        Ok(Some(status)) => Some(status.to_string()),
        _ => None,
    };

    // The server first, so that its side of each connection closes first
    // (its TIME_WAITs are on its own port, which the next run does not use),
    // then the clients.
    let _ = server.process.child.kill();
    let (_, stderr) = server.process.wait_exit_within(Duration::from_secs(120));
    for holder in holders {
        holder.end();
    }
    let said = server
        .process
        .stdout
        .iter()
        .map(String::as_str)
        .chain(stderr.lines())
        .find(|line| LIMIT_WORDS.iter().any(|words| line.contains(words)))
        .map(|line| {
            line.split_once("] ")
                .map_or(line, |(_, said)| said)
                .trim()
                .to_string()
        });
    Held {
        connected,
        stopped,
        served,
        took,
        idle_rss_kib,
        peak_rss_kib,
        threads,
        kernel_before,
        kernel_held,
        said,
        ended,
    }
}

/// The most clients one holder process keeps: below the open-file limit a
/// process has without root here (20,000 on the machine this was written
/// on), with a margin.
const PER_HOLDER: usize = 15_000;

/// This benchmark's program, as it was at start: read later, the path of
/// a program rebuilt meanwhile (by a `cargo build` beside it) would be
/// its old file's, deleted.
pub fn this_program() -> &'static std::path::Path {
    static PATH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| std::env::current_exe().expect("this benchmark's path"))
}

/// The flag that makes this benchmark's binary a holder of clients.
pub const HOLDER_FLAG: &str = "--hold-clients";

/// A child process holding some of a run's clients.
struct Holder {
    child: std::process::Child,
    said: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl Holder {
    /// Starts a holder that connects `share` clients to `port`, numbered
    /// from `first` among the run's `count`, and waits until it has.
    fn start(port: u16, first: usize, share: usize, count: usize) -> Holder {
        let mut child = std::process::Command::new(this_program())
            .args([
                HOLDER_FLAG,
                &port.to_string(),
                &first.to_string(),
                &share.to_string(),
                &count.to_string(),
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("starting a holder of clients");
        let said = BufReader::new(child.stdout.take().expect("piped")).lines();
        Holder { child, said }
    }

    /// The next line the holder says.
    fn hear(&mut self) -> String {
        match self.said.next() {
            Some(Ok(line)) => line,
            _ => panic!("a holder of clients ended early: {:?}", self.child.try_wait()),
        }
    }

    fn say(&mut self, word: &str) {
        let stdin = self.child.stdin.as_mut().expect("piped");
        writeln!(stdin, "{word}").expect("telling a holder of clients");
    }

    /// How many clients it connected, and why it stopped short, if it did.
    fn connected(&mut self) -> (usize, Option<String>) {
        let line = self.hear();
        let (count, why) = line
            .split_once(' ')
            .map_or((line.as_str(), None), |(count, why)| (count, Some(why)));
        (
            count.parse().expect("a count of clients"),
            why.map(str::to_string),
        )
    }

    /// How many of its clients were served, once told to send.
    fn served(&mut self) -> usize {
        self.hear().parse().expect("a count of clients")
    }

    /// Closes its clients: the holder ends when its standard input does.
    fn end(mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// The holder's side ([`HOLDER_FLAG`] PORT FIRST SHARE COUNT): connects
/// SHARE clients, numbered from FIRST among COUNT, and says how many (then
/// why it stopped, if it did); on `send`, each sends `Hello` and waits for
/// its reply, and it says how many were served; it closes them all when its
/// standard input ends.
pub fn hold_clients(args: &[String]) {
    let number = |index: usize| -> usize { args[index].parse().expect("a holder's numbers") };
    let (port, first, share, count) = (number(0) as u16, number(1), number(2), number(3));
    let _ = client::net::raise_open_file_limit();
    let server = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut clients = Vec::with_capacity(share);
    let mut stopped = None;
    for client in first..first + share {
        if client % 256 == 0
            && let Some(why) = tasks_running_out()
        {
            stopped = Some(why);
            break;
        }
        let source = (count > PER_SOURCE).then(|| Ipv4Addr::new(127, 0, 0, 1 + (client / PER_SOURCE) as u8));
        match connect(server, source) {
            Ok(socket) => clients.push(socket),
            Err(failure) => {
                stopped = Some(connect_failed(&failure));
                break;
            }
        }
    }
    let mut out = io::stdout();
    let _ = match &stopped {
        Some(why) => writeln!(out, "{} {why}", clients.len()),
        None => writeln!(out, "{}", clients.len()),
    };
    let _ = out.flush();
    let mut input = io::stdin().lock().lines();
    if !matches!(input.next(), Some(Ok(word)) if word == "send") {
        return;
    }
    // All the messages first, then the replies.
    let frame = client::protocol::encode_utf("Hello").expect("a short message");
    let sent: Vec<bool> = clients
        .iter_mut()
        .map(|socket| socket.write_all(&frame).is_ok())
        .collect();
    let deadline = Instant::now() + REPLIES_WITHIN;
    let served = clients
        .iter()
        .zip(sent)
        .filter(|(socket, sent)| *sent && replied(socket, deadline))
        .count();
    let _ = writeln!(out, "{served}");
    let _ = out.flush();
    // Held open until told to close.
    for _ in input {}
}

/// Words by which a server speaks of a limit or a failure, in its log or
/// on its standard error.
const LIMIT_WORDS: [&str; 7] = [
    "cannot start a thread",
    "accept failed",
    "OutOfMemoryError",
    "Exception",
    "room for",
    "a pool of",
    "error",
];

/// A client's connection, from `source` (a loopback address) if given.
fn connect(server: SocketAddr, source: Option<Ipv4Addr>) -> io::Result<TcpStream> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    if let Some(source) = source {
        socket.bind(&SocketAddr::from((source, 0)).into())?;
    }
    socket.connect_timeout(&server.into(), CONNECT_WITHIN)?;
    Ok(socket.into())
}

/// Why a connect failed, in the table's words.
fn connect_failed(failure: &io::Error) -> String {
    match failure.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => format!(
            "a connect waited {} s: the accept queue stayed full (the server stopped accepting)",
            CONNECT_WITHIN.as_secs()
        ),
        io::ErrorKind::ConnectionRefused => "a connect was refused: nothing listened any more".to_string(),
        io::ErrorKind::AddrNotAvailable => "no local port left for the next connect".to_string(),
        _ => format!("a connect failed: {failure}"),
    }
}

/// Whether the reply to `Hello` comes on `socket` by `deadline`; once it
/// has passed, only a reply already there counts.
fn replied(socket: &TcpStream, deadline: Instant) -> bool {
    let left = deadline.saturating_duration_since(Instant::now());
    let ready = if left.is_zero() {
        socket.set_nonblocking(true)
    } else {
        socket.set_read_timeout(Some(left))
    };
    ready.is_ok()
        && matches!(
            client::protocol::read_utf(&mut BufReader::new(socket)),
            Ok(Some(reply)) if reply == "Hello World!"
        )
}

/// A number from /proc/<pid>/status, or `None` once the process is gone.
fn status(pid: u32, field: &str) -> Option<u64> {
    number_after(
        &std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?,
        field,
    )
}

/// `Some(why)` when the machine's tasks have come within
/// [`TASKS_KEPT_FREE`] of `kernel.pid_max`: the fourth field of
/// /proc/loadavg, `running/total`, counts them all.
fn tasks_running_out() -> Option<String> {
    let pid_max = number_after(&std::fs::read_to_string("/proc/sys/kernel/pid_max").ok()?, "")?;
    let loadavg = std::fs::read_to_string("/proc/loadavg").ok()?;
    let tasks: u64 = loadavg
        .split_whitespace()
        .nth(3)?
        .split_once('/')?
        .1
        .parse()
        .ok()?;
    (tasks + TASKS_KEPT_FREE >= pid_max).then(|| {
        format!(
            "stopped by the benchmark: the machine ran {tasks} tasks, within {TASKS_KEPT_FREE} of \
             kernel.pid_max {pid_max}, past which the kernel refuses every new thread and process"
        )
    })
}

/// This system's limits that a design may meet, as the kernel reports them.
fn limits() -> String {
    let read = |path: &str| {
        std::fs::read_to_string(path).map_or_else(|_| "unknown".to_string(), |text| text.trim().to_string())
    };
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|meminfo| number_after(&meminfo, "MemTotal:"))
        .map_or("unknown".to_string(), |kib| {
            format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0)
        });
    format!(
        "`vm.max_map_count` {} (a thread's stack takes mappings), `kernel.pid_max` {} and \
         `kernel.threads-max` {} (each thread is a task), open files per process {} \
         (`ulimit -n`, after the raise above), `net.core.somaxconn` {}, local ports {}, memory {memory}, \
         {} cores",
        read("/proc/sys/vm/max_map_count"),
        read("/proc/sys/kernel/pid_max"),
        read("/proc/sys/kernel/threads-max"),
        current_open_files(),
        read("/proc/sys/net/core/somaxconn"),
        read("/proc/sys/net/ipv4/ip_local_port_range").replace('\t', " to "),
        thread::available_parallelism().map_or(0, |cores| cores.get()),
    )
}

/// The whole system's TCP sockets and kernel stacks now.
#[derive(Clone, Copy)]
struct KernelNow {
    /// TCP sockets in use, IPv4 and IPv6 (`inuse` in /proc/net/sockstat and
    /// /proc/net/sockstat6).
    tcp_inuse: u64,
    /// Their buffers' pages (`mem`), KiB.
    tcp_buffers_kib: u64,
    /// Every thread's kernel stack (`KernelStack:` in /proc/meminfo), KiB.
    stacks_kib: u64,
}

impl KernelNow {
    fn read() -> KernelNow {
        let meminfo = std::fs::read_to_string("/proc/meminfo").expect("reading /proc/meminfo");
        let stacks_kib = number_after(&meminfo, "KernelStack:").expect("KernelStack: in /proc/meminfo");
        // "TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 3": `mem` is in pages.
        let sockstat = std::fs::read_to_string("/proc/net/sockstat").expect("reading /proc/net/sockstat");
        let tcp = sockstat
            .lines()
            .find(|line| line.starts_with("TCP:"))
            .expect("a TCP: line in /proc/net/sockstat");
        let field = |name: &str| {
            tcp.split_once(&format!(" {name} "))
                .and_then(|(_, rest)| number_after(rest, ""))
                .unwrap_or_else(|| panic!("no {name} in {tcp:?}"))
        };
        // Sockets of the IPv6 family (a JVM's, which are dual-stack even on
        // 127.0.0.1) are counted apart, on "TCP6:" in /proc/net/sockstat6;
        // their buffers are in the same `mem`.
        let tcp6_inuse = std::fs::read_to_string("/proc/net/sockstat6")
            .ok()
            .and_then(|sockstat6| {
                let line = sockstat6
                    .lines()
                    .find(|line| line.starts_with("TCP6:"))?
                    .to_string();
                number_after(line.split_once(" inuse ")?.1, "")
            })
            .unwrap_or(0);
        KernelNow {
            tcp_inuse: field("inuse") + tcp6_inuse,
            tcp_buffers_kib: field("mem") * UNITS.page_size / 1024,
            stacks_kib,
        }
    }

    /// Waits, at most 30 s, until the TCP sockets in use have stopped
    /// falling for half a second: the previous run's, closing.
    fn settle() {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last = KernelNow::read().tcp_inuse;
        let mut since = Instant::now();
        while Instant::now() < deadline && since.elapsed() < Duration::from_millis(500) {
            thread::sleep(Duration::from_millis(50));
            let now = KernelNow::read().tcp_inuse;
            if now < last {
                since = Instant::now();
            }
            last = now;
        }
    }
}

/// The open files this process may have now (its soft limit, raised to
/// the hard one).
fn current_open_files() -> u64 {
    client::net::raise_open_file_limit().unwrap_or(0)
}

/// Raises this process's open-file limit, soft and hard, to `needed` where
/// its hard limit is lower: only root may. The servers it starts inherit
/// it. `Ok(Some(what was done))`, `Ok(None)` if nothing was needed, or
/// `Err(why not)`.
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux and macOS, narrower elsewhere
fn raise_open_files(needed: u64) -> Result<Option<String>, String> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the struct given, and
    // geteuid reads the process's user.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return Err(format!(
                "cannot read the open-file limit: {}",
                io::Error::last_os_error()
            ));
        }
        if limit.rlim_max as u64 >= needed {
            return Ok(None);
        }
        let before = limit.rlim_max;
        if libc::geteuid() != 0 {
            return Err(format!(
                "this process may open {before} files, and only root may raise that to the {needed} \
                 the largest runs need: run the benchmark as root for them"
            ));
        }
        let raised = libc::rlimit {
            rlim_cur: needed as libc::rlim_t,
            rlim_max: needed as libc::rlim_t,
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
            return Err(format!(
                "The benchmark, running as root, tried to raise the open-file limit from {before} to \
                 {needed} (setrlimit) for itself and the servers it starts: the system refused ({}), so \
                 each server may hold at most {before} open files, and so fewer than {before} connections",
                io::Error::last_os_error()
            ));
        }
        Ok(Some(format!(
            "The benchmark, running as root, raised its open-file limit from {before} to {needed} \
             (setrlimit), and the servers it starts inherit it"
        )))
    }
}

#[cfg(not(unix))]
fn raise_open_files(_needed: u64) -> Result<Option<String>, String> {
    Err("open-file limits are Unix's".to_string())
}
