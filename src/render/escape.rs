//! Terminal safety: bytes from a capture never reach the terminal raw. Control
//! characters (C0, DEL, C1), bidirectional controls that could reorder what a learner
//! reads (U+061C, U+200E/F, U+202A–E, U+2066–9), invisible ones (zero-width U+200B–D,
//! U+FEFF), the line and paragraph separators U+2028/2029 and the tag characters
//! U+E0000–E007F are shown as visible escapes instead.
//!
//! By construction: every byte a command writes to standard output or standard error
//! goes through [`TerminalWriter`] (made only in `cli::output`), which lets the theme's
//! colour codes (SGR, `ESC [ … m`) through when colour is on and escapes everything
//! else with [`escape`]; a string escaped earlier passes unchanged (escaping is
//! idempotent). `tests/terminal_safety.rs` checks that nothing else in `src/` prints.

use std::borrow::Cow;
use std::io::{self, Write};

fn needs_escape(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        | '\u{feff}' | '\u{e0000}'..='\u{e007f}')
}

/// Whether `c` may not reach a terminal raw (what [`escape`] replaces).
pub fn is_unsafe(c: char) -> bool {
    needs_escape(c)
}

/// Bytes that may begin an unsafe character: C0 and DEL are single bytes; C1 is 0xC2
/// 0x80–0x9F in UTF-8, U+061C 0xD8 0x9C, the zero-width, separator and bidi controls
/// 0xE2 0x80/0x81 …, the BOM 0xEF 0xBB 0xBF, the tags 0xF3 0xA0 …. One lookup a byte:
/// the scan runs over every byte written.
const SUSPECT: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[0x7f] = true;
    t[0xc2] = true;
    t[0xd8] = true;
    t[0xe2] = true;
    t[0xef] = true;
    t[0xf3] = true;
    t
};

/// Where the first unsafe character of `s` at or after `from` begins, with that
/// character; a newline counts only with `newline` (the writer keeps newlines). Arrows,
/// dots and box lines (0xE2 0x86 …, 0xC2 0xB7, 0xE2 0x94 …) are passed over on their
/// second byte without decoding.
fn find_unsafe(s: &str, from: usize, newline: bool) -> Option<(usize, char)> {
    let b = s.as_bytes();
    let mut i = from;
    while i < b.len() {
        // Many bytes at a time while they are plain ASCII (no control byte, no DEL, no
        // byte of a multi-byte character): most of what is written.
        i = skip_plain(b, i);
        let Some(&c) = b.get(i) else { break };
        if SUSPECT[c as usize] {
            let second = b.get(i + 1).copied().unwrap_or(0);
            let maybe = match c {
                b'\n' => newline,
                0..=0x1f | 0x7f => true,
                0xc2 => (0x80..=0x9f).contains(&second),
                0xd8 => second == 0x9c,
                0xe2 => second == 0x80 || second == 0x81,
                0xef => second == 0xbb,
                _ => second == 0xa0, // 0xf3
            };
            if maybe {
                // A suspect byte is ASCII or a leading byte: a character starts here.
                let ch = s[i..].chars().next().expect("a character starts here");
                if needs_escape(ch) {
                    return Some((i, ch));
                }
                i += ch.len_utf8();
                continue;
            }
        }
        // A character is skipped whole (`s` is UTF-8: a leading byte says its length).
        i += match c {
            0xf0.. => 4,
            0xe0.. => 3,
            0xc0.. => 2,
            _ => 1,
        };
    }
    None
}

/// The visible escape of an unsafe character, as [`escape`] writes it.
fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write as _;
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// The string with every unsafe character replaced by a visible escape (`\n`, `\x1b`,
/// `\u{202e}`). Borrowed when nothing needed escaping, which is the usual case.
pub fn escape(s: &str) -> Cow<'_, str> {
    let Some(first) = find_unsafe(s, 0, true) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 8);
    let mut at = 0;
    let mut next = Some(first);
    while let Some((i, c)) = next {
        out.push_str(&s[at..i]);
        push_escaped(&mut out, c);
        at = i + c.len_utf8();
        next = find_unsafe(s, at, true);
    }
    out.push_str(&s[at..]);
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

/// What a [`TerminalWriter`] lets through besides safe text and newlines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guard {
    /// Text; with `colour`, the theme's SGR codes (`ESC [ digits ; … m`) pass.
    Text { colour: bool },
    /// JSON Lines: an unsafe character (only ever inside a string) becomes its JSON
    /// escape (`\u202e`), so the line parses to exactly the same value.
    Json,
}

