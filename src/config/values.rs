//! Reading one setting: URLs, durations, booleans and counts, each error naming its variable.

use std::time::Duration;

use url::Url;

use crate::duration;

use super::{ConfigError, Env};

pub(super) fn parse_url(var: &str, s: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(s.trim()).map_err(|e| ConfigError::Invalid {
        var: var.into(),
        message: format!("`{s}` is not a URL ({e}); write it like https://chat.example.com"),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::Invalid {
            var: var.into(),
            message: format!("`{s}` must be an http:// or https:// URL with a host"),
        });
    }
    Ok(url)
}

pub(super) fn pick_duration(
    env: Env<'_>,
    var: &str,
    file: Option<String>,
) -> Result<Option<Duration>, ConfigError> {
    match env(var).or(file) {
        Some(s) => duration::parse(&s)
            .map(Some)
            .map_err(|e| ConfigError::Invalid {
                var: var.into(),
                message: e.to_string(),
            }),
        None => Ok(None),
    }
}

pub(super) fn pick_bool(env: Env<'_>, var: &str, file: Option<bool>) -> Result<bool, ConfigError> {
    match env(var) {
        Some(s) => parse_bool(var, &s),
        None => Ok(file.unwrap_or(false)),
    }
}

pub(super) fn parse_bool(var: &str, s: &str) -> Result<bool, ConfigError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::Invalid {
            var: var.into(),
            message: format!("`{s}` is not a yes/no value (use 1 or 0)"),
        }),
    }
}

pub(super) fn parse_count(var: &str, s: &str) -> Result<usize, ConfigError> {
    s.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ConfigError::Invalid {
            var: var.into(),
            message: format!("`{s}` is not a positive number"),
        })
}
