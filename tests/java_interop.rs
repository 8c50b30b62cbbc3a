//! The lesson's protocol against the JDK itself: Java's own `writeUTF` and
//! `readUTF` (tests/java/JavaPeer.java), over real sockets and byte for byte.
//!
//! The tests compile JavaPeer.java with `javac` when they run. On a machine
//! without a JDK, build.rs sets the cfg `javac_missing` and the tests are
//! reported as ignored; with `CI=true` they run and fail if the JDK is missing.
//!
//! Text crosses the command line and Java's standard output escaped in ASCII
//! (see [`escape`]), so the platform's charset cannot alter it on the way.

use crate::common;

use std::path::PathBuf;
use std::process::Command;

use client::protocol::{read_utf, write_utf, DecodeError, ProtocolError};
use common::{Running, Server};

/// The messages sent over the sockets: plain ASCII, a NUL (two bytes in
/// modified UTF-8), Korean (three bytes a character) and characters beyond
/// U+FFFF (a surrogate pair each).
const MESSAGES: [&str; 4] = ["Hello", "a\0b", "안녕하세요", "😀 𝄞"];

#[test]
#[cfg_attr(
    javac_missing,
    ignore = "no javac on this machine: install a JDK (apt-get install default-jdk-headless) to run the Java interop tests"
)]
fn the_jdks_client_against_server_v3() {
    let mut server = Server::start("server-v3", &[]);
    let mut args = vec!["client".to_string(), server.port.to_string()];
    args.extend(MESSAGES.map(escape));

    // The Java client prints each reply it read with readUTF, escaped.
    let replies = run_java_peer(&args);
    let expected: Vec<String> = MESSAGES
        .iter()
        .map(|message| escape(&format!("{message} World!")))
        .collect();
    assert_eq!(replies, expected);

    // server-v3 decoded each of Java's frames to the same text (logged as
    // peer text is, control characters escaped), and the session ended on
    // the `exit` Java sent last.
    for message in MESSAGES {
        server.expect_log(&format!("[session-1] received: {}", client::text::shown(message)));
    }
    server.expect_log("[session-1] session ended: the client sent exit");
}

#[test]
#[cfg_attr(
    javac_missing,
    ignore = "no javac on this machine: install a JDK (apt-get install default-jdk-headless) to run the Java interop tests"
)]
fn client_v2_against_the_jdks_server() {
    let mut java_server = Server::from_process(Running::start_command(java_peer(&["server"])));
    let port = java_server.port.to_string();
    let mut client = Running::start("client-v2", &["--port", &port]);

    // One line at a time, each reply awaited: client-v2 prints what Java's
    // writeUTF sent back, decoded by client::protocol.
    for message in MESSAGES {
        client.type_in(&format!("{message}\n"));
        let reply = format!("{message} World!");
        client.expect_line(&format!("] received: {}", client::text::shown(&reply)));
    }
    client.close_stdin(); // the end of input: client-v2 sends `exit`
    let (status, stderr) = client.wait_exit();
    assert!(status.success(), "client-v2 failed: {stderr}");

    // The Java server read each of our frames with readUTF, `exit` included,
    // and then ended as the lesson's ServerV2 does.
    let (status, stderr) = java_server.process.wait_exit();
    assert!(status.success(), "the Java server failed: {stderr}");
    let received: Vec<&str> = java_server
        .log()
        .iter()
        .filter_map(|line| line.strip_prefix("received: "))
        .collect();
    let expected: Vec<String> = MESSAGES
        .iter()
        .chain(&["exit"])
        .map(|message| escape(message))
        .collect();
    assert_eq!(received, expected);
}

