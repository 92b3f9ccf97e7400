//! The classroom of `demo websocket --serve` and `demo socketio --serve`: a chat server
//! whose students each see, beside the chat, their own packets explained live, and a
//! `/teacher` page that shows every student's ladder.
//!
//! Two listeners. The chat port (captured) serves the chat page and its WebSocket (or,
//! for Socket.IO, its long-polling and WebSocket transports: [`socketio`]). The feed port
//! (never captured, so explaining a packet makes no packet to explain) serves `/teacher`
//! and the WebSockets that carry the pipeline's packets to the pages: each student's
//! own, the teacher all of them. A WebSocket student's packets are those of one
//! connection; a Socket.IO student's, those of every connection that carried their
//! Engine.IO session ([`Ties`]).
//!
//! Nothing is dropped silently: every student has a bounded queue; a student whose
//! queue is full is told, disconnected (1008) and named to the others, who lose
//! nothing; a student sending faster than the rate limit gets each refused message
//! back with the reason. Request heads must arrive within a timeout (slowloris), a
//! failing `accept()` (EMFILE) pauses instead of ending the server, an `Origin` that
//! is not the server's own is refused (403) unless allowed, invalid UTF-8 is closed
//! with 1007 and a protocol error (a fragmented control frame) with 1002.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use base64::Engine as _;

use super::demo::{BoxError, Narrator};
use super::ws_server::{self, Deflate, In, ReadError};

mod socketio;

/// The student's page: one template for both chats (the same packet view, join form,
/// banner and log), with the transport's script and wording put in.
const CHAT_PAGE: &str = include_str!("demo_chat.html");
const CHAT_WS_JS: &str = include_str!("demo_chat_ws.js");

/// Which chat the classroom runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Chat {
    /// A WebSocket of its own (`demo websocket --serve`).
    #[default]
    WebSocket,
    /// Socket.IO: socketioxide, and the real socket.io-client in the page
    /// (`demo socketio --serve`).
    SocketIo,
}

/// The classroom's limits and pages; `Default` is what `--serve` uses.
#[derive(Debug, Clone)]
pub struct Classroom {
    pub chat: Chat,
    /// The teacher's page (the report page in live mode), served on the feed port.
    pub teacher_page: String,
    /// Origins accepted besides the server's own (`--allow-origin`); `*` allows any.
    pub allowed_origins: Vec<String>,
    /// Chat lines waiting for one student before that student is called too slow.
    pub queue: usize,
    /// Messages a student may send at once, and per second after that.
    pub burst: f64,
    pub per_second: f64,
    /// Longest accepted message (bytes), and frame.
    pub max_message: usize,
    /// How long a request head may take to arrive.
    pub head_timeout: Duration,
    /// Packets remembered per student for a page that connects its feed late (the
    /// handshake comes before the page can ask), and for the teacher.
    pub history: usize,
    pub teacher_history: usize,
}

impl Default for Classroom {
    fn default() -> Classroom {
        Classroom {
            chat: Chat::WebSocket,
            teacher_page: String::new(),
            allowed_origins: Vec::new(),
            queue: 8192,
            burst: 200.0,
            per_second: 20.0,
            max_message: 64 * 1024,
            head_timeout: Duration::from_secs(5),
            history: 64,
            teacher_history: 2000,
        }
    }
}

/// One explained packet for the pages: the client it belongs to, and its JSON.
#[derive(Debug, Clone)]
pub struct FeedItem {
    /// The frame number: a Socket.IO student's packets come from several connections,
    /// put back in capture order by it.
    pub number: u64,
    pub client: Option<SocketAddr>,
    /// Its conversation: a client port used again (after a close) is a new connection,
    /// whose packets are not the old one's.
    pub stream: Option<u32>,
    /// The Engine.IO session the packet's messages name, if any.
    pub session: Option<Arc<str>>,
    pub json: Arc<str>,
}

impl FeedItem {
    pub fn from_live(p: crate::render::report::LivePacket) -> FeedItem {
        FeedItem {
            number: p.number,
            client: p.client,
            stream: p.stream,
            session: p.session.map(Into::into),
            json: p.json.into(),
        }
    }
}

/// Where the pipeline hands each explained packet (from the main thread).
#[derive(Clone)]
pub struct Feed {
    tx: mpsc::Sender<FeedItem>,
    lost: Arc<std::sync::atomic::AtomicU64>,
}

