//! How the tour speaks: headings, narration in English or Korean, the
//! clients' side, the servers' own log, and commands to try, each in its own
//! colour on a terminal and plain when piped.
//!
//! The servers run on threads of this process and log through the `log`
//! macros, as they do on their own. The tour's logger holds their lines in a
//! queue, and the narrator prints them when the story reaches them, so the
//! output reads in the order things happened, however the threads interleave.

use std::collections::VecDeque;
use std::io::IsTerminal;
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anstream::println;
use anstyle::{AnsiColor, Style};
use log::{LevelFilter, Log, Metadata, Record};
pub use socket_lesson::Lang;

const HEADING: Style = AnsiColor::Cyan.on_default().bold();
const CLIENT: Style = AnsiColor::Green.on_default();
const SERVER: Style = Style::new().dimmed();
const PANEL: Style = AnsiColor::Magenta.on_default();
const COMMAND: Style = AnsiColor::Yellow.on_default();

/// How long any wait for a server's log line may take before the tour gives up.
const PATIENCE: Duration = Duration::from_secs(10);

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

/// Speaks the tour.
pub struct Narrator {
    lang: Lang,
    /// On a terminal, a pause after each paragraph gives time to read it.
    pause: Duration,
    /// Server lines printed but not yet matched by [`Narrator::expect_log`].
    shown: Mutex<Vec<String>>,
}

impl Narrator {
    /// A narrator in `lang`; installs the logger that queues the servers' lines.
    pub fn new(lang: Lang) -> Narrator {
        log::set_logger(&Queue).expect("the tour installs the only logger");
        log::set_max_level(LevelFilter::Debug);
        let pause = if std::io::stdout().is_terminal() {
            Duration::from_millis(1200)
        } else {
            Duration::ZERO
        };
        Narrator {
            lang,
            pause,
            shown: Mutex::new(Vec::new()),
        }
    }

    fn pick<'a>(&self, en: &'a str, ko: &'a str) -> &'a str {
        match self.lang {
            Lang::En => en,
            Lang::Ko => ko,
        }
    }

    /// A step's title.
    pub fn heading(&self, en: &str, ko: &str) {
        println!("\n{HEADING}== {} =={HEADING:#}", self.pick(en, ko));
    }

    /// A paragraph of the story, then a pause to read it.
    pub fn say(&self, en: &str, ko: &str) {
        self.show_log();
        println!("\n{}", self.pick(en, ko));
        thread::sleep(self.pause);
    }

    /// What a client of the tour did or saw.
    pub fn client(&self, who: &str, what: &str) {
        self.show_log();
        println!("{CLIENT}  client {who} | {what}{CLIENT:#}");
    }

    /// A table from one of the instruments (`peek`, `crowd`), each line
    /// marked with the instrument's name.
    pub fn panel(&self, instrument: &str, text: &str) {
        self.show_log();
        for line in text.lines() {
            println!("{PANEL}  {instrument} | {line}{PANEL:#}");
        }
    }

    /// The commands to try the step by hand.
    pub fn try_it(&self, commands: &[&str]) {
        self.show_log();
        println!("\n{}", self.pick("Try it yourself:", "직접 해 보기:"));
        for command in commands {
            println!("{COMMAND}  $ {command}{COMMAND:#}");
        }
    }

    /// Prints the server lines logged so far.
    pub fn show_log(&self) {
        let lines: Vec<String> = QUEUE.lock().expect("log queue").drain(..).collect();
        for line in &lines {
            println!("{SERVER}  {line}{SERVER:#}");
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
                for line in lines {
                    println!("{SERVER}  {line}{SERVER:#}");
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

    /// Stops the servers' per-message lines (for a crowd) or brings them back.
    pub fn quiet_servers(&self, quiet: bool) {
        self.show_log();
        log::set_max_level(if quiet {
            LevelFilter::Off
        } else {
            LevelFilter::Debug
        });
    }
}
