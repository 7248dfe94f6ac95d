//! What the fuzz targets of `fuzz/` found, each kept as a regular test with the input
//! that showed it (reduced by hand or by `cargo fuzz tmin`). See the README's development
//! section for running the targets.

use bcss::services::catalogue::Origin;
use bcss::services::catalogue::import::{ImportOptions, import};
use bcss::services::parse_services;

/// A WSDL of one operation whose schema location and port address hold what a TOML
/// comment cannot: a NUL byte, and a character reference to a newline followed by a
/// `[[service]]` table of its own.
const WSDL_QUOTING_CONTROLS: &str = r#"<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" name="FictitiousAllowancesService"
    targetNamespace="http://kszbcss.fgov.be/intf/FictitiousAllowancesService/v1"
    xmlns:tns="http://kszbcss.fgov.be/intf/FictitiousAllowancesService/v1"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/">
  <wsdl:types>
    <xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="http://kszbcss.fgov.be/intf/FictitiousAllowancesService/v1">
      <xsd:import namespace="urn:types" schemaLocation="t NUL"/>
      <xsd:element name="consultRequest" type="xsd:string"/>
      <xsd:element name="consultResponse" type="xsd:string"/>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="consultRequestMsg"><wsdl:part name="p" element="tns:consultRequest"/></wsdl:message>
  <wsdl:message name="consultResponseMsg"><wsdl:part name="p" element="tns:consultResponse"/></wsdl:message>
  <wsdl:portType name="PortType">
    <wsdl:operation name="consult">
      <wsdl:input message="tns:consultRequestMsg"/>
      <wsdl:output message="tns:consultResponseMsg"/>
    </wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="Binding" type="tns:PortType">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="consult">
      <soap:operation soapAction="http://kszbcss.fgov.be/FictitiousAllowancesService/consult"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input>
      <wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="FictitiousAllowancesService">
    <wsdl:port name="Port" binding="tns:Binding">
      <soap:address location="https://example.invalid/v1&#10;[[service]]&#10;name = &quot;Injected&quot;"/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"#;

/// fuzz target wsdl_import: the notes above an imported entry quote the files (a schema
/// location, an address); a control character in them (a NUL byte, a newline) ended the
/// comment, so the entry printed to append to bcss.toml did not read back, or read back
/// with a table the WSDL smuggled in. They are written escaped.
#[test]
fn import_notes_quoting_control_characters_stay_comments() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("service-test.wsdl");
    std::fs::write(&file, WSDL_QUOTING_CONTROLS.replace("NUL", "\0")).unwrap();
    let imported = import(&[file], &ImportOptions::default()).unwrap();
    assert!(
        imported.notes.iter().any(|n| n.contains('\0')),
        "{:?}",
        imported.notes
    );
    assert!(
        imported.notes.iter().any(|n| n.contains("\n[[service]]")),
        "{:?}",
        imported.notes
    );

    let entry = imported.to_toml();
    assert!(entry.contains("t \\0"), "{entry}");
    assert!(
        entry.contains("v1\\n[[service]]\\nname = \"Injected\""),
        "{entry}"
    );
    let services = parse_services(&entry, "bcss.toml").unwrap_or_else(|e| panic!("{entry}\n{e}"));
    assert_eq!(services.len(), 1, "{entry}");
    let mut read_back = services[0].descriptor().clone();
    let mut expected = imported.descriptor.clone();
    read_back.origin = Origin::BuiltIn;
    expected.origin = Origin::BuiltIn;
    assert_eq!(read_back, expected);
}
