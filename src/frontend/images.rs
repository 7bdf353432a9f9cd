//! Container images and agent options named in YAML (Kubernetes manifests, Helm values,
//! `datadog.yaml`), Dockerfiles and scripts, read line by line from the host's text (so a
//! manifest that does not parse, or a Helm template, is still read): `image: repo:tag` fields,
//! Helm's `image:` mappings with `repository:` and `tag:`, Dockerfile `FROM` lines, and the
//! Datadog Agent's `ec2_prefer_imdsv2` option set to false (`ec2_prefer_imdsv2: false`,
//! `DD_EC2_PREFER_IMDSV2=false`, an env entry `name: DD_EC2_PREFER_IMDSV2` with `value:
//! "false"`). Each becomes a [`Dependency`] whose span is the tag (or the option's value); what
//! versions mean is the rules' business.

use crate::fragment::{HostId, HostSpan};
use crate::model::dependency::{Declared, Dependency, Ecosystem, Syntax};

/// The name an option that turns an agent's IMDSv2 off is recorded under (ecosystem
/// [`Ecosystem::AgentOption`]).
pub const DATADOG_PREFER_IMDSV2: &str = "ec2_prefer_imdsv2";

/// One line of the host with its offset.
struct Line<'a> {
    start: usize,
    text: &'a str,
}

fn lines(text: &str) -> Vec<Line<'_>> {
    lines_at(text, 0).collect()
}

/// The lines of `text`, which starts at `offset` in the host.
fn lines_at(text: &str, offset: usize) -> impl Iterator<Item = Line<'_>> {
    let mut start = offset;
    text.split_inclusive('\n').map(move |line| {
        let at = start;
        start += line.len();
        Line {
            start: at,
            text: line.trim_end_matches(['\n', '\r']),
        }
    })
}

/// A YAML scalar as written after `key:` on a line, without quotes and a trailing comment, with
/// its offset in the line.
fn scalar_after<'a>(line: &'a str, key: &str) -> Option<(&'a str, usize)> {
    let trimmed = line.trim_start();
    let trimmed = trimmed.strip_prefix("- ").map_or(trimmed, str::trim_start);
    // `key:`, `"key":` (JSON), and CloudFormation's capitalised `Image:`.
    let strip_key = |text: &'a str| -> Option<&'a str> {
        let (first, rest) = (key.as_bytes().first()?, key.get(1..)?);
        let written = text.as_bytes().first()?;
        (written == first || *written == first.to_ascii_uppercase())
            .then(|| text.get(1..)?.strip_prefix(rest))
            .flatten()
    };
    let rest = strip_key(trimmed)
        .or_else(|| strip_key(trimmed.strip_prefix('"')?)?.strip_prefix('"'))
        .and_then(|r| r.strip_prefix(':'))?;
    let value_start = rest.len() - rest.trim_start().len();
    let value = rest.trim_start();
    let value = match value.chars().next() {
        Some(q @ ('"' | '\'')) => value.get(1..)?.split(q).next()?,
        _ => value.split(" #").next()?.trim_end(),
    };
    let quote = usize::from(rest.trim_start().starts_with(['"', '\'']));
    let at = line.len() - rest.len() + value_start + quote;
    Some((value, at))
}

/// The indentation of a line (a sequence dash counts as indentation of what follows it).
fn indent(line: &str) -> usize {
    let spaces = line.len() - line.trim_start().len();
    match line.trim_start().strip_prefix("- ") {
        Some(rest) => spaces + 2 + (rest.len() - rest.trim_start().len()),
        None => spaces,
    }
}