impl Feed {
    /// Queues a packet for the pages; if the classroom cannot keep up, counts it (the
    /// count is said at the end and to the pages).
    pub fn send(&self, item: FeedItem) {
        if self.tx.try_send(item).is_err() {
            self.lost.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    pub fn lost(&self) -> u64 {
        self.lost.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// What a student's writer sends.
enum Out {
    Line(Arc<str>),
}

/// Where a student's chat lines go: a WebSocket connection's queue, or a Socket.IO
/// socket's (socketioxide's buffer, sized by [`Classroom::queue`]).
trait Mailbox: Send {
    /// Queues a line (`text` is `line` as JSON); false when the queue is full.
    fn offer(&self, line: &serde_json::Value, text: &Arc<str>) -> bool;
    /// How many lines the queue holds.
    fn capacity(&self) -> usize;
    /// Disconnects a student too slow to keep up, telling them `why` if it can.
    fn kick(&mut self, why: String);
}

/// A WebSocket student's: the queue its connection's task writes from.
struct WsMailbox {
    tx: mpsc::Sender<Out>,
    kick: Option<oneshot::Sender<String>>,
}

impl Mailbox for WsMailbox {
    fn offer(&self, _: &serde_json::Value, text: &Arc<str>) -> bool {
        self.tx.try_send(Out::Line(text.clone())).is_ok()
    }
    fn capacity(&self) -> usize {
        self.tx.max_capacity()
    }
    fn kick(&mut self, why: String) {
        if let Some(k) = self.kick.take() {
            let _ = k.send(why);
        }
    }
}

struct Student {
    addr: SocketAddr,
    nick: String,
    /// A Socket.IO student's Engine.IO session.
    session: Option<Arc<str>>,
    mailbox: Box<dyn Mailbox>,
}

/// Whose packets a page's feed shows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Who {
    /// One connection's: a WebSocket student's.
    Conn(SocketAddr),
    /// One Engine.IO session's, on every connection that carried it: a Socket.IO
    /// student's long-polling requests and, after the upgrade, WebSocket.
    Session(Arc<str>),
}

struct FeedSub {
    /// None: the teacher (every packet).
    student: Option<Who>,
    tx: mpsc::Sender<Arc<str>>,
    skipped: u64,
}

impl FeedSub {
    fn wants(&self, client: Option<SocketAddr>, session: Option<&Arc<str>>) -> bool {
        match &self.student {
            None => true,
            Some(Who::Conn(a)) => client == Some(*a),
            Some(Who::Session(s)) => session == Some(s),
        }
    }

    /// Queues a packet for the page; one it cannot take is counted, and the count is
    /// sent (as `{"type":"skipped"}`) before the next one it can.
    fn push(&mut self, json: &Arc<str>) {
        if self.skipped > 0 {
            let note: Arc<str> = serde_json::json!({"type": "skipped", "count": self.skipped})
                .to_string()
                .into();
            if self.tx.try_send(note).is_ok() {
                self.skipped = 0;
            }
        }
        if self.skipped > 0 || self.tx.try_send(json.clone()).is_err() {
            self.skipped += 1;
        }
    }
}

/// Connections remembered (their packets, their session), however many come and go.
const CONNS_REMEMBERED: usize = 4096;

/// Which Engine.IO session each connection carries, learnt from the packets: a
/// Socket.IO client's long-polling requests and its WebSocket are different TCP
/// connections, and the session id (`sid`) in their requests and in the open packet is
/// what they share. A packet that names no session (a bare ACK, a FIN) belongs to its
/// connection's.
#[derive(Debug, Default)]
struct Ties {
    by_conn: HashMap<SocketAddr, Arc<str>>,
    order: VecDeque<SocketAddr>,
}

impl Ties {
    /// The session of a packet of connection `conn` whose messages name `named`, and
    /// whether this packet tied the connection to it (its earlier packets, a TCP
    /// handshake or a first request, are then that session's too).
    fn tie(&mut self, conn: SocketAddr, named: Option<&Arc<str>>) -> (Option<Arc<str>>, bool) {
        let Some(sid) = named else {
            return (self.by_conn.get(&conn).cloned(), false);
        };
        match self.by_conn.insert(conn, sid.clone()) {
            Some(old) => (Some(sid.clone()), old != *sid),
            None => {
                self.order.push_back(conn);
                while self.order.len() > CONNS_REMEMBERED {
                    if let Some(old) = self.order.pop_front() {
                        self.by_conn.remove(&old);
                    }
                }
                (Some(sid.clone()), true)
            }
        }
    }

    /// Forgets what `conn` carried: its port is used again, by a new connection.
    fn forget(&mut self, conn: SocketAddr) {
        if self.by_conn.remove(&conn).is_some() {
            self.order.retain(|c| *c != conn);
        }
    }

    /// The connections that carried `sid`.
    fn conns_of(&self, sid: &str) -> Vec<SocketAddr> {
        self.order
            .iter()
            .filter(|c| self.by_conn.get(c).is_some_and(|s| &**s == sid))
            .copied()
            .collect()
    }
}

#[derive(Default)]
struct Hub {
    students: HashMap<u64, Student>,
    feeds: HashMap<u64, FeedSub>,
    tokens: HashMap<String, Who>,
    /// Each connection's conversation and last packets, with their frame numbers.
    history: HashMap<SocketAddr, (Option<u32>, VecDeque<(u64, Arc<str>)>)>,
    history_order: VecDeque<SocketAddr>,
    teacher_history: VecDeque<Arc<str>>,
    ties: Ties,
    next_id: u64,
    seq: u64,
}

type SharedHub = Arc<Mutex<Hub>>;

fn lock(h: &SharedHub) -> std::sync::MutexGuard<'_, Hub> {
    h.lock().unwrap_or_else(|e| e.into_inner())
}

impl Hub {
    /// Sends a line to every student, in one order for all; its sequence number. A
    /// student whose queue is full is disconnected and named; the others get everything.
    fn broadcast(&mut self, line: serde_json::Value, narrate: &Narrator) -> u64 {
        self.seq += 1;
        let seq = self.seq;
        let mut line = line;
        line["seq"] = serde_json::json!(seq);
        let text: Arc<str> = line.to_string().into();
        let mut slow = Vec::new();
        for (id, s) in &self.students {
            if !s.mailbox.offer(&line, &text) {
                slow.push(*id);
            }
        }
        for id in slow {
            if let Some(mut s) = self.students.remove(&id) {
                let why = format!(
                    "{} ({}) was disconnected: too slow to keep up ({} messages waiting)",
                    s.nick,
                    s.addr,
                    s.mailbox.capacity()
                );
                narrate(&why);
                s.mailbox.kick(
                    "your page was too slow to keep up with the chat, so the server disconnected it; reconnecting gives you the chat from now on".into(),
                );
                self.broadcast(serde_json::json!({"t": "notice", "text": why}), narrate);
            }
        }
        seq
    }

    /// A new student: their id.
    fn enrol(&mut self, student: Student) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.students.insert(id, student);
        id
    }

    fn remember(&mut self, item: &FeedItem, cfg: &Classroom) {
        if let Some(addr) = item.client {
            if !self.history.contains_key(&addr) {
                self.history_order.push_back(addr);
                // Bounded however many clients come and go.
                while self.history_order.len() > CONNS_REMEMBERED {
                    if let Some(old) = self.history_order.pop_front() {
                        self.history.remove(&old);
                    }
                }
            }
            let (_, h) = self
                .history
                .entry(addr)
                .or_insert((item.stream, VecDeque::new()));
            h.push_back((item.number, item.json.clone()));
            if h.len() > cfg.history {
                h.pop_front();
            }
        }
        self.teacher_history.push_back(item.json.clone());
        if self.teacher_history.len() > cfg.teacher_history {
            self.teacher_history.pop_front();
        }
    }

    /// One packet from the pipeline: remembered, and sent to the pages that show it.
    /// The packet that ties a connection to a session first brings that connection's
    /// earlier packets to the session's pages (a page puts them in order by number).
    fn route(&mut self, item: &FeedItem, cfg: &Classroom) {
        if let Some(c) = item.client {
            // A port used again: the old connection's packets and session are not this one's.
            if self.history.get(&c).is_some_and(|(s, _)| *s != item.stream) {
                self.history.remove(&c);
                self.history_order.retain(|a| *a != c);
                self.ties.forget(c);
            }
        }
        let (session, tied) = match item.client {
            Some(c) => self.ties.tie(c, item.session.as_ref()),
            None => (None, false),
        };
        if let (true, Some(c), Some(s)) = (tied, item.client, &session) {
            let earlier: Vec<Arc<str>> = self
                .history
                .get(&c)
                .map(|(_, h)| h.iter().map(|(_, j)| j.clone()).collect())
                .unwrap_or_default();
            let who = Some(Who::Session(s.clone()));
            for f in self.feeds.values_mut().filter(|f| f.student == who) {
                for j in &earlier {
                    f.push(j);
                }
            }
        }
        self.remember(item, cfg);
        for f in self.feeds.values_mut() {
            if f.wants(item.client, session.as_ref()) {
                f.push(&item.json);
            }
        }
    }

    /// What a page that connects now is sent first: the packets remembered of its
    /// connection, or of its session's connections in capture order, or (the teacher)
    /// of all.
    fn past(&self, student: Option<&Who>) -> Vec<Arc<str>> {
        let of = |c: &SocketAddr| {
            self.history
                .get(c)
                .into_iter()
                .flat_map(|(_, h)| h.iter().cloned())
        };
        match student {
            Some(Who::Conn(a)) => of(a).map(|(_, j)| j).collect(),
            Some(Who::Session(s)) => {
                let mut all: Vec<(u64, Arc<str>)> =
                    self.ties.conns_of(s).iter().flat_map(of).collect();
                all.sort_by_key(|(n, _)| *n);
                all.into_iter().map(|(_, j)| j).collect()
            }
            None => self.teacher_history.iter().cloned().collect(),
        }
    }
}

/// The running classroom: its frames come from the capture as for any demo.
pub struct Served {
    pub feed: Feed,
    /// The feed port's address (the teacher's page is `http://ADDR/teacher`).
    pub feed_addr: SocketAddr,
    pub chat_addr: SocketAddr,
}

/// The classroom's two sockets, bound before privileges go (a port below 1024 needs
/// them): the chat port, captured, and the feed port beside it on the same address.
pub struct Listeners {
    chat: std::net::TcpListener,
    feed: std::net::TcpListener,
    pub chat_addr: SocketAddr,
    pub feed_addr: SocketAddr,
}

impl Listeners {
    pub fn bind(addr: SocketAddr) -> Result<Listeners, super::SourceError> {
        let chat = std::net::TcpListener::bind(addr)
            .map_err(|e| super::SourceError(format!("cannot listen on {addr}: {e}")))?;
        let feed = std::net::TcpListener::bind(SocketAddr::new(addr.ip(), 0))
            .map_err(|e| super::SourceError(format!("cannot listen on {}: {e}", addr.ip())))?;
        let local = |l: &std::net::TcpListener| {
            l.local_addr()
                .map_err(|e| super::SourceError(e.to_string()))
        };
        Ok(Listeners {
            chat_addr: local(&chat)?,
            feed_addr: local(&feed)?,
            chat,
            feed,
        })
    }
}

/// Starts the classroom on the demo runtime. Runs until the process ends.
pub fn start(
    listeners: Listeners,
    narrate: Narrator,
    cfg: Classroom,
    spawn: impl FnOnce(
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), BoxError>> + Send>>,
    ) -> Result<(), super::SourceError>,
) -> Result<Served, super::SourceError> {
    let Listeners {
        chat,
        feed,
        chat_addr,
        feed_addr,
    } = listeners;
    let (tx, rx) = mpsc::channel(65_536);
    let lost = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let cfg = Arc::new(cfg);
    let hub: SharedHub = Arc::default();
    spawn(Box::pin(async move {
        chat.set_nonblocking(true)?;
        feed.set_nonblocking(true)?;
        let chat = TcpListener::from_std(chat)?;
        let feed = TcpListener::from_std(feed)?;
        tokio::spawn(route(rx, hub.clone(), cfg.clone()));
        let (h2, c2, n2) = (hub.clone(), cfg.clone(), narrate.clone());
        let ports = (chat_addr.port(), feed_addr.port());
        tokio::spawn(accept_loop(feed, n2.clone(), move |s, peer| {
            let (h, c, n) = (h2.clone(), c2.clone(), n2.clone());
            async move { feed_connection(s, peer, h, c, ports, &n).await }
        }));
        match cfg.chat {
            Chat::WebSocket => {
                let n3 = narrate.clone();
                accept_loop(chat, narrate, move |s, peer| {
                    let (h, c, n) = (hub.clone(), cfg.clone(), n3.clone());
                    async move { chat_connection(s, peer, h, c, feed_addr, &n).await }
                })
                .await
            }
            Chat::SocketIo => socketio::serve(chat, hub, cfg, feed_addr, narrate).await,
        }
        Ok(())
    }))?;
    Ok(Served {
        feed: Feed { tx, lost },
        feed_addr,
        chat_addr,
    })
}

