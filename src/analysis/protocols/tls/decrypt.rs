//! Opening TLS records with logged secrets: the TLS 1.3 key schedule's HKDF-Expand-Label
//! (RFC 8446 section 7), the TLS 1.2 PRF key expansion (RFC 5246 section 6.3, RFC 5288,
//! RFC 7905), and the AEAD ciphers themselves from RustCrypto (`aes-gcm`,
//! `chacha20poly1305`). Nothing here implements a cipher.

use aes_gcm::aead::{Aead as _, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use chacha20poly1305::ChaCha20Poly1305;
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha384};
use tls_parser::{TlsCipherEnc, TlsCipherEncMode, TlsCipherSuiteID, TlsPRF};

/// The AEAD a cipher suite uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cipher {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
}

/// The hash of the key schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
}

impl Hash {
    pub fn len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
        }
    }
}

/// What decryption needs to know of a cipher suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suite {
    pub cipher: Cipher,
    pub hash: Hash,
}

impl Suite {
    /// The suite's AEAD and hash from tls-parser's IANA table; `None` for what this tool
    /// cannot open (CBC, CCM, RC4, …).
    pub fn of(id: u16) -> Option<Suite> {
        let cs = TlsCipherSuiteID(id).get_ciphersuite()?;
        let hash = match cs.prf {
            TlsPRF::Sha384 => Hash::Sha384,
            TlsPRF::Sha256 | TlsPRF::Default => Hash::Sha256,
            _ => return None,
        };
        let cipher = match (cs.enc, cs.enc_mode, cs.enc_size) {
            (TlsCipherEnc::Aes, TlsCipherEncMode::Gcm, 128) => Cipher::Aes128Gcm,
            (TlsCipherEnc::Aes, TlsCipherEncMode::Gcm, 256) => Cipher::Aes256Gcm,
            (TlsCipherEnc::Chacha20_Poly1305, _, _) => Cipher::ChaCha20Poly1305,
            _ => return None,
        };
        Some(Suite { cipher, hash })
    }

    fn key_len(self) -> usize {
        match self.cipher {
            Cipher::Aes128Gcm => 16,
            Cipher::Aes256Gcm | Cipher::ChaCha20Poly1305 => 32,
        }
    }
}

fn hmac_sha(hash: Hash, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    macro_rules! run {
        ($h:ty) => {{
            let mut m = <Hmac<$h> as Mac>::new_from_slice(key).expect("HMAC takes any key");
            for p in parts {
                m.update(p);
            }
            m.finalize().into_bytes().to_vec()
        }};
    }
    match hash {
        Hash::Sha256 => run!(Sha256),
        Hash::Sha384 => run!(Sha384),
    }
}

/// HKDF-Expand-Label(secret, label, "", len) of RFC 8446 section 7.1.
pub fn hkdf_expand_label(hash: Hash, secret: &[u8], label: &str, len: usize) -> Option<Vec<u8>> {
    let full = format!("tls13 {label}");
    let mut info = Vec::with_capacity(4 + full.len());
    info.extend_from_slice(&(len as u16).to_be_bytes());
    info.push(full.len() as u8);
    info.extend_from_slice(full.as_bytes());
    info.push(0);
    let mut out = vec![0u8; len];
    match hash {
        Hash::Sha256 => hkdf::Hkdf::<Sha256>::from_prk(secret)
            .ok()?
            .expand(&info, &mut out)
            .ok()?,
        Hash::Sha384 => hkdf::Hkdf::<Sha384>::from_prk(secret)
            .ok()?
            .expand(&info, &mut out)
            .ok()?,
    }
    Some(out)
}

/// The TLS 1.2 PRF (P_hash of RFC 5246 section 5) over HMAC.
pub fn prf12(hash: Hash, secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + hash.len());
    let mut a = hmac_sha(hash, secret, &[label, seed]);
    while out.len() < len {
        out.extend(hmac_sha(hash, secret, &[&a, label, seed]));
        a = hmac_sha(hash, secret, &[&a]);
    }
    out.truncate(len);
    out
}

/// One direction's record protection.
#[derive(Clone)]
pub struct RecordKeys {
    suite: Suite,
    key: Vec<u8>,
    iv: Vec<u8>,
    /// The next record's sequence number.
    pub seq: u64,
    tls13: bool,
    /// TLS 1.3: the traffic secret these keys come from (for a KeyUpdate).
    secret: Vec<u8>,
}

