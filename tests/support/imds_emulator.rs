//! A loopback-only emulator of the EC2 Instance Metadata Service (IMDS), for tests.
//!
//! Include it from an integration test with
//! `#[path = "support/imds_emulator.rs"] mod imds_emulator;`.
//!
//! The emulator listens on `127.0.0.1:<random port>` and behaves as an HTTP proxy that only
//! knows one upstream: the metadata service. Point `http_proxy` / `HTTP_PROXY` at
//! [`Emulator::proxy_url`] and curl, wget and the scripts that call them reach it exactly as they
//! would reach `http://169.254.169.254/` on an instance. It never opens an outbound connection:
//! a request for any other host gets `502 Bad Gateway`.
//!
//! Behaviour follows `/work/shared/IMDS.md` (the IMDSv2 session and its error answers):
//!
//! | request | answer |
//! |---|---|
//! | `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds: N`, `1 <= N <= 21600` | 200, body = a fresh token (one line, no newline) |
//! | same, TTL missing / 0 / > 21600 / not a number | 400 |
//! | same, carrying `X-Forwarded-For` | 403 |
//! | any other method on `/latest/api/token` | 405 |
//! | any other path with an empty, unknown or expired `X-aws-ec2-metadata-token` | 401 (both modes) |
//! | any other path without a token | [`Mode::Optional`]: answered; [`Mode::Required`]: 401 |
//! | a method other than GET/HEAD on a metadata path | 405 |
//! | unknown path | 404 |
//! | malformed request | 400 (never a panic) |
//! | host that is not the metadata endpoint, or `CONNECT` | 502 |
//!
//! Endpoint hosts: `169.254.169.254`, `[fd00:ec2::254]` (any spelling of that address),
//! `instance-data`, `instance-data.ec2.internal`, each optionally with `:80`. Requests may come
//! in absolute form (`GET http://169.254.169.254/latest/meta-data/ HTTP/1.1`, what a client sends
//! to a proxy) or origin form (`GET /latest/meta-data/ HTTP/1.1` plus `Host:`).
//!
//! A token header that is present but empty is an invalid token (401): AWS documents 401 for an
//! invalid token in either mode and says nothing of an empty one, SDKs take care never to send
//! one, and a client that did reports 401. So only a header that is not sent at all is tokenless.
//!
//! Every response is HTTP/1.1 with `Content-Length` and `Connection: close`; the connection is
//! closed after one exchange. Each connection is served on its own thread, with bounded reads
//! (16 KiB of head, 1 MiB of body, 2 s read timeout).
//!
//! [`Reach`] says how far a request gets before those rules apply, for the places a script runs
//! where the service does not answer ([`Emulator::start_reached`]): nothing listening
//! ([`Reach::Refused`]), a container behind hop limit 1 ([`Reach::PutLost`]), or a network that
//! swallows everything ([`Reach::Blackhole`]). A request read and never answered is logged with
//! status [`NO_ANSWER`]; its connection stays open until the client gives up or the emulator is
//! dropped.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The instance's `HttpTokens` setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `HttpTokens=optional`: tokenless (IMDSv1) requests are answered.
    Optional,
    /// `HttpTokens=required`: tokenless requests get 401.
    Required,
}

/// How far a request gets: whether the service's answers reach the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Every request is answered: an instance, or a container behind a hop limit of 2 or more.
    Answered,
    /// Nothing listens: every connection is refused at once, as off EC2 where nothing has the
    /// address, or where a firewall rejects it. The emulator holds a socket bound to its port that
    /// never listens, so no other server can take the port while the emulator lives.
    Refused,
    /// Every PUT is read and logged but never answered; everything else is answered. A container
    /// on a bridge network behind `HttpPutResponseHopLimit=1`: the token's answer dies one hop
    /// short, while GETs still work where tokens are optional.
    PutLost,
    /// Connections are accepted and requests read and logged, but nothing is ever answered: off
    /// EC2 on a network that swallows the packets, seen through the proxy (the connection
    /// succeeds, so only a client's limit on the whole transfer ends the wait).
    Blackhole,
}

/// The status logged for a request that was read and never answered.
pub const NO_ANSWER: u16 = 0;

