//! The filter grammar, with winnow:
//!
//! ```text
//! filter    := or
//! or        := and (("or" | "||") and)*
//! and       := unary (("and" | "&&")? unary)*        side by side means and (tcpdump)
//! unary     := ("not" | "!") unary | "(" or ")" | primitive
//! primitive := ("src" | "dst")? ("host" ADDR | "net" CIDR | "port" N | "portrange" N-M | ADDR)
//!            | "host" ADDR | "net" CIDR | "port" N | "portrange" N-M | "stream" N
//!            | FIELD (OP VALUE)?                    OP: == != < <= > >= eq ne lt le gt ge contains
//!            | PROTOCOL | TAG
//! ```
//!
//! Errors say the column (from 1) of the token that could not be taken, and what was
//! expected there.

use std::net::IpAddr;

use winnow::ascii::multispace0;
use winnow::combinator::{alt, cut_err, eof, fail, not, opt, peek, preceded, terminated};
use winnow::error::{ContextError, ModalResult, StrContext, StrContextValue};
use winnow::stream::Stream;
use winnow::token::{literal, take_till, take_while};
use winnow::Parser;

use super::names;
use super::{Dir, Filter, Literal, Op};

type In<'a> = &'a str;

pub fn parse(text: &str) -> Result<Filter, String> {
    if text.trim().is_empty() {
        return Err("the filter is empty (try tcp, websocket, or 'port 8080')".into());
    }
    let mut whole = (
        multispace0,
        or_expr,
        multispace0,
        cut_err(eof).context(expected("and, or, or the end of the filter")),
    )
        .map(|(_, f, _, _)| f);
    whole.parse(text).map_err(|e| {
        let at = e.offset();
        let found = token_at(&text[at..]);
        let wanted: Vec<String> = e
            .inner()
            .context()
            .filter_map(|c| match c {
                StrContext::Expected(v) => Some(v.to_string()),
                _ => None,
            })
            .collect();
        let wanted = if wanted.is_empty() {
            "something else".to_string()
        } else {
            wanted.join(", or ")
        };
        format!(
            "column {}: {} — expected {wanted}",
            text[..at].chars().count() + 1,
            match found {
                Some(t) => format!("'{}'", crate::render::escape(t)),
                None => "the filter ends here".into(),
            }
        )
    })
}

/// The token that starts `rest`, for the error message.
fn token_at(rest: &str) -> Option<&str> {
    let rest = rest.trim_start();
    if rest.is_empty() {
        return None;
    }
    let end = rest
        .char_indices()
        .skip(1)
        .find(|(_, c)| c.is_whitespace() || "()".contains(*c))
        .map_or(rest.len(), |(i, _)| i);
    Some(&rest[..end])
}

fn expected(what: &'static str) -> StrContext {
    StrContext::Expected(StrContextValue::Description(what))
}

fn ws(i: &mut In<'_>) -> ModalResult<()> {
    multispace0.void().parse_next(i)
}

/// A bare word: letters, digits and the characters of addresses, ranges and field names.
fn word<'a>(i: &mut In<'a>) -> ModalResult<&'a str> {
    take_while(1.., |c: char| c.is_alphanumeric() || "._-:/[]".contains(c)).parse_next(i)
}

/// A keyword, case-insensitive, as a whole word.
fn keyword<'a>(
    kw: &'static str,
) -> impl Parser<In<'a>, &'a str, winnow::error::ErrMode<ContextError>> {
    word.verify(move |w: &str| w.eq_ignore_ascii_case(kw))
}

fn or_expr(i: &mut In<'_>) -> ModalResult<Filter> {
    let mut left = and_expr(i)?;
    loop {
        let start = i.checkpoint();
        ws(i)?;
        if opt(alt((keyword("or"), literal("||"))))
            .parse_next(i)?
            .is_none()
        {
            i.reset(&start);
            return Ok(left);
        }
        let right = cut_err(and_expr).parse_next(i)?;
        left = Filter::Or(Box::new(left), Box::new(right));
    }
}

