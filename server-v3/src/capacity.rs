//! How many sessions server-v3 can hold at once, and the slots that keep it
//! within that number.
//!
//! Each session is a thread and an open connection, and each system limits
//! both in its own way. The capacity comes from the limits this system
//! really sets, read at start; a limit another system has is never assumed.
//! Past it, a new thread could not be started (on Linux, a thread that
//! cannot map its stacks takes the whole process down), so the server
//! stops accepting at its capacity and lets new clients wait in the
//! kernel's accept queue until a session ends.

use std::fmt;
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};

use log::{info, warn};

/// How many sessions fit, and which limit says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// Sessions at once; `None` when no limit can be read on this system.
    pub sessions: Option<usize>,
    /// The limit that sets it.
    pub limit: Limit,
}

/// A limit of the system's on what a session needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// The open-file limit (the soft limit, already raised to the hard one):
    /// every connection is an open file.
    OpenFiles(u64),
    /// Linux's `vm.max_map_count`: the memory areas a process may map. Each
    /// thread takes four (its stack and guard page, and the same for the
    /// stack Rust switches to on a stack overflow).
    MemoryMappings(u64),
    /// macOS's `kern.num_taskthreads`: the threads a process may have.
    Threads(u64),
    /// No limit this program can read (Windows: sockets are handles and
    /// threads are bounded by memory).
    None,
}

/// Descriptors kept for the rest of the process: the listening socket,
/// standard input, output and error, and a few the runtime opens.
const FILES_FOR_THE_REST: u64 = 16;
/// Memory areas mapped by the rest of the process: code, heap, libraries.
#[cfg(target_os = "linux")]
const MAPPINGS_FOR_THE_REST: u64 = 1_000;
/// Memory areas each session thread maps on Linux.
const MAPPINGS_PER_THREAD: u64 = 4;

impl Capacity {
    /// The capacity of this process on this system: the smallest of the
    /// limits the system sets, each read now.
    pub fn of_this_process() -> Capacity {
        let mut limits = Vec::new();
        if let Some(files) = client::net::open_file_limit() {
            limits.push((files.saturating_sub(FILES_FOR_THE_REST), Limit::OpenFiles(files)));
        }
        limits.extend(thread_limit());
        match limits.into_iter().min_by_key(|(sessions, _)| *sessions) {
            Some((sessions, limit)) => Capacity {
                sessions: Some(usize::try_from(sessions).unwrap_or(usize::MAX)),
                limit,
            },
            None => Capacity {
                sessions: None,
                limit: Limit::None,
            },
        }
    }
}

/// Linux: the mappings a process may have, four per thread.
#[cfg(target_os = "linux")]
fn thread_limit() -> Option<(u64, Limit)> {
    let max_map_count: u64 = std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let sessions = max_map_count.saturating_sub(MAPPINGS_FOR_THE_REST) / MAPPINGS_PER_THREAD;
    Some((sessions, Limit::MemoryMappings(max_map_count)))
}

/// macOS: the threads a process may have, `kern.num_taskthreads`.
#[cfg(target_os = "macos")]
fn thread_limit() -> Option<(u64, Limit)> {
    let threads = client::net::sysctl_int(c"kern.num_taskthreads")?;
    let threads = u64::try_from(threads).ok().filter(|&threads| threads > 0)?;
    // The main thread, and the runtime's, are not sessions.
    Some((threads.saturating_sub(2), Limit::Threads(threads)))
}

/// Elsewhere no thread limit can be read.
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn thread_limit() -> Option<(u64, Limit)> {
    None
}

