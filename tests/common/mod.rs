//! What the lesson's tests share: the programs, started for real on free
//! ports; a client speaking the protocol; and the kernel's socket table.
//!
//! Nothing here waits a fixed time. Every wait is for something observable:
//! a line the server prints, a change in the kernel's table, a process's
//! exit, or a read time-out, each bounded by [`PATIENCE`] so that a broken
//! server fails the test instead of hanging it.

#![allow(dead_code)] // each test file uses its own part of this module

pub mod java;
pub mod terminal;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use socket_lesson::kernel::{self, Table};
use wait_timeout::ChildExt;

/// How long a test listens before concluding that no reply is coming. A
/// reply on loopback takes well under a millisecond.
pub const SILENCE: Duration = Duration::from_millis(300);

/// The path of one of the workspace's programs, e.g. `server-v2`.
///
/// The root package's own programs (the tour, peek, crowd, lab, examine) are
/// the ones cargo built for this test (`CARGO_BIN_EXE_<name>`). The other
/// members' programs are in the target directory beside the running test
/// (`target/<profile>/deps/<this test>` → `target/<profile>`), with this
/// system's executable suffix (`.exe` on Windows): `cargo test --workspace`
/// builds them before any test runs, as each member has integration tests of
/// its own. A program that is missing, or older than its sources (after
/// `cargo test -p socket-lesson` alone), fails the test with the command
/// that builds it; the tests never build anything themselves.
pub fn binary(name: &str) -> PathBuf {
    if let Some(path) = own_binary(name) {
        return PathBuf::from(path);
    }
    program(name, "")
}

/// The path of one of the workspace's examples, e.g. `shutdown`
/// (`target/<profile>/examples/shutdown`), found as [`binary`] says.
pub fn example(name: &str) -> PathBuf {
    program(name, "examples")
}

/// The root package's program `name`, as cargo built it for this test.
fn own_binary(name: &str) -> Option<&'static str> {
    match name {
        "socket-lesson" => Some(env!("CARGO_BIN_EXE_socket-lesson")),
        "peek" => Some(env!("CARGO_BIN_EXE_peek")),
        "crowd" => Some(env!("CARGO_BIN_EXE_crowd")),
        "lab" => Some(env!("CARGO_BIN_EXE_lab")),
        "examine" => Some(env!("CARGO_BIN_EXE_examine")),
        _ => None,
    }
}

/// `name` in `target/<profile>/<subdirectory>`, checked to be there and
/// newer than every source it is built from, once per test process: the
/// programs do not change while the tests run.
fn program(name: &str, subdirectory: &str) -> PathBuf {
    static CHECKED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    let test = std::env::current_exe().expect("the test's own path");
    let dir = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let path = dir
        .join(subdirectory)
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let mut checked = CHECKED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if checked.contains(&path) {
        return path;
    }
    let build = "cargo build --workspace --bins --examples, or cargo test --workspace";
    let Some(built) = modified(&path) else {
        panic!("{} is missing: build it first ({build})", path.display());
    };
    if let Some(source) = newest_source(package_of(name)).filter(|source| source.1 > built) {
        panic!(
            "{} is older than {}: build it again first ({build})",
            path.display(),
            source.0.display()
        );
    }
    checked.push(path.clone());
    path
}

/// The member that builds program or example `name`.
fn package_of(name: &str) -> &str {
    match name {
        "client-v1" | "client-v2" => "client",
        "shutdown" | "pool" | "tokio" => "server-v3",
        server => server,
    }
}

/// The most recently changed source file of `package`, and of the library
/// of `client`, which every program builds on (not the client's programs,
/// in `client/src/bin`, unless `package` is `client`); `None` where the
/// sources are not here (a test copied to another machine).
fn newest_source(package: &str) -> Option<(PathBuf, std::time::SystemTime)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let client_programs = root.join("client/src/bin");
    let mut newest: Option<(PathBuf, std::time::SystemTime)> = None;
    let mut folders = vec![
        root.join(package).join("src"),
        root.join(package).join("examples"),
    ];
    if package != "client" {
        folders.push(root.join("client/src"));
    }
    while let Some(folder) = folders.pop() {
        if folder == client_programs && package != "client" {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if let Some(time) = modified(&path)
                && newest.as_ref().is_none_or(|(_, newest)| time > *newest)
            {
                newest = Some((path, time));
            }
        }
    }
    newest
}

