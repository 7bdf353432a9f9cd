//! What the Python analysis knows of an expression's value: a string as far as it can be read
//! (unknown parts are `UNKNOWN`), a headers dict, a token, a response, a session, a connection,
//! a `urllib` `Request`, a module.

use tree_sitter::Node;

use super::Analyzer;
use crate::fragment::python_string;
use crate::model::request::Method;
use crate::shell::endpoint::UNKNOWN;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Unknown,
    Str(String),
    Dict(Headers),
    /// A metadata token (a token request's response text).
    Token,
    /// The response of a request; `token` when the request was a token request.
    Response {
        token: bool,
    },
    /// `requests.Session()`, `httpx.Client()`: requests made through it send its headers.
    Session {
        client: crate::model::request::Client,
        headers: Headers,
    },
    /// `http.client.HTTPConnection(host)`; `token` when its last request fetched a token.
    Connection {
        host: String,
        token: bool,
    },
    /// A `urllib` `Request(url, headers=…, method=…)`.
    UrllibRequest {
        url: String,
        headers: Option<Headers>,
        method: Method,
        /// What a fix of a request that opens it needs, taken where it was built.
        built: Option<Box<Built>>,
    },
    /// A module or a name imported from one, by its qualified name.
    Module(String),
}

/// Where a `urllib` `Request` was built: the fix site of its call, where its headers can take a
/// token (`None` when they cannot be written), the name its class was called by and the module
/// that name comes from.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Built {
    pub site: crate::model::request::FixSite,
    pub header: Option<super::HeaderSite>,
    pub class: String,
    pub module: String,
}

/// A headers dict as far as it could be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Headers {
    /// Each entry: its name (`None` when it cannot be read) and its value.
    pub entries: Vec<(Option<String>, HeaderValue)>,
    /// Something the dict was built from cannot be read (`**other`, `dict(…)`).
    pub unreadable: Option<String>,
}

/// A header's value.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum HeaderValue {
    /// A variable: its name, and whether it holds a token (or may: a parameter).
    Variable(String, bool),
    /// A string as written.
    Str(String),
    /// Anything else (a call, an attribute).
    Other,
}

impl Headers {
    pub fn get(&self, name: &str) -> Option<&HeaderValue> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(name)))
            .map(|(_, v)| v)
    }
}

impl<'a> Analyzer<'a> {
    /// The value of an expression (calls are evaluated once, and their requests recorded).
    pub(super) fn eval(&mut self, node: Node) -> Value {
        match node.kind() {
            "string" => self.string(node).map_or(Value::Unknown, Value::Str),
            "concatenated_string" => {
                let mut out = String::new();
                let mut cursor = node.walk();
                let parts: Vec<Node> = node.named_children(&mut cursor).collect();
                for part in parts {
                    out.push_str(&self.string_value(part));
                }
                Value::Str(out)
            }
            "identifier" => self
                .lookup(self.node_text(node))
                .cloned()
                .unwrap_or(Value::Unknown),
            "parenthesized_expression" => node
                .named_child(0)
                .map_or(Value::Unknown, |inner| self.eval(inner)),
            "binary_operator" => self.binary(node),
            "conditional_expression" => self.conditional(node),
            "dictionary" => Value::Dict(self.dictionary(node)),
            "attribute" => self.attribute(node),
            "call" => {
                if let Some(value) = self.values.get(&node.id()) {
                    return value.clone();
                }
                // Arguments first: a call in an argument is made before this one.
                if let Some(args) = node.child_by_field_name("arguments") {
                    self.calls_in_arguments(args);
                }
                let value = self.call(node);
                self.values.insert(node.id(), value.clone());
                value
            }
            _ => Value::Unknown,
        }
    }

    fn calls_in_arguments(&mut self, args: Node) {
        let mut cursor = args.walk();
        let children: Vec<Node> = args.named_children(&mut cursor).collect();
        for child in children {
            self.calls_in(child);
        }
    }

