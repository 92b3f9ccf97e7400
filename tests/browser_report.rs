//! `wirewalk report` in a real headless Chromium, from file:// with the network off:
//! one row per packet, hovering a field highlights its bytes, and a capture full of
//! markup runs no script. Run by `.ci/run` (`-- --ignored`); needs /usr/bin/chromium.

mod browser;

use std::time::Duration;

use browser::{runtime, screens_dir, wirewalk, Browser, Scratch};
use serde_json::json;

fn report(args: &[&str], out: &std::path::Path) {
    let r = wirewalk()
        .args(args)
        .arg("--report")
        .arg(out)
        .arg("--summary")
        .output()
        .expect("run wirewalk");
    assert!(
        r.status.success(),
        "wirewalk {args:?} failed: {}",
        String::from_utf8_lossy(&r.stderr)
    );
}

fn packet_count(capture: &std::path::Path) -> usize {
    let out = wirewalk()
        .args(["inspect", "--json", "--color", "never"])
        .arg(capture)
        .output()
        .expect("run wirewalk");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"packet\""))
        .count()
}

#[test]
#[ignore = "needs chromium"]
fn a_websocket_capture_opens_offline_one_row_per_packet_and_hover_highlights_the_field() {
    let dir = Scratch::new("report");
    let capture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ws-python-deflate.pcap");
    let html = dir.join("report.html");
    let r = wirewalk()
        .arg("report")
        .arg(&capture)
        .arg("-o")
        .arg(&html)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let expected = packet_count(&capture);
    assert!(expected > 10);
    runtime().block_on(async {
        let mut b = Browser::launch().await;
        let tab = b.new_tab(1400, 1000).await;
        b.offline(&tab).await;
        let url = format!("file://{}", html.display());
        b.goto(&tab, &url).await;
        let rows = b.eval(&tab, "document.querySelectorAll('#packets tr.pkt').length").await;
        assert_eq!(rows, json!(expected), "one row per packet");
        // Nothing but the page itself was requested.
        for req in b.take_events(Some(&tab), "Network.requestWillBeSent") {
            let u = req["request"]["url"].as_str().unwrap_or("");
            assert!(u.starts_with("file://"), "the page asked the network for {u}");
        }
        assert_eq!(
            b.eval(&tab, "document.querySelectorAll('link, img, iframe, object, embed').length").await,
            json!(0)
        );

        // Packet 1 is the SYN: hover TCP's destination port; bytes 36..38 of the frame
        // (14 Ethernet + 20 IPv4 + 2) are highlighted, and nothing else.
        b.click(&tab, "#packets tr.pkt[data-number='1']").await;
        b.hover(&tab, ".tree details.osi-4 tr.field[data-field='dst_port']").await;
        let hl = b
            .eval(&tab, "[...document.querySelectorAll('#hex .b.hl')].map(e => +e.dataset.i)")
            .await;
        assert_eq!(hl, json!([36, 37]), "the destination port's two bytes");
        let port_hex = b
            .eval(&tab, "[...document.querySelectorAll('#hex .b.hl')].map(e => e.textContent).join('')")
            .await;
        let port = u16::from_str_radix(port_hex.as_str().unwrap(), 16).unwrap();
        let dst = b
            .eval(&tab, "window.wirewalk.packets[0].layers.find(l => l.protocol === 'tcp').fields.dst_port")
            .await;
        assert_eq!(json!(port), dst, "the highlighted bytes are the port");
        // The highlight takes the transport layer's colour.
        let colour = b
            .eval(&tab, "getComputedStyle(document.querySelector('#hex .b.hl')).backgroundColor")
            .await;
        assert_eq!(colour, json!("rgb(184, 134, 0)"), "L4's colour");
        b.screenshot(&tab, &screens_dir().join("report-hover.png")).await;

        // Hovering a layer's title highlights the whole layer: the IPv4 header, 14..34.
        b.hover(&tab, ".tree details.osi-3 summary").await;
        let hl = b.eval(&tab, "document.querySelectorAll('#hex .b.hl').length").await;
        assert_eq!(hl, json!(20));

        // A WebSocket message's layer, the ladder and the search box.
        let ws = b
            .eval(&tab, "window.wirewalk.packets.filter(p => p.layers.some(l => l.protocol === 'websocket')).length")
            .await;
        assert!(ws.as_u64().unwrap() >= 2, "websocket layers: {ws}");
        let arrows = b.eval(&tab, "document.querySelectorAll('.ladder .arrow').length").await;
        assert_eq!(arrows, json!(expected), "one arrow per packet");
        // Search for one message's text: its packet stays, most others go.
        let (text, number) = {
            let v = b
                .eval(&tab, "(() => { for (const p of window.wirewalk.packets) for (const l of p.layers) if (l.protocol === 'websocket' && l.fields.text) return [l.fields.text, p.number]; })()")
                .await;
            (v[0].as_str().unwrap().to_string(), v[1].clone())
        };
        b.eval(
            &tab,
            &format!("(() => {{ const s = document.getElementById('search'); s.value = {}; s.dispatchEvent(new Event('input')); }})()", serde_json::to_string(&text).unwrap()),
        )
        .await;
        let shown = b
            .eval(&tab, "[...document.querySelectorAll('#packets tr.pkt:not(.hidden)')].map(r => +r.dataset.number)")
            .await;
        let shown = shown.as_array().unwrap();
        assert!(shown.contains(&number), "{number} not in {shown:?} for {text:?}");
        assert!(shown.len() < expected / 2, "the search kept {} of {expected}", shown.len());
        let count = b.eval(&tab, "document.getElementById('count').textContent").await;
        assert_eq!(count, json!(format!("{} of {expected} packets", shown.len())));

        let phone = b.new_tab(390, 844).await;
        b.offline(&phone).await;
        b.goto(&phone, &url).await;
        b.screenshot(&phone, &screens_dir().join("report-phone.png")).await;
    });
}