/// When `path` was last modified; `None` if it does not exist.
fn modified(path: &Path) -> Option<std::time::SystemTime> {
    path.metadata().and_then(|meta| meta.modified()).ok()
}

/// Starts `command` with Ctrl-C's signal handled as at a terminal, where a
/// person starts a program in front: a test run started in the background
/// (`cargo test &`, a script) ignores SIGINT, every program it starts would
/// inherit that, and a test of what Ctrl-C does would test nothing.
pub fn in_front(command: &mut Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: between fork and exec only async-signal-safe calls are
        // allowed; signal() is one, and touches no memory of the parent's.
        unsafe {
            command.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                Ok(())
            });
        }
    }
    #[cfg(not(unix))]
    let _ = command;
}

/// Port 50000, which the tour's first step asks for its first client (so
/// that the picture reads `client :50000`), held by each test that runs
/// that step: they run it one at a time, and the test that takes the port
/// away from the tour finds it free. A test that fails while holding it
/// does not keep it from the others.
pub fn tour_port() -> std::sync::MutexGuard<'static, ()> {
    static PORT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    PORT.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A program of the workspace, running, its output read line by line.
pub struct Running {
    pub child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    /// Every stdout line read so far.
    pub stdout: Vec<String>,
    stderr: Option<JoinHandle<String>>,
}

impl Running {
    /// Starts `program` with `args`, its standard streams piped.
    pub fn start(program: &str, args: &[&str]) -> Running {
        let mut command = Command::new(binary(program));
        command.args(args);
        Running::start_command(command)
    }

    /// Starts any prepared `command` (a program from outside the workspace,
    /// such as `java`), its standard streams piped.
    pub fn start_command(mut command: Command) -> Running {
        in_front(&mut command);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {:?}: {error}", command.get_program()));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Running {
            stdin: child.stdin.take(),
            child,
            lines,
            stdout: Vec::new(),
            stderr: Some(stderr),
        }
    }

    /// Waits for a stdout line containing `needle` and returns it.
    pub fn expect_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        if let Some(line) = self.stdout.iter().find(|line| line.contains(needle)) {
            return line.clone();
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.stdout.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no line containing {needle:?} within {PATIENCE:?}; the output so far:\n{}",
                    self.stdout.join("\n")
                ),
            }
        }
    }

    /// Waits until `count` stdout lines contain `needle`; returns the last.
    pub fn expect_nth_line(&mut self, needle: &str, count: usize) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let matching: Vec<&String> = self.stdout.iter().filter(|line| line.contains(needle)).collect();
            if matching.len() >= count {
                return matching[count - 1].clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.stdout.push(line),
                Err(_) => panic!("fewer than {count} lines containing {needle:?} within {PATIENCE:?}"),
            }
        }
    }

    /// Waits for the next stdout line (not one already read) that contains
    /// any of `needles`, and returns it.
    pub fn next_line_with_any(&mut self, needles: &[&str]) -> String {
        loop {
            let line = self.next_line();
            if needles.iter().any(|needle| line.contains(needle)) {
                return line;
            }
        }
    }

    /// The next stdout line, waiting at most [`PATIENCE`].
    pub fn next_line(&mut self) -> String {
        self.next_line_within(PATIENCE).unwrap_or_else(|| {
            panic!(
                "no more output within {PATIENCE:?}; the output so far:\n{}",
                self.stdout.join("\n")
            )
        })
    }

    /// The next stdout line, if one comes within `wait`: for a claim that
    /// nothing is printed while the program is blocked.
    pub fn next_line_within(&mut self, wait: Duration) -> Option<String> {
        let line = self.lines.recv_timeout(wait).ok()?;
        self.stdout.push(line.clone());
        Some(line)
    }

    /// Writes `text` to the program's standard input.
    pub fn type_in(&mut self, text: &str) {
        self.type_bytes(text.as_bytes());
    }

    /// Writes `bytes`, UTF-8 or not, to the program's standard input.
    pub fn type_bytes(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        stdin.write_all(bytes).expect("writing to the program's stdin");
        stdin.flush().expect("flushing the program's stdin");
    }

    /// Closes the program's standard input: the end of input.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for the program to exit; returns its status and standard error,
    /// and collects the rest of its standard output into `self.stdout`.
    pub fn wait_exit(&mut self) -> (ExitStatus, String) {
        self.wait_exit_within(PATIENCE)
    }

    /// [`Running::wait_exit`], waiting at most `patience`: for a program
    /// that is not under test and may be slow on a busy machine (`javac`).
    pub fn wait_exit_within(&mut self, patience: Duration) -> (ExitStatus, String) {
        self.close_stdin();
        let status = self
            .child
            .wait_timeout(patience)
            .expect("waiting for the program")
            .unwrap_or_else(|| {
                panic!(
                    "the program did not exit within {patience:?}; stdout:\n{}",
                    self.stdout.join("\n")
                )
            });
        let stderr = self
            .stderr
            .take()
            .expect("waited once")
            .join()
            .expect("stderr reader");
        self.stdout.extend(self.lines.iter());
        assert!(!stderr.contains("panicked"), "the program panicked:\n{stderr}");
        (status, stderr)
    }

    /// Waits for the program's end (its standard input closed): its status,
    /// its whole standard output, and its standard error.
    pub fn output(mut self) -> (ExitStatus, String, String) {
        let (status, stderr) = self.wait_exit();
        (status, self.stdout.join("\n"), stderr)
    }

    /// Sends SIGINT, as Ctrl-C in the program's terminal does (Unix: with
    /// `kill`).
    pub fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -INT failed");
    }

    /// True while the program has not exited.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("checking the program").is_none()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a program of the workspace with `args` to its end; see
