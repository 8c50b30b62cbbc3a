//! server-v3's examples, the course's last steps: `shutdown` (Ctrl-C closes
//! every session in order) and `pool` (a bounded pool whose waiting clients
//! stay in the kernel's accept queue).

use crate::common;

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use common::{
    example, if_queues_reported, wait_for_kernel, Closed, Peer, Running, Server, PATIENCE, REPORTS_ACCEPTED,
    REPORTS_QUEUES, SILENCE,
};
use socket_lesson::examine::scenarios::{self, Answer, ReplyRule, Shutdown, Target};
use socket_lesson::kernel::TcpState;

fn start(name: &str, args: &[&str]) -> Server {
    let mut command = Command::new(example(name));
    command.args(["--port", "0"]).args(args);
    Server::from_process(Running::start_command(command))
}

#[test]
#[cfg_attr(
    windows,
    ignore = "sends SIGINT with kill, which only Unix has; Windows's Ctrl-C is a console event"
)]
fn ctrl_c_closes_every_session_in_order_and_exits_0() {
    let mut server = start("shutdown", &[]);
    let port = server.port;
    // examine's Ctrl-C scenario: three clients in sessions, two silent since
    // their reply, one that has just sent a message.
    let clients = scenarios::shutdown_clients(&Target::local(port), &ReplyRule::lesson()).unwrap();
    let asked = Instant::now();
    server.process.interrupt(); // Ctrl-C
    let ends = clients.watch(asked, PATIENCE);
    let (status, stderr) = server.process.wait_exit();
    let took = asked.elapsed();
    assert!(status.success(), "{status}: {stderr}");
    assert!(took < Duration::from_secs(2), "the server took {took:?} to stop");

    // Each client reads the end of the stream: an orderly close, not a
    // reset. The last may have been answered before the shutdown reached it.
    let shutdown = shutdown(ends, status, took);
    assert!(shutdown.clients_closed_in_order(), "{:#?}", shutdown.clients);
    for reply in shutdown.clients.iter().filter_map(|client| client.reply.as_ref()) {
        assert_eq!(reply, "last words World!");
    }
    assert!(shutdown.check().passed, "{}", shutdown.check());

    let log = server.log();
    let ends = log
        .iter()
        .filter(|line| line.contains("session ended: server shutting down"))
        .count();
    assert_eq!(ends, 3, "{log:#?}");
    assert!(log.last().unwrap().ends_with("] server stopped"), "{log:#?}");
    // Nothing of the server's is left in the kernel's table but TIME_WAIT,
    // once the clients close their side, as client-v2 does at the end of
    // the stream (the scenario's clients have closed theirs).
    wait_for_kernel("only TIME_WAIT left on the server's port", |table| {
        table
            .on_port(port)
            .all(|row| row.state == TcpState::TimeWait)
            .then_some(())
    });
}

/// Clients that keep sending without reading their replies, as Ctrl-C
/// comes, read every byte the server wrote them and then the end of the
/// stream, not a reset: the server reads what they still send before it
/// closes, so the kernel has nothing unread to reset the connection for.
#[test]
#[cfg_attr(
    windows,
    ignore = "sends SIGINT with kill, which only Unix has; Windows's Ctrl-C is a console event"
)]
fn ctrl_c_ends_clients_that_keep_sending_with_the_end_of_the_stream() {
    let mut server = start("shutdown", &[]);
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<SendingClient> = (0..5).map(|_| SendingClient::start(server.port, &stop)).collect();
    // Each client's sending is held up: its replies filled its receive
    // buffer and the server's send buffer, so the server stopped reading,
    // and its messages filled the buffers the other way.
    for client in &clients {
        client
            .held_up
            .recv_timeout(PATIENCE)
            .expect("a client's sending held up");
    }
    server.process.interrupt(); // Ctrl-C
    stop.store(true, Ordering::SeqCst);
    for (number, client) in clients.into_iter().enumerate() {
        let (sent, read, end) = client.stop_and_read();
        assert!(sent > 0 && read > 0, "client {number}: sent {sent}, read {read}");
        assert!(
            matches!(end, Closed::Eof),
            "client {number} (sent {sent} bytes, read {read}) read {end:?}, not the end of the stream"
        );
    }
    let (status, stderr) = server.process.wait_exit();
    assert!(status.success(), "{status}: {stderr}");
}

