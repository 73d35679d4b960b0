//! ETSI GS QKD 014 KME simulator: one process playing both KMEs of a link, over HTTPS with
//! mutual TLS, for tests, demos and integrators' failure-path testing.
//!
//! This file owns the sockets: it accepts TCP connections, runs the TLS handshake, reads the
//! caller's SAE id from its client certificate (common name) and hands each connection to
//! hyper with the router from `handlers.rs`. The key logic lives, without any I/O, in [`pool`].
//! Shutdown is explicit: [`SimServer::shutdown`] cancels the accept loop and every connection.
//!
//! A simulated outage makes the KME look down: new connections are closed right after the TCP
//! accept (callers see "unreachable"), and requests on already-open connections get HTTP 503.

mod handlers;
pub mod pool;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;
use tracing::{Instrument as _, debug, info, warn};

use self::handlers::{Caller, Outage, SimState, router};
pub use self::pool::{KeyPool, Refusal, SimConfig};
use crate::error::{Error, Result};
use crate::key::SaeId;
use crate::tls::{TlsFiles, common_name, server_config};

/// How long a client gets to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// When the simulator should pretend to be down.
#[derive(Debug, Clone, Default)]
pub struct OutageConfig {
    /// Serve this many requests, then behave as down.
    pub after_requests: Option<u64>,
    /// Behave as down while this file exists (`touch` / `rm` it to toggle).
    pub toggle_file: Option<PathBuf>,
}

/// A running simulator.
#[derive(Debug)]
pub struct SimServer {
    local_addr: SocketAddr,
    state: Arc<SimState>,
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

impl SimServer {
    /// Binds `listen` (port 0 picks a free port) and starts serving on the current tokio
    /// runtime.
    pub async fn start(
        listen: SocketAddr,
        tls: &TlsFiles,
        config: SimConfig,
        outage: OutageConfig,
    ) -> Result<Self> {
        let acceptor = TlsAcceptor::from(Arc::new(server_config(tls)?));
        let listener = TcpListener::bind(listen).await.map_err(|e| Error::Config {
            reason: format!("cannot listen on {listen}: {e}"),
        })?;
        let local_addr = listener.local_addr().map_err(|e| Error::Config {
            reason: format!("cannot read the bound address: {e}"),
        })?;
        let state = Arc::new(SimState {
            pool: Mutex::new(KeyPool::new(config)),
            outage: Outage::new(outage.after_requests, outage.toggle_file),
        });
        let cancel = CancellationToken::new();
        let task = tokio::spawn(accept_loop(
            listener,
            acceptor,
            state.clone(),
            cancel.clone(),
        ));
        info!(%local_addr, "KME simulator listening");
        Ok(Self {
            local_addr,
            state,
            cancel,
            task,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The `https://` base URL of the simulator.
    pub fn url(&self) -> String {
        format!("https://{}", self.local_addr)
    }

    /// Starts (`true`) or ends (`false`) a simulated outage.
    pub fn set_outage(&self, down: bool) {
        self.state.outage.forced.store(down, Ordering::Relaxed);
    }

    /// Number of keys handed to masters and not yet fetched by all their slaves.
    pub fn pending_keys(&self) -> usize {
        self.state.pool.lock().map_or(0, |p| p.pending_keys())
    }

    /// A token that stops the server when cancelled (e.g. from a signal handler).
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Stops accepting, closes every connection and waits for the accept loop to end.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        if let Err(e) = self.task.await {
            warn!(error = %e, "simulator accept loop ended abnormally");
        }
    }

    /// Waits until the server is stopped through its [`cancel_token`](Self::cancel_token).
    pub async fn wait(self) {
        self.cancel.cancelled().await;
        self.shutdown().await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    state: Arc<SimState>,
    cancel: CancellationToken,
) {
    let app = router(state.clone());
    loop {
        let accepted = tokio::select! {
            () = cancel.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((tcp, peer)) => {
                if state.outage.active() {
                    debug!(%peer, "simulated outage: closing the connection");
                    drop(tcp);
                    continue;
                }
                let (acceptor, app, cancel) = (acceptor.clone(), app.clone(), cancel.clone());
                let span = tracing::info_span!("connection", %peer);
                tokio::spawn(
                    async move {
                        tokio::select! {
                            () = cancel.cancelled() => {}
                            () = serve_connection(tcp, peer, acceptor, app) => {}
                        }
                    }
                    .instrument(span),
                );
            }
            Err(e) => {
                // Typically out of file descriptors: back off instead of spinning.
                warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    debug!("KME simulator stopped accepting");
}

async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    app: axum::Router,
) {
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            info!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            info!(%peer, "TLS handshake timed out");
            return;
        }
    };
    let caller = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|certs| certs.first())
        .and_then(common_name)
        .map(SaeId::new);
    let group = tls
        .get_ref()
        .1
        .negotiated_key_exchange_group()
        .map(|g| format!("{:?}", g.name()));
    debug!(%peer, caller = ?caller, group = ?group, "TLS connection established");
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(Caller(caller.clone()));
        app.clone().oneshot(request)
    });
    if let Err(e) = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(tls), service)
        .await
    {
        debug!(%peer, error = %e, "connection ended with an error");
    }
}
