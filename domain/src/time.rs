//! Times are RFC 3339 UTC strings on the wire and in the table, to the
//! second, so that they also sort correctly as DynamoDB string keys. A clock reads
//! milliseconds too, for ordering events; text drops them.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

pub type Timestamp = OffsetDateTime;

/// The years a time sent to the API may name. Every stored time is inside them, so a
/// date plus any window the API allows (a century at most) still formats and compares;
/// a post "published" in 9999 once made that addition overflow.
pub const MIN_YEAR: i32 = 1970;
pub const MAX_YEAR: i32 = 2999;

/// The clock handlers read: the system's, moved by an offset that only tests set, so a
/// test of windows, deadlines and expiries moves time forward instead of rewriting
/// stored items. Clones share the offset.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_secs: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> Timestamp {
        now() + time::Duration::seconds(self.offset_secs.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: time::Duration) {
        self.offset_secs.fetch_add(by.whole_seconds(), std::sync::atomic::Ordering::Relaxed);
    }
}

/// `at` in milliseconds: for ordering events closer together than a second (a reply
/// shown after its author confirmed notifications). A clock's now keeps its
/// milliseconds for this; what is stored as text keeps only the second.
pub fn millis(at: Timestamp) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The system's time, to the millisecond; handlers use their app's [`Clock`]. (Its
/// millisecond once came from a second reading of the system clock, which put an
/// event read late in a second before one read early in it.)
pub fn now() -> Timestamp {
    let at = OffsetDateTime::now_utc();
    at.replace_millisecond(at.millisecond()).expect("a millisecond of a valid time is valid")
}

pub fn format(at: Timestamp) -> String {
    at.to_offset(UtcOffset::UTC)
        .replace_nanosecond(0)
        .expect("zero nanoseconds is valid")
        .format(&Rfc3339)
        .expect("years 0..=9999 format as RFC 3339")
}

/// Parses any RFC 3339 time (any offset) and keeps it in UTC, to the second.
pub fn parse(raw: &str) -> Result<Timestamp, String> {
    let at = OffsetDateTime::parse(raw.trim(), &Rfc3339)
        .map_err(|_| "must be an RFC 3339 time such as 2012-03-08T09:00:00Z".to_string())?;
    let at = at.to_offset(UtcOffset::UTC);
    if !(MIN_YEAR..=MAX_YEAR).contains(&at.year()) {
        return Err(format!("must be between the years {MIN_YEAR} and {MAX_YEAR}"));
    }
    Ok(at.replace_nanosecond(0).expect("zero nanoseconds is valid"))
}

/// A time given in milliseconds since the epoch (an export's), to the second, within the
/// years the API allows.
pub fn from_millis(ms: i64) -> Result<Timestamp, String> {
    let at = OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).map_err(|e| e.to_string())?;
    if !(MIN_YEAR..=MAX_YEAR).contains(&at.year()) {
        return Err(format!("must be between the years {MIN_YEAR} and {MAX_YEAR}"));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_utc() {
        let at = parse("2012-03-08T18:30:00+09:00").unwrap();
        assert_eq!(format(at), "2012-03-08T09:30:00Z");
    }

    #[test]
    fn rejects_what_is_not_rfc_3339() {
        for bad in
            ["2012-03-08", "yesterday", "2012-03-08 09:00:00", "", "9999-12-30T00:00:00Z", "1969-12-31T23:59:59Z"]
        {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_clock_orders_readings_within_a_second_and_stores_only_the_second() {
        let at = parse("2026-12-01T21:59:59Z").unwrap();
        let late = at.replace_millisecond(950).unwrap();
        let next = (at + time::Duration::seconds(1)).replace_millisecond(10).unwrap();
        assert!(millis(late) < millis(next));
        assert_eq!(millis(late) % 1000, 950);
        assert_eq!(format(late), "2026-12-01T21:59:59Z");
        let readings: Vec<i64> = (0..200).map(|_| millis(Clock::default().now())).collect();
        assert!(readings.windows(2).all(|w| w[0] <= w[1]), "one clock never reads backwards: {readings:?}");
    }
}
