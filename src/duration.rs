//! Human durations: `500ms`, `3s`, `30m`, `12h`, `1h30m`, `90d`; a bare number is seconds.

use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{input}` is not a duration: use a number with a unit, e.g. 3s, 30m, 12h or 1h30m")]
pub struct ParseDurationError {
    pub input: String,
}

pub fn parse(input: &str) -> Result<Duration, ParseDurationError> {
    let err = || ParseDurationError {
        input: input.to_string(),
    };
    let s = input.trim();
    if s.is_empty() {
        return Err(err());
    }
    if let Ok(secs) = s.parse::<f64>() {
        return if secs.is_finite() && secs >= 0.0 {
            Ok(Duration::from_secs_f64(secs))
        } else {
            Err(err())
        };
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(err)?;
        if num_len == 0 {
            return Err(err());
        }
        let value: f64 = rest[..num_len].parse().map_err(|_| err())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = rest[unit_len..].trim_start();
        let factor = match unit.trim() {
            "ms" => 0.001,
            "s" | "sec" | "secs" => 1.0,
            "m" | "min" | "mins" => 60.0,
            "h" | "hr" | "hrs" => 3600.0,
            "d" | "day" | "days" => 86_400.0,
            _ => return Err(err()),
        };
        total += Duration::from_secs_f64(value * factor);
    }
    Ok(total)
}

/// Formats a duration compactly for people: `750ms`, `3s`, `4m 10s`, `12h`, `90d`.
pub fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        let rounded = (secs * 10.0).round() / 10.0;
        return if rounded.fract() == 0.0 {
            format!("{rounded:.0}s")
        } else {
            format!("{rounded:.1}s")
        };
    }
    let total = d.as_secs();
    let (days, hours, mins, s) = (
        total / 86_400,
        total % 86_400 / 3600,
        total % 3600 / 60,
        total % 60,
    );
    let parts: Vec<String> = [(days, "d"), (hours, "h"), (mins, "m"), (s, "s")]
        .iter()
        .filter(|(v, _)| *v > 0)
        .map(|(v, u)| format!("{v}{u}"))
        .collect();
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_combinations() {
        assert_eq!(parse("3s").unwrap(), Duration::from_secs(3));
        assert_eq!(parse("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse("12h").unwrap(), Duration::from_secs(43_200));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("1h 30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse("90d").unwrap(), Duration::from_secs(90 * 86_400));
        assert_eq!(parse("2.5").unwrap(), Duration::from_millis(2500));
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "abc", "3 parsecs", "-1", "m5", "5x"] {
            assert!(parse(bad).is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn formats_for_people() {
        assert_eq!(human(Duration::from_millis(750)), "750ms");
        assert_eq!(human(Duration::from_secs(3)), "3s");
        assert_eq!(human(Duration::from_millis(3500)), "3.5s");
        assert_eq!(human(Duration::from_secs(250)), "4m 10s");
        assert_eq!(human(Duration::from_secs(43_200)), "12h");
        assert_eq!(human(Duration::from_secs(90 * 86_400)), "90d");
    }
}
