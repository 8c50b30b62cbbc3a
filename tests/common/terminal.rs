//! A program on a real pseudo-terminal, driven as a person drives it: a
//! terminal of a given size, keys typed, Ctrl-C and Ctrl-D pressed (the
//! terminal's line discipline turns them into SIGINT and the end of input,
//! as it does for a person), and the screen read as the terminal draws it.
//!
//! A pipe is not a terminal: on one, the programs wrap nothing, draw no
//! colour, run no line editor and take Ctrl-C as a signal sent to them
//! alone. The defects of a program at a terminal (a picture one column too
//! wide, a library's log in the middle of the prompt, a Ctrl-C the line
//! editor swallows) only show here.
//!
//! The pseudo-terminal is portable-pty's; the screen is kept by vt100, a
//! terminal emulator in memory, with every line that scrolled off the top.

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, Child, CommandBuilder, ExitStatus, MasterPty, PtySize};

use super::PATIENCE;

/// The longest any one wait lasts while the program keeps writing: the
/// tour's longest step, read at its pace on a busy machine, fits well.
const STORY_PATIENCE: Duration = Duration::from_secs(120);

/// How many lines scrolled off the top are kept.
const SCROLLBACK: usize = 10_000;

/// The keys a person presses, as the terminal sends them.
pub const ENTER: &str = "\r";
pub const CTRL_C: &str = "\x03";
pub const CTRL_D: &str = "\x04";
pub const UP: &str = "\x1b[A";
pub const LEFT: &str = "\x1b[D";

/// A program running on a pseudo-terminal `columns` wide and `rows` high.
pub struct Terminal {
    screen: Arc<Screen>,
    /// What the person types, and the terminal's own answers.
    keyboard: Arc<Mutex<Box<dyn Write + Send>>>,
    child: Box<dyn Child + Send + Sync>,
    /// Kept open for the program's whole life: the terminal's master side.
    _master: Box<dyn MasterPty + Send>,
    pub columns: u16,
    pub rows: u16,
}

/// What the terminal shows, updated as the program writes.
struct Screen {
    parser: Mutex<vt100::Parser>,
    changed: Condvar,
    /// When the program last wrote anything.
    last_output: Mutex<Instant>,
    /// Whether the terminal's output has ended: every program holding it
    /// has closed it.
    ended: Mutex<bool>,
}

impl Terminal {
    /// Starts `program` with `args` on a new terminal of `columns` × `rows`,
    /// in a UTF-8 locale, as a terminal emulator starts a shell's command.
    pub fn start(program: &Path, args: &[&str], columns: u16, rows: u16) -> Terminal {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols: columns,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut command = CommandBuilder::new(program);
        command.args(args);
        command.cwd(env!("CARGO_MANIFEST_DIR"));
        command.env("TERM", "xterm-256color");
        command.env("LANG", "C.UTF-8");
        command.env_remove("LC_ALL");
        command.env_remove("NO_COLOR");
        // A terminal of its own, whatever terminal the tests run in.
        command.env_remove("TMUX");
        command.env_remove("TMUX_PANE");
        let child = pair
            .slave
            .spawn_command(command)
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", program.display()));
        // The program has its own copy of the terminal's slave side.
        drop(pair.slave);
        let screen = Arc::new(Screen {
            parser: Mutex::new(vt100::Parser::new(
                NonZeroU16::new(rows).expect("a terminal has rows"),
                NonZeroU16::new(columns).expect("a terminal has columns"),
                SCROLLBACK,
            )),
            changed: Condvar::new(),
            last_output: Mutex::new(Instant::now()),
            ended: Mutex::new(false),
        });
        let mut output = pair.master.try_clone_reader().expect("the terminal's output");
        let keyboard = Arc::new(Mutex::new(
            pair.master.take_writer().expect("the terminal's input"),
        ));
        {
            let screen = Arc::clone(&screen);
            let keyboard = Arc::clone(&keyboard);
            thread::spawn(move || {
                let mut bytes = [0u8; 4096];
                while let Ok(count) = output.read(&mut bytes) {
                    if count == 0 {
                        break;
                    }
                    let mut parser = screen.parser.lock().unwrap();
                    parser.process(&bytes[..count]);
                    // A line editor asks where the cursor is (ESC [ 6 n), and
                    // waits for the terminal's answer: the terminal answers.
                    if bytes[..count].windows(4).any(|window| window == b"\x1b[6n") {
                        let (row, column) = parser.screen().cursor_position();
                        let answer = format!("\x1b[{};{}R", row + 1, column + 1);
                        let mut keyboard = keyboard.lock().unwrap();
                        let _ = keyboard
                            .write_all(answer.as_bytes())
                            .and_then(|()| keyboard.flush());
                    }
                    drop(parser);
                    *screen.last_output.lock().unwrap() = Instant::now();
                    screen.changed.notify_all();
                }
                *screen.ended.lock().unwrap() = true;
                screen.changed.notify_all();
            });
        }
        Terminal {
            screen,
            keyboard,
            child,
            _master: pair.master,
            columns,
            rows,
        }
    }

