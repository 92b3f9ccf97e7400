//! Snapshot tests of text output: the ladder diagram with each side's TCP state, on the
//! project's captures of real peers and on simulated scenarios (teardown with a
//! half-close and a simultaneous close; resets), and a summary. The snapshots were read
//! and checked by hand against the captures; `UPDATE_SNAPSHOTS=1 cargo test --test
//! snapshots` rewrites them after a deliberate change (review the diff).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn check(snapshot: &str, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_wirewalk"))
        .args(args)
        .args(["--color", "never"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = String::from_utf8(out.stdout).unwrap();
    let path = root().join("tests/snapshots").join(snapshot);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if got != want {
        let new = path.with_extension("txt.new");
        std::fs::write(&new, &got).unwrap();
        panic!(
            "{snapshot} differs from `wirewalk {}`; the new output is in {} (diff them)",
            args.join(" "),
            new.display()
        );
    }
}

#[test]
fn ladder_of_a_node_ws_session() {
    check(
        "ws-node.diagram.txt",
        &["inspect", "--diagram", "tests/fixtures/ws-node.pcap"],
    );
}

#[test]
fn ladder_of_socketio_polling_then_upgrade() {
    check(
        "socketio-polling-upgrade.diagram.txt",
        &[
            "inspect",
            "--diagram",
            "tests/fixtures/socketio-polling-upgrade.pcap",
        ],
    );
}

#[test]
fn ladder_of_half_and_simultaneous_close() {
    check(
        "sim-teardown.diagram.txt",
        &["simulate", "teardown", "--diagram"],
    );
}

#[test]
fn ladder_of_resets() {
    check("sim-reset.diagram.txt", &["simulate", "reset", "--diagram"]);
}

#[test]
fn ladder_of_loss_and_retransmission() {
    check("sim-lossy.diagram.txt", &["simulate", "lossy", "--diagram"]);
}

#[test]
fn summary_of_a_python_websockets_session() {
    check(
        "ws-python-plain.summary.txt",
        &[
            "inspect",
            "--summary",
            "tests/fixtures/ws-python-plain.pcap",
        ],
    );
}

#[test]
fn packet_diagram_of_a_syn() {
    check(
        "sim-handshake-syn.fields.txt",
        &["simulate", "handshake", "--fields", "--packet", "1"],
    );
}

#[test]
fn packet_diagram_of_a_masked_websocket_frame_with_a_16_bit_length() {
    check(
        "ws-python-plain-12.fields.txt",
        &[
            "inspect",
            "--fields",
            "--packet",
            "12",
            "tests/fixtures/ws-python-plain.pcap",
        ],
    );
}

#[test]
fn packet_diagram_of_an_ipv6_packet() {
    check(
        "sim-websocket-ipv6-syn.fields.txt",
        &["simulate", "websocket", "--ipv6", "--fields", "--packet", "1"],
    );
}
