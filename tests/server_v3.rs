//! server-v3: a session thread per client, so every client is served.

use crate::common;

use common::{
    if_accepted_reported, if_queues_reported, wait_for_kernel, Closed, Peer, Running, Server, PATIENCE,
    SILENCE,
};
use socket_lesson::examine::scenarios::{self, ReplyRule, Target, Vanish, FROM_B};

#[test]
fn serves_every_client_each_on_its_own_thread() {
    let mut server = Server::start("server-v3", &[]);
    // It knows how many sessions it can hold, from this system's limits.
    if cfg!(unix) {
        let room = server.expect_log("] room for ");
        let capacity: usize = room
            .split("room for ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|number| number.parse().ok())
            .expect("a number of sessions");
        assert!(capacity >= 1000, "{room}");
    } else {
        server.expect_log("] no limit on sessions that this server can read on this system");
    }
    // examine's scenarios, as it runs them against any server.
    let (target, rule) = (Target::local(server.port), ReplyRule::lesson());
    let mut hello = scenarios::hello(&target).unwrap();
    assert_eq!(hello.answer.reply(), Some("Hello World!"), "{:?}", hello.answer);

    // Both are served at once: A's open, silent session does not hold B up.
    let mut silent = scenarios::silent_first_client(&target, &mut hello.a, &rule, PATIENCE).unwrap();
    assert!(silent.answered(), "{:?}", silent.answer);
    assert!(silent.check().passed);
    hello.a.exchange("A again").unwrap();

    // A leaves; B is still served, and a third client too.
    let after = scenarios::after_a_leaves(&target, hello.a, &mut silent, &rule);
    server.expect_log("[session-1] session ended: the client sent exit");
    assert!(after.b_served(), "{:?}", after.b);
    assert!(after.check().passed, "{}", after.check());

    // Each session ran on a thread of its own, named in the log.
    for (session, message) in [
        ("session-1", "Hello"),
        ("session-2", FROM_B),
        ("session-2", "B again"),
        ("session-3", "Hello from C"),
    ] {
        server.expect_log(&format!("[{session}] received: {message}"));
    }
    // Connections are accepted by the main thread alone.
    let accepted = server
        .log()
        .iter()
        .filter(|line| line.contains("] connected: client"))
        .count();
    assert_eq!(accepted, 3);
    assert!(server
        .log()
        .iter()
        .filter(|line| line.contains("connected: client"))
        .all(|line| line.contains("[     main]")));
    assert!(server.process.is_running());
}

#[test]
fn a_misbehaving_client_ends_its_own_session_only() {
    let mut server = Server::start("server-v3", &[]);
    let mut steady = Peer::connect(server.port).unwrap();
    steady.exchange("before").unwrap();

    let mut broken = Peer::connect(server.port).unwrap();
    broken.send_bytes(&[0x00, 0x01, 0xFF]).unwrap();
    server.expect_log("[session-2] session ended: invalid message: byte 0xFF at offset 0");
    broken.closed().unwrap();

    // examine's vanishing client, cut in the middle of a frame: closed
    // (FIN), then reset (RST). Each ends its own session, and the next
    // client is served.
    let (target, rule) = (Target::local(server.port), ReplyRule::lesson());
    let cut = scenarios::vanishing_client(&target, Vanish::Close, &rule).unwrap();
    server.expect_log("[session-3] session ended: connection closed in the middle of a message");
    assert!(cut.survived(), "{:?}", cut.next);
    let reset = scenarios::vanishing_client(&target, Vanish::Reset, &rule).unwrap();
    server.expect_log("[session-5] session ended: the client reset the connection (RST)");
    assert!(reset.survived(), "{:?}", reset.next);
    assert!(reset.check().passed, "{}", reset.check());

    steady.exchange("after").unwrap();
    assert!(server.process.is_running());
}

#[test]
fn client_v2_programs_against_server_v3() {
    let server = Server::start("server-v3", &[]);
    let port = server.port.to_string();
    let mut a = Running::start("client-v2", &["--port", &port]);
    let mut b = Running::start("client-v2", &["--port", &port]);
    a.type_in("Hello from A\n");
    b.type_in("Hello from B\n");
    b.expect_line("received: Hello from B World!");
    a.expect_line("received: Hello from A World!");

    // End of input behaves like `exit`, and nothing is prompted on a pipe.
    for client in [&mut a, &mut b] {
        client.close_stdin();
        let (status, stderr) = client.wait_exit();
        assert!(status.success(), "{stderr}");
        assert!(client.stdout.iter().any(|line| line.ends_with("] sent: exit")));
        assert!(!client
            .stdout
            .iter()
            .any(|line| line.contains("message (exit to quit)>")));
    }
}

/// server-v3 started from a shell whose open-file limit is `files`, both
/// soft and hard: its capacity is then `files - 16` sessions.
fn with_open_file_limit(files: u32, args: &str) -> Server {
    let program = common::binary("server-v3");
    let shell = common::under_ulimit(&format!("-n {files}"), &program, &format!("--port 0 {args}"));
    Server::from_process(Running::start_command(shell))
}

#[test]
#[cfg_attr(
    windows,
    ignore = "sets the open-file limit with ulimit, which only Unix has (Windows has no such limit)"
)]
fn a_full_server_leaves_new_clients_in_the_accept_queue_until_a_session_ends() {
    let mut server = with_open_file_limit(24, "");
    server.expect_log(
        "room for 8 sessions at once, one thread each: the open-file limit is 24, 16 are kept for the \
         server itself, and each session is an open file (`ulimit -Hn` shows the most allowed; \
         `ulimit -n` sets it, up to that)",
    );
    let port = server.port;
    let mut served: Vec<Peer> = (0..8)
        .map(|number| {
            let mut peer = Peer::connect(port).unwrap();
            peer.exchange(&format!("client {number}")).unwrap();
            peer
        })
        .collect();
    server.expect_log("full: 8 sessions are open; new clients wait in the accept queue until one ends");

    // The ninth is not accepted: it waits in the kernel's queue, its bytes
    // unread, and gets no reply.
    let mut ninth = Peer::connect(port).unwrap();
    ninth.send("ninth").unwrap(); // 2 + 5 bytes
    let ninth_port = ninth.port();
    wait_for_kernel("the ninth client queued with its 7 bytes", |table| {
        let queue = table.listener(port)?.queue?;
        let row = table.server_side(port, ninth_port)?;
        (queue.waiting == if_queues_reported(1)
            && row.held == if_accepted_reported(false)
            && row.unread == if_queues_reported(7))
        .then_some(())
    });
    ninth.silence(SILENCE).unwrap();

    // One leaves; the server has room again, and takes the ninth.
    served.remove(0).send("exit").unwrap();
    server.expect_log("room again: a session ended; accepting the next client");
    assert_eq!(ninth.receive().unwrap().as_deref(), Some("ninth World!"));
    let log = server.log();
    assert_eq!(
        log.iter().filter(|line| line.contains("] full: ")).count(),
        1,
        "once: {log:#?}"
    );
    for mut peer in served {
        peer.exchange("still served").unwrap();
    }
}

