//! Words for TLS records and handshake messages: what each message is for, what an
//! eavesdropper still sees, and what was decrypted with which secret. The wording is in
//! `text/tls.toml`.

use super::template::{text, text_into};
use crate::analysis::protocols::tls::TlsRecord;

fn list(v: &Option<Vec<String>>, max: usize) -> String {
    let Some(v) = v else {
        return String::new();
    };
    let mut s: Vec<&str> = v.iter().take(max).map(String::as_str).collect();
    let more = v.len().saturating_sub(max);
    let extra = format!("+{more} more");
    if more > 0 {
        s.push(&extra);
    }
    s.join(", ")
}

/// A few words for the ladder diagram: `ClientHello sni=example.com`.
pub fn tls_short(r: &TlsRecord) -> String {
    match r.handshake_type {
        Some(t) => match (&r.sni, &r.cipher_suite) {
            (Some(sni), _) if t == "client_hello" => format!("{t} {sni}"),
            (_, Some(cs)) if t == "server_hello" => format!("{t} {cs}"),
            _ => t.to_string(),
        },
        None if r.encrypted && r.decrypted.is_none() => format!("encrypted {}", r.record_type),
        None => r.record_type.to_string(),
    }
}

/// The line of values.
pub fn tls_headline(r: &TlsRecord) -> String {
    let mut s = match r.handshake_type {
        Some(t) => format!(
            "{t} · record {} · {}",
            r.version,
            super::bytes(r.length as u64)
        ),
        None => format!(
            "{} · record {} · {}",
            r.record_type,
            r.version,
            super::bytes(r.length as u64)
        ),
    };
    if let Some(sni) = &r.sni {
        s.push_str(&format!(" · SNI {sni}"));
    }
    if let Some(a) = &r.alpn {
        s.push_str(&format!(" · ALPN {}", a.join(",")));
    }
    if let Some(v) = &r.negotiated_version {
        if r.handshake_type == Some("server_hello") {
            s.push_str(&format!(" · {v}"));
        }
    }
    if let Some(cs) = &r.cipher_suite {
        s.push_str(&format!(" · {cs}"));
    }
    if let Some(cs) = &r.cipher_suites {
        s.push_str(&format!(" · {} suites offered", cs.len()));
    }
    if let (Some(l), Some(d)) = (&r.alert_level, &r.alert_description) {
        s.push_str(&format!(" · {l} {d}"));
    }
    if let Some(c) = r.certificates.as_ref().and_then(|c| c.first()) {
        s.push_str(&format!(" · {}", c.subject));
    }
    match (r.encrypted, r.decrypted) {
        (_, Some(secret)) => s.push_str(&format!(" · decrypted with {secret}")),
        (true, None) => s.push_str(" · encrypted"),
        _ => {}
    }
    s
}