/// One request as the emulator saw it, with the status it answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logged {
    /// Request method as sent (`GET`, `PUT`, ...). Empty if the request line was unreadable.
    pub method: String,
    /// Target host, lower-cased, port removed, IPv6 kept in brackets: `169.254.169.254`,
    /// `[fd00:ec2::254]`, `instance-data`. Empty if unknown (malformed request, no `Host`).
    pub host: String,
    /// Path and query as sent, without scheme and authority: `/latest/meta-data/instance-id`.
    pub path: String,
    /// Header fields in the order received, names as the client spelled them.
    pub headers: Vec<(String, String)>,
    /// Status code of the answer; [`NO_ANSWER`] for one never answered.
    pub status: u16,
}

impl Logged {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }
}

/// Token TTL bounds of the real service.
pub const MIN_TTL: u64 = 1;
pub const MAX_TTL: u64 = 21_600;

const MAX_HEAD: usize = 16 * 1024;
const MAX_LINE: usize = 8 * 1024;
const MAX_BODY: u64 = 1024 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(2);
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
const LINGER: Duration = Duration::from_millis(200);
/// How often a connection held unanswered checks whether the emulator is stopping.
const HOLD_POLL: Duration = Duration::from_millis(50);

struct Shared {
    mode: Mutex<Mode>,
    reach: Reach,
    log: Mutex<Vec<Logged>>,
    /// token -> expiry
    tokens: Mutex<HashMap<String, Instant>>,
    counter: AtomicU64,
    stop: AtomicBool,
    workers: Mutex<Vec<JoinHandle<()>>>,
    seed: u64,
}

/// A running emulator; dropping it stops the listener and joins its threads.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
    /// For [`Reach::Refused`]: the bound socket that keeps the port closed.
    _closed: Option<OwnedFd>,
}

impl Emulator {
    /// Binds `127.0.0.1:0` and serves on a background thread; every request is answered.
    pub fn start(mode: Mode) -> Emulator {
        Emulator::start_reached(mode, Reach::Answered)
    }

    /// An emulator whose answers get only as far as `reach` lets them. With [`Reach::Refused`]
    /// nothing listens at [`Emulator::addr`], and `mode` never matters.
    pub fn start_reached(mode: Mode, reach: Reach) -> Emulator {
        let shared = |addr: SocketAddr| {
            let seed = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0)
                ^ (u64::from(addr.port()) << 48)
                ^ u64::from(std::process::id());
            Arc::new(Shared {
                mode: Mutex::new(mode),
                reach,
                log: Mutex::new(Vec::new()),
                tokens: Mutex::new(HashMap::new()),
                counter: AtomicU64::new(0),
                stop: AtomicBool::new(false),
                workers: Mutex::new(Vec::new()),
                seed,
            })
        };
        if reach == Reach::Refused {
            let (closed, addr) = closed_port().expect("imds emulator: a closed loopback port");
            return Emulator {
                addr,
                shared: shared(addr),
                acceptor: None,
                _closed: Some(closed),
            };
        }
        let listener =
            TcpListener::bind(("127.0.0.1", 0)).expect("imds emulator: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("imds emulator: local_addr");
        let shared = shared(addr);
        let for_thread = Arc::clone(&shared);
        let acceptor = thread::Builder::new()
            .name(format!("imds-emulator-{}", addr.port()))
            .spawn(move || accept_loop(listener, for_thread))
            .expect("imds emulator: spawn accept thread");
        Emulator {
            addr,
            shared,
            acceptor: Some(acceptor),
            _closed: None,
        }
    }

