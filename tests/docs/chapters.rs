//! 4. The shape of a chapter: a diagram, and its commands at the end.

use super::*;

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
