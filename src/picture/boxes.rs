//! Boxes drawn with text: a title on the top edge, lines inside, wrapped
//! to the box's width; and plain lines when too narrow for boxes.

use anstyle::Style as Colour;
use unicode_width::UnicodeWidthStr;

use crate::term::paint;

/// One line inside a box, and its colour.
pub(super) struct Line {
    pub(super) text: String,
    pub(super) colour: Option<Colour>,
}

impl Line {
    pub(super) fn plain(text: impl Into<String>) -> Line {
        Line {
            text: text.into(),
            colour: None,
        }
    }

    pub(super) fn painted(text: impl Into<String>, colour: Colour) -> Line {
        Line {
            text: text.into(),
            colour: Some(colour),
        }
    }
}

/// The characters boxes are drawn with.
pub(super) struct Glyphs {
    pub(super) top_left: &'static str,
    pub(super) top_right: &'static str,
    pub(super) bottom_left: &'static str,
    pub(super) bottom_right: &'static str,
    pub(super) horizontal: &'static str,
    pub(super) vertical: &'static str,
    pub(super) link: &'static str,
    pub(super) more: &'static str,
}

pub(super) const UNICODE: Glyphs = Glyphs {
    top_left: "┌",
    top_right: "┐",
    bottom_left: "└",
    bottom_right: "┘",
    horizontal: "─",
    vertical: "│",
    link: "──",
    more: "…",
};

pub(super) const ASCII: Glyphs = Glyphs {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    horizontal: "-",
    vertical: "|",
    link: "--",
    more: "...",
};

/// How boxes are drawn: with which characters, in colour or not, and
/// whether at all.
pub(super) struct Pen {
    /// The characters boxes are drawn with.
    pub(super) glyphs: &'static Glyphs,
    /// Whether to paint in colour.
    pub(super) colour_on: bool,
    /// Whether the lines are too narrow for boxes: a title and its lines
    /// indented under it.
    pub(super) unboxed: bool,
}

impl Pen {
    /// `body` in a box `width` columns wide with `title` on its top edge;
    /// lines too long for it are wrapped, and a title too long for the edge
    /// is the box's first line. Too narrow for boxes, the title and then the
    /// body indented under it.
    pub(super) fn boxed(&self, title: &str, body: Vec<Line>, width: usize, colour: Colour) -> Vec<String> {
        let glyphs = self.glyphs;
        let colour_on = self.colour_on;
        let paint_line = |text: String, line_colour: Option<Colour>| match line_colour {
            Some(line_colour) => paint(&text, line_colour, colour_on),
            None => text,
        };
        if self.unboxed {
            let mut lines: Vec<String> = wrap(title, width)
                .into_iter()
                .map(|piece| paint(&piece, colour, colour_on))
                .collect();
            for line in body {
                for piece in wrap(&line.text, width.saturating_sub(2)) {
                    lines.push(format!("  {}", paint_line(piece, line.colour)));
                }
            }
            return lines;
        }
        let inner = width - 4;
        let edge_title = format!("{}{} {title} ", glyphs.top_left, glyphs.horizontal);
        let (top, body) = if edge_title.width() + 1 < width {
            let rest = width - edge_title.width() - 1;
            (
                format!(
                    "{edge_title}{}{}",
                    glyphs.horizontal.repeat(rest),
                    glyphs.top_right
                ),
                body,
            )
        } else {
            let top = format!(
                "{}{}{}",
                glyphs.top_left,
                glyphs.horizontal.repeat(width - 2),
                glyphs.top_right
            );
            let mut lines = vec![Line::painted(title, colour)];
            lines.extend(body);
            (top, lines)
        };
        let mut lines = vec![paint(&top, colour, colour_on)];
        for line in body {
            for piece in wrap(&line.text, inner) {
                let text = paint_line(pad(&piece, inner), line.colour);
                let edge = paint(glyphs.vertical, colour, colour_on);
                lines.push(format!("{edge} {text} {edge}"));
            }
        }
        let bottom = format!(
            "{}{}{}",
            glyphs.bottom_left,
            glyphs.horizontal.repeat(width - 2),
            glyphs.bottom_right
        );
        lines.push(paint(&bottom, colour, colour_on));
        lines
    }
}

/// `text` padded with spaces to `width` columns, as the terminal counts
/// them (a Hangul syllable takes two).
pub(super) fn pad(text: &str, width: usize) -> String {
    let missing = width.saturating_sub(text.width());
    format!("{text}{}", " ".repeat(missing))
}

/// `text` cut into lines of at most `width` columns, at spaces where it can.
pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
    if text.width() <= width {
        return vec![text.to_string()];
    }
    crate::term::wrap(text, width)
}
