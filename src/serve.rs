//! `--serve`: a small HTTP server with a live dashboard, Server-Sent Events,
//! Prometheus metrics and the state as JSON.
//!
//! Threads and channels, no async runtime: tiny_http accepts connections on
//! its own threads, `WORKERS` threads answer requests, and each `/events`
//! client gets a thread that writes its stream. The main loop owns nothing
//! here but a `Dashboard` handle: it hands over each batch (`count`), and
//! the monitor and the events it prints (`update`). Everything the server
//! answers comes from one `State` behind a mutex, held only to copy in or
//! out, never while writing to a socket.
//!
//! Invariants:
//! - An `/events` client sees the state, then every report, alert and
//!   recovery after it, each exactly once and in order: the first event is
//!   taken and the client registered under the same lock that broadcasts.
//! - A slow client never holds up the main loop: its queue is bounded, and
//!   when it is full the client is marked lagged; its thread then drops the
//!   queue and sends the current state instead, which the page applies
//!   like the first event.
//! - Log text reaches the page only as JSON data, and the page inserts it
//!   as text. The page is served with a strict Content-Security-Policy.

mod prom;
mod state;

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};
use tiny_http::{Header, Method, Request, Response, Server};

use crate::batch::Batch;
use crate::monitor::{Event, Monitor};

pub use state::{State, MAX_SECTION_SERIES};

/// Threads answering requests. Answers are small and built from memory, so
/// two are plenty; a second keeps the page responsive while one is busy.
const WORKERS: usize = 2;
/// Most `/events` clients at once; each costs a thread.
const MAX_CLIENTS: usize = 32;
/// Events queued for one client before it counts as lagged.
const CLIENT_QUEUE: usize = 256;
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
    inner: Mutex<Inner>,
    /// Whether the server listens on loopback only, where the `Host` header
    /// is checked (see `host_allowed`).
    loopback: bool,
}

struct Inner {
    state: State,
    clients: Vec<Client>,
}

/// One `/events` client, as the broadcaster sees it.
struct Client {
    tx: SyncSender<String>,
    lagged: Arc<AtomicBool>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere cannot leave the state half-updated in a way
        // that matters to a dashboard; keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Dashboard {
    /// Listen on `addr` and start answering. Fails when the address cannot
    /// be bound (in use, not local, no permission).
    pub fn start(addr: SocketAddr, window_secs: u32, threshold: f64) -> Result<Dashboard> {
        let server = Server::http(addr).map_err(|e| anyhow!("cannot listen on {addr}: {e}"))?;
        let bound = server
            .server_addr()
            .to_ip()
            .context("the server is not on an IP address")?;
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                state: State::new(window_secs, threshold),
                clients: Vec::new(),
            }),
            loopback: bound.ip().is_loopback(),
        });
        let server = Arc::new(server);
        for i in 0..WORKERS {
            let server = server.clone();
            let shared = shared.clone();
            thread::Builder::new()
                .name(format!("serve-{i}"))
                .spawn(move || {
                    // `recv` fails only when the server is gone.
                    while let Ok(request) = server.recv() {
                        answer(request, &shared);
                    }
                })
                .context("cannot start the server thread")?;
        }
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
        self.shared.lock().state.count(batch);
    }

    /// Take the monitor's gauges, then keep and broadcast `events`.
    pub fn update(&self, monitor: &Monitor, events: &[Event]) {
        let mut inner = self.shared.lock();
        let inner = &mut *inner;
        inner.state.observe(monitor);
        for event in events {
            if let Some(line) = inner.state.event(event) {
                broadcast(&mut inner.clients, &sse(&line));
            }
        }
    }
}

/// Queue `message` for every client. A full queue marks its client lagged
/// (it will resynchronise); a closed one removes it.
fn broadcast(clients: &mut Vec<Client>, message: &str) {
    clients.retain(|c| match c.tx.try_send(message.to_owned()) {
        Ok(()) => true,
        Err(TrySendError::Full(_)) => {
            c.lagged.store(true, Ordering::SeqCst);
            true
        }
        Err(TrySendError::Disconnected(_)) => false,
    });
}

/// One Server-Sent Events message carrying `data` (one line of JSON).
fn sse(data: &str) -> String {
    debug_assert!(!data.contains('\n'));
    format!("data: {data}\n\n")
}

