//! Calendar arithmetic and the timestamp shapes the formats share: pure,
//! no clock, no allocation. Each shape is parsed in one place: CLF times
//! ([`parse_clf_time`]), ISO 8601 / RFC 3339 ([`parse_iso_datetime`], for
//! nginx's `$time_iso8601` and the JSON formats), strftime formats
//! ([`Strftime`]), epoch numbers ([`parse_epoch`]), and W3C's date and
//! clock columns ([`parse_iso_date`], [`parse_clock`]); they all check a
//! date and time with [`civil_seconds`].
//!
//! The one exception to "no clock" is [`LocalZone`], which asks chrono for
//! the local time zone's offset of a wall-clock hour, once per hour of log:
//! every time written without an offset (W3C's `date-local`/`time-local`,
//! a `%{...}t` without `%z`, a `$time_iso8601` without one) goes through
//! it.

/// Length of `dd/Mon/yyyy:HH:MM:SS +zzzz`.
pub(crate) const TIME_LEN: usize = 26;
/// Where the seconds digits sit in the timestamp text.
pub(crate) const SECS_AT: usize = 18;

/// 0000-01-01T00:00:00Z in unix seconds: the earliest time RFC 3339 can
/// write.
pub const MIN_TIME: i64 = -62_167_219_200;
/// 9999-12-31T23:59:59Z, the latest.
pub const MAX_TIME: i64 = 253_402_300_799;

/// Whether RFC 3339 can write `time` (unix seconds): a year in 0000-9999,
/// once in UTC. A line stamped outside that is invalid, whatever the
/// format: a CLF time of 31/Dec/9999 at 23:59 -0100 is already in 10000.
pub fn in_range(time: i64) -> bool {
    (MIN_TIME..=MAX_TIME).contains(&time)
}

/// Parse a CLF timestamp, `09/May/2018:16:00:39 +0000`, to unix seconds
/// (UTC, the offset applied). `None` unless it is exactly that shape with a
/// real date: English month abbreviations (case-sensitive), a day within the
/// month (leap years counted), hours 0-23, minutes and seconds 0-59 (no leap
/// second), and an offset `+HHMM`/`-HHMM` with HH 0-23 and MM 0-59.
pub fn parse_clf_time(text: &[u8]) -> Option<i64> {
    let t: &[u8; TIME_LEN] = text.try_into().ok()?;
    if t[2] != b'/' || t[6] != b'/' || t[11] != b':' || t[14] != b':' || t[17] != b':' {
        return None;
    }
    if t[20] != b' ' {
        return None;
    }
    let local = civil_seconds(
        two_digits(t[7], t[8])? * 100 + two_digits(t[9], t[10])?,
        month_number([t[3], t[4], t[5]])?,
        two_digits(t[0], t[1])?,
        two_digits(t[12], t[13])?,
        two_digits(t[15], t[16])?,
        two_digits(t[18], t[19])?,
    )?;
    let offset = utc_offset(t[21], [t[22], t[23]], [t[24], t[25]])?;
    // Local time is UTC plus the offset, so UTC is local minus the offset.
    Some(local - offset)
}

/// [`parse_clf_time`] with a memory: a log repeats the same minute on many
/// consecutive lines, so most lines skip the date arithmetic.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClfClock {
    /// Last valid timestamp text; its seconds digits are ignored on compare.
    last_text: [u8; TIME_LEN],
    /// `last_text`'s time in unix seconds, minus its seconds. `None` until
    /// a timestamp has been parsed.
    last_minute: Option<i64>,
}

impl ClfClock {
    /// [`parse_clf_time`], reusing the last result while only the seconds
    /// change.
    pub(crate) fn time(&mut self, text: &[u8]) -> Option<i64> {
        if let Some(minute) = self.last_minute {
            if text.len() == TIME_LEN
                && text[..SECS_AT] == self.last_text[..SECS_AT]
                && text[SECS_AT + 2..] == self.last_text[SECS_AT + 2..]
            {
                let secs = two_digits(text[SECS_AT], text[SECS_AT + 1]).filter(|&s| s < 60)?;
                return Some(minute + i64::from(secs));
            }
        }
        let time = parse_clf_time(text)?;
        // parse_clf_time accepted it, so the text is TIME_LEN bytes and the
        // seconds digits are valid.
        let secs = two_digits(text[SECS_AT], text[SECS_AT + 1])?;
        self.last_text.copy_from_slice(text);
        self.last_minute = Some(time - i64::from(secs));
        Some(time)
    }
}

