//! A small, bounded HTTP/1.x client for AIA, CRL and OCSP: plain http://
//! only, every step within the timeout, bodies capped. (in progress)

use std::time::Duration;

use crate::model::FetchError;

/// Bounds for one fetch.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bound on the whole fetch: resolve, connect, request, body.
    pub timeout: Duration,
    /// Largest body accepted; more is `FetchError::TooLarge`.
    pub max_bytes: usize,
}

/// GET `url`, following at most 3 redirects.
pub async fn get(url: &str, limits: &Limits) -> Result<Vec<u8>, FetchError> {
    let _ = (url, limits);
    Err(FetchError::Io("not implemented".into()))
}

/// POST `body` to `url` with `content_type` (OCSP).
pub async fn post(
    url: &str,
    content_type: &str,
    body: &[u8],
    limits: &Limits,
) -> Result<Vec<u8>, FetchError> {
    let _ = (url, content_type, body, limits);
    Err(FetchError::Io("not implemented".into()))
}
