//! `Batch`: the parsed lines the reader thread sends to the main loop.
//!
//! A `Record` borrows its line from the read buffer, so it cannot cross the
//! channel. A `Hit` is its owned, compact form: numbers, a hash of the
//! client, and the section as a range into the batch's one text arena, so a
//! batch of thousands of lines costs two allocations, not one per line.
//!
//! Sections are normalised (`parse::normalize_section`: `/%7Eu` and `/~u`
//! are one section) and sanitized here, once, as they enter the
//! statistics: every later output (text, JSON) prints the same safe string.
//!
//! The drill-down tables (clients, paths, user agents, referring hosts)
//! need more of each line. Hashing their text happens here, on the reader
//! thread; checking and escaping it does not: each hit carries [`Keys`], a
//! hash and a range per key, and the text is sanitized only when a key
//! enters a table (`stats`), which a key already listed never does again.
//!
//! A key's text is not copied when it can be lent: a batch decoded from
//! read blocks owns those blocks ([`Block`]), and a key that is a slice of
//! its line (the client, an agent, a path or a referring host that needs
//! no change) is a range in them. Only text that was changed (normalised,
//! lower-cased, decoded) or whose line lay elsewhere (carried across two
//! blocks, or handed in line by line) is copied into the batch's arena of
//! raw bytes. Copying every key cost ~150 instructions a Combined line; a
//! block is held a little longer instead (it goes back to its reader for
//! reuse when the batch is dropped).
//!
//! The section text arena is
//! bytes, UTF-8 by construction (printable ASCII or `sanitize`'s output), so
//! the reader appends a section without validating it as a `str`; the main
//! loop validates the whole arena once per batch ([`Batch::sections`]), at
//! a fraction of an instruction per byte instead of ~80 per section.

use std::borrow::Cow;
use std::hash::BuildHasher;
use std::sync::mpsc::SyncSender;

use memchr::{memchr, memchr2};

use crate::drill::Country;
use crate::parse::{class_run, normalize_section, scan_target, Method, Record, Scan, Syntax};
use crate::text::sanitize;

/// [`BYTE_CLASS`]: the byte is not printable ASCII.
const UNPRINTABLE: u8 = 1;
/// [`BYTE_CLASS`]: the byte is `%` or `;`, which normalising may change.
const SPECIAL: u8 = 2;

/// What a section's bytes need, by byte: one table load a byte tells both.
const BYTE_CLASS: [u8; 256] = {
    let mut table = [UNPRINTABLE; 256];
    let mut b = b' ';
    while b <= b'~' {
        table[b as usize] = match b {
            b'%' | b';' => SPECIAL,
            _ => 0,
        };
        b += 1;
    }
    table
};

/// One valid line, owned and compact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Log timestamp, unix seconds.
    pub time: i64,
    /// Response size in bytes.
    pub bytes: u64,
    /// Hash of the client address (only distinct counts are reported).
    pub client: u64,
    /// `(start, len)` of the sanitized section in the batch's text, if the
    /// request had a target.
    pub section: Option<(u32, u32)>,
    pub status: u16,
    pub method: Method,
    /// Time taken to answer, in microseconds, if the line said.
    pub request_us: Option<u64>,
}

/// Parsed lines from one read, in file order.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    pub hits: Vec<Hit>,
    /// Sanitized section text, referenced by `Hit::section`: valid UTF-8,
    /// since only `push_section` writes it.
    text: Vec<u8>,
    /// Where lines that did not parse (or were too long) fell: each is the
    /// number of hits before it, so the monitor counts them in the period
    /// they were read in.
    pub invalid_at: Vec<u32>,
    /// The input the lines come from (its index in the run's list of
    /// files), when `runs` is empty: a batch is read from one file.
    pub file: u32,
    /// A batch merged from several files (a replay of logs whose times
    /// overlap): `(file, end)` for each run of hits from one file, in
    /// order, `end` exclusive. Empty otherwise.
    pub runs: Vec<(u32, u32)>,
    /// The drill-down keys of each hit, in the order of `hits` (a batch
    /// built by hand may have fewer: its hits have no keys).
    pub keys: Vec<Keys>,
    /// The raw text of the keys that are not lent from `blocks`,
    /// referenced by [`Key`]: bytes as the log wrote them, to be sanitized
    /// when printed or stored.
    raw: Vec<u8>,
    /// The read blocks keys lend their text from, in the order read.
    blocks: Vec<Block>,
}

