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
    /// `cargo test [--workspace] [-p PACKAGE] [--test FILE] [FILTER]`.
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
                    "--workspace" => {}
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
            // The tour's first step asks for port 50000.
            let _port = (program == "socket-lesson").then(common::tour_port);
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
            let tests = crate_root.join("tests");
            // The root package's tests are one binary, tests/lesson.rs, whose
            // tests have paths: `server_v2::`, `lab::accept_on_...`.
            if crate_root == root() && file.as_deref().is_none_or(|file| file == "lesson") {
                return match filter.as_deref().and_then(|filter| filter.split_once("::")) {
                    Some((module, rest)) => test_path_exists(&tests, module, rest),
                    None => match filter {
                        Some(filter) => Err(format!(
                            "{filter:?} is not a path of the lesson's tests (module::test)"
                        )),
                        None => Ok(()),
                    },
                };
            }
            let sources: Vec<PathBuf> = match file {
                Some(file) => vec![tests.join(format!("{file}.rs"))],
                None => rust_files(&[crate_root.join("src"), tests]),
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

/// Whether `module::rest` names tests of the lesson's binary: `module` is a
/// module of tests/lesson.rs (a file or a folder of `dir`), each further
/// name before the last a module in it, and the last one, if any, the
/// beginning of a function's name there.
fn test_path_exists(dir: &Path, module: &str, rest: &str) -> Result<(), String> {
    let declared = read(&dir.join("lesson.rs"));
    if !declared
        .lines()
        .any(|line| line.trim() == format!("mod {module};"))
    {
        return Err(format!("tests/lesson.rs has no module {module}"));
    }
    let (mut file, mut folder) = (dir.join(format!("{module}.rs")), dir.join(module));
    if !file.is_file() {
        file = folder.join("mod.rs");
    }
    let mut names: Vec<&str> = rest.split("::").collect();
    let last = names.pop().unwrap_or("");
    for name in names {
        let inner = folder.join(format!("{name}.rs"));
        if inner.is_file() {
            (file, folder) = (inner, folder.join(name));
        } else if !read(&file).contains(&format!("mod {name} {{")) {
            return Err(format!("{} has no module {name}", shown(&file)));
        }
    }
    if last.is_empty() || read(&file).contains(&format!("fn {last}")) {
        Ok(())
    } else {
        Err(format!("no test named {last}… in {}", shown(&file)))
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
    let lab = "lab::accept_on_an_empty_queue_blocks_until_a_client_connects";
    assert_eq!(
        command(&format!("cargo test --workspace {lab}")),
        Ok(Command::Test {
            package: None,
            file: None,
            filter: Some(lab.to_string()),
        })
    );
    let works = |line: &str| check_command(&command(line).unwrap()).is_ok();
    assert!(works(&format!("cargo test --workspace {lab}")));
    assert!(works("cargo test --workspace server_v2::"));
    assert!(!works("cargo test --workspace lab::no_such_test"));
    assert!(!works("cargo test --workspace no_such_module::"));
    // A module that is a folder, and one of its files.
    assert!(works(
        "cargo test --workspace docs::scenes::chapter_8_orderly_close"
    ));
    assert!(!works("cargo test --workspace docs::chapter_8_orderly_close"));
    assert!(!works("cargo test --workspace docs::scenes::no_such_test"));
    assert!(!works("cargo test --test no_such_file"));
    // Another member's own tests.
    assert!(works("cargo test -p client --test protocol_properties"));
    assert!(command("ss -tan").is_err());
}
