//! Whether a URL (as a shell would expand it) points at the EC2 instance metadata service, and
//! which of its paths. Other clouds' metadata protocols on the same address are not IMDS.

/// Stands for a part of a word whose value cannot be known (a command substitution, `$1`).
pub const UNKNOWN: char = '\u{1}';

/// The host spellings that reach IMDS (compared case-insensitively).
const HOSTS: &[&str] = &[
    "169.254.169.254",
    "[fd00:ec2::254]",
    "instance-data",
    "instance-data.ec2.internal",
    "2852039166",
    "0xa9fea9fe",
];

/// The hosts that reach IMDS in one run: the built-in spellings, and the names its configuration
/// adds (`extra-hosts`: a proxy, an internal alias). A value, so that runs with different
/// configurations can share a process; the default adds none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Endpoints {
    /// Lower case.
    extra: Vec<String>,
}

impl Endpoints {
    /// The built-in hosts and `extra` (compared case-insensitively).
    pub fn new<I>(extra: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        Endpoints {
            extra: extra
                .into_iter()
                .map(|h| h.as_ref().to_ascii_lowercase())
                .collect(),
        }
    }

    /// The host names added to the built-in ones, in lower case (for the prefilter).
    pub fn extra_hosts(&self) -> &[String] {
        &self.extra
    }
}

/// Whether a path (and query) is one IMDS serves, or may be: the root (`/`, which lists the
/// versions), `/latest/…`, `/1.0/…`, a dated version (`/2021-07-15/…`), or a first segment that
/// cannot be read (built from a variable). Any other first segment is another service on the
/// same address: Linode (`/v1/…`), Hetzner (`/hetzner/v1/…`), OpenStack (`/openstack/…`), Google
/// (`/computeMetadata/…`), Azure and DigitalOcean (`/metadata/…`), Oracle (`/opc/…`).
fn is_aws_path(path: &str) -> bool {
    let first = path
        .trim_start_matches('/')
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    first.is_empty() || first.contains(UNKNOWN) || first == "latest" || first == "1.0" || {
        let b = first.as_bytes();
        b.len() == 10
            && b.iter().enumerate().all(|(i, c)| {
                if i == 4 || i == 7 {
                    *c == b'-'
                } else {
                    c.is_ascii_digit()
                }
            })
    }
}

/// A URL that reaches the metadata service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataUrl {
    /// The scheme and host as written, e.g. `http://169.254.169.254` or `[fd00:ec2::254]:80`.
    pub origin: String,
    /// The path and query (`/latest/meta-data/…`), empty for the bare host. May hold [`UNKNOWN`].
    pub path: String,
}

impl MetadataUrl {
    pub fn is_token_path(&self) -> bool {
        let path = self.path.split(['?', '#']).next().unwrap_or_default();
        path.trim_end_matches('/') == "/latest/api/token"
    }

    pub fn is_ipv6(&self) -> bool {
        self.origin.contains('[')
    }
}

/// Reads `url` as curl or wget would and says whether it reaches IMDS, at one of `endpoints`.
pub fn classify(url: &str, endpoints: &Endpoints) -> Option<MetadataUrl> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let (scheme_len, rest) = if lower.starts_with("http://") {
        (7, url.get(7..)?)
    } else if lower.starts_with("https://") {
        (8, url.get(8..)?)
    } else if lower.contains("://") {
        return None;
    } else {
        (0, url)
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..authority_end)?;
    let path = rest.get(authority_end..)?;
    if authority.contains(UNKNOWN) {
        return None;
    }
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = split_port(host_port)?;
    if !HOSTS.iter().any(|h| h.eq_ignore_ascii_case(host))
        && !endpoints.extra.iter().any(|h| h.eq_ignore_ascii_case(host))
    {
        return None;
    }
    if port.is_some_and(|p| p != "80") {
        return None;
    }
    if !is_aws_path(path) {
        return None;
    }
    Some(MetadataUrl {
        origin: url.get(..scheme_len + authority_end)?.to_owned(),
        path: path.to_owned(),
    })
}