/// A client that sends frames as fast as it can and reads nothing, until
/// told to stop; then it reads everything that came.
struct SendingClient {
    socket: TcpStream,
    sender: thread::JoinHandle<io::Result<u64>>,
    /// Says once that a send made no progress for [`SILENCE`].
    held_up: mpsc::Receiver<()>,
}

impl SendingClient {
    fn start(port: u16, stop: &Arc<AtomicBool>) -> SendingClient {
        let socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let mut sending = socket.try_clone().unwrap();
        sending.set_write_timeout(Some(SILENCE)).unwrap();
        let text = "x".repeat(30_000);
        let mut frame = (text.len() as u16).to_be_bytes().to_vec();
        frame.extend_from_slice(text.as_bytes());
        let stream = frame.repeat(4);
        let (said, held_up) = mpsc::channel();
        let stop = Arc::clone(stop);
        let sender = thread::spawn(move || {
            let (mut at, mut sent) = (0, 0);
            while !stop.load(Ordering::SeqCst) {
                match sending.write(&stream[at..]) {
                    Ok(count) => {
                        at = (at + count) % stream.len();
                        sent += count as u64;
                    }
                    Err(error)
                        if matches!(error.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) =>
                    {
                        let _ = said.send(());
                    }
                    Err(error) => return Err(error),
                }
            }
            Ok(sent)
        });
        SendingClient {
            socket,
            sender,
            held_up,
        }
    }

    /// Waits for the sending to stop, then reads to the end: the bytes
    /// sent, the bytes read, and how the stream ended.
    fn stop_and_read(mut self) -> (u64, u64, Closed) {
        let sent = self.sender.join().unwrap().expect("sending");
        self.socket.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut scrap = vec![0; 64 * 1024];
        let mut read = 0;
        loop {
            match self.socket.read(&mut scrap) {
                Ok(0) => return (sent, read, Closed::Eof),
                Ok(count) => read += count as u64,
                Err(error) if error.kind() == io::ErrorKind::ConnectionReset => {
                    return (sent, read, Closed::Reset(error))
                }
                Err(error) => panic!("reading after {read} bytes: {error}"),
            }
        }
    }
}

/// What Ctrl-C did, as examine's `ctrl_c` check judges it.
fn shutdown(
    clients: Vec<scenarios::ClientEnd>,
    status: std::process::ExitStatus,
    took: Duration,
) -> Shutdown {
    Shutdown {
        signal: "SIGINT",
        clients,
        exit: Some(status),
        took,
    }
}

#[test]
fn a_pool_of_two_keeps_the_third_client_in_the_accept_queue() {
    let mut server = start("pool", &["--workers", "2"]);
    // examine's many-at-once scenario with three clients, each sending
    // Hello: the two workers serve two at once; the third connects and
    // sends, and waits in the accept queue, its bytes unread, without a
    // reply.
    let many = scenarios::many_at_once(&Target::local(server.port), 3, &ReplyRule::lesson(), SILENCE);
    assert_eq!((many.connected, many.at_once), (3, 2), "{}", many.check());
    assert!(
        matches!(many.first_unanswered, Some(Answer::Nothing(_))),
        "{:?}",
        many.first_unanswered
    );
    let held = many.queued.expect("the kernel's view of the third client");
    assert_eq!(held.in_queue, if_queues_reported(1), "{held:?}");
    assert_eq!(held.unread, REPORTS_QUEUES.then_some(1), "{held:?}");
    assert_eq!(held.not_accepted, REPORTS_ACCEPTED.then_some(1), "{held:?}");
    assert!(!many.check().passed);

    // The first two leave: a worker takes the third from the queue.
    assert_eq!(many.later, 1, "{}", many.check());
    server.expect_log(&format!("session started: client 127.0.0.1:{}", many.waiting[0]));
}

/// A pool larger than the system's limits hold is refused before any
/// worker starts, with the limit named, and a non-zero status: not a panic
/// halfway (status 134, `failed to set up alternative stack guard page`).
#[test]
#[cfg_attr(
    windows,
    ignore = "Windows sets no limit the pool can read: 65,535 threads are bounded by memory alone"
)]
fn the_pool_refuses_more_workers_than_the_limits_hold() {
    let mut pool = Running::start_command({
        let mut command = Command::new(example("pool"));
        command.args(["--port", "0", "--workers", "65535"]);
        command
    });
    let (status, stderr) = pool.wait_exit_within(PATIENCE);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("pool: error: cannot start 65535 workers: room for "),
        "{stderr}"
    );
}