impl std::fmt::Debug for RecordKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No key material in debug output.
        f.debug_struct("RecordKeys")
            .field("suite", &self.suite)
            .field("seq", &self.seq)
            .finish()
    }
}

impl RecordKeys {
    /// TLS 1.3 keys from a traffic secret.
    pub fn tls13(suite: Suite, secret: &[u8]) -> Option<RecordKeys> {
        Some(RecordKeys {
            suite,
            key: hkdf_expand_label(suite.hash, secret, "key", suite.key_len())?,
            iv: hkdf_expand_label(suite.hash, secret, "iv", 12)?,
            seq: 0,
            tls13: true,
            secret: secret.to_vec(),
        })
    }

    /// TLS 1.3 KeyUpdate: the next generation of this direction's traffic secret.
    pub fn update(&self) -> Option<RecordKeys> {
        let next = hkdf_expand_label(
            self.suite.hash,
            &self.secret,
            "traffic upd",
            self.suite.hash.len(),
        )?;
        RecordKeys::tls13(self.suite, &next)
    }

    /// TLS 1.2 keys of both directions (client's, server's) from the master secret.
    pub fn tls12(
        suite: Suite,
        master: &[u8],
        client_random: &[u8],
        server_random: &[u8],
    ) -> (RecordKeys, RecordKeys) {
        let k = suite.key_len();
        let iv = match suite.cipher {
            Cipher::ChaCha20Poly1305 => 12,
            _ => 4,
        };
        let seed = [server_random, client_random].concat();
        let block = prf12(suite.hash, master, b"key expansion", &seed, 2 * k + 2 * iv);
        let make = |key: &[u8], iv: &[u8]| RecordKeys {
            suite,
            key: key.to_vec(),
            iv: iv.to_vec(),
            seq: 0,
            tls13: false,
            secret: Vec::new(),
        };
        (
            make(&block[..k], &block[2 * k..2 * k + iv]),
            make(&block[k..2 * k], &block[2 * k + iv..]),
        )
    }

    /// Opens one record (`header` is its 5 bytes, `body` the rest). On success the
    /// plaintext (for TLS 1.3 still with its inner content type and padding); on failure
    /// nothing: the record did not authenticate. The sequence number moves on either way.
    pub fn open(&mut self, header: &[u8], body: &[u8]) -> Result<Vec<u8>, ()> {
        let seq = self.seq;
        self.seq += 1;
        let xor_nonce = |iv: &[u8]| {
            let mut n = [0u8; 12];
            n.copy_from_slice(&iv[..12]);
            for (i, b) in seq.to_be_bytes().iter().enumerate() {
                n[4 + i] ^= b;
            }
            n
        };
        let (nonce, ct, aad): ([u8; 12], &[u8], Vec<u8>) = if self.tls13 {
            (xor_nonce(&self.iv), body, header.to_vec())
        } else {
            let explicit = !matches!(self.suite.cipher, Cipher::ChaCha20Poly1305);
            let (nonce, ct) = if explicit {
                if body.len() < 8 {
                    return Err(());
                }
                let mut n = [0u8; 12];
                n[..4].copy_from_slice(&self.iv);
                n[4..].copy_from_slice(&body[..8]);
                (n, &body[8..])
            } else {
                (xor_nonce(&self.iv), body)
            };
            let plain_len = ct.len().checked_sub(16).ok_or(())? as u16;
            let mut aad = seq.to_be_bytes().to_vec();
            aad.extend_from_slice(&header[..3]);
            aad.extend_from_slice(&plain_len.to_be_bytes());
            (nonce, ct, aad)
        };
        let payload = Payload { msg: ct, aad: &aad };
        let r = match self.suite.cipher {
            Cipher::Aes128Gcm => Aes128Gcm::new_from_slice(&self.key)
                .map_err(|_| ())?
                .decrypt((&nonce).into(), payload),
            Cipher::Aes256Gcm => Aes256Gcm::new_from_slice(&self.key)
                .map_err(|_| ())?
                .decrypt((&nonce).into(), payload),
            Cipher::ChaCha20Poly1305 => ChaCha20Poly1305::new_from_slice(&self.key)
                .map_err(|_| ())?
                .decrypt((&nonce).into(), payload),
        };
        r.map_err(|_| ())
    }

