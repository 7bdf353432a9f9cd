use super::kept_documents;

/// `get` finds, for every key, the value `pairs` keeps (the loader's), and nothing for a key
/// that is not there: duplicates, merges (one and a list), quoted, escaped, tagged, anchored
/// and aliased keys, flow mappings.
#[test]
fn get_finds_what_pairs_keep() {
    let streams = [
            "kind: Pod\nspec: {a: 1}\nkind: Secret\n",
            "base: &b {kind: Pod, name: x}\nother: &o {kind: Job, image: y}\nm:\n  <<: *b\n  name: z\n",
            "base: &b {kind: Pod, name: x}\nother: &o {kind: Job, image: y}\nm:\n  <<: [*o, *b]\n",
            "m:\n  <<: {kind: A}\n  <<: {kind: B, spec: 1}\n",
            "m:\n  \"kind\": a\n  'spec': b\n  \"k\\u0069nd2\": c\n  'it''s': d\n  !!str data: e\n  &k name: f\n  *k : g\n",
            "m: {\"kind\": a, kinder: b, kin: c, ? [kind] : d}\n",
            "m:\n  kind: a\n  # kind: b\n  kind2: c\n",
        ];
    for stream in streams {
        let bytes = stream.as_bytes();
        let tree = super::parse_tree(bytes).unwrap();
        assert!(!tree.root_node().has_error(), "{stream}");
        for document in super::documents(&tree) {
            let mut mappings = vec![document];
            if let Some(m) = super::get(document, bytes, "m") {
                mappings.push(m);
            }
            for mapping in mappings {
                let pairs = super::pairs(mapping, bytes);
                assert!(!pairs.is_empty(), "{stream}");
                for (key, _, value) in &pairs {
                    if key.is_empty() {
                        continue;
                    }
                    let got = super::get(mapping, bytes, key);
                    assert_eq!(got.map(|n| n.id()), Some(value.id()), "{stream}: {key}");
                }
                for absent in ["kin", "kinds", "", "missing", "Kind"] {
                    let expected = pairs
                        .iter()
                        .find(|(k, _, _)| !k.is_empty() && k == absent)
                        .map(|(_, _, v)| v.id());
                    let got = super::get(mapping, bytes, absent).map(|n| n.id());
                    assert_eq!(got, expected, "{stream}: {absent}");
                }
            }
        }
    }
    // The cases that matter, by value.
    let bytes = b"m:\n  \"k\\u0069nd\": a\n  <<: {spec: merged, kind: lost}\n";
    let tree = super::parse_tree(bytes).unwrap();
    let document = super::documents(&tree)[0];
    let m = super::get(document, bytes, "m").unwrap();
    let value = |key: &str| super::get(m, bytes, key).and_then(|v| super::scalar_string(v, bytes));
    assert_eq!(value("kind").as_deref(), Some("a"));
    assert_eq!(value("spec").as_deref(), Some("merged"));
}

#[test]
fn schema_documents_are_left_out_of_a_stream() {
    let stream = "apiVersion: v1\nkind: Pod\n---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  description: curl http://169.254.169.254/\n---\nkind: \"CustomResourceDefinition\"\n--- \nkind: ConfigMap\ndata:\n  x: |\n    kind: CustomResourceDefinition\n";
    let kept: Vec<&str> = kept_documents(stream.as_bytes(), &|_| true)
        .unwrap()
        .into_iter()
        .map(|r| &stream[r])
        .collect();
    assert_eq!(
        kept,
        [
            "apiVersion: v1\nkind: Pod\n",
            "--- \nkind: ConfigMap\ndata:\n  x: |\n    kind: CustomResourceDefinition\n",
        ]
    );
    // No schema (an indented `kind:` is not the document's): the stream is read as it is.
    assert_eq!(
        kept_documents(
            b"kind: ConfigMap\ndata:\n  x: |\n    kind: CustomResourceDefinition\n",
            &|_| true
        ),
        None
    );
    assert_eq!(kept_documents(b"kind: Pod\n", &|_| true), None);
}

