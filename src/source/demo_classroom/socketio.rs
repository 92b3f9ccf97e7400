//! The chat of `demo socketio --serve`: the classroom's hub, feeds, `/teacher` and
//! limits, with a chat that speaks Socket.IO — socketioxide on the server, the real
//! socket.io-client in the page. Its bundle ships inside wirewalk (`src/source/vendor/`)
//! and is served at `/socket.io.min.js`, so the page needs no network but this server.
//!
//! The client does what it does everywhere: HTTP long-polling first, then the upgrade
//! to WebSocket, each on TCP connections of its own. The student's page shows all of
//! them: the pipeline's packets are routed by the Engine.IO session they name
//! ([`super::Ties`]), and the token a student's feed is opened with names that session.
//!
//! One line per event on the terminal: who joined (and over which transport), who moved
//! to WebSocket, who said what, what was refused, who left and why.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hyper::body::Incoming;
use hyper::service::{service_fn, Service as _};
use hyper::{header, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{json, Value};
use socketioxide::extract::{AckSender, SocketRef, TryData};
use socketioxide::socket::DisconnectReason;
use socketioxide::{SendError, SocketError, SocketIo, TransportType};
use tokio::net::TcpListener;

use super::{
    accept_loop, chat_page, chat_text, clean_host, lock, nickname, origin_ok, token, Bucket, Chat,
    Classroom, Mailbox, SharedHub, Student, Who,
};
use crate::analysis::engineio::{parse_uri, EioTransport};
use crate::source::demo::{BoxError, Narrator};

/// The page's part that speaks Socket.IO (put into the student's page).
pub(super) const CHAT_JS: &str = include_str!("../demo_chat_sio.js");
/// socket.io-client 4.8.4's browser bundle, unchanged, and its licence (MIT).
const CLIENT_JS: &str = include_str!("../vendor/socket.io.min.js");
const CLIENT_LICENSE: &str = include_str!("../vendor/socket.io-client.LICENSE");

/// The namespace the chat lives in (the page's `io("/chat")`).
const NAMESPACE: &str = "/chat";

/// The TCP connection a request came on, in each request's extensions: socketioxide
/// keeps the handshake request's, so the connect handler knows the student's address.
#[derive(Clone, Copy, Debug)]
struct Peer(SocketAddr);

/// A request refused before Socket.IO sees it: it is sent to this path instead, which
/// the page service answers 403 with the reason in the extensions.
const REFUSED_PATH: &str = "/.refused";

#[derive(Clone, Copy, Debug)]
struct Refused(&'static str);

/// A Socket.IO student's mailbox: their socket, whose buffer socketioxide bounds
/// (`max_buffer_size`, set to [`Classroom::queue`]).
struct SioMailbox {
    socket: SocketRef,
    capacity: usize,
}

impl Mailbox for SioMailbox {
    fn offer(&self, line: &Value, _: &Arc<str>) -> bool {
        let event = line["t"].as_str().unwrap_or("line");
        // A socket already closed is not slow: its disconnect handler removes it.
        !matches!(
            self.socket.emit(event, line),
            Err(SendError::Socket(SocketError::InternalChannelFull))
        )
    }
    fn capacity(&self) -> usize {
        self.capacity
    }
    fn kick(&mut self, why: String) {
        let socket = self.socket.clone();
        // Later, not now: the hub is locked, and the disconnect handler takes it.
        tokio::spawn(async move {
            let _ = socket.emit("notice", &json!({"t": "notice", "text": why}));
            let _ = socket.disconnect();
        });
    }
}

/// What every handler shares.
#[derive(Clone)]
struct Ctx {
    hub: SharedHub,
    cfg: Arc<Classroom>,
    feed_port: u16,
    narrate: Narrator,
    /// Sessions whose upgrade began before their CONNECT made them a student (the
    /// client starts upgrading as soon as it has its sid): the new connection, said
    /// once they join.
    upgrading: Arc<Mutex<HashMap<String, SocketAddr>>>,
}

/// Upgrades waiting for their session's CONNECT, at most (a client that never connects
/// to the namespace leaves one behind).
const UPGRADES_WAITING: usize = 1024;

/// The terminal's line for a student's upgrade.
fn upgrade_line(nick: &str, addr: SocketAddr, conn: SocketAddr) -> String {
    format!("{nick} ({addr}) upgrades to WebSocket on a new connection, {conn}")
}

/// Runs the chat on `listener` until the process ends.
pub(super) async fn serve(
    listener: TcpListener,
    hub: SharedHub,
    cfg: Arc<Classroom>,
    feed_addr: SocketAddr,
    narrate: Narrator,
) {
    let ctx = Ctx {
        hub,
        cfg: cfg.clone(),
        feed_port: feed_addr.port(),
        narrate: narrate.clone(),
        upgrading: Arc::default(),
    };
    let feed_port = ctx.feed_port;
    let pages = service_fn(move |req: Request<Incoming>| async move {
        Ok::<_, Infallible>(page(&req, feed_port))
    });
    let (svc, io) = SocketIo::builder()
        .max_buffer_size(cfg.queue)
        .max_payload(cfg.max_message as u64)
        .ws_max_message_size(cfg.max_message)
        .ws_max_frame_size(cfg.max_message)
        .build_with_inner_svc(pages);
    let c = ctx.clone();
    io.ns(
        NAMESPACE,
        move |s: SocketRef, TryData(auth): TryData<Value>| {
            let c = c.clone();
            async move { join(s, auth.ok(), c) }
        },
    );
    accept_loop(listener, narrate, move |stream, peer| {
        let (svc, ctx) = (svc.clone(), ctx.clone());
        async move {
            let head_timeout = ctx.cfg.head_timeout;
            let service = service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(Peer(peer));
                if let Some(why) = check(&req, peer, &ctx) {
                    req.extensions_mut().insert(Refused(why));
                    *req.uri_mut() = hyper::Uri::from_static(REFUSED_PATH);
                }
                svc.call(req)
            });
            hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(head_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await
                .map_err(|e| -> BoxError { e.into() })
        }
    })
    .await
}

/// A request to the Engine.IO path from a page served elsewhere is refused (with the
/// reason), unless allowed; the GET that upgrades a student's session is said.
fn check(req: &Request<Incoming>, peer: SocketAddr, ctx: &Ctx) -> Option<&'static str> {
    let uri = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("");
    let eio = req
        .uri()
        .path()
        .starts_with("/socket.io/")
        .then(|| parse_uri(uri))??;
    let headers = req.headers();
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let own: Vec<String> = clean_host(text(header::HOST)).into_iter().collect();
    if !origin_ok(text(header::ORIGIN), &own, &ctx.cfg) {
        (ctx.narrate)(&format!(
            "refused a Socket.IO request from {peer}: its page came from {} (allow it with --allow-origin)",
            text(header::ORIGIN).unwrap_or("")
        ));
        return Some("this server accepts Socket.IO only from its own pages\n");
    }
    let upgrading = text(header::UPGRADE).is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    if let (true, Some(EioTransport::WebSocket), Some(sid)) = (upgrading, eio.transport, &eio.sid) {
        let line = lock(&ctx.hub)
            .students
            .values()
            .find(|s| s.session.as_deref() == Some(sid.as_str()))
            .map(|s| upgrade_line(&s.nick, s.addr, peer));
        match line {
            Some(l) => (ctx.narrate)(&l),
            None => {
                let mut u = ctx.upgrading.lock().unwrap_or_else(|e| e.into_inner());
                if u.len() >= UPGRADES_WAITING {
                    u.clear();
                }
                u.insert(sid.clone(), peer);
            }
        }
    }
    None
}

