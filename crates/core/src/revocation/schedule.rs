//! Where a run stands and what is left: the chunks of a run ([`Schedule`]), which of them
//! finished ([`Progress`]), and the resume cursor kept in status. Pure: the engine feeds
//! completions in whatever order the `$batch`es finish, and saves the cursor after each.
//!
//! The resume invariant: a crash redoes at most the chunks that were in flight, and a resumed
//! run reads those back before writing again. Chunks start in index order, at most
//! `concurrency` at a time; so the chunks that were in flight are unfinished and come before
//! every chunk that had not started, i.e. they are among the first `concurrency` chunks of the
//! resumed schedule, which are marked suspect.

use std::collections::BTreeSet;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use sessionops_api::RevocationRequestStatus;

use super::CHUNK;
use super::targets::Target;

/// Where a run resumes: every chunk up to `after` is finished, and so are the chunks
/// starting with the ids in `done` (finished while an earlier chunk was still running);
/// revocation started at `started_ms`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cursor {
    /// Last id of the contiguous prefix of finished chunks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// First ids of the chunks finished past `after`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub done: Vec<String>,
    /// When revocation started (ms since the epoch; 0: not yet).
    #[serde(default)]
    pub started_ms: i64,
}

impl Cursor {
    /// The cursor saved in `status` (none: from the start).
    pub fn read(status: &RevocationRequestStatus) -> Cursor {
        status
            .cursor
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())
            .unwrap_or_default()
    }

    /// Saves the cursor into `status`.
    pub fn write(&self, status: &mut RevocationRequestStatus) {
        status.cursor = Some(serde_json::to_string(self).expect("cursor serializes"));
    }
}

/// The chunks left to run, in order (fixed for a run, so the chunks in flight borrow it while
/// [`Progress`] records completions).
#[derive(Clone, Debug)]
pub struct Schedule {
    /// Index of the first target of each chunk left to run (targets sorted by id); a chunk
    /// ends `CHUNK` targets later or at the end. 4 bytes a chunk: 20 KiB for 100,000 users.
    starts: Vec<u32>,
    /// Number of targets.
    total: usize,
    /// How many of the first chunks may have run before (resumed after a crash).
    suspect: usize,
}

impl Schedule {
    /// The chunks of `targets` (sorted by id) that `cursor` does not mark finished. Chunks stay
    /// aligned with the first run's (they start right after `after`), so the ids in `done` name
    /// the same chunks on resume. When `resuming`, the first `concurrency` chunks are suspect.
    pub fn new(targets: &[Target], cursor: &Cursor, resuming: bool, concurrency: usize) -> Self {
        let start = cursor
            .after
            .as_ref()
            .map_or(0, |after| targets.partition_point(|t| t.id <= *after));
        let starts: Vec<u32> = (start..targets.len())
            .step_by(CHUNK)
            .filter(|from| !cursor.done.contains(&targets[*from].id))
            .map(|from| u32::try_from(from).expect("fewer than 4 billion targets"))
            .collect();
        Schedule {
            starts,
            total: targets.len(),
            suspect: if resuming { concurrency.max(1) } else { 0 },
        }
    }

    /// Chunks left to run.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether nothing is left to run.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    fn range(&self, index: usize) -> Range<usize> {
        let start = self.starts[index] as usize;
        start..(start + CHUNK).min(self.total)
    }

    /// The targets of chunk `index`.
    pub fn chunk<'t>(&self, targets: &'t [Target], index: usize) -> &'t [Target] {
        &targets[self.range(index)]
    }

    /// Whether chunk `index` may have run before the crash this run resumes from: its users
    /// are read back before anything is written again.
    pub fn is_suspect(&self, index: usize) -> bool {
        index < self.suspect
    }
}

/// The completions of one run, in any order, and the cursor they make.
#[derive(Clone, Debug)]
pub struct Progress {
    finished: BTreeSet<usize>,
    contiguous: usize,
    /// `done` of the cursor this run resumed from.
    earlier_done: Vec<String>,
    cursor: Cursor,
}

impl Progress {
    /// No chunk of this run finished yet; `cursor` is the one the run resumed from.
    pub fn new(cursor: Cursor) -> Self {
        Progress {
            finished: BTreeSet::new(),
            contiguous: 0,
            earlier_done: cursor.done.clone(),
            cursor,
        }
    }

    /// Records that chunk `index` of `schedule` finished and returns the cursor to save.
    pub fn finish(&mut self, schedule: &Schedule, targets: &[Target], index: usize) -> &Cursor {
        self.finished.insert(index);
        while self.finished.remove(&self.contiguous) {
            let end = schedule.range(self.contiguous).end;
            self.cursor.after = Some(targets[end - 1].id.clone());
            self.contiguous += 1;
        }
        // Chunks an earlier run finished past its prefix stay done until the prefix passes
        // them (dropping them would run them again, blind, after a second crash).
        let after = self.cursor.after.clone();
        let mut done: Vec<String> = self
            .earlier_done
            .iter()
            .filter(|id| after.as_ref().is_none_or(|after| *id > after))
            .cloned()
            .chain(
                self.finished
                    .iter()
                    .map(|i| targets[schedule.range(*i).start].id.clone()),
            )
            .collect();
        done.sort_unstable();
        self.cursor.done = done;
        &self.cursor
    }

    /// Whether every chunk of `schedule` finished.
    pub fn is_complete(&self, schedule: &Schedule) -> bool {
        self.contiguous == schedule.len()
    }

