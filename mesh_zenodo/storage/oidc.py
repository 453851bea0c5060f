"""Sign-in with an OIDC bearer token, as Reva's ``oidc`` auth manager does it: the client
sends ``Authenticate(type="bearer", client_secret=<the IdP's access token>)``; the token
is checked here against a configured issuer (``--oidc-issuer``) with its keys, a JWKS file
(``--oidc-jwks``: RS256, ES256, ...) or a shared secret (``--oidc-secret-file``: HS256),
its audience if one is configured, and its expiry. Its ``--oidc-id-claim`` (``sub`` by
default, as Reva's ``id_claim``) names the user: a user of this storage whose id or,
failing that, username it is. The IdP is never contacted (no discovery, no userinfo): the
embedded storage is for machines without a network, and the tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from .auth import ConfigError, TokenError, User, UserDirectory

#: the algorithms accepted from a JWKS (never "none", never HS* with a public key)
ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
LEEWAY = 30  # seconds of clock skew allowed


@dataclass
class BearerVerifier:
    issuer: str
    keys: jwt.PyJWKSet | None = None
    secret: bytes | None = None
    audience: str | None = None
    id_claim: str = "sub"

    @classmethod
    def configure(cls, issuer: str, *, jwks_file: str | None = None, secret_file: str | None = None,
                  audience: str | None = None, id_claim: str = "sub") -> BearerVerifier:
        if not issuer:
            raise ConfigError("--oidc-issuer is needed for bearer tokens")
        if bool(jwks_file) == bool(secret_file):
            raise ConfigError("give the issuer's keys: either --oidc-jwks FILE or --oidc-secret-file FILE")
        keys = secret = None
        try:
            if jwks_file:
                keys = jwt.PyJWKSet.from_dict(json.loads(Path(jwks_file).read_text(encoding="utf-8")))
            else:
                secret = Path(secret_file).read_bytes().strip()
                if len(secret) < 32:
                    raise ConfigError("the OIDC shared secret must be at least 32 bytes")
        except OSError as exc:
            raise ConfigError(f"cannot read the OIDC keys: {exc.strerror or exc}") from None
        except (ValueError, jwt.PyJWKError, jwt.PyJWKSetError) as exc:
            raise ConfigError(f"the JWKS file {jwks_file} is not a valid key set: {exc}") from None
        return cls(issuer, keys, secret, audience or None, id_claim or "sub")

    def claims(self, token: str) -> dict[str, Any]:
        """The claims of a valid token from the issuer; raises :class:`TokenError`."""
        if not token:
            raise TokenError("empty bearer token")
        try:
            header = jwt.get_unverified_header(token)
            if self.keys is not None:
                jwk = self._key(header.get("kid"))
                key, algorithms = jwk.key, [jwk.algorithm_name]  # the key's own algorithm, never the token's say
                if algorithms[0] not in ASYMMETRIC:
                    raise jwt.InvalidTokenError("not an asymmetric key")
            else:
                key, algorithms = self.secret, ["HS256", "HS384", "HS512"]
            options = {"require": ["exp", "iss"], "verify_aud": self.audience is not None}
            return jwt.decode(token, key, algorithms=algorithms, issuer=self.issuer, audience=self.audience,
                              options=options, leeway=LEEWAY)
        except jwt.ExpiredSignatureError:
            raise TokenError("the bearer token has expired") from None
        except jwt.InvalidIssuerError:
            raise TokenError("the bearer token is from another issuer") from None
        except jwt.InvalidAudienceError:
            raise TokenError("the bearer token is for another audience") from None
        except jwt.PyJWTError as exc:
            raise TokenError(f"invalid bearer token ({type(exc).__name__})") from None

    def _key(self, kid: str | None) -> jwt.PyJWK:
        for candidate in self.keys.keys:
            if kid is None or candidate.key_id == kid:
                return candidate
        raise jwt.InvalidTokenError("unknown key id")

    def user(self, token: str, users: UserDirectory) -> User:
        claims = self.claims(token)
        value = claims.get(self.id_claim)
        if not isinstance(value, str) or not value:
            raise TokenError(f"the bearer token has no {self.id_claim!r} claim")
        user = users.by_id(value) or users.by_username(value)
        if user is None:
            raise TokenError(f"no user here for the token's {self.id_claim!r}")
        return user
