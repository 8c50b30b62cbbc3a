//! What the terminal can show: colour, box-drawing characters, its width.
//!
//! Each instrument asks once, at start, and draws accordingly: no colour
//! when its output goes to a file or a pipe, so that what a test or a learner
//! saves holds no escape sequences.

use std::io::IsTerminal;

/// How output is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Colour and bold, as ANSI escape sequences.
    pub colour: bool,
    /// Box-drawing characters (`┌─┐`); ASCII (`+-+`) otherwise.
    pub unicode: bool,
}

impl Style {
    /// Plain ASCII, no colour: what a file or a test reads best.
    pub const PLAIN: Style = Style {
        colour: false,
        unicode: false,
    };

    /// What standard output can show: colour only on a terminal, and unless
    /// `NO_COLOR` is set; box characters when the terminal speaks UTF-8, or
    /// when the output is not a terminal at all (a file keeps UTF-8), unless
    /// `ascii` is asked for.
    pub fn for_stdout(ascii: bool) -> Style {
        let terminal = std::io::stdout().is_terminal();
        Style {
            colour: terminal && std::env::var_os("NO_COLOR").is_none() && ansi_enabled(),
            unicode: !ascii && (!terminal || speaks_unicode()),
        }
    }
}

/// Whether the terminal acts on ANSI escape sequences. Unix terminals do;
/// a Windows console does once virtual-terminal processing is switched on,
/// which this asks for (Windows 10 and later).
fn ansi_enabled() -> bool {
    #[cfg(windows)]
    {
        crossterm::ansi_support::supports_ansi()
    }
    #[cfg(not(windows))]
    {
        true
    }
}

/// Whether the terminal shows UTF-8 text, box-drawing characters included.
///
/// On Unix the locale says so (`LC_ALL`, else `LC_CTYPE`, else `LANG`, the
/// first one set, naming UTF-8). On Windows, Rust writes to a console as
/// UTF-16, which the console shows whatever its code page.
pub fn speaks_unicode() -> bool {
    #[cfg(windows)]
    {
        true
    }
    #[cfg(not(windows))]
    {
        ["LC_ALL", "LC_CTYPE", "LANG"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
            .is_some_and(|locale| {
                let locale = locale.to_ascii_lowercase();
                locale.contains("utf-8") || locale.contains("utf8")
            })
    }
}

/// The terminal's width in columns, or `None` when standard output is not
/// a terminal.
pub fn width() -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    crossterm::terminal::size()
        .ok()
        .map(|(columns, _rows)| usize::from(columns))
}

/// `text` broken into lines of at most `width` columns, at spaces: Korean,
/// like English, is wrapped between words, never inside one (Unicode's
/// line-breaking rules would allow a break between any two Hangul
/// syllables). A word longer than a line is cut.
///
/// ```
/// let lines = socket_lesson::term::wrap("서버가 연결을 받아들입니다", 12);
/// assert_eq!(lines, ["서버가", "연결을", "받아들입니다"]);
/// ```
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    wrap_hanging(text, width, "", "")
}

/// `text` wrapped as [`wrap`] does, its first line after `first`, the others
/// after `rest`, both counted in the width.
///
/// ```
/// let lines = socket_lesson::term::wrap_hanging("one two three", 12, "  A | ", "      ");
/// assert_eq!(lines, ["  A | one", "      two", "      three"]);
/// ```
pub fn wrap_hanging(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let options = textwrap::Options::new(width.max(1))
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .break_words(true)
        .initial_indent(first)
        .subsequent_indent(rest);
    textwrap::wrap(text, options)
        .into_iter()
        .map(|line| line.into_owned())
        .collect()
}

/// `text` in `style`, when colour is on.
pub fn paint(text: &str, style: anstyle::Style, colour: bool) -> String {
    if colour && !text.is_empty() {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}
