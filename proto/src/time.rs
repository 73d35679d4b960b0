//! Wall-clock time as the protocol sees it: seconds since the Unix epoch, passed in by the
//! caller (the crate never reads a clock). Certificates, envelopes and receipts carry it.

use core::fmt;

/// Seconds since 1970-01-01T00:00:00Z (UTC), as carried on the wire (`u64`, big-endian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixTime(pub u64);

impl UnixTime {
    /// `self + seconds`, saturating.
    pub const fn plus_secs(self, seconds: u64) -> Self {
        Self(self.0.saturating_add(seconds))
    }

    /// `self - seconds`, saturating at the epoch.
    pub const fn minus_secs(self, seconds: u64) -> Self {
        Self(self.0.saturating_sub(seconds))
    }

    /// Seconds from `earlier` to `self` (0 if `earlier` is later).
    pub const fn secs_since(self, earlier: Self) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}", self.0)
    }
}
