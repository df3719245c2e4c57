//! `--geoip`: each client's country, from a MaxMind DB file.
//!
//! [`Geo::open`] reads the whole database (GeoLite2-Country or -City,
//! DB-IP Lite, any `.mmdb` whose records carry `country.iso_code`) and
//! checks that it has countries at all: an ASN database, say, would only
//! ever answer "unknown", so it is an error naming the file.
//!
//! [`Geo::annotate`] sets the country of every hit of a batch. Lookups are
//! cached per client, in a direct-mapped table of [`CACHE_SLOTS`] entries
//! keyed by the client's hash (a slot holds the last client that hashed to
//! it), so memory is fixed however many clients the log holds, and a busy
//! client costs a table read rather than a walk of the database's tree.
//!
//! A client that is not an IP address (a host name, junk) or that the
//! database does not know is `Country::UNKNOWN`. Where a record has no
//! `country` (an anycast network, say), its `registered_country` is taken.

use std::net::IpAddr;
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use maxminddb::{path, Reader, WithinOptions};

use crate::batch::Batch;
use crate::drill::Country;

/// Entries of the lookup cache (16 bytes each).
pub const CACHE_SLOTS: usize = 1 << 14;
/// Records read at open to find a country before calling the database
/// one without any.
const PROBE_RECORDS: usize = 10_000;

/// A country database and its lookup cache.
pub struct Geo {
    reader: Reader<Vec<u8>>,
    /// `(client hash, country)`; `Country::NONE` marks an empty slot (a
    /// lookup never gives it).
    cache: Vec<(u64, Country)>,
}

impl std::fmt::Debug for Geo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Geo")
            .field("database_type", &self.reader.metadata().database_type)
            .finish_non_exhaustive()
    }
}

impl Geo {
    /// Read the database at `path`: an error names the file when it is
    /// missing, unreadable, not a MaxMind DB, or has no country.
    pub fn open(path: &Path) -> Result<Geo> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read the --geoip database {}", path.display()))?;
        let reader = Reader::from_source(bytes).with_context(|| {
            format!(
                "cannot read the --geoip database {}: not a MaxMind DB file",
                path.display()
            )
        })?;
        if !has_countries(&reader) {
            bail!(
                "the --geoip database {} has no country.iso_code (its type is {:?})\n  \
                 --geoip needs a country or city database (GeoLite2-Country or -City, DB-IP)",
                path.display(),
                reader.metadata().database_type
            );
        }
        Ok(Geo {
            reader,
            cache: vec![(0, Country::NONE); CACHE_SLOTS],
        })
    }

    /// The country of the client whose address is `address` (as the log
    /// wrote it) and whose hash is `hash`.
    pub fn country(&mut self, hash: u64, address: &[u8]) -> Country {
        let slot = &mut self.cache[hash as usize % CACHE_SLOTS];
        if slot.0 == hash && slot.1 != Country::NONE {
            return slot.1;
        }
        let country = lookup(&self.reader, address);
        self.cache[hash as usize % CACHE_SLOTS] = (hash, country);
        country
    }

    /// Set the country of every hit of `batch` that has a client address.
    pub fn annotate(&mut self, batch: &mut Batch) {
        for i in 0..batch.keys.len() {
            let Some(client) = batch.keys_of(i).client else {
                continue;
            };
            let hash = batch.hits[i].client;
            let country = self.country(hash, client);
            batch.keys[i].country = country;
        }
    }
}

/// The country of `address` in `reader`: `UNKNOWN` when it is not an IP
/// address or the database has none for it.
fn lookup(reader: &Reader<Vec<u8>>, address: &[u8]) -> Country {
    let Some(ip) = std::str::from_utf8(address)
        .ok()
        .and_then(|a| a.parse::<IpAddr>().ok())
    else {
        return Country::UNKNOWN;
    };
    let Ok(result) = reader.lookup(ip) else {
        // An IPv6 address in an IPv4-only database.
        return Country::UNKNOWN;
    };
    for field in ["country", "registered_country"] {
        if let Ok(Some(code)) = result.decode_path::<&str>(&path![field, "iso_code"]) {
            return Country::from_code(code);
        }
    }
    Country::UNKNOWN
}

/// Whether any of the first records of `reader` has a country.
fn has_countries(reader: &Reader<Vec<u8>>) -> bool {
    let Ok(networks) = reader.networks(WithinOptions::default()) else {
        return false;
    };
    networks.take(PROBE_RECORDS).flatten().any(|record| {
        ["country", "registered_country"].iter().any(|&field| {
            matches!(
                record.decode_path::<&str>(&path![field, "iso_code"]),
                Ok(Some(_))
            )
        })
    })
}