    /// `http://127.0.0.1:PORT`, for `http_proxy` / `HTTP_PROXY`.
    pub fn proxy_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening address (always on 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request so far, in the order they were answered.
    pub fn log(&self) -> Vec<Logged> {
        lock(&self.shared.log).clone()
    }

    /// Forgets the log.
    pub fn clear_log(&self) {
        lock(&self.shared.log).clear();
    }

    /// Switches `HttpTokens` for later requests. Tokens already issued stay valid.
    pub fn set_mode(&self, mode: Mode) {
        *lock(&self.shared.mode) = mode;
    }

    pub fn mode(&self) -> Mode {
        *lock(&self.shared.mode)
    }

    pub fn reach(&self) -> Reach {
        self.shared.reach
    }
}

/// A TCP socket bound to a free loopback port and never listening: a connection to the port is
/// refused (reset), and no other socket can listen there or take it as a connection's own port
/// while this one holds it (a port left by a dropped listener could be taken by either).
fn closed_port() -> io::Result<(OwnedFd, SocketAddr)> {
    // SAFETY: `socket` returns a new descriptor or -1; a new one is owned by nobody else.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a valid descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: a zeroed `sockaddr_in` is valid (all its fields are plain integers).
    let mut address: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    address.sin_family = libc::AF_INET as libc::sa_family_t;
    address.sin_port = 0;
    address.sin_addr = libc::in_addr {
        s_addr: u32::from(Ipv4Addr::LOCALHOST).to_be(),
    };
    let mut length = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    let pointer = (&raw mut address).cast::<libc::sockaddr>();
    // SAFETY: `pointer` and `length` describe `address`, which outlives both calls.
    if unsafe { libc::bind(fd.as_raw_fd(), pointer, length) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above; `getsockname` writes at most `length` bytes into `address`.
    if unsafe { libc::getsockname(fd.as_raw_fd(), pointer, &mut length) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let port = u16::from_be(address.sin_port);
    Ok((fd, SocketAddr::from((Ipv4Addr::LOCALHOST, port))))
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let Some(acceptor) = self.acceptor.take() else {
            return; // Reach::Refused: no listener, no threads
        };
        // Wake the blocking accept() with a loopback connection to ourselves.
        let woke = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if woke || acceptor.is_finished() {
            let _ = acceptor.join();
        }
        let workers = std::mem::take(&mut *lock(&self.shared.workers));
        for worker in workers {
            let _ = worker.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn header_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn header_values<'a>(headers: &'a [(String, String)], name: &'a str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        match conn {
            Ok(stream) => {
                let for_worker = Arc::clone(&shared);
                let spawned = thread::Builder::new()
                    .name("imds-emulator-conn".into())
                    .spawn(move || handle_connection(stream, &for_worker));
                if let Ok(handle) = spawned {
                    let mut workers = lock(&shared.workers);
                    workers.retain(|h| !h.is_finished());
                    workers.push(handle);
                }
            }
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
    // `listener` is dropped here: the port is closed.
}

// ---------------------------------------------------------------------------------------------
// One connection

struct Response {
    status: u16,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    head_only: bool,
}

impl Response {
    fn ok(content_type: &'static str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status: 200,
            content_type,
            headers: Vec::new(),
            body: body.into(),
            head_only: false,
        }
    }

    /// An error page shaped like the real service's.
    fn error(status: u16) -> Response {
        let title = format!("{} - {}", status, reason(status));
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n\
             <!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n\
             \t\t \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n\
             <html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n \
             <head>\n  <title>{title}</title>\n </head>\n \
             <body>\n  <h1>{title}</h1>\n </body>\n</html>\n"
        );
        Response {
            status,
            content_type: "text/html",
            headers: Vec::new(),
            body: body.into_bytes(),
            head_only: false,
        }
    }

    fn bad_gateway(host: &str) -> Response {
        Response {
            status: 502,
            content_type: "text/plain",
            headers: Vec::new(),
            body: format!(
                "imds emulator: refusing to reach {host:?}: only the instance metadata endpoint is served"
            )
            .into_bytes(),
            head_only: false,
        }
    }

    fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        out.push_str("Server: EC2ws\r\n");
        out.push_str(&format!("Content-Type: {}\r\n", self.content_type));
        out.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str("Connection: close\r\n\r\n");
        let mut bytes = out.into_bytes();
        if !self.head_only {
            bytes.extend_from_slice(&self.body);
        }
        bytes
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        _ => "Unknown",
    }
}

fn handle_connection(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream);
    let mut entry = Logged {
        method: String::new(),
        host: String::new(),
        path: String::new(),
        headers: Vec::new(),
        status: 0,
    };
    let response = match serve(&mut reader, shared, &mut entry) {
        Some(Outcome::Answer(response)) => response,
        Some(Outcome::Hold) => {
            entry.status = NO_ANSWER;
            lock(&shared.log).push(entry);
            hold(reader.get_mut(), shared);
            return;
        }
        None => return, // the peer sent nothing at all: nothing to answer, nothing to log
    };
    entry.status = response.status;
    // Log before answering, so a client that has its answer always finds it in the log.
    lock(&shared.log).push(entry);
    let stream = reader.get_mut();
    let _ = stream.write_all(&response.to_bytes());
    let _ = stream.flush();
    linger_close(stream);
}

