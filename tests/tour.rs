//! The tour that `cargo run` starts: it runs by itself and tells the lesson.

mod common;

use common::Running;

fn tour(args: &[&str]) -> String {
    let mut tour = Running::start_command({
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_socket-lesson"));
        command.args(args);
        command
    });
    let (status, stderr) = tour.wait_exit();
    assert!(status.success(), "the tour exited with {status}: {stderr}");
    tour.stdout.join("\n")
}

#[test]
fn the_whole_tour_runs_by_itself_and_tells_each_version() {
    let story = tour(&[]);
    for heading in ["Step 1: server-v1", "Step 2: server-v2", "Step 3: server-v3"] {
        assert!(story.contains(heading), "{heading:?} missing from:\n{story}");
    }
    // The servers' own log, with their thread names.
    for line in [
        "[server-v1] received: Hello",
        "[server-v2] listening on",
        "[session-2] received: Hello from B",
    ] {
        assert!(story.contains(line), "{line:?} missing from:\n{story}");
    }
    // peek's view of B, waiting in the accept queue with its bytes unread.
    assert!(story.contains("peek | port "), "{story}");
    assert!(
        story.contains("1 finished handshake waits for accept()"),
        "{story}"
    );
    assert!(
        story.contains("= handshake done, waiting in the accept queue; 14 bytes unread"),
        "{story}"
    );
    assert!(story.contains("client B | no reply after 1 s"), "{story}");
    // The crowd, side by side: one served by V2, all twenty by V3.
    let served = story
        .lines()
        .find(|line| line.starts_with("  crowd | served"))
        .expect("the crowd table");
    assert_eq!(
        served.split_whitespace().collect::<Vec<_>>(),
        ["crowd", "|", "served", "1", "20"]
    );
    // Piped, it is plain text.
    assert!(!story.contains('\x1b'), "no colour codes when piped");
}

#[test]
fn one_step_in_korean() {
    let story = tour(&["--step", "v2", "--lang", "ko"]);
    assert!(story.contains("2단계: server-v2"), "{story}");
    assert!(story.contains("accept 큐"), "{story}");
    assert!(
        !story.contains("1단계") && !story.contains("3단계"),
        "only step 2:\n{story}"
    );
}

#[test]
fn a_bad_flag_is_refused_with_usage() {
    let mut tour = Running::start_command({
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_socket-lesson"));
        command.args(["--step", "v9"]);
        command
    });
    let (status, stderr) = tour.wait_exit();
    assert_eq!(status.code(), Some(2));
    assert!(
        stderr.contains("invalid value 'v9' for '--step <STEP>'"),
        "{stderr}"
    );
}