#[test]
fn documents_not_worth_reading_are_left_out_of_a_stream() {
    let worth = |text: &[u8]| memchr::memmem::find(text, b"keep").is_some();
    let stream = "a: keep\n---\nb: 1\n--- # keep\nc: 2\n---\nd: |\n  ---x\n  keep\n---\n";
    let kept: Vec<&str> = kept_documents(stream.as_bytes(), &worth)
        .unwrap()
        .into_iter()
        .map(|r| &stream[r])
        .collect();
    assert_eq!(
        kept,
        [
            "a: keep\n",
            "--- # keep\nc: 2\n",
            "---\nd: |\n  ---x\n  keep\n"
        ]
    );
    // A stream of one document is read whole, whatever `worth_reading` says of it (the
    // file was worth reading); so is one where every document is worth it.
    assert_eq!(kept_documents(b"---\nb: 1\n", &worth), None);
    assert_eq!(kept_documents(b"b: 1\n", &worth), None);
    assert_eq!(kept_documents(b"a: keep\n---\nb: keep\n", &worth), None);
    // Nothing worth reading: nothing is parsed.
    assert_eq!(kept_documents(b"a: 1\n---\nb: 2\n", &worth), Some(vec![]));
}

use super::*;

fn first_value(yaml: &str, key: &str) -> Scalar {
    let tree = parse_tree(yaml.as_bytes()).unwrap();
    let doc = documents(&tree)[0];
    scalar(get(doc, yaml.as_bytes(), key).unwrap(), yaml.as_bytes()).unwrap()
}

#[test]
fn levels_are_bounded_from_above() {
    let nested = |n: usize| -> String {
        (0..n)
            .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
            .collect()
    };
    assert_eq!(beyond_grammar(nested(200).as_bytes()), None);
    assert!(beyond_grammar(nested(201).as_bytes()).is_some());
    // Compact sequences open one level per `- `; a dedent closes levels again.
    let compact = format!("{}x\n", "- ".repeat(199));
    assert!(beyond_grammar(compact.as_bytes()).is_none());
    assert!(beyond_grammar(format!("- {compact}").as_bytes()).is_some());
    let wide = format!("{}{}", nested(150), nested(150));
    assert_eq!(
        beyond_grammar(wide.as_bytes()),
        None,
        "siblings do not add up"
    );
    // Comments and blank lines open nothing; a long file is declined by its line count.
    let comments = format!("{}a: 1\n", "      # c\n\n".repeat(300));
    assert_eq!(beyond_grammar(comments.as_bytes()), None);
    assert!(beyond_grammar("a: 1\n".repeat(40_000).as_bytes())
        .is_some_and(|why| why.contains("32767 lines")));
}

#[test]
fn flow_levels_are_bounded_before_parsing() {
    let deep = |n: usize| format!("{{\"a\": {}{}}}", "[".repeat(n), "]".repeat(n));
    // The mapping around them is a level too.
    assert!(!flow_levels_beyond(deep(999).as_bytes(), 1_000));
    assert!(flow_levels_beyond(deep(1_000).as_bytes(), 1_000));
    let objects = format!("{}1{}", "{\"a\":".repeat(1_001), "}".repeat(1_001));
    assert!(flow_levels_beyond(objects.as_bytes(), 1_000));
    assert!(beyond_grammar(objects.as_bytes())
        .is_some_and(|why| why.contains("nests more than 1000 brackets deep")));
    // Unclosed: each bracket still opens a level.
    assert!(flow_levels_beyond("a: [".repeat(1_001).as_bytes(), 1_000));
    assert!(flow_levels_beyond(
        format!("- {}", "[".repeat(1_001)).as_bytes(),
        1_000
    ));
    assert!(flow_levels_beyond(
        format!("a: !!seq {}", "[".repeat(1_001)).as_bytes(),
        1_000
    ));
    assert!(flow_levels_beyond(
        format!("a: &x {}", "{".repeat(1_001)).as_bytes(),
        1_000
    ));
    // Brackets in plain and quoted scalars, comments and siblings open nothing.
    for quiet in [
        "a: x[0]\n".repeat(2_000),
        "a: \"[[[[\"\n".repeat(600),
        "a: '[[[['\n".repeat(600),
        "a: 'it''s [['\n".repeat(600),
        "- [x, \"]]]\", '[[']\n".repeat(600),
        "# [[[[[\n".repeat(600),
        "k: v # [[[[\n".repeat(600),
        "a: [1, [2, {b: [3]}]]\n".repeat(2_000),
        "{\"a\":[1,{\"b\":\"[[\"}],\"c\":{}}\n".repeat(2_000),
        format!("s: |\n{}", "  [ -f x ] && echo \"[\"\n".repeat(2_000)),
    ] {
        assert!(
            !flow_levels_beyond(quiet.as_bytes(), 1_000),
            "{:?}",
            &quiet[..20]
        );
    }
}

