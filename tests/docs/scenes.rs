//! 7. Chapter 8's scenes play as the chapter tells them.
//!
//! Each test below plays one scene of chapter 8 with the commands the chapter
//! gives (on a free port instead of 12345), types into `lab` what the
//! chapter's transcript types, and checks what the programs print; then it
//! checks that the chapter, in both languages, gives those commands and
//! quotes those lines. The transcripts are Linux's: other systems word these
//! errors their own way, and report a reset after an end of stream.

use socket_lesson::kernel;

use super::commands::{command, Command};
use super::*;

/// Chapter 8, whose scenes these tests play.
const EXCEPTIONS: &str = "08-network-exceptions.md";

/// Starts one of chapter 8's commands as `cargo run` runs it, on `port`
/// (`--port 0` for a server, which then says its port).
fn start_as_the_chapter_says(line: &str, port: Option<u16>) -> common::Running {
    let Ok(Command::Run {
        program,
        example: false,
        args,
    }) = command(line)
    else {
        panic!("`{line}` is not a `cargo run` of a program");
    };
    let port = port.map_or_else(|| "0".to_string(), |port| port.to_string());
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend(["--port", port.as_str()]);
    common::Running::start(&program, &all)
}

/// `lab` started as the chapter's `line` says, with its port.
fn lab_as_the_chapter_says(line: &str) -> common::Server {
    common::Server::from_process(start_as_the_chapter_says(line, None))
}

/// The port of the client whose log says `connected: client 127.0.0.1:PORT -> ...`.
fn client_port(client: &mut common::Running) -> u16 {
    let line = client.expect_line("connected: client ");
    line.split("connected: client ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|address| address.rsplit(':').next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no client port in {line:?}"))
}

/// Checks that chapter 8, in both languages, gives each of `commands` as a
/// line of a ```sh block (its comment aside) and quotes each of `quoted` in
/// a ```text block.
fn the_chapter_shows(commands: &[&str], quoted: &[&str]) {
    let mut problems = Vec::new();
    for lang in ["en", "ko"] {
        let chapter = root().join("docs").join(lang).join(EXCEPTIONS);
        let parsed = parse(&read(&chapter));
        let lines_of = |lang: &str| -> Vec<String> {
            parsed
                .blocks
                .iter()
                .filter(|block| block.lang == lang)
                .flat_map(|block| block.lines.iter().cloned())
                .collect()
        };
        let (commands_shown, transcripts) = (lines_of("sh"), lines_of("text"));
        for wanted in commands {
            if !commands_shown
                .iter()
                .any(|line| without_comment(line).trim() == *wanted)
            {
                problems.push(format!("{} gives no command `{wanted}`", shown(&chapter)));
            }
        }
        for wanted in quoted {
            if !transcripts.iter().any(|line| line.contains(wanted)) {
                problems.push(format!("{} quotes no line with {wanted:?}", shown(&chapter)));
            }
        }
    }
    report("chapter 8 against the scenes it describes", problems);
}

