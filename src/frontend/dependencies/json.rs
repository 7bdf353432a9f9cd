//! JSON read with the byte span of every string, for the lockfiles and manifests written in it
//! (package.json, package-lock.json, Pipfile.lock, composer.lock): `serde_json` does not keep
//! positions, and these files can be megabytes, past what the YAML grammar is given.

/// A JSON value; strings keep the span of their raw contents (between the quotes).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Object(Vec<(String, Json)>),
    Array(Vec<Json>),
    String {
        value: String,
        span: (usize, usize),
    },
    /// A number, `true`, `false` or `null`.
    Other,
}

impl Json {
    /// The value of a key of an object (the last, as parsers keep).
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(pairs) => pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(String, Json)] {
        match self {
            Json::Object(pairs) => pairs,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Json] {
        match self {
            Json::Array(items) => items,
            _ => &[],
        }
    }

    pub fn string(&self) -> Option<(&str, (usize, usize))> {
        match self {
            Json::String { value, span } => Some((value, *span)),
            _ => None,
        }
    }
}

/// How deeply arrays and objects may nest.
const MAX_DEPTH: usize = 512;

/// Parses a JSON document, or says where it stops being JSON.
pub fn parse(text: &str) -> Result<Json, String> {
    let mut parser = Parser {
        bytes: text.as_bytes(),
        text,
        at: 0,
    };
    let value = parser.value(0)?;
    parser.space();
    if parser.at < parser.bytes.len() {
        return Err(format!("unexpected text at byte {}", parser.at));
    }
    Ok(value)
}

struct Parser<'a> {
    bytes: &'a [u8],
    text: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn space(&mut self) {
        while self
            .bytes
            .get(self.at)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.at += 1;
        }
        // A byte-order mark at the start.
        if self.at == 0 && self.text.starts_with('\u{feff}') {
            self.at = 3;
            self.space();
        }
    }

    fn error(&self, what: &str) -> String {
        format!("{what} at byte {}", self.at)
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        self.space();
        match self.bytes.get(self.at) {
            Some(b'{') => {
                self.at += 1;
                let mut pairs = Vec::new();
                self.space();
                if self.bytes.get(self.at) == Some(&b'}') {
                    self.at += 1;
                    return Ok(Json::Object(pairs));
                }
                loop {
                    self.space();
                    let Json::String { value: key, .. } = self.string()? else {
                        return Err(self.error("expected a key"));
                    };
                    self.space();
                    if self.bytes.get(self.at) != Some(&b':') {
                        return Err(self.error("expected `:`"));
                    }
                    self.at += 1;
                    let value = self.value(depth + 1)?;
                    pairs.push((key, value));
                    self.space();
                    match self.bytes.get(self.at) {
                        Some(b',') => self.at += 1,
                        Some(b'}') => {
                            self.at += 1;
                            return Ok(Json::Object(pairs));
                        }
                        _ => return Err(self.error("expected `,` or `}`")),
                    }
                }
            }
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                self.space();
                if self.bytes.get(self.at) == Some(&b']') {
                    self.at += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.space();
                    match self.bytes.get(self.at) {
                        Some(b',') => self.at += 1,
                        Some(b']') => {
                            self.at += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return Err(self.error("expected `,` or `]`")),
                    }
                }
            }
            Some(b'"') => self.string(),
            Some(b) if b.is_ascii_alphanumeric() || *b == b'-' => {
                while self
                    .bytes
                    .get(self.at)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.'))
                {
                    self.at += 1;
                }
                Ok(Json::Other)
            }
            _ => Err(self.error("expected a value")),
        }
    }

    fn string(&mut self) -> Result<Json, String> {
        if self.bytes.get(self.at) != Some(&b'"') {
            return Err(self.error("expected a string"));
        }
        self.at += 1;
        let start = self.at;
        let mut escaped = false;
        loop {
            match self.bytes.get(self.at) {
                None => return Err(self.error("unclosed string")),
                Some(b'\\') => {
                    escaped = true;
                    self.at += 2;
                }
                Some(b'"') => break,
                Some(_) => self.at += 1,
            }
        }
        let end = self.at;
        self.at += 1;
        let raw = self
            .text
            .get(start..end)
            .ok_or_else(|| self.error("bad string"))?;
        let value = if escaped {
            serde_json::from_str::<String>(self.text.get(start - 1..end + 1).unwrap_or("\"\""))
                .map_err(|e| self.error(&format!("bad string: {e}")))?
        } else {
            raw.to_owned()
        };
        Ok(Json::String {
            value,
            span: (start, end),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_keep_their_spans() {
        let text = r#"{"a": {"b": ["x", 1, true, null]}, "c": "d\"e", "v": "1.2.3"}"#;
        let json = parse(text).unwrap();
        let (value, span) = json.get("v").unwrap().string().unwrap();
        assert_eq!(value, "1.2.3");
        assert_eq!(&text[span.0..span.1], "1.2.3");
        assert_eq!(json.get("c").unwrap().string().unwrap().0, "d\"e");
        assert_eq!(json.get("a").unwrap().get("b").unwrap().items().len(), 4);
    }

    #[test]
    fn broken_json_is_an_error() {
        for bad in ["{", "{\"a\" 1}", "[1,", "\"x", "{} x", "{\"a\": [1 2]}"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = "[".repeat(10_000);
        assert!(parse(&deep).is_err());
    }
}
