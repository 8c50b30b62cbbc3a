//! How the tour speaks: headings, narration in English or Korean, the
//! clients' side, the servers' own log, the instruments' panels and the
//! commands to try, each in its own colour on a terminal and plain when
//! piped.
//!
//! The servers run on threads of this process and log through the `log`
//! macros, as they do on their own. The tour's logger holds their lines in a
//! queue, and the narrator prints them when the story reaches them, so the
//! output reads in the order things happened, however the threads interleave.

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anstyle::{AnsiColor, Style as Colour};
use log::{LevelFilter, Log, Metadata, Record};
use socket_lesson::kernel::PortView;
use socket_lesson::peer::PATIENCE;
use socket_lesson::picture::{Known, Picture};
use socket_lesson::term::{self, paint, Style};
pub use socket_lesson::Lang;
use unicode_width::UnicodeWidthStr;

const HEADING: Colour = AnsiColor::Cyan.on_default().bold();
const CLIENT: Colour = AnsiColor::Green.on_default();
const SERVER: Colour = Colour::new().dimmed();
const PANEL: Colour = AnsiColor::Magenta.on_default();
const COMMAND: Colour = AnsiColor::Yellow.on_default();

/// What the tour's clients, servers, panels and pictures are indented by.
const INDENT: &str = "  ";

/// The widest the narration is wrapped to, even on a wide terminal: long
/// lines are hard to read.
const MOST_COLUMNS: usize = 100;

/// The server log lines not yet printed.
static QUEUE: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());
static ARRIVED: Condvar = Condvar::new();

/// The tour's logger: each line in the lesson's format, queued for the narrator.
struct Queue;

impl Log for Queue {
    fn enabled(&self, _: &Metadata) -> bool {
        true
    }

    fn log(&self, record: &Record) {
        let mut line = Vec::new();
        if client::logging::write_line(&mut line, record.args()).is_ok() {
            let line = String::from_utf8_lossy(&line).trim_end().to_string();
            QUEUE.lock().expect("log queue").push_back(line);
            ARRIVED.notify_all();
        }
    }

    fn flush(&self) {}
}

/// What the narrator does after each paragraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pause {
    /// Nothing: the output is not a terminal.
    None,
    /// Waits a moment, time to read it.
    Moment,
    /// Waits for Enter.
    Enter,
}

/// Speaks the tour.
pub struct Narrator {
    lang: Lang,
    pause: Pause,
    style: Style,
    /// The columns narration is wrapped to; `None` when not on a terminal.
    width: Option<usize>,
    /// Server lines printed but not yet matched by [`Narrator::expect_log`].
    shown: Mutex<Vec<String>>,
}

impl Narrator {
    /// A narrator in `lang`; installs the logger that queues the servers'
    /// lines. `wait_for_enter` makes it wait for Enter after each paragraph.
    pub fn new(lang: Lang, wait_for_enter: bool, ascii: bool) -> Narrator {
        log::set_logger(&Queue).expect("the tour installs the only logger");
        log::set_max_level(LevelFilter::Debug);
        let width = term::width();
        let pause = match (wait_for_enter, width) {
            (true, _) => Pause::Enter,
            (false, Some(_)) => Pause::Moment,
            (false, None) => Pause::None,
        };
        Narrator {
            lang,
            pause,
            style: Style::for_stdout(ascii),
            width: width.map(|width| width.min(MOST_COLUMNS)),
            shown: Mutex::new(Vec::new()),
        }
    }

    /// The tour's language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The text in the tour's language.
    pub fn pick<'a>(&self, en: &'a str, ko: &'a str) -> &'a str {
        self.lang.pick(en, ko)
    }

    /// Writes lines to standard output. A closed output ends the tour
    /// quietly; any other failure ends it with one line.
    fn print(&self, text: &str) {
        let mut out = client::cli::stdout();
        if let Err(error) = writeln!(out, "{text}").and_then(|()| out.flush()) {
            client::cli::exit_on_output_failure("socket-lesson", error);
        }
    }

    /// A step's title.
    pub fn heading(&self, en: &str, ko: &str) {
        self.show_log();
        self.print(&format!(
            "\n{}",
            paint(
                &format!("== {} ==", self.pick(en, ko)),
                HEADING,
                self.style.colour
            )
        ));
    }

    /// A paragraph of the story, wrapped to the terminal, then a pause to
    /// read it.
    pub fn say(&self, en: &str, ko: &str) {
        self.show_log();
        let text = self.pick(en, ko);
        let text = match self.width {
            Some(width) => term::wrap(text, width).join("\n"),
            None => text.to_string(),
        };
        self.print(&format!("\n{text}"));
        self.pause();
    }

    fn pause(&self) {
        match self.pause {
            Pause::None => {}
            Pause::Moment => thread::sleep(Duration::from_millis(1200)),
            Pause::Enter => {
                // The marker is for a person at a terminal; a file or a
                // pipe gets the story alone.
                if self.width.is_some() {
                    let mut out = client::cli::stdout();
                    let _ = write!(out, "{}", paint("[Enter]", SERVER, self.style.colour))
                        .and_then(|()| out.flush());
                }
                // The end of input stops the waiting, not the tour.
                let _ = std::io::stdin().lock().read_line(&mut String::new());
            }
        }
    }

