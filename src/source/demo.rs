//! A real server and a real client talking on loopback while a live capture watches:
//! `wirewalk demo websocket` (tokio-tungstenite on both sides), `wirewalk demo socketio`
//! (a socketioxide server; a small Engine.IO v4 / Socket.IO v5 client that does what
//! socket.io-client does: long-polling first, then the upgrade to WebSocket), and
//! `demo websocket --serve` (a tiny chat page whose visitors' traffic is shown live).
//! With `--tls`, the scripted demos run over TLS (src/source/demo_tls.rs): wss://, https://.
//!
//! The capture is opened (and privileges dropped) by the caller before anything here
//! runs, so the first SYN is never missed. The server and client run on a tokio runtime
//! in a thread of their own; [`DemoSource`] yields the captured frames and ends by
//! itself once the script is over and every connection's teardown has been captured.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::demo_tls::{self, DemoTls};
use super::live::{self, LiveCapture};
use super::SourceError;
use crate::frame::Frame;

/// Which demo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoKind {
    WebSocket,
    SocketIo,
}

/// Where a demo's running commentary goes (the caller decides: stderr, or nowhere).
pub type Narrator = Arc<dyn Fn(&str) + Send + Sync>;

/// Pause between the client's steps, so each one's packets come as a group.
const PACE: Duration = Duration::from_millis(150);
/// Longest the scripted demo may take before it is called stuck.
const SCRIPT_LIMIT: Duration = Duration::from_secs(20);
/// How long to wait for the teardown once the script is over.
const TEARDOWN_GRACE: Duration = Duration::from_secs(3);

enum Event {
    Finished,
    Failed(String),
}

/// Frames of a running demo; ends after the teardown (scripted demos) or on Ctrl-C.
pub struct DemoSource {
    capture: LiveCapture,
    port: u16,
    events: mpsc::Receiver<Event>,
    conns: HashMap<(IpAddr, u16), Conn>,
    started: Instant,
    script_done: Option<Instant>,
    scripted: bool,
    ended: bool,
    notes: Vec<String>,
}

impl DemoSource {
    /// The server's address.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Things worth saying after the packets (a demo cut short, for instance).
    pub fn notes(&self) -> Vec<String> {
        let mut notes = self.capture.notes();
        notes.extend(self.notes.iter().cloned());
        notes
    }

    fn all_closed(&self) -> bool {
        !self.conns.is_empty() && self.conns.values().all(|c| c.closed())
    }
}

/// Starts a scripted demo: binds a server on 127.0.0.1 (a free port), then runs the
/// server and the client, over TLS when `tls` is given. `capture` must already be open
/// on loopback.
pub fn start(
    kind: DemoKind,
    mut capture: LiveCapture,
    narrate: Narrator,
    tls: Option<DemoTls>,
) -> Result<DemoSource, SourceError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| SourceError(format!("cannot listen on 127.0.0.1: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| SourceError(e.to_string()))?
        .port();
    capture.set_filter(live::CaptureFilter {
        ports: vec![port],
        hosts: Vec::new(),
    });
    let (tx, rx) = mpsc::channel();
    spawn_runtime(tx, Some(SCRIPT_LIMIT), move || async move {
        listener.set_nonblocking(true)?;
        let listener = TcpListener::from_std(listener)?;
        let dial = Dial { port, tls };
        match kind {
            DemoKind::WebSocket => {
                tokio::spawn(ws_server(listener, narrate.clone(), dial.tls.clone()));
                ws_client(&dial, &narrate).await
            }
            DemoKind::SocketIo => {
                tokio::spawn(sio_server(listener, narrate.clone(), dial.tls.clone()));
                sio_client(&dial, &narrate).await
            }
        }
    })?;
    Ok(source(capture, port, rx, true))
}

/// Starts the classroom of `demo websocket --serve` on `addr` (src/source/demo_classroom.rs);
/// runs until Ctrl-C.
pub fn serve(
    listeners: super::demo_classroom::Listeners,
    capture: LiveCapture,
    narrate: Narrator,
    classroom: super::demo_classroom::Classroom,
) -> Result<(DemoSource, super::demo_classroom::Served), SourceError> {
    let (tx, rx) = mpsc::channel();
    let served = super::demo_classroom::start(listeners, narrate, classroom, |fut| {
        spawn_runtime(tx, None, move || fut)
    })?;
    let port = served.chat_addr.port();
    Ok((source(capture, port, rx, false), served))
}

fn source(
    capture: LiveCapture,
    port: u16,
    events: mpsc::Receiver<Event>,
    scripted: bool,
) -> DemoSource {
    DemoSource {
        capture,
        port,
        events,
        conns: HashMap::new(),
        started: Instant::now(),
        script_done: None,
        scripted,
        ended: false,
        notes: Vec::new(),
    }
}

pub(super) type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn spawn_runtime<F, Fut>(
    tx: mpsc::Sender<Event>,
    limit: Option<Duration>,
    main: F,
) -> Result<(), SourceError>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), BoxError>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SourceError(format!("cannot start the demo's runtime: {e}")))?;
    std::thread::Builder::new()
        .name("demo".into())
        .spawn(move || {
            let result = runtime.block_on(async move {
                match limit {
                    Some(limit) => tokio::time::timeout(limit, main()).await,
                    None => Ok(main().await),
                }
            });
            let _ = tx.send(match result {
                Ok(Ok(())) => Event::Finished,
                Ok(Err(e)) => Event::Failed(format!("the demo failed: {e}")),
                Err(_) => Event::Failed("the demo took too long".into()),
            });
        })
        .map_err(|e| SourceError(format!("cannot start the demo: {e}")))?;
    Ok(())
}

