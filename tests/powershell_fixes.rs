//! The proof of the PowerShell fixes, since PowerShell cannot run here: each `.fixed` file of
//! `fixtures/powershell/` (a script or Windows user data) parses with the same grammar as its
//! original with no new error or missing node, and every command the fix edited holds the token
//! header (`X-aws-ec2-metadata-token`) in its `-Headers` hashtable, and every inserted fetch the
//! TTL header.

use std::path::{Path, PathBuf};

use imds_lint::powershell::{error_count, headers_of_command_at};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/powershell")
}

/// The PowerShell code of a fixture: the whole script, or its user data's `<powershell>` sections.
fn code(bytes: &[u8], name: &str) -> Option<Vec<Vec<u8>>> {
    if name.ends_with(".ps1") || name.ends_with(".psm1") {
        return Some(vec![bytes.to_vec()]);
    }
    if name.ends_with(".txt") {
        let parsed = imds_lint::frontend::powershell::parse_user_data(bytes, 0);
        return Some(parsed.fragments.into_iter().map(|f| f.text).collect());
    }
    None
}

#[test]
fn fixed_powershell_parses_and_sends_the_token() {
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".fixed"))
        .collect();
    paths.sort();
    for fixed_path in paths {
        let original_path = PathBuf::from(fixed_path.to_string_lossy().trim_end_matches(".fixed"));
        let name = original_path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let (Some(before), Some(after)) = (
            code(&std::fs::read(&original_path).unwrap(), &name),
            code(&std::fs::read(&fixed_path).unwrap(), &name),
        ) else {
            continue;
        };
        assert_eq!(before.len(), after.len(), "{name}: sections");
        for (before, after) in before.iter().zip(&after) {
            checked += 1;
            let (b, a) = (error_count(before).unwrap(), error_count(after).unwrap());
            if a > b {
                failures.push(format!("{name}: {b} error nodes before the fix, {a} after"));
            }
            let text = String::from_utf8_lossy(after);
            let mut edited = 0;
            for (at, _) in text.match_indices("\"X-aws-ec2-metadata-token\" = $") {
                edited += 1;
                let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
                let line = &text[line_start..];
                if line.trim_start().starts_with("if (") {
                    continue; // A WebClient's header line, checked below.
                }
                let headers = headers_of_command_at(after, at);
                if !headers.iter().any(|h| h == "x-aws-ec2-metadata-token") {
                    failures.push(format!(
                        "{name}: the command at byte {at} does not hold the token header in its AST: {headers:?}"
                    ));
                }
            }
            // Every token request (an inserted fetch, or one the fix sent as PUT or gave a TTL)
            // holds the TTL header in its AST.
            let mut token_requests = 0;
            for (at, _) in text.match_indices("/latest/api/token") {
                token_requests += 1;
                let headers = headers_of_command_at(after, at);
                if !headers
                    .iter()
                    .any(|h| h == "x-aws-ec2-metadata-token-ttl-seconds")
                {
                    failures.push(format!(
                        "{name}: the token request at byte {at} has no TTL header: {headers:?}"
                    ));
                }
            }
            let webclient = text
                .matches("].Headers[\"X-aws-ec2-metadata-token\"]")
                .count()
                + text
                    .matches(".Headers[\"X-aws-ec2-metadata-token\"] = $")
                    .count();
            if edited == 0 && webclient == 0 && token_requests == 0 && before != after {
                failures.push(format!("{name}: the fix sends no token header"));
            }
        }
    }
    assert!(checked >= 15, "only {checked} PowerShell fixes checked");
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

/// The three shapes the grammar gets wrong each leave the request found (see the fixtures).
#[test]
fn grammar_gaps_are_known() {
    let var_path = b"Invoke-RestMethod $base/latest/meta-data/ami-id\n";
    assert!(error_count(var_path).unwrap() > 0);
    let split = b"Set-Item -Path Env:X -Value $fqdn.Split('.')[0]\n";
    assert!(error_count(split).unwrap() > 0);
    // Read without error by 0.26.6 (kept: a regression in the grammar would show here).
    let comma = b"Get-Service -Name W32Time, WinRM | Out-Null\n";
    assert_eq!(error_count(comma).unwrap(), 0);
}

