//! Terminal safety: bytes from a capture never reach the terminal raw. Control
//! characters (C0, DEL, C1), and bidirectional overrides that could reorder what a
//! learner reads, are shown as visible escapes instead.

use std::borrow::Cow;

fn needs_escape(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        | '\u{feff}')
}

/// A quick byte scan: false when no byte sequence can be an unsafe character. C0 and DEL
/// are single bytes; C1 is 0xC2 0x80–0x9F in UTF-8, the bidi controls 0xE2 0x80/0x81 …,
/// the BOM 0xEF 0xBB 0xBF. Arrows and dots (0xE2 0x86 …, 0xC2 0xB7) pass.
fn might_need_escape(b: &[u8]) -> bool {
    b.iter().enumerate().any(|(i, &c)| match c {
        0..=0x1f | 0x7f => true,
        0xc2 => b.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)),
        0xe2 => b.get(i + 1).is_some_and(|n| *n == 0x80 || *n == 0x81),
        0xef => b.get(i + 1) == Some(&0xbb),
        _ => false,
    })
}

/// The string with every unsafe character replaced by a visible escape (`\n`, `\x1b`,
/// `\u{202e}`). Borrowed when nothing needed escaping, which is the usual case.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !might_need_escape(s.as_bytes()) || !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x100 && needs_escape(c) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Bytes as text for the terminal: UTF-8 where valid, `\xNN` for every other byte.
pub fn escape_bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        out.push_str(&escape(chunk.valid()));
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_and_bidi_are_neutralised() {
        let hostile = "hi\u{1b}[2J\u{1b}]0;owned\u{7}\u{202e}txt.exe";
        let safe = escape(hostile);
        assert!(!safe.chars().any(needs_escape), "{safe}");
        assert_eq!(safe, "hi\\x1b[2J\\x1b]0;owned\\x07\\u{202e}txt.exe");
    }

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(escape("GET / HTTP/1.1 — ok"), Cow::Borrowed(_)));
    }

    #[test]
    fn invalid_utf8_bytes_are_shown_as_hex() {
        assert_eq!(escape_bytes(b"ok\xff\x1b"), "ok\\xff\\x1b");
    }
}
