//! The order in which connections arrived, as the lab saw it.
//!
//! The kernel's table does not say in which order the connections waiting
//! in a queue arrived. The lab finds out by watching: a thread reads the
//! table every [`EVERY`], and the lab each time it draws, and each
//! connection is noted with the reading it first appears in. Two
//! connections first seen in the same reading arrived too close together to
//! tell, and then no order is claimed.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use socket_lesson::kernel::{self, PortView, Stage};

/// How often the table is read: ten times a second. Clients a learner
/// starts by hand arrive seconds apart, and a reading is not free (the
/// whole table, parsed; on macOS two runs of `netstat`): read every 20 ms,
/// an idle lab took a sixth of a core. Arrivals closer together than this
/// are not told apart, and then no order is claimed.
const EVERY: Duration = Duration::from_millis(100);

/// The lab's notes: each client, with the reading it was first seen in.
/// A reading is the watching thread's, or one the lab made to draw.
#[derive(Clone)]
pub struct Watcher {
    notes: Arc<Mutex<Notes>>,
}

#[derive(Default)]
struct Notes {
    readings: u64,
    first_seen: Vec<(SocketAddr, u64)>,
}

impl Watcher {
    /// Starts watching `port`. The thread runs as long as the lab.
    pub fn start(port: u16) -> Watcher {
        let watcher = Watcher {
            notes: Arc::default(),
        };
        let watching = watcher.clone();
        // Without the thread, only the lab's own readings are noted: a
        // failure to start it is not the lab's end.
        let _ = thread::Builder::new().name("watcher".to_string()).spawn(move || {
            // Ctrl-C must reach the main thread, blocked in accept() or
            // read(), not this one.
            #[cfg(unix)]
            {
                let mut ctrl_c = nix::sys::signal::SigSet::empty();
                ctrl_c.add(nix::sys::signal::Signal::SIGINT);
                let _ = ctrl_c.thread_block();
            }
            loop {
                if let Ok(table) = kernel::read_table() {
                    watching.note(&PortView::of(&table, port, kernel::SOURCE));
                }
                thread::sleep(EVERY);
            }
        });
        watcher
    }

    /// Notes the connections of one reading of the port.
    pub fn note(&self, view: &PortView) {
        let open: Vec<SocketAddr> = view
            .connections()
            .filter(|c| c.stage != Stage::Closed)
            .map(|c| c.client)
            .collect();
        let mut notes = self.notes.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        notes.readings += 1;
        let reading = notes.readings;
        // A connection gone is forgotten: the same client port connecting
        // again is a new arrival.
        notes.first_seen.retain(|(client, _)| open.contains(client));
        for client in open {
            if !notes.first_seen.iter().any(|(noted, _)| *noted == client) {
                notes.first_seen.push((client, reading));
            }
        }
    }

    /// The clients not in `taken`, oldest first, if their order is known:
    /// empty when two of them were first seen in the same reading.
    pub fn arrival_order(&self, taken: &[SocketAddr]) -> Vec<SocketAddr> {
        let notes = self.notes.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut waiting: Vec<(u64, SocketAddr)> = notes
            .first_seen
            .iter()
            .filter(|(client, _)| !taken.contains(client))
            .map(|(client, reading)| (*reading, *client))
            .collect();
        waiting.sort();
        if waiting.windows(2).any(|pair| pair[0].0 == pair[1].0) {
            return Vec::new();
        }
        waiting.into_iter().map(|(_, client)| client).collect()
    }
}
