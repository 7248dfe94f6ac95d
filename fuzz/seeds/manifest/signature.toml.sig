format = "bcss-manifest-signature-v1"
manifest_sha256 = "9f2c1a0e5b7d4c3a8e6f1b2d0c9a8b7e6f5d4c3b2a1908f7e6d5c4b3a2918070"
signer = "Anne Fictive"
role = "information security advisor"
signed_at = 2025-01-15T09:00:00Z
key_fingerprint = "SHA256:3q2+7w0AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
signature = "3q2+7w0AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="
