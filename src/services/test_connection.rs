//! TestConnectionService v1: `sendTestMessage` echoes a message, to test the connection
//! and the credentials.
//!
//! Unlike the other common-v3 services, this request carries no `informationCustomer` and
//! no `legalContext` (TestConnectionServiceV1.xsd: the request is only `echo`), and the
//! reply has no `status`: `informationCBSS?`, `echo` and `sslCertificate`.
//!
//! ```
//! use bcss::services::ServiceRequest;
//! use bcss::services::test_connection::TestConnection;
//! let ping = TestConnection::new("hello BCSS").unwrap();
//! assert_eq!(ping.operation(), "sendTestMessage");
//! assert!(ping.subjects().is_empty());
//! ```

use std::sync::LazyLock;

use serde::Serialize;

use crate::ids::Ssin;
use crate::services::catalogue::builtin;
use crate::services::{
    Decoded, LegalContextRule, RequestError, RequestHeader, Service, ServiceDescriptor,
    ServiceRequest,
};
use crate::soap::{self, Limits};
use crate::v3::{self, Expect, V3Error};
use crate::xml::Element;

/// The interface namespace of the request and reply elements.
pub const NAMESPACE: &str = "http://kszbcss.fgov.be/intf/TestConnectionServiceService/v1";

/// The service's name in the catalogue, manifests and the journal.
pub const NAME: &str = "TestConnection";

const SERVICE: &str = NAME;

/// TestConnection's catalogue entry: `sendTestMessage`, without `informationCustomer` or
/// `legalContext` (TestConnectionServiceV1.xsd), about nobody.
pub fn descriptor() -> ServiceDescriptor {
    builtin::v3(
        NAME,
        NAMESPACE,
        "v1",
        false,
        LegalContextRule::None,
        &[builtin::Op {
            name: "sendTestMessage",
            request: "sendTestMessageRequest",
            response: "sendTestMessageResponse",
            fault: None,
            write: false,
            subjects: &[],
        }],
    )
}

static SERVICE_HANDLE: LazyLock<Service> = LazyLock::new(|| builtin::service(descriptor()));

/// TestConnection's handle in the catalogue.
pub fn service() -> &'static Service {
    &SERVICE_HANDLE
}

/// The longest echo accepted (the message is a connection test, not a payload).
pub const MAX_ECHO_CHARS: usize = 4096;

const EXPECT: Expect<'static> = Expect {
    namespace: NAMESPACE,
    operation: "sendTestMessage",
    response: "sendTestMessageResponse",
    has_status: false,
};

/// A `sendTestMessage` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestConnection {
    echo: String,
}

impl TestConnection {
    /// A test message. Refused when empty, longer than [`MAX_ECHO_CHARS`], or holding
    /// control characters XML cannot carry.
    pub fn new(echo: impl Into<String>) -> Result<TestConnection, RequestError> {
        let echo = echo.into();
        if echo.trim().is_empty() {
            return Err(RequestError::Missing {
                service: SERVICE.into(),
                field: "echo",
            });
        }
        let chars = echo.chars().count();
        if chars > MAX_ECHO_CHARS {
            return Err(RequestError::Invalid {
                service: SERVICE.into(),
                message: format!("echo has {chars} characters; at most {MAX_ECHO_CHARS}"),
            });
        }
        v3::check_text(SERVICE, "echo", &echo)?;
        Ok(TestConnection { echo })
    }

    /// The message to echo.
    pub fn echo(&self) -> &str {
        &self.echo
    }

    /// The request's body element (`sendTestMessageRequest`).
    pub fn body(&self) -> Element {
        Element::ns(NAMESPACE, "sendTestMessageRequest")
            .with_prefix(v3::ROOT_PREFIX)
            .with_child(Element::new("echo").with_text(self.echo.as_str()))
    }
}

/// The reply to `sendTestMessage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestConnectionReply {
    /// The message BCSS echoed.
    pub echo: String,
    /// Whether it is the message that was sent.
    pub echo_matches: bool,
    /// `sslCertificate`: what BCSS reports about the TLS connection it received.
    pub ssl_certificate: String,
}

impl crate::services::Sealed for TestConnection {}

impl ServiceRequest for TestConnection {
    type Response = TestConnectionReply;

    fn service(&self) -> Service {
        service().clone()
    }

    fn operation(&self) -> &'static str {
        "sendTestMessage"
    }

    fn subjects(&self) -> Vec<Ssin> {
        Vec::new()
    }

    /// The header is not used: this request carries no `informationCustomer`.
    fn encode(&self, _header: &RequestHeader) -> Result<Vec<u8>, crate::Error> {
        Ok(soap::envelope(self.body()))
    }

    fn decode(&self, http_status: u16, body: &[u8], limits: &Limits) -> Decoded<Self::Response> {
        v3::decode(&EXPECT, http_status, body, limits, |root| {
            let echo = root
                .child("echo")
                .map(|e| e.text().into_owned())
                .ok_or_else(|| V3Error::malformed(EXPECT.response, "no echo"))?;
            let ssl_certificate = root
                .child("sslCertificate")
                .map(Element::trimmed_text)
                .ok_or_else(|| V3Error::malformed(EXPECT.response, "no sslCertificate"))?;
            Ok(TestConnectionReply {
                echo_matches: echo == self.echo,
                echo,
                ssl_certificate,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_echo() {
        assert!(matches!(
            TestConnection::new("  "),
            Err(RequestError::Missing { .. })
        ));
        assert!(TestConnection::new("a\u{0}b").is_err());
        assert!(TestConnection::new("x".repeat(MAX_ECHO_CHARS + 1)).is_err());
        assert!(TestConnection::new("x".repeat(MAX_ECHO_CHARS)).is_ok());
    }

    #[test]
    fn body_is_the_echo_only() {
        let xml = TestConnection::new("ping & <pong>")
            .unwrap()
            .body()
            .to_xml();
        assert_eq!(
            xml,
            format!(
                "<ns:sendTestMessageRequest xmlns:ns=\"{NAMESPACE}\"><echo>ping &amp; &lt;pong&gt;</echo></ns:sendTestMessageRequest>"
            )
        );
    }
}