/// Keeps a connection open and unanswered until the client closes it or the emulator stops,
/// reading and dropping whatever the client still sends.
fn hold(stream: &mut TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(HOLD_POLL));
    let mut buf = [0u8; 4096];
    while !shared.stop.load(Ordering::SeqCst) {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
}

/// Half-close, then drain what the client still sends for a moment, so that closing
/// with unread input does not turn into a reset that destroys the answer.
fn linger_close(stream: &mut TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(LINGER));
    let deadline = Instant::now() + LINGER;
    let mut buf = [0u8; 4096];
    let mut drained = 0usize;
    while Instant::now() < deadline && drained < 256 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

/// Reads one request and decides the answer, or that there is none. `None`: the client closed
/// (or stayed silent) without sending a byte.
fn serve(
    reader: &mut BufReader<TcpStream>,
    shared: &Shared,
    entry: &mut Logged,
) -> Option<Outcome> {
    let blackhole = shared.reach == Reach::Blackhole;
    let answer = |status| {
        Some(if blackhole {
            Outcome::Hold
        } else {
            Outcome::Answer(Response::error(status))
        })
    };
    let head = match read_head(reader) {
        Ok(Some(head)) => head,
        Ok(None) => return None,
        Err(status) => return answer(status),
    };
    let request = match parse_head(&head, entry) {
        Ok(request) => request,
        Err(status) => return answer(status),
    };
    if blackhole || (shared.reach == Reach::PutLost && request.method == "PUT") {
        // Served as ever (a PUT's token is issued, the log names the host), never answered;
        // a body is left unread, so nothing is written, not even `100 Continue`.
        let _ = route(&request, shared, entry);
        return Some(Outcome::Hold);
    }
    if let Err(status) = read_body(reader, &request) {
        return Some(Outcome::Answer(Response::error(status)));
    }
    let mut response = route(&request, shared, entry);
    if request.method == "HEAD" {
        response.head_only = true;
    }
    Some(Outcome::Answer(response))
}

/// What becomes of one request.
enum Outcome {
    Answer(Response),
    /// Read, and never answered ([`Reach`]).
    Hold,
}

// ---------------------------------------------------------------------------------------------
// Reading and parsing

struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }
}

fn io_status(err: &io::Error) -> u16 {
    match err.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => 408,
        _ => 400,
    }
}

/// One line, at most `max` bytes including the newline, returned without CR/LF.
/// `Ok(None)` on a clean EOF before any byte.
fn read_line_bounded(reader: &mut impl BufRead, max: usize) -> Result<Option<Vec<u8>>, u16> {
    let mut line = Vec::new();
    let read = reader
        .by_ref()
        .take(max as u64)
        .read_until(b'\n', &mut line)
        .map_err(|e| io_status(&e))?;
    if read == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        // Either the line is longer than allowed or the peer hung up mid-line.
        return Err(400);
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(line))
}

/// The request line and header lines, each followed by `\n`, without the blank line.
fn read_head(reader: &mut impl BufRead) -> Result<Option<Vec<u8>>, u16> {
    let mut head = Vec::new();
    let mut consumed = 0usize;
    loop {
        let budget = MAX_HEAD.saturating_sub(consumed).min(MAX_LINE);
        if budget == 0 {
            return Err(400);
        }
        match read_line_bounded(reader, budget) {
            Ok(None) if consumed == 0 => return Ok(None),
            Ok(None) => return Err(400),
            Err(408) if consumed == 0 => return Ok(None),
            Err(status) => return Err(status),
            Ok(Some(line)) => {
                consumed += line.len() + 2;
                if line.is_empty() {
                    if head.is_empty() {
                        continue; // blank lines before the request line are tolerated (RFC 9112 §2.2)
                    }
                    return Ok(Some(head));
                }
                head.extend_from_slice(&line);
                head.push(b'\n');
            }
        }
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn parse_head(head: &[u8], entry: &mut Logged) -> Result<Request, u16> {
    let text = std::str::from_utf8(head).map_err(|_| 400u16)?;
    let mut lines = text.split('\n').filter(|l| !l.is_empty());
    let request_line = lines.next().ok_or(400u16)?;
    let mut parts = request_line.split(' ');
    let (method, target, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v), None) => (m, t, v),
        _ => return Err(400),
    };
    if method.is_empty() || !method.bytes().all(is_tchar) {
        return Err(400);
    }
    entry.method = method.to_string();
    if target.is_empty() || target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(400);
    }
    entry.path = target.to_string();
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(400);
    }
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':').ok_or(400u16)?;
        // Rejects empty names, "Name : v" and obsolete line folding (leading whitespace).
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(400);
        }
        let value = value.trim_matches(|c| c == ' ' || c == '\t');
        if value.bytes().any(|b| (b < b' ' && b != b'\t') || b == 0x7f) {
            return Err(400);
        }
        headers.push((name.to_string(), value.to_string()));
        entry.headers.push((name.to_string(), value.to_string()));
    }
    Ok(Request {
        method: method.to_string(),
        target: target.to_string(),
        headers,
    })
}

