//! The table of shipped fixtures.

use super::*;

/// Every shipped fixture.
pub fn scenarios() -> Vec<Scenario> {
    use ExpectedOutcome::*;
    use HciOperation::*;
    use Language::*;
    vec![
        // IdentifyPerson
        sc(
            "marc-by-ssin-ok",
            "Marc FICTIF identified by SSIN: identity validated (12007001)",
            identify(MARC),
            Some("ssdn/IdentifyPerson/ok.xml"),
            200,
            Ok,
        ),
        sc(
            "bisnummer-phonetic-ok",
            "Phonetic search BISNUMMER born 1975-01: two candidates",
            phonetic("BISNUMMER", "1975-01-00"),
            Some("ssdn/IdentifyPerson/ok_phonetic.xml"),
            200,
            Ok,
        ),
        sc(
            "anna-person-data-warning",
            "Anna VOORBEELD by SSIN with person data that do not match: warning 22007007",
            Req::Identify(
                IdentifyPersonRequest::builder()
                    .ssin(ssin(ANNA))
                    .person_data(
                        PersonData::new("VOORBELD", "1985-03-12".parse().unwrap())
                            .first_name("Anna"),
                    )
                    .build()
                    .unwrap(),
            ),
            Some("ssdn/IdentifyPerson/warning.xml"),
            200,
            Warning,
        ),
        sc(
            "niemand-phonetic-no-data",
            "Phonetic search for nobody: no phonetic match (32007004)",
            phonetic("NIEMAND", "1990-00-00"),
            Some("ssdn/IdentifyPerson/no_data.xml"),
            200,
            NoData,
        ),
        sc(
            "lina-business-error",
            "Lina TESTMANS: BCSS refuses the request (30000001, 31000005)",
            identify(LINA),
            Some("ssdn/IdentifyPerson/error.xml"),
            200,
            BusinessError,
        ),
        sc(
            "oscar-soap-fault",
            "Oscar ONBEKEND: BCSS answers a SOAP fault (internal error)",
            identify(OSCAR),
            Some("ssdn/IdentifyPerson/fault.xml"),
            500,
            SoapFault,
        ),
        sc(
            "noor-unavailable",
            "Noor KIND: BCSS is temporarily unavailable (MSG00001, simulated)",
            identify(NOOR),
            None,
            500,
            SoapFault,
        )
        .simulating(None, Behaviour::Unavailable),
        // ManageAccess
        sc(
            "anna-register-ok",
            "Anna VOORBEELD registered in the reference directory",
            register(ANNA),
            Some("ssdn/ManageAccess/ok.xml"),
            200,
            Ok,
        ),
        sc(
            "anna-list-empty",
            "Listing Anna VOORBEELD's registrations: none (an empty list, not an error)",
            list(ANNA),
            Some("ssdn/ManageAccess/no_data.xml"),
            200,
            Ok,
        ),
        sc(
            "marc-register-warning",
            "Marc FICTIF registered with a warning (22007007)",
            register(MARC),
            Some("ssdn/ManageAccess/warning.xml"),
            200,
            Warning,
        ),
        sc(
            "lina-register-business-error",
            "Registering Lina TESTMANS is refused (31000005)",
            register(LINA),
            Some("ssdn/ManageAccess/error.xml"),
            200,
            BusinessError,
        ),
        sc(
            "ivan-register-soap-fault",
            "Registering Ivan BISNUMMER: SOAP fault, caller not authorised",
            register(IVAN),
            Some("ssdn/ManageAccess/fault.xml"),
            500,
            SoapFault,
        ),
        // PerformInvestigation
        sc(
            "anna-all-groups-ok",
            "Social investigation of Anna VOORBEELD: family, citizen, address history, wait register",
            investigate_all(ANNA),
            Some("ssdn/PerformInvestigation/ok.xml"),
            200,
            Ok,
        ),
        sc(
            "ivan-warning",
            "Social investigation of Ivan BISNUMMER: partial data, warning",
            Req::Investigate(
                PerformInvestigationRequest::builder(ssin(IVAN))
                    .family_composition()
                    .citizen()
                    .wait_register()
                    .build()
                    .unwrap(),
            ),
            Some("ssdn/PerformInvestigation/warning.xml"),
            200,
            Warning,
        ),
        sc(
            "marc-wait-register-empty",
            "Marc FICTIF's wait register: no entry (an empty answer, not an error)",
            Req::Investigate(
                PerformInvestigationRequest::builder(ssin(MARC))
                    .wait_register()
                    .build()
                    .unwrap(),
            ),
            Some("ssdn/PerformInvestigation/no_data.xml"),
            200,
            Ok,
        ),
        sc(
            "lina-business-error",
            "Social investigation of Lina TESTMANS is refused (31000005)",
            investigate_all(LINA),
            Some("ssdn/PerformInvestigation/error.xml"),
            200,
            BusinessError,
        ),
        sc(
            "oscar-soap-fault",
            "Social investigation of Oscar ONBEKEND: SOAP fault, service unavailable",
            investigate_all(OSCAR),
            Some("ssdn/PerformInvestigation/fault.xml"),
            500,
            SoapFault,
        ),
        sc(
            "marc-slow",
            "Social investigation of Marc FICTIF, answered after 300 ms (simulated)",
            Req::Investigate(
                PerformInvestigationRequest::builder(ssin(MARC))
                    .family_composition()
                    .build()
                    .unwrap(),
            ),
            Some("ssdn/PerformInvestigation/no_data.xml"),
            200,
            Ok,
        )
        .simulating(Some(300), Behaviour::None),
        // TestConnection
        sc(
            "echo-ok",
            "The connection test echoes its message",
            echo(OK_ECHO),
            Some("v3/TestConnection/ok.xml"),
            200,
            Ok,
        ),
        sc(
            "echo-cli-default",
            "The echo `bcss test-connection` sends by default",
            echo("bcss test-connection"),
            Some("v3/TestConnection/ok.xml"),
            200,
            Ok,
        ),
        sc(
            "echo-credentials-refused",
            "Credentials of another organisation: CBSS fault MSG00014",
            echo("Test with the wrong credentials"),
            Some("v3/TestConnection/cbss_fault.xml"),
            500,
            BusinessError,
        ),
        sc(
            "echo-policy-fault",
            "A security policy failure: plain SOAP fault",
            echo("Test without a client certificate"),
            Some("v3/TestConnection/soap_fault.xml"),
            500,
            SoapFault,
        ),
        sc(
            "echo-slow",
            "The echo, answered after 300 ms (simulated)",
            echo("slow"),
            Some("v3/TestConnection/ok.xml"),
            200,
            Ok,
        )
        .simulating(Some(300), Behaviour::None),
        sc(
            "echo-http-503",
            "A reverse proxy answers HTTP 503 with an HTML page (simulated)",
            echo("http 503"),
            None,
            503,
            Undecodable,
        )
        .simulating(None, Behaviour::HttpStatus(503)),
        sc(
            "echo-unavailable",
            "BCSS is temporarily unavailable: CBSS fault MSG00001 (simulated)",
            echo("unavailable"),
            None,
            500,
            BusinessError,
        )
        .simulating(None, Behaviour::Unavailable),
        sc(
            "echo-soap-fault",
            "A SOAP fault (simulated)",
            echo("soap fault"),
            None,
            500,
            SoapFault,
        )
        .simulating(
            None,
            Behaviour::SoapFault {
                code: "soapenv:Server".into(),
                string: "Simulated internal error".into(),
            },
        ),
        sc(
            "echo-truncated",
            "The reply body stops after 200 bytes (simulated)",
            echo("truncated"),
            Some("v3/TestConnection/ok.xml"),
            200,
            Undecodable,
        )
        .simulating(
            None,
            Behaviour::Truncated {
                after: 200,
                mode: TruncateMode::CutBody,
            },
        ),
        sc(
            "echo-connection-dropped",
            "The connection drops after 200 bytes of the reply (simulated)",
            echo("dropped"),
            Some("v3/TestConnection/ok.xml"),
            200,
            TransportError,
        )
        .simulating(
            None,
            Behaviour::Truncated {
                after: 200,
                mode: TruncateMode::DropConnection,
            },
        ),
        // RetrieveTIGroups
        sc(
            "marc-fr-ok",
            "National Register data of Marc FICTIF, in French",
            ti(MARC, Fr, false),
            Some("v3/RetrieveTIGroups/ok_marc.xml"),
            200,
            Ok,
        ),
        sc(
            "anna-nl-history-ok",
            "National Register data of Anna VOORBEELD with history (earlier address in Brugge)",
            ti(ANNA, Nl, true),
            Some("v3/RetrieveTIGroups/ok_anna_history.xml"),
            200,
            Ok,
        ),
        sc(
            "oscar-fr-deceased-ok",
            "National Register data of Oscar ONBEKEND, deceased 2020-02-02",
            ti(OSCAR, Fr, false),
            Some("v3/RetrieveTIGroups/ok_oscar_deceased.xml"),
            200,
            Ok,
        ),
        sc(
            "lina-nl-warning",
            "National Register data of Lina TESTMANS, with information: warning",
            ti(LINA, Nl, false),
            Some("v3/RetrieveTIGroups/warning_lina.xml"),
            200,
            Warning,
        ),
        sc(
            "ivan-fr-no-data",
            "Ivan BISNUMMER (BIS number): the Register has no data (MSG00100)",
            ti(IVAN, Fr, false),
            Some("v3/RetrieveTIGroups/no_data.xml"),
            200,
            NoData,
        ),
        sc(
            "noor-fr-not-integrated",
            "Noor KIND is not integrated for this client: MSG00012, NO_RESULT",
            ti(NOOR, Fr, false),
            Some("v3/RetrieveTIGroups/status_business_error.xml"),
            200,
            BusinessError,
        ),
        sc(
            "marc-de-not-allowed",
            "Marc FICTIF in German: operation not allowed with this legalContext (CBSS fault MSG00013)",
            ti(MARC, De, false),
            Some("v3/RetrieveTIGroups/fault_detail.xml"),
            500,
            BusinessError,
        ),
        sc(
            "anna-fr-soap-fault",
            "Anna VOORBEELD in French: the server's unmarshalling fails (SOAP fault)",
            ti(ANNA, Fr, false),
            Some("v3/RetrieveTIGroups/soap_fault.xml"),
            500,
            SoapFault,
        ),
        sc(
            "lina-fr-unavailable",
            "Lina TESTMANS in French: BCSS and the Register are temporarily unavailable (MSG00001)",
            ti(LINA, Fr, false),
            Some("v3/RetrieveTIGroups/fault_error.xml"),
            500,
            BusinessError,
        ),
        sc(
            "marc-nl-slow",
            "National Register data of Marc FICTIF in Dutch, answered after 300 ms (simulated)",
            ti(MARC, Nl, false),
            Some("v3/RetrieveTIGroups/ok_marc.xml"),
            200,
            Ok,
        )
        .simulating(Some(300), Behaviour::None),
        sc(
            "oscar-nl-http-502",
            "Oscar ONBEKEND in Dutch: a reverse proxy answers HTTP 502 (simulated)",
            ti(OSCAR, Nl, false),
            None,
            502,
            Undecodable,
        )
        .simulating(None, Behaviour::HttpStatus(502)),
        sc(
            "anna-fr-history-truncated",
            "Anna VOORBEELD with history: the reply stops after 400 bytes (simulated)",
            ti(ANNA, Fr, true),
            Some("v3/RetrieveTIGroups/ok_anna_history.xml"),
            200,
            Undecodable,
        )
        .simulating(
            None,
            Behaviour::Truncated {
                after: 400,
                mode: TruncateMode::CutBody,
            },
        ),
        // HealthCareInsurance
        sc(
            "marc-insuring-organization-ok",
            "Marc FICTIF's mutuality and reimbursement right",
            hci(GetInsuranceOrganizationInformations, MARC),
            Some("v3/HealthCareInsurance/get_ok_marc.xml"),
            200,
            Ok,
        ),
        sc(
            "lina-insuring-organization-warning",
            "Lina TESTMANS's mutuality, with information: warning",
            hci(GetInsuranceOrganizationInformations, LINA),
            Some("v3/HealthCareInsurance/warning_lina.xml"),
            200,
            Warning,
        ),
        sc(
            "ivan-insuring-organization-no-data",
            "Ivan BISNUMMER is not insured in Belgium: MSG00100",
            hci(GetInsuranceOrganizationInformations, IVAN),
            Some("v3/HealthCareInsurance/no_data_ivan.xml"),
            200,
            NoData,
        ),
        sc(
            "oscar-insuring-organization-no-right",
            "Oscar ONBEKEND (deceased): no reimbursement right",
            hci(GetInsuranceOrganizationInformations, OSCAR),
            Some("v3/HealthCareInsurance/no_right_oscar.xml"),
            200,
            Ok,
        ),
        sc(
            "anna-insuring-organization-unavailable",
            "Anna VOORBEELD: the insurers are unavailable (CBSS fault MSG00002, MSG00020)",
            hci(GetInsuranceOrganizationInformations, ANNA),
            Some("v3/HealthCareInsurance/fault_error.xml"),
            500,
            BusinessError,
        ),
        sc(
            "noor-insuring-organization-soap-fault",
            "Noor KIND: SOAP fault, internal error",
            hci(GetInsuranceOrganizationInformations, NOOR),
            Some("v3/HealthCareInsurance/soap_fault.xml"),
            500,
            SoapFault,
        ),
        sc(
            "anna-maf-ok",
            "Anna VOORBEELD's maximum billing (MAF)",
            hci(ConsultMaf, ANNA),
            Some("v3/HealthCareInsurance/consult_maf_anna.xml"),
            200,
            Ok,
        ),
        sc(
            "marc-maf-refused",
            "Marc FICTIF's MAF: authorisation refused (CBSS fault MSG00015)",
            hci(ConsultMaf, MARC),
            Some("v3/HealthCareInsurance/fault_detail.xml"),
            500,
            BusinessError,
        ),
        sc(
            "anna-maf-2025-unknown-code",
            "Anna VOORBEELD's MAF on 2025-01-01, with a status code this client does not know: warning",
            hci_on(ConsultMaf, ANNA, ReferenceDate::Date(day(2025, 1, 1))),
            Some("v3/HealthCareInsurance/unknown_code.xml"),
            200,
            Warning,
        ),
        sc(
            "noor-holder-code-ok",
            "Noor KIND's holder codes CT1/CT2",
            hci(ConsultHolderCode, NOOR),
            Some("v3/HealthCareInsurance/consult_holder_code_noor.xml"),
            200,
            Ok,
        ),
        sc(
            "marc-holder-code-unavailable",
            "Marc FICTIF's holder codes: BCSS temporarily unavailable (MSG00001, simulated)",
            hci(ConsultHolderCode, MARC),
            None,
            500,
            BusinessError,
        )
        .simulating(None, Behaviour::Unavailable),
    ]
}