#[test]
fn an_idle_client_is_let_go_after_the_idle_timeout() {
    let mut server = Server::start("server-v3", &["--idle-timeout", "0.3"]);
    let mut silent = Peer::connect(server.port).unwrap();
    server.expect_log("[session-1] session ended: the client sent nothing for 0.3 s (--idle-timeout)");
    // An orderly close, and the server goes on.
    assert!(matches!(silent.closed().unwrap(), Closed::Eof));
    let mut talker = Peer::connect(server.port).unwrap();
    talker.exchange("hello").unwrap();
    assert!(server.process.is_running());
}

/// A client that sends and never reads: the server's replies fill the
/// client's receive buffer, then the server's send buffer, and the session
/// blocks in a write. The idle time-out ends it, with its own reason.
#[test]
fn an_idle_timeout_ends_a_session_whose_client_stopped_reading() {
    let mut server = Server::start("server-v3", &["--idle-timeout", "0.3"]);
    let mut flood = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    flood.set_write_timeout(Some(SILENCE)).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopped = std::sync::Arc::clone(&stop);
    let sender = std::thread::spawn(move || {
        use std::io::Write;
        let message = "x".repeat(8_000);
        let mut frame = (message.len() as u16).to_be_bytes().to_vec();
        frame.extend_from_slice(message.as_bytes());
        // Sends until the server closes (then a write fails), or the test
        // is over; a write that times out is tried again.
        while !stopped.load(std::sync::atomic::Ordering::SeqCst) {
            match flood.write_all(&frame) {
                Err(failure) if !client::net::is_time_out(&failure) => return,
                _ => {}
            }
        }
    });
    server.expect_log(
        "[session-1] session ended: the client stopped reading for 0.3 s: no byte of the reply \
         could be sent (--idle-timeout)",
    );
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    sender.join().unwrap();
    // The server goes on.
    let mut talker = Peer::connect(server.port).unwrap();
    talker.exchange("hello").unwrap();
}