fn parse_content_length(request: &Request) -> Result<Option<u64>, u16> {
    let values = header_values(&request.headers, "content-length");
    let mut length = None;
    for value in values {
        if value.is_empty() || value.len() > 19 || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(400);
        }
        let n: u64 = value.parse().map_err(|_| 400u16)?;
        if length.is_some_and(|l| l != n) {
            return Err(400);
        }
        length = Some(n);
    }
    Ok(length)
}

/// Reads (and discards) the body announced by `Content-Length` or chunked encoding.
fn read_body(reader: &mut BufReader<TcpStream>, request: &Request) -> Result<u64, u16> {
    let length = parse_content_length(request)?;
    let chunked = match request.header("transfer-encoding") {
        None => false,
        Some(te) if te.eq_ignore_ascii_case("chunked") => true,
        Some(_) => return Err(501),
    };
    if chunked && length.is_some() {
        return Err(400);
    }
    if length.is_some_and(|n| n > MAX_BODY) {
        return Err(413);
    }
    let expects_body = chunked || length.is_some_and(|n| n > 0);
    if expects_body
        && request
            .header("expect")
            .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        let stream = reader.get_mut();
        stream
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .map_err(|e| io_status(&e))?;
    }
    if let Some(n) = length {
        return read_exact_discard(reader, n).map(|()| n);
    }
    if !chunked {
        return Ok(0);
    }
    let mut total = 0u64;
    loop {
        let line = read_line_bounded(reader, MAX_LINE)?.ok_or(400u16)?;
        let line = std::str::from_utf8(&line).map_err(|_| 400u16)?;
        let size = line.split(';').next().unwrap_or("").trim();
        if size.is_empty() || size.len() > 15 {
            return Err(400);
        }
        let size = u64::from_str_radix(size, 16).map_err(|_| 400u16)?;
        if size == 0 {
            // Trailer section, up to the blank line.
            for _ in 0..64 {
                match read_line_bounded(reader, MAX_LINE)? {
                    Some(l) if l.is_empty() => return Ok(total),
                    Some(_) => continue,
                    None => return Err(400),
                }
            }
            return Err(400);
        }
        total += size;
        if total > MAX_BODY {
            return Err(413);
        }
        read_exact_discard(reader, size)?;
        match read_line_bounded(reader, 2)? {
            Some(l) if l.is_empty() => {}
            _ => return Err(400),
        }
    }
}

fn read_exact_discard(reader: &mut impl Read, n: u64) -> Result<(), u16> {
    let copied =
        io::copy(&mut reader.by_ref().take(n), &mut io::sink()).map_err(|e| io_status(&e))?;
    if copied == n {
        Ok(())
    } else {
        Err(400)
    }
}

// ---------------------------------------------------------------------------------------------
// Hosts

/// `(normalized host, port)` from `host[:port]` / `[v6][:port]`; `None` when malformed.
fn parse_authority(authority: &str) -> Option<(String, Option<u16>)> {
    // Userinfo is not valid in an HTTP target, but tolerate and drop it.
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        if inside.is_empty() {
            return None;
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (format!("[{}]", inside.to_ascii_lowercase()), port)
    } else {
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        if host.is_empty() || host.contains(':') || host.contains('[') || host.contains(']') {
            return None;
        }
        (host.to_ascii_lowercase(), port)
    };
    let port = match port {
        None | Some("") => None,
        Some(p) if p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => Some(p.parse().ok()?),
        Some(_) => return None,
    };
    Some((host, port))
}

fn is_endpoint(host: &str, port: Option<u16>) -> bool {
    if port.is_some_and(|p| p != 80) {
        return false;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<Ipv6Addr>().ok()
            == Some(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254));
    }
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return v4 == Ipv4Addr::new(169, 254, 169, 254);
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    name == "instance-data" || name == "instance-data.ec2.internal"
}

