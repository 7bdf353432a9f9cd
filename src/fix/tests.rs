use super::*;

#[test]
fn encoding_through_layers() {
    let text = r#"-H "T: $(curl -X PUT "u")""#;
    assert_eq!(encode(text, &[Quoting::SingleQuoted]), text);
    assert_eq!(
        encode(text, &[Quoting::DoubleQuoted]),
        r#"-H \"T: \$(curl -X PUT \"u\")\""#
    );
    // Inside '…' inside "…": the single-quote layer changes nothing, the double one escapes.
    assert_eq!(
        encode("it's $x", &[Quoting::DoubleQuoted, Quoting::SingleQuoted]),
        r#"it'\\''s \$x"#
    );
    assert_eq!(
        encode("a $b `c`", &[Quoting::UnquotedHeredoc]),
        r"a \$b \`c\`"
    );
}

/// The fixed script and the applicability of every IMDS001 fix of `script`, applied at once.
fn fix_all(script: &str) -> (String, Vec<Applicability>) {
    let analysis = crate::shell::analyze(&crate::fragment::Fragment::script(script.as_bytes()));
    let targets: Vec<Target> = (0..analysis.requests.len())
        .filter(|&i| {
            let r = &analysis.requests[i];
            !r.token_endpoint && matches!(r.token, TokenUse::Absent | TokenUse::Unreadable(_))
        })
        .map(|request| Target {
            request,
            fix: RequestFix::FetchToken,
        })
        .collect();
    let fixes: Vec<Fix> = plan(&analysis, &targets, FixSettings::default())
        .into_iter()
        .flatten()
        .collect();
    let mut edits: Vec<Edit> = Vec::new();
    for fix in &fixes {
        for edit in &fix.edits {
            if !edits.contains(edit) {
                edits.push(edit.clone());
            }
        }
    }
    edits.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = script.to_owned();
    for edit in edits.iter().rev() {
        out.replace_range(edit.span.start.0..edit.span.end.0, &edit.content);
    }
    (out, fixes.iter().map(|f| f.applicability).collect())
}

const URL: &str = "http://169.254.169.254/latest/meta-data/instance-id";

#[test]
fn the_fetch_is_bounded_silent_and_cannot_fail() {
    let (fixed, safety) = fix_all(&format!("set -euo pipefail\nID=$(curl -s {URL})\n"));
    assert_eq!(safety, [Applicability::Safe]);
    assert_eq!(
            fixed,
            format!(
                "set -euo pipefail\n\
                 IMDS_TOKEN=$(curl -sf --connect-timeout 1 --max-time 2 -X PUT \"http://169.254.169.254/latest/api/token\" -H \"X-aws-ec2-metadata-token-ttl-seconds: 21600\" || true)\n\
                 ID=$(curl -H \"X-aws-ec2-metadata-token: $IMDS_TOKEN\" -s {URL})\n"
            )
        );
    let (fixed, safety) = fix_all(&format!("ID=$(wget -qO- {URL})\n"));
    assert_eq!(safety, [Applicability::Safe]);
    assert_eq!(
            fixed,
            format!(
                "IMDS_TOKEN=$(wget -q -O - --timeout=1 --tries=1 --method=PUT --header=\"X-aws-ec2-metadata-token-ttl-seconds: 21600\" \"http://169.254.169.254/latest/api/token\" || true)\n\
                 ID=$(wget ${{IMDS_TOKEN:+\"--header=X-aws-ec2-metadata-token: $IMDS_TOKEN\"}} -qO- {URL})\n"
            )
        );
}

#[test]
fn handled_failures_are_safe_under_set_e() {
    for script in [
        format!("set -e\nif curl -sf -m 2 {URL} >/dev/null; then echo ec2; fi\n"),
        format!("set -euo pipefail\nID=$(curl -sf -m 2 {URL} || true)\n"),
        format!("#!/bin/sh -e\ncurl -sf {URL} && echo ec2 || echo elsewhere\n"),
        format!("set -o errexit\nif ! wget -q -O /dev/null {URL}; then echo elsewhere; fi\n"),
        format!("set -e\nuntil curl -sf {URL}; do sleep 1; done\n"),
    ] {
        let (fixed, safety) = fix_all(&script);
        assert_eq!(safety, [Applicability::Safe], "{script}");
        assert_ne!(fixed, script);
    }
}

