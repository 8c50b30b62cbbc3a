//! The server's process as /proc shows it: its threads, CPU time and
//! memory, sampled while a crowd runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::SAMPLE_EVERY;

/// The peaks a [`Sampler`] saw.
pub(crate) struct Peaks {
    /// The server's peak thread count; 0 without a server.
    pub(crate) threads: u64,
}

/// Samples, every [`SAMPLE_EVERY`] while a crowd runs, the server's thread
/// count, and keeps its peak.
pub(crate) struct Sampler {
    pub(crate) running: Arc<AtomicBool>,
    pub(crate) sampler: thread::JoinHandle<Peaks>,
}

impl Sampler {
    pub(crate) fn start(pid: Option<u32>) -> Sampler {
        let running = Arc::new(AtomicBool::new(true));
        let still_running = running.clone();
        let sampler = thread::spawn(move || {
            let mut threads = 0;
            loop {
                if let Some(pid) = pid {
                    threads = threads.max(status_field(pid, "Threads:"));
                }
                if !still_running.load(Ordering::Relaxed) {
                    break;
                }
                thread::sleep(SAMPLE_EVERY);
            }
            Peaks { threads }
        });
        Sampler { running, sampler }
    }

    pub(crate) fn stop(self) -> Peaks {
        self.running.store(false, Ordering::Relaxed);
        self.sampler.join().expect("the sampler")
    }
}

/// The server's thread count once it has stopped changing: the warm-up's
/// session threads end a moment after their clients. The same for 100 ms,
/// or whatever it is after 5 s.
pub(crate) fn settled_threads(pid: u32) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut threads = status_field(pid, "Threads:");
    let mut since = Instant::now();
    loop {
        thread::sleep(Duration::from_millis(10));
        let now = status_field(pid, "Threads:");
        if now != threads {
            threads = now;
            since = Instant::now();
        } else if since.elapsed() >= Duration::from_millis(100) || Instant::now() >= deadline {
            return threads;
        }
    }
}

/// A number from /proc/<pid>/status, e.g. `VmHWM:` (KiB) or `Threads:`.
pub(crate) fn status_field(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("reading /proc/<pid>/status");
    number_after(&status, field).unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// The number after `field` at the start of a line of `text` (`field`
/// empty: at the start of `text`).
pub(crate) fn number_after(text: &str, field: &str) -> Option<u64> {
    let value = if field.is_empty() {
        text
    } else {
        text.lines().find_map(|line| line.strip_prefix(field))?
    };
    value.split_whitespace().next()?.parse().ok()
}

/// The CPU time the process has had so far, user and system, all its
/// threads (those that have ended too), in clock ticks: fields 14 (utime)
/// and 15 (stime) of /proc/<pid>/stat, the process's own accounting.
pub(crate) fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("reading /proc/<pid>/stat");
    // Field 2, the name, is in parentheses and may hold spaces: count the
    // fields after it, from field 3.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let field = |number: usize| -> u64 {
        fields
            .get(number - 3)
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("no field {number} in /proc/{pid}/stat: {stat}"))
    };
    field(14) + field(15)
}

/// The units of /proc's figures on this system.
pub(crate) struct Units {
    /// Clock ticks per second: the unit of /proc/<pid>/stat's CPU times.
    pub(crate) clock_ticks_per_s: u64,
    /// Bytes per page: the unit of /proc/net/sockstat's `mem`.
    pub(crate) page_size: u64,
}

pub(crate) static UNITS: std::sync::LazyLock<Units> = std::sync::LazyLock::new(units);

/// What `getconf CLK_TCK` and `getconf PAGESIZE` say.
#[cfg(unix)]
pub(crate) fn units() -> Units {
    let get = |name| {
        // SAFETY: sysconf reads a constant of the system, and takes nothing
        // but its name.
        let value = unsafe { libc::sysconf(name) };
        u64::try_from(value).ok().filter(|&value| value > 0)
    };
    Units {
        clock_ticks_per_s: get(libc::_SC_CLK_TCK).expect("sysconf(_SC_CLK_TCK)"),
        page_size: get(libc::_SC_PAGESIZE).expect("sysconf(_SC_PAGESIZE)"),
    }
}

/// Never used: `main` stops first where there is no /proc. Linux's values.
#[cfg(not(unix))]
pub(crate) fn units() -> Units {
    Units {
        clock_ticks_per_s: 100,
        page_size: 4096,
    }
}

/// The most open files a process may have here: the hard limit, to which
/// the servers raise their own, as this does.
pub(crate) fn open_file_limit() -> String {
    client::net::raise_open_file_limit()
        .map_or_else(|| "an unknown number".to_string(), |limit| limit.to_string())
}
