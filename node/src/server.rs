//! The running node (`liaison-node run`): the QUIC endpoint, one task per connection (accepted
//! from officers and relays, or dialled to the relays in `[[route]]` with reconnection and
//! backoff), the per-destination forwarders, the expiry sweep, and graceful shutdown.
//!
//! Every task ends on the node's [`CancellationToken`]. Shutdown stops accepting, closes every
//! link with a `Close` frame, lets envelope commits already under way finish (their `Ack`s are
//! simply not sent; upstream keeps custody and retransmits), then signs a final audit
//! checkpoint and stops the store ([`CustodyStore::close`]).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use liaison_crypto::sign::SigningKey;
use liaison_crypto::{IdentityId, Seed32, Suite};
use liaison_proto::certificate::Role;
use liaison_proto::frame::LinkFrame;
use liaison_proto::handshake::{LinkConfig, LocalIdentity, PeerPolicy};
use liaison_proto::record::RekeyPolicy;
use liaison_proto::trust::TrustStore;
use liaison_qkd::{KeySupply, KeySupplyMetrics, QkdPolicy};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

use crate::config::{LimitsConfig, NodeSetup, Route};
use crate::link::{self, Keepalive, Link, LinkError, LinkEvent, LinkSupply};
use crate::metrics::{self, NodeMetrics};
use crate::ratelimit::PeerLimiter;
use crate::relay::{Downstream, LinkPeer, Relay, unix_now};
use crate::reload::{self, Live, Reloader};
use crate::store::{CustodyStore, Destination, StoreConfig, StoreError};
use crate::transport::{self, TlsIdentity, TransportError, TransportLimits};

/// First delay before redialling a relay; doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(250);
/// Longest delay between redials.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How long shutdown waits for connection tasks and commits.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Refused link handshakes are audited at most once per reason in this interval (each entry
/// counts the refusals since the previous one): anyone can open a connection and fail a
/// handshake, and a flood of them must not become a flood of audit writes. A revoked member
/// is audited at every attempt (the entry names it).
const HANDSHAKE_AUDIT_EVERY: Duration = Duration::from_secs(60);

