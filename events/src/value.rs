//! Validated value types: a value that exists is valid ("parse, don't validate").
//!
//! Each type parses from the wire (JSON, human-readable serde) with a message a reform officer can act
//! on, and travels compactly in the stored encoding (non-human-readable serde), where it is trusted.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;

/// A procedure's identity (mã TTHC): 1–64 characters from `A–Z a–z 0–9 . - _`, e.g. `1.004227`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProcedureCode(String);

impl ProcedureCode {
    pub const RULE: &'static str = "must be 1–64 characters from A–Z, a–z, 0–9, '.', '-' and '_'";

    pub fn parse(s: &str) -> Result<Self, String> {
        if Self::is_valid(s) { Ok(Self(s.to_owned())) } else { Err(Self::RULE.to_owned()) }
    }

    /// Whether `parse` would take `s` (without making a code of it).
    pub fn is_valid(s: &str) -> bool {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProcedureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ProcedureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl Serialize for ProcedureCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ProcedureCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(de::Error::custom)
    }
}

/// Text stored NFC-normalised, `MIN..=MAX` characters long after normalisation.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Text<const MIN: usize, const MAX: usize>(String);

/// A procedure's name (tên thủ tục), a document's name: 1–500 characters.
pub type Name = Text<1, 500>;
/// An agency (cơ quan thực hiện): 1–64 characters.
pub type Agency = Text<1, 64>;
/// A sector (lĩnh vực): 1–200 characters.
pub type Sector = Text<1, 200>;
/// Legal basis (căn cứ pháp lý), notes and reasons: 0–2000 characters.
pub type LongText = Text<0, 2000>;
/// A short free tag, e.g. a simplification measure: 1–200 characters.
pub type Tag = Text<1, 200>;

impl<const MIN: usize, const MAX: usize> Text<MIN, MAX> {
    pub fn parse(s: &str) -> Result<Self, String> {
        let normalised: String = if unicode_normalization::is_nfc(s) { s.to_owned() } else { s.nfc().collect() };
        let chars = normalised.chars().count();
        if chars < MIN || chars > MAX {
            return Err(if MIN == 0 {
                format!("must be at most {MAX} characters (it has {chars})")
            } else {
                format!("must be {MIN}–{MAX} characters (it has {chars})")
            });
        }
        if normalised.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
            return Err("must not contain control characters".to_owned());
        }
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MIN: usize, const MAX: usize> fmt::Display for Text<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const MIN: usize, const MAX: usize> fmt::Debug for Text<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl<const MIN: usize, const MAX: usize> Serialize for Text<MIN, MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de, const MIN: usize, const MAX: usize> Deserialize<'de> for Text<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let human = d.is_human_readable();
        let s = String::deserialize(d)?;
        if human { Self::parse(&s).map_err(de::Error::custom) } else { Ok(Self(s)) }
    }
}

/// A whole number in `MIN..=MAX`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Int<const MIN: u64, const MAX: u64>(u64);

/// An amount of đồng per filing (fee, out-of-pocket cost): 0–10⁹.
pub type Vnd = Int<0, 1_000_000_000>;
/// Number of steps of a procedure: 1–1000.
pub type Steps = Int<1, 1000>;
/// Copies of one document: 1–100.
pub type Copies = Int<1, 100>;
/// Filings per year: 0–10⁸.
pub type AnnualVolume = Int<0, 100_000_000>;
/// A tariff, đồng per hour of an applicant's time: 1–10⁷.
pub type VndPerHour = Int<1, 10_000_000>;

impl<const MIN: u64, const MAX: u64> Int<MIN, MAX> {
    pub fn new(n: u64) -> Result<Self, String> {
        if (MIN..=MAX).contains(&n) { Ok(Self(n)) } else { Err(Self::rule()) }
    }

    pub fn get(self) -> u64 {
        self.0
    }

    fn rule() -> String {
        format!("must be a whole number from {MIN} to {MAX}")
    }
}

impl<const MIN: u64, const MAX: u64> fmt::Debug for Int<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<const MIN: u64, const MAX: u64> fmt::Display for Int<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<const MIN: u64, const MAX: u64> Serialize for Int<MIN, MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Int<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const MIN: u64, const MAX: u64>;
        impl<const MIN: u64, const MAX: u64> Visitor<'_> for V<MIN, MAX> {
            type Value = Int<MIN, MAX>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(&Int::<MIN, MAX>::rule())
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                Int::new(n).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                u64::try_from(n).map_err(|_| E::custom(Int::<MIN, MAX>::rule())).and_then(|n| self.visit_u64(n))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Err(E::custom(Int::<MIN, MAX>::rule()))
            }
        }
        d.deserialize_u64(V::<MIN, MAX>)
    }
}