fn split_port(host_port: &str) -> Option<(&str, Option<&str>)> {
    if host_port.starts_with('[') {
        let close = host_port.find(']')?;
        let host = host_port.get(..=close)?;
        let after = host_port.get(close + 1..)?;
        return match after.strip_prefix(':') {
            Some(port) => Some((host, Some(port))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match host_port.split_once(':') {
        Some((host, port)) => Some((host, Some(port))),
        None => Some((host_port, None)),
    }
}

/// The byte strings whose absence proves a file makes no metadata request (the prefilter).
/// Whether text names an endpoint spelling at all (what the prefilter looks for), in any case:
/// code cut out of other code is worth a fragment of its own only then.
pub fn names_endpoint(text: &[u8]) -> bool {
    let lower = text.to_ascii_lowercase();
    prefilter_needles()
        .iter()
        .any(|n| memchr::memmem::find(&lower, n.to_ascii_lowercase().as_bytes()).is_some())
}

pub fn prefilter_needles() -> &'static [&'static str] {
    &[
        "169.254.169.254",
        "fd00:ec2::254",
        "instance-data",
        "2852039166",
        "0xa9fea9fe",
        "0xA9FEA9FE",
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of(url: &str) -> Option<String> {
        classify(url, &Endpoints::default()).map(|m| m.path)
    }

    #[test]
    fn every_spelling_of_the_endpoint() {
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "169.254.169.254/latest/meta-data/",
            "http://169.254.169.254:80/latest/meta-data/",
            "http://[fd00:ec2::254]/latest/meta-data/",
            "[FD00:EC2::254]:80/latest/meta-data/",
            "http://instance-data/latest/meta-data/",
            "http://instance-data.ec2.internal/latest/meta-data/",
            "http://2852039166/latest/meta-data/",
            "http://0xA9FEA9FE/latest/meta-data/",
            "HTTP://169.254.169.254/latest/meta-data/",
        ] {
            assert_eq!(path_of(url).as_deref(), Some("/latest/meta-data/"), "{url}");
        }
        assert_eq!(path_of("169.254.169.254").as_deref(), Some(""));
    }

    #[test]
    fn aws_paths_and_paths_that_cannot_be_read() {
        for url in [
            "http://169.254.169.254/",
            "http://169.254.169.254?x",
            "http://169.254.169.254/latest",
            "http://169.254.169.254/latest/api/token",
            "http://169.254.169.254/1.0/meta-data/",
            "http://169.254.169.254/2009-04-04/meta-data/instance-id",
            "http://169.254.169.254/\u{1}",
            "http://169.254.169.254/\u{1}/meta-data/",
            "http://169.254.169.254/v\u{1}/meta-data/",
        ] {
            assert!(path_of(url).is_some(), "{url}");
        }
    }

    #[test]
    fn not_the_endpoint() {
        for url in [
            "http://169.254.170.2/v2/metadata",
            "http://169.254.169.253/",
            "http://169.254.169.254:8080/latest/meta-data/",
            "http://example.com/169.254.169.254/latest/meta-data/",
            "http://example.com/?u=http://169.254.169.254/",
            "http://169.254.169.254.nip.io/latest/",
            "http://169.254.169.254/computeMetadata/v1/instance/id",
            "http://169.254.169.254/metadata/instance?api-version=2021-02-01",
            "http://169.254.169.254/metadata/v1/id",
            "http://169.254.169.254/openstack/latest/meta_data.json",
            "http://169.254.169.254/opc/v2/instance/",
            "ftp://169.254.169.254/latest/",
            "http://\u{1}/latest/meta-data/",
            "metadata.google.internal/computeMetadata/v1/",
            // Linode, Hetzner and other services on the same address.
            "http://169.254.169.254/v1/token",
            "http://169.254.169.254/v1/instance",
            "http://169.254.169.254/hetzner/v1/metadata",
            "http://169.254.169.254/hetzner/v1/userdata",
            "http://169.254.169.254/metadata/v1.json",
            "http://169.254.169.254/opc/v1/instance/",
            "http://169.254.169.254/openstack",
            "http://169.254.169.254/meta-data/instance-id",
            "http://169.254.169.254/2021-7-15/meta-data/",
            "http://169.254.169.254/latestx/meta-data/",
        ] {
            assert_eq!(path_of(url), None, "{url}");
        }
    }

    #[test]
    fn the_token_path() {
        let endpoints = Endpoints::default();
        let token = classify("http://169.254.169.254/latest/api/token", &endpoints);
        assert!(token.is_some_and(|t| t.is_token_path()));
        let other = classify("http://169.254.169.254/latest/api/tokens", &endpoints);
        assert!(other.is_some_and(|t| !t.is_token_path()));
    }

    #[test]
    fn extra_hosts_count_only_where_they_are_configured() {
        let proxy = Endpoints::new(["Metadata.Internal", "[FD00::1]"]);
        assert_eq!(proxy.extra_hosts(), ["metadata.internal", "[fd00::1]"]);
        for url in [
            "http://metadata.internal/latest/meta-data/",
            "http://METADATA.internal:80/latest/meta-data/",
            "[fd00::1]/latest/meta-data/",
        ] {
            let found = classify(url, &proxy).map(|m| m.path);
            assert_eq!(found.as_deref(), Some("/latest/meta-data/"), "{url}");
            assert_eq!(classify(url, &Endpoints::default()), None, "{url}");
        }
        // Every built-in spelling stays, and other hosts stay out.
        let builtin = "http://169.254.169.254/latest/meta-data/";
        assert!(classify(builtin, &proxy).is_some());
        assert_eq!(classify("http://metadata.internal.example/", &proxy), None);
    }
}
