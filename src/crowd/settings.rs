//! What a crowd does, and what it refuses before it starts.

use std::net::SocketAddr;
use std::thread;
use std::time::Duration;

use anyhow::{bail, Result};

use super::frames::Frames;
use super::ports::ephemeral_ports;

/// How long a client waits for its connection, and then for each reply,
/// unless told otherwise: [`Crowd::new`]'s, and `crowd --timeout-ms`'s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// What a crowd does.
#[derive(Debug, Clone)]
pub struct Crowd {
    /// The server's address.
    pub server: SocketAddr,
    /// How many clients connect at once.
    pub clients: usize,
    /// How many messages each client sends, one at a time.
    pub messages: usize,
    /// How long a client waits for its connection, and then for each reply,
    /// before it gives up.
    pub timeout: Duration,
    /// The message each client sends.
    pub message: String,
}

impl Crowd {
    /// A crowd of `clients` clients sending `messages` messages each to
    /// `host:port`, with the default message (`Hello`) and time-out
    /// ([`DEFAULT_TIMEOUT`], 2 s).
    pub fn new(host: &str, port: u16, clients: usize, messages: usize) -> Result<Crowd> {
        let server = client::net::resolve(host, port)?;
        Ok(Crowd {
            server,
            clients,
            messages,
            timeout: DEFAULT_TIMEOUT,
            message: "Hello".to_string(),
        })
    }

    /// Refuses a crowd that cannot work, with the limit that applies and what
    /// to do: no clients or no messages; more clients than this system has
    /// local ports for outgoing connections (every connection to one server
    /// needs its own); more than this process may open files (every
    /// connection is one; the limit is raised to its ceiling first); the
    /// message `exit`, or one whose reply would not fit in a frame.
    ///
    /// [`Crowd::run`] checks this first, before it allocates anything.
    ///
    /// ```
    /// let crowd = socket_lesson::crowd::Crowd::new("127.0.0.1", 12345, 1_000_000_000, 5)?;
    /// assert!(crowd.check().unwrap_err().to_string().contains("local ports"));
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn check(&self) -> Result<()> {
        self.prepare().map(drop)
    }

    /// [`Crowd::check`], returning the frames the clients will send and expect.
    pub(super) fn prepare(&self) -> Result<Frames> {
        if self.clients == 0 {
            bail!("a crowd needs at least one client");
        }
        if self.messages == 0 {
            bail!("each client needs at least one message to send: with none, nothing is measured");
        }
        let ports = ephemeral_ports();
        if self.clients > ports.count() {
            bail!(
                "{} clients need as many local ports, but this system gives outgoing connections {} \
                 (ports {} to {}, {}): use at most {} clients",
                self.clients,
                ports.count(),
                ports.first,
                ports.last,
                ports.source,
                ports.count()
            );
        }
        // `None` where the system has no such limit (Windows).
        if let Some(limit) = client::net::raise_open_file_limit() {
            let needed = self.open_files_needed();
            if needed > limit {
                bail!(
                    "{} clients need about {needed} open files (each connection is one), but this \
                     process may open {limit}: run `ulimit -n {needed}` first (`ulimit -Hn` shows the \
                     most allowed), or use fewer clients",
                    self.clients
                );
            }
        }
        Frames::new(&self.message)
    }

    /// About how many files a run keeps open: a socket per client, an
    /// poller per thread, and a margin for the standard streams and the rest.
    fn open_files_needed(&self) -> u64 {
        (self.clients + workers(self.clients) + 16) as u64
    }
}

/// How many threads drive a crowd of `clients`: one per core, at most one
/// per client.
pub(super) fn workers(clients: usize) -> usize {
    let cores = thread::available_parallelism().map_or(1, |cores| cores.get());
    cores.min(clients).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_clients_than_ports_are_refused_before_anything_is_allocated() {
        let crowd = Crowd::new("127.0.0.1", 9, 1_000_000_000, 5).unwrap();
        let error = crowd.check().unwrap_err().to_string();
        let ports = ephemeral_ports();
        assert!(
            error.starts_with("1000000000 clients need as many local ports")
                && error.contains(&format!("use at most {} clients", ports.count())),
            "{error}"
        );
        let crowd = Crowd::new("127.0.0.1", 9, 1, 0).unwrap();
        assert!(crowd
            .check()
            .unwrap_err()
            .to_string()
            .contains("at least one message"));
    }
}