#[test]
fn an_idle_timeout_must_be_a_positive_number_of_seconds() {
    // 1e20 s is more than a Duration holds: refused, not a crash.
    for value in ["0", "-1", "soon", "1e20"] {
        let mut server = Running::start("server-v3", &[&format!("--idle-timeout={value}")]);
        let (status, stderr) = server.wait_exit();
        assert_eq!(status.code(), Some(2), "{value}: {stderr}");
        assert!(stderr.contains("is not a positive number of seconds"), "{stderr}");
    }
}

/// On Linux, a connection reset while it waits in the accept queue is still
/// returned by accept(): the reset shows on the session's first read, and
/// that session ends alone.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "Linux's behaviour: other systems may drop a connection reset in the queue, or fail accept() for it"
)]
fn a_connection_reset_in_the_queue_is_accepted_and_its_session_sees_the_reset() {
    let mut server = with_open_file_limit(17, "");
    server.expect_log("room for 1 session at once");
    let port = server.port;
    let mut first = Peer::connect(port).unwrap();
    first.exchange("first").unwrap();

    // The second waits in the queue; then it resets its connection there.
    let second = Peer::connect(port).unwrap();
    let second_port = second.port();
    wait_for_kernel("the second in the queue", |table| {
        (table.server_side(port, second_port)?.held == Some(false)).then_some(())
    });
    second.reset().unwrap();
    wait_for_kernel("the reset connection still in the queue", |table| {
        let waiting = table.listener(port)?.queue?.waiting?;
        let gone = table.server_side(port, second_port).is_none();
        (waiting == 1 && gone).then_some(())
    });

    // peek says so, rather than that the table changed while it was read.
    let (status, table, stderr) = common::run("peek", &["--port", &port.to_string()]);
    assert!(status.success(), "{stderr}");
    assert!(
        table.contains("a connection reset or closed while it waited is no longer listed"),
        "{table}"
    );

    first.send("exit").unwrap();
    server.expect_log(&format!("connected: client 127.0.0.1:{second_port}"));
    server.expect_log("[session-2] session ended: the client reset the connection (RST)");
    let mut third = Peer::connect(port).unwrap();
    third.exchange("third").unwrap();
}

/// Listening on every address, server-v3 logs each connection with the
/// address its client reached, as server-v1 and server-v2 do, not with
/// `0.0.0.0` or `::`.
#[test]
fn each_connection_is_logged_with_the_address_its_client_reached() {
    common::logs_the_address_each_client_reached(|host| Server::start("server-v3", host));
}