/// An image reference split into its repository as the table names it (without `docker.io/`
/// and `library/`) and its tag with the tag's offset in the reference; the tag is `None` when
/// the reference has none (or only a digest).
fn reference(text: &str) -> Option<(String, Option<(&str, usize)>)> {
    let without_digest = text.split('@').next()?;
    let last_slash = without_digest.rfind('/').map_or(0, |s| s + 1);
    let (repository, tag) = match without_digest.get(last_slash..)?.find(':') {
        Some(colon) => {
            let at = last_slash + colon;
            (
                without_digest.get(..at)?,
                Some((without_digest.get(at + 1..)?, at + 1)),
            )
        }
        None => (without_digest, None),
    };
    if repository.is_empty()
        || !repository
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':'))
    {
        return None;
    }
    let mut name = repository.to_ascii_lowercase();
    for registry in ["docker.io/", "index.docker.io/", "registry-1.docker.io/"] {
        if let Some(rest) = name.strip_prefix(registry) {
            name = rest.to_owned();
        }
    }
    if let Some(rest) = name.strip_prefix("library/") {
        name = rest.to_owned();
    }
    Some((name, tag))
}

/// Records the image `text` written at `base` in the host.
fn add_image(out: &mut Vec<Dependency>, host: HostId, text: &str, base: usize) {
    let Some((name, tag)) = reference(text) else {
        return;
    };
    let (requirement, span) = match tag {
        Some((tag, at)) => (tag, HostSpan::new(base + at, base + at + tag.len())),
        // No tag: whatever `latest` is when it is pulled; the finding would point at the name.
        None => ("", HostSpan::new(base, base + text.len())),
    };
    out.push(Dependency {
        host,
        ecosystem: Ecosystem::Image,
        name,
        requirement: requirement.to_owned(),
        syntax: Syntax::ImageTag,
        span,
        declared: Declared::Installed,
    });
}

/// Images in YAML: `image: repo:tag`, and `image:` mappings (Helm values) whose `repository:`
/// and `tag:` are read together.
pub fn yaml_images(bytes: &[u8], host: HostId) -> Vec<Dependency> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // Only the lines that say `image` or `Image` are looked at: the file's lines are listed
    // only when a value needs them.
    let mut all_lines = None;
    let mut previous = None;
    for found in memchr::memmem::find_iter(bytes, b"mage") {
        let start =
            memchr::memrchr(b'\n', bytes.get(..found).unwrap_or_default()).map_or(0, |i| i + 1);
        if previous == Some(start) {
            continue;
        }
        previous = Some(start);
        let end = memchr::memchr(b'\n', bytes.get(found..).unwrap_or_default())
            .map_or(text.len(), |i| found + i);
        let line = Line {
            start,
            text: text
                .get(start..end)
                .unwrap_or_default()
                .trim_end_matches(['\n', '\r']),
        };
        let Some((value, at)) = scalar_after(line.text, "image") else {
            continue;
        };
        if !value.is_empty() {
            if !value.contains("{{") && !value.starts_with(['{', '[', '&', '*', '|', '>']) {
                add_image(&mut out, host, value, line.start + at);
            }
            continue;
        }
        // An `image:` mapping: its keys are the following lines indented deeper.
        let own = indent(line.text);
        let mut repository = None;
        let mut tag = None;
        let mut image_name = None;
        let mut registry = None;
        let following = text
            .get(end..)
            .unwrap_or_default()
            .strip_prefix('\n')
            .unwrap_or_default();
        for inner in lines_at(following, end + 1) {
            let content = inner.text.trim_start();
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            if indent(inner.text) <= own {
                break;
            }
            if let Some((value, at)) = scalar_after(inner.text, "repository") {
                repository = Some((value, inner.start + at));
            } else if let Some((value, at)) = scalar_after(inner.text, "tag") {
                tag = Some((value, inner.start + at));
            } else if let Some((value, _)) = scalar_after(inner.text, "name") {
                image_name = Some(value);
            } else if let Some((value, _)) = scalar_after(inner.text, "registry") {
                registry = Some(value);
            }
        }
        // The Datadog chart's layout: `name:` under a registry (the mapping's, the values'
        // top-level `registry:`, or the chart's default).
        let from_parts = match (repository, image_name) {
            (Some(_), _) | (None, None) => None,
            (None, Some(image_name)) => registry
                .or_else(|| top_level_registry(all_lines.get_or_insert_with(|| lines(text))))
                .filter(|r| !r.is_empty() && !r.contains("{{"))
                .map(|r| format!("{}/{image_name}", r.trim_end_matches('/'))),
        };
        let Some(repository) = repository.map(|(r, _)| r.to_owned()).or(from_parts) else {
            continue;
        };
        let Some((name, _)) = reference(&repository) else {
            continue;
        };
        let (requirement, span) = match tag {
            Some((tag, at)) if !tag.contains("{{") => (tag, HostSpan::new(at, at + tag.len())),
            Some((_, at)) => ("", HostSpan::new(at, at)),
            None => continue,
        };
        out.push(Dependency {
            host,
            ecosystem: Ecosystem::Image,
            name,
            requirement: requirement.to_owned(),
            syntax: Syntax::ImageTag,
            span,
            declared: Declared::Installed,
        });
    }
    out
}

