//! The tour that `cargo run` starts: it runs by itself and tells the lesson.

use crate::common;

use std::process::Command;

use common::{if_queues_reported, Running, LISTS_QUEUED_CONNECTIONS, REPORTS_ACCEPTED, REPORTS_QUEUES};

fn tour_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_socket-lesson"));
    command.args(args);
    command
}

fn tour(args: &[&str]) -> String {
    let (status, stdout, stderr) = Running::start_command(tour_command(args)).output();
    assert!(status.success(), "the tour exited with {status}: {stderr}");
    stdout
}

/// The lines of `story` from the first containing `from` on.
fn from<'a>(story: &'a str, from: &str) -> &'a str {
    let start = story
        .find(from)
        .unwrap_or_else(|| panic!("{from:?} missing from:\n{story}"));
    &story[start..]
}

#[test]
fn the_whole_tour_runs_by_itself_and_tells_each_step() {
    let _port = common::tour_port();
    let story = tour(&[]);
    for heading in [
        "Step 1: the backlog queue",
        "Step 2: server-v1",
        "Step 3: server-v2",
        "Step 4: server-v3",
    ] {
        assert!(story.contains(heading), "{heading:?} missing from:\n{story}");
    }
    // The servers' own log, with their thread names.
    for line in [
        "[server-v1] received: Hello",
        "[server-v2] listening on",
        "[session-2] received: Hello from B",
    ] {
        assert!(story.contains(line), "{line:?} missing from:\n{story}");
    }
    // peek's view of B, waiting in the accept queue with its bytes unread,
    // and the picture with B in the queue's slot.
    let step_3 = from(&story, "Step 3: server-v2");
    if REPORTS_QUEUES {
        assert!(
            step_3.contains("1 finished handshake waits for accept()"),
            "{step_3}"
        );
        assert!(
            step_3.contains("14 bytes unread in the server's receive buffer"),
            "{step_3}"
        );
        assert!(step_3.contains("14 B unread"), "the picture's slot:\n{step_3}");
    }
    assert!(step_3.contains("client B | no reply after 1 s"), "{step_3}");
    assert!(
        step_3.contains("socket 1 ── :"),
        "A's socket in the picture:\n{step_3}"
    );
    // The crowd, side by side: one served by V2, all twenty by V3, and the
    // sentence says what the counts say.
    let served = story
        .lines()
        .find(|line| line.starts_with("  crowd | served"))
        .expect("the crowd table");
    assert_eq!(
        served.split_whitespace().collect::<Vec<_>>(),
        ["crowd", "|", "served", "1", "20"]
    );
    assert!(story.contains("server-v3 served all 20."), "{story}");
    // server-v2's other clients were not left to time out: it exited and
    // the kernel ended their connections, and the table says which.
    let ended = story
        .lines()
        .find(|line| line.starts_with("  crowd | starved: closed or reset"))
        .expect("the crowd table's row of clients ended unanswered");
    assert_eq!(
        ended.split_whitespace().rev().take(2).collect::<Vec<_>>(),
        ["0", "19"]
    );
    assert!(story.contains("the kernel ended their connections"), "{story}");
    // Nothing of the crowd's servers follows the table: the story ends with
    // the tour's own words.
    let after_crowd = from(&story, "  crowd | elapsed");
    assert!(
        !after_crowd.lines().any(|line| line.contains("] ")),
        "a server's log line after the crowd:\n{after_crowd}"
    );
    assert!(story.trim_end().ends_with("beside its code."), "{story}");
    // Piped, it is plain text.
    assert!(!story.contains('\x1b'), "no colour codes when piped");
}