/// `wirewalk serve`: only the page server — `/` is `cfg.teacher_page`, `/feed` its
/// packets (every one so far, then each new one) — on `addr`, in a thread of its own.
pub fn start_page(
    addr: SocketAddr,
    narrate: Narrator,
    cfg: Classroom,
) -> Result<(Feed, SocketAddr), super::SourceError> {
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| super::SourceError(format!("cannot listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| super::SourceError(e.to_string()))?;
    let (tx, rx) = mpsc::channel(65_536);
    let lost = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let cfg = Arc::new(cfg);
    let hub: SharedHub = Arc::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| super::SourceError(format!("cannot start the page server: {e}")))?;
    std::thread::Builder::new()
        .name("serve".into())
        .spawn(move || {
            runtime.block_on(async move {
                let _ = listener.set_nonblocking(true);
                let Ok(listener) = TcpListener::from_std(listener) else {
                    return;
                };
                tokio::spawn(route(rx, hub.clone(), cfg.clone()));
                let n = narrate.clone();
                let ports = (local.port(), local.port());
                accept_loop(listener, narrate, move |s, peer| {
                    let (h, c, n) = (hub.clone(), cfg.clone(), n.clone());
                    async move { feed_connection(s, peer, h, c, ports, &n).await }
                })
                .await;
            })
        })
        .map_err(|e| super::SourceError(format!("cannot start the page server: {e}")))?;
    Ok((Feed { tx, lost }, local))
}

/// Accepts forever. A failing accept (out of file descriptors, for one) is said once
/// and retried after a pause: the students already connected keep going.
async fn accept_loop<F, Fut>(listener: TcpListener, narrate: Narrator, handle: F)
where
    F: Fn(TcpStream, SocketAddr) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), BoxError>> + Send + 'static,
{
    let mut failing = false;
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                failing = false;
                let fut = handle(stream, peer);
                let n = narrate.clone();
                tokio::spawn(async move {
                    if let Err(e) = fut.await {
                        n(&format!("connection from {peer} ended: {e}"));
                    }
                });
            }
            Err(e) => {
                if !failing {
                    narrate(&format!(
                        "cannot accept a new connection ({e}); the server keeps the ones it has and tries again"
                    ));
                    failing = true;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn route(mut rx: mpsc::Receiver<FeedItem>, hub: SharedHub, cfg: Arc<Classroom>) {
    while let Some(item) = rx.recv().await {
        lock(&hub).route(&item, &cfg);
    }
}

/// A request head, read within the timeout, and the bytes that came after it.
struct Head {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    rest: Vec<u8>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn is_upgrade(&self) -> bool {
        self.header("upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
    }
    fn query(&self, key: &str) -> Option<String> {
        let q = self.path.split_once('?')?.1;
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == key).then(|| percent_decode(v))
        })
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or(""), 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The longest request head accepted.
const MAX_HEAD: usize = 16 * 1024;

/// Reads a request head; gives up at the deadline (a slowloris holds nothing longer
/// than the head timeout). Each read waits for bytes: nothing is polled.
async fn read_head(stream: &mut TcpStream, timeout: Duration) -> Result<Option<Head>, BoxError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut buf: Vec<u8> = Vec::with_capacity(2048);
    let mut chunk = [0u8; 4096];
    loop {
        let n = match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(r) => r?,
            Err(_) => return Ok(None),
        };
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 48];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                return Ok(Some(Head {
                    method: req.method.unwrap_or("").to_string(),
                    path: req.path.unwrap_or("").to_string(),
                    headers: req
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_string(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect(),
                    rest: buf[len..].to_vec(),
                }));
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => {}
            _ => {
                let _ = respond(stream, "400 Bad Request", "text/plain", "bad request\n").await;
                return Ok(None);
            }
        }
    }
}