/// The registry a Helm values file sets for all its images: a top-level `registry:`, or, in the
/// Datadog chart's values (a top-level `datadog:` mapping), the chart's default registry.
fn top_level_registry<'t>(lines: &[Line<'t>]) -> Option<&'t str> {
    let top = |key: &str| {
        lines
            .iter()
            .filter(|l| indent(l.text) == 0)
            .find_map(|l| scalar_after(l.text, key).map(|(v, _)| v))
    };
    top("registry").or_else(|| top("datadog").map(|_| DATADOG_CHART_REGISTRY))
}

/// What the Datadog Helm chart's values hold (its top-level `datadog:` mapping): such a file is
/// read for the images it names by `name:` alone.
pub const DATADOG_CHART_VALUES: &str = "\ndatadog:";

/// Where the Datadog Helm chart pulls its images from unless its values say otherwise.
const DATADOG_CHART_REGISTRY: &str = "gcr.io/datadoghq";

/// Images in a Dockerfile's `FROM` lines (`FROM [--platform=…] image[:tag] [AS name]`).
pub fn dockerfile_images(bytes: &[u8], host: HostId) -> Vec<Dependency> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in lines(text) {
        let content = line.text.trim_start();
        let Some(head) = content.get(..5) else {
            continue;
        };
        if !head.eq_ignore_ascii_case("FROM ") {
            continue;
        }
        let base = line.start + (line.text.len() - content.len());
        let mut offset = 5;
        for word in content.get(5..).unwrap_or_default().split(' ') {
            if word.is_empty() || word.starts_with("--") {
                offset += word.len() + 1;
                continue;
            }
            if !word.contains('$') {
                add_image(&mut out, host, word, base + offset);
            }
            break;
        }
    }
    out
}

