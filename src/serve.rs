//! `--serve`: a small HTTP server with a live dashboard, Server-Sent Events,
//! Prometheus metrics and the state as JSON.
//!
//! The server runs on a thread of its own, on a current-thread tokio
//! runtime: hyper parses HTTP/1.1, and `conn` accepts, bounds and times out
//! connections (see its invariants: head size, connection count, timeouts,
//! accept errors). The main loop owns nothing here but a `Dashboard`
//! handle: it hands over each batch (`count`), and the monitor and the
//! events it prints (`update`). Everything the server answers comes from
//! one `State` behind a mutex, held only to copy in or out, never while
//! writing to a socket; events go out through a broadcast channel, whose
//! `send` never waits.
//!
//! Invariants:
//! - Request bodies are never read: a request that declares one is
//!   answered 413 and its connection closed.
//! - A request with two `Host` headers is answered 400; on loopback, a
//!   `Host` that is not an IP address or `localhost` is answered 421.
//! - At most `MAX_STREAMS` `/events` clients at once; more are answered 503.
//! - An `/events` client sees the state, then every report, alert and
//!   recovery after it, and a `second` event for each second the monitor
//!   closes after it, each exactly once and in order: it subscribes and
//!   takes the state under the lock that `update` broadcasts under.
//!   `second` events go to `/events` only, never to stdout.
//! - A slow client never holds up the main loop or other clients: when it
//!   falls `EVENT_QUEUE` events behind, it is sent the current state
//!   instead of what it missed, which the page applies like the first
//!   event.
//! - Log text reaches the page only as JSON data, and the page inserts it
//!   as text. Every answer carries a strict Content-Security-Policy.
//!
//! A hidden knob for tests: `LOGMON_SERVE_TIMEOUT_MS` shortens the idle,
//! head and write timeouts, so a test need not wait 10 s for them.

mod conn;
mod prom;
mod state;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};
use bytes::Bytes;
use http_body::Body as _;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::{mpsc, Semaphore};

use crate::batch::Batch;
use crate::monitor::{Event, Monitor};
use conn::{Body, Limits};

pub use conn::MAX_HEAD_BYTES;
pub use state::{State, MAX_SECTION_SERIES};

/// Most `/events` clients at once.
pub const MAX_STREAMS: usize = 64;
/// Connections the kernel holds until they are accepted: they wait there
/// while the server is full, and a burst of them is not refused when the
/// server thread is briefly off the CPU (the standard library's 128 is
/// soon reached).
const BACKLOG: u32 = 1024;
/// Events a client may fall behind before it is resynchronised.
const EVENT_QUEUE: usize = 256;
/// Messages waiting for one client's connection to take them.
const STREAM_QUEUE: usize = 4;
/// A comment line this often on an idle stream, so a client that went
/// away is noticed (the write fails) and proxies keep the stream open.
const KEEPALIVE: Duration = Duration::from_secs(15);
/// What the browser waits before reconnecting a dropped stream, in ms.
const RETRY_MS: u32 = 2000;

const INDEX_HTML: &str = include_str!("serve/page/index.html");
const APP_JS: &str = include_str!("serve/page/app.js");
const APP_CSS: &str = include_str!("serve/page/app.css");
const FAVICON_SVG: &str = include_str!("serve/page/favicon.svg");

