//! Grading: what counts as the right answer for each kind of question.

use super::model::{Kind, Question};
use super::packets::Fact;

/// Case, surrounding spaces and punctuation, doubled spaces and a leading article do
/// not matter in a fill-in-the-blank answer.
pub fn normalize(s: &str) -> String {
    let lower = s.trim().to_lowercase();
    let trimmed = lower.trim_matches(|c: char| !c.is_alphanumeric());
    let words: Vec<&str> = trimmed.split_whitespace().collect();
    let words = match words.first() {
        Some(&"a") | Some(&"an") | Some(&"the") if words.len() > 1 => &words[1..],
        _ => &words[..],
    };
    words.join(" ")
}

/// The order in which an order question's items are shown: a fixed shuffle (from the
/// question's text), never the right order. `shown[i]` is the index in `items` of the
/// i-th item shown.
pub fn shuffled(q: &Question) -> Vec<usize> {
    let n = q.items.len();
    let mut idx: Vec<usize> = (0..n).collect();
    let mut h: u64 = 0xcbf29ce484222325;
    for b in q.ask.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    for i in (1..n).rev() {
        h = h
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = ((h >> 33) % (i as u64 + 1)) as usize;
        idx.swap(i, j);
    }
    if n > 1 && idx.iter().enumerate().all(|(i, &v)| i == v) {
        idx.rotate_left(1);
    }
    idx
}

/// Reads "3 1 2", "3,1,2" or "312" (with up to 9 items) as positions from 1.
pub fn parse_positions(answer: &str, n: usize) -> Option<Vec<usize>> {
    let a = answer.trim();
    let parts: Vec<&str> = a
        .split([',', ' ', '-', '>'])
        .filter(|s| !s.is_empty())
        .collect();
    let nums: Option<Vec<usize>> =
        if parts.len() == 1 && n <= 9 && a.chars().all(|c| c.is_ascii_digit()) && a.len() == n {
            a.chars()
                .map(|c| c.to_digit(10).map(|d| d as usize))
                .collect()
        } else {
            parts.iter().map(|p| p.parse().ok()).collect()
        };
    nums.filter(|v| v.len() == n && v.iter().all(|&x| x >= 1 && x <= n))
}

/// The outcome of one try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grade {
    Right,
    Wrong,
    /// Not an answer of the expected form (e.g. "7" for a question with 3 choices); the
    /// message says what is expected and the try does not count.
    Unreadable(String),
}

/// Grades `answer`. `fact` is the value computed from the packets (packet questions).
pub fn grade(q: &Question, answer: &str, fact: Option<&Fact>) -> Grade {
    match q.kind {
        Kind::Choice => {
            let n = q.choices.len();
            let a = answer.trim().trim_end_matches(['.', ')']);
            let pick = match a.parse::<usize>() {
                Ok(k) if (1..=n).contains(&k) => Some(k),
                Ok(_) => return Grade::Unreadable(format!("type a number from 1 to {n}")),
                Err(_) => q
                    .choices
                    .iter()
                    .position(|c| normalize(c) == normalize(a))
                    .map(|i| i + 1),
            };
            match pick {
                Some(k) if Some(k) == q.correct => Grade::Right,
                Some(_) => Grade::Wrong,
                None => Grade::Unreadable(format!("type the number of your choice, from 1 to {n}")),
            }
        }
        Kind::Blank => {
            let a = normalize(answer);
            let ok = q
                .answer
                .iter()
                .chain(q.accept.iter())
                .any(|x| normalize(x) == a);
            if ok {
                Grade::Right
            } else {
                Grade::Wrong
            }
        }
        Kind::Order => {
            let n = q.items.len();
            let shown = shuffled(q);
            match parse_positions(answer, n) {
                None => Grade::Unreadable(format!(
                    "type the {n} numbers in order, e.g. {}",
                    (1..=n).map(|i| i.to_string()).collect::<Vec<_>>().join(" ")
                )),
                Some(pos) => {
                    if pos.iter().enumerate().all(|(i, &p)| shown[p - 1] == i) {
                        Grade::Right
                    } else {
                        Grade::Wrong
                    }
                }
            }
        }
        Kind::Packet => match fact {
            Some(f) if f.matches(answer) => Grade::Right,
            Some(_) => Grade::Wrong,
            None => Grade::Unreadable("this question cannot be answered from these packets".into()),
        },
    }
}

/// The right answer as shown to the learner after a second wrong try.
pub fn right_answer(q: &Question, fact: Option<&Fact>) -> String {
    match q.kind {
        Kind::Choice => {
            let k = q.correct.unwrap_or(0);
            format!(
                "{k}. {}",
                q.choices
                    .get(k.wrapping_sub(1))
                    .map(String::as_str)
                    .unwrap_or("?")
            )
        }
        Kind::Blank => q.answer.clone().unwrap_or_default(),
        Kind::Order => {
            let shown = shuffled(q);
            let nums: Vec<String> = (0..q.items.len())
                .map(|i| (shown.iter().position(|&s| s == i).unwrap_or(0) + 1).to_string())
                .collect();
            format!("{} — {}", nums.join(" "), q.items.join(" → "))
        }
        Kind::Packet => match fact {
            Some(f) => match f.frame {
                Some(n) if n.to_string() != f.value => format!("{} (packet {n})", f.value),
                Some(_) => f.value.clone(),
                None => f.value.clone(),
            },
            None => "(not in these packets)".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(kind: Kind) -> Question {
        Question {
            kind,
            ask: "WebSockets let a server send content without first receiving a ____".into(),
            choices: vec![],
            correct: None,
            answer: None,
            accept: vec![],
            items: vec![],
            answer_from: None,
            hints: vec![],
            explain: None,
        }
    }

    #[test]
    fn blanks_forgive_case_space_articles() {
        let mut b = q(Kind::Blank);
        b.answer = Some("request".into());
        b.accept = vec!["HTTP request".into()];
        for a in [
            "request",
            "  Request ",
            "REQUEST.",
            "a request",
            "http  request",
            "\"request\"",
        ] {
            assert_eq!(grade(&b, a, None), Grade::Right, "{a}");
        }
        assert_eq!(grade(&b, "response", None), Grade::Wrong);
    }

    #[test]
    fn order_is_shuffled_and_graded() {
        let mut o = q(Kind::Order);
        o.items = vec!["SYN".into(), "SYN-ACK".into(), "ACK".into()];
        let shown = shuffled(&o);
        assert_ne!(shown, vec![0, 1, 2]);
        let right: Vec<String> = (0..3)
            .map(|i| (shown.iter().position(|&s| s == i).unwrap() + 1).to_string())
            .collect();
        assert_eq!(grade(&o, &right.join(" "), None), Grade::Right);
        assert_eq!(grade(&o, &right.join(","), None), Grade::Right);
        assert_eq!(grade(&o, &right.concat(), None), Grade::Right);
        assert_eq!(
            grade(&o, "1 2 3", None),
            if shown == vec![0, 1, 2] {
                Grade::Right
            } else {
                Grade::Wrong
            }
        );
        assert!(matches!(grade(&o, "1 2", None), Grade::Unreadable(_)));
    }

    #[test]
    fn choices_by_number_or_text() {
        let mut c = q(Kind::Choice);
        c.choices = vec!["transport".into(), "application".into()];
        c.correct = Some(2);
        assert_eq!(grade(&c, "2", None), Grade::Right);
        assert_eq!(grade(&c, "Application", None), Grade::Right);
        assert_eq!(grade(&c, "1", None), Grade::Wrong);
        assert!(matches!(grade(&c, "5", None), Grade::Unreadable(_)));
    }
}
