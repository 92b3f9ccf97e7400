//! `wirewalk lesson check`: every lesson file is read against the schema, every source
//! it names is loaded, every packet it shows is found, and every question's answer key
//! is compared with what the pipeline computes from the lesson's own packets.

use super::model::{Focus, Kind, PacketRef, Question};
use super::quiz;
use super::runner::{step_sources, Sources};
use super::LessonFile;

const PROTOCOLS: &[&str] = &[
    "ethernet",
    "linux-sll",
    "linux-sll2",
    "null",
    "vlan",
    "arp",
    "ipv4",
    "ipv6",
    "ip",
    "tcp",
    "udp",
    "icmp",
    "icmpv6",
    "dns",
    "tls",
    "http",
    "websocket",
    "engineio",
    "socketio",
    "session",
    "presentation",
];

/// Every problem found in a lesson, each one line that names the step.
pub fn check(lf: &LessonFile) -> Vec<String> {
    let l = &lf.lesson;
    let mut problems = Vec::new();
    if l.name.is_empty()
        || !l
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        problems.push(format!(
            "name \"{}\": use lower-case letters, digits and -",
            l.name
        ));
    }
    if l.title.trim().is_empty() {
        problems.push("title is empty".into());
    }
    if l.steps.is_empty() {
        problems.push("the lesson has no [[step]]".into());
    }
    let mut sources = Sources::new(lf.base_dir(), None, None);
    let specs = step_sources(lf);
    for (i, step) in l.steps.iter().enumerate() {
        let at = format!("step {}", i + 1);
        if step.text.is_none()
            && step.show.is_none()
            && step.prompt.is_none()
            && step.question.is_none()
        {
            problems.push(format!(
                "{at}: empty (give it text, show, prompt or question)"
            ));
        }
        if step.simulate.is_some() && step.capture.is_some() {
            problems.push(format!("{at}: give `simulate` or `capture`, not both"));
        }
        let needs_packets = step.show.is_some()
            || step
                .question
                .as_ref()
                .is_some_and(|q| q.kind == Kind::Packet);
        let loaded = match &specs[i] {
            Some(spec) if needs_packets || step.simulate.is_some() || step.capture.is_some() => {
                match sources.load(spec) {
                    Ok(l) => Some(l),
                    Err(e) => {
                        problems.push(format!("{at}: {e}"));
                        None
                    }
                }
            }
            None if needs_packets => {
                problems.push(format!("{at}: shows packets, but neither the lesson's [source] nor an earlier step names any"));
                None
            }
            _ => None,
        };
        if let (Some(show), Some(loaded)) = (&step.show, &loaded) {
            let found = match &show.packet {
                PacketRef::Number(n) => loaded
                    .by_number(*n)
                    .map(|_| *n)
                    .ok_or(format!("there is no packet {n}")),
                PacketRef::Locator(loc) => loaded.locate(loc),
            };
            if let Err(e) = found {
                problems.push(format!(
                    "{at}: show.packet = {}: {e} in the {}",
                    show.packet, loaded.label
                ));
            }
        }
        if let Some(f) = step.show.as_ref().and_then(|s| s.focus.as_ref()) {
            match f {
                Focus::Osi(n) if !(1..=7).contains(n) => {
                    problems.push(format!("{at}: focus = {n}: an OSI layer is 1 to 7"))
                }
                Focus::Protocol(p) if !PROTOCOLS.contains(&p.to_ascii_lowercase().as_str()) => {
                    problems.push(format!(
                        "{at}: focus = \"{p}\": not a protocol wirewalk knows ({})",
                        PROTOCOLS.join(", ")
                    ))
                }
                _ => {}
            }
        }
        if let Some(q) = &step.question {
            for p in check_question(q) {
                problems.push(format!("{at}: {p}"));
            }
            if q.kind == Kind::Packet {
                if let (Some(from), Some(loaded)) = (&q.answer_from, &loaded) {
                    match loaded.fact(from) {
                        Err(e) => problems.push(format!("{at}: answer_from = \"{from}\": {e} in the {}", loaded.label)),
                        Ok(fact) => match &q.answer {
                            None => problems.push(format!(
                                "{at}: a packet question needs `answer`, what it gives on the lesson's own packets: answer = \"{}\"",
                                fact.value
                            )),
                            Some(key) if !fact.matches(key) => problems.push(format!(
                                "{at}: wrong answer key: answer = \"{key}\", but answer_from = \"{from}\" gives \"{}\"{} in the {}",
                                fact.value,
                                fact.frame.map(|n| format!(" (packet {n})")).unwrap_or_default(),
                                loaded.label
                            )),
                            Some(_) => {}
                        },
                    }
                }
            }
        }
    }
    problems
}

/// The rules of each kind of question.
fn check_question(q: &Question) -> Vec<String> {
    let mut p = Vec::new();
    let kind = format!("{:?}", q.kind).to_lowercase();
    if q.ask.trim().is_empty() {
        p.push("the question's `ask` is empty".into());
    }
    let mut only = |present: bool, key: &str, kinds: &str| {
        if present {
            p.push(format!("`{key}` goes only with kind = {kinds}, not {kind}"));
        }
    };
    only(
        !q.choices.is_empty() && q.kind != Kind::Choice,
        "choices",
        "\"choice\"",
    );
    only(
        q.correct.is_some() && q.kind != Kind::Choice,
        "correct",
        "\"choice\"",
    );
    only(
        !q.items.is_empty() && q.kind != Kind::Order,
        "items",
        "\"order\"",
    );
    only(
        !q.accept.is_empty() && q.kind != Kind::Blank,
        "accept",
        "\"blank\"",
    );
    only(
        q.answer_from.is_some() && q.kind != Kind::Packet,
        "answer_from",
        "\"packet\"",
    );
    only(
        q.answer.is_some() && !matches!(q.kind, Kind::Blank | Kind::Packet),
        "answer",
        "\"blank\" or \"packet\"",
    );
    match q.kind {
        Kind::Choice => {
            if q.choices.len() < 2 {
                p.push("a choice question needs at least 2 `choices`".into());
            }
            match q.correct {
                None => p.push(
                    "a choice question needs `correct` (the number of the right choice, from 1)"
                        .into(),
                ),
                Some(c) if c == 0 || c > q.choices.len() => p.push(format!(
                    "wrong answer key: correct = {c}, but there are {} choices (numbered from 1)",
                    q.choices.len()
                )),
                _ => {}
            }
        }
        Kind::Blank => match &q.answer {
            None => p.push("a blank question needs `answer`".into()),
            Some(a) => {
                if !q.ask.contains("____") {
                    p.push("a blank question's `ask` shows the blank as ____".into());
                }
                for x in std::iter::once(a).chain(q.accept.iter()) {
                    let n = quiz::normalize(x);
                    if n.is_empty() || ["h", "b", "q", "?"].contains(&n.as_str()) {
                        p.push(format!(
                            "answer \"{x}\" cannot be typed (empty, or a key the runner uses)"
                        ));
                    }
                }
            }
        },
        Kind::Order => {
            if q.items.len() < 2 {
                p.push("an order question needs at least 2 `items`, in the right order".into());
            }
            let mut seen = std::collections::HashSet::new();
            for it in &q.items {
                if !seen.insert(quiz::normalize(it)) {
                    p.push(format!(
                        "item \"{it}\" appears twice: the order would be ambiguous"
                    ));
                }
            }
        }
        Kind::Packet => {
            if q.answer_from.is_none() {
                p.push("a packet question needs `answer_from` (e.g. \"server_isn\", \"frame_of:syn-ack\")".into());
            }
        }
    }
    p
}
