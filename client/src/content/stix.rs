//! STIX 2.1 bundle validation (OASIS STIX 2.1, 2021): the common properties of every object,
//! identifier and timestamp formats, reference properties, and the required properties of the
//! object types incident reports use. The first problem is reported with its JSON path.

use serde_json::{Map, Value};

use super::{ContentError, parse_json, parse_timestamp, short, truncate, valid_uuid, with_article};

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
pub(super) fn check_stix_pattern(pattern: &str) -> Result<(), String> {
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
