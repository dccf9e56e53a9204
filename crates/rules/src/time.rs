//! Time as values: the engine never reads a clock. Callers pass `now` in.
//!
//! - [`Timestamp`]: an instant in UTC, to the millisecond (`"2026-11-21T09:30:00Z"`).
//! - [`Date`]: a calendar day (`"2026-11-21"`), for price list validity.
//! - [`Duration`]: a non-negative span (`"7d"`, `"1d12h"`, `"90m"`, `"250ms"`).

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use std::fmt;

const MS_PER_SECOND: i64 = 1_000;
const MS_PER_MINUTE: i64 = 60 * MS_PER_SECOND;
const MS_PER_HOUR: i64 = 60 * MS_PER_MINUTE;
const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;
const MS_PER_WEEK: i64 = 7 * MS_PER_DAY;

/// Why a text is not a date, a timestamp or a duration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeError {
    BadDate(String),
    BadTimestamp(String),
    BadDuration(String),
    OutOfRange,
}

impl std::error::Error for TimeError {}

/// A calendar day, stored as days since 1970-01-01. Years 1 to 9999.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

/// An instant in UTC, stored as milliseconds since 1970-01-01T00:00:00Z. Years 1 to 9999.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// A non-negative span of time in milliseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(i64);

#[expect(
    clippy::arithmetic_side_effects,
    reason = "civil-calendar arithmetic on years 1..=9999: every intermediate fits in an i64"
)]
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[expect(
    clippy::arithmetic_side_effects,
    reason = "civil-calendar arithmetic on years 1..=9999: every intermediate fits in an i64"
)]
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Reads exactly `n` ASCII digits at the start of `text`.
fn digits(text: &str, n: usize) -> Option<(i64, &str)> {
    let head = text.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, text.get(n..)?))
}

fn parse_ymd(text: &str) -> Option<(i64, &str)> {
    let (year, rest) = digits(text, 4)?;
    let rest = rest.strip_prefix('-')?;
    let (month, rest) = digits(rest, 2)?;
    let rest = rest.strip_prefix('-')?;
    let (day, rest) = digits(rest, 2)?;
    if year < 1 || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some((days_from_civil(year, month, day), rest))
}

impl Date {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Date, TimeError> {
        match parse_ymd(text) {
            Some((days, "")) => {
                i32::try_from(days).map(Date).map_err(|_| TimeError::BadDate(text.to_owned()))
            }
            _ => Err(TimeError::BadDate(text.to_owned())),
        }
    }

    pub fn from_ymd(year: i32, month: u32, day: u32) -> Result<Date, TimeError> {
        Date::parse(&format!("{year:04}-{month:02}-{day:02}"))
    }

    pub fn days_since_epoch(self) -> i32 {
        self.0
    }

    /// Year, month (1-12) and day (1-31).
    pub fn ymd(self) -> (i32, u32, u32) {
        let (y, m, d) = civil_from_days(i64::from(self.0));
        (
            i32::try_from(y).unwrap_or(i32::MAX),
            u32::try_from(m).unwrap_or(1),
            u32::try_from(d).unwrap_or(1),
        )
    }

