//! Conversions between JavaScript times (milliseconds since the Unix epoch,
//! as `Date.getTime()` returns) and `time::OffsetDateTime`.

use time::OffsetDateTime;

use crate::error::{BindingError, BindingResult, ErrorKind};

/// Converts milliseconds since the epoch to a UTC time.
///
/// # Errors
///
/// `Internal` when the value is not finite or out of range, which only a
/// caller bug produces.
pub(crate) fn from_millis(millis: f64) -> BindingResult<OffsetDateTime> {
    if !millis.is_finite() {
        return Err(BindingError::new(ErrorKind::Internal, format!("invalid time {millis}: not a finite number")));
    }
    // Truncation to whole milliseconds is intended: Date.getTime() is integral.
    #[allow(clippy::cast_possible_truncation, reason = "checked finite; Date values are integral milliseconds")]
    let nanos = (millis as i128) * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .map_err(|_| BindingError::new(ErrorKind::Internal, format!("invalid time {millis}: out of range")))
}
