//! The NSS key log format that browsers, curl, Python's `ssl`, Node and rustls write when
//! asked (`SSLKEYLOGFILE`): one secret a line, `LABEL <client random hex> <secret hex>`,
//! found again by the ClientHello's random. Also the body of a pcapng Decryption Secrets
//! Block of type TLS, which is the same text.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The secrets logged for one connection (one client random).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Secrets {
    /// TLS 1.2: `CLIENT_RANDOM`, the 48-byte master secret.
    pub master: Option<Vec<u8>>,
    /// TLS 1.3: `CLIENT_HANDSHAKE_TRAFFIC_SECRET`, `SERVER_HANDSHAKE_TRAFFIC_SECRET`.
    pub client_handshake: Option<Vec<u8>>,
    pub server_handshake: Option<Vec<u8>>,
    /// TLS 1.3: `CLIENT_TRAFFIC_SECRET_0`, `SERVER_TRAFFIC_SECRET_0`.
    pub client_traffic: Option<Vec<u8>>,
    pub server_traffic: Option<Vec<u8>>,
}

/// Every secret read so far, by client random.
#[derive(Clone, Debug, Default)]
pub struct KeyLog {
    by_random: HashMap<[u8; 32], Secrets>,
    /// Lines that were not a key log line (not counting comments and blank lines).
    pub bad_lines: usize,
    /// The lines that brought a secret, in order, each once: what a capture written with
    /// these keys embeds (a pcapng Decryption Secrets Block).
    lines: Vec<String>,
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl KeyLog {
    /// Adds the lines of a key log (a file, or a Decryption Secrets Block's text).
    pub fn add_text(&mut self, text: &str) {
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_ascii_whitespace();
            let (Some(label), Some(random), Some(secret), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                self.bad_lines += 1;
                continue;
            };
            let (Some(random), Some(secret)) = (unhex(random), unhex(secret)) else {
                self.bad_lines += 1;
                continue;
            };
            let Ok(random) = <[u8; 32]>::try_from(random.as_slice()) else {
                self.bad_lines += 1;
                continue;
            };
            let e = self.by_random.entry(random).or_default();
            let slot = match label {
                "CLIENT_RANDOM" => &mut e.master,
                "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => &mut e.client_handshake,
                "SERVER_HANDSHAKE_TRAFFIC_SECRET" => &mut e.server_handshake,
                "CLIENT_TRAFFIC_SECRET_0" => &mut e.client_traffic,
                "SERVER_TRAFFIC_SECRET_0" => &mut e.server_traffic,
                // EXPORTER_SECRET, CLIENT_EARLY_TRAFFIC_SECRET, …: not needed here.
                _ => continue,
            };
            if slot.as_ref() != Some(&secret) {
                *slot = Some(secret);
                self.lines.push(line.to_string());
            }
        }
    }

    /// Adds one secret as a TLS library reports it (rustls' `KeyLog`, for instance).
    pub fn add_secret(&mut self, label: &str, client_random: &[u8], secret: &[u8]) {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        self.add_text(&format!("{label} {} {}", hex(client_random), hex(secret)));
    }

    /// The lines that brought a secret (see `lines`), in the order they came.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// The secrets logged for a connection whose ClientHello had this random.
    pub fn get(&self, client_random: &[u8]) -> Option<&Secrets> {
        <[u8; 32]>::try_from(client_random)
            .ok()
            .and_then(|r| self.by_random.get(&r))
    }

    /// How many connections have secrets.
    pub fn len(&self) -> usize {
        self.by_random.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_random.is_empty()
    }
}

/// The key log shared by every connection of one analysis: it grows as a capture's
/// Decryption Secrets Blocks are read.
pub type SharedKeyLog = Arc<Mutex<KeyLog>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_nss_labels() {
        let r = "aa".repeat(32);
        let mut k = KeyLog::default();
        k.add_text(&format!(
            "# comment\n\nCLIENT_RANDOM {r} {m}\nSERVER_HANDSHAKE_TRAFFIC_SECRET {r} 0102\nCLIENT_TRAFFIC_SECRET_0 {r} 0304\nEXPORTER_SECRET {r} 05\nnonsense\nCLIENT_RANDOM zz 00\n",
            m = "11".repeat(48)
        ));
        let s = k.get(&[0xaa; 32]).unwrap();
        assert_eq!(s.master.as_deref(), Some(&[0x11; 48][..]));
        assert_eq!(s.server_handshake.as_deref(), Some(&[1, 2][..]));
        assert_eq!(s.client_traffic.as_deref(), Some(&[3, 4][..]));
        assert_eq!(s.client_handshake, None);
        assert_eq!(k.bad_lines, 2);
        assert!(k.get(&[0xbb; 32]).is_none());
        // Only the lines that brought a secret are kept, each once.
        assert_eq!(k.lines().len(), 3);
        k.add_secret("CLIENT_TRAFFIC_SECRET_0", &[0xaa; 32], &[3, 4]);
        assert_eq!(k.lines().len(), 3);
        k.add_secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET", &[0xaa; 32], &[9]);
        assert_eq!(
            k.lines()[3],
            format!("CLIENT_HANDSHAKE_TRAFFIC_SECRET {r} 09")
        );
    }
}