/// A decimal with at most two decimals, from 0 to `MAX`, held exactly as hundredths.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hundredths<const MAX: u64>(u64);

/// Processing time (thời hạn giải quyết) in working days: 0–3650, two decimals.
pub type WorkingDays = Hundredths<3650>;
/// Hours an applicant spends per filing: 0–10 000, two decimals.
pub type Hours = Hundredths<10_000>;

impl<const MAX: u64> Hundredths<MAX> {
    pub fn from_hundredths(n: u64) -> Result<Self, String> {
        if n <= MAX * 100 { Ok(Self(n)) } else { Err(Self::rule()) }
    }

    /// Parses a plain decimal literal such as `12`, `12.5` or `12.25`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (n, scale) = parse_decimal(s, 2).ok_or_else(Self::rule)?;
        let n = n.checked_mul(10u64.pow(2 - scale)).ok_or_else(Self::rule)?;
        Self::from_hundredths(n)
    }

    /// The value in hundredths (12.5 days is 1250).
    pub fn hundredths(self) -> u64 {
        self.0
    }

    fn rule() -> String {
        format!("must be a number from 0 to {MAX} with at most 2 decimals")
    }
}

/// Parses an unsigned decimal literal with at most `max_scale` decimals into (digits, scale).
fn parse_decimal(s: &str, max_scale: u32) -> Option<(u64, u32)> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    let scale = u32::try_from(frac.len()).ok().filter(|&n| n <= max_scale)?;
    let int: u64 = int.parse().ok()?;
    let frac_n: u64 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
    Some((int.checked_mul(10u64.pow(scale))?.checked_add(frac_n)?, scale))
}

/// A JSON number as its shortest exact decimal literal: binary floats print as the shortest string that
/// reads back as the same float, so `12.34` stays `12.34` and `12.345` cannot pass for it.
fn number_literal<E: de::Error>(f: f64) -> Result<String, E> {
    if !f.is_finite() || f < 0.0 {
        return Err(E::custom("must not be negative"));
    }
    Ok(format!("{f}"))
}

impl<const MAX: u64> fmt::Display for Hundredths<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (i, c) = (self.0 / 100, self.0 % 100);
        match c {
            0 => write!(f, "{i}"),
            c if c % 10 == 0 => write!(f, "{i}.{}", c / 10),
            c => write!(f, "{i}.{c:02}"),
        }
    }
}

impl<const MAX: u64> fmt::Debug for Hundredths<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<const MAX: u64> Serialize for Hundredths<MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if !s.is_human_readable() {
            s.serialize_u64(self.0)
        } else if self.0.is_multiple_of(100) {
            s.serialize_u64(self.0 / 100)
        } else {
            // Exact: the shortest float literal of n/100 is the two-decimal literal itself.
            s.serialize_f64(self.0 as f64 / 100.0)
        }
    }
}

impl<'de, const MAX: u64> Deserialize<'de> for Hundredths<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if !d.is_human_readable() {
            return Ok(Self(u64::deserialize(d)?));
        }
        struct V<const MAX: u64>;
        impl<const MAX: u64> Visitor<'_> for V<MAX> {
            type Value = Hundredths<MAX>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(&Hundredths::<MAX>::rule())
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                n.checked_mul(100)
                    .ok_or_else(|| E::custom(Hundredths::<MAX>::rule()))
                    .and_then(|h| Hundredths::from_hundredths(h).map_err(E::custom))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                u64::try_from(n).map_err(|_| E::custom(Hundredths::<MAX>::rule())).and_then(|n| self.visit_u64(n))
            }
            fn visit_f64<E: de::Error>(self, f: f64) -> Result<Self::Value, E> {
                let lit = number_literal::<E>(f).map_err(|_| E::custom(Hundredths::<MAX>::rule()))?;
                Hundredths::parse(&lit).map_err(E::custom)
            }
        }
        d.deserialize_f64(V::<MAX>)
    }
}

/// An exact fraction in (0, 1], given as a decimal such as `0.3` (held as `num / 10^scale`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fraction {
    num: u64,
    scale: u32,
}

impl Fraction {
    const RULE: &'static str = "must be a fraction greater than 0 and at most 1, e.g. 0.3";

    pub fn parse(s: &str) -> Result<Self, String> {
        let (num, scale) = parse_decimal(s, 17).ok_or(Self::RULE)?;
        let den = 10u64.pow(scale);
        if num == 0 || num > den {
            return Err(Self::RULE.to_owned());
        }
        Ok(Self { num, scale })
    }

