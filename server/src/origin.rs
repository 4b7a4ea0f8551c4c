//! Cross-site request forgery: every state-changing request must come from a page of this
//! site. Browsers say where a request comes from in `Origin` (and in `Referer`); a page of
//! another origin (another port of the same host, a sibling subdomain) posting a form with the
//! teacher's cookie is refused with a 403 page before anything runs, login included. SameSite=Lax
//! alone does not stop it: those pages are on the same site.
//!
//! A request with neither header is let through: every browser sends `Origin` on a cross-origin
//! POST (and on same-origin ones), so such a request does not come from a forged page, while
//! scripts calling the documented API may send neither.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::Response;

/// The origins a state-changing request may come from, besides the `Host` it was sent to.
#[derive(Clone, Debug, Default)]
pub struct Allowed {
    /// `host[:port]` of `ATTN_PUBLIC_URL`, lower-cased.
    public: Option<String>,
}

impl Allowed {
    /// From the configuration.
    pub fn new(config: &attn::Config) -> Self {
        Self {
            public: config
                .public_url
                .as_deref()
                .and_then(|url| url.parse::<Uri>().ok())
                .and_then(|uri| uri.authority().map(|a| a.as_str().to_ascii_lowercase())),
        }
    }
}

/// Where the request says it comes from: `Origin`, else `Referer`. `Some(None)`: a source that
/// is not an address (`Origin: null`, from sandboxed frames and some redirects).
fn source(headers: &HeaderMap) -> Option<Option<String>> {
    let value = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))?;
    let authority = value
        .to_str()
        .ok()
        .and_then(|v| v.parse::<Uri>().ok())
        .and_then(|uri| uri.authority().map(|a| a.as_str().to_ascii_lowercase()));
    Some(authority)
}

/// True when the request may change something.
fn allowed(method: &Method, headers: &HeaderMap, allowed: &Allowed) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let Some(source) = source(headers) else {
        return true;
    };
    let Some(source) = source else {
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase);
    host.as_deref() == Some(source.as_str()) || allowed.public.as_deref() == Some(source.as_str())
}

/// The middleware: refuses a state-changing request from another origin.
pub async fn check(
    State(allowed_origins): State<Allowed>,
    request: Request,
    next: Next,
) -> Response {
    if allowed(request.method(), request.headers(), &allowed_origins) {
        return next.run(request).await;
    }
    tracing::warn!(
        method = %request.method(),
        path = %request.uri().path(),
        origin = ?request.headers().get(header::ORIGIN),
        referer = ?request.headers().get(header::REFERER),
        "refused a request from another origin"
    );
    crate::refusal::page(
        request.headers(),
        StatusCode::FORBIDDEN,
        "Forbidden",
        app::error::Refusal::ForeignOrigin,
        "foreign-origin",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_this_sites_pages_may_post() {
        let none = Allowed::default();
        let post = Method::POST;
        let host = (header::HOST, "attn.example.edu");
        let ok = |h: &[(header::HeaderName, &str)]| allowed(&post, &headers(h), &none);
        assert!(ok(&[
            host.clone(),
            (header::ORIGIN, "https://attn.example.edu")
        ]));
        assert!(ok(&[
            host.clone(),
            (header::ORIGIN, "https://ATTN.example.edu")
        ]));
        assert!(!ok(&[
            host.clone(),
            (header::ORIGIN, "https://evil.example.edu")
        ]));
        assert!(!ok(&[
            host.clone(),
            (header::ORIGIN, "https://attn.example.edu:8443")
        ]));
        assert!(!ok(&[host.clone(), (header::ORIGIN, "null")]));
        // Referer when there is no Origin.
        assert!(ok(&[
            host.clone(),
            (header::REFERER, "https://attn.example.edu/live/1")
        ]));
        assert!(!ok(&[
            host.clone(),
            (header::REFERER, "https://other.example/x")
        ]));
        // Origin wins over a Referer that would pass.
        assert!(!ok(&[
            host.clone(),
            (header::ORIGIN, "https://other.example"),
            (header::REFERER, "https://attn.example.edu/")
        ]));
        // Neither: a script, not a forged page.
        assert!(ok(std::slice::from_ref(&host)));
        // Reading is never refused.
        assert!(allowed(
            &Method::GET,
            &headers(&[host.clone(), (header::ORIGIN, "https://other.example")]),
            &none
        ));
        // Behind a proxy that rewrites Host, the public address counts.
        let public = Allowed {
            public: Some("attn.example.edu".into()),
        };
        assert!(allowed(
            &post,
            &headers(&[
                (header::HOST, "10.0.0.5:3000"),
                (header::ORIGIN, "https://attn.example.edu")
            ]),
            &public
        ));
    }
}