/// The lesson's pictures in order: both clients queued before any
/// accept(), the second one's bytes waiting, accept() taking the first.
#[test]
fn the_backlog_step_shows_the_queue_taken_in_order() {
    let _port = common::tour_port();
    let story = tour(&["--step", "backlog", "--ascii"]);
    assert!(story.contains("Step 1: the backlog queue"), "{story}");
    assert!(!story.contains("Step 2"), "only the backlog step:\n{story}");
    assert!(
        story.contains("That is the step."),
        "one step ends as one:\n{story}"
    );
    assert!(!story.contains("That is the lesson."), "{story}");
    // The clients from 50000 and 60000, or from the ports the tour says.
    let ports: Vec<String> = story
        .lines()
        .filter_map(|line| line.split("connect() returned: 127.0.0.1:").nth(1))
        .map(|rest| rest.split(' ').next().unwrap().to_string())
        .collect();
    assert_eq!(ports.len(), 2, "{story}");
    let (first, second) = (&ports[0], &ports[1]);

    // Both waiting in the queue, the first on the left, before any accept().
    let before_accept = &story[..story.find("accept() returned").expect("an accept")];
    if REPORTS_QUEUES {
        assert!(
            before_accept.contains("backlog queue: 2 waiting"),
            "{before_accept}"
        );
        let sent = "30 B unread";
        assert!(
            before_accept.contains(sent),
            "the second client's bytes:\n{before_accept}"
        );
    }
    if LISTS_QUEUED_CONNECTIONS {
        let slots = before_accept
            .lines()
            .find(|line| line.contains(&format!("| :{first} ")))
            .unwrap_or_else(|| panic!("the queue's slots:\n{before_accept}"));
        assert!(
            slots.find(&format!(":{first} ")) < slots.find(&format!(":{second} ")),
            "{slots}"
        );
        assert!(before_accept.contains("oldest first: accept() takes the one on the left"));
    }
    if !REPORTS_ACCEPTED {
        // What the table cannot show, the tour says, with the command that
        // shows the rest on this system.
        let said = "the tour knows it because it made it happen: two connections in the queue";
        assert!(before_accept.contains(said), "{before_accept}");
        let command = socket_lesson::kernel::SOURCE.command_for(0);
        let program = command.split_whitespace().next().unwrap();
        assert!(before_accept.contains(&format!("`{program} ")), "{before_accept}");
    }
    assert!(
        before_accept.contains("sockets from accept(): none"),
        "{before_accept}"
    );

    // accept() returns the first, then the second, whose message was waiting.
    let accepts: Vec<&str> = story
        .lines()
        .filter(|line| line.contains("accept() returned a socket for"))
        .collect();
    assert_eq!(accepts.len(), 2, "{story}");
    assert!(accepts[0].ends_with(&format!("127.0.0.1:{first}")), "{accepts:?}");
    assert!(
        accepts[1].ends_with(&format!("127.0.0.1:{second}")),
        "{accepts:?}"
    );
    let after_first = from(&story, accepts[0]);
    let picture = &after_first[..after_first.find("clients on this machine").expect("the clients")];
    assert!(picture.contains(&format!("socket 1 -- :{first}")), "{picture}");
    if let Some(waiting) = if_queues_reported(1) {
        assert!(
            picture.contains(&format!("backlog queue: {waiting} waiting")),
            "{picture}"
        );
    }
    if LISTS_QUEUED_CONNECTIONS {
        assert!(picture.contains(&format!("| :{second} ")), "{picture}");
    }
    assert!(
        story.contains("read from socket 2: Hello from the second client"),
        "{story}"
    );
}

#[test]
fn one_step_in_korean_is_korean_throughout() {
    let story = tour(&["--step", "v2", "--lang", "ko"]);
    assert!(story.contains("3단계: server-v2"), "{story}");
    assert!(story.contains("백로그 큐"), "{story}");
    assert!(
        !story.contains("1단계") && !story.contains("4단계"),
        "only step 3:\n{story}"
    );
    // The clients and peek's table speak Korean too; only the servers' own
    // log is in English, as the servers print it.
    for english in [
        "client A |",
        "connect() returned",
        "sends:",
        "received:",
        "no reply after",
        "# terminal",
        "finished handshake",
        "CLIENT",
        "accepted: the server holds",
        "bytes unread",
    ] {
        let narrated = story
            .lines()
            .filter(|line| !line.contains(" [server-v2] "))
            .find(|line| line.contains(english));
        assert!(narrated.is_none(), "{english:?} in the Korean tour: {narrated:?}");
    }
    assert!(
        story.contains("클라이언트 B | 1초가 지나도 응답이 없습니다"),
        "{story}"
    );
}

