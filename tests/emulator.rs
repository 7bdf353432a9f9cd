//! Proves the IMDS emulator (tests/support/imds_emulator.rs) against the real curl and GNU wget,
//! reached the way scripts reach it: through `http_proxy`. Only loopback is ever contacted: the
//! clients talk to the emulator's 127.0.0.1 port, and the emulator never connects anywhere.
//! A missing curl or GNU wget fails the test that needs it (`.ci/run` installs both).

#[path = "support/imds_emulator.rs"]
mod imds_emulator;
#[path = "support/tools.rs"]
mod tools;

use imds_emulator::{Emulator, Logged, Mode, Reach, INSTANCE_ID, NO_ANSWER, REGION};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use tools::{require, BASH, CURL, GNU_WGET};

const BASE: &str = "http://169.254.169.254";
const ID_URL: &str = "http://169.254.169.254/latest/meta-data/instance-id";
const TOKEN_URL: &str = "http://169.254.169.254/latest/api/token";
const TTL_HEADER: &str = "X-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "X-aws-ec2-metadata-token";

// ------------------------------------------------------------------------------------------
// Running the real clients

/// A command whose only route to IMDS is the emulator, via the proxy variables.
fn client(emu: &Emulator, program: &str) -> Command {
    let mut cmd = Command::new(program);
    for var in [
        "no_proxy",
        "NO_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("http_proxy", emu.proxy_url())
        .env("HTTP_PROXY", emu.proxy_url())
        .stdin(Stdio::null());
    cmd
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(mut cmd: Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("spawn client");
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// curl without any curlrc (`-q` must come first), silent but showing errors, time-bounded.
fn curl(emu: &Emulator, args: &[&str]) -> Run {
    let mut cmd = client(emu, "curl");
    cmd.args(["-q", "-sS", "--max-time", "5"]).args(args);
    run(cmd)
}

/// `(status, body)` of one curl request, status taken from curl's own `%{http_code}`.
fn curl_status(emu: &Emulator, args: &[&str]) -> (u16, String) {
    let mut all = args.to_vec();
    all.extend(["-w", "\n%{http_code}"]);
    let out = curl(emu, &all);
    assert_eq!(out.code, Some(0), "curl {args:?} failed: {}", out.stderr);
    let (body, code) = out.stdout.rsplit_once('\n').expect("status line");
    (code.parse().expect("numeric status"), body.to_string())
}

/// GNU wget without any wgetrc, quiet, body to stdout, one try, time-bounded.
fn wget(emu: &Emulator, args: &[&str]) -> Run {
    let mut cmd = client(emu, "wget");
    cmd.args(["--no-config", "-q", "-O", "-", "--tries=1", "--timeout=5"])
        .args(args);
    run(cmd)
}

fn header(name: &str, value: &str) -> String {
    format!("{name}: {value}")
}

/// `(method, path, status)` of each logged request.
fn summary(log: &[Logged]) -> Vec<(String, String, u16)> {
    log.iter()
        .map(|l| (l.method.clone(), l.path.clone(), l.status))
        .collect()
}

fn expect(items: &[(&str, &str, u16)]) -> Vec<(String, String, u16)> {
    items
        .iter()
        .map(|(m, p, s)| (m.to_string(), p.to_string(), *s))
        .collect()
}

fn get_token(emu: &Emulator, ttl: &str) -> String {
    let ttl = header(TTL_HEADER, ttl);
    let out = curl(emu, &["-f", "-X", "PUT", "-H", &ttl, TOKEN_URL]);
    assert_eq!(out.code, Some(0), "token PUT failed: {}", out.stderr);
    out.stdout
}

// ------------------------------------------------------------------------------------------
// Modes

#[test]
fn optional_mode_answers_a_tokenless_get() {
    require(&[CURL, GNU_WGET]);
    let emu = Emulator::start(Mode::Optional);
    let out = curl(&emu, &["-f", ID_URL]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, INSTANCE_ID);
    let (status, body) = curl_status(
        &emu,
        &[&format!("{BASE}/latest/meta-data/placement/region")],
    );
    assert_eq!((status, body.as_str()), (200, REGION));

    let log = emu.log();
    assert_eq!(
        summary(&log),
        expect(&[
            ("GET", "/latest/meta-data/instance-id", 200),
            ("GET", "/latest/meta-data/placement/region", 200),
        ])
    );
    assert_eq!(log[0].host, "169.254.169.254");
    assert_eq!(log[0].header(TOKEN_HEADER), None);
    // The request really went through the proxy variable: curl says so in its headers.
    assert!(log[0]
        .header("user-agent")
        .is_some_and(|ua| ua.starts_with("curl/")));

    let out = wget(&emu, &[ID_URL]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, INSTANCE_ID);
    let last = emu.log().pop().unwrap();
    assert_eq!((last.method.as_str(), last.status), ("GET", 200));
    assert!(last
        .header("User-Agent")
        .is_some_and(|ua| ua.starts_with("Wget/")));
}

#[test]
fn required_mode_rejects_a_tokenless_get_with_401() {
    require(&[CURL, GNU_WGET]);
    let emu = Emulator::start(Mode::Required);
    let out = curl(&emu, &["-f", ID_URL]);
    assert_eq!(out.code, Some(22), "curl -f must fail with 22 on 401");
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("401"), "{}", out.stderr);
    let (status, _) = curl_status(&emu, &[ID_URL]);
    assert_eq!(status, 401);
    let out = wget(&emu, &[ID_URL]);
    assert_ne!(out.code, Some(0), "wget must fail on 401");
    assert!(out.stdout.is_empty());
    let log = emu.log();
    assert!(log.len() >= 2);
    for entry in &log {
        assert_eq!(
            (entry.method.as_str(), entry.path.as_str(), entry.status),
            ("GET", "/latest/meta-data/instance-id", 401)
        );
    }
}

#[test]
fn set_mode_takes_effect_immediately() {
    require(&[CURL]);
    let emu = Emulator::start(Mode::Optional);
    assert_eq!(curl_status(&emu, &[ID_URL]).0, 200);
    emu.set_mode(Mode::Required);
    assert_eq!(curl_status(&emu, &[ID_URL]).0, 401);
    let token = get_token(&emu, "60");
    let with_token = header(TOKEN_HEADER, &token);
    assert_eq!(curl_status(&emu, &["-H", &with_token, ID_URL]).0, 200);
    emu.set_mode(Mode::Optional);
    assert_eq!(curl_status(&emu, &[ID_URL]).0, 200);
    // A token issued in required mode stays good.
    assert_eq!(curl_status(&emu, &["-H", &with_token, ID_URL]).0, 200);
    let statuses: Vec<u16> = emu.log().iter().map(|l| l.status).collect();
    assert_eq!(statuses, [200, 401, 200, 200, 200, 200]);
}

// ------------------------------------------------------------------------------------------
// The IMDSv2 session

#[test]
fn imdsv2_flow_with_curl_in_required_mode() {
    require(&[CURL]);
    let emu = Emulator::start(Mode::Required);
    let token = get_token(&emu, "21600");
    assert!(!token.is_empty());
    assert!(
        !token.contains(['\n', '\r', ' ']),
        "token must be one bare line: {token:?}"
    );
    assert_eq!(token.len(), 56, "shaped like a real token: {token}");
    let again = get_token(&emu, "21600");
    assert_ne!(token, again, "every PUT issues a fresh token");

    let out = curl(&emu, &["-f", "-H", &header(TOKEN_HEADER, &token), ID_URL]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, INSTANCE_ID);
    // Header names are case-insensitive.
    let lower = format!("x-aws-ec2-metadata-token: {again}");
    let out = curl(&emu, &["-f", "-H", &lower, ID_URL]);
    assert_eq!(out.stdout, INSTANCE_ID);

    let log = emu.log();
    assert_eq!(
        summary(&log),
        expect(&[
            ("PUT", "/latest/api/token", 200),
            ("PUT", "/latest/api/token", 200),
            ("GET", "/latest/meta-data/instance-id", 200),
            ("GET", "/latest/meta-data/instance-id", 200),
        ])
    );
    assert_eq!(log[0].header(TTL_HEADER), Some("21600"));
    assert_eq!(log[2].header(TOKEN_HEADER), Some(token.as_str()));
    assert_eq!(log[3].header(TOKEN_HEADER), Some(again.as_str()));
}

#[test]
fn imdsv2_flow_with_gnu_wget_in_required_mode() {
    require(&[GNU_WGET]);
    let emu = Emulator::start(Mode::Required);
    let ttl = format!("--header={}", header(TTL_HEADER, "300"));
    let out = wget(&emu, &["--method=PUT", &ttl, TOKEN_URL]);
    assert_eq!(out.code, Some(0), "wget PUT failed: {}", out.stderr);
    let token = out.stdout;
    assert_eq!(token.len(), 56, "{token:?}");

    let with_token = format!("--header={}", header(TOKEN_HEADER, &token));
    let out = wget(&emu, &[&with_token, ID_URL]);
    assert_eq!(out.code, Some(0), "wget GET failed: {}", out.stderr);
    assert_eq!(out.stdout, INSTANCE_ID);

    let log = emu.log();
    assert_eq!(
        summary(&log),
        expect(&[
            ("PUT", "/latest/api/token", 200),
            ("GET", "/latest/meta-data/instance-id", 200),
        ])
    );
    assert_eq!(log[1].header(TOKEN_HEADER), Some(token.as_str()));
}

#[test]
fn bash_script_doing_the_v2_flow() {
    require(&[BASH, CURL]);
    let emu = Emulator::start(Mode::Required);
    let script = r#"
set -euo pipefail
IMDS_TOKEN=$(curl -sS -X PUT "http://169.254.169.254/latest/api/token" \
  -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")
MD=http://169.254.169.254/latest/meta-data
id=$(curl -sSf -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" "$MD/instance-id")
region=$(curl -sSf -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" "$MD/placement/region")
echo "$id $region"
# and the tokenless call that a v2-only instance refuses
if curl -sSf "$MD/instance-id" >/dev/null 2>&1; then echo "v1 answered"; else echo "v1 refused: $?"; fi
"#;
    let mut cmd = client(&emu, "bash");
    cmd.args(["-c", script]);
    let out = run(cmd);
    assert_eq!(out.code, Some(0), "script failed: {}", out.stderr);
    assert_eq!(
        out.stdout,
        format!("{INSTANCE_ID} {REGION}\nv1 refused: 22\n")
    );

    let log = emu.log();
    assert_eq!(
        summary(&log),
        expect(&[
            ("PUT", "/latest/api/token", 200),
            ("GET", "/latest/meta-data/instance-id", 200),
            ("GET", "/latest/meta-data/placement/region", 200),
            ("GET", "/latest/meta-data/instance-id", 401),
        ])
    );
    let token = log[1].header(TOKEN_HEADER).expect("token sent");
    assert_eq!(log[2].header(TOKEN_HEADER), Some(token), "one token reused");
}

#[test]
fn token_ttl_must_be_between_1_and_21600() {
    require(&[CURL]);
    let emu = Emulator::start(Mode::Required);
    for ttl in ["0", "21601", "-1", "abc", "", "99999999999999999999"] {
        let h = header(TTL_HEADER, ttl);
        let (status, _) = curl_status(&emu, &["-X", "PUT", "-H", &h, TOKEN_URL]);
        assert_eq!(status, 400, "ttl {ttl:?}");
    }
    let (status, _) = curl_status(&emu, &["-X", "PUT", TOKEN_URL]);
    assert_eq!(status, 400, "missing ttl");
    for ttl in ["1", "21600"] {
        let h = header(TTL_HEADER, ttl);
        let (status, body) = curl_status(&emu, &["-X", "PUT", "-H", &h, TOKEN_URL]);
        assert_eq!((status, body.len()), (200, 56), "ttl {ttl}");
    }
    let statuses: Vec<u16> = emu.log().iter().map(|l| l.status).collect();
    assert_eq!(statuses, [400, 400, 400, 400, 400, 400, 400, 200, 200]);
    assert!(emu
        .log()
        .iter()
        .all(|l| l.method == "PUT" && l.path == "/latest/api/token"));
}

#[test]
fn token_put_with_x_forwarded_for_is_forbidden() {
    require(&[CURL]);
    for mode in [Mode::Optional, Mode::Required] {
        let emu = Emulator::start(mode);
        let ttl = header(TTL_HEADER, "60");
        let xff = header("X-Forwarded-For", "10.1.2.3");
        let (status, body) = curl_status(&emu, &["-X", "PUT", "-H", &ttl, "-H", &xff, TOKEN_URL]);
        assert_eq!(status, 403, "{mode:?}");
        assert!(!body.contains("AQAE"), "no token handed out");
        assert_eq!(
            summary(&emu.log()),
            expect(&[("PUT", "/latest/api/token", 403)])
        );
    }
}

#[test]
fn token_endpoint_answers_other_methods_with_405() {
    require(&[CURL]);
    let emu = Emulator::start(Mode::Optional);
    let ttl = header(TTL_HEADER, "60");
    assert_eq!(curl_status(&emu, &[TOKEN_URL]).0, 405);
    assert_eq!(curl_status(&emu, &["-H", &ttl, TOKEN_URL]).0, 405);
    assert_eq!(
        curl_status(&emu, &["-X", "POST", "-H", &ttl, TOKEN_URL]).0,
        405
    );
    assert_eq!(
        summary(&emu.log()),
        expect(&[
            ("GET", "/latest/api/token", 405),
            ("GET", "/latest/api/token", 405),
            ("POST", "/latest/api/token", 405),
        ])
    );
}

#[test]
fn invalid_or_expired_token_is_401_in_both_modes() {
    require(&[CURL]);
    let emus = [
        Emulator::start(Mode::Optional),
        Emulator::start(Mode::Required),
    ];
    let mut tokens = Vec::new();
    for emu in &emus {
        let mode = emu.mode();
        let bogus = header(TOKEN_HEADER, "AQAEAbogusbogusbogus==");
        assert_eq!(curl_status(emu, &["-H", &bogus, ID_URL]).0, 401, "{mode:?}");
        let out = curl(emu, &["-f", "-H", &bogus, ID_URL]);
        assert_eq!(out.code, Some(22), "{mode:?}");
        // A token from another emulator (another instance) is unknown here too.
        let foreign = Emulator::start(Mode::Optional);
        let other = header(TOKEN_HEADER, &get_token(&foreign, "60"));
        assert_eq!(curl_status(emu, &["-H", &other, ID_URL]).0, 401, "{mode:?}");

        let token = header(TOKEN_HEADER, &get_token(emu, "1"));
        assert_eq!(curl_status(emu, &["-H", &token, ID_URL]).0, 200, "{mode:?}");
        tokens.push(token);
    }
    // One sleep for both: a TTL of 1 s is over.
    std::thread::sleep(Duration::from_millis(1100));
    for (emu, token) in emus.iter().zip(&tokens) {
        let mode = emu.mode();
        assert_eq!(
            curl_status(emu, &["-H", token, ID_URL]).0,
            401,
            "expired, {mode:?}"
        );
        assert_eq!(
            summary(&emu.log()),
            expect(&[
                ("GET", "/latest/meta-data/instance-id", 401),
                ("GET", "/latest/meta-data/instance-id", 401),
                ("GET", "/latest/meta-data/instance-id", 401),
                ("PUT", "/latest/api/token", 200),
                ("GET", "/latest/meta-data/instance-id", 200),
                ("GET", "/latest/meta-data/instance-id", 401),
            ]),
            "{mode:?}"
        );
    }
}

#[test]
fn unknown_path_is_404() {
    require(&[CURL]);
    let emu = Emulator::start(Mode::Required);
    let token = get_token(&emu, "60");
    let h = header(TOKEN_HEADER, &token);
    for path in [
        "/latest/meta-data/no-such-thing",
        "/latest/meta-data/instance-id/",
        "/1999-01-01/meta-data/instance-id",
        "/computeMetadata/v1/instance/id",
    ] {
        let (status, body) = curl_status(&emu, &["-H", &h, &format!("{BASE}{path}")]);
        assert_eq!(status, 404, "{path}");
        assert!(body.contains("404 - Not Found"), "{body}");
    }
    let out = curl(
        &emu,
        &["-f", "-H", &h, &format!("{BASE}/latest/meta-data/nope")],
    );
    assert_eq!(out.code, Some(22));
    assert!(emu.log()[1..].iter().all(|l| l.status == 404));
}

// ------------------------------------------------------------------------------------------
// Endpoints and the tree

#[test]
fn every_endpoint_spelling_is_served() {
    require(&[CURL]);
    let emu = Emulator::start(Mode::Optional);
    let cases = [
        (
            "http://[fd00:ec2::254]/latest/meta-data/instance-id",
            "[fd00:ec2::254]",
        ),
        (
            "http://[fd00:ec2::254]:80/latest/meta-data/instance-id",
            "[fd00:ec2::254]",
        ),
        (
            "http://169.254.169.254:80/latest/meta-data/instance-id",
            "169.254.169.254",
        ),
        (
            "169.254.169.254/latest/meta-data/instance-id",
            "169.254.169.254",
        ),
        (
            "http://instance-data/latest/meta-data/instance-id",
            "instance-data",
        ),
        (
            "http://instance-data.ec2.internal/latest/meta-data/instance-id",
            "instance-data.ec2.internal",
        ),
        (
            "http://169.254.169.254/2009-04-04/meta-data/instance-id",
            "169.254.169.254",
        ),
    ];
    for (url, _) in cases {
        let out = curl(&emu, &["-f", "-g", url]);
        assert_eq!(out.code, Some(0), "{url}: {}", out.stderr);
        assert_eq!(out.stdout, INSTANCE_ID, "{url}");
    }
    let log = emu.log();
    assert_eq!(log.len(), cases.len());
    for (entry, (url, host)) in log.iter().zip(cases) {
        assert_eq!((entry.host.as_str(), entry.status), (host, 200), "{url}");
    }
    assert_eq!(log[6].path, "/2009-04-04/meta-data/instance-id");

    // The IPv6 endpoint in required mode, with a token fetched there too.
    emu.set_mode(Mode::Required);
    let ttl = header(TTL_HEADER, "60");
    let token = curl(
        &emu,
        &[
            "-fg",
            "-X",
            "PUT",
            "-H",
            &ttl,
            "http://[fd00:ec2::254]/latest/api/token",
        ],
    )
    .stdout;
    let out = curl(
        &emu,
        &[
            "-fg",
            "-H",
            &header(TOKEN_HEADER, &token),
            "http://[fd00:ec2::254]/latest/meta-data/instance-id",
        ],
    );
    assert_eq!(out.stdout, INSTANCE_ID, "{}", out.stderr);
}

#[test]
fn the_tree_looks_like_the_real_service() {
    require(&[CURL]);
    let emu = Emulator::start(Mode::Optional);
    let get = |path: &str| curl_status(&emu, &[&format!("{BASE}{path}")]);

    let (status, root) = get("/");
    assert_eq!(status, 200);
    let versions: Vec<&str> = root.lines().collect();
    assert!(versions.contains(&"latest") && versions.contains(&"2009-04-04"));
    assert_eq!(versions.last(), Some(&"latest"));

    assert_eq!(
        get("/latest/"),
        (200, "dynamic\nmeta-data\nuser-data".into())
    );
    assert_eq!(get("/latest"), get("/latest/"));

    let (status, listing) = get("/latest/meta-data/");
    assert_eq!(status, 200);
    let entries: Vec<&str> = listing.lines().collect();
    for want in [
        "ami-id",
        "hostname",
        "iam/",
        "instance-id",
        "instance-type",
        "local-hostname",
        "local-ipv4",
        "mac",
        "placement/",
    ] {
        assert!(entries.contains(&want), "{want} missing from {entries:?}");
    }
    assert!(!listing.ends_with('\n'));
    assert_eq!(get("/latest/meta-data"), (200, listing.clone()));
    assert_eq!(get("/2021-07-15/meta-data/"), (200, listing));

    assert_eq!(get("/latest/meta-data/instance-type").1, "t3.micro");
    assert_eq!(
        get("/latest/meta-data/placement/availability-zone").1,
        "us-east-1a"
    );
    assert!(get("/latest/meta-data/local-ipv4")
        .1
        .parse::<std::net::Ipv4Addr>()
        .is_ok());
    assert!(get("/latest/meta-data/placement")
        .1
        .lines()
        .any(|l| l == "region"));

    let (status, roles) = get("/latest/meta-data/iam/security-credentials/");
    assert_eq!(status, 200);
    assert_eq!(get("/latest/meta-data/iam/security-credentials").1, roles);
    let role = roles.lines().next().expect("one role");
    let creds = get(&format!(
        "/latest/meta-data/iam/security-credentials/{role}"
    ))
    .1;
    let creds: serde_json::Value = serde_json::from_str(&creds).expect("credentials JSON");
    assert_eq!(creds["Code"], "Success");
    assert!(creds["AccessKeyId"].as_str().unwrap().contains("FAKE"));
    assert!(creds["SecretAccessKey"].as_str().unwrap().contains("FAKE"));

    let doc = get("/latest/dynamic/instance-identity/document").1;
    let doc: serde_json::Value = serde_json::from_str(&doc).expect("identity JSON");
    assert_eq!(doc["region"], REGION);
    assert_eq!(doc["instanceId"], INSTANCE_ID);
    assert_eq!(doc["accountId"], "123456789012");

    let (status, user_data) = get("/latest/user-data");
    assert_eq!(status, 200);
    assert!(user_data.starts_with("#!/bin/bash"));

    // HEAD answers with the length of the body it does not send.
    let out = curl(&emu, &["-I", ID_URL]);
    assert!(out.stdout.starts_with("HTTP/1.1 200"), "{}", out.stdout);
    assert!(out
        .stdout
        .contains(&format!("Content-Length: {}", INSTANCE_ID.len())));
    assert!(out.stdout.contains("Connection: close"));
    assert!(emu.log().iter().all(|l| l.status == 200));
}

#[test]
fn a_token_put_with_a_body_is_read_and_answered() {
    require(&[CURL]);
    let emu = Emulator::start(Mode::Required);
    let ttl = header(TTL_HEADER, "60");
    // The big one asks for `100 Continue` and waits up to 4 s for it: the emulator's read
    // timeout is 2 s, so this only passes if the interim answer is sent.
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&[b'x'; 200_000]).unwrap();
    let big = format!("@{}", file.path().display());
    let expect100 = ["-H", "Expect: 100-continue", "--expect100-timeout", "4"];
    for (body, extra) in [("ignored", &[][..]), (big.as_str(), &expect100[..])] {
        let mut args = vec!["-X", "PUT", "-H", &ttl, "--data-binary", body];
        args.extend(extra);
        args.push(TOKEN_URL);
        let (status, token) = curl_status(&emu, &args);
        assert_eq!((status, token.len()), (200, 56));
    }
    let log = emu.log();
    assert_eq!(log[0].header("content-length"), Some("7"));
    assert_eq!(log[1].header("content-length"), Some("200000"));
    assert_eq!(log[1].header("expect"), Some("100-continue"));
}

// ------------------------------------------------------------------------------------------
// Raw protocol robustness (plain loopback sockets)

fn raw(emu: &Emulator, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(emu.addr()).expect("connect to emulator");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(request).unwrap();
    // Done sending: a request cut short is then seen as such at once, not after the read timeout.
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read answer");
    String::from_utf8_lossy(&answer).into_owned()
}

fn status_of(answer: &str) -> u16 {
    answer
        .strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP/1.1 answer: {answer:?}"))
}

#[test]
fn raw_requests_malformed_foreign_and_origin_form() {
    let emu = Emulator::start(Mode::Optional);
    let cases: Vec<(Vec<u8>, u16)> = vec![
        // origin form with Host, as a client talking to the endpoint directly sends it
        (b"GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n".to_vec(), 200),
        (b"GET /latest/meta-data/instance-id HTTP/1.1\r\nhost: instance-data:80\r\n\r\n".to_vec(), 200),
        (b"GET /latest/meta-data/instance-id HTTP/1.0\r\n\r\n".to_vec(), 400),
        (b"GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n".to_vec(), 502),
        // not the metadata service: never forwarded
        (b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n".to_vec(), 502),
        (b"GET http://169.254.169.254:8080/latest/ HTTP/1.1\r\n\r\n".to_vec(), 502),
        (b"GET http://169.254.170.2/v2/credentials HTTP/1.1\r\n\r\n".to_vec(), 502),
        (b"GET http://metadata.google.internal/computeMetadata/v1/ HTTP/1.1\r\n\r\n".to_vec(), 502),
        (b"CONNECT 169.254.169.254:443 HTTP/1.1\r\nHost: 169.254.169.254:443\r\n\r\n".to_vec(), 502),
        (b"GET https://169.254.169.254/latest/ HTTP/1.1\r\n\r\n".to_vec(), 502),
        // malformed
        (b"\x00\x01\x02 garbage\r\n\r\n".to_vec(), 400),
        (b"GET\r\n\r\n".to_vec(), 400),
        (b"GET / HTTP/9.9\r\nHost: 169.254.169.254\r\n\r\n".to_vec(), 400),
        (b"GET http://169.254.169.254/ HTTP/1.1\r\nNo colon here\r\n\r\n".to_vec(), 400),
        (b"GET http://169.254.169.254/ HTTP/1.1\r\n folded: header\r\n\r\n".to_vec(), 400),
        (b"GET http://[fd00:ec2::254/ HTTP/1.1\r\n\r\n".to_vec(), 400),
        (b"GET http://169.254.169.254/ HTTP/1.1\r\nContent-Length: nope\r\n\r\n".to_vec(), 400),
        (b"GET http://169.254.169.254/ HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort".to_vec(), 400),
        (b"GET http://169.254.169.254/ HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n".to_vec(), 413),
        (format!("GET http://169.254.169.254/ HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(20_000)).into_bytes(), 400),
        // bodies: Content-Length and chunked are consumed
        (b"PUT http://169.254.169.254/latest/api/token HTTP/1.1\r\nX-aws-ec2-metadata-token-ttl-seconds: 5\r\nContent-Length: 3\r\n\r\nabc".to_vec(), 200),
        (b"PUT http://169.254.169.254/latest/api/token HTTP/1.1\r\nx-AWS-ec2-METADATA-token-TTL-seconds: 5\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n".to_vec(), 200),
        (b"PUT http://169.254.169.254/latest/api/token HTTP/1.1\r\nX-aws-ec2-metadata-token-ttl-seconds: 5\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(), 400),
        // methods on metadata paths
        (b"DELETE http://169.254.169.254/latest/meta-data/ HTTP/1.1\r\n\r\n".to_vec(), 405),
    ];
    for (request, want) in &cases {
        let answer = raw(&emu, request);
        assert_eq!(
            status_of(&answer),
            *want,
            "{}",
            String::from_utf8_lossy(request)
        );
        assert!(answer.contains("Connection: close\r\n"), "{answer}");
        let (head, body) = answer.split_once("\r\n\r\n").expect("head and body");
        assert!(
            head.contains(&format!("Content-Length: {}\r\n", body.len()))
                || head.ends_with(&format!("Content-Length: {}", body.len())),
            "{answer}"
        );
    }
    // Origin-form answer carries the real body.
    assert!(raw(&emu, &cases[0].0).ends_with(INSTANCE_ID));

    // A client that connects and leaves, and one that sends half a request and leaves.
    drop(TcpStream::connect(emu.addr()).unwrap());
    {
        let mut half = TcpStream::connect(emu.addr()).unwrap();
        half.write_all(b"GET http://169.254.169.254/ HT").unwrap();
    }
    // Still serving after all of that.
    let answer = raw(
        &emu,
        b"GET http://169.254.169.254/latest/meta-data/instance-id HTTP/1.1\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.ends_with(INSTANCE_ID));

    let log = emu.log();
    let foreign = log
        .iter()
        .find(|l| l.host == "example.com")
        .expect("logged");
    assert_eq!(
        (
            foreign.method.as_str(),
            foreign.path.as_str(),
            foreign.status
        ),
        ("GET", "/", 502)
    );
    let connect = log.iter().find(|l| l.method == "CONNECT").expect("logged");
    assert_eq!(connect.status, 502);
    // The half-sent request above is logged when its connection closes, which may come after the
    // last request: find that one by its path rather than by its place in the log.
    let last = log
        .iter()
        .rev()
        .find(|l| l.path == "/latest/meta-data/instance-id")
        .expect("logged");
    assert_eq!(last.status, 200);
}

// ------------------------------------------------------------------------------------------
// Where the service does not answer (Reach)

/// How long a client given `--max-time 1` / `--timeout=1` may take to give up.
const GIVE_UP: Duration = Duration::from_secs(4);

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let out = f();
    (out, started.elapsed())
}

#[test]
fn refused_reach_refuses_every_connection_at_once() {
    require(&[CURL, GNU_WGET]);
    let emu = Emulator::start_reached(Mode::Optional, Reach::Refused);
    assert_eq!(emu.reach(), Reach::Refused);
    assert!(emu.addr().ip().is_loopback());
    let err = TcpStream::connect_timeout(&emu.addr(), Duration::from_secs(1))
        .expect_err("nothing listens");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    let (out, took) = timed(|| curl(&emu, &[ID_URL]));
    assert_eq!(out.code, Some(7), "curl: couldn't connect: {}", out.stderr);
    assert!(took < GIVE_UP, "{took:?}");
    let out = wget(&emu, &[ID_URL]);
    assert_eq!(out.code, Some(4), "wget: network failure: {}", out.stderr);
    assert!(emu.log().is_empty());
}

#[test]
fn put_lost_reach_never_answers_a_put_and_answers_the_rest() {
    require(&[CURL, GNU_WGET]);
    let emu = Emulator::start_reached(Mode::Optional, Reach::PutLost);
    let ttl = header(TTL_HEADER, "60");
    let (out, took) = timed(|| {
        curl(
            &emu,
            &["--max-time", "1", "-X", "PUT", "-H", &ttl, TOKEN_URL],
        )
    });
    assert_eq!(out.code, Some(28), "curl: timed out: {}", out.stderr);
    assert!(
        took >= Duration::from_millis(900) && took < GIVE_UP,
        "{took:?}"
    );
    let with_wget = [
        "--timeout=1",
        "--method=PUT",
        &format!("--header={ttl}"),
        TOKEN_URL,
    ];
    let (out, took) = timed(|| wget(&emu, &with_wget));
    assert_eq!(out.code, Some(4), "wget: network failure: {}", out.stderr);
    assert!(took < GIVE_UP, "{took:?}");
    // GETs are answered as tokens are optional.
    assert_eq!(curl_status(&emu, &[ID_URL]), (200, INSTANCE_ID.to_string()));
    let log = emu.log();
    assert_eq!(
        summary(&log),
        expect(&[
            ("PUT", "/latest/api/token", NO_ANSWER),
            ("PUT", "/latest/api/token", NO_ANSWER),
            ("GET", "/latest/meta-data/instance-id", 200),
        ])
    );
    assert!(imds_emulator::describe_log(&log).contains("-> no answer"));
    // Required: the GETs of a script that got no token fail.
    emu.set_mode(Mode::Required);
    assert_eq!(curl_status(&emu, &[ID_URL]).0, 401);
}

#[test]
fn blackhole_reach_answers_nothing() {
    require(&[CURL, GNU_WGET]);
    let emu = Emulator::start_reached(Mode::Optional, Reach::Blackhole);
    let (out, took) = timed(|| curl(&emu, &["--max-time", "1", ID_URL]));
    assert_eq!(out.code, Some(28), "curl: timed out: {}", out.stderr);
    assert!(
        took >= Duration::from_millis(900) && took < GIVE_UP,
        "{took:?}"
    );
    let (out, took) = timed(|| wget(&emu, &["--timeout=1", ID_URL]));
    assert_eq!(out.code, Some(4), "wget: network failure: {}", out.stderr);
    assert!(took < GIVE_UP, "{took:?}");
    // Not even a malformed request gets an answer.
    let mut stream = TcpStream::connect(emu.addr()).unwrap();
    stream.write_all(b"NOT HTTP\r\n\r\n").unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(stream.read(&mut buf).is_err(), "no answer, no close");
    assert_eq!(
        summary(&emu.log()),
        expect(&[
            ("GET", "/latest/meta-data/instance-id", NO_ANSWER),
            ("GET", "/latest/meta-data/instance-id", NO_ANSWER),
            ("", "", NO_ANSWER),
        ])
    );
    // Dropping the emulator ends the connections it holds.
    let (_, took) = timed(|| drop(emu));
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(matches!(stream.read(&mut buf), Ok(0) | Err(_)));
}

/// A token header that is sent empty is an invalid token, in both modes. curl never sends a
/// header whose value is empty; GNU wget does (so `--fix` gives wget its token header only when
/// there is a token).
#[test]
fn an_empty_token_header_is_invalid_and_only_wget_sends_one() {
    require(&[CURL, GNU_WGET]);
    let emu = Emulator::start(Mode::Optional);
    let empty = header(TOKEN_HEADER, "");
    assert_eq!(curl_status(&emu, &["-H", &empty, ID_URL]).0, 200);
    let out = wget(&emu, &[&format!("--header={empty}"), ID_URL]);
    assert_eq!(out.code, Some(6), "wget: 401 is its exit 6: {}", out.stderr);
    let log = emu.log();
    assert_eq!(log[0].header(TOKEN_HEADER), None, "curl left it out");
    assert_eq!(log[1].header(TOKEN_HEADER), Some(""), "wget sent it");
    assert_eq!(
        summary(&log),
        expect(&[
            ("GET", "/latest/meta-data/instance-id", 200),
            ("GET", "/latest/meta-data/instance-id", 401),
        ])
    );
}

#[test]
fn drop_closes_the_listener() {
    let emu = Emulator::start(Mode::Optional);
    let addr = emu.addr();
    assert!(addr.ip().is_loopback());
    assert_eq!(emu.proxy_url(), format!("http://127.0.0.1:{}", addr.port()));
    let answer = raw(&emu, b"GET http://169.254.169.254/ HTTP/1.1\r\n\r\n");
    assert_eq!(status_of(&answer), 200);
    drop(emu);
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err(),
        "nothing may still listen on {addr}"
    );
}