/// Appends the explanation of a TLS record or handshake message.
pub fn tls_explain(out: &mut String, r: &TlsRecord) {
    let sep = |out: &mut String| {
        if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    };
    if let Some(t) = r.handshake_type {
        let key = if t == "certificate" && r.tls13 {
            "tls.handshake.certificate13".to_string()
        } else {
            format!("tls.handshake.{t}")
        };
        text_into(out, &key, &[]);
        match t {
            "client_hello" => {
                if let Some(sni) = &r.sni {
                    sep(out);
                    text_into(out, "tls.field.sni", &[("sni", sni)]);
                }
                if r.random.is_some() {
                    sep(out);
                    text_into(out, "tls.field.client_random", &[]);
                }
                // GREASE and SCSV values sit in the list but name no cipher.
                let (signals, suites): (Vec<String>, Vec<String>) = r
                    .cipher_suites
                    .iter()
                    .flatten()
                    .cloned()
                    .partition(|n| n == "GREASE" || n.ends_with("_SCSV"));
                let offered = list(&Some(suites), 4);
                if !offered.is_empty() {
                    sep(out);
                    text_into(out, "tls.field.cipher_suites", &[("suites", &offered)]);
                }
                if !signals.is_empty() {
                    let kind = |n: &str| match n {
                        "GREASE" => "tls.field.signal_grease",
                        "TLS_EMPTY_RENEGOTIATION_INFO_SCSV" => "tls.field.signal_renegotiation",
                        "TLS_FALLBACK_SCSV" => "tls.field.signal_fallback",
                        _ => "tls.field.signal_other",
                    };
                    let mut said: Vec<String> = Vec::new();
                    for n in &signals {
                        let t = text(kind(n), &[("name", n)]);
                        if !said.contains(&t) {
                            said.push(t);
                        }
                    }
                    sep(out);
                    text_into(
                        out,
                        "tls.field.suite_signals",
                        &[("what", &said.join("; "))],
                    );
                }
                if let Some(v) = &r.supported_versions {
                    sep(out);
                    text_into(
                        out,
                        "tls.field.supported_versions",
                        &[("versions", &v.join(", "))],
                    );
                }
                let ks = list(&r.key_share, 4);
                if !ks.is_empty() {
                    sep(out);
                    text_into(out, "tls.field.key_share", &[("groups", &ks)]);
                }
                if let Some(a) = &r.alpn {
                    sep(out);
                    text_into(out, "tls.field.alpn", &[("alpn", &a.join(", "))]);
                }
                if let Some(n) = r.grease {
                    sep(out);
                    text_into(out, "tls.field.grease", &[("count", &n.to_string())]);
                }
            }
            "server_hello" | "hello_retry_request" => {
                if r.hello_retry {
                    return;
                }
                if r.random.is_some() {
                    sep(out);
                    text_into(out, "tls.field.server_random", &[]);
                }
                if let Some(cs) = &r.cipher_suite {
                    sep(out);
                    text_into(out, "tls.field.cipher_suite", &[("suite", cs)]);
                    sep(out);
                    text_into(out, &suite_parts_key(cs), &[]);
                }
                if let Some(v) = &r.negotiated_version {
                    sep(out);
                    let key = if v == "TLS 1.3" {
                        "tls.field.chosen13"
                    } else {
                        "tls.field.chosen12"
                    };
                    text_into(out, key, &[("version", v)]);
                }
            }
            "certificate" => {
                if let Some(c) = r.certificates.as_ref().and_then(|c| c.first()) {
                    sep(out);
                    let san = c.san.join(", ");
                    let key = if san.is_empty() {
                        "tls.field.certificate_no_san"
                    } else {
                        "tls.field.certificate"
                    };
                    text_into(
                        out,
                        key,
                        &[
                            ("subject", &c.subject),
                            ("issuer", &c.issuer),
                            ("san", &san),
                            ("not_before", &c.not_before),
                            ("not_after", &c.not_after),
                        ],
                    );
                    // Issued by itself: no authority vouches for it.
                    if c.parsed && !c.subject.is_empty() && c.subject == c.issuer {
                        sep(out);
                        text_into(out, "tls.field.self_signed", &[]);
                    }
                }
            }
            "server_key_exchange" => {
                if let Some(g) = &r.key_exchange {
                    sep(out);
                    text_into(out, "tls.field.key_exchange", &[("group", g)]);
                }
            }
            _ => {}
        }
    } else {
        let key = match (r.record_type, r.encrypted, r.decrypted.is_some(), r.tls13) {
            ("application_data", true, false, true) => "tls.record.encrypted13",
            ("application_data", true, false, false) => "tls.record.encrypted12",
            ("application_data", _, true, _) => "tls.record.decrypted",
            ("handshake", true, false, _) => "tls.record.encrypted_handshake",
            ("alert", true, false, _) => "tls.record.encrypted_alert",
            ("change_cipher_spec", _, _, true) => "tls.record.change_cipher_spec13",
            (t, _, _, _) => match t {
                "change_cipher_spec" => "tls.record.change_cipher_spec",
                "alert" => "tls.record.alert",
                "heartbeat" => "tls.record.heartbeat",
                _ => "tls.record.other",
            },
        };
        text_into(out, key, &[]);
        if let (Some(l), Some(d)) = (&r.alert_level, &r.alert_description) {
            sep(out);
            text_into(out, "tls.field.alert", &[("level", l), ("description", d)]);
        }
    }
    if let Some(secret) = r.decrypted {
        sep(out);
        text_into(out, "tls.field.decrypted", &[("secret", secret)]);
    }
}