fn and_expr(i: &mut In<'_>) -> ModalResult<Filter> {
    let mut left = unary(i)?;
    loop {
        let start = i.checkpoint();
        ws(i)?;
        let ends = peek(opt(alt((
            keyword("or").void(),
            literal("||").void(),
            literal(")").void(),
            eof.void(),
        ))))
        .parse_next(i)?;
        if ends.is_some() {
            i.reset(&start);
            return Ok(left);
        }
        // `and` may be left out, as in tcpdump: `tcp port 80`.
        opt(alt((keyword("and"), literal("&&")))).parse_next(i)?;
        let right = cut_err(unary).parse_next(i)?;
        left = Filter::And(Box::new(left), Box::new(right));
    }
}

fn unary(i: &mut In<'_>) -> ModalResult<Filter> {
    ws(i)?;
    let negation = opt(alt((
        keyword("not"),
        terminated(literal("!"), not(literal("="))),
    )))
    .parse_next(i)?;
    if negation.is_some() {
        let inner = cut_err(unary).parse_next(i)?;
        return Ok(Filter::Not(Box::new(inner)));
    }
    if opt(literal("(")).parse_next(i)?.is_some() {
        let inner = cut_err(or_expr).parse_next(i)?;
        ws(i)?;
        cut_err(literal(")"))
            .context(expected("')' to close the '('"))
            .parse_next(i)?;
        return Ok(inner);
    }
    primitive(i)
}

/// Fails at `start` (the column of the token) with what was expected there.
fn fail_at<'a, T>(
    i: &mut In<'a>,
    start: &<In<'a> as Stream>::Checkpoint,
    what: &'static str,
) -> ModalResult<T> {
    i.reset(start);
    cut_err(fail::<_, T, _>)
        .context(expected(what))
        .parse_next(i)
}

/// The next word, turned into a value by `f`; else an error at that word.
fn argument<T>(
    i: &mut In<'_>,
    what: &'static str,
    f: impl Fn(&str) -> Option<T>,
) -> ModalResult<T> {
    ws(i)?;
    let start = i.checkpoint();
    match opt(word).parse_next(i)?.and_then(|w| f(w)) {
        Some(v) => Ok(v),
        None => fail_at(i, &start, what),
    }
}

const PRIMITIVE: &str = "a filter word: a protocol (tcp, udp, dns, http, websocket, socketio…), \
host ADDR, net CIDR, port N, portrange N-M (with src or dst), stream N, a field \
(tcp.port == 80, http.request.method == \"GET\"), or an analysis tag (rst, retransmission…)";

fn primitive(i: &mut In<'_>) -> ModalResult<Filter> {
    ws(i)?;
    let start = i.checkpoint();
    let Some(w) = opt(word).parse_next(i)? else {
        return fail_at(i, &start, PRIMITIVE);
    };
    let lower = w.to_ascii_lowercase();
    match lower.as_str() {
        "src" | "dst" => {
            let dir = if lower == "src" { Dir::Src } else { Dir::Dst };
            ws(i)?;
            let at = i.checkpoint();
            let next = opt(word).parse_next(i)?.map(str::to_ascii_lowercase);
            match next.as_deref() {
                Some("host") => host(i, dir),
                Some("net") => net(i, dir),
                Some("port") => port(i, dir),
                Some("portrange") => portrange(i, dir),
                // `src 10.0.0.1` is `src host 10.0.0.1`.
                _ => {
                    i.reset(&at);
                    host(i, dir)
                }
            }
        }
        "host" => host(i, Dir::Any),
        "net" => net(i, Dir::Any),
        "port" => port(i, Dir::Any),
        "portrange" => portrange(i, Dir::Any),
        "stream" => argument(i, "a stream number (from 0), e.g. stream 0", |w| {
            w.parse().ok()
        })
        .map(Filter::Stream),
        _ if w.contains('.') => field(i, w, &start),
        _ => {
            if let Some(p) = names::protocol(w) {
                return Ok(Filter::Proto(p));
            }
            if let Some(t) = names::tag(w) {
                return Ok(Filter::Tag(t));
            }
            fail_at(i, &start, PRIMITIVE)
        }
    }
}