/// The longest SGR code let through (the theme's are under 16 bytes).
const MAX_SGR: usize = 32;

/// Standard output or error as a terminal may see it: every byte written passes
/// [`escape`] (newlines kept), but the colour codes [`Guard`] allows. Text split across
/// writes (a UTF-8 character, a colour code) is held until it is whole.
pub struct TerminalWriter<W: Write> {
    inner: W,
    guard: Guard,
    pending: Vec<u8>,
    out: Vec<u8>,
}

impl<W: Write> TerminalWriter<W> {
    pub fn new(inner: W, guard: Guard) -> TerminalWriter<W> {
        TerminalWriter {
            inner,
            guard,
            pending: Vec::new(),
            out: Vec::new(),
        }
    }

    /// Escapes `pending` into `out`, keeping an unfinished tail when `more` may follow.
    fn drain(&mut self, more: bool) {
        let keep = sanitize(&self.pending, self.guard, more, &mut self.out);
        self.pending.drain(..keep);
    }

    fn send(&mut self) -> io::Result<()> {
        let r = self.inner.write_all(&self.out);
        self.out.clear();
        r
    }
}

impl<W: Write> Write for TerminalWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.pending.is_empty() {
            // The usual case: nothing held back from the write before, and everything
            // safe already (the renderers escape what they print): passed on as it is,
            // not copied.
            let clean = clean_prefix(buf, self.guard == Guard::Text { colour: true });
            self.inner.write_all(&buf[..clean])?;
            if clean == buf.len() {
                return Ok(buf.len());
            }
            let rest = &buf[clean..];
            let keep = sanitize(rest, self.guard, true, &mut self.out);
            self.pending.extend_from_slice(&rest[keep..]);
        } else {
            self.pending.extend_from_slice(buf);
            self.drain(true);
        }
        self.send()?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for TerminalWriter<W> {
    fn drop(&mut self) {
        self.drain(false);
        let _ = self.send();
        let _ = self.inner.flush();
    }
}

/// How many bytes at the start of `b` pass [`sanitize`] unchanged: whole UTF-8
/// characters, none unsafe, newlines, and with `colour` whole SGR codes. One pass, eight
/// bytes of printable ASCII a step; a multi-byte character is checked on
/// its bytes (validity, and the few leading and second bytes an unsafe character can
/// have), decoded only when those say it might be one. It stops at the first byte it
/// is not sure of.
fn clean_prefix(b: &[u8], colour: bool) -> usize {
    let cont = |i: usize| b.get(i).copied().filter(|c| c & 0xc0 == 0x80);
    let mut i = 0;
    loop {
        i = skip_plain(b, i);
        let Some(&c) = b.get(i) else { return i };
        match c {
            b'\n' | 0x20..=0x7e => i += 1,
            0x1b if colour => match sgr_len(&b[i..]) {
                Some(n) => i += n,
                None => return i,
            },
            0xc2..=0xdf => {
                let Some(s1) = cont(i + 1) else { return i };
                // C1 controls (U+0080–U+009F) and U+061C.
                if (c == 0xc2 && s1 < 0xa0) || (c == 0xd8 && s1 == 0x9c) {
                    return i;
                }
                i += 2;
            }
            0xe0..=0xef => {
                let (Some(s1), Some(s2)) = (cont(i + 1), cont(i + 2)) else {
                    return i;
                };
                // Overlong forms and surrogates are not UTF-8.
                if (c == 0xe0 && s1 < 0xa0) || (c == 0xed && s1 > 0x9f) {
                    return i;
                }
                // U+2000–U+207F (zero-width, separators, bidi) and U+FEFF.
                if (c == 0xe2 && s1 <= 0x81) || (c == 0xef && s1 == 0xbb) {
                    let cp = (c as u32 & 0x0f) << 12 | (s1 as u32 & 0x3f) << 6 | (s2 as u32 & 0x3f);
                    if char::from_u32(cp).is_none_or(needs_escape) {
                        return i;
                    }
                }
                i += 3;
            }
            0xf0..=0xf4 => {
                let (Some(s1), Some(_), Some(_)) = (cont(i + 1), cont(i + 2), cont(i + 3)) else {
                    return i;
                };
                // Overlong forms, past U+10FFFF, and the tags (U+E0000–U+E007F).
                if (c == 0xf0 && s1 < 0x90) || (c == 0xf4 && s1 > 0x8f) || (c == 0xf3 && s1 == 0xa0)
                {
                    return i;
                }
                i += 4;
            }
            _ => return i,
        }
    }
}

