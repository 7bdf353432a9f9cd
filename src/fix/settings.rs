//! Fixes on instance metadata settings: replace a value (`optional` → `required`, `1` → `2`), add
//! the missing field to the options block, or add the block — in the syntax of the host (a YAML
//! block or flow/JSON mapping, an HCL body), at the slot the front end recorded. The rule decides
//! the change and its applicability; this module only writes it.

use super::{Applicability, Edit, Fix};
use crate::fragment::{HostOffset, HostSpan};
use crate::model::setting::{Layout, MetadataSetting, Slot, Source};

/// Which field a fix sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// To `required` (eksctl: `disableIMDSv1: true`).
    Tokens,
    /// To 2.
    HopLimit,
}

/// A fix a settings rule asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub field: Field,
    pub applicability: Applicability,
    /// Why an unsafe change is unsafe, which its title then says.
    pub unsafe_because: Option<String>,
}

/// Why a fix that raises the hop limit is unsafe whatever the rule asks.
pub const HOP_LIMIT_TRADE_OFF: &str = "a security trade-off: with a hop limit of 2 every container on these instances, not only the one that needs it, can reach the instance role's credentials";

/// The fix for `change` on `setting`, with edits in the setting's host; `None` where the value
/// cannot be rewritten in place (a reference, an expression) or there is nowhere to add it.
pub fn plan(setting: &MetadataSetting, change: &Change) -> Option<Fix> {
    let keys = setting.source.keys();
    let (key, value, string, current) = match change.field {
        // A word (`required`) is written as a string; eksctl's `true` as a boolean.
        Field::Tokens => (
            keys.tokens,
            keys.required,
            keys.required == "required",
            &setting.tokens,
        ),
        Field::HopLimit => (keys.hop_limit, "2", false, &setting.hop_limit),
    };
    // Raising the hop limit lets every container reach the instance role: never a safe fix.
    let fix = |message: String, span: HostSpan, content: String| {
        let fix = Fix {
            applicability: change.applicability,
            message: match &change.unsafe_because {
                Some(why) => format!("{message} (unsafe: {why})"),
                None => message,
            },
            edits: vec![Edit { span, content }],
        };
        match change.field {
            Field::HopLimit => fix.made_unsafe(HOP_LIMIT_TRADE_OFF),
            Field::Tokens => fix,
        }
    };
    if let Some(current) = current {
        if !current.replaceable || current.text.is_none() {
            return None;
        }
        return Some(fix(
            format!("Set `{}` to `{value}`", current.key),
            current.span,
            value.to_owned(),
        ));
    }
    if setting.source == Source::AwsCli {
        // `run-instances` without `--metadata-options`: the option as words of their own after
        // the operation word, which any quoting the command is in keeps as they are. Only the
        // tokens: `HttpEndpoint=enabled` could turn on an endpoint an account default disables.
        let launches = setting.kind == "run-instances"
            && setting.block.is_none()
            && change.field == Field::Tokens;
        return launches.then(|| {
            fix(
                format!("Add `{} {key}={value}`", keys.block),
                at(HostOffset(setting.head.end.0)),
                format!(" {} {key}={value}", keys.block),
            )
        });
    }
    if key.is_empty() {
        return None;
    }
    if let Some(block) = &setting.block {
        let slot = block.slot.as_ref()?;
        return Some(fix(
            format!("Add `{key}` set to `{value}` to `{}`", block.key),
            at(slot.at),
            field_text(slot, key, value, string),
        ));
    }
    let slot = setting.parent.as_ref()?;
    if keys.block.is_empty() {
        return Some(fix(
            format!("Add `{key}` set to `{value}`"),
            at(slot.at),
            field_text(slot, key, value, string),
        ));
    }
    Some(fix(
        format!("Add `{}` with `{key}` set to `{value}`", keys.block),
        at(slot.at),
        block_text(slot, keys.block, key, value, string),
    ))
}

fn at(offset: HostOffset) -> HostSpan {
    HostSpan::new(offset.0, offset.0)
}

fn quote(text: &str) -> String {
    format!("\"{text}\"")
}

/// One `key: value` (or `key = value`) written at a slot.
fn field_text(slot: &Slot, key: &str, value: &str, string: bool) -> String {
    match &slot.layout {
        Layout::YamlBlock {
            indent,
            eol,
            newline_first,
            ..
        } => {
            let lead = if *newline_first { *eol } else { "" };
            format!("{lead}{indent}{key}: {value}{eol}")
        }
        Layout::YamlFlow { separator, quoted } => {
            let key = if *quoted { quote(key) } else { key.to_owned() };
            let value = if *quoted && string {
                quote(value)
            } else {
                value.to_owned()
            };
            format!("{separator}{key}: {value}")
        }
        Layout::Hcl {
            indent, eol, align, ..
        } => {
            let value = if string {
                quote(value)
            } else {
                value.to_owned()
            };
            let used = indent.len() + key.len();
            let pad = align.filter(|col| *col > used).map_or(1, |col| col - used);
            format!("{indent}{key}{} = {value}{eol}", " ".repeat(pad - 1))
        }
    }
}