/// Under `ulimit -n 64`, each worker's session holding two open files (its
/// connection and the registry's handle on it), the pool says how many it
/// holds, and holds them all at once: 100 are refused, 24 all served.
#[test]
#[cfg_attr(
    windows,
    ignore = "sets the open-file limit with ulimit, which only Unix has (Windows has no such limit)"
)]
fn under_an_open_file_limit_the_pool_holds_as_many_as_it_says() {
    let shell = common::under_ulimit("-n 64", &example("pool"), "--port 0 --workers 100");
    let mut refused = Running::start_command(shell);
    let (status, stderr) = refused.wait_exit_within(PATIENCE);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot start 100 workers: room for 24 sessions")
            && stderr.contains("the open-file limit is 64")
            && stderr.contains("each session is 2 open files"),
        "{stderr}"
    );

    let shell = common::under_ulimit("-n 64", &example("pool"), "--port 0 --workers 24");
    let mut server = Server::from_process(Running::start_command(shell));
    server.expect_log("a pool of 24 workers: 24 clients at once");
    let mut held: Vec<Peer> = (0..24).map(|_| Peer::connect(server.port).unwrap()).collect();
    for (number, peer) in held.iter_mut().enumerate() {
        peer.exchange(&format!("client {number}")).unwrap();
    }
    assert!(server.process.is_running());
}

/// Under `ulimit -u` (Linux: it counts the user's threads), the pool's
/// refusal names that limit.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "ulimit -u counts threads on Linux only (processes on macOS and the BSDs)"
)]
fn under_the_users_thread_limit_the_pool_says_so() {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        let limit = libc::rlimit {
            rlim_cur: 100,
            rlim_max: 100,
        };
        let mut command = Command::new(example("pool"));
        command.args(["--port", "0", "--workers", "200"]);
        // SAFETY: setrlimit is async-signal-safe; nothing else runs here.
        unsafe {
            command.pre_exec(move || match libc::setrlimit(libc::RLIMIT_NPROC, &limit) {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            });
        }
        let (status, stderr) = Running::start_command(command).wait_exit_within(PATIENCE);
        assert_eq!(status.code(), Some(1), "{stderr}");
        assert!(
            // 200 workers, or not one if the user runs 100 threads already.
            stderr.starts_with("pool: error: cannot start ")
                && stderr.contains("the user may run 100 threads and processes at once (`ulimit -u`)"),
            "{stderr}"
        );
    }
}

#[test]
#[cfg_attr(
    windows,
    ignore = "sends SIGINT with kill, which only Unix has; Windows's Ctrl-C is a console event"
)]
fn the_pool_shuts_down_and_joins_its_workers() {
    let mut server = start("pool", &["--workers", "3"]);
    let clients = scenarios::shutdown_clients(&Target::local(server.port), &ReplyRule::lesson()).unwrap();
    let asked = Instant::now();
    server.process.interrupt(); // Ctrl-C
    let ends = clients.watch(asked, PATIENCE);
    let (status, stderr) = server.process.wait_exit();
    assert!(status.success(), "{status}: {stderr}");
    let shutdown = shutdown(ends, status, asked.elapsed());
    assert!(shutdown.check().passed, "{}", shutdown.check());
    let log = server.log().join("\n");
    // Each worker's session ended for the shutdown.
    let ended = log
        .lines()
        .filter(|line| line.contains(" worker-") && line.ends_with("] session ended: server shutting down"))
        .count();
    assert_eq!(ended, 3, "{log}");
    assert!(log.ends_with("] server stopped"), "{log}");
}

/// Listening on every address, the examples log each connection with the
/// address its client reached, as server-v3 does.
#[test]
fn the_examples_log_the_address_each_client_reached() {
    for example in ["shutdown", "pool"] {
        common::logs_the_address_each_client_reached(|host| start(example, host));
    }
}