    /// What a client of the tour did or saw.
    pub fn client(&self, who: &str, en: &str, ko: &str) {
        self.show_log();
        let label = format!("{INDENT}{} {who} | ", self.pick("client", "클라이언트"));
        self.print_hanging(&label, self.pick(en, ko), label.width(), CLIENT);
    }

    /// What the tour did as a server (in the step where it is one).
    pub fn server(&self, en: &str, ko: &str) {
        self.show_log();
        let label = format!("{INDENT}{} | ", self.pick("server (the tour)", "서버(투어)"));
        self.print_hanging(&label, self.pick(en, ko), label.width(), HEADING);
    }

    /// A table from one of the instruments (`peek`, `crowd`), each line
    /// marked with the instrument's name.
    pub fn panel(&self, instrument: &str, text: &str) {
        self.show_log();
        let label = format!("{INDENT}{instrument} | ");
        for line in text.lines() {
            self.print_hanging(&label, line, label.width() + 2, PANEL);
        }
    }

    /// `label` then `text`, in `colour`: on a terminal, wrapped at spaces to
    /// its width, the lines after the first indented by `hang` columns.
    fn print_hanging(&self, label: &str, text: &str, hang: usize, colour: Colour) {
        let lines = match self.width {
            Some(columns) => term::wrap_hanging(text, columns, label, &" ".repeat(hang)),
            None => vec![format!("{label}{text}")],
        };
        for line in lines {
            self.print(&paint(&line, colour, self.style.colour));
        }
    }

    /// The lesson's picture of `view`, with what the tour knows, indented
    /// and as wide as the terminal leaves room for (80 columns when the
    /// output is not a terminal).
    pub fn picture(&self, view: &PortView, known: &Known) {
        self.show_log();
        let columns = self.columns().saturating_sub(INDENT.len());
        let picture = Picture::new(view, known, self.style, self.lang)
            .fit(columns)
            .draw();
        for line in picture.lines() {
            self.print(&format!("{INDENT}{line}"));
        }
    }

    /// The columns the tour's lines may take: the terminal's, or 80.
    fn columns(&self) -> usize {
        self.width.unwrap_or(80)
    }

    /// The commands to try the step by hand, each with what it shows. A
    /// command is never wrapped, so that it can be copied whole: where a
    /// command and its comment do not fit on one line, the comment goes on
    /// the line above.
    pub fn try_it(&self, commands: &[(&str, &str, &str)]) {
        self.show_log();
        self.print(&format!("\n{}", self.pick("Try it yourself:", "직접 해 보기:")));
        let width = commands
            .iter()
            .map(|(command, _, _)| command.len())
            .max()
            .unwrap_or(0);
        let side_by_side = commands.iter().all(|(command, en, ko)| {
            let comment = self.pick(en, ko);
            comment.is_empty()
                || format!("{INDENT}$ {command:<width$}   # {comment}").width() <= self.columns()
        });
        for (command, en, ko) in commands {
            let comment = self.pick(en, ko);
            if comment.is_empty() {
                self.print(&paint(
                    &format!("{INDENT}$ {command}"),
                    COMMAND,
                    self.style.colour,
                ));
            } else if side_by_side {
                let line = format!("{INDENT}$ {command:<width$}   # {comment}");
                self.print(&paint(&line, COMMAND, self.style.colour));
            } else {
                let room = self.columns().saturating_sub(INDENT.len() + 2);
                for piece in term::wrap(comment, room) {
                    self.print(&paint(&format!("{INDENT}# {piece}"), SERVER, self.style.colour));
                }
                self.print(&paint(
                    &format!("{INDENT}$ {command}"),
                    COMMAND,
                    self.style.colour,
                ));
            }
        }
    }

    /// Prints one line of a server's log, indented and in its colour.
    fn print_server_line(&self, line: &str) {
        self.print_hanging(INDENT, line, 2 * INDENT.len(), SERVER);
    }

    /// Prints the server lines logged so far.
    pub fn show_log(&self) {
        let lines: Vec<String> = QUEUE.lock().expect("log queue").drain(..).collect();
        for line in &lines {
            self.print_server_line(line);
        }
        self.shown.lock().expect("shown lines").extend(lines);
    }

    /// Waits until a server logs a line containing `needle`, printing the
    /// lines up to it. A line already printed since the last such wait counts.
    pub fn expect_log(&self, needle: &str) -> anyhow::Result<()> {
        let mut shown = self.shown.lock().expect("shown lines");
        if let Some(found) = shown.iter().position(|line| line.contains(needle)) {
            shown.drain(..=found);
            return Ok(());
        }
        shown.clear();
        drop(shown);

        let deadline = Instant::now() + PATIENCE;
        let mut queue = QUEUE.lock().expect("log queue");
        loop {
            if let Some(found) = queue.iter().position(|line| line.contains(needle)) {
                let lines: Vec<String> = queue.drain(..=found).collect();
                drop(queue);
                for line in &lines {
                    self.print_server_line(line);
                }
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                anyhow::bail!("the server never logged {needle:?}");
            }
            queue = ARRIVED.wait_timeout(queue, left).expect("log queue").0;
        }
    }

    /// Stops every server's lines from here on: a crowd's would bury the
    /// story, and its servers go on running until the tour ends.
    pub fn silence_servers(&self) {
        self.show_log();
        log::set_max_level(LevelFilter::Off);
    }
}