/// The high bit of each of eight bytes that is a control byte, DEL or not ASCII, and
/// perhaps of a byte beside one: only zero means anything. (An exact test that lets
/// newlines through costs more on the long lines of JSON than it saves on the tree's.)
#[inline(always)]
fn not_plain(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let control = w.wrapping_sub(ONES * 0x20) & !w;
    let del = (w ^ (ONES * 0x7f)).wrapping_sub(ONES) & !(w ^ (ONES * 0x7f));
    (w | control | del) & HIGH
}

/// Where the run of printable ASCII bytes from `i` ends: eight bytes a step, thirty-two
/// once the run is long, and the first byte that is not plain found in its word (the
/// lowest byte [`not_plain`] marks is exact: a borrow only runs upwards, from a byte that
/// is marked itself).
#[inline(always)]
fn skip_plain(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let m = not_plain(u64::from_le_bytes(chunk.try_into().expect("eight bytes")));
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
        // A long run (JSON, a hex dump's rows) goes faster in blocks.
        while let Some(block) = b.get(i..i + 32) {
            let w = |k: usize| u64::from_le_bytes(block[k..k + 8].try_into().expect("eight bytes"));
            if not_plain(w(0)) | not_plain(w(8)) | not_plain(w(16)) | not_plain(w(24)) != 0 {
                break;
            }
            i += 32;
        }
    }
    while let Some(&c) = b.get(i) {
        if !(0x20..0x7f).contains(&c) {
            break;
        }
        i += 1;
    }
    i
}

/// `b` made safe into `out`; returns how many bytes were consumed (with `more`, an
/// unfinished UTF-8 character or colour code at the end is left for the next call).
pub fn sanitize(b: &[u8], guard: Guard, more: bool, out: &mut Vec<u8>) -> usize {
    let colour = guard == Guard::Text { colour: true };
    let mut i = 0;
    while i < b.len() {
        if b[i] == 0x1b && colour {
            match sgr_len(&b[i..]) {
                Some(n) => {
                    out.extend_from_slice(&b[i..i + n]);
                    i += n;
                    continue;
                }
                None if more && b.len() - i < MAX_SGR && sgr_prefix(&b[i..]) => return i,
                None => {
                    out.extend_from_slice(b"\\x1b");
                    i += 1;
                    continue;
                }
            }
        }
        // Text up to the next ESC (when colour codes may follow), as UTF-8.
        let end = if colour {
            b[i + 1..]
                .iter()
                .position(|&c| c == 0x1b)
                .map_or(b.len(), |p| i + 1 + p)
        } else {
            b.len()
        };
        let (valid, rest) = match std::str::from_utf8(&b[i..end]) {
            Ok(s) => (s, None),
            Err(e) => {
                let s = std::str::from_utf8(&b[i..i + e.valid_up_to()]).expect("valid up to");
                (s, Some(e))
            }
        };
        text(valid, guard, out);
        i += valid.len();
        match rest {
            None => {}
            Some(e) => match e.error_len() {
                // An unfinished character at the end: wait for its other bytes.
                None if more && end == b.len() => return i,
                n => {
                    let n = n.unwrap_or(end - i);
                    for byte in &b[i..i + n] {
                        match guard {
                            Guard::Json => out.extend_from_slice("\u{fffd}".as_bytes()),
                            Guard::Text { .. } => {
                                out.extend_from_slice(format!("\\x{byte:02x}").as_bytes())
                            }
                        }
                    }
                    i += n;
                }
            },
        }
    }
    b.len()
}

/// Safe text into `out`: newlines kept, everything else unsafe escaped; the runs
/// between unsafe characters copied whole.
fn text(s: &str, guard: Guard, out: &mut Vec<u8>) {
    let mut at = 0;
    while let Some((i, c)) = find_unsafe(s, at, false) {
        out.extend_from_slice(&s.as_bytes()[at..i]);
        match guard {
            Guard::Text { .. } => {
                let mut e = String::new();
                push_escaped(&mut e, c);
                out.extend_from_slice(e.as_bytes());
            }
            Guard::Json => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.extend_from_slice(format!("\\u{u:04x}").as_bytes());
                }
            }
        }
        at = i + c.len_utf8();
    }
    out.extend_from_slice(&s.as_bytes()[at..]);
}

/// The length of the SGR code `b` starts with (`ESC [ digits ; … m`), if it is one.
fn sgr_len(b: &[u8]) -> Option<usize> {
    if b.len() < 3 || b[0] != 0x1b || b[1] != b'[' {
        return None;
    }
    let body = b[2..]
        .iter()
        .take(MAX_SGR)
        .position(|&c| !(c.is_ascii_digit() || c == b';'))?;
    (b[2 + body] == b'm').then_some(3 + body)
}

