//! End-to-end supplied keys: a key from QKD equipment (ETSI GS QKD 014) or a pre-shared key,
//! obtained per recipient and mixed into that recipient's key-encryption key
//! (`spec/protocol.md` §11, DESIGN.md "End-to-end envelope"). A report classified SECRET UE or
//! above cannot be sealed without one for every recipient; below that it is used whenever the
//! profile says so.
//!
//! Configured in `profile.toml`:
//!
//! ```toml
//! [supplied_keys]
//! sae_id = "cert-eu-ana"            # this officer's SAE id at the key supply
//! policy = "preferred"              # required | preferred (default) | off
//! key_bits = 256                    # size of each key (default 256)
//! peers = { "Bohdan Kovalenko" = "ua-cert-bohdan", "5f0c…64 hex…" = "enisa-eva" }
//! relay_sae_id = "cert-eu-relay"    # optional: mix a key into the link to the home relay too
//!
//! [supplied_keys.supply]            # the same section a relay's [key_supply] takes
//! kind = "etsi014"
//! kme = "https://kme.cert-eu.example:8443"
//! cert = "/home/ana/.liaison/qkd/sae.pem"
//! key = "/home/ana/.liaison/qkd/sae-key.pem"
//! ca = "/home/ana/.liaison/qkd/kme-ca.pem"
//! ```
//!
//! The sender is the ETSI 014 *master*: it asks its supply for a new key for the recipient's
//! SAE (`enc_keys`) and writes the key id and both SAE ids into the recipient block, where the
//! signature covers them. The recipient is the *slave*: it asks its own supply for exactly that
//! id from the sender's SAE (`dec_keys`). A key is used once: the supply refuses a second
//! `dec_keys` for the same id, and the key bytes are zeroized after use. The session keeps a
//! fetched key sealed in the message store until the message is stored
//! ([`crate::store::MessageStore::keep_supplied_key`]), so a client stopped in between can
//! still open the relay's next delivery.
//!
//! Policy per recipient: `required` refuses to send unless every recipient gets a key;
//! `preferred` uses one for every recipient listed in `peers` when the supply delivers, and
//! otherwise sends without (unless the classification requires one) and says so in the log and
//! in [`crate::session::SendOutcome::supplied_keys`]; `off` never asks.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use liaison_crypto::{IdentityId, SecretBytes};
use liaison_node::link::LinkSupply;
use liaison_proto::Classification;
use liaison_proto::certificate::MemberCertificate;
use liaison_proto::envelope::{MAX_KEY_ID_LEN, MAX_SAE_ID_LEN, SuppliedKeyRef};
use liaison_qkd::{KeyId, KeyRequest, KeySupply, KeySupplyConfig, QkdPolicy, SaeId};
use serde::{Deserialize, Serialize};

use crate::session::ClientError;

/// Smallest and largest key sizes the envelope accepts, in bits
/// (`MIN_SUPPLIED_KEY_LEN`..=`MAX_SUPPLIED_KEY_LEN` bytes).
const KEY_BITS: core::ops::RangeInclusive<u32> =
    (liaison_proto::envelope::MIN_SUPPLIED_KEY_LEN as u32 * 8)
        ..=(liaison_proto::envelope::MAX_SUPPLIED_KEY_LEN as u32 * 8);

/// Where a pre-shared-key supply records served key ids unless `used_ids` says otherwise.
pub const PSK_USED_IDS_FILE: &str = "psk-used-ids.redb";

fn default_key_bits() -> u32 {
    256
}

/// The `[supplied_keys]` section of `profile.toml` (see the module docs).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SuppliedKeysConfig {
    /// This officer's SAE id at the key supply.
    pub sae_id: String,
    /// `required`, `preferred` (default) or `off`.
    #[serde(default)]
    pub policy: QkdPolicy,
    /// Size of each key in bits (multiple of 8, 128..=1024; default 256).
    #[serde(default = "default_key_bits")]
    pub key_bits: u32,
    /// Recipient (64-hex identity id, or certificate name, case-insensitive) → its SAE id.
    #[serde(default)]
    pub peers: BTreeMap<String, String>,
    /// The home relay's SAE id: set it to mix a supplied key into the link to the relay too
    /// (under `policy`), which a relay requires before it takes a SECRET UE report from an
    /// officer (the relay's `officer_qkd`, `docs/RELAY.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay_sae_id: Option<String>,
    /// Where the keys come from.
    pub supply: KeySupplyConfig,
}