/// A new options block holding one field, written at a slot of its parent.
fn block_text(slot: &Slot, block: &str, key: &str, value: &str, string: bool) -> String {
    match &slot.layout {
        Layout::YamlBlock {
            indent,
            step,
            eol,
            newline_first,
        } => {
            let lead = if *newline_first { *eol } else { "" };
            format!("{lead}{indent}{block}:{eol}{indent}{step}{key}: {value}{eol}")
        }
        Layout::YamlFlow { separator, quoted } => {
            let q = |t: &str| if *quoted { quote(t) } else { t.to_owned() };
            let value = if *quoted && string {
                quote(value)
            } else {
                value.to_owned()
            };
            format!("{separator}{}: {{{}: {value}}}", q(block), q(key))
        }
        Layout::Hcl {
            indent, step, eol, ..
        } => {
            let value = if string {
                quote(value)
            } else {
                value.to_owned()
            };
            format!("{eol}{indent}{block} {{{eol}{indent}{step}{key} = {value}{eol}{indent}}}{eol}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::setting::{OptionsBlock, Value};

    fn setting(source: Source) -> MetadataSetting {
        MetadataSetting::new(source, "kind", "name", 0, HostSpan::new(0, 10))
    }

    fn change(field: Field) -> Change {
        Change {
            field,
            applicability: Applicability::Safe,
            unsafe_because: None,
        }
    }

    #[test]
    fn replaces_a_literal_value() {
        let mut s = setting(Source::Terraform);
        s.tokens = Some(Value::literal(
            "http_tokens",
            "optional",
            HostSpan::new(4, 12),
        ));
        let fix = plan(&s, &change(Field::Tokens)).unwrap();
        assert_eq!(fix.edits[0].content, "required");
        assert_eq!(fix.edits[0].span, HostSpan::new(4, 12));
        s.tokens = Some(Value::opaque("http_tokens", HostSpan::new(4, 12)));
        assert!(plan(&s, &change(Field::Tokens)).is_none());
        let mut e = setting(Source::Eksctl);
        e.tokens = Some(Value::literal(
            "disableIMDSv1",
            "false",
            HostSpan::new(0, 5),
        ));
        assert_eq!(
            plan(&e, &change(Field::Tokens)).unwrap().edits[0].content,
            "true"
        );
    }

    #[test]
    fn adds_fields_and_blocks_in_each_syntax() {
        let hcl = Slot {
            at: HostOffset(7),
            layout: Layout::Hcl {
                indent: "    ".into(),
                step: "  ".into(),
                eol: "\n",
                align: Some(32),
            },
        };
        assert_eq!(
            field_text(&hcl, "http_tokens", "required", true),
            "    http_tokens                 = \"required\"\n"
        );
        let body = Slot {
            at: HostOffset(7),
            layout: Layout::Hcl {
                indent: "  ".into(),
                step: "  ".into(),
                eol: "\n",
                align: None,
            },
        };
        assert_eq!(
            block_text(&body, "metadata_options", "http_tokens", "required", true),
            "\n  metadata_options {\n    http_tokens = \"required\"\n  }\n"
        );
        let yaml = Slot {
            at: HostOffset(0),
            layout: Layout::YamlBlock {
                indent: "      ".into(),
                step: "  ".into(),
                eol: "\n",
                newline_first: false,
            },
        };
        assert_eq!(
            block_text(&yaml, "MetadataOptions", "HttpTokens", "required", true),
            "      MetadataOptions:\n        HttpTokens: required\n"
        );
        let json = Slot {
            at: HostOffset(0),
            layout: Layout::YamlFlow {
                separator: ",\n        ".into(),
                quoted: true,
            },
        };
        assert_eq!(
            block_text(&json, "MetadataOptions", "HttpTokens", "required", true),
            ",\n        \"MetadataOptions\": {\"HttpTokens\": \"required\"}"
        );
        assert_eq!(
            field_text(&json, "HttpPutResponseHopLimit", "2", false),
            ",\n        \"HttpPutResponseHopLimit\": 2"
        );
        let mut s = setting(Source::CloudFormation);
        s.block = Some(OptionsBlock {
            key: "MetadataOptions".into(),
            head: HostSpan::new(0, 1),
            span: HostSpan::new(0, 1),
            slot: Some(yaml.clone()),
        });
        let fix = plan(&s, &change(Field::HopLimit)).unwrap();
        assert_eq!(fix.edits[0].content, "      HttpPutResponseHopLimit: 2\n");
        // Asked for as safe or not, raising the hop limit is a trade-off: never safe.
        assert_eq!(fix.applicability, Applicability::Unsafe);
        assert!(fix.message.contains("every container"), "{}", fix.message);
        let tokens = plan(&s, &change(Field::Tokens)).unwrap();
        assert_eq!(tokens.applicability, Applicability::Safe);
        s.block = None;
        assert!(plan(&s, &change(Field::HopLimit)).is_none(), "no slot");
    }
}
