//! What the lesson's tests share: the programs, started for real on free
//! ports; a client speaking the protocol; and the kernel's socket table.
//!
//! Nothing here waits a fixed time. Every wait is for something observable:
//! a line the server prints, a change in the kernel's table, a process's
//! exit, or a read time-out, each bounded by [`PATIENCE`] so that a broken
//! server fails the test instead of hanging it.

#![allow(dead_code)] // each test file uses its own part of this module

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::OnceLock;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use client::protocol::{read_utf, write_utf, ProtocolError};
use socket_lesson::kernel::{self, TcpRow};
use wait_timeout::ChildExt;

/// The longest any test waits for something that should happen. Generous on
/// purpose: it is only reached when the thing never happens.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// How long a test listens before concluding that no reply is coming. A
/// reply on loopback takes well under a millisecond.
pub const SILENCE: Duration = Duration::from_millis(300);

/// The path of one of the workspace's binaries, built first if need be.
///
/// `cargo test` builds the binaries of the package under test only, so the
/// first call builds the whole workspace's binaries, once per test process,
/// into the same target directory and profile as the tests themselves.
pub fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        // target/<profile>/deps/<this test> -> target/<profile>
        let test = std::env::current_exe().expect("the test's own path");
        let dir = test
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target/<profile>")
            .to_path_buf();
        let profile = match dir.file_name().and_then(|name| name.to_str()) {
            Some("debug") => "dev",
            Some(other) => other,
            None => "dev",
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "--workspace", "--bins", "--profile", profile])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cannot run cargo to build the binaries");
        assert!(status.success(), "building the workspace's binaries failed");
        dir
    });
    let path = dir.join(name);
    assert!(path.exists(), "{} was not built", path.display());
    path
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

    /// Writes `text` to the program's standard input.
    pub fn type_in(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        stdin
            .write_all(text.as_bytes())
            .expect("writing to the program's stdin");
        stdin.flush().expect("flushing the program's stdin");
    }

    /// Closes the program's standard input: the end of input.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for the program to exit; returns its status and standard error,
    /// and collects the rest of its standard output into `self.stdout`.
    pub fn wait_exit(&mut self) -> (ExitStatus, String) {
        self.close_stdin();
        let status = self
            .child
            .wait_timeout(PATIENCE)
            .expect("waiting for the program")
            .unwrap_or_else(|| {
                panic!(
                    "the program did not exit within {PATIENCE:?}; stdout:\n{}",
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

/// A client written in the test, speaking the protocol with `client::protocol`.
pub struct Peer {
    pub socket: TcpStream,
    input: BufReader<TcpStream>,
}

impl Peer {
    /// Connects to 127.0.0.1:`port`. Returns once the kernel has finished the
    /// handshake, whether or not the server has accepted.
    pub fn connect(port: u16) -> Peer {
        let socket = TcpStream::connect(("127.0.0.1", port)).expect("connecting to the server");
        socket
            .set_read_timeout(Some(PATIENCE))
            .expect("setting a read time-out");
        let input = BufReader::new(socket.try_clone().expect("cloning the socket"));
        Peer { socket, input }
    }

    /// This client's own port, as the server and the kernel see it.
    pub fn port(&self) -> u16 {
        self.socket.local_addr().expect("local address").port()
    }

    /// Sends one message as one frame.
    pub fn send(&mut self, message: &str) {
        write_utf(&mut self.socket, message).expect("sending a message");
    }

    /// Sends raw bytes, frame or not.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.socket.write_all(bytes).expect("sending bytes");
    }

    /// Reads the next message, waiting at most [`PATIENCE`].
    pub fn receive(&mut self) -> Result<Option<String>, ProtocolError> {
        read_utf(&mut self.input)
    }

    /// Sends `message` and asserts that the reply is `message + " World!"`.
    pub fn exchange(&mut self, message: &str) {
        self.send(message);
        let reply = self.receive().expect("a reply").expect("a reply, not a close");
        assert_eq!(reply, format!("{message} World!"));
    }

    /// Asserts that nothing at all arrives within [`SILENCE`].
    pub fn assert_silence(&mut self) {
        self.socket
            .set_read_timeout(Some(SILENCE))
            .expect("setting a read time-out");
        let mut byte = [0u8; 1];
        match self.input.read(&mut byte) {
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            other => panic!("expected silence, got {other:?} (byte {byte:02X?})"),
        }
        self.socket
            .set_read_timeout(Some(PATIENCE))
            .expect("setting a read time-out");
    }

    /// Asserts that the server closed this connection: the next read sees the
    /// end of the stream, or a reset (the kernel resets connections that were
    /// still queued when the listening socket closed).
    pub fn assert_closed(&mut self) {
        match self.receive() {
            Ok(None) => {}
            Err(ProtocolError::Io(error)) if error.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!("expected the connection to be closed, got {other:?}"),
        }
    }
}

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

/// The server side of the connection from `client_port` to `server_port`.
pub fn server_side_row(rows: &[TcpRow], server_port: u16, client_port: u16) -> Option<TcpRow> {
    kernel::server_side(rows, server_port, client_port).cloned()
}

/// Waits until `question` finds an answer in the kernel's TCP table, and
/// returns it. Panics with `what` and the last table if it never does.
pub fn wait_for_kernel<T>(what: &str, question: impl Fn(&[TcpRow]) -> Option<T>) -> T {
    match kernel::wait_for(PATIENCE, question).expect("reading /proc/net/tcp") {
        Some(answer) => answer,
        None => panic!(
            "the kernel never showed {what} within {PATIENCE:?}; its table now:\n{:#?}",
            kernel::read_table().unwrap_or_default()
        ),
    }
}