    /// A value read as a string: its text, or `UNKNOWN` where it cannot be read.
    pub(super) fn string_value(&mut self, node: Node) -> String {
        match self.eval(node) {
            Value::Str(s) => s,
            _ => UNKNOWN.to_string(),
        }
    }

    /// A string literal's value; an f-string's with its interpolations read as values.
    pub(super) fn string(&mut self, node: Node) -> Option<String> {
        let raw = self.text.get(node.byte_range())?;
        let how = python_string::literal(raw)?;
        if !how.formatted {
            return python_string::decode(raw, 0).map(|(s, _)| s);
        }
        let mut out = String::new();
        let mut cursor = node.walk();
        let parts: Vec<Node> = node.named_children(&mut cursor).collect();
        for part in parts {
            match part.kind() {
                "string_content" => out.push_str(self.node_text(part)),
                "escape_sequence" => {
                    let escaped = format!("'{}'", self.node_text(part));
                    match python_string::decode(escaped.as_bytes(), 0) {
                        Some((s, _)) => out.push_str(&s),
                        None => out.push(UNKNOWN),
                    }
                }
                "interpolation" => {
                    let value = part
                        .child_by_field_name("expression")
                        .or_else(|| part.named_child(0))
                        .map(|e| self.string_value(e))
                        .unwrap_or_else(|| UNKNOWN.to_string());
                    // A format spec or conversion changes the text: unknown then.
                    if part.child_by_field_name("format_specifier").is_some()
                        || part.child_by_field_name("type_conversion").is_some()
                    {
                        out.push(UNKNOWN);
                    } else {
                        out.push_str(&value);
                    }
                }
                _ => {}
            }
        }
        Some(out)
    }

    /// `a if c else b`: a headers dict sent only when something holds (`{…} if token else {}`,
    /// what a fix writes) reads as the dict; two equal strings as the string; else unknown.
    fn conditional(&mut self, node: Node) -> Value {
        let mut cursor = node.walk();
        let parts: Vec<Node> = node.named_children(&mut cursor).collect();
        let [consequence, condition, alternative] = parts.as_slice() else {
            return Value::Unknown;
        };
        self.calls_in(*condition);
        match (self.eval(*consequence), self.eval(*alternative)) {
            (Value::Dict(headers), Value::Dict(empty))
                if empty.entries.is_empty() && empty.unreadable.is_none() =>
            {
                Value::Dict(headers)
            }
            (Value::Str(a), Value::Str(b)) if a == b => Value::Str(a),
            _ => Value::Unknown,
        }
    }

    /// `a + b` (strings), `"…%s…" % x`.
    fn binary(&mut self, node: Node) -> Value {
        let (Some(left), Some(right), Some(operator)) = (
            node.child_by_field_name("left"),
            node.child_by_field_name("right"),
            node.child_by_field_name("operator"),
        ) else {
            return Value::Unknown;
        };
        match self.node_text(operator) {
            "+" => {
                let (l, r) = (self.eval(left), self.eval(right));
                match (l, r) {
                    (Value::Str(a), Value::Str(b)) => Value::Str(a + &b),
                    (Value::Str(a), _) => Value::Str(format!("{a}{UNKNOWN}")),
                    (_, Value::Str(b)) => Value::Str(format!("{UNKNOWN}{b}")),
                    _ => Value::Unknown,
                }
            }
            "%" => {
                let Value::Str(template) = self.eval(left) else {
                    return Value::Unknown;
                };
                let args: Vec<String> = if right.kind() == "tuple" {
                    let mut cursor = right.walk();
                    let items: Vec<Node> = right.named_children(&mut cursor).collect();
                    items.into_iter().map(|i| self.string_value(i)).collect()
                } else {
                    vec![self.string_value(right)]
                };
                Value::Str(percent_format(&template, &args))
            }
            _ => Value::Unknown,
        }
    }

