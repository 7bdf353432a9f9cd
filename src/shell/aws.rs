//! `aws ec2` calls that set instance metadata options, read off a command's words:
//! `run-instances --metadata-options HttpTokens=optional,…` (shorthand or JSON),
//! `modify-instance-metadata-options --http-tokens optional`, and
//! `modify-instance-metadata-defaults --http-tokens …`. Each value keeps its span in the host, so
//! that the settings rules can report it and a fix can replace it.

use crate::fragment::{FragmentSpan, HostId, HostSpan, OffsetMap};
use crate::model::setting::{
    HopDefault, MetadataSetting, OptionsBlock, Source, TokensDefault, Value,
};
use crate::shell::word::Word;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsOperation {
    RunInstances,
    ModifyInstanceMetadataOptions,
    ModifyInstanceMetadataDefaults,
}

impl AwsOperation {
    pub fn name(self) -> &'static str {
        match self {
            AwsOperation::RunInstances => "run-instances",
            AwsOperation::ModifyInstanceMetadataOptions => "modify-instance-metadata-options",
            AwsOperation::ModifyInstanceMetadataDefaults => "modify-instance-metadata-defaults",
        }
    }

    fn from_word(word: &str) -> Option<Self> {
        match word {
            "run-instances" => Some(AwsOperation::RunInstances),
            "modify-instance-metadata-options" => Some(AwsOperation::ModifyInstanceMetadataOptions),
            "modify-instance-metadata-defaults" => {
                Some(AwsOperation::ModifyInstanceMetadataDefaults)
            }
            _ => None,
        }
    }
}

/// One metadata option given to the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsOption {
    /// The API name: `HttpTokens`, `HttpPutResponseHopLimit`, `HttpEndpoint`.
    pub name: &'static str,
    /// As written: `--http-tokens` or `HttpTokens`.
    pub written: String,
    /// The value when it is literal.
    pub value: Option<String>,
    /// The value's characters in the host (or the whole word, when it is not literal).
    pub span: HostSpan,
    /// Whether `span` holds exactly `value`.
    pub replaceable: bool,
}

/// An `aws ec2` call that sets metadata options or launches instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsMetadataCall {
    pub operation: AwsOperation,
    /// The whole command, from `aws` on, in its host.
    pub span: HostSpan,
    /// The operation word (`run-instances`).
    pub operation_span: HostSpan,
    pub options: Vec<AwsOption>,
    /// The `--metadata-options` word of `run-instances`, when given.
    pub metadata_options: Option<HostSpan>,
    /// `run-instances --launch-template`: options not given come from the template.
    pub launch_template: bool,
    /// The `--endpoint-url` word, when given: the API the call is sent to.
    pub endpoint_url: Option<Word>,
    /// The `--cli-input-json` / `--cli-input-yaml` flag and its value, as written, when its
    /// parameters are read from there and the metadata options could not be read in it.
    pub input: Option<(HostSpan, String)>,
    /// Why the endpoint the call is sent to may not be AWS (a variable that could not be read),
    /// when it may not be: then the options it leaves unset are not known.
    pub endpoint_unknown: Option<String>,
}

/// Whether an API endpoint URL is AWS's: `Some(true)` for a host under `amazonaws.com`,
/// `amazonaws.com.cn` or `api.aws`, `Some(false)` for any other host (`localhost`, a moto or
/// LocalStack server), `None` when the host is not known (a variable).
pub fn is_aws_endpoint(url: &str) -> Option<bool> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or_default()
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() || host.contains(crate::shell::endpoint::UNKNOWN) {
        return None;
    }
    Some(
        ["amazonaws.com", "amazonaws.com.cn", "api.aws"]
            .iter()
            .any(|aws| host == *aws || host.ends_with(&format!(".{aws}"))),
    )
}

