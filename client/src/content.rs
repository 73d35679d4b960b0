//! Incident-report content: recognising what a file is (STIX 2.1 bundle, MISP event, text,
//! attachment), validating STIX and MISP before they are sent, and naming received reports
//! when they are written back out in their original format.
//!
//! Validation stops at the first problem and names it with a JSON path, e.g.
//! `objects[2].id: "indicator--xyz" is not "<type>--<UUID>"`, so an officer can fix the file.
//! It covers the rules of STIX 2.1 (OASIS, 2021) that decide whether another CSIRT's tooling
//! will ingest a bundle — common properties (`type`, `id`, `spec_version`, `created`,
//! `modified`, reference formats, timestamp format), the required properties of indicators,
//! relationships, sightings, reports, malware and named objects — and the core fields of the
//! MISP event format (`Event.info`, dates, enumerations, attribute types and categories,
//! objects). It is not a full schema validator: custom properties pass untouched.

use std::path::Path;

use liaison_proto::envelope::{ContentType, MAX_FILENAME_LEN};
use serde_json::Value;

use crate::store::IntoMessageId;

mod misp;
mod stix;

pub use misp::validate_misp_event;
pub use stix::validate_stix_bundle;

/// Errors of report validation. Each names the JSON path and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContentError {
    /// The bytes are not JSON at all.
    #[error("not valid JSON (line {line}, column {column}): {reason}")]
    NotJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        reason: String,
    },
    /// Text content is not UTF-8.
    #[error(
        "text is not valid UTF-8 (first bad byte at offset {offset}); send it as an attachment"
    )]
    NotUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// A STIX 2.1 rule is broken at `path`.
    #[error("invalid STIX 2.1 bundle: {path}: {problem}")]
    Stix {
        /// JSON path, e.g. `objects[2].id`.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// A MISP event rule is broken at `path`.
    #[error("invalid MISP event: {path}: {problem}")]
    Misp {
        /// JSON path, e.g. `Event.Attribute[3].type`.
        path: String,
        /// What is wrong.
        problem: String,
    },
}

impl ContentError {
    /// The JSON path at fault (empty when the whole input is unreadable).
    pub fn path(&self) -> &str {
        match self {
            Self::Stix { path, .. } | Self::Misp { path, .. } => path,
            Self::NotJson { .. } | Self::NotUtf8 { .. } => "",
        }
    }
}

/// Guesses what `bytes` (read from `path`; `-` for stdin) are: JSON with `"type": "bundle"`
/// → STIX, JSON with an `"Event"` object → MISP, other UTF-8 → text, anything else → an
/// attachment named after the file.
pub fn detect(path: &Path, bytes: &[u8]) -> ContentType {
    if let Ok(text) = std::str::from_utf8(bytes) {
        if text.trim_start().starts_with('{')
            && let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(text)
        {
            if obj.get("type").and_then(Value::as_str) == Some("bundle") {
                return ContentType::Stix21Bundle;
            }
            if obj.get("Event").is_some_and(Value::is_object) {
                return ContentType::MispEvent;
            }
        }
        if !text.contains('\0') {
            return ContentType::Text;
        }
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| n != "-")
        .unwrap_or_default();
    ContentType::Attachment {
        filename: sanitize_file_name(&name),
    }
}

/// Validates content of `content_type` (STIX and MISP are checked, text must be UTF-8,
/// attachments pass).
pub fn validate(content_type: &ContentType, bytes: &[u8]) -> Result<(), ContentError> {
    match content_type {
        ContentType::Stix21Bundle => validate_stix_bundle(bytes),
        ContentType::MispEvent => validate_misp_event(bytes),
        ContentType::Text => {
            std::str::from_utf8(bytes)
                .map(|_| ())
                .map_err(|e| ContentError::NotUtf8 {
                    offset: e.valid_up_to(),
                })
        }
        ContentType::Attachment { .. } => Ok(()),
    }
}

/// The file name a received report is written under, in its original format:
/// `<message id>.stix.json`, `<message id>.misp.json`, `<message id>.txt`, or the
/// attachment's own name made safe by [`sanitize_file_name`].
pub fn output_file_name(content_type: &ContentType, message_id: impl IntoMessageId) -> String {
    let id = message_id.into_message_id();
    match content_type {
        ContentType::Stix21Bundle => format!("{id}.stix.json"),
        ContentType::MispEvent => format!("{id}.misp.json"),
        ContentType::Text => format!("{id}.txt"),
        ContentType::Attachment { filename } => sanitize_file_name(filename),
    }
}

/// Makes a sender-chosen file name safe to create in a directory: only the last path
/// component, no control characters, no leading dots or spaces (no hidden files, no `..`),
/// at most 255 bytes; `attachment.bin` if nothing is left.
pub fn sanitize_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).collect();
    let trimmed = cleaned.trim_start_matches(['.', ' ']).trim_end();
    let mut out = String::new();
    for c in trimmed.chars() {
        if out.len() + c.len_utf8() > MAX_FILENAME_LEN {
            break;
        }
        out.push(c);
    }
    if out.is_empty() {
        "attachment.bin".to_string()
    } else {
        out
    }
}