#[test]
#[cfg_attr(
    windows,
    ignore = "sets the open-file limit with ulimit, which only Unix has (Windows has no such limit)"
)]
fn with_too_few_open_files_it_refuses_to_start_and_says_which_limit() {
    let mut server = with_open_file_limit(16, "");
    let (status, stderr) = server.process.wait_exit_within(PATIENCE);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("server-v3: error: cannot serve anybody: room for 0 sessions")
            && stderr.contains("the open-file limit is 16")
            && stderr.contains("`ulimit -n` sets it"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

/// server-v3 started under a resource limit, soft and hard, set in the
/// child before it runs (as `ulimit` or `prlimit` would).
#[cfg(target_os = "linux")]
fn under_limit(resource: libc::__rlimit_resource_t, value: u64, args: &[&str]) -> Server {
    use std::os::unix::process::CommandExt;
    let mut command = std::process::Command::new(common::binary("server-v3"));
    command.args(["--port", "0"]).args(args);
    let limit = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: setrlimit is async-signal-safe; nothing else runs here.
    unsafe {
        command.pre_exec(move || match libc::setrlimit(resource, &limit) {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        });
    }
    Server::from_process(Running::start_command(command))
}

/// The threads this user runs now, as `ulimit -u` counts them.
#[cfg(target_os = "linux")]
fn threads_of_this_user() -> u64 {
    threads_of(unsafe { libc::getuid() })
}

/// The threads user `user` runs now, as `ulimit -u` counts them.
#[cfg(target_os = "linux")]
fn threads_of(user: libc::uid_t) -> u64 {
    let user = user.to_string();
    let mut threads = 0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        if status_field(&status, "Uid:") == Some(user.as_str()) {
            threads += status_field(&status, "Threads:")
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    threads
}

/// The first word of field `name` (`Uid:`, `Threads:`) in the text of a
/// process's `status` file.
#[cfg(target_os = "linux")]
fn status_field<'a>(status: &'a str, name: &str) -> Option<&'a str> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
}

/// The number in a `room for N sessions` line.
fn room_in(line: &str) -> usize {
    line.split("room for ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no number of sessions in {line:?}"))
}

/// Fills a server that has room for `room` sessions, then checks that the
/// next client is not accepted (and so not closed): it waits in the kernel's
/// queue, with its message unread, until a session ends, and is then served.
fn fill_and_queue_the_next(server: &mut Server, room: usize) {
    let port = server.port;
    let mut served: Vec<Peer> = (0..room)
        .map(|number| {
            let mut peer = Peer::connect(port).unwrap();
            peer.exchange(&format!("client {number}")).unwrap();
            peer
        })
        .collect();
    server.expect_log("full: ");
    let mut next = Peer::connect(port).unwrap();
    next.send("next").unwrap(); // 2 + 4 bytes
    let next_port = next.port();
    wait_for_kernel("the next client waiting in the queue with its 6 bytes", |table| {
        common::waits_in_queue(table, port, next_port, 6).then_some(())
    });
    next.silence(SILENCE).unwrap();
    served.remove(0).send("exit").unwrap();
    assert_eq!(next.receive().unwrap().as_deref(), Some("next World!"));
    for peer in served.iter_mut().step_by(16) {
        peer.exchange("still served").unwrap();
    }
    assert!(server.process.is_running());
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "ulimit -u counts threads on Linux only (processes on macOS and the BSDs; Windows has no such limit)"
)]
fn under_the_users_thread_limit_the_next_clients_wait_in_the_queue() {
    #[cfg(target_os = "linux")]
    {
        // A little above what the user runs: other programs (and the other
        // tests here) start and end threads meanwhile, so the room is
        // checked to come from this limit, not to be exactly 64.
        let limit = threads_of_this_user() + 64;
        let mut server = under_limit(libc::RLIMIT_NPROC, limit, &[]);
        let room = room_in(&server.expect_log(&format!("the user may run {limit} threads")));
        assert!((1..limit as usize).contains(&room), "{:?}", server.log());
        fill_and_queue_the_next(&mut server, room);
    }
}