/// Whether `b` could still become an SGR code with more bytes.
fn sgr_prefix(b: &[u8]) -> bool {
    b[0] == 0x1b
        && b.get(1).is_none_or(|&c| c == b'[')
        && b.iter().skip(2).all(|&c| c.is_ascii_digit() || c == b';')
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
    #[test]
    fn the_second_round_of_invisible_characters_is_escaped() {
        for c in [
            '\u{61c}',
            '\u{200b}',
            '\u{200c}',
            '\u{200d}',
            '\u{2028}',
            '\u{2029}',
            '\u{feff}',
            '\u{e0001}',
            '\u{e007f}',
        ] {
            let s = format!("a{c}b");
            assert_eq!(escape(&s), format!("a\\u{{{:x}}}b", c as u32));
        }
        assert!(matches!(escape("→ · — é 日本"), Cow::Borrowed(_)));
    }

    fn guarded(guard: Guard, writes: &[&[u8]]) -> String {
        let mut v = Vec::new();
        {
            let mut w = TerminalWriter::new(&mut v, guard);
            for b in writes {
                w.write_all(b).unwrap();
            }
        }
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn the_writer_lets_colour_through_and_nothing_else() {
        let colour = Guard::Text { colour: true };
        let text = "\u{1b}[1;31mred\u{1b}[0m \u{1b}]52;c;aGk=\u{7}\u{1b}[2J\u{202e}x\n";
        assert_eq!(
            guarded(colour, &[text.as_bytes()]),
            "\u{1b}[1;31mred\u{1b}[0m \\x1b]52;c;aGk=\\x07\\x1b[2J\\u{202e}x\n"
        );
        let plain = guarded(Guard::Text { colour: false }, &[text.as_bytes()]);
        assert!(!plain.contains('\u{1b}'), "{plain}");
        // Split across writes: a colour code and a UTF-8 character are held until whole.
        let b = "\u{1b}[32mé\u{202e}".as_bytes();
        assert_eq!(
            guarded(colour, &[&b[..2], &b[2..6], &b[6..8], &b[8..]]),
            "\u{1b}[32mé\\u{202e}"
        );
        // A cut character at the very end is shown as its bytes.
        assert_eq!(guarded(colour, &[b"ok\xc3"]), "ok\\xc3");
        // Already escaped text passes unchanged.
        assert_eq!(guarded(colour, &[escape(text).as_bytes()]), escape(text));
    }

    /// The scan that skips safe runs finds exactly the characters `needs_escape` names,
    /// next to every byte pattern it passes over (arrows, dots, box lines, accents).
    #[test]
    fn the_fast_scan_agrees_with_the_character_rule() {
        let reference = |s: &str| -> String {
            let mut out = String::new();
            for c in s.chars() {
                if needs_escape(c) {
                    push_escaped(&mut out, c);
                } else {
                    out.push(c);
                }
            }
            out
        };
        let ranges = [
            0u32..0x300,
            0x600..0x700,
            0x2000..0x2100,
            0x2190..0x2200,
            0x2500..0x2580,
            0xfe00..0x10000,
            0xe0000..0xe0100,
        ];
        for c in ranges.into_iter().flatten().filter_map(char::from_u32) {
            for s in [
                format!("{c}"),
                format!("a{c}→·─{c}é"),
                format!("{c}{c}\n{c}"),
                // Long enough for the eight-byte steps, the character on either side.
                format!("{}{c}{}{c}", "plain ascii ".repeat(2), "x".repeat(9)),
                format!("{c}{}", "y".repeat(17)),
            ] {
                assert_eq!(escape(&s), reference(&s), "U+{:04X}", c as u32);
                let mut text_out = Vec::new();
                text(&s, Guard::Text { colour: false }, &mut text_out);
                let kept: Vec<String> = s.split('\n').map(reference).collect();
                assert_eq!(String::from_utf8(text_out).unwrap(), kept.join("\n"));
            }
        }
    }

    /// Passing the clean start of a write on unchanged gives the same bytes as
    /// sanitizing all of it, for every split of every hostile and harmless sample.
    #[test]
    fn the_clean_prefix_changes_nothing() {
        let samples: [&[u8]; 11] = [
            "a line of thirty-two plain bytes\nand another line of them, \u{2030}\u{2066}\u{2070}\u{feff}\u{fefe} \u{e0100}\u{e007f}\u{10ffff}\n".as_bytes(),
            b"\xe0\x9f\xbf overlong three \xef\xbb\xbf bom \xf0\x8f\xbf\xbf overlong four \xc1\xbf \xd8\x9c\xd8\x9d\n",
            b"eight...\n\n\n\n\n\n\n\n\x7f\x0b\x00\x80\xbf twelve bytes\x1b[0m\n",
            "\u{1b}[1;31mred\u{1b}[0m · → ── é 日本\n".as_bytes(),
            "ok \u{1b}]52;c;aGk=\u{7}\u{1b}[2J\u{202e}x\u{200b}y\u{e0041}\n".as_bytes(),
            b"cut \xe2\x86",
            b"bad \xff\xfe then text that is long enough\n",
            b"\x1b[3",
            "\u{9b}c1 \u{7f}del\ttab\r\n".as_bytes(),
            b"\xc0\x80 overlong \xed\xa0\x80 surrogate \xf4\x90\x80\x80 too big",
            "plain ascii only, as most lines are, with a number 1234567890\n".as_bytes(),
        ];
        for guard in [
            Guard::Text { colour: true },
            Guard::Text { colour: false },
            Guard::Json,
        ] {
            for s in samples {
                let mut whole = Vec::new();
                sanitize(s, guard, false, &mut whole);
                for cut in 0..=s.len() {
                    let got = guarded(guard, &[&s[..cut], &s[cut..]]);
                    assert_eq!(got.as_bytes(), &whole[..], "{guard:?} {s:?} cut at {cut}");
                }
                let n = clean_prefix(s, guard == Guard::Text { colour: true });
                let mut head = Vec::new();
                sanitize(&s[..n], guard, false, &mut head);
                assert_eq!(&head[..], &s[..n], "{guard:?} {s:?}");
            }
        }
    }

    /// The plain run ends exactly at the first byte that is not printable ASCII, for
    /// every byte value at every place of a word and of a 32-byte block, whatever follows.
    #[test]
    fn the_plain_run_ends_exactly_at_the_first_other_byte() {
        for len in [5usize, 8, 13, 40, 71] {
            for at in 0..len {
                for c in 0..=255u8 {
                    for after in [b'a', 0x00, 0x1f, 0x20, 0x7f, 0xff] {
                        let mut b = vec![b'x'; len];
                        b[at] = c;
                        if at + 1 < len {
                            b[at + 1] = after;
                        }
                        let want = b
                            .iter()
                            .position(|&c| !(0x20..0x7f).contains(&c))
                            .unwrap_or(len);
                        assert_eq!(skip_plain(&b, 0), want, "{b:?}");
                    }
                }
            }
        }
    }

    proptest::proptest! {
        /// Any bytes, built from those the UTF-8 checks and the eight-byte steps turn
        /// on: the clean start passes through `sanitize` unchanged, and writing in two
        /// parts gives what sanitizing the whole gives.
        #[test]
        fn the_clean_prefix_is_clean_for_any_bytes(
            bytes in proptest::collection::vec(proptest::sample::select(vec![
                b'a', b' ', b'\n', b'\t', 0x00, 0x1b, b'[', b'm', b'1', 0x7f, 0x80, 0x81,
                0x9c, 0x9f, 0xa0, 0xa8, 0xbb, 0xbf, 0xc2, 0xd8, 0xe0, 0xe2, 0xed, 0xef,
                0xf0, 0xf3, 0xf4, 0xff,
            ]), 0..80),
            cut in 0usize..80,
        ) {
            for guard in [Guard::Text { colour: true }, Guard::Text { colour: false }, Guard::Json] {
                let n = clean_prefix(&bytes, guard == Guard::Text { colour: true });
                let mut head = Vec::new();
                sanitize(&bytes[..n], guard, false, &mut head);
                proptest::prop_assert_eq!(&head[..], &bytes[..n]);
                let mut whole = Vec::new();
                sanitize(&bytes, guard, false, &mut whole);
                let cut = cut.min(bytes.len());
                let got = guarded(guard, &[&bytes[..cut], &bytes[cut..]]);
                proptest::prop_assert_eq!(got.as_bytes(), &whole[..]);
            }
        }
    }

    #[test]
    fn json_keeps_its_meaning() {
        let line = serde_json::json!({"t": "a\u{1b}\u{7f}\u{9b}\u{202e}\u{e0041}"}).to_string();
        let safe = guarded(Guard::Json, &[line.as_bytes(), b"\n"]);
        assert!(!safe.trim_end().chars().any(needs_escape), "{safe}");
        let v: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(v["t"], "a\u{1b}\u{7f}\u{9b}\u{202e}\u{e0041}");
    }
}
