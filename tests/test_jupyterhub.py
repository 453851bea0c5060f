"""JupyterHub with mesh-zenodo, for real (issue 12): deploy/jupyterhub_config.py as a site
runs it (GenericOAuthenticator, the users' OIDC tokens handed to their servers as token
files), with JupyterHub from PyPI, configurable-http-proxy from npm, a local OIDC provider
(this module's :class:`OIDCProvider`: authorization code with PKCE, refresh tokens,
userinfo, RS256 access tokens) that the embedded storage trusts (``--oidc-jwks``), and the
single-user servers spawned as this Unix user (``MESH_ZENODO_HUB_SPAWNER=simple``).

Two users sign in through the hub, each server works on the storage as that user, one
shares a folder with the other through the REST API, the other opens it; neither reaches
the other's server; no token is in a server's environment.

configurable-http-proxy: on the PATH, or installed by ``.ci/run`` with
``npm install --prefix build/chp configurable-http-proxy@5.3.0`` (``MZ_CHP`` names another).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import html
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import grpc
import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from cs3.gateway.v1beta1 import gateway_api_pb2 as gw
from cs3.gateway.v1beta1 import gateway_api_pb2_grpc as gw_grpc
from cs3.rpc.v1beta1 import code_pb2
from traitlets.config.loader import PyFileConfigLoader

from mesh_zenodo.cs3.client import CS3Client
from mesh_zenodo.pytest_plugin import PASSWORDS, REPO_ROOT, free_port, source_tree_env, start_storage, wait_for

HUB_CONFIG = REPO_ROOT / "deploy" / "jupyterhub_config.py"
CLIENT_ID = "mesh-zenodo-hub"
AUDIENCE = "reva"


def chp_command() -> str | None:
    for candidate in (os.environ.get("MZ_CHP"), str(REPO_ROOT / "build/chp/node_modules/.bin/configurable-http-proxy"),
                      shutil.which("configurable-http-proxy")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


# --------------------------------------------------------------------------------------
# A local OIDC provider
# --------------------------------------------------------------------------------------
class OIDCProvider:
    """An OpenID provider on loopback, as much of one as JupyterHub's GenericOAuthenticator
    and the storage's bearer auth need: a login form (the password is checked by signing
    in to the CS3 gateway, whose user id becomes ``sub``), the authorization code flow
    with PKCE (S256) and the client's secret, refresh tokens, and userinfo. Access tokens
    are RS256 JWTs (``kid`` k1) for audience ``reva``; ``issued`` holds every one, and
    ``backdate`` makes new ones look older than they are (to trigger a refresh)."""

    def __init__(self, client_secret: str, lifetime: int = 600):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.client_secret, self.lifetime = client_secret, lifetime
        self.gateway = ""  # the CS3 gateway that checks passwords (set once the storage runs)
        self.backdate = 0
        self.issued: list[str] = []
        self.codes: dict[str, dict] = {}
        self.refresh_tokens: dict[str, dict] = {}
        self.lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                provider.handle(self, "GET")

            def do_POST(self):
                provider.handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def jwks(self) -> dict:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}

    # ------------------------------------------------------------------ the flows

    def sign_in(self, username: str, password: str) -> str | None:
        """The CS3 user id of ``username`` if the password is right (checked by the gateway)."""
        with grpc.insecure_channel(self.gateway) as channel:
            response = gw_grpc.GatewayAPIStub(channel).Authenticate(
                gw.AuthenticateRequest(type="basic", client_id=username, client_secret=password), timeout=10)
        return response.user.id.opaque_id if response.status.code == code_pb2.CODE_OK else None

    def mint(self, user: dict) -> dict:
        now = int(time.time()) - self.backdate
        access = jwt.encode({"iss": self.url, "aud": AUDIENCE, "azp": CLIENT_ID, "sub": user["sub"],
                             "preferred_username": user["username"], "iat": now, "exp": now + self.lifetime,
                             "jti": uuid.uuid4().hex}, self.key, algorithm="RS256", headers={"kid": "k1"})
        refresh = secrets.token_urlsafe(24)
        with self.lock:
            self.issued.append(access)
            self.refresh_tokens[refresh] = user
        return {"access_token": access, "token_type": "Bearer", "expires_in": self.lifetime,
                "refresh_token": refresh, "scope": "openid profile email offline_access"}

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        url = urlparse(request.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        body = {}
        if method == "POST":
            length = int(request.headers.get("Content-Length") or 0)
            body = {k: v[0] for k, v in parse_qs(request.rfile.read(length).decode()).items()}
        try:
            status, headers, payload = getattr(self, f"{method.lower()}_{url.path.strip('/')}")(request, query, body)
        except AttributeError:
            status, headers, payload = 404, {}, b"not here"
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    @staticmethod
    def json(status: int, data: dict):
        return status, {"Content-Type": "application/json"}, json.dumps(data).encode()

    def get_authorize(self, request, query, body):
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
            return 400, {}, b"unknown client or response type"
        fields = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in query.items())
        page = f'<form method="post" action="/authorize">{fields}<input name="username"><input name="password" type="password"></form>'
        return 200, {"Content-Type": "text/html"}, page.encode()

    def post_authorize(self, request, query, body):
        sub = self.sign_in(body.get("username", ""), body.get("password", ""))
        if sub is None:
            return 401, {"Content-Type": "text/html"}, b"wrong username or password"
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = {"user": {"sub": sub, "username": body["username"]},
                                "redirect_uri": body["redirect_uri"], "challenge": body.get("code_challenge")}
        location = f"{body['redirect_uri']}?{urlencode({'code': code, 'state': body.get('state', '')})}"
        return 302, {"Location": location}, b""

    def post_token(self, request, query, body):
        client = body.get("client_id"), body.get("client_secret")
        if request.headers.get("Authorization", "").startswith("Basic "):
            client = tuple(base64.b64decode(request.headers["Authorization"][6:]).decode().split(":", 1))
        if client != (CLIENT_ID, self.client_secret):
            return self.json(401, {"error": "invalid_client"})
        if body.get("grant_type") == "authorization_code":
            with self.lock:
                grant = self.codes.pop(body.get("code", ""), None)
            if grant is None or grant["redirect_uri"] != body.get("redirect_uri"):
                return self.json(400, {"error": "invalid_grant"})
            verifier = body.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if grant["challenge"] != digest:
                return self.json(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
            return self.json(200, self.mint(grant["user"]))
        if body.get("grant_type") == "refresh_token":
            with self.lock:
                user = self.refresh_tokens.pop(body.get("refresh_token", ""), None)
            if user is None:
                return self.json(400, {"error": "invalid_grant"})
            return self.json(200, self.mint(user))
        return self.json(400, {"error": "unsupported_grant_type"})

    def get_userinfo(self, request, query, body):
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(token, self.key.public_key(), algorithms=["RS256"], audience=AUDIENCE, issuer=self.url)
        except jwt.PyJWTError:
            return self.json(401, {"error": "invalid_token"})
        return self.json(200, {"sub": claims["sub"], "preferred_username": claims["preferred_username"],
                               "name": claims["preferred_username"].title()})


# --------------------------------------------------------------------------------------
# The hub
# --------------------------------------------------------------------------------------
def proc_file(pid: int, name: str) -> bytes:
    """/proc/<pid>/<name>, or nothing if the process is gone."""
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes()
    except OSError:
        return b""


def our_processes(marker: str) -> list[int]:
    """Processes whose environment names this test's folder: the hub, the proxy, the
    single-user servers and whatever they started."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def our_mounts(marker: str) -> list[str]:
    """FUSE mounts (the kernels' mount of the storage) below this test's folder."""
    with open("/proc/mounts", encoding="utf-8") as mounts:
        return [line.split()[1] for line in mounts if line.split()[1].startswith(marker + "/")]