/// The page's policy: nothing but its own script, style and event stream.
/// No inline script or style, no eval, no frames, no forms.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// Parse `--serve`: `IP:PORT`, `[IPv6]:PORT`, `localhost:PORT`, or `:PORT`
/// for the IPv4 loopback. Port 0 asks the system for a free port.
pub fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    let bad = || format!("`{s}` is not an address: use IP:PORT, [IPv6]:PORT or :PORT");
    if let Some(port) = s.strip_prefix(':') {
        let port: u16 = port.parse().map_err(|_| bad())?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    if let Some(port) = s.strip_prefix("localhost:") {
        let port: u16 = port.parse().map_err(|_| bad())?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    s.parse().map_err(|_| bad())
}

/// The main loop's handle on the running server.
pub struct Dashboard {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

struct Shared {
    state: Mutex<State>,
    /// Every report, alert, recovery and closed second as an SSE message,
    /// sent under the state's lock.
    events: broadcast::Sender<Bytes>,
    /// A permit per `/events` client.
    streams: Arc<Semaphore>,
    /// Whether the server listens on loopback only, where the `Host` header
    /// is checked (see `host_allowed`).
    loopback: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the state half-updated in a way
        // that matters to a dashboard; keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new subscription to the events and the state it starts from,
    /// taken together.
    fn subscribe(&self) -> (broadcast::Receiver<Bytes>, Bytes) {
        let state = self.lock();
        (self.events.subscribe(), sse(&state.to_json().to_string()))
    }
}

impl Dashboard {
    /// Listen on `addr` and start answering. Fails when the address cannot
    /// be bound (in use, not local, no permission).
    pub fn start(addr: SocketAddr, window_secs: u32, threshold: f64) -> Result<Dashboard> {
        // One thread is plenty for small answers built from memory, and it
        // leaves the other cores to the reader and the main loop.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .context("cannot start the server")?;
        let listener = runtime
            .block_on(async { listen(addr) })
            .map_err(|e| anyhow!("cannot listen on {addr}: {e}"))?;
        let bound = listener
            .local_addr()
            .context("the server has no local address")?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(window_secs, threshold)),
            events: broadcast::channel(EVENT_QUEUE).0,
            streams: Arc::new(Semaphore::new(MAX_STREAMS)),
            loopback: bound.ip().is_loopback(),
        });
        let handler = {
            let shared = shared.clone();
            move |request| answer(&request, &shared)
        };
        let mut limits = limits(std::env::var("LOGMON_SERVE_TIMEOUT_MS").ok().as_deref());
        // Counted once the runtime and the listener are open; the follower
        // opens the log after this, from the descriptors left spare.
        limits.connections = conn::connections_within(open_file_limit(), open_descriptors());
        thread::Builder::new()
            .name("serve".into())
            .spawn(move || runtime.block_on(conn::run(listener, limits, handler)))
            .context("cannot start the server thread")?;
        Ok(Dashboard {
            shared,
            addr: bound,
        })
    }

    /// The address the server listens on (with the real port for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Count a batch of lines read since start (not a backfilled one).
    pub fn count(&self, batch: &Batch) {
        self.shared.lock().count(batch);
    }

    /// Take the monitor's gauges, broadcast a `second` event for each
    /// second it closed, then keep and broadcast `events`.
    pub fn update(&self, monitor: &Monitor, events: &[Event]) {
        let mut state = self.shared.lock();
        let closed = state.observe(monitor);
        // Formatted only for someone: a replay closes seconds by the
        // thousand, usually with no page open.
        if self.shared.events.receiver_count() > 0 {
            for (at, hits) in closed {
                let _ = self.shared.events.send(sse(&state.second_json(at, hits)));
            }
        }
        for event in events {
            if let Some(line) = state.event(event) {
                // Fails only when no client listens.
                let _ = self.shared.events.send(sse(&line));
            }
        }
    }
}

/// A listener on `addr` (with the runtime's reactor).
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // As the standard library does: a restarted logmon can bind its port
    // again while old connections linger in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// The most descriptors this process may open (the soft limit), if any.
fn open_file_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

/// How many descriptors this process has open, or 0 when the system does
/// not list them (the spare ones then also cover those).
fn open_descriptors() -> u64 {
    // `/dev/fd` lists them on Linux (as `/proc/self/fd`) and the BSDs.
    std::fs::read_dir("/dev/fd").map_or(0, |fds| fds.count() as u64)
}

/// The server's limits, with the timeouts set to `timeout_ms` if given
/// (the hidden test knob).
fn limits(timeout_ms: Option<&str>) -> Limits {
    let mut limits = Limits::default();
    if let Some(ms) = timeout_ms.and_then(|ms| ms.parse().ok()) {
        let t = Duration::from_millis(ms);
        limits.idle = t;
        limits.head = t;
        limits.write = t;
    }
    limits
}

/// One Server-Sent Events message carrying `data` (one line of JSON).
fn sse(data: &str) -> Bytes {
    debug_assert!(!data.contains('\n'));
    format!("data: {data}\n\n").into()
}