/// What the parts of the chosen suite mean: TLS 1.3 names only the cipher and hash; TLS
/// 1.2 also the key exchange and the signature.
fn suite_parts_key(suite: &str) -> String {
    let kind = if !suite.contains("_WITH_") {
        "tls13"
    } else if suite.starts_with("TLS_ECDHE_") {
        "ecdhe"
    } else {
        "other"
    };
    format!("tls.suite.{kind}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A template that is missing shows its key: none may.
    fn worded(out: &str) -> bool {
        !out.is_empty()
            && !out.contains('{')
            && !["tls.handshake.", "tls.record.", "tls.field.", "tls.suite."]
                .iter()
                .any(|k| out.contains(k))
    }

    #[test]
    fn every_branch_has_wording() {
        let mut r = TlsRecord {
            record_type: "handshake",
            version: "TLS 1.0".into(),
            length: 512,
            handshake_type: Some("client_hello"),
            sni: Some("example.com".into()),
            random: Some("00".into()),
            cipher_suites: Some(vec!["TLS_AES_128_GCM_SHA256".into()]),
            supported_versions: Some(vec!["TLS 1.3".into()]),
            key_share: Some(vec!["x25519".into()]),
            alpn: Some(vec!["http/1.1".into()]),
            grease: Some(2),
            ..Default::default()
        };
        let mut out = String::new();
        tls_explain(&mut out, &r);
        assert!(out.contains("example.com") && worded(&out), "{out}");
        for (t, tls13, enc, dec) in [
            ("application_data", true, true, None),
            ("application_data", false, true, None),
            (
                "application_data",
                true,
                true,
                Some("CLIENT_TRAFFIC_SECRET_0"),
            ),
            ("handshake", false, true, None),
            ("alert", false, true, None),
            ("alert", false, false, None),
            ("change_cipher_spec", true, false, None),
            ("change_cipher_spec", false, false, None),
            ("heartbeat", false, false, None),
        ] {
            r = TlsRecord {
                record_type: t,
                tls13,
                encrypted: enc,
                decrypted: dec,
                ..Default::default()
            };
            let mut out = String::new();
            tls_explain(&mut out, &r);
            assert!(worded(&out), "{t}: {out}");
        }
        for t in [
            "server_hello",
            "certificate",
            "server_key_exchange",
            "server_hello_done",
            "client_key_exchange",
            "finished",
            "encrypted_extensions",
            "certificate_verify",
            "new_session_ticket",
            "hello_retry_request",
            "key_update",
            "certificate_request",
            "hello_request",
            "end_of_early_data",
            "certificate_status",
            "message_hash",
            "unknown",
        ] {
            for (cs, v) in [
                ("TLS_AES_128_GCM_SHA256", "TLS 1.3"),
                ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS 1.2"),
                ("TLS_RSA_WITH_AES_128_CBC_SHA", "TLS 1.2"),
            ] {
                let r = TlsRecord {
                    handshake_type: Some(t),
                    random: Some("00".into()),
                    cipher_suite: Some(cs.into()),
                    negotiated_version: Some(v.into()),
                    key_exchange: Some("x25519".into()),
                    certificates: Some(vec![Default::default()]),
                    tls13: v == "TLS 1.3",
                    ..Default::default()
                };
                let mut out = String::new();
                tls_explain(&mut out, &r);
                assert!(worded(&out), "{t}: {out}");
            }
        }
    }
}
