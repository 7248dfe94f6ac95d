//! HTTP transport: reqwest + rustls (being written).
