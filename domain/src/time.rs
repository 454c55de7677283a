//! Times are RFC 3339 UTC strings on the wire and in the table, to the
//! second, so that they also sort correctly as DynamoDB string keys.

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

/// `at` (a clock's now, to the second) in milliseconds, with the system clock's
/// milliseconds within the second: for ordering events closer together than a second.
pub fn millis(at: Timestamp) -> i64 {
    at.unix_timestamp() * 1000 + i64::from(OffsetDateTime::now_utc().millisecond())
}

/// The system's time, to the second; handlers use their app's [`Clock`].
pub fn now() -> Timestamp {
    OffsetDateTime::now_utc().replace_nanosecond(0).expect("zero nanoseconds is valid")
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
}
