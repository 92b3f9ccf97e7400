//! One TLS handshake message → the fields of its `tls` layer, read with `tls-parser`
//! (hellos, extensions, the TLS 1.2 messages) and `x509-parser` (certificates).

use sha2::{Digest, Sha256};
use tls_parser::{
    parse_tls_client_hello_extensions, parse_tls_extensions, parse_tls_message_handshake,
    parse_tls_server_hello_extensions, SignatureScheme, TlsCipherSuiteID, TlsExtension, TlsMessage,
    TlsMessageHandshake,
};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use super::{Certificate, TlsRecord};

/// A GREASE value (RFC 8701): 0x?a?a with both bytes equal, sent to keep servers
/// tolerant of values they do not know.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// `TLS 1.2`, `TLS 1.3`, `SSL 3.0`, `GREASE`, or the number.
pub fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        v if is_grease(v) => "GREASE".into(),
        v => format!("0x{v:04x}"),
    }
}

/// The IANA name of a cipher suite (from tls-parser's copy of the registry).
pub fn suite_name(id: u16) -> String {
    match TlsCipherSuiteID(id).get_ciphersuite() {
        Some(cs) => cs.name.to_string(),
        None if is_grease(id) => "GREASE".into(),
        None => format!("0x{id:04x}"),
    }
}

/// The IANA name of a named group (key exchange).
pub fn group_name(g: u16) -> String {
    match g {
        23 => "secp256r1".into(),
        24 => "secp384r1".into(),
        25 => "secp521r1".into(),
        29 => "x25519".into(),
        30 => "x448".into(),
        0x100 => "ffdhe2048".into(),
        0x101 => "ffdhe3072".into(),
        0x102 => "ffdhe4096".into(),
        0x11ec => "X25519MLKEM768".into(),
        0x6399 => "X25519Kyber768Draft00".into(),
        g if is_grease(g) => "GREASE".into(),
        g => format!("{:?}", tls_parser::NamedGroup(g)),
    }
}