/// [`Running::output`].
pub fn run(program: &str, args: &[&str]) -> (ExitStatus, String, String) {
    Running::start(program, args).output()
}

/// `program args` started by a shell whose open-file limit is set first with
/// `ulimit ulimit` (`-n 12`: soft and hard; `-Sn 40`: the soft one only).
/// Unix only.
pub fn under_ulimit(ulimit: &str, program: &Path, args: &str) -> Command {
    let mut shell = Command::new("sh");
    shell.args([
        "-c",
        &format!("ulimit {ulimit} && exec {} {args}", program.display()),
    ]);
    shell
}

/// A server of the workspace started on a free port (`--port 0`).
pub struct Server {
    pub process: Running,
    pub port: u16,
}

impl Server {
    /// Starts `program --port 0 <args>` and waits for its `listening on` line.
    pub fn start(program: &str, args: &[&str]) -> Server {
        Server::from_process(Running::start(program, &[&["--port", "0"], args].concat()))
    }

    /// Takes a server already started (from the workspace or not) and waits
    /// for its `listening on <address>:<port>` line.
    pub fn from_process(mut process: Running) -> Server {
        let line = process.expect_line("listening on ");
        let port = line
            .rsplit(':')
            .next()
            .and_then(|port| port.trim().parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        Server { process, port }
    }

    /// Waits for a line of the server's log containing `needle`.
    pub fn expect_log(&mut self, needle: &str) -> String {
        self.process.expect_line(needle)
    }

    /// The log lines read so far.
    pub fn log(&self) -> &[String] {
        &self.process.stdout
    }
}

/// server-v2 (with `args`) in the lesson's first scene: client A accepted
/// and answered once, so that server-v2 now serves A alone.
pub fn server_v2_serving_a(args: &[&str]) -> (Server, Peer) {
    let mut server = Server::start("server-v2", args);
    let mut a = Peer::connect(server.port).unwrap();
    server.expect_log("connected: client");
    a.exchange("from A").unwrap();
    (server, a)
}

/// server-v2 started with `--backlog 1`, its accept queue full: A accepted
/// and answered, B and C done with their handshakes and waiting in the
/// queue, which Linux sizes backlog + 1. The next client's SYN is dropped.
/// Linux's rule; other systems size the queue differently.
pub struct FullQueue {
    pub server: Server,
    pub a: Peer,
    pub b: Peer,
    pub c: Peer,
}

impl FullQueue {
    pub fn start() -> FullQueue {
        let (server, a) = server_v2_serving_a(&["--backlog", "1"]);
        let b = Peer::connect(server.port).unwrap();
        let c = Peer::connect(server.port).unwrap();
        let port = server.port;
        wait_for_kernel("B and C in the accept queue", |table| {
            (table.listener(port)?.queue?.waiting == Some(2)).then_some(())
        });
        FullQueue { server, a, b, c }
    }
}

/// How a program ended, and what it said on standard error.
pub struct Ended {
    pub status: ExitStatus,
    pub stderr: String,
}

/// Runs `command` with its standard output read by a reader that leaves
/// after the first line, as `head -1` does in `program | head -1`; `then`
/// runs once the reader has gone (to make the program write again). Returns
/// that first line and how the program ended, within [`PATIENCE`].
pub fn with_output_closed_after_one_line(command: Command, then: impl FnOnce()) -> (String, Ended) {
    let mut child = spawn_with_output_piped(command);
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    drop(stdout);
    then();
    (first, ended(child))
}

/// Runs `command` with its standard output a pipe whose reader has gone
/// before it writes anything (as `head -1` may have, by the time a short
/// report is written), and returns how it ended, within [`PATIENCE`].
pub fn with_output_closed(command: Command) -> Ended {
    let mut child = spawn_with_output_piped(command);
    drop(child.stdout.take());
    ended(child)
}

/// Starts `command` with its standard output and error piped.
fn spawn_with_output_piped(mut command: Command) -> Child {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {:?}: {error}", command.get_program()))
}

/// Runs `command` with its standard output on a disk that is always full
/// (Linux's `/dev/full`: every write fails with "No space left on device"),
/// and returns how it ended, within [`PATIENCE`].
pub fn with_output_on_a_full_disk(mut command: Command) -> Ended {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let child = command
        .stdout(full)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {:?}: {error}", command.get_program()));
    ended(child)
}

/// Waits for `child` to exit, at most [`PATIENCE`], and reads its standard
/// error; a panic is never an acceptable ending.
fn ended(mut child: Child) -> Ended {
    let status = child
        .wait_timeout(PATIENCE)
        .expect("waiting for the program")
        .unwrap_or_else(|| panic!("the program did not exit within {PATIENCE:?}"));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("piped stderr")
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!stderr.contains("panicked"), "the program panicked:\n{stderr}");
    Ended { status, stderr }
}