/// Who a `peers` entry names.
#[derive(Debug, Clone)]
enum Peer {
    Id(IdentityId),
    Name(String),
}

/// The supplied-key settings of a session, checked and with the supply built.
#[derive(Debug, Clone)]
pub struct SuppliedKeys {
    me: SaeId,
    policy: QkdPolicy,
    key_bits: u32,
    peers: Vec<(Peer, SaeId)>,
    relay: Option<SaeId>,
    supply: Arc<dyn KeySupply>,
}

/// One recipient's key, ready for the envelope builder.
#[derive(Debug)]
pub struct RecipientKey {
    /// Key id and SAE ids, carried in the recipient block.
    pub reference: SuppliedKeyRef,
    /// The key bytes (zeroized on drop).
    pub key: SecretBytes,
}

fn profile_error(home: &Path, reason: String) -> ClientError {
    ClientError::Profile {
        path: home.join(crate::profile::PROFILE_FILE),
        reason: format!("[supplied_keys] {reason}"),
    }
}

fn check_sae_id(home: &Path, what: &str, id: &str) -> Result<(), ClientError> {
    if id.is_empty() || id.len() > MAX_SAE_ID_LEN {
        return Err(profile_error(
            home,
            format!(
                "{what}: an SAE id has 1 to {MAX_SAE_ID_LEN} bytes, not {}",
                id.len()
            ),
        ));
    }
    Ok(())
}

impl SuppliedKeys {
    /// Checks `config` and builds its supply (certificates parse, key files exist with mode
    /// 0600, the KME URL is `https`). A pre-shared-key supply without `used_ids` records the
    /// key ids it has served in `home`/[`PSK_USED_IDS_FILE`], so that a replayed key id is
    /// refused across sessions too (each `liaison` command is a new process).
    pub fn from_config(config: &SuppliedKeysConfig, home: &Path) -> Result<Self, ClientError> {
        check_sae_id(home, "sae_id", &config.sae_id)?;
        if !config.key_bits.is_multiple_of(8) || !KEY_BITS.contains(&config.key_bits) {
            return Err(profile_error(
                home,
                format!(
                    "key_bits = {}: must be a multiple of 8 from {} to {}",
                    config.key_bits,
                    KEY_BITS.start(),
                    KEY_BITS.end()
                ),
            ));
        }
        let mut peers = Vec::with_capacity(config.peers.len());
        for (who, sae) in &config.peers {
            check_sae_id(home, &format!("peers.{who:?}"), sae)?;
            let peer = who
                .parse::<IdentityId>()
                .map_or_else(|_| Peer::Name(who.to_lowercase()), Peer::Id);
            peers.push((peer, SaeId::new(sae.clone())));
        }
        if let Some(relay) = &config.relay_sae_id {
            check_sae_id(home, "relay_sae_id", relay)?;
        }
        let mut supply_config = config.supply.clone();
        if let KeySupplyConfig::Psk { used_ids, .. } = &mut supply_config {
            used_ids.get_or_insert_with(|| home.join(PSK_USED_IDS_FILE));
        }
        let supply = supply_config
            .build()
            .map_err(|e| profile_error(home, format!("supply: {e}")))?;
        Ok(Self {
            me: SaeId::new(config.sae_id.clone()),
            policy: config.policy,
            key_bits: config.key_bits,
            peers,
            relay: config.relay_sae_id.clone().map(SaeId::new),
            supply,
        })
    }