#[test]
fn only_simple_folded_blocks_can_become_double_quoted() {
    let plain = |yaml: &str| first_value(yaml, "a").region.plain;
    let yaml = "a: >-\n  curl \"x\"\n  y\\z\n\nb: 1\n";
    let folded = plain(yaml).expect("a simple folded block");
    // The header, its line break and the indentation become the opening quote.
    assert_eq!(folded.header, Some(HostSpan::new(3, 8)));
    assert_eq!(&yaml[8..folded.span.end.0], "curl \"x\"\n  y\\z");
    let escaped: Vec<&str> = folded
        .escapes
        .iter()
        .map(|at| &yaml[at.0..at.0 + 1])
        .collect();
    assert_eq!(escaped, ["\"", "\"", "\\"]);
    assert!(plain("a: >2\n  x\n").is_some());
    for (yaml, why) in [
        (
            "a: > # note\n  x\n",
            "a comment after the header would be lost",
        ),
        (
            "a: >\n  x\n    y\n",
            "a more-indented line keeps its line break",
        ),
        ("a: >\n  x\n\n  y\n", "a blank line keeps a line break"),
        (
            "a: >\n  x \n  y\n",
            "trailing blanks are content in a block, not when quoted",
        ),
        ("a: |\n  x\n", "a literal block is written as a block"),
    ] {
        assert_eq!(plain(yaml), None, "{why}");
    }
}

fn texts(nodes: Vec<(String, Node, Node)>, bytes: &[u8]) -> Vec<(String, String)> {
    nodes
        .into_iter()
        .map(|(k, _, v)| (k, scalar_string(v, bytes).unwrap_or_default()))
        .collect()
}

#[test]
fn a_duplicate_key_reads_as_its_last_and_merge_keys_as_pyyaml_merges() {
    let yaml = "a: 1\nb: 2\na: 3\n";
    let tree = parse_tree(yaml.as_bytes()).unwrap();
    let doc = documents(&tree)[0];
    let bytes = yaml.as_bytes();
    assert_eq!(
        scalar_string(get(doc, bytes, "a").unwrap(), bytes).unwrap(),
        "3"
    );
    assert_eq!(
        texts(pairs(doc, bytes), bytes),
        [("b".into(), "2".into()), ("a".into(), "3".into())]
    );
    let earlier: Vec<String> = shadowed(doc, bytes, "a")
        .into_iter()
        .filter_map(|(_, v)| scalar_string(v, bytes))
        .collect();
    assert_eq!(earlier, ["1"]);
    assert!(shadowed(doc, bytes, "b").is_empty());
    // The mapping's own keys win over merged ones; of merged mappings, the earlier.
    let yaml = "x: &x {a: x, b: x, c: x}\ny: &y {b: y, d: y}\nz:\n  <<: [*y, *x]\n  c: z\n";
    let tree = parse_tree(yaml.as_bytes()).unwrap();
    let bytes = yaml.as_bytes();
    let z = get(documents(&tree)[0], bytes, "z").unwrap();
    let mut merged = texts(pairs(z, bytes), bytes);
    merged.sort();
    let want: Vec<(String, String)> = [("a", "x"), ("b", "y"), ("c", "z"), ("d", "y")]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(merged, want);
}

