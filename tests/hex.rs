//! `inspect --hex` by field: the WebSocket frame header apart from its payload, the
//! masking key marked, the unmasked text beside the masked bytes, and long payloads
//! shortened to their first and last rows with a count unless `--hex-all`.

mod common;
use common::run_ok as wirewalk;

/// ws-python-plain frame 12: a masked 300-byte client text frame, key 02 79 d0 1c.
const FRAME_12: [&str; 5] = [
    "inspect",
    "--packet",
    "12",
    "tests/fixtures/ws-python-plain.pcap",
    "--hex",
];

#[test]
fn the_websocket_header_stands_apart_with_its_masking_key_marked() {
    let out = wirewalk(&FRAME_12);
    let lines: Vec<&str> = out.lines().collect();
    let h = lines
        .iter()
        .position(|l| l.starts_with("  0042  81 fe 01 2c 02 79 d0 1c "))
        .unwrap_or_else(|| panic!("no header row of its own:\n{out}"));
    assert_eq!(lines[h + 1].trim(), "F+ M+ ln ln mk mk mk mk");
    assert!(out.contains("hold the length: 300"), "{out}");
    assert!(out.contains("key 02 79 d0 1c"), "{out}");
}

#[test]
fn the_masked_payload_is_shown_unmasked_beside_its_bytes() {
    let out = wirewalk(&FRAME_12);
    // 56 11 b9 6f XOR 02 79 d0 1c = "This".
    let row = out
        .lines()
        .find(|l| l.starts_with("  004a  56 11 b9 6f"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(row.ends_with("This message is "), "{row}");
}

#[test]
fn a_long_payload_shows_its_first_and_last_rows_unless_hex_all() {
    let short = wirewalk(&FRAME_12);
    // 300 bytes = 19 rows: 3 shown, 15 counted, the last one shown.
    assert!(
        short.contains("… 15 rows (240 bytes) not shown; --hex-all shows every byte"),
        "{short}"
    );
    assert!(short.contains("  016a  "), "the last row is shown: {short}");
    assert!(!short.contains("  007a  "), "{short}");
    let mut all = FRAME_12.to_vec();
    all.push("--hex-all");
    let all = wirewalk(&all);
    assert!(!all.contains("not shown"), "{all}");
    let payload_rows = all
        .lines()
        .filter(|l| {
            l.get(2..6)
                .and_then(|o| usize::from_str_radix(o, 16).ok())
                .is_some_and(|o| (0x4a..0x4a + 300).contains(&o))
        })
        .count();
    assert_eq!(payload_rows, 19, "{all}");
}