/// Every prefix of every PowerShell fixture (cut at every third byte, so in the middle of
/// strings, hashtables and here-strings) is analysed without a panic, and every request's span
/// lies inside the text.
#[test]
fn truncated_powershell_is_analysed_without_panic() {
    let options = imds_lint::shell::Options::default();
    let mut cases = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.ends_with(".ps1") || name.ends_with(".psm1")) {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for cut in (0..=bytes.len()).step_by(3) {
            cases += 1;
            let fragment = imds_lint::frontend::powershell::fragment(
                &bytes[..cut],
                0,
                imds_lint::fragment::OffsetMap::verbatim(0),
                vec![imds_lint::fragment::InsertRegion::verbatim()],
            );
            let analysis = imds_lint::powershell::analyze_with(&fragment, &options);
            for request in &analysis.requests {
                assert!(
                    request.span.end.0 <= cut,
                    "{name}[..{cut}]: a request spans past the text"
                );
            }
        }
    }
    assert!(cases > 1000, "only {cases} prefixes");
}

/// The scripts `tests/support/extract_scripts.py --check` finds in a host file (PyYAML for YAML,
/// python-hcl2 is not needed for Terraform): (name, shell, script), or its parse errors.
fn extracted(path: &Path) -> Result<Vec<(String, String, String)>, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/extract_scripts.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg("--check")
        .arg(path)
        .output()
        .expect("python3 (with PyYAML, .ci/run installs it)");
    assert!(
        out.status.success(),
        "extract_scripts.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entry = report.as_object().unwrap().values().next().unwrap().clone();
    let errors = entry["errors"].as_array().unwrap();
    if !errors.is_empty() {
        return Err(format!("{errors:?}"));
    }
    Ok(entry["scripts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let field = |k: &str| s[k].as_str().unwrap_or_default().to_owned();
            (field("name"), field("shell"), field("script"))
        })
        .collect())
}

/// EC2Launch v2 YAML user data, plain or inside CloudFormation, Terraform or a Secret: each fixed
/// file still parses (PyYAML, base64), holds the same scripts, each PowerShell one with no more
/// tree-sitter-powershell errors than before and the token header, each bash one `bash -n` clean.
#[test]
fn fixed_ec2launch_v2_user_data_still_parses() {
    let mut checked = 0;
    let mut failures = Vec::new();
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let fixed = entry.unwrap().path();
        let name = fixed.file_name().unwrap().to_string_lossy().into_owned();
        let Some(original) = name.strip_suffix(".fixed") else {
            continue;
        };
        if !original.starts_with("ec2launch-v2") {
            continue;
        }
        let copy = tmp.path().join(original);
        std::fs::copy(&fixed, &copy).unwrap();
        let before = extracted(&fixtures().join(original)).unwrap();
        let after = match extracted(&copy) {
            Ok(after) => after,
            Err(errors) => {
                failures.push(format!("{name}: does not parse: {errors}"));
                continue;
            }
        };
        if before.len() != after.len() || before.is_empty() {
            failures.push(format!(
                "{name}: {} scripts before the fix, {} after",
                before.len(),
                after.len()
            ));
            continue;
        }
        for ((_, shell, was), (script, _, now)) in before.iter().zip(&after) {
            checked += 1;
            if shell == "powershell" {
                let (b, a) = (
                    error_count(was.as_bytes()).unwrap(),
                    error_count(now.as_bytes()).unwrap(),
                );
                if a > b {
                    failures.push(format!(
                        "{name} {script}: {b} error nodes before, {a} after"
                    ));
                }
                if was != now && !now.contains("\"X-aws-ec2-metadata-token\" = $IMDS_TOKEN") {
                    failures.push(format!("{name} {script}: changed without the token header"));
                }
            } else {
                let file = tmp.path().join("script.sh");
                std::fs::write(&file, now).unwrap();
                let ok = std::process::Command::new("bash")
                    .arg("-n")
                    .arg(&file)
                    .status()
                    .unwrap()
                    .success();
                if !ok {
                    failures.push(format!("{name} {script}: bash -n fails"));
                }
            }
        }
    }
    assert!(checked >= 6, "only {checked} EC2Launch v2 scripts checked");
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}
