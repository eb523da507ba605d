//! Deterministic object ids. Seeded and generated objects get GUIDs derived from what they are
//! (`user:jdoe@contoso.com`), objects created through the API from a per-kind counter, so two
//! runs with the same inputs hand out the same ids and tests can hard-code them.

use ring::digest::{SHA256, digest};

/// A version-4-shaped GUID derived from `key` (SHA-256, first 16 bytes).
pub fn derive(key: &str) -> String {
    let hash = digest(&SHA256, key.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash.as_ref()[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Hands out ids for objects created at run time: `derive("{kind}#{n}")`.
#[derive(Debug, Default)]
pub(crate) struct IdSequence {
    next: u64,
}

impl IdSequence {
    pub(crate) fn next(&mut self, kind: &str) -> String {
        self.next += 1;
        derive(&format!("{kind}#{}", self.next))
    }
}

/// A random GUID (request ids, trace ids, token ids): these must not repeat across runs.
pub fn random() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// True when `text` is a GUID in the 8-4-4-4-12 form Graph uses.
pub fn is_guid(text: &str) -> bool {
    text.len() == 36 && uuid::Uuid::parse_str(text).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_guids() {
        let a = derive("user:jdoe@contoso.com");
        assert_eq!(a, derive("user:jdoe@contoso.com"));
        assert_ne!(a, derive("user:other@contoso.com"));
        assert!(is_guid(&a));
        let mut seq = IdSequence::default();
        assert_eq!(seq.next("policy"), derive("policy#1"));
        assert_eq!(seq.next("policy"), derive("policy#2"));
    }
}