impl AwsMetadataCall {
    /// The call as an instance metadata setting of `host` (it sets metadata options, or launches
    /// instances and leaves them to EC2's defaults).
    pub fn setting(&self, host: HostId) -> MetadataSetting {
        let call = self;
        let mut setting =
            MetadataSetting::new(Source::AwsCli, call.operation.name(), "", host, call.span);
        setting.head = call.operation_span;
        let field = |name: &str| {
            call.options.iter().find(|o| o.name == name).map(|o| Value {
                key: o.written.clone(),
                text: o.value.clone(),
                span: o.span,
                replaceable: o.replaceable,
                expression: None,
            })
        };
        setting.tokens = field("HttpTokens");
        // Unset options whose value is elsewhere (an input file) or whose call may go to a mock.
        let unknown = match (&call.input, &call.endpoint_unknown) {
            (Some((span, written)), _) => Some((
                *span,
                written.clone(),
                format!("its parameters are read from `{written}`, which is not read"),
            )),
            (None, Some(why)) => Some((call.operation_span, String::new(), why.clone())),
            (None, None) => None,
        };
        if let (None, Some((span, written, why))) = (&setting.tokens, unknown) {
            setting.tokens = Some(Value::expression(
                "HttpTokens",
                span,
                crate::model::setting::Expression {
                    written,
                    opaque: Some(why),
                    ..Default::default()
                },
            ));
        }
        setting.hop_limit = field("HttpPutResponseHopLimit");
        setting.endpoint = field("HttpEndpoint");
        setting.block = call.metadata_options.map(|head| OptionsBlock {
            key: "--metadata-options".to_owned(),
            head,
            span: head,
            slot: None,
        });
        let launches = call.operation == AwsOperation::RunInstances && !call.launch_template;
        setting.tokens_default = if launches {
            TokensDefault::Ec2
        } else {
            TokensDefault::Unchanged
        };
        setting.hop_default = if launches {
            HopDefault::Ec2
        } else {
            HopDefault::Unchanged
        };
        setting.user_data.unseen = Some(
            match call.operation {
                AwsOperation::RunInstances => {
                    "the boot scripts of the instances it launches are not read with the command"
                }
                AwsOperation::ModifyInstanceMetadataOptions => {
                    "the scripts of the instance it changes are not known here"
                }
                AwsOperation::ModifyInstanceMetadataDefaults => {
                    "it changes the default of every instance launched in the account and Region"
                }
            }
            .to_owned(),
        );
        setting
    }
}

/// Options of the modify calls, by flag, with their API names.
const FLAGS: &[(&str, &str)] = &[
    ("--http-tokens", "HttpTokens"),
    ("--http-put-response-hop-limit", "HttpPutResponseHopLimit"),
    ("--http-endpoint", "HttpEndpoint"),
];

/// Keys of `--metadata-options` (shorthand `Key=value` or JSON `"Key": "value"`).
const KEYS: &[&str] = &["HttpTokens", "HttpPutResponseHopLimit", "HttpEndpoint"];