/// The handshake type's name, as RFC 8446 spells it.
pub fn handshake_name(t: u8) -> &'static str {
    match t {
        0 => "hello_request",
        1 => "client_hello",
        2 => "server_hello",
        4 => "new_session_ticket",
        5 => "end_of_early_data",
        6 => "hello_retry_request",
        8 => "encrypted_extensions",
        11 => "certificate",
        12 => "server_key_exchange",
        13 => "certificate_request",
        14 => "server_hello_done",
        15 => "certificate_verify",
        16 => "client_key_exchange",
        20 => "finished",
        22 => "certificate_status",
        24 => "key_update",
        254 => "message_hash",
        _ => "unknown",
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The random of a HelloRetryRequest: SHA-256 of "HelloRetryRequest" (RFC 8446 4.1.3).
fn hello_retry_random() -> [u8; 32] {
    Sha256::digest(b"HelloRetryRequest").into()
}

/// The groups of a key_share extension (client: a list; server: one entry).
fn key_share_groups(raw: &[u8], client: bool) -> Vec<String> {
    let mut out = Vec::new();
    let body = if client {
        if raw.len() < 2 {
            return out;
        }
        &raw[2..]
    } else {
        raw
    };
    let mut i = 0;
    while i + 2 <= body.len() {
        let g = u16::from_be_bytes([body[i], body[i + 1]]);
        out.push(group_name(g));
        if body.len() == 2 {
            break; // a HelloRetryRequest names the group alone
        }
        let Some(l) = body.get(i + 2..i + 4) else {
            break;
        };
        i += 4 + u16::from_be_bytes([l[0], l[1]]) as usize;
    }
    out
}

/// What a ClientHello or ServerHello's extensions say.
fn read_extensions(r: &mut TlsRecord, exts: &[TlsExtension], client: bool) {
    let mut grease = r.grease.unwrap_or(0);
    for e in exts {
        match e {
            TlsExtension::SNI(names) => {
                if let Some((_, n)) = names.first() {
                    r.sni = Some(String::from_utf8_lossy(n).into_owned());
                }
            }
            TlsExtension::ALPN(protos) => {
                r.alpn = Some(
                    protos
                        .iter()
                        .map(|p| String::from_utf8_lossy(p).into_owned())
                        .collect(),
                );
            }
            TlsExtension::SupportedVersions(vs) => {
                grease += vs.iter().filter(|v| is_grease(v.0)).count() as u32;
                let names: Vec<String> = vs.iter().map(|v| version_name(v.0)).collect();
                if !client {
                    r.negotiated_version = names.first().cloned();
                }
                r.supported_versions = Some(names);
            }
            TlsExtension::EllipticCurves(gs) => {
                grease += gs.iter().filter(|g| is_grease(g.0)).count() as u32;
                r.supported_groups = Some(gs.iter().map(|g| group_name(g.0)).collect());
            }
            TlsExtension::KeyShare(raw) => {
                let groups = key_share_groups(raw, client);
                grease += groups.iter().filter(|g| *g == "GREASE").count() as u32;
                r.key_share = Some(groups);
            }
            TlsExtension::SignatureAlgorithms(algs) => {
                r.signature_algorithms = Some(
                    algs.iter()
                        .map(|&a| {
                            if is_grease(a) {
                                "GREASE".to_string()
                            } else {
                                SignatureScheme(a).to_string()
                            }
                        })
                        .collect(),
                );
            }
            TlsExtension::Grease(..) => grease += 1,
            _ => {}
        }
    }
    r.grease = (grease > 0).then_some(grease);
}

/// What the connection learns from a handshake message (for decryption).
#[derive(Debug, Default)]
pub struct Learnt {
    pub client_random: Option<Vec<u8>>,
    pub server_random: Option<Vec<u8>>,
    pub suite: Option<u16>,
    pub tls13: bool,
    pub hello_retry: bool,
}

/// The certificates of a TLS 1.3 Certificate message (context, then entries each with
/// extensions), which tls-parser's TLS 1.2 reader does not take.
fn certs13(body: &[u8]) -> Option<Vec<&[u8]>> {
    let ctx = *body.first()? as usize;
    let rest = body.get(1 + ctx..)?;
    let total = u32::from_be_bytes([0, *rest.first()?, *rest.get(1)?, *rest.get(2)?]) as usize;
    let list = rest.get(3..3 + total)?;
    let mut out = Vec::new();
    let mut i = 0;
    while i + 3 <= list.len() {
        let n = u32::from_be_bytes([0, list[i], list[i + 1], list[i + 2]]) as usize;
        out.push(list.get(i + 3..i + 3 + n)?);
        i += 3 + n;
        let e = list.get(i..i + 2)?;
        i += 2 + u16::from_be_bytes([e[0], e[1]]) as usize;
    }
    Some(out)
}

fn certificate(der: &[u8]) -> Certificate {
    match X509Certificate::from_der(der) {
        Ok((_, c)) => {
            let san =
                c.subject_alternative_name()
                    .ok()
                    .flatten()
                    .map(|ext| {
                        ext.value
                            .general_names
                            .iter()
                            .filter_map(|n| match n {
                                GeneralName::DNSName(s) => Some(s.to_string()),
                                GeneralName::IPAddress(ip) => Some(match ip.len() {
                                    4 => std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3])
                                        .to_string(),
                                    16 => <[u8; 16]>::try_from(*ip)
                                        .map(|b| std::net::Ipv6Addr::from(b).to_string())
                                        .unwrap_or_default(),
                                    _ => hex(ip),
                                }),
                                _ => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
            Certificate {
                subject: c.subject().to_string(),
                issuer: c.issuer().to_string(),
                san,
                not_before: c.validity().not_before.to_string(),
                not_after: c.validity().not_after.to_string(),
                der_len: der.len(),
                parsed: true,
            }
        }
        Err(_) => Certificate {
            der_len: der.len(),
            ..Default::default()
        },
    }
}

/// Fills `r` from one whole handshake message (`msg`: its 4-byte header and body).
/// Returns false when the message does not parse.
pub fn describe(r: &mut TlsRecord, msg: &[u8], tls13: bool, learnt: &mut Learnt) -> bool {
    let t = msg[0];
    r.handshake_code = Some(t);
    r.handshake_type = Some(handshake_name(t));
    r.handshake_len = Some(msg.len() as u32 - 4);
    let body = &msg[4..];
    // TLS 1.3 messages tls-parser reads the TLS 1.2 way, or not at all.
    match t {
        8 => {
            // EncryptedExtensions: what the server agreed to (ALPN, …), hidden.
            let Some(list) = body.get(2..) else {
                return false;
            };
            let Ok((_, exts)) = parse_tls_extensions(list) else {
                return false;
            };
            read_extensions(r, &exts, false);
            return true;
        }
        11 if tls13 => {
            let Some(certs) = certs13(body) else {
                return false;
            };
            r.certificates = Some(certs.into_iter().map(certificate).collect());
            return true;
        }
        15 | 20 | 24 | 4 | 5 => return true,
        _ => {}
    }
    let Ok((_, TlsMessage::Handshake(h))) = parse_tls_message_handshake(msg) else {
        return false;
    };
    match h {
        TlsMessageHandshake::ClientHello(ch) => {
            r.client_version = Some(version_name(ch.version.0));
            r.random = Some(hex(ch.random));
            r.session_id = ch.session_id.map(hex);
            let ids: Vec<u16> = ch.ciphers.iter().map(|c| c.0).collect();
            let mut grease = ids.iter().filter(|&&c| is_grease(c)).count() as u32;
            r.cipher_suites = Some(ids.iter().map(|&c| suite_name(c)).collect());
            r.cipher_suite_ids = Some(ids);
            if let Some(ext) = ch.ext {
                if let Ok((_, exts)) = parse_tls_client_hello_extensions(ext) {
                    r.grease = Some(grease);
                    read_extensions(r, &exts, true);
                    grease = r.grease.unwrap_or(0);
                }
            }
            r.grease = (grease > 0).then_some(grease);
            learnt.client_random = Some(ch.random.to_vec());
        }
        TlsMessageHandshake::ServerHello(sh) => {
            r.client_version = Some(version_name(sh.version.0));
            r.random = Some(hex(sh.random));
            r.session_id = sh.session_id.map(hex);
            r.cipher_suite = Some(suite_name(sh.cipher.0));
            r.cipher_suite_id = Some(sh.cipher.0);
            if let Some(ext) = sh.ext {
                if let Ok((_, exts)) = parse_tls_server_hello_extensions(ext) {
                    read_extensions(r, &exts, false);
                }
            }
            let hrr = sh.random == hello_retry_random();
            if hrr {
                r.hello_retry = true;
                r.handshake_type = Some("hello_retry_request");
                learnt.hello_retry = true;
            } else {
                learnt.server_random = Some(sh.random.to_vec());
            }
            learnt.suite = Some(sh.cipher.0);
            learnt.tls13 = r.negotiated_version.as_deref() == Some("TLS 1.3");
            if r.negotiated_version.is_none() {
                r.negotiated_version = Some(version_name(sh.version.0));
            }
        }
        TlsMessageHandshake::Certificate(c) => {
            r.certificates = Some(c.cert_chain.iter().map(|c| certificate(c.data)).collect());
        }
        TlsMessageHandshake::ServerKeyExchange(kx) => {
            // ECDHE: curve type 3 (named curve), the group, the server's public key.
            let p = kx.parameters;
            if p.len() >= 3 && p[0] == 3 {
                r.key_exchange = Some(group_name(u16::from_be_bytes([p[1], p[2]])));
            }
        }
        _ => {}
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grease_values() {
        assert!(is_grease(0x0a0a) && is_grease(0xfafa) && is_grease(0x3a3a));
        assert!(!is_grease(0x1301) && !is_grease(0x0a1a));
        assert_eq!(suite_name(0x1301), "TLS_AES_128_GCM_SHA256");
        assert_eq!(suite_name(0xc02f), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assert_eq!(suite_name(0x2a2a), "GREASE");
        assert_eq!(version_name(0x0304), "TLS 1.3");
        assert_eq!(group_name(29), "x25519");
    }

    #[test]
    fn hello_retry_random_is_rfc8446s() {
        assert_eq!(
            hex(&hello_retry_random()),
            "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
        );
    }
}