/// Why the node could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The custody store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The QUIC endpoint could not be set up.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The configured status socket could not be served.
    #[error(transparent)]
    StatusSocket(#[from] metrics::SocketError),
    /// The identity key could not be duplicated for the store.
    #[error("identity key: {0}")]
    Key(#[from] liaison_crypto::CryptoError),
}

/// State shared by every task of the node.
#[derive(Debug)]
struct Shared {
    relay: Arc<Relay>,
    identity: Arc<LocalIdentity>,
    trust: Arc<Live<TrustStore>>,
    routes: BTreeMap<IdentityId, Route>,
    supply: Option<Arc<dyn KeySupply>>,
    sae_id: Option<String>,
    officer_qkd: QkdPolicy,
    handshake_timeout: Duration,
    metrics: Arc<KeySupplyMetrics>,
    ops: Arc<NodeMetrics>,
    limits: LimitsConfig,
    tracker: TaskTracker,
    officer_links: Mutex<HashMap<IdentityId, CancellationToken>>,
    handshake_audit: Mutex<HandshakeAudit>,
}

impl Shared {
    fn link_config(&self, expected_peer: Option<IdentityId>, supply: &LinkSupply) -> LinkConfig {
        LinkConfig {
            identity: Arc::clone(&self.identity),
            trust: self.trust.load(),
            suites: vec![Suite::Lq2, Suite::Lq1],
            supply: supply.proto_policy(),
            local_sae_id: self.sae_id.clone(),
            peer: PeerPolicy {
                expected_peer,
                allow_relays: true,
                allow_officers: expected_peer.is_none(),
            },
            handshake_timeout: self.handshake_timeout,
            rekey: RekeyPolicy::default(),
        }
    }

    fn supply_for(&self, policy: QkdPolicy, peer_sae: Option<String>) -> LinkSupply {
        let policy = if self.supply.is_none() && policy == QkdPolicy::Preferred {
            QkdPolicy::Off
        } else {
            policy
        };
        LinkSupply {
            policy,
            supply: self.supply.clone(),
            local_sae: self.sae_id.clone(),
            peer_sae,
            metrics: Arc::clone(&self.metrics),
        }
    }
}

fn copy_key(key: &SigningKey) -> Result<SigningKey, NodeError> {
    let seed = Seed32::try_from_slice(key.seed().expose_secret())?;
    Ok(SigningKey::from_seed(key.suite(), seed))
}

/// Runs the node until `cancel` fires, then shuts down gracefully. `ready` receives the bound
/// address once the endpoint listens.
pub async fn run(
    setup: NodeSetup,
    cancel: CancellationToken,
    ready: Option<tokio::sync::oneshot::Sender<SocketAddr>>,
) -> Result<(), NodeError> {
    let store = CustodyStore::open(
        &setup.storage,
        Arc::new(copy_key(&setup.signing_key)?),
        StoreConfig::default(),
    )?;
    let trust = Arc::new(Live::new(setup.trust));
    let me = setup.certificate.clone();
    let ops = Arc::new(NodeMetrics::new(&me, Arc::default()));
    ops.set_directory(setup.directory.values());
    ops.set_revocations(&trust.load());
    let directory = Arc::new(Live::new(setup.directory));
    let relay = Arc::new(
        Relay::new(
            store.clone(),
            Arc::new(copy_key(&setup.signing_key)?),
            Arc::clone(&trust),
            me.clone(),
            Arc::clone(&directory),
            &setup.routes,
            setup.limits.max_envelope_bytes,
        )
        .with_max_queue_depth(setup.limits.max_queue_depth),
    );
    let shared = Arc::new(Shared {
        relay: Arc::clone(&relay),
        identity: Arc::new(LocalIdentity {
            certificate: setup.certificate,
            signing_key: setup.signing_key,
        }),
        trust,
        routes: setup.routes.iter().map(|r| (r.relay, r.clone())).collect(),
        supply: setup.key_supply,
        sae_id: setup.sae_id,
        officer_qkd: setup.officer_qkd,
        handshake_timeout: setup.handshake_timeout,
        metrics: Arc::clone(ops.key_supply()),
        ops: Arc::clone(&ops),
        limits: setup.limits.clone(),
        tracker: TaskTracker::new(),
        officer_links: Mutex::default(),
        handshake_audit: Mutex::default(),
    });
    let endpoint = transport::server_endpoint(
        setup.listen,
        &TlsIdentity::generate()?,
        &TransportLimits {
            idle_timeout: Duration::from_secs(setup.limits.idle_timeout_secs),
            keep_alive: Duration::from_secs(setup.limits.idle_timeout_secs / 3),
            ..TransportLimits::default()
        },
    )?;
    let local = endpoint
        .local_addr()
        .map_err(|source| TransportError::Bind {
            addr: setup.listen,
            source,
        })?;
    ops.set_listen(local);
    if let Some(addr) = setup.metrics_listen {
        let ops = Arc::clone(&ops);
        metrics::spawn_endpoint(addr, ops, store.clone(), &shared.tracker, cancel.clone()).await?;
    }
    let socket = &setup.status_socket;
    let served = metrics::spawn_status_socket(
        &socket.path,
        Arc::clone(&ops),
        store.clone(),
        &shared.tracker,
        cancel.clone(),
    )
    .await;
    match served {
        Ok(()) => {}
        Err(e) if socket.configured => return Err(e.into()),
        // The default place may not suit a socket (a path over the OS's 107 bytes, say): the
        // relay still runs, and `status` says it cannot be asked.
        Err(e) => tracing::warn!(error = %e, "no status socket; set status_socket to fix it"),
    }
    let reloader = Reloader {
        file: setup.file.clone(),
        me: me.clone(),
        trust: Arc::clone(&shared.trust),
        directory,
        metrics: ops,
        store: store.clone(),
    };
    shared
        .tracker
        .spawn(reload::watch(reloader, setup.reload_check, cancel.clone()));
    tracing::info!(addr = %local, node = %me.subject().fingerprint(), name = me.name(), "listening");
    if let Some(ready) = ready {
        let _ = ready.send(local);
    }
    let interval = Duration::from_secs(setup.limits.sweep_interval_secs);
    shared
        .tracker
        .spawn(Arc::clone(&relay).sweep(interval, cancel.clone()));
    // Routes reached `via` a neighbour are not dialled: their traffic waits in the
    // neighbour's queue.
    for route in setup.routes.into_iter().filter(|r| r.via.is_none()) {
        let span = tracing::info_span!("dial", relay = %route.relay.fingerprint());
        shared.tracker.spawn(
            dial_loop(Arc::clone(&shared), endpoint.clone(), route, cancel.clone())
                .instrument(span),
        );
    }
    let slots = Arc::new(Semaphore::new(setup.limits.max_connections));
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            incoming = endpoint.accept() => {
                let Some(incoming) = incoming else { break };
                let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
                    tracing::warn!(remote = %incoming.remote_address(), "connection limit reached; refusing");
                    incoming.refuse();
                    continue;
                };
                let span = tracing::info_span!("link", remote = %incoming.remote_address(), peer = tracing::field::Empty);
                // The accept future is made inside the task: awaiting a future captured by an
                // `async` block stores it twice, doubling every idle link's task.
                let (link_shared, link_cancel) = (Arc::clone(&shared), cancel.clone());
                shared.tracker.spawn(async move {
                    accept(link_shared, incoming, link_cancel).await;
                    drop(permit);
                }.instrument(span));
            }
        }
    }
    tracing::info!("shutting down: no new connections; closing links");
    shared.tracker.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, shared.tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("some tasks did not finish within the shutdown grace period");
    }
    endpoint.close(0u32.into(), b"shutdown");
    let _ = tokio::time::timeout(Duration::from_secs(2), endpoint.wait_idle()).await;
    store.close().await?;
    tracing::info!("custody store closed; final audit checkpoint signed");
    Ok(())
}

