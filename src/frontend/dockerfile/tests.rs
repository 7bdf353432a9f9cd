use super::*;

#[test]
fn busybox_images() {
    for image in [
        "alpine",
        "busybox",
        "alpine:3.19",
        "ALPINE:3.19",
        "busybox:1.36",
        "docker.io/library/busybox:1.36",
        "public.ecr.aws/docker/library/alpine:3.19",
        "registry.local:5000/alpine",
        "alpine@sha256:0123abcd",
        "busybox:1.36@sha256:0123abcd",
        "python:3.12-alpine",
        "node:20-alpine3.19",
        "alpine:${VERSION}",
    ] {
        assert!(busybox_image(image), "{image}");
    }
    for image in [
        "",
        "ubuntu:22.04",
        "amazonlinux:2023",
        "registry.local:5000/ubuntu",
        "debian:bookworm-slim",
        "curlimages/curl:8.5.0",
        "${BASE}",
        "$BASE_IMAGE:alpine-less",
    ] {
        assert!(!busybox_image(image), "{image}");
    }
}

fn fragments(dockerfile: &str) -> Vec<String> {
    parse(dockerfile.as_bytes(), 0)
        .fragments
        .into_iter()
        .map(|f| String::from_utf8_lossy(&f.text).into_owned())
        .collect()
}

#[test]
fn container_side_and_the_scripts_a_container_runs() {
    let parsed = parse(
            b"FROM builder AS b\nCOPY tool.sh /tool.sh\nFROM debian\nRUN curl -s http://169.254.169.254/\nWORKDIR /app\nCOPY scripts/start.sh bin/\nCOPY a.sh b.sh /opt/\nCOPY --from=b /tool.sh /tool.sh\nADD run.sh /run.sh\nENTRYPOINT [\"/app/bin/start.sh\"]\nCMD sh /opt/b.sh && /tool.sh\nHEALTHCHECK CMD [\"/run.sh\"]\n",
            0,
        );
    // ENTRYPOINT, CMD and HEALTHCHECK run when the container runs; RUN does not.
    assert_eq!(parsed.container_side.len(), 3);
    let scripts: Vec<String> = parsed
        .container_scripts
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    // `/tool.sh` came from another stage (`--from`): not a file of the build context.
    assert_eq!(scripts, ["scripts/start.sh", "b.sh", "run.sh"]);
}

#[test]
fn names() {
    for name in [
        "Dockerfile",
        "Containerfile",
        "app.dockerfile",
        "Dockerfile.dev",
        "x.Dockerfile",
    ] {
        assert!(is_dockerfile(Path::new(name)), "{name}");
    }
    assert!(!is_dockerfile(Path::new("README.md")));
}

#[test]
fn shell_form_keeps_continuations_and_blanks_comment_lines() {
    // "# note" becomes five blanks and a continuation: offsets stay, the shell sees nothing.
    let f = fragments("FROM x\nRUN a && \\\n# note\n    curl -s http://169.254.169.254/\n");
    assert_eq!(f, ["a && \\\n     \\\n    curl -s http://169.254.169.254/"]);
}

#[test]
fn heredocs_and_exec_forms() {
    let f = fragments("FROM x\nRUN <<EOF\ncurl http://169.254.169.254/\nEOF\n");
    assert_eq!(f, ["curl http://169.254.169.254/\n"]);
    let f = fragments("FROM x\nRUN <<EOF bash\ncurl a\nEOF\n");
    assert_eq!(f, ["bash <<EOF\ncurl a\nEOF"]);
    let f = fragments("FROM x\nCMD [\"sh\", \"-c\", \"curl \\\"a\\\"\"]\n");
    assert_eq!(f, ["curl \"a\""]);
    // A client run directly: a host of its own, the same command in shell form.
    let parsed = parse(
        b"FROM x\nENTRYPOINT [\"/usr/bin/curl\", \"-s\", \"http://x/\"]\n",
        0,
    );
    assert!(parsed.fragments.is_empty());
    let host = &parsed.embedded[0];
    assert_eq!(host.bytes, b"'/usr/bin/curl' '-s' 'http://x/'");
    assert_eq!(host.codec, Codec::ExecForm);
    // "FROM x\nENTRYPOINT " is 18 bytes; the array is 36.
    assert_eq!((host.span.start.0, host.span.end.0), (18, 54));
}

#[test]
fn environment_follows_the_stage() {
    let parsed = parse(
            b"ARG IMDS=169.254.169.254\nFROM x\nARG IMDS\nENV MD=http://${IMDS}/latest\nRUN curl $MD\nFROM y\nRUN curl $MD\n",
            0,
        );
    let first = &parsed.fragments[0].environment;
    assert!(first.contains(&("MD".to_owned(), "http://169.254.169.254/latest".to_owned())));
    assert!(parsed.fragments[1].environment.is_empty());
}

#[test]
fn trailing_comments_do_not_swallow_the_next_instruction() {
    let f = fragments("FROM x\nRUN echo \"a # not\" # note\nRUN curl b\n");
    // The comment is blanked; the command ends before the blanks.
    assert_eq!(f, ["echo \"a # not\"", "curl b"]);
}

#[test]
fn backtick_escape() {
    let f = fragments("# escape=`\nFROM x\nRUN a `\n    b\n");
    assert_eq!(f, ["a \\\n    b"]);
}
