//! `ops` refuses to act on a platform it cannot reach, and says so.

use std::process::Command;

#[test]
fn a_platform_that_cannot_be_reached_is_refused_with_exit_code_2() {
    // A port nothing listens on: bound, then let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for args in [&["dead-letters"][..], &["redeliver", "7"]] {
        let output = Command::new(env!("CARGO_BIN_EXE_ops"))
            .args(args)
            .env("NATS_URL", format!("nats://127.0.0.1:{port}"))
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {said}");
        assert!(said.contains("cannot reach NATS"), "{args:?}: {said}");
    }
}
