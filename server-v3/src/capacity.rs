//! How many sessions server-v3 can hold at once, and the slots that keep it
//! within that number.
//!
//! Each session is a thread, an open connection and some memory, and each
//! system limits all three in its own way. The capacity comes from the
//! limits this system really sets, read at start; a limit another system
//! has is never assumed. Past it, a new thread could not be started, or
//! worse (on Linux, a thread that cannot map its stacks, or an allocation
//! that finds no address space left, takes the whole process down), so the
//! server stops accepting at its capacity and lets new clients wait in the
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
    /// every connection is an open file, or more than one.
    OpenFiles {
        /// The limit, `ulimit -n`.
        files: u64,
        /// The open files each session holds.
        per_session: u64,
    },
    /// Linux's `vm.max_map_count`: the memory areas a process may map. Each
    /// thread takes four (its stack and guard page, and the same for the
    /// stack Rust switches to on a stack overflow).
    MemoryMappings(u64),
    /// macOS's `kern.num_taskthreads`: the threads a process may have.
    Threads(u64),
    /// Linux's process limit, `ulimit -u` (`RLIMIT_NPROC`): it counts every
    /// thread of every process of the user, this server's sessions included.
    UserThreads {
        /// The limit.
        limit: u64,
        /// The user's threads when the server started, this one's included;
        /// `None` when they could not be counted: then half the limit is
        /// left to them.
        running: Option<u64>,
    },
    /// Linux's control-group task limit, `pids.max`: every thread of every
    /// process in the group counts (systemd's `TasksMax` for a user's
    /// session, `docker run --pids-limit` for a container).
    GroupTasks {
        /// The limit of the tightest group: its own, or an enclosing one's.
        max: u64,
        /// The tasks of that group when the server started, this one's
        /// threads included.
        current: u64,
    },
    /// Linux's address-space limit, `ulimit -v` (`RLIMIT_AS`), in bytes:
    /// every stack, guard page and buffer of every session counts in it.
    AddressSpace {
        /// The limit, in bytes.
        limit: u64,
        /// The bytes this process had mapped when it read the limit.
        in_use: u64,
    },
    /// No limit this program can read (Windows: sockets are handles and
    /// threads are bounded by memory).
    None,
}

/// The open files each server-v3 session holds: its connection.
pub const FILES_PER_SESSION: u64 = 1;
/// Descriptors kept for the rest of the process: the listening socket,
/// standard input, output and error, and a few the runtime opens.
const FILES_FOR_THE_REST: u64 = 16;
/// Memory areas mapped by the rest of the process: code, heap, libraries.
#[cfg(target_os = "linux")]
const MAPPINGS_FOR_THE_REST: u64 = 1_000;
/// Memory areas each session thread maps on Linux.
const MAPPINGS_PER_THREAD: u64 = 4;
/// The address space one session takes at most: its stack and guard page;
/// the signal stack Rust gives each thread, and its guard page (64 KiB
/// covers the largest); and its buffers, with a 64 KiB message held at once
/// as read, decoded, answered and framed (512 KiB, with room for the
/// allocator's rounding).
#[cfg(target_os = "linux")]
const ADDRESS_SPACE_PER_SESSION: u64 = crate::SESSION_STACK_SIZE as u64 + 4096 + (64 + 512) * 1024;
/// Address space kept for the rest of the process to grow into: the log's
/// lines, the listening socket's connections, the allocator's own needs.
#[cfg(target_os = "linux")]
const ADDRESS_SPACE_FOR_THE_REST: u64 = 16 * 1024 * 1024;

