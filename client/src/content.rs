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
use serde_json::{Map, Value};

use crate::store::IntoMessageId;

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

// ---------------------------------------------------------------------------------------
// STIX 2.1
// ---------------------------------------------------------------------------------------

/// STIX Domain Objects (STIX 2.1 §4).
const SDO_TYPES: &[&str] = &[
    "attack-pattern",
    "campaign",
    "course-of-action",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "location",
    "malware",
    "malware-analysis",
    "note",
    "observed-data",
    "opinion",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
];
/// Relationship and meta objects (§5, §7).
const OTHER_TYPES: &[&str] = &[
    "relationship",
    "sighting",
    "marking-definition",
    "language-content",
    "extension-definition",
];
/// STIX Cyber-observable Objects (§6): `created`/`modified` do not apply.
const SCO_TYPES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];
/// SDOs whose `name` is required.
const NAMED_TYPES: &[&str] = &[
    "attack-pattern",
    "campaign",
    "course-of-action",
    "grouping",
    "identity",
    "infrastructure",
    "intrusion-set",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
    "incident",
];
/// Properties that hold a STIX timestamp wherever they appear on an object.
const TIMESTAMP_PROPERTIES: &[&str] = &[
    "created",
    "modified",
    "valid_from",
    "valid_until",
    "first_seen",
    "last_seen",
    "published",
    "first_observed",
    "last_observed",
    "start_time",
    "stop_time",
];
/// Properties that hold one identifier.
const REF_PROPERTIES: &[&str] = &[
    "created_by_ref",
    "source_ref",
    "target_ref",
    "sighting_of_ref",
];
/// Properties that hold a list of identifiers.
const REFS_PROPERTIES: &[&str] = &[
    "object_refs",
    "object_marking_refs",
    "observed_data_refs",
    "where_sighted_refs",
];

/// Validates a STIX 2.1 bundle (see the module docs for the rules covered).
pub fn validate_stix_bundle(bytes: &[u8]) -> Result<(), ContentError> {
    let root = parse_json(bytes)?;
    let err = |path: &str, problem: String| ContentError::Stix {
        path: path.to_string(),
        problem,
    };
    let Value::Object(bundle) = &root else {
        return Err(err("$", "a STIX bundle must be a JSON object".into()));
    };
    match bundle.get("type") {
        Some(Value::String(t)) if t == "bundle" => {}
        Some(other) => {
            return Err(err("type", format!("{} is not \"bundle\"", short(other))));
        }
        None => return Err(err("type", "missing (must be \"bundle\")".into())),
    }
    match bundle.get("spec_version") {
        Some(Value::String(v)) if v == "2.0" => {
            return Err(err(
                "spec_version",
                "this is a STIX 2.0 bundle; only STIX 2.1 is accepted".into(),
            ));
        }
        _ => {}
    }
    check_identifier(bundle.get("id"), "id", Some("bundle")).map_err(|p| err("id", p))?;
    let objects = match bundle.get("objects") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) => {
            return Err(err("objects", "the bundle holds no objects".into()));
        }
        Some(other) => return Err(err("objects", format!("{} is not an array", short(other)))),
        None => {
            return Err(err(
                "objects",
                "missing: a report bundle needs objects".into(),
            ));
        }
    };
    let mut seen: std::collections::HashMap<(String, String), usize> = Default::default();
    for (i, object) in objects.iter().enumerate() {
        let base = format!("objects[{i}]");
        let Value::Object(obj) = object else {
            return Err(err(&base, format!("{} is not an object", short(object))));
        };
        check_stix_object(obj).map_err(|(prop, problem)| ContentError::Stix {
            path: if prop.is_empty() {
                base.clone()
            } else {
                format!("{base}.{prop}")
            },
            problem,
        })?;
        let id = obj.get("id").and_then(Value::as_str).unwrap_or_default();
        let modified = obj
            .get("modified")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if let Some(first) = seen.insert((id.to_string(), modified.to_string()), i) {
            return Err(err(
                &format!("{base}.id"),
                format!("{id:?} appears twice with the same modified time (also objects[{first}])"),
            ));
        }
    }
    Ok(())
}

