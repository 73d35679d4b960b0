//! The QUIC transport on real loopback sockets: a hybrid-group client connects and both sides
//! see the same TLS exporter; a classical-only TLS client is refused during the handshake.

use std::net::SocketAddr;
use std::sync::Arc;

use liaison_node::transport::{self, TlsIdentity, TransportLimits};
use quinn::crypto::rustls::QuicClientConfig;

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[tokio::test]
async fn hybrid_client_connects_and_exporters_match() {
    let limits = TransportLimits::default();
    let server =
        transport::server_endpoint(loopback(), &TlsIdentity::generate().unwrap(), &limits).unwrap();
    let addr = server.local_addr().unwrap();
    let accept = tokio::spawn(async move {
        let conn = server.accept().await.unwrap().await.unwrap();
        let exporter = transport::exporter(&conn).unwrap();
        let alpn = conn
            .handshake_data()
            .and_then(|d| d.downcast::<quinn::crypto::rustls::HandshakeData>().ok())
            .and_then(|d| d.protocol);
        (exporter, alpn)
    });
    let client = transport::client_endpoint(loopback(), &limits).unwrap();
    let conn = client.connect(addr, "liaison-node").unwrap().await.unwrap();
    let (server_exporter, alpn) = accept.await.unwrap();
    assert_eq!(transport::exporter(&conn).unwrap(), server_exporter);
    assert_eq!(alpn.as_deref(), Some(transport::ALPN));
}

#[tokio::test]
async fn classical_only_tls_client_is_refused() {
    let limits = TransportLimits::default();
    let server =
        transport::server_endpoint(loopback(), &TlsIdentity::generate().unwrap(), &limits).unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(async move {
        while let Some(incoming) = server.accept().await {
            let _ = incoming.await; // the handshake fails on the server side too
        }
    });

    // A client that offers only X25519 (what any pre-2024 TLS stack sends).
    let provider = rustls::crypto::CryptoProvider {
        kx_groups: vec![rustls::crypto::aws_lc_rs::kx_group::X25519],
        ..rustls::crypto::aws_lc_rs::default_provider()
    };
    let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCert))
        .with_no_client_auth();
    tls.alpn_protocols = vec![transport::ALPN.to_vec()];
    let config = quinn::ClientConfig::new(Arc::new(QuicClientConfig::try_from(tls).unwrap()));
    let mut client = quinn::Endpoint::client(loopback()).unwrap();
    client.set_default_client_config(config);
    let result = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        client.connect(addr, "liaison-node").unwrap(),
    )
    .await
    .expect("refusal is prompt, not a timeout");
    let err = result.expect_err("classical-only client must be refused");
    println!("classical-only client refused: {err}");
}

#[derive(Debug)]
struct AnyCert;

impl rustls::client::danger::ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &rustls_pki_types::CertificateDer<'_>,
        _: &[rustls_pki_types::CertificateDer<'_>],
        _: &rustls_pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &rustls_pki_types::CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &rustls_pki_types::CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        rustls::crypto::aws_lc_rs::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}
