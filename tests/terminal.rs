//! The interactive programs as a person meets them: on a real terminal of
//! 80×24 or narrower, keys typed, Ctrl-C and Ctrl-D pressed, the screen read
//! as the terminal draws it (see `common::terminal`).
//!
//! The other tests drive the same programs through pipes, where they wrap
//! nothing, run no line editor and take Ctrl-C as a signal sent to them
//! alone; these tests are where a picture one column too wide, a library's
//! log on the screen or a Ctrl-C the line editor swallows would show.
//!
//! On Windows a console cannot be driven this way under Wine, where this
//! project's Windows tests run: there, what these tests check is checked by
//! hand (README, "Tests").

#![cfg_attr(windows, allow(unused))]

use crate::common;

use common::terminal::{Terminal, CTRL_C, CTRL_D, ENTER, LEFT, UP};
use common::{binary, wait_for_kernel, Peer, Server, REPORTS_QUEUES};
use unicode_width::UnicodeWidthStr;

/// Why these tests do not run on Windows.
#[allow(unused_macros)] // used on Windows alone
macro_rules! unix_terminal {
    () => {
        "drives a pseudo-terminal (a ConPTY console on Windows), which Wine, where this project's \
         Windows tests run, does not provide; the README says what is checked by hand there"
    };
}

/// Asserts that no box of a picture was broken by the terminal's wrapping:
/// each box line ends with the box's right edge on the same line.
fn assert_boxes_whole(lines: &[String]) {
    for line in lines {
        let trimmed = line.trim_start();
        let whole = match trimmed.chars().next() {
            Some('┌') => trimmed.ends_with('┐'),
            Some('└') => trimmed.ends_with('┘'),
            Some('│') => trimmed.ends_with('│'),
            _ => true,
        };
        assert!(
            whole,
            "a box broken across lines: {line:?} in\n{}",
            lines.join("\n")
        );
    }
}

/// Asserts that nothing a library logs reached the screen.
fn assert_no_library_log(lines: &[String]) {
    for trace in [
        "KeyEvent",
        "Changeset",
        "Emacs command",
        "old layout",
        "rustyline",
    ] {
        assert!(
            !lines.iter().any(|line| line.contains(trace)),
            "a library's log on the screen ({trace}):\n{}",
            lines.join("\n")
        );
    }
}