// ---------------------------------------------------------------------------------------------
// The service

const TOKEN_PATH: &str = "/latest/api/token";
const TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";

fn route(request: &Request, shared: &Shared, entry: &mut Logged) -> Response {
    let target = request.target.as_str();
    if request.method == "CONNECT" {
        // A tunnel request (https through the proxy): never opened.
        entry.host = parse_authority(target).map_or_else(|| target.to_string(), |(h, _)| h);
        entry.path = String::new();
        return Response::bad_gateway(&entry.host);
    }
    let (authority, path) = if target.len() >= 7 && target[..7].eq_ignore_ascii_case("http://") {
        let rest = &target[7..];
        let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        let path = match path {
            "" => "/".to_string(),
            p if p.starts_with('/') => p.to_string(),
            p => format!("/{p}"),
        };
        (authority.to_string(), path)
    } else if let Some((scheme, rest)) = target.split_once("://") {
        // https://, ftp://, ...: IMDS speaks plain HTTP only, and we forward nowhere.
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        entry.host = parse_authority(authority).map_or_else(|| authority.to_string(), |(h, _)| h);
        return Response::bad_gateway(&format!("{scheme}://{}", entry.host));
    } else if target.starts_with('/') {
        let hosts = header_values(&request.headers, "host");
        if hosts.len() != 1 {
            return Response::error(400);
        }
        (hosts[0].to_string(), target.to_string())
    } else {
        return Response::error(400);
    };
    entry.path = path.clone();
    let Some((host, port)) = parse_authority(&authority) else {
        entry.host = authority.to_ascii_lowercase();
        return Response::error(400);
    };
    entry.host = host.clone();
    if !is_endpoint(&host, port) {
        return Response::bad_gateway(&host);
    }
    let route_path = path.split(['?', '#']).next().unwrap_or("");
    imds(request, route_path, shared)
}

fn imds(request: &Request, path: &str, shared: &Shared) -> Response {
    if path == TOKEN_PATH {
        return issue_token(request, shared);
    }
    match request.header(TOKEN_HEADER) {
        Some(token) => {
            if !token_is_valid(shared, token) {
                return Response::error(401);
            }
        }
        None => {
            if *lock(&shared.mode) == Mode::Required {
                return Response::error(401);
            }
        }
    }
    if request.method != "GET" && request.method != "HEAD" {
        return Response::error(405).with_header("Allow", "GET, HEAD");
    }
    match lookup(path) {
        Some((content_type, body)) => Response::ok(content_type, body),
        None => Response::error(404),
    }
}

fn parse_ttl(value: &str) -> Option<u64> {
    let value = value.trim();
    if value.is_empty() || value.len() > 6 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ttl: u64 = value.parse().ok()?;
    (MIN_TTL..=MAX_TTL).contains(&ttl).then_some(ttl)
}

fn issue_token(request: &Request, shared: &Shared) -> Response {
    if request.method != "PUT" {
        return Response::error(405).with_header("Allow", "PUT");
    }
    if request.header("x-forwarded-for").is_some() {
        return Response::error(403);
    }
    let Some(ttl) = request.header(TTL_HEADER).and_then(parse_ttl) else {
        return Response::error(400);
    };
    let token = new_token(shared);
    let now = Instant::now();
    {
        let mut tokens = lock(&shared.tokens);
        tokens.retain(|_, expiry| *expiry > now);
        tokens.insert(token.clone(), now + Duration::from_secs(ttl));
    }
    Response::ok("text/plain", token)
        .with_header("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", ttl.to_string())
}

