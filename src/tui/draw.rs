//! The screen: where each pane goes at each terminal size, and what is in it. The
//! text inside the panes is the renderers' own (`render::terminal`, `hex`, `diagram`,
//! `summary`), fitted to the pane.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use super::app::{App, Mode, Pane, Prompt};
use super::text::{cut, fit, Look};
use crate::render::diagram::ROW_MARGIN;

/// Below this width the tour puts the ladder under the packet instead of beside it.
const SIDE_BY_SIDE: u16 = 100;
/// Below this size `browse` shows the list and one detail pane instead of all four.
const ALL_PANES: (u16, u16) = (110, 30);

impl App {
    pub(super) fn look(&self) -> Look {
        Look {
            color: self.opts.color,
            big: self.opts.big,
        }
    }
}

/// Draws the whole screen.
pub fn draw(f: &mut Frame, app: &mut App) {
    let area = f.area();
    let look = app.look();
    if look.big {
        f.render_widget(
            Block::default().style(Style::default().bg(ratatui::style::Color::Black)),
            area,
        );
    }
    let [body, footer_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(2)]).areas(area);
    match app.opts.mode {
        Mode::Browse => browse(f, app, body),
        Mode::Tour => tour(f, app, body),
    }
    footer(f, app, footer_area);
    if app.help {
        help(f, app, area);
    }
}

fn browse(f: &mut Frame, app: &mut App, area: Rect) {
    if area.width >= ALL_PANES.0 && area.height >= ALL_PANES.1 {
        let list_h = (area.height * 3 / 10).max(6);
        let [list_area, rest] =
            Layout::vertical([Constraint::Length(list_h), Constraint::Min(3)]).areas(area);
        let [tree_area, right] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                .areas(rest);
        let [ladder_area, hex_area] =
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(right);
        list(f, app, list_area);
        tree(f, app, tree_area);
        ladder(f, app, ladder_area);
        hex(f, app, hex_area);
    } else {
        let list_h = (area.height / 4).clamp(3, 8);
        let [list_area, rest] =
            Layout::vertical([Constraint::Length(list_h), Constraint::Min(3)]).areas(area);
        list(f, app, list_area);
        detail(f, app, rest);
    }
}

fn detail(f: &mut Frame, app: &mut App, area: Rect) {
    match app.detail {
        Pane::Hex => hex(f, app, area),
        Pane::Ladder => ladder(f, app, area),
        _ => tree(f, app, area),
    }
}

fn tour(f: &mut Frame, app: &mut App, area: Rect) {
    let look = app.look();
    let Some(i) = app.packet() else {
        f.render_widget(Paragraph::new("No packets to show."), area);
        return;
    };
    // The headline: what happens in this packet, in a sentence.
    let headline = match &app.walk.captions[i] {
        Some(c) => format!("▶ {}", crate::render::escape(c)),
        None => format!(
            "▶ {}",
            app.walk.summary(i, crate::render::Theme::plain()).trim()
        ),
    };
    let lines: Vec<Line> = crate::render::terminal::wrap(&headline, area.width as usize, 2)
        .into_iter()
        .take(3)
        .map(|l| cut(Line::styled(l, look.heading()), area.width as usize))
        .collect();
    let head_h = lines.len() as u16;
    let [head_area, rest] =
        Layout::vertical([Constraint::Length(head_h), Constraint::Min(3)]).areas(area);
    f.render_widget(Paragraph::new(lines), head_area);
    if rest.width >= SIDE_BY_SIDE {
        let side = (rest.width * 45 / 100).clamp(50, ROW_MARGIN as u16 + 46 + 3);
        let [tree_area, side_area] =
            Layout::horizontal([Constraint::Min(40), Constraint::Length(side)]).areas(rest);
        tree(f, app, tree_area);
        beside(f, app, side_area);
    } else {
        let below = (rest.height / 3).max(5);
        let [tree_area, below_area] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(below)]).areas(rest);
        tree(f, app, tree_area);
        beside(f, app, below_area);
    }
}

