//! Connections: accept them, bound them, time them out, and close the
//! idle ones first when the server is full. What a request is answered
//! with is not decided here (`serve` passes a handler).
//!
//! Everything runs on one thread, on a current-thread tokio runtime that
//! `serve` owns; hyper parses HTTP/1.1 and writes the answers.
//!
//! Invariants, whatever clients do:
//! - A request head is at most `MAX_HEAD_BYTES` (hyper answers 431 and
//!   closes past it), so a connection holds a bounded buffer.
//! - At most `Limits::connections` connections are open: 256, fewer under
//!   a low open-file limit, so that the rest of logmon always finds a
//!   descriptor for the log and its rotations (`connections_within`).
//!   When a new one arrives at the limit, the connection that has waited
//!   longest for a request (idle, or sending a head) is closed to make
//!   room; when every connection is answering, the new one waits in the
//!   listen queue.
//! - A connection is never closed to make room before its socket has been
//!   read once (`Phase::New`): a request that came with its connection is
//!   answered, not mistaken for an idle client and reset.
//! - Every connection has a deadline for the phase it is in (`deadline`):
//!   idle, sending a head, being answered, or streaming events to a
//!   client that stopped reading. Past it, the connection is closed.
//! - An accept error never ends the listener: a lack of file descriptors
//!   closes the oldest waiting connection before the accept is retried;
//!   with none to close, the retry waits a pause that doubles up to
//!   `MAX_BACKOFF` while the errors last.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::{ready, Future};
use std::io;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Notify, OwnedSemaphorePermit, Semaphore};

/// The largest request head (request line and headers), in bytes.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Most open connections when descriptors are plenty.
const MAX_CONNECTIONS: usize = 256;
/// Descriptors the server leaves to the rest of logmon (the log, rotated
/// files still being drained, inotify, pipes), or half of those free when
/// the open-file limit is lower.
const SPARE_DESCRIPTORS: u64 = 64;
/// The longest pause between two accepts that keep failing.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// The first pause after an accept error that freed nothing.
const FIRST_BACKOFF: Duration = Duration::from_millis(10);

/// What the server allows each client.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Most open connections.
    pub connections: usize,
    /// How long a connection may stay open without sending a byte of a
    /// request: after it opens, or after its previous answer.
    pub idle: Duration,
    /// How long a request head may take, from its first byte.
    pub head: Duration,
    /// How long an answer (not an event stream) may take to be written.
    pub write: Duration,
    /// How long an event stream may go without the client taking any of
    /// it. Streams send a comment at least every 15 s, so a reading client
    /// never comes near.
    pub stall: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            connections: MAX_CONNECTIONS,
            idle: Duration::from_secs(5),
            head: Duration::from_secs(10),
            write: Duration::from_secs(10),
            stall: Duration::from_secs(60),
        }
    }
}

/// Most connections for a process that may open `limit` descriptors and
/// has `open` open: `MAX_CONNECTIONS`, but never so many that fewer than
/// `SPARE_DESCRIPTORS` (or half of the free ones) remain. Connections take
/// descriptors first come, first served, and the follower needs one to
/// open the log at start or a file after a rotation: without the spare
/// ones, idle clients would make it fail (and at start, end logmon). No
/// limit (`None`) leaves `MAX_CONNECTIONS`; there is always room for one.
pub fn connections_within(limit: Option<u64>, open: u64) -> usize {
    let Some(limit) = limit else {
        return MAX_CONNECTIONS;
    };
    let free = limit.saturating_sub(open);
    let spare = SPARE_DESCRIPTORS.min(free / 2);
    // One more is held by the accept loop while it waits for room.
    let fit = free.saturating_sub(spare).saturating_sub(1);
    usize::try_from(fit)
        .unwrap_or(MAX_CONNECTIONS)
        .clamp(1, MAX_CONNECTIONS)
}

/// Where a connection is in its life, for its deadline and for eviction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Accepted, its socket not read yet: whether the client has already
    /// sent a request is not known, so it is not closed to make room.
    New,
    /// Open with no request under way: nothing sent yet, or between
    /// requests.
    Idle,
    /// Some bytes of a request head have arrived.
    Head,
    /// A request is being answered.
    Busy,
    /// An event stream is being written.
    Stream,
}

impl Phase {
    /// Whether the connection waits for its client rather than the other
    /// way round: such a connection is the first to close when full.
    fn waiting(self) -> bool {
        matches!(self, Phase::Idle | Phase::Head)
    }
}

/// When a connection that entered `phase` at `since` must be closed. For
/// a stream, `since` is when the client last took some of it.
pub fn deadline(phase: Phase, since: Instant, limits: &Limits) -> Instant {
    since
        + match phase {
            Phase::New | Phase::Idle => limits.idle,
            Phase::Head => limits.head,
            Phase::Busy => limits.write,
            Phase::Stream => limits.stall,
        }
}