async fn respond(
    stream: &mut TcpStream,
    status: &str,
    ctype: &str,
    body: &str,
) -> Result<(), BoxError> {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await?;
    Ok(())
}

/// A `Host` header safe to write into a page: letters, digits, dots, colons, brackets.
fn clean_host(h: Option<&str>) -> Option<String> {
    let h = h?.trim();
    (!h.is_empty()
        && h.len() < 256
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".:-[]".contains(c)))
    .then(|| h.to_string())
}

/// The Origin check: none (not a browser), the server's own (same host and port as the
/// request's Host, or the chat port's for the feed), or one allowed by a flag.
fn origin_ok(origin: Option<&str>, own: &[String], cfg: &Classroom) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    if cfg.allowed_origins.iter().any(|a| a == "*" || a == origin) {
        return true;
    }
    let host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or("");
    own.iter().any(|o| o == host)
}

fn ws_config(cfg: &Classroom) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(cfg.max_message))
        .max_frame_size(Some(cfg.max_message))
}

/// The opening handshake (RFC 6455 section 4.2), answered from the head already read:
/// a 101 with the Accept (and, when `deflate` and the client offers one we can take,
/// permessage-deflate, RFC 7692 section 5), or a 400/426 saying what is wrong. Gives
/// the stream, the bytes that came after the head (the first frames) and what was
/// agreed.
async fn handshake(
    mut stream: TcpStream,
    head: Head,
    deflate: bool,
) -> Result<Option<(TcpStream, Vec<u8>, Option<Deflate>)>, BoxError> {
    let key = head.header("sec-websocket-key").map(str::trim);
    let key_ok = key.is_some_and(|k| {
        base64::engine::general_purpose::STANDARD
            .decode(k)
            .is_ok_and(|b| b.len() == 16)
    });
    let connection_ok = head.header("connection").is_some_and(|c| {
        c.split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
    });
    if head.header("sec-websocket-version").map(str::trim) != Some("13") {
        stream
            .write_all(b"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await?;
        return Ok(None);
    }
    let (Some(key), true, true) = (key, key_ok, connection_ok && head.method == "GET") else {
        respond(
            &mut stream,
            "400 Bad Request",
            "text/plain",
            "a WebSocket upgrade needs GET, Connection: Upgrade and a 16-byte Sec-WebSocket-Key\n",
        )
        .await?;
        return Ok(None);
    };
    let agreed = if deflate {
        head.header("sec-websocket-extensions")
            .and_then(Deflate::accept)
    } else {
        None
    };
    let extensions = agreed
        .as_ref()
        .map(|(_, answer)| format!("Sec-WebSocket-Extensions: {answer}\r\n"))
        .unwrap_or_default();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n{extensions}\r\n",
        crate::proto::websocket::sec_websocket_accept(key)
    );
    stream.write_all(response.as_bytes()).await?;
    Ok(Some((stream, head.rest, agreed.map(|(d, _)| d))))
}