    /// Numerator and denominator, exactly.
    pub fn ratio(self) -> (u64, u64) {
        (self.num, 10u64.pow(self.scale))
    }
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.num);
        }
        let den = 10u64.pow(self.scale);
        let frac = format!("{:0width$}", self.num % den, width = self.scale as usize);
        write!(f, "{}.{}", self.num / den, frac.trim_end_matches('0'))
    }
}

impl fmt::Debug for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Fraction {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            let (n, d) = self.ratio();
            s.serialize_f64(n as f64 / d as f64)
        } else {
            (self.num, self.scale).serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if !d.is_human_readable() {
            let (num, scale) = <(u64, u32)>::deserialize(d)?;
            return Ok(Self { num, scale });
        }
        struct V;
        impl Visitor<'_> for V {
            type Value = Fraction;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(Fraction::RULE)
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Fraction, E> {
                Fraction::parse(&n.to_string()).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Fraction, E> {
                Err(E::custom(Fraction::RULE))
            }
            fn visit_f64<E: de::Error>(self, f: f64) -> Result<Fraction, E> {
                let lit = number_literal::<E>(f).map_err(|_| E::custom(Fraction::RULE))?;
                Fraction::parse(&lit).map_err(E::custom)
            }
        }
        d.deserialize_f64(V)
    }
}

/// A calendar date (`YYYY-MM-DD` on the wire), e.g. a valid-time `effective_on`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(time::Date);

const DATE_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

impl Date {
    pub const RULE: &'static str = "must be a date written YYYY-MM-DD";

    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() != 10 {
            return Err(Self::RULE.to_owned());
        }
        time::Date::parse(s, DATE_FORMAT).map(Self).map_err(|_| Self::RULE.to_owned())
    }

    pub fn from_ymd(y: i32, m: u8, d: u8) -> Option<Self> {
        let month = time::Month::try_from(m).ok()?;
        time::Date::from_calendar_date(y, month, d).ok().map(Self)
    }

    pub fn inner(self) -> time::Date {
        self.0
    }

    pub fn from_inner(d: time::Date) -> Self {
        Self(d)
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        i64::from(self.0.to_julian_day()) - 2_440_588
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = (self.0.year(), u8::from(self.0.month()), self.0.day());
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Date {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() { s.collect_str(self) } else { s.serialize_i32(self.0.to_julian_day()) }
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            Self::parse(&s).map_err(de::Error::custom)
        } else {
            let j = i32::deserialize(d)?;
            time::Date::from_julian_day(j).map(Self).map_err(de::Error::custom)
        }
    }
}

/// A transaction time (`recorded_at`): UTC, microsecond precision, RFC 3339 on the wire.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn from_micros(us: i64) -> Self {
        Self(us)
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    pub fn to_offset_date_time(self) -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    }

    pub fn from_offset_date_time(t: time::OffsetDateTime) -> Self {
        Self((t.unix_timestamp_nanos() / 1000) as i64)
    }

    /// Parses RFC 3339 with an offset, e.g. `2014-06-01T00:00:00+07:00`.
    pub fn parse(s: &str) -> Result<Self, String> {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .map(Self::from_offset_date_time)
            .map_err(|_| "must be a time in RFC 3339 with an offset, e.g. 2014-06-01T08:00:00+07:00".to_owned())
    }

    /// The last microsecond of `date` in Vietnam: what a transaction time given as a date means.
    pub fn end_of_day_in_vietnam(date: Date) -> Option<Self> {
        let next_midnight = date.0.next_day()?.midnight().assume_offset(time::macros::offset!(+7));
        Some(Self(Self::from_offset_date_time(next_midnight).0 - 1))
    }

    /// A transaction time as people and queries give it (`known_at`): RFC 3339 with an offset, or a date
    /// meaning the end of that day in Vietnam.
    pub fn parse_known_at(s: &str) -> Result<Self, String> {
        if let Ok(date) = Date::parse(s) {
            return Self::end_of_day_in_vietnam(date).ok_or_else(|| "date out of range".to_owned());
        }
        Self::parse(s).map_err(|_| {
            "must be a time in RFC 3339 with an offset (2014-06-01T08:00:00+07:00) or a date (YYYY-MM-DD)".to_owned()
        })
    }

    /// The calendar date of this instant in Vietnam (UTC+7, no daylight saving).
    pub fn date_in_vietnam(self) -> Date {
        let t = self.to_offset_date_time().to_offset(time::macros::offset!(+7));
        Date(t.date())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.to_offset_date_time();
        let (y, mo, d) = (t.year(), u8::from(t.month()), t.day());
        let (h, mi, s, us) = (t.hour(), t.minute(), t.second(), t.microsecond());
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}Z")
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() { s.collect_str(self) } else { s.serialize_i64(self.0) }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            Self::parse(&s).map_err(de::Error::custom)
        } else {
            Ok(Self(i64::deserialize(d)?))
        }
    }
}

