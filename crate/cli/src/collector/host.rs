//! The `Host` check that protects the collector from DNS rebinding.
//!
//! A web page on an attacker's name can make that name resolve to
//! 127.0.0.1 and then read the collector's responses as same-origin. The
//! browser still sends the attacker's name in `Host`, so the collector
//! answers only requests whose `Host` it expects.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Names loopback clients use to reach a loopback listener.
const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// One accepted `Host` value: a lowercase name or IP literal (IPv6 in
/// brackets) and a port, where `None` accepts any port.
#[derive(Clone, Debug, PartialEq, Eq)]
struct HostEntry {
    name: String,
    port: Option<u16>,
}

/// Invalid `--allow-host` value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum AllowHostError {
    /// The value is not `NAME` or `NAME:PORT` with a DNS name or IP literal.
    #[error("--allow-host {0:?} is not a host name with an optional port")]
    Invalid(String),
}

/// The `Host` values the collector serves.
#[derive(Clone, Debug)]
pub(crate) struct AllowedHosts {
    entries: Vec<HostEntry>,
    /// Accept any IP literal with the listening port, because the listener
    /// is on every interface and IP literals cannot be rebound.
    any_ip_literal: Option<u16>,
}

impl AllowedHosts {
    /// Builds the set for a bound address and the operator's `--allow-host`
    /// values: the listening IP with its port and, for a loopback or
    /// unspecified listener, `localhost`, `127.0.0.1` and `[::1]` with the
    /// port.
    ///
    /// # Errors
    ///
    /// [`AllowHostError::Invalid`] names the first value that is not a host.
    pub(crate) fn new(bound: SocketAddr, extra: &[String]) -> Result<AllowedHosts, AllowHostError> {
        let port = bound.port();
        let ip = bound.ip();
        let mut entries = vec![HostEntry {
            name: ip_literal(ip),
            port: Some(port),
        }];
        if ip.is_loopback() || ip.is_unspecified() {
            for name in LOOPBACK_NAMES {
                entries.push(HostEntry {
                    name: name.to_owned(),
                    port: Some(port),
                });
            }
        }
        for value in extra {
            let entry = parse_host(value).ok_or_else(|| AllowHostError::Invalid(value.clone()))?;
            entries.push(entry);
        }
        Ok(AllowedHosts {
            entries,
            any_ip_literal: ip.is_unspecified().then_some(port),
        })
    }

    /// Returns whether a `Host` header value is one the collector expects.
    /// A value without a port means port 80, the HTTP default.
    pub(crate) fn allows(&self, host: &str) -> bool {
        let Some(requested) = parse_host(host) else {
            return false;
        };
        let port = requested.port.unwrap_or(80);
        if self.any_ip_literal == Some(port) && is_ip_literal(&requested.name) {
            return true;
        }
        self.entries
            .iter()
            .any(|entry| entry.name == requested.name && entry.port.is_none_or(|p| p == port))
    }
}

fn ip_literal(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

fn is_ip_literal(name: &str) -> bool {
    let bare = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    bare.parse::<IpAddr>().is_ok()
}

/// Parses `NAME`, `NAME:PORT`, `[V6]` or `[V6]:PORT` into a lowercase
/// entry; returns `None` for anything else, including empty names, user
/// info, paths and a trailing dot.
fn parse_host(value: &str) -> Option<HostEntry> {
    let value = value.to_ascii_lowercase();
    let (name, port) = if let Some(rest) = value.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        inner.parse::<std::net::Ipv6Addr>().ok()?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?.parse::<u16>().ok()?),
        };
        (format!("[{inner}]"), port)
    } else {
        let (name, port) = match value.split_once(':') {
            Some((name, port)) => (name, Some(port.parse::<u16>().ok()?)),
            None => (value.as_str(), None),
        };
        let valid_label = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        if name.is_empty() || name.len() > 253 || !name.split('.').all(valid_label) {
            return None;
        }
        (name.to_owned(), port)
    };
    Some(HostEntry { name, port })
}

/// Middleware that answers 421 Misdirected Request, and logs the reason,
/// when a request's `Host` (or HTTP/2 `:authority`) is missing or not in
/// the allowed set.
pub(crate) async fn check_host(
    State(allowed): State<Arc<AllowedHosts>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
    match host {
        Some(host) if allowed.allows(&host) => next.run(request).await,
        Some(host) => {
            tracing::warn!(%peer, %host, path = request.uri().path(), "request rejected: Host not allowed");
            let message = format!(
                "the Host {host:?} is not one this collector serves; an operator behind a \
                 reverse proxy adds it with --allow-host"
            );
            misdirected(message)
        }
        None => {
            tracing::warn!(%peer, path = request.uri().path(), "request rejected: no Host header");
            misdirected("the request has no Host header".to_owned())
        }
    }
}

fn misdirected(message: String) -> Response {
    let body = json!({ "error": "host_not_allowed", "message": message });
    (StatusCode::MISDIRECTED_REQUEST, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(listen: &str, extra: &[&str]) -> AllowedHosts {
        let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        AllowedHosts::new(listen.parse().expect("a socket address"), &extra).expect("valid hosts")
    }

    #[test]
    fn loopback_listener_allows_loopback_names() {
        let allowed = hosts("127.0.0.1:8787", &[]);
        for host in [
            "127.0.0.1:8787",
            "localhost:8787",
            "LOCALHOST:8787",
            "[::1]:8787",
        ] {
            assert!(allowed.allows(host), "{host}");
        }
    }

    #[test]
    fn loopback_listener_rejects_other_hosts() {
        let allowed = hosts("127.0.0.1:8787", &[]);
        for host in [
            "evil.example:8787",
            "evil.example",
            "127.0.0.1:8788",
            "127.0.0.1",
            "localhost",
            "localhost.:8787",
            "127.0.0.2:8787",
            "",
            "localhost:8787/x",
            "user@localhost:8787",
        ] {
            assert!(!allowed.allows(host), "{host:?}");
        }
    }

    #[test]
    fn allow_host_with_and_without_port() {
        let allowed = hosts(
            "127.0.0.1:8787",
            &["collector.example", "Events.Example:8443"],
        );
        assert!(allowed.allows("collector.example"));
        assert!(allowed.allows("collector.example:443"));
        assert!(allowed.allows("events.example:8443"));
        assert!(!allowed.allows("events.example"));
        assert!(!allowed.allows("other.example"));
    }

    #[test]
    fn unspecified_listener_allows_ip_literals() {
        let allowed = hosts("0.0.0.0:8787", &[]);
        assert!(allowed.allows("192.0.2.10:8787"));
        assert!(allowed.allows("[2001:db8::1]:8787"));
        assert!(allowed.allows("localhost:8787"));
        assert!(!allowed.allows("192.0.2.10:9000"));
        assert!(!allowed.allows("rebound.example:8787"));
    }

    #[test]
    fn other_listener_allows_its_address_only() {
        let allowed = hosts("192.0.2.10:8787", &[]);
        assert!(allowed.allows("192.0.2.10:8787"));
        assert!(!allowed.allows("localhost:8787"));
        assert!(!allowed.allows("192.0.2.11:8787"));
    }

    #[test]
    fn invalid_allow_host_rejected() {
        for value in ["", "a/b", "host:port", "https://x", "-x.example", "[::1"] {
            let result =
                AllowedHosts::new("127.0.0.1:1".parse().expect("address"), &[value.to_owned()]);
            assert!(result.is_err(), "{value:?}");
        }
    }
}
