//! Builds the client's default endpoint and soapAction table from the project's own WSDL
//! files in `wsdl/`. `tests/endpoints_wsdl.rs` checks that the table and the files agree.

use std::fmt::Write as _;
use std::path::Path;

use quick_xml::events::Event;
use quick_xml::reader::Reader;

struct Wsdl {
    service: String,
    /// (port name = environment, address)
    ports: Vec<(String, String)>,
    /// (operation, soapAction)
    actions: Vec<(String, String)>,
}

fn local(name: &str) -> &str {
    match name.rfind(':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

fn attr(e: &quick_xml::events::BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

fn read_wsdl(path: &Path) -> Wsdl {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut reader = Reader::from_str(&text);
    let mut wsdl = Wsdl {
        service: String::new(),
        ports: Vec::new(),
        actions: Vec::new(),
    };
    let mut in_binding = false;
    let mut operation: Option<String> = None;
    let mut port: Option<String> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let name = e.name();
                match local(name.as_ref()) {
                    "definitions" => wsdl.service = attr(&e, "name").unwrap_or_default(),
                    "binding" if name.as_ref().starts_with("wsdl:") => in_binding = true,
                    "operation" if in_binding && name.as_ref().starts_with("wsdl:") => {
                        operation = attr(&e, "name")
                    }
                    "operation" if name.as_ref().starts_with("soap:") => {
                        if let (Some(op), Some(action)) =
                            (operation.clone(), attr(&e, "soapAction"))
                        {
                            wsdl.actions.push((op, action));
                        }
                    }
                    "port" => port = attr(&e, "name"),
                    "address" => {
                        if let (Some(p), Some(location)) = (port.clone(), attr(&e, "location")) {
                            wsdl.ports.push((p, location));
                        }
                    }
                    _ => {}
                }
            }
            Ok(Event::End(e)) => {
                if local(e.name().as_ref()) == "binding" {
                    in_binding = false;
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{}: malformed WSDL: {e}", path.display()),
        }
    }
    assert!(
        !wsdl.service.is_empty(),
        "{}: no definitions name",
        path.display()
    );
    assert!(
        !wsdl.ports.is_empty(),
        "{}: no port addresses",
        path.display()
    );
    assert!(
        !wsdl.actions.is_empty(),
        "{}: no soapAction",
        path.display()
    );
    wsdl
}

fn main() {
    println!("cargo:rerun-if-changed=wsdl");
    let mut files: Vec<_> = std::fs::read_dir("wsdl")
        .expect("wsdl/ directory")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wsdl"))
        .collect();
    files.sort();
    let mut endpoints = String::new();
    let mut actions = String::new();
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let w = read_wsdl(path);
        for (env, url) in &w.ports {
            let _ = writeln!(endpoints, "    ({:?}, {:?}, {:?}),", w.service, env, url);
        }
        for (op, action) in &w.actions {
            let _ = writeln!(actions, "    ({:?}, {:?}, {:?}),", w.service, op, action);
        }
    }
    let out = format!(
        "/// (service, environment, default endpoint) from wsdl/*.wsdl.\n\
         pub(crate) const WSDL_ENDPOINTS: &[(&str, &str, &str)] = &[\n{endpoints}];\n\
         /// (service, WSDL operation, soapAction) from wsdl/*.wsdl.\n\
         pub(crate) const WSDL_SOAP_ACTIONS: &[(&str, &str, &str)] = &[\n{actions}];\n"
    );
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("wsdl_table.rs");
    std::fs::write(dest, out).expect("write wsdl_table.rs");
}