/// Reads an `aws` command (`argv` starts at the `aws` word) whose operation is one of
/// [`AwsOperation`]; `text` is the fragment the words are in, `map` takes its offsets to the host.
pub fn metadata_call(
    argv: &[Word],
    command: FragmentSpan,
    text: &[u8],
    map: &OffsetMap,
) -> Option<AwsMetadataCall> {
    let literal = |w: &Word| w.literal();
    let service = argv
        .iter()
        .skip(1)
        .position(|w| literal(w).as_deref() == Some("ec2"))?
        + 1;
    let operation_word = argv.get(service + 1)?;
    let operation = AwsOperation::from_word(&literal(operation_word)?)?;
    let start = argv.first().map_or(command.start.0, |w| w.span.start.0);
    let mut call = AwsMetadataCall {
        operation,
        span: map.span_to_host(FragmentSpan::new(start, command.end.0)),
        operation_span: map.span_to_host(operation_word.span),
        options: Vec::new(),
        metadata_options: None,
        launch_template: false,
        endpoint_url: None,
        input: None,
        endpoint_unknown: None,
    };
    let raw = |w: &Word| text.get(w.span.start.0..w.span.end.0).unwrap_or_default();
    // A global option before the service: `aws --endpoint-url URL ec2 …`.
    for (at, word) in argv.iter().enumerate().take(service).skip(1) {
        let prefix = word.literal_prefix();
        if prefix == "--endpoint-url" {
            call.endpoint_url = argv.get(at + 1).cloned();
        } else if prefix.starts_with("--endpoint-url=") {
            call.endpoint_url = Some(word.clone());
        }
    }
    let mut i = service + 2;
    while let Some(word) = argv.get(i) {
        i += 1;
        let prefix = word.literal_prefix();
        let flag = prefix.split('=').next().unwrap_or_default().to_owned();
        // `--flag=value` or `--flag value`.
        let inline = prefix.contains('=');
        let value_word = |i: &mut usize| -> Option<Word> {
            if inline {
                return Some(word.clone());
            }
            let next = argv.get(*i)?.clone();
            *i += 1;
            Some(next)
        };
        if flag == "--launch-template" {
            call.launch_template = true;
            continue;
        }
        // Not a call that changes anything: it prints a template, or only checks permissions.
        if flag == "--generate-cli-skeleton" || flag == "--dry-run" {
            return None;
        }
        if flag == "--endpoint-url" {
            call.endpoint_url = value_word(&mut i);
            continue;
        }
        if flag == "--cli-input-json" || flag == "--cli-input-yaml" {
            let Some(value) = value_word(&mut i) else {
                continue;
            };
            let skip = if inline { flag.len() + 1 } else { 0 };
            let literal = value
                .literal()
                .and_then(|v| v.get(skip..).map(str::to_owned));
            // Inline JSON or YAML is read like `--metadata-options`; a file is not.
            if literal.as_deref().is_some_and(|v| !v.contains("://")) {
                for key in KEYS {
                    if let Some(option) = keyed_value(key, &value, raw(&value), skip, map) {
                        call.options.push(option);
                    }
                }
                continue;
            }
            let start = word.span.start.0;
            let written =
                String::from_utf8_lossy(text.get(start..value.span.end.0).unwrap_or_default());
            let written: String = written.split_whitespace().collect::<Vec<_>>().join(" ");
            call.input = Some((
                map.span_to_host(FragmentSpan::new(start, value.span.end.0)),
                written.chars().take(80).collect(),
            ));
            continue;
        }
        if flag == "--metadata-options" && operation == AwsOperation::RunInstances {
            call.metadata_options = Some(map.span_to_host(word.span));
            let Some(value) = value_word(&mut i) else {
                continue;
            };
            let skip = if inline { flag.len() + 1 } else { 0 };
            for key in KEYS {
                if let Some(option) = keyed_value(key, &value, raw(&value), skip, map) {
                    call.options.push(option);
                }
            }
            continue;
        }
        let Some((_, name)) = FLAGS.iter().find(|(f, _)| *f == flag) else {
            continue;
        };
        if operation == AwsOperation::RunInstances {
            continue;
        }
        let Some(value) = value_word(&mut i) else {
            continue;
        };
        let skip = if inline { flag.len() + 1 } else { 0 };
        call.options
            .push(flag_value(name, &flag, &value, raw(&value), skip, map));
    }
    Some(call)
}

/// The value of `--flag VALUE` (or of `--flag=VALUE`, after `skip` characters).
fn flag_value(
    name: &'static str,
    flag: &str,
    word: &Word,
    raw: &[u8],
    skip: usize,
    map: &OffsetMap,
) -> AwsOption {
    let whole = word.literal();
    let value = whole
        .as_deref()
        .and_then(|w| w.get(skip..))
        .map(str::to_owned);
    let found = value.as_deref().and_then(|v| {
        let at = memchr::memmem::find(raw.get(skip..)?, v.as_bytes())? + skip;
        Some(FragmentSpan::new(
            word.span.start.0 + at,
            word.span.start.0 + at + v.len(),
        ))
    });
    option(name, flag, value, found, word.span, map)
}

