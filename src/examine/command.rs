//! Starting the server to examine from its command line, and stopping it,
//! with everything it started, at the end, whatever happened.
//!
//! A command such as `cargo run -p server-v2` or `java -cp out ServerV2` is
//! a process that may start others (cargo starts the server, a shell its
//! programs). Stopping only the first would leave a server behind on the
//! port, so the command gets a group of its own, and the whole group is
//! stopped:
//!
//! - **Unix**: its own process group (`setpgid`), so that a terminal's
//!   Ctrl-C, sent to examine's group, does not reach it, and the group is
//!   killed at the end (`killpg`). Ctrl-C for `--signal` is SIGINT sent to
//!   the group, as a terminal sends it to the programs in front.
//! - **Windows**: a new process group (`CREATE_NEW_PROCESS_GROUP`) and a
//!   job object that kills every process in it when its last handle closes:
//!   at the end, or when examine itself ends, however it ends. Ctrl-C for
//!   `--signal` is the console's `CTRL_BREAK_EVENT`, the one console event
//!   that can be sent to one group alone (a process in a new group does not
//!   receive `CTRL_C_EVENT`).
//!
//! The command's standard output and error are read all along, and the last
//! lines kept, to be shown when they explain a failure.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use super::scenarios::{listens, seconds};
use crate::kernel;

/// How many of the command's last lines of output are kept.
pub const KEPT_LINES: usize = 200;

/// What `--signal` sends, in words.
#[cfg(unix)]
pub const INTERRUPT: &str = "Ctrl-C (SIGINT, to the command's process group)";
/// What `--signal` sends, in words.
#[cfg(windows)]
pub const INTERRUPT: &str = "Ctrl-Break (CTRL_BREAK_EVENT, to the command's process group)";
/// What `--signal` sends, in words.
#[cfg(not(any(unix, windows)))]
pub const INTERRUPT: &str = "nothing: this system has no way to interrupt the command";

/// A command that could not be examined: one line saying why, and the
/// command's last lines of output, which may say more.
#[derive(Debug)]
pub struct CommandFailed {
    /// What went wrong, in one line.
    pub what: String,
    /// The command's last lines of output, as it wrote them.
    pub output: Vec<String>,
}

impl std::fmt::Display for CommandFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.what)
    }
}

impl std::error::Error for CommandFailed {}

/// A command started by examine, in a group of its own, its output kept.
/// Dropping it stops the command and everything it started.
#[derive(Debug)]
pub struct Started {
    child: Child,
    line: String,
    output: Arc<Mutex<VecDeque<String>>>,
    ended: Option<ExitStatus>,
    #[cfg(windows)]
    job: windows::Job,
}

