//! The classroom's QR code, read back by a real decoder (zbar's `zbarimg`), drawn as
//! the terminal shows it: with colour (dark modules drawn) and without (light ones).

use std::process::Command;

/// The terminal lines as a PBM image, eight pixels a module; `drawn_dark` says which
/// modules the characters draw.
fn pbm(lines: &[String], drawn_dark: bool) -> String {
    let mut rows: Vec<Vec<bool>> = Vec::new();
    for l in lines {
        let l = l
            .trim_start_matches("\x1b[30;107m")
            .trim_end_matches("\x1b[0m");
        let (mut top, mut bottom) = (Vec::new(), Vec::new());
        for c in l.chars() {
            let (t, b) = match c {
                '█' => (true, true),
                '▀' => (true, false),
                '▄' => (false, true),
                _ => (false, false),
            };
            top.push(t == drawn_dark);
            bottom.push(b == drawn_dark);
        }
        rows.push(top);
        rows.push(bottom);
    }
    let scale = 8;
    let mut out = format!("P1\n{} {}\n", rows[0].len() * scale, rows.len() * scale);
    for r in &rows {
        let line: Vec<&str> = r
            .iter()
            .flat_map(|&dark| std::iter::repeat_n(if dark { "1" } else { "0" }, scale))
            .collect();
        for _ in 0..scale {
            out.push_str(&line.join(" "));
            out.push('\n');
        }
    }
    out
}

#[test]
#[ignore = "needs zbarimg (zbar-tools)"]
fn zbarimg_reads_the_address_in_both_drawings() {
    let dir = std::env::temp_dir().join(format!("wirewalk-qr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for url in ["http://192.168.1.23:8080/", "http://[2001:db8::17]:8080/"] {
        for colour in [false, true] {
            let lines = wirewalk::render::qr::lines(url, colour).unwrap();
            let file = dir.join(format!("qr-{colour}.pbm"));
            std::fs::write(&file, pbm(&lines, colour)).unwrap();
            let out = Command::new("zbarimg")
                .args(["-q", "--raw"])
                .arg(&file)
                .output()
                .expect("run zbarimg");
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim(),
                url,
                "colour {colour}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
