//! Reading macOS's table: two runs of the system's `netstat`, one for every
//! TCP socket and one for each listening socket's queue.
//!
//! *Checked here only by type and by unit tests on sample output written
//! from netstat's documented format: nothing in this project's CI runs on a
//! Mac.*

use std::io;
use std::process::Command;

use super::netstat::{attach_queues, parse_connections, parse_listen_queues};
use super::TcpRow;

/// The system's netstat, by its full path: another `netstat` earlier in
/// `PATH` (GNU's, from a package manager) prints another format.
const NETSTAT: &str = "/usr/sbin/netstat";

/// Every TCP socket, IPv4 and IPv6, each listening socket with its queue
/// where `netstat -L` tells it for certain.
///
/// `-n` keeps addresses and ports as numbers (no name lookups); `-l` prints
/// IPv6 addresses whole instead of cutting them to 16 characters.
pub(super) fn read_rows() -> io::Result<Vec<TcpRow>> {
    let rows = parse_connections(&run(&["-anl", "-p", "tcp"])?)?;
    let queues = parse_listen_queues(&run(&["-Lanl", "-p", "tcp"])?)?;
    Ok(attach_queues(rows, &queues))
}

/// What `netstat arguments` prints; the error names the command.
fn run(arguments: &[&str]) -> io::Result<String> {
    let command = format!("{NETSTAT} {}", arguments.join(" "));
    let output = Command::new(NETSTAT)
        .args(arguments)
        .output()
        .map_err(|error| io::Error::new(error.kind(), format!("cannot run {command}: {error}")))?;
    if !output.status.success() {
        let complaint = String::from_utf8_lossy(&output.stderr);
        return Err(io::Error::other(format!(
            "{command} failed ({}): {}",
            output.status,
            complaint.trim()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
