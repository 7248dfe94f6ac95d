//! What the fuzz targets of `fuzz/` found, each kept as a regular test with the input
//! that showed it (reduced by hand or by `cargo fuzz tmin`). See the README's development
//! section for running the targets.

mod audit_support;

use std::path::{Path, PathBuf};

use bcss::audit::{
    AuditError, CallRecord, FileJournal, FileJournalConfig, ReadRecord, VerifyOptions,
    VerifyReport, verify,
};
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

/// A journal whose creation stopped after its first segment's header, before its genesis
/// record was durable: `keep` bytes of that record are left after the header.
async fn journal_stopped_at_creation(keep: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let journal_dir = dir.path().join("journal");
    let mut config = FileJournalConfig::new(&journal_dir);
    config.checkpoint_on_close = false;
    let journal = FileJournal::open(config).await.unwrap();
    journal.close().await.unwrap();
    let segment = std::fs::read_dir(&journal_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "bcj"))
        .unwrap();
    let header = 80;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .unwrap();
    file.set_len(header + keep).unwrap();
    (dir, journal_dir)
}

/// Open the journal, append one record, close it (which writes a checkpoint), and verify
/// it.
async fn reopen_append_verify(dir: &Path) -> VerifyReport {
    let journal = FileJournal::open(FileJournalConfig::new(dir))
        .await
        .unwrap();
    journal
        .append_record(CallRecord::Read(ReadRecord::new(
            "advisor-1",
            "verify",
            vec![],
        )))
        .await
        .unwrap();
    journal.close().await.unwrap();
    verify(dir, &VerifyOptions::default()).unwrap()
}

/// fuzz target journal_segment: a journal whose only record, its genesis, was torn (the
/// process stopped while creating it) opened by cutting that record off and writing a
/// truncation record first: the journal had no genesis record, and never verified again.
/// The genesis record is written again, before the truncation record.
#[tokio::test]
async fn a_journal_whose_genesis_record_was_torn_opens_with_a_genesis_record() {
    let (_tmp, dir) = journal_stopped_at_creation(3).await;
    let report = reopen_append_verify(&dir).await;
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.truncations, 1);
    assert_eq!(report.quarantined.len(), 1);
    // Genesis, truncation, the record appended, the checkpoint written at close.
    assert_eq!(report.records, 4);
    assert_eq!(report.checkpoints, 1);
}

/// The same stop before any byte of the genesis record: the journal held only its
/// segment header, and the first record appended was not a genesis record.
#[tokio::test]
async fn a_journal_stopped_before_its_genesis_record_opens_with_one() {
    let (_tmp, dir) = journal_stopped_at_creation(0).await;
    let report = reopen_append_verify(&dir).await;
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.truncations, 0);
    // Genesis, the record appended, the checkpoint written at close.
    assert_eq!(report.records, 3);
    assert_eq!(report.checkpoints, 1);
}

/// fuzz target journal_segment: a journal whose chain continues at the largest sequence
/// number (its header and records altered, checksums and chain made right) made the
/// writer's sequence count overflow when opening it appended its records (a panic in the
/// writer thread; a wrap to 0 in a release build). Opening refuses it as damage.
#[tokio::test]
async fn a_journal_at_the_largest_sequence_number_is_refused_as_damage() {
    let tmp = audit_support::tempdir();
    let dir = tmp.path().join("journal");
    let mut config = FileJournalConfig::new(&dir);
    config.checkpoint_on_close = false;
    let journal = FileJournal::open(config).await.unwrap();
    journal.close().await.unwrap();
    let path = audit_support::segments(&dir).remove(0);
    let mut bytes = std::fs::read(&path).unwrap();
    // The genesis record, renumbered u64::MAX, in a segment announcing it.
    let last = u64::MAX;
    bytes[12..20].copy_from_slice(&last.to_le_bytes());
    let crc = crc32c::crc32c(&bytes[0..76]);
    bytes[76..80].copy_from_slice(&crc.to_le_bytes());
    let genesis = audit_support::frames(&bytes).remove(0);
    bytes[genesis.offset + 8..genesis.offset + 16].copy_from_slice(&last.to_le_bytes());
    audit_support::rechain(&mut bytes, genesis.offset);
    std::fs::remove_file(&path).unwrap();
    std::fs::write(dir.join(format!("seg-{last:020}-20250115.bcj")), &bytes).unwrap();

    let e = FileJournal::open(FileJournalConfig::new(&dir))
        .await
        .err()
        .unwrap();
    assert!(
        matches!(&e, AuditError::Damaged { sequence, reason, .. }
            if *sequence == last && reason.contains("outside 1..=")),
        "{e}"
    );
}
