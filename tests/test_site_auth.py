"""Site authentication (issue 12): OIDC bearer tokens (Reva's ``bearer`` auth type), ready
CS3 access tokens from config, environment or file, and TLS to the gateway and the data
gateway with a CA the test makes. Against the embedded storage started with an issuer's
keys (a JWKS file, or a shared secret) and a certificate, over real gRPC and HTTPS."""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import time
import uuid

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from mesh_zenodo.cs3 import errors
from mesh_zenodo.cs3.client import BEARER_ENV, TOKEN_ENV, CS3Client
from mesh_zenodo.pytest_plugin import PASSWORDS, StorageUser, start_storage

ISSUER = "https://idp.example.org/realms/sciencemesh"
EINSTEIN_ID = "4c510ada-c86b-4815-8820-42cdf82c3d51"  # Reva's demo einstein


def run(coroutine):
    return asyncio.run(coroutine)


async def whoami(client: CS3Client) -> str:
    try:
        return (await client.whoami()).username
    finally:
        await client.close()


# --------------------------------------------------------------------------------------
# OIDC bearer tokens
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def oidc_storage(tmp_path_factory, rsa_key):
    """The storage trusting an issuer by its JWKS (RS256, key id "k1")."""
    folder = tmp_path_factory.mktemp("oidc")
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    (folder / "jwks.json").write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}))
    process = start_storage(folder / "root", ["--oidc-issuer", ISSUER, "--oidc-jwks", str(folder / "jwks.json"),
                                              "--oidc-audience", "cernbox"])
    yield process
    process.stop()


def id_token(key, **claims) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": "cernbox", "iat": now, "exp": now + 300, "sub": EINSTEIN_ID,
               "preferred_username": "einstein", **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "k1"})


def test_a_bearer_token_signs_in_as_its_user(oidc_storage, rsa_key, tmp_path):
    token_file = tmp_path / "oidc-token"
    token_file.write_text(id_token(rsa_key) + "\n")
    client = CS3Client(gateway=oidc_storage.grpc_addr, bearer_token_file=str(token_file), username="")
    assert run(whoami(client)) == "einstein"
    assert client.username == "einstein"  # taken from the token's user


@pytest.mark.parametrize("case, claims, message", [
    ("expired", {"exp": int(time.time()) - 3600}, "expired"),
    ("another issuer", {"iss": "https://evil.example.org"}, "another issuer"),
    ("another audience", {"aud": "someone-else"}, "another audience"),
    ("unknown user", {"sub": "no-such-user", "preferred_username": "nobody"}, "no user here"),
])
def test_a_bad_bearer_token_is_refused_with_its_reason(oidc_storage, rsa_key, tmp_path, case, claims, message):
    token = id_token(rsa_key, **claims)
    client = CS3Client(gateway=oidc_storage.grpc_addr, bearer_token=token, username="")
    with pytest.raises(errors.Unauthenticated) as refused:
        run(whoami(client))
    assert message in str(refused.value)
    assert token not in str(refused.value)


def test_a_token_signed_by_another_key_is_refused(oidc_storage):
    stranger = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    forged = jwt.encode({"iss": ISSUER, "aud": "cernbox", "exp": now + 60, "sub": EINSTEIN_ID}, stranger,
                        algorithm="ES256", headers={"kid": "k1"})
    client = CS3Client(gateway=oidc_storage.grpc_addr, bearer_token=forged, username="")
    with pytest.raises(errors.Unauthenticated):
        run(whoami(client))
    # and "alg": "none" or HS256 signed with the public key are refused too
    unsigned = jwt.encode({"iss": ISSUER, "aud": "cernbox", "exp": now + 60, "sub": EINSTEIN_ID}, None, algorithm="none")
    client = CS3Client(gateway=oidc_storage.grpc_addr, bearer_token=unsigned, username="")
    with pytest.raises(errors.Unauthenticated):
        run(whoami(client))


def test_a_refreshed_bearer_token_in_the_file_is_used_at_the_next_sign_in(oidc_storage, rsa_key, tmp_path):
    """The site rewrites the token file when it refreshes the user's token: the client
    signs in again with the new one when its CS3 token is renewed or refused."""
    token_file = tmp_path / "oidc-token"
    token_file.write_text(id_token(rsa_key))

    async def scenario():
        client = CS3Client(gateway=oidc_storage.grpc_addr, bearer_token_file=str(token_file), username="")
        try:
            await client.whoami()
            token_file.write_text(id_token(rsa_key, sub="marie", preferred_username="marie"))
            client._token = None  # (the CS3 token expired)
            return (await client.whoami()).username
        finally:
            await client.close()

    assert run(scenario()) == "marie"