/// Answer one request. The body, if any, is never read.
fn answer(request: &Request<Incoming>, shared: &Arc<Shared>) -> Response<Body> {
    let mut response = route(request, shared);
    // The policy on every answer: an SVG or JSON opened on its own is a
    // document too.
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn route(request: &Request<Incoming>, shared: &Arc<Shared>) -> Response<Body> {
    let mut hosts = request.headers().get_all(header::HOST).iter();
    let host = hosts.next();
    if hosts.next().is_some() {
        // Which one would a proxy in front have checked?
        return text(StatusCode::BAD_REQUEST, "more than one Host header\n");
    }
    let host = host.and_then(|h| h.to_str().ok());
    if shared.loopback && !host.is_some_and(host_allowed) {
        // A page on another site can point its own name at 127.0.0.1 (DNS
        // rebinding) and then read a loopback server as same-origin; such
        // requests carry that name in `Host`.
        return text(
            StatusCode::MISDIRECTED_REQUEST,
            "unknown host: use an IP address or localhost\n",
        );
    }
    if !request.body().is_end_stream() {
        // Nothing here takes a body: refuse it unread, and close the
        // connection rather than read what follows.
        let mut response = text(StatusCode::PAYLOAD_TOO_LARGE, "no request body here\n");
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    let method = request.method();
    if method != Method::GET && method != Method::HEAD {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    match request.uri().path() {
        "/" => {
            let mut response = ok("text/html; charset=utf-8", INDEX_HTML);
            response.headers_mut().insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            response
        }
        "/app.js" => ok("text/javascript; charset=utf-8", APP_JS),
        "/favicon.svg" => ok("image/svg+xml", FAVICON_SVG),
        "/app.css" => ok("text/css; charset=utf-8", APP_CSS),
        "/api/state" => {
            let body = shared.lock().to_json().to_string();
            ok("application/json", body)
        }
        "/metrics" => {
            let body = shared.lock().metrics();
            ok(prom::CONTENT_TYPE, body)
        }
        "/events" if method == Method::GET => subscribe(shared),
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

/// Start an `/events` stream, if there is room for one more.
fn subscribe(shared: &Arc<Shared>) -> Response<Body> {
    let Ok(slot) = shared.streams.clone().try_acquire_owned() else {
        return text(StatusCode::SERVICE_UNAVAILABLE, "too many event streams\n");
    };
    let (tx, rx) = mpsc::channel(STREAM_QUEUE);
    let (events, state) = shared.subscribe();
    let mut first = format!("retry: {RETRY_MS}\n\n").into_bytes();
    first.extend_from_slice(&state);
    let resync = {
        let shared = shared.clone();
        move || shared.subscribe()
    };
    tokio::spawn(forward(first.into(), events, tx, resync));
    let mut response = Response::new(Body::stream(rx, slot));
    set_type(&mut response, "text/event-stream");
    response
}

/// Feed one client's stream: `first`, then each event, a comment when
/// nothing happened for `KEEPALIVE`, and a fresh start from `resync`
/// (a new subscription and the state) when the client fell too far
/// behind. Ends when the client's connection is gone.
async fn forward<R>(
    first: Bytes,
    mut events: broadcast::Receiver<Bytes>,
    tx: mpsc::Sender<Bytes>,
    resync: R,
) where
    R: Fn() -> (broadcast::Receiver<Bytes>, Bytes),
{
    let mut next = first;
    loop {
        if tx.send(next).await.is_err() {
            return;
        }
        next = tokio::select! {
            received = events.recv() => match received {
                Ok(message) => message,
                Err(RecvError::Lagged(_)) => {
                    let (fresh, state) = resync();
                    events = fresh;
                    state
                }
                Err(RecvError::Closed) => return,
            },
            () = tokio::time::sleep(KEEPALIVE) => Bytes::from_static(b": keepalive\n\n"),
            () = tx.closed() => return,
        };
    }
}

/// Whether a `Host` header names this machine as a client on loopback
/// would: an IP address or `localhost`, with or without a port.
fn host_allowed(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        // `[::1]:9188`, `127.0.0.1:9188`, `localhost:9188`; a bare IPv6
        // address has colons but no brackets and is not a valid Host.
        Some((name, port)) if !name.is_empty() && port.parse::<u16>().is_ok() => name,
        _ => host,
    };
    let name = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok()
}

/// A 200 answer of `content_type`.
fn ok(content_type: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Body::full(body));
    set_type(&mut response, content_type);
    response
}

/// A plain-text answer with `status`.
fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut response = ok("text/plain; charset=utf-8", body);
    *response.status_mut() = status;
    response
}

fn set_type(response: &mut Response<Body>, content_type: &'static str) {
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_take_ip_port_ipv6_and_a_bare_port_for_loopback() {
        assert_eq!(
            parse_addr("127.0.0.1:9188"),
            Ok("127.0.0.1:9188".parse().unwrap())
        );
        assert_eq!(parse_addr("[::1]:9188"), Ok("[::1]:9188".parse().unwrap()));
        assert_eq!(parse_addr(":9188"), Ok("127.0.0.1:9188".parse().unwrap()));
        assert_eq!(parse_addr(":0"), Ok("127.0.0.1:0".parse().unwrap()));
        assert_eq!(
            parse_addr("localhost:80"),
            Ok("127.0.0.1:80".parse().unwrap())
        );
        assert_eq!(
            parse_addr("0.0.0.0:9188"),
            Ok("0.0.0.0:9188".parse().unwrap())
        );
    }

    #[test]
    fn bad_addresses_are_rejected_with_the_accepted_forms() {
        for bad in [
            "",
            "9188",
            ":",
            ":65536",
            ":-1",
            "127.0.0.1",
            "::1:9188",
            "host:9188",
            "1.2.3.4:x",
        ] {
            let e = parse_addr(bad).unwrap_err();
            assert!(e.contains("IP:PORT"), "{bad}: {e}");
        }
    }

    #[test]
    fn only_ip_and_localhost_hosts_reach_a_loopback_server() {
        for ok in [
            "127.0.0.1:9188",
            "127.0.0.1",
            "[::1]:9188",
            "[::1]",
            "localhost:9188",
            "LOCALHOST",
            "192.168.1.5:80",
        ] {
            assert!(host_allowed(ok), "{ok}");
        }
        for bad in [
            "evil.example:9188",
            "evil.example",
            "localhost.evil:1",
            "",
            ":9188",
        ] {
            assert!(!host_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn sse_messages_are_one_data_line_and_a_blank_line() {
        assert_eq!(sse("{\"a\":1}"), "data: {\"a\":1}\n\n");
    }

    #[test]
    fn the_policy_allows_no_inline_code_and_nothing_from_elsewhere() {
        let csp = CONTENT_SECURITY_POLICY;
        assert!(csp.starts_with("default-src 'none';"));
        assert!(csp.contains("script-src 'self';"));
        assert!(csp.contains("connect-src 'self';"));
        assert!(!csp.contains("unsafe"));
        assert!(!csp.contains("http"), "no other origin");
    }

    #[test]
    fn the_page_loads_nothing_from_another_origin_and_uses_no_html_sinks() {
        for asset in [INDEX_HTML, APP_JS, APP_CSS, FAVICON_SVG] {
            // The SVG namespace is a name, not something to load.
            let asset = asset
                .replace("'http://www.w3.org/2000/svg'", "")
                .replace("\"http://www.w3.org/2000/svg\"", "");
            assert!(!asset.contains("http://") && !asset.contains("https://"));
            assert!(!asset.contains("//cdn") && !asset.contains("@import"));
        }
        assert!(!INDEX_HTML.contains("<script>"), "no inline script");
        assert!(!INDEX_HTML.contains("<style") && !INDEX_HTML.contains("style="));
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!APP_JS.contains(sink), "app.js uses {sink}");
        }
    }

    #[test]
    fn the_test_knob_shortens_the_timeouts_but_not_the_stall_limit() {
        assert_eq!(limits(None), Limits::default());
        assert_eq!(limits(Some("x")), Limits::default());
        let short = limits(Some("300"));
        let t = Duration::from_millis(300);
        assert_eq!((short.idle, short.head, short.write), (t, t, t));
        // A stream is polled again when its next message is ready, at
        // least every KEEPALIVE: the stall limit must leave room for it.
        assert!(short.stall >= 2 * KEEPALIVE);
        assert_eq!(Limits::default().head, Duration::from_secs(10));
    }

    #[test]
    fn a_client_that_falls_behind_starts_again_from_the_state() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (events, _) = broadcast::channel(2);
            let source = events.clone();
            let resync = move || (source.subscribe(), Bytes::from("state"));
            let (subscription, first) = resync();
            let (tx, mut rx) = mpsc::channel(1);
            let task = tokio::spawn(forward(first, subscription, tx, resync));
            assert_eq!(rx.recv().await.unwrap(), "state");
            events.send(Bytes::from("a")).unwrap();
            assert_eq!(rx.recv().await.unwrap(), "a");
            // Three events into a queue of two: the first is lost.
            for m in ["b", "c", "d"] {
                events.send(Bytes::from(m)).unwrap();
            }
            assert_eq!(rx.recv().await.unwrap(), "state");
            events.send(Bytes::from("e")).unwrap();
            assert_eq!(rx.recv().await.unwrap(), "e");
            // The client goes away: the task ends.
            drop(rx);
            task.await.unwrap();
        });
    }
}