    /// The day of the week, Monday 0 to Sunday 6.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday.
        u32::try_from(i64::from(self.0).saturating_add(3).rem_euclid(7)).unwrap_or(0)
    }

    /// Midnight UTC at the start of this day.
    pub fn start(self) -> Timestamp {
        Timestamp(i64::from(self.0).saturating_mul(MS_PER_DAY))
    }

    /// The day after (saturating at year 9999).
    pub fn next_day(self) -> Date {
        Date(self.0.saturating_add(1))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(i64::from(self.0));
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339 (`2026-11-21T09:30:00Z`, `2026-11-21T10:30:00.250+01:00`); the instant is
    /// kept in UTC to the millisecond. Finer fractions are refused rather than truncated.
    pub fn parse(text: &str) -> Result<Timestamp, TimeError> {
        Self::parse_inner(text).ok_or_else(|| TimeError::BadTimestamp(text.to_owned()))
    }

    #[expect(
        clippy::arithmetic_side_effects,
        reason = "fields are range-checked above; the products fit in an i64"
    )]
    fn parse_inner(text: &str) -> Option<Timestamp> {
        let (days, rest) = parse_ymd(text)?;
        let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix('t'))?;
        let (hour, rest) = digits(rest, 2)?;
        let (minute, rest) = digits(rest.strip_prefix(':')?, 2)?;
        let (second, mut rest) = digits(rest.strip_prefix(':')?, 2)?;
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let mut millis = 0;
        if let Some(fraction) = rest.strip_prefix('.') {
            let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if !(1..=3).contains(&len) {
                return None;
            }
            let (value, after) = digits(fraction, len)?;
            millis = value * 10i64.pow(3 - u32::try_from(len).ok()?);
            rest = after;
        }
        let offset_minutes = match rest {
            "Z" | "z" => 0,
            _ => {
                let sign = match rest.get(..1)? {
                    "+" => 1,
                    "-" => -1,
                    _ => return None,
                };
                let (oh, after) = digits(rest.get(1..)?, 2)?;
                let (om, after) = digits(after.strip_prefix(':')?, 2)?;
                if !after.is_empty() || oh > 23 || om > 59 {
                    return None;
                }
                sign * (oh * 60 + om)
            }
        };
        let ms = days * MS_PER_DAY
            + hour * MS_PER_HOUR
            + minute * MS_PER_MINUTE
            + second * MS_PER_SECOND
            + millis
            - offset_minutes * MS_PER_MINUTE;
        Some(Timestamp(ms))
    }

    /// The calendar day of this instant in UTC.
    pub fn date(self) -> Date {
        let days = self.0.div_euclid(MS_PER_DAY);
        Date(i32::try_from(days).unwrap_or(if days < 0 { i32::MIN } else { i32::MAX }))
    }

    /// `self + d`, or `None` past the representable range.
    pub fn checked_add(self, d: Duration) -> Option<Timestamp> {
        self.0.checked_add(d.0).map(Timestamp)
    }

    /// The time from `earlier` to `self`; zero if `earlier` is after `self`.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration(self.0.saturating_sub(earlier.0).max(0))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(MS_PER_DAY);
        let in_day = self.0.rem_euclid(MS_PER_DAY);
        let (y, mo, d) = civil_from_days(days);
        let (h, rest) = (in_day / MS_PER_HOUR, in_day % MS_PER_HOUR);
        let (mi, rest) = (rest / MS_PER_MINUTE, rest % MS_PER_MINUTE);
        let (s, ms) = (rest / MS_PER_SECOND, rest % MS_PER_SECOND);
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")?;
        if ms != 0 {
            write!(f, ".{ms:03}")?;
        }
        f.write_str("Z")
    }
}

const DURATION_UNITS: [(&str, i64); 6] = [
    ("w", MS_PER_WEEK),
    ("d", MS_PER_DAY),
    ("h", MS_PER_HOUR),
    ("m", MS_PER_MINUTE),
    ("s", MS_PER_SECOND),
    ("ms", 1),
];

impl Duration {
    pub const ZERO: Duration = Duration(0);

    pub const fn from_millis(ms: i64) -> Duration {
        Duration(if ms < 0 { 0 } else { ms })
    }

    pub const fn from_secs(secs: i64) -> Duration {
        Duration::from_millis(secs.saturating_mul(MS_PER_SECOND))
    }

