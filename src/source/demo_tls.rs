//! TLS for the scripted demos (`demo websocket --tls`, `demo socketio --tls`): rustls on
//! both sides of the loopback connection, a self-signed certificate for `localhost` made
//! at run time with rcgen, and both peers' secrets collected in memory into the same
//! [`KeyLog`] that `--keylog` fills, so the captured session opens as it is captured.
//!
//! Why both peers log: a secret must be in the log before the first record it protects
//! is seen. The server derives the TLS 1.3 handshake and traffic secrets before it sends
//! its ServerHello flight; the client derives the TLS 1.2 master secret before it sends
//! its ClientKeyExchange flight. The client alone would log the server's handshake secret
//! only once that flight had arrived — after the capture saw it.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};
use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::analysis::protocols::tls::{suite_name, version_name, SharedKeyLog};

use super::demo::{BoxError, Stream};

/// The name the certificate is for, the client asks for (SNI) and puts in its URLs.
pub const HOST: &str = "localhost";

/// rustls' key log callback, into the shared key log.
#[derive(Debug)]
struct Collect(SharedKeyLog);

impl rustls::KeyLog for Collect {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        if let Ok(mut k) = self.0.lock() {
            k.add_secret(label, client_random, secret);
        }
    }
}

/// Both ends of the demo's TLS.
#[derive(Clone)]
pub struct DemoTls {
    connector: TlsConnector,
    acceptor: TlsAcceptor,
}

impl DemoTls {
    /// TLS 1.3, or only TLS 1.2 when `tls12`; the secrets go into `keys`.
    pub fn new(tls12: bool, keys: SharedKeyLog) -> Result<DemoTls, String> {
        let fail = |e: &dyn std::fmt::Display| format!("cannot set up the demo's TLS: {e}");
        // Self-signed for localhost: subject and issuer are the same name, which a learner
        // sees in TLS 1.2's Certificate message (TLS 1.3 encrypts it).
        let mut params =
            rcgen::CertificateParams::new(vec![HOST.to_string()]).map_err(|e| fail(&e))?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, HOST);
        params.distinguished_name.push(
            rcgen::DnType::OrganizationName,
            "wirewalk demo, self-signed",
        );
        let pair = rcgen::KeyPair::generate().map_err(|e| fail(&e))?;
        let made = params.self_signed(&pair).map_err(|e| fail(&e))?;
        let cert: CertificateDer<'static> = made.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pair.serialize_der()));
        let versions: &[&'static SupportedProtocolVersion] = if tls12 {
            &[&rustls::version::TLS12]
        } else {
            &[&rustls::version::TLS13]
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let log: Arc<dyn rustls::KeyLog> = Arc::new(Collect(keys));
        // What a browser offers for wss://: HTTP/1.1, the protocol the Upgrade needs.
        let alpn = vec![b"http/1.1".to_vec()];

        let mut server = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions)
            .map_err(|e| fail(&e))?
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key)
            .map_err(|e| fail(&e))?;
        server.key_log = log.clone();
        server.alpn_protocols = alpn.clone();

        // The client trusts exactly this certificate, as if it were its CA.
        let mut roots = RootCertStore::empty();
        roots.add(cert).map_err(|e| fail(&e))?;
        let mut client = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .map_err(|e| fail(&e))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        client.key_log = log;
        client.alpn_protocols = alpn;

        Ok(DemoTls {
            connector: TlsConnector::from(Arc::new(client)),
            acceptor: TlsAcceptor::from(Arc::new(server)),
        })
    }

    /// The client's TLS handshake on `tcp`; says what was agreed.
    pub(super) async fn connect(&self, tcp: TcpStream) -> Result<(Stream, String), BoxError> {
        let name = ServerName::try_from(HOST)?;
        let tls = self.connector.connect(name, tcp).await?;
        let (_, c) = tls.get_ref();
        // Named as wirewalk names them on the packets (IANA's names).
        let version = c
            .protocol_version()
            .map(|v| version_name(u16::from(v)))
            .unwrap_or_else(|| "TLS".into());
        let suite = c
            .negotiated_cipher_suite()
            .map(|s| suite_name(u16::from(s.suite())))
            .unwrap_or_else(|| "an unnamed suite".into());
        Ok((Box::new(tls), format!("{version} with {suite}")))
    }

    /// The server's TLS handshake on an accepted `tcp`.
    pub(super) async fn accept(&self, tcp: TcpStream) -> Result<Stream, BoxError> {
        Ok(Box::new(self.acceptor.accept(tcp).await?))
    }
}