    /// The cursor as of the completions seen.
    pub fn cursor(&self) -> &Cursor {
        &self.cursor
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn targets(n: usize) -> Vec<Target> {
        (0..n)
            .map(|i| Target {
                id: format!("{i:08}"),
                upn: format!("u{i}@contoso.com"),
                external: false,
                synced: false,
            })
            .collect()
    }

    #[test]
    fn cursors_round_trip_through_status() {
        let mut status = RevocationRequestStatus::default();
        let cursor = Cursor {
            after: Some("abc".into()),
            done: vec!["def".into()],
            started_ms: 42,
        };
        cursor.write(&mut status);
        assert_eq!(Cursor::read(&status), cursor);
        assert_eq!(
            Cursor::read(&RevocationRequestStatus::default()),
            Cursor::default()
        );
    }

    #[test]
    fn chunks_of_twenty_in_id_order() {
        let all = targets(45);
        let schedule = Schedule::new(&all, &Cursor::default(), false, 4);
        let sizes: Vec<usize> = (0..schedule.len())
            .map(|i| schedule.chunk(&all, i).len())
            .collect();
        assert_eq!(sizes, [20, 20, 5]);
        assert_eq!(schedule.chunk(&all, 1)[0].id, "00000020");
        assert!(!schedule.is_suspect(0));
    }

    #[test]
    fn a_second_crash_keeps_the_chunks_an_earlier_run_finished() {
        let all = targets(100); // chunks 0..5
        let first = Schedule::new(&all, &Cursor::default(), false, 2);
        // Chunk 0 is slow; chunk 1 finishes; crash.
        let saved = Progress::new(Cursor::default())
            .finish(&first, &all, 1)
            .clone();
        assert_eq!(saved.done, ["00000020"]);
        // The resumed run holds chunks 0, 2, 3, 4; chunk 2 finishes; crash again.
        let second = Schedule::new(&all, &saved, true, 2);
        assert_eq!(second.len(), 4);
        let saved = Progress::new(saved).finish(&second, &all, 1).clone();
        assert_eq!(saved.after, None);
        assert_eq!(saved.done, ["00000020", "00000040"]);
        // Chunk 1 does not run a third time, nor chunk 2 a second.
        let third = Schedule::new(&all, &saved, true, 2);
        assert_eq!(third.len(), 3);
        let saved = Progress::new(saved).finish(&third, &all, 0).clone();
        assert_eq!(saved.after.as_deref(), Some("00000019"));
        assert_eq!(saved.done, ["00000020", "00000040"]);
        assert_eq!(Schedule::new(&all, &saved, true, 2).len(), 2);
    }

    /// One run of the engine's loop as `buffer_unordered` drives it: chunks start in index
    /// order while fewer than `concurrency` are in flight; any chunk in flight may finish next
    /// (`pick` chooses which); the run crashes after `crash_after` completions (never, if
    /// `None`). Counts, per chunk (by first target id), the runs that wrote without reading
    /// back first (not suspect) and the completions; returns the cursor last saved and whether
    /// the schedule completed.
    fn run(
        all: &[Target],
        cursor: Cursor,
        resuming: bool,
        concurrency: usize,
        crash_after: Option<usize>,
        pick: &mut impl FnMut(usize) -> usize,
        executions: &mut BTreeMap<String, (u32, u32)>,
    ) -> (Cursor, bool) {
        let schedule = Schedule::new(all, &cursor, resuming, concurrency);
        let mut progress = Progress::new(cursor.clone());
        let mut saved = cursor;
        let mut next = 0;
        let mut in_flight: Vec<usize> = Vec::new();
        let mut completions = 0;
        loop {
            while in_flight.len() < concurrency && next < schedule.len() {
                let first = schedule.chunk(all, next)[0].id.clone();
                let entry = executions.entry(first).or_default();
                if !schedule.is_suspect(next) {
                    entry.0 += 1;
                }
                in_flight.push(next);
                next += 1;
            }
            if in_flight.is_empty() {
                return (saved, progress.is_complete(&schedule));
            }
            if crash_after == Some(completions) {
                return (saved, false);
            }
            let index = in_flight.remove(pick(in_flight.len()));
            executions
                .get_mut(&schedule.chunk(all, index)[0].id)
                .unwrap()
                .1 += 1;
            saved = progress.finish(&schedule, all, index).clone();
            completions += 1;
        }
    }

    #[test]
    fn a_crash_redoes_only_chunks_in_flight_and_reads_them_back_first() {
        let mut rng = fastrand::Rng::with_seed(7);
        for case in 0..400 {
            let all = targets(rng.usize(0..400));
            let concurrency = rng.usize(1..6);
            let chunks = all.len().div_ceil(CHUNK);
            let mut executions: BTreeMap<String, (u32, u32)> = BTreeMap::new();
            let mut pick = |n: usize| rng.usize(0..n);
            let mut cursor = Cursor::default();
            let mut resuming = false;
            let mut crashes = 0;
            loop {
                let crash_after = (crashes < 5).then(|| rng_crash(chunks, case, crashes));
                let (saved, complete) = run(
                    &all,
                    cursor,
                    resuming,
                    concurrency,
                    crash_after,
                    &mut pick,
                    &mut executions,
                );
                if complete {
                    break;
                }
                cursor = saved;
                resuming = true;
                crashes += 1;
            }
            assert_eq!(executions.len(), chunks, "case {case}: every chunk ran");
            for (first, (blind, finished)) in &executions {
                // A chunk that first ran as suspect (right after a crash) is never blind.
                assert!(
                    *blind <= 1,
                    "case {case}: chunk {first} written {blind} times without a read-back"
                );
                assert!(*finished >= 1, "case {case}: chunk {first} never finished");
            }
        }
    }

    /// A crash point for run `crashes` of case `case`: spread over the run, sometimes at 0.
    fn rng_crash(chunks: usize, case: usize, crashes: usize) -> usize {
        let mut rng = fastrand::Rng::with_seed((case * 31 + crashes) as u64);
        rng.usize(0..=chunks.max(1))
    }
}