fn host(i: &mut In<'_>, dir: Dir) -> ModalResult<Filter> {
    argument(i, "an IP address, e.g. host 127.0.0.1 or host ::1", |w| {
        w.trim_matches(|c| c == '[' || c == ']')
            .parse::<IpAddr>()
            .ok()
    })
    .map(|ip| Filter::Host(dir, ip))
}

fn net(i: &mut In<'_>, dir: Dir) -> ModalResult<Filter> {
    argument(i, "a network, e.g. net 10.0.0.0/8 or net fd00::/8", |w| {
        let (addr, len) = match w.split_once('/') {
            Some((a, l)) => (a.parse::<IpAddr>().ok()?, Some(l.parse::<u8>().ok()?)),
            None => (w.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = len.unwrap_or(max);
        (len <= max).then_some((addr, len))
    })
    .map(|(addr, len)| Filter::Net(dir, addr, len))
}

fn port(i: &mut In<'_>, dir: Dir) -> ModalResult<Filter> {
    argument(i, "a port number 0–65535, e.g. port 8080", |w| {
        w.parse::<u16>().ok()
    })
    .map(|p| Filter::Port(dir, p, p))
}

fn portrange(i: &mut In<'_>, dir: Dir) -> ModalResult<Filter> {
    argument(i, "a port range, e.g. portrange 8000-8100", |w| {
        let (a, b) = w.split_once('-')?;
        let (a, b) = (a.parse::<u16>().ok()?, b.parse::<u16>().ok()?);
        (a <= b).then_some((a, b))
    })
    .map(|(a, b)| Filter::Port(dir, a, b))
}

fn field<'a>(
    i: &mut In<'a>,
    name: &str,
    start: &<In<'a> as Stream>::Checkpoint,
) -> ModalResult<Filter> {
    let Some(access) = names::field(name) else {
        return fail_at(
            i,
            start,
            "a field of a known protocol, e.g. tcp.port, ip.src, http.request.method, websocket.opcode, socketio.event",
        );
    };
    let before = i.checkpoint();
    ws(i)?;
    let op = opt(alt((
        literal("==").value(Op::Eq),
        literal("!=").value(Op::Ne),
        literal("<=").value(Op::Le),
        literal(">=").value(Op::Ge),
        literal("<").value(Op::Lt),
        literal(">").value(Op::Gt),
        word.verify_map(|w: &str| match w.to_ascii_lowercase().as_str() {
            "eq" => Some(Op::Eq),
            "ne" => Some(Op::Ne),
            "lt" => Some(Op::Lt),
            "le" => Some(Op::Le),
            "gt" => Some(Op::Gt),
            "ge" => Some(Op::Ge),
            "contains" => Some(Op::Contains),
            _ => None,
        }),
    )))
    .parse_next(i)?;
    let Some(op) = op else {
        // A field alone: is it there?
        i.reset(&before);
        return Ok(Filter::Field {
            name: name.to_ascii_lowercase(),
            access,
            test: None,
        });
    };
    ws(i)?;
    let value = cut_err(alt((
        quoted.map(Literal::Text),
        word.map(|w| Literal::Word(w.to_string())),
    )))
    .context(expected(
        "a value: a number, an address, or a \"quoted string\"",
    ))
    .parse_next(i)?;
    Ok(Filter::Field {
        name: name.to_ascii_lowercase(),
        access,
        test: Some((op, value)),
    })
}

/// A string in double quotes; `\"` and `\\` inside.
fn quoted(i: &mut In<'_>) -> ModalResult<String> {
    literal("\"").parse_next(i)?;
    let mut out = String::new();
    loop {
        let chunk = take_till(0.., |c| c == '"' || c == '\\').parse_next(i)?;
        out.push_str(chunk);
        if opt(literal("\"")).parse_next(i)?.is_some() {
            return Ok(out);
        }
        let escaped = cut_err(preceded(
            literal("\\"),
            alt((literal("\"").value('"'), literal("\\").value('\\'))),
        ))
        .context(expected(
            "a closing '\"' (inside a string, write \\\" and \\\\)",
        ))
        .parse_next(i)?;
        out.push(escaped);
    }
}