#[allow(unused_imports)] // each test file uses its own part of this module
pub use socket_lesson::peer::{Closed, Peer, PATIENCE};

/// A port that is free now and that nothing else in the tests will take: it
/// lies below the kernel's ephemeral range (32768 and up), where the kernel
/// never puts a `--port 0` server or an outgoing connection. A port borrowed
/// from a port-0 listener could be handed to someone else once released.
pub fn unused_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    // Test processes that run side by side start at different places.
    let start = (std::process::id() % 1000) as u16 * 12;
    loop {
        let candidate = 20_000 + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % 12_000;
        if std::net::TcpListener::bind(("127.0.0.1", candidate)).is_ok() {
            return candidate;
        }
    }
}

/// Waits until `question` finds an answer in the kernel's TCP table, and
/// returns it. Panics with `what` and the last table if it never does.
pub fn wait_for_kernel<T>(what: &str, question: impl Fn(&Table) -> Option<T>) -> T {
    match kernel::wait_for(PATIENCE, question).expect("reading the kernel's socket table") {
        Some(answer) => answer,
        None => panic!(
            "the kernel never showed {what} within {PATIENCE:?}; its table now:\n{:#?}",
            kernel::read_table().unwrap_or_default().rows
        ),
    }
}

/// Whether this system's table reports queue lengths and unread bytes
/// (Linux, macOS). Where it does not (Windows), the kernel view must say
/// `None`, and the tests expect exactly that.
pub const REPORTS_QUEUES: bool = kernel::SOURCE.reports_queues;

/// Whether this system's table says which connections have been accepted
/// (Linux only).
pub const REPORTS_ACCEPTED: bool = kernel::SOURCE.reports_accepted;

/// `value` where this system reports queue lengths and unread bytes, `None`
/// where it does not: what the kernel view must show.
pub fn if_queues_reported(value: u32) -> Option<u32> {
    REPORTS_QUEUES.then_some(value)
}

/// `held` where this system says which connections are accepted, `None`
/// where it does not.
pub fn if_accepted_reported(held: bool) -> Option<bool> {
    REPORTS_ACCEPTED.then_some(held)
}

