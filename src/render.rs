//! Render events as text (for people) or JSON lines (for programs).
//!
//! Pure: each event becomes one `String`, which the caller writes with one
//! `write_all` and a flush. The renderer never asks about the terminal, the
//! locale or the environment: `Style` is resolved once at startup, so the
//! same events and style always give the same text (the snapshot tests rely
//! on it). Text is the same on a terminal and in a pipe but for colour, and
//! never redraws, so `grep -i alert` works on it.
//!
//! Text invariants:
//! - Only the alert and recovery lines hold the word "alert" (any case),
//!   apart from text taken from the log, so `grep -i alert` finds exactly
//!   them.
//! - Every line fits 80 columns, but for the first line of an alert or a
//!   recovery: it holds exactly the contract's words and the time, which
//!   scripts match whole; the figures go on an indented second line.
//! - The sparkline's scale only grows over a run ([`Text`] keeps it), so
//!   bars compare from one report to the next.
//!
//! A report is one compact block: a header (with the high-traffic state),
//! totals, status classes and methods, then the drill-down blocks chosen
//! with `--show` ([`Block`]: the top sections, exact status codes, top
//! clients, ...), each one line or a short table, and a sparkline of the
//! request rate over the alert window with the threshold marked on its
//! scale. An alert adds a line naming what drove it.
//!
//! Strings from the log (sections, addresses, paths, agents, hosts) were
//! sanitized when they entered the statistics; text output also shortens
//! overlong ones.

use std::fmt::Write as _;

use chrono::{DateTime, Local, SecondsFormat, TimeZone, Utc};

use crate::drill::{Drill, Ranked, Row};
use crate::drivers::{Driver, Drivers, DRIVERS};
use crate::monitor::{Event, Report, Summary};
use crate::parse::Method;
use crate::stats::{Latency, STATUS_CLASSES};
use crate::text::{truncate, truncate_start};

mod json;

/// How text output looks. Resolved once, at startup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    /// Use ANSI colour.
    pub color: bool,
    /// Print times in UTC instead of the local time zone.
    pub utc: bool,
    /// Draw with ASCII only (`--ascii`, or a locale that is not UTF-8).
    pub ascii: bool,
}

/// A block of a text report, after its summary lines (`--show`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Block {
    /// The top sections: hits, share, 4xx and 5xx
    Sections,
    /// Hits by exact status code, on one line
    Codes,
    /// The top client addresses: hits, share, errors (and country)
    Clients,
    /// The top paths, without the query: hits, share, errors
    Paths,
    /// The top user agents, crawlers and scripts flagged
    Agents,
    /// The top referring hosts
    Referrers,
    /// Hits by country, on one line (with --geoip)
    Countries,
}

/// The blocks a text report shows unless `--show` says otherwise.
pub const DEFAULT_BLOCKS: [Block; 3] = [Block::Sections, Block::Codes, Block::Clients];

/// The terminal width every line fits, but the first line of an alert or a
/// recovery.
pub const WIDTH: usize = 80;
/// Longest name (section, client, path, host) printed in a table, in
/// characters (less when request-time columns need the room).
const MAX_SECTION_WIDTH: usize = 48;
/// Longest user agent printed in a table.
const MAX_AGENT_WIDTH: usize = 56;
/// Lines of the status and method counts longer than this are split in two,
/// so that a report fits an 80-column terminal.
const MAX_LINE: usize = 76;
/// Indent of the lines of a block after its first.
const INDENT: &str = "   ";

const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[1;31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// Sparkline glyphs, lowest first, and the mark of a bar taller than the
/// scale.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const CLIPPED: char = '↑';
/// The same for terminals without UTF-8.
const ASCII_BARS: [char; 8] = ['_', '.', '-', '~', '=', '+', '*', '#'];
const ASCII_CLIPPED: char = '^';

/// The sparkline's scale: the top of its tallest glyph, as a multiple of
/// the threshold. It starts at 2 (the threshold is the top of `▄`, the
/// middle glyph) and doubles when a bar is taller, up to 8 (the threshold
/// is the top of `▁`); bars taller than that are drawn clipped. It never
/// shrinks, so a glyph means the same rate in every report of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    top: u32,
}

impl Scale {
    const FIRST: u32 = 2;
    const MOST: u32 = 8;

    /// The glyph level (1 to 8) whose top is the threshold.
    fn threshold_level(self) -> usize {
        (8 / self.top) as usize
    }

    /// Grow to fit `peak` (a rate), as far as it may; true if it grew.
    fn fit(&mut self, peak: f64, threshold: f64) -> bool {
        let before = self.top;
        while peak > threshold * f64::from(self.top) && self.top < Scale::MOST {
            self.top *= 2;
        }
        self.top != before
    }

    /// The glyph level (1 to 8) of a bar at `rate`, or `None` when it is
    /// taller than the scale (clipped). Compared without dividing, so that
    /// exactly the threshold is the threshold's level.
    fn level(self, rate: f64, threshold: f64) -> Option<usize> {
        let top = threshold * f64::from(self.top);
        (1..=8).find(|&l| rate * 8.0 <= top * l as f64)
    }
}

impl Default for Scale {
    fn default() -> Scale {
        Scale { top: Scale::FIRST }
    }
}

/// Text output for a run: the style, and what one report passes to the
/// next (the sparkline's [`Scale`]).
#[derive(Debug, Clone)]
pub struct Text {
    style: Style,
    scale: Scale,
    /// The blocks after a report's summary lines, in this order.
    blocks: Vec<Block>,
}

impl Default for Text {
    fn default() -> Text {
        Text::new(Style::default())
    }
}

impl Text {
    /// Text with the default blocks ([`DEFAULT_BLOCKS`]).
    pub fn new(style: Style) -> Text {
        Text::with_blocks(style, &DEFAULT_BLOCKS)
    }

    /// Text whose reports show `blocks`, in this order (a block named
    /// twice is shown once).
    pub fn with_blocks(style: Style, blocks: &[Block]) -> Text {
        let mut unique = Vec::new();
        for &b in blocks {
            if !unique.contains(&b) {
                unique.push(b);
            }
        }
        Text {
            style,
            scale: Scale::default(),
            blocks: unique,
        }
    }

    pub fn style(&self) -> &Style {
        &self.style
    }

    /// Render `event` as a block of text ending in a newline.
    pub fn render(&mut self, event: &Event) -> String {
        let style = &self.style;
        match event {
            Event::Report(r) => text_report(r, style, &mut self.scale, &self.blocks),
            // The first line holds the contract's words and the time, and
            // nothing else: scripts match it whole. The figures go below.
            Event::Alert(a) => {
                let first = format!(
                    "High traffic generated an alert - hits = {}, triggered at {}",
                    a.hits,
                    time(a.at, style)
                );
                let second = format!(
                    "{INDENT}{} req/s over {}s, threshold {} req/s",
                    human_rate(a.average),
                    a.window_secs,
                    a.threshold
                );
                let mut lines = vec![first, second];
                lines.extend(drivers_line(&a.drivers));
                paint_lines(style, RED, &lines)
            }
            Event::Recovered(a) => {
                let first = format!(
                    "High traffic alert recovered - hits = {}, recovered at {}",
                    a.hits,
                    time(a.at, style)
                );
                let second = format!(
                    "{INDENT}lasted {}, peak {} req/s",
                    human_duration(a.duration_secs()),
                    human_rate(a.peak_average()),
                );
                paint_lines(style, GREEN, &[first, second])
            }
            Event::Summary(s) => text_summary(s, style),
        }
    }
}

/// Render `event` as a block of text ending in a newline, on its own: a
/// report is drawn on the first scale, as if it were the run's first.
pub fn text(event: &Event, style: &Style) -> String {
    Text::new(*style).render(event)
}