/// Checks one object; the error is `(property path relative to the object, problem)`.
fn check_stix_object(obj: &Map<String, Value>) -> Result<(), (String, String)> {
    let at = |p: &str, problem: String| (p.to_string(), problem);
    let ty = match obj.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(other) => return Err(at("type", format!("{} is not a string", short(other)))),
        None => return Err(at("type", "missing".into())),
    };
    if !valid_type_name(ty) {
        return Err(at(
            "type",
            format!("{ty:?} is not a STIX type name (3-250 of a-z, 0-9, '-')"),
        ));
    }
    if ty == "bundle" {
        return Err(at("type", "a bundle cannot contain a bundle".into()));
    }
    check_identifier(obj.get("id"), "id", Some(ty)).map_err(|p| at("id", p))?;
    let is_sco = SCO_TYPES.contains(&ty);
    let known = is_sco || SDO_TYPES.contains(&ty) || OTHER_TYPES.contains(&ty);
    let by_extension = obj
        .get("extensions")
        .and_then(Value::as_object)
        .is_some_and(|e| e.keys().any(|k| k.starts_with("extension-definition--")));
    if !known && !ty.starts_with("x-") && !by_extension {
        return Err(at(
            "type",
            format!(
                "{ty:?} is not a STIX 2.1 object type (custom types start with \"x-\" or are \
                 defined by an extension-definition)"
            ),
        ));
    }
    match obj.get("spec_version") {
        Some(Value::String(v)) if v == "2.1" => {}
        Some(other) => {
            return Err(at(
                "spec_version",
                format!("{} must be \"2.1\"", short(other)),
            ));
        }
        None if is_sco => {}
        None => return Err(at("spec_version", "missing (must be \"2.1\")".into())),
    }
    for prop in TIMESTAMP_PROPERTIES {
        if let Some(v) = obj.get(*prop) {
            check_timestamp(v).map_err(|p| at(prop, p))?;
        }
    }
    if !is_sco {
        let needs_modified = ty != "marking-definition";
        if !obj.contains_key("created") {
            return Err(at(
                "created",
                format!("missing (required on {})", with_article(ty)),
            ));
        }
        if needs_modified && !obj.contains_key("modified") {
            return Err(at(
                "modified",
                format!("missing (required on {})", with_article(ty)),
            ));
        }
        if let (Some(c), Some(m)) = (obj.get("created"), obj.get("modified"))
            && timestamp_key(m) < timestamp_key(c)
        {
            return Err(at(
                "modified",
                format!("{} is earlier than created {}", short(m), short(c)),
            ));
        }
    }
    for prop in REF_PROPERTIES {
        if let Some(v) = obj.get(*prop) {
            let expected = (*prop == "created_by_ref").then_some("identity");
            check_identifier(Some(v), prop, expected).map_err(|p| at(prop, p))?;
        }
    }
    for prop in REFS_PROPERTIES {
        if let Some(v) = obj.get(*prop) {
            let Value::Array(items) = v else {
                return Err(at(
                    prop,
                    format!("{} is not a list of identifiers", short(v)),
                ));
            };
            let expected = (*prop == "object_marking_refs").then_some("marking-definition");
            for (j, item) in items.iter().enumerate() {
                check_identifier(Some(item), prop, expected)
                    .map_err(|p| at(&format!("{prop}[{j}]"), p))?;
            }
        }
    }
    if NAMED_TYPES.contains(&ty) {
        require_string(obj, "name", ty).map_err(|(p, m)| at(&p, m))?;
    }
    match ty {
        "indicator" => check_indicator(obj)?,
        "relationship" => {
            require_string(obj, "relationship_type", ty).map_err(|(p, m)| at(&p, m))?;
            for prop in ["source_ref", "target_ref"] {
                if !obj.contains_key(prop) {
                    return Err(at(prop, "missing (required on a relationship)".into()));
                }
            }
        }
        "sighting" if !obj.contains_key("sighting_of_ref") => {
            return Err(at(
                "sighting_of_ref",
                "missing (required on a sighting)".into(),
            ));
        }
        "report" => {
            if !obj.contains_key("published") {
                return Err(at("published", "missing (required on a report)".into()));
            }
            require_nonempty_refs(obj, "object_refs", ty).map_err(|(p, m)| at(&p, m))?;
        }
        "grouping" => {
            require_string(obj, "context", ty).map_err(|(p, m)| at(&p, m))?;
            require_nonempty_refs(obj, "object_refs", ty).map_err(|(p, m)| at(&p, m))?;
        }
        "note" => {
            require_string(obj, "content", ty).map_err(|(p, m)| at(&p, m))?;
            require_nonempty_refs(obj, "object_refs", ty).map_err(|(p, m)| at(&p, m))?;
        }
        "malware" => match obj.get("is_family") {
            Some(Value::Bool(true)) => {
                require_string(obj, "name", "malware family").map_err(|(p, m)| at(&p, m))?;
            }
            Some(Value::Bool(false)) => {}
            Some(other) => {
                return Err(at(
                    "is_family",
                    format!("{} is not a boolean", short(other)),
                ));
            }
            None => return Err(at("is_family", "missing (required on a malware)".into())),
        },
        "observed-data" => {
            for prop in ["first_observed", "last_observed"] {
                if !obj.contains_key(prop) {
                    return Err(at(prop, "missing (required on observed-data)".into()));
                }
            }
            match obj.get("number_observed").and_then(Value::as_u64) {
                Some(1..=999_999_999) => {}
                _ => {
                    return Err(at(
                        "number_observed",
                        "must be an integer in 1..=999999999".into(),
                    ));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn check_indicator(obj: &Map<String, Value>) -> Result<(), (String, String)> {
    let at = |p: &str, problem: String| (p.to_string(), problem);
    let pattern = require_string(obj, "pattern", "indicator").map_err(|(p, m)| at(&p, m))?;
    let pattern_type =
        require_string(obj, "pattern_type", "indicator").map_err(|(p, m)| at(&p, m))?;
    if !obj.contains_key("valid_from") {
        return Err(at(
            "valid_from",
            "missing (required on an indicator)".into(),
        ));
    }
    if let (Some(from), Some(until)) = (obj.get("valid_from"), obj.get("valid_until"))
        && timestamp_key(until) <= timestamp_key(from)
    {
        return Err(at(
            "valid_until",
            format!(
                "{} is not later than valid_from {}",
                short(until),
                short(from)
            ),
        ));
    }
    if pattern_type == "stix" {
        check_stix_pattern(pattern).map_err(|p| at("pattern", p))?;
    }
    Ok(())
}

/// A structural check of a STIX patterning expression: it starts with an observation
/// expression `[`, its quotes are closed and its brackets and parentheses balance.
fn check_stix_pattern(pattern: &str) -> Result<(), String> {
    let trimmed = pattern.trim_start();
    if !(trimmed.starts_with('[') || trimmed.starts_with('(')) {
        return Err(format!(
            "{:?} is not a STIX pattern (it must start with an observation like \"[ipv4-addr:value = '198.51.100.1']\")",
            truncate(pattern, 60)
        ));
    }
    let mut stack = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => loop {
                match chars.next() {
                    Some('\\') => {
                        chars.next();
                    }
                    Some('\'') => break,
                    Some(_) => {}
                    None => return Err("unterminated quoted string".into()),
                }
            },
            '[' | '(' => stack.push(c),
            ']' | ')' => {
                let open = if c == ']' { '[' } else { '(' };
                if stack.pop() != Some(open) {
                    return Err(format!("unbalanced {c:?}"));
                }
            }
            _ => {}
        }
    }
    if let Some(open) = stack.pop() {
        return Err(format!("unclosed {open:?}"));
    }
    if !pattern.contains(':') {
        return Err("no object path (like file:hashes.'SHA-256') in the pattern".into());
    }
    Ok(())
}

fn require_string<'a>(
    obj: &'a Map<String, Value>,
    prop: &str,
    on: &str,
) -> Result<&'a str, (String, String)> {
    match obj.get(prop) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) => Err((prop.to_string(), "must not be empty".into())),
        Some(other) => Err((
            prop.to_string(),
            format!("{} is not a string", short(other)),
        )),
        None => Err((
            prop.to_string(),
            format!("missing (required on {})", with_article(on)),
        )),
    }
}

