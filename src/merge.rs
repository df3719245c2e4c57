//! Several files' batches merged into one stream in time order, for a
//! replay of several logs (a week of rotated files, or one log per virtual
//! host) and for the backlog of `--from-start`.
//!
//! Each file is read in its own order, as a single file is, and the merge
//! always takes next the hits with the earliest timestamp among the files'
//! next hits; on a tie, those of the file whose first hit is the oldest
//! (then the first named). So files whose time ranges follow each other
//! (rotated logs) come out one after the other, in the order of their
//! times whatever the order they were named in, and files whose ranges
//! overlap (virtual hosts) are interleaved line by line.
//!
//! Pure: it pulls batches through a closure and pushes merged ones through
//! another, so the tests feed it batches by hand.
//!
//! Cost: a comparison per hit while several files are open, and no copy of
//! a line, ever. A batch that comes before every other file's next hit is
//! passed on whole, as it came (all of a rotated set's batches are); only
//! the runs of overlapping files are copied (hits and their sections, not
//! lines) into merged batches, with a run per file ([`Batch::runs`]) so
//! that each hit is still counted for its file.

use crate::batch::Batch;

/// Hits gathered in a merged batch before it is passed on.
const MERGED_HITS: usize = 2048;

/// One file's place in the merge.
struct Head<S> {
    file: u32,
    source: S,
    batch: Batch,
    /// The next hit of `batch` to pass on.
    at: usize,
    /// Whether `batch` still holds something to pass on (hits, or invalid
    /// lines after the last hit).
    pending: bool,
    /// Whether `source` has no more batches.
    ended: bool,
    /// Order among files for ties: by their first hit's time, then as
    /// named.
    rank: usize,
}

impl<S> Head<S> {
    /// The next hit's time and the file's rank, which orders the heads.
    fn key(&self) -> (i64, usize) {
        (self.batch.hits[self.at].time, self.rank)
    }

    fn has_hit(&self) -> bool {
        self.at < self.batch.hits.len()
    }
}

/// Merge the batches of `sources` (each with its file number) in time
/// order: `next` gives a source's next batch (`None` at its end), `emit`
/// takes each merged batch. Stops at the first error of either.
pub fn merge<S, E>(
    sources: Vec<(u32, S)>,
    mut next: impl FnMut(&mut S) -> Result<Option<Batch>, E>,
    mut emit: impl FnMut(Batch) -> Result<(), E>,
) -> Result<(), E> {
    let mut heads: Vec<Head<S>> = sources
        .into_iter()
        .map(|(file, source)| Head {
            file,
            source,
            batch: Batch::default(),
            at: 0,
            pending: false,
            ended: false,
            rank: 0,
        })
        .collect();
    for head in &mut heads {
        refill(head, &mut next)?;
    }
    // Ties go to the file that starts first.
    let mut order: Vec<usize> = (0..heads.len()).collect();
    order.sort_by_key(|&i| {
        let h = &heads[i];
        (h.batch.hits.first().map_or(i64::MAX, |hit| hit.time), i)
    });
    for (rank, &i) in order.iter().enumerate() {
        heads[i].rank = rank;
    }
    let mut out = Batch::default();
    loop {
        for head in &mut heads {
            refill(head, &mut next)?;
        }
        heads.retain(|h| h.pending);
        if heads.is_empty() {
            break;
        }
        // Invalid lines after a file's last hit have no time: they go at
        // once, as they come next in their file.
        if let Some(head) = heads.iter_mut().find(|h| !h.has_hit()) {
            let end = head.batch.hits.len();
            pass(head, end, &mut out, &mut emit)?;
            continue;
        }
        let Some(i) = (0..heads.len()).min_by_key(|&i| heads[i].key()) else {
            break;
        };
        let bound = (0..heads.len())
            .filter(|&j| j != i)
            .map(|j| heads[j].key())
            .min();
        let head = &mut heads[i];
        let end = match bound {
            None => head.batch.hits.len(),
            Some(bound) => {
                let rank = head.rank;
                let rest = &head.batch.hits[head.at..];
                // The head's own next hit is before the bound (ranks
                // differ), so a run holds at least one hit. Not a binary
                // search: a file's stamps need not be sorted.
                let run = rest.iter().position(|hit| (hit.time, rank) >= bound);
                head.at + run.unwrap_or(rest.len())
            }
        };
        pass(head, end, &mut out, &mut emit)?;
    }
    if !out.is_empty() {
        emit(out)?;
    }
    Ok(())
}

/// Give `head` its source's next batch that holds something, unless its
/// batch still does.
fn refill<S, E>(
    head: &mut Head<S>,
    next: &mut impl FnMut(&mut S) -> Result<Option<Batch>, E>,
) -> Result<(), E> {
    while !head.pending && !head.ended {
        match next(&mut head.source)? {
            Some(batch) if batch.is_empty() => {}
            Some(batch) => {
                head.batch = batch;
                head.at = 0;
                head.pending = true;
            }
            None => head.ended = true,
        }
    }
    Ok(())
}

