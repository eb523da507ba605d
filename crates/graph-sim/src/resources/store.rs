//! Storage of the policy-like resources kept as Graph JSON documents (Conditional Access
//! policies, named locations, authentication strengths, timeout policies): insertion order,
//! soft delete, and the eventual-consistency window of new objects.

use std::time::Instant;

use jiff::Timestamp;
use serde_json::{Map, Value};

/// One stored document. `doc` holds the writable properties; the read-only ones are fields.
#[derive(Clone, Debug)]
pub(crate) struct Record {
    pub id: String,
    pub doc: Map<String, Value>,
    pub created: Timestamp,
    pub modified: Timestamp,
    pub deleted: Option<Timestamp>,
    /// Reads and writes by id 404 before this instant (`--lag`).
    pub visible_from: Instant,
}

impl Record {
    pub(crate) fn new(
        id: String,
        doc: Map<String, Value>,
        now: Timestamp,
        visible_from: Instant,
    ) -> Self {
        Record {
            id,
            doc,
            created: now,
            modified: now,
            deleted: None,
            visible_from,
        }
    }

    fn visible(&self, now: Instant) -> bool {
        now >= self.visible_from
    }
}

/// Documents of one kind.
#[derive(Clone, Debug, Default)]
pub(crate) struct RecordStore {
    records: Vec<Record>,
}

impl RecordStore {
    pub(crate) fn insert(&mut self, record: Record) {
        self.records.push(record);
    }

    pub(crate) fn contains_id(&self, id: &str) -> bool {
        self.records.iter().any(|r| r.id.eq_ignore_ascii_case(id))
    }

    /// Live (not deleted) documents visible at `now`.
    pub(crate) fn active(&self, now: Instant) -> impl Iterator<Item = &Record> {
        self.records
            .iter()
            .filter(move |r| r.deleted.is_none() && r.visible(now))
    }

    pub(crate) fn get_active(&self, id: &str, now: Instant) -> Option<&Record> {
        self.active(now).find(|r| r.id.eq_ignore_ascii_case(id))
    }

    pub(crate) fn get_active_mut(&mut self, id: &str, now: Instant) -> Option<&mut Record> {
        self.records
            .iter_mut()
            .find(|r| r.deleted.is_none() && r.visible(now) && r.id.eq_ignore_ascii_case(id))
    }

    /// Soft-deleted documents.
    pub(crate) fn deleted(&self) -> impl Iterator<Item = &Record> {
        self.records.iter().filter(|r| r.deleted.is_some())
    }

    pub(crate) fn get_deleted(&self, id: &str) -> Option<&Record> {
        self.deleted().find(|r| r.id.eq_ignore_ascii_case(id))
    }

    /// Every document, deleted or not, visible or not (the `/_sim/` view).
    pub(crate) fn all(&self) -> impl Iterator<Item = &Record> {
        self.records.iter()
    }

    /// Any live document regardless of lag (portal edits see the tenant as it is).
    pub(crate) fn get_live_mut(&mut self, id: &str) -> Option<&mut Record> {
        self.records
            .iter_mut()
            .find(|r| r.deleted.is_none() && r.id.eq_ignore_ascii_case(id))
    }

    /// Moves a live document to the deleted items. Returns false when there is none.
    pub(crate) fn soft_delete(&mut self, id: &str, now: Timestamp, at: Instant) -> bool {
        match self.get_active_mut(id, at) {
            Some(record) => {
                record.deleted = Some(now);
                true
            }
            None => false,
        }
    }

    /// Soft-deletes a live document regardless of lag (portal edits).
    pub(crate) fn soft_delete_live(&mut self, id: &str, now: Timestamp) -> bool {
        match self.get_live_mut(id) {
            Some(record) => {
                record.deleted = Some(now);
                true
            }
            None => false,
        }
    }

    /// Moves a deleted document back, visible at once. Returns it.
    pub(crate) fn restore(&mut self, id: &str, now: Timestamp, at: Instant) -> Option<&Record> {
        let record = self
            .records
            .iter_mut()
            .find(|r| r.deleted.is_some() && r.id.eq_ignore_ascii_case(id))?;
        record.deleted = None;
        record.modified = now;
        record.visible_from = at;
        Some(record)
    }

    /// Removes a document for good. `deleted_only` restricts it to deleted items.
    pub(crate) fn purge(&mut self, id: &str, deleted_only: bool, at: Instant) -> bool {
        let before = self.records.len();
        self.records.retain(|r| {
            let matches = r.id.eq_ignore_ascii_case(id)
                && if deleted_only {
                    r.deleted.is_some()
                } else {
                    r.deleted.is_none() && r.visible(at)
                };
            !matches
        });
        self.records.len() != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn lag_soft_delete_restore_purge() {
        let now = Timestamp::now();
        let start = Instant::now();
        let mut store = RecordStore::default();
        store.insert(Record::new(
            "a".into(),
            Map::new(),
            now,
            start + Duration::from_secs(5),
        ));
        assert!(store.get_active("a", start).is_none());
        let later = start + Duration::from_secs(5);
        assert!(store.get_active("A", later).is_some());
        assert!(store.soft_delete("a", now, later));
        assert!(store.get_active("a", later).is_none());
        assert!(store.get_deleted("a").is_some());
        assert!(store.restore("a", now, later).is_some());
        assert_eq!(store.active(later).count(), 1);
        assert!(!store.purge("a", true, later));
        assert!(store.purge("a", false, later));
        assert_eq!(store.all().count(), 0);
    }
}
