//! The transport: QUIC (quinn) over UDP with TLS 1.3 restricted to the hybrid key-exchange
//! group `X25519MLKEM768` and ALPN `liaison/1` (DESIGN.md, layer 1).
//!
//! A client that offers only classical groups finds no common group and is refused during the
//! TLS handshake, before any Liaison byte is read. The TLS certificate proves nothing by itself:
//! each node presents a fresh self-signed certificate, and the client checks only that the
//! server holds its key (the TLS 1.3 `CertificateVerify` signature). Identity is proven one
//! layer up by the link handshake, which signs the connection's TLS exporter
//! ([`exporter`]) — a machine-in-the-middle terminating TLS on both sides would present two
//! different exporters and fail that signature.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use liaison_crypto::labels;
use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms, aws_lc_rs};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};

/// ALPN protocol id of the Liaison link.
pub const ALPN: &[u8] = b"liaison/1";
/// Bytes of exporter output the link handshake binds to.
pub const EXPORTER_LEN: usize = 32;
/// Receive and send buffer size asked for on the endpoint's UDP socket. A 64 MiB envelope is
/// some 50,000 datagrams, and the OS default (about 200 KiB on Linux) drops bursts that QUIC
/// must then retransmit. The OS may grant less: Linux caps it at `net.core.rmem_max` and
/// `net.core.wmem_max`, so raise those too (`sysctl -w net.core.rmem_max=8388608`).
pub const UDP_BUFFER_BYTES: usize = 8 * 1024 * 1024;

/// Bytes a peer may send on one stream ahead of what the receiver has read: 8 MiB, eight
/// envelope parts (quinn's default, 1.25 MB, let the sender run barely one part ahead).
pub const STREAM_RECEIVE_WINDOW: u32 = 8 * 1024 * 1024;
/// Bytes a peer may send on all streams of a connection ahead of what was read: 16 MiB.
pub const CONNECTION_RECEIVE_WINDOW: u32 = 16 * 1024 * 1024;

/// Errors setting up or using the transport.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// TLS configuration could not be built.
    #[error("TLS configuration: {0}")]
    Tls(String),
    /// The UDP socket could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// Address requested.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TLS exporter could not be read from the connection.
    #[error("TLS exporter unavailable")]
    Exporter,
}

/// Limits applied to every connection.
#[derive(Debug, Clone)]
pub struct TransportLimits {
    /// Concurrent bidirectional streams a peer may open.
    pub max_bidi_streams: u32,
    /// Concurrent unidirectional streams a peer may open.
    pub max_uni_streams: u32,
    /// A connection silent this long is closed.
    pub idle_timeout: Duration,
    /// Keep-alive interval (must be below the idle timeout).
    pub keep_alive: Duration,
}

impl Default for TransportLimits {
    fn default() -> Self {
        Self {
            max_bidi_streams: 16,
            max_uni_streams: 0,
            idle_timeout: Duration::from_secs(60),
            keep_alive: Duration::from_secs(15),
        }
    }
}

/// The only crypto provider Liaison uses for TLS: aws-lc-rs with the hybrid group alone.
pub fn crypto_provider() -> CryptoProvider {
    CryptoProvider {
        kx_groups: vec![aws_lc_rs::kx_group::X25519MLKEM768],
        ..aws_lc_rs::default_provider()
    }
}

/// A node's TLS certificate and key: self-signed, generated at start, carrying no identity.
#[derive(Debug)]
pub struct TlsIdentity {
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl TlsIdentity {
    /// Generates a fresh self-signed certificate (ECDSA P-256; TLS authentication only).
    pub fn generate() -> Result<Self, TransportError> {
        let certified = rcgen::generate_simple_self_signed(vec!["liaison-node".to_owned()])
            .map_err(|e| TransportError::Tls(e.to_string()))?;
        Ok(Self {
            cert: certified.cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()),
        })
    }
}

fn transport_config(
    limits: &TransportLimits,
) -> Result<Arc<quinn::TransportConfig>, TransportError> {
    let mut t = quinn::TransportConfig::default();
    t.max_concurrent_bidi_streams(limits.max_bidi_streams.into());
    t.max_concurrent_uni_streams(limits.max_uni_streams.into());
    t.max_idle_timeout(Some(
        limits
            .idle_timeout
            .try_into()
            .map_err(|_| TransportError::Tls("idle timeout out of range".into()))?,
    ));
    t.keep_alive_interval(Some(limits.keep_alive));
    // Flow-control credit, not buffers (nothing is allocated until bytes arrive): room for
    // several 1 MiB envelope parts in flight while the receiver opens and hashes the previous
    // one, and a connection-wide cap so that unread streams cannot pile up more than that.
    t.stream_receive_window(STREAM_RECEIVE_WINDOW.into());
    t.receive_window(CONNECTION_RECEIVE_WINDOW.into());
    t.send_window(u64::from(CONNECTION_RECEIVE_WINDOW));
    Ok(Arc::new(t))
}

