//! TLS on captures of real peers (scripts/capture-peers/tls.sh): Python `ssl` +
//! `http.server`/`http.client` and `websockets` over TLS 1.3, curl forcing TLS 1.2 with
//! AES-GCM and with ChaCha20-Poly1305, each with the key log its client wrote; Node's
//! https server with Socket.IO over wss://, its key log from the server's `keylog` event.
//!
//! The plain tests check what the peers said they used and sent (NAME.expected.json);
//! the `needs tshark` ones check every TLS field against tshark with the same key log,
//! and a capture with the keys embedded (editcap --inject-secrets).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const FIXTURES: [&str; 5] = [
    "tls13-python-https",
    "tls13-python-wss",
    "tls12-curl-aesgcm",
    "tls12-curl-chacha",
    "tls13-node-socketio",
];

fn fixture(name: &str, ext: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.{ext}"))
}

fn expected(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name, "expected.json")).unwrap()).unwrap()
}

/// `wirewalk inspect --json [ARGS] FILE`, without SSLKEYLOGFILE from the environment.
fn inspect(file: &Path, args: &[&str]) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_wirewalk"))
        .args(["inspect", "--json", "--color", "never"])
        .args(args)
        .arg(file)
        .env_remove("SSLKEYLOGFILE")
        .output()
        .expect("run wirewalk");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every layer of `protocol`, in order, with its frame number.