impl Capacity {
    /// The capacity of this process on this system, for sessions that hold
    /// `files_per_session` open files each: the smallest of the limits the
    /// system sets, each read now.
    ///
    /// Under an address-space limit with glibc, it also keeps the allocator
    /// to one arena first: glibc would give each new thread an arena of its
    /// own, 64 MiB of address space each, and take the room counted here
    /// for the sessions' stacks.
    pub fn of_this_process(files_per_session: u64) -> Capacity {
        let mut limits = Vec::new();
        if let Some(files) = client::net::open_file_limit() {
            let sessions = files.saturating_sub(FILES_FOR_THE_REST) / files_per_session.max(1);
            let limit = Limit::OpenFiles {
                files,
                per_session: files_per_session,
            };
            limits.push((sessions, limit));
        }
        limits.extend(thread_limit());
        limits.extend(user_thread_limit());
        limits.extend(group_task_limit());
        limits.extend(address_space_limit());
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

    /// Whether not even one session fits: a server that cannot serve
    /// anybody should say so and not start.
    pub fn has_no_room(&self) -> bool {
        self.sessions == Some(0)
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

/// A resource limit's soft value, `None` when there is none (infinity).
#[cfg(target_os = "linux")]
fn soft_limit(resource: rlimit::Resource) -> Option<u64> {
    let (soft, _hard) = rlimit::getrlimit(resource).ok()?;
    (soft != rlimit::INFINITY).then_some(soft)
}

/// Linux: `ulimit -u`, less the threads the user already runs. (The kernel
/// does not hold root to it; it is honoured all the same. On macOS and the
/// BSDs the same limit counts processes, not threads: a session does not
/// count in it.)
#[cfg(target_os = "linux")]
fn user_thread_limit() -> Option<(u64, Limit)> {
    let limit = soft_limit(rlimit::Resource::NPROC)?;
    let running = threads_of_this_user();
    let sessions = match running {
        Some(running) => limit.saturating_sub(running),
        None => limit / 2,
    };
    Some((sessions, Limit::UserThreads { limit, running }))
}

#[cfg(not(target_os = "linux"))]
fn user_thread_limit() -> Option<(u64, Limit)> {
    None
}

/// The threads of every process whose real user is this process's, the
/// count `ulimit -u` is held to: from each process's `/proc/PID/status`.
/// The user's own processes are listed even where /proc hides the others'.
#[cfg(target_os = "linux")]
fn threads_of_this_user() -> Option<u64> {
    // SAFETY: getuid cannot fail.
    let user = unsafe { libc::getuid() }.to_string();
    let mut threads = 0;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let is_process = entry
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit());
        // A process that ended since the listing has no status: not counted.
        let Some(status) = is_process
            .then(|| std::fs::read_to_string(entry.path().join("status")).ok())
            .flatten()
        else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next().map(str::to_string))
        };
        if field("Uid:").as_deref() == Some(user.as_str()) {
            threads += field("Threads:")?.parse::<u64>().ok()?;
        }
    }
    // This process at least runs one thread: none counted means /proc said nothing.
    (threads > 0).then_some(threads)
}

/// Linux: the task limit of this process's control group (`pids.max`),
/// less the tasks the group runs (`pids.current`), for the group and each
/// group above it; the tightest. None where no group sets one.
#[cfg(target_os = "linux")]
fn group_task_limit() -> Option<(u64, Limit)> {
    let groups = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    group_task_room(&groups, std::path::Path::new("/sys/fs/cgroup"))
}

#[cfg(not(target_os = "linux"))]
fn group_task_limit() -> Option<(u64, Limit)> {
    None
}

/// [`group_task_limit`] for the groups `groups` lists (the text of
/// `/proc/self/cgroup`), mounted under `mounted`. With cgroup v1 the pids
/// controller's line (`8:pids:/path`) names the group, under `pids/`; with
/// v2, the one line `0::/path`, where every controller is.
#[cfg(target_os = "linux")]
fn group_task_room(groups: &str, mounted: &std::path::Path) -> Option<(u64, Limit)> {
    let line = |controller: &str| {
        groups.lines().find_map(|line| {
            let mut fields = line.splitn(3, ':');
            let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
            let named = match controller {
                "" => controllers.is_empty(),
                _ => controllers.split(',').any(|name| name == controller),
            };
            named.then(|| path.trim_start_matches('/').to_string())
        })
    };
    let (top, path) = match line("pids") {
        Some(path) => (mounted.join("pids"), path),
        None => (mounted.to_path_buf(), line("")?),
    };
    let number = |dir: &std::path::Path, file: &str| -> Option<u64> {
        std::fs::read_to_string(dir.join(file)).ok()?.trim().parse().ok()
    };
    let mut tightest: Option<(u64, Limit)> = None;
    let mut dir = top.join(path);
    loop {
        // `max` (no limit) does not parse: no limit at this level.
        if let (Some(max), Some(current)) = (number(&dir, "pids.max"), number(&dir, "pids.current")) {
            let room = max.saturating_sub(current);
            if tightest.as_ref().is_none_or(|(tightest, _)| room < *tightest) {
                tightest = Some((room, Limit::GroupTasks { max, current }));
            }
        }
        if dir == top || !dir.pop() {
            break;
        }
    }
    tightest
}

/// Linux: `ulimit -v`, less what the process has mapped already and a
/// reserve for the rest of it to grow into, divided among sessions.
#[cfg(target_os = "linux")]
fn address_space_limit() -> Option<(u64, Limit)> {
    let limit = soft_limit(rlimit::Resource::AS)?;
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only sets a tunable of the allocator. 1: one arena.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
    // statm's first field: the pages mapped (VmSize). Unread, the whole
    // limit is taken as used: no session is promised room it may not have.
    let in_use = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(limit, |pages| pages * page_size());
    let room = limit
        .saturating_sub(in_use)
        .saturating_sub(ADDRESS_SPACE_FOR_THE_REST);
    Some((
        room / ADDRESS_SPACE_PER_SESSION,
        Limit::AddressSpace { limit, in_use },
    ))
}

#[cfg(not(target_os = "linux"))]
fn address_space_limit() -> Option<(u64, Limit)> {
    None
}

#[cfg(target_os = "linux")]
fn page_size() -> u64 {
    // SAFETY: sysconf only reads a value.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).unwrap_or(4096)
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
            "room for {} at once, one thread each: {}",
            crate::sessions_word(sessions),
            self.limit
        )
    }
}