fn text_report(r: &Report, style: &Style, scale: &mut Scale, blocks: &[Block]) -> String {
    let s = &r.stats;
    let mut out = String::new();

    let header = format!(
        "-- {} to {} ({}s)",
        time(r.start, style),
        clock_time(r.end, style),
        r.end - r.start
    );
    let _ = write!(out, "{}", paint(style, BOLD, &header));
    if let Some(since) = r.alert_since {
        let state = format!(
            "HIGH TRAFFIC since {} ({})",
            clock_time(since, style),
            human_duration(r.end - since)
        );
        // On the header's line when it fits, else on its own.
        let gap = match header.chars().count() + 2 + state.len() <= WIDTH {
            true => "  ".to_owned(),
            false => format!("\n{INDENT}"),
        };
        let _ = write!(out, "{gap}{}", paint(style, RED, &state));
    }
    out.push('\n');

    let mut totals = vec![
        format!("{} req", human_count(s.hits)),
        format!("{}/s", human_rate(r.rate())),
    ];
    match s.bytes.checked_div(s.hits) {
        Some(mean) => totals.push(format!(
            "{} ({}/req)",
            human_bytes(s.bytes),
            human_bytes(mean)
        )),
        None => totals.push(human_bytes(s.bytes)),
    }
    let (clients, exact) = s.clients();
    let approx = if exact { "" } else { "~" };
    let noun = if clients == 1 { "client" } else { "clients" };
    totals.push(format!("{approx}{} {noun}", human_count(clients)));
    if s.hits > 0 {
        totals.push(format!("{:.1}% errors", percent(s.errors(), s.hits)));
    }
    if s.invalid > 0 {
        let invalid = format!("{} invalid", human_count(s.invalid));
        totals.push(paint(style, YELLOW, &invalid));
    }
    flow(&mut out, &totals, "  ", WIDTH);

    if s.hits > 0 {
        let classes: Vec<String> = (STATUS_CLASSES.iter().zip(s.status))
            .filter(|&(_, n)| n > 0)
            .map(|(class, n)| format!("{class} {}", human_count(n)))
            .collect();
        let methods: Vec<String> = Method::ALL
            .iter()
            .filter(|&&m| s.methods[m as usize] > 0)
            .map(|&m| format!("{} {}", m.as_str(), human_count(s.methods[m as usize])))
            .collect();
        let width = |items: &[String]| items.iter().map(|i| i.len() + 2).sum::<usize>() + 1;
        if width(&classes) + 2 + width(&methods) <= MAX_LINE + 1 {
            let mut items = classes;
            items.push(String::new()); // a wider gap between the two groups
            items.extend(methods);
            flow(&mut out, &items, "  ", MAX_LINE);
        } else if width(&methods) <= MAX_LINE {
            // Break between the groups rather than inside one.
            flow(&mut out, &classes, "  ", MAX_LINE);
            flow(&mut out, &methods, "  ", MAX_LINE);
        } else {
            let mut items = classes;
            items.push(String::new());
            items.extend(methods);
            flow(&mut out, &items, "  ", MAX_LINE);
        }
        if let Some(latency) = s.latency() {
            let _ = writeln!(out, "{INDENT}latency {}", percentiles(&latency));
        }
    }

    for block in blocks {
        match block {
            Block::Sections => section_table(&mut out, r, style),
            Block::Codes => codes_line(&mut out, &r.drill),
            Block::Clients => client_table(&mut out, r, style),
            Block::Paths => ranked_table(&mut out, r, style, "path", &r.drill.paths),
            Block::Agents => agent_table(&mut out, r, style),
            Block::Referrers => ranked_table(&mut out, r, style, "referrer", &r.drill.referrers),
            Block::Countries => countries_line(&mut out, &r.drill),
        }
    }
    files_table(&mut out, r, style);
    sparkline(&mut out, r, style, scale);
    out
}

/// Lay `items` out on indented lines of at most `max` columns, `sep`
/// apart. Colour codes take no room.
fn flow(out: &mut String, items: &[String], sep: &str, max: usize) {
    let mut line = String::from(INDENT);
    let mut width = INDENT.len();
    for item in items {
        let w = visible_width(item);
        if width > INDENT.len() {
            if width + sep.len() + w > max {
                let _ = writeln!(out, "{}", line.trim_end());
                line = String::from(INDENT);
                width = INDENT.len();
            } else {
                line.push_str(sep);
                width += sep.len();
            }
        }
        line.push_str(item);
        width += w;
    }
    let _ = writeln!(out, "{}", line.trim_end());
}

/// Columns `s` takes on a terminal: its chars, but for colour codes.
fn visible_width(s: &str) -> usize {
    let mut width = 0;
    let mut in_escape = false;
    for c in s.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (false, _) => width += 1,
            (true, 'm') => in_escape = false,
            (true, _) => {}
        }
    }
    width
}

/// The top sections: name, hits, share of the period's hits, 4xx and 5xx,
/// and request-time percentiles when any of them has request times. Names
/// are shortened so that a row fits 80 columns.
fn section_table(out: &mut String, r: &Report, style: &Style) {
    if r.top.is_empty() {
        return;
    }
    let timed = r.top.iter().any(|row| row.latency.is_some());
    let rows: Vec<Vec<String>> = r
        .top
        .iter()
        .map(|row| {
            let mut cells = vec![
                row.section.clone(),
                human_count(row.hits),
                share(row.hits, r.stats.hits),
                human_count(row.errors - row.server_errors),
                human_count(row.server_errors),
            ];
            if timed {
                match &row.latency {
                    Some(l) => cells.extend([l.p50, l.p95, l.p99].map(millis)),
                    None => cells.extend([String::new(), String::new(), String::new()]),
                }
            }
            cells
        })
        .collect();
    let mut head = vec![
        heading("section", r.top_exact),
        "hits",
        "share",
        "4xx",
        "5xx",
    ];
    if timed {
        head.extend(["p50", "p95", "p99"]);
    }
    table(out, &head, &rows, MAX_SECTION_WIDTH, style);
}