/// A session thread that cannot start, though the capacity said there was
/// room (other programs of the same user took the rest of `ulimit -u` after
/// the server started): the server does not accept a client it cannot
/// serve. The next client waits in the kernel's queue, neither accepted nor
/// closed, and is served once a thread can start again.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "ulimit -u counts threads on Linux only (processes on macOS and the BSDs; Windows has no such limit)"
)]
fn a_session_thread_that_cannot_start_leaves_the_client_in_the_queue() {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // Linux does not hold root to `ulimit -u`: as root, the server and
        // the programs that use up its limit run as `nobody`.
        let user = match unsafe { libc::geteuid() } {
            0 => 65534,
            user => user,
        };
        let as_user = move |command: &mut std::process::Command, limit: Option<u64>| {
            // SAFETY: setrlimit, setgroups, setgid and setuid are
            // async-signal-safe, and touch no memory of the parent's.
            unsafe {
                command.pre_exec(move || {
                    if let Some(limit) = limit {
                        let limit = libc::rlimit {
                            rlim_cur: limit,
                            rlim_max: limit,
                        };
                        if libc::setrlimit(libc::RLIMIT_NPROC, &limit) != 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                    }
                    if libc::geteuid() == 0
                        && (libc::setgroups(0, std::ptr::null()) != 0
                            || libc::setgid(user) != 0
                            || libc::setuid(user) != 0)
                    {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        };
        let limit = threads_of(user) + 8;
        let mut command = std::process::Command::new(common::binary("server-v3"));
        command.args(["--port", "0"]);
        as_user(&mut command, Some(limit));
        let mut server = Server::from_process(Running::start_command(command));
        let port = server.port;
        // The first session's thread starts before accept(): once it is
        // there, the user's other programs take every thread left, and more
        // (other processes of this user may end meanwhile).
        let pid = server.process.child.id();
        let deadline = std::time::Instant::now() + PATIENCE;
        while threads_of_process(pid) < 2 {
            assert!(std::time::Instant::now() < deadline, "no session thread started");
            std::thread::yield_now();
        }
        let taken = limit.saturating_sub(threads_of(user)) + 200;
        let mut hogs: Vec<std::process::Child> = (0..taken)
            .map(|_| {
                let mut sleep = std::process::Command::new("sleep");
                sleep.arg("600");
                as_user(&mut sleep, None);
                sleep.spawn().expect("starting sleep")
            })
            .collect();

        // A is served by the thread that was waiting; the next cannot start.
        let mut a = Peer::connect(port).unwrap();
        assert_eq!(a.exchange("from A").unwrap(), "from A World!");
        server.expect_log("cannot start a session thread");
        // B connects and sends: its connection waits in the queue, with
        // its bytes unread, and no reply comes.
        let mut b = Peer::connect(port).unwrap();
        b.send("from B").unwrap(); // 2 + 6 bytes
        let b_port = b.port();
        wait_for_kernel("B waiting in the queue with its 8 bytes", |table| {
            common::waits_in_queue(table, port, b_port, 8).then_some(())
        });
        b.silence(SILENCE).unwrap();

        // Room again: the thread starts, B is accepted and served.
        for hog in hogs.iter_mut() {
            let _ = hog.kill();
            let _ = hog.wait();
        }
        server.expect_log("a session thread started again");
        assert_eq!(b.receive().unwrap().as_deref(), Some("from B World!"));
        assert!(server.process.is_running());
    }
}

/// The threads process `pid` runs now.
#[cfg(target_os = "linux")]
fn threads_of_process(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| status_field(&status, "Threads:")?.parse().ok())
        .unwrap_or(0)
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "the address-space limit is read on Linux only (macOS does not hold a process to it)"
)]
fn under_an_address_space_limit_the_server_stays_inside_and_never_aborts() {
    #[cfg(target_os = "linux")]
    {
        let mut server = under_limit(libc::RLIMIT_AS, 120_000 * 1024, &[]);
        let line = server.expect_log("the address-space limit is 120000 KiB");
        let room = room_in(&line);
        assert!((50..1_000).contains(&room), "{line}");
        fill_and_queue_the_next(&mut server, room);
    }
}
