//! A Dockerfile exec-form array run directly (`["curl", "-s", "…"]`, no shell): its items, decoded
//! JSON strings, read as the same command in shell form, each item one single-quoted word, with
//! anchors back to the items in the host. A fix rewrites the array into that shell form.

use super::{FragmentOffset, OffsetMap};

/// The shell words of an exec form's decoded items (each with its anchors into the host): each
/// item single-quoted, so the analysis sees the same words; with anchors into the host. A `'`
/// in an item is written `'\''`, all four bytes of it at the quote's place in the host.
pub fn shell_words(elements: &[(String, Vec<(usize, usize)>)]) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut text = Vec::new();
    let mut anchors = Vec::new();
    for (i, (element, element_anchors)) in elements.iter().enumerate() {
        if i > 0 {
            text.push(b' ');
        }
        let start = element_anchors.first().map_or(0, |a| a.1);
        anchors.push((text.len(), start));
        text.push(b'\'');
        let map = OffsetMap::from_anchors(element_anchors.iter().copied());
        let host = |f: usize| map.to_host(FragmentOffset(f)).0;
        let mut pending = element_anchors.iter().peekable();
        for (f, c) in element.char_indices() {
            while let Some(&&(af, ah)) = pending.peek() {
                if af > f {
                    break;
                }
                anchors.push((text.len() + af - f, ah));
                pending.next();
            }
            if c == '\'' {
                let (at, quote) = (text.len(), host(f));
                text.extend_from_slice(br"'\''");
                anchors.extend((0..4).map(|k| (at + k, quote)));
                anchors.push((text.len(), host(f + 1)));
            } else {
                text.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            }
        }
        let end = element.len();
        for &(af, ah) in pending {
            anchors.push((text.len() + af.saturating_sub(end), ah));
        }
        text.push(b'\'');
    }
    (text, anchors)
}

/// Writes the shell form in place of the array (`Codec::ExecForm`): the words as they are.
pub fn encode(decoded: &[u8]) -> Vec<u8> {
    decoded.to_vec()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::fragment::properties::anchors_inside;
    use crate::fragment::{json_string, HostSpan};

    /// The words a POSIX shell reads in text made of single-quoted words (`'…'`, `\'`),
    /// separated by spaces.
    fn words(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut word: Option<String> = None;
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                ' ' => out.extend(word.take()),
                '\'' => {
                    let word = word.get_or_insert_with(String::new);
                    for inner in chars.by_ref() {
                        if inner == '\'' {
                            break;
                        }
                        word.push(inner);
                    }
                }
                '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
                other => word.get_or_insert_with(String::new).push(other),
            }
        }
        out.extend(word);
        out
    }

    /// An exec-form array as written in the host, and its items decoded.
    #[allow(clippy::type_complexity)]
    fn array(items: &[String]) -> (String, Vec<(String, Vec<(usize, usize)>)>) {
        let mut host = String::from("[");
        let mut decoded = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                host.push_str(", ");
            }
            let literal = format!("\"{}\"", json_string::encode(item));
            decoded.push(json_string::decode(literal.as_bytes(), host.len()));
            host.push_str(&literal);
        }
        host.push(']');
        (host, decoded)
    }

    fn items() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec("[a-z/:\"'\\\\ .$-]{0,8}", 1..5)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The shell form's words are the array's items, and it is written back as it is.
        #[test]
        fn round_trip(items in items()) {
            let (_, decoded) = array(&items);
            let (text, _) = shell_words(&decoded);
            prop_assert_eq!(words(std::str::from_utf8(&text).unwrap()), items);
            prop_assert_eq!(encode(&text), text);
        }

        /// Every span of the shell form maps inside the array, items holding `'` (written
        /// `'\''`) included.
        #[test]
        fn spans_map_inside_the_array(items in items()) {
            let (host, decoded) = array(&items);
            let (text, anchors) = shell_words(&decoded);
            let span = HostSpan::new(0, host.len());
            prop_assert_eq!(anchors_inside(&anchors, text.len(), span), Ok(()));
        }
    }

    #[test]
    fn items_with_quotes_map_inside_the_array() {
        let (host, decoded) = array(&["it's".to_owned(), "'".to_owned(), "x".to_owned()]);
        let (text, anchors) = shell_words(&decoded);
        assert_eq!(text, br"'it'\''s' ''\''' 'x'");
        let span = HostSpan::new(0, host.len());
        assert_eq!(anchors_inside(&anchors, text.len(), span), Ok(()));
        // The item after them still maps onto itself: `x` is where the array has it.
        let map = crate::fragment::OffsetMap::from_anchors(anchors);
        let x = text.iter().rposition(|&b| b == b'x').unwrap();
        let at = map.to_host(crate::fragment::FragmentOffset(x)).0;
        assert_eq!(&host[at..at + 1], "x");
    }
}
