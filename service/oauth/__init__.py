"""The OAuth 2 authorization server's endpoints: app registration (/api/v1/apps),
/oauth/authorize (the consent page), /oauth/token, /oauth/revoke and the server's metadata
(RFC 8414). The grant logic is domain/oauth.py."""