/// A block of bytes as read, kept by the batch whose keys lie in it. When
/// dropped it goes back to the pool it came from (`home`), if it has one
/// and the pool has room, so that the reader reuses its pages rather than
/// have fresh ones faulted in and zeroed.
pub struct Block {
    bytes: Vec<u8>,
    home: Option<SyncSender<Vec<u8>>>,
}

impl Block {
    /// `bytes`, going back to `home` once dropped.
    pub fn new(bytes: Vec<u8>, home: Option<SyncSender<Vec<u8>>>) -> Block {
        Block { bytes, home }
    }

    /// The bytes, to read into or to cut.
    pub fn bytes_mut(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        if let Some(home) = &self.home {
            // When the pool is full or its reader has gone, it is freed.
            let _ = home.try_send(std::mem::take(&mut self.bytes));
        }
    }
}

impl Clone for Block {
    /// A copy of the bytes, belonging to no pool.
    fn clone(&self) -> Block {
        Block::new(self.bytes.clone(), None)
    }
}

impl std::fmt::Debug for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Block({} bytes)", self.bytes.len())
    }
}

/// The block a record's line lies in, and the number its keys give it
/// (1 for the batch's first block; 0 is the raw arena).
#[derive(Clone, Copy)]
pub struct Within<'a> {
    pub block: &'a [u8],
    pub number: u32,
}

/// [`Key::len`]: the length is in the low bits, ...
const LEN_BITS: u32 = 24;
const LEN_MASK: u32 = (1 << LEN_BITS) - 1;

/// One key of a drill-down table: a hash of its text (the table's key) and
/// where the text lies in its batch's raw arena.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Key {
    pub hash: u64,
    start: u32,
    /// The length in the low [`LEN_BITS`] (0 when the hit has no such
    /// key), and above them where the text lies: 0 in the raw arena, `n`
    /// in block `n - 1`. Lines are at most `MAX_LINE` (64 KiB) long.
    len: u32,
}

impl Key {
    fn len(&self) -> usize {
        (self.len & LEN_MASK) as usize
    }

    fn source(&self) -> usize {
        (self.len >> LEN_BITS) as usize
    }
}

/// The drill-down keys of one hit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Keys {
    /// The client address as the log wrote it (hashed as `Hit::client`).
    pub client: Key,
    /// The target without its query or fragment.
    pub path: Key,
    pub agent: Key,
    /// The host of the referrer URL, lower-cased, without port or user.
    pub referrer: Key,
    /// The client's country, once looked up (`--geoip`).
    pub country: Country,
}

/// A key's hash and its raw text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyed<'a> {
    pub hash: u64,
    pub text: &'a [u8],
}

/// The drill-down keys of one hit, with their text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HitKeys<'a> {
    /// The client address (its hash is `Hit::client`).
    pub client: Option<&'a [u8]>,
    pub path: Option<Keyed<'a>>,
    pub agent: Option<Keyed<'a>>,
    pub referrer: Option<Keyed<'a>>,
    pub country: Country,
}

/// The keys of one hit with a copy of their text, for a hit kept apart
/// from its batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedKeys {
    keys: Keys,
    raw: Vec<u8>,
}

impl OwnedKeys {
    pub fn view(&self) -> HitKeys<'_> {
        keys_in(&self.keys, &self.raw, &[])
    }
}

impl HitKeys<'_> {
    /// These keys with a copy of their text.
    pub fn to_owned(&self) -> OwnedKeys {
        let mut raw = Vec::new();
        let mut copy = |text: &[u8], hash: u64| {
            let start = raw.len() as u32;
            let text = &text[..text.len().min(LEN_MASK as usize)];
            raw.extend_from_slice(text);
            Key {
                hash,
                start,
                len: text.len() as u32,
            }
        };
        let mut keyed = |k: Option<Keyed<'_>>| k.map_or(Key::default(), |k| copy(k.text, k.hash));
        let keys = Keys {
            path: keyed(self.path),
            agent: keyed(self.agent),
            referrer: keyed(self.referrer),
            client: keyed(self.client.map(|text| Keyed { hash: 0, text })),
            country: self.country,
        };
        OwnedKeys { keys, raw }
    }
}

