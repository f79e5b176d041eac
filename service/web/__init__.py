"""HTTP plumbing shared by pages and the API: errors, sessions, CSRF, flash, forms,
multipart uploads."""