/// A worker whose session does not end when the shutdown closes its
/// connection is left alone, as the shutdown example leaves such a session:
/// the pool still stops, and exits 0, once it has waited the time it gives
/// sessions to end. The worker here is stopped as a debugger stops one
/// thread (ptrace), so that nothing it does can end its session.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "stops one thread of the server with Linux's ptrace, and sends SIGINT with kill"
)]
fn the_pool_leaves_a_worker_whose_session_does_not_end_in_time() {
    #[cfg(target_os = "linux")]
    {
        let mut server = start("pool", &["--workers", "1"]);
        let mut client = Peer::connect(server.port).unwrap();
        client.exchange("busy").unwrap();
        server.expect_log("[ worker-1] sent: busy World!");
        // Stopped where it waits for the client's next message, holding no
        // lock of its process. Declared after the server, so dropped before
        // it: a failed test still ends the process and the thread.
        let worker = stopped::Thread::named_once_reading(server.process.child.id(), "worker-1");

        server.process.interrupt(); // Ctrl-C
        server.expect_log("worker-1's session did not end within 3s; leaving it");
        server.expect_log("] server stopped");
        // The stopped thread ends with its process, which exits.
        assert!(worker.ended_within(PATIENCE), "the pool did not exit");
        let (status, stderr) = server.process.wait_exit();
        assert!(status.success(), "{status}: {stderr}");
        // The client read the orderly end of the stream of the shutdown.
        assert!(matches!(client.closed().unwrap(), Closed::Eof));
    }
}

/// A thread of another process stopped with ptrace, as a debugger stops it:
/// that thread alone; the process's other threads run on. The process must
/// be a child of this one.
#[cfg(target_os = "linux")]
mod stopped {
    use std::sync::mpsc::{self, Receiver};
    use std::time::{Duration, Instant};

    use super::PATIENCE;

    pub struct Thread {
        process: libc::pid_t,
        ended: Receiver<()>,
        has_ended: bool,
    }

    impl Thread {
        /// Stops the thread named `name` (as `/proc/<pid>/task/*/comm`
        /// lists it) of process `process`, once the kernel shows it blocked
        /// in a read of a socket (`recvfrom`, as Rust's `TcpStream::read`
        /// calls it), where it holds no lock its process's other threads
        /// could need, such as standard output's.
        pub fn named_once_reading(process: u32, name: &str) -> Thread {
            let process = process as libc::pid_t;
            let thread = std::fs::read_dir(format!("/proc/{process}/task"))
                .expect("the process's threads")
                .filter_map(|task| task.ok())
                .find(|task| {
                    std::fs::read_to_string(task.path().join("comm")).is_ok_and(|comm| comm.trim() == name)
                })
                .and_then(|task| task.file_name().to_str()?.parse::<libc::pid_t>().ok())
                .unwrap_or_else(|| panic!("no thread named {name} in process {process}"));
            // /proc/<pid>/task/<tid>/syscall: the number of the system call
            // the thread is blocked in, then its arguments.
            let reading = format!("{} ", libc::SYS_recvfrom);
            let deadline = Instant::now() + PATIENCE;
            while !std::fs::read_to_string(format!("/proc/{process}/task/{thread}/syscall"))
                .is_ok_and(|call| call.starts_with(&reading))
            {
                assert!(Instant::now() < deadline, "{name} never blocked in recvfrom");
                std::thread::sleep(Duration::from_millis(5));
            }
            // SAFETY: ptrace and waitpid on a thread id, with no memory shared.
            unsafe {
                assert_eq!(
                    libc::ptrace(libc::PTRACE_SEIZE, thread, 0, 0),
                    0,
                    "ptrace(PTRACE_SEIZE): {}",
                    std::io::Error::last_os_error()
                );
                assert_eq!(libc::ptrace(libc::PTRACE_INTERRUPT, thread, 0, 0), 0);
                let mut status = 0;
                assert_eq!(libc::waitpid(thread, &mut status, libc::__WALL), thread);
                assert!(libc::WIFSTOPPED(status), "{status:#x}");
            }
            // A stopped thread ends only with its process, and then waits to
            // be collected by its tracer's process: this one, on a thread of
            // its own, so that waiting for the end is bounded.
            let (sender, ended) = mpsc::channel();
            std::thread::spawn(move || loop {
                let mut status = 0;
                // SAFETY: as above.
                let waited = unsafe { libc::waitpid(thread, &mut status, libc::__WALL) };
                if waited != thread || libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
                    let _ = sender.send(());
                    return;
                }
            });
            Thread {
                process,
                ended,
                has_ended: false,
            }
        }

