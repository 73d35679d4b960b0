//! The key-supply interface: the one trait through which Liaison's link and envelope layers
//! obtain key material shared with a peer, whatever produces it (an ETSI GS QKD 014 KME, a
//! pre-shared key file, or other equipment an integrator wraps).
//!
//! The semantics are those of ETSI GS QKD 014: the *master* side asks its supply for new keys
//! for a slave SAE and receives `(key_ID, key)` pairs; it sends the key ids in-band; the *slave*
//! side asks its own supply for exactly those ids and receives the same bytes. Like rustls's
//! crypto provider, the trait is object-safe so a node holds an `Arc<dyn KeySupply>` chosen by
//! configuration.
//!
//! # Implementing the trait for other equipment
//!
//! An integrator whose device speaks another API (ETSI GS QKD 004's `OPEN_CONNECT` /
//! `GET_KEY` / `CLOSE`, or a vendor SDK) maps it onto the three calls below. The example is a
//! device that hands out keys by index; `spec/key-supply.md` walks through it.
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::{Arc, Mutex};
//!
//! use liaison_qkd::{
//!     Error, KeyId, KeyRequest, KeyStatus, KeySupply, SaeId, SuppliedKey, SupplyFuture,
//! };
//!
//! /// Stand-in for a vendor SDK handle: a shared table of keys both ends can read.
//! #[derive(Debug, Default)]
//! struct VendorDevice {
//!     keys: Mutex<HashMap<String, Vec<u8>>>,
//! }
//!
//! /// The adapter the integrator writes.
//! #[derive(Debug)]
//! struct VendorSupply {
//!     me: SaeId,
//!     device: Arc<VendorDevice>,
//! }
//!
//! impl KeySupply for VendorSupply {
//!     fn status<'a>(&'a self, slave: &'a SaeId) -> SupplyFuture<'a, KeyStatus> {
//!         Box::pin(async move {
//!             Ok(KeyStatus {
//!                 source_kme_id: "vendor-a".into(),
//!                 target_kme_id: "vendor-b".into(),
//!                 master_sae_id: self.me.to_string(),
//!                 slave_sae_id: slave.to_string(),
//!                 key_size: 256,
//!                 stored_key_count: 1000,
//!                 max_key_count: 1000,
//!                 max_key_per_request: 16,
//!                 max_key_size: 256,
//!                 min_key_size: 256,
//!                 max_sae_id_count: 0,
//!                 status_extension: None,
//!             })
//!         })
//!     }
//!
//!     fn enc_keys<'a>(
//!         &'a self,
//!         _slave: &'a SaeId,
//!         request: KeyRequest,
//!     ) -> SupplyFuture<'a, Vec<(KeyId, SuppliedKey)>> {
//!         Box::pin(async move {
//!             if request.size_bits != 256 {
//!                 return Err(Error::Unsatisfiable { reason: "device makes 256-bit keys".into() });
//!             }
//!             let mut table = self.device.keys.lock().map_err(|_| Error::KmeUnavailable {
//!                 message: "device handle poisoned".into(),
//!             })?;
//!             let mut out = Vec::new();
//!             for _ in 0..request.number {
//!                 let id = KeyId::random();
//!                 let bytes = vec![7u8; 32]; // a real device returns its QKD key here
//!                 table.insert(id.to_string(), bytes.clone());
//!                 out.push((id, SuppliedKey::from_bytes(bytes)));
//!             }
//!             Ok(out)
//!         })
//!     }
//!
//!     fn dec_keys<'a>(
//!         &'a self,
//!         _master: &'a SaeId,
//!         key_ids: &'a [KeyId],
//!     ) -> SupplyFuture<'a, Vec<(KeyId, SuppliedKey)>> {
//!         Box::pin(async move {
//!             let mut table = self.device.keys.lock().map_err(|_| Error::KmeUnavailable {
//!                 message: "device handle poisoned".into(),
//!             })?;
//!             key_ids
//!                 .iter()
//!                 .map(|id| match table.remove(id.as_str()) {
//!                     Some(bytes) => Ok((id.clone(), SuppliedKey::from_bytes(bytes))),
//!                     None => Err(Error::UnknownKeyId {
//!                         key_ids: vec![id.clone()],
//!                         message: "not on the device (unknown or already used)".into(),
//!                     }),
//!                 })
//!                 .collect()
//!         })
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().map(|rt| rt.block_on(async {
//! let device = Arc::new(VendorDevice::default());
//! let alice: Arc<dyn KeySupply> =
//!     Arc::new(VendorSupply { me: SaeId::new("alice"), device: device.clone() });
//! let bob: Arc<dyn KeySupply> = Arc::new(VendorSupply { me: SaeId::new("bob"), device });
//!
//! let sent = alice.enc_keys(&SaeId::new("bob"), KeyRequest::one(256)).await?;
//! let ids: Vec<KeyId> = sent.iter().map(|(id, _)| id.clone()).collect();
//! let received = bob.dec_keys(&SaeId::new("alice"), &ids).await?;
//! assert!(sent[0].1 == received[0].1);
//! assert!(bob.dec_keys(&SaeId::new("alice"), &ids).await.is_err()); // used once
//! # Ok::<(), Error>(())
//! # })).ok();
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::error::Result;
use crate::key::{KeyId, SaeId, SuppliedKey};

/// The status a supply reports for a slave SAE; the ETSI GS QKD 014 "Status" data format.
pub type KeyStatus = crate::wire::Status;

/// The boxed future every [`KeySupply`] method returns (boxed so the trait is object-safe).
pub type SupplyFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// How many keys of what size the master side asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRequest {
    /// Number of keys.
    pub number: u32,
    /// Size of each key in bits (a multiple of 8).
    pub size_bits: u32,
}

impl KeyRequest {
    /// One key of `size_bits` bits, the usual request of a rekey.
    pub fn one(size_bits: u32) -> Self {
        Self {
            number: 1,
            size_bits,
        }
    }
}

/// A source of keys shared with peers (ETSI GS QKD 014 semantics; see the module docs).
///
/// Implementations must be cheap to share (`Arc<dyn KeySupply>`), must never log key bytes,
/// and must hand each key out once: a second `dec_keys` for the same id fails.
pub trait KeySupply: Send + Sync + fmt::Debug {
    /// What the supply can deliver for `slave` right now (ETSI 014 "Get status").
    fn status<'a>(&'a self, slave: &'a SaeId) -> SupplyFuture<'a, KeyStatus>;

    /// Master side: new keys shared with `slave` (ETSI 014 "Get key"). The returned ids are to
    /// be sent to the slave in-band.
    fn enc_keys<'a>(
        &'a self,
        slave: &'a SaeId,
        request: KeyRequest,
    ) -> SupplyFuture<'a, Vec<(KeyId, SuppliedKey)>>;

    /// Slave side: the keys with `key_ids` that `master` obtained (ETSI 014 "Get key with key
    /// IDs"), in the order asked.
    fn dec_keys<'a>(
        &'a self,
        master: &'a SaeId,
        key_ids: &'a [KeyId],
    ) -> SupplyFuture<'a, Vec<(KeyId, SuppliedKey)>>;
}

