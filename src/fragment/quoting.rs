//! How text inserted into a piece of code must be written in the text around it: one quoting
//! layer per string, here-document or host syntax the code sits in. Shell strings (`sh -c '…'`)
//! are layers the shell analysis adds; host syntaxes (a YAML block scalar, a JSON string, a
//! Dockerfile `RUN`) are layers a front end gives its fragments; each of those is written by its
//! layer's module (`yaml_block`, `json_string`, …), next to its decoder.

use super::{
    dockerfile_line, groovy_string, hcl_template, json_string, make_recipe, python_string,
    yaml_block, yaml_double, yaml_single,
};

/// One layer of quoting between inserted text and the text around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quoting {
    /// Inside `'…'`: a `'` is written `'\''`.
    SingleQuoted,
    /// Inside `"…"`: `\`, `"`, `$` and backticks get a backslash.
    DoubleQuoted,
    /// Unquoted shell text: inserted text is already shell text.
    Unquoted,
    /// An unquoted here-document: `\`, `$` and backticks get a backslash.
    UnquotedHeredoc,
    /// A quoted here-document: taken verbatim.
    QuotedHeredoc,
    /// A Dockerfile instruction in shell form: a new line ends the instruction, so an inserted
    /// line break becomes `; <escape><newline>` followed by `indent`.
    DockerfileShell {
        escape: char,
        indent: String,
        eol: &'static str,
    },
    /// A YAML block scalar (`|`): every inserted line break is followed by the block's indent.
    YamlBlock { indent: String },
    /// A YAML double-quoted scalar: `\` and `"` escaped, line breaks as `\n`.
    YamlDoubleQuoted,
    /// A YAML single-quoted scalar: `'` doubled; a line break is written as an empty line.
    YamlSingleQuoted { indent: String, eol: &'static str },
    /// A JSON string: `\`, `"` and control characters escaped.
    JsonString,
    /// A Terraform template (a quoted string or a heredoc), where `${` and `%{` start what
    /// Terraform substitutes: they are written `$${` and `%%{`. Under the string's own layer.
    HclTemplate,
    /// A CloudFormation `Fn::Sub` string, where `${` starts a reference: it is written `${!`
    /// (the front end's `cloudformation::substitute` reads it back). Under the scalar's layers.
    CloudFormationSub,
    /// Shell code in a makefile (a recipe, a `$(shell …)`): `$` is written `$$`; a line break
    /// as the layer says (see `make_recipe`).
    Make(make_recipe::Layer),
    /// A Python string literal (not raw) quoted with `quote`, tripled or not: `\` and the quote
    /// escaped, and line breaks in a one-line literal.
    PythonString { quote: char, triple: bool },
    /// A Groovy string literal (a Jenkinsfile `sh` step's script) quoted with `quote`, tripled
    /// or not: `\` and the quote escaped, `$` too in a GString, line breaks in a one-line one.
    GroovyString { quote: char, triple: bool },
}

impl Quoting {
    /// Whether this layer still applies to text inside a here-document nested in it. A
    /// here-document's lines are real lines of the host, not continuations of a Dockerfile
    /// instruction.
    pub fn reaches_heredocs(&self) -> bool {
        !matches!(self, Quoting::DockerfileShell { .. })
    }

    /// Writes `text` so that removing this layer of quoting gives `text` back. Shell strings
    /// are written here; host syntaxes by their layer's own module.
    pub fn encode(&self, text: &str) -> String {
        let escape = |specials: &[char]| {
            let mut out = String::with_capacity(text.len() + 8);
            for c in text.chars() {
                if specials.contains(&c) {
                    out.push('\\');
                }
                out.push(c);
            }
            out
        };
        match self {
            Quoting::SingleQuoted => text.replace('\'', r"'\''"),
            Quoting::DoubleQuoted => escape(&['\\', '"', '$', '`']),
            Quoting::UnquotedHeredoc => escape(&['\\', '$', '`']),
            Quoting::Unquoted | Quoting::QuotedHeredoc => text.to_owned(),
            Quoting::DockerfileShell {
                escape,
                indent,
                eol,
            } => dockerfile_line::encode(text, *escape, indent, eol),
            Quoting::YamlBlock { indent } => yaml_block::encode(text, indent),
            Quoting::YamlDoubleQuoted => yaml_double::encode(text),
            Quoting::JsonString => json_string::encode(text),
            Quoting::YamlSingleQuoted { indent, eol } => yaml_single::encode(text, indent, eol),
            Quoting::HclTemplate => hcl_template::escape_template(text),
            Quoting::CloudFormationSub => text.replace("${", "${!"),
            Quoting::Make(layer) => make_recipe::encode(text, *layer),
            Quoting::PythonString { quote, triple } => python_string::encode(text, *quote, *triple),
            Quoting::GroovyString { quote, triple } => groovy_string::encode(text, *quote, *triple),
        }
    }
}
