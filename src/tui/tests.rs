//! The view drawn into ratatui's `TestBackend`: keys sent to the state, the screen read
//! back as text, no terminal needed.

use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

use super::app::{App, Mode, Pane, ViewOptions};
use super::walk::Walk;
use crate::pipeline::Pipeline;
use crate::source::simulate::{simulate, SimOptions};

fn walk() -> Walk {
    let sim = simulate(
        "websocket",
        &SimOptions {
            seed: 1,
            ..SimOptions::default()
        },
    )
    .unwrap();
    Walk::new(
        "the simulated 'websocket' scenario".into(),
        Pipeline::new(),
        sim.into_iter().map(|s| (s.frame, Some(s.caption))),
    )
}

fn app(mode: Mode) -> App {
    App::new(
        walk(),
        ViewOptions {
            mode,
            color: false,
            big: false,
            brief: false,
            explain_all: false,
        },
    )
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| super::draw(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    let mut s = String::new();
    for y in 0..h {
        for x in 0..w {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

fn key(app: &mut App, code: KeyCode) {
    app.key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
    key(app, KeyCode::Enter);
}

#[test]
fn the_tour_walks_forward_and_back_to_the_same_screen() {
    let mut a = app(Mode::Tour);
    let first = screen(&mut a, 120, 40);
    assert!(first.contains("SYN — asks to open a connection"), "{first}");
    assert!(
        first.contains("L1 Physical") && first.contains("L3 Network"),
        "{first}"
    );
    key(&mut a, KeyCode::Right);
    let syn_ack = screen(&mut a, 120, 40);
    assert!(syn_ack.contains("[2/18]"), "{syn_ack}");
    key(&mut a, KeyCode::Char(' '));
    let ack = screen(&mut a, 120, 40);
    let row = ack
        .lines()
        .find(|l| l.contains("▶   3 "))
        .unwrap_or_else(|| panic!("{ack}"));
    assert_eq!(row.matches("ESTABLISHED").count(), 2, "{row}");
    key(&mut a, KeyCode::Left);
    assert_eq!(screen(&mut a, 120, 40), syn_ack);
}

#[test]
fn the_tours_introduction_stays_until_the_first_key() {
    let mut a = app(Mode::Tour);
    a.intro = Some("Each packet is shown from the wire up".into());
    assert!(screen(&mut a, 120, 40).contains("Each packet is shown from the wire up"));
    key(&mut a, KeyCode::Right);
    let s = screen(&mut a, 120, 40);
    assert!(
        s.contains("[1/18]") && !s.contains("from the wire up"),
        "{s}"
    );
}

#[test]
fn every_line_fits_at_80x24_and_120x40() {
    for (w, h) in [(80u16, 24u16), (120, 40), (60, 20)] {
        for mode in [Mode::Tour, Mode::Browse] {
            let mut a = app(mode);
            for _ in 0..18 {
                let s = screen(&mut a, w, h);
                assert_eq!(s.lines().count(), h as usize);
                assert!(s.lines().all(|l| l.chars().count() == w as usize));
                // The footer: where we are, and the keys.
                assert!(s.contains(&format!("/18] packet {}", a.cur + 1)), "{s}");
                assert!(s.contains("q quit"), "{s}");
                key(&mut a, KeyCode::Right);
            }
        }
    }
}

#[test]
fn search_finds_the_101_and_filter_is_the_inspect_filter() {
    let mut a = app(Mode::Browse);
    key(&mut a, KeyCode::Char('/'));
    typed(&mut a, "101");
    assert_eq!(a.walk.packets[a.packet().unwrap()].frame.number, 5);
    let s = screen(&mut a, 120, 40);
    assert!(s.contains("found '101' in packet 5"), "{s}");
    key(&mut a, KeyCode::Char('f'));
    typed(&mut a, "tcp and fin");
    let f = crate::filter::Filter::parse("tcp and fin").unwrap();
    let want: Vec<usize> = (0..a.walk.len())
        .filter(|&i| f.matches(&a.walk.packets[i]))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(a.visible, want);
    key(&mut a, KeyCode::Char('f'));
    for _ in 0.."tcp and fin".len() {
        key(&mut a, KeyCode::Backspace);
    }
    typed(&mut a, "bogus words");
    assert!(a.message.as_deref().unwrap().starts_with("bad filter:"));
    key(&mut a, KeyCode::Esc);
    assert_eq!(a.visible, want, "a bad filter keeps the last good one");
}

#[test]
fn a_layer_folds_and_its_bytes_are_the_ones_highlighted() {
    let mut a = app(Mode::Browse);
    key(&mut a, KeyCode::Enter); // from the list to the tree
    assert_eq!(a.pane, Pane::Tree);
    screen(&mut a, 120, 40);
    // Down to the IPv4 layer.
    while a.section.map(|s| s.1) != Some("ipv4") {
        key(&mut a, KeyCode::Down);
    }
    let open = screen(&mut a, 120, 40);
    assert!(open.contains("L3 is the postal address"), "{open}");
    key(&mut a, KeyCode::Enter);
    let folded = screen(&mut a, 120, 40);
    assert!(folded.contains("+   L3 Network"), "{folded}");
    assert!(!folded.contains("L3 is the postal address"), "{folded}");
    // Folded on the next packet too.
    key(&mut a, KeyCode::Right);
    assert!(screen(&mut a, 120, 40).contains("+   L3 Network"));
    let c = a.cache.as_ref().unwrap();
    let ip = c.tree.sections.iter().find(|s| s.name == "ipv4").unwrap();
    assert_eq!(
        ip.bytes,
        Some((14, 34)),
        "IPv4 header after 14 bytes of Ethernet"
    );
}

#[test]
fn explain_all_repeats_what_was_said_earlier_in_the_conversation() {
    let mut a = app(Mode::Tour);
    key(&mut a, KeyCode::Right);
    key(&mut a, KeyCode::Right);
    let once = screen(&mut a, 120, 60);
    assert!(
        !once.contains("L2 moves a frame"),
        "said on packet 1 already"
    );
    key(&mut a, KeyCode::Char('e'));
    let all = screen(&mut a, 120, 60);
    assert!(all.contains("L2 moves a frame"), "{all}");
}

#[test]
fn a_live_walk_grows_and_the_selection_follows_the_newest_until_moved() {
    let sim = simulate(
        "websocket",
        &SimOptions {
            seed: 1,
            ..SimOptions::default()
        },
    )
    .unwrap();
    let frames: Vec<_> = sim.into_iter().map(|s| s.frame).collect();
    let whole = walk();
    let mut a = App::new(
        Walk::live("a live capture on lo".into(), Pipeline::new()),
        ViewOptions {
            mode: Mode::Browse,
            color: false,
            big: false,
            brief: false,
            explain_all: false,
        },
    );
    a.live = Some("live · 0 packets".into());
    let empty = screen(&mut a, 120, 40);
    assert!(empty.contains("waiting for the first packet"), "{empty}");
    for (i, f) in frames.iter().take(3).enumerate() {
        let before = a.walk.len();
        a.walk.add(f.clone());
        a.grew(before);
        assert_eq!(a.packet(), Some(i), "the newest is selected");
    }
    let third = screen(&mut a, 120, 40);
    assert!(third.contains("ACK"), "{third}");
    // The learner goes back: new packets no longer move the selection.
    key(&mut a, KeyCode::Left);
    assert_eq!(a.packet(), Some(1));
    for f in &frames[3..] {
        let before = a.walk.len();
        a.walk.add(f.clone());
        a.grew(before);
    }
    assert_eq!(a.packet(), Some(1));
    a.walk.finish();
    assert_eq!(a.walk.len(), whole.len());
    // Packet by packet, the analysis says what it says on the whole capture at once.
    for i in 0..whole.len() {
        assert_eq!(
            format!("{:?}", a.walk.packets[i].analysis),
            format!("{:?}", whole.packets[i].analysis),
            "packet {}",
            i + 1
        );
    }
    assert_eq!(a.walk.warnings, whole.warnings);
}

#[test]
fn quit_keys() {
    for k in [KeyCode::Char('q'), KeyCode::Esc] {
        let mut a = app(Mode::Browse);
        key(&mut a, k);
        assert!(a.quit);
    }
    let mut a = app(Mode::Browse);
    a.key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(a.quit);
}

mod lesson_screen {
    //! A lesson in the full screen: the real runner on its thread, keys sent to the
    //! screen, the screen drawn into a `TestBackend`.

    use std::time::Duration;

    use ratatui::backend::TestBackend;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ratatui::Terminal;

    use crate::lesson::runner::{RunOptions, Waiting};
    use crate::render::Theme;
    use crate::tui::lesson::{draw, LessonScreen};
    use crate::tui::text::Look;

    fn start(progress: &std::path::Path) -> LessonScreen {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/lessons/tiny.toml");
        let lf = crate::lesson::load_file(&file).unwrap();
        let opts = RunOptions {
            pause: true,
            answers: None,
            theme: Theme { color: true },
            width: 78,
            pcap: None,
            seed: None,
            progress_path: Some(progress.to_path_buf()),
            reset: false,
            screen: None,
        };
        let mut s = LessonScreen::start(
            lf,
            opts,
            Look {
                color: false,
                big: false,
            },
        );
        s.settle(Duration::from_secs(10));
        s
    }

    fn shot(s: &LessonScreen, w: u16, h: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| draw(f, s)).unwrap();
        let buf = t.backend().buffer().clone();
        (0..h)
            .map(|y| {
                let row: String = (0..w).map(|x| buf[(x, y)].symbol()).collect();
                row.trim_end().to_string() + "\n"
            })
            .collect()
    }

    fn press(s: &mut LessonScreen, code: KeyCode) -> bool {
        let go_on = s.key(KeyEvent::new(code, KeyModifiers::NONE));
        s.settle(Duration::from_secs(10));
        go_on
    }

    fn answer(s: &mut LessonScreen, text: &str) {
        for c in text.chars() {
            s.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        press(s, KeyCode::Enter);
    }

    #[test]
    fn a_lesson_runs_in_the_screen_wrong_then_right_and_quits_keeping_progress() {
        let dir = std::env::temp_dir().join(format!("wirewalk-tui-lesson-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let progress = dir.join("progress.json");
        let mut s = start(&progress);

        // Step 1: the lesson's opening words, then the SYN-ACK from its first line, the
        // rest of the page below (the footer says how much).
        let first = shot(&s, 80, 24);
        assert!(
            first.starts_with("Lesson 98 · A tiny handshake lesson — step 1 of 5"),
            "{first}"
        );
        assert!(
            first.contains("For the tests of `lesson start`."),
            "{first}"
        );
        assert!(first.contains("Packet 2 of 3 (syn-ack)"), "{first}");
        assert!(first.contains("more lines (space)"), "{first}");
        assert!(first.contains("→ Enter next"), "{first}");
        assert!(first.lines().all(|l| l.chars().count() <= 80), "{first}");
        // Space reads on down the page; the focused layer is marked.
        let mut spaces = 0;
        while shot(&s, 80, 24).contains("more lines (space)") && spaces < 10 {
            press(&mut s, KeyCode::Char(' '));
            spaces += 1;
        }
        assert!(spaces >= 2, "a 61-line page takes more than one screen");
        let end = shot(&s, 80, 24);
        assert!(end.contains("▶ marks layer 4 (Transport)"), "{end}");
        assert_eq!(
            s.status.unwrap().step,
            0,
            "space pages, it does not leave the step"
        );

        // Step 2: a packet question, in the answer box; wrong, then right.
        press(&mut s, KeyCode::Right);
        let q = shot(&s, 80, 24);
        assert!(
            q.contains("What is the server's initial sequence number (raw)?"),
            "{q}"
        );
        assert!(q.contains("your answer (Enter sends)"), "{q}");
        assert_eq!(s.status.unwrap().waiting, Waiting::Answer);
        // Letters that are keys elsewhere are text in the box.
        s.key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE));
        assert_eq!(s.input, "q");
        press(&mut s, KeyCode::Backspace);
        answer(&mut s, "42");
        let wrong = shot(&s, 80, 24);
        assert!(
            wrong.contains("> 42") && wrong.contains("Not quite — one more try"),
            "{wrong}"
        );
        assert!(
            wrong.contains("Hint: It is the raw seq of the SYN-ACK."),
            "{wrong}"
        );
        answer(&mut s, "3768183916");
        let right = shot(&s, 80, 24);
        assert!(right.contains("✓ Right, at the second try."), "{right}");
        assert!(right.contains("EXPLAIN-ISN"), "{right}");
        assert!(
            right.contains("step 2 of 5 · 1 of 3 right so far"),
            "{right}"
        );

        // Back shows step 1 again; forward twice reaches the blank; Esc quits.
        press(&mut s, KeyCode::Left);
        assert!(shot(&s, 80, 24).contains("Packet 2 of 3 (syn-ack)"));
        press(&mut s, KeyCode::Right);
        // The question already answered is shown with its answer, not asked again.
        let again = shot(&s, 80, 24);
        assert!(again.contains("(Answered before: right.)"), "{again}");
        press(&mut s, KeyCode::Right);
        assert!(shot(&s, 80, 24).contains("without first receiving a ____"));
        press(&mut s, KeyCode::Esc);
        assert!(s.ended);
        let last = String::from_utf8_lossy(&s.last_words).into_owned();
        assert_eq!(
            last.trim(),
            "Progress kept: step 3 of 5, 1/3 right so far. `wirewalk lesson start tiny` resumes."
        );
        assert!(!s.finished());
        let saved = crate::lesson::progress::Progress::load(&progress).unwrap();
        assert_eq!(saved.lessons["tiny"].step, 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