/// Beside the tour's packet: the introduction before the first key, then the ladder or the hex.
fn beside(f: &mut Frame, app: &mut App, area: Rect) {
    let Some(intro) = &app.intro else {
        return detail(f, app, area);
    };
    let look = app.look();
    let block = Block::bordered()
        .border_style(look.heading())
        .title(Span::styled(
            " The tour · → or space: begin · ? keys · q quit ",
            look.heading(),
        ));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = inner.width as usize;
    let lines: Vec<Line> = crate::render::terminal::wrap(intro, w, 0)
        .into_iter()
        .map(|l| Line::styled(l, look.plain()))
        .flat_map(|l| fit(l, w, 0))
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

/// A pane's frame, its border bold when the keys move in it.
fn pane(app: &App, which: Pane, title: String) -> Block<'static> {
    let look = app.look();
    let focus = app.pane == which;
    let style = if focus { look.heading() } else { look.plain() };
    Block::bordered()
        .border_style(style)
        .title(Span::styled(title, style))
}

fn list(f: &mut Frame, app: &mut App, area: Rect) {
    let look = app.look();
    let block = pane(
        app,
        Pane::List,
        match &app.filter {
            Some(flt) => format!(
                " Packets {} of {} · filter: {flt} ",
                app.visible.len(),
                app.walk.len()
            ),
            None => format!(" Packets ({}) ", app.walk.len()),
        },
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    let h = inner.height as usize;
    if h == 0 {
        return;
    }
    if app.cur < app.list_top {
        app.list_top = app.cur;
    } else if app.cur >= app.list_top + h {
        app.list_top = app.cur + 1 - h;
    }
    // Only the rows on screen are made: a capture of a million packets opens as fast as
    // one of ten.
    let end = (app.list_top + h).min(app.visible.len());
    let plain = crate::render::Theme::plain();
    let lines: Vec<Line> = (app.list_top..end)
        .map(|v| {
            let k = app.visible[v];
            let p = &app.walk.packets[k];
            let style = if p.analysis.tags.iter().any(|t| t.is_problem()) {
                look.warn()
            } else {
                look.layer(crate::render::diagram::top_osi(p))
            };
            let style = if v == app.cur {
                style.add_modifier(Modifier::REVERSED)
            } else {
                style
            };
            cut(
                Line::styled(app.walk.summary(k, plain), style),
                inner.width as usize,
            )
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

/// A packet's title (`Packet 1 · +0.000000 s · 74 bytes · …`) in a pane `width` wide:
/// its parts from the left, as many as fit whole.
fn title_within(title: &str, width: usize) -> String {
    let room = width.saturating_sub(4);
    let mut out = String::new();
    for part in title.split(" · ") {
        let len = out.chars().count() + if out.is_empty() { 0 } else { 3 } + part.chars().count();
        if len > room {
            break;
        }
        if !out.is_empty() {
            out.push_str(" · ");
        }
        out.push_str(part);
    }
    if out.is_empty() {
        title.chars().take(room).collect()
    } else {
        out
    }
}

fn tree(f: &mut Frame, app: &mut App, area: Rect) {
    let look = app.look();
    let title = match app.packet() {
        Some(i) => format!(
            " {} ",
            title_within(&app.walk.title_of(i), area.width as usize)
        ),
        None => " Layers ".into(),
    };
    let block = pane(app, Pane::Tree, title);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = (inner.width as usize).saturating_sub(2).max(1);
    let focus = app.pane == Pane::Tree;
    let (section, folded) = (app.section, app.folded.clone());
    let Some(tree) = app.tree(w) else { return };
    let mut lines: Vec<Line> = Vec::new();
    let mut selected_at = None;
    // What comes before the first part is the packet's title line: it is the pane's title.
    // Long lines go on under the layer's value column.
    let indent = crate::render::terminal::LABEL_WIDTH;
    for (k, s) in tree.sections.iter().enumerate() {
        let end = tree
            .sections
            .get(k + 1)
            .map(|n| n.offset)
            .unwrap_or(tree.text.len());
        if end <= s.offset {
            continue;
        }
        let name = (s.osi, s.name);
        let is_folded = folded.contains(&name);
        let part = look.lines(&tree.text[s.offset..end]);
        let many = part.len() > 1;
        for (n, l) in part.into_iter().enumerate() {
            if n > 0 && is_folded {
                break;
            }
            let mark = match (n, is_folded, many) {
                (0, true, _) => "+ ",
                (0, false, true) => "− ",
                _ => "  ",
            };
            let selected = n == 0 && section == Some(name);
            if selected {
                selected_at = Some(lines.len());
            }
            for (m, l) in fit(l, w, indent).into_iter().enumerate() {
                let mut line = gutter(if m == 0 { mark } else { "  " }, l);
                if selected && m == 0 {
                    let st = if focus {
                        Modifier::REVERSED
                    } else {
                        Modifier::BOLD
                    };
                    line = line.patch_style(Style::default().add_modifier(st));
                }
                lines.push(line);
            }
        }
    }
    let h = inner.height as usize;
    if app.reveal {
        app.reveal = false;
        if let Some(at) = selected_at {
            if at < app.tree_scroll || at >= app.tree_scroll + h {
                app.tree_scroll = at.saturating_sub(h / 4);
            }
        }
    }
    app.tree_scroll = app.tree_scroll.min(lines.len().saturating_sub(h));
    let shown: Vec<Line> = lines.into_iter().skip(app.tree_scroll).take(h).collect();
    f.render_widget(Paragraph::new(shown).style(look.plain()), inner);
}

fn gutter(mark: &'static str, l: Line<'static>) -> Line<'static> {
    let mut spans = vec![Span::raw(mark)];
    spans.extend(l.spans);
    Line::from(spans)
}

fn hex(f: &mut Frame, app: &mut App, area: Rect) {
    let look = app.look();
    let block = pane(app, Pane::Hex, " Bytes ".into());
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(i) = app.packet() else { return };
    let p = &app.walk.packets[i];
    let marked = app.cache.as_ref().and_then(|c| {
        c.tree
            .sections
            .iter()
            .find(|s| Some((s.osi, s.name)) == app.section)
            .and_then(|s| s.bytes)
    });
    let per_row = if inner.width >= 76 { 16 } else { 8 };
    let th = super::app::THEME;
    let mut lines = vec![look.line(&crate::render::hex::legend(p, th))];
    lines.extend(
        crate::render::hex::rows(p, th, marked, per_row)
            .iter()
            .map(|l| look.line(l)),
    );
    let w = inner.width as usize;
    let h = inner.height as usize;
    app.hex_scroll = app.hex_scroll.min(lines.len().saturating_sub(h));
    let shown: Vec<Line> = lines
        .into_iter()
        .skip(app.hex_scroll)
        .take(h)
        .map(|l| cut(l, w))
        .collect();
    f.render_widget(Paragraph::new(shown).style(look.plain()), inner);
}

fn ladder(f: &mut Frame, app: &mut App, area: Rect) {
    let look = app.look();
    let block = pane(app, Pane::Ladder, " Conversation ".into());
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(i) = app.packet() else { return };
    let w = inner.width as usize;
    let h = (inner.height as usize).saturating_sub(1).max(1);
    let arrow = w.saturating_sub(ROW_MARGIN + 1).clamp(12, 46);
    let tour = app.opts.mode == Mode::Tour;
    // The tour's ladder grows with the walk (what has happened so far); the browser's
    // shows the whole conversation around the selected packet.
    let window = move |len: usize, place: usize| {
        let end = if tour { place + 1 } else { len };
        let start = if tour {
            end.saturating_sub(h)
        } else {
            place.saturating_sub(h / 2).min(len.saturating_sub(h))
        };
        start..(start + h).min(end)
    };
    let Some(l) = app.walk.ladder(i, super::app::THEME, arrow, window) else {
        let text = format!(
            "Packet {} is not part of a TCP or UDP conversation: it has no ladder.",
            app.walk.packets[i].frame.number
        );
        let lines: Vec<Line> = crate::render::terminal::wrap(&text, w, 0)
            .into_iter()
            .map(Line::from)
            .collect();
        f.render_widget(Paragraph::new(lines).style(look.plain()), inner);
        return;
    };
    let mut lines = vec![cut(look.line(&l.heading), w)];
    for (n, row) in l.rows.iter().enumerate() {
        let current = n == l.current;
        let mut line = gutter(if current { "▶" } else { " " }, look.line(row));
        if current {
            line = line.patch_style(Style::default().add_modifier(Modifier::BOLD));
        }
        lines.push(cut(line, w));
    }
    f.render_widget(Paragraph::new(lines).style(look.plain()), inner);
}

/// The keys, in full when there is room.
fn keys(app: &App, width: usize) -> &'static str {
    let full = match app.opts.mode {
        Mode::Browse => "→/n next  ←/b back  ↑↓ move  Enter fold  Tab pane  / search  f filter  e explain-all  ? help  q quit",
        Mode::Tour => "→/space next  ←/b back  ↑↓ layer  Enter fold  Tab hex/ladder  / search  f filter  e explain-all  ? help  q quit",
    };
    let short = match app.opts.mode {
        Mode::Browse => {
            "→ next ← back ↑↓ move ⏎ fold Tab pane / search f filter e all ? help q quit"
        }
        Mode::Tour => "→ next ← back ↑↓ layer ⏎ fold Tab hex / search f filter e all ? help q quit",
    };
    let tiny = "→ next ← back / search Tab pane ? help q quit";
    [full, short]
        .into_iter()
        .find(|k| k.chars().count() <= width)
        .unwrap_or(tiny)
}

fn footer(f: &mut Frame, app: &App, area: Rect) {
    let look = app.look();
    let w = area.width as usize;
    let status = match &app.prompt {
        Some(Prompt::Search(t)) => format!("search: {t}▏"),
        Some(Prompt::Filter(t)) => format!("filter (as -f, empty: all): {t}▏"),
        None => {
            let pos = match app.packet() {
                Some(i) => format!(
                    "[{}/{}] packet {}",
                    app.cur + 1,
                    app.visible.len(),
                    app.walk.packets[i].frame.number
                ),
                None if app.live.is_some() && app.walk.is_empty() => {
                    "waiting for the first packet".into()
                }
                None => "no packet shown".into(),
            };
            let more = match (&app.message, app.opts.mode) {
                (Some(m), _) => m.clone(),
                (None, _) if app.live.is_some() => app.live.clone().unwrap_or_default(),
                (None, Mode::Tour) => app.walk.title.clone(),
                (None, Mode::Browse) => app
                    .filter
                    .as_ref()
                    .map(|flt| format!("filter: {flt}"))
                    .unwrap_or_else(|| app.walk.title.clone()),
            };
            format!("{pos} · {more}")
        }
    };
    let lines = vec![
        cut(Line::styled(status, look.heading()), w),
        cut(Line::styled(keys(app, w), look.plain()), w),
    ];
    f.render_widget(Paragraph::new(lines), area);
}

fn help(f: &mut Frame, app: &App, area: Rect) {
    let look = app.look();
    let text = [
        "→ space n     next packet",
        "← b p         previous packet",
        "↑ ↓           move in the list, the layers or the conversation",
        "PgUp PgDn     ten packets, or a page of the layers",
        "Home g / End G   first / last packet",
        "Enter         fold or unfold the selected layer (in the list: go to its layers)",
        "Tab           next pane (the tour: hex or ladder beside the packet)",
        "/ text Enter  find the next packet with the text (Enter alone: again)",
        "f expr Enter  show only packets that match, as `inspect -f`",
        "e             every explanation on every packet, or each once",
        "q Esc Ctrl-C  quit",
        "",
        "Any key closes this help.",
    ];
    let w = (text.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u16 + 4).min(area.width);
    let h = (text.len() as u16 + 2).min(area.height);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    f.render_widget(Clear, r);
    let lines: Vec<Line> = text
        .iter()
        .map(|l| cut(Line::styled(*l, look.plain()), w as usize - 2))
        .collect();
    f.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(Span::styled(" Keys ", look.heading()))
                .border_style(look.heading()),
        ),
        r,
    );
}
