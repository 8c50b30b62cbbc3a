//! 1. Every ```rust excerpt is in the file it names, in order.

use super::*;

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
            if matched > 0 && best.is_none_or(|(_, longest)| matched > longest) {
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
        "// tests/docs/mod.rs",
        "fn root() -> &'static Path {",
        "// ...",
        "  fn markdown_in(dir: &Path) -> Vec<PathBuf> {",
        "let Ok(entries) = fs::read_dir(dir) else {",
    ]);
    assert_eq!(check_excerpt(&doc, &faithful), Ok(()));

    let drifted = excerpt(&[
        "// tests/docs/mod.rs",
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
        "// tests/docs/mod.rs",
        "fn markdown_in(dir: &Path) -> Vec<PathBuf> {",
        "// ...",
        "fn root() -> &'static Path {",
    ]);
    let error = check_excerpt(&doc, &out_of_order).unwrap_err();
    assert!(
        error.contains("no such line in tests/docs/mod.rs after"),
        "{error}"
    );

    let unnamed = excerpt(&["fn root() -> &'static Path {"]);
    assert!(check_excerpt(&doc, &unnamed)
        .unwrap_err()
        .contains("must start with a line"));
    let missing = excerpt(&["// no/such/file.rs", "fn main() {}"]);
    assert!(check_excerpt(&doc, &missing).unwrap_err().contains("not a file"));
}