fn token_is_valid(shared: &Shared, token: &str) -> bool {
    lock(&shared.tokens)
        .get(token)
        .is_some_and(|expiry| *expiry > Instant::now())
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// 40 bytes, base64: 56 characters ending in `==`, like the real service's tokens.
/// Unique per emulator (a counter is part of it); unpredictable enough across emulators.
fn new_token(shared: &Shared) -> String {
    let n = shared.counter.fetch_add(1, Ordering::SeqCst);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut state = shared.seed ^ nanos ^ n.wrapping_mul(0xD1B5_4A32_D192_ED03);
    let mut bytes = vec![0x01, 0x00, 0x04, 0x00];
    bytes.extend_from_slice(&n.to_be_bytes());
    while bytes.len() < 40 {
        bytes.extend_from_slice(&splitmix64(&mut state).to_be_bytes());
    }
    bytes.truncate(40);
    base64(&bytes)
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The metadata tree

/// Versions listed at `/`, oldest first, `latest` last (as the real service does).
pub const VERSIONS: &[&str] = &[
    "1.0",
    "2007-01-19",
    "2007-03-01",
    "2007-08-29",
    "2007-10-10",
    "2007-12-15",
    "2008-02-01",
    "2008-09-01",
    "2009-04-04",
    "2011-01-01",
    "2011-05-01",
    "2012-01-12",
    "2014-02-25",
    "2014-11-05",
    "2015-10-20",
    "2016-04-19",
    "2016-06-30",
    "2016-09-02",
    "2018-03-28",
    "2018-08-17",
    "2018-09-24",
    "2019-10-01",
    "2020-10-27",
    "2021-01-03",
    "2021-03-23",
    "2021-07-15",
    "2022-09-24",
    "latest",
];

pub const INSTANCE_ID: &str = "i-0123456789abcdef0";
pub const REGION: &str = "us-east-1";
pub const AVAILABILITY_ZONE: &str = "us-east-1a";
pub const INSTANCE_TYPE: &str = "t3.micro";
pub const AMI_ID: &str = "ami-0abcdef1234567890";
pub const LOCAL_IPV4: &str = "10.0.1.23";
pub const LOCAL_HOSTNAME: &str = "ip-10-0-1-23.ec2.internal";
pub const MAC: &str = "0e:1a:2b:3c:4d:5e";
pub const ROLE: &str = "imds-lint-test-role";
pub const ACCOUNT_ID: &str = "123456789012";
pub const USER_DATA: &str = "#!/bin/bash\necho 'hello from imds emulator user-data'\n";

const IAM_INFO: &str = r#"{
  "Code" : "Success",
  "LastUpdated" : "2024-01-01T00:00:00Z",
  "InstanceProfileArn" : "arn:aws:iam::123456789012:instance-profile/imds-lint-test-role",
  "InstanceProfileId" : "AIPAFAKEFAKEFAKEFAKE0"
}"#;

const ROLE_CREDENTIALS: &str = r#"{
  "Code" : "Success",
  "LastUpdated" : "2024-01-01T00:00:00Z",
  "Type" : "AWS-HMAC",
  "AccessKeyId" : "ASIAFAKEFAKEFAKEFAKE",
  "SecretAccessKey" : "FAKE/emulator/secret/not/a/real/key/000000",
  "Token" : "FAKE-SESSION-TOKEN-FROM-IMDS-EMULATOR",
  "Expiration" : "2099-01-01T00:00:00Z"
}"#;

const IDENTITY_DOCUMENT: &str = r#"{
  "accountId" : "123456789012",
  "architecture" : "x86_64",
  "availabilityZone" : "us-east-1a",
  "billingProducts" : null,
  "devpayProductCodes" : null,
  "marketplaceProductCodes" : null,
  "imageId" : "ami-0abcdef1234567890",
  "instanceId" : "i-0123456789abcdef0",
  "instanceType" : "t3.micro",
  "kernelId" : null,
  "pendingTime" : "2024-01-01T00:00:00Z",
  "privateIp" : "10.0.1.23",
  "ramdiskId" : null,
  "region" : "us-east-1",
  "version" : "2017-09-30"
}"#;

const TEXT: &str = "text/plain";
const OCTETS: &str = "application/octet-stream";