#[test]
fn what_stays_unsafe() {
    for (script, because) in [
        (format!("sh -c 'wget -qO- {URL}'\n"), INLINE_WGET),
        (
            format!("until wget -qO- {URL}; do sleep 1; done\n"),
            INLINE_WGET,
        ),
        (format!("busybox wget -qO- {URL}\n"), "BusyBox wget"),
        (
            format!("curl -H @headers {URL}\n"),
            "may already send a token",
        ),
        (
            format!("$WRAP curl -s {URL}\n"),
            "runs through `$WRAP`, which this scan cannot read",
        ),
        (
            format!("\"$SUDO\" wget -qO- {URL}\n"),
            "runs through `\"$SUDO\"`",
        ),
        (
            format!("$_______________ curl -s {URL}\n"),
            "runs through a template action",
        ),
    ] {
        let analysis = crate::shell::analyze(&crate::fragment::Fragment::script(script.as_bytes()));
        let fixes = plan(
            &analysis,
            &[Target {
                request: 0,
                fix: RequestFix::FetchToken,
            }],
            FixSettings::default(),
        );
        let fix = fixes.into_iter().flatten().next().expect("a fix");
        assert_eq!(fix.applicability, Applicability::Unsafe, "{script}");
        assert!(fix.message.contains(because), "{script}: {}", fix.message);
    }
    // curl leaves out a header whose value is empty: its inline form is safe.
    let (_, safety) = fix_all(&format!("sh -c 'curl -s {URL}'\n"));
    assert_eq!(safety, [Applicability::Safe]);
}

#[test]
fn quoted_options_are_left_alone() {
    assert!(quoted_option(r#""-XGET""#));
    assert!(quoted_option("'--header=X: 0'"));
    assert!(!quoted_option("-XGET"));
    assert!(!quoted_option(r#""GET""#));
    assert!(!quoted_option(r#"--header="X: 0""#));
}

#[test]
fn endpoints_group_by_host() {
    assert_eq!(endpoint_key("http://169.254.169.254"), "169.254.169.254");
    assert_eq!(endpoint_key("169.254.169.254:80"), "169.254.169.254");
    assert_eq!(endpoint_key("HTTP://[FD00:EC2::254]"), "[fd00:ec2::254]");
}

#[test]
fn token_urls_keep_the_spelling() {
    assert_eq!(
        token_url("http://[fd00:ec2::254]"),
        "http://[fd00:ec2::254]/latest/api/token"
    );
    assert_eq!(
        token_url("169.254.169.254:80"),
        "http://169.254.169.254:80/latest/api/token"
    );
}

/// The applicability of every fix planned for the requests of `script`.
fn applicability(script: &str) -> Vec<Option<Applicability>> {
    let analysis = crate::shell::analyze(&crate::fragment::Fragment::script(script.as_bytes()));
    let targets: Vec<Target> = (0..analysis.requests.len())
        .map(|request| Target {
            request,
            fix: RequestFix::FetchToken,
        })
        .collect();
    plan(&analysis, &targets, FixSettings::default())
        .into_iter()
        .map(|fix| fix.map(|f| f.applicability))
        .collect()
}

#[test]
fn fixes_in_a_script_with_syntax_errors_are_unsafe_at_most() {
    let request = "curl -s http://169.254.169.254/latest/meta-data/ami-id\n";
    assert_eq!(applicability(request), [Some(Applicability::Safe)]);
    for broken in [
        "if [ -n \"$x\" ]; then\n  echo (\nfi\n",
        "echo \"unterminated\n",
        "case x in\n",
    ] {
        for script in [format!("{request}{broken}"), format!("{broken}{request}")] {
            let got = applicability(&script);
            assert!(
                got.iter().all(|a| *a != Some(Applicability::Safe)),
                "{script:?}: {got:?}"
            );
        }
    }
    let analysis = crate::shell::analyze(&crate::fragment::Fragment::script(
        format!("{request}echo (\n").as_bytes(),
    ));
    let fix = plan(
        &analysis,
        &[Target {
            request: 0,
            fix: RequestFix::FetchToken,
        }],
        FixSettings::default(),
    );
    let message = &fix[0].as_ref().unwrap().message;
    assert!(
        message.ends_with(
            "(unsafe: the script has syntax errors and was read only as far as it goes)"
        ),
        "{message}"
    );
}