impl Iterator for DemoSource {
    type Item = Result<Frame, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.ended {
            if live::stop_requested() {
                self.ended = true;
                break;
            }
            match self.events.try_recv() {
                Ok(Event::Finished) => self.script_done = Some(Instant::now()),
                Ok(Event::Failed(e)) => {
                    self.ended = true;
                    return Some(Err(SourceError(e)));
                }
                Err(_) => {}
            }
            if self.scripted {
                if let Some(done) = self.script_done {
                    if self.all_closed() {
                        self.ended = true;
                        break;
                    }
                    if done.elapsed() > TEARDOWN_GRACE {
                        self.notes.push(
                            "the demo ended before every connection's teardown was captured".into(),
                        );
                        self.ended = true;
                        break;
                    }
                } else if self.started.elapsed() > SCRIPT_LIMIT {
                    self.ended = true;
                    return Some(Err(SourceError(
                        "the demo took too long (more than 20 s)".into(),
                    )));
                }
            }
            match self.capture.poll_frame() {
                Ok(Some(frame)) => {
                    self.track(&frame);
                    return Some(Ok(frame));
                }
                Ok(None) => continue,
                Err(e) => {
                    self.ended = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

impl DemoSource {
    /// Follows each connection to the server's port far enough to know when both FINs
    /// have been acknowledged (or a RST ended it).
    fn track(&mut self, frame: &Frame) {
        let Some(p) = live::peek(frame.link, &frame.data) else {
            return;
        };
        let (Some((sport, dport)), Some(tcp)) = (p.ports, p.tcp) else {
            return;
        };
        let (key, side) = if dport == self.port {
            ((p.src, sport), 0)
        } else if sport == self.port {
            ((p.dst, dport), 1)
        } else {
            return;
        };
        let conn = self.conns.entry(key).or_default();
        if tcp.syn && !tcp.has_ack {
            *conn = Conn::default();
        }
        if tcp.rst {
            conn.reset = true;
        }
        if tcp.fin {
            conn.fin_end[side] = Some(tcp.seq.wrapping_add(tcp.payload_len).wrapping_add(1));
        }
        let other = 1 - side;
        if tcp.has_ack {
            if let Some(end) = conn.fin_end[other] {
                if (tcp.ack.wrapping_sub(end) as i32) >= 0 {
                    conn.fin_acked[other] = true;
                }
            }
        }
    }
}

#[derive(Debug, Default)]
struct Conn {
    fin_end: [Option<u32>; 2],
    fin_acked: [bool; 2],
    reset: bool,
}

impl Conn {
    fn closed(&self) -> bool {
        self.reset || (self.fin_acked[0] && self.fin_acked[1])
    }
}

// ---------------------------------------------------------------------------------
// Connections: plain TCP, or TLS over it (`--tls`).

/// A connection's byte stream, plain or TLS.
pub(super) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
pub(super) type Stream = Box<dyn Io>;

/// How the scripted client reaches the server.
struct Dial {
    port: u16,
    tls: Option<DemoTls>,
}

impl Dial {
    /// `ws://127.0.0.1:PORT` or, over TLS, `wss://localhost:PORT` (the certificate's name).
    fn url(&self, path: &str) -> String {
        match self.tls {
            Some(_) => format!("wss://{}:{}{path}", demo_tls::HOST, self.port),
            None => format!("ws://127.0.0.1:{}{path}", self.port),
        }
    }

    /// What the Host header says.
    fn host(&self) -> String {
        match self.tls {
            Some(_) => format!("{}:{}", demo_tls::HOST, self.port),
            None => format!("127.0.0.1:{}", self.port),
        }
    }

    /// A new connection to the server: the TCP handshake, and the TLS one with `--tls`.
    async fn open(&self, narrate: &Narrator) -> Result<Stream, BoxError> {
        let tcp = TcpStream::connect(("127.0.0.1", self.port)).await?;
        match &self.tls {
            None => Ok(Box::new(tcp)),
            Some(tls) => {
                let (conn, agreed) = tls.connect(tcp).await?;
                narrate(&format!(
                    "client: TLS handshake done ({agreed}); from here on every byte is inside encrypted records, opened with the secrets both sides logged"
                ));
                Ok(conn)
            }
        }
    }
}

/// The server's side of a new connection: as it is, or after the TLS handshake.
async fn accepted(stream: TcpStream, tls: &Option<DemoTls>) -> Result<Stream, BoxError> {
    match tls {
        None => Ok(Box::new(stream)),
        Some(tls) => tls.accept(stream).await,
    }
}

// ---------------------------------------------------------------------------------
// WebSocket: server (scripted demo and chat) and the scripted client.

async fn ws_server(
    listener: TcpListener,
    narrate: Narrator,
    tls: Option<DemoTls>,
) -> Result<(), BoxError> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let narrate = narrate.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let served = async { ws_echo(accepted(stream, &tls).await?, &narrate).await };
            if let Err(e) = served.await {
                narrate(&format!("server: connection from {peer} ended: {e}"));
            }
        });
    }
}