/// Cấp thực hiện: the level of government that handles a procedure.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Central,
    Province,
    District,
    Commune,
}

/// Đối tượng thực hiện: who files a procedure.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicant {
    Citizen,
    Business,
    Both,
}

/// The applicant types a tariff (VND per hour of an applicant's time) is set for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TariffApplicant {
    Citizen,
    Business,
}

/// How far a procedure is offered online; burden falls from `none` to `full`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Online {
    None,
    Partial,
    Full,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Central => "central",
            Self::Province => "province",
            Self::District => "district",
            Self::Commune => "commune",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hundredths_take_at_most_two_decimals_exactly() {
        let days: WorkingDays = serde_json::from_str("12.25").unwrap();
        assert_eq!(days.hundredths(), 1225);
        assert_eq!(serde_json::to_string(&days).unwrap(), "12.25");
        assert!(serde_json::from_str::<WorkingDays>("12.345").is_err());
        assert!(serde_json::from_str::<WorkingDays>("12.340000000001").is_err());
        assert!(serde_json::from_str::<WorkingDays>("3650.01").is_err());
        assert!(serde_json::from_str::<WorkingDays>("-1").is_err());
        assert_eq!(serde_json::from_str::<WorkingDays>("20").unwrap().hundredths(), 2000);
        assert_eq!(serde_json::to_string(&WorkingDays::parse("20").unwrap()).unwrap(), "20");
    }

    #[test]
    fn huge_decimals_are_refused_not_wrapped() {
        // 184467440737095520 × 100 overflows u64: wrapped, it would read as 3.84 days.
        assert!(WorkingDays::parse("184467440737095520").is_err());
        assert!(Hours::parse("1000000000000000000").is_err());
        assert!(serde_json::from_str::<WorkingDays>("1.8446744073709552e17").is_err());
        assert!(serde_json::from_str::<Hours>("1e300").is_err());
        assert!(Fraction::parse("18446744073709551616").is_err());
    }

    #[test]
    fn integers_refuse_fractions_negatives_and_out_of_range() {
        assert!(serde_json::from_str::<Vnd>("1.5").is_err());
        assert!(serde_json::from_str::<Vnd>("-1").is_err());
        assert!(serde_json::from_str::<Vnd>("1000000001").is_err());
        assert_eq!(serde_json::from_str::<Vnd>("1000000000").unwrap().get(), 1_000_000_000);
        assert!(serde_json::from_str::<Steps>("0").is_err());
    }

    #[test]
    fn text_is_nfc_and_counts_characters() {
        // "Hộ tịch" written with combining marks (NFD) is stored composed.
        let nfd = "Ho\u{323}\u{302} ti\u{323}ch";
        let t: Name = Text::parse(nfd).unwrap();
        assert_eq!(t.as_str(), "Hộ tịch");
        assert!(Agency::parse(&"ộ".repeat(64)).is_ok());
        assert!(Agency::parse(&"ộ".repeat(65)).is_err());
        assert!(Name::parse("").is_err());
    }

    #[test]
    fn codes_allow_dots_dashes_and_underscores_only() {
        assert!(ProcedureCode::parse("1.012753.H19").is_ok());
        assert!(ProcedureCode::parse("a b").is_err());
        assert!(ProcedureCode::parse("").is_err());
        assert!(ProcedureCode::parse(&"1".repeat(65)).is_err());
    }

    #[test]
    fn fractions_are_exact() {
        let f: Fraction = serde_json::from_str("0.3").unwrap();
        assert_eq!(f.ratio(), (3, 10));
        assert!(serde_json::from_str::<Fraction>("0").is_err());
        assert!(serde_json::from_str::<Fraction>("1.01").is_err());
        assert_eq!(serde_json::from_str::<Fraction>("1").unwrap().ratio(), (1, 1));
    }

    #[test]
    fn dates_and_times_round_trip() {
        let d = Date::parse("2013-12-31").unwrap();
        assert_eq!(d.to_string(), "2013-12-31");
        assert!(Date::parse("2013-02-30").is_err());
        assert!(Date::parse("31/12/2013").is_err());
        let t = Timestamp::parse("2014-06-01T08:00:00+07:00").unwrap();
        assert_eq!(t.to_string(), "2014-06-01T01:00:00.000000Z");
        assert_eq!(t.date_in_vietnam(), Date::parse("2014-06-01").unwrap());
        let bin = postcard::to_stdvec(&d).unwrap();
        assert_eq!(postcard::from_bytes::<Date>(&bin).unwrap(), d);
    }
}