#[test]
#[cfg_attr(
    javac_missing,
    ignore = "no javac on this machine: install a JDK (apt-get install default-jdk-headless) to run the Java interop tests"
)]
fn write_utf_writes_the_jdks_frames() {
    let long_mixed_text = long_mixed_text();
    let texts: Vec<(&str, &str)> = vec![
        ("ASCII", "Hello World!"),
        ("empty", ""),
        ("NUL", "\0"),
        ("NUL inside", "a\0b"),
        ("Korean", "안녕하세요"),
        ("emoji", "😀 𝄞"),
        ("U+07FF, the last 2-byte character", "\u{7FF}"),
        ("U+0800, the first 3-byte character", "\u{800}"),
        ("U+FFFF, the last 3-byte character", "\u{FFFF}"),
        ("a mix", "é\0안😀~\\ \u{7F}\u{80}"),
        ("20,000 characters of mixed text", &long_mixed_text),
    ];
    let mut args = vec!["encode".to_string()];
    args.extend(texts.iter().map(|(_, text)| escape(text)));
    let java_frames = run_java_peer(&args);
    assert_eq!(java_frames.len(), texts.len(), "one line per text from Java");

    for ((name, text), java_hex) in texts.iter().zip(&java_frames) {
        let mut frame = Vec::new();
        write_utf(&mut frame, text).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_same_hex(name, &hex(&frame), java_hex);
    }
}

#[test]
#[cfg_attr(
    javac_missing,
    ignore = "no javac on this machine: install a JDK (apt-get install default-jdk-headless) to run the Java interop tests"
)]
fn read_utf_accepts_and_refuses_what_the_jdk_does() {
    let frames: Vec<(&str, Vec<u8>)> = vec![
        ("ASCII", frame_of(b"Hello")),
        ("empty", frame_of(b"")),
        ("a raw 00 byte", frame_of(&[b'a', 0x00, b'b'])),
        ("overlong 2-byte C1 81", frame_of(&[0xC1, 0x81])),
        ("overlong 3-byte E0 81 81", frame_of(&[0xE0, 0x81, 0x81])),
        ("NUL as C0 80", frame_of(&[0xC0, 0x80])),
        ("FF", frame_of(&[0xFF])),
        ("a lone 80", frame_of(&[b'a', 0x80])),
        (
            "raw 4-byte UTF-8 F0 9F 98 80",
            frame_of(&[0xF0, 0x9F, 0x98, 0x80]),
        ),
        (
            "a 3-byte sequence cut at the frame end",
            frame_of(&[b'x', 0xEC, 0x95]),
        ),
        ("a bad continuation byte", frame_of(&[0xC3, b'a'])),
        (
            "a surrogate pair ED A0 BD ED B8 80",
            frame_of(&[0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]),
        ),
        ("a frame shorter than its length", vec![0x00, 0x05, b'H', b'i']),
    ];
    // Kept apart: the one frame where Java and Rust are meant to differ.
    let lone_surrogate = frame_of(&[0xED, 0xA0, 0xBD]);

    let mut args = vec!["decode".to_string()];
    args.extend(frames.iter().map(|(_, frame)| hex(frame)));
    args.push(hex(&lone_surrogate));
    let java_results = run_java_peer(&args);
    assert_eq!(
        java_results.len(),
        frames.len() + 1,
        "one line per frame from Java"
    );

    for ((name, frame), java_result) in frames.iter().zip(&java_results) {
        let rust_result = read_utf(&mut &frame[..]);
        // The same text, or a refusal of the same kind: Java's EOFException is
        // the connection ending inside the frame, its UTFDataFormatException
        // a payload that is not modified UTF-8.
        match (java_result.split_once(' '), &rust_result) {
            (Some(("ok", java_text)), Ok(Some(rust_text))) => {
                assert_eq!(escape(rust_text), java_text, "{name}: the decoded text");
            }
            (Some(("error", "EOFException")), Err(ProtocolError::ClosedMidMessage)) => {}
            (Some(("error", "UTFDataFormatException")), Err(ProtocolError::Invalid(refusal))) => {
                assert!(
                    !matches!(refusal, DecodeError::UnpairedSurrogate { .. }),
                    "{name}: Java refused it, but not for a surrogate"
                );
            }
            _ => panic!("{name}: Java says {java_result:?}, Rust says {rust_result:?}"),
        }
    }

    // The single allowed difference: a lone surrogate is a Java string but
    // not Rust text, so Java reads it and Rust refuses it by name.
    let java_lone = &java_results[frames.len()];
    assert_eq!(*java_lone, format!("ok {}", escape_units([0xD83D])));
    let rust_lone = read_utf(&mut &lone_surrogate[..]);
    assert!(
        matches!(
            rust_lone,
            Err(ProtocolError::Invalid(DecodeError::UnpairedSurrogate {
                unit: 0xD83D
            }))
        ),
        "{rust_lone:?}"
    );
}