/// The scripted demo's server: pushes a welcome unasked, echoes what it gets.
async fn ws_echo(stream: Stream, narrate: &Narrator) -> Result<(), BoxError> {
    let mut ws = tokio_tungstenite::accept_async(stream).await?;
    tokio::time::sleep(PACE).await;
    narrate("server: pushes a message on its own — the client asked for nothing");
    ws.send(Message::text(
        "Welcome! The server sent this without any request.",
    ))
    .await?;
    while let Some(msg) = ws.next().await {
        match msg? {
            Message::Text(t) => ws.send(Message::text(format!("echo: {t}"))).await?,
            Message::Binary(b) => ws.send(Message::Binary(b)).await?,
            // tungstenite queues the pong itself; send it now.
            Message::Ping(_) => ws.flush().await?,
            Message::Close(_) => {
                narrate("server: answers the close frame and closes the TCP connection");
            }
            _ => {}
        }
    }
    Ok(())
}

async fn ws_client(dial: &Dial, narrate: &Narrator) -> Result<(), BoxError> {
    let url = dial.url("/chat");
    narrate(&match dial.tls {
        None => format!("client: connects to {url} — TCP handshake, then the HTTP Upgrade"),
        Some(_) => format!(
            "client: connects to {url} — TCP handshake, then the TLS handshake (its ClientHello names \"{}\" in clear: the SNI), then the HTTP Upgrade, encrypted",
            demo_tls::HOST
        ),
    });
    let conn = dial.open(narrate).await?;
    let (mut ws, response) = tokio_tungstenite::client_async(url, conn).await?;
    narrate(&format!(
        "client: the server answered {} — from now on both sides speak WebSocket frames",
        response.status()
    ));
    next_msg(&mut ws).await?;
    tokio::time::sleep(PACE).await;
    narrate("client: sends a text message (masked, as every client frame must be)");
    ws.send(Message::text("Hello from the client!")).await?;
    next_msg(&mut ws).await?;
    tokio::time::sleep(PACE).await;
    narrate("client: sends a binary message");
    ws.send(Message::Binary(vec![0x00, 0x01, 0x02, 0xfe, 0xff].into()))
        .await?;
    next_msg(&mut ws).await?;
    tokio::time::sleep(PACE).await;
    narrate("client: sends a ping; the server must answer with a pong");
    ws.send(Message::Ping(b"are you there?".to_vec().into()))
        .await?;
    next_msg(&mut ws).await?;
    tokio::time::sleep(PACE).await;
    narrate("client: sends a close frame (1000, normal closure)");
    close_and_drain(ws, "lesson over", narrate).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------
// Socket.IO: a socketioxide server with io.on('connection')-style handlers, and a
// small client speaking Engine.IO v4 / Socket.IO v5 the way socket.io-client does.

async fn sio_server(
    listener: TcpListener,
    narrate: Narrator,
    tls: Option<DemoTls>,
) -> Result<(), BoxError> {
    use socketioxide::extract::{AckSender, Data, SocketRef};
    use socketioxide::SocketIo;

    let (svc, io) = SocketIo::new_svc();
    let n = narrate.clone();
    io.ns("/", move |s: SocketRef| {
        let n = n.clone();
        async move {
            n(&format!("server: io.on('connection') — socket {} connected; it joins the room \"lobby\"", s.id));
            s.join("lobby");
            let _ = s.emit("welcome", &serde_json::json!({"text": "pushed by the server, unasked", "id": s.id.to_string()}));
            let n2 = n.clone();
            s.on("chat message", move |s: SocketRef, Data::<serde_json::Value>(msg)| {
                let n2 = n2.clone();
                async move {
                    n2("server: got \"chat message\" — broadcasts it to the room \"lobby\"");
                    let _ = s.within("lobby").emit("chat message", &msg).await;
                }
            });
            let n3 = n.clone();
            s.on("add", move |Data::<(i64, i64)>((a, b)), ack: AckSender| {
                let n3 = n3.clone();
                async move {
                    n3("server: got \"add\" with an acknowledgement id — answers with the sum");
                    let _ = ack.send(&(a + b));
                }
            });
            let n4 = n.clone();
            s.on_disconnect(move |s: SocketRef| {
                let n4 = n4.clone();
                async move { n4(&format!("server: socket {} disconnected", s.id)) }
            });
        }
    });
    loop {
        let (stream, _) = listener.accept().await?;
        let svc = svc.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let Ok(stream) = accepted(stream, &tls).await else {
                return;
            };
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, svc)
                .with_upgrades()
                .await;
        });
    }
}

