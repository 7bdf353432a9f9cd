//! XML read as far as the build files need it (pom.xml, *.csproj, packages.config,
//! Directory.Packages.props): elements with their attributes and, for elements that hold only
//! text, that text — each with its byte span. Comments, processing instructions, CDATA and the
//! document type are skipped; entities are left as written (versions hold none).

/// One element: its local name (without a namespace prefix), attributes, text, children.
#[derive(Debug, Clone, Default)]
pub struct Element {
    pub name: String,
    /// Name, value and the value's span (between the quotes).
    pub attributes: Vec<(String, String, (usize, usize))>,
    /// The text of an element without child elements, trimmed, with its span.
    pub text: Option<(String, (usize, usize))>,
    pub children: Vec<Element>,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn attribute(&self, name: &str) -> Option<(&str, (usize, usize))> {
        self.attributes
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v, s)| (v.as_str(), *s))
    }

    pub fn text(&self) -> Option<(&str, (usize, usize))> {
        self.text.as_ref().map(|(t, s)| (t.as_str(), *s))
    }

    /// Every element below this one (depth first), this one included.
    pub fn descendants(&self) -> Vec<&Element> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(element) = stack.pop() {
            out.push(element);
            stack.extend(element.children.iter().rev());
        }
        out
    }
}

/// How deeply elements may nest.
const MAX_DEPTH: usize = 256;

/// Parses a document into its root element, or says where it stops being XML.
pub fn parse(text: &str) -> Result<Element, String> {
    let bytes = text.as_bytes();
    // The open elements, outermost first; the root is a document element holding the root.
    let mut stack: Vec<(Element, usize)> = vec![(Element::default(), 0)];
    let mut at = 0;
    while at < bytes.len() {
        let Some(lt) = memchr::memchr(b'<', bytes.get(at..).unwrap_or_default()) else {
            break;
        };
        let tag_start = at + lt;
        let rest = text.get(tag_start..).unwrap_or_default();
        let skip_to = |end: &str| -> Result<usize, String> {
            rest.find(end)
                .map(|i| tag_start + i + end.len())
                .ok_or_else(|| {
                    let opening: String = rest.chars().take(4).collect();
                    format!("unclosed `{opening}` at byte {tag_start}")
                })
        };
        if rest.starts_with("<!--") {
            at = skip_to("-->")?;
            continue;
        }
        if rest.starts_with("<![CDATA[") {
            at = skip_to("]]>")?;
            continue;
        }
        if rest.starts_with("<?") {
            at = skip_to("?>")?;
            continue;
        }
        if rest.starts_with("<!") {
            at = skip_to(">")?;
            continue;
        }
        let end =
            tag_end(bytes, tag_start).ok_or_else(|| format!("unclosed tag at byte {tag_start}"))?;
        let inside = text.get(tag_start + 1..end).unwrap_or_default();
        at = end + 1;
        if let Some(name) = inside.strip_prefix('/') {
            let name = local(name.trim());
            let (mut element, content_start) = stack
                .pop()
                .ok_or_else(|| format!("unexpected `</{name}>` at byte {tag_start}"))?;
            if element.name != name || stack.is_empty() {
                return Err(format!(
                    "`</{name}>` closes `<{}>` at byte {tag_start}",
                    element.name
                ));
            }
            if element.children.is_empty() {
                let raw = text.get(content_start..tag_start).unwrap_or_default();
                let trimmed = raw.trim();
                let start = content_start + (raw.len() - raw.trim_start().len());
                element.text = Some((trimmed.to_owned(), (start, start + trimmed.len())));
            }
            if let Some((parent, _)) = stack.last_mut() {
                parent.children.push(element);
            }
            continue;
        }
        let self_closing = inside.ends_with('/');
        let inside = inside.trim_end_matches('/');
        let name_end = inside
            .find(|c: char| c.is_whitespace())
            .unwrap_or(inside.len());
        let element = Element {
            name: local(inside.get(..name_end).unwrap_or_default()).to_owned(),
            attributes: attributes(text, inside.get(name_end..).unwrap_or_default()),
            text: None,
            children: Vec::new(),
        };
        if self_closing {
            if let Some((parent, _)) = stack.last_mut() {
                parent.children.push(element);
            }
        } else {
            if stack.len() > MAX_DEPTH {
                return Err(format!("elements nest too deeply at byte {tag_start}"));
            }
            stack.push((element, at));
        }
    }
    if stack.len() != 1 {
        return Err("unclosed elements at the end".to_owned());
    }
    let (document, _) = stack.pop().unwrap_or_default();
    document
        .children
        .into_iter()
        .next()
        .ok_or_else(|| "no root element".to_owned())
}

/// The `>` that ends the tag starting at `start`, outside quoted attribute values.
fn tag_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut quote = None;
    for (i, &b) in bytes.iter().enumerate().skip(start + 1) {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if b == q => quote = None,
            (None, b'>') => return Some(i),
            (None, b'<') => return None,
            _ => {}
        }
    }
    None
}

/// A name without its namespace prefix.
fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// The attributes in `text` (a part of `document`).
fn attributes(document: &str, text: &str) -> Vec<(String, String, (usize, usize))> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(eq) = rest.find('=') {
        let name = rest.get(..eq).unwrap_or_default().trim();
        let after = rest.get(eq + 1..).unwrap_or_default();
        let trimmed = after.trim_start();
        let Some(quote) = trimmed.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            break;
        };
        let value_text = trimmed.get(1..).unwrap_or_default();
        let Some(close) = value_text.find(quote) else {
            break;
        };
        let value = value_text.get(..close).unwrap_or_default();
        let (start, end) = super::span_in(document, value, 0);
        out.push((local(name).to_owned(), value.to_owned(), (start, end)));
        rest = value_text.get(close + 1..).unwrap_or_default();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_attributes_and_text_keep_their_spans() {
        let text = "<?xml version=\"1.0\"?>\n<!-- c -->\n<project xmlns=\"x\">\n  <a:version> 1.2 </a:version>\n  <dep id=\"AWSSDK.Core\" version='3.3.0'/>\n</project>\n";
        let root = parse(text).unwrap();
        assert_eq!(root.name, "project");
        let (version, span) = root.child("version").unwrap().text().unwrap();
        assert_eq!(version, "1.2");
        assert_eq!(&text[span.0..span.1], "1.2");
        let dep = root.child("dep").unwrap();
        let (v, span) = dep.attribute("Version").unwrap();
        assert_eq!(v, "3.3.0");
        assert_eq!(&text[span.0..span.1], "3.3.0");
        assert_eq!(dep.attribute("id").unwrap().0, "AWSSDK.Core");
    }

    #[test]
    fn broken_xml_is_an_error() {
        for bad in ["<a>", "<a></b>", "<a", "<a><!-- </a>", "</a>"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