    pub const fn from_days(days: i64) -> Duration {
        Duration::from_millis(days.saturating_mul(MS_PER_DAY))
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    /// Parses `7d`, `1d12h`, `90m`, `2w`, `30s`, `250ms`: numbers with units, largest unit
    /// first, each unit at most once.
    pub fn parse(text: &str) -> Result<Duration, TimeError> {
        Self::parse_inner(text).ok_or_else(|| TimeError::BadDuration(text.to_owned()))
    }

    fn parse_inner(text: &str) -> Option<Duration> {
        let mut rest = text;
        let mut total: i64 = 0;
        let mut next_unit = 0;
        if rest.is_empty() {
            return None;
        }
        while !rest.is_empty() {
            let len = rest.bytes().take_while(u8::is_ascii_digit).count();
            if len == 0 || len > 15 {
                return None;
            }
            let number: i64 = rest.get(..len)?.parse().ok()?;
            rest = rest.get(len..)?;
            // "ms" must be tried before "m".
            let (index, unit_ms, unit_len) = DURATION_UNITS
                .iter()
                .enumerate()
                .rev()
                .find(|(_, (unit, _))| rest.starts_with(unit))
                .map(|(i, (unit, ms))| (i, *ms, unit.len()))?;
            if index < next_unit {
                return None;
            }
            next_unit = index.checked_add(1)?;
            rest = rest.get(unit_len..)?;
            total = total.checked_add(number.checked_mul(unit_ms)?)?;
        }
        Some(Duration(total))
    }
}

/// The canonical text form: days, hours, minutes, seconds, milliseconds; `0s` for zero.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.0;
        for (unit, ms) in DURATION_UNITS.iter().skip(1) {
            let count = rest.checked_div(*ms).unwrap_or(0);
            if count > 0 {
                write!(f, "{count}{unit}")?;
                rest = rest.checked_rem(*ms).unwrap_or(0);
            }
        }
        Ok(())
    }
}

macro_rules! string_serde {
    ($ty:ty, $expecting:literal) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl de::Visitor<'_> for Visitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$ty, E> {
                        <$ty>::parse(v).map_err(E::custom)
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
    };
}

string_serde!(Date, "a date such as \"2026-11-21\"");
string_serde!(Timestamp, "a timestamp such as \"2026-11-21T09:30:00Z\"");
string_serde!(Duration, "a duration such as \"7d\", \"1d12h\" or \"90m\"");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for text in ["1970-01-01", "2000-02-29", "2026-11-21", "0001-01-01", "9999-12-31"] {
            assert_eq!(Date::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Date::parse("1970-01-02").unwrap().days_since_epoch(), 1);
        for bad in ["2026-02-29", "2026-13-01", "2026-1-01", "2026-01-01x", "0000-01-01", ""] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps_are_utc_millis() {
        let t = Timestamp::parse("2026-11-21T10:30:00.250+01:00").unwrap();
        assert_eq!(t.to_string(), "2026-11-21T09:30:00.250Z");
        assert_eq!(Timestamp::parse("1970-01-01T00:00:01Z").unwrap().millis(), 1000);
        assert_eq!(t.date(), Date::parse("2026-11-21").unwrap());
        for bad in [
            "2026-11-21",
            "2026-11-21T24:00:00Z",
            "2026-11-21T10:00:00",
            "2026-11-21T10:00:00.1234Z",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_have_a_canonical_form() {
        let cases = [
            ("7d", "7d"),
            ("1d12h", "1d12h"),
            ("168h", "7d"),
            ("2w", "14d"),
            ("90m", "1h30m"),
            ("250ms", "250ms"),
            ("0s", "0s"),
        ];
        for (text, canonical) in cases {
            assert_eq!(Duration::parse(text).unwrap().to_string(), canonical, "{text}");
        }
        for bad in ["", "7", "d", "12h1d", "1d1d", "-1d", "1.5d", "7 d", "9999999999999999d"] {
            assert!(Duration::parse(bad).is_err(), "{bad}");
        }
        let start = Timestamp::parse("2026-11-01T00:00:00Z").unwrap();
        let later = start.checked_add(Duration::parse("7d").unwrap()).unwrap();
        assert_eq!(later.to_string(), "2026-11-08T00:00:00Z");
        assert_eq!(later.since(start), Duration::from_days(7));
        assert_eq!(start.since(later), Duration::ZERO);
    }
}