/// The value of two ASCII digits.
pub(crate) fn two_digits(a: u8, b: u8) -> Option<u32> {
    if a.is_ascii_digit() && b.is_ascii_digit() {
        Some(u32::from(a - b'0') * 10 + u32::from(b - b'0'))
    } else {
        None
    }
}

/// `Jan` -> 1, ..., `Dec` -> 12, as Apache and nginx write them.
fn month_number(name: [u8; 3]) -> Option<u32> {
    Some(match &name {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

/// Days in `month` (1-12) of the proleptic Gregorian `year`.
pub(crate) fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`): counting from March makes the leap day the last day
/// of the year, so every other month has a fixed offset.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// How a format string writes its time field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeShape {
    /// `09/May/2018:16:00:39 +0000`: nginx's `$time_local`.
    Clf,
    /// `[09/May/2018:16:00:39 +0000]`: Apache's `%t`.
    ClfBracketed,
    /// `2018-05-09T16:00:39+00:00`: nginx's `$time_iso8601` (also with
    /// `Z`, `+0000` or fractional seconds).
    Iso8601,
    /// Unix seconds, maybe with a fraction: nginx's `$msec`
    /// (`1525881639.123`), Apache's `%{sec}t`.
    EpochSecs,
    /// Unix milliseconds: Apache's `%{msec}t`.
    EpochMillis,
    /// Unix microseconds: Apache's `%{usec}t`.
    EpochMicros,
    /// An Apache `%{...}t` strftime format.
    Strftime(Strftime),
}

impl TimeShape {
    /// Whether times in this shape carry no UTC offset, so that they are
    /// read in the machine's local time zone.
    pub fn is_local(&self) -> bool {
        matches!(self, TimeShape::Strftime(f) if !f.has_offset())
    }
}

/// A strftime format, compiled: the conversions Apache's `%{...}t` users
/// write for a timestamp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Strftime(Box<[StrfItem]>);

/// One piece of a [`Strftime`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrfItem {
    /// A byte that must be there.
    Literal(u8),
    /// `%d`: day of the month, two digits.
    Day,
    /// `%b` or `%h`: `Jan` ... `Dec`.
    MonthName,
    /// `%m`: month, two digits.
    Month,
    /// `%Y`: four-digit year.
    Year,
    /// `%H`: hour, two digits, 00-23.
    Hour,
    /// `%M`: minute, two digits.
    Minute,
    /// `%S`: second, two digits.
    Second,
    /// `%z`: `+hhmm` or `-hhmm`.
    Offset,
    /// `%a` or `%A`: a weekday name, skipped (the date says it).
    Weekday,
}

impl Strftime {
    /// Compile `format`: `%d %b %h %m %Y %H %M %S %z %a %A %T %F %%` and
    /// literal bytes. The error names an unsupported conversion, or says
    /// which part of a date and time is missing.
    pub fn compile(format: &str) -> Result<Strftime, String> {
        let mut items = Vec::new();
        let mut bytes = format.bytes();
        while let Some(b) = bytes.next() {
            if b != b'%' {
                items.push(StrfItem::Literal(b));
                continue;
            }
            let expand: &[StrfItem] = match bytes.next() {
                Some(b'd') => &[StrfItem::Day],
                Some(b'b' | b'h') => &[StrfItem::MonthName],
                Some(b'm') => &[StrfItem::Month],
                Some(b'Y') => &[StrfItem::Year],
                Some(b'H') => &[StrfItem::Hour],
                Some(b'M') => &[StrfItem::Minute],
                Some(b'S') => &[StrfItem::Second],
                Some(b'z') => &[StrfItem::Offset],
                Some(b'a' | b'A') => &[StrfItem::Weekday],
                Some(b'%') => &[StrfItem::Literal(b'%')],
                Some(b'T') => &[
                    StrfItem::Hour,
                    StrfItem::Literal(b':'),
                    StrfItem::Minute,
                    StrfItem::Literal(b':'),
                    StrfItem::Second,
                ],
                Some(b'F') => &[
                    StrfItem::Year,
                    StrfItem::Literal(b'-'),
                    StrfItem::Month,
                    StrfItem::Literal(b'-'),
                    StrfItem::Day,
                ],
                Some(other) => {
                    return Err(format!(
                    "unsupported time conversion `%{}` in `{format}` (use %d %b %m %Y %H %M %S %z)",
                    char::from(other)
                ))
                }
                None => return Err(format!("a `%` ends the time format `{format}`")),
            };
            items.extend_from_slice(expand);
        }
        let has = |want: &[StrfItem]| items.iter().any(|i| want.contains(i));
        for (want, name) in [
            (&[StrfItem::Year][..], "a year (%Y)"),
            (
                &[StrfItem::Month, StrfItem::MonthName],
                "a month (%b or %m)",
            ),
            (&[StrfItem::Day], "a day (%d)"),
            (&[StrfItem::Hour], "an hour (%H)"),
            (&[StrfItem::Minute], "minutes (%M)"),
        ] {
            if !has(want) {
                return Err(format!("the time format `{format}` lacks {name}"));
            }
        }
        Ok(Strftime(items.into()))
    }

    /// Whether the format writes a UTC offset (`%z`).
    pub fn has_offset(&self) -> bool {
        self.0.contains(&StrfItem::Offset)
    }

    /// The length of every text in this format, unless it has a weekday
    /// name (whose length varies).
    pub fn text_len(&self) -> Option<usize> {
        self.0
            .iter()
            .map(|item| match item {
                StrfItem::Literal(_) => Some(1),
                StrfItem::MonthName => Some(3),
                StrfItem::Year => Some(4),
                StrfItem::Offset => Some(5),
                StrfItem::Weekday => None,
                _ => Some(2),
            })
            .sum()
    }

    /// The pieces, in order.
    pub fn items(&self) -> &[StrfItem] {
        &self.0
    }

    /// Parse `text`, all of it, to unix seconds. Without `%z` the time is
    /// local, turned into UTC by `zone`.
    pub(crate) fn parse(&self, text: &[u8], zone: &mut LocalZone) -> Option<i64> {
        let (mut year, mut month, mut day) = (None, None, None);
        let (mut hour, mut minute, mut second) = (0, 0, 0);
        let mut offset = None;
        let mut at = 0;
        let digits2 = |at: usize| two_digits(*text.get(at)?, *text.get(at + 1)?);
        for &item in self.0.iter() {
            match item {
                StrfItem::Literal(b) => {
                    if text.get(at) != Some(&b) {
                        return None;
                    }
                    at += 1;
                    continue;
                }
                StrfItem::Weekday => {
                    let n = text[at..]
                        .iter()
                        .take_while(|b| b.is_ascii_alphabetic())
                        .count();
                    if n < 3 {
                        return None;
                    }
                    at += n;
                    continue;
                }
                StrfItem::MonthName => {
                    let name = text.get(at..at + 3)?;
                    month = Some(month_number([name[0], name[1], name[2]])?);
                    at += 3;
                    continue;
                }
                StrfItem::Year => {
                    year = Some(digits2(at)? * 100 + digits2(at + 2)?);
                    at += 4;
                    continue;
                }
                StrfItem::Offset => {
                    let &[sign, h1, h2, m1, m2] = text.get(at..at + 5)? else {
                        return None;
                    };
                    offset = Some(utc_offset(sign, [h1, h2], [m1, m2])?);
                    at += 5;
                    continue;
                }
                _ => {}
            }
            let value = digits2(at)?;
            at += 2;
            match item {
                StrfItem::Day => day = Some(value),
                StrfItem::Month => month = Some(value),
                StrfItem::Hour => hour = value,
                StrfItem::Minute => minute = value,
                StrfItem::Second => second = value,
                _ => {}
            }
        }
        if at != text.len() {
            return None;
        }
        let wall = civil_seconds(year?, month?, day?, hour, minute, second)?;
        zone.utc(wall, offset)
    }
}

/// Seconds since the epoch of a civil date and time, read as UTC; `None`
/// unless it is a real one: month 1-12, a day within the month (leap years
/// counted), hours 0-23, minutes and seconds 0-59 (no leap second).
#[inline]
pub(crate) fn civil_seconds(
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
) -> Option<i64> {
    Some(civil_days(year, month, day)? * 86_400 + day_seconds(hour, minute, second)?)
}

/// Days since 1970-01-01 of a real date, `None` otherwise.
#[inline]
fn civil_days(year: u32, month: u32, day: u32) -> Option<i64> {
    let valid = (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
    valid.then(|| days_from_civil(i64::from(year), month, day))
}

/// Seconds since midnight of a real time of day, `None` otherwise.
#[inline]
fn day_seconds(hour: u32, minute: u32, second: u32) -> Option<i64> {
    let valid = hour <= 23 && minute <= 59 && second <= 59;
    valid.then(|| i64::from(hour * 3600 + minute * 60 + second))
}

/// A UTC offset written `+hhmm` or `-hhmm` (`sign`, hours and minutes
/// digits), in seconds east of UTC; `None` unless hh is 0-23 and mm 0-59.
#[inline]
fn utc_offset(sign: u8, hours: [u8; 2], minutes: [u8; 2]) -> Option<i64> {
    let sign = match sign {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = (
        two_digits(hours[0], hours[1])?,
        two_digits(minutes[0], minutes[1])?,
    );
    (h <= 23 && m <= 59).then(|| sign * i64::from(h * 3600 + m * 60))
}

/// nginx's `$time_iso8601`, `2018-05-09T16:00:39+00:00`, to unix seconds:
/// [`parse_iso_datetime`], a time without an offset taken as local time
/// (`zone`).
pub(crate) fn parse_iso8601(text: &[u8], zone: &mut LocalZone) -> Option<i64> {
    let (wall, offset) = parse_iso_datetime(text)?;
    zone.utc(wall, offset)
}

/// An RFC 3339 timestamp, `2026-03-01T12:00:00Z` or
/// `2026-03-01T13:00:00.123456789+01:00`, to unix seconds (UTC, the offset
/// applied): [`parse_iso_datetime`] with an offset required, as the JSON
/// formats write it.
pub fn parse_rfc3339(text: &[u8]) -> Option<i64> {
    match parse_iso_datetime(text)? {
        (wall, Some(offset)) => Some(wall - offset),
        (_, None) => None,
    }
}

/// An ISO 8601 date and time as nginx, RFC 3339 and Go's and zap's layouts
/// write it: `2018-05-09T16:00:39+00:00`, with `t` or a space for the `T`,
/// fractional seconds (dropped), and `Z`, `z`, `+hh:mm`, `+hhmm` or no
/// offset. Returns the wall-clock time (unix seconds as if it were UTC)
/// and the offset in seconds east of UTC, `None` when none is written.
/// `None` unless a real date and time.
fn parse_iso_datetime(text: &[u8]) -> Option<(i64, Option<i64>)> {
    let (date, rest) = (text.get(..10)?, text.get(10..)?);
    let day = parse_iso_date(date)?;
    let rest = match rest.split_first() {
        Some((b'T' | b't' | b' ', rest)) => rest,
        _ => return None,
    };
    let (clock, zone) = rest.split_at_checked(8)?;
    let wall = day * 86_400 + parse_clock(clock)?;
    // Skip a fraction: `.` and one digit or more.
    let zone = match zone.strip_prefix(b".") {
        Some(fraction) => {
            let digits = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            &fraction[digits..]
        }
        None => zone,
    };
    let offset = match *zone {
        [] => None,
        [b'Z' | b'z'] => Some(0),
        [sign, h1, h2, b':', m1, m2] | [sign, h1, h2, m1, m2] => {
            Some(utc_offset(sign, [h1, h2], [m1, m2])?)
        }
        _ => return None,
    };
    Some((wall, offset))
}

/// `2026-03-01` -> days since 1970-01-01. `None` unless exactly that shape
/// with a real date.
#[inline]
pub(crate) fn parse_iso_date(text: &[u8]) -> Option<i64> {
    let &[y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = text else {
        return None;
    };
    civil_days(
        two_digits(y1, y2)? * 100 + two_digits(y3, y4)?,
        two_digits(m1, m2)?,
        two_digits(d1, d2)?,
    )
}

/// `16:00:39` -> seconds since midnight. `None` unless exactly that shape
/// with hours 0-23, minutes and seconds 0-59.
#[inline]
pub(crate) fn parse_clock(text: &[u8]) -> Option<i64> {
    let &[h1, h2, b':', m1, m2, b':', s1, s2] = text else {
        return None;
    };
    day_seconds(
        two_digits(h1, h2)?,
        two_digits(m1, m2)?,
        two_digits(s1, s2)?,
    )
}

/// A unix time with `places` decimal places in integer form (`%{msec}t`:
/// 3, `%{usec}t`: 6), or seconds with an optional fraction (`$msec`,
/// `%{sec}t`: `places` 0), to unix seconds (fractions dropped).
pub fn parse_epoch(text: &[u8], places: u32) -> Option<i64> {
    let whole = match (places, memchr::memchr(b'.', text)) {
        (0, Some(dot)) => {
            super::fields::decimal_fraction(&text[dot + 1..], 0)?;
            &text[..dot]
        }
        _ => text,
    };
    let value = i64::try_from(super::fields::parse_digits(whole)?).ok()?;
    Some(value / 10i64.pow(places))
}

/// The offset from UTC, in seconds, of a wall-clock time given as "unix
/// seconds" of that wall clock; `None` when there is none.
pub(crate) type OffsetAt = fn(i64) -> Option<i64>;

/// Wall-clock times of the machine's local time zone (`TZ` overrides it)
/// turned into UTC, with the offset cached per wall-clock hour: a log's
/// consecutive lines share their hour, so the time zone rules (read by
/// chrono, the one place the parser consults the system) are looked up
/// about once an hour of log.
///
/// NOTE: in the hour a clock goes back, which occurs twice, the earlier
/// (summer) offset is used; in the hour it skips, which no clock shows,
/// the offset after the change.
#[derive(Clone, Debug)]
pub(crate) struct LocalZone {
    offset_at: OffsetAt,
    /// Wall-clock hour (local seconds / 3600) and its offset.
    cached: Option<(i64, Option<i64>)>,
}

impl Default for LocalZone {
    fn default() -> LocalZone {
        LocalZone::with(system_offset)
    }
}

impl LocalZone {
    /// A zone whose offsets come from `offset_at` (tests pass a fixed one).
    pub(crate) fn with(offset_at: OffsetAt) -> LocalZone {
        LocalZone {
            offset_at,
            cached: None,
        }
    }

    /// UTC unix seconds of `local` wall-clock seconds.
    pub(crate) fn utc_of(&mut self, local: i64) -> Option<i64> {
        let hour = local.div_euclid(3600);
        let offset = match self.cached {
            Some((cached, offset)) if cached == hour => offset,
            _ => {
                let offset = (self.offset_at)(hour * 3600);
                self.cached = Some((hour, offset));
                offset
            }
        };
        local.checked_sub(offset?)
    }

    /// UTC unix seconds of a `wall` time written with `offset`, or
    /// without one (`None`): local time.
    pub(crate) fn utc(&mut self, wall: i64, offset: Option<i64>) -> Option<i64> {
        match offset {
            Some(offset) => wall.checked_sub(offset),
            None => self.utc_of(wall),
        }
    }
}

/// chrono's offset of the local time zone at a wall-clock time.
fn system_offset(local: i64) -> Option<i64> {
    use chrono::{DateTime, Local, Offset, TimeZone};
    let at = DateTime::from_timestamp(local, 0)?.naive_utc();
    let offset = Local
        .offset_from_local_datetime(&at)
        .earliest()
        .or_else(|| {
            // A skipped hour: take the offset just after the change.
            let later = at.checked_add_signed(chrono::TimeDelta::hours(1))?;
            Local.offset_from_local_datetime(&later).earliest()
        })?;
    Some(i64::from(offset.fix().local_minus_utc()))
}

/// How the local time zone was chosen, for a notice: `TZ=...` (its value
/// escaped and cut to 16 characters) or `TZ unset` (the system's zone).
pub(crate) fn local_zone_name() -> String {
    match std::env::var_os("TZ") {
        Some(tz) if !tz.is_empty() => {
            let tz = crate::text::sanitize(tz.as_encoded_bytes());
            format!("TZ={}", crate::text::truncate(&tz, 16))
        }
        _ => "TZ unset".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use chrono::DateTime;

    /// 2018-05-09T16:00:39Z
    const T0: i64 = 1_525_881_639;

    /// A local zone that is UTC, whatever the machine's.
    fn utc() -> LocalZone {
        LocalZone::with(|_| Some(0))
    }

    #[test]
    fn times_without_an_offset_are_local_and_looked_up_once_an_hour() {
        use std::sync::atomic::{AtomicU32, Ordering};
        static CALLS: AtomicU32 = AtomicU32::new(0);
        // UTC+2.
        fn plus_two(_: i64) -> Option<i64> {
            CALLS.fetch_add(1, Ordering::Relaxed);
            Some(7200)
        }
        let mut zone = LocalZone::with(plus_two);
        let strftime = Strftime::compile("%d/%b/%Y:%H:%M:%S").unwrap();
        for second in 0..60 {
            let text = format!("09/May/2018:18:00:{second:02}");
            let got = strftime.parse(text.as_bytes(), &mut zone);
            assert_eq!(got, Some(T0 - 39 + second), "{text}");
        }
        let iso = parse_iso8601(b"2018-05-09T18:00:39", &mut zone);
        assert_eq!(iso, Some(T0));
        assert_eq!(CALLS.load(Ordering::Relaxed), 1, "one hour, one lookup");
        // A written offset wins over the zone.
        assert_eq!(parse_iso8601(b"2018-05-09T16:00:39Z", &mut zone), Some(T0));
        assert_eq!(parse_rfc3339(b"2018-05-09T18:00:39"), None, "needs one");
    }

    #[test]
    fn iso8601_times_take_offsets_fractions_and_z() {
        for text in [
            "2018-05-09T16:00:39+00:00",
            "2018-05-09T16:00:39Z",
            "2018-05-09T18:00:39+02:00",
            "2018-05-09T18:00:39+0200",
            "2018-05-09T11:00:39-05:00",
            "2018-05-09T16:00:39.123Z",
            "2018-05-09 16:00:39.5+00:00",
        ] {
            assert_eq!(
                parse_iso8601(text.as_bytes(), &mut utc()),
                Some(T0),
                "{text}"
            );
        }
        for bad in [
            "2018-05-09T16:00:39+24:00",
            "2018-05-09T16:00:39.Z",
            "2018-02-30T16:00:39Z",
            "2018-05-09T16:00:39 Z",
            "2018-05-09",
            "2018-05-09T16:00:39+00:0",
        ] {
            assert_eq!(parse_iso8601(bad.as_bytes(), &mut utc()), None, "{bad}");
        }
    }

    #[test]
    fn epoch_times_in_seconds_milliseconds_and_microseconds() {
        assert_eq!(parse_epoch(b"1525881639.123", 0), Some(T0));
        assert_eq!(parse_epoch(b"1525881639", 0), Some(T0));
        assert_eq!(parse_epoch(b"1525881639123", 3), Some(T0));
        assert_eq!(parse_epoch(b"1525881639123456", 6), Some(T0));
        for bad in [
            &b""[..],
            b"-1",
            b"1.",
            b"1.2.3",
            b"x",
            b"99999999999999999999",
        ] {
            assert_eq!(parse_epoch(bad, 0), None);
        }
    }

    #[test]
    fn strftime_formats_agree_with_chrono() {
        for (format, text) in [
            ("%d/%b/%Y:%H:%M:%S %z", "09/May/2018:18:00:39 +0200"),
            ("%Y-%m-%dT%H:%M:%S%z", "2018-05-09T11:00:39-0500"),
            ("%a, %d %b %Y %T %z", "Wed, 09 May 2018 16:00:39 +0000"),
            ("%F %T %z", "2018-05-09 16:00:39 +0000"),
            ("[%d/%b/%Y %H:%M:%S %z]", "[09/May/2018 16:00:39 +0000]"),
        ] {
            let f = Strftime::compile(format).unwrap();
            let want = DateTime::parse_from_str(text, format).unwrap().timestamp();
            assert_eq!(want, T0, "{format}");
            assert_eq!(f.parse(text.as_bytes(), &mut utc()), Some(T0), "{format}");
            assert_eq!(f.parse(&text.as_bytes()[1..], &mut utc()), None, "{format}");
        }
    }

    #[test]
    fn strftime_without_an_offset_is_local_time() {
        // The tests run with any TZ: compare with chrono's own local time.
        let f = Strftime::compile("%Y-%m-%d %H:%M:%S").unwrap();
        assert!(!f.has_offset());
        let got = f
            .parse(b"2018-05-09 16:00:39", &mut LocalZone::default())
            .unwrap();
        let want = {
            use chrono::TimeZone;
            let naive = chrono::NaiveDate::from_ymd_opt(2018, 5, 9)
                .unwrap()
                .and_hms_opt(16, 0, 39)
                .unwrap();
            chrono::Local
                .from_local_datetime(&naive)
                .earliest()
                .unwrap()
                .timestamp()
        };
        assert_eq!(got, want);
    }

    #[test]
    fn strftime_formats_that_cannot_work_are_refused() {
        for (format, says) in [
            ("%d/%b/%Y:%H:%M:%S %Z", "unsupported time conversion `%Z`"),
            ("%d/%b/%Y:%H:%M:%S %", "a `%` ends"),
            ("%H:%M:%S", "lacks a year"),
            ("%Y-%m %H:%M", "lacks a day"),
        ] {
            let error = Strftime::compile(format).unwrap_err();
            assert!(error.contains(says), "{format}: {error}");
        }
    }

    #[test]
    fn rfc3339_timestamps_apply_their_offset_and_drop_fractions() {
        // 2026-03-01T12:00:00Z
        let t = 1_772_366_400;
        for (text, expected) in [
            ("2026-03-01T12:00:00Z", Some(t)),
            ("2026-03-01t12:00:00z", Some(t)),
            ("2026-03-01 12:00:00Z", Some(t)),
            ("2026-03-01T12:00:00.999999999Z", Some(t)),
            ("2026-03-01T13:00:00+01:00", Some(t)),
            ("2026-03-01T13:00:00.5+0100", Some(t)),
            ("2026-03-01T06:30:00-05:30", Some(t)),
            ("2026-03-01T12:00:00", None),
            ("2026-03-01T12:00:00.Z", None),
            ("2026-03-01T12:00:00+1:00", None),
            ("2026-03-01T12:00:00+24:00", None),
            ("2026-02-29T12:00:00Z", None),
            ("2026-03-01T24:00:00Z", None),
            ("2026-03-01X12:00:00Z", None),
            ("2026-03-01T12:00Z", None),
            ("", None),
        ] {
            assert_eq!(parse_rfc3339(text.as_bytes()), expected, "{text}");
        }
    }

    #[test]
    fn rfc3339_agrees_with_chrono() {
        for text in [
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59+00:00",
            "2000-02-29T23:59:59.123-11:45",
            "2038-01-19T03:14:08+14:00",
            "9999-12-31T23:59:59Z",
        ] {
            let expected = chrono::DateTime::parse_from_rfc3339(text)
                .unwrap()
                .timestamp();
            assert_eq!(parse_rfc3339(text.as_bytes()), Some(expected), "{text}");
        }
    }

    #[test]
    fn local_times_take_the_offset_of_their_hour_once() {
        use std::sync::atomic::{AtomicU32, Ordering};
        static CALLS: AtomicU32 = AtomicU32::new(0);
        // UTC+2 before local hour 100, UTC+1 from it on.
        fn offset_at(local: i64) -> Option<i64> {
            CALLS.fetch_add(1, Ordering::Relaxed);
            Some(if local < 100 * 3600 { 7200 } else { 3600 })
        }
        let mut zone = LocalZone::with(offset_at);
        assert_eq!(zone.utc_of(99 * 3600), Some(97 * 3600));
        assert_eq!(zone.utc_of(99 * 3600 + 3599), Some(97 * 3600 + 3599));
        assert_eq!(CALLS.load(Ordering::Relaxed), 1, "cached for the hour");
        assert_eq!(zone.utc_of(100 * 3600), Some(99 * 3600));
        assert_eq!(CALLS.load(Ordering::Relaxed), 2);
        let mut none = LocalZone::with(|_| None);
        assert_eq!(none.utc_of(0), None);
    }

    #[test]
    fn the_system_zone_is_read_through_chrono() {
        // Whatever the machine's zone, the offset is within a day and
        // agrees with chrono's for the same instant.
        use chrono::{Local, Offset, TimeZone};
        let local = 1_772_366_400;
        let offset = system_offset(local).unwrap();
        assert!(offset.abs() < 86_400);
        let utc = local - offset;
        let expected = Local
            .timestamp_opt(utc, 0)
            .unwrap()
            .offset()
            .fix()
            .local_minus_utc();
        assert_eq!(offset, i64::from(expected));
    }
}