/// Puts returned keys in the order of `wanted`, failing if any id is missing, repeated or
/// unexpected. Shared by implementations whose back-end may reorder keys.
pub(crate) fn order_by_ids(
    wanted: &[KeyId],
    mut got: Vec<(KeyId, SuppliedKey)>,
) -> std::result::Result<Vec<(KeyId, SuppliedKey)>, String> {
    if got.len() != wanted.len() {
        return Err(format!(
            "asked for {} key(s), got {}",
            wanted.len(),
            got.len()
        ));
    }
    let mut ordered = Vec::with_capacity(wanted.len());
    for id in wanted {
        let Some(pos) = got.iter().position(|(got_id, _)| got_id == id) else {
            return Err(format!("key id {id} missing from the answer"));
        };
        ordered.push(got.swap_remove(pos));
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(id: &str, byte: u8) -> (KeyId, SuppliedKey) {
        (KeyId::new(id), SuppliedKey::from_bytes(vec![byte; 4]))
    }

    #[test]
    fn reorders_keys_to_match_the_request() {
        let wanted = [KeyId::new("a"), KeyId::new("b")];
        let got = vec![pair("b", 2), pair("a", 1)];
        let ordered = order_by_ids(&wanted, got).unwrap_or_default();
        assert_eq!(ordered.len(), 2);
        assert_eq!(ordered[0].0, KeyId::new("a"));
        assert_eq!(ordered[0].1.expose_secret(), &[1; 4]);
    }

    #[test]
    fn rejects_answers_with_other_ids() {
        let wanted = [KeyId::new("a")];
        assert!(order_by_ids(&wanted, vec![pair("z", 1)]).is_err());
        assert!(order_by_ids(&wanted, vec![]).is_err());
    }
}
