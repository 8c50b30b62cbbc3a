//! 5. Every command of a ```` ```sh alone ```` block works.

use super::*;

/// What one command of a `sh alone` block is, for this test.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Command {
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
pub(super) fn command(line: &str) -> Result<Command, String> {
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
                // A test target is a file, tests/FILE.rs, or a folder whose
                // main.rs is its root, tests/FILE/main.rs, as cargo finds them.
                Some(file) => {
                    let folder = crate_root.join("tests").join(file);
                    if folder.join("main.rs").is_file() {
                        rust_files(&[folder])
                    } else {
                        vec![crate_root.join("tests").join(format!("{file}.rs"))]
                    }
                }
                None => rust_files(&[crate_root.join("src"), crate_root.join("tests")]),
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

/// Every `.rs` file under `dirs`.
fn rust_files(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending: Vec<PathBuf> = dirs.to_vec();
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
    // A test target that is a folder: its tests are in any of its files.
    assert!(check_command(&command("cargo test --test docs chapter_8_orderly_close").unwrap()).is_ok());
    assert!(check_command(&command("cargo test --test docs no_such_test").unwrap()).is_err());
    assert!(check_command(&command("cargo test --test no_such_file").unwrap()).is_err());
    assert!(command("ss -tan").is_err());
}
