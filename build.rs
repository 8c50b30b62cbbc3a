//! Finds out whether this machine has a JDK, for the Java interop tests
//! (tests/java_interop.rs).
//!
//! Without `javac` the tests are marked ignored (cfg `javac_missing`), so
//! `cargo test` says they did not run rather than pretend they passed. On CI
//! (`CI=true`) they always run, and fail loudly if the JDK is missing.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(javac_missing)");
    for variable in ["PATH", "JAVA_HOME", "CI"] {
        println!("cargo::rerun-if-env-changed={variable}");
    }

    // The places the tests look: every directory on PATH, then $JAVA_HOME/bin.
    let path_dirs: Vec<PathBuf> = env::var_os("PATH")
        .map(|path| env::split_paths(&path).collect())
        .unwrap_or_default();
    let java_home_bin = env::var_os("JAVA_HOME").map(|home| PathBuf::from(home).join("bin"));
    let javac_name = format!("javac{}", env::consts::EXE_SUFFIX);
    let javac = path_dirs
        .iter()
        .chain(&java_home_bin)
        .map(|dir| dir.join(&javac_name))
        .find(|candidate| candidate.is_file());

    match javac {
        // Removing the JDK later removes this file, which reruns this script.
        Some(javac) => println!("cargo::rerun-if-changed={}", javac.display()),
        None => {
            // Installing a JDK later changes one of these directories. Only the
            // existing ones: a missing path would rerun this script every build.
            for dir in path_dirs.iter().chain(&java_home_bin).filter(|dir| dir.is_dir()) {
                println!("cargo::rerun-if-changed={}", dir.display());
            }
            if env::var("CI").as_deref() == Ok("true") {
                println!("cargo::warning=no javac found and CI=true: the Java interop tests will fail");
            } else {
                println!("cargo::rustc-cfg=javac_missing");
            }
        }
    }
}
