//! Handling labels: EU classification levels and TLP 2.0 markings, as closed enums, and the
//! minimum cryptographic policy each classification level demands (`spec/protocol.md`,
//! "Classification and crypto policy"). Sender, every relay and every recipient enforce it.
//!
//! | level (wire)              | minimum suite | supplied (QKD/PSK) key |
//! |---------------------------|---------------|------------------------|
//! | 0 UNCLASSIFIED            | LQ1           | no                     |
//! | 1 RESTREINT UE            | LQ1           | no                     |
//! | 2 CONFIDENTIEL UE         | LQ2           | no                     |
//! | 3 SECRET UE               | LQ2           | yes                    |
//! | 4 TRES SECRET UE          | LQ2           | yes                    |
//!
//! LQ1 (the X-Wing interoperability profile) is therefore allowed up to RESTREINT UE only, and
//! a deployment may raise the floor but never lower it.

use core::fmt;
use core::str::FromStr;

use liaison_crypto::Suite;

use crate::DecodeError;

/// EU classification levels (Council Decision 2013/488/EU), lowest first, plus UNCLASSIFIED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Classification {
    /// Not classified.
    Unclassified,
    /// RESTREINT UE / EU RESTRICTED.
    RestreintUe,
    /// CONFIDENTIEL UE / EU CONFIDENTIAL.
    ConfidentielUe,
    /// SECRET UE / EU SECRET.
    SecretUe,
    /// TRES SECRET UE / EU TOP SECRET.
    TresSecretUe,
}

/// Traffic Light Protocol 2.0 labels (FIRST), least restrictive first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tlp {
    /// TLP:CLEAR — no limit on disclosure.
    Clear,
    /// TLP:GREEN — the community.
    Green,
    /// TLP:AMBER — the recipients' organisations and their clients, need to know.
    Amber,
    /// TLP:AMBER+STRICT — the recipients' organisations only.
    AmberStrict,
    /// TLP:RED — the named recipients only.
    Red,
}

/// The minimum cryptography a classification level demands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CryptoPolicy {
    /// Weakest suite allowed (`LQ1 < LQ2`).
    pub min_suite: Suite,
    /// Whether a supplied (QKD or pre-shared) key must have been mixed in.
    pub supplied_key_required: bool,
}

impl CryptoPolicy {
    /// Whether `suite`, with or without a supplied key, meets this policy.
    pub fn permits(&self, suite: Suite, supplied_key_mixed: bool) -> bool {
        suite >= self.min_suite && (supplied_key_mixed || !self.supplied_key_required)
    }
}

impl Classification {
    /// Every level, lowest first.
    pub const ALL: [Self; 5] = [
        Self::Unclassified,
        Self::RestreintUe,
        Self::ConfidentielUe,
        Self::SecretUe,
        Self::TresSecretUe,
    ];

    /// Wire value (one byte).
    pub const fn wire(self) -> u8 {
        match self {
            Self::Unclassified => 0,
            Self::RestreintUe => 1,
            Self::ConfidentielUe => 2,
            Self::SecretUe => 3,
            Self::TresSecretUe => 4,
        }
    }

    /// Parses a wire value.
    pub const fn from_wire(v: u8) -> Result<Self, DecodeError> {
        match v {
            0 => Ok(Self::Unclassified),
            1 => Ok(Self::RestreintUe),
            2 => Ok(Self::ConfidentielUe),
            3 => Ok(Self::SecretUe),
            4 => Ok(Self::TresSecretUe),
            other => Err(DecodeError::UnknownValue {
                what: "classification",
                value: other as u64,
            }),
        }
    }

    /// The French marking used on EU documents (`"RESTREINT UE"`).
    pub const fn marking(self) -> &'static str {
        match self {
            Self::Unclassified => "UNCLASSIFIED",
            Self::RestreintUe => "RESTREINT UE",
            Self::ConfidentielUe => "CONFIDENTIEL UE",
            Self::SecretUe => "SECRET UE",
            Self::TresSecretUe => "TRES SECRET UE",
        }
    }

    /// The English marking (`"EU RESTRICTED"`).
    pub const fn english(self) -> &'static str {
        match self {
            Self::Unclassified => "UNCLASSIFIED",
            Self::RestreintUe => "EU RESTRICTED",
            Self::ConfidentielUe => "EU CONFIDENTIAL",
            Self::SecretUe => "EU SECRET",
            Self::TresSecretUe => "EU TOP SECRET",
        }
    }

    /// The minimum crypto policy for content at this level.
    pub const fn min_policy(self) -> CryptoPolicy {
        match self {
            Self::Unclassified | Self::RestreintUe => CryptoPolicy {
                min_suite: Suite::Lq1,
                supplied_key_required: false,
            },
            Self::ConfidentielUe => CryptoPolicy {
                min_suite: Suite::Lq2,
                supplied_key_required: false,
            },
            Self::SecretUe | Self::TresSecretUe => CryptoPolicy {
                min_suite: Suite::Lq2,
                supplied_key_required: true,
            },
        }
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.marking())
    }
}

