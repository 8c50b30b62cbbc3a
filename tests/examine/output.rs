//! examine's own output: closed, or on a full disk.

use std::process::Command;

use crate::common::{self, binary, Server};

#[test]
fn a_closed_standard_output_ends_examine_quietly_with_the_verdicts_status() {
    let server = Server::start("server-v3", &["--quiet"]);
    let mut command = Command::new(binary("examine"));
    command.args(["--port", &server.port.to_string(), "--expect", "v2"]);
    let ended = common::with_output_closed(command);
    // Not a v2: the status says so, though nothing could be written.
    assert_eq!(ended.status.code(), Some(1), "{}", ended.stderr);
    assert!(ended.stderr.is_empty(), "{}", ended.stderr);
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "writes to /dev/full, which only Linux has"
)]
fn a_full_disk_is_one_line_and_status_2() {
    let server = Server::start("server-v3", &["--quiet"]);
    let mut command = Command::new(binary("examine"));
    command.args(["--port", &server.port.to_string()]);
    let ended = common::with_output_on_a_full_disk(command);
    assert_eq!(ended.status.code(), Some(2), "{}", ended.stderr);
    assert_eq!(
        ended.stderr.trim_end(),
        "examine: error: cannot write to standard output: No space left on device (os error 28)"
    );
}