    /// What the link to the home relay mixes in: a key for the relay's SAE under `policy` when
    /// `relay_sae_id` is set, none otherwise.
    pub fn link_supply(&self) -> LinkSupply {
        match (&self.relay, self.policy) {
            (None, _) | (_, QkdPolicy::Off) => LinkSupply::off(),
            (Some(relay), policy) => LinkSupply {
                policy,
                supply: Some(Arc::clone(&self.supply)),
                local_sae: Some(self.me.as_str().to_owned()),
                peer_sae: Some(relay.as_str().to_owned()),
                metrics: Arc::default(),
            },
        }
    }

    /// This officer's SAE id.
    pub fn sae_id(&self) -> &SaeId {
        &self.me
    }

    /// The recipient's SAE id, if `peers` lists it by id or by certificate name.
    fn peer_sae(&self, recipient: &MemberCertificate) -> Option<&SaeId> {
        let id = recipient.subject();
        let name = recipient.name().to_lowercase();
        self.peers
            .iter()
            .find(|(p, _)| matches!(p, Peer::Id(i) if *i == id))
            .or_else(|| {
                self.peers
                    .iter()
                    .find(|(p, _)| matches!(p, Peer::Name(n) if *n == name))
            })
            .map(|(_, sae)| sae)
    }

    /// Master side: a fresh key shared with `recipient`'s SAE, or `None` when policy lets
    /// the report go without one. `Err` when one is needed (by the classification or by a
    /// `required` policy) and cannot be had.
    pub async fn for_recipient(
        &self,
        recipient: &MemberCertificate,
        classification: Classification,
    ) -> Result<Option<RecipientKey>, ClientError> {
        let needed = classification.min_policy().supplied_key_required;
        let must = needed || self.policy == QkdPolicy::Required;
        let why = if needed {
            needed_by(classification)
        } else {
            "[supplied_keys] policy \"required\" asks for a supplied key for every recipient"
                .to_owned()
        };
        if self.policy == QkdPolicy::Off {
            return if needed {
                Err(missing(
                    recipient,
                    &why,
                    "[supplied_keys] policy is \"off\"",
                ))
            } else {
                Ok(None)
            };
        }
        let Some(slave) = self.peer_sae(recipient) else {
            return if must {
                Err(missing(
                    recipient,
                    &why,
                    &format!(
                        "[supplied_keys.peers] gives no SAE id for it (add \"{}\" = \"<its SAE id>\")",
                        recipient.name()
                    ),
                ))
            } else {
                Ok(None)
            };
        };
        let got = self
            .supply
            .enc_keys(slave, KeyRequest::one(self.key_bits))
            .await;
        let (key_id, key) = match got.map(|mut keys| keys.pop()) {
            Ok(Some(pair)) => pair,
            Ok(None) => {
                return self.unavailable(
                    recipient,
                    must,
                    slave,
                    "the supply answered no key".into(),
                );
            }
            Err(e) => return self.unavailable(recipient, must, slave, e.to_string()),
        };
        if key_id.as_str().is_empty() || key_id.as_str().len() > MAX_KEY_ID_LEN {
            return self.unavailable(
                recipient,
                must,
                slave,
                format!(
                    "the supply gave a key id of {} bytes",
                    key_id.as_str().len()
                ),
            );
        }
        Ok(Some(RecipientKey {
            reference: SuppliedKeyRef {
                key_id: key_id.as_str().to_owned(),
                source_sae: self.me.as_str().to_owned(),
                target_sae: slave.as_str().to_owned(),
            },
            key: into_secret(key),
        }))
    }

    fn unavailable(
        &self,
        recipient: &MemberCertificate,
        must: bool,
        slave: &SaeId,
        reason: String,
    ) -> Result<Option<RecipientKey>, ClientError> {
        if must {
            return Err(ClientError::KeySupply {
                what: format!("a key for {} (SAE {slave})", recipient.name()),
                reason,
            });
        }
        tracing::warn!(
            recipient = %recipient.subject().fingerprint(),
            sae = %slave,
            %reason,
            "no supplied key: sealing for this recipient with the hybrid KEM alone"
        );
        Ok(None)
    }