fn layers(lines: &[Value], protocol: &str) -> Vec<(u64, Value)> {
    lines
        .iter()
        .filter(|v| v["type"] == "packet")
        .flat_map(|p| {
            let n = p["number"].as_u64().unwrap();
            p["layers"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|l| l["protocol"] == protocol)
                .map(move |l| (n, l.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn with_keys(name: &str) -> Vec<Value> {
    let keys = fixture(name, "keys");
    inspect(
        &fixture(name, "pcap"),
        &["--keylog", keys.to_str().unwrap()],
    )
}

fn hello<'a>(tls: &'a [(u64, Value)], t: &str) -> &'a Value {
    &tls.iter()
        .find(|(_, l)| l["fields"]["handshake_type"] == t)
        .unwrap_or_else(|| panic!("no {t}"))
        .1
}

#[test]
fn the_handshake_says_what_the_peers_used() {
    for name in FIXTURES {
        let exp = expected(name);
        let lines = with_keys(name);
        let tls = layers(&lines, "tls");
        let ch = &hello(&tls, "client_hello")["fields"];
        assert_eq!(ch["sni"], "wirewalk.test", "{name}");
        // socket.io-client (ws) offers no ALPN; the others offer http/1.1.
        let offered = exp["tls"]["alpn"].as_str().map(|_| "http/1.1");
        assert_eq!(ch["alpn"][0].as_str(), offered, "{name}");
        assert_eq!(ch["record_type"], "handshake");
        assert_eq!(ch["handshake_code"], 1);
        let sh = &hello(&tls, "server_hello")["fields"];
        assert_eq!(sh["cipher_suite"], exp["tls"]["cipher_iana"], "{name}");
        let version = exp["tls"]["version"]
            .as_str()
            .unwrap()
            .replace("TLSv", "TLS ");
        assert_eq!(sh["negotiated_version"], version.as_str(), "{name}");
        // The server's ALPN answer: in the ServerHello (1.2) or EncryptedExtensions (1.3).
        let alpn: Vec<&Value> = tls
            .iter()
            .filter(|(_, l)| l["fields"]["handshake_type"] != "client_hello")
            .filter_map(|(_, l)| l["fields"]["alpn"].get(0))
            .collect();
        let chosen: Vec<&Value> = exp["tls"]["alpn"]
            .is_string()
            .then_some(&exp["tls"]["alpn"])
            .into_iter()
            .collect();
        assert_eq!(alpn, chosen, "{name}");
        assert!(sh["osi"].is_null() && tls.iter().all(|(_, l)| l["osi"] == 6));
        if version == "TLS 1.3" {
            assert_eq!(sh["supported_versions"][0], "TLS 1.3");
            assert_eq!(
                ch["client_version"], "TLS 1.2",
                "1.3 keeps 1.2 in the hello"
            );
        } else {
            // TLS 1.2: the certificate in clear, with what the script's openssl made.
            let cert = &hello(&tls, "certificate")["fields"]["certificates"][0];
            assert_eq!(cert["subject"], "CN=wirewalk.test");
            assert_eq!(cert["san"][0], "wirewalk.test");
            assert_eq!(cert["san"][1], "127.0.0.1");
            let kx = &hello(&tls, "server_key_exchange")["fields"];
            assert!(kx["key_exchange"].is_string());
        }
    }
}

#[test]
fn decrypted_http_is_what_the_peers_sent() {
    for name in [
        "tls13-python-https",
        "tls12-curl-aesgcm",
        "tls12-curl-chacha",
    ] {
        let lines = with_keys(name);
        let http = layers(&lines, "http");
        assert_eq!(http.len(), 2, "{name}: {http:?}");
        let (req, resp) = (&http[0].1, &http[1].1);
        assert_eq!(req["fields"]["method"], "GET");
        assert_eq!(req["fields"]["uri"], "/hello?lang=en");
        assert_eq!(
            req["fields"]["headers"]["host"]
                .as_str()
                .unwrap()
                .split(':')
                .next(),
            Some("wirewalk.test")
        );
        assert_eq!(resp["fields"]["status"], 200);
        assert_eq!(resp["fields"]["body_len"], 35);
        let secret = if name.starts_with("tls13") {
            ("CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0")
        } else {
            ("CLIENT_RANDOM", "CLIENT_RANDOM")
        };
        assert_eq!(
            (req["decrypted"].as_str(), resp["decrypted"].as_str()),
            (Some(secret.0), Some(secret.1))
        );
        assert_eq!(req["from"], "client");
        // The conversation carries HTTP (inside TLS).
        let conv = lines.iter().find(|v| v["type"] == "conversation").unwrap();
        assert_eq!(conv["application"], "http", "{name}");
    }
}

#[test]
fn decrypted_websocket_is_what_the_peers_sent() {
    let name = "tls13-python-wss";
    let exp = expected(name);
    let lines = with_keys(name);
    let http = layers(&lines, "http");
    assert_eq!(http[0].1["fields"]["uri"], "/chat");
    assert_eq!(http[1].1["fields"]["status"], 101);
    assert_eq!(http[1].1["fields"]["accept_valid"], true);
    let ws = layers(&lines, "websocket");
    for side in ["client", "server"] {
        let want: Vec<(Option<&str>, Option<&str>)> = exp["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["side"] == side)
            .map(|m| (m["text"].as_str(), m["data_hex"].as_str()))
            .collect();
        let got: Vec<(Option<&str>, Option<&str>)> = ws
            .iter()
            .map(|(_, l)| l)
            .filter(|l| l["from"] == side && l["fields"]["message_len"].is_u64())
            .map(|l| {
                (
                    l["fields"]["text"].as_str(),
                    l["fields"]["data_hex"].as_str(),
                )
            })
            .collect();
        assert_eq!(got, want, "{side}");
    }
    assert!(ws.iter().all(|(_, l)| l["decrypted"].is_string()));
    let close = ws
        .iter()
        .find(|(_, l)| l["fields"]["opcode_name"] == "close")
        .unwrap();
    assert_eq!(close.1["fields"]["close_code"], 1000);
    let conv = lines.iter().find(|v| v["type"] == "conversation").unwrap();
    assert_eq!(conv["application"], "websocket");
}

#[test]
fn decrypted_socketio_events_are_what_the_peers_emitted() {
    let name = "tls13-node-socketio";
    let exp = expected(name);
    let lines = with_keys(name);
    let http = layers(&lines, "http");
    assert_eq!(
        http[0].1["fields"]["uri"],
        "/socket.io/?EIO=4&transport=websocket"
    );
    assert_eq!(http[1].1["fields"]["status"], 101);
    let events = layers(&lines, "socketio");
    for side in ["client", "server"] {
        let want: Vec<(&Value, &Value)> = exp["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["side"] == side)
            .map(|m| (&m["event"], &m["args"]))
            .collect();
        let got: Vec<(&Value, &Value)> = events
            .iter()
            .map(|(_, l)| l)
            .filter(|l| l["from"] == side && l["fields"]["packet_type"] == "EVENT")
            .map(|l| (&l["fields"]["event"], &l["fields"]["args"]))
            .collect();
        assert_eq!(got, want, "{side}");
    }
    assert!(events.iter().all(|(_, l)| l["decrypted"].is_string()));
    let conv = lines.iter().find(|v| v["type"] == "conversation").unwrap();
    assert_eq!(conv["application"], "socketio");
}

fn all_notes(lines: &[Value]) -> Vec<String> {
    let mut v = Vec::new();
    for p in lines.iter().filter(|v| v["type"] == "packet") {
        for n in p["notes"].as_array().into_iter().flatten() {
            v.push(n["text"].as_str().unwrap().to_string());
        }
        for l in p["layers"].as_array().unwrap() {
            for c in l["checks"].as_array().into_iter().flatten() {
                v.push(c["text"].as_str().unwrap().to_string());
            }
        }
    }
    v
}

#[test]
fn without_keys_it_says_why_once_and_shows_no_plaintext() {
    for name in FIXTURES {
        let lines = inspect(&fixture(name, "pcap"), &[]);
        assert!(layers(&lines, "http").is_empty());
        let tls = layers(&lines, "tls");
        assert!(tls.iter().any(|(_, l)| l["fields"]["encrypted"] == true));
        assert!(tls.iter().all(|(_, l)| l["fields"]["decrypted"].is_null()));
        let notes = all_notes(&lines);
        let said = notes
            .iter()
            .filter(|n| n.contains("no key log was given"))
            .count();
        assert_eq!(said, 1, "{name}: {notes:?}");
        // The handshake in clear is still there.
        assert_eq!(
            hello(&tls, "client_hello")["fields"]["sni"],
            "wirewalk.test"
        );
        let conv = lines.iter().find(|v| v["type"] == "conversation").unwrap();
        assert_eq!(conv["application"], "tls");
    }
}

#[test]
fn another_connections_key_log_is_named_as_such() {
    let keys = fixture("tls12-curl-aesgcm", "keys");
    let lines = inspect(
        &fixture("tls12-curl-chacha", "pcap"),
        &["--keylog", keys.to_str().unwrap()],
    );
    assert!(layers(&lines, "http").is_empty());
    let notes = all_notes(&lines);
    assert_eq!(
        notes
            .iter()
            .filter(|n| n.contains("has no secret for this connection"))
            .count(),
        1,
        "{notes:?}"
    );
}

#[test]
fn a_wrong_secret_fails_authentication_and_shows_nothing() {
    for name in ["tls13-python-https", "tls12-curl-aesgcm"] {
        // The same client random, every secret changed in its last digit.
        let text = std::fs::read_to_string(fixture(name, "keys")).unwrap();
        let wrong: String = text
            .lines()
            .map(|l| {
                let mut l = l.to_string();
                let last = l.pop().unwrap();
                l.push(if last == '0' { '1' } else { '0' });
                l + "\n"
            })
            .collect();
        let path =
            std::env::temp_dir().join(format!("wirewalk-wrong-{name}-{}.keys", std::process::id()));
        std::fs::write(&path, wrong).unwrap();
        let lines = inspect(
            &fixture(name, "pcap"),
            &["--keylog", path.to_str().unwrap()],
        );
        std::fs::remove_file(&path).ok();
        assert!(layers(&lines, "http").is_empty(), "{name}");
        let notes = all_notes(&lines);
        let failed = notes
            .iter()
            .filter(|n| n.contains("did not authenticate"))
            .count();
        assert_eq!(failed, 2, "{name}: one per direction: {notes:?}");
        let summary = lines.last().unwrap();
        assert!(summary.to_string().contains("did not authenticate"));
    }
}

#[test]
fn an_unreadable_key_log_is_one_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_wirewalk"))
        .args(["inspect", "--keylog", "/nonexistent/keys.log"])
        .arg(fixture("tls13-python-https", "pcap"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot read the key log") && err.contains("SSLKEYLOGFILE"));
}

#[test]
fn sslkeylogfile_from_the_environment() {
    let name = "tls12-curl-chacha";
    let out = Command::new(env!("CARGO_BIN_EXE_wirewalk"))
        .args(["inspect", "--json", "--color", "never"])
        .arg(fixture(name, "pcap"))
        .env("SSLKEYLOGFILE", fixture(name, "keys"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(layers(&lines, "http").len(), 2);
}

/// tshark's view of each frame: handshake types, SNI, cipher suites, ALPN.
fn tshark_fields(pcap: &Path, keys: Option<&Path>) -> Vec<(u64, [String; 4])> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(pcap);
    if let Some(k) = keys {
        cmd.arg("-o")
            .arg(format!("tls.keylog_file:{}", k.display()));
    }
    let out = cmd
        .args(["-Y", "tls", "-T", "fields", "-e", "frame.number"])
        .args([
            "-e",
            "tls.handshake.type",
            "-e",
            "tls.handshake.extensions_server_name",
        ])
        .args([
            "-e",
            "tls.handshake.ciphersuite",
            "-e",
            "tls.handshake.extensions_alpn_str",
        ])
        .output()
        .expect("run tshark");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let g = |i: usize| f.get(i).copied().unwrap_or("").to_string();
            (f[0].parse().unwrap(), [g(1), g(2), g(3), g(4)])
        })
        .filter(|(_, f)| f.iter().any(|x| !x.is_empty()))
        .collect()
}

/// wirewalk's view, in tshark's terms.
fn our_fields(lines: &[Value]) -> Vec<(u64, [String; 4])> {
    let mut out = Vec::new();
    for p in lines.iter().filter(|v| v["type"] == "packet") {
        let mut f: [Vec<String>; 4] = Default::default();
        for l in p["layers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["protocol"] == "tls")
        {
            let x = &l["fields"];
            if let Some(c) = x["handshake_code"].as_u64() {
                // tshark numbers a HelloRetryRequest as the ServerHello it is (2).
                f[0].push(c.to_string());
            }
            if let Some(s) = x["sni"].as_str() {
                f[1].push(s.into());
            }
            for id in x["cipher_suite_ids"].as_array().into_iter().flatten() {
                f[2].push(format!("0x{:04x}", id.as_u64().unwrap()));
            }
            if let Some(id) = x["cipher_suite_id"].as_u64() {
                f[2].push(format!("0x{id:04x}"));
            }
            for a in x["alpn"].as_array().into_iter().flatten() {
                f[3].push(a.as_str().unwrap().into());
            }
        }
        if f.iter().any(|v| !v.is_empty()) {
            out.push((p["number"].as_u64().unwrap(), f.map(|v| v.join(","))));
        }
    }
    out
}

#[test]
#[ignore = "needs tshark"]
fn every_tls_field_agrees_with_tshark() {
    for name in FIXTURES {
        let (pcap, keys) = (fixture(name, "pcap"), fixture(name, "keys"));
        assert_eq!(
            our_fields(&with_keys(name)),
            tshark_fields(&pcap, Some(&keys)),
            "{name} with its key log"
        );
        assert_eq!(
            our_fields(&inspect(&pcap, &[])),
            tshark_fields(&pcap, None),
            "{name} without keys"
        );
    }
}

#[test]
#[ignore = "needs tshark"]
fn decrypted_http_and_websocket_agree_with_tshark() {
    for name in FIXTURES {
        let (pcap, keys) = (fixture(name, "pcap"), fixture(name, "keys"));
        let out = Command::new("tshark")
            .arg("-r")
            .arg(&pcap)
            .arg("-o")
            .arg(format!("tls.keylog_file:{}", keys.display()))
            .args(["-Y", "http.request or http.response or websocket.payload"])
            .args([
                "-T",
                "fields",
                "-e",
                "frame.number",
                "-e",
                "http.request.uri",
            ])
            .args(["-e", "http.response.code", "-e", "websocket.payload.text"])
            .output()
            .unwrap();
        let theirs: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.trim_end().to_string())
            .collect();
        let lines = with_keys(name);
        let mut ours = Vec::new();
        for p in lines.iter().filter(|v| v["type"] == "packet") {
            let ls: Vec<&Value> = p["layers"].as_array().unwrap().iter().collect();
            let uri: Vec<&str> = ls
                .iter()
                .filter_map(|l| {
                    (l["protocol"] == "http")
                        .then(|| l["fields"]["uri"].as_str())
                        .flatten()
                })
                .collect();
            let code: Vec<String> = ls
                .iter()
                .filter_map(|l| {
                    (l["protocol"] == "http")
                        .then(|| l["fields"]["status"].as_u64())
                        .flatten()
                        .map(|c| c.to_string())
                })
                .collect();
            let text: Vec<&str> = ls
                .iter()
                .filter_map(|l| {
                    (l["protocol"] == "websocket")
                        .then(|| l["fields"]["text"].as_str())
                        .flatten()
                })
                .collect();
            // tshark's websocket.payload: frames that carry one (an empty close does not).
            let any_ws = ls
                .iter()
                .any(|l| l["protocol"] == "websocket" && l["fields"]["payload_len"] != 0);
            if uri.is_empty() && code.is_empty() && !any_ws {
                continue;
            }
            ours.push(
                format!(
                    "{}\t{}\t{}\t{}",
                    p["number"],
                    uri.join(","),
                    code.join(","),
                    text.join(",")
                )
                .trim_end()
                .to_string(),
            );
        }
        assert_eq!(ours, theirs, "{name}");
    }
}

#[test]
#[ignore = "needs tshark"]
fn keys_embedded_in_the_capture_decrypt_it() {
    let name = "tls13-python-wss";
    let out = std::env::temp_dir().join(format!("wirewalk-dsb-{}.pcapng", std::process::id()));
    let st = Command::new("editcap")
        .arg("--inject-secrets")
        .arg(format!("tls,{}", fixture(name, "keys").display()))
        .arg(fixture(name, "pcap"))
        .arg(&out)
        .status()
        .expect("run editcap");
    assert!(st.success());
    let lines = inspect(&out, &[]);
    std::fs::remove_file(&out).ok();
    assert_eq!(layers(&lines, "http").len(), 2);
    assert!(layers(&lines, "websocket")
        .iter()
        .any(|(_, l)| l["fields"]["text"] == "hello over wss"));
}

#[path = "support/harness.rs"]
mod harness;

/// The fuzz harness of `protocol_stream` on the fixtures' real bytes, whole and with bytes
/// flipped (records that lie, fail to authenticate, break the handshake): no panic, every
/// event inside the bytes of its direction.
#[test]
fn the_fuzz_harness_on_real_tls_bytes_whole_and_flipped() {
    use wirewalk::dissect::dissect;
    use wirewalk::source::pcap::PcapReader;
    for name in FIXTURES {
        let mut ops = vec![1u8];
        let mut client = None;
        for f in PcapReader::open(&fixture(name, "pcap")).unwrap() {
            let f = f.unwrap();
            let d = dissect(&f);
            let Some(tcp) = d.tcp() else { continue };
            let c = *client.get_or_insert(tcp.src_port);
            for chunk in d.payload_bytes(&f).chunks(255) {
                ops.push(if tcp.src_port == c { 0 } else { 4 });
                ops.push(chunk.len() as u8);
                ops.extend_from_slice(chunk);
            }
        }
        harness::protocol_stream(&ops);
        for k in 0..60 {
            let mut bad = ops.clone();
            let at = 1 + (k * 7919) % (bad.len() - 1);
            bad[at] ^= 0x5a;
            harness::protocol_stream(&bad);
        }
    }
}

/// wirewalk's own pcapng writer with the key log in a Decryption Secrets Block (what
/// `demo --tls -w FILE.pcapng` writes): read back with no key log, the capture opens as it
/// does with `--keylog`.
#[test]
fn a_pcapng_written_with_its_secrets_decrypts_without_a_key_log() {
    use wirewalk::analysis::protocols::tls::KeyLog;
    use wirewalk::render::pcap_out::{PcapFormat, PcapWriter};
    use wirewalk::source::pcap::PcapReader;
    let name = "tls13-python-wss";
    let mut keys = KeyLog::default();
    keys.add_text(&std::fs::read_to_string(fixture(name, "keys")).unwrap());
    assert!(!keys.lines().is_empty());
    let frames: Vec<_> = PcapReader::open(&fixture(name, "pcap"))
        .unwrap()
        .map(|f| f.unwrap())
        .collect();
    let out = std::env::temp_dir().join(format!("wirewalk-own-dsb-{}.pcapng", std::process::id()));
    let file = std::io::BufWriter::new(std::fs::File::create(&out).unwrap());
    let mut w = PcapWriter::new(file, frames[0].link, PcapFormat::Pcapng).unwrap();
    assert!(w.write_tls_secrets(keys.lines()).unwrap());
    for f in &frames {
        w.write(f).unwrap();
    }
    w.finish().unwrap();
    let embedded = inspect(&out, &[]);
    std::fs::remove_file(&out).ok();
    let texts = |lines: &[Value]| -> Vec<Value> {
        layers(lines, "websocket")
            .into_iter()
            .map(|(n, l)| serde_json::json!([n, l["from"], l["fields"]["text"], l["decrypted"]]))
            .collect()
    };
    let want = texts(&with_keys(name));
    assert!(want.iter().any(|v| v[2] == "hello over wss"));
    assert_eq!(texts(&embedded), want);
    // And without the block, nothing opens.
    let plain = inspect(&fixture(name, "pcap"), &[]);
    assert!(layers(&plain, "websocket").is_empty());
}

#[test]
fn a_self_signed_certificate_is_said_to_be_one() {
    // The script's openssl made a certificate whose issuer is its subject.
    let out = Command::new(env!("CARGO_BIN_EXE_wirewalk"))
        .args(["inspect", "--color", "never"])
        .arg(fixture("tls12-curl-aesgcm", "pcap"))
        .env_remove("SSLKEYLOGFILE")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout)
        .unwrap()
        .replace("\n                  ", " ");
    assert!(
        text.contains("subject CN=wirewalk.test, issued by CN=wirewalk.test"),
        "{text}"
    );
    assert!(
        text.contains(
            "this certificate is self-signed, so no certificate authority vouches for it"
        ),
        "{text}"
    );
    assert!(
        !text.contains("signed by a certificate authority the client must trust"),
        "{text}"
    );
}