/// One HTTP/1.1 exchange on a kept-alive connection: the status and the body.
async fn http_exchange(
    stream: &mut Stream,
    method: &str,
    path: &str,
    host: &str,
    body: &str,
) -> Result<(u16, String), BoxError> {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\n");
    if method == "POST" {
        req.push_str(&format!(
            "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).await?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut resp = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(head_len) = resp.parse(&buf)? {
            let status = resp.code.unwrap_or(0);
            let header = |name: &str| {
                resp.headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name))
                    .map(|h| String::from_utf8_lossy(h.value).to_string())
            };
            let chunked = header("transfer-encoding")
                .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
            let length = header("content-length").and_then(|v| v.trim().parse::<usize>().ok());
            if let Some(len) = length {
                if buf.len() >= head_len + len {
                    return Ok((
                        status,
                        String::from_utf8_lossy(&buf[head_len..head_len + len]).into_owned(),
                    ));
                }
            } else if chunked {
                if let Some(body) = dechunk(&buf[head_len..]) {
                    return Ok((status, String::from_utf8_lossy(&body).into_owned()));
                }
            } else {
                return Ok((status, String::new()));
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk)).await??;
        if n == 0 {
            return Err("the server closed the connection in the middle of a response".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A complete chunked body, or None while more bytes are needed.
fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(
            std::str::from_utf8(&data[..line_end])
                .ok()?
                .split(';')
                .next()?
                .trim(),
            16,
        )
        .ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        if data.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

async fn sio_client(dial: &Dial, narrate: &Narrator) -> Result<(), BoxError> {
    let base = "/socket.io/?EIO=4";
    let host = dial.host();
    narrate(match dial.tls {
        None => "client: opens an Engine.IO session over HTTP long-polling (as socket.io-client does first)",
        Some(_) => "client: opens an Engine.IO session over HTTP long-polling (as socket.io-client does first), over https://: TCP handshake, TLS handshake, then the HTTP requests, encrypted",
    });
    let mut http = dial.open(narrate).await?;
    let (status, open) = http_exchange(
        &mut http,
        "GET",
        &format!("{base}&transport=polling&t=wirewalk1"),
        &host,
        "",
    )
    .await?;
    if status != 200 || !open.starts_with('0') {
        return Err(format!("the Engine.IO handshake failed: HTTP {status} {open}").into());
    }
    let info: serde_json::Value = serde_json::from_str(&open[1..])?;
    let sid = info["sid"]
        .as_str()
        .ok_or("no sid in the Engine.IO open packet")?
        .to_string();
    tokio::time::sleep(PACE).await;
    narrate("client: connects to the namespace \"/\" (Socket.IO CONNECT, \"40\") with a POST");
    http_exchange(
        &mut http,
        "POST",
        &format!("{base}&transport=polling&sid={sid}"),
        &host,
        "40",
    )
    .await?;
    let (_, polled) = http_exchange(
        &mut http,
        "GET",
        &format!("{base}&transport=polling&t=wirewalk2&sid={sid}"),
        &host,
        "",
    )
    .await?;
    let mut pending: Vec<String> = polled.split('\u{1e}').map(str::to_string).collect();
    tokio::time::sleep(PACE).await;
    narrate(
        "client: upgrades the session to WebSocket (probe \"2probe\" → \"3probe\", then \"5\")",
    );
    let conn = dial.open(narrate).await?;
    let (mut ws, _) = tokio_tungstenite::client_async(
        dial.url(&format!("{base}&transport=websocket&sid={sid}")),
        conn,
    )
    .await?;
    ws.send(Message::text("2probe")).await?;
    loop {
        let text = next_text(&mut ws).await?;
        if text == "3probe" {
            break;
        }
        pending.push(text);
    }
    ws.send(Message::text("5")).await?;
    // The polling connection is no longer needed.
    http.shutdown().await?;
    drop(http);
    // The welcome event may have come by polling or may come now.
    if !pending.iter().any(|p| p.contains("\"welcome\"")) {
        wait_for(&mut ws, |t| t.contains("\"welcome\"")).await?;
    }
    tokio::time::sleep(PACE).await;
    narrate("client: socket.emit('chat message', …) — an EVENT packet \"42\"");
    ws.send(Message::text(
        r#"42["chat message",{"from":"client","text":"hello, lobby!"}]"#,
    ))
    .await?;
    wait_for(&mut ws, |t| t.starts_with("42[\"chat message\"")).await?;
    tokio::time::sleep(PACE).await;
    narrate("client: socket.emit('add', 2, 3, callback) — an EVENT with acknowledgement id 1");
    ws.send(Message::text(r#"421["add",2,3]"#)).await?;
    wait_for(&mut ws, |t| t.starts_with("431[")).await?;
    tokio::time::sleep(PACE).await;
    narrate("client: socket.disconnect() — Socket.IO DISCONNECT \"41\", then the WebSocket close");
    ws.send(Message::text("41")).await?;
    close_and_drain(ws, "", narrate).await?;
    Ok(())
}

type ClientWs = tokio_tungstenite::WebSocketStream<Stream>;

/// The client's last step in both demos: a normal close (1000) with `reason`, then
/// reading until the server's close, so the TCP teardown that follows is captured.
async fn close_and_drain(
    mut ws: ClientWs,
    reason: &str,
    narrate: &Narrator,
) -> Result<(), BoxError> {
    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: reason.to_string().into(),
    }))
    .await?;
    while let Some(m) = ws.next().await {
        if m.is_err() {
            break;
        }
    }
    drop(ws);
    narrate("client: closed; waiting for the TCP teardown");
    Ok(())
}

/// The next message (text, binary, pong, close).
async fn next_msg(ws: &mut ClientWs) -> Result<Message, BoxError> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await? {
            Some(Ok(Message::Frame(_))) => continue,
            Some(Ok(m)) => return Ok(m),
            Some(Err(e)) => return Err(e.into()),
            None => return Err("the server closed the connection early".into()),
        }
    }
}