/// The feed port's WebSockets: tungstenite, uncompressed (nobody captures them).
async fn upgrade(
    stream: TcpStream,
    head: Head,
    cfg: &Classroom,
) -> Result<Option<WebSocketStream<TcpStream>>, BoxError> {
    let Some((stream, rest, _)) = handshake(stream, head, false).await? else {
        return Ok(None);
    };
    Ok(Some(
        WebSocketStream::from_partially_read(stream, rest, Role::Server, Some(ws_config(cfg)))
            .await,
    ))
}

/// One connection to the chat port: the page, or a student's WebSocket.
async fn chat_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    hub: SharedHub,
    cfg: Arc<Classroom>,
    feed_addr: SocketAddr,
    narrate: &Narrator,
) -> Result<(), BoxError> {
    let Some(head) = read_head(&mut stream, cfg.head_timeout).await? else {
        return Ok(());
    };
    let host = clean_host(head.header("host"));
    let own: Vec<String> = host.iter().cloned().collect();
    if !head.is_upgrade() {
        let path = head.path.split('?').next().unwrap_or("");
        return match (head.method.as_str(), path) {
            ("GET", "/") | ("GET", "/index.html") => {
                let page = chat_page(Chat::WebSocket, feed_addr.port());
                respond(&mut stream, "200 OK", "text/html; charset=utf-8", &page).await
            }
            _ => respond(&mut stream, "404 Not Found", "text/plain", "not found\n").await,
        };
    }
    if !origin_ok(head.header("origin"), &own, &cfg) {
        narrate(&format!(
            "refused a WebSocket from {peer}: its page came from {} (allow it with --allow-origin)",
            head.header("origin").unwrap_or("")
        ));
        return respond(
            &mut stream,
            "403 Forbidden",
            "text/plain",
            "this server accepts WebSockets only from its own pages\n",
        )
        .await;
    }
    let nick = nickname(head.query("nick").as_deref(), peer);
    let Some((stream, rest, deflate)) = handshake(stream, head, true).await? else {
        return Ok(());
    };
    let (rd, wr) = stream.into_split();
    let mut incoming = ws_server::Reader::new(rd, rest, cfg.max_message, deflate);
    let mut sink = ws_server::Writer::new(wr, deflate);
    let (tx, mut rx) = mpsc::channel(cfg.queue);
    let (kick_tx, mut kick_rx) = oneshot::channel::<String>();
    let token = token();
    let id = {
        let mut h = lock(&hub);
        h.tokens.insert(token.clone(), Who::Conn(peer));
        h.enrol(Student {
            addr: peer,
            nick: nick.clone(),
            session: None,
            mailbox: Box::new(WsMailbox {
                tx,
                kick: Some(kick_tx),
            }),
        })
    };
    let compressed = if deflate.is_some() {
        ", permessage-deflate"
    } else {
        ""
    };
    narrate(&format!("{nick} ({peer}) joined{compressed}"));
    sink.text(
        &serde_json::json!({
            "t": "hello", "you": peer.to_string(), "nick": nick, "token": token,
            "feed_port": feed_addr.port(), "deflate": deflate.is_some(),
            "text": format!("welcome, {nick}! This line was pushed by the server, unasked."),
        })
        .to_string(),
    )
    .await?;
    lock(&hub).broadcast(
        serde_json::json!({"t": "notice", "text": format!("{nick} ({peer}) joined")}),
        narrate,
    );
    let mut bucket = Bucket::new(&cfg);
    let mut sent = 0u64;
    // How the connection ends: the Close to send (code and reason), if any.
    let end: Option<(Option<u16>, String)> = loop {
        tokio::select! {
            m = incoming.next() => match m {
                Ok(Some(In::Text(t))) => {
                    sent += 1;
                    if let Err(why) = bucket.take(sent) {
                        narrate(&format!("refused message {sent} from {nick} ({peer}): over the rate limit"));
                        let line = serde_json::json!({"t": "refused", "n": sent, "text": t, "why": why}).to_string();
                        if sink.text(&line).await.is_err() { break None; }
                        continue;
                    }
                    let text = chat_text(&t);
                    narrate(&format!("{nick}: {text}"));
                    lock(&hub).broadcast(serde_json::json!({"t": "msg", "from": nick, "addr": peer.to_string(), "n": sent, "text": text}), narrate);
                }
                Ok(Some(In::Ping(p))) => if sink.pong(&p).await.is_err() { break None; },
                Ok(Some(In::Binary(_) | In::Pong)) => {}
                // RFC 6455 section 5.5.1: a Close is answered, echoing its code.
                Ok(Some(In::Close(code))) => break Some((code, String::new())),
                Ok(None) | Err(ReadError::Io(_)) => break None,
                Err(ReadError::Fail(f)) => {
                    narrate(&format!("{nick} ({peer}) closed with {}: {}", f.code, f.reason));
                    break Some((Some(f.code), f.reason.to_string()));
                }
            },
            out = rx.recv() => match out {
                Some(Out::Line(line)) => {
                    // What else is waiting goes in the same write (up to 64 KiB).
                    sink.queue_text(&line);
                    while sink.queued() < 64 * 1024 {
                        match rx.try_recv() {
                            Ok(Out::Line(more)) => sink.queue_text(&more),
                            Err(_) => break,
                        }
                    }
                    if sink.flush().await.is_err() { break None; }
                }
                None => break None,
            },
            why = &mut kick_rx => {
                let why = why.unwrap_or_default();
                let _ = sink.text(&serde_json::json!({"t": "notice", "text": why}).to_string()).await;
                break Some((Some(1008), "too slow to keep up".into()));
            }
        }
    };
    let was_member = {
        let mut h = lock(&hub);
        h.tokens.remove(&token);
        h.students.remove(&id).is_some()
    };
    // The server ends it: 1000 (normal), unless the reason is a code of its own.
    let (code, reason) = end.unwrap_or((Some(1000), String::new()));
    let _ = sink.close(code, &reason).await;
    if was_member {
        lock(&hub).broadcast(
            serde_json::json!({"t": "notice", "text": format!("{nick} ({peer}) left")}),
            narrate,
        );
    }
    narrate(&format!("{nick} ({peer}) left"));
    Ok(())
}

