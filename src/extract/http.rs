//! One HTTP GET with the reliability rules of `dap extract`: a requests-per-second limit, a
//! per-request timeout, and retries with exponential backoff and jitter on 429, 5xx and
//! connection errors, honouring `Retry-After` (seconds or an HTTP date).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::ExtractError;
use super::source::Secrets;

/// The longest wait dap accepts from a `Retry-After` header or the backoff.
const MAX_WAIT: Duration = Duration::from_secs(300);

/// A response as received (the body unchanged).
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    /// The `rel="next"` target of a `Link` header, if any.
    pub link_next: Option<String>,
    pub body: Vec<u8>,
    /// Attempts made (1 = no retry).
    pub attempts: u32,
}

pub struct Fetcher {
    client: reqwest::Client,
    headers: HeaderMap,
    min_interval: Option<Duration>,
    last_request: Option<Instant>,
    retries: u32,
    backoff: Duration,
    secrets: Secrets,
    /// Called with a message before each retry (to tell the user).
    pub on_retry: Box<dyn Fn(&str) + Send + Sync>,
}

impl Fetcher {
    pub fn new(
        headers: &[(String, String)],
        timeout: Duration,
        rate_limit: Option<f64>,
        retries: u32,
        backoff: Duration,
        secrets: Secrets,
    ) -> Result<Fetcher, ExtractError> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| ExtractError::Config(format!("invalid header name `{k}`: {e}")))?;
            let mut value = HeaderValue::from_str(v)
                .map_err(|_| ExtractError::Config(format!("invalid value for header `{k}`")))?;
            value.set_sensitive(true);
            map.insert(name, value);
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("dap/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ExtractError::Http(format!("cannot start the HTTP client: {e}")))?;
        Ok(Fetcher {
            client,
            headers: map,
            min_interval: rate_limit.map(|r| Duration::from_secs_f64(1.0 / r)),
            last_request: None,
            retries,
            backoff,
            secrets,
            on_retry: Box::new(|_| {}),
        })
    }

    /// GETs `url`, retrying as the module documentation says. A final 4xx/5xx is returned as a
    /// response (the caller records it); only a connection failure after the last retry is an
    /// error.
    pub async fn get(&mut self, url: &url::Url) -> Result<Response, ExtractError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.pace().await;
            let shown = self.secrets.redact(url.as_str());
            let result = self
                .client
                .get(url.clone())
                .headers(self.headers.clone())
                .send()
                .await;
            let (retry_after, why) = match result {
                Ok(resp) => {
                    let status = resp.status();
                    let retryable =
                        status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
                    if !retryable || attempt > self.retries {
                        return self.finish(resp, attempt, &shown).await;
                    }
                    (retry_after(resp.headers()), format!("HTTP {status}"))
                }
                Err(e) => {
                    let msg = self.secrets.redact(&error_chain(&e));
                    if attempt > self.retries {
                        return Err(ExtractError::Http(format!(
                            "GET {shown}: {msg} (after {attempt} attempts)"
                        )));
                    }
                    (None, msg)
                }
            };
            let wait = retry_after
                .unwrap_or_else(|| self.backoff_for(attempt))
                .min(MAX_WAIT);
            (self.on_retry)(&format!(
                "GET {shown}: {why}; retry {attempt}/{} in {:.1}s",
                self.retries,
                wait.as_secs_f64()
            ));
            tokio::time::sleep(wait).await;
        }
    }

    async fn finish(
        &self,
        resp: reqwest::Response,
        attempts: u32,
        shown: &str,
    ) -> Result<Response, ExtractError> {
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let link_next = resp
            .headers()
            .get_all(reqwest::header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(link_next);
        let body = resp.bytes().await.map_err(|e| {
            ExtractError::Http(format!(
                "GET {shown}: reading the body: {}",
                self.secrets.redact(&error_chain(&e))
            ))
        })?;
        Ok(Response {
            status,
            content_type,
            link_next,
            body: body.to_vec(),
            attempts,
        })
    }

    /// Jitter: a random wait between half and all of `backoff * 2^(attempt-1)`.
    fn backoff_for(&self, attempt: u32) -> Duration {
        let cap = self
            .backoff
            .saturating_mul(1u32 << (attempt - 1).min(16))
            .min(MAX_WAIT);
        let r = (uuid::Uuid::new_v4().as_u128() % 1_000_000) as f64 / 1_000_000.0;
        cap.mul_f64(0.5 + 0.5 * r)
    }

    async fn pace(&mut self) {
        if let (Some(min), Some(last)) = (self.min_interval, self.last_request) {
            let since = last.elapsed();
            if since < min {
                tokio::time::sleep(min - since).await;
            }
        }
        self.last_request = Some(Instant::now());
    }
}

/// `Retry-After: 3` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs >= 0.0 && secs.is_finite()).then(|| Duration::from_secs_f64(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let ms = (at.timestamp_millis() - chrono::Utc::now().timestamp_millis()).max(0);
    Some(Duration::from_millis(ms as u64))
}

/// The `rel="next"` URL of one `Link` header value (`<url>; rel="next", <url2>; rel="last"`).
pub fn link_next(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim();
            p.strip_prefix("rel=").is_some_and(|rel| {
                rel.trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
            })
        });
        is_next.then(|| target.to_string())
    })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        cur = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header() {
        assert_eq!(
            link_next(r#"<https://a/x?page=2>; rel="next", <https://a/x?page=9>; rel="last""#),
            Some("https://a/x?page=2".into())
        );
        assert_eq!(link_next(r#"<https://a/x?page=1>; rel="prev""#), None);
        assert_eq!(link_next("<b>; rel=next"), Some("b".into()));
    }

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
    }
}
