// Shared fixture for the link handshake fuzz targets (included with `include!`, not a target):
// a fixed federation of two relays, built once.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use liaison_crypto::sign::SigningKey;
use liaison_crypto::{Seed32, Suite};
use liaison_proto::certificate::{CertificateRequest, CertificateTerms, Role, issue};
use liaison_proto::handshake::{LinkConfig, LocalIdentity, Now, PeerPolicy, SupplyPolicy};
use liaison_proto::record::RekeyPolicy;
use liaison_proto::trust::TrustStore;
use liaison_proto::{Classification, UnixTime};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

const NOW: Now = Now {
    unix: UnixTime(1_800_000_000),
    monotonic: Duration::from_secs(1),
};

fn fixture() -> &'static (LinkConfig, LinkConfig) {
    static CONFIGS: OnceLock<(LinkConfig, LinkConfig)> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        let mut rng = ChaCha20Rng::from_seed([7; 32]);
        let authority = SigningKey::from_seed(Suite::Lq1, Seed32::from_bytes([1; 32]));
        let trust = Arc::new(TrustStore::new(vec![authority.verifying_key().clone()]));
        let relay = |n: u8, rng: &mut ChaCha20Rng| {
            let key = SigningKey::from_seed(Suite::Lq1, Seed32::from_bytes([n; 32]));
            let req = CertificateRequest::new(&key, "relay", "fuzz", rng).expect("request");
            let terms = CertificateTerms {
                role: Role::Relay,
                clearance: Classification::SecretUe,
                home_relay: None,
                address: Some("relay.fuzz:4433".into()),
                not_before: UnixTime(0),
                not_after: UnixTime(u64::MAX),
                serial: u64::from(n),
            };
            let certificate = issue(&authority, &req, &terms, rng).expect("issue");
            Arc::new(LocalIdentity {
                certificate,
                signing_key: key,
            })
        };
        let config = |identity| LinkConfig {
            identity,
            trust: trust.clone(),
            suites: vec![Suite::Lq2, Suite::Lq1],
            supply: SupplyPolicy::Preferred,
            local_sae_id: None,
            peer: PeerPolicy {
                expected_peer: None,
                allow_relays: true,
                allow_officers: true,
            },
            handshake_timeout: Duration::from_secs(10),
            rekey: RekeyPolicy::default(),
        };
        (config(relay(2, &mut rng)), config(relay(3, &mut rng)))
    })
}