#[test]
#[ignore = "needs chromium"]
fn markup_in_headers_and_messages_is_text_and_runs_no_script() {
    let dir = Scratch::new("hostile");
    let scenario = dir.join("hostile.toml");
    std::fs::write(
        &scenario,
        r#"description = "markup everywhere a capture carries text"
[client]
name = "browser"
mac = "02:00:00:00:00:02"
ipv4 = "192.168.1.2"
[server]
name = "server"
mac = "02:00:00:00:00:01"
ipv4 = "192.168.1.1"
listen = [8080]
[[step]]
do = "connect"
port = 8080
[[step]]
do = "send"
who = "client"
http = "upgrade-request"
path = "/chat?<img/src=x/onerror=alert('path')>"
headers = [["User-Agent", "</script><script>alert('ua')</script>"], ["X-Evil", "<img src=x onerror=alert('header')>"]]
[[step]]
do = "send"
who = "server"
http = "upgrade-response"
headers = [["Server", "<svg onload=alert('server')>"]]
[[step]]
do = "send"
who = "client"
websocket = "text"
data = "<script>alert('ws')</script>"
[[step]]
do = "send"
who = "server"
websocket = "text"
data = "<img src=x onerror=alert('push')>&lt;\u2028]]>"
[[step]]
do = "close"
who = "client"
"#,
    )
    .unwrap();
    let html = dir.join("hostile.html");
    report(&["simulate", scenario.to_str().unwrap()], &html);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(!page.contains("<img"), "raw markup in the page");
    assert!(!page.contains("<svg"));
    assert_eq!(
        page.matches("<script").count(),
        2,
        "only the island and the app"
    );
    runtime().block_on(async {
        let mut b = Browser::launch().await;
        let tab = b.new_tab(1200, 900).await;
        b.offline(&tab).await;
        b.goto(&tab, &format!("file://{}", html.display())).await;
        // Open every packet, so every string has been drawn; keep what each tree said.
        let trees = b
            .eval(&tab, "window.wirewalk.packets.map(p => { window.wirewalk.select(p.number); return document.getElementById('tree').textContent; }).join('\\n')")
            .await;
        let trees = trees.as_str().unwrap();
        for s in ["</script><script>alert('ua')</script>", "<img src=x onerror=alert('header')>", "<svg onload=alert('server')>", "<script>alert('ws')</script>", "<img src=x onerror=alert('push')>"] {
            assert!(trees.contains(s), "{s} is not shown as text");
        }
        b.pump(Duration::from_secs(1)).await;
        let dialogs = b.take_events(Some(&tab), "Page.javascriptDialogOpening");
        assert!(dialogs.is_empty(), "a script ran: {dialogs:?}");
        let counts = b
            .eval(
                &tab,
                "['script', 'img', 'svg image', 'iframe'].map(s => document.querySelectorAll(s).length)",
            )
            .await;
        assert_eq!(counts, json!([2, 0, 0, 0]));
    });
}

#[test]
#[ignore = "needs chromium"]
fn serve_feeds_the_page_live_as_the_capture_arrives_on_stdin() {
    use std::io::Write as _;
    let capture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ws-node.pcap");
    let bytes = std::fs::read(&capture).unwrap();
    let total = packet_count(&capture);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = wirewalk()
        .args(["serve", "-", "--port", &port.to_string()])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The header and the first records; the rest later, as a live capture would.
    let half = bytes.len() / 2;
    stdin.write_all(&bytes[..half]).unwrap();
    stdin.flush().unwrap();
    runtime().block_on(async {
        let mut b = Browser::launch().await;
        let tab = b.new_tab(1200, 900).await;
        let url = format!("http://127.0.0.1:{port}/");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        // The server may take a moment to listen.
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "serve did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        b.goto(&tab, &url).await;
        b.wait_for(&tab, "document.querySelectorAll('#packets tr.pkt').length > 0", Duration::from_secs(20)).await;
        let first = b.eval(&tab, "document.querySelectorAll('#packets tr.pkt').length").await;
        let first = first.as_u64().unwrap() as usize;
        assert!(first < total, "only the first half so far: {first} of {total}");
        stdin.write_all(&bytes[half..]).unwrap();
        drop(stdin);
        b.wait_for(
            &tab,
            &format!("document.querySelectorAll('#packets tr.pkt').length === {total} && /{total} packets/.test(document.getElementById('totals').textContent)"),
            Duration::from_secs(20),
        )
        .await;
        let arrows = b.eval(&tab, "document.querySelectorAll('.ladder .arrow').length").await;
        assert_eq!(arrows, json!(total));
    });
    let _ = child.kill();
    let _ = child.wait();
}
