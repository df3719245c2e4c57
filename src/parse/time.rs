//! Calendar arithmetic and the timestamp shapes the formats share: pure,
//! no clock, no allocation.

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
    let day = two_digits(t[0], t[1])?;
    let month = month_number([t[3], t[4], t[5]])?;
    let year = two_digits(t[7], t[8])? * 100 + two_digits(t[9], t[10])?;
    let hour = two_digits(t[12], t[13])?;
    let minute = two_digits(t[15], t[16])?;
    let second = two_digits(t[18], t[19])?;
    let sign = match t[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let offset_hours = two_digits(t[22], t[23])?;
    let offset_minutes = two_digits(t[24], t[25])?;

    if day == 0 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    if offset_hours > 23 || offset_minutes > 59 {
        return None;
    }
    let local = days_from_civil(i64::from(year), month, day) * 86_400
        + i64::from(hour * 3600 + minute * 60 + second);
    let offset = sign * i64::from(offset_hours * 3600 + offset_minutes * 60);
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
