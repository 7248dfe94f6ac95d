# Detached signature of the bcss authorisation manifest "authorizations.toml".
# Check it: bcss manifest check MANIFEST --signer-key KEY.pub
format = "bcss-manifest-signature-v1"
manifest = "authorizations.toml"
manifest_sha256 = "7ec4f4dd873fb1b88871133b2c1557ba3138fa742ce76e4b0b5a78db2d137c1a"
signer = "Ada Advisor"
role = "security-advisor"
signed_at = 2026-11-29T16:48:54Z
key_fingerprint = "SHA256:UhKL04MyxfUqtjuQq+KohTTjtT8gXOLlQKY1Def48qE"
public_key = "9gIQ4Al3cX7FAj61nhUF0Jgz1eE/MOcXryQc78GpBic="
signature = "/6xlvoDwyi5L1kh52Oz0ZUzJulwlqP8FLirnPHPx7en3c/Y7hG96MYhj7ZLpTVhYlLg4tymhEIY/aDKPTkX9Cw=="
