//! HTTP Basic password from an environment variable, end to end over plain HTTP to
//! 127.0.0.1. Its own test binary with a single test, so that setting the variable
//! cannot race with another test reading the environment.

mod pipeline_support;
mod transport_support;

use std::sync::Arc;

use base64::Engine as _;
use bcss::ids::Cbe;
use bcss::transport::http::{HttpTransport, PasswordSource};
use transport_support::{Reply, action, send, start};

#[tokio::test]
async fn password_from_environment_variable() {
    const VAR: &str = "BCSS_TRANSPORT_TEST_PASSWORD";
    const PASSWORD: &str = "Env-Fict1ve-Pa55";
    // SAFETY: the only test of this binary; no other thread reads the environment yet.
    unsafe { std::env::set_var(VAR, PASSWORD) };
    let transport = Arc::new(
        HttpTransport::builder()
            .basic_auth(
                Cbe::new("0212344876").unwrap(),
                PasswordSource::Env(VAR.into()),
            )
            .build()
            .unwrap(),
    );
    let debug = format!("{transport:?}");
    assert!(!debug.contains(PASSWORD), "{debug}");

    let mut server = start(None, Reply::ok("<ok/>")).await;
    let url = server.url("http", "127.0.0.1");
    let response = send(&transport, &url).await.unwrap();
    assert_eq!(response.body, b"<ok/>");
    let seen = server.next_event().await.unwrap();
    let expected =
        base64::engine::general_purpose::STANDARD.encode(format!("E0212344876:{PASSWORD}"));
    assert_eq!(
        seen.header("authorization"),
        Some(format!("Basic {expected}").as_str())
    );
    assert_eq!(
        seen.header("soapaction"),
        Some(format!("\"{}\"", action()).as_str())
    );
}
