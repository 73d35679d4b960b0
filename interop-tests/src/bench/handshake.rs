//! Scenario 4, link handshakes per second per core: the sans-IO `liaison_proto::handshake`
//! initiator (an officer) and responder (its relay) run in memory on one thread, both sides'
//! work counted, with and without a supplied (QKD or pre-shared) key mixed in. No sockets: the
//! QUIC/TLS handshake that carries it is not included (quinn's own cost, same for any
//! protocol on QUIC).

use std::sync::Arc;
use std::time::{Duration, Instant};

use liaison_crypto::rng::os_rng;
use liaison_crypto::sign::SigningKey;
use liaison_crypto::{SecretBytes, Suite};
use liaison_proto::certificate::{self, CertificateRequest, CertificateTerms, Role};
use liaison_proto::frame::{Frame, FrameDecoder};
use liaison_proto::handshake::{
    ChannelBinding, InitiatorStart, LinkConfig, LocalIdentity, Now, PeerPolicy, ResponderStart,
    SuppliedKeyAnswer, SuppliedKeyRef, SuppliedKeys, SupplyPolicy,
};
use liaison_proto::record::RekeyPolicy;
use liaison_proto::trust::TrustStore;
use liaison_proto::{Classification, UnixTime};

use super::federation::unix_now;
use super::{BenchError, BenchOptions, Measurement};

/// The two parties' configurations.
struct Parties {
    initiator: LinkConfig,
    responder: LinkConfig,
}

fn identity(
    authority: &SigningKey,
    role: Role,
    home: Option<liaison_crypto::IdentityId>,
    serial: u64,
) -> Result<Arc<LocalIdentity>, BenchError> {
    let mut rng = os_rng();
    let key = SigningKey::generate(Suite::Lq2, &mut rng);
    let request =
        CertificateRequest::new(&key, &format!("member-{serial}"), "Bench Org", &mut rng)?;
    let now = unix_now();
    let terms = CertificateTerms {
        role,
        clearance: Classification::SecretUe,
        home_relay: home,
        address: (role == Role::Relay).then(|| "127.0.0.1:7443".to_owned()),
        not_before: UnixTime(now - 3600),
        not_after: UnixTime(now + 86_400),
        serial,
    };
    Ok(Arc::new(LocalIdentity {
        certificate: certificate::issue(authority, &request, &terms, &mut rng)?,
        signing_key: key,
    }))
}

fn parties(supply: SupplyPolicy) -> Result<Parties, BenchError> {
    let authority = SigningKey::generate(Suite::Lq2, &mut os_rng());
    let trust = Arc::new(TrustStore::new(vec![authority.verifying_key().clone()]));
    let relay = identity(&authority, Role::Relay, None, 1)?;
    let officer = identity(
        &authority,
        Role::Officer,
        Some(relay.certificate.subject()),
        2,
    )?;
    let config = |me: &Arc<LocalIdentity>, expected, allow_officers| LinkConfig {
        identity: Arc::clone(me),
        trust: Arc::clone(&trust),
        suites: vec![Suite::Lq2],
        supply,
        local_sae_id: None,
        peer: PeerPolicy {
            expected_peer: expected,
            allow_relays: true,
            allow_officers,
        },
        handshake_timeout: Duration::from_secs(10),
        rekey: RekeyPolicy::default(),
    };
    Ok(Parties {
        initiator: config(&officer, Some(relay.certificate.subject()), false),
        responder: config(&relay, None, true),
    })
}

fn frame(bytes: &[u8]) -> Result<Frame, BenchError> {
    let mut dec = FrameDecoder::new();
    dec.push(bytes);
    dec.poll_frame()
        .map_err(|e| BenchError::Proto(e.into()))?
        .ok_or_else(|| BenchError::Unexpected("a handshake message was incomplete".into()))
}

fn key_ref() -> SuppliedKeyRef {
    SuppliedKeyRef {
        master_sae_id: "SAE_OFFICER".into(),
        slave_sae_id: "SAE_RELAY".into(),
        key_ids: vec!["bc490419-7d60-487f-adc1-4ddcc177c139".into()],
    }
}