    /// How many bytes of a record's body precede the ciphertext (TLS 1.2 GCM's explicit
    /// nonce).
    pub fn prefix_len(&self) -> usize {
        if !self.tls13 && !matches!(self.suite.cipher, Cipher::ChaCha20Poly1305) {
            8
        } else {
            0
        }
    }
}

/// TLS 1.3 plaintext: content, then the real content type, then zero padding.
pub fn strip_inner(mut plain: Vec<u8>) -> Option<(u8, Vec<u8>)> {
    while plain.last() == Some(&0) {
        plain.pop();
    }
    let t = plain.pop()?;
    Some((t, plain))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 8448 section 3 ("Simple 1-RTT Handshake"): the server's handshake traffic
    /// secret, and the key and iv derived from it.
    #[test]
    fn rfc8448_server_handshake_keys() {
        let secret = hex("b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38");
        let key = hkdf_expand_label(Hash::Sha256, &secret, "key", 16).unwrap();
        let iv = hkdf_expand_label(Hash::Sha256, &secret, "iv", 12).unwrap();
        assert_eq!(key, hex("3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc"));
        assert_eq!(iv, hex("5d 31 3e b2 67 12 76 ee 13 00 0b 30"));
    }

    /// A record sealed by the aes-gcm crate with RFC 8448's server handshake key and iv
    /// (sequence 0, the record header as associated data) opens, inner type and padding
    /// come off; one changed byte fails to authenticate.
    #[test]
    fn tls13_record_opens_and_tampering_fails() {
        let secret = hex("b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38");
        let suite = Suite::of(0x1301).unwrap();
        // RFC 8448's EncryptedExtensions, inner type handshake (22), two bytes of padding.
        let inner = hex("08 00 00 24 00 22 00 0a 00 14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 1c 00 02 40 01 00 00 00 00 16 00 00");
        let header = [0x17, 0x03, 0x03, 0x00, (inner.len() + 16) as u8];
        let cipher =
            Aes128Gcm::new_from_slice(&hex("3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc"))
                .unwrap();
        let nonce = hex("5d 31 3e b2 67 12 76 ee 13 00 0b 30");
        let sealed = cipher
            .encrypt(
                nonce.as_slice().into(),
                Payload {
                    msg: &inner,
                    aad: &header,
                },
            )
            .unwrap();
        let mut k = RecordKeys::tls13(suite, &secret).unwrap();
        let (t, plain) = strip_inner(k.open(&header, &sealed).expect("authenticates")).unwrap();
        assert_eq!((t, &plain[..4]), (22, &[0x08, 0x00, 0x00, 0x24][..]));
        assert_eq!(plain.len(), 40);
        assert_eq!(k.seq, 1);
        let mut k = RecordKeys::tls13(suite, &secret).unwrap();
        let mut bad = sealed.clone();
        bad[7] ^= 1;
        assert!(k.open(&header, &bad).is_err());
    }

    #[test]
    fn suites_from_the_iana_table() {
        assert_eq!(
            Suite::of(0x1302),
            Some(Suite {
                cipher: Cipher::Aes256Gcm,
                hash: Hash::Sha384
            })
        );
        assert_eq!(
            Suite::of(0xcca8).map(|s| s.cipher),
            Some(Cipher::ChaCha20Poly1305)
        );
        assert_eq!(Suite::of(0xc02f).map(|s| s.cipher), Some(Cipher::Aes128Gcm));
        // AES-CBC with SHA-1: not opened.
        assert_eq!(Suite::of(0xc013), None);
    }

    /// RFC 5246's PRF with SHA-256: the test vector published by the IETF TLS WG
    /// (secret 9bbe436ba940f017b17652849a71db35, seed a0ba9f936cda311827a6f796ffd5198c,
    /// label "test label", 100 bytes), first 16 bytes.
    #[test]
    fn prf_sha256_vector() {
        let out = prf12(
            Hash::Sha256,
            &hex("9bbe436ba940f017b17652849a71db35"),
            b"test label",
            &hex("a0ba9f936cda311827a6f796ffd5198c"),
            100,
        );
        assert_eq!(&out[..16], &hex("e3f229ba727be17b8d122620557cd453")[..]);
        assert_eq!(out.len(), 100);
    }
}
