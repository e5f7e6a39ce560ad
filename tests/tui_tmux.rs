//! Runs scripts/tui-smoke.sh: `certscope demo` driven in a real tmux pane
//! (needs tmux and python3; CI installs them).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::process::Command;

#[test]
fn demo_in_tmux_copies_the_fix_command_and_restores_the_terminal() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/tui-smoke.sh");
    let out = Command::new("timeout")
        .args(["180", "bash", script, env!("CARGO_BIN_EXE_certscope")])
        .output()
        .expect("bash and timeout run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "tui-smoke failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("tui-smoke: OK"), "{stdout}");
}
