//! Building blocks for the CEL validation rules (`x-kubernetes-validations`) of the API.
//!
//! Every rule is evaluated twice with the same text: by the API server at admission and by
//! [`crate::manifest`] before the CLI sends anything to Graph. Regular expressions are RE2
//! syntax (what both the API server and kube-cel accept) and avoid backslashes where a
//! character class does the job, so the rule text stays readable in `kubectl get crd -o yaml`.

use kube::core::{Message, Rule};

/// A directory object id (users, groups, applications, policies all use GUIDs).
pub const GUID: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
/// A user principal name: `local@domain.tld`, no spaces.
pub const UPN: &str = "^[^@ ]+@[^@ ]+[.][^@ ]+$";
/// A verified domain name such as `contoso.onmicrosoft.com`.
pub const DOMAIN: &str = "^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?[.])+[a-zA-Z]{2,63}$";
/// `<1-23>h`, `<1-365>d` or `everyTime` (the ranges the Entra admin center offers).
pub const SIGN_IN_FREQUENCY: &str =
    "^(([1-9]|1[0-9]|2[0-3])h|([1-9]|[1-9][0-9]|[12][0-9][0-9]|3[0-5][0-9]|36[0-5])d|everyTime)$";
/// An authentication context class reference id, `c1` to `c99` (`authenticationcontextclassreference.md`).
pub const AUTHENTICATION_CONTEXT: &str = "^c([1-9]|[1-9][0-9])$";
/// An IPv4 range in CIDR notation with a mask of /9 to /32 (entra-docs
/// `concept-assignment-network.md`: "Only CIDR masks greater than /8 are allowed").
pub const IPV4_CIDR: &str = "^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])[.]){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/(9|[12][0-9]|3[0-2])$";
/// An IPv6 range in CIDR notation with a mask of /9 to /128: hex groups and at most one `::`
/// (the full text grammar of RFC 4291 is checked by Graph; this catches typos and masks).
pub const IPV6_CIDR: &str = "^([0-9a-fA-F]{1,4}:){1,7}(:|[0-9a-fA-F]{1,4}|(:[0-9a-fA-F]{1,4}){1,6})/(9|[1-9][0-9]|1[01][0-9]|12[0-8])$";

/// ISO 3166-1 alpha-2 codes: the country and region codes named locations take
/// (`countrynamedlocation.md`; its examples are alpha-2 codes).
pub const COUNTRY_CODES: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// A Kubernetes namespace name (RFC 1123 label).
pub const NAMESPACE: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/// Plain HTTP is accepted only towards loopback (the simulator); everything else must be HTTPS
/// because client secrets and tokens travel on these connections.
/// (`\\[` is a CEL string escape that leaves the regex `\[`: a literal bracket of `[::1]`.)
pub const LOOPBACK_HTTP_URL: &str =
    r"^http://(localhost|127[.]0[.]0[.]1|\\[::1\\])(:[0-9]+)?(/.*)?$";

/// Upper bound of principal lists (users, groups, roles, apps, locations) in a policy.
/// Large populations belong in groups; the bound also keeps CEL cost estimates in budget.
pub const MAX_PRINCIPALS: u32 = 512;
/// Upper bound of one name or id string.
pub const MAX_NAME_LENGTH: u32 = 256;

/// `rule` failing with `message`, reported against the field the rule is attached to.
pub fn rule(rule: impl Into<String>, message: &str) -> Rule {
    Rule::new(rule).message(Message::Message(message.to_owned()))
}

/// `rule` on an object, reported against its child `field` (e.g. `.persistentBrowser`).
pub fn rule_at(rule_text: impl Into<String>, message: &str, field: &str) -> Rule {
    rule(rule_text, message).field_path(field)
}

/// Every item of a string list matches one of `patterns` or is one of `keywords`.
pub fn each_item(patterns: &[&str], keywords: &[&str], message: &str) -> Rule {
    let mut alternatives: Vec<String> = patterns
        .iter()
        .map(|p| format!("x.matches('{p}')"))
        .collect();
    if !keywords.is_empty() {
        let quoted: Vec<String> = keywords.iter().map(|k| format!("'{k}'")).collect();
        alternatives.push(format!("x in [{}]", quoted.join(", ")));
    }
    rule(
        format!("self.all(x, {})", alternatives.join(" || ")),
        message,
    )
}

/// A string field matches `pattern`.
pub fn matches(pattern: &str, message: &str) -> Rule {
    rule(format!("self.matches('{pattern}')"), message)
}

/// A keyword such as `All` may only appear alone in a list.
pub fn alone(keyword: &str, message: &str) -> Rule {
    rule(
        format!("!('{keyword}' in self) || size(self) == 1"),
        message,
    )
}

/// None of `keywords` may appear in the list.
pub fn none_of(keywords: &[&str], message: &str) -> Rule {
    let quoted: Vec<String> = keywords.iter().map(|k| format!("'{k}'")).collect();
    rule(
        format!("!self.exists(x, x in [{}])", quoted.join(", ")),
        message,
    )
}

/// No item appears twice.
pub fn unique_items(message: &str) -> Rule {
    rule("self.all(x, self.filter(y, y == x).size() == 1)", message)
}

/// The value is not blank (at least one non-space character).
pub fn not_blank(message: &str) -> Rule {
    rule("self.trim().size() > 0", message)
}

/// No item of a string list is blank.
pub fn each_not_blank(message: &str) -> Rule {
    rule("self.all(x, x.trim().size() > 0)", message)
}