    /// Types `keys` (text, or one of [`ENTER`], [`CTRL_C`], …).
    pub fn press(&mut self, keys: &str) {
        let mut keyboard = self.keyboard.lock().unwrap();
        keyboard
            .write_all(keys.as_bytes())
            .expect("typing into the terminal");
        keyboard.flush().expect("typing into the terminal");
    }

    /// Types `line` and Enter.
    pub fn type_line(&mut self, line: &str) {
        self.press(line);
        self.press(ENTER);
    }

    /// Every line the terminal has shown, the ones scrolled off the top
    /// first, each without its trailing spaces.
    pub fn transcript(&self) -> Vec<String> {
        let mut parser = self.screen.parser.lock().unwrap();
        transcript(&mut parser)
    }

    /// Waits until `count` lines of the transcript contain `needle`;
    /// returns the transcript then.
    ///
    /// A program that tells a story at a reader's pace (the tour pauses
    /// after each paragraph) takes as long as its story: the wait gives up
    /// when the program has written nothing for [`PATIENCE`], or after
    /// [`STORY_PATIENCE`] in all.
    pub fn wait_for_nth(&mut self, needle: &str, count: usize) -> Vec<String> {
        let started = Instant::now();
        loop {
            let lines = self.transcript();
            if lines.iter().filter(|line| line.contains(needle)).count() >= count {
                return lines;
            }
            if let Some(why) = self.stalled(started) {
                panic!(
                    "the terminal never showed {needle:?} ({count} times): {why}; it shows:\n{}",
                    lines.join("\n")
                );
            }
            let parser = self.screen.parser.lock().unwrap();
            let _ = self
                .screen
                .changed
                .wait_timeout(parser, Duration::from_millis(50));
        }
    }

    /// Why a wait that began at `started` should give up, if it should: the
    /// program has been silent for [`PATIENCE`], or the wait has lasted
    /// [`STORY_PATIENCE`].
    fn stalled(&self, started: Instant) -> Option<String> {
        let silent = self.screen.last_output.lock().unwrap().elapsed();
        if silent >= PATIENCE {
            Some(format!("the program wrote nothing for {silent:?}"))
        } else if started.elapsed() >= STORY_PATIENCE {
            Some(format!("still waiting after {STORY_PATIENCE:?}"))
        } else {
            None
        }
    }

    /// Waits until a line of the transcript contains `needle`; returns the
    /// transcript then.
    pub fn wait_for(&mut self, needle: &str) -> Vec<String> {
        self.wait_for_nth(needle, 1)
    }

    /// Waits, bounded as [`Terminal::wait_for_nth`] is, for the program to
    /// end; its exit status.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("the program's status") {
                self.drain();
                return status;
            }
            if let Some(why) = self.stalled(started) {
                let _ = self.child.kill();
                panic!(
                    "the program did not end: {why}; the terminal shows:\n{}",
                    self.transcript().join("\n")
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until what the program wrote before it ended has reached the
    /// screen: until the terminal's output ends, or it has been silent for
    /// [`PATIENCE`] (a program it started may keep the terminal open).
    fn drain(&self) {
        while !*self.screen.ended.lock().unwrap()
            && self.screen.last_output.lock().unwrap().elapsed() < PATIENCE
        {
            // The condition variable goes with the screen's lock alone.
            let parser = self.screen.parser.lock().unwrap();
            let _ = self
                .screen
                .changed
                .wait_timeout(parser, Duration::from_millis(50));
        }
    }

    /// Whether the program is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("the program's status").is_none()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if self.is_running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Every line `parser` holds: the scrollback, oldest first, then the
/// screen, each without its trailing spaces; trailing blank lines dropped.
fn transcript(parser: &mut vt100::Parser) -> Vec<String> {
    let (rows, columns) = parser.screen().size();
    let (rows, columns) = (usize::from(rows.get()), columns.get());
    parser.screen_mut().set_scrollback(usize::MAX);
    let scrolled = parser.screen().scrollback();
    let mut lines = Vec::new();
    let mut covered = 0;
    while covered < scrolled + rows {
        // At scrollback `offset`, the screen shows lines from `scrolled - offset`.
        let offset = scrolled.saturating_sub(covered);
        parser.screen_mut().set_scrollback(offset);
        let first = scrolled - offset;
        let visible: Vec<String> = parser.screen().rows(0, columns).collect();
        lines.extend(visible.into_iter().skip(covered - first));
        covered = first + rows;
    }
    parser.screen_mut().set_scrollback(0);
    let lines: Vec<String> = lines
        .into_iter()
        .map(|line| line.trim_end().to_string())
        .collect();
    let last = lines
        .iter()
        .rposition(|line| !line.is_empty())
        .map_or(0, |at| at + 1);
    lines[..last].to_vec()
}