fn require_nonempty_refs(
    obj: &Map<String, Value>,
    prop: &str,
    on: &str,
) -> Result<(), (String, String)> {
    match obj.get(prop) {
        Some(Value::Array(a)) if !a.is_empty() => Ok(()),
        Some(_) => Err((prop.to_string(), "must be a non-empty list".into())),
        None => Err((
            prop.to_string(),
            format!("missing (required on {})", with_article(on)),
        )),
    }
}

/// Checks `<type>--<UUID>`; with `expected_type`, the type part must be it.
fn check_identifier(
    value: Option<&Value>,
    what: &str,
    expected_type: Option<&str>,
) -> Result<(), String> {
    let s = match value {
        Some(Value::String(s)) => s,
        Some(other) => return Err(format!("{} is not a string", short(other))),
        None => return Err(format!("missing ({what} is required)")),
    };
    let Some((ty, uuid)) = s.split_once("--") else {
        return Err(format!("{:?} is not \"<type>--<UUID>\"", truncate(s, 80)));
    };
    if !valid_type_name(ty) || !valid_uuid(uuid) {
        return Err(format!("{:?} is not \"<type>--<UUID>\"", truncate(s, 80)));
    }
    if let Some(expected) = expected_type
        && ty != expected
    {
        return Err(format!(
            "{:?} must name a {expected} (\"{expected}--<UUID>\")",
            truncate(s, 80)
        ));
    }
    Ok(())
}