/// One connection to the feed port: the teacher's page, or a page's packet feed.
async fn feed_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    hub: SharedHub,
    cfg: Arc<Classroom>,
    ports: (u16, u16),
    _narrate: &Narrator,
) -> Result<(), BoxError> {
    let Some(head) = read_head(&mut stream, cfg.head_timeout).await? else {
        return Ok(());
    };
    let path = head.path.split('?').next().unwrap_or("").to_string();
    if !head.is_upgrade() {
        return match (head.method.as_str(), path.as_str()) {
            ("GET", "/teacher") | ("GET", "/") if peer.ip().is_loopback() => {
                respond(
                    &mut stream,
                    "200 OK",
                    "text/html; charset=utf-8",
                    &cfg.teacher_page,
                )
                .await
            }
            ("GET", "/teacher") => {
                respond(
                    &mut stream,
                    "403 Forbidden",
                    "text/plain",
                    "the teacher's page opens only on the teacher's machine (127.0.0.1)\n",
                )
                .await
            }
            _ => respond(&mut stream, "404 Not Found", "text/plain", "not found\n").await,
        };
    }
    // The server's own pages: the chat port's and this one's, on the host asked for.
    let own: Vec<String> = clean_host(head.header("host"))
        .map(|h| {
            let name = h.rsplit_once(':').map(|(n, _)| n.to_string()).unwrap_or(h);
            vec![format!("{name}:{}", ports.0), format!("{name}:{}", ports.1)]
        })
        .unwrap_or_default();
    let known = head
        .query("token")
        .map(|t| lock(&hub).tokens.get(&t).cloned());
    let student = match known {
        Some(found) => match found {
            Some(a) => Some(a),
            None => {
                return respond(
                    &mut stream,
                    "403 Forbidden",
                    "text/plain",
                    "unknown token: join the chat first\n",
                )
                .await;
            }
        },
        None if peer.ip().is_loopback() && path == "/feed" => None,
        None => {
            return respond(
                &mut stream,
                "403 Forbidden",
                "text/plain",
                "a token is needed\n",
            )
            .await;
        }
    };
    if !origin_ok(head.header("origin"), &own, &cfg) {
        return respond(
            &mut stream,
            "403 Forbidden",
            "text/plain",
            "this server accepts WebSockets only from its own pages\n",
        )
        .await;
    }
    let Some(ws) = upgrade(stream, head, &cfg).await? else {
        return Ok(());
    };
    let (mut sink, mut incoming) = ws.split();
    let (tx, mut rx) = mpsc::channel::<Arc<str>>(4096);
    let id = {
        let mut h = lock(&hub);
        h.next_id += 1;
        let id = h.next_id;
        for p in h.past(student.as_ref()) {
            let _ = tx.try_send(p);
        }
        h.feeds.insert(
            id,
            FeedSub {
                student,
                tx,
                skipped: 0,
            },
        );
        id
    };
    loop {
        tokio::select! {
            m = incoming.next() => match m {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            out = rx.recv() => match out {
                Some(line) => if sink.send(Message::text(line.to_string())).await.is_err() { break; },
                None => break,
            },
        }
    }
    lock(&hub).feeds.remove(&id);
    let _ = sink.close().await;
    Ok(())
}

/// The student's page for `chat`, whose packets come from the feed port.
fn chat_page(chat: Chat, feed_port: u16) -> String {
    let fill: [(&str, &str); 8] = match chat {
        Chat::WebSocket => [
            ("{{script_src}}", ""),
            ("{{head}}", ""),
            ("{{title}}", "WebSocket"),
            ("{{status}}", ""),
            ("{{chat_hint}}", "Every message you send travels in a WebSocket frame over the TCP connection your browser opened with an HTTP Upgrade. Messages from the server arrive without your browser asking for them."),
            ("{{packets_hint}}", "What the server captured of <em>your</em> connection, as it happens: the TCP handshake, your browser's real Upgrade request, the server's 101 and its Accept arithmetic, and each of your frames, masked and unmasked with its key."),
            ("{{noscript}}", "it opens a WebSocket to the teacher's server and draws your packets"),
            ("{{transport}}", CHAT_WS_JS),
        ],
        Chat::SocketIo => [
            ("{{script_src}}", " 'self'"),
            ("{{head}}", "<script src=\"/socket.io.min.js\"></script>"),
            ("{{title}}", "Socket.IO"),
            ("{{status}}", "<p class=\"hint\">Transport: <b id=\"transport\">not connected yet</b></p>"),
            ("{{chat_hint}}", "This chat is Socket.IO, with the real socket.io-client: your browser starts with HTTP long-polling (ordinary requests the server holds open until it has something to say), then upgrades to a WebSocket. Each message is an event; the server acknowledges yours (✓ ack)."),
            ("{{packets_hint}}", "What the server captured of <em>your</em> connections, tied together by your Engine.IO session id (sid): the polling requests and the open packet, the upgrade (the GET with Upgrade: websocket, the 101, 2probe and 3probe, then 5), and your Socket.IO events and their acknowledgements."),
            ("{{noscript}}", "it loads the Socket.IO client from the teacher's server (/socket.io.min.js), connects to it and draws your packets"),
            ("{{transport}}", socketio::CHAT_JS),
        ],
    };
    let mut page = CHAT_PAGE.to_string();
    for (k, v) in fill {
        page = page.replace(k, v);
    }
    // Last: a number, where the scripts and the policy want it.
    page.replace("{{feed_port}}", &feed_port.to_string())
}

/// A nickname as shown everywhere: no control characters, at most 24 characters; a
/// student who gives none is `guest-PORT`.
fn nickname(given: Option<&str>, peer: SocketAddr) -> String {
    given
        .map(|n| {
            n.chars()
                .filter(|c| !c.is_control())
                .take(24)
                .collect::<String>()
        })
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| format!("guest-{}", peer.port()))
}