/// JavaPeer.java, compiled when the tests run.
fn java_peer_classes() -> PathBuf {
    common::java::compiled("JavaPeer.java", "java-peer")
}

/// `java JavaPeer <args>`, ready to start.
fn java_peer<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Command {
    let mut command = Command::new(common::java::tool("java"));
    command
        .arg("-cp")
        .arg(java_peer_classes())
        .arg("JavaPeer")
        .args(args);
    command
}

/// Runs `java JavaPeer <args>` to its end and returns its output lines.
fn run_java_peer(args: &[String]) -> Vec<String> {
    let mut java = Running::start_command(java_peer(args));
    let (status, stderr) = java.wait_exit();
    assert!(status.success(), "JavaPeer {} failed:\n{stderr}", args[0]);
    std::mem::take(&mut java.stdout)
}

/// Text as JavaPeer reads and prints it: printable ASCII but the backslash as
/// itself, every other UTF-16 code unit as `\uXXXX`.
fn escape(text: &str) -> String {
    escape_units(text.encode_utf16())
}

/// [`escape`] for any UTF-16 code units, a lone surrogate included.
fn escape_units(units: impl IntoIterator<Item = u16>) -> String {
    units
        .into_iter()
        .map(|unit| match unit {
            0x20..=0x7E if unit != u16::from(b'\\') => char::from(unit as u8).to_string(),
            _ => format!("\\u{unit:04X}"),
        })
        .collect()
}

/// Bytes as uppercase hex without spaces, as JavaPeer prints and reads them.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02X}")).collect()
}

/// A whole frame: the 2-byte big-endian length, then `payload`.
fn frame_of(payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len()).expect("a test payload fits a frame");
    [&len.to_be_bytes()[..], payload].concat()
}

/// 20,000 characters cycling through every width of modified UTF-8, NUL and
/// surrogate pairs included, about 35,000 bytes encoded: within one frame.
fn long_mixed_text() -> String {
    "Mixed text: é \u{7FF} \u{800} 안녕하세요 \u{FFFF} 😀𝄞 \0 \\ ~ "
        .chars()
        .cycle()
        .take(20_000)
        .collect()
}

/// Compares two long hex strings and, when they differ, shows where rather
/// than printing both whole.
fn assert_same_hex(name: &str, rust_hex: &str, java_hex: &str) {
    if rust_hex == java_hex {
        return;
    }
    let first_difference = rust_hex
        .bytes()
        .zip(java_hex.bytes())
        .position(|(rust, java)| rust != java)
        .unwrap_or(rust_hex.len().min(java_hex.len()));
    let byte = first_difference / 2;
    let around = |hex: &str| {
        let start = (byte.saturating_sub(4) * 2).min(hex.len());
        let end = ((byte + 8) * 2).min(hex.len());
        hex[start..end].to_string()
    };
    panic!(
        "{name}: the frames differ from byte {byte} (Rust {} bytes, Java {}): Rust …{}…, Java …{}…",
        rust_hex.len() / 2,
        java_hex.len() / 2,
        around(rust_hex),
        around(java_hex),
    );
}
