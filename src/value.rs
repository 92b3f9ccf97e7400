//! How much of one value (a WebSocket text, a header, an event's arguments, a session
//! id) the text output shows: at most [`MAX_SHOWN`] bytes, then "… (N more bytes)".
//! One megabyte of text without a space must not become one megabyte of one line; the
//! JSON Lines keep values whole (SPEC.md: a text message "complete").

use std::borrow::Cow;

/// The most bytes of one value shown in text output.
pub const MAX_SHOWN: usize = 512;

/// The longest line the text renderers write (tree, `--summary`, `--hex`, `--diagram`,
/// `--stats`, at any `COLUMNS` up to 200): a value of [`MAX_SHOWN`] bytes, escaped
/// (each byte at most four columns, `\xNN`), with what the line says around it (a
/// `--summary` line names messages up to 1,024 bytes, then counts the rest).
pub const MAX_LINE: usize = 4096;

/// `s` cut after `max` bytes (at a character boundary), with "… (N more bytes)" after
/// it; borrowed and whole when it fits.
pub fn shown(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}… ({} more bytes)", &s[..end], s.len() - end))
}

/// The value written into `out` from byte `at` on, cut like [`shown`] in place.
pub fn cut_from(out: &mut String, at: usize, max: usize) {
    let len = out.len() - at;
    if len <= max {
        return;
    }
    let mut end = at + max;
    while !out.is_char_boundary(end) {
        end -= 1;
    }
    let more = out.len() - end;
    out.truncate(end);
    out.push_str(&format!("… ({more} more bytes)"));
}

/// [`shown`] at [`MAX_SHOWN`].
pub fn short(s: &str) -> Cow<'_, str> {
    shown(s, MAX_SHOWN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_with_what_is_left_said() {
        assert_eq!(shown("hello", 5), "hello");
        assert!(matches!(shown("hello", 5), Cow::Borrowed(_)));
        assert_eq!(shown("hello world", 5), "hello… (6 more bytes)");
        // Never inside a character: é is two bytes.
        assert_eq!(shown("aé", 2), "a… (2 more bytes)");
        let big = "x".repeat(1 << 20);
        let s = short(&big);
        assert_eq!(
            s.len(),
            MAX_SHOWN + "… (".len() + "1048064 more bytes)".len()
        );
        assert!(s.ends_with("… (1048064 more bytes)"));
        let mut out = String::from("said: ");
        out.push_str("hello world");
        cut_from(&mut out, 6, 5);
        assert_eq!(out, "said: hello… (6 more bytes)");
        cut_from(&mut out, 0, 100);
        assert_eq!(out, "said: hello… (6 more bytes)");
    }
}