#[test]
fn an_alias_is_the_node_its_anchor_marks() {
    let yaml = "a: &n one\nb: *n\nc: &n two\nd: [*n, *missing]\ne: &loop [*loop]\n---\nf: *n\n";
    let tree = parse_tree(yaml.as_bytes()).unwrap();
    let bytes = yaml.as_bytes();
    let docs = documents(&tree);
    let b = scalar(get(docs[0], bytes, "b").unwrap(), bytes).unwrap();
    // The anchored node's own bytes.
    assert_eq!(
        (b.text.as_str(), &yaml[b.span.start.0..b.span.end.0]),
        ("one", "one")
    );
    assert_eq!(b.span.start.0, yaml.find("one").unwrap());
    // The last anchor of the name before the alias; an unknown name is nothing.
    let d = items(get(docs[0], bytes, "d").unwrap(), bytes);
    assert_eq!(scalar_string(d[0], bytes).as_deref(), Some("two"));
    assert_eq!(scalar_string(d[1], bytes), None);
    // A node that holds an alias of itself is read one level at a time.
    let e = items(get(docs[0], bytes, "e").unwrap(), bytes);
    assert!(is_sequence(e[0], bytes));
    // Anchors do not reach into the next document.
    assert_eq!(
        scalar_string(get(docs[1], bytes, "f").unwrap(), bytes),
        None
    );
    // What aliases stand for is shared text.
    let shared: Vec<&str> = shared_spans(&tree, bytes)
        .iter()
        .map(|s| &yaml[s.start.0..s.end.0])
        .collect();
    assert_eq!(shared, ["&n one", "&n two", "&loop [*loop]"]);
}

#[test]
fn an_indentation_indicator_counts_from_the_collection() {
    // As PyYAML reads them. Top level and in a mapping at column 0: the digit is the
    // content's indentation.
    assert_eq!(first_value("a: |2\n   x\n", "a").text, " x\n");
    // In a mapping at column 2, `|2` means content at column 4; in a sequence item at
    // column 2, the same.
    let yaml = "top:\n  a: |2\n     x\n  b:\n    - >1\n       y\n       z\n";
    let tree = parse_tree(yaml.as_bytes()).unwrap();
    let top = get(documents(&tree)[0], yaml.as_bytes(), "top").unwrap();
    let a = scalar(get(top, yaml.as_bytes(), "a").unwrap(), yaml.as_bytes()).unwrap();
    // (The scalar's node ends before its last line break when more follows.)
    assert_eq!(a.text.trim_end_matches('\n'), " x");
    let b = items(get(top, yaml.as_bytes(), "b").unwrap(), yaml.as_bytes());
    let b = scalar(b[0], yaml.as_bytes()).unwrap();
    // Lines more indented than the block keep their line breaks.
    assert_eq!(b.text.trim_end_matches('\n'), "  y\n  z");
}

#[test]
fn scalars_decode_with_exact_offsets() {
    let yaml =
        "a: curl -s http://x\nb: \"say \\\"hi\\\"\"\nc: 'it''s'\nd: |\n  line one\n  line two\n";
    let a = first_value(yaml, "a");
    assert_eq!(a.text, "curl -s http://x");
    assert_eq!(a.anchors[0].1, 3);
    let b = first_value(yaml, "b");
    assert_eq!(b.text, "say \"hi\"");
    let c = first_value(yaml, "c");
    assert_eq!(c.text, "it's");
    let d = first_value(yaml, "d");
    assert_eq!(d.text, "line one\nline two\n");
    // "line two" starts at byte 55: after "d: |\n" (50..) and "  line one\n" (the 2-space indent).
    let at = yaml.find("line two").unwrap();
    let map = crate::fragment::OffsetMap::from_anchors(d.anchors.clone());
    assert_eq!(map.to_host(crate::fragment::FragmentOffset(9)).0, at);
}

#[test]
fn sequences_and_documents() {
    let yaml = "x: [a, b]\n---\ny:\n  - c\n  - d\n";
    let tree = parse_tree(yaml.as_bytes()).unwrap();
    let docs = documents(&tree);
    assert_eq!(docs.len(), 2);
    let x: Vec<String> = items(get(docs[0], yaml.as_bytes(), "x").unwrap(), yaml.as_bytes())
        .into_iter()
        .filter_map(|n| scalar_string(n, yaml.as_bytes()))
        .collect();
    assert_eq!(x, ["a", "b"]);
    let y = items(get(docs[1], yaml.as_bytes(), "y").unwrap(), yaml.as_bytes());
    assert_eq!(y.len(), 2);
}