/// The Datadog Agent's `ec2_prefer_imdsv2` turned off, in any text: `ec2_prefer_imdsv2: false`
/// (datadog.yaml, Helm values), `DD_EC2_PREFER_IMDSV2=false` or `: false` (an environment, a
/// Dockerfile `ENV`), or an env entry whose `name:` is `DD_EC2_PREFER_IMDSV2` and whose next
/// line's `value:` is false.
pub fn agent_options(bytes: &[u8], host: HostId) -> Vec<Dependency> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // Most files never name the option: one look at the whole text before one at each line.
    if !text.to_ascii_lowercase().contains(DATADOG_PREFER_IMDSV2) {
        return out;
    }
    let lines = lines(text);
    let is_false = |v: &str| {
        matches!(
            v.to_ascii_lowercase().as_str(),
            "false" | "no" | "off" | "0"
        )
    };
    let mut push = |value: &str, at: usize| {
        out.push(Dependency {
            host,
            ecosystem: Ecosystem::AgentOption,
            name: DATADOG_PREFER_IMDSV2.to_owned(),
            requirement: value.to_owned(),
            syntax: Syntax::Exact,
            span: HostSpan::new(at, at + value.len()),
            declared: Declared::Manifest,
        });
    };
    for (index, line) in lines.iter().enumerate() {
        let lower = line.text.to_ascii_lowercase();
        let Some(found) = lower.find(DATADOG_PREFER_IMDSV2) else {
            continue;
        };
        if lower.trim_start().starts_with('#') || lower.trim_start().starts_with("//") {
            continue;
        }
        let after_start = found + DATADOG_PREFER_IMDSV2.len();
        let after = line.text.get(after_start..).unwrap_or_default();
        // `…IMDSV2=false`, `…imdsv2: false`, `ENV DD_EC2_PREFER_IMDSV2 false`.
        let rest = after.trim_start_matches([':', '=', ' ', '\t']);
        let quote = usize::from(rest.starts_with(['"', '\'']));
        let value: &str = rest
            .get(quote..)
            .unwrap_or_default()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or_default();
        if !value.is_empty() && rest.len() < after.len() {
            if is_false(value) {
                let at = line.start + after_start + (after.len() - rest.len()) + quote;
                push(value, at);
            }
            continue;
        }
        // `- name: DD_EC2_PREFER_IMDSV2` followed by `value: "false"`.
        if scalar_after(line.text, "name").is_some() {
            if let Some(next) = lines.get(index + 1) {
                if let Some((value, at)) = scalar_after(next.text, "value") {
                    if is_false(value) {
                        push(value, next.start + at);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(text: &str) -> Vec<(String, String, String)> {
        let mut found = yaml_images(text.as_bytes(), 0);
        found.extend(dockerfile_images(text.as_bytes(), 0));
        found
            .into_iter()
            .map(|d| {
                let at = text
                    .get(d.span.start.0..d.span.end.0)
                    .unwrap_or("?")
                    .to_owned();
                (d.name, d.requirement, at)
            })
            .collect()
    }

    #[test]
    fn references_lose_the_default_registry_and_keep_their_tag() {
        let one = |text: &str| images(text).pop();
        assert_eq!(
            one("image: docker.io/jtblin/kube2iam:0.10.4"),
            Some(("jtblin/kube2iam".into(), "0.10.4".into(), "0.10.4".into()))
        );
        assert_eq!(
            one("  - image: \"gcr.io/datadoghq/agent:7.50.0\" # pinned"),
            Some((
                "gcr.io/datadoghq/agent".into(),
                "7.50.0".into(),
                "7.50.0".into()
            ))
        );
        assert_eq!(
            one("image: registry.local:5000/jtblin/kube2iam"),
            Some((
                "registry.local:5000/jtblin/kube2iam".into(),
                String::new(),
                "registry.local:5000/jtblin/kube2iam".into()
            ))
        );
        assert_eq!(
            one("image: amazon/amazon-ecs-agent:v1.50.0@sha256:abcd"),
            Some((
                "amazon/amazon-ecs-agent".into(),
                "v1.50.0".into(),
                "v1.50.0".into()
            ))
        );
        assert_eq!(one("image: {{ .Values.image }}"), None);
        assert_eq!(
            one(r#"      "image": "amazon/amazon-ecs-agent:v1.60.0","#),
            Some((
                "amazon/amazon-ecs-agent".into(),
                "v1.60.0".into(),
                "v1.60.0".into()
            ))
        );
        assert_eq!(
            one("  Image: jtblin/kube2iam:0.11.0"),
            Some(("jtblin/kube2iam".into(), "0.11.0".into(), "0.11.0".into()))
        );
        assert_eq!(
            one("FROM --platform=linux/amd64 datadog/agent:7.40.1 AS agent"),
            Some(("datadog/agent".into(), "7.40.1".into(), "7.40.1".into()))
        );
        assert_eq!(one("FROM ${BASE}:1.0"), None);
    }
}
