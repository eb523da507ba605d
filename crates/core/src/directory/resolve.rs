//! Names in manifests and the directory ids they stand for.
//!
//! Resolution is split in two: [`Resolutions`] is a plain lookup table the pure planning code
//! reads; filling it from the tenant is the IO step (see [`crate::session_policy::plan`]'s apply side).

use std::collections::BTreeMap;

/// The kind of directory object a name refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NameKind {
    /// A user by user principal name.
    User,
    /// A group by display name.
    Group,
    /// A directory role by display name (resolves to its template id).
    Role,
    /// A named location by display name.
    Location,
    /// An authentication strength by built-in name.
    AuthenticationStrength,
    /// An application by its service principal's display name (resolves to the app id).
    Application,
    /// A service principal (workload identity) by display name (resolves to its object id).
    ServicePrincipal,
}

impl NameKind {
    /// Prefix used in `status.resolved` keys (`user:jdoe@contoso.com`).
    pub fn prefix(self) -> &'static str {
        match self {
            NameKind::User => "user",
            NameKind::Group => "group",
            NameKind::Role => "role",
            NameKind::Location => "location",
            NameKind::AuthenticationStrength => "authenticationStrength",
            NameKind::Application => "application",
            NameKind::ServicePrincipal => "servicePrincipal",
        }
    }
}

impl NameKind {
    /// Every kind.
    pub const ALL: &'static [NameKind] = &[
        NameKind::User,
        NameKind::Group,
        NameKind::Role,
        NameKind::Location,
        NameKind::AuthenticationStrength,
        NameKind::Application,
        NameKind::ServicePrincipal,
    ];
}

/// A name of a manifest that matches nothing in the tenant, kept structured so that a caller
/// can tell which object of which kind it waits for; shown as its label (`location:Head
/// office`), the form of `status.resolved` keys.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MissingName {
    /// What the name stands for.
    pub kind: NameKind,
    /// The name as the manifest wrote it.
    pub name: String,
}

impl std::fmt::Display for MissingName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind.prefix(), self.name)
    }
}

/// What a name resolved to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Exactly one object.
    Id(String),
    /// Nothing has that name.
    Missing,
    /// Several objects share the name (display names are not unique): refuse to guess.
    Ambiguous(Vec<String>),
}

/// Names resolved against one tenant. Keys are case-insensitive, as Entra's are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolutions {
    entries: BTreeMap<(NameKind, String), Resolution>,
}

impl Resolutions {
    /// Records what `name` resolved to.
    pub fn insert(&mut self, kind: NameKind, name: &str, resolution: Resolution) {
        self.entries.insert((kind, name.to_lowercase()), resolution);
    }

    /// Every name that resolved to one id: `(kind, lowercased name, id)`.
    pub fn ids(&self) -> impl Iterator<Item = (NameKind, &str, &str)> {
        self.entries
            .iter()
            .filter_map(|((kind, name), resolution)| match resolution {
                Resolution::Id(id) => Some((*kind, name.as_str(), id.as_str())),
                _ => None,
            })
    }

    /// Whether every requested name was looked up (found or not).
    pub fn covers(&self, requests: &NameRequests) -> bool {
        requests.names.iter().all(|(kind, names)| {
            names
                .keys()
                .all(|name| self.entries.contains_key(&(*kind, name.clone())))
        })
    }

    /// What `name` resolved to, if it was looked up.
    pub fn get(&self, kind: NameKind, name: &str) -> Option<&Resolution> {
        self.entries.get(&(kind, name.to_lowercase()))
    }
}

/// Whether a value is already an object id (and needs no lookup).
pub fn is_object_id(value: &str) -> bool {
    // The same shape as `api::rules::GUID`.
    let bytes = value.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Names a set of specs needs resolved, by kind, deduplicated case-insensitively.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameRequests {
    /// Per kind, lowercased name → name as first written.
    pub names: BTreeMap<NameKind, BTreeMap<String, String>>,
}

impl NameRequests {
    /// Asks for `name` unless it is an id or one of `keywords`.
    pub fn add(&mut self, kind: NameKind, name: &str, keywords: &[&str]) {
        if is_object_id(name) || keywords.contains(&name) {
            return;
        }
        self.names
            .entry(kind)
            .or_default()
            .entry(name.to_lowercase())
            .or_insert_with(|| name.to_owned());
    }

    /// The names of one kind, as first written.
    pub fn of(&self, kind: NameKind) -> impl Iterator<Item = &str> {
        self.names
            .get(&kind)
            .into_iter()
            .flat_map(|m| m.values().map(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_recognised_and_names_deduplicated() {
        assert!(is_object_id("2d6c3b7e-8f1a-4b2c-9d3e-4f5a6b7c8d9e"));
        assert!(!is_object_id("2d6c3b7e-8f1a-4b2c-9d3e-4f5a6b7c8d9"));
        assert!(!is_object_id("jdoe@contoso.com"));
        let mut requests = NameRequests::default();
        requests.add(NameKind::User, "JDoe@contoso.com", &["All"]);
        requests.add(NameKind::User, "jdoe@contoso.com", &["All"]);
        requests.add(NameKind::User, "All", &["All"]);
        requests.add(
            NameKind::User,
            "2d6c3b7e-8f1a-4b2c-9d3e-4f5a6b7c8d9e",
            &["All"],
        );
        let missing = MissingName {
            kind: NameKind::Location,
            name: "Head: office".into(),
        };
        assert_eq!(missing.to_string(), "location:Head: office");
        assert_eq!(
            requests.of(NameKind::User).collect::<Vec<_>>(),
            ["JDoe@contoso.com"]
        );
        let mut resolutions = Resolutions::default();
        resolutions.insert(NameKind::Group, "SG-Finance", Resolution::Id("g1".into()));
        assert_eq!(
            resolutions.get(NameKind::Group, "sg-finance"),
            Some(&Resolution::Id("g1".into()))
        );
    }
}
