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
