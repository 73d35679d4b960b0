//! The JSON data formats of ETSI GS QKD 014 v1.1.1, clause 6, shared by the client
//! ([`crate::client`]) and the simulator ([`crate::sim`]).
//!
//! Field names follow the standard exactly (`key_ID`, `slave_SAE_ID`, …), hence the `serde`
//! renames. Unknown fields are accepted, as the standard allows vendor additions; extension
//! objects are carried as opaque JSON values.

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

/// "Status" data format (clause 6.1): what a KME can deliver to a master SAE for one slave SAE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// KME ID of the KME answering (the master SAE's KME).
    #[serde(rename = "source_KME_ID")]
    pub source_kme_id: String,
    /// KME ID of the target KME (the slave SAE's KME).
    #[serde(rename = "target_KME_ID")]
    pub target_kme_id: String,
    /// SAE ID of the calling master SAE.
    #[serde(rename = "master_SAE_ID")]
    pub master_sae_id: String,
    /// SAE ID of the specified slave SAE.
    #[serde(rename = "slave_SAE_ID")]
    pub slave_sae_id: String,
    /// Default size of a key, in bits.
    pub key_size: u32,
    /// Number of stored keys the KME can deliver to the SAE.
    pub stored_key_count: u64,
    /// Maximum of `stored_key_count`.
    pub max_key_count: u64,
    /// Maximum number of keys per request.
    pub max_key_per_request: u32,
    /// Maximum key size, in bits.
    pub max_key_size: u32,
    /// Minimum key size, in bits.
    pub min_key_size: u32,
    /// Maximum number of additional slave SAE ids; 0 when the KME does not multicast.
    #[serde(rename = "max_SAE_ID_count")]
    pub max_sae_id_count: u32,
    /// Optional vendor extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_extension: Option<serde_json::Value>,
}

/// "Key request" data format (clause 6.2), the body of `POST enc_keys`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyRequest {
    /// Number of keys requested (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    /// Size of each key in bits (default: the status' `key_size`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u32>,
    /// Other slave SAEs that shall receive the same keys (multicast).
    #[serde(
        rename = "additional_slave_SAE_IDs",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub additional_slave_sae_ids: Vec<String>,
    /// Extensions the KME shall honour or refuse the request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension_mandatory: Vec<serde_json::Value>,
    /// Extensions the KME may ignore.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension_optional: Vec<serde_json::Value>,
}

/// "Key container" data format (clause 6.3): keys returned by `enc_keys` and `dec_keys`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct KeyContainer {
    /// The keys.
    pub keys: Vec<WireKey>,
    /// Optional vendor extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_container_extension: Option<serde_json::Value>,
}

/// One key as it travels in a [`KeyContainer`]: id plus base64 key material.
///
/// The base64 string is secret: it is wiped on drop and hidden from `Debug`.
#[derive(Serialize, Deserialize)]
pub struct WireKey {
    /// The key id (a UUID string in ETSI GS QKD 014).
    #[serde(rename = "key_ID")]
    pub key_id: String,
    /// The key, base64-encoded (RFC 4648).
    pub key: String,
    /// Optional vendor extension on the id.
    #[serde(
        rename = "key_ID_extension",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub key_id_extension: Option<serde_json::Value>,
    /// Optional vendor extension on the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_extension: Option<serde_json::Value>,
}

impl fmt::Debug for WireKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireKey")
            .field("key_id", &self.key_id)
            .field("key", &"<SECRET>")
            .finish_non_exhaustive()
    }
}

impl Drop for WireKey {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

/// "Key IDs" data format (clause 6.4), the body of `POST dec_keys`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyIds {
    /// The ids asked for.
    #[serde(rename = "key_IDs")]
    pub key_ids: Vec<KeyIdEntry>,
    /// Optional vendor extension.
    #[serde(
        rename = "key_IDs_extension",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub key_ids_extension: Option<serde_json::Value>,
}

/// One entry of [`KeyIds`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyIdEntry {
    /// The key id.
    #[serde(rename = "key_ID")]
    pub key_id: String,
    /// Optional vendor extension.
    #[serde(
        rename = "key_ID_extension",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub key_id_extension: Option<serde_json::Value>,
}

/// "Error" data format (clause 6.5): the body of every 400, 401 and 503 answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Human-readable error message.
    pub message: String,
    /// Optional details, as name/value objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<serde_json::Value>,
}

impl ErrorBody {
    /// An error body with only a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// The details rendered for an error message (empty when there are none).
    pub fn details_text(&self) -> String {
        if self.details.is_empty() {
            String::new()
        } else {
            let parts: Vec<String> = self.details.iter().map(|d| d.to_string()).collect();
            format!(" (details: {})", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_uses_the_standard_field_names() {
        let status = Status {
            source_kme_id: "KME_A".into(),
            target_kme_id: "KME_B".into(),
            master_sae_id: "alice".into(),
            slave_sae_id: "bob".into(),
            key_size: 256,
            stored_key_count: 10,
            max_key_count: 100,
            max_key_per_request: 8,
            max_key_size: 1024,
            min_key_size: 64,
            max_sae_id_count: 0,
            status_extension: None,
        };
        let json = serde_json::to_value(&status).unwrap_or_default();
        for field in [
            "source_KME_ID",
            "target_KME_ID",
            "master_SAE_ID",
            "slave_SAE_ID",
            "key_size",
            "stored_key_count",
            "max_key_count",
            "max_key_per_request",
            "max_key_size",
            "min_key_size",
            "max_SAE_ID_count",
        ] {
            assert!(json.get(field).is_some(), "missing {field}");
        }
    }

    #[test]
    fn key_request_parses_the_standard_example() {
        let body = r#"{"number":3,"size":1024,"additional_slave_SAE_IDs":["ABCDEFG"],
            "extension_mandatory":[{"abc_route_type":"direct"}],
            "extension_optional":[{"abc_max_age":30000}]}"#;
        let request: KeyRequest = serde_json::from_str(body).unwrap_or_default();
        assert_eq!(request.number, Some(3));
        assert_eq!(request.size, Some(1024));
        assert_eq!(
            request.additional_slave_sae_ids,
            vec!["ABCDEFG".to_string()]
        );
        assert_eq!(request.extension_mandatory.len(), 1);
    }

    #[test]
    fn wire_key_debug_hides_the_key() {
        let key = WireKey {
            key_id: "id".into(),
            key: "c2VjcmV0".into(),
            key_id_extension: None,
            key_extension: None,
        };
        assert!(!format!("{key:?}").contains("c2VjcmV0"));
    }
}