/// Of `(key, phase, since)`, the key of the connection that has waited
/// longest for its client, if any is waiting.
pub fn oldest_waiting<K>(conns: impl IntoIterator<Item = (K, Phase, Instant)>) -> Option<K> {
    conns
        .into_iter()
        .filter(|(_, phase, _)| phase.waiting())
        .min_by_key(|&(_, _, since)| since)
        .map(|(key, _, _)| key)
}

/// One connection's phase, shared by its task, its socket, its answer's
/// body and the registry.
#[derive(Debug)]
pub struct Activity {
    state: Mutex<(Phase, Instant)>,
    close: Notify,
}

impl Activity {
    fn new(now: Instant) -> Activity {
        Activity {
            state: Mutex::new((Phase::New, now)),
            close: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, (Phase, Instant)> {
        // Two plain values: a panic elsewhere cannot leave them torn.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self) -> (Phase, Instant) {
        *self.lock()
    }

    fn set(&self, phase: Phase) {
        *self.lock() = (phase, Instant::now());
    }

    /// The socket was read, and `bytes` arrived or not. With bytes, a new
    /// or idle connection has started a request head; without, a new one
    /// is idle, counted from when it opened.
    fn read(&self, bytes: bool) {
        let mut state = self.lock();
        match (state.0, bytes) {
            (Phase::New | Phase::Idle, true) => *state = (Phase::Head, Instant::now()),
            (Phase::New, false) => state.0 = Phase::Idle,
            _ => {}
        }
    }

    /// The client took some of a stream.
    fn touch(&self) {
        let mut state = self.lock();
        if state.0 == Phase::Stream {
            state.1 = Instant::now();
        }
    }
}

/// Open connections, for eviction.
#[derive(Debug, Default)]
struct Registry {
    next: AtomicU64,
    conns: Mutex<HashMap<u64, Arc<Activity>>>,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<Activity>>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn add(&self, activity: Arc<Activity>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, activity);
        id
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    fn any_new(&self) -> bool {
        self.lock().values().any(|a| a.get().0 == Phase::New)
    }

    /// Close the connection that has waited longest for its client, once
    /// every connection has been read. Returns whether there was one.
    async fn evict(&self) -> bool {
        // A new connection's task reads its socket when it first runs, and
        // a yield lets the runtime run the tasks waiting (dozens per
        // yield). Bounded, so that the accept loop cannot spin.
        for _ in 0..16 {
            if !self.any_new() {
                break;
            }
            tokio::task::yield_now().await;
        }
        self.close_oldest_waiting()
    }

    fn close_oldest_waiting(&self) -> bool {
        let conns = self.lock();
        let oldest = oldest_waiting(conns.iter().map(|(&id, a)| {
            let (phase, since) = a.get();
            (id, phase, since)
        }));
        match oldest.and_then(|id| conns.get(&id)) {
            Some(activity) => {
                // Stored if the task is not waiting yet: it closes as soon
                // as it looks.
                activity.close.notify_one();
                true
            }
            None => false,
        }
    }
}

/// An answer's body: a whole buffer, or an event stream fed by a channel.
/// When the body is dropped (written, or abandoned with its connection),
/// the connection is idle again and a stream gives back its slot.
#[derive(Debug)]
pub struct Body {
    kind: Kind,
    activity: Option<Arc<Activity>>,
}

#[derive(Debug)]
enum Kind {
    Full(Option<Bytes>),
    Stream {
        rx: mpsc::Receiver<Bytes>,
        _slot: OwnedSemaphorePermit,
    },
}

impl Body {
    /// A body of `bytes`, sent with its length.
    pub fn full(bytes: impl Into<Bytes>) -> Body {
        Body {
            kind: Kind::Full(Some(bytes.into())),
            activity: None,
        }
    }

    /// A body that sends what arrives on `rx` until it closes, holding
    /// `slot` as long as it lives.
    pub fn stream(rx: mpsc::Receiver<Bytes>, slot: OwnedSemaphorePermit) -> Body {
        Body {
            kind: Kind::Stream { rx, _slot: slot },
            activity: None,
        }
    }

    fn is_stream(&self) -> bool {
        matches!(self.kind, Kind::Stream { .. })
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        if let Some(activity) = &self.activity {
            activity.set(Phase::Idle);
        }
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        match &mut this.kind {
            Kind::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Kind::Stream { rx, .. } => {
                // hyper asks for more only once it has room for it: the
                // client is taking the stream.
                if let Some(activity) = &this.activity {
                    activity.touch();
                }
                rx.poll_recv(cx).map(|m| m.map(|b| Ok(Frame::data(b))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.kind, Kind::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Kind::Full(None) => SizeHint::with_exact(0),
            Kind::Stream { .. } => SizeHint::default(),
        }
    }
}

/// A socket that tells its connection's `Activity` when bytes arrive.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.stream).poll_read(cx, buf);
        self.activity.read(buf.filled().len() > before);
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Where connections come from: a listener, or in tests one that fails
/// as a full descriptor table would.
pub trait Accept {
    /// The next connection.
    fn accept(&mut self) -> impl Future<Output = io::Result<TcpStream>>;
}

impl Accept for TcpListener {
    async fn accept(&mut self) -> io::Result<TcpStream> {
        TcpListener::accept(self).await.map(|(stream, _)| stream)
    }
}

/// Accept connections on `listener` forever and answer each request with
/// `handler`.
pub async fn run<L, H>(mut listener: L, limits: Limits, handler: H)
where
    L: Accept,
    H: Fn(Request<Incoming>) -> Response<Body> + Send + Sync + 'static,
{
    let handler = Arc::new(handler);
    let registry = Arc::new(Registry::default());
    let room = Arc::new(Semaphore::new(limits.connections));
    let mut backoff = FIRST_BACKOFF;
    loop {
        let stream = match listener.accept().await {
            Ok(stream) => {
                backoff = FIRST_BACKOFF;
                stream
            }
            Err(e) => {
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::Interrupted
                ) {
                    // That one connection is gone; the next is fine.
                    continue;
                }
                // Out of file descriptors or memory: close a connection
                // that waits for its client if there is one (its task runs
                // before this one does again), else pause and let the rest
                // of the process run.
                if registry.evict().await {
                    tokio::task::yield_now().await;
                } else {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                continue;
            }
        };
        let permit = match room.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                registry.evict().await;
                // The evicted connection gives its place back at once;
                // with none to evict, wait for an answer to finish.
                match room.clone().acquire_owned().await {
                    Ok(permit) => permit,
                    // The semaphore is never closed.
                    Err(_) => continue,
                }
            }
        };
        let activity = Arc::new(Activity::new(Instant::now()));
        let id = registry.add(activity.clone());
        let registry = registry.clone();
        let handler = handler.clone();
        let limits = limits.clone();
        tokio::spawn(async move {
            connection(stream, &activity, &limits, handler).await;
            registry.remove(id);
            drop(permit);
        });
    }
}

/// Serve one connection until it ends, is evicted or passes its deadline.
async fn connection<H>(
    stream: TcpStream,
    activity: &Arc<Activity>,
    limits: &Limits,
    handler: Arc<H>,
) where
    H: Fn(Request<Incoming>) -> Response<Body> + Send + Sync + 'static,
{
    let io = TokioIo::new(Watched {
        stream,
        activity: activity.clone(),
    });
    let service = {
        let activity = activity.clone();
        service_fn(move |request| {
            activity.set(Phase::Busy);
            let mut response = handler(request);
            let body = response.body_mut();
            if body.is_stream() {
                activity.set(Phase::Stream);
            }
            body.activity = Some(activity.clone());
            ready(Ok::<_, Infallible>(response))
        })
    };
    let mut http = http1::Builder::new();
    http.max_buf_size(MAX_HEAD_BYTES)
        .max_header_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    let mut conn = pin!(http.serve_connection(io, service));
    loop {
        let (phase, since) = activity.get();
        let due = deadline(phase, since, limits);
        tokio::select! {
            // Errors are the client's (a bad request, a reset): hyper has
            // answered what can be answered.
            _ = conn.as_mut() => return,
            _ = activity.close.notified() => return,
            _ = tokio::time::sleep_until(due.into()) => {
                // The phase may have moved on meanwhile.
                let (phase, since) = activity.get();
                if Instant::now() >= deadline(phase, since, limits) {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn each_phase_has_its_own_deadline() {
        let limits = Limits::default();
        let t = Instant::now();
        assert_eq!(deadline(Phase::Idle, t, &limits), t + limits.idle);
        assert_eq!(deadline(Phase::Head, t, &limits), t + limits.head);
        assert_eq!(deadline(Phase::Busy, t, &limits), t + limits.write);
        assert_eq!(deadline(Phase::Stream, t, &limits), t + limits.stall);
        assert_eq!(limits.head, Duration::from_secs(10));
    }

    #[test]
    fn the_connection_waiting_longest_for_its_client_goes_first() {
        let t = Instant::now();
        let s = Duration::from_secs(1);
        let conns = [
            ("old stream", Phase::Stream, t),
            ("old answer", Phase::Busy, t + s),
            ("slow head", Phase::Head, t + 2 * s),
            ("idle", Phase::Idle, t + 3 * s),
        ];
        assert_eq!(oldest_waiting(conns), Some("slow head"));
        assert_eq!(oldest_waiting(conns[..2].iter().copied()), None);
        assert_eq!(oldest_waiting(conns[3..].iter().copied()), Some("idle"));
    }

    #[test]
    fn a_connection_not_read_yet_is_not_closed_to_make_room() {
        let t = Instant::now();
        let a = Activity::new(t);
        assert_eq!(a.get(), (Phase::New, t));
        assert_eq!(oldest_waiting([("new", Phase::New, t)]), None);
        // Read with nothing there: idle since it opened.
        a.read(false);
        assert_eq!(a.get(), (Phase::Idle, t));
    }

    #[test]
    fn bytes_start_a_head_only_on_an_idle_connection() {
        let a = Activity::new(Instant::now());
        a.read(true);
        assert_eq!(a.get().0, Phase::Head, "a request came with it");
        a.set(Phase::Idle);
        a.read(false);
        assert_eq!(a.get().0, Phase::Idle);
        a.read(true);
        assert_eq!(a.get().0, Phase::Head);
        a.set(Phase::Busy);
        a.read(true);
        assert_eq!(a.get().0, Phase::Busy, "a pipelined request waits");
        a.touch();
        assert_eq!(a.get().0, Phase::Busy);
    }

    #[test]
    fn a_low_open_file_limit_leaves_descriptors_to_the_rest_of_logmon() {
        assert_eq!(connections_within(None, 10), 256);
        assert_eq!(connections_within(Some(1024), 10), 256);
        // 502 free: 64 spare, one for the accept loop, 256 at most.
        assert_eq!(connections_within(Some(512), 10), 256);
        assert_eq!(connections_within(Some(300), 10), 225);
        // 40 free: half of them spare.
        assert_eq!(connections_within(Some(48), 8), 19);
        assert_eq!(connections_within(Some(8), 8), 1, "always one");
        assert_eq!(connections_within(Some(5), 8), 1);
        assert_eq!(connections_within(Some(u64::MAX), 0), 256);
    }

    /// A listener whose accepts fail with EMFILE while `errors` is above
    /// 0, the connection staying queued meanwhile as in the kernel.
    struct Crowded {
        listener: TcpListener,
        errors: Arc<AtomicUsize>,
        queued: Option<TcpStream>,
    }

    impl Accept for Crowded {
        async fn accept(&mut self) -> io::Result<TcpStream> {
            let stream = match self.queued.take() {
                Some(stream) => stream,
                None => self.listener.accept().await?.0,
            };
            if self.errors.load(Ordering::SeqCst) > 0 {
                self.errors.fetch_sub(1, Ordering::SeqCst);
                self.queued = Some(stream);
                return Err(rustix::io::Errno::MFILE.into());
            }
            Ok(stream)
        }
    }

    /// `run` answering "ok" on a thread of its own, behind `Crowded`.
    fn crowded_server(errors: Arc<AtomicUsize>) -> std::net::SocketAddr {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .enable_time()
                .build()
                .unwrap();
            runtime.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let crowded = Crowded {
                    listener,
                    errors,
                    queued: None,
                };
                // No timeout closes a connection during the test.
                let limits = Limits {
                    idle: Duration::from_secs(60),
                    ..Limits::default()
                };
                run(crowded, limits, |_| Response::new(Body::full("ok"))).await;
            });
        });
        rx.recv().unwrap()
    }

    /// Whether a GET on `s` (kept alive) is answered.
    fn answered(s: &mut std::net::TcpStream) -> bool {
        use std::io::{Read, Write};
        if s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").is_err() {
            return false;
        }
        let mut got = Vec::new();
        let mut buf = [0; 1024];
        while !got.ends_with(b"\r\n\r\nok") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return false,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        got.starts_with(b"HTTP/1.1 200")
    }

    #[test]
    fn an_accept_out_of_descriptors_closes_the_oldest_idle_connection_and_goes_on() {
        use std::io::Read;
        let errors = Arc::new(AtomicUsize::new(0));
        let addr = crowded_server(errors.clone());
        let connect = || {
            let s = std::net::TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            s
        };
        // Nothing to close: the accept is tried again after 10 and 20 ms.
        errors.store(2, Ordering::SeqCst);
        let mut first = connect();
        assert!(answered(&mut first));
        let mut second = connect();
        assert!(answered(&mut second));
        // Both idle, `first` for longer: it makes room for `third`.
        errors.store(1, Ordering::SeqCst);
        let mut third = connect();
        assert!(answered(&mut third));
        assert_eq!(first.read(&mut [0; 1]).unwrap(), 0, "first closed");
        assert!(answered(&mut second), "second still served");
        assert!(answered(&mut third));
    }

    #[test]
    fn a_full_body_has_an_exact_length_and_one_frame() {
        let body = Body::full("abc");
        assert_eq!(http_body::Body::size_hint(&body).exact(), Some(3));
        assert!(!http_body::Body::is_end_stream(&body));
    }
}