/// `keys` with their text from `raw` and `blocks`.
#[inline]
fn keys_in<'a>(keys: &Keys, raw: &'a [u8], blocks: &'a [Block]) -> HitKeys<'a> {
    let text = |k: &Key| key_text(k, raw, blocks);
    let keyed = |k: &Key| text(k).map(|text| Keyed { hash: k.hash, text });
    HitKeys {
        client: text(&keys.client),
        path: keyed(&keys.path),
        agent: keyed(&keys.agent),
        referrer: keyed(&keys.referrer),
        country: keys.country,
    }
}

/// The text of `key` (`None` when the hit has no such key), from `raw`
/// or one of `blocks`.
#[inline]
fn key_text<'a>(key: &Key, raw: &'a [u8], blocks: &'a [Block]) -> Option<&'a [u8]> {
    let len = key.len();
    if len == 0 {
        return None;
    }
    let from = match key.source() {
        0 => raw,
        n => blocks.get(n - 1)?.bytes(),
    };
    let start = key.start as usize;
    from.get(start..start + len)
}

impl Batch {
    pub fn with_capacity(hits: usize) -> Batch {
        Batch {
            hits: Vec::with_capacity(hits),
            text: Vec::with_capacity(hits * 8),
            invalid_at: Vec::new(),
            file: 0,
            runs: Vec::new(),
            keys: Vec::with_capacity(hits),
            // Room for a few keys that could not be lent; see `sized_like`.
            raw: Vec::with_capacity(hits * 8),
            blocks: Vec::new(),
        }
    }

    /// An empty batch with room for what `self` holds and an eighth more
    /// (hits, section text, and the key text it could not lend), at most
    /// `max_hits` hits. A block of lines a little longer than the last
    /// made every arena grow, and each growth (a realloc copying the
    /// whole arena) cost ~110 instructions a line under callgrind.
    pub fn sized_like(&self, max_hits: usize) -> Batch {
        let more = |n: usize| n + n / 8;
        let hits = more(self.hits.len() + self.invalid_at.len()).clamp(64, max_hits);
        Batch {
            hits: Vec::with_capacity(hits),
            text: Vec::with_capacity(more(self.text.len()).max(hits * 8)),
            keys: Vec::with_capacity(hits),
            raw: Vec::with_capacity(more(self.raw.len()).max(hits * 8)),
            ..Batch::default()
        }
    }

