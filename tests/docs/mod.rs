//! The book's promises, checked on every `cargo test`:
//!
//! 1. every ```rust excerpt names its source file on its first line
//!    (`// server-v2/src/lib.rs`) and its other lines are in that file, in
//!    that order: each run of lines between `// ...` markers contiguous there
//!    (lines compared with their surrounding whitespace trimmed, blank lines
//!    skipped on both sides), and the runs one after another;
//! 2. every relative Markdown link resolves to a file or a directory, and
//!    its `#anchor`, if any, to a heading of that file (anchors made as
//!    GitHub makes them);
//! 3. docs/en and docs/ko hold the same file names, and each Korean file
//!    the same blocks as its English one: code, output and commands that run
//!    alone identical; other commands and the course's Java the same but for
//!    their comments; diagrams with the same participants and arrows, only
//!    their words translated;
//! 4. every chapter has a ```mermaid diagram and ends with its commands
//!    ("## Try it", "## 직접 해 보기");
//! 5. every command in a block marked ```` ```sh alone ```` (commands that
//!    need no second terminal and no person) works: each `cargo run` is run,
//!    as the program it names, and must succeed; each `cargo test` must name
//!    a test file and tests that exist (the test suite runs them itself);
//! 6. chapter 1's `Bind.java` compiles and binds (with a JDK);
//! 7. chapter 8's scenes, which need more than one terminal, play as the
//!    chapter tells them, with its commands, and print what it quotes.
//!
//! The files checked are README.md, docs/README.md and every .md file in
//! docs/en and docs/ko. Each promise is a module of this folder; this file
//! holds what they share: the book's files, and a Markdown file read into
//! its fenced blocks and its prose.

use crate::common;

mod chapters;
mod commands;
mod excerpts;
mod java;
mod languages;
mod links;
mod scenes;

use std::fs;
use std::path::{Component, Path, PathBuf};

/// The repository's root, where the paths in excerpts start.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `.md` files directly in `dir`, sorted; none if `dir` does not exist.
fn markdown_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("reading a docs directory").path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    files.sort();
    files
}

/// Every Markdown file of the book, the two READMEs first.
fn book() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md"), root().join("docs/README.md")];
    for file in &files {
        assert!(file.is_file(), "{} is missing", shown(file));
    }
    files.extend(markdown_in(&root().join("docs/en")));
    files.extend(markdown_in(&root().join("docs/ko")));
    files
}

/// A path as the messages show it: from the repository's root.
fn shown(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}

/// Whether a file name is a chapter's: two digits and a dash, `01-...md`.
fn is_chapter(path: &Path) -> bool {
    let name = path.file_name().and_then(|name| name.to_str()).unwrap_or("");
    let bytes = name.as_bytes();
    bytes.len() > 3 && bytes[0].is_ascii_digit() && bytes[1].is_ascii_digit() && bytes[2] == b'-'
}

/// One fenced code block of a Markdown file.
struct Block {
    /// The info string's first word: `rust`, `mermaid`, `text`, ...
    lang: String,
    /// The words after it: `alone` for a block of commands that run by
    /// themselves (section 5).
    tags: Vec<String>,
    /// The 1-based line number of the block's first content line.
    first_line: usize,
    lines: Vec<String>,
}

/// A Markdown file split into its fenced blocks and the lines outside them
/// (with their 1-based line numbers).
struct Parsed {
    blocks: Vec<Block>,
    prose: Vec<(usize, String)>,
}

fn parse(text: &str) -> Parsed {
    let mut parsed = Parsed {
        blocks: Vec::new(),
        prose: Vec::new(),
    };
    // The fence that opened the current block (```` ``` ```` or `~~~`, maybe longer).
    let mut open: Option<(String, Block)> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim_start();
        let fence_char = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
        let fence: String = match fence_char {
            Some(c) => trimmed.chars().take_while(|&x| x == c).collect(),
            None => String::new(),
        };
        match open.take() {
            Some((opening, block)) => {
                if fence.len() >= 3 && fence.starts_with(&opening) && trimmed[fence.len()..].trim().is_empty()
                {
                    parsed.blocks.push(block);
                } else {
                    let mut block = block;
                    block.lines.push(line.to_string());
                    open = Some((opening, block));
                }
            }
            None if fence.len() >= 3 => {
                let info = trimmed[fence.len()..].trim();
                let lang = info
                    .split(|c: char| c.is_whitespace() || c == ',' || c == '{')
                    .next()
                    .unwrap_or("")
                    .to_string();
                let tags = info
                    .split(|c: char| c.is_whitespace() || c == ',')
                    .skip(1)
                    .filter(|word| !word.is_empty())
                    .map(str::to_string)
                    .collect();
                let block = Block {
                    lang,
                    tags,
                    first_line: number + 1,
                    lines: Vec::new(),
                };
                open = Some((fence, block));
            }
            None => parsed.prose.push((number, line.to_string())),
        }
    }
    if let Some((_, block)) = open {
        // An unclosed fence runs to the end of the file, as Markdown reads it.
        parsed.blocks.push(block);
    }
    parsed
}

/// Reads one book file, panicking with its name if it cannot be read.
fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|error| panic!("cannot read {}: {error}", shown(path)))
}

/// Fails with every problem found, one a line.
fn report(what: &str, problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{what}: {} problem(s)\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The file names of `files`.
fn names(files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .map(|file| {
            file.file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// A command line without its `# comment`.
fn without_comment(line: &str) -> &str {
    line.split(" #").next().unwrap_or(line).trim_end()
}

#[test]
fn the_parser_tells_fences_from_prose() {
    let parsed = parse("# Title\n```rust\n// a.rs\nfn a() {}\n```\ntext\n````mermaid\nflowchart LR\n````\n");
    let langs: Vec<&str> = parsed.blocks.iter().map(|block| block.lang.as_str()).collect();
    assert_eq!(langs, ["rust", "mermaid"]);
    assert_eq!(parsed.blocks[0].first_line, 3);
    assert_eq!(parsed.blocks[0].lines, ["// a.rs", "fn a() {}"]);
    let prose: Vec<&str> = parsed.prose.iter().map(|(_, line)| line.as_str()).collect();
    assert_eq!(prose, ["# Title", "text"]);
}
