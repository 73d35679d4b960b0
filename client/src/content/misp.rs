//! MISP event validation (MISP core format, `{"Event": {…}}`): the event's title, dates and
//! enumerations, attribute types and categories, objects and tags. The first problem is
//! reported with its JSON path.

use serde_json::Value;

use super::{ContentError, parse_json, parse_timestamp, short, truncate, valid_uuid};

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