/// Whether the table, as these tests see it, lists a connection that waits
/// in the accept queue. Linux and macOS do. Windows does too, but the
/// Windows tests run here under Wine, whose table lists only the sockets a
/// program holds: on Windows no assertion rests on such a connection's row.
pub const LISTS_QUEUED_CONNECTIONS: bool = !cfg!(windows);

/// Whether the kernel shows that the client on `client_port` is connected to
/// `server_port` and waits in the accept queue with `unread` bytes, as far
/// as the table says: where it lists queued connections, the server side's
/// row (open, its bytes where reported, not held where reported); where it
/// does not, the client side's row, open.
pub fn waits_in_queue(table: &Table, server_port: u16, client_port: u16, unread: u32) -> bool {
    if LISTS_QUEUED_CONNECTIONS {
        table.server_side(server_port, client_port).is_some_and(|row| {
            row.state == kernel::TcpState::Established
                && row.unread == if_queues_reported(unread)
                && row.held == if_accepted_reported(false)
        })
    } else {
        client_side(table, client_port, server_port)
            .is_some_and(|row| row.state == kernel::TcpState::Established)
    }
}

/// The client's side of its connection to `server_port`: the row whose local
/// port is `client_port`.
pub fn client_side(table: &Table, client_port: u16, server_port: u16) -> Option<&kernel::TcpRow> {
    table
        .rows
        .iter()
        .find(|row| row.local.port() == client_port && row.remote.port() == server_port)
}

/// Starts a server of the workspace on every IPv4 address, then on every
/// IPv6 one (`--host 0.0.0.0`, `--host ::`), with `start`, and checks that
/// its `connected:` line names the address the client reached (127.0.0.1,
/// ::1), the accepted socket's own, and not the listening socket's. Needs
/// IPv6 on the loopback interface.
pub fn logs_the_address_each_client_reached(start: impl Fn(&[&str]) -> Server) {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
    let loopbacks: [(&str, IpAddr); 2] = [
        ("0.0.0.0", Ipv4Addr::LOCALHOST.into()),
        ("::", Ipv6Addr::LOCALHOST.into()),
    ];
    for (every, loopback) in loopbacks {
        let mut server = start(&["--host", every]);
        let reached = SocketAddr::new(loopback, server.port);
        let client = Peer::connect_to(reached, PATIENCE).unwrap_or_else(|error| {
            panic!("connecting to {reached} (this test needs IPv6 on the loopback interface): {error}")
        });
        server.expect_log(&format!(
            "] connected: client {} -> server {reached}",
            client.address()
        ));
    }
}

/// Asserts what the kernel shows of client B, silent behind a server that
/// serves one client at a time (server-v2, or the tokio example awaiting
/// in its accept loop): one finished handshake waits in the accept queue,
/// and B's connection is open, held by no process, with B's 14 bytes
/// unread in the server side's receive buffer, each where the system
/// reports it (where the table does not list a queued connection, B's own
/// side of it is open). A answered again, B still not.
pub fn assert_b_waits_in_the_queue(silent: &socket_lesson::examine::scenarios::SilentFirst) {
    use socket_lesson::examine::scenarios::Answer;
    use socket_lesson::kernel::TcpState;

    let seen = silent.kernel.as_ref().expect("the kernel's view of B");
    assert_eq!(
        seen.queue.and_then(|queue| queue.waiting),
        if_queues_reported(1),
        "{seen:?}"
    );
    if LISTS_QUEUED_CONNECTIONS {
        let b_side = seen
            .server_side
            .as_ref()
            .expect("B's connection, the server's side");
        assert_eq!(b_side.state, TcpState::Established, "{seen:?}");
        assert_eq!(b_side.server_unread, if_queues_reported(14), "{seen:?}");
        assert_eq!(
            seen.waits_in_queue(),
            REPORTS_ACCEPTED.then_some(true),
            "{seen:?}"
        );
    } else {
        assert_eq!(seen.client_side, Some(TcpState::Established), "{seen:?}");
    }
    match &silent.a_again {
        Some(Answer::Reply(reply)) => assert_eq!(reply, "Hello from A World!"),
        other => panic!("A, asked again, got {other:?}"),
    }
}
