//! A small Chrome DevTools Protocol client for the browser tests: starts Debian's
//! headless `chromium` with a fresh profile and no background network, talks CDP over
//! one WebSocket (tokio-tungstenite) with flattened sessions, one per tab.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// A fresh scratch directory under the system's temp dir, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!(
            "wirewalk-browser-{name}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("make a scratch directory");
        Scratch(p)
    }
    pub fn join(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct Browser {
    child: Child,
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Events that arrived while waiting for a reply: (session id, method, params).
    events: VecDeque<(Option<String>, String, Value)>,
    _profile: Scratch,
}

/// One tab, by its flattened CDP session.
#[derive(Debug, Clone)]
pub struct Tab {
    pub session: String,
    pub target: String,
}

impl Browser {
    /// Headless chromium with the flags the project's brief names, a fresh profile,
    /// and a debugging port chosen by the system.
    pub async fn launch() -> Browser {
        let profile = Scratch::new("profile");
        let mut child = Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--remote-debugging-port=0",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.0.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start /usr/bin/chromium (apt-get install chromium)");
        let stderr = child.stderr.take().expect("chromium's stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(url.trim().to_string());
                    }
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("chromium printed its DevTools address");
        let (ws, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .expect("connect to chromium's DevTools");
        Browser {
            child,
            ws,
            next_id: 1,
            events: VecDeque::new(),
            _profile: profile,
        }
    }

    /// One CDP command, on the browser (`session` None) or a tab; its `result`.
    pub async fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.ws
            .send(Message::text(msg.to_string()))
            .await
            .expect("send to chromium");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let v = self
                .read(deadline)
                .await
                .unwrap_or_else(|| panic!("no reply to {method}"));
            if v.get("id").and_then(Value::as_u64) == Some(id) {
                if let Some(e) = v.get("error") {
                    panic!("{method} failed: {e}");
                }
                return v["result"].clone();
            }
            self.queue(v);
        }
    }

    async fn read(&mut self, deadline: Instant) -> Option<Value> {
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let m = tokio::time::timeout(left, self.ws.next())
                .await
                .ok()??
                .ok()?;
            if let Message::Text(t) = m {
                return serde_json::from_str(t.as_str()).ok();
            }
        }
    }

    fn queue(&mut self, v: Value) {
        if let Some(method) = v.get("method").and_then(Value::as_str) {
            let session = v.get("sessionId").and_then(Value::as_str).map(String::from);
            self.events
                .push_back((session, method.to_string(), v["params"].clone()));
        }
    }

    /// Reads whatever arrived for up to `wait`, keeping the events.
    pub async fn pump(&mut self, wait: Duration) {
        let deadline = Instant::now() + wait;
        while let Some(v) = self.read(deadline).await {
            self.queue(v);
        }
    }

    /// The events seen so far with this method (and session), removed from the queue.
    pub fn take_events(&mut self, tab: Option<&Tab>, method: &str) -> Vec<Value> {
        let mut out = Vec::new();
        self.events.retain(|(s, m, p)| {
            let hit = m == method && tab.is_none_or(|t| s.as_deref() == Some(t.session.as_str()));
            if hit {
                out.push(p.clone());
            }
            !hit
        });
        out
    }

    /// A new tab on about:blank with Page, Runtime and Network events on.
    pub async fn new_tab(&mut self, width: u32, height: u32) -> Tab {
        self.tab_in(None, width, height).await
    }

    /// A new tab in a browser context of its own (as a separate browser would be: its
    /// own cookies, storage and connection pool, so no other tab's request rides on
    /// its connections).
    pub async fn new_isolated_tab(&mut self, width: u32, height: u32) -> Tab {
        let c = self
            .call(None, "Target.createBrowserContext", json!({}))
            .await;
        let context = c["browserContextId"]
            .as_str()
            .expect("browserContextId")
            .to_string();
        self.tab_in(Some(&context), width, height).await
    }

    async fn tab_in(&mut self, context: Option<&str>, width: u32, height: u32) -> Tab {
        let mut params = json!({"url": "about:blank"});
        if let Some(c) = context {
            params["browserContextId"] = json!(c);
        }
        let t = self.call(None, "Target.createTarget", params).await;
        let target = t["targetId"].as_str().expect("targetId").to_string();
        let a = self
            .call(
                None,
                "Target.attachToTarget",
                json!({"targetId": target, "flatten": true}),
            )
            .await;
        let tab = Tab {
            session: a["sessionId"].as_str().expect("sessionId").to_string(),
            target,
        };
        for m in ["Page.enable", "Runtime.enable", "Network.enable"] {
            self.call(Some(&tab.session), m, json!({})).await;
        }
        self.call(
            Some(&tab.session),
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}),
        )
        .await;
        tab
    }

    /// Cuts the tab off every network (file:// still loads).
    pub async fn offline(&mut self, tab: &Tab) {
        self.call(
            Some(&tab.session),
            "Network.emulateNetworkConditions",
            json!({"offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
        )
        .await;
    }

    /// Navigates and waits for the load event.
    pub async fn goto(&mut self, tab: &Tab, url: &str) {
        self.take_events(Some(tab), "Page.loadEventFired");
        self.call(Some(&tab.session), "Page.navigate", json!({"url": url}))
            .await;
        self.wait_event(tab, "Page.loadEventFired", Duration::from_secs(30))
            .await;
    }

    /// Waits for an event on the tab; its params.
    pub async fn wait_event(&mut self, tab: &Tab, method: &str, wait: Duration) -> Value {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(p) = self.take_events(Some(tab), method).into_iter().next() {
                return p;
            }
            match self.read(deadline).await {
                Some(v) => self.queue(v),
                None => panic!("no {method} within {wait:?}"),
            }
        }
    }

    /// Evaluates an expression in the tab (promises awaited); its value as JSON.
    pub async fn eval(&mut self, tab: &Tab, expr: &str) -> Value {
        let r = self
            .call(
                Some(&tab.session),
                "Runtime.evaluate",
                json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        if let Some(e) = r.get("exceptionDetails") {
            panic!("{expr} threw: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Polls `expr` until it is true.
    pub async fn wait_for(&mut self, tab: &Tab, expr: &str, wait: Duration) {
        let deadline = Instant::now() + wait;
        loop {
            if self.eval(tab, expr).await == json!(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "still not true after {wait:?}: {expr}"
            );
            self.pump(Duration::from_millis(100)).await;
        }
    }

    /// Moves the mouse to the middle of the first element matching `selector`.
    pub async fn hover(&mut self, tab: &Tab, selector: &str) {
        let sel = serde_json::to_string(selector).unwrap();
        let r = self
            .eval(
                tab,
                &format!(
                    "(() => {{ const e = document.querySelector({sel}); e.scrollIntoView({{block:'center'}}); const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
                ),
            )
            .await;
        let (x, y) = (r[0].as_f64().unwrap(), r[1].as_f64().unwrap());
        self.call(
            Some(&tab.session),
            "Input.dispatchMouseEvent",
            json!({"type": "mouseMoved", "x": x, "y": y}),
        )
        .await;
    }

    /// Clicks the middle of the first element matching `selector`.
    pub async fn click(&mut self, tab: &Tab, selector: &str) {
        self.hover(tab, selector).await;
        let sel = serde_json::to_string(selector).unwrap();
        let r = self
            .eval(
                tab,
                &format!("(() => {{ const r = document.querySelector({sel}).getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()"),
            )
            .await;
        let (x, y) = (r[0].as_f64().unwrap(), r[1].as_f64().unwrap());
        for t in ["mousePressed", "mouseReleased"] {
            self.call(
                Some(&tab.session),
                "Input.dispatchMouseEvent",
                json!({"type": t, "x": x, "y": y, "button": "left", "clickCount": 1}),
            )
            .await;
        }
    }

    /// A PNG of the tab's whole page.
    pub async fn screenshot(&mut self, tab: &Tab, path: &Path) {
        use base64::Engine as _;
        let r = self
            .call(
                Some(&tab.session),
                "Page.captureScreenshot",
                json!({"format": "png", "captureBeyondViewport": true}),
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().expect("screenshot data"))
            .expect("base64 PNG");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(path, png).expect("write the screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the tests keep their screenshots: $WIREWALK_SCREENS, else the temp dir.
pub fn screens_dir() -> PathBuf {
    let d = std::env::var_os("WIREWALK_SCREENS")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&d).expect("the screenshot directory");
    d
}

pub fn wirewalk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wirewalk"))
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}
