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
//! docs/en and docs/ko.

mod common;

use std::fs;
use std::path::{Component, Path, PathBuf};

use socket_lesson::kernel;

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

// ---------------------------------------------------------------------------
// 1. Excerpts
// ---------------------------------------------------------------------------

/// Checks one ```rust block against the file it names; `Err` says where
/// and how it drifted.
fn check_excerpt(doc: &Path, block: &Block) -> Result<(), String> {
    let at = |line: usize| format!("{}:{line}", shown(doc));
    let header = block.lines.first().map(|line| line.trim()).unwrap_or("");
    let Some(source_path) = header.strip_prefix("// ").map(str::trim) else {
        return Err(format!(
            "{}: a rust block must start with a line `// <path of its source file>`, not {header:?}",
            at(block.first_line)
        ));
    };
    let source_file = root().join(source_path);
    if source_path.is_empty() || !source_file.is_file() {
        return Err(format!(
            "{}: the excerpt names {source_path:?}, which is not a file of the repository",
            at(block.first_line)
        ));
    }
    let source_text = read(&source_file);
    let source: Vec<&str> = source_text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();

    // The excerpt's lines after the header, trimmed, blank lines dropped,
    // cut into runs at each `// ...`; each line keeps its line number.
    let mut runs: Vec<Vec<(usize, &str)>> = vec![Vec::new()];
    for (offset, line) in block.lines.iter().enumerate().skip(1) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line == "// ..." {
            runs.push(Vec::new());
        } else {
            let run = runs.last_mut().expect("there is always a run");
            run.push((block.first_line + offset, line));
        }
    }

    let mut cursor = 0; // the first source line the next run may start at
    for run in runs.iter().filter(|run| !run.is_empty()) {
        // Where this run matches longest, from the cursor on.
        let mut best: Option<(usize, usize)> = None; // (start, lines matched)
        for start in cursor..source.len() {
            let matched = run
                .iter()
                .zip(&source[start..])
                .take_while(|((_, excerpt), source)| excerpt == *source)
                .count();
            if matched == run.len() {
                best = Some((start, matched));
                break;
            }
            if matched > 0 && best.map_or(true, |(_, longest)| matched > longest) {
                best = Some((start, matched));
            }
        }
        match best {
            Some((start, matched)) if matched == run.len() => cursor = start + matched,
            Some((start, matched)) => {
                let (line_number, drifted) = run[matched];
                return Err(format!(
                    "{}: the excerpt from {source_path} drifted at `{drifted}`: in {source_path}, \
                     after `{}`, the next line is {}",
                    at(line_number),
                    run[matched - 1].1,
                    source
                        .get(start + matched)
                        .map_or("the end of the file".to_string(), |line| format!("`{line}`")),
                ));
            }
            None => {
                let (line_number, drifted) = run[0];
                let place = if cursor == 0 {
                    "anywhere".to_string()
                } else {
                    format!("after `{}`", source[cursor - 1])
                };
                return Err(format!(
                    "{}: the excerpt from {source_path} drifted at `{drifted}`: no such line in \
                     {source_path} {place}",
                    at(line_number),
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn every_rust_excerpt_is_in_its_source_file_in_order() {
    let mut problems = Vec::new();
    let mut excerpts = 0;
    for doc in book() {
        for block in parse(&read(&doc))
            .blocks
            .iter()
            .filter(|block| block.lang == "rust")
        {
            excerpts += 1;
            if let Err(problem) = check_excerpt(&doc, block) {
                problems.push(problem);
            }
        }
    }
    report("excerpts that drifted from the code", problems);
    if !markdown_in(&root().join("docs/en")).is_empty() {
        assert!(excerpts > 0, "the book quotes no code at all");
    }
}

// ---------------------------------------------------------------------------
// 2. Links
// ---------------------------------------------------------------------------

/// A line with its inline code spans blanked out, so that a link written
/// inside backticks is not taken for a link.
fn without_code_spans(line: &str) -> String {
    let mut kept = String::with_capacity(line.len());
    let mut in_code = false;
    for c in line.chars() {
        if c == '`' {
            in_code = !in_code;
            kept.push(' ');
        } else if in_code {
            kept.push(' ');
        } else {
            kept.push(c);
        }
    }
    kept
}

/// The targets of the links in one line: `[text](target)`, `![alt](target)`
/// and a reference definition `[name]: target`.
fn link_targets(line: &str) -> Vec<String> {
    let line = without_code_spans(line);
    let mut targets = Vec::new();
    let trimmed = line.trim_start();
    if trimmed.starts_with('[') {
        if let Some((label, rest)) = trimmed.split_once("]:") {
            if !label.contains('(') {
                if let Some(target) = rest.split_whitespace().next() {
                    targets.push(target.to_string());
                }
            }
        }
    }
    let mut rest = line.as_str();
    while let Some(found) = rest.find("](") {
        let after = &rest[found + 2..];
        let Some(end) = after.find(')') else { break };
        let inside = after[..end].trim();
        // `(path "title")`: the path is the first word; `(<path>)` is allowed.
        let target = inside.split_whitespace().next().unwrap_or("");
        let target = target.trim_start_matches('<').trim_end_matches('>');
        targets.push(target.to_string());
        rest = &after[end..];
    }
    targets
}

/// `a/b/../c` as `a/c`, without asking the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

/// The anchors a code host gives a markdown file's headings, as GitHub
/// makes them: the heading's text in lower case, with spaces turned into
/// hyphens and every other character that is not a letter, a digit, `-` or
/// `_` left out (so `` `--example shutdown` `` gives `--example-shutdown`,
/// and Korean letters stay); a repeated heading gets `-1`, `-2`, ...
fn anchors(markdown: &str) -> Vec<String> {
    let mut anchors: Vec<String> = Vec::new();
    for (_, line) in parse(markdown).prose {
        let Some(heading) = line.strip_prefix('#').map(|rest| rest.trim_start_matches('#')) else {
            continue;
        };
        if !heading.starts_with(' ') {
            continue;
        }
        let slug: String = heading
            .trim()
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        let repeats = anchors
            .iter()
            .filter(|known| **known == slug || known.starts_with(&format!("{slug}-")))
            .count();
        anchors.push(if repeats == 0 {
            slug
        } else {
            format!("{slug}-{repeats}")
        });
    }
    anchors
}

#[test]
fn anchors_are_made_as_a_code_host_makes_them() {
    let markdown =
        "# 5. server-v3\n## How many sessions\n## The course's V6, in Rust: `--example shutdown`\n\
                    ## 세션은 몇 개까지\n## Try it\n## Try it\n```sh\n# not a heading\n```\n";
    assert_eq!(
        anchors(markdown),
        [
            "5-server-v3",
            "how-many-sessions",
            "the-courses-v6-in-rust---example-shutdown",
            "세션은-몇-개까지",
            "try-it",
            "try-it-1"
        ]
    );
}

#[test]
fn every_relative_link_resolves() {
    let mut problems = Vec::new();
    let mut links = 0;
    for doc in book() {
        let base = doc.parent().expect("a file has a directory");
        for (number, line) in parse(&read(&doc)).prose {
            for target in link_targets(&line) {
                let lower = target.to_ascii_lowercase();
                if target.is_empty()
                    || lower.starts_with("http://")
                    || lower.starts_with("https://")
                    || lower.starts_with("mailto:")
                {
                    continue;
                }
                links += 1;
                let (path, anchor) = match target.split_once('#') {
                    Some((path, anchor)) => (path, Some(anchor)),
                    None => (target.as_str(), None),
                };
                let resolved = if path.is_empty() {
                    doc.clone()
                } else {
                    normalize(&base.join(path))
                };
                if !resolved.exists() {
                    problems.push(format!(
                        "{}:{number}: the link ({target}) leads nowhere: {} does not exist",
                        shown(&doc),
                        shown(&resolved)
                    ));
                } else if let Some(anchor) = anchor {
                    let is_markdown = resolved.extension().is_some_and(|extension| extension == "md");
                    if is_markdown && !anchors(&read(&resolved)).iter().any(|known| known == anchor) {
                        problems.push(format!(
                            "{}:{number}: the link ({target}) leads nowhere: {} has no heading #{anchor}",
                            shown(&doc),
                            shown(&resolved)
                        ));
                    }
                }
            }
        }
    }
    report("links that do not resolve", problems);
    assert!(
        links > 0,
        "no relative link found at all: is the link reader broken?"
    );
}

// ---------------------------------------------------------------------------
// 3. The two languages
// ---------------------------------------------------------------------------

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

#[test]
fn english_and_korean_have_the_same_files() {
    let en = names(&markdown_in(&root().join("docs/en")));
    let ko = names(&markdown_in(&root().join("docs/ko")));
    assert!(
        en.iter().any(|name| is_chapter(Path::new(name))),
        "docs/en has no chapter (01-name.md ...)"
    );
    let only_en: Vec<&String> = en.iter().filter(|name| !ko.contains(name)).collect();
    let only_ko: Vec<&String> = ko.iter().filter(|name| !en.contains(name)).collect();
    assert!(
        only_en.is_empty() && only_ko.is_empty(),
        "docs/en and docs/ko must hold the same files: only in docs/en: {only_en:?}; only in docs/ko: {only_ko:?}"
    );
}

/// A diagram's line without its words: who, what kind of arrow, to whom
/// (`A->>K: handshake` → `A->>K`, `Note over K: ...` → `Note over K`,
/// `participant A as A (50000)` → `participant A`, `C50 -- "label" --> Q1`
/// → `C50 --  --> Q1`). The two languages' diagrams must have the same.
fn skeleton(line: &str) -> String {
    let unquoted: String = line.split('"').step_by(2).collect();
    let before_words = unquoted.split(':').next().unwrap_or("");
    let before_alias = before_words.split(" as ").next().unwrap_or("");
    before_alias.trim().to_string()
}

/// A block of Java without its `//` comments, which are translated.
fn java_code(block: &Block) -> Vec<String> {
    block
        .lines
        .iter()
        .map(|line| line.split("//").next().unwrap_or(line).trim_end().to_string())
        .collect()
}

/// A command line without its `# comment`.
fn without_comment(line: &str) -> &str {
    line.split(" #").next().unwrap_or(line).trim_end()
}

/// A block of commands without its comments, which are translated.
fn commands(block: &Block) -> Vec<&str> {
    block.lines.iter().map(|line| without_comment(line)).collect()
}

#[test]
fn korean_chapters_carry_the_same_code_output_commands_and_diagrams() {
    let mut problems = Vec::new();
    for en in markdown_in(&root().join("docs/en")) {
        let ko = root().join("docs/ko").join(en.file_name().expect("a file name"));
        if !ko.is_file() {
            continue; // the test above names it
        }
        let (en_blocks, ko_blocks) = (parse(&read(&en)).blocks, parse(&read(&ko)).blocks);
        let kinds =
            |blocks: &[Block]| -> Vec<String> { blocks.iter().map(|block| block.lang.clone()).collect() };
        if kinds(&en_blocks) != kinds(&ko_blocks) {
            problems.push(format!(
                "{}: its blocks are {:?}, the English ones {:?}",
                shown(&ko),
                kinds(&ko_blocks),
                kinds(&en_blocks)
            ));
            continue;
        }
        for (en_block, ko_block) in en_blocks.iter().zip(&ko_blocks) {
            let same = match en_block.lang.as_str() {
                // Code, program output and commands that run alone: the very same.
                "rust" | "text" => en_block.lines == ko_block.lines,
                // The course's Java, whose comments the Korean book keeps in Korean.
                "java" => java_code(en_block) == java_code(ko_block),
                "sh" if en_block.tags.iter().any(|tag| tag == "alone") => {
                    en_block.tags == ko_block.tags && en_block.lines == ko_block.lines
                }
                // Other commands: the same commands; only the comments are translated.
                "sh" => commands(en_block) == commands(ko_block),
                "mermaid" => {
                    let shape =
                        |block: &Block| block.lines.iter().map(|line| skeleton(line)).collect::<Vec<_>>();
                    shape(en_block) == shape(ko_block)
                }
                _ => true,
            };
            if !same {
                problems.push(format!(
                    "{}:{}: this ```{} block differs from the English one at {}:{}",
                    shown(&ko),
                    ko_block.first_line,
                    ko_block.lang,
                    shown(&en),
                    en_block.first_line
                ));
            }
        }
    }
    report("Korean blocks that differ from the English", problems);
}

#[test]
fn a_diagrams_skeleton_keeps_who_and_how_but_not_the_words() {
    assert_eq!(skeleton("    A->>K: handshake"), "A->>K");
    assert_eq!(skeleton("    K-->>A: connect() 반환"), "K-->>A");
    assert_eq!(skeleton("    Note over K: 큐에 들어감"), "Note over K");
    assert_eq!(skeleton("    participant A as A (50000)"), "participant A");
    assert_eq!(
        skeleton(r#"    C50 -- "handshake done" --> Q1"#),
        skeleton(r#"    C50 -- "핸드셰이크 완료" --> Q1"#)
    );
    assert_eq!(skeleton(r#"    Q2["slot 2: :60000"]"#), "Q2[]");
    assert_ne!(skeleton("    A->>K: x"), skeleton("    K->>A: x"));
}

// ---------------------------------------------------------------------------
// 4. The shape of a chapter
// ---------------------------------------------------------------------------

#[test]
fn every_chapter_has_a_diagram_and_ends_with_its_commands() {
    let mut problems = Vec::new();
    let en = markdown_in(&root().join("docs/en"));
    let ko = markdown_in(&root().join("docs/ko"));
    let chapters = en.iter().map(|doc| (doc, "## Try it"));
    let chapters = chapters.chain(ko.iter().map(|doc| (doc, "## 직접 해 보기")));
    for (doc, commands_heading) in chapters.filter(|(doc, _)| is_chapter(doc)) {
        let parsed = parse(&read(doc));
        if !parsed.blocks.iter().any(|block| block.lang == "mermaid") {
            problems.push(format!("{}: no ```mermaid diagram", shown(doc)));
        }
        let last_section = parsed
            .prose
            .iter()
            .map(|(_, line)| line.trim_end())
            .rfind(|line| line.starts_with("## "));
        if last_section != Some(commands_heading) {
            problems.push(format!(
                "{}: the last section must be \"{commands_heading}\", not {last_section:?}",
                shown(doc)
            ));
        }
    }
    report("chapters out of shape", problems);
}

#[test]
fn the_index_links_every_chapter_in_both_languages() {
    let index = read(&root().join("docs/README.md"));
    let mut problems = Vec::new();
    for name in names(&markdown_in(&root().join("docs/en"))) {
        for lang in ["en", "ko"] {
            let link = format!("]({lang}/{name})");
            if !index.contains(&link) {
                problems.push(format!("docs/README.md does not link {lang}/{name}"));
            }
        }
    }
    report("chapters missing from the index", problems);
}

// ---------------------------------------------------------------------------
// 5. Commands that run by themselves
// ---------------------------------------------------------------------------

/// What one command of a `sh alone` block is, for this test.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    /// `cargo run [-p PACKAGE] [--bin NAME | --example NAME] [-- ARGS]`: the
    /// program it builds, with its arguments.
    Run {
        program: String,
        example: bool,
        args: Vec<String>,
    },
    /// `cargo test [-p PACKAGE] [--test FILE] [FILTER]`.
    Test {
        package: Option<String>,
        file: Option<String>,
        filter: Option<String>,
    },
}

/// Reads one line of a `sh alone` block, its `# comment` removed.
fn command(line: &str) -> Result<Command, String> {
    let line = without_comment(line).trim_start();
    let words: Vec<&str> = line.split_whitespace().collect();
    let (flags, args) = match words.iter().position(|word| *word == "--") {
        Some(at) => (&words[..at], words[at + 1..].to_vec()),
        None => (&words[..], Vec::new()),
    };
    let value = |flag: &str| {
        flags
            .iter()
            .position(|word| *word == flag)
            .and_then(|at| flags.get(at + 1))
            .map(|value| value.to_string())
    };
    match flags {
        ["cargo", "run", ..] => {
            let (program, example) = match (value("--bin"), value("--example"), value("-p")) {
                (Some(bin), _, _) => (bin, false),
                (_, Some(example), _) => (example, true),
                (_, _, Some(package)) => (package, false),
                _ => ("socket-lesson".to_string(), false),
            };
            let args = args.iter().map(|arg| arg.to_string()).collect();
            Ok(Command::Run {
                program,
                example,
                args,
            })
        }
        ["cargo", "test", rest @ ..] => {
            let mut rest = rest.iter();
            let (mut package, mut file, mut filter) = (None, None, None);
            while let Some(word) = rest.next() {
                match *word {
                    "-p" => package = rest.next().map(|name| name.to_string()),
                    "--test" => file = rest.next().map(|name| name.to_string()),
                    other if !other.starts_with('-') => filter = Some(other.to_string()),
                    other => return Err(format!("unexpected flag {other:?} in `{line}`")),
                }
            }
            Ok(Command::Test {
                package,
                file,
                filter,
            })
        }
        _ => Err(format!("`{line}` is neither `cargo run` nor `cargo test`")),
    }
}

/// Checks one command: runs a program, or finds the tests a `cargo test`
/// names. `Err` says what is wrong.
fn check_command(command: &Command) -> Result<(), String> {
    match command {
        Command::Run {
            program,
            example,
            args,
        } => {
            let path = if *example {
                common::example(program)
            } else {
                common::binary(program)
            };
            let output = std::process::Command::new(&path)
                .args(args)
                .output()
                .map_err(|error| format!("cannot run {}: {error}", path.display()))?;
            if output.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "{program} {args:?} exited with {}: {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim_end()
                ))
            }
        }
        Command::Test {
            package,
            file,
            filter,
        } => {
            let crate_root = match package.as_deref() {
                None | Some("socket-lesson") => root().to_path_buf(),
                Some(package) => root().join(package),
            };
            let sources: Vec<PathBuf> = match file {
                Some(file) => vec![crate_root.join("tests").join(format!("{file}.rs"))],
                None => rust_files(&crate_root),
            };
            if let Some(missing) = sources.iter().find(|source| !source.is_file()) {
                return Err(format!("no test file {}", shown(missing)));
            }
            let Some(filter) = filter else { return Ok(()) };
            // cargo's filter matches a test's path: its module names and
            // its function's name.
            let matches = sources.iter().any(|source| {
                let module = source.file_stem().and_then(|stem| stem.to_str()).unwrap_or("");
                module.contains(filter.as_str()) || read(source).contains(&format!("fn {filter}"))
            });
            if matches {
                Ok(())
            } else {
                Err(format!("no test matches {filter:?} in {}", shown(&crate_root)))
            }
        }
    }
}

/// Every `.rs` file under `dir`'s `src` and `tests`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending: Vec<PathBuf> = vec![dir.join("src"), dir.join("tests")];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn every_command_that_runs_alone_works() {
    let mut problems = Vec::new();
    let mut seen: Vec<Command> = Vec::new();
    for doc in book() {
        for block in parse(&read(&doc)).blocks.iter() {
            if block.lang != "sh" || !block.tags.iter().any(|tag| tag == "alone") {
                continue;
            }
            for (offset, line) in block.lines.iter().enumerate() {
                if line.trim().is_empty() || line.trim_start().starts_with('#') {
                    continue;
                }
                let at = format!("{}:{}", shown(&doc), block.first_line + offset);
                match command(line) {
                    // The same command in both languages is run once.
                    Ok(command) if seen.contains(&command) => {}
                    Ok(command) => {
                        if let Err(problem) = check_command(&command) {
                            problems.push(format!("{at}: {problem}"));
                        }
                        seen.push(command);
                    }
                    Err(problem) => problems.push(format!("{at}: {problem}")),
                }
            }
        }
    }
    report("commands that should run by themselves", problems);
    assert!(!seen.is_empty(), "no chapter has a `sh alone` block");
}

#[test]
fn a_command_line_is_read_as_cargo_reads_it() {
    assert_eq!(
        command("cargo run -- --step backlog   # the pictures"),
        Ok(Command::Run {
            program: "socket-lesson".to_string(),
            example: false,
            args: vec!["--step".to_string(), "backlog".to_string()],
        })
    );
    assert_eq!(
        command("cargo run -p server-v3 --example pool -- --workers 2"),
        Ok(Command::Run {
            program: "pool".to_string(),
            example: true,
            args: vec!["--workers".to_string(), "2".to_string()],
        })
    );
    assert_eq!(
        command("cargo test --test lab accept_on_an_empty_queue_blocks_until_a_client_connects"),
        Ok(Command::Test {
            package: None,
            file: Some("lab".to_string()),
            filter: Some("accept_on_an_empty_queue_blocks_until_a_client_connects".to_string()),
        })
    );
    assert!(check_command(&command("cargo test --test lab no_such_test").unwrap()).is_err());
    assert!(check_command(&command("cargo test --test no_such_file").unwrap()).is_err());
    assert!(command("ss -tan").is_err());
}

// ---------------------------------------------------------------------------
// 6. The Java of chapter 1
// ---------------------------------------------------------------------------

/// Chapter 1 runs `java Bind` under strace: the program is shipped, compiles,
/// binds, and the chapter says how to compile and run it.
#[test]
#[cfg_attr(
    javac_missing,
    ignore = "no javac on this machine: install a JDK (apt-get install default-jdk-headless) to compile chapter 1's Bind.java"
)]
fn chapter_1s_bind_java_compiles_and_binds() {
    let classes = common::java::compiled("Bind.java", "bind");

    // Port 0: the kernel picks a free one, and Bind closes it at once.
    let mut java = std::process::Command::new(common::java::tool("java"));
    java.arg("-cp").arg(&classes).args(["Bind", "0"]);
    let (status, stdout, stderr) = common::Running::start_command(java).output();
    assert!(status.success(), "java Bind 0 failed:\n{stderr}");
    assert!(stdout.starts_with("listening on "), "{stdout}");

    let mut problems = Vec::new();
    for lang in ["en", "ko"] {
        let chapter = root()
            .join("docs")
            .join(lang)
            .join("01-server-socket-and-connection.md");
        let text = read(&chapter);
        for shown_there in [
            "javac -d target/java-peer tests/java/Bind.java",
            "java -cp target/java-peer Bind",
        ] {
            if !text.contains(shown_there) {
                problems.push(format!("{} does not show `{shown_there}`", shown(&chapter)));
            }
        }
    }
    report("chapter 1 and Bind.java", problems);
}

// ---------------------------------------------------------------------------
// 7. Chapter 8's scenes
// ---------------------------------------------------------------------------
//
// Each test below plays one scene of chapter 8 with the commands the chapter
// gives (on a free port instead of 12345), types into `lab` what the
// chapter's transcript types, and checks what the programs print; then it
// checks that the chapter, in both languages, gives those commands and
// quotes those lines. The transcripts are Linux's: other systems word these
// errors their own way, and report a reset after an end of stream.

/// Chapter 8, whose scenes these tests play.
const EXCEPTIONS: &str = "08-network-exceptions.md";

/// Starts one of chapter 8's commands as `cargo run` runs it, on `port`
/// (`--port 0` for a server, which then says its port).
fn start_as_the_chapter_says(line: &str, port: Option<u16>) -> common::Running {
    let Ok(Command::Run {
        program,
        example: false,
        args,
    }) = command(line)
    else {
        panic!("`{line}` is not a `cargo run` of a program");
    };
    let port = port.map_or_else(|| "0".to_string(), |port| port.to_string());
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend(["--port", port.as_str()]);
    common::Running::start(&program, &all)
}

/// `lab` started as the chapter's `line` says, with its port.
fn lab_as_the_chapter_says(line: &str) -> common::Server {
    common::Server::from_process(start_as_the_chapter_says(line, None))
}

/// The port of the client whose log says `connected: client 127.0.0.1:PORT -> ...`.
fn client_port(client: &mut common::Running) -> u16 {
    let line = client.expect_line("connected: client ");
    line.split("connected: client ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|address| address.rsplit(':').next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no client port in {line:?}"))
}

/// Checks that chapter 8, in both languages, gives each of `commands` as a
/// line of a ```sh block (its comment aside) and quotes each of `quoted` in
/// a ```text block.
fn the_chapter_shows(commands: &[&str], quoted: &[&str]) {
    let mut problems = Vec::new();
    for lang in ["en", "ko"] {
        let chapter = root().join("docs").join(lang).join(EXCEPTIONS);
        let parsed = parse(&read(&chapter));
        let lines_of = |lang: &str| -> Vec<String> {
            parsed
                .blocks
                .iter()
                .filter(|block| block.lang == lang)
                .flat_map(|block| block.lines.iter().cloned())
                .collect()
        };
        let (commands_shown, transcripts) = (lines_of("sh"), lines_of("text"));
        for wanted in commands {
            if !commands_shown
                .iter()
                .any(|line| without_comment(line).trim() == *wanted)
            {
                problems.push(format!("{} gives no command `{wanted}`", shown(&chapter)));
            }
        }
        for wanted in quoted {
            if !transcripts.iter().any(|line| line.contains(wanted)) {
                problems.push(format!("{} quotes no line with {wanted:?}", shown(&chapter)));
            }
        }
    }
    report("chapter 8 against the scenes it describes", problems);
}

const LAB: &str = "cargo run --bin lab";
const CLIENT_V1: &str = "cargo run -p client --bin client-v1";
const CLIENT_V1_2S: &str = "cargo run -p client --bin client-v1 -- --timeout 2";

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "chapter 8's transcripts are Linux's")]
fn chapter_8_connection_refused() {
    // A port nothing listens on, below the range the kernel hands out.
    let port = common::unused_port();
    let (status, _, stderr) = start_as_the_chapter_says(CLIENT_V1, Some(port)).output();
    assert_eq!(status.code(), Some(1), "{stderr}");
    let refused = "Connection refused (os error 111); nothing listens on port";
    assert!(stderr.contains(refused), "{stderr}");
    the_chapter_shows(&[CLIENT_V1], &[refused]);
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "chapter 8's transcripts are Linux's")]
fn chapter_8_connect_time_out() {
    let lab_line = "cargo run --bin lab -- --backlog 1";
    let lab = lab_as_the_chapter_says(lab_line);
    let port = lab.port;
    // Two clients fill a queue of one: Linux lets one more in than the limit.
    let _waiting: Vec<common::Running> = (0..2)
        .map(|_| start_as_the_chapter_says(CLIENT_V1, Some(port)))
        .collect();
    common::wait_for_kernel("two connections in lab's queue", |table| {
        (table.listener(port)?.queue?.waiting == Some(2)).then_some(())
    });

    let (status, _, stderr) = start_as_the_chapter_says(CLIENT_V1_2S, Some(port)).output();
    assert_eq!(status.code(), Some(1), "{stderr}");
    let timed_out = "the server did not answer the handshake within 2s (--timeout)";
    assert!(stderr.contains(timed_out), "{stderr}");
    // The queue still holds the two: it was full all along.
    let waiting = common::wait_for_kernel("lab's queue", |table| table.listener(port)?.queue?.waiting);
    assert_eq!(waiting, 2);
    the_chapter_shows(&[lab_line, CLIENT_V1, CLIENT_V1_2S], &[timed_out]);
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "chapter 8's transcripts are Linux's")]
fn chapter_8_read_time_out() {
    let lab = lab_as_the_chapter_says(LAB);
    let mut client = start_as_the_chapter_says(CLIENT_V1_2S, Some(lab.port));
    let client_port = client_port(&mut client);
    // The request arrived: 7 bytes wait unread in the queued connection,
    // and no reply comes, because nobody accepted it.
    let port = lab.port;
    common::wait_for_kernel("the client's 7 bytes in lab's queue", |table| {
        common::waits_in_queue(table, port, client_port, 7).then_some(())
    });
    let (status, stderr) = client.wait_exit();
    assert_eq!(status.code(), Some(1), "{stderr}");
    let no_reply = "no reply within 2s (--timeout)";
    assert!(stderr.contains(no_reply), "{stderr}");
    the_chapter_shows(&[LAB, CLIENT_V1_2S], &[no_reply]);
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "chapter 8's transcripts are Linux's")]
fn chapter_8_orderly_close() {
    let mut lab = lab_as_the_chapter_says(LAB);
    let mut client = start_as_the_chapter_says(CLIENT_V1, Some(lab.port));
    client.expect_line("sent: Hello");
    lab.process.type_in("accept\n");
    lab.expect_log("accept() returned socket 1");
    lab.process.type_in("read 1\n");
    let read = "read_utf() returned \"Hello\": 7 bytes taken from socket 1's receive buffer";
    lab.expect_log(read);
    lab.process.type_in("close 1\n");
    let fin = "the kernel says goodbye to the client (FIN)";
    lab.expect_log(fin);
    let (status, stderr) = client.wait_exit();
    assert_eq!(status.code(), Some(1), "{stderr}");
    let eof = "the server closed the connection without replying";
    assert!(stderr.contains(eof), "{stderr}");
    the_chapter_shows(&[LAB, CLIENT_V1], &[read, fin]);
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "chapter 8's transcripts are Linux's")]
fn chapter_8_reset_closing_with_unread_bytes() {
    let mut lab = lab_as_the_chapter_says(LAB);
    let port = lab.port;
    let mut client = start_as_the_chapter_says(CLIENT_V1, Some(port));
    let client_port = client_port(&mut client);
    lab.process.type_in("accept\n");
    lab.expect_log("accept() returned socket 1");
    // The client's Hello is in the accepted socket's receive buffer, unread.
    common::wait_for_kernel("7 bytes unread in socket 1", |table| {
        let row = table.server_side(port, client_port)?;
        (row.unread == Some(7) && row.held == Some(true)).then_some(())
    });
    lab.process.type_in("close 1\n");
    let rst =
        "closed with 7 bytes still unread in its receive buffer, so the kernel resets the connection (RST)";
    lab.expect_log(rst);
    let (status, stderr) = client.wait_exit();
    assert_eq!(status.code(), Some(1), "{stderr}");
    let reset = "cannot read the server's reply: Connection reset by peer (os error 104)";
    assert!(stderr.contains(reset), "{stderr}");
    the_chapter_shows(&[LAB, CLIENT_V1], &[rst, reset]);
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "chapter 8's transcripts are Linux's")]
fn chapter_8_reset_writing_to_a_closed_peer() {
    let mut lab = lab_as_the_chapter_says(LAB);
    let port = lab.port;
    let mut client = start_as_the_chapter_says(CLIENT_V1, Some(port));
    let client_port = client_port(&mut client);
    lab.process.type_in("accept\nread 1\nwrite 1 Hello World!\n");
    lab.expect_log("write_utf() returned: 14 bytes");
    let (status, stderr) = client.wait_exit();
    assert!(status.success(), "client-v1 failed: {stderr}");
    // The client has closed: its FIN came, and lab's side waits to close.
    common::wait_for_kernel("lab's side in CLOSE_WAIT", |table| {
        (table.server_side(port, client_port)?.state == kernel::TcpState::CloseWait).then_some(())
    });

    // The first write is taken: the kernel cannot know yet.
    lab.process.type_in("write 1 anyone there?\n");
    let taken = "write_utf() returned: 15 bytes";
    lab.expect_log(taken);
    // The client's kernel answers with RST, which ends lab's side.
    common::wait_for_kernel("lab's side gone after the client's RST", |table| {
        table.server_side(port, client_port).is_none().then_some(())
    });
    lab.process.type_in("write 1 anyone there?\n");
    let broken = "write_utf() failed: Broken pipe (os error 32)";
    lab.expect_log(broken);
    // Linux reads the FIN that came before the RST: the end of the stream.
    lab.process.type_in("read 1\n");
    let end = "read_utf() returned the end of the stream";
    lab.expect_log(end);
    the_chapter_shows(&[LAB, CLIENT_V1], &[taken, broken, end]);
}

