//! Text that came from a peer, shown so that the peer cannot take over the
//! screen or the log.
//!
//! A message is whatever the other side chose to send. Printed raw, a
//! newline in it would start a line that looks like the program's own (a
//! forged log line), and an escape sequence would recolour or clear the
//! terminal. So every program shows peer text through [`shown`]: control
//! characters and the invisible characters that reorder text (bidirectional
//! overrides) are written as escapes (`\n`, `\u{1b}`), a backslash as `\\` so
//! that an escape cannot be faked, and a long message is cut, with its
//! length said.

use std::fmt;

/// How many characters of a message are shown before it is cut.
pub const SHOWN_CHARS: usize = 200;

/// `text` as it should be shown: escaped, and cut after [`SHOWN_CHARS`]
/// characters.
///
/// ```
/// use client::text::shown;
///
/// assert_eq!(shown("Hello 안녕").to_string(), "Hello 안녕");
/// assert_eq!(
///     shown("hi\n06:06:07.206 [     main] FORGED\x1b[31m").to_string(),
///     r"hi\n06:06:07.206 [     main] FORGED\u{1b}[31m",
/// );
/// assert_eq!(shown(r"a\nb").to_string(), r"a\\nb"); // a real backslash, not a newline
/// let long = "a".repeat(65_535);
/// assert!(shown(&long).to_string().ends_with("… (65535 bytes in all)"));
/// ```
pub fn shown(text: &str) -> Shown<'_> {
    Shown { text }
}

/// Peer text ready to display; see [`shown`].
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a> {
    text: &'a str,
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut characters = self.text.chars();
        for character in characters.by_ref().take(SHOWN_CHARS) {
            match character {
                '\\' => f.write_str("\\\\")?,
                character if is_hidden(character) => write!(f, "{}", character.escape_debug())?,
                character => write!(f, "{character}")?,
            }
        }
        if characters.next().is_some() {
            write!(f, "… ({} bytes in all)", self.text.len())?;
        }
        Ok(())
    }
}

/// Whether `character` must be escaped: a control character (C0, DEL, C1),
/// or one that changes how the text around it is laid out without being
/// seen: every format character (Unicode's category Cf: bidirectional
/// marks, embeddings, overrides and isolates such as U+202E and U+061C,
/// zero-width characters, interlinear annotation marks) and the line and
/// paragraph separators. Taken by category, as Unicode assigns it, so that
/// no such character is missed by a hand-written list.
fn is_hidden(character: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    matches!(
        character.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_character_is_escaped() {
        for code in (0u32..0x20).chain(0x7F..0xA0) {
            let character = char::from_u32(code).unwrap();
            let text = shown(&character.to_string()).to_string();
            assert!(text.starts_with('\\'), "U+{code:04X} shown as {text:?}");
            assert!(
                !text.chars().any(char::is_control),
                "U+{code:04X} shown as {text:?}"
            );
        }
    }

    #[test]
    fn a_bidirectional_override_is_escaped() {
        // U+202E would show "txt.exe" as "exe.txt".
        assert_eq!(shown("a\u{202E}b").to_string(), r"a\u{202e}b");
    }

    #[test]
    fn every_format_character_is_escaped() {
        // The Arabic letter mark, the interlinear annotation anchor, the
        // Mongolian vowel separator, a left-to-right isolate, a zero-width
        // joiner, the byte-order mark, the line separator.
        for character in [
            '\u{061C}', '\u{FFF9}', '\u{180E}', '\u{2066}', '\u{200D}', '\u{FEFF}', '\u{2028}',
        ] {
            let text = shown(&format!("a{character}b")).to_string();
            assert_eq!(
                text,
                format!("a{}b", character.escape_debug()),
                "U+{:04X}",
                u32::from(character)
            );
            assert!(!text.contains(character));
        }
    }

    #[test]
    fn printable_text_is_unchanged() {
        let text = "Hello, 世界! 😀 \"quoted\" 'single'";
        assert_eq!(shown(text).to_string(), text);
    }

    #[test]
    fn a_long_message_is_cut_and_its_length_said() {
        let text = "가".repeat(300);
        let drawn = shown(&text).to_string();
        assert!(drawn.starts_with(&"가".repeat(SHOWN_CHARS)), "{drawn}");
        assert!(drawn.ends_with("… (900 bytes in all)"), "{drawn}");
    }
}