impl Started {
    /// Starts `program` with `args`, its standard input empty, its output
    /// read and kept.
    ///
    /// ```
    /// use socket_lesson::examine::command::Started;
    ///
    /// let program = if cfg!(windows) { "cmd" } else { "sh" };
    /// let args = if cfg!(windows) { ["/C", "echo hi"] } else { ["-c", "echo hi"] };
    /// let mut started = Started::start(program, &args.map(String::from))?;
    /// let status = started.wait_within(std::time::Duration::from_secs(10))?;
    /// assert!(status.is_some_and(|status| status.success()));
    /// assert_eq!(started.output_after_end(), ["hi"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start(program: &str, args: &[String]) -> Result<Started, CommandFailed> {
        let line = std::iter::once(program)
            .chain(args.iter().map(String::as_str))
            .map(quoted)
            .collect::<Vec<_>>()
            .join(" ");
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        in_a_group_of_its_own(&mut command);
        let mut child = command.spawn().map_err(|error| CommandFailed {
            what: match error.kind() {
                io::ErrorKind::NotFound => {
                    format!("cannot start `{line}`: no program {program:?} was found (is it on PATH?)")
                }
                _ => format!("cannot start `{line}`: {error}"),
            },
            output: Vec::new(),
        })?;
        #[cfg(windows)]
        let job = match windows::Job::holding(&child) {
            Ok(job) => job,
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(CommandFailed {
                    what: format!("cannot give `{line}` a job object to stop it with: {error}"),
                    output: Vec::new(),
                });
            }
        };
        #[cfg(unix)]
        unix::GROUP.store(child.id() as i32, std::sync::atomic::Ordering::SeqCst);
        let output = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(stdout) = child.stdout.take() {
            keep_lines(stdout, &output);
        }
        if let Some(stderr) = child.stderr.take() {
            keep_lines(stderr, &output);
        }
        Ok(Started {
            child,
            line,
            output,
            ended: None,
            #[cfg(windows)]
            job,
        })
    }

    /// The command line, as given.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The command's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits, at most `within`, until the kernel lists a socket listening
    /// on `address`; returns how long it took. Fails, with the command's
    /// output, if the command exits first or nothing listens in time.
    pub fn wait_until_listening(
        &mut self,
        address: SocketAddr,
        within: Duration,
    ) -> Result<Duration, CommandFailed> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.status() {
                return Err(self.failed(format!(
                    "`{}` ended ({}) before anything listened on {address}",
                    self.line,
                    status_words(status)
                )));
            }
            match kernel::read_table() {
                Ok(table) if listens(&table, address) => return Ok(started.elapsed()),
                Ok(_) => {}
                Err(error) => return Err(self.failed(error.to_string())),
            }
            if started.elapsed() >= within {
                return Err(self.failed(format!(
                    "nothing listened on {address} within {} (--wait), though `{}` is still running: does \
                     it listen on another port?",
                    seconds(within),
                    self.line
                )));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The command's exit status, if it has ended (by itself: examine has
    /// not stopped it yet).
    pub fn status(&mut self) -> Option<ExitStatus> {
        if self.ended.is_none() {
            self.ended = self.child.try_wait().ok().flatten();
        }
        self.ended
    }

    /// Waits at most `within` for the command to end; its status, or `None`
    /// if it is still running.
    pub fn wait_within(&mut self, within: Duration) -> io::Result<Option<ExitStatus>> {
        if self.ended.is_none() {
            self.ended = self.child.wait_timeout(within)?;
        }
        Ok(self.ended)
    }

    /// Sends the command's group Ctrl-C, as [`INTERRUPT`] says.
    pub fn interrupt(&self) -> io::Result<()> {
        #[cfg(unix)]
        {
            use nix::sys::signal::{killpg, Signal};
            killpg(nix::unistd::Pid::from_raw(self.child.id() as i32), Signal::SIGINT)
                .map_err(io::Error::from)
        }
        #[cfg(windows)]
        {
            windows::break_group(self.child.id())
        }
        #[cfg(not(any(unix, windows)))]
        {
            Err(io::Error::new(io::ErrorKind::Unsupported, INTERRUPT))
        }
    }

    /// The command's last lines of output so far, as it wrote them.
    pub fn output(&self) -> Vec<String> {
        self.output
            .lock()
            .map(|lines| lines.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The command's last lines of output once it has ended: read until its
    /// output closes (at most a second, for a child of it that keeps it open).
    pub fn output_after_end(&self) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(1);
        while Arc::strong_count(&self.output) > 1 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        self.output()
    }

    /// Stops the command and every process in its group, if they are still
    /// running, and waits for the command. Returns its status if it had
    /// ended by itself before.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        let ended = self.status();
        #[cfg(unix)]
        {
            use nix::sys::signal::{killpg, Signal};
            // The group outlives its first process while others are in it.
            let _ = killpg(
                nix::unistd::Pid::from_raw(self.child.id() as i32),
                Signal::SIGKILL,
            );
            unix::GROUP.store(0, std::sync::atomic::Ordering::SeqCst);
        }
        #[cfg(windows)]
        self.job.terminate();
        let _ = self.child.kill();
        let _ = self.child.wait();
        ended
    }

    fn failed(&self, what: String) -> CommandFailed {
        CommandFailed {
            what,
            output: self.output_after_end_if_ended(),
        }
    }

    fn output_after_end_if_ended(&self) -> Vec<String> {
        match self.ended {
            Some(_) => self.output_after_end(),
            None => self.output(),
        }
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A word of a command line as a shell would need it typed, for showing:
/// in single quotes when it is empty or holds a space or a quote.
fn quoted(word: &str) -> String {
    if !word.is_empty() && !word.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"') {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// An exit status in words: `exit status 1`, `killed by signal 9`.
pub fn status_words(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => status.to_string().replace("signal:", "killed by signal"),
    }
}

/// Reads `stream` line by line on a thread of its own, keeping the last
/// [`KEPT_LINES`].
fn keep_lines(stream: impl Read + Send + 'static, kept: &Arc<Mutex<VecDeque<String>>>) {
    let kept = Arc::clone(kept);
    thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).is_ok_and(|read| read > 0) {
            let text = String::from_utf8_lossy(&line)
                .trim_end_matches(['\r', '\n'])
                .to_string();
            if let Ok(mut lines) = kept.lock() {
                if lines.len() == KEPT_LINES {
                    lines.pop_front();
                }
                lines.push_back(text);
            }
            line.clear();
        }
    });
}

/// Gives the command its own group, as the module's documentation says.
fn in_a_group_of_its_own(command: &mut Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
        // SAFETY: between fork and exec only async-signal-safe calls are
        // allowed; sigaction is one.
        unsafe {
            command.pre_exec(|| {
                use nix::sys::signal::{signal, SigHandler, Signal};
                // A program started in the background inherits SIGINT
                // ignored, and keeps it through exec; a JVM then installs no
                // handler and never runs its shutdown hooks on Ctrl-C. The
                // command gets SIGINT as a program started in front has it.
                signal(Signal::SIGINT, SigHandler::SigDfl)
                    .map(drop)
                    .map_err(io::Error::from)
            });
        }
    }
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        command.creation_flags(windows_sys::Win32::System::Threading::CREATE_NEW_PROCESS_GROUP);
    }
}