/// Formats seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
///
/// ```
/// assert_eq!(liaison_client::content::format_utc(0), "1970-01-01T00:00:00Z");
/// assert_eq!(liaison_client::content::format_utc(1_700_000_000), "2023-11-14T22:13:20Z");
/// ```
pub fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64; // ok: u64 seconds / 86400 fits i64
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// An RFC 4122 UUID in its 8-4-4-4-12 hex form, variant bits `10xx`.
fn valid_uuid(u: &str) -> bool {
    let b = u.as_bytes();
    if b.len() != 36 {
        return false;
    }
    for (i, c) in b.iter().enumerate() {
        let dash = matches!(i, 8 | 13 | 18 | 23);
        if dash != (*c == b'-') || (!dash && !c.is_ascii_hexdigit()) {
            return false;
        }
    }
    matches!(b[19], b'8' | b'9' | b'a' | b'b' | b'A' | b'B')
}

fn parse_timestamp(s: &str) -> Option<(i64, u32)> {
    let b = s.as_bytes();
    if b.len() < 20 || b.last() != Some(&b'Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo)
        || d == 0
        || d > days_in_month(y, mo)
        || h > 23
        || mi > 59
        || sec > 60
    {
        return None;
    }
    let frac = &s[19..s.len() - 1];
    let nanos = if frac.is_empty() {
        0
    } else {
        let digits = frac.strip_prefix('.')?;
        if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        format!("{digits:0<9}").parse().ok()?
    };
    let days = days_from_civil(i64::from(y), mo, d);
    Some((days * 86_400 + i64::from(h * 3600 + mi * 60 + sec), nanos))
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01 (inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32; // ok: 1..=31
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // ok: 1..=12
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

// ---------------------------------------------------------------------------------------
// helpers shared by the STIX and MISP validators
// ---------------------------------------------------------------------------------------

fn parse_json(bytes: &[u8]) -> Result<Value, ContentError> {
    serde_json::from_slice(bytes).map_err(|e| ContentError::NotJson {
        line: e.line(),
        column: e.column(),
        reason: e.to_string(),
    })
}

/// A short rendering of a JSON value for error messages.
fn short(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{:?}", truncate(s, 60)),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
        other => truncate(&other.to_string(), 60).to_string(),
    }
}

/// `"a malware"`, `"an indicator"`.
fn with_article(noun: &str) -> String {
    let vowel = noun.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {noun}", if vowel { "an" } else { "a" })
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::stix::check_stix_pattern;
    use super::*;

    #[test]
    fn timestamps_follow_the_stix_format_and_calendar() {
        assert!(parse_timestamp("2026-11-23T10:00:00Z").is_some());
        assert!(parse_timestamp("2026-11-23T10:00:00.123Z").is_some());
        assert!(parse_timestamp("2024-02-29T00:00:00Z").is_some());
        assert!(parse_timestamp("2026-02-29T00:00:00Z").is_none());
        assert!(parse_timestamp("2026-11-23 10:00:00Z").is_none());
        assert!(parse_timestamp("2026-11-23T10:00:00+01:00").is_none());
        assert!(parse_timestamp("2026-11-23T10:00:00.Z").is_none());
        assert!(
            parse_timestamp("2026-11-23T10:00:00.5Z") > parse_timestamp("2026-11-23T10:00:00.25Z")
        );
    }

    #[test]
    fn civil_conversions_agree() {
        for days in [-1, 0, 1, 59, 365, 10_957, 20_000, 50_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(
            parse_timestamp("2023-11-14T22:13:20Z"),
            Some((1_700_000_000, 0))
        );
    }

    #[test]
    fn uuids_need_the_rfc4122_shape() {
        assert!(valid_uuid("6ba7b810-9dad-41d1-80b4-00c04fd430c8"));
        assert!(!valid_uuid("6ba7b810-9dad-41d1-c0b4-00c04fd430c8"));
        assert!(!valid_uuid("6ba7b8109dad41d180b400c04fd430c8"));
        assert!(!valid_uuid("xyz"));
    }

    #[test]
    fn patterns_must_balance() {
        assert!(check_stix_pattern("[ipv4-addr:value = '198.51.100.7']").is_ok());
        assert!(check_stix_pattern("[file:name = 'a]b']").is_ok());
        assert!(check_stix_pattern("[ipv4-addr:value = '198.51.100.7'").is_err());
        assert!(check_stix_pattern("ipv4-addr:value = '1'").is_err());
        assert!(check_stix_pattern("[file:name = 'x]").is_err());
    }

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("..\\evil.exe"), "evil.exe");
        assert_eq!(sanitize_file_name(".bashrc"), "bashrc");
        assert_eq!(sanitize_file_name("..."), "attachment.bin");
        assert_eq!(sanitize_file_name("a\nb.txt"), "ab.txt");
        assert_eq!(sanitize_file_name(&"é".repeat(200)).len(), 254);
    }
}
