//! `certscope::fetch::http` against tiny tokio servers on 127.0.0.1: framing
//! (Content-Length, chunked, EOF), redirects, statuses, the size cap, the
//! whole-fetch timeout and POST. Every server runs in one task that the test
//! aborts at the end; every test is bounded with `tokio::time::timeout`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use certscope::fetch::http::{self, Limits};
use certscope::report::observation::FetchError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Upper bound for any one test.
const BOUND: Duration = Duration::from_secs(30);
const MIB: usize = 1024 * 1024;
const DER: &[u8] = b"\x30\x82\x00\x05\x02\x01\x00\x0d\x0a\xff\x00";

fn limits(timeout: Duration, max_bytes: usize) -> Limits {
    Limits { timeout, max_bytes }
}

async fn bounded<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, fut)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {BOUND:?}"))
}

/// A listener on 127.0.0.1 port 0, and the port it got.
async fn listen() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local addr").port();
    (listener, port)
}

/// Handle connections one after another (connection index from 0) in a
/// single task, so aborting it stops everything.
fn spawn_server<F, Fut>(listener: TcpListener, handle: F) -> JoinHandle<()>
where
    F: Fn(TcpStream, usize) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((stream, _)) = listener.accept().await {
            handle(stream, n).await;
            n += 1;
        }
    })
}

async fn serve<F, Fut>(handle: F) -> (u16, JoinHandle<()>)
where
    F: Fn(TcpStream, usize) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let (listener, port) = listen().await;
    (port, spawn_server(listener, handle))
}

/// A request as the server saw it.
#[derive(Debug, Default)]
struct Request {
    head: String,
    body: Vec<u8>,
}