/// Pass on `head`'s hits up to `end` (and the invalid lines among them):
/// its whole batch as it is when that is what is left, else as a run of
/// the merged batch `out`.
fn pass<S, E>(
    head: &mut Head<S>,
    end: usize,
    out: &mut Batch,
    emit: &mut impl FnMut(Batch) -> Result<(), E>,
) -> Result<(), E> {
    let len = head.batch.hits.len();
    if head.at == 0 && end == len {
        if !out.is_empty() {
            emit(std::mem::take(out))?;
        }
        let mut batch = std::mem::take(&mut head.batch);
        batch.file = head.file;
        head.pending = false;
        return emit(batch);
    }
    out.append_run(&head.batch, head.file, head.at..end);
    head.at = end;
    head.pending = end < len;
    if out.hits.len() >= MERGED_HITS {
        emit(std::mem::replace(out, Batch::with_capacity(MERGED_HITS)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Hit;
    use crate::parse::Method;
    use std::collections::VecDeque;
    use std::convert::Infallible;

    /// A batch of hits at `times`, each on section `/{file}{time}`, with an
    /// invalid line before each hit index in `invalid`.
    fn batch(file: u32, times: &[i64], invalid: &[u32]) -> Batch {
        let mut b = Batch::default();
        for &time in times {
            let section = b.push_section_text(&format!("/{file}-{time}"));
            b.hits.push(Hit {
                time,
                bytes: 1,
                client: 0,
                section: Some(section),
                status: 200,
                method: Method::Get,
                request_us: None,
            });
        }
        b.invalid_at = invalid.to_vec();
        b
    }

    /// What the merge gives, as `(file, time, section)` per hit and
    /// `(index of the next hit)` per invalid line, with the batches it
    /// passed on whole.
    fn run(files: Vec<Vec<Batch>>) -> (Vec<(u32, i64, String)>, Vec<usize>, usize) {
        let sources = files
            .into_iter()
            .enumerate()
            .map(|(i, batches)| (i as u32, VecDeque::from(batches)))
            .collect();
        let mut out = Vec::new();
        merge(
            sources,
            |s: &mut VecDeque<Batch>| Ok::<_, Infallible>(s.pop_front()),
            |b| {
                out.push(b);
                Ok(())
            },
        )
        .unwrap();
        let (mut hits, mut invalid, mut whole) = (Vec::new(), Vec::new(), 0);
        for b in &out {
            whole += usize::from(b.runs.is_empty());
            let sections = b.sections();
            invalid.extend(b.invalid_at.iter().map(|&at| hits.len() + at as usize));
            for (file, range) in b.runs() {
                for hit in &b.hits[range] {
                    hits.push((file, hit.time, sections.of(hit).unwrap().to_owned()));
                }
            }
        }
        (hits, invalid, whole)
    }

    fn times(hits: &[(u32, i64, String)]) -> Vec<(u32, i64)> {
        hits.iter().map(|(f, t, _)| (*f, *t)).collect()
    }

    #[test]
    fn files_that_follow_each_other_pass_whole_in_time_order() {
        // access.log.1 named after access.log: read first all the same.
        let newer = vec![batch(0, &[20, 21], &[]), batch(0, &[22, 30], &[2])];
        let older = vec![batch(1, &[10, 12], &[0]), batch(1, &[15, 20], &[])];
        let (hits, invalid, whole) = run(vec![newer, older]);
        assert_eq!(
            times(&hits),
            [
                (1, 10),
                (1, 12),
                (1, 15),
                (1, 20),
                (0, 20),
                (0, 21),
                (0, 22),
                (0, 30)
            ],
            "a tie goes to the file that starts first"
        );
        assert_eq!(invalid, [0, 8]);
        assert_eq!(whole, 4, "no batch was copied");
        assert_eq!(hits[4].2, "/0-20", "sections stay with their hits");
    }

    #[test]
    fn overlapping_files_interleave_by_time_each_in_its_own_order() {
        let a = vec![batch(0, &[1, 3, 3, 2, 7], &[1]), batch(0, &[8], &[])];
        let b = vec![batch(1, &[2, 3, 9], &[3])];
        let (hits, invalid, _) = run(vec![a, b]);
        assert_eq!(
            times(&hits),
            [
                (0, 1),
                (1, 2),
                (0, 3),
                (0, 3),
                (0, 2),
                (1, 3),
                (0, 7),
                (0, 8),
                (1, 9)
            ],
            "file 0's 2 after its 3s: each file keeps its order"
        );
        // Before file 0's second hit, and after file 1's last.
        assert_eq!(invalid, [2, 9]);
        let sections: Vec<&str> = hits.iter().map(|h| h.2.as_str()).collect();
        assert_eq!(sections[..3], ["/0-1", "/1-2", "/0-3"]);
    }

    #[test]
    fn empty_files_and_batches_of_invalid_lines_take_no_turn() {
        let junk = vec![batch(0, &[], &[0, 0]), Batch::default()];
        let good = vec![batch(1, &[5, 6], &[])];
        let (hits, invalid, _) = run(vec![vec![], junk, good]);
        assert_eq!(times(&hits), [(2, 5), (2, 6)]);
        assert_eq!(invalid, [0, 0]);
    }

    #[test]
    fn errors_stop_the_merge() {
        let sources = vec![(0, 0), (1, 1)];
        let got = merge(
            sources,
            |s: &mut i32| match *s {
                0 => Ok(Some(batch(0, &[1], &[]))),
                _ => Err("cannot read"),
            },
            |_| Ok(()),
        );
        assert_eq!(got, Err("cannot read"));
    }
}