    /// Slave side: the key a received recipient block names.
    pub async fn for_block(&self, reference: &SuppliedKeyRef) -> Result<SecretBytes, ClientError> {
        let what = || format!("key {} from SAE {}", reference.key_id, reference.source_sae);
        if reference.target_sae != self.me.as_str() {
            return Err(ClientError::KeySupply {
                what: what(),
                reason: format!(
                    "the sender addressed it to SAE {:?}, and ours is {:?} ([supplied_keys] sae_id)",
                    reference.target_sae,
                    self.me.as_str()
                ),
            });
        }
        let ids = [KeyId::new(reference.key_id.clone())];
        let master = SaeId::new(reference.source_sae.clone());
        let mut keys =
            self.supply
                .dec_keys(&master, &ids)
                .await
                .map_err(|e| ClientError::KeySupply {
                    what: what(),
                    reason: e.to_string(),
                })?;
        let (_, key) = keys.pop().ok_or_else(|| ClientError::KeySupply {
            what: what(),
            reason: "the supply answered no key".into(),
        })?;
        Ok(into_secret(key))
    }
}

fn needed_by(classification: Classification) -> String {
    format!(
        "{} needs a supplied (QKD or pre-shared) key for every recipient",
        classification.marking()
    )
}

fn missing(recipient: &MemberCertificate, needed: &str, why: &str) -> ClientError {
    ClientError::SuppliedKeyMissing {
        peer: format!(
            "recipient {} ({})",
            recipient.name(),
            recipient.subject().fingerprint()
        ),
        reason: format!("{needed}, and {why}"),
    }
}

/// Moves a supplied key's bytes into the crypto crate's secret type without a copy.
fn into_secret(key: liaison_qkd::SuppliedKey) -> SecretBytes {
    let mut bytes = key.into_secret();
    SecretBytes::new(core::mem::take(&mut *bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SuppliedKeysConfig, toml::de::Error> {
        toml::from_str(text)
    }

    const PSK: &str = "[supply]\nkind = \"psk\"\nsae_id = \"sae-ana\"\npeers = { sae-bo = \"/nonexistent.psk\" }\n";

    #[test]
    fn reads_the_section_with_defaults_and_refuses_unknown_keys() {
        let c = parse(&format!("sae_id = \"sae-ana\"\n{PSK}")).unwrap();
        assert_eq!(c.policy, QkdPolicy::Preferred);
        assert_eq!(c.key_bits, 256);
        assert!(c.peers.is_empty());
        assert_eq!(c.relay_sae_id, None);
        let err = parse(&format!("sae_id = \"sae-ana\"\nkey_size = 256\n{PSK}")).unwrap_err();
        assert!(err.to_string().contains("key_size"), "{err}");
        assert!(parse(PSK).is_err(), "sae_id is required");
    }

    #[test]
    fn bad_values_are_refused_naming_the_setting() {
        let home = tempfile::tempdir().unwrap();
        let check = |text: String, needle: &str| {
            let c = parse(&text).unwrap();
            let err = SuppliedKeys::from_config(&c, home.path())
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{needle}: {err}");
        };
        check(format!("sae_id = \"\"\n{PSK}"), "sae_id");
        check(
            format!("sae_id = \"{}\"\n{PSK}", "x".repeat(MAX_SAE_ID_LEN + 1)),
            "sae_id",
        );
        check(format!("sae_id = \"a\"\nkey_bits = 100\n{PSK}"), "key_bits");
        check(format!("sae_id = \"a\"\nkey_bits = 64\n{PSK}"), "key_bits");
        check(
            format!("sae_id = \"a\"\nkey_bits = 2048\n{PSK}"),
            "key_bits",
        );
        check(
            format!("sae_id = \"a\"\npeers = {{ bo = \"\" }}\n{PSK}"),
            "peers.\"bo\"",
        );
        check(
            format!("sae_id = \"a\"\nrelay_sae_id = \"\"\n{PSK}"),
            "relay_sae_id",
        );
        // Everything above is fine, but the key file is missing: the supply says so.
        check(format!("sae_id = \"a\"\n{PSK}"), "nonexistent.psk");
    }
}
