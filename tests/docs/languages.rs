//! 3. docs/en and docs/ko: the same files, and the same blocks in each.

use super::*;

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