impl fmt::Display for Limit {
    /// The limit, why it bounds sessions, and the command that shows it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Limit::OpenFiles { files, per_session } => {
                let each = match per_session {
                    1 => "an open file".to_string(),
                    files => format!("{files} open files"),
                };
                write!(
                    f,
                    "the open-file limit is {files}, {FILES_FOR_THE_REST} are kept for the server \
                     itself, and each session is {each} (`ulimit -Hn` shows the most allowed; \
                     `ulimit -n` sets it, up to that)"
                )
            }
            Limit::MemoryMappings(mappings) => write!(
                f,
                "Linux lets a process map {mappings} memory areas and each thread takes \
                 {MAPPINGS_PER_THREAD} (`sysctl vm.max_map_count` shows it; root can raise it)"
            ),
            Limit::Threads(threads) => write!(
                f,
                "macOS lets a process have {threads} threads (`sysctl kern.num_taskthreads` shows it)"
            ),
            Limit::UserThreads { limit, running } => {
                write!(
                    f,
                    "the user may run {limit} threads and processes at once (`ulimit -u`), "
                )?;
                match running {
                    Some(running) => write!(f, "{running} of them running already")?,
                    None => {
                        f.write_str("how many run already could not be counted, so half are left to them")?
                    }
                }
                f.write_str(", and each session is a thread (`ulimit -u` sets it, up to `ulimit -Hu`)")
            }
            Limit::GroupTasks { max, current } => write!(
                f,
                "this process's control group may run {max} threads and processes at once \
                 (`pids.max`), {current} of them running already, and each session is a thread \
                 (`systemctl show -p TasksMax` or the container's `--pids-limit` sets it)"
            ),
            Limit::AddressSpace { limit, in_use } => {
                #[cfg(target_os = "linux")]
                let per_session = ADDRESS_SPACE_PER_SESSION / 1024;
                #[cfg(not(target_os = "linux"))]
                let per_session = 0;
                write!(
                    f,
                    "the address-space limit is {} KiB (`ulimit -v`), {} KiB are in use, and each \
                     session takes up to {per_session} KiB, its stacks and buffers (`ulimit -v` \
                     sets it, up to `ulimit -Hv`)",
                    limit / 1024,
                    in_use / 1024
                )
            }
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
            limit: Limit::OpenFiles {
                files: 1_024,
                per_session: 1,
            },
        };
        assert_eq!(
            capacity.to_string(),
            "room for 1008 sessions at once, one thread each: the open-file limit is 1024, 16 are \
             kept for the server itself, and each session is an open file (`ulimit -Hn` shows the \
             most allowed; `ulimit -n` sets it, up to that)"
        );
    }

    #[test]
    fn the_users_threads_and_the_address_space_are_named_with_their_commands() {
        let threads = Limit::UserThreads {
            limit: 150,
            running: None,
        };
        assert!(threads
            .to_string()
            .contains("could not be counted, so half are left to them"));
        assert!(threads.to_string().contains("(`ulimit -u`)"));
        let space = Limit::AddressSpace {
            limit: 120_000 * 1024,
            in_use: 5_000 * 1024,
        };
        assert!(space
            .to_string()
            .starts_with("the address-space limit is 120000 KiB (`ulimit -v`), 5000 KiB"));
    }

    /// The tightest task limit of a process's group and the groups above
    /// it, with cgroup v2 and with v1's pids controller; a group without a
    /// limit (`max`) sets none.
    #[test]
    #[cfg(target_os = "linux")]
    fn the_tightest_group_task_limit_is_taken() {
        let mounted = std::env::temp_dir().join(format!("server-v3-cgroups-{}", std::process::id()));
        let group = |path: &str, max: &str, current: &str| {
            let dir = mounted.join(path);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("pids.max"), format!("{max}\n")).unwrap();
            std::fs::write(dir.join("pids.current"), format!("{current}\n")).unwrap();
        };
        // v2: the user's slice allows 100 and runs 90; its session, max.
        group("user.slice", "100", "90");
        group("user.slice/session-2.scope", "max", "12");
        let v2 = "0::/user.slice/session-2.scope\n";
        assert_eq!(
            group_task_room(v2, &mounted),
            Some((
                10,
                Limit::GroupTasks {
                    max: 100,
                    current: 90
                }
            ))
        );
        // v1: the pids controller's own hierarchy; its line, not the others'.
        group("pids/docker/abc", "50", "3");
        let v1 = "9:name=systemd:/user.slice\n8:pids:/docker/abc\n0::/\n";
        assert_eq!(
            group_task_room(v1, &mounted),
            Some((47, Limit::GroupTasks { max: 50, current: 3 }))
        );
        // No limit anywhere: none.
        assert_eq!(group_task_room("0::/elsewhere\n", &mounted), None);
        std::fs::remove_dir_all(&mounted).unwrap();
    }

    #[test]
    #[cfg(unix)]
    fn this_process_has_a_capacity_from_its_own_limits() {
        let capacity = Capacity::of_this_process(2);
        let files = client::net::open_file_limit().unwrap();
        assert!(capacity.sessions.unwrap() as u64 <= (files - FILES_FOR_THE_REST) / 2);
    }
}