/// An accepted connection: responder handshake, per-peer policy, then the link loop.
async fn accept(shared: Arc<Shared>, incoming: quinn::Incoming, cancel: CancellationToken) {
    let remote = incoming.remote_address();
    let conn = match incoming.await {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(error = %e, "QUIC handshake failed");
            return;
        }
    };
    // The peer is unknown until its certificate arrives, so the responder mixes a supplied
    // key whenever the initiator offers one; the per-peer policy is enforced right after.
    let supply = shared.supply_for(QkdPolicy::Preferred, None);
    let config = shared.link_config(None, &supply);
    let link = match link::respond(conn, config, supply).await {
        Ok(l) => l,
        Err(e) => {
            shared.ops.handshake_failed(&e);
            tracing::warn!(error = %e, "link handshake refused");
            audit_refused_handshake(&shared, &e, remote).await;
            return;
        }
    };
    let peer = link.peer().clone();
    tracing::Span::current().record(
        "peer",
        tracing::field::display(peer.subject().fingerprint()),
    );
    let route = shared.routes.get(&peer.subject());
    let policy = match peer.role() {
        Role::Officer => shared.officer_qkd,
        Role::Relay => route.map_or(QkdPolicy::Preferred, |r| r.qkd),
    };
    let sae_mismatch = match (route.and_then(|r| r.sae_id.as_ref()), &link.peer_master_sae) {
        (Some(expected), Some(got)) => expected != got,
        _ => false,
    };
    if (policy == QkdPolicy::Required && !link.session().supplied_key_mixed()) || sae_mismatch {
        let reason = if sae_mismatch {
            "supplied key drawn for another SAE id".to_owned()
        } else {
            "link without a supplied key refused (qkd = \"required\")".to_owned()
        };
        tracing::warn!(%reason, "failing closed");
        shared.ops.handshake_failed_because("supplied_key_required");
        shared
            .metrics
            .required_failures
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let from = *peer.subject().as_bytes();
        if let Err(e) = shared
            .relay
            .store()
            .record_refusal([0; 16], from, reason.clone(), unix_now())
            .await
        {
            tracing::error!(error = %e, "cannot audit a refused link");
        }
        link.fail(&LinkError::SuppliedKeyRequired(reason)).await;
        return;
    }
    shared.ops.handshake_ok(peer.role());
    tracing::info!(
        role = peer.role().name(),
        name = peer.name(),
        suite = %link.session().suite(),
        supplied_key = link.session().supplied_key_mixed(),
        "link up"
    );
    // Officers receive their queue on the link they open; relays receive theirs on every link
    // (a neighbour that dials us may have no route back; the queue lease keeps two links to
    // one relay from both sending an entry).
    serve(&shared, link, true, &cancel).await;
}

