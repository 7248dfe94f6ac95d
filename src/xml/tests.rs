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
