//! Finds out whether this machine has the tools some tests drive: a JDK for
//! the Java interop tests (tests/java_interop.rs), and tmux for the
//! side-by-side script's test (tests/side_by_side.rs). tmux is looked for only
//! when building for Unix: the script is a bash script for tmux, and on
//! Windows its test is ignored with a reason of its own.
//!
//! A missing tool marks its tests ignored (cfg `javac_missing`,
//! `tmux_missing`), so `cargo test` says they did not run rather than pretend
//! they passed. On CI (`CI=true`) they always run, and fail loudly if the tool
//! is missing.
//!
//! What decides is watched, and only that: the variables PATH, JAVA_HOME and
//! CI, and the tool's file once found (removing it reruns this script). A
//! tool installed later is not watched for: cargo cannot watch a file that
//! does not exist yet (it would rerun this script, and rebuild the package,
//! on every build), and watching every PATH directory instead rebuilt the
//! package after any install of anything. `touch build.rs` looks again.

use std::env;
use std::path::PathBuf;

fn main() {
    for variable in ["PATH", "JAVA_HOME", "CI"] {
        println!("cargo::rerun-if-env-changed={variable}");
    }
    let java_home_bin = env::var_os("JAVA_HOME").map(|home| PathBuf::from(home).join("bin"));
    look_for("javac", java_home_bin, "javac_missing");
    // CARGO_CFG_UNIX describes the target, not the machine running this script.
    if env::var_os("CARGO_CFG_UNIX").is_some() {
        look_for("tmux", None, "tmux_missing");
    } else {
        println!("cargo::rustc-check-cfg=cfg(tmux_missing)");
    }
}

/// Sets `cfg` unless `tool` is on PATH or in `extra_dir`, or CI=true.
fn look_for(tool: &str, extra_dir: Option<PathBuf>, cfg: &str) {
    println!("cargo::rustc-check-cfg=cfg({cfg})");
    // The places the tests look: every directory on PATH, then `extra_dir`.
    let dirs: Vec<PathBuf> = env::var_os("PATH")
        .map(|path| env::split_paths(&path).collect())
        .unwrap_or_default();
    let dirs: Vec<PathBuf> = dirs.into_iter().chain(extra_dir).collect();
    let name = format!("{tool}{}", env::consts::EXE_SUFFIX);
    match dirs
        .iter()
        .map(|dir| dir.join(&name))
        .find(|candidate| candidate.is_file())
    {
        // Removing the tool later removes this file, which reruns this script.
        Some(found) => println!("cargo::rerun-if-changed={}", found.display()),
        None => {
            if env::var("CI").as_deref() == Ok("true") {
                println!("cargo::warning=no {tool} found and CI=true: the tests that need it will fail");
            } else {
                println!("cargo::rustc-cfg={cfg}");
            }
        }
    }
}