/// A table's first heading: `name`, or `name ~` when its counts are
/// approximate (the table overflowed).
fn heading(name: &'static str, exact: bool) -> &'static str {
    match (name, exact) {
        (name, true) => name,
        ("section", false) => "section ~",
        ("client", false) => "client ~",
        ("path", false) => "path ~",
        ("agent", false) => "agent ~",
        ("referrer", false) => "referrer ~",
        (name, false) => name,
    }
}

/// `part` as a share of `whole`: `37.5%`.
fn share(part: u64, whole: u64) -> String {
    format!("{:.1}%", percent(part, whole))
}

/// A table under `head`: the first column a name, left-aligned and
/// shortened to fit 80 columns (and at most `max_name` characters), the
/// others right-aligned. Nothing when there is no row.
fn table(out: &mut String, head: &[&str], rows: &[Vec<String>], max_name: usize, style: &Style) {
    if rows.is_empty() {
        return;
    }
    let head: Vec<String> = head.iter().map(|&h| h.to_owned()).collect();
    let title = &head[0];
    let mut widths = vec![0; head.len()];
    for row in std::iter::once(&head).chain(rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let numbers: usize = widths[1..].iter().map(|w| w + 2).sum();
    let room = WIDTH
        .saturating_sub(INDENT.len() + numbers)
        .clamp(title.len(), max_name);
    widths[0] = widths[0].min(room);
    for (i, row) in std::iter::once(&head).chain(rows).enumerate() {
        let name = truncate(&row[0], room);
        let pad = widths[0] - name.chars().count();
        let mut line = format!("{INDENT}{name}{:pad$}", "");
        for (w, cell) in widths[1..].iter().zip(&row[1..]) {
            let _ = write!(line, "  {cell:>w$}");
        }
        let mut line = line.trim_end().to_owned();
        line.push('\n');
        out.push_str(&if i == 0 {
            paint(style, DIM, &line)
        } else {
            line
        });
    }
}

/// When the run reads several files: the top files by hits, with their
/// share of the period's hits. Names keep their end (the file's own name),
/// shortened from the start so that a row fits 80 columns.
fn files_table(out: &mut String, r: &Report, style: &Style) {
    let Some(files) = &r.files else { return };
    let shown = &files[..files.len().min(r.files_shown)];
    if shown.is_empty() {
        return;
    }
    let rows: Vec<[String; 2]> = shown
        .iter()
        .map(|f| {
            [
                human_count(f.hits),
                format!("{:.1}%", percent(f.hits, r.stats.hits)),
            ]
        })
        .collect();
    let head = ["hits".to_owned(), "share".to_owned()];
    let mut widths = [0; 2];
    for row in std::iter::once(&head).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let numbers: usize = widths.iter().map(|w| w + 2).sum();
    let room = WIDTH.saturating_sub(INDENT.len() + numbers);
    let names: Vec<_> = shown
        .iter()
        .map(|f| truncate_start(&f.file, room))
        .collect();
    let name_width = names
        .iter()
        .map(|n| n.chars().count())
        .chain(["file".len()])
        .max()
        .unwrap_or(0);
    let line = |name: &str, cells: &[String; 2]| {
        let pad = name_width - name.chars().count();
        let mut line = format!("{INDENT}{name}{:pad$}", "");
        for (w, cell) in widths.iter().zip(cells) {
            let _ = write!(line, "  {cell:>w$}");
        }
        line.push('\n');
        line
    };
    out.push_str(&paint(style, DIM, &line("file", &head)));
    for (name, cells) in names.iter().zip(&rows) {
        out.push_str(&line(name, cells));
    }
}

/// The top clients: address, hits, share, errors, and the country with
/// `--geoip`.
fn client_table(out: &mut String, r: &Report, style: &Style) {
    let clients = &r.drill.clients;
    let geo = r.drill.countries.is_some();
    let rows: Vec<Vec<String>> = (clients.rows.iter())
        .map(|row| {
            let mut cells = vec![row.name.clone()];
            if geo {
                cells.push(row.country.code());
            }
            cells.extend(numbers(row, r.stats.hits));
            cells
        })
        .collect();
    let mut head = vec![heading("client", clients.exact)];
    if geo {
        head.push("country");
    }
    head.extend(["hits", "share", "errors"]);
    table(out, &head, &rows, MAX_SECTION_WIDTH, style);
}

/// Hits, share of `total` and errors of a row.
fn numbers(row: &Row, total: u64) -> [String; 3] {
    [
        human_count(row.hits),
        share(row.hits, total),
        human_count(row.errors),
    ]
}

/// The top paths (with errors) or referring hosts.
fn ranked_table(out: &mut String, r: &Report, style: &Style, name: &'static str, t: &Ranked) {
    let errors = name == "path";
    let rows: Vec<Vec<String>> = (t.rows.iter())
        .map(|row| {
            let [hits, share, errs] = numbers(row, r.stats.hits);
            let mut cells = vec![row.name.clone(), hits, share];
            if errors {
                cells.push(errs);
            }
            cells
        })
        .collect();
    let mut head = vec![heading(name, t.exact), "hits", "share"];
    if errors {
        head.push("errors");
    }
    table(out, &head, &rows, MAX_SECTION_WIDTH, style);
}

/// The top user agents, with `yes` under `bot` for crawlers and scripts.
fn agent_table(out: &mut String, r: &Report, style: &Style) {
    let agents = &r.drill.agents;
    let rows: Vec<Vec<String>> = (agents.rows.iter())
        .map(|row| {
            let [hits, share, _] = numbers(row, r.stats.hits);
            let bot = if row.bot { "yes" } else { "" };
            vec![row.name.clone(), hits, share, bot.to_owned()]
        })
        .collect();
    let head = [heading("agent", agents.exact), "hits", "share", "bot"];
    table(out, &head, &rows, MAX_AGENT_WIDTH, style);
}

/// A status code as printed: `404`, or `-` for a hit without one.
fn code_text(code: u16) -> String {
    match code {
        0 => "-".to_owned(),
        code => code.to_string(),
    }
}

/// `label` then `items` on one indented line of at most 80 columns; the
/// items that do not fit are counted at its end: `(+3 more)`.
fn one_line(out: &mut String, label: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let mut line = format!("{INDENT}{label}");
    for (i, item) in items.iter().enumerate() {
        let left = items.len() - i - 1;
        let more = match left {
            0 => String::new(),
            n => format!("  (+{n} more)"),
        };
        let width = line.chars().count() + 2 + item.chars().count();
        if width + more.len() > WIDTH {
            let _ = write!(line, "  (+{} more)", items.len() - i);
            break;
        }
        let _ = write!(line, "  {item}");
    }
    let _ = writeln!(out, "{line}");
}

/// Hits by exact status code, most first: `codes  200 28  304 6  404 3`.
fn codes_line(out: &mut String, drill: &Drill) {
    let mut codes = drill.codes.clone();
    codes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let items: Vec<String> = (codes.iter())
        .map(|&(code, hits)| format!("{} {}", code_text(code), human_count(hits)))
        .collect();
    one_line(out, "codes", &items);
}

/// Hits by country, most first: `countries  US 120  DE 40  - 3`.
fn countries_line(out: &mut String, drill: &Drill) {
    let Some(countries) = &drill.countries else {
        return;
    };
    let items: Vec<String> = (countries.iter())
        .map(|&(country, hits)| format!("{} {}", country.code(), human_count(hits)))
        .collect();
    one_line(out, "countries", &items);
}

/// The line after an alert's figures that says what drove it, when
/// something grew: `driven by /api +1,840 (61%), client 203.0.113.7
/// +1,210 (40%)`, each with its growth since the window before and its
/// share of the window. The top section and the top client always (their
/// names shortened if they must), then as many others as fit 80 columns.
fn drivers_line(d: &Drivers) -> Option<String> {
    // (is a section, rank, driver, most characters of its name)
    type Item<'a> = (bool, usize, &'a Driver, usize);
    let render = |items: &[Item<'_>]| {
        let mut items = items.to_vec();
        // Sections first, then clients, each by rank.
        items.sort_by_key(|&(section, rank, _, _)| (!section, rank));
        let parts: Vec<String> = (items.iter())
            .map(|&(section, _, x, max)| {
                format!(
                    "{}{} +{} ({:.0}%)",
                    if section { "" } else { "client " },
                    truncate(&x.name, max),
                    group(x.growth()),
                    percent(x.hits, d.window_hits)
                )
            })
            .collect();
        format!("{INDENT}driven by {}", parts.join(", "))
    };
    let width = |items: &[Item<'_>]| render(items).chars().count();
    let mut chosen: Vec<Item<'_>> = Vec::new();
    chosen.extend(d.sections.first().map(|x| (true, 0, x, usize::MAX)));
    chosen.extend(d.clients.first().map(|x| (false, 0, x, usize::MAX)));
    if chosen.is_empty() {
        return None;
    }
    // Shorten the longest name until the two fit.
    while width(&chosen) > WIDTH {
        let over = width(&chosen) - WIDTH;
        let longest =
            (chosen.iter_mut()).max_by_key(|item| item.2.name.chars().count().min(item.3))?;
        let len = longest.2.name.chars().count().min(longest.3);
        if len <= 1 {
            break;
        }
        longest.3 = len.saturating_sub(over).max(1);
    }
    let rest = (1..DRIVERS).flat_map(|rank| {
        let section = d.sections.get(rank).map(|x| (true, rank, x, usize::MAX));
        let client = d.clients.get(rank).map(|x| (false, rank, x, usize::MAX));
        section.into_iter().chain(client)
    });
    for item in rest {
        chosen.push(item);
        if width(&chosen) > WIDTH {
            chosen.pop();
        }
    }
    Some(render(&chosen))
}

/// The request rate over the alert window as a sparkline, on a scale where
/// the threshold is the top of one glyph (named at the end of the line), so
/// a bar taller than that glyph is above the threshold. A line follows when
/// the scale grew to fit this report's bars.
fn sparkline(out: &mut String, r: &Report, style: &Style, scale: &mut Scale) {
    let (glyphs, clipped) = match style.ascii {
        true => (&ASCII_BARS, ASCII_CLIPPED),
        false => (&BARS, CLIPPED),
    };
    // Bars end at the newest second; the oldest may cover fewer seconds.
    let rates: Vec<f64> = r.bar_rates().collect();
    let threshold = r.threshold;
    let was = glyphs[scale.threshold_level() - 1];
    let grew = scale.fit(rates.iter().copied().fold(0.0, f64::max), threshold);
    let k = scale.threshold_level();
    let mut bars = String::new();
    let mut above = false;
    for &rate in &rates {
        let level = scale.level(rate, threshold);
        // Colour only changes where the bars cross the threshold.
        let over = level.is_none_or(|l| l > k);
        if style.color && over != above {
            bars.push_str(if over { RED } else { RESET });
        }
        above = over;
        bars.push(level.map_or(clipped, |l| glyphs[l - 1]));
    }
    if style.color && above {
        bars.push_str(RESET);
    }
    let figures = format!(
        "{}/s avg over {}s, threshold {}/s ({})",
        human_rate(r.window_average()),
        r.window_secs,
        threshold,
        glyphs[k - 1],
    );
    let head = format!("{INDENT}window ");
    // On the bars' line when it fits, else on the next, under the bars.
    let gap = match head.len() + rates.len() + 1 + figures.chars().count() <= WIDTH {
        true => " ".to_owned(),
        false => format!("\n{:w$}", "", w = head.len()),
    };
    let _ = writeln!(out, "{head}{bars}{gap}{figures}");
    if grew {
        let _ = writeln!(
            out,
            "{INDENT}the bars' scale grew to {}/s: the threshold is now {} (was {was})",
            human_rate(threshold * f64::from(scale.top)),
            glyphs[k - 1],
        );
    }
}

/// `--from-start`: the line between what the files held, read on the log's
/// clock up to `last` (its newest second; `None` when it held no request),
/// and what follows, live.
pub fn backlog_end(last: Option<i64>, style: &Style) -> String {
    let line = match last {
        Some(t) => format!(
            "== backlog read up to {}; following live from here",
            time(t, style)
        ),
        None => "== backlog read, no request in it; following live from here".to_owned(),
    };
    paint_lines(style, BOLD, &[line])
}

/// The whole run: its span, then the totals (and latency) on the lines
/// below. A replay that read no request has no span.
fn text_summary(s: &Summary, style: &Style) -> String {
    if !s.timed() {
        let mut line = "== summary: no requests".to_owned();
        if s.invalid > 0 {
            let _ = write!(line, ", {} invalid", group(s.invalid));
        }
        return paint_lines(style, BOLD, &[line]);
    }
    let head = format!(
        "== summary {} to {} ({}s)",
        time(s.start, style),
        clock_time(s.end, style),
        s.end - s.start,
    );
    let plural = |n: u64, one: &str, many: &str| {
        let noun = if n == 1 { one } else { many };
        format!("{} {noun}", group(n))
    };
    let mut episodes = plural(s.alerts, "high-traffic episode", "high-traffic episodes");
    if s.alerting {
        episodes.push_str(", still going");
    }
    let items = [
        plural(s.hits, "hit", "hits"),
        human_bytes(s.bytes),
        format!("{} invalid", group(s.invalid)),
        episodes,
    ]
    .map(|mut item| {
        item.push(',');
        item
    });
    let mut body = String::new();
    flow(&mut body, &items, " ", WIDTH);
    let mut lines = vec![head];
    lines.extend(body.lines().map(|l| l.to_owned()));
    if let Some(last) = lines.last_mut() {
        last.pop(); // the last item's comma
    }
    if let Some(l) = s.latency {
        lines.push(format!("{INDENT}latency {}", percentiles(&l)));
    }
    paint_lines(style, BOLD, &lines)
}

/// `p50 12ms p95 80ms p99 210ms`.
fn percentiles(l: &Latency) -> String {
    format!(
        "p50 {} p95 {} p99 {}",
        millis(l.p50),
        millis(l.p95),
        millis(l.p99)
    )
}

/// Milliseconds, with a decimal below 10 ms: `0.4ms`, `9.5ms`, `12ms`.
fn millis(ms: f64) -> String {
    if ms < 9.95 {
        format!("{ms:.1}ms")
    } else {
        format!("{ms:.0}ms")
    }
}

/// Milliseconds rounded to the microsecond, for JSON.
fn json_latency(l: Option<Latency>) -> Option<Latency> {
    let round = |ms: f64| (ms * 1000.0).round() / 1000.0;
    l.map(|l| Latency {
        p50: round(l.p50),
        p95: round(l.p95),
        p99: round(l.p99),
    })
}

/// `lines`, each in an ANSI colour (when colour is on), each ending in a
/// newline.
fn paint_lines(style: &Style, color: &str, lines: &[String]) -> String {
    let mut out = String::new();
    for line in lines {
        out.push_str(&paint(style, color, line));
        out.push('\n');
    }
    out
}

/// Wrap `text` (which may end in a newline) in an ANSI colour.
fn paint(style: &Style, color: &str, text: &str) -> String {
    if !style.color {
        return text.to_owned();
    }
    match text.strip_suffix('\n') {
        Some(body) => format!("{color}{body}{RESET}\n"),
        None => format!("{color}{text}{RESET}"),
    }
}

/// RFC 3339, in the local time zone (with its offset) or UTC.
fn time(t: i64, style: &Style) -> String {
    if style.utc {
        utc(t)
    } else {
        match Local.timestamp_opt(t, 0).single() {
            Some(d) => d.to_rfc3339_opts(SecondsFormat::Secs, false),
            None => utc(t),
        }
    }
}

/// Only the time of day, for the end of a range whose start has the date.
fn clock_time(t: i64, style: &Style) -> String {
    let d = DateTime::from_timestamp(t, 0).unwrap_or_default();
    if style.utc {
        d.format("%H:%M:%S").to_string()
    } else {
        d.with_timezone(&Local).format("%H:%M:%S").to_string()
    }
}

/// RFC 3339 in UTC, `2026-03-01T12:00:00Z`.
pub fn utc(t: i64) -> String {
    match Utc.timestamp_opt(t, 0).single() {
        Some(d) => d.to_rfc3339_opts(SecondsFormat::Secs, true),
        None => t.to_string(),
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// `1234567` -> `1,234,567`, for totals that should stay exact.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count in at most five characters: `999`, `1.5k`, `12.4k`, `124k`,
/// `3.1M`.
pub fn human_count(n: u64) -> String {
    if n < 1000 {
        return n.to_string();
    }
    human_decimal(n as f64)
}

/// A rate: two decimals below 10 (so 2.03 reads as above a threshold of
/// 2, not as 2.0), one below 1000, then like `human_count`.
fn human_rate(r: f64) -> String {
    if r < 9.995 {
        format!("{r:.2}")
    } else if r < 999.95 {
        format!("{r:.1}")
    } else {
        human_decimal(r)
    }
}

/// `x` >= 1000 with a metric suffix and three significant digits.
fn human_decimal(x: f64) -> String {
    const UNITS: [&str; 6] = ["k", "M", "G", "T", "P", "E"];
    let mut value = x / 1000.0;
    let mut unit = 0;
    // Compare with what the value rounds to, so 999.96k becomes 1.0M.
    while value >= 999.5 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if value < 99.95 {
        format!("{value:.1}{}", UNITS[unit])
    } else {
        format!("{value:.0}{}", UNITS[unit])
    }
}

/// Bytes in binary units: `512 B`, `1.5 KiB`, `3.1 MiB`.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    // Compare with what the value rounds to, so 1023.99 KiB is 1.0 MiB.
    while value >= 1023.95 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `45s`, `4m 10s`, `2h 05m`, `3d 4h`.
fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// Room for a JSON report with its top lists of ordinary length (about
/// 2,500 bytes with five user agents), so that the line is written without
/// growing its buffer.
const JSON_LINE: usize = 4096;

/// Render `event` as one JSON object on one line, ending in a newline.
pub fn json(event: &Event) -> String {
    let mut line = Vec::with_capacity(JSON_LINE);
    write_json(event, &mut line);
    String::from_utf8(line).expect("the JSON writer writes UTF-8")
}

/// Append `event` to `out` as [`json`] renders it: straight into an output
/// buffer, without a `String` of its own.
pub fn write_json(event: &Event, out: &mut Vec<u8>) {
    json::event(event, out);
}

/// `Method::ALL` in name order: the order of the `methods` object since
/// the first release (it was a `serde_json::Map`, sorted by key).
const METHODS_BY_NAME: [Method; 10] = [
    Method::Connect,
    Method::Delete,
    Method::Get,
    Method::Head,
    Method::Options,
    Method::Other,
    Method::Patch,
    Method::Post,
    Method::Put,
    Method::Trace,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{Batch, Hit, HitKeys, Keyed};
    use crate::drill::Country;
    use crate::monitor::AlertEvent;
    use crate::stats::Stats;
    use crate::window::Window;

    /// The snapshots pin UTC and the glyph set, so they pass in any time
    /// zone and locale.
    const UTC: Style = Style {
        color: false,
        utc: true,
        ascii: false,
    };

    /// 2026-03-01T12:00:00Z
    const T: i64 = 1_772_366_400;

    /// Statistics of `n` hits for each `(n, status, method, section,
    /// client)`; client `i` is the address `192.0.2.i`.
    fn stats(rows: &[(u64, u16, Method, &str, u64)]) -> Stats {
        let mut stats = Stats::default();
        for &(n, status, method, section, client) in rows {
            let address = format!("192.0.2.{client}");
            let keys = HitKeys {
                client: Some(address.as_bytes()),
                ..HitKeys::default()
            };
            for _ in 0..n {
                let hit = Hit {
                    time: T,
                    bytes: 1000,
                    client,
                    section: None,
                    status,
                    method,
                    request_us: None,
                };
                stats.add(&hit, Some(section));
                stats.add_keys(&hit, &keys);
            }
        }
        stats
    }

    /// A period in the middle of an alert: the rate climbed from 2 to 21
    /// req/s over the window (11.5 req/s on average, threshold 10).
    fn report() -> Report {
        let mut stats = stats(&[
            (98, 200, Method::Get, "/api", 1),
            (2, 503, Method::Post, "/api", 2),
            (41, 200, Method::Get, "/report", 3),
            (9, 404, Method::Other, "/x\\x1b]0;owned", 4),
        ]);
        stats.add_invalid(1);
        let (top, top_exact) = stats.top(5);
        let drill = stats.drill.drill(5, false);
        let per_second: Vec<u64> = (0..120).map(|i| 2 + i / 6).collect();
        let (bar_secs, window_bars) = Window::bars_of(&per_second);
        Report {
            start: T,
            end: T + 10,
            stats,
            top,
            top_exact,
            window_hits: per_second.iter().sum(),
            window_secs: 120,
            threshold: 10.0,
            alerting: true,
            alert_since: Some(T - 150),
            window_bars,
            bar_secs,
            drill,
            files: None,
            files_shown: 5,
        }
    }

    /// A quiet period: steady traffic well below the threshold.
    fn quiet_report() -> Report {
        let mut stats = stats(&[
            (1500, 200, Method::Get, "/static", 7),
            (12_345, 200, Method::Get, "/api", 8),
            (20, 500, Method::Put, "/api", 9),
        ]);
        let (top, top_exact) = stats.top(5);
        let drill = stats.drill.drill(5, false);
        let (bar_secs, window_bars) = Window::bars_of(&[3; 60]);
        Report {
            start: T,
            end: T + 10,
            stats,
            top,
            top_exact,
            window_hits: 180,
            window_secs: 60,
            threshold: 4.5,
            alerting: false,
            alert_since: None,
            window_bars,
            bar_secs,
            drill,
            files: None,
            files_shown: 5,
        }
    }

    fn render(r: Report, style: Style) -> String {
        text(&Event::Report(Box::new(r)), &style)
    }

    /// The bars of the sparkline in `out`.
    fn bars(out: &str) -> String {
        let line = out.lines().find(|l| l.starts_with("   window ")).unwrap();
        let rest = line.trim_start().strip_prefix("window ").unwrap();
        rest.split(' ').next().unwrap().to_owned()
    }

    /// The glyph that marks the threshold in `out`.
    fn mark(out: &str) -> char {
        let line = out.lines().find(|l| l.starts_with("   window ")).unwrap();
        line.strip_suffix(')').unwrap().chars().last().unwrap()
    }

    fn window(per_second: Vec<u64>, threshold: f64) -> Report {
        let (bar_secs, window_bars) = Window::bars_of(&per_second);
        Report {
            window_hits: per_second.iter().sum(),
            window_secs: per_second.len() as u32,
            window_bars,
            bar_secs,
            files: None,
            files_shown: 5,
            threshold,
            alerting: false,
            alert_since: None,
            ..quiet_report()
        }
    }

    #[test]
    fn a_report_during_an_alert_renders_as_pinned() {
        insta::assert_snapshot!(render(report(), UTC));
    }

    #[test]
    fn a_quiet_report_renders_as_pinned() {
        insta::assert_snapshot!(render(quiet_report(), UTC));
    }

    #[test]
    fn an_ascii_report_draws_the_sparkline_with_ascii_only() {
        let out = render(report(), Style { ascii: true, ..UTC });
        assert!(out.is_ascii());
        insta::assert_snapshot!(out);
    }

    #[test]
    fn a_coloured_report_renders_as_pinned() {
        // ESC shown as a visible character, so the snapshot reads as text.
        let out = render(report(), Style { color: true, ..UTC });
        insta::assert_snapshot!(out.replace('\x1b', "␛"));
    }

    #[test]
    fn colour_only_adds_ansi_codes() {
        let ansi = regex::Regex::new("\x1b\\[[0-9;]*m").unwrap();
        for r in [report(), quiet_report()] {
            let plain = render(r.clone(), UTC);
            let coloured = render(r, Style { color: true, ..UTC });
            assert_ne!(plain, coloured);
            assert!(!plain.contains('\x1b'));
            let stripped = ansi.replace_all(&coloured, "");
            assert_eq!(stripped, plain);
        }
    }

    #[test]
    fn reports_fit_in_80_columns() {
        for r in [report(), quiet_report(), timed_report()] {
            for line in render(r, UTC).lines() {
                assert!(line.chars().count() <= 80, "{line:?}");
            }
        }
    }

    #[test]
    fn the_header_says_when_high_traffic_began_without_saying_alert() {
        let first = |r| render(r, UTC).lines().next().unwrap().to_owned();
        assert!(first(report()).ends_with("  HIGH TRAFFIC since 11:57:30 (2m 40s)"));
        assert!(!first(quiet_report()).contains("HIGH"));
        for r in [report(), quiet_report(), timed_report()] {
            let out = render(r, UTC).to_lowercase();
            assert!(!out.contains("alert"), "{out}");
        }
        // A long period makes the header too long for both: the state goes
        // on a line of its own.
        let long = Report {
            start: T - 86_400,
            ..report()
        };
        let out = render(long, UTC);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "-- 2026-02-28T12:00:00Z to 12:00:10 (86410s)");
        assert_eq!(lines[1], "   HIGH TRAFFIC since 11:57:30 (2m 40s)");
    }

    #[test]
    fn hits_without_a_status_show_as_other_only_when_there_are_some() {
        let classes = |r: Report| render(r, UTC).lines().nth(2).unwrap().to_owned();
        assert!(!classes(quiet_report()).contains("other"));
        let r = Report {
            stats: stats(&[
                (3, 200, Method::Get, "/a", 1),
                (2, crate::parse::NO_STATUS, Method::Get, "/a", 1),
            ]),
            ..quiet_report()
        };
        let json: serde_json::Value =
            serde_json::from_str(&json(&Event::Report(Box::new(r.clone())))).unwrap();
        assert_eq!(classes(r), "   2xx 3  other 2    GET 5");
        assert_eq!(json["status"]["other"], 2);
        assert_eq!(json["status"]["2xx"], 3);
    }

    #[test]
    fn many_methods_flow_onto_a_second_line() {
        let all: Vec<_> = Method::ALL
            .iter()
            .map(|&m| (1500, 200, m, "/a", 1))
            .collect();
        let r = Report {
            stats: stats(&all),
            ..quiet_report()
        };
        let out = render(r, UTC);
        let lines: Vec<_> = out.lines().collect();
        assert!(
            lines[2].starts_with("   2xx 15.0k    GET 1.5k  HEAD 1.5k"),
            "{out}"
        );
        assert!(lines[3].starts_with("   CONNECT 1.5k"), "{out}");
        assert!(lines[4].starts_with("   section"), "{out}");
        assert!(lines[2..4].iter().all(|l| l.len() <= MAX_LINE));
    }

    #[test]
    fn a_bar_taller_than_the_marked_glyph_is_above_the_threshold() {
        // One bar per second. While the traffic stays under twice the
        // threshold, the threshold is the top of the middle glyph.
        let out = render(window(vec![0, 5, 10, 11, 20], 10.0), UTC);
        assert_eq!(bars(&out), "▁▂▄▅█");
        assert!(out.ends_with("threshold 10/s (▄)\n"), "{out}");
    }

    #[test]
    fn the_scale_only_grows_so_bars_compare_across_reports() {
        let mut text = Text::new(UTC);
        let mut render =
            |buckets: Vec<u64>| text.render(&Event::Report(Box::new(window(buckets, 10.0))));
        // Up to twice the threshold: the first scale, the threshold at ▄.
        let out = render(vec![0, 10, 20]);
        assert_eq!((bars(&out), mark(&out)), ("▁▄█".into(), '▄'));
        assert!(!out.contains("scale"), "{out}");
        // 4x: the scale doubles, and the report says so.
        let out = render(vec![0, 10, 40]);
        assert_eq!((bars(&out), mark(&out)), ("▁▂█".into(), '▂'));
        assert!(
            out.ends_with("   the bars' scale grew to 40.0/s: the threshold is now ▂ (was ▄)\n"),
            "{out}"
        );
        // Quiet again: the same scale, so 10/s is drawn as it just was.
        let out = render(vec![0, 10, 20]);
        assert_eq!((bars(&out), mark(&out)), ("▁▂▄".into(), '▂'));
        assert!(!out.contains("scale"), "{out}");
        // 20x: the scale stops at 8x (the threshold at ▁), taller bars clip.
        let out = render(vec![10, 11, 80, 81, 200]);
        assert_eq!((bars(&out), mark(&out)), ("▁▂█↑↑".into(), '▁'));
        assert!(out.contains("the threshold is now ▁ (was ▂)"), "{out}");
        let out = render(vec![0, 40]);
        assert_eq!((bars(&out), mark(&out)), ("▁▄".into(), '▁'));
        // The same in ASCII.
        let mut ascii = Text::new(Style { ascii: true, ..UTC });
        let out = ascii.render(&Event::Report(Box::new(window(vec![10, 200], 10.0))));
        assert_eq!((bars(&out), mark(&out)), ("_^".into(), '_'));
    }

    #[test]
    fn bars_cover_round_spans_ending_at_the_newest_second() {
        // (The bar sizes themselves: `window::bar_secs`.)
        // 61 s in 3 s bars: the oldest bar holds the one second left over.
        let mut buckets = vec![30];
        buckets.extend([0; 60]);
        let got = bars(&render(window(buckets, 5.0), UTC));
        assert_eq!(got.chars().count(), 21);
        assert!(
            got.starts_with('▆') && got[3..].chars().all(|c| c == '▁'),
            "{got}"
        );
    }

    #[test]
    fn alert_and_recovery_lines_follow_the_contract() {
        let a = AlertEvent {
            hits: 1215,
            average: 10.125,
            threshold: 10.0,
            window_secs: 120,
            at: T + 80,
            since: T + 80,
            peak_hits: 1215,
            drivers: Default::default(),
        };
        // The first line holds the contract's words and the time, and
        // nothing else; the figures are on an indented second line.
        assert_eq!(
            text(&Event::Alert(a.clone()), &UTC),
            "High traffic generated an alert - hits = 1215, triggered at 2026-03-01T12:01:20Z\n   \
             10.1 req/s over 120s, threshold 10 req/s\n"
        );
        assert_eq!(
            json(&Event::Alert(a.clone())),
            "{\"type\":\"alert\",\"hits\":1215,\"average\":10.125,\"threshold\":10.0,\"window_secs\":120,\"at\":\"2026-03-01T12:01:20Z\",\"drivers\":{\"sections\":[],\"clients\":[]}}\n"
        );
        let r = AlertEvent {
            hits: 1189,
            average: 1189.0 / 120.0,
            at: T + 346,
            peak_hits: 1800,
            ..a.clone()
        };
        assert_eq!(
            text(&Event::Recovered(r.clone()), &UTC),
            "High traffic alert recovered - hits = 1189, recovered at 2026-03-01T12:05:46Z\n   \
             lasted 4m 26s, peak 15.0 req/s\n"
        );
        let v: serde_json::Value =
            serde_json::from_str(&json(&Event::Recovered(r.clone()))).unwrap();
        assert_eq!(v["type"], "recovered");
        assert_eq!(v["hits"], 1189);
        assert_eq!(v["at"], "2026-03-01T12:05:46Z");
        assert_eq!(v["since"], "2026-03-01T12:01:20Z");
        assert_eq!(v["duration_secs"], 266);
        assert_eq!(v["peak_hits"], 1800);
        assert_eq!(v["peak_average"], 15.0);
    }

    #[test]
    fn status_and_methods_break_between_the_groups_when_both_fit_that_way() {
        let r = Report {
            stats: stats(&[
                (131, 200, Method::Get, "/a", 1),
                (8, 304, Method::Head, "/a", 1),
                (7, 404, Method::Post, "/a", 1),
                (4, 500, Method::Put, "/a", 1),
                (1, 200, Method::Delete, "/a", 1),
                (1, 200, Method::Options, "/a", 1),
            ]),
            ..quiet_report()
        };
        let out = render(r, UTC);
        let lines: Vec<_> = out.lines().collect();
        assert_eq!(lines[2], "   2xx 133  3xx 8  4xx 7  5xx 4");
        assert_eq!(
            lines[3],
            "   GET 131  HEAD 8  POST 7  PUT 4  DELETE 1  OPTIONS 1"
        );
    }

    #[test]
    fn alert_lines_are_red_and_recoveries_green_only_with_colour() {
        let a = AlertEvent {
            hits: 1215,
            average: 10.125,
            threshold: 10.0,
            window_secs: 120,
            at: T,
            since: T,
            peak_hits: 1215,
            drivers: Default::default(),
        };
        let colour = Style { color: true, ..UTC };
        assert!(text(&Event::Alert(a.clone()), &colour).starts_with("\x1b[1;31mHigh traffic"));
        assert!(text(&Event::Recovered(a.clone()), &colour).starts_with("\x1b[32mHigh traffic"));
        assert!(text(&Event::Alert(a.clone()), &colour).ends_with("\x1b[0m\n"));
        assert!(!text(&Event::Alert(a.clone()), &UTC).contains('\x1b'));
    }

    #[test]
    fn the_files_block_lists_the_top_files_with_long_names_shortened_at_the_start() {
        let mut r = report();
        let long = format!("/srv/{}/site.access.log", "x".repeat(80));
        let file = |name: &str, hits| crate::monitor::FileHits {
            file: name.into(),
            hits,
        };
        r.files = Some(vec![
            file(&long, 100),
            file("/var/log/nginx/a.log", 40),
            file("b.log", 8),
        ]);
        r.files_shown = 2;
        let text = text(&Event::Report(Box::new(r.clone())), &Style::default());
        let block: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("   file "))
            .take_while(|l| !l.starts_with("   window "))
            .collect();
        assert_eq!(block.len(), 3, "{text}");
        assert!(block[0].ends_with("hits  share"), "{}", block[0]);
        assert!(block[1].starts_with("   …"), "{}", block[1]);
        assert!(
            block[1].ends_with("/site.access.log   100  66.7%"),
            "{}",
            block[1]
        );
        assert!(
            block[2].starts_with("   /var/log/nginx/a.log "),
            "{}",
            block[2]
        );
        assert!(text.lines().all(|l| l.chars().count() <= WIDTH), "{text}");
        let v: serde_json::Value =
            serde_json::from_str(&json(&Event::Report(Box::new(r)))).unwrap();
        assert_eq!(
            v["files"].as_array().unwrap().len(),
            3,
            "JSON lists every file"
        );
        assert_eq!(
            v["files"][2],
            serde_json::json!({"file": "b.log", "hits": 8})
        );
        let plain = json(&Event::Report(Box::new(report())));
        assert!(
            !plain.contains("\"files\""),
            "only when several files are read"
        );
    }

    #[test]
    fn json_methods_are_every_method_in_name_order() {
        let names = METHODS_BY_NAME.map(Method::as_str);
        let mut all = Method::ALL.map(Method::as_str);
        all.sort_unstable();
        assert_eq!(names, all);
    }

    #[test]
    fn json_lines_render_as_pinned() {
        // Byte for byte: key order (methods sorted by name), number
        // formatting (`10.0`) and escaping are part of the output.
        let lines = [
            json(&Event::Report(Box::new(report()))),
            json(&Event::Report(Box::new(quiet_report()))),
            json(&Event::Report(Box::new(timed_report()))),
        ];
        insta::assert_snapshot!(lines.concat());
    }

    #[test]
    fn report_json_has_the_contract_fields() {
        let line = json(&Event::Report(Box::new(report())));
        assert!(line.ends_with('\n') && !line.trim_end().contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["type"], "report");
        assert_eq!(v["start"], "2026-03-01T12:00:00Z");
        assert_eq!(v["end"], "2026-03-01T12:00:10Z");
        assert_eq!(v["hits"], 150);
        assert_eq!(v["bytes"], 150_000);
        assert_eq!(v["invalid"], 1);
        assert_eq!(v["clients"], 4);
        assert_eq!(v["status"]["2xx"], 139);
        assert_eq!(v["status"]["1xx"], 0);
        assert_eq!(v["methods"]["OTHER"], 9);
        assert_eq!(v["sections"][0]["section"], "/api");
        assert_eq!(v["sections"][0]["hits"], 100);
        assert_eq!(v["sections"][0]["errors"], 2);
        assert_eq!(v["sections"][0]["server_errors"], 2);
        assert_eq!(v["window_hits"], 1380);
        assert_eq!(v["alerting"], true);
        assert_eq!(v["alert_since"], "2026-03-01T11:57:30Z");
        let quiet = json(&Event::Report(Box::new(quiet_report())));
        let v: serde_json::Value = serde_json::from_str(&quiet).unwrap();
        assert!(v["alert_since"].is_null());
    }

    /// Two sections with request times (/a: 10 ms x 9 and 1 s; /b:
    /// 0.25 ms), one without.
    fn timed_report() -> Report {
        let mut stats = Stats::default();
        let mut add = |us: Option<u64>, section: &str| {
            let hit = Hit {
                time: T,
                bytes: 100,
                client: 1,
                section: None,
                status: 200,
                method: Method::Get,
                request_us: us,
            };
            stats.add(&hit, Some(section));
        };
        for _ in 0..9 {
            add(Some(10_000), "/a");
        }
        add(Some(1_000_000), "/a");
        add(Some(250), "/b");
        add(None, "/c");
        let (top, top_exact) = stats.top(5);
        Report {
            start: T,
            end: T + 10,
            stats,
            top,
            top_exact,
            window_hits: 12,
            window_secs: 120,
            threshold: 10.0,
            alerting: false,
            alert_since: None,
            window_bars: [vec![0; 23], vec![12]].concat(),
            bar_secs: 5,
            drill: Default::default(),
            files: None,
            files_shown: 5,
        }
    }

    #[test]
    fn latency_shows_overall_and_per_section_when_lines_carry_it() {
        let got = text(&Event::Report(Box::new(timed_report())), &UTC);
        insta::assert_snapshot!(got);
        assert!(!text(&Event::Report(Box::new(report())), &UTC).contains("latency"));
    }

    #[test]
    fn latency_json_is_in_milliseconds_and_omitted_without_data() {
        let v: serde_json::Value =
            serde_json::from_str(&json(&Event::Report(Box::new(timed_report())))).unwrap();
        assert_eq!(v["latency_ms"]["p50"], 10.016, "{v}");
        // Each value is the middle of its HDR bucket: within 0.5% of exact.
        assert_eq!(v["latency_ms"]["p99"], 1001.472);
        assert_eq!(v["sections"][1]["latency_ms"]["p95"], 0.25);
        assert!(v["sections"][2].get("latency_ms").is_none());
        let plain: serde_json::Value =
            serde_json::from_str(&json(&Event::Report(Box::new(report())))).unwrap();
        assert!(plain.get("latency_ms").is_none());
        assert!(plain["sections"][0].get("latency_ms").is_none());
    }

    #[test]
    fn summary_says_when_an_alert_is_still_active() {
        let s = Summary {
            start: T,
            end: T + 600,
            hits: 5100,
            bytes: 3 << 20,
            invalid: 0,
            latency: None,
            alerts: 1,
            alerting: true,
        };
        assert_eq!(
            text(&Event::Summary(s), &UTC),
            "== summary 2026-03-01T12:00:00Z to 12:10:00 (600s)\n   \
             5,100 hits, 3.0 MiB, 0 invalid, 1 high-traffic episode, still going\n"
        );
        let v: serde_json::Value = serde_json::from_str(&json(&Event::Summary(s))).unwrap();
        assert_eq!(v["type"], "summary");
        assert_eq!(v["alerting"], true);
        assert_eq!(v["alerts"], 1);
    }

    #[test]
    fn summary_counts_are_singular_for_one() {
        let s = Summary {
            start: T,
            end: T + 1,
            hits: 1,
            bytes: 10,
            invalid: 0,
            latency: None,
            alerts: 0,
            alerting: false,
        };
        assert_eq!(
            text(&Event::Summary(s), &UTC),
            "== summary 2026-03-01T12:00:00Z to 12:00:01 (1s)\n   \
             1 hit, 10 B, 0 invalid, 0 high-traffic episodes\n"
        );
    }

    #[test]
    fn a_summary_of_no_request_says_so_with_no_time() {
        let s = Summary {
            start: 0,
            end: 0,
            hits: 0,
            bytes: 0,
            invalid: 0,
            latency: None,
            alerts: 0,
            alerting: false,
        };
        assert_eq!(text(&Event::Summary(s), &UTC), "== summary: no requests\n");
        let v: serde_json::Value = serde_json::from_str(&json(&Event::Summary(s))).unwrap();
        assert!(v["start"].is_null() && v["end"].is_null(), "no 1970: {v}");
        assert_eq!(
            (v["hits"].as_u64(), v["alerts"].as_u64()),
            (Some(0), Some(0))
        );
    }

    #[test]
    fn a_long_summary_breaks_into_lines_that_fit() {
        let s = Summary {
            start: T,
            end: T + 86_400 * 30,
            hits: 123_456_789_012,
            bytes: 1 << 50,
            invalid: 1_234_567_890,
            latency: Some(Latency {
                p50: 12.0,
                p95: 1250.0,
                p99: 20_000.0,
            }),
            alerts: 1234,
            alerting: true,
        };
        let out = text(&Event::Summary(s), &UTC);
        assert_eq!(
            out,
            "== summary 2026-03-01T12:00:00Z to 12:00:00 (2592000s)\n   \
             123,456,789,012 hits, 1.0 PiB, 1,234,567,890 invalid,\n   \
             1,234 high-traffic episodes, still going\n   \
             latency p50 12ms p95 1250ms p99 20000ms\n"
        );
    }

    #[test]
    fn long_section_names_shorten_so_timed_rows_fit() {
        let mut r = timed_report();
        r.top[0].section = format!("/{}", "a".repeat(100));
        let out = render(r, UTC);
        for line in out.lines() {
            assert!(line.chars().count() <= WIDTH, "{line}");
        }
        assert!(out.contains("/aaaa"), "{out}");
        assert!(out.contains('…'), "{out}");
    }

    /// A replay whose traffic ramps from 1x to 20x the threshold (2 req/s)
    /// and falls back, through the monitor and the renderer, as logmon
    /// prints it: every report, the alert and the recovery.
    fn ramp() -> String {
        use crate::monitor::{Config, Monitor};
        let cfg = Config {
            period_secs: 20,
            window_secs: 60,
            threshold: 2.0,
            top: 3,
        };
        let mut batch = Batch::default();
        let sections = [
            batch.push_section_text("/api"),
            batch.push_section_text("/static"),
            batch.push_section_text("/a-rather-long-section-name-for-the-table"),
        ];
        // 2 req/s for a minute, climbing by 2 req/s every 12 s to 40 req/s,
        // 40 req/s for 40 s, then 1 req/s for three minutes.
        let mut rates: Vec<u64> = vec![2; 60];
        rates.extend((1..=20).flat_map(|step| [step * 2; 12]));
        rates.extend([40; 40]);
        rates.extend([1; 180]);
        let mut n = 0u64;
        for (second, &rate) in rates.iter().enumerate() {
            for _ in 0..rate {
                batch.hits.push(Hit {
                    time: T + second as i64,
                    bytes: 500 + n % 1000,
                    client: n % 37,
                    section: Some(sections[(n % 3) as usize]),
                    status: [200, 200, 304, 404, 500][(n % 5) as usize],
                    method: [Method::Get, Method::Get, Method::Post][(n % 3) as usize],
                    request_us: None,
                });
                n += 1;
            }
        }
        let mut monitor = Monitor::log(cfg);
        let mut events = Vec::new();
        monitor.add(&batch, &mut events);
        monitor.finish(&mut events);
        let mut text = Text::new(UTC);
        events.iter().map(|e| text.render(e)).collect()
    }

    #[test]
    fn a_run_ramping_to_20x_the_threshold_renders_as_pinned() {
        insta::assert_snapshot!(ramp());
    }

    #[test]
    fn every_line_fits_80_columns_but_the_first_of_an_alert_or_recovery() {
        let out = ramp();
        let contract = |l: &str| {
            l.starts_with("High traffic generated an alert - hits = ")
                || l.starts_with("High traffic alert recovered - hits = ")
        };
        assert!(out.lines().any(contract), "{out}");
        for line in out.lines().filter(|l| !contract(l)) {
            assert!(line.chars().count() <= WIDTH, "{line:?}");
        }
        // Those hold exactly the contract's words and the time.
        let words = regex::Regex::new(
            "^High traffic (generated an alert - hits = [0-9]+, triggered|\
             alert recovered - hits = [0-9]+, recovered) at [0-9T:+Z-]+$",
        )
        .unwrap();
        assert!(out
            .lines()
            .filter(|l| contract(l))
            .all(|l| words.is_match(l)));
    }

    #[test]
    fn only_alert_and_recovery_lines_say_alert() {
        let out = ramp();
        let said: Vec<&str> = out
            .lines()
            .filter(|l| l.to_lowercase().contains("alert"))
            .collect();
        assert_eq!(said.len(), 2, "{said:#?}");
        assert!(said[0].starts_with("High traffic generated an alert - "));
        assert!(said[1].starts_with("High traffic alert recovered - "));
    }

    /// A report with every drill-down table full, names long and short,
    /// hostile text included, and countries.
    fn drilled_report() -> Report {
        use std::hash::BuildHasher;
        let hasher = foldhash::fast::FixedState::with_seed(7);
        let mut stats = Stats::default();
        let agents = [
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "Googlebot/2.1 (+http://www.google.com/bot.html)",
            "curl/8.5.0",
            "evil\x1b]0;owned\x07",
        ];
        let paths = [
            "/api/v2/users/12345/preferences/notifications/email/weekly-digest",
            "/index.html",
            "/api/login",
        ];
        let referrers = ["www.example.com", "search.example.org", "news.example.net"];
        let clients = [
            ("203.0.113.7", "FR"),
            ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "DE"),
            ("198.51.100.23", ""),
        ];
        let codes = [
            200, 200, 200, 304, 404, 401, 500, 502, 503, 204, 206, 301, 302, 403, 429,
        ];
        let mut n = 0u64;
        for i in 0..600u64 {
            let (client, country) = clients[(i % 7 % 3) as usize];
            let path = paths[(i % 5 % 3) as usize];
            let agent = agents[(i % 11 % 4) as usize];
            let referrer = referrers[(i % 3) as usize];
            let keyed = |text: &'static str| Keyed {
                hash: hasher.hash_one(text),
                text: text.as_bytes(),
            };
            let hit = Hit {
                time: T,
                bytes: 1000,
                client: hasher.hash_one(client),
                section: None,
                status: codes[(i % codes.len() as u64) as usize],
                method: Method::Get,
                request_us: None,
            };
            let keys = HitKeys {
                client: Some(client.as_bytes()),
                path: Some(keyed(path)),
                agent: Some(keyed(agent)),
                referrer: (i % 4 != 0).then(|| keyed(referrer)),
                country: match country {
                    "" => Country::UNKNOWN,
                    code => Country::from_code(code),
                },
            };
            stats.add(&hit, Some("/api"));
            stats.add_keys(&hit, &keys);
            n += 1;
        }
        assert_eq!(stats.hits, n);
        let (top, top_exact) = stats.top(5);
        let drill = stats.drill.drill(5, true);
        Report {
            start: T,
            end: T + 10,
            stats,
            top,
            top_exact,
            window_hits: 600,
            window_secs: 120,
            threshold: 10.0,
            alerting: false,
            alert_since: None,
            window_bars: [vec![0; 23], vec![600]].concat(),
            bar_secs: 5,
            drill,
            files: None,
            files_shown: 5,
        }
    }

    /// Every block, in the order `--show` lists them.
    const ALL_BLOCKS: [Block; 7] = [
        Block::Sections,
        Block::Codes,
        Block::Clients,
        Block::Paths,
        Block::Agents,
        Block::Referrers,
        Block::Countries,
    ];

    #[test]
    fn every_drill_down_block_renders_as_pinned_in_80_columns() {
        let mut text = Text::with_blocks(UTC, &ALL_BLOCKS);
        let out = text.render(&Event::Report(Box::new(drilled_report())));
        for line in out.lines() {
            assert!(line.chars().count() <= WIDTH, "{line:?}");
        }
        assert!(!out.contains('\x1b'), "log text is escaped: {out}");
        assert!(!out.to_lowercase().contains("alert"), "{out}");
        insta::assert_snapshot!(out);
    }

    #[test]
    fn show_chooses_the_blocks_and_their_order() {
        let r = drilled_report();
        let render = |blocks: &[Block]| {
            Text::with_blocks(UTC, blocks).render(&Event::Report(Box::new(r.clone())))
        };
        let firsts = |out: &str| -> Vec<String> {
            out.lines()
                .skip(3)
                .filter(|l| !l.starts_with("      ") && !l.starts_with("   window"))
                .map(|l| l.split_whitespace().next().unwrap_or("").to_owned())
                .collect()
        };
        let default = render(&DEFAULT_BLOCKS);
        assert_eq!(default, text(&Event::Report(Box::new(r.clone())), &UTC));
        let heads: Vec<String> = firsts(&default)
            .into_iter()
            .filter(|w| ["section", "codes", "client", "path", "agent"].contains(&w.as_str()))
            .collect();
        assert_eq!(heads, ["section", "codes", "client"]);
        let out = render(&[Block::Agents, Block::Codes, Block::Agents]);
        let heads: Vec<String> = firsts(&out)
            .into_iter()
            .filter(|w| ["section", "codes", "client", "agent"].contains(&w.as_str()))
            .collect();
        assert_eq!(heads, ["agent", "codes"], "in the order given, once");
        assert!(!render(&[]).contains("section"), "no block at all");
        // Without --geoip the countries block and column are left out.
        let plain = Report {
            drill: Drill {
                countries: None,
                ..r.drill.clone()
            },
            ..r.clone()
        };
        let out = Text::with_blocks(UTC, &ALL_BLOCKS).render(&Event::Report(Box::new(plain)));
        assert!(
            !out.contains("countries") && !out.contains("country"),
            "{out}"
        );
    }

    #[test]
    fn the_codes_line_counts_what_does_not_fit() {
        let mut out = String::new();
        let drill = Drill {
            codes: (200..240)
                .map(|c| (c, 1000 + u64::from(c)))
                .chain([(0, 7)])
                .collect(),
            ..Drill::default()
        };
        codes_line(&mut out, &drill);
        assert!(out.len() <= WIDTH + 1, "{out}");
        assert!(out.starts_with("   codes  239 1.2k  238 1.2k"), "{out}");
        assert!(out.trim_end().ends_with("more)"), "{out}");
        let shown = out.matches(" 1.2k").count();
        assert!(out.contains(&format!("(+{} more)", 41 - shown)), "{out}");
        let mut out = String::new();
        codes_line(
            &mut out,
            &Drill {
                codes: vec![(0, 2), (200, 5)],
                ..Drill::default()
            },
        );
        assert_eq!(out, "   codes  200 5  - 2\n", "a hit without a status is -");
    }

    #[test]
    fn report_json_carries_every_table_next_to_the_old_fields() {
        let v: serde_json::Value =
            serde_json::from_str(&json(&Event::Report(Box::new(drilled_report())))).unwrap();
        let codes = v["codes"].as_object().unwrap();
        let sum: u64 = codes.values().map(|n| n.as_u64().unwrap()).sum();
        assert_eq!(sum, v["hits"].as_u64().unwrap(), "codes add up to hits");
        assert_eq!(codes["200"], 120);
        assert_eq!(v["top_clients"][0]["client"], "203.0.113.7");
        assert_eq!(v["top_clients"][0]["country"], "FR");
        assert_eq!(v["top_clients"][2]["country"], "-");
        assert!(v["top_clients"][0]["errors"].as_u64().unwrap() > 0);
        assert_eq!(
            v["top_paths"][0]["path"],
            "/api/v2/users/12345/preferences/notifications/email/weekly-digest"
        );
        let bots: Vec<(&str, bool)> = (v["top_agents"].as_array().unwrap().iter())
            .map(|a| {
                (
                    &a["agent"].as_str().unwrap()[..4],
                    a["bot"].as_bool().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            bots,
            [
                ("Mozi", false),
                ("Goog", true),
                ("curl", true),
                ("evil", false)
            ]
        );
        assert_eq!(v["top_referrers"][0]["hits"], 150);
        assert_eq!(v["top_countries"][0]["country"], "FR");
        for flag in [
            "top_clients_exact",
            "top_paths_exact",
            "top_agents_exact",
            "top_referrers_exact",
        ] {
            assert_eq!(v[flag], true, "{flag}");
        }
        // The old fields are all still there.
        for field in [
            "type",
            "start",
            "end",
            "hits",
            "bytes",
            "invalid",
            "clients",
            "clients_exact",
            "status",
            "methods",
            "sections",
            "sections_exact",
            "rate",
            "window_hits",
            "window_average",
            "threshold",
            "alerting",
            "alert_since",
        ] {
            assert!(v.get(field).is_some(), "{field}");
        }
        // Without --geoip, no countries and no country per client.
        let plain: serde_json::Value =
            serde_json::from_str(&json(&Event::Report(Box::new(report())))).unwrap();
        assert!(plain.get("top_countries").is_none());
        assert!(plain["top_clients"][0].get("country").is_none());
        assert_eq!(plain["top_paths"], serde_json::json!([]));
    }

    fn driver(name: &str, hits: u64, previous_hits: u64) -> Driver {
        Driver {
            name: name.into(),
            hits,
            previous_hits,
        }
    }

    fn flood_alert(drivers: Drivers) -> AlertEvent {
        AlertEvent {
            hits: 3000,
            average: 25.0,
            threshold: 10.0,
            window_secs: 120,
            at: T,
            since: T,
            peak_hits: 3000,
            drivers,
        }
    }

    #[test]
    fn an_alert_says_what_drove_it_on_a_line_of_its_own() {
        let a = flood_alert(Drivers {
            sections: vec![driver("/api", 2000, 160), driver("/login", 300, 100)],
            clients: vec![driver("203.0.113.7", 1220, 10)],
            window_hits: 3000,
        });
        let out = text(&Event::Alert(a.clone()), &UTC);
        assert_eq!(
            out,
            "High traffic generated an alert - hits = 3000, triggered at 2026-03-01T12:00:00Z\n   \
             25.0 req/s over 120s, threshold 10 req/s\n   \
             driven by /api +1,840 (67%), client 203.0.113.7 +1,210 (41%)\n",
            "/login would pass 80 columns"
        );
        let v: serde_json::Value = serde_json::from_str(&json(&Event::Alert(a.clone()))).unwrap();
        assert_eq!(
            v["drivers"],
            serde_json::json!({
                "sections": [
                    {"section": "/api", "hits": 2000, "previous_hits": 160},
                    {"section": "/login", "hits": 300, "previous_hits": 100},
                ],
                "clients": [{"client": "203.0.113.7", "hits": 1220, "previous_hits": 10}],
            })
        );
        let coloured = text(&Event::Alert(a), &Style { color: true, ..UTC });
        assert!(
            coloured.lines().all(|l| l.starts_with("\x1b[1;31m")),
            "{coloured}"
        );
        // Nothing grew: no line.
        let quiet = text(&Event::Alert(flood_alert(Drivers::default())), &UTC);
        assert_eq!(quiet.lines().count(), 2, "{quiet}");
    }

    #[test]
    fn the_drivers_line_fits_80_columns_keeping_the_top_section_and_client() {
        let long = format!("/{}", "x".repeat(200));
        let a = flood_alert(Drivers {
            sections: vec![
                driver("/api", 2000, 0),
                driver("/checkout-and-payments", 900, 0),
            ],
            clients: vec![
                driver("2001:db8:85a3:8d3:1319:8a2e:370:7348", 1500, 0),
                driver("198.51.100.23", 100, 0),
            ],
            window_hits: 3000,
        });
        let line = drivers_line(&a.drivers).unwrap();
        assert_eq!(
            line,
            "   driven by /api +2,000 (67%), client 2001:db8:85a3:8d3:1319:8a2e:370:7348 +1,500 (50%)"
                .replace("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3:8d3:1319:8a2e…"),
            "the top section and client, the longer name shortened"
        );
        assert_eq!(line.chars().count(), WIDTH);
        let one = Drivers {
            sections: vec![driver(&long, 2000, 0)],
            clients: vec![],
            window_hits: 3000,
        };
        let line = drivers_line(&one).unwrap();
        assert_eq!(line.chars().count(), WIDTH, "{line}");
        assert!(
            line.contains("…") && line.ends_with(" +2,000 (67%)"),
            "{line}"
        );
        assert_eq!(drivers_line(&Drivers::default()), None);
    }

    #[test]
    fn numbers_are_humanized_to_a_few_characters() {
        assert_eq!(group(1_234_567), "1,234,567");
        let counts = [
            0, 999, 1000, 1499, 12_400, 99_949, 99_950, 123_456, 999_499, 999_500,
        ];
        let want = [
            "0", "999", "1.0k", "1.5k", "12.4k", "99.9k", "100k", "123k", "999k", "1.0M",
        ];
        assert_eq!(counts.map(human_count), want);
        assert_eq!(human_count(u64::MAX), "18.4E");
        assert_eq!(human_rate(0.04), "0.04");
        assert_eq!(human_rate(2.0333), "2.03");
        assert_eq!(human_rate(9.996), "10.0");
        assert_eq!(human_rate(999.9), "999.9");
        assert_eq!(human_rate(12_345.0), "12.3k");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes((1 << 20) - 1), "1.0 MiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }

    #[test]
    fn durations_read_at_a_glance() {
        let secs = [0, 59, 60, 266, 3599, 3600, 7500, 86_400 + 4 * 3600];
        let want = [
            "0s", "59s", "1m 00s", "4m 26s", "59m 59s", "1h 00m", "2h 05m", "1d 4h",
        ];
        assert_eq!(secs.map(human_duration), want);
    }
}