/// Makes Ctrl-C (SIGINT), SIGTERM and SIGHUP stop the started command's
/// process group before this program ends with status 128 + the signal's
/// number, as a program killed by it would. A signal this program was
/// started with ignored (SIGINT in the background, SIGHUP under `nohup`)
/// stays ignored. For the whole process: call it once, before starting the
/// command.
///
/// On Windows the job object does it: when examine ends, however it ends,
/// its handle closes and every process in the job is stopped.
pub fn stop_on_signals() -> io::Result<()> {
    #[cfg(unix)]
    unix::install()?;
    Ok(())
}

#[cfg(unix)]
mod unix {
    use std::sync::atomic::{AtomicI32, Ordering};

    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

    /// The started command's process group, for the signal handler; 0 when
    /// none is running.
    pub(super) static GROUP: AtomicI32 = AtomicI32::new(0);

    extern "C" fn stop_then_exit(signal: libc::c_int) {
        let group = GROUP.load(Ordering::SeqCst);
        // SAFETY: kill and _exit are async-signal-safe, and take no pointers.
        unsafe {
            if group > 0 {
                libc::kill(-group, libc::SIGKILL);
            }
            libc::_exit(128 + signal);
        }
    }

    pub(super) fn install() -> std::io::Result<()> {
        let action = SigAction::new(
            SigHandler::Handler(stop_then_exit),
            SaFlags::empty(),
            SigSet::empty(),
        );
        for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
            // SAFETY: the handler only makes async-signal-safe calls.
            let previous = unsafe { sigaction(signal, &action) }?;
            if previous.handler() == SigHandler::SigIgn {
                // SAFETY: restores what was there.
                unsafe { sigaction(signal, &previous) }?;
            }
        }
        Ok(())
    }
}

#[cfg(windows)]
mod windows {
    use std::io;
    use std::os::windows::io::AsRawHandle;
    use std::process::Child;

    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
    use windows_sys::Win32::System::Console::{GenerateConsoleCtrlEvent, CTRL_BREAK_EVENT};
    use windows_sys::Win32::System::JobObjects::{
        AssignProcessToJobObject, CreateJobObjectW, JobObjectExtendedLimitInformation,
        SetInformationJobObject, TerminateJobObject, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
        JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    };

    /// A job object that kills its processes when its last handle closes.
    #[derive(Debug)]
    pub(super) struct Job(HANDLE);

    impl Job {
        /// A new job, holding `child`. The processes `child` starts from
        /// now on are in it too.
        pub(super) fn holding(child: &Child) -> io::Result<Job> {
            // SAFETY: no security attributes, no name: both may be null.
            let handle = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
            if handle.is_null() {
                return Err(io::Error::last_os_error());
            }
            let job = Job(handle);
            let mut limits = JOBOBJECT_EXTENDED_LIMIT_INFORMATION::default();
            limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
            // SAFETY: the pointer and size describe `limits`, alive for the call.
            let set = unsafe {
                SetInformationJobObject(
                    job.0,
                    JobObjectExtendedLimitInformation,
                    (&limits as *const JOBOBJECT_EXTENDED_LIMIT_INFORMATION).cast(),
                    std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
                )
            };
            if set == 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: both handles are open: the job's, and the child's, which
            // `child` owns.
            if unsafe { AssignProcessToJobObject(job.0, child.as_raw_handle() as HANDLE) } == 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(job)
        }

        /// Stops every process in the job.
        pub(super) fn terminate(&self) {
            // SAFETY: the job's handle is open until drop. Nothing to do if
            // it fails: the processes have ended.
            unsafe { TerminateJobObject(self.0, 1) };
        }
    }

    impl Drop for Job {
        fn drop(&mut self) {
            // SAFETY: the handle is open, and closed once.
            unsafe { CloseHandle(self.0) };
        }
    }

    /// Sends Ctrl-Break to the process group `group` (a process started
    /// with `CREATE_NEW_PROCESS_GROUP` leads a group of its own id).
    pub(super) fn break_group(group: u32) -> io::Result<()> {
        // SAFETY: plain values.
        if unsafe { GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, group) } == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::quoted;

    #[test]
    fn a_word_is_quoted_only_when_a_shell_would_need_it() {
        assert_eq!(quoted("JavaPeer"), "JavaPeer");
        assert_eq!(quoted(" World"), "' World'");
        assert_eq!(quoted(""), "''");
        assert_eq!(quoted("it's"), r"'it'\''s'");
    }
}
