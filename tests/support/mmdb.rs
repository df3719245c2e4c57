//! A tiny MaxMind DB writer, for `--geoip` tests: the format is public
//! (MaxMind DB File Format Specification 2.0), and a database built here
//! stands in for GeoLite2 files that tests must not copy.
//!
//! Layout: a binary search tree over the address bits (IPv6, with IPv4 at
//! `::a.b.c.d`), 24-bit records; 16 zero bytes; the data section; the
//! marker `\xAB\xCD\xEFMaxMind.com` and the metadata map.

use std::net::IpAddr;

/// A value of the data section.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    U16(u16),
    U32(u32),
    U64(u64),
    Array(Vec<Value>),
    Map(Vec<(String, Value)>),
}

/// `{"country": {"iso_code": code}}`, as country and city databases have.
pub fn country(code: &str) -> Value {
    map(&[("country", map(&[("iso_code", Value::Str(code.into()))]))])
}

/// A map of `pairs`.
pub fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

/// A database of `networks` (`"203.0.113.0/24"` or `"2001:db8::/32"`) and
/// their records, with `database_type`.
pub fn build(database_type: &str, networks: &[(&str, Value)]) -> Vec<u8> {
    let mut data = Vec::new();
    let mut tree = Tree::default();
    for (network, value) in networks {
        let (addr, prefix) = network.split_once('/').expect("a network in CIDR form");
        let addr: IpAddr = addr.parse().expect("an IP address");
        let prefix: u32 = prefix.parse().expect("a prefix length");
        let (bits, prefix) = match addr {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 96 + prefix),
            IpAddr::V6(v6) => (u128::from(v6), prefix),
        };
        let offset = data.len() as u32;
        encode(value, &mut data);
        tree.insert(bits, prefix, offset);
    }
    let node_count = tree.nodes.len() as u32;
    let mut out = Vec::new();
    for node in &tree.nodes {
        for child in node {
            let record = match *child {
                Child::Node(i) => i,
                Child::Empty => node_count,
                Child::Data(offset) => node_count + 16 + offset,
            };
            out.extend_from_slice(&record.to_be_bytes()[1..]);
        }
    }
    out.extend_from_slice(&[0; 16]);
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    let metadata = Value::Map(vec![
        ("binary_format_major_version".into(), Value::U16(2)),
        ("binary_format_minor_version".into(), Value::U16(0)),
        ("build_epoch".into(), Value::U64(1_772_366_400)),
        ("database_type".into(), Value::Str(database_type.into())),
        (
            "description".into(),
            map(&[("en", Value::Str("logmon test database".into()))]),
        ),
        ("ip_version".into(), Value::U16(6)),
        (
            "languages".into(),
            Value::Array(vec![Value::Str("en".into())]),
        ),
        ("node_count".into(), Value::U32(node_count)),
        ("record_size".into(), Value::U16(24)),
    ]);
    encode(&metadata, &mut out);
    out
}

#[derive(Debug, Clone, Copy)]
enum Child {
    Node(u32),
    Empty,
    /// Offset in the data section.
    Data(u32),
}

#[derive(Debug)]
struct Tree {
    nodes: Vec<[Child; 2]>,
}

impl Default for Tree {
    fn default() -> Tree {
        Tree {
            nodes: vec![[Child::Empty; 2]],
        }
    }
}

impl Tree {
    /// Point the `prefix` first bits of `bits` (of 128) at `offset`.
    fn insert(&mut self, bits: u128, prefix: u32, offset: u32) {
        assert!((1..=128).contains(&prefix), "prefix {prefix}");
        let mut node = 0usize;
        for depth in 0..prefix {
            let bit = ((bits >> (127 - depth)) & 1) as usize;
            if depth + 1 == prefix {
                self.nodes[node][bit] = Child::Data(offset);
                return;
            }
            node = match self.nodes[node][bit] {
                Child::Node(i) => i as usize,
                Child::Empty => {
                    self.nodes.push([Child::Empty; 2]);
                    let i = self.nodes.len() - 1;
                    self.nodes[node][bit] = Child::Node(i as u32);
                    i
                }
                Child::Data(_) => panic!("a network inside another"),
            };
        }
    }
}

/// The control byte(s) of a field of `kind` (1..=15) and `size`.
fn control(kind: u8, size: usize, out: &mut Vec<u8>) {
    let (size_bits, extra): (u8, Vec<u8>) = match size {
        0..=28 => (size as u8, vec![]),
        29..=284 => (29, vec![(size - 29) as u8]),
        285..=65_820 => (30, ((size - 285) as u16).to_be_bytes().to_vec()),
        _ => (31, ((size - 65_821) as u32).to_be_bytes()[1..].to_vec()),
    };
    if kind <= 7 {
        out.push(kind << 5 | size_bits);
    } else {
        out.push(size_bits);
        out.push(kind - 7);
    }
    out.extend(extra);
}

/// An unsigned integer in as few big-endian bytes as it needs.
fn unsigned(kind: u8, n: u64, out: &mut Vec<u8>) {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    control(kind, 8 - skip, out);
    out.extend_from_slice(&bytes[skip..]);
}

fn encode(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Str(s) => {
            control(2, s.len(), out);
            out.extend_from_slice(s.as_bytes());
        }
        Value::U16(n) => unsigned(5, u64::from(*n), out),
        Value::U32(n) => unsigned(6, u64::from(*n), out),
        Value::U64(n) => unsigned(9, *n, out),
        Value::Array(items) => {
            control(11, items.len(), out);
            items.iter().for_each(|v| encode(v, out));
        }
        Value::Map(pairs) => {
            control(7, pairs.len(), out);
            for (k, v) in pairs {
                encode(&Value::Str(k.clone()), out);
                encode(v, out);
            }
        }
    }
}