        /// Whether the thread ended, with its process, within `wait`.
        pub fn ended_within(mut self, wait: Duration) -> bool {
            self.has_ended = self.ended.recv_timeout(wait).is_ok();
            self.has_ended
        }
    }

    impl Drop for Thread {
        fn drop(&mut self) {
            if !self.has_ended {
                // SAFETY: a signal to the child process this test started.
                unsafe { libc::kill(self.process, libc::SIGKILL) };
                let _ = self.ended.recv();
            }
        }
    }
}

/// With too few descriptors for another session (the registry keeps a
/// second one per connection), the shutdown example turns the next client
/// away, by closing its connection or by leaving it in the queue, and goes
/// on; the others are served, and Ctrl-C still ends it in order, though
/// waking its accept() takes a connection.
#[test]
#[cfg_attr(
    windows,
    ignore = "sets the open-file limit with ulimit, which only Unix has (Windows has no such limit)"
)]
fn the_shutdown_example_survives_running_out_of_descriptors() {
    let shell = common::under_ulimit("-n 12", &example("shutdown"), "--port 0");
    let mut server = Server::from_process(Running::start_command(shell));
    // Clients one by one, until one is turned away. The server's log says
    // which: the session's reply, or why there is no session.
    let turned_away = ["cannot register 127.0.0.1:", "no file descriptor left"];
    let mut served = Vec::new();
    loop {
        let mut client = Peer::connect(server.port).unwrap();
        client.send("hello").unwrap();
        let said = server
            .process
            .next_line_with_any(&[&["sent: hello World!"], &turned_away[..]].concat());
        if turned_away.iter().any(|why| said.contains(why)) {
            break;
        }
        assert_eq!(client.receive().unwrap().as_deref(), Some("hello World!"));
        served.push(client);
        assert!(
            served.len() < 12,
            "12 open files cannot hold {} sessions",
            served.len()
        );
    }
    assert!(!served.is_empty());
    for client in &mut served {
        client.exchange("still here").unwrap();
    }
    server.process.interrupt(); // Ctrl-C
    let (status, stderr) = server.process.wait_exit();
    assert!(status.success(), "{status}: {stderr}");
    for mut client in served {
        assert!(matches!(client.closed().unwrap(), Closed::Eof));
    }
}

// ---------------------------------------------------------------------------
// tokio: a task per client, and server-v2's mistake in async form
// ---------------------------------------------------------------------------

/// `examine --json ARGS -- tokio --port PORT --quiet TOKIO_ARGS`, on a port
/// examine knows before the example starts: its status, its JSON, its
/// standard error.
fn examine_tokio(args: &[&str], tokio: &[&str]) -> (std::process::ExitStatus, serde_json::Value, String) {
    let port = common::unused_port().to_string();
    let program = example("tokio").display().to_string();
    let command = [
        &["--json", "--port", &port],
        args,
        &["--", &program, "--port", &port, "--quiet"],
        tokio,
    ]
    .concat();
    let (status, stdout, stderr) = common::run("examine", &command);
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|error| panic!("not one JSON object ({error}):\n{stdout}\nstderr: {stderr}"));
    (status, json, stderr)
}

/// A task per client serves every client at once, as server-v3's threads
/// do, whichever runtime runs the tasks: examine grades the example v3 with
/// a worker thread per core, and with the main thread alone.
#[test]
#[cfg_attr(
    windows,
    ignore = "under Wine, tokio's non-blocking accept() of a connection reset in the queue fails with \
              'invalid argument', which ends the example (examine's vanishing client); std's blocking \
              accept, server-v3's, does not: to be checked on a real Windows"
)]
fn tokio_tasks_serve_every_client_at_once_on_either_runtime() {
    for runtime in [&[][..], &["--current-thread"]] {
        let (status, json, stderr) = examine_tokio(&["--expect", "v3"], runtime);
        assert!(status.success(), "{runtime:?}: {status}: {stderr}\n{json:#}");
        assert_eq!(json["behaves_like"], "v3", "{json:#}");
        let checks = json["checks"].as_array().expect("examine's checks");
        assert_eq!(checks.len(), 7, "{json:#}");
        assert!(checks.iter().all(|check| check["passed"] == true), "{json:#}");
        let many = checks
            .iter()
            .find(|check| check["name"] == "many_at_once")
            .expect("the many_at_once check");
        assert!(
            many["evidence"]
                .as_str()
                .is_some_and(|evidence| evidence.contains("all 50 were answered")),
            "{many}"
        );
    }
}