    /// A dict literal as headers.
    pub(super) fn dictionary(&mut self, node: Node) -> Headers {
        let mut headers = Headers::default();
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        for child in children {
            match child.kind() {
                "pair" => {
                    let key = child.child_by_field_name("key").map(|k| self.eval(k));
                    let key = match key {
                        Some(Value::Str(k)) if !k.contains(UNKNOWN) => Some(k),
                        _ => None,
                    };
                    let value = child
                        .child_by_field_name("value")
                        .map_or(HeaderValue::Other, |v| self.header_value(v));
                    headers.entries.push((key, value));
                }
                "dictionary_splat" => {
                    let inner = child.named_child(0).map(|n| self.eval(n));
                    match inner {
                        Some(Value::Dict(other)) => headers.entries.extend(other.entries),
                        _ => {
                            headers.unreadable = Some(format!("`{}`", self.node_text(child)));
                        }
                    }
                }
                _ => {}
            }
        }
        headers
    }

    /// What a header's value is: a variable (holding a token or not), a string, or other code.
    pub(super) fn header_value(&mut self, node: Node) -> HeaderValue {
        match node.kind() {
            "identifier" => {
                let name = self.node_text(node).to_owned();
                let bound = self.lookup(&name).is_some();
                HeaderValue::Variable(name, bound)
            }
            "string" | "concatenated_string" => match self.eval(node) {
                Value::Str(s) => HeaderValue::Str(s),
                _ => HeaderValue::Other,
            },
            _ => {
                self.calls_in(node);
                HeaderValue::Other
            }
        }
    }

    /// `r.text`, `r.content` of a token response; `s.headers`.
    fn attribute(&mut self, node: Node) -> Value {
        let (Some(object), Some(attribute)) = (
            node.child_by_field_name("object"),
            node.child_by_field_name("attribute"),
        ) else {
            return Value::Unknown;
        };
        let name = self.node_text(attribute);
        let object = self.eval(object);
        match (object, name) {
            (Value::Response { token: true }, "text" | "content") => Value::Token,
            (Value::Module(m), _) => Value::Module(format!("{m}.{name}")),
            _ => Value::Unknown,
        }
    }
}

/// `template % args` with `%s`/`%d`/`%r` replaced in order (`%%` is `%`); anything else unknown.
fn percent_format(template: &str, args: &[String]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('s' | 'd' | 'r' | 'i') => match args.next() {
                Some(arg) => out.push_str(arg),
                None => out.push(UNKNOWN),
            },
            _ => {
                // A width, a precision, a mapping key: the conversion's text is not known.
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
                args.next();
                out.push(UNKNOWN);
            }
        }
    }
    out
}

/// `template.format(args…)` with `{}`, `{0}` and `{name}` replaced; anything else unknown.
pub(super) fn brace_format(
    template: &str,
    positional: &[String],
    named: &[(String, String)],
) -> String {
    let mut out = String::new();
    let mut next = 0;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut field = String::new();
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                    field.push(c);
                }
                let value = if field.is_empty() {
                    next += 1;
                    positional.get(next - 1)
                } else if let Ok(index) = field.parse::<usize>() {
                    positional.get(index)
                } else {
                    named.iter().find(|(k, _)| *k == field).map(|(_, v)| v)
                };
                match value {
                    Some(v) => out.push_str(v),
                    None => out.push(UNKNOWN),
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(
            percent_format("http://%s/latest/%s", &["h".into(), "p".into()]),
            "http://h/latest/p"
        );
        assert_eq!(
            percent_format("%5s/%s", &["a".into(), "b".into()]),
            format!("{UNKNOWN}/b")
        );
        assert_eq!(
            brace_format(
                "http://{}/{0}/{x}",
                &["a".into()],
                &[("x".into(), "b".into())]
            ),
            "http://a/a/b"
        );
        assert_eq!(brace_format("{{{y}}}", &[], &[]), format!("{{{UNKNOWN}}}"));
    }
}
