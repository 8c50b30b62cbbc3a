//! The Java servers: compiled with the JDK found here, and whether it can
//! run virtual threads.

use std::path::Path;
use std::process::Command;

use crate::{first_line, Target};

/// The Java servers, compiled.
pub(crate) struct Java {
    /// Their class path.
    pub(crate) classes: std::path::PathBuf,
    /// The JDK (21 or later) that runs VirtualThreadServer, or why there is
    /// none here.
    pub(crate) virtual_threads: Result<Jdk, String>,
}

/// A JDK found on this machine.
pub(crate) struct Jdk {
    /// Its `java`.
    pub(crate) java: std::path::PathBuf,
    /// The first line of its `java -version`.
    pub(crate) version: String,
}

impl Java {
    /// Whether `target` can run here: all but the virtual threads without a
    /// JDK 21.
    pub(crate) fn runs(&self, target: Target) -> bool {
        target != Target::JavaVirtual || self.virtual_threads.is_ok()
    }
}

/// Compiles the Java servers into the target directory: ThreadPerClientServer
/// with the JDK on PATH, VirtualThreadServer with a JDK 21 or later if one is
/// found.
pub(crate) fn compile_java() -> Java {
    let classes = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-java");
    std::fs::create_dir_all(&classes).expect("creating the Java class directory");
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/java");
    let source = sources.join("ThreadPerClientServer.java");
    let status = Command::new("javac")
        .arg("-d")
        .arg(&classes)
        .arg(&source)
        .status()
        .expect("the benchmark needs a JDK: install one (apt-get install default-jdk-headless)");
    assert!(status.success(), "javac failed on {}", source.display());
    let virtual_threads = jdk_21_or_later().and_then(|jdk| {
        let source = sources.join("VirtualThreadServer.java");
        let javac = jdk.java.with_file_name("javac");
        let compiled = Command::new(&javac)
            .arg("-cp")
            .arg(&classes)
            .arg("-d")
            .arg(&classes)
            .arg(&source)
            .status()
            .map_err(|error| format!("cannot run {}: {error}", javac.display()))?;
        if !compiled.success() {
            return Err(format!("{} failed on {}", javac.display(), source.display()));
        }
        Ok(jdk)
    });
    Java {
        classes,
        virtual_threads,
    }
}

/// A JDK whose `java -version` is 21 or later, with its `javac` beside it:
/// `$JAVA_HOME`'s, the one on PATH, or one in /usr/lib/jvm (Debian's
/// packages and others put theirs there), the latest; or why there is none.
pub(crate) fn jdk_21_or_later() -> Result<Jdk, String> {
    let mut candidates: Vec<std::path::PathBuf> = Vec::new();
    if let Some(home) = std::env::var_os("JAVA_HOME") {
        candidates.push(Path::new(&home).join("bin/java"));
    }
    if let Ok(on_path) = std::fs::canonicalize("/usr/bin/java") {
        candidates.push(on_path);
    }
    if let Ok(jvms) = std::fs::read_dir("/usr/lib/jvm") {
        candidates.extend(jvms.filter_map(|jvm| Some(jvm.ok()?.path().join("bin/java"))));
    }
    let mut seen = Vec::new();
    let mut best: Option<(u32, Jdk)> = None;
    for java in candidates {
        if !java.with_file_name("javac").exists() {
            continue;
        }
        let version = first_line(&java.display().to_string(), &["-version"]);
        // `openjdk version "25.0.3" 2026-04-21`, `java version "21.0.8"`.
        let major = version
            .split('"')
            .nth(1)
            .and_then(|number| number.split(['.', '-', '+']).next()?.parse::<u32>().ok());
        seen.push(version.clone());
        if let Some(major) = major.filter(|&major| major >= 21)
            && best.as_ref().is_none_or(|(best, _)| major > *best)
        {
            best = Some((major, Jdk { java, version }));
        }
    }
    best.map(|(_, jdk)| jdk).ok_or_else(|| {
        seen.dedup();
        format!(
            "no JDK 21 or later here (found: {}); Thread.ofVirtual() needs one (apt-get install \
             openjdk-21-jdk-headless, where the distribution has it)",
            if seen.is_empty() {
                "none".to_string()
            } else {
                seen.join("; ")
            }
        )
    })
}