/// The tokio example logs the servers' lines. The accept loop runs on the
/// main thread; the sessions, tasks, on the runtime's worker threads
/// (`tokio-1`, …), or on the main thread too with `--current-thread`.
#[test]
fn tokio_logs_the_servers_lines_from_the_runtimes_threads() {
    for (runtime, session_thread) in [(&[][..], "[  tokio-"), (&["--current-thread"][..], "[     main]")] {
        let mut server = start("tokio", runtime);
        let mut client = Peer::connect(server.port).unwrap();
        assert_eq!(client.exchange("Hello").unwrap(), "Hello World!");
        server.expect_log(&format!(
            "[     main] connected: client {} -> server 127.0.0.1:{}",
            client.address(),
            server.port
        ));
        let received = server.expect_log("] received: Hello");
        assert!(received.contains(session_thread), "{runtime:?}: {received}");
        client.send("exit").unwrap();
        let ended = server.expect_log("] session ended: ");
        assert!(
            ended.ends_with("] session ended: the client sent exit"),
            "{ended}"
        );
        assert!(server.process.is_running());
    }
}

/// Listening on every address, the tokio example logs each connection with
/// the address its client reached, as server-v3 does.
#[test]
fn tokio_logs_the_address_each_client_reached() {
    common::logs_the_address_each_client_reached(|host| start("tokio", host));
}

/// `--await-in-loop`, server-v2's mistake in async form: the accept loop
/// awaits A's session instead of spawning it. B connects and sends, and is
/// not answered: the kernel shows B's connection in the accept queue with
/// its 14 bytes unread, where the system reports it. Unlike server-v2, the
/// loop comes back to accept() when A leaves, and B is answered then.
#[test]
fn tokio_await_in_loop_leaves_the_second_client_in_the_accept_queue() {
    let mut server = start("tokio", &["--await-in-loop"]);
    let (target, rule) = (Target::local(server.port), ReplyRule::lesson());
    let mut hello = scenarios::hello(&target).unwrap();
    assert_eq!(hello.answer.reply(), Some("Hello World!"), "{:?}", hello.answer);
    server.expect_log(&format!("connected: client {} ", hello.a.address()));

    let mut silent = scenarios::silent_first_client(&target, &mut hello.a, &rule, SILENCE).unwrap();
    assert_eq!(silent.sent, 14);
    assert!(matches!(silent.answer, Answer::Nothing(_)), "{:?}", silent.answer);
    common::assert_b_waits_in_the_queue(&silent);

    // A leaves. The log says A's session ended before B was accepted: the
    // loop was awaiting it. Then B's bytes, which waited in the kernel, are
    // read and answered.
    hello.a.send("exit").unwrap();
    drop(hello.a);
    let b_accepted = server.process.expect_nth_line("] connected: client ", 2);
    assert!(
        b_accepted.contains(&format!("client {} ", silent.b.address())),
        "the second connection accepted is B's: {b_accepted}"
    );
    let log = server.log();
    let at = |needle: &str| {
        log.iter()
            .position(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in {log:#?}"))
    };
    assert!(
        at("] session ended: the client sent exit") < at(&b_accepted),
        "A's session ended before B was accepted: {log:#?}"
    );
    assert_eq!(
        silent.b.receive_within(PATIENCE).unwrap().as_deref(),
        Some("Hello from B World!")
    );
}

/// examine, asked whether `--await-in-loop` is server-v2, finds that it
/// serves one client at a time, and differs from server-v2 only in not
/// ending when the first client leaves.
#[test]
fn tokio_await_in_loop_is_graded_server_v2_without_its_end() {
    let (status, json, stderr) = examine_tokio(&["--expect", "v2"], &["--await-in-loop"]);
    assert_eq!(status.code(), Some(1), "{stderr}\n{json:#}");
    assert_eq!(json["behaves_like"], "none", "{json:#}");
    let verdict = json["verdict"].as_str().unwrap_or_default();
    assert!(verdict.contains("one client at a time, in turn"), "{verdict}");
    let differences = json["differences"].as_array().expect("the differences");
    assert!(!differences.is_empty(), "{json:#}");
    for difference in differences {
        let said = difference.as_str().unwrap_or_default();
        assert!(
            said.contains("the server was still there") || said.contains("the server did not end"),
            "{said}"
        );
    }
}