impl FromStr for Classification {
    type Err = DecodeError;

    /// Accepts the French or English marking, case-insensitive, `_`/`-`/space interchangeable
    /// (`"restreint-ue"`, `"EU_SECRET"`, `"unclassified"`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String = s
            .trim()
            .chars()
            .map(|c| {
                if c == '_' || c == '-' {
                    ' '
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect();
        Self::ALL
            .into_iter()
            .find(|c| c.marking() == norm || c.english() == norm)
            .ok_or(DecodeError::UnknownValue {
                what: "classification name",
                value: 0,
            })
    }
}

impl Tlp {
    /// Every label, least restrictive first.
    pub const ALL: [Self; 5] = [
        Self::Clear,
        Self::Green,
        Self::Amber,
        Self::AmberStrict,
        Self::Red,
    ];

    /// Wire value (one byte).
    pub const fn wire(self) -> u8 {
        match self {
            Self::Clear => 0,
            Self::Green => 1,
            Self::Amber => 2,
            Self::AmberStrict => 3,
            Self::Red => 4,
        }
    }

    /// Parses a wire value.
    pub const fn from_wire(v: u8) -> Result<Self, DecodeError> {
        match v {
            0 => Ok(Self::Clear),
            1 => Ok(Self::Green),
            2 => Ok(Self::Amber),
            3 => Ok(Self::AmberStrict),
            4 => Ok(Self::Red),
            other => Err(DecodeError::UnknownValue {
                what: "TLP label",
                value: other as u64,
            }),
        }
    }

    /// The label as FIRST writes it (`"TLP:AMBER+STRICT"`).
    pub const fn label(self) -> &'static str {
        match self {
            Self::Clear => "TLP:CLEAR",
            Self::Green => "TLP:GREEN",
            Self::Amber => "TLP:AMBER",
            Self::AmberStrict => "TLP:AMBER+STRICT",
            Self::Red => "TLP:RED",
        }
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Tlp {
    type Err = DecodeError;

    /// Accepts `"TLP:RED"`, `"red"`, `"amber+strict"`, `"AMBER_STRICT"`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let up = s.trim().to_ascii_uppercase().replace(['_', '-'], "+");
        let up = up.strip_prefix("TLP:").unwrap_or(&up).to_string();
        Self::ALL
            .into_iter()
            .find(|t| t.label()[4..] == up)
            .ok_or(DecodeError::UnknownValue {
                what: "TLP label name",
                value: 0,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_values_round_trip_and_unknown_values_are_refused() {
        for c in Classification::ALL {
            assert_eq!(Classification::from_wire(c.wire()), Ok(c));
        }
        for t in Tlp::ALL {
            assert_eq!(Tlp::from_wire(t.wire()), Ok(t));
        }
        assert!(Classification::from_wire(5).is_err());
        assert!(Tlp::from_wire(0xff).is_err());
    }

    #[test]
    fn names_parse_in_both_languages() {
        assert_eq!("restreint-ue".parse(), Ok(Classification::RestreintUe));
        assert_eq!("EU SECRET".parse(), Ok(Classification::SecretUe));
        assert_eq!("amber+strict".parse(), Ok(Tlp::AmberStrict));
        assert_eq!("TLP:RED".parse(), Ok(Tlp::Red));
        assert!("TLP:WHITE".parse::<Tlp>().is_err());
    }

    #[test]
    fn lq1_is_refused_from_confidentiel_up_and_supplied_key_from_secret_up() {
        let p = |c: Classification, s, k| c.min_policy().permits(s, k);
        assert!(p(Classification::RestreintUe, Suite::Lq1, false));
        assert!(!p(Classification::ConfidentielUe, Suite::Lq1, true));
        assert!(p(Classification::ConfidentielUe, Suite::Lq2, false));
        assert!(!p(Classification::SecretUe, Suite::Lq2, false));
        assert!(p(Classification::TresSecretUe, Suite::Lq2, true));
    }
}