#[test]
#[cfg_attr(windows, ignore = "ulimit is a Unix shell's; Windows has no open-file limit")]
fn the_tour_raises_its_open_file_limit_as_the_programs_do() {
    // 40 open files would not hold the crowd's 20 clients and server-v3's 20
    // sessions in one process; the tour raises its limit to the hard one.
    let tour = std::path::Path::new(env!("CARGO_BIN_EXE_socket-lesson"));
    let mut process = Running::start_command(common::under_ulimit("-Sn 40", tour, "--step v3"));
    let (status, stderr) = process.wait_exit();
    assert!(status.success(), "{stderr}");
    let story = process.stdout.join("\n");
    assert!(story.contains("server-v3 served all 20."), "{story}");
}

/// `socket-lesson | head -1`: once the reader has gone, the tour ends
/// quietly with status 0 at its next line.
#[test]
fn a_closed_output_ends_the_tour_quietly() {
    let _port = common::tour_port();
    let (first, tour) = common::with_output_closed_after_one_line(tour_command(&[]), || ());
    assert!(!first.is_empty());
    assert!(tour.status.success(), "{}: {}", tour.status, tour.stderr);
    assert_eq!(tour.stderr, "", "nothing on standard error");
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "/dev/full is Linux's")]
fn a_full_disk_is_one_line_and_status_1() {
    let common::Ended { status, stderr } =
        common::with_output_on_a_full_disk(tour_command(&["--step", "v1"]));
    assert_eq!(status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("socket-lesson: error: cannot write to standard output: No space left"),
        "{stderr}"
    );
}

#[test]
fn a_bad_flag_is_refused_with_usage() {
    let mut tour = Running::start_command(tour_command(&["--step", "v9"]));
    let (status, stderr) = tour.wait_exit();
    assert_eq!(status.code(), Some(2));
    assert!(
        stderr.contains("invalid value 'v9' for '--step <STEP>'"),
        "{stderr}"
    );
}

/// --pause into a pipe: the story alone, no marker a person would press
/// Enter at (the end of input stops each wait).
#[test]
fn pausing_into_a_pipe_prints_no_markers() {
    let mut tour = Running::start_command(tour_command(&["--step", "v1", "--pause"]));
    tour.close_stdin();
    let (status, stdout, stderr) = tour.output();
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("Step 2: server-v1"), "{stdout}");
    assert!(!stdout.contains("[Enter]"), "{stdout}");
}

/// With port 50000 taken, the first client connects from a port the kernel
/// picks: its lines carry that port, and the picture still draws the
/// clients in the order they came, the first on the left.
#[test]
fn a_client_that_cannot_have_its_port_is_named_by_the_one_it_got() {
    let _port = common::tour_port();
    // Port 50000 taken by this test, held until the tour is done, where it
    // can be. No other test's tour has it (the lock), but 50000 is in the
    // kernel's ephemeral range: another test's connection may have been
    // given it, and one that closed first keeps it in TIME_WAIT for 60 s,
    // over which no listener binds. Then the tour finds it taken all the
    // same, unless it was let go in between: then the tour again.
    let mut tries = 0;
    let story = loop {
        let held = std::net::TcpListener::bind("127.0.0.1:50000");
        let story = tour(&["--step", "backlog", "--ascii"]);
        if held.is_ok() || story.contains("(Port 50000 is in use") {
            break story;
        }
        tries += 1;
        assert!(tries < 5, "port 50000 was let go during each of 5 tours");
    };
    assert!(story.contains("(Port 50000 is in use on this machine"), "{story}");
    let first = story
        .lines()
        .find_map(|line| line.split("connect() returned: 127.0.0.1:").nth(1))
        .and_then(|rest| rest.split(' ').next())
        .expect("the first client's port")
        .to_string();
    assert_ne!(first, "50000");
    assert!(
        story.contains(&format!(
            "  client {first} | connect() returned: 127.0.0.1:{first} "
        )),
        "the first client's lines carry its port:\n{story}"
    );
    assert!(!story.contains("client 50000 |"), "{story}");
    // The clients' boxes, where the table lists the queued connections.
    if LISTS_QUEUED_CONNECTIONS {
        let boxes = story
            .lines()
            .find(|line| line.contains("+- client :"))
            .expect("the clients' boxes");
        let second = boxes.rfind("+- client :").unwrap();
        assert!(
            boxes.find(&format!(":{first} ")).is_some_and(|at| at < second),
            "the first client's box on the left:\n{story}"
        );
    }
}