/// The port a program said it listens on.
fn listening_port(lines: &[String]) -> u16 {
    lines
        .iter()
        .find_map(|line| line.split("listening on 127.0.0.1:").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no listening line in:\n{}", lines.join("\n")))
}

/// lab at 80×24: Ctrl-C interrupts a blocked accept() and a blocked read()
/// and the lab goes on; the line editor's history recalls a call; Ctrl-D
/// at the prompt ends the lab. No library's trace on the screen, no
/// picture broken by the terminal's width.
#[test]
#[cfg_attr(windows, ignore = unix_terminal!())]
fn lab_on_a_terminal_answers_ctrl_c_and_keeps_its_history() {
    let mut lab = Terminal::start(&binary("lab"), &["--port", "0"], 80, 24);
    let port = listening_port(&lab.wait_for("lab>"));

    lab.type_line("accept");
    lab.wait_for("blocked in accept()");
    lab.press(CTRL_C);
    lab.wait_for("accept() was interrupted (Ctrl-C): nothing was taken from the queue");
    lab.wait_for_nth("lab>", 2);

    let mut client = Peer::connect(port).unwrap();
    lab.type_line("accept");
    lab.wait_for("accept() returned socket 1");
    lab.type_line("read 1");
    lab.wait_for("blocked in read()");
    lab.press(CTRL_C);
    lab.wait_for("read() was interrupted (Ctrl-C): nothing was read");

    // The previous call, recalled with the up arrow: it blocks again.
    lab.wait_for_nth("lab>", 4);
    lab.press(UP);
    lab.press(ENTER);
    lab.wait_for_nth("blocked in read()", 2);
    client.send("hi").unwrap();
    lab.wait_for("read_utf() returned \"hi\"");

    // Line editing: a word typed with a letter missing, mended in place.
    lab.wait_for_nth("lab>", 5);
    lab.press("shw");
    lab.press(LEFT);
    lab.press("o");
    lab.press(ENTER);
    lab.wait_for("lab> show");
    lab.wait_for_nth("lab>", 6);
    lab.press(CTRL_D);
    let status = lab.wait_exit();
    assert!(status.success(), "{status:?}");
    let screen = lab.transcript();
    assert_no_library_log(&screen);
    assert_boxes_whole(&screen);
}

/// lab at 80×24, `read` on a frame whose rest never comes: read_utf() has
/// taken the bytes that came and waits in read() for the others; Ctrl-C
/// interrupts it, the lab says what was taken, and its prompt comes back.
#[test]
#[cfg_attr(windows, ignore = unix_terminal!())]
fn lab_on_a_terminal_answers_ctrl_c_in_the_middle_of_a_frame() {
    let mut lab = Terminal::start(&binary("lab"), &["--port", "0"], 80, 24);
    let port = listening_port(&lab.wait_for("lab>"));
    let mut client = Peer::connect(port).unwrap();
    lab.type_line("accept");
    lab.wait_for("accept() returned socket 1");
    client.send_bytes(&[0x00, 0x05, b'H', b'e']).unwrap(); // 4 of the frame's 7 bytes
    if REPORTS_QUEUES {
        let client_port = client.port();
        wait_for_kernel("the 4 bytes unread on the server's side", |table| {
            (table.server_side(port, client_port)?.unread? == 4).then_some(())
        });
    }
    lab.wait_for_nth("lab>", 2);
    lab.type_line("read 1");
    lab.wait_for("blocked in read(): socket 1's receive buffer holds 4 of the frame's 7 bytes");
    // The line comes before the call: Ctrl-C once read_utf() has taken the
    // 4 bytes out of the kernel's buffer and waits for the rest.
    if REPORTS_QUEUES {
        let client_port = client.port();
        wait_for_kernel("the 4 bytes taken by the lab's read", |table| {
            (table.server_side(port, client_port)?.unread? == 0).then_some(())
        });
    }
    lab.press(CTRL_C);
    lab.wait_for("read() was interrupted (Ctrl-C) in the middle of a frame: 4 bytes were taken");
    lab.wait_for_nth("lab>", 3);
    lab.press(CTRL_D);
    let status = lab.wait_exit();
    assert!(status.success(), "{status:?}");
}

/// lab on a narrow terminal: the picture and the help fit it.
#[test]
#[cfg_attr(windows, ignore = unix_terminal!())]
fn lab_fits_a_narrow_terminal() {
    let mut lab = Terminal::start(&binary("lab"), &["--port", "0"], 50, 24);
    lab.wait_for("lab>");
    lab.type_line("help");
    let screen = lab.wait_for_nth("draw the picture", 2);
    assert_boxes_whole(&screen);
    // The help's second column goes on under itself.
    assert!(
        screen
            .iter()
            .any(|line| line.starts_with("                backlog queue")),
        "{}",
        screen.join("\n")
    );
    lab.type_line("quit");
    assert!(lab.wait_exit().success());
}

/// The tour's first step on an 80-column terminal, pausing as it does for
/// a reader: its pictures fit, and each command to try is whole on its
/// line, ready to be copied.
#[test]
#[cfg_attr(windows, ignore = unix_terminal!())]
fn the_tour_fits_an_80_column_terminal() {
    let _port = common::tour_port();
    let mut tour = Terminal::start(&binary("socket-lesson"), &["--step", "backlog"], 80, 24);
    let status = tour.wait_exit();
    let screen = tour.transcript();
    assert!(status.success(), "{status:?}:\n{}", screen.join("\n"));
    assert_boxes_whole(&screen);
    assert!(screen
        .iter()
        .any(|line| line.contains("┌─ server: listening socket")));
    for command in [
        "$ cargo run --bin lab",
        "$ cargo run -p client --bin client-v2 -- --local-port 50000",
        "$ cargo run -p client --bin client-v2 -- --local-port 60000",
    ] {
        assert!(
            screen
                .iter()
                .any(|line| line.trim_end().ends_with(command) || line.contains(&format!("{command}   #"))),
            "{command:?} whole on a line:\n{}",
            screen.join("\n")
        );
    }
    assert!(screen
        .last()
        .is_some_and(|line| !line.contains("That is the lesson")));
}

/// The Korean tour with --pause on a 60-column terminal: it waits for Enter
/// after each paragraph, and wraps Korean between words, never inside one.
#[test]
#[cfg_attr(windows, ignore = unix_terminal!())]
fn the_korean_tour_waits_for_enter_and_wraps_between_words() {
    let args = ["--step", "v2", "--lang", "ko", "--pause"];
    let mut tour = Terminal::start(&binary("socket-lesson"), &args, 60, 24);
    let mut pressed = 0;
    while tour.is_running() || pressed == 0 {
        let screen = tour.wait_for_nth("[Enter]", pressed + 1);
        // The paragraph is on the screen, and the tour waits: press Enter.
        assert!(screen.iter().any(|line| line.contains("[Enter]")));
        tour.press(ENTER);
        pressed += 1;
        if screen.iter().any(|line| line.contains("이 단계를 마칩니다")) {
            break;
        }
    }
    let status = tour.wait_exit();
    let screen = tour.transcript();
    assert!(status.success(), "{status:?}:\n{}", screen.join("\n"));
    assert!(pressed >= 5, "a pause after each paragraph: {pressed}");
    assert_boxes_whole(&screen);
    for line in &screen {
        assert!(line.width() <= 60, "{line:?}");
    }
    // Every word of a paragraph stands whole on some line.
    let paragraph = "server-v2는 클라이언트 하나를 accept한 뒤 그 클라이언트와만 반복해서 대화합니다. \
                     블로킹 호출은 accept()와 read_utf() 두 개인데, 스레드는 하나뿐입니다. 이제 \
                     클라이언트 B가 접속합니다. connect()는 바로 돌아옵니다.";
    for word in paragraph.split(' ') {
        assert!(
            screen
                .iter()
                .any(|line| line.split(' ').any(|w| w.contains(word))),
            "{word:?} broken across lines:\n{}",
            screen.join("\n")
        );
    }
    // peek's table and its notes speak Korean too.
    assert!(
        screen.iter().any(|line| line.contains("peek | 포트 ")),
        "{}",
        screen.join("\n")
    );
}

/// Ctrl-C ends the tour at once, wherever it is.
#[test]
#[cfg_attr(windows, ignore = unix_terminal!())]
fn ctrl_c_ends_the_tour() {
    let _port = common::tour_port();
    let mut tour = Terminal::start(&binary("socket-lesson"), &[], 80, 24);
    tour.wait_for("== Step 1");
    tour.press(CTRL_C);
    let status = tour.wait_exit();
    assert!(!status.success(), "{status:?}");
}

/// client-v2 at a terminal, of 80 columns and of 40: its prompt, an
/// answer, and Ctrl-D, which ends it with `exit` on a line of its own, not
/// after the prompt.
#[test]
#[cfg_attr(windows, ignore = unix_terminal!())]
fn client_v2_on_a_terminal_ends_at_ctrl_d() {
    for columns in [80, 40] {
        client_v2_ends_at_ctrl_d(columns);
    }
}

fn client_v2_ends_at_ctrl_d(columns: u16) {
    let server = Server::start("server-v3", &[]);
    let port = server.port.to_string();
    let mut client = Terminal::start(&binary("client-v2"), &["--port", &port], columns, 24);
    client.wait_for("message (exit to quit)>");
    client.type_line("Hello");
    // At 40 columns the log line wraps: the reply's words are on the screen.
    client.wait_for("World!");
    client.wait_for_nth("message (exit to quit)>", 2);
    client.press(CTRL_D);
    let status = client.wait_exit();
    let screen = client.transcript();
    assert!(status.success(), "{status:?}:\n{}", screen.join("\n"));
    let sent_exit = screen
        .iter()
        .find(|line| line.contains("sent: exit"))
        .unwrap_or_else(|| panic!("{}", screen.join("\n")));
    assert!(
        !sent_exit.contains("message (exit to quit)>"),
        "{}",
        screen.join("\n")
    );
    assert_no_library_log(&screen);
}