    /// The runs of hits from one file, in order, as `(file, hits)`: one
    /// covering every hit unless the batch was merged from several files.
    pub fn runs(&self) -> impl Iterator<Item = (u32, std::ops::Range<usize>)> + '_ {
        let whole = self
            .runs
            .is_empty()
            .then_some((self.file, self.hits.len() as u32));
        whole
            .into_iter()
            .chain(self.runs.iter().copied())
            .scan(0, |start, (file, end)| {
                let run = (file, *start..end as usize);
                *start = end as usize;
                Some(run)
            })
    }

    /// Append the hits `hits` of `from` (from file `file`) as a run of
    /// this batch, with their sections and the invalid lines among them
    /// (those before each hit; and those after the last, when `hits` ends
    /// `from`). Copies hits, their keys and their text, never lines.
    pub fn append_run(&mut self, from: &Batch, file: u32, hits: std::ops::Range<usize>) {
        if self.runs.is_empty() && !self.is_empty() {
            self.runs.push((self.file, self.hits.len() as u32));
        }
        let base = self.hits.len();
        let last = hits.end == from.hits.len();
        for &at in &from.invalid_at {
            let at = at as usize;
            if (hits.start..hits.end).contains(&at) || (last && at == hits.end) {
                self.invalid_at.push((base + at - hits.start) as u32);
            }
        }
        // The bytes of each section, which are UTF-8 as they were in
        // `from`: validating `from`'s whole text for each run would cost
        // more than the copy.
        // Hits built by hand have no keys: keep `keys` in step with `hits`.
        self.keys.resize(base, Keys::default());
        for i in hits {
            let hit = &from.hits[i];
            let section = hit.section.map(|(start, len)| {
                let at = self.text.len() as u32;
                self.text
                    .extend_from_slice(&from.text[start as usize..(start + len) as usize]);
                (at, len)
            });
            self.hits.push(Hit { section, ..*hit });
            let keys = from.keys.get(i).map_or(Keys::default(), |k| Keys {
                client: self.copy_key(k.client, from),
                path: self.copy_key(k.path, from),
                agent: self.copy_key(k.agent, from),
                referrer: self.copy_key(k.referrer, from),
                country: k.country,
            });
            self.keys.push(keys);
        }
        self.runs.push((file, self.hits.len() as u32));
    }

    pub fn is_empty(&self) -> bool {
        self.hits.is_empty() && self.invalid_at.is_empty()
    }

    /// Lines in this batch that did not parse.
    pub fn invalid(&self) -> u64 {
        self.invalid_at.len() as u64
    }

    /// Count a line that did not parse, after the hits so far.
    pub fn push_invalid(&mut self) {
        self.invalid_at.push(self.hits.len() as u32);
    }

    /// Add a parsed line. `clients` hashes the client address; one hasher
    /// per run keeps the hashes comparable across batches. The keys' text
    /// is copied.
    pub fn push(&mut self, record: &Record<'_>, clients: &impl BuildHasher) {
        self.push_within(record, clients, None);
    }

    /// [`Batch::push`] for a record whose line lies in `within`, a block
    /// that will be added to this batch ([`Batch::add_block`]) as number
    /// `within.number`: its keys lend their text from the block.
    #[inline]
    pub fn push_within(
        &mut self,
        record: &Record<'_>,
        clients: &impl BuildHasher,
        within: Option<Within<'_>>,
    ) {
        // An origin-form target is read once for both its section and its
        // path (see `parse::scan_target`).
        let scan = record.target.and_then(scan_target);
        let section = match (record.target, scan) {
            (Some(target), Some(scan)) if scan.section_plain => {
                Some(self.push_plain_section(&target[..scan.section]))
            }
            (Some(target), Some(scan)) => Some(self.push_section(&target[..scan.section])),
            _ => record.section().map(|s| self.push_section(s)),
        };
        let client = clients.hash_one(record.host);
        self.hits.push(Hit {
            time: record.time,
            bytes: record.bytes,
            client,
            section,
            status: record.status,
            method: record.method,
            request_us: record.request_time_us,
        });
        self.push_keys(record, client, clients, within, scan);
    }

    /// Keep `block` for the keys that lend their text from it: it is
    /// number `self.blocks() + 1` (see [`Within`]).
    pub fn add_block(&mut self, block: Block) {
        self.blocks.push(block);
    }

    /// The blocks kept so far.
    pub fn blocks(&self) -> usize {
        self.blocks.len()
    }

    /// Hash and place the drill-down keys of `record`, whose client hashed
    /// to `client`, with `hasher`.
    #[inline]
    fn push_keys(
        &mut self,
        record: &Record<'_>,
        client: u64,
        hasher: &impl BuildHasher,
        within: Option<Within<'_>>,
        scan: Option<Scan>,
    ) {
        let client = match record.host {
            [] => Key::default(),
            host => self.key(host, client, within),
        };
        let mut keys = Keys {
            client,
            ..Keys::default()
        };
        match (record.target, scan) {
            (Some(target), Some(scan)) if scan.path_plain => {
                let path = &target[..scan.path];
                keys.path = self.key(path, hasher.hash_one(path), within);
            }
            (Some(target), _) => keys.path = self.push_path(target, hasher, within),
            (None, _) => {}
        }
        if let Some(agent) = record.user_agent.filter(|&a| a != b"" && a != b"-") {
            // IIS writes the agent's spaces as `+`, CloudFront
            // percent-encodes them (`%20`): one agent either way.
            let encoded = record.syntax == Syntax::W3c && memchr2(b'+', b'%', agent).is_some();
            keys.agent = if encoded {
                let start = self.raw.len();
                push_w3c_agent(&mut self.raw, agent);
                self.hashed(start, hasher)
            } else {
                self.key(agent, hasher.hash_one(agent), within)
            };
        }
        if let Some((host, upper)) = record.referer.and_then(referrer_host_cased) {
            keys.referrer = if upper {
                let start = self.raw.len();
                self.raw.extend_from_slice(host);
                self.raw[start..].make_ascii_lowercase();
                self.hashed(start, hasher)
            } else {
                self.key(host, hasher.hash_one(host), within)
            };
        }
        self.keys.push(keys);
    }

    /// The path of `target` (its query and fragment cut off, normalised), as
    /// a key.
    #[inline]
    fn push_path(
        &mut self,
        target: &[u8],
        hasher: &impl BuildHasher,
        within: Option<Within<'_>>,
    ) -> Key {
        let path = match memchr2(b'?', b'#', target) {
            Some(end) => &target[..end],
            None => target,
        };
        if path.is_empty() {
            return Key::default();
        }
        // Normalised as sections are, so that `/%7Eu/a` and `/~u/a` are one
        // path (borrowed, and so free, when there is nothing to change).
        match normalize_section(path) {
            Cow::Borrowed(path) => self.key(path, hasher.hash_one(path), within),
            Cow::Owned(path) => self.key(&path, hasher.hash_one(&path), None),
        }
    }

    /// The key of `text`, hashed to `hash`: lent from `within` when it lies
    /// there, else copied into the raw arena.
    #[inline]
    fn key(&mut self, text: &[u8], hash: u64, within: Option<Within<'_>>) -> Key {
        if let Some(Within { block, number }) = within {
            // Where `text` starts in the block, if it lies in it: comparing
            // addresses needs no `unsafe`, and a slice of the block's line
            // always lies in it.
            let at = (text.as_ptr() as usize).wrapping_sub(block.as_ptr() as usize);
            if at <= block.len()
                && text.len() <= block.len() - at
                && text.len() <= LEN_MASK as usize
            {
                return Key {
                    hash,
                    start: at as u32,
                    len: text.len() as u32 | number << LEN_BITS,
                };
            }
        }
        let start = self.raw.len();
        self.raw
            .extend_from_slice(&text[..text.len().min(LEN_MASK as usize)]);
        Key {
            hash,
            ..self.raw_key(start)
        }
    }

    /// `key` of a hit from batch `from`, with its text copied into this
    /// batch's raw arena.
    fn copy_key(&mut self, key: Key, from: &Batch) -> Key {
        match key_text(&key, &from.raw, &from.blocks) {
            Some(text) => self.key(text, key.hash, None),
            None => Key::default(),
        }
    }

    /// The key, unhashed, of the raw text from `start` to the end.
    fn raw_key(&self, start: usize) -> Key {
        Key {
            hash: 0,
            start: start as u32,
            len: (self.raw.len() - start) as u32,
        }
    }

    /// The key of the raw text from `start` to the end, hashed.
    fn hashed(&self, start: usize, hasher: &impl BuildHasher) -> Key {
        Key {
            hash: hasher.hash_one(&self.raw[start..]),
            ..self.raw_key(start)
        }
    }

    /// The drill-down keys of hit `i`, with their text (none for a hit
    /// built by hand without them).
    pub fn keys_of(&self, i: usize) -> HitKeys<'_> {
        match self.keys.get(i) {
            Some(keys) => keys_in(keys, &self.raw, &self.blocks),
            None => HitKeys::default(),
        }
    }

    /// Append the normalised, sanitized `raw` section to the text; its
    /// `(start, len)`.
    fn push_section(&mut self, raw: &[u8]) -> (u32, u32) {
        let start = self.text.len();
        // One pass for both questions: the common case, printable ASCII
        // without `%` or `;`, is already normal, safe and UTF-8.
        let class = raw
            .iter()
            .fold(0, |class, &b| class | BYTE_CLASS[usize::from(b)]);
        let normal = match class & SPECIAL {
            0 => Cow::Borrowed(raw),
            _ => normalize_section(raw),
        };
        // Normalising only decodes to printable ASCII.
        if class & UNPRINTABLE == 0 {
            self.text.extend_from_slice(&normal);
        } else {
            self.text.extend_from_slice(sanitize(&normal).as_bytes());
        }
        (start as u32, (self.text.len() - start) as u32)
    }

    /// Append `section`, printable ASCII already normal, to the text.
    fn push_plain_section(&mut self, section: &[u8]) -> (u32, u32) {
        let start = self.text.len();
        self.text.extend_from_slice(section);
        (start as u32, section.len() as u32)
    }

    /// Append `section` to the text as is (it must be sanitized already);
    /// its `(start, len)`, for a `Hit` built by hand.
    pub fn push_section_text(&mut self, section: &str) -> (u32, u32) {
        let start = self.text.len();
        self.text.extend_from_slice(section.as_bytes());
        (start as u32, section.len() as u32)
    }

    /// The sections of this batch's hits, validated once for all of them.
    pub fn sections(&self) -> Sections<'_> {
        Sections(std::str::from_utf8(&self.text).expect("sections are written as UTF-8"))
    }
}