impl Request {
    fn line(&self) -> &str {
        self.head.lines().next().unwrap_or_default()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Read one request (head and a Content-Length body); `None` on EOF or junk.
async fn read_request(s: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let mut req = Request {
        head: String::from_utf8(buf[..end].to_vec()).ok()?,
        body: buf[end..].to_vec(),
    };
    let len: usize = req
        .header("content-length")
        .map_or(Some(0), |v| v.parse().ok())?;
    while req.body.len() < len {
        let n = s.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        req.body.extend_from_slice(&tmp[..n]);
    }
    Some(req)
}

/// Keep the connection open without answering until the task is aborted.
async fn hold(s: TcpStream) {
    let _keep = s;
    std::future::pending::<()>().await
}

fn bad_request() -> &'static [u8] {
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
}

#[tokio::test]
async fn der_body_with_content_length() {
    let (port, server) = serve(move |mut s, _| async move {
        let Some(req) = read_request(&mut s).await else {
            return;
        };
        let expected_host = format!(
            "127.0.0.1:{}",
            s.local_addr().map(|a| a.port()).unwrap_or(0)
        );
        let ok = req.line() == "GET /ca.der?x=1 HTTP/1.1"
            && req.header("host") == Some(expected_host.as_str())
            && req.header("connection") == Some("close")
            && req.header("accept") == Some("*/*")
            && req.header("user-agent") == Some(concat!("certscope/", env!("CARGO_PKG_VERSION")));
        if !ok {
            let _ = s.write_all(bad_request()).await;
            return;
        }
        // Head in pieces, then the body; keep the connection open: the
        // client must stop at Content-Length, not wait for EOF.
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-cert\r\nContent-Length: {}\r\n\r\n",
            DER.len()
        );
        let (a, b) = head.as_bytes().split_at(20);
        let _ = s.write_all(a).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let _ = s.write_all(b).await;
        let _ = s.write_all(DER).await;
        hold(s).await;
    })
    .await;
    let url = format!("http://127.0.0.1:{port}/ca.der?x=1#fragment");
    let started = Instant::now();
    let got = bounded(
        "fetch",
        http::get(&url, &limits(Duration::from_secs(10), MIB)),
    )
    .await;
    server.abort();
    assert_eq!(got, Ok(DER.to_vec()));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn chunked_body() {
    let (port, server) = serve(|mut s, _| async move {
        if read_request(&mut s).await.is_none() {
            return;
        }
        let pieces: [&[u8]; 6] = [
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n\x30\x82",
            b"\x00\x05\r\n",
            b"7\r\n\x02\x01\x00\x0d\x0a\xff\x00\r",
            b"\n0\r\nX-Trailer: yes\r",
            b"\n\r\n",
            b"junk after the body",
        ];
        for p in pieces {
            let _ = s.write_all(p).await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        hold(s).await;
    })
    .await;
    let url = format!("http://127.0.0.1:{port}/ca.crl");
    let got = bounded(
        "fetch",
        http::get(&url, &limits(Duration::from_secs(10), MIB)),
    )
    .await;
    server.abort();
    assert_eq!(got, Ok(DER.to_vec()));
}

#[tokio::test]
async fn malformed_chunked_body_is_io() {
    let (port, server) = serve(|mut s, _| async move {
        if read_request(&mut s).await.is_some() {
            let _ = s
                .write_all(
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
                )
                .await;
        }
        hold(s).await;
    })
    .await;
    let url = format!("http://127.0.0.1:{port}/");
    let got = bounded(
        "fetch",
        http::get(&url, &limits(Duration::from_secs(10), MIB)),
    )
    .await;
    server.abort();
    match got {
        Err(FetchError::Io(m)) => assert!(m.contains("chunk") && m.contains(&url), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn body_read_to_eof() {
    let (port, server) = serve(|mut s, _| async move {
        if read_request(&mut s).await.is_none() {
            return;
        }
        let _ = s
            .write_all(b"HTTP/1.0 200 OK\r\nContent-Type: application/pkix-crl\r\n\r\n")
            .await;
        for b in DER.chunks(3) {
            let _ = s.write_all(b).await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Dropping `s` closes the connection: that ends the body.
    })
    .await;
    let url = format!("http://127.0.0.1:{port}/");
    let got = bounded(
        "fetch",
        http::get(&url, &limits(Duration::from_secs(10), MIB)),
    )
    .await;
    server.abort();
    assert_eq!(got, Ok(DER.to_vec()));
}

#[tokio::test]
async fn truncated_content_length_body_is_io() {
    let (port, server) = serve(|mut s, _| async move {
        if read_request(&mut s).await.is_some() {
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
                .await;
        }
    })
    .await;
    let url = format!("http://127.0.0.1:{port}/");
    let got = bounded(
        "fetch",
        http::get(&url, &limits(Duration::from_secs(10), MIB)),
    )
    .await;
    server.abort();
    match got {
        Err(FetchError::Io(m)) => assert!(m.contains("9 of 100"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn follows_a_redirect_chain() {
    let (listener, port) = listen().await;
    let server = spawn_server(listener, move |mut s, _| async move {
        let Some(req) = read_request(&mut s).await else {
            return;
        };
        let reply = match req.line() {
            "GET /a HTTP/1.1" => {
                format!(
                    "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{port}/dir/b\r\nContent-Length: 0\r\n\r\n"
                )
            }
            "GET /dir/b HTTP/1.1" => "HTTP/1.1 301 Moved\r\nLocation: c\r\n\r\n".to_string(),
            "GET /dir/c HTTP/1.1" => {
                "HTTP/1.1 307 Temporary\r\nlocation: /d?x=1\r\n\r\n".to_string()
            }
            "GET /d?x=1 HTTP/1.1" => "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone".to_string(),
            _ => "HTTP/1.1 400 Bad Request\r\n\r\n".to_string(),
        };
        let _ = s.write_all(reply.as_bytes()).await;
    });
    let url = format!("http://127.0.0.1:{port}/a");
    let got = bounded(
        "fetch",
        http::get(&url, &limits(Duration::from_secs(10), MIB)),
    )
    .await;
    server.abort();
    assert_eq!(got, Ok(b"done".to_vec()));
}

#[tokio::test]
async fn a_redirect_loop_is_an_error() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let (port, server) = serve(move |mut s, n| {
        let counter = Arc::clone(&counter);
        async move {
            if read_request(&mut s).await.is_none() {
                return;
            }
            counter.fetch_add(1, Ordering::SeqCst);
            let reply = format!("HTTP/1.1 302 Found\r\nLocation: /loop{}\r\n\r\n", n + 1);
            let _ = s.write_all(reply.as_bytes()).await;
        }
    })
    .await;
    let url = format!("http://127.0.0.1:{port}/loop0");
    let got = bounded(
        "fetch",
        http::get(&url, &limits(Duration::from_secs(10), MIB)),
    )
    .await;
    server.abort();
    match got {
        Err(FetchError::Io(m)) => assert!(
            m.contains("more than 3 redirects") && m.contains("/loop4"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    // The first request and three redirects, no more.
    assert_eq!(hits.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn redirect_to_https_is_bad_url() {
    let (port, server) = serve(|mut s, _| async move {
        if read_request(&mut s).await.is_some() {
            let _ = s
                .write_all(b"HTTP/1.1 301 Moved\r\nLocation: https://ca.example/ca.der\r\n\r\n")
                .await;
        }
    })
    .await;
    let url = format!("http://127.0.0.1:{port}/");
    let got = bounded(
        "fetch",
        http::get(&url, &limits(Duration::from_secs(10), MIB)),
    )
    .await;
    server.abort();
    match got {
        Err(FetchError::BadUrl(m)) => assert!(m.contains("https://ca.example/ca.der"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn not_found_is_status() {
    let (port, server) = serve(|mut s, _| async move {
        if read_request(&mut s).await.is_some() {
            let _ = s
                .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot here\n")
                .await;
        }
        hold(s).await;
    })
    .await;
    let url = format!("http://127.0.0.1:{port}/missing.crl");
    let got = bounded(
        "fetch",
        http::get(&url, &limits(Duration::from_secs(10), MIB)),
    )
    .await;
    server.abort();
    assert_eq!(got, Err(FetchError::Status(404, "Not Found".into())));
}

#[tokio::test]
async fn interim_responses_are_skipped() {
    let (port, server) = serve(|mut s, _| async move {
        if read_request(&mut s).await.is_some() {
            let _ = s
                .write_all(
                    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                )
                .await;
        }
        hold(s).await;
    })
    .await;
    let url = format!("http://127.0.0.1:{port}/");
    let got = bounded(
        "fetch",
        http::get(&url, &limits(Duration::from_secs(10), MIB)),
    )
    .await;
    server.abort();
    assert_eq!(got, Ok(b"ok".to_vec()));
}

/// Headers, then body bytes forever: 64 KiB blocks, with `pause` between
/// them (zero = as fast as the socket takes them).
async fn endless_body_server(chunked: bool, pause: Duration) -> (u16, JoinHandle<()>) {
    serve(move |mut s, _| async move {
        if read_request(&mut s).await.is_none() {
            return;
        }
        let head: &[u8] = if chunked {
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\n\r\n"
        };
        if s.write_all(head).await.is_err() {
            return;
        }
        let block = if chunked {
            [b"10000\r\n".as_slice(), &[0x42; 0x10000], b"\r\n"].concat()
        } else {
            vec![0x42; 0x10000]
        };
        loop {
            if s.write_all(&block).await.is_err() {
                return;
            }
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
        }
    })
    .await
}

#[tokio::test]
async fn endless_body_is_too_large_quickly() {
    for chunked in [false, true] {
        let (port, server) = endless_body_server(chunked, Duration::ZERO).await;
        let url = format!("http://127.0.0.1:{port}/huge.crl");
        let started = Instant::now();
        let got = bounded(
            "fetch",
            http::get(&url, &limits(Duration::from_secs(20), MIB)),
        )
        .await;
        let elapsed = started.elapsed();
        server.abort();
        assert_eq!(got, Err(FetchError::TooLarge(MIB)), "chunked={chunked}");
        assert!(
            elapsed < Duration::from_secs(5),
            "chunked={chunked}: {elapsed:?}"
        );
    }
}

#[tokio::test]
async fn endless_body_with_a_huge_cap_times_out() {
    let timeout = Duration::from_millis(1500);
    // Throttled (about 6 MB/s) so the body stays small in memory.
    let (port, server) = endless_body_server(false, Duration::from_millis(10)).await;
    let url = format!("http://127.0.0.1:{port}/huge.crl");
    let started = Instant::now();
    let got = bounded("fetch", http::get(&url, &limits(timeout, 1 << 40))).await;
    let elapsed = started.elapsed();
    server.abort();
    match got {
        Err(FetchError::Timeout(m)) => {
            assert!(
                m.starts_with(&format!(
                    "no complete response from {url} within 1.5s (got "
                )),
                "{m}"
            );
            assert!(m.ends_with(" bytes)"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        elapsed >= timeout - Duration::from_millis(50),
        "{elapsed:?}"
    );
    assert!(elapsed < timeout + Duration::from_secs(1), "{elapsed:?}");
}

#[tokio::test]
async fn announced_huge_content_length_fails_without_reading() {
    let (port, server) = serve(|mut s, _| async move {
        if read_request(&mut s).await.is_some() {
            let _ = s
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\nthe first few bytes",
                )
                .await;
        }
        hold(s).await;
    })
    .await;
    let url = format!("http://127.0.0.1:{port}/big.crl");
    let started = Instant::now();
    let got = bounded(
        "fetch",
        http::get(&url, &limits(Duration::from_secs(20), 10 * MIB)),
    )
    .await;
    let elapsed = started.elapsed();
    server.abort();
    assert_eq!(got, Err(FetchError::TooLarge(10 * MIB)));
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test]
async fn exactly_the_cap_is_fine_one_more_is_not() {
    let (port, server) = serve(|mut s, n| async move {
        if read_request(&mut s).await.is_some() {
            // First a Content-Length body, then the same sizes read to EOF.
            let (len, framed) =
                [(1000, true), (1001, true), (1000, false), (1001, false)][n.min(3)];
            let head = if framed {
                format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n")
            } else {
                "HTTP/1.1 200 OK\r\n\r\n".to_string()
            };
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(&vec![7u8; len]).await;
        }
    })
    .await;
    let url = format!("http://127.0.0.1:{port}/");
    let l = limits(Duration::from_secs(10), 1000);
    for expect_ok in [true, false, true, false] {
        let got = bounded("fetch", http::get(&url, &l)).await;
        if expect_ok {
            assert_eq!(got.map(|b| b.len()), Ok(1000));
        } else {
            assert_eq!(got, Err(FetchError::TooLarge(1000)));
        }
    }
    server.abort();
}

#[tokio::test]
async fn silent_server_times_out() {
    let timeout = Duration::from_secs(1);
    let (port, server) = serve(|s, _| hold(s)).await;
    let url = format!("http://127.0.0.1:{port}/ocsp");
    let started = Instant::now();
    let got = bounded("fetch", http::get(&url, &limits(timeout, MIB))).await;
    let elapsed = started.elapsed();
    server.abort();
    match got {
        Err(FetchError::Timeout(m)) => {
            assert!(m.contains(&url) && m.contains("within 1s"), "{m}");
            assert!(m.contains("no complete response headers"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        elapsed >= timeout - Duration::from_millis(50),
        "{elapsed:?}"
    );
    assert!(elapsed < timeout + Duration::from_secs(1), "{elapsed:?}");
}

#[tokio::test]
async fn endless_headers_are_io() {
    let (port, server) = serve(|mut s, _| async move {
        if read_request(&mut s).await.is_none() {
            return;
        }
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\n").await;
        while s
            .write_all(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n")
            .await
            .is_ok()
        {}
    })
    .await;
    let url = format!("http://127.0.0.1:{port}/");
    let got = bounded(
        "fetch",
        http::get(&url, &limits(Duration::from_secs(10), MIB)),
    )
    .await;
    server.abort();
    match got {
        Err(FetchError::Io(m)) => assert!(m.contains("64 KiB"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn not_http_is_io() {
    let (port, server) = serve(|mut s, _| async move {
        let _ = s.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await;
        hold(s).await;
    })
    .await;
    let url = format!("http://127.0.0.1:{port}/");
    let got = bounded(
        "fetch",
        http::get(&url, &limits(Duration::from_secs(10), MIB)),
    )
    .await;
    server.abort();
    match got {
        Err(FetchError::Io(m)) => assert!(m.contains("not an HTTP/1.x response: SSH-2.0"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn connection_refused_is_io() {
    // Bind to learn a free port, then close it.
    let (listener, port) = listen().await;
    drop(listener);
    let url = format!("http://127.0.0.1:{port}/ca.der");
    let got = bounded(
        "fetch",
        http::get(&url, &limits(Duration::from_secs(10), MIB)),
    )
    .await;
    match got {
        Err(FetchError::Io(m)) => assert!(m.contains("refused") && m.contains(&url), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn bad_urls_are_rejected_before_any_io() {
    let l = limits(Duration::from_secs(5), MIB);
    for url in [
        "https://127.0.0.1/ca.der",
        "ldap://x/cn=y",
        "not a url",
        "http://h/\u{1b}[2J",
    ] {
        match bounded("fetch", http::get(url, &l)).await {
            Err(FetchError::BadUrl(m)) => assert!(!m.contains('\u{1b}'), "{m}"),
            other => panic!("{url}: {other:?}"),
        }
    }
    match bounded(
        "post",
        http::post("https://x/", "application/ocsp-request", b"", &l),
    )
    .await
    {
        Err(FetchError::BadUrl(m)) => assert!(m.contains("https://x/"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn post_echo() {
    let request: Vec<u8> = (0..=255u8).chain(b"\r\n\r\n".iter().copied()).collect();
    let expected = request.clone();
    let (port, server) = serve(move |mut s, _| {
        let expected = expected.clone();
        async move {
            let Some(req) = read_request(&mut s).await else { return };
            let ok = req.line() == "POST /ocsp HTTP/1.1"
                && req.header("content-type") == Some("application/ocsp-request")
                && req.header("content-length") == Some(expected.len().to_string().as_str())
                && req.body == expected;
            if !ok {
                let _ = s.write_all(bad_request()).await;
                return;
            }
            let mut reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: {}\r\n\r\n",
                req.body.len()
            )
            .into_bytes();
            reply.extend(req.body.iter().rev());
            let _ = s.write_all(&reply).await;
            hold(s).await;
        }
    })
    .await;
    let url = format!("http://127.0.0.1:{port}/ocsp");
    let got = bounded(
        "post",
        http::post(
            &url,
            "application/ocsp-request",
            &request,
            &limits(Duration::from_secs(10), MIB),
        ),
    )
    .await;
    server.abort();
    let mut reversed = request.clone();
    reversed.reverse();
    assert_eq!(got, Ok(reversed));
}

#[tokio::test]
async fn post_after_303_becomes_get_and_307_repeats_the_post() {
    let (port, server) = serve(|mut s, _| async move {
        let Some(req) = read_request(&mut s).await else {
            return;
        };
        let reply = match (req.line(), req.body.as_slice()) {
            ("POST /see-other HTTP/1.1", b"q") => {
                "HTTP/1.1 303 See Other\r\nLocation: /result\r\n\r\n"
            }
            ("GET /result HTTP/1.1", b"") => "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nget",
            ("POST /temp HTTP/1.1", b"q") => {
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: /again\r\n\r\n"
            }
            ("POST /again HTTP/1.1", b"q") => "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\npost",
            _ => "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
        };
        let _ = s.write_all(reply.as_bytes()).await;
    })
    .await;
    let l = limits(Duration::from_secs(10), MIB);
    let see_other = format!("http://127.0.0.1:{port}/see-other");
    let temp = format!("http://127.0.0.1:{port}/temp");
    let a = bounded("post", http::post(&see_other, "text/plain", b"q", &l)).await;
    let b = bounded("post", http::post(&temp, "text/plain", b"q", &l)).await;
    server.abort();
    assert_eq!(a, Ok(b"get".to_vec()));
    assert_eq!(b, Ok(b"post".to_vec()));
}

#[tokio::test]
async fn ipv6_literal_hosts() {
    // Skipped where the machine has no IPv6 loopback.
    let Ok(listener) = TcpListener::bind("[::1]:0").await else {
        return;
    };
    let Ok(port) = listener.local_addr().map(|a| a.port()) else {
        return;
    };
    let server = spawn_server(listener, move |mut s, _| async move {
        let Some(req) = read_request(&mut s).await else {
            return;
        };
        let reply: &[u8] = if req.header("host") == Some(format!("[::1]:{port}").as_str()) {
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv6"
        } else {
            bad_request()
        };
        let _ = s.write_all(reply).await;
    });
    let url = format!("http://[::1]:{port}/");
    let got = bounded(
        "fetch",
        http::get(&url, &limits(Duration::from_secs(10), MIB)),
    )
    .await;
    server.abort();
    assert_eq!(got, Ok(b"v6".to_vec()));
}