// ---------------------------------------------------------------------------
// The checker's own tests, on made-up text
// ---------------------------------------------------------------------------

#[test]
fn the_checker_catches_drift_and_passes_a_faithful_excerpt() {
    let doc = root().join("docs/en/example.md");
    let excerpt = |lines: &[&str]| Block {
        lang: "rust".to_string(),
        tags: Vec::new(),
        first_line: 10,
        lines: lines.iter().map(|line| line.to_string()).collect(),
    };
    // Lines of this very file, with a gap and changed indentation.
    let faithful = excerpt(&[
        "// tests/docs.rs",
        "fn root() -> &'static Path {",
        "// ...",
        "  fn markdown_in(dir: &Path) -> Vec<PathBuf> {",
        "let Ok(entries) = fs::read_dir(dir) else {",
    ]);
    assert_eq!(check_excerpt(&doc, &faithful), Ok(()));

    let drifted = excerpt(&[
        "// tests/docs.rs",
        "fn markdown_in(dir: &Path) -> Vec<PathBuf> {",
        "let Ok(entries) = fs::read_dir(elsewhere) else {",
    ]);
    let error = check_excerpt(&doc, &drifted).unwrap_err();
    assert!(error.starts_with("docs/en/example.md:12:"), "{error}");
    assert!(
        error.contains("drifted at `let Ok(entries) = fs::read_dir(elsewhere) else {`"),
        "{error}"
    );

    let out_of_order = excerpt(&[
        "// tests/docs.rs",
        "fn markdown_in(dir: &Path) -> Vec<PathBuf> {",
        "// ...",
        "fn root() -> &'static Path {",
    ]);
    let error = check_excerpt(&doc, &out_of_order).unwrap_err();
    assert!(error.contains("no such line in tests/docs.rs after"), "{error}");

    let unnamed = excerpt(&["fn root() -> &'static Path {"]);
    assert!(check_excerpt(&doc, &unnamed)
        .unwrap_err()
        .contains("must start with a line"));
    let missing = excerpt(&["// no/such/file.rs", "fn main() {}"]);
    assert!(check_excerpt(&doc, &missing).unwrap_err().contains("not a file"));
}

#[test]
fn the_link_reader_finds_links_but_not_code() {
    assert_eq!(
        link_targets("See [the book](docs/README.md#top) and ![a picture](pic.png \"title\")."),
        ["docs/README.md#top", "pic.png"]
    );
    assert!(link_targets("Not a link: `[x](nowhere.md)`.").is_empty());
    assert_eq!(link_targets("[index]: ../README.md"), ["../README.md"]);
    assert_eq!(
        normalize(Path::new("docs/en/../README.md")),
        Path::new("docs/README.md")
    );
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