/// One complete handshake, both sides; checks both ended with the same view of the key mix.
/// Returns the thread CPU time the responder (the relay) spent in its three steps.
fn handshake(p: &Parties, supplied: bool) -> Result<Duration, BenchError> {
    let mut rng = os_rng();
    let origin = Instant::now();
    let now = || Now {
        unix: UnixTime(unix_now()),
        monotonic: origin.elapsed(),
    };
    let binding = ChannelBinding([7; 32]);
    // A fresh key per handshake, as the key supply would hand out (used once, zeroized).
    let material = || SecretBytes::new(vec![0x42; 32]);
    let keys = if supplied {
        Some(SuppliedKeys::new(key_ref(), vec![material()])?)
    } else {
        None
    };
    let (expect, hello) =
        InitiatorStart::new(p.initiator.clone(), binding, keys)?.start(now(), &mut rng)?;
    let hello = frame(&hello)?;
    let t0 = thread_cpu_time()?;
    let waiting = ResponderStart::new(p.responder.clone(), binding).handle(&hello, now())?;
    let answer = match waiting.request() {
        Some(_) => SuppliedKeyAnswer::Keys(vec![material()]),
        None => SuppliedKeyAnswer::None,
    };
    let (expect_finish, response) = waiting.resume(answer, now(), &mut rng)?;
    let mut responder_cpu = thread_cpu_time()? - t0;
    let (initiator, finish) = expect.handle(&frame(&response)?, now(), &mut rng)?;
    let finish = frame(&finish)?;
    let t1 = thread_cpu_time()?;
    let responder = expect_finish.handle(&finish, now())?;
    responder_cpu += thread_cpu_time()? - t1;
    if initiator.supplied_key_mixed() != supplied || responder.supplied_key_mixed() != supplied {
        return Err(BenchError::Unexpected(
            "supplied key not mixed as configured".into(),
        ));
    }
    Ok(responder_cpu)
}

/// `p` with a trust store that has never seen either certificate: a first contact, where
/// each side checks the other's certificate signature instead of remembering it.
fn first_contact(p: &Parties) -> Parties {
    let anchors: Vec<_> = p
        .responder
        .trust
        .anchor_ids()
        .filter_map(|id| p.responder.trust.anchor(id).cloned())
        .collect();
    let trust = Arc::new(TrustStore::new(anchors));
    let mut fresh = Parties {
        initiator: p.initiator.clone(),
        responder: p.responder.clone(),
    };
    fresh.initiator.trust = Arc::clone(&trust);
    fresh.responder.trust = trust;
    fresh
}

/// CPU time this thread has run, from `/proc/thread-self/schedstat` (nanoseconds on the CPU):
/// on a machine shared with other builds, wall time would count their time too.
fn thread_cpu_time() -> Result<Duration, BenchError> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat")
        .map_err(BenchError::io("reading /proc/thread-self/schedstat"))?;
    text.split_whitespace()
        .next()
        .and_then(|ns| ns.parse().ok())
        .map(Duration::from_nanos)
        .ok_or_else(|| BenchError::Unexpected("malformed /proc/thread-self/schedstat".into()))
}

/// Runs scenario 4: handshakes per second on this thread, hybrid only and with a supplied key,
/// for both sides together and for the relay's side alone, with certificates already seen
/// (a reconnecting officer) and on first contact.
pub fn run(opts: &BenchOptions) -> Result<Vec<Measurement>, BenchError> {
    let window = if opts.quick {
        Duration::from_millis(500)
    } else {
        Duration::from_secs(3)
    };
    let mut out = Vec::new();
    for (supplied, name, policy) in [
        (false, "hybrid link handshake", SupplyPolicy::Off),
        (true, "hybrid + supplied key", SupplyPolicy::Required),
    ] {
        let p = parties(policy)?;
        handshake(&p, supplied)?; // warm-up and correctness check
        for first in [false, true] {
            let contact = if first { ", first contact" } else { "" };
            let what = if first {
                "certificates never seen before: both signatures checked"
            } else {
                "certificates seen before (trust store remembers checked signatures)"
            };
            let mut both = Measurement::new(
                "4 handshakes",
                format!("{name}{contact}, both sides (per CPU-second)"),
                "handshakes/s/core",
                format!("LQ2, both sides on one thread, in memory; thread CPU time; {what}"),
            );
            let mut relay = Measurement::new(
                "4 handshakes",
                format!("{name}{contact}, relay side (per CPU-second)"),
                "handshakes/s/core",
                format!("LQ2, the responder's steps only: what one relay core absorbs; {what}"),
            );
            let mut wall = Measurement::new(
                "4 handshakes",
                format!("{name}{contact}, both sides (wall clock)"),
                "handshakes/s",
                "same loop, wall time: includes time the busy machine ran other work",
            );
            for _ in 0..opts.runs {
                let start = Instant::now();
                let cpu_start = thread_cpu_time()?;
                let mut responder = Duration::ZERO;
                let mut n = 0u32;
                while start.elapsed() < window {
                    responder += if first {
                        handshake(&first_contact(&p), supplied)?
                    } else {
                        handshake(&p, supplied)?
                    };
                    n += 1;
                }
                let cpu_secs = (thread_cpu_time()? - cpu_start).as_secs_f64();
                both.push(f64::from(n) / cpu_secs);
                relay.push(f64::from(n) / responder.as_secs_f64());
                wall.push(f64::from(n) / start.elapsed().as_secs_f64());
            }
            out.extend([both, relay, wall]);
        }
    }
    Ok(out)
}