fn valid_type_name(t: &str) -> bool {
    (3..=250).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !t.starts_with('-')
        && !t.ends_with('-')
        && !t.contains("--")
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

/// STIX timestamps: `YYYY-MM-DDTHH:MM:SS[.s+]Z`, UTC, a real calendar date.
fn check_timestamp(v: &Value) -> Result<(), String> {
    let Value::String(s) = v else {
        return Err(format!("{} is not a timestamp string", short(v)));
    };
    parse_timestamp(s).map(|_| ()).ok_or_else(|| {
        format!(
            "{:?} is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.sss]Z, UTC)",
            truncate(s, 40)
        )
    })
}

/// A sortable key for a timestamp value (seconds since the epoch, fraction padded to 9
/// digits); invalid timestamps sort first (they are reported separately).
fn timestamp_key(v: &Value) -> Option<(i64, u32)> {
    v.as_str().and_then(parse_timestamp)
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
// MISP
// ---------------------------------------------------------------------------------------

/// MISP attribute categories (MISP core format, `describeTypes`).
const MISP_CATEGORIES: &[&str] = &[
    "Internal reference",
    "Targeting data",
    "Antivirus detection",
    "Payload delivery",
    "Artifacts dropped",
    "Payload installation",
    "Persistence mechanism",
    "Network activity",
    "Payload type",
    "Attribution",
    "External analysis",
    "Financial fraud",
    "Support Tool",
    "Social network",
    "Person",
    "Other",
];

/// MISP attribute types (the core set of MISP's `describeTypes`).
const MISP_TYPES: &[&str] = &[
    "md5",
    "sha1",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "sha512/224",
    "sha512/256",
    "sha3-224",
    "sha3-256",
    "sha3-384",
    "sha3-512",
    "ssdeep",
    "imphash",
    "telfhash",
    "impfuzzy",
    "authentihash",
    "vhash",
    "pehash",
    "tlsh",
    "cdhash",
    "filename",
    "filename|md5",
    "filename|sha1",
    "filename|sha224",
    "filename|sha256",
    "filename|sha384",
    "filename|sha512",
    "filename|sha512/224",
    "filename|sha512/256",
    "filename|sha3-224",
    "filename|sha3-256",
    "filename|sha3-384",
    "filename|sha3-512",
    "filename|authentihash",
    "filename|vhash",
    "filename|ssdeep",
    "filename|tlsh",
    "filename|imphash",
    "filename|impfuzzy",
    "filename|pehash",
    "mac-address",
    "mac-eui-64",
    "ip-src",
    "ip-dst",
    "ip-dst|port",
    "ip-src|port",
    "port",
    "hostname",
    "domain",
    "domain|ip",
    "email",
    "email-src",
    "eppn",
    "email-dst",
    "email-subject",
    "email-attachment",
    "email-body",
    "email-dst-display-name",
    "email-src-display-name",
    "email-header",
    "email-reply-to",
    "email-x-mailer",
    "email-mime-boundary",
    "email-thread-index",
    "email-message-id",
    "url",
    "uri",
    "user-agent",
    "http-method",
    "AS",
    "snort",
    "bro",
    "zeek",
    "pattern-in-file",
    "pattern-in-traffic",
    "pattern-in-memory",
    "filename-pattern",
    "pgp-public-key",
    "pgp-private-key",
    "yara",
    "stix2-pattern",
    "sigma",
    "gene",
    "kusto-query",
    "mime-type",
    "identity-card-number",
    "cookie",
    "vulnerability",
    "cpe",
    "weakness",
    "attachment",
    "malware-sample",
    "link",
    "comment",
    "text",
    "hex",
    "other",
    "named pipe",
    "mutex",
    "process-state",
    "target-user",
    "target-email",
    "target-machine",
    "target-org",
    "target-location",
    "target-external",
    "btc",
    "dash",
    "xmr",
    "iban",
    "bic",
    "bank-account-nr",
    "aba-rtn",
    "bin",
    "cc-number",
    "prtn",
    "phone-number",
    "threat-actor",
    "campaign-name",
    "campaign-id",
    "malware-type",
    "regkey",
    "regkey|value",
    "x509-fingerprint-sha1",
    "x509-fingerprint-md5",
    "x509-fingerprint-sha256",
    "dns-soa-email",
    "size-in-bytes",
    "counter",
    "datetime",
    "ja3-fingerprint-md5",
    "jarm-fingerprint",
    "hassh-md5",
    "hasshserver-md5",
    "github-username",
    "github-repository",
    "github-organisation",
    "jabber-id",
    "twitter-id",
    "dkim",
    "dkim-signature",
    "first-name",
    "middle-name",
    "last-name",
    "full-name",
    "date-of-birth",
    "place-of-birth",
    "gender",
    "passport-number",
    "passport-country",
    "passport-expiration",
    "redress-number",
    "nationality",
    "visa-number",
    "issue-date-of-the-visa",
    "primary-residence",
    "country-of-residence",
    "special-service-request",
    "frequent-flyer-number",
    "travel-details",
    "payment-details",
    "place-port-of-original-embarkation",
    "place-port-of-clearance",
    "place-port-of-onward-foreign-destination",
    "passenger-name-record-locator-number",
    "mobile-application-id",
    "chrome-extension-id",
    "cortex",
    "boolean",
    "anonymised",
    "float",
    "integer",
    "community-id",
    "onion-address",
    "favicon-mmh3",
    "azure-application-id",
];

/// Validates a MISP event in the MISP core format (`{"Event": {…}}`).
pub fn validate_misp_event(bytes: &[u8]) -> Result<(), ContentError> {
    let root = parse_json(bytes)?;
    let err = |path: &str, problem: String| ContentError::Misp {
        path: path.to_string(),
        problem,
    };
    let Value::Object(top) = &root else {
        return Err(err("$", "a MISP event must be a JSON object".into()));
    };
    let event = match top.get("Event") {
        Some(Value::Object(e)) => e,
        Some(other) => return Err(err("Event", format!("{} is not an object", short(other)))),
        None => {
            return Err(err(
                "Event",
                "missing: a MISP event file is {\"Event\": {...}}".into(),
            ));
        }
    };
    match event.get("info") {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        Some(Value::String(_)) => return Err(err("Event.info", "must not be empty".into())),
        Some(other) => {
            return Err(err(
                "Event.info",
                format!("{} is not a string", short(other)),
            ));
        }
        None => return Err(err("Event.info", "missing (the event's title)".into())),
    }
    if let Some(v) = event.get("uuid") {
        check_misp_uuid(v).map_err(|p| err("Event.uuid", p))?;
    }
    if let Some(v) = event.get("date") {
        let ok = v
            .as_str()
            .is_some_and(|s| s.len() == 10 && parse_timestamp(&format!("{s}T00:00:00Z")).is_some());
        if !ok {
            return Err(err(
                "Event.date",
                format!("{} is not a date YYYY-MM-DD", short(v)),
            ));
        }
    }
    for (field, range) in [
        ("threat_level_id", 1..=4),
        ("analysis", 0..=2),
        ("distribution", 0..=4),
    ] {
        if let Some(v) = event.get(field) {
            check_misp_enum(v, range.clone()).map_err(|p| err(&format!("Event.{field}"), p))?;
        }
    }
    if let Some(v) = event.get("published")
        && !v.is_boolean()
    {
        return Err(err(
            "Event.published",
            format!("{} is not a boolean", short(v)),
        ));
    }
    if let Some(v) = event.get("Attribute") {
        let Value::Array(attrs) = v else {
            return Err(err(
                "Event.Attribute",
                format!("{} is not an array", short(v)),
            ));
        };
        for (i, a) in attrs.iter().enumerate() {
            check_misp_attribute(a, false)
                .map_err(|(p, m)| err(&format!("Event.Attribute[{i}]{p}"), m))?;
        }
    }
    if let Some(v) = event.get("Object") {
        let Value::Array(objects) = v else {
            return Err(err("Event.Object", format!("{} is not an array", short(v))));
        };
        for (i, o) in objects.iter().enumerate() {
            let base = format!("Event.Object[{i}]");
            let Value::Object(obj) = o else {
                return Err(err(&base, format!("{} is not an object", short(o))));
            };
            match obj.get("name") {
                Some(Value::String(s)) if !s.is_empty() => {}
                _ => return Err(err(&format!("{base}.name"), "missing or empty".into())),
            }
            if let Some(u) = obj.get("uuid") {
                check_misp_uuid(u).map_err(|p| err(&format!("{base}.uuid"), p))?;
            }
            match obj.get("Attribute") {
                Some(Value::Array(attrs)) if !attrs.is_empty() => {
                    for (j, a) in attrs.iter().enumerate() {
                        check_misp_attribute(a, true)
                            .map_err(|(p, m)| err(&format!("{base}.Attribute[{j}]{p}"), m))?;
                    }
                }
                _ => {
                    return Err(err(
                        &format!("{base}.Attribute"),
                        "an object needs a non-empty Attribute list".into(),
                    ));
                }
            }
        }
    }
    if let Some(v) = event.get("Tag") {
        let Value::Array(tags) = v else {
            return Err(err("Event.Tag", format!("{} is not an array", short(v))));
        };
        for (i, t) in tags.iter().enumerate() {
            if t.get("name")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(err(
                    &format!("Event.Tag[{i}].name"),
                    "missing or empty".into(),
                ));
            }
        }
    }
    Ok(())
}

/// Checks one attribute; the error path is relative (`.type`, `.value`, …).
fn check_misp_attribute(a: &Value, in_object: bool) -> Result<(), (String, String)> {
    let at = |p: &str, m: String| (p.to_string(), m);
    let Value::Object(attr) = a else {
        return Err(at("", format!("{} is not an object", short(a))));
    };
    match attr.get("type") {
        Some(Value::String(t)) if MISP_TYPES.contains(&t.as_str()) => {}
        Some(Value::String(t)) => {
            return Err(at(
                ".type",
                format!("{:?} is not a MISP attribute type", truncate(t, 60)),
            ));
        }
        Some(other) => return Err(at(".type", format!("{} is not a string", short(other)))),
        None => return Err(at(".type", "missing".into())),
    }
    match attr.get("value") {
        Some(Value::String(s)) if !s.is_empty() => {}
        Some(Value::Number(_)) => {}
        Some(Value::String(_)) => return Err(at(".value", "must not be empty".into())),
        Some(other) => return Err(at(".value", format!("{} is not a string", short(other)))),
        None => return Err(at(".value", "missing".into())),
    }
    if let Some(c) = attr.get("category") {
        match c.as_str() {
            Some(s) if MISP_CATEGORIES.contains(&s) => {}
            _ => {
                return Err(at(
                    ".category",
                    format!("{} is not a MISP category", short(c)),
                ));
            }
        }
    }
    if let Some(v) = attr.get("to_ids") {
        let ok = v.is_boolean() || matches!(v.as_str(), Some("0" | "1"));
        if !ok {
            return Err(at(".to_ids", format!("{} is not a boolean", short(v))));
        }
    }
    if let Some(v) = attr.get("distribution") {
        check_misp_enum(v, 0..=5).map_err(|p| at(".distribution", p))?;
    }
    if let Some(v) = attr.get("uuid") {
        check_misp_uuid(v).map_err(|p| at(".uuid", p))?;
    }
    if in_object {
        match attr.get("object_relation") {
            Some(Value::String(s)) if !s.is_empty() => {}
            _ => {
                return Err(at(
                    ".object_relation",
                    "missing (required on an object's attribute)".into(),
                ));
            }
        }
    }
    Ok(())
}

fn check_misp_uuid(v: &Value) -> Result<(), String> {
    match v.as_str() {
        Some(s) if valid_uuid(s) => Ok(()),
        _ => Err(format!("{} is not a UUID", short(v))),
    }
}

/// MISP writes small enumerations as strings (`"1"`) or numbers.
fn check_misp_enum(v: &Value, range: std::ops::RangeInclusive<u64>) -> Result<(), String> {
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse::<u64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if range.contains(&n) => Ok(()),
        _ => Err(format!(
            "{} is not one of {}..={}",
            short(v),
            range.start(),
            range.end()
        )),
    }
}

// ---------------------------------------------------------------------------------------
// shared
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