/// A chat message as it is passed on: at most 500 characters.
fn chat_text(t: &str) -> String {
    t.chars().take(500).collect()
}

/// The rate limit: a bucket of `burst` messages refilled at `per_second`.
struct Bucket {
    tokens: f64,
    last: Instant,
    burst: f64,
    per_second: f64,
}

impl Bucket {
    fn new(cfg: &Classroom) -> Bucket {
        Bucket {
            tokens: cfg.burst,
            last: Instant::now(),
            burst: cfg.burst,
            per_second: cfg.per_second,
        }
    }

    /// Takes one message (the `n`th sent) if the bucket has one; else why not.
    fn take(&mut self, n: u64) -> Result<(), String> {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.per_second)
            .min(self.burst);
        self.last = now;
        if self.tokens < 1.0 {
            return Err(format!(
                "you are sending faster than {} messages a second; message {n} was not delivered",
                self.per_second
            ));
        }
        self.tokens -= 1.0;
        Ok(())
    }
}

/// A token that names a student's feed: unguessable enough for a classroom.
fn token() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!("{:016x}", h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(number: u64, client: u16, stream: u32, session: Option<&str>) -> FeedItem {
        FeedItem {
            number,
            client: Some(SocketAddr::from(([127, 0, 0, 1], client))),
            stream: Some(stream),
            session: session.map(Into::into),
            json: number.to_string().into(),
        }
    }

    /// A page's feed for `who`, in the hub; what it is sent comes out of the receiver.
    fn subscribe(hub: &mut Hub, who: Option<Who>) -> mpsc::Receiver<Arc<str>> {
        let (tx, rx) = mpsc::channel(1024);
        hub.next_id += 1;
        let id = hub.next_id;
        hub.feeds.insert(
            id,
            FeedSub {
                student: who,
                tx,
                skipped: 0,
            },
        );
        rx
    }

    fn numbers(rx: &mut mpsc::Receiver<Arc<str>>) -> Vec<u64> {
        let mut out = Vec::new();
        while let Ok(j) = rx.try_recv() {
            out.push(j.parse().unwrap());
        }
        out
    }

    #[test]
    fn a_session_gets_every_connection_that_names_it_with_what_came_before_the_name() {
        let cfg = Classroom::default();
        let mut hub = Hub::default();
        let s: Arc<str> = "Wm0JFyaze4SWzjoUAAAA".into();
        let mut page = subscribe(&mut hub, Some(Who::Session(s.clone())));
        let mut teacher = subscribe(&mut hub, None);
        let mut other = subscribe(&mut hub, Some(Who::Session("other".into())));
        // Polling: the SYN and the first GET name nothing; the open packet names the sid.
        hub.route(&item(1, 5000, 0, None), &cfg);
        hub.route(&item(2, 5000, 0, None), &cfg);
        assert_eq!(
            numbers(&mut page),
            [] as [u64; 0],
            "not known to be the session's yet"
        );
        hub.route(&item(3, 5000, 0, Some(&s)), &cfg);
        assert_eq!(
            numbers(&mut page),
            [1, 2, 3],
            "tied: what came before comes too"
        );
        // The WebSocket: its handshake names nothing, its GET names the sid.
        hub.route(&item(4, 5002, 1, None), &cfg);
        hub.route(&item(5, 5000, 0, None), &cfg);
        hub.route(&item(6, 5002, 1, Some(&s)), &cfg);
        hub.route(&item(7, 5002, 1, None), &cfg);
        assert_eq!(
            numbers(&mut page),
            [5, 4, 6, 7],
            "the page puts 4 back in order"
        );
        // Another session's connection is not this one's.
        hub.route(&item(8, 5004, 2, Some("other")), &cfg);
        assert_eq!(numbers(&mut page), [] as [u64; 0]);
        assert_eq!(numbers(&mut other), [8]);
        assert_eq!(numbers(&mut teacher), [1, 2, 3, 4, 5, 6, 7, 8]);
        // A page that connects now gets the session's packets in capture order.
        let past: Vec<String> = hub
            .past(Some(&Who::Session(s.clone())))
            .iter()
            .map(|j| j.to_string())
            .collect();
        assert_eq!(past, ["1", "2", "3", "4", "5", "6", "7"]);
        // Port 5000 used again by a new connection (conversation 3): not the session's.
        hub.route(&item(9, 5000, 3, None), &cfg);
        hub.route(&item(10, 5000, 3, None), &cfg);
        assert_eq!(
            numbers(&mut page),
            [] as [u64; 0],
            "a new connection on a reused port"
        );
        let past: Vec<String> = hub
            .past(Some(&Who::Session(s)))
            .iter()
            .map(|j| j.to_string())
            .collect();
        assert_eq!(
            past,
            ["4", "6", "7"],
            "the old connection's packets are forgotten"
        );
        // A WebSocket student's feed is its connection's, as before.
        let mut ws = subscribe(
            &mut hub,
            Some(Who::Conn(SocketAddr::from(([127, 0, 0, 1], 5004)))),
        );
        hub.route(&item(11, 5004, 2, None), &cfg);
        assert_eq!(numbers(&mut ws), [11]);
    }

    /// A mailbox with room for `room` lines.
    struct Fake {
        room: usize,
        got: Arc<Mutex<Vec<String>>>,
        kicked: Arc<Mutex<Option<String>>>,
    }

    impl Mailbox for Fake {
        fn offer(&self, line: &serde_json::Value, text: &Arc<str>) -> bool {
            let mut got = self.got.lock().unwrap();
            assert_eq!(line.to_string(), **text);
            if got.len() >= self.room {
                return false;
            }
            got.push(line["text"].as_str().unwrap_or("").to_string());
            true
        }
        fn capacity(&self) -> usize {
            self.room
        }
        fn kick(&mut self, why: String) {
            *self.kicked.lock().unwrap() = Some(why);
        }
    }

    #[test]
    fn a_student_too_slow_is_disconnected_and_named_and_the_others_lose_nothing() {
        let said = Arc::new(Mutex::new(Vec::<String>::new()));
        let s2 = said.clone();
        let narrate: Narrator = Arc::new(move |l: &str| s2.lock().unwrap().push(l.to_string()));
        let mut hub = Hub::default();
        let mut boxes = Vec::new();
        for (nick, room, port) in [("slow", 1, 5000), ("quick", 100, 5002)] {
            let (got, kicked) = (Arc::default(), Arc::default());
            boxes.push((Arc::clone(&got), Arc::clone(&kicked)));
            hub.enrol(Student {
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                nick: nick.into(),
                session: None,
                mailbox: Box::new(Fake { room, got, kicked }),
            });
        }
        assert_eq!(
            hub.broadcast(serde_json::json!({"t": "msg", "text": "one"}), &narrate),
            1
        );
        assert_eq!(
            hub.broadcast(serde_json::json!({"t": "msg", "text": "two"}), &narrate),
            2
        );
        let why =
            "slow (127.0.0.1:5000) was disconnected: too slow to keep up (1 messages waiting)";
        assert_eq!(*said.lock().unwrap(), [why]);
        assert_eq!(*boxes[0].0.lock().unwrap(), ["one"]);
        assert!(boxes[0]
            .1
            .lock()
            .unwrap()
            .as_deref()
            .unwrap()
            .contains("too slow to keep up"));
        assert_eq!(
            *boxes[1].0.lock().unwrap(),
            ["one", "two", why],
            "told, in order"
        );
        assert!(boxes[1].1.lock().unwrap().is_none());
        assert_eq!(hub.students.len(), 1);
    }

    #[test]
    fn socket_io_clients_connections_in_a_real_capture_are_tied_to_their_one_session() {
        // socket.io-client in node: every polling request on a connection of its own,
        // then the WebSocket; one Engine.IO session over all of them.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/socketio-polling-upgrade.pcap"
        );
        let reader = super::super::pcap::PcapReader::open(std::path::Path::new(path)).unwrap();
        let mut pipeline = crate::pipeline::Pipeline::new();
        let cfg = Classroom::default();
        let mut hub = Hub::default();
        let sid: Arc<str> = "Wm0JFyaze4SWzjoUAAAA".into();
        let mut page = subscribe(&mut hub, Some(Who::Session(sid.clone())));
        let mut all = Vec::new();
        let mut streams = std::collections::BTreeSet::new();
        for f in reader {
            let p = pipeline.process(f.unwrap());
            let named = crate::analysis::engineio::session_named(&p.analysis.app);
            if let Some(n) = &named {
                assert_eq!(n, &*sid, "frame {}", p.frame.number);
            }
            all.push(p.frame.number);
            streams.insert(p.analysis.stream.unwrap());
            hub.route(
                &FeedItem {
                    number: p.frame.number,
                    client: crate::render::report::client_of(&p, 9106),
                    stream: p.analysis.stream,
                    session: named.map(Into::into),
                    json: p.frame.number.to_string().into(),
                },
                &cfg,
            );
        }
        assert!(
            streams.len() >= 5,
            "polling and WebSocket connections: {streams:?}"
        );
        let mut got = numbers(&mut page);
        got.sort();
        assert_eq!(got, all, "every packet of every connection, once");
        let conns = hub.ties.conns_of(&sid);
        assert_eq!(conns.len(), streams.len(), "{conns:?}");
    }

    fn head(path: &str, headers: &[(&str, &str)]) -> Head {
        Head {
            method: "GET".into(),
            path: path.into(),
            rest: Vec::new(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn origins_other_than_the_servers_own_are_refused_unless_allowed() {
        let cfg = Classroom::default();
        let own = vec!["127.0.0.1:8080".to_string()];
        assert!(
            origin_ok(head("/ws", &[]).header("origin"), &own, &cfg),
            "no Origin: not a browser"
        );
        assert!(origin_ok(Some("http://127.0.0.1:8080"), &own, &cfg));
        assert!(!origin_ok(Some("http://evil.example"), &own, &cfg));
        assert!(!origin_ok(Some("http://127.0.0.1:9999"), &own, &cfg));
        let allow = Classroom {
            allowed_origins: vec!["http://evil.example".into()],
            ..Classroom::default()
        };
        assert!(origin_ok(Some("http://evil.example"), &own, &allow));
    }

    #[test]
    fn nicknames_come_percent_decoded_from_the_query() {
        let h = head("/ws?nick=Ada%20L&x=1", &[]);
        assert_eq!(h.query("nick").as_deref(), Some("Ada L"));
        assert_eq!(
            head("/ws?nick=%E2%9C%93", &[]).query("nick").as_deref(),
            Some("✓")
        );
        assert_eq!(
            head("/ws?nick=50%", &[]).query("nick").as_deref(),
            Some("50%")
        );
        assert_eq!(head("/ws", &[]).query("nick"), None);
    }

    #[test]
    fn hosts_with_markup_are_not_written_into_pages() {
        assert_eq!(
            clean_host(Some("127.0.0.1:8080")).as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(
            clean_host(Some("[::1]:8080")).as_deref(),
            Some("[::1]:8080")
        );
        assert_eq!(clean_host(Some("x\"><script>")), None);
    }
}
