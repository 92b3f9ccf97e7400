//! Application-layer encoders the scenarios need: HTTP/1.1 messages (with the WebSocket
//! upgrade), WebSocket frames (RFC 6455), Engine.IO v4 and Socket.IO v5 packets, and DNS
//! queries and answers (RFC 1035).

/// An HTTP/1.1 request.
pub fn http_request(
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\n").into_bytes();
    write_headers(&mut out, headers, body);
    out
}

/// An HTTP/1.1 response.
pub fn http_response(
    status: u16,
    reason: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n").into_bytes();
    write_headers(&mut out, headers, body);
    out
}

fn write_headers(out: &mut Vec<u8>, headers: &[(String, String)], body: &[u8]) {
    let mut has_len = false;
    for (k, v) in headers {
        has_len |= k.eq_ignore_ascii_case("content-length");
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    if !body.is_empty() && !has_len {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

/// The reason phrase of common status codes.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        426 => "Upgrade Required",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// WebSocket opcodes (RFC 6455 section 5.2).
pub mod opcode {
    pub const CONTINUATION: u8 = 0x0;
    pub const TEXT: u8 = 0x1;
    pub const BINARY: u8 = 0x2;
    pub const CLOSE: u8 = 0x8;
    pub const PING: u8 = 0x9;
    pub const PONG: u8 = 0xA;
}

/// One WebSocket frame; a client's frames are masked with `mask`, a server's are not.
pub fn ws_frame(fin: bool, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(if fin { 0x80 } else { 0 } | (opcode & 0x0F));
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(m | n as u8),
        n if n <= 0xFFFF => {
            out.push(m | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(m | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// A close frame's payload: the status code, then a UTF-8 reason.
pub fn ws_close_payload(code: Option<u16>, reason: &str) -> Vec<u8> {
    match code {
        Some(c) => {
            let mut p = c.to_be_bytes().to_vec();
            p.extend_from_slice(reason.as_bytes());
            p
        }
        None => Vec::new(),
    }
}

/// Engine.IO v4 packet types, by their digit on the wire.
pub fn engineio_type_digit(name: &str) -> Option<char> {
    Some(match name {
        "open" => '0',
        "close" => '1',
        "ping" => '2',
        "pong" => '3',
        "message" => '4',
        "upgrade" => '5',
        "noop" => '6',
        _ => return None,
    })
}

/// Socket.IO v5 packet types, by their digit on the wire.
pub fn socketio_type_digit(name: &str) -> Option<char> {
    Some(match name.to_ascii_lowercase().replace('-', "_").as_str() {
        "connect" => '0',
        "disconnect" => '1',
        "event" => '2',
        "ack" => '3',
        "connect_error" => '4',
        "binary_event" => '5',
        "binary_ack" => '6',
        _ => return None,
    })
}

/// A Socket.IO packet's text: `<type>[<attachments>-][<namespace>,][<ack id>][JSON]`.
pub fn socketio_text(
    digit: char,
    attachments: usize,
    namespace: &str,
    ack_id: Option<u64>,
    json: Option<&str>,
) -> String {
    let mut s = String::new();
    s.push(digit);
    if attachments > 0 {
        s.push_str(&format!("{attachments}-"));
    }
    if !namespace.is_empty() && namespace != "/" {
        s.push_str(namespace);
        s.push(',');
    }
    if let Some(id) = ack_id {
        s.push_str(&id.to_string());
    }
    if let Some(j) = json {
        s.push_str(j);
    }
    s
}

/// An Engine.IO v4 polling payload: packets joined by the record separator 0x1E, binary
/// packets as `b` + base64.
pub fn engineio_polling_payload(texts: &[String], binaries: &[Vec<u8>]) -> Vec<u8> {
    use base64::Engine as _;
    let mut parts: Vec<String> = texts.to_vec();
    for b in binaries {
        parts.push(format!(
            "b{}",
            base64::engine::general_purpose::STANDARD.encode(b)
        ));
    }
    parts.join("\u{1e}").into_bytes()
}

/// DNS record types the scenarios use.
pub fn dns_qtype(name: &str) -> Option<u16> {
    Some(match name.to_ascii_uppercase().as_str() {
        "A" => 1,
        "NS" => 2,
        "CNAME" => 5,
        "TXT" => 16,
        "AAAA" => 28,
        _ => return None,
    })
}

fn dns_name(out: &mut Vec<u8>, name: &str) -> Result<(), String> {
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!("`{name}` is not a valid domain name"));
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    Ok(())
}

/// A recursive DNS query for one name.
pub fn dns_query(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&0x0100u16.to_be_bytes()); // RD: recursion desired
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // 1 question
    dns_name(&mut out, name)?;
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // class IN
    Ok(out)
}

/// The answer to `dns_query(id, name, qtype)`: the question repeated, then one record
/// per entry of `rdata` (its name a pointer to the question's name).
pub fn dns_answer(
    id: u16,
    name: &str,
    qtype: u16,
    ttl: u32,
    rdata: &[Vec<u8>],
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    out.extend_from_slice(&id.to_be_bytes());
    // QR (response), RD, RA; NXDOMAIN when there is nothing to answer.
    let flags: u16 = if rdata.is_empty() { 0x8183 } else { 0x8180 };
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    dns_name(&mut out, name)?;
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    for r in rdata {
        out.extend_from_slice(&0xC00Cu16.to_be_bytes()); // pointer to the name at offset 12
        out.extend_from_slice(&qtype.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        out.extend_from_slice(&ttl.to_be_bytes());
        out.extend_from_slice(&(r.len() as u16).to_be_bytes());
        out.extend_from_slice(r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_masked_hello() {
        // RFC 6455 section 5.7: a single-frame masked text message "Hello".
        assert_eq!(
            ws_frame(true, opcode::TEXT, b"Hello", Some([0x37, 0xfa, 0x21, 0x3d])),
            [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        );
        assert_eq!(
            ws_frame(true, opcode::TEXT, b"Hello", None),
            [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
        );
        // 256 bytes binary: 16-bit extended length.
        assert_eq!(
            &ws_frame(true, opcode::BINARY, &[0; 256], None)[..4],
            [0x82, 0x7E, 0x01, 0x00]
        );
    }

    #[test]
    fn socketio_packets() {
        assert_eq!(
            socketio_text('2', 0, "/", None, Some(r#"["chat message","hi"]"#)),
            r#"2["chat message","hi"]"#
        );
        assert_eq!(
            socketio_text('2', 0, "/admin", Some(12), Some(r#"["x"]"#)),
            r#"2/admin,12["x"]"#
        );
        assert_eq!(socketio_text('5', 1, "/", None, Some("[]")), "51-[]");
    }

    #[test]
    fn dns_round_trip_shape() {
        let q = dns_query(0x1234, "example.com", 1).unwrap();
        assert_eq!(q.len(), 12 + 13 + 4);
        let a = dns_answer(0x1234, "example.com", 1, 300, &[vec![93, 184, 215, 14]]).unwrap();
        assert_eq!(a.len(), q.len() + 16);
        assert_eq!(&a[..2], &[0x12, 0x34]);
    }
}