/// The host of a referrer URL: `https://user@Example.com:8443/a?b` ->
/// `Example.com` (lower-cased as it is copied). `None` for `-`, an empty
/// referrer, or one without a host (a bare path).
///
/// One pass over the scheme and one over the authority, both short: a
/// general substring search (`memmem`) cost several times as much a line.
pub fn referrer_host(referrer: &[u8]) -> Option<&[u8]> {
    // `scheme://`: a scheme is letters, digits, `+`, `-` and `.`.
    let mut scheme = 0;
    while scheme < referrer.len() && URL[usize::from(referrer[scheme])] & SCHEME != 0 {
        scheme += 1;
    }
    let rest = if scheme > 0 && referrer[scheme..].starts_with(b"://") {
        &referrer[scheme + 3..]
    } else if let Some(rest) = referrer.strip_prefix(b"//") {
        // `//host/path`, scheme-relative.
        rest
    } else if matches!(referrer.first(), None | Some(b'/' | b'-')) {
        // A path, `-`, or nothing: no host.
        return None;
    } else {
        // `example.com/page`, written without a scheme.
        referrer
    };
    // The authority runs to the first of `/?#`; a `@` ends a user (the
    // host starts after it) and a `:` starts a port, unless it is inside
    // an IPv6 address in brackets.
    let (mut start, mut port, mut i) = (0, None, 0);
    loop {
        while i < rest.len() && URL[usize::from(rest[i])] & HOST_END == 0 {
            i += 1;
        }
        match rest.get(i) {
            Some(b'@') => (start, port) = (i + 1, None),
            Some(b':') => port = port.or(Some(i)),
            Some(b'[') if i == start => {
                if let Some(close) = memchr::memchr(b']', &rest[i..]) {
                    i += close;
                }
            }
            Some(b'[') => {}
            _ => break,
        }
        i += 1;
    }
    let host = &rest[start..port.unwrap_or(i)];
    (!host.is_empty()).then_some(host)
}