/// Answer one request. Errors writing the answer mean the client has gone.
fn answer(request: Request, shared: &Arc<Shared>) {
    let host = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Host"))
        .map(|h| h.value.as_str().to_owned());
    if shared.loopback && !host.as_deref().is_some_and(host_allowed) {
        // A page on another site can point its own name at 127.0.0.1 (DNS
        // rebinding) and then read a loopback server as same-origin; such
        // requests carry that name in `Host`.
        let _ = request.respond(text(421, "unknown host: use an IP address or localhost\n"));
        return;
    }
    let path = request.url().split('?').next().unwrap_or("").to_owned();
    if !matches!(request.method(), Method::Get | Method::Head) {
        let response = text(405, "only GET and HEAD\n").with_header(header("Allow", "GET, HEAD"));
        let _ = request.respond(response);
        return;
    }
    let response = match path.as_str() {
        "/" => Response::from_string(INDEX_HTML)
            .with_header(header("Content-Type", "text/html; charset=utf-8"))
            .with_header(header("Referrer-Policy", "no-referrer")),
        "/app.js" => Response::from_string(APP_JS)
            .with_header(header("Content-Type", "text/javascript; charset=utf-8")),
        "/favicon.svg" => {
            Response::from_string(FAVICON_SVG).with_header(header("Content-Type", "image/svg+xml"))
        }
        "/app.css" => Response::from_string(APP_CSS)
            .with_header(header("Content-Type", "text/css; charset=utf-8")),
        "/api/state" => {
            let body = shared.lock().state.to_json().to_string();
            Response::from_string(body).with_header(header("Content-Type", "application/json"))
        }
        "/metrics" => {
            let body = shared.lock().state.metrics();
            Response::from_string(body).with_header(header("Content-Type", prom::CONTENT_TYPE))
        }
        "/events" if *request.method() == Method::Get => {
            subscribe(request, shared);
            return;
        }
        _ => text(404, "not found\n"),
    };
    // The policy on every answer: an SVG or JSON opened on its own is a
    // document too.
    let response = response
        .with_header(header("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .with_header(header("Cache-Control", "no-store"))
        .with_header(header("X-Content-Type-Options", "nosniff"));
    let _ = request.respond(response);
}

/// Start an `/events` stream: register the client and take the state under
/// one lock, then hand the connection to a thread of its own.
fn subscribe(request: Request, shared: &Arc<Shared>) {
    let (tx, rx) = mpsc::sync_channel(CLIENT_QUEUE);
    let lagged = Arc::new(AtomicBool::new(false));
    let first = {
        let mut inner = shared.lock();
        if inner.clients.len() >= MAX_CLIENTS {
            drop(inner);
            let _ = request.respond(text(503, "too many event streams\n"));
            return;
        }
        inner.clients.push(Client {
            tx,
            lagged: lagged.clone(),
        });
        sse(&inner.state.to_json().to_string())
    };
    // The stream has no length and ends when either side closes, so the
    // head is written by hand rather than by tiny_http, which would buffer
    // the body into chunks.
    let mut w = request.into_writer();
    let shared = shared.clone();
    let spawned = thread::Builder::new()
        .name("serve-events".into())
        .spawn(move || {
            let _ = stream(&mut *w, &first, &rx, &lagged, &shared);
        });
    // Without a thread the receiver is dropped, and the next broadcast
    // removes the client.
    drop(spawned);
}

/// Write an event stream until the client goes away.
fn stream(
    w: &mut dyn Write,
    first: &str,
    rx: &Receiver<String>,
    lagged: &AtomicBool,
    shared: &Shared,
) -> io::Result<()> {
    write!(
        w,
        "HTTP/1.1 200 OK\r\n\
         Content-Type: text/event-stream\r\n\
         Cache-Control: no-store\r\n\
         X-Content-Type-Options: nosniff\r\n\
         Connection: close\r\n\
         \r\n\
         retry: {RETRY_MS}\n\n{first}"
    )?;
    w.flush()?;
    loop {
        let message = match rx.recv_timeout(KEEPALIVE) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => ": keepalive\n\n".to_owned(),
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        };
        let message = if lagged.load(Ordering::SeqCst) {
            // Events were dropped: replace the queue by the state, under
            // the broadcaster's lock so nothing slips in between.
            let inner = shared.lock();
            while rx.try_recv().is_ok() {}
            lagged.store(false, Ordering::SeqCst);
            sse(&inner.state.to_json().to_string())
        } else {
            message
        };
        w.write_all(message.as_bytes())?;
        w.flush()?;
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

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("headers are ASCII constants")
}

fn text(status: u16, body: &str) -> Response<io::Cursor<Vec<u8>>> {
    Response::from_string(body)
        .with_status_code(status)
        .with_header(header("Content-Type", "text/plain; charset=utf-8"))
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
    fn a_full_client_queue_marks_it_lagged_and_a_closed_one_is_removed() {
        let (tx, _rx) = mpsc::sync_channel(1);
        let (gone_tx, gone_rx) = mpsc::sync_channel(1);
        drop(gone_rx);
        let lagged = Arc::new(AtomicBool::new(false));
        let mut clients = vec![
            Client {
                tx,
                lagged: lagged.clone(),
            },
            Client {
                tx: gone_tx,
                lagged: Arc::new(AtomicBool::new(false)),
            },
        ];
        broadcast(&mut clients, "a");
        assert_eq!(clients.len(), 1);
        assert!(!lagged.load(Ordering::SeqCst));
        broadcast(&mut clients, "b");
        assert!(lagged.load(Ordering::SeqCst));
        assert_eq!(clients.len(), 1);
    }
}
