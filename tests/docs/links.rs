//! 2. Every relative link resolves, its anchor to a heading.

use super::*;

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
    if trimmed.starts_with('[')
        && let Some((label, rest)) = trimmed.split_once("]:")
        && !label.contains('(')
        && let Some(target) = rest.split_whitespace().next()
    {
        targets.push(target.to_string());
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