/// [`referrer_host`], and whether the host holds an upper-case letter.
///
/// The common referrer, `http://` or `https://` and a plain host name, is
/// read four bytes at a time with both questions in one table load a
/// byte (callgrind: ~120 instructions a Combined line for the general
/// reading and a second pass for the case); anything else is read by
/// `referrer_host`.
#[inline]
fn referrer_host_cased(referrer: &[u8]) -> Option<(&[u8], bool)> {
    let rest = match referrer.first_chunk::<8>() {
        Some(b"https://") => &referrer[8..],
        Some([b'h', b't', b't', b'p', b':', b'/', b'/', _]) => &referrer[7..],
        _ => return general_host_cased(referrer),
    };
    let (mut i, mut upper) = class_run(rest, &HOST, !UPPER);
    while let Some(&byte) = rest.get(i) {
        let class = HOST[usize::from(byte)];
        if class & !UPPER != 0 {
            break;
        }
        upper |= class;
        i += 1;
    }
    match rest.get(i) {
        // The host ends the URL, or its path, query or fragment starts.
        None | Some(b'/' | b'?' | b'#') if i > 0 => Some((&rest[..i], upper != 0)),
        // A user, a port, an IPv6 address, an empty host.
        _ => general_host_cased(referrer),
    }
}

/// [`referrer_host`] and whether the host holds an upper-case letter.
fn general_host_cased(referrer: &[u8]) -> Option<(&[u8], bool)> {
    let host = referrer_host(referrer)?;
    Some((host, host.iter().any(u8::is_ascii_uppercase)))
}

/// [`HOST`]: an upper-case letter.
const UPPER: u8 = 1;
/// [`HOST`]: a byte that ends a plain host name, or starts a user, a port
/// or an IPv6 address.
const NOT_HOST: u8 = 2;