/// The next text frame, answering Engine.IO pings ("2" → "3") on the way.
async fn next_text(ws: &mut ClientWs) -> Result<String, BoxError> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await? {
            Some(Ok(Message::Text(t))) if t.as_str() == "2" => ws.send(Message::text("3")).await?,
            Some(Ok(Message::Text(t))) => return Ok(t.to_string()),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => return Err("the server closed the WebSocket early".into()),
        }
    }
}

async fn wait_for(ws: &mut ClientWs, want: impl Fn(&str) -> bool) -> Result<String, BoxError> {
    loop {
        let t = next_text(ws).await?;
        if want(&t) {
            return Ok(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunk_waits_for_the_last_chunk() {
        assert_eq!(dechunk(b"3\r\nabc\r\n0\r\n\r\n"), Some(b"abc".to_vec()));
        assert_eq!(dechunk(b"3\r\nabc\r\n"), None);
        assert_eq!(dechunk(b"3\r\nab"), None);
    }

    #[test]
    fn teardown_needs_both_fins_acknowledged() {
        let mut c = Conn::default();
        assert!(!c.closed());
        c.fin_acked = [true, false];
        assert!(!c.closed());
        c.fin_acked = [true, true];
        assert!(c.closed());
        assert!(Conn {
            reset: true,
            ..Default::default()
        }
        .closed());
    }
}
