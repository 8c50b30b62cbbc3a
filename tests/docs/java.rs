//! 6. Chapter 1's `Bind.java` compiles and binds (with a JDK).

use super::*;

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