/// What each byte is in a plain host name, for [`referrer_host_cased`].
const HOST: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_uppercase() {
            table[b] = UPPER;
        }
        if matches!(c, b'/' | b'?' | b'#' | b'@' | b':' | b'[') {
            table[b] = NOT_HOST;
        }
        b += 1;
    }
    table
};

/// [`URL`]: the byte may be in a scheme.
const SCHEME: u8 = 1;
/// [`URL`]: the byte ends a host (or starts something inside it).
const HOST_END: u8 = 2;

/// What each byte may be in a URL, for [`referrer_host`]: a table read a
/// byte where matching several bytes costs a compare each.
const URL: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'+' || c == b'-' || c == b'.' {
            table[b] |= SCHEME;
        }
        if matches!(c, b'/' | b'?' | b'#' | b'@' | b':' | b'[') {
            table[b] |= HOST_END;
        }
        b += 1;
    }
    table
};

/// The text of a batch's sections, to look them up hit by hit.
#[derive(Debug, Clone, Copy)]
pub struct Sections<'a>(&'a str);

impl<'a> Sections<'a> {
    /// The section of `hit`, which must belong to this batch.
    pub fn of(&self, hit: &Hit) -> Option<&'a str> {
        hit.section
            .map(|(start, len)| &self.0[start as usize..(start + len) as usize])
    }
}

/// Append a W3C user agent to `out` as the client sent it: `+` is a space
/// (IIS) and `%HH` the byte it encodes (CloudFront). A `%` that starts no
/// encoding stays as it is.
fn push_w3c_agent(out: &mut Vec<u8>, agent: &[u8]) {
    // IIS's agents have `+` and no `%`: mapped in one pass, where a push a
    // byte cost ~5 instructions a byte (callgrind).
    if memchr(b'%', agent).is_none() {
        out.extend(agent.iter().map(|&b| if b == b'+' { b' ' } else { b }));
        return;
    }
    push_w3c_agent_decoding(out, agent);
}

/// [`push_w3c_agent`] a byte at a time, decoding `%HH`.
fn push_w3c_agent_decoding(out: &mut Vec<u8>, agent: &[u8]) {
    let mut i = 0;
    while i < agent.len() {
        let b = agent[i];
        let decoded = match (b, agent.get(i + 1..i + 3)) {
            (b'%', Some(&[hi, lo])) => hex(hi).zip(hex(lo)).map(|(h, l)| h * 16 + l),
            _ => None,
        };
        match decoded {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(if b == b'+' { b' ' } else { b });
                i += 1;
            }
        }
    }
}