def test_the_bearer_token_from_the_environment_is_taken_out_of_it(oidc_storage, rsa_key, monkeypatch):
    monkeypatch.setenv(BEARER_ENV, id_token(rsa_key))
    client = CS3Client(gateway=oidc_storage.grpc_addr, username="")
    assert BEARER_ENV not in os.environ
    assert run(whoami(client)) == "einstein"


def test_a_storage_without_an_issuer_says_bearer_is_not_accepted(mz_storage, rsa_key):
    client = CS3Client(gateway=mz_storage.grpc_addr, bearer_token=id_token(rsa_key), username="")
    with pytest.raises(errors.CS3Error) as refused:
        run(whoami(client))
    assert "bearer tokens are not accepted here" in str(refused.value)


def test_a_shared_secret_issuer(tmp_path):
    secret = os.urandom(32).hex()
    (tmp_path / "secret").write_text(secret)
    process = start_storage(tmp_path / "root", ["--oidc-issuer", ISSUER, "--oidc-secret-file", str(tmp_path / "secret"),
                                                "--oidc-id-claim", "preferred_username"])
    try:
        now = int(time.time())
        token = jwt.encode({"iss": ISSUER, "exp": now + 60, "preferred_username": "richard"}, secret, algorithm="HS256")
        client = CS3Client(gateway=process.grpc_addr, bearer_token=token, username="")
        assert run(whoami(client)) == "richard"
    finally:
        process.stop()


# --------------------------------------------------------------------------------------
# ready CS3 access tokens
# --------------------------------------------------------------------------------------
def test_a_ready_access_token_from_config_environment_or_file(mz_storage, tmp_path, monkeypatch):
    marie = StorageUser(mz_storage.grpc_addr, "marie")
    try:
        assert run(whoami(CS3Client(gateway=mz_storage.grpc_addr, access_token=marie.token, username=""))) == "marie"
        monkeypatch.setenv(TOKEN_ENV, marie.token)
        client = CS3Client(gateway=mz_storage.grpc_addr, username="")
        assert TOKEN_ENV not in os.environ
        assert run(whoami(client)) == "marie"
        (tmp_path / "token").write_text(marie.token + "\n")
        assert run(whoami(CS3Client(gateway=mz_storage.grpc_addr, token_file=str(tmp_path / "token"), username=""))) == "marie"
        with pytest.raises(errors.Unauthenticated) as refused:
            run(whoami(CS3Client(gateway=mz_storage.grpc_addr, access_token="garbage", username="")))
        assert "garbage" not in str(refused.value)
    finally:
        marie.close()


# --------------------------------------------------------------------------------------
# TLS with a CA the test makes
# --------------------------------------------------------------------------------------
def make_ca_and_server_cert(folder):
    """A CA, and a certificate for 127.0.0.1 / localhost it signed."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mesh-zenodo test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress

    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    return folder / "ca.pem"


@pytest.fixture(scope="module")
def tls_storage(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    ca = make_ca_and_server_cert(folder)
    process = start_storage(folder / "root", ["--tls-cert", str(folder / "server.pem"), "--tls-key", str(folder / "server.key")])
    yield process, ca
    process.stop()


def test_tls_to_the_gateway_and_the_data_gateway_with_the_sites_ca(tls_storage):
    process, ca = tls_storage
    assert process.http_url.startswith("https://")
    name = f"/home/tls-{uuid.uuid4().hex[:6]}.bin"
    data = os.urandom(3 << 20)

    async def scenario():
        client = CS3Client(gateway=process.grpc_addr, username="einstein", password=PASSWORDS["einstein"],
                           tls=True, root_certificates=str(ca))
        try:
            await client.upload(name, data)
            got = bytearray()
            async with client.download(name) as (_, chunks):
                async for chunk in chunks:
                    got += chunk
            return bytes(got), (await client.whoami()).username
        finally:
            await client.close()

    got, user = run(scenario())
    assert got == data and user == "einstein"


def test_tls_without_the_ca_is_refused_clearly(tls_storage):
    process, _ = tls_storage

    async def scenario():
        client = CS3Client(gateway=process.grpc_addr, username="einstein", password=PASSWORDS["einstein"],
                           tls=True, rpc_timeout=5)
        try:
            await client.whoami()
        finally:
            await client.close()

    with pytest.raises(errors.CS3Error) as refused:
        run(scenario())
    assert "relativity" not in str(refused.value)
    # and plain gRPC against the TLS port does not get through either
    with pytest.raises(errors.CS3Error):
        run(whoami(CS3Client(gateway=process.grpc_addr, username="einstein", password=PASSWORDS["einstein"],
                             rpc_timeout=5)))
