//! A QR code on the terminal, for a phone's camera: two modules a character (upper and
//! lower half blocks), with the four-module quiet zone ISO/IEC 18004 asks for. The
//! code itself comes from the `qrcode` crate.

use qrcode::{Color, EcLevel, QrCode};

/// The quiet zone around the symbol, in modules.
const QUIET: usize = 4;

/// `text` as a QR code, line by line. With colour it is drawn black on white, so it
/// reads on any terminal; without, the light modules are drawn (blocks on a dark
/// terminal), which phone cameras read as well. None if `text` does not fit a QR code.
pub fn lines(text: &str, colour: bool) -> Option<Vec<String>> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 2 * QUIET;
    // Whether the module at (x, y) of the padded square is dark.
    let dark = |x: usize, y: usize| -> bool {
        x >= QUIET
            && y >= QUIET
            && x < QUIET + width
            && y < QUIET + width
            && colors[(y - QUIET) * width + (x - QUIET)] == Color::Dark
    };
    let mut out = Vec::with_capacity(size.div_ceil(2));
    for y in (0..size).step_by(2) {
        let mut line = String::with_capacity(size * 3 + 16);
        if colour {
            line.push_str("\x1b[30;107m");
        }
        for x in 0..size {
            let (top, bottom) = (dark(x, y), y + 1 < size && dark(x, y + 1));
            // Drawn: dark modules with colour, light ones without.
            let (top, bottom) = if colour {
                (top, bottom)
            } else {
                (!top, y + 1 < size && !bottom)
            };
            line.push(match (top, bottom) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        if colour {
            line.push_str("\x1b[0m");
        }
        out.push(line);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The drawn squares back as modules (true: drawn), two rows a line.
    fn drawn(lines: &[String]) -> Vec<Vec<bool>> {
        let mut rows = Vec::new();
        for l in lines {
            let (mut top, mut bottom) = (Vec::new(), Vec::new());
            for c in l.chars() {
                let (t, b) = match c {
                    '█' => (true, true),
                    '▀' => (true, false),
                    '▄' => (false, true),
                    ' ' => (false, false),
                    other => panic!("{other:?} in a QR line"),
                };
                top.push(t);
                bottom.push(b);
            }
            rows.push(top);
            rows.push(bottom);
        }
        rows
    }

    #[test]
    fn a_classroom_address_draws_its_modules_with_finders_in_three_corners() {
        let url = "http://192.168.1.23:8080/";
        let plain = lines(url, false).unwrap();
        let modules = drawn(&plain);
        // Version 2 (25 modules) holds this URL at level L; with the quiet zone, 33.
        let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::L).unwrap();
        assert_eq!(code.width(), 25);
        assert_eq!(plain.len(), 17, "33 rows, two a line");
        assert!(plain.iter().all(|l| l.chars().count() == 33));
        let colors = code.to_colors();
        for y in 0..25 {
            for x in 0..25 {
                // Without colour the light modules are the drawn ones.
                let light = colors[y * 25 + x] == Color::Light;
                assert_eq!(modules[y + QUIET][x + QUIET], light, "module ({x}, {y})");
            }
        }
        // The quiet zone is all light (drawn), and a finder pattern's dark ring and
        // centre sit in the top-left, top-right and bottom-left corners (ISO 18004 6.3.3).
        assert!(modules[..QUIET].iter().all(|r| r[..33].iter().all(|&m| m)));
        for (ox, oy) in [(0, 0), (18, 0), (0, 18)] {
            for i in 0..7 {
                for j in 0..7 {
                    let ring = i == 0 || j == 0 || i == 6 || j == 6;
                    let centre = (2..=4).contains(&i) && (2..=4).contains(&j);
                    let dark = !modules[QUIET + oy + j][QUIET + ox + i];
                    assert_eq!(dark, ring || centre, "finder at ({ox}, {oy}), ({i}, {j})");
                }
            }
        }
        // With colour: black on white, the dark modules drawn, the same code.
        let coloured = lines(url, true).unwrap();
        let stripped: Vec<String> = coloured
            .iter()
            .map(|l| {
                l.strip_prefix("\x1b[30;107m")
                    .and_then(|l| l.strip_suffix("\x1b[0m"))
                    .unwrap()
                    .to_string()
            })
            .collect();
        let dark_drawn = drawn(&stripped);
        for y in 0..33 {
            for x in 0..33 {
                assert_eq!(dark_drawn[y][x], !modules[y][x], "({x}, {y})");
            }
        }
    }

    #[test]
    fn text_too_long_for_any_qr_code_gives_none() {
        assert!(lines(&"x".repeat(8000), false).is_none());
    }
}