impl fmt::Display for Capacity {
    /// The log line: the capacity, the limit that sets it, and the command
    /// that shows that limit.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(sessions) = self.sessions else {
            return f.write_str(
                "no limit on sessions that this server can read on this system: each session is a \
                 thread and a socket, bounded by memory",
            );
        };
        write!(
            f,
            "room for {} at once, one thread each: ",
            crate::sessions_word(sessions)
        )?;
        match self.limit {
            Limit::OpenFiles(files) => write!(
                f,
                "the open-file limit is {files}, and each session is an open file \
                 (`ulimit -Hn` shows the most allowed; only root can raise it)"
            ),
            Limit::MemoryMappings(mappings) => write!(
                f,
                "Linux lets a process map {mappings} memory areas and each thread takes \
                 {MAPPINGS_PER_THREAD} (`sysctl vm.max_map_count` shows it; root can raise it)"
            ),
            Limit::Threads(threads) => write!(
                f,
                "macOS lets a process have {threads} threads (`sysctl kern.num_taskthreads` shows it)"
            ),
            Limit::None => Ok(()),
        }
    }
}

/// The session slots: a channel holding a token for each free slot. Taking
/// a slot receives a token, waiting while there is none; a session's
/// [`Slot`] sends its token back when the session's thread drops it.
pub(crate) struct Slots {
    /// `None` when the capacity is unknown: every slot is free at once.
    tokens: Option<(SyncSender<()>, Receiver<()>)>,
    capacity: usize,
}

/// One session's slot, given back when it is dropped.
pub(crate) struct Slot(Option<SyncSender<()>>);

impl Slots {
    /// `capacity` free slots, or no limit at all.
    pub(crate) fn new(capacity: Option<usize>) -> Slots {
        let Some(capacity) = capacity else {
            return Slots {
                tokens: None,
                capacity: 0,
            };
        };
        let (give_back, tokens) = mpsc::sync_channel(capacity);
        for _ in 0..capacity {
            // Cannot fail: the channel has room for every token, and its
            // receiver is right here.
            let _ = give_back.try_send(());
        }
        Slots {
            tokens: Some((give_back, tokens)),
            capacity,
        }
    }

    /// Takes a free slot, waiting until a session ends if there is none.
    /// The log says when the server becomes full and when it has room
    /// again, once each.
    pub(crate) fn take(&self) -> Slot {
        let Some((give_back, tokens)) = &self.tokens else {
            return Slot(None);
        };
        match tokens.try_recv() {
            Ok(()) => {}
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => {
                let verb = if self.capacity == 1 { "is" } else { "are" };
                let open = format!("{} {verb}", crate::sessions_word(self.capacity));
                warn!("full: {open} open; new clients wait in the accept queue until one ends");
                // Cannot fail either: `give_back` is a sender that lives as
                // long as `tokens`.
                let _ = tokens.recv();
                info!("room again: a session ended; accepting the next client");
            }
        }
        Slot(Some(give_back.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(give_back) = &self.0 {
            // The channel holds as many tokens as there are slots, so there
            // is always room for this one.
            let _ = give_back.try_send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_given_back_can_be_taken_again() {
        let slots = Slots::new(Some(2));
        let first = slots.take();
        let second = slots.take();
        let (_, tokens) = slots.tokens.as_ref().unwrap();
        assert!(tokens.try_recv().is_err(), "both slots are taken");
        drop(first);
        let third = slots.take(); // does not wait: first gave its slot back
        drop((second, third));
    }

    #[test]
    fn the_capacity_line_names_its_limit() {
        let capacity = Capacity {
            sessions: Some(1_008),
            limit: Limit::OpenFiles(1_024),
        };
        assert_eq!(
            capacity.to_string(),
            "room for 1008 sessions at once, one thread each: the open-file limit is 1024, and each \
             session is an open file (`ulimit -Hn` shows the most allowed; only root can raise it)"
        );
    }

    #[test]
    #[cfg(unix)]
    fn this_process_has_a_capacity_from_its_own_limits() {
        let capacity = Capacity::of_this_process();
        let files = client::net::open_file_limit().unwrap();
        assert!(capacity.sessions.unwrap() as u64 <= files - FILES_FOR_THE_REST);
    }
}
