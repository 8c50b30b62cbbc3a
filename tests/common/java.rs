//! The JDK, for the tests that hold this workspace to Java itself: its
//! tools, and the Java programs under `tests/java/` compiled when the tests
//! run, so that a class always matches the source beside it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use super::Running;

/// How long `javac` may take. A compile is not what any test measures, and
/// a JVM compiling on a busy machine (a whole suite running on two cores)
/// takes many seconds, past the patience a socket is given.
pub const COMPILE_PATIENCE: Duration = Duration::from_secs(300);

/// A tool of the JDK: from `$JAVA_HOME/bin` if it is there, else from PATH,
/// the same places build.rs looks.
pub fn tool(name: &str) -> PathBuf {
    let file_name = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    std::env::var_os("JAVA_HOME")
        .map(|home| Path::new(&home).join("bin").join(&file_name))
        .filter(|tool| tool.is_file())
        .unwrap_or_else(|| PathBuf::from(file_name))
}

/// Compiles `tests/java/<source>` into the test target's directory `into`,
/// once per test process and directory, and returns the directory. Each
/// test file compiles into a directory of its own: two test processes
/// writing one directory's classes at once could each read the other's
/// half-written files.
pub fn compiled(source: &str, into: &str) -> PathBuf {
    static DONE: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let mut done = DONE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let done = done.get_or_insert_with(HashMap::new);
    if let Some(classes) = done.get(into) {
        return classes.clone();
    }
    let classes = Path::new(env!("CARGO_TARGET_TMPDIR")).join(into);
    std::fs::create_dir_all(&classes).expect("a directory for the classes");
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/java")
        .join(source);
    let mut javac = Command::new(tool("javac"));
    javac.arg("-d").arg(&classes).arg(&source);
    let (status, stderr) = Running::start_command(javac).wait_exit_within(COMPILE_PATIENCE);
    assert!(
        status.success(),
        "javac failed on {}:\n{stderr}",
        source.display()
    );
    done.insert(into.to_string(), classes.clone());
    classes
}