const LAB: &str = "cargo run --bin lab";
const CLIENT_V1: &str = "cargo run -p client --bin client-v1";
const CLIENT_V1_2S: &str = "cargo run -p client --bin client-v1 -- --timeout 2";

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "chapter 8's transcripts are Linux's")]
fn chapter_8_connection_refused() {
    // A port nothing listens on, below the range the kernel hands out.
    let port = common::unused_port();
    let (status, _, stderr) = start_as_the_chapter_says(CLIENT_V1, Some(port)).output();
    assert_eq!(status.code(), Some(1), "{stderr}");
    let refused = "Connection refused (os error 111); nothing listens on port";
    assert!(stderr.contains(refused), "{stderr}");
    the_chapter_shows(&[CLIENT_V1], &[refused]);
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "chapter 8's transcripts are Linux's")]
fn chapter_8_connect_time_out() {
    let lab_line = "cargo run --bin lab -- --backlog 1";
    let lab = lab_as_the_chapter_says(lab_line);
    let port = lab.port;
    // Two clients fill a queue of one: Linux lets one more in than the limit.
    let _waiting: Vec<common::Running> = (0..2)
        .map(|_| start_as_the_chapter_says(CLIENT_V1, Some(port)))
        .collect();
    common::wait_for_kernel("two connections in lab's queue", |table| {
        (table.listener(port)?.queue?.waiting == Some(2)).then_some(())
    });

    let (status, _, stderr) = start_as_the_chapter_says(CLIENT_V1_2S, Some(port)).output();
    assert_eq!(status.code(), Some(1), "{stderr}");
    let timed_out = "the server did not answer the handshake within 2s (--timeout)";
    assert!(stderr.contains(timed_out), "{stderr}");
    // The queue still holds the two: it was full all along.
    let waiting = common::wait_for_kernel("lab's queue", |table| table.listener(port)?.queue?.waiting);
    assert_eq!(waiting, 2);
    the_chapter_shows(&[lab_line, CLIENT_V1, CLIENT_V1_2S], &[timed_out]);
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "chapter 8's transcripts are Linux's")]
fn chapter_8_read_time_out() {
    let lab = lab_as_the_chapter_says(LAB);
    let mut client = start_as_the_chapter_says(CLIENT_V1_2S, Some(lab.port));
    let client_port = client_port(&mut client);
    // The request arrived: 7 bytes wait unread in the queued connection,
    // and no reply comes, because nobody accepted it.
    let port = lab.port;
    common::wait_for_kernel("the client's 7 bytes in lab's queue", |table| {
        common::waits_in_queue(table, port, client_port, 7).then_some(())
    });
    let (status, stderr) = client.wait_exit();
    assert_eq!(status.code(), Some(1), "{stderr}");
    let no_reply = "no reply within 2s (--timeout)";
    assert!(stderr.contains(no_reply), "{stderr}");
    the_chapter_shows(&[LAB, CLIENT_V1_2S], &[no_reply]);
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "chapter 8's transcripts are Linux's")]
fn chapter_8_orderly_close() {
    let mut lab = lab_as_the_chapter_says(LAB);
    let mut client = start_as_the_chapter_says(CLIENT_V1, Some(lab.port));
    client.expect_line("sent: Hello");
    lab.process.type_in("accept\n");
    lab.expect_log("accept() returned socket 1");
    lab.process.type_in("read 1\n");
    let read = "read_utf() returned \"Hello\": 7 bytes taken from socket 1's receive buffer";
    lab.expect_log(read);
    lab.process.type_in("close 1\n");
    let fin = "the kernel says goodbye to the client (FIN)";
    lab.expect_log(fin);
    let (status, stderr) = client.wait_exit();
    assert_eq!(status.code(), Some(1), "{stderr}");
    let eof = "the server closed the connection without replying";
    assert!(stderr.contains(eof), "{stderr}");
    the_chapter_shows(&[LAB, CLIENT_V1], &[read, fin]);
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "chapter 8's transcripts are Linux's")]
fn chapter_8_reset_closing_with_unread_bytes() {
    let mut lab = lab_as_the_chapter_says(LAB);
    let port = lab.port;
    let mut client = start_as_the_chapter_says(CLIENT_V1, Some(port));
    let client_port = client_port(&mut client);
    lab.process.type_in("accept\n");
    lab.expect_log("accept() returned socket 1");
    // The client's Hello is in the accepted socket's receive buffer, unread.
    common::wait_for_kernel("7 bytes unread in socket 1", |table| {
        let row = table.server_side(port, client_port)?;
        (row.unread == Some(7) && row.held == Some(true)).then_some(())
    });
    lab.process.type_in("close 1\n");
    let rst =
        "closed with 7 bytes still unread in its receive buffer, so the kernel resets the connection (RST)";
    lab.expect_log(rst);
    let (status, stderr) = client.wait_exit();
    assert_eq!(status.code(), Some(1), "{stderr}");
    let reset = "cannot read the server's reply: Connection reset by peer (os error 104)";
    assert!(stderr.contains(reset), "{stderr}");
    the_chapter_shows(&[LAB, CLIENT_V1], &[rst, reset]);
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "chapter 8's transcripts are Linux's")]
fn chapter_8_reset_writing_to_a_closed_peer() {
    let mut lab = lab_as_the_chapter_says(LAB);
    let port = lab.port;
    let mut client = start_as_the_chapter_says(CLIENT_V1, Some(port));
    let client_port = client_port(&mut client);
    lab.process.type_in("accept\nread 1\nwrite 1 Hello World!\n");
    lab.expect_log("write_utf() returned: 14 bytes");
    let (status, stderr) = client.wait_exit();
    assert!(status.success(), "client-v1 failed: {stderr}");
    // The client has closed: its FIN came, and lab's side waits to close.
    common::wait_for_kernel("lab's side in CLOSE_WAIT", |table| {
        (table.server_side(port, client_port)?.state == kernel::TcpState::CloseWait).then_some(())
    });

    // The first write is taken: the kernel cannot know yet.
    lab.process.type_in("write 1 anyone there?\n");
    let taken = "write_utf() returned: 15 bytes";
    lab.expect_log(taken);
    // The client's kernel answers with RST, which ends lab's side.
    common::wait_for_kernel("lab's side gone after the client's RST", |table| {
        table.server_side(port, client_port).is_none().then_some(())
    });
    lab.process.type_in("write 1 anyone there?\n");
    let broken = "write_utf() failed: Broken pipe (os error 32)";
    lab.expect_log(broken);
    // Linux reads the FIN that came before the RST: the end of the stream.
    lab.process.type_in("read 1\n");
    let end = "read_utf() returned the end of the stream";
    lab.expect_log(end);
    the_chapter_shows(&[LAB, CLIENT_V1], &[taken, broken, end]);
}