/// The chat port's pages: the student's page, the Socket.IO client and its licence.
/// Each answer closes its connection, so the client's Engine.IO requests come on
/// connections of their own.
fn page<B>(req: &Request<B>, feed_port: u16) -> Response<String> {
    let answer = |status: StatusCode, ctype: &str, body: String| {
        let mut r = Response::new(body);
        *r.status_mut() = status;
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, ctype.parse().expect("a content type"));
        h.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
        h.insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
        r
    };
    if let Some(Refused(why)) = req.extensions().get::<Refused>() {
        return answer(StatusCode::FORBIDDEN, "text/plain", why.to_string());
    }
    if req.method() != hyper::Method::GET {
        return answer(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "only GET here\n".into(),
        );
    }
    match req.uri().path() {
        "/" | "/index.html" => answer(
            StatusCode::OK,
            "text/html; charset=utf-8",
            chat_page(Chat::SocketIo, feed_port),
        ),
        "/socket.io.min.js" => answer(
            StatusCode::OK,
            "text/javascript; charset=utf-8",
            CLIENT_JS.to_string(),
        ),
        "/socket.io.min.js.LICENSE" => answer(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            CLIENT_LICENSE.to_string(),
        ),
        _ => answer(StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
    }
}

/// `io.on("connection")` in the namespace: the student is enrolled, greeted with the
/// token of their feed, and their events handled.
fn join(s: SocketRef, auth: Option<Value>, c: Ctx) {
    let peer = s
        .req_parts()
        .extensions
        .get::<Peer>()
        .map(|p| p.0)
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
    let nick = nickname(auth.as_ref().and_then(|a| a["nick"].as_str()), peer);
    let sid: Arc<str> = s.id.to_string().into();
    let token = token();
    let over = match s.transport_type() {
        TransportType::Polling => "HTTP long-polling",
        TransportType::Websocket => "WebSocket",
    };
    let id = {
        let mut h = lock(&c.hub);
        h.tokens.insert(token.clone(), Who::Session(sid.clone()));
        h.enrol(Student {
            addr: peer,
            nick: nick.clone(),
            session: Some(sid.clone()),
            mailbox: Box::new(SioMailbox {
                socket: s.clone(),
                capacity: c.cfg.queue,
            }),
        })
    };
    (c.narrate)(&format!(
        "{nick} ({peer}) joined over {over}, Engine.IO session {sid}"
    ));
    let upgraded = c
        .upgrading
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&*sid);
    if let Some(conn) = upgraded {
        (c.narrate)(&upgrade_line(&nick, peer, conn));
    }
    let _ = s.emit(
        "hello",
        &json!({
            "t": "hello", "you": peer.to_string(), "nick": nick, "token": token,
            "sid": &*sid, "feed_port": c.feed_port,
            "text": format!("welcome, {nick}! This event was pushed by the server, unasked."),
        }),
    );
    lock(&c.hub).broadcast(
        json!({"t": "notice", "text": format!("{nick} ({peer}) joined")}),
        &c.narrate,
    );
    // One student's messages: counted and rate-limited together.
    let limit = Arc::new(Mutex::new((Bucket::new(&c.cfg), 0u64)));
    let (c2, nick2) = (c.clone(), nick.clone());
    s.on(
        "chat",
        move |TryData(msg): TryData<Value>, ack: AckSender| {
            let (c, nick, limit) = (c2.clone(), nick2.clone(), limit.clone());
            async move {
                let text = match &msg {
                    Ok(Value::Object(o)) => o.get("text").and_then(Value::as_str),
                    Ok(Value::String(t)) => Some(t.as_str()),
                    _ => None,
                };
                let Some(text) = text else {
                    let _ = ack.send(&json!({"refused": 0, "why": "a chat event carries {\"text\": …}"}));
                    return;
                };
                let (n, allowed) = {
                    let mut l = limit.lock().unwrap_or_else(|e| e.into_inner());
                    l.1 += 1;
                    let n = l.1;
                    (n, l.0.take(n))
                };
                if let Err(why) = allowed {
                    (c.narrate)(&format!(
                        "refused message {n} from {nick} ({peer}): over the rate limit"
                    ));
                    let _ = ack.send(&json!({"refused": n, "why": why}));
                    return;
                }
                let text = chat_text(text);
                (c.narrate)(&format!("{nick}: {text}"));
                let seq = lock(&c.hub).broadcast(
                    json!({"t": "msg", "from": nick, "addr": peer.to_string(), "n": n, "text": text}),
                    &c.narrate,
                );
                // After the broadcast: the student's copy of the line is queued first.
                let _ = ack.send(&json!({"n": n, "seq": seq}));
            }
        },
    );
    s.on_disconnect(move |reason: DisconnectReason| {
        let c = c.clone();
        let nick = nick.clone();
        async move {
            let was_member = {
                let mut h = lock(&c.hub);
                h.tokens.remove(&token);
                h.students.remove(&id).is_some()
            };
            if was_member {
                lock(&c.hub).broadcast(
                    json!({"t": "notice", "text": format!("{nick} ({peer}) left")}),
                    &c.narrate,
                );
            }
            (c.narrate)(&format!("{nick} ({peer}) left: {reason}"));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Response<String> {
        page(&Request::get(path).body(()).unwrap(), 4321)
    }

    #[test]
    fn the_page_loads_the_socket_io_client_from_this_server_and_nothing_else() {
        let r = get("/");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()[header::CONNECTION],
            "close",
            "Engine.IO requests come on connections of their own"
        );
        let html = r.body();
        assert!(!html.contains("{{"), "every placeholder filled");
        assert!(html.contains(r#"<script src="/socket.io.min.js"></script>"#));
        assert!(
            html.contains("script-src 'self' 'unsafe-inline'; connect-src 'self' ws://*:4321;"),
            "the policy lets in this server's script and no other"
        );
        assert!(html.contains(r#"io("/chat""#) && html.contains("<noscript>"));
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "no address elsewhere"
        );
        let js = get("/socket.io.min.js");
        assert_eq!(
            js.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert!(
            js.body().starts_with("/*!\n * Socket.IO v4.8.4"),
            "the real client"
        );
        assert!(get("/socket.io.min.js.LICENSE")
            .body()
            .starts_with("The MIT License"));
        assert_eq!(get("/nowhere").status(), StatusCode::NOT_FOUND);
        let mut refused = Request::get(REFUSED_PATH).body(()).unwrap();
        refused.extensions_mut().insert(Refused("not from here\n"));
        let r = page(&refused, 4321);
        assert_eq!(
            (r.status(), r.body().as_str()),
            (StatusCode::FORBIDDEN, "not from here\n")
        );
        let post = page(&Request::post("/").body(()).unwrap(), 4321);
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    }

    #[test]
    fn the_websocket_page_is_the_same_page_without_socket_io() {
        let html = chat_page(Chat::WebSocket, 4321);
        assert!(!html.contains("{{"));
        assert!(html.contains("script-src 'unsafe-inline'; connect-src 'self' ws://*:4321;"));
        assert!(!html.contains("socket.io") && html.contains("/ws?nick="));
    }
}