class Hub:
    def __init__(self, folder: Path, storage, idp: OIDCProvider, chp: str, client_secret: str):
        self.folder = folder
        self.url = f"http://127.0.0.1:{free_port()}"
        self.token_dir = folder / "tokens"
        (folder / "state").mkdir()
        (folder / "client-secret").write_text(client_secret + "\n")
        env = {
            **source_tree_env(),
            "PATH": os.pathsep.join([str(Path(chp).parent), str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
            "MESH_ZENODO_HUB_AUTH": "oidc",
            "MESH_ZENODO_HUB_SPAWNER": "simple",
            "MESH_ZENODO_HUB_TOKEN_DIR": str(self.token_dir),
            "MESH_ZENODO_HUB_AUTH_REFRESH_AGE": "2",
            "MESH_ZENODO_CS3_GATEWAY": storage.grpc_addr,
            "JUPYTERHUB_CRYPT_KEY": secrets.token_hex(32),
            "OAUTH_CLIENT_ID": CLIENT_ID,
            "OAUTH_CLIENT_SECRET_FILE": str(folder / "client-secret"),
            "OAUTH2_AUTHORIZE_URL": f"{idp.url}/authorize",
            "OAUTH2_TOKEN_URL": f"{idp.url}/token",
            "OAUTH2_USERDATA_URL": f"{idp.url}/userinfo",
            "OAUTH_CALLBACK_URL": f"{self.url}/hub/oauth_callback",
        }
        for name in ("MESH_ZENODO_CS3_PASSWORD", "MESH_ZENODO_CS3_TOKEN", "MESH_ZENODO_CS3_BEARER_TOKEN"):
            env.pop(name, None)
        self.log_path = folder / "hub.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(HUB_CONFIG), "--ip=127.0.0.1",
                 f"--port={urlparse(self.url).port}", f"--JupyterHub.hub_bind_url=http://127.0.0.1:{free_port()}",
                 f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{free_port()}",
                 f"--SimpleLocalProcessSpawner.home_dir_template={folder}/home/{{username}}"],
                cwd=folder / "state", env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            wait_for(lambda: self.process.poll() is not None or self.answers(), timeout=60, interval=0.2)
            assert self.process.poll() is None, f"the hub ended: {self.log}"
        except BaseException:
            self.stop()
            raise

    def answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/hub/api/", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def stop(self) -> list:
        """SIGTERM to the hub (it stops the servers and the proxy, the servers their mounts);
        what was left over (processes killed, mounts detached)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        marker = str(self.folder)
        try:
            wait_for(lambda: not our_processes(marker), timeout=30, interval=0.2)
        except AssertionError:
            pass
        left = our_processes(marker)
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        mounts = our_mounts(marker)
        for mount in mounts:
            subprocess.run(["fusermount3", "-u", "-z", mount], capture_output=True)
        return [*left, *mounts]


class Browser:
    """A user at the hub with a browser's cookies: signs in at the IdP through the hub,
    then calls their server's REST API with the server's cookie and XSRF token, as Lab does."""

    def __init__(self, hub: Hub, username: str):
        self.hub, self.username = hub, username
        self.http = requests.Session()

    def sign_in(self, start: str = "/hub/spawn") -> requests.Response:
        """Sign in at the IdP, where the hub sends the browser (``auto_login``) from ``start``;
        the IdP's form posts back to the hub's callback. The hub's last answer."""
        form = self.http.get(f"{self.hub.url}{start}", timeout=30)
        assert form.status_code == 200 and urlparse(form.url).path == "/authorize", (form.status_code, form.url)
        fields = {k: v[0] for k, v in parse_qs(urlparse(form.url).query).items()}
        fields.update(username=self.username, password=PASSWORDS[self.username])
        landed = self.http.post(form.url.split("?")[0], data=fields, timeout=90)
        assert landed.status_code in (200, 202), (landed.status_code, landed.url, self.hub.log)
        return landed

    def wait_ready(self, timeout: float = 90) -> None:
        def lab_opens():
            page = self.http.get(f"{self.hub.url}/user/{self.username}/lab", timeout=30)
            return page.status_code == 200 and urlparse(page.url).path == f"/user/{self.username}/lab"

        try:
            wait_for(lab_opens, timeout=timeout, interval=0.5)
        except AssertionError:
            raise AssertionError(f"{self.username}'s server did not open Lab: {self.hub.log}") from None

    def server(self, method: str, path: str, body=None, *, user: str | None = None, **kw) -> requests.Response:
        """A call to ``user``'s server (default: one's own)."""
        base = f"/user/{user or self.username}/"
        xsrf = self.http.cookies.get("_xsrf", path=base) or ""
        return self.http.request(method, f"{self.hub.url}{base}{path}", timeout=60,
                                 headers={"X-XSRFToken": xsrf}, data=None if body is None else json.dumps(body), **kw)

    def hub_api(self, method: str, path: str, body=None) -> requests.Response:
        """A call to the hub's REST API with the hub's cookie and XSRF token."""
        xsrf = self.http.cookies.get("_xsrf", path="/hub/") or ""
        return self.http.request(method, f"{self.hub.url}/hub/api/{path}", timeout=30, headers={"X-XSRFToken": xsrf},
                                 data=None if body is None else json.dumps(body))

    def server_pid(self) -> int:
        """The pid of this user's single-user server (from /proc: the server's environment names its user)."""
        def find():
            for pid in our_processes(str(self.hub.folder)):
                environ = proc_file(pid, "environ").split(b"\0")
                if b"jupyterhub-singleuser" in proc_file(pid, "cmdline") and \
                        f"JUPYTERHUB_USER={self.username}".encode() in environ:
                    return pid
            return None

        return wait_for(find, timeout=10)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The storage trusting the OIDC provider, the provider, and the hub (stopped at the end,
    leaving no process behind)."""
    chp = chp_command()
    if chp is None:
        pytest.fail("configurable-http-proxy is not installed: "
                    "npm install --prefix build/chp configurable-http-proxy@5.3.0")
    folder = tmp_path_factory.mktemp("hub")
    storage_dir = tmp_path_factory.mktemp("hub-storage")
    storage = idp = hub = None
    try:
        # the provider checks passwords on the storage, the storage trusts the provider's keys
        idp = OIDCProvider(secrets.token_urlsafe(24))
        (storage_dir / "jwks.json").write_text(json.dumps(idp.jwks()))
        storage = start_storage(storage_dir / "root", [
            "--oidc-issuer", idp.url, "--oidc-jwks", str(storage_dir / "jwks.json"), "--oidc-audience", AUDIENCE])
        idp.gateway = storage.grpc_addr
        hub = Hub(folder, storage, idp, chp, idp.client_secret)
        yield hub, idp, storage
    finally:
        left = hub.stop() if hub is not None else []
        if idp is not None:
            idp.stop()
        if storage is not None:
            storage.stop()
        assert not left, f"processes or mounts left after the hub stopped: {left}"


# --------------------------------------------------------------------------------------
# The scenario
# --------------------------------------------------------------------------------------
def test_two_users_share_through_their_hub_servers(site):
    hub, idp, storage = site
    einstein, marie = Browser(hub, "einstein"), Browser(hub, "marie")
    einstein.sign_in()  # and the hub spawns the server
    marie.sign_in()
    einstein.wait_ready()
    marie.wait_ready()

    # each server is on the storage as its user, with the storage's gateway from the hub
    for user in (einstein, marie):
        session = user.server("GET", "mesh-zenodo/session")
        assert session.status_code == 200, session.text
        assert session.json()["connected"] is True and session.json()["contents"] == "cs3"
        assert session.json()["user"]["username"] == user.username
        assert session.json()["storage"]["gateway"] == storage.grpc_addr

    # einstein makes a folder with a file and shares it with marie through the REST API
    folder = f"relativity-{uuid.uuid4().hex[:6]}"
    assert einstein.server("PUT", f"api/contents/{folder}", {"type": "directory"}).status_code == 201
    text = "E = m c^2\n"
    saved = einstein.server("PUT", f"api/contents/{folder}/notes.txt", {"type": "file", "format": "text", "content": text})
    assert saved.status_code == 201, saved.text
    shared = einstein.server("POST", "mesh-zenodo/shares",
                             {"path": folder, "grantee": {"type": "user", "name": "marie"}, "role": "viewer"})
    assert shared.status_code == 201, shared.text
    share_id = shared.json()["share"]["id"]

    # marie accepts it and opens the file through her server, under Shares/
    received = marie.server("GET", "mesh-zenodo/received-shares").json()["shares"]
    entry = next(s for s in received if s["id"] == share_id)
    assert entry["state"] == "pending" and entry["owner"]["name"] == "einstein"
    accepted = marie.server("PATCH", f"mesh-zenodo/received-shares/{share_id}", {"state": "accepted"})
    assert accepted.status_code == 200 and accepted.json()["share"]["state"] == "accepted", accepted.text
    opened = marie.server("GET", f"api/contents/Shares/{folder}/notes.txt")
    assert opened.status_code == 200, opened.text
    assert opened.json()["content"] == text and opened.json()["writable"] is False

    # neither reaches the other's server: the server refuses (403), or sends the browser to
    # the hub, which refuses (403); with a hub API token of one's own, a 403 too
    for visitor, host in ((einstein, "marie"), (marie, "einstein")):
        token = visitor.hub_api("POST", f"users/{visitor.username}/tokens", {"note": "test", "expires_in": 600})
        assert token.status_code == 201, token.text
        for path in ("api/contents", f"api/contents/{folder}", "lab"):
            direct = visitor.server("GET", path, user=host, allow_redirects=False)
            if direct.status_code == 302:
                assert urlparse(direct.headers["Location"]).path == "/hub/api/oauth2/authorize", direct.headers
            else:
                assert direct.status_code == 403, (visitor.username, path, direct.status_code)
            followed = visitor.server("GET", path, user=host)
            assert followed.status_code == 403 and "notes.txt" not in followed.text, (followed.status_code, followed.url)
            with_token = requests.get(f"{hub.url}/user/{host}/{path}", timeout=30, allow_redirects=False,
                                      headers={"Authorization": f"token {token.json()['token']}"})
            assert with_token.status_code in (302, 403) and "notes.txt" not in with_token.text, with_token.status_code

    # the token went to each server as a file only its user reads, never in the environment
    # of the server or of its kernels
    kernel = einstein.server("POST", "api/sessions", {"path": f"{folder}/nb.ipynb", "name": "nb.ipynb",
                                                      "type": "notebook", "kernel": {"name": "python3"}})
    assert kernel.status_code == 201, kernel.text
    kernel_id = kernel.json()["kernel"]["id"]
    kernel_pid = wait_for(lambda: next((pid for pid in our_processes(str(hub.folder))
                                        if kernel_id.encode() in proc_file(pid, "cmdline")), None), timeout=30)
    environs = {user.username: proc_file(user.server_pid(), "environ") for user in (einstein, marie)}
    environs["einstein's kernel"] = proc_file(kernel_pid, "environ")
    assert all(environs.values())
    for who, environ in environs.items():
        for issued in idp.issued:
            assert issued.encode() not in environ, who
        assert not re.search(rb"eyJ[\w-]+\.eyJ[\w-]+\.", environ), who  # no JWT at all: no CS3 token either
        assert b"MESH_ZENODO_CS3_TOKEN=" not in environ and b"MESH_ZENODO_CS3_BEARER_TOKEN=" not in environ, who
    # the kernel has a short-lived token file of its own, not the way to the user's OIDC token
    assert b"MESH_ZENODO_CS3_BEARER_TOKEN_FILE" not in environs["einstein's kernel"]
    assert b"MESH_ZENODO_CS3_TOKEN_FILE=" in environs["einstein's kernel"]
    assert einstein.server("DELETE", f"api/sessions/{kernel.json()['id']}").status_code == 204
    for user in (einstein, marie):
        variables = dict(item.split(b"=", 1) for item in environs[user.username].split(b"\0") if b"=" in item)
        token_file = Path(variables[b"MESH_ZENODO_CS3_BEARER_TOKEN_FILE"].decode())
        assert token_file.parent == hub.token_dir / user.username
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"
        assert oct(token_file.parent.stat().st_mode & 0o777) == "0o700"
        token = token_file.read_text().strip()
        assert jwt.decode(token, options={"verify_signature": False})["preferred_username"] == user.username

    # a new token reaches the running server's file: at a new login, and when the hub
    # refreshes it (before it expires); the server signs in with it when its CS3 token is renewed
    einstein_file = hub.token_dir / "einstein" / "oidc-access-token"
    before = einstein_file.read_text().strip()
    idp.backdate = idp.lifetime - 45  # the next token looks nearly expired
    einstein.sign_in("/hub/oauth_login?next=/hub/home")
    nearly = einstein_file.read_text().strip()
    assert nearly != before and nearly == idp.issued[-1]
    idp.backdate = 0
    time.sleep(2.1)  # MESH_ZENODO_HUB_AUTH_REFRESH_AGE: the next request to the hub refreshes
    assert einstein.http.get(f"{hub.url}/hub/home", timeout=30).status_code == 200
    after = einstein_file.read_text().strip()
    assert after != nearly and after == idp.issued[-1], hub.log
    assert oct(einstein_file.stat().st_mode & 0o777) == "0o600"

    async def sign_in_with_file():
        client = CS3Client(gateway=storage.grpc_addr, bearer_token_file=str(einstein_file), username="")
        try:
            return (await client.whoami()).username
        finally:
            await client.close()

    assert asyncio.run(sign_in_with_file()) == "einstein"
    assert einstein.server("GET", f"api/contents/{folder}/notes.txt").json()["content"] == text

    # the hub stops its servers and the proxy; the token files go with the servers
    left = hub.stop()
    assert not left, (left, hub.log)
    assert not list(hub.token_dir.glob("*/*-token")), list(hub.token_dir.iterdir())


# --------------------------------------------------------------------------------------
# The configuration's pieces on their own
# --------------------------------------------------------------------------------------
def load_hub_config(monkeypatch, tmp_path, **env):
    monkeypatch.setenv("JUPYTERHUB_CRYPT_KEY", secrets.token_hex(32))
    monkeypatch.setenv("MESH_ZENODO_HUB_TOKEN_DIR", str(tmp_path / "tokens"))
    monkeypatch.setenv("MESH_ZENODO_HUB_SPAWNER", "simple")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    loader = PyFileConfigLoader(HUB_CONFIG.name, path=str(HUB_CONFIG.parent))
    return loader.load_config()


class FakeSpawner:
    def __init__(self, name: str):
        self.user = type("User", (), {"name": name})()
        self.environment = {"MESH_ZENODO_CS3_GATEWAY": "reva:19000"}


def test_cs3_password_mode_checks_the_password_and_hands_the_cs3_token_over_as_a_file(monkeypatch, tmp_path, mz_storage):
    """MESH_ZENODO_HUB_AUTH=cs3 (the compose file's demo): the hub's login form, the
    password checked by the gateway; its CS3 token goes to the server in a token file."""
    config = load_hub_config(monkeypatch, tmp_path, MESH_ZENODO_HUB_AUTH="cs3", MESH_ZENODO_CS3_GATEWAY=mz_storage.grpc_addr)
    authenticator = config.JupyterHub.authenticator_class()
    assert type(authenticator).__name__ == "CS3PasswordAuthenticator"
    assert asyncio.run(authenticator.authenticate(None, {"username": "marie", "password": "wrong"})) is None
    model = asyncio.run(authenticator.authenticate(None, {"username": "marie", "password": PASSWORDS["marie"]}))
    assert model["name"] == "marie"
    token = model["auth_state"]["cs3_token"]
    assert jwt.decode(token, options={"verify_signature": False})["user"]["username"] == "marie"

    spawner = FakeSpawner("marie")
    asyncio.run(config.Spawner.auth_state_hook(spawner, model["auth_state"]))
    path = Path(spawner.environment["MESH_ZENODO_CS3_TOKEN_FILE"])
    assert path == tmp_path / "tokens" / "marie" / "cs3-access-token"
    assert path.read_text() == token + "\n" and oct(path.stat().st_mode & 0o777) == "0o600"
    assert token not in json.dumps(spawner.environment) and "MESH_ZENODO_CS3_BEARER_TOKEN_FILE" not in spawner.environment

    async def whoami():
        client = CS3Client(gateway=mz_storage.grpc_addr, token_file=str(path), username="")
        try:
            return (await client.whoami()).username
        finally:
            await client.close()

    assert asyncio.run(whoami()) == "marie"

    # a new login rewrites a running server's file; a user without a server gets none
    reconcile = config.Authenticator.reconcile_auth_state_hook
    state = {"cs3_token": "n3w", "cs3_token_expires": time.time() + 3600}
    assert reconcile(authenticator, {"name": "marie", "auth_state": state}, model["auth_state"]) is state
    assert path.read_text() == "n3w\n"
    reconcile(authenticator, {"name": "richard", "auth_state": state}, None)
    assert not (tmp_path / "tokens" / "richard").exists()

    config.Spawner.post_stop_hook(spawner)
    assert not path.exists()


def test_the_hub_refuses_to_start_without_its_settings(monkeypatch, tmp_path):
    for name in ("OAUTH_CLIENT_ID", "OAUTH2_TOKEN_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="OAUTH_CLIENT_ID, .*OAUTH2_TOKEN_URL"):
        load_hub_config(monkeypatch, tmp_path, MESH_ZENODO_HUB_AUTH="oidc")
    with pytest.raises(ValueError, match="JUPYTERHUB_CRYPT_KEY"):
        load_hub_config(monkeypatch, tmp_path, MESH_ZENODO_HUB_AUTH="cs3", JUPYTERHUB_CRYPT_KEY="")
