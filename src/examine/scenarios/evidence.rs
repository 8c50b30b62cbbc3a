//! The kernel's evidence: where a client's bytes and its connection are,
//! as the kernel's table shows them.

use super::target::Target;
use super::REPLY_WITHIN;
use crate::kernel::{self, AcceptQueue, ConnectionView, PortView, Stage, Table, TcpState};

/// What the kernel showed of one client's connection to the server, as far
/// as this system reports it.
#[derive(Debug, Clone)]
pub struct Sighting {
    /// The system that reported it, e.g. `Linux`.
    pub system: &'static str,
    /// The accept queue of the listening socket the connection came through.
    pub queue: Option<AcceptQueue>,
    /// The server's side of the connection, where the table lists it.
    pub server_side: Option<ConnectionView>,
    /// The state of the client's own side, where the table lists it.
    pub client_side: Option<TcpState>,
    /// What this system does not report, in one line; empty if nothing.
    pub not_reported: &'static str,
}

impl Sighting {
    /// Whether the connection waits in the accept queue: `Some(true)` where
    /// the system says no process holds it, `Some(false)` where it says one
    /// does, `None` where it does not say.
    pub fn waits_in_queue(&self) -> Option<bool> {
        match self.server_side.as_ref()?.stage {
            Stage::Queued => Some(true),
            Stage::Accepted => Some(false),
            _ => None,
        }
    }

    /// The bytes unread in the server side's receive buffer, where reported.
    pub fn unread(&self) -> Option<u32> {
        self.server_side.as_ref()?.server_unread
    }

    /// The connection of the client called `who` in the kernel's words:
    /// `the kernel shows B's connection: handshake done, waiting in the
    /// accept queue; 14 bytes unread in the server's receive buffer (the
    /// accept queue holds 1)`.
    pub fn said(&self, who: &str) -> String {
        let mut words = match (&self.server_side, self.client_side) {
            (Some(server_side), _) => {
                format!("the kernel shows {who}'s connection: {}", server_side.explain())
            }
            (None, Some(state)) => {
                format!("the kernel lists {who}'s side of the connection ({state}) but not the server's side")
            }
            (None, None) => format!("the kernel lists neither side of {who}'s connection"),
        };
        if let Some(waiting) = self.queue.and_then(|queue| queue.waiting) {
            words += &format!(" (the accept queue holds {waiting})");
        }
        if !self.not_reported.is_empty() && (self.unread().is_none() || self.waits_in_queue().is_none()) {
            words += &format!("; not reported by {}: {}", self.system, self.not_reported);
        }
        words
    }

    /// Where the second client is, in the lesson's words, for the verdict:
    /// `the second client's handshake finished and it waits in the accept
    /// queue; its 14 bytes wait unread in the server's receive buffer`.
    pub fn lesson_words(&self) -> String {
        let mut words = match (self.waits_in_queue(), self.queue.and_then(|queue| queue.waiting)) {
            (Some(true), _) => {
                "the second client's handshake finished and it waits in the accept queue".to_string()
            }
            (None, Some(waiting)) if waiting > 0 => {
                format!("the second client's handshake finished, and the accept queue holds {waiting}")
            }
            _ => "the second client's handshake finished".to_string(),
        };
        match self.unread() {
            Some(unread) if unread > 0 => {
                words += &format!("; its {unread} bytes wait unread in the server's receive buffer")
            }
            Some(_) => {}
            None => words += &format!(" ({} does not report the queue or unread bytes)", self.system),
        }
        words
    }
}

/// What the kernel shows of the connection from the client on
/// `client_port`, which has sent `sent` bytes: read again until the table
/// shows those bytes arrived (or the connection accepted, or whatever this
/// system can say), at most [`REPLY_WITHIN`]. `None` when the server is not
/// on this machine or its table cannot be read.
pub fn sight(target: &Target, client_port: u16, sent: usize) -> Option<Sighting> {
    if !target.here {
        return None;
    }
    let sent = u32::try_from(sent).unwrap_or(u32::MAX);
    let source = kernel::SOURCE;
    let seen = |table: &Table| -> Sighting {
        let view = PortView::of(table, target.port(), source);
        let listener = view
            .listeners
            .iter()
            .find(|listener| listener.connections.iter().any(|c| c.client_port == client_port))
            .or(view.listeners.first());
        let client_side = table
            .rows
            .iter()
            .find(|row| row.local.port() == client_port && row.remote.port() == target.port())
            .map(|row| row.state);
        Sighting {
            system: source.system,
            queue: listener.map(|listener| listener.queue),
            server_side: view.connection(client_port).cloned(),
            client_side,
            not_reported: source.not_reported,
        }
    };
    let settled = |sighting: &Sighting| match &sighting.server_side {
        Some(side) => side.server_unread.is_none_or(|unread| unread >= sent) || side.stage == Stage::Accepted,
        // Where the table gives no queues, the client's side is all there is to wait for.
        None => !source.reports_queues && sighting.client_side.is_some(),
    };
    let found = kernel::wait_for(REPLY_WITHIN, |table| Some(seen(table)).filter(settled)).ok()?;
    match found {
        Some(sighting) => Some(sighting),
        None => kernel::read_table().ok().map(|table| seen(&table)),
    }
}