/// `Key=value` (shorthand) or `"Key": "value"` (JSON) in the raw text of a word, after `skip`.
fn keyed_value(
    key: &'static str,
    word: &Word,
    raw: &[u8],
    skip: usize,
    map: &OffsetMap,
) -> Option<AwsOption> {
    let body = raw.get(skip..)?;
    let mut from = 0;
    while let Some(found) = memchr::memmem::find(body.get(from..)?, key.as_bytes()) {
        let at = from + found;
        from = at + key.len();
        let before = at.checked_sub(1).and_then(|i| body.get(i)).copied();
        if before.is_some_and(|b| b.is_ascii_alphanumeric()) {
            continue;
        }
        let mut j = at + key.len();
        let skip_quotes = |j: &mut usize| {
            while body
                .get(*j)
                .is_some_and(|b| matches!(b, b'"' | b'\'' | b'\\' | b' ' | b'\t'))
            {
                *j += 1;
            }
        };
        skip_quotes(&mut j);
        if !matches!(body.get(j), Some(b'=' | b':')) {
            continue;
        }
        j += 1;
        skip_quotes(&mut j);
        let len = body
            .get(j..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
            .count();
        let start = word.span.start.0 + skip + j;
        let value = body
            .get(j..j + len)
            .map(|v| String::from_utf8_lossy(v).into_owned());
        // A value made of a variable (`HttpTokens=$MODE`) is not literal: it has no length here.
        let (value, span) = if len > 0 {
            (value, Some(FragmentSpan::new(start, start + len)))
        } else {
            (None, None)
        };
        return Some(option(key, key, value, span, word.span, map));
    }
    None
}

fn option(
    name: &'static str,
    written: &str,
    value: Option<String>,
    found: Option<FragmentSpan>,
    word: FragmentSpan,
    map: &OffsetMap,
) -> AwsOption {
    match (value, found) {
        (Some(value), Some(span)) => {
            let host = map.span_to_host(span);
            AwsOption {
                name,
                written: written.to_owned(),
                replaceable: host.len() == value.len(),
                value: Some(value),
                span: host,
            }
        }
        _ => AwsOption {
            name,
            written: written.to_owned(),
            value: None,
            span: map.span_to_host(word),
            replaceable: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use crate::fragment::Fragment;
    use crate::shell::analyze;

    /// (API name, value, the host text at the value's span) for each option.
    type Options = Vec<(String, Option<String>, String)>;

    fn calls(script: &str) -> Vec<(String, Options)> {
        let analysis = analyze(&Fragment::script(script.as_bytes()));
        analysis
            .aws_metadata
            .iter()
            .map(|c| {
                (
                    c.operation.name().to_owned(),
                    c.options
                        .iter()
                        .map(|o| {
                            (
                                o.name.to_owned(),
                                o.value.clone(),
                                script
                                    .get(o.span.start.0..o.span.end.0)
                                    .unwrap_or_default()
                                    .to_owned(),
                            )
                        })
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn modify_flags() {
        let got = calls("aws ec2 modify-instance-metadata-options --instance-id i-1 --http-tokens optional --http-put-response-hop-limit=2\n");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "modify-instance-metadata-options");
        assert_eq!(
            got[0].1,
            [
                (
                    "HttpTokens".into(),
                    Some("optional".into()),
                    "optional".into()
                ),
                (
                    "HttpPutResponseHopLimit".into(),
                    Some("2".into()),
                    "2".into()
                ),
            ]
        );
        let got = calls("sudo aws --region eu-west-1 ec2 modify-instance-metadata-defaults --http-tokens \"no-preference\"\n");
        assert_eq!(
            got[0].1,
            [(
                "HttpTokens".into(),
                Some("no-preference".into()),
                "no-preference".into()
            )]
        );
    }

    #[test]
    fn run_instances_shorthand_and_json() {
        let got = calls("aws ec2 run-instances --image-id ami-1 --metadata-options HttpTokens=optional,HttpPutResponseHopLimit=1\n");
        assert_eq!(
            got[0].1,
            [
                (
                    "HttpTokens".into(),
                    Some("optional".into()),
                    "optional".into()
                ),
                (
                    "HttpPutResponseHopLimit".into(),
                    Some("1".into()),
                    "1".into()
                ),
            ]
        );
        let got =
            calls("aws ec2 run-instances --metadata-options '{\"HttpTokens\": \"optional\"}'\n");
        assert_eq!(
            got[0].1,
            [(
                "HttpTokens".into(),
                Some("optional".into()),
                "optional".into()
            )]
        );
        let got = calls(
            "aws ec2 run-instances --metadata-options \"{\\\"HttpTokens\\\":\\\"optional\\\"}\"\n",
        );
        assert_eq!(
            got[0].1,
            [(
                "HttpTokens".into(),
                Some("optional".into()),
                "optional".into()
            )]
        );
        let got = calls("aws ec2 run-instances --metadata-options \"HttpTokens=$MODE\"\n");
        assert_eq!(got[0].1[0].1, None);
    }

    #[test]
    fn other_commands_are_not_calls() {
        assert!(calls("aws ec2 describe-instances --http-tokens optional\n").is_empty());
        assert!(calls("aws s3 ls\n").is_empty());
        assert!(calls("echo aws ec2 run-instances\n").is_empty());
        assert!(
            calls("# aws ec2 modify-instance-metadata-options --http-tokens optional\n").is_empty()
        );
        // Inside `sh -c` the call is still seen.
        assert_eq!(
            calls("sh -c 'aws ec2 modify-instance-metadata-options --http-tokens optional'\n")
                .len(),
            1
        );
    }
}