/// The value of one hex digit.
fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Parser;

    #[test]
    fn a_w3c_agent_without_percent_maps_as_decoding_it_does() {
        let alphabet = b"+%a 2F";
        let mut next = crate::parse::garbage::xorshift(0x2545_f491_4f6c_dd1d);
        let mut agent = Vec::new();
        for _ in 0..20_000 {
            crate::parse::garbage::draw(&mut agent, alphabet, 40, &mut next);
            let (mut fast, mut decoded) = (b"x".to_vec(), b"x".to_vec());
            push_w3c_agent(&mut fast, &agent);
            push_w3c_agent_decoding(&mut decoded, &agent);
            assert_eq!(fast, decoded, "{}", String::from_utf8_lossy(&agent));
        }
    }

    #[test]
    fn w3c_agents_read_as_sent_whether_plus_or_percent_encoded() {
        for (raw, sent) in [
            ("Mozilla/5.0+(X11;+Linux)", "Mozilla/5.0 (X11; Linux)"),
            ("Mozilla/5.0%20(X11;%20Linux)", "Mozilla/5.0 (X11; Linux)"),
            ("100%25+sure", "100% sure"),
            ("50%+off%zz%4", "50% off%zz%4"),
        ] {
            let mut out = Vec::new();
            push_w3c_agent(&mut out, raw.as_bytes());
            assert_eq!(String::from_utf8(out).unwrap(), sent, "{raw}");
        }
    }

    #[test]
    fn a_referrer_is_listed_by_its_host() {
        for (referrer, host) in [
            ("https://www.example.com/a/b?c=d", Some("www.example.com")),
            ("http://user:pw@Example.COM:8080/", Some("Example.COM")),
            ("https://[2001:db8::1]:8443/x", Some("[2001:db8::1]")),
            ("android-app://com.example.app/", Some("com.example.app")),
            ("//cdn.example.net/lib.js", Some("cdn.example.net")),
            ("example.org/page", Some("example.org")),
            ("https://example.com", Some("example.com")),
            ("https://example.com?q=1", Some("example.com")),
            ("-", None),
            ("", None),
            ("/relative/path", None),
            ("https:///nohost", None),
        ] {
            let got = referrer_host(referrer.as_bytes()).map(|h| std::str::from_utf8(h).unwrap());
            assert_eq!(got, host, "{referrer}");
        }
    }

    #[test]
    fn a_plain_referrer_is_read_as_any_other() {
        for referrer in [
            "https://www.example.com/a/b?c=d",
            "http://Example.COM",
            "https://example.com?q=1",
            "https://example.com#top",
            "http://user:pw@Example.COM:8080/",
            "https://[2001:db8::1]:8443/x",
            "https:///nohost",
            "http://a.example:80/",
            "https://",
            "http:/x",
            "-",
            "",
            "HTTPS://Upper.Example/",
            "https://caf\u{e9}.example/",
        ] {
            let general = referrer_host(referrer.as_bytes())
                .map(|h| (h, h.iter().any(u8::is_ascii_uppercase)));
            assert_eq!(
                referrer_host_cased(referrer.as_bytes()),
                general,
                "{referrer}"
            );
        }
    }

    #[test]
    fn each_hit_carries_its_keys_and_a_kept_copy_reads_the_same() {
        let hasher = foldhash::quality::RandomState::default();
        let mut batch = Batch::default();
        for line in [
            r#"203.0.113.7 - - [01/Mar/2026:12:00:00 +0000] "GET /a/b?x=1 HTTP/1.1" 200 1 "https://Ref.Example/p" "curl/8""#,
            r#"203.0.113.7 - - [01/Mar/2026:12:00:01 +0000] "GET /a/b HTTP/1.1" 200 1 "-" "-""#,
            r#"198.51.100.2 - - [01/Mar/2026:12:00:02 +0000] "-" 408 0"#,
        ] {
            let record = Parser::new().parse(line.as_bytes()).unwrap();
            batch.push(&record, &hasher);
        }
        let k = batch.keys_of(0);
        assert_eq!(k.client, Some(&b"203.0.113.7"[..]));
        assert_eq!(k.path.unwrap().text, b"/a/b");
        assert_eq!(k.agent.unwrap().text, b"curl/8");
        assert_eq!(k.referrer.unwrap().text, b"ref.example");
        let same = batch.keys_of(1);
        assert_eq!(same.path.unwrap().hash, k.path.unwrap().hash, "same path");
        assert_eq!((same.agent, same.referrer), (None, None), "`-` is none");
        let bare = batch.keys_of(2);
        assert_eq!(bare.path, None, "no target, no path");
        assert_eq!(bare.client, Some(&b"198.51.100.2"[..]));
        assert_eq!(k.to_owned().view(), k);
        assert_eq!(batch.keys_of(3), HitKeys::default(), "past the end: none");
    }

    #[test]
    fn spellings_of_one_path_share_one_section() {
        let hasher = foldhash::fast::RandomState::default();
        let mut batch = Batch::default();
        for target in [
            "/~user/a",
            "/%7Euser/b",
            "/%7euser",
            "/shop;jsessionid=0A1B/cart",
            "/a%2fb",
            "/a%2Fb",
            "/x%1b%5b",
        ] {
            let line =
                format!(r#"::1 - - [01/Mar/2026:12:00:00 +0000] "GET {target} HTTP/1.1" 200 1"#);
            let record = Parser::new().parse(line.as_bytes()).unwrap();
            batch.push(&record, &hasher);
        }
        let sections = batch.sections();
        let got: Vec<_> = batch.hits.iter().map(|h| sections.of(h).unwrap()).collect();
        assert_eq!(
            got,
            ["/~user", "/~user", "/~user", "/shop", "/a%2Fb", "/a%2Fb", "/x%1B%5B"]
        );
    }
}