/// QUIC server configuration: TLS 1.3 only, hybrid group only, ALPN `liaison/1`.
pub fn server_config(
    identity: &TlsIdentity,
    limits: &TransportLimits,
) -> Result<quinn::ServerConfig, TransportError> {
    let mut tls = rustls::ServerConfig::builder_with_provider(Arc::new(crypto_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| TransportError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(
            vec![identity.cert.clone()],
            PrivateKeyDer::Pkcs8(identity.key.clone_key()),
        )
        .map_err(|e| TransportError::Tls(e.to_string()))?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    tls.max_early_data_size = 0; // no 0-RTT: replayable data has no place in a custody protocol
    let crypto = QuicServerConfig::try_from(tls).map_err(|e| TransportError::Tls(e.to_string()))?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    config.transport_config(transport_config(limits)?);
    Ok(config)
}

/// QUIC client configuration matching [`server_config`].
pub fn client_config(limits: &TransportLimits) -> Result<quinn::ClientConfig, TransportError> {
    let provider = Arc::new(crypto_provider());
    let verifier = Arc::new(PossessionOnly(provider.signature_verification_algorithms));
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| TransportError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let crypto = QuicClientConfig::try_from(tls).map_err(|e| TransportError::Tls(e.to_string()))?;
    let mut config = quinn::ClientConfig::new(Arc::new(crypto));
    config.transport_config(transport_config(limits)?);
    Ok(config)
}

/// Binds a UDP socket on `addr` with buffers as large as the OS allows up to
/// [`UDP_BUFFER_BYTES`]; returns it with the receive and send buffer sizes granted.
pub fn bind_udp(addr: SocketAddr) -> std::io::Result<(std::net::UdpSocket, usize, usize)> {
    use socket2::{Domain, Protocol, Socket, Type};

    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    // Best effort: an unprivileged process gets at most the system's maximum, and a smaller
    // buffer only costs retransmissions.
    let _ = socket.set_recv_buffer_size(UDP_BUFFER_BYTES);
    let _ = socket.set_send_buffer_size(UDP_BUFFER_BYTES);
    socket.bind(&addr.into())?;
    let granted = (
        socket.recv_buffer_size().unwrap_or(0),
        socket.send_buffer_size().unwrap_or(0),
    );
    Ok((socket.into(), granted.0, granted.1))
}

fn endpoint_on(
    addr: SocketAddr,
    server: Option<quinn::ServerConfig>,
) -> Result<quinn::Endpoint, TransportError> {
    let bind = |source| TransportError::Bind { addr, source };
    let (socket, recv, send) = bind_udp(addr).map_err(bind)?;
    if server.is_some() {
        tracing::info!(
            recv,
            send,
            wanted = UDP_BUFFER_BYTES,
            "UDP socket buffers (the OS caps them at net.core.rmem_max / wmem_max)"
        );
    }
    quinn::Endpoint::new(
        quinn::EndpointConfig::default(),
        server,
        socket,
        Arc::new(quinn::TokioRuntime),
    )
    .map_err(bind)
}

/// A server endpoint bound to `addr` (port 0 picks a free port: see `local_addr()`).
pub fn server_endpoint(
    addr: SocketAddr,
    identity: &TlsIdentity,
    limits: &TransportLimits,
) -> Result<quinn::Endpoint, TransportError> {
    let mut endpoint = endpoint_on(addr, Some(server_config(identity, limits)?))?;
    endpoint.set_default_client_config(client_config(limits)?);
    Ok(endpoint)
}

/// A client-only endpoint on an ephemeral port.
pub fn client_endpoint(
    bind: SocketAddr,
    limits: &TransportLimits,
) -> Result<quinn::Endpoint, TransportError> {
    let mut endpoint = endpoint_on(bind, None)?;
    endpoint.set_default_client_config(client_config(limits)?);
    Ok(endpoint)
}

/// The 32-byte TLS exporter value the link handshake signs (`EXPORTER-liaison-link-v1`).
pub fn exporter(connection: &quinn::Connection) -> Result<[u8; EXPORTER_LEN], TransportError> {
    let mut out = [0u8; EXPORTER_LEN];
    connection
        .export_keying_material(&mut out, labels::LINK_TLS_EXPORTER, b"")
        .map_err(|_| TransportError::Exporter)?;
    Ok(out)
}

/// Accepts any server certificate but still checks the handshake signature, so the server
/// must hold the certificate's key. Identity is established by the link handshake.
#[derive(Debug)]
struct PossessionOnly(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for PossessionOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        // TLS 1.2 is not enabled in any configuration we build.
        Err(rustls::Error::PeerIncompatible(
            rustls::PeerIncompatible::Tls12NotOffered,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_socket_asks_for_larger_buffers_than_the_os_default() {
        use socket2::{Domain, Protocol, Socket, Type};

        let (socket, recv, send) = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
        assert_ne!(socket.local_addr().unwrap().port(), 0);
        let plain = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
        let (default_recv, default_send) = (
            plain.recv_buffer_size().unwrap(),
            plain.send_buffer_size().unwrap(),
        );
        // Never less than the default; more wherever the system maximum allows it.
        assert!(recv >= default_recv, "{recv} < {default_recv}");
        assert!(send >= default_send, "{send} < {default_send}");
        eprintln!(
            "UDP buffers: recv {recv} (default {default_recv}), send {send} (default {default_send})"
        );
    }
}