/// Keeps a link to `route` up until `cancel`: dial, handshake, serve, back off, repeat.
async fn dial_loop(
    shared: Arc<Shared>,
    endpoint: quinn::Endpoint,
    route: Route,
    cancel: CancellationToken,
) {
    let mut backoff = MIN_BACKOFF;
    let mut attempt = 0usize;
    let mut supply_failing = false;
    while !cancel.is_cancelled() {
        let address = &route.addresses[attempt % route.addresses.len()];
        match dial(&shared, &endpoint, &route, address).await {
            Ok(link) => {
                shared.ops.handshake_ok(Role::Relay);
                backoff = MIN_BACKOFF;
                supply_failing = false;
                tracing::info!(%address, peer = link.peer().name(), suite = %link.session().suite(), supplied_key = link.session().supplied_key_mixed(), "link up");
                serve(&shared, link, true, &cancel).await;
                tracing::info!("link down");
            }
            Err(LinkError::SuppliedKeyRequired(reason)) => {
                shared.ops.handshake_failed_because("supplied_key_required");
                // Fail closed, visibly: no link without the supplied key this route requires.
                tracing::warn!(%address, %reason, "not linking: supplied key required (qkd = \"required\")");
                // One audit entry per outage, not one per redial.
                if !std::mem::replace(&mut supply_failing, true) {
                    let peer = *route.relay.as_bytes();
                    let detail =
                        format!("link to {address} not opened: supplied key required: {reason}");
                    let store = shared.relay.store();
                    if let Err(e) = store
                        .record_refusal([0; 16], peer, detail, unix_now())
                        .await
                    {
                        tracing::error!(error = %e, "cannot audit a refused link");
                    }
                }
            }
            Err(e) => {
                shared.ops.handshake_failed(&e);
                tracing::debug!(%address, error = %e, "dial failed");
                attempt = attempt.wrapping_add(1);
            }
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn dial(
    shared: &Shared,
    endpoint: &quinn::Endpoint,
    route: &Route,
    address: &str,
) -> Result<Link, LinkError> {
    let dial_error = |reason: String| LinkError::Dial {
        address: address.to_owned(),
        reason,
    };
    let addr = tokio::net::lookup_host(address)
        .await
        .map_err(|e| dial_error(e.to_string()))?
        .next()
        .ok_or_else(|| dial_error("no address".into()))?;
    let connecting = endpoint
        .connect(addr, "liaison-node")
        .map_err(|e| dial_error(e.to_string()))?;
    let conn = tokio::time::timeout(shared.handshake_timeout, connecting)
        .await
        .map_err(|_| LinkError::HandshakeTimeout)??;
    let supply = shared.supply_for(route.qkd, route.sae_id.clone());
    let config = shared.link_config(Some(route.relay), &supply);
    link::initiate(conn, config, supply).await
}

/// How the link loop ended.
enum Ending {
    /// We close (shutdown, or replaced by a newer link of the same officer).
    Close,
    /// The peer closed or went away.
    PeerGone,
    /// We refuse with this `Error` frame and close.
    Refuse(u16, String),
    /// A link error: send the matching `Error` frame when possible.
    Failed(LinkError),
}

/// The link loop: outbound frames (acks, forwarded envelopes) and inbound frames.
async fn serve(shared: &Arc<Shared>, mut link: Link, forward: bool, cancel: &CancellationToken) {
    let peer = LinkPeer {
        certificate: link.peer().clone(),
        suite: link.session().suite(),
        supplied_key_mixed: link.session().supplied_key_mixed(),
    };
    let peer_id = peer.certificate.subject();
    let (out_tx, mut out_rx) = mpsc::channel::<LinkFrame>(256);
    let (ack_tx, ack_rx) = mpsc::channel::<Downstream>(256);
    let link_cancel = cancel.child_token();
    // A neighbouring relay's link (dialled or accepted) carries prekey requests and makes the
    // relay routable even without a configured route.
    let _neighbour = (peer.certificate.role() == Role::Relay)
        .then(|| shared.relay.neighbour_up(peer_id, out_tx.clone()));
    let _registered = shared.ops.link_up(
        &peer.certificate,
        link.connection().remote_address(),
        peer.supplied_key_mixed,
        out_tx.clone(),
        link_cancel.clone(),
    );
    // Envelopes sent in parts beyond the relay's limit are refused without being buffered.
    link.set_max_envelope_len(shared.limits.max_envelope_bytes);
    // Their parts go to the custody store as they arrive, so little is left to write after
    // the last one.
    link.set_part_sinks(shared.relay.store().part_sinks());
    link.set_keepalive(Keepalive {
        interval: Duration::from_secs(shared.limits.ping_interval_secs),
        timeout: Duration::from_secs(shared.limits.peer_timeout_secs),
    });
    let mut limiter = PeerLimiter::new(
        match peer.certificate.role() {
            Role::Officer => shared.limits.officers,
            _ => shared.limits.relays,
        },
        std::time::Instant::now(),
    );
    if forward {
        if peer.certificate.role() == Role::Officer {
            let mut links = shared
                .officer_links
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if let Some(old) = links.insert(peer_id, link_cancel.clone()) {
                old.cancel(); // a newer link of the same officer takes over its queue
            }
        }
        let task = Arc::clone(&shared.relay).forward(
            Destination(*peer_id.as_bytes()),
            peer.clone(),
            out_tx.clone(),
            ack_rx,
            link_cancel.clone(),
        );
        shared.tracker.spawn(task.in_current_span());
    }
    let ending = loop {
        tokio::select! {
            () = link_cancel.cancelled() => break Ending::Close,
            Some(frame) = out_rx.recv() => {
                shared.ops.frame_sent(&frame);
                if let LinkFrame::Error { code, reason } = frame {
                    break Ending::Refuse(code, reason);
                }
                if let Err(e) = link.send(&frame).await {
                    break Ending::Failed(e);
                }
            }
            event = link.recv() => match event {
                // Over the peer's rate limit: refused before any work is spent on it; the
                // link stays up.
                Ok(LinkEvent::Frame(frame)) if limiter.over_limit(&frame, std::time::Instant::now()) => {
                    let refusal = limiter.refusal(&frame);
                    rate_limited(shared, &peer, &limiter, &refusal);
                    if let Err(e) = link.send(&refusal).await {
                        break Ending::Failed(e);
                    }
                }
                Ok(LinkEvent::Frame(frame)) => match frame {
                    LinkFrame::Envelope(raw) => {
                        let (relay, p) = (Arc::clone(&shared.relay), peer.clone());
                        let found = (link.take_payload_digest(), link.take_spool());
                        answer_custody(shared, &out_tx, async move {
                            relay.take_envelope(&p, raw, found).await
                        });
                    }
                    LinkFrame::Receipt(raw) => {
                        let (relay, p) = (Arc::clone(&shared.relay), peer.clone());
                        answer_custody(shared, &out_tx, async move {
                            relay.take_receipt(&p, raw).await
                        });
                    }
                    LinkFrame::NonDelivery(raw) => {
                        let (relay, p) = (Arc::clone(&shared.relay), peer.clone());
                        answer_custody(shared, &out_tx, async move {
                            relay.take_notice(&p, raw).await
                        });
                    }
                    LinkFrame::Ack { message_id, status } => {
                        // Never block the link on the forwarder: an honest peer has at most a
                        // window's worth outstanding, far below the channel's capacity.
                        if forward {
                            let _ = ack_tx.try_send(Downstream::Ack { id: message_id, status });
                        }
                    }
                    LinkFrame::Refused { id, code, reason } => {
                        if id.len() == liaison_crypto::IDENTITY_ID_LEN {
                            let answer = LinkFrame::Refused { id, code, reason };
                            if peer.certificate.role() != Role::Relay
                                || !shared.relay.take_prekey_answer(peer_id, answer)
                            {
                                tracing::debug!("unsolicited prekey refusal ignored");
                            }
                        } else if forward {
                            let _ = ack_tx.try_send(Downstream::Refused { id, code, reason });
                        }
                    }
                    LinkFrame::PrekeyPublish(raw) => {
                        let (relay, out, p) = (Arc::clone(&shared.relay), out_tx.clone(), peer.clone());
                        shared.tracker.spawn(async move {
                            let _ = out.send(relay.take_prekey_publish(&p, raw).await).await;
                        }.in_current_span());
                    }
                    LinkFrame::PrekeyRequest(id) => {
                        let (relay, out, p) = (Arc::clone(&shared.relay), out_tx.clone(), peer.clone());
                        shared.tracker.spawn(async move {
                            let _ = out.send(relay.take_prekey_request(&p, id).await).await;
                        }.in_current_span());
                    }
                    LinkFrame::PrekeyResponse(raw) => {
                        if peer.certificate.role() != Role::Relay
                            || !shared.relay.take_prekey_answer(peer_id, LinkFrame::PrekeyResponse(raw))
                        {
                            tracing::debug!("unsolicited prekey response ignored");
                        }
                    }
                    LinkFrame::Ping(p) => {
                        if let Err(e) = link.send(&LinkFrame::Pong(p)).await {
                            break Ending::Failed(e);
                        }
                    }
                    LinkFrame::Close => break Ending::PeerGone,
                    LinkFrame::Error { code, reason } => {
                        tracing::warn!(code = format_args!("{code:#06x}"), %reason, "peer sent an error; link closed");
                        break Ending::PeerGone;
                    }
                    other => tracing::debug!(frame = ?other.frame_type(), "frame ignored"),
                },
                Ok(LinkEvent::RekeyRequested(supplied)) => {
                    if let Err(e) = link.answer_rekey(supplied).await {
                        break Ending::Failed(e);
                    }
                }
                Ok(LinkEvent::RekeyDue) => {
                    if let Err(e) = link.start_rekey().await {
                        break Ending::Failed(e);
                    }
                }
                Ok(LinkEvent::Housekeeping) => {
                    if let Err(e) = link.flush().await {
                        break Ending::Failed(e);
                    }
                }
                Ok(LinkEvent::EnvelopeTooLarge { message_id, total, .. }) => {
                    // Answered like an oversized `Envelope` frame: refused, audited, counted.
                    let (relay, p) = (Arc::clone(&shared.relay), peer.clone());
                    answer_custody(shared, &out_tx, async move {
                        relay.refuse_too_large(&p, &message_id, total).await
                    });
                }
                Ok(LinkEvent::Closed) => break Ending::PeerGone,
                Err(e) => break Ending::Failed(e),
            }
        }
    };
    link_cancel.cancel();
    if peer.certificate.role() == Role::Officer {
        let mut links = shared
            .officer_links
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if links.get(&peer_id).is_some_and(|t| t.is_cancelled()) {
            links.remove(&peer_id);
        }
    }
    match ending {
        Ending::Close | Ending::PeerGone => link.close().await,
        Ending::Refuse(code, reason) => link.close_with_error(code, reason).await,
        Ending::Failed(e) => {
            if matches!(e, LinkError::PeerSilent { .. }) {
                shared.ops.link_timed_out();
            }
            tracing::warn!(error = %e, "link failed; closing this connection only");
            link.fail(&e).await;
        }
    }
}

/// Runs a custody answer (`Ack`s or `Refused`s for an envelope or receipt) off the link's task,
/// counts it, and queues its frames for the peer.
fn answer_custody(
    shared: &Shared,
    out: &mpsc::Sender<LinkFrame>,
    answer: impl Future<Output = Vec<LinkFrame>> + Send + 'static,
) {
    let (out, ops, arrived) = (
        out.clone(),
        Arc::clone(&shared.ops),
        std::time::Instant::now(),
    );
    shared.tracker.spawn(
        async move {
            let frames = answer.await;
            ops.custody_answered(arrived, &frames);
            for f in frames {
                if out.send(f).await.is_err() {
                    break;
                }
            }
        }
        .in_current_span(),
    );
}

/// Counts a rate-limit refusal, logs it, and audits the first of each run (a flood is counted,
/// not written to disk frame by frame).
fn rate_limited(shared: &Shared, peer: &LinkPeer, limiter: &PeerLimiter, refusal: &LinkFrame) {
    shared.ops.rate_limited(peer.certificate.role());
    shared.ops.frame_sent(refusal);
    if !limiter.first_refusal_of_run() {
        return;
    }
    let LinkFrame::Refused { id, reason, .. } = refusal else {
        return;
    };
    tracing::warn!(%reason, "rate limit exceeded; refusing until the peer slows down");
    let mut message_id = [0u8; 16];
    if id.len() == 16 {
        message_id.copy_from_slice(id);
    }
    let (store, from) = (
        shared.relay.store().clone(),
        *peer.certificate.subject().as_bytes(),
    );
    let detail = format!(
        "{:#06x} {reason}",
        liaison_proto::WireCode::RateLimited as u16
    );
    shared.tracker.spawn(async move {
        if let Err(e) = store
            .record_refusal(message_id, from, detail, unix_now())
            .await
        {
            tracing::error!(error = %e, "cannot audit a rate-limit refusal");
        }
    });
}

/// Audits a refused link handshake. One refused because the peer's certificate is revoked
/// names the peer and is audited every time, so the log shows every attempt of a revoked
/// member to connect. Any other refusal (unknown authority, expired certificate, bad
/// signature, no common suite or version, wrong role, timeout...) comes from a peer not yet
/// authenticated: audited once per reason per [`HANDSHAKE_AUDIT_EVERY`], with the number of
/// such refusals since the previous entry and the last one's address and error.
async fn audit_refused_handshake(shared: &Shared, error: &LinkError, remote: SocketAddr) {
    let (peer, detail) = match error {
        LinkError::Proto(liaison_proto::ProtoError::CertificateRevoked { serial, subject }) => (
            *subject.as_bytes(),
            format!(
                "{:#06x} link refused: certificate serial {serial} is revoked",
                liaison_proto::WireCode::CertificateRevoked as u16
            ),
        ),
        _ => {
            let reason = metrics::failure_reason(error);
            let count = shared
                .handshake_audit
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .refused(reason, std::time::Instant::now());
            let Some(count) = count else {
                return; // counted; the next entry for this reason says how many
            };
            let code = match error {
                LinkError::Proto(e) => e.wire_code() as u16,
                _ => 0,
            };
            (
                [0; 32],
                // (The audit log keeps at most `audit::MAX_DETAIL_LEN` bytes of it.)
                format!(
                    "{code:#06x} link handshake refused ({reason}), {count} since the previous \
                     entry for this reason; last from {remote}: {error}"
                ),
            )
        }
    };
    let store = shared.relay.store();
    if let Err(e) = store
        .record_refusal([0; 16], peer, detail, unix_now())
        .await
    {
        tracing::error!(error = %e, "cannot audit a refused link");
    }
}

/// Refused handshakes per reason since the last audit entry for that reason.
#[derive(Debug, Default)]
struct HandshakeAudit {
    reasons: HashMap<&'static str, (Option<std::time::Instant>, u64)>,
}

impl HandshakeAudit {
    /// Counts one refusal for `reason`; returns how many to write in an audit entry now
    /// (this one included) when the last entry for `reason` is at least
    /// [`HANDSHAKE_AUDIT_EVERY`] old, `None` otherwise.
    fn refused(&mut self, reason: &'static str, now: std::time::Instant) -> Option<u64> {
        let (last, pending) = self.reasons.entry(reason).or_default();
        *pending += 1;
        if last.is_some_and(|t| now.duration_since(t) < HANDSHAKE_AUDIT_EVERY) {
            return None;
        }
        *last = Some(now);
        Some(std::mem::take(pending))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_handshakes_are_audited_once_per_reason_per_interval_with_the_count() {
        let mut audit = HandshakeAudit::default();
        let t0 = std::time::Instant::now();
        assert_eq!(audit.refused("unknown_issuer", t0), Some(1));
        assert_eq!(audit.refused("unknown_issuer", t0), None);
        assert_eq!(
            audit.refused("timeout", t0),
            Some(1),
            "reasons are independent"
        );
        let later = t0 + HANDSHAKE_AUDIT_EVERY - Duration::from_millis(1);
        assert_eq!(audit.refused("unknown_issuer", later), None);
        // The next entry carries the refusals since the previous one, this one included.
        let due = t0 + HANDSHAKE_AUDIT_EVERY;
        assert_eq!(audit.refused("unknown_issuer", due), Some(3));
        assert_eq!(audit.refused("unknown_issuer", due), None);
    }
}