/// Files of one version's tree: (path under the version, content type, body).
const LEAVES: &[(&str, &str, &str)] = &[
    (
        "dynamic/instance-identity/document",
        TEXT,
        IDENTITY_DOCUMENT,
    ),
    (
        "dynamic/instance-identity/pkcs7",
        TEXT,
        "MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwGggCSABIIB\nFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE",
    ),
    (
        "dynamic/instance-identity/signature",
        TEXT,
        "FAKEsignatureFAKEsignatureFAKEsignatureFAKEsignatureFAKEsignatureFAKEsigna\nFAKEsignatureFAKEsignature==",
    ),
    ("meta-data/ami-id", TEXT, AMI_ID),
    ("meta-data/ami-launch-index", TEXT, "0"),
    ("meta-data/ami-manifest-path", TEXT, "(unknown)"),
    ("meta-data/block-device-mapping/ami", TEXT, "/dev/xvda"),
    ("meta-data/block-device-mapping/root", TEXT, "/dev/xvda"),
    ("meta-data/hostname", TEXT, LOCAL_HOSTNAME),
    ("meta-data/iam/info", TEXT, IAM_INFO),
    (
        "meta-data/iam/security-credentials/imds-lint-test-role",
        TEXT,
        ROLE_CREDENTIALS,
    ),
    ("meta-data/instance-action", TEXT, "none"),
    ("meta-data/instance-id", TEXT, INSTANCE_ID),
    ("meta-data/instance-life-cycle", TEXT, "on-demand"),
    ("meta-data/instance-type", TEXT, INSTANCE_TYPE),
    ("meta-data/local-hostname", TEXT, LOCAL_HOSTNAME),
    ("meta-data/local-ipv4", TEXT, LOCAL_IPV4),
    ("meta-data/mac", TEXT, MAC),
    (
        "meta-data/network/interfaces/macs/0e:1a:2b:3c:4d:5e/device-number",
        TEXT,
        "0",
    ),
    (
        "meta-data/network/interfaces/macs/0e:1a:2b:3c:4d:5e/local-ipv4s",
        TEXT,
        LOCAL_IPV4,
    ),
    (
        "meta-data/network/interfaces/macs/0e:1a:2b:3c:4d:5e/subnet-id",
        TEXT,
        "subnet-0123456789abcdef0",
    ),
    (
        "meta-data/network/interfaces/macs/0e:1a:2b:3c:4d:5e/vpc-id",
        TEXT,
        "vpc-0123456789abcdef0",
    ),
    ("meta-data/placement/availability-zone", TEXT, AVAILABILITY_ZONE),
    ("meta-data/placement/availability-zone-id", TEXT, "use1-az1"),
    ("meta-data/placement/region", TEXT, REGION),
    ("meta-data/reservation-id", TEXT, "r-0123456789abcdef0"),
    ("meta-data/security-groups", TEXT, "default"),
    ("meta-data/services/domain", TEXT, "amazonaws.com"),
    ("meta-data/services/partition", TEXT, "aws"),
    ("user-data", OCTETS, USER_DATA),
];

/// `(content type, body)` for a path (query already removed), or `None` for 404.
/// Directories answer with a listing with or without their trailing slash; files only without.
pub fn lookup(path: &str) -> Option<(&'static str, String)> {
    if path == "/" {
        return Some((TEXT, VERSIONS.join("\n")));
    }
    let rest = path.strip_prefix('/')?;
    let (version, rest) = rest.split_once('/').unwrap_or((rest, ""));
    if !VERSIONS.contains(&version) {
        return None;
    }
    if rest.is_empty() {
        // The version root lists its categories without trailing slashes.
        return Some((TEXT, "dynamic\nmeta-data\nuser-data".to_string()));
    }
    let (rest, slash) = match rest.strip_suffix('/') {
        Some(r) => (r, true),
        None => (rest, false),
    };
    if let Some((_, content_type, body)) = LEAVES.iter().find(|(p, _, _)| *p == rest) {
        return (!slash).then(|| (*content_type, body.to_string()));
    }
    let prefix = format!("{rest}/");
    let mut entries: Vec<String> = Vec::new();
    for (leaf, _, _) in LEAVES {
        if let Some(below) = leaf.strip_prefix(&prefix) {
            let entry = match below.split_once('/') {
                Some((dir, _)) => format!("{dir}/"),
                None => below.to_string(),
            };
            if !entries.contains(&entry) {
                entries.push(entry);
            }
        }
    }
    if entries.is_empty() {
        return None;
    }
    entries.sort();
    Some((TEXT, entries.join("\n")))
}

/// The emulator's log, one line a request, for failure messages: method, host, path, status and
/// whether a token header was sent.
pub fn describe_log(log: &[Logged]) -> String {
    let mut out = String::new();
    for l in log {
        let token = match l.header("x-aws-ec2-metadata-token") {
            Some("") => "empty token header",
            Some(_) => "token header",
            None => "no token header",
        };
        let status = match l.status {
            NO_ANSWER => "no answer".to_string(),
            status => status.to_string(),
        };
        out.push_str(&format!(
            "    {} {} {} -> {status} ({token})\n",
            l.method, l.host, l.path
        ));
    }
    out
}
