//! Tests of the XML reader and writer.

use super::*;

fn parse_default(s: &str) -> Result<Element, XmlError> {
    parse(s.as_bytes(), &Limits::default())
}

#[test]
fn namespaces_resolve_and_prefixes_do_not_matter() {
    let a = parse_default(r#"<a:x xmlns:a="urn:n"><a:y k="1">t &amp; u</a:y></a:x>"#).unwrap();
    let b = parse_default("<x xmlns=\"urn:n\">\n  <y k=\"1\"><![CDATA[t & u]]></y>\n</x>").unwrap();
    assert_eq!(a, b);
    assert_eq!(a.namespace.as_deref(), Some("urn:n"));
    assert_eq!(a.child("y").unwrap().text(), "t & u");
    assert_eq!(a.child("y").unwrap().attr("k"), Some("1"));
}

#[test]
fn round_trip_through_writer() {
    let doc = Element::ns("urn:outer", "Root")
        .with_prefix("o")
        .with_child(Element::new("plain").with_text("a<b & \"c\""))
        .with_child(
            Element::ns("urn:inner", "In")
                .with_attr("ok", "YES")
                .with_leaf("Leaf", "v"),
        );
    let xml = doc.to_xml();
    let again = parse_default(&xml).unwrap();
    assert_eq!(doc, again, "{xml}");
    assert_eq!(
        again.find(&["In", "Leaf"]).unwrap().namespace.as_deref(),
        Some("urn:inner")
    );
    assert_eq!(again.child("plain").unwrap().namespace, None);
}

#[test]
fn unqualified_child_under_default_namespace_is_undeclared() {
    let doc = Element::ns("urn:x", "a").with_child(Element::new("b"));
    let again = parse_default(&doc.to_xml()).unwrap();
    assert_eq!(again.child("b").unwrap().namespace, None);
}

#[test]
fn hostile_documents_are_errors() {
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><lolz>&lol2;</lolz>"#;
    assert!(matches!(
        parse_default(laughs),
        Err(XmlError::Doctype { .. })
    ));
    assert!(matches!(
        parse_default("<a>&ext;</a>"),
        Err(XmlError::Entity { .. })
    ));
    assert!(matches!(
        parse_default("<a><b>"),
        Err(XmlError::Malformed { .. })
    ));
    assert!(matches!(
        parse_default("<a></b>"),
        Err(XmlError::Malformed { .. })
    ));
    assert!(matches!(
        parse_default("<p:a/>"),
        Err(XmlError::UnboundPrefix { .. })
    ));
    assert!(matches!(
        parse_default("<a/><b/>"),
        Err(XmlError::Malformed { .. })
    ));
    assert!(matches!(parse_default(""), Err(XmlError::Malformed { .. })));
    assert!(matches!(
        parse(b"<a>\xff\xfe</a>", &Limits::default()),
        Err(XmlError::Encoding { .. })
    ));
    let deep = "<a>".repeat(100_000);
    assert!(matches!(
        parse_default(&deep),
        Err(XmlError::TooDeep { .. })
    ));
    let small = Limits {
        max_bytes: 10,
        ..Limits::default()
    };
    assert!(matches!(
        parse(b"<a>0123456789</a>", &small),
        Err(XmlError::TooLarge { .. })
    ));
    let few = Limits {
        max_nodes: 3,
        ..Limits::default()
    };
    assert!(matches!(
        parse(b"<a><b/><b/><b/></a>", &few),
        Err(XmlError::TooManyNodes { .. })
    ));
}

#[test]
fn attribute_and_namespace_caps_count_per_element() {
    let limits = Limits {
        max_attributes: 3,
        max_namespace_declarations: 2,
        ..Limits::default()
    };
    let ok =
        r#"<a xmlns="urn:d" xmlns:p="urn:p" x="1" p:y="2" z="3"><b xmlns:q="urn:q" k="1"/></a>"#;
    let e = parse(ok.as_bytes(), &limits).unwrap();
    assert_eq!(e.attributes.len(), 3);
    assert_eq!(e.attributes[1].namespace.as_deref(), Some("urn:p"));
    let four = r#"<a x="1" y="2" z="3" w="4"/>"#;
    assert!(matches!(
        parse(four.as_bytes(), &limits),
        Err(XmlError::TooManyAttributes { limit: 3, .. })
    ));
    let three = r#"<a xmlns:a="urn:a" xmlns:b="urn:b" xmlns:c="urn:c"/>"#;
    assert!(matches!(
        parse(three.as_bytes(), &limits),
        Err(XmlError::TooManyNamespaces { limit: 2, .. })
    ));
    // Two per element, but more than 4 x 2 in scope at once.
    let nested = (0..5)
        .map(|i| format!(r#"<e xmlns:a{i}="urn:a" xmlns:b{i}="urn:b">"#))
        .collect::<String>();
    assert!(matches!(
        parse(nested.as_bytes(), &limits),
        Err(XmlError::TooManyNamespaces { .. })
    ));
    // Declarations go out of scope with their element.
    let siblings = format!(
        "<r>{}</r>",
        r#"<e xmlns:a="urn:a" xmlns:b="urn:b"/>"#.repeat(20)
    );
    assert!(parse(siblings.as_bytes(), &limits).is_ok());
    // Attributes and declarations count as nodes.
    let few = Limits {
        max_nodes: 3,
        ..Limits::default()
    };
    assert!(matches!(
        parse(br#"<a xmlns:p="urn:p" x="1" y="2"/>"#, &few),
        Err(XmlError::TooManyNodes { .. })
    ));
}

#[test]
fn prefixes_resolve_in_any_attribute_order() {
    let e = parse_default(r#"<p:a p:k="v" xml:lang="fr" xmlns:p="urn:p"/>"#).unwrap();
    assert_eq!(e.namespace.as_deref(), Some("urn:p"));
    assert_eq!(e.prefix.as_deref(), Some("p"));
    assert_eq!(e.attributes[0].namespace.as_deref(), Some("urn:p"));
    assert_eq!(
        e.attributes[1].namespace.as_deref(),
        Some("http://www.w3.org/XML/1998/namespace")
    );
    // An undeclared default namespace, and an unprefixed attribute under a default one.
    let e = parse_default(r#"<a xmlns="urn:d" k="1"><b xmlns=""/></a>"#).unwrap();
    assert_eq!(e.attributes[0].namespace, None);
    assert_eq!(e.child("b").unwrap().namespace, None);
    assert!(matches!(
        parse_default(r#"<a xmlns:xmlns="urn:x"/>"#),
        Err(XmlError::Malformed { .. })
    ));
}

#[test]
fn whitespace_is_kept_only_where_it_is_content() {
    let e =
        parse_default("<a>\n  <b>  </b>\n  <c> x <d/> </c>\n  <e>&#32;&amp;</e><f>\r\n</f></a>")
            .unwrap();
    assert_eq!(e.children.len(), 4, "{e:?}");
    assert_eq!(e.child("b").unwrap().text(), "  ");
    let c = e.child("c").unwrap();
    assert_eq!(c.children.len(), 2, "{c:?}");
    assert_eq!(c.text(), " x ");
    assert_eq!(e.child("e").unwrap().text(), " &");
    assert_eq!(e.child("f").unwrap().text(), "\n");
    let mixed = parse_default("<a>one <b/>two<!-- c --> three</a>").unwrap();
    assert_eq!(mixed.text(), "one two three");
    assert_eq!(parse_default("<a>\n</a>").unwrap().text(), "\n");
    assert!(matches!(
        parse_default("<a/>tail"),
        Err(XmlError::Malformed { .. })
    ));
    assert!(parse_default("\n<a/>\n").is_ok());
}

#[test]
fn encodings_other_than_utf8_are_transcoded() {
    let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a k=\"\xe9\">Li\xe8ge</a>";
    let e = parse(latin1, &Limits::default()).unwrap();
    assert_eq!(
        (e.text().as_ref(), e.attr("k")),
        ("Li\u{e8}ge", Some("\u{e9}"))
    );
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in "<a>\u{e9}t\u{e9}</a>".encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    assert_eq!(
        parse(&utf16, &Limits::default()).unwrap().text(),
        "\u{e9}t\u{e9}"
    );
    // Text that is decoded already ignores the declaration.
    let text = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\u{e9}</a>";
    assert_eq!(
        parse_str(text, &Limits::default()).unwrap().text(),
        "\u{e9}"
    );
    assert!(matches!(
        parse(
            b"<?xml version='1.0' encoding='x-unknown'?><a/>",
            &Limits::default()
        ),
        Err(XmlError::UnsupportedEncoding { .. })
    ));
}

#[test]
fn char_refs_resolve() {
    let e = parse_default("<a>&#233;t&#xE9;</a>").unwrap();
    assert_eq!(e.text(), "été");
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
        let _ = parse(&bytes, &Limits::default());
    }

    #[test]
    fn mutated_documents_never_panic(pos in 0usize..200, byte in proptest::num::u8::ANY) {
        let base = br#"<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x a="1">t&amp;<![CDATA[c]]></x></s:Body></s:Envelope>"#;
        let mut v = base.to_vec();
        let p = pos % v.len();
        v[p] = byte;
        let _ = parse(&v, &Limits::default());
    }
}
