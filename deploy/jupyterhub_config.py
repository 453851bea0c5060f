"""JupyterHub for mesh-zenodo at a ScienceMesh site (docs/deployment.md, "JupyterHub").

Users sign in at the site's identity provider (``GenericOAuthenticator``, OpenID Connect);
each gets a single-user Jupyter server whose files, kernels and terminals are on the
site's Reva (the CS3 contents manager, ``CS3KernelManager``, the mesh_zenodo extension,
JupyterLab). The server signs in to Reva with the user's own OIDC access token (Reva's
``bearer`` auth), which the hub keeps in the user's encrypted auth state and hands over
as a FILE only that user can read, never as an environment variable (a kernel can read
its server's ``/proc/<pid>/environ``):

* at each spawn (``auth_state_hook``) the token is written to
  ``$MESH_ZENODO_HUB_TOKEN_DIR/<user>/oidc-access-token`` (folder 0700, file 0600, owned
  by the user the server runs as) and the server gets the file's *path* in
  ``MESH_ZENODO_CS3_BEARER_TOKEN_FILE``;
* whenever the hub refreshes the auth state (``refresh_user``: every
  ``auth_refresh_age`` seconds of activity, before each spawn, and at a new login) the file
  of a running server is rewritten in place (atomically: a new file renamed over the old);
  the token is refreshed with the refresh token *before* it expires (when less than half
  its lifetime is left), not only after the IdP refused it;
* a running server reads the file again each time it signs in to Reva, that is when its
  CS3 token is about to expire or was refused, so it picks up the refreshed token then;
* when the server stops (``post_stop_hook``) the file is deleted.

Settings come from the environment (placeholders in <>):

=====================================  ==========================================================
``MESH_ZENODO_HUB_AUTH``               ``oidc`` (default, the site's IdP) or ``cs3`` (no IdP: the
                                       hub's login form checks the password by signing in to the
                                       CS3 gateway, and hands the CS3 token over as a file in
                                       ``MESH_ZENODO_CS3_TOKEN_FILE``; demos, Reva's demo users)
``OAUTH_CLIENT_ID``                    the hub's client at the IdP, e.g. ``jupyterhub``
``OAUTH_CLIENT_SECRET_FILE``           a file holding its secret (never the secret itself)
``OAUTH2_AUTHORIZE_URL``               ``https://<idp>/realms/<realm>/protocol/openid-connect/auth``
``OAUTH2_TOKEN_URL``                   ``https://<idp>/realms/<realm>/protocol/openid-connect/token``
``OAUTH2_USERDATA_URL``                ``https://<idp>/realms/<realm>/protocol/openid-connect/userinfo``
``OAUTH_CALLBACK_URL``                 ``https://<hub>/hub/oauth_callback``
``OAUTH_SCOPES``                       default ``openid profile email offline_access``
``JUPYTERHUB_CRYPT_KEY``               required: the auth state is encrypted with it
                                       (``openssl rand -hex 32``)
``MESH_ZENODO_CS3_GATEWAY``            Reva's gateway, e.g. ``reva:19000`` (passed to the servers,
                                       with ``MESH_ZENODO_CS3_TLS`` and
                                       ``MESH_ZENODO_CS3_ROOT_CERTIFICATES`` when set)
``MESH_ZENODO_PUBLIC_LINKS_URL``       where the site serves public links, e.g.
                                       ``https://<cernbox>/s/`` (optional)
``MESH_ZENODO_SERVER_CONFIG``          a ``jupyter_server_config.py`` for the servers (default:
                                       ``jupyter_server_config.py`` beside this file, if there)
``MESH_ZENODO_HUB_TOKEN_DIR``          where the token files are, default ``/run/mesh-zenodo-hub``
                                       (a tmpfs: tokens never reach a disk)
``MESH_ZENODO_HUB_SPAWNER``            ``local`` (default: ``LocalProcessSpawner``, one Unix
                                       account per user, the hub as root) or ``simple``
                                       (``SimpleLocalProcessSpawner``: every server as the hub's
                                       own Unix user, no isolation between users; tests, demos)
``MESH_ZENODO_HUB_AUTH_REFRESH_AGE``   seconds between auth refreshes, default 300
``MESH_ZENODO_HUB_ADMINS``             comma-separated hub admins (optional)
=====================================  ==========================================================

Addresses (``--ip``, ``--port``, ``c.JupyterHub.hub_bind_url``, ...) are JupyterHub's own
settings, on its command line or below. The test (tests/test_jupyterhub.py) runs this
file as it is, against a local OIDC provider, the embedded storage and one Unix user.
"""

from __future__ import annotations

import base64
import json
import os
import pwd
import secrets
import time
from pathlib import Path
from urllib.parse import quote

from jupyterhub.auth import Authenticator
from tornado import web

c = get_config()  # noqa: F821 - injected by JupyterHub's config loader

HERE = Path(__file__).resolve().parent
AUTH = os.environ.get("MESH_ZENODO_HUB_AUTH", "oidc")
SPAWNER = os.environ.get("MESH_ZENODO_HUB_SPAWNER", "local")
TOKEN_DIR = Path(os.environ.get("MESH_ZENODO_HUB_TOKEN_DIR", "/run/mesh-zenodo-hub"))
GATEWAY = os.environ.get("MESH_ZENODO_CS3_GATEWAY", "reva:19000")

#: the environment variables naming the token files (mesh_zenodo.cs3.client reads them)
BEARER_FILE_ENV = "MESH_ZENODO_CS3_BEARER_TOKEN_FILE"
TOKEN_FILE_ENV = "MESH_ZENODO_CS3_TOKEN_FILE"
#: auth state key -> (the file's name, the variable that names it for the server)
HANDED_OVER = {
    "access_token": ("oidc-access-token", BEARER_FILE_ENV),  # GenericOAuthenticator's
    "cs3_token": ("cs3-access-token", TOKEN_FILE_ENV),  # CS3PasswordAuthenticator's
}

if AUTH not in ("oidc", "cs3"):
    raise ValueError(f"MESH_ZENODO_HUB_AUTH={AUTH!r}: use oidc (the site's IdP) or cs3 (passwords checked by the gateway)")
if SPAWNER not in ("local", "simple"):
    raise ValueError(f"MESH_ZENODO_HUB_SPAWNER={SPAWNER!r}: use local (one Unix account per user) or simple")
if not os.environ.get("JUPYTERHUB_CRYPT_KEY"):
    raise ValueError("JUPYTERHUB_CRYPT_KEY is not set: the users' tokens are kept in the encrypted auth state "
                     "(make one with `openssl rand -hex 32`)")


# ----------------------------------------------------------------------------------------
# Token files
# ----------------------------------------------------------------------------------------
def _owner(username: str) -> tuple[int, int] | None:
    """Who the user's server runs as, when that is not the hub's own Unix user."""
    if SPAWNER != "local" or os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(username)
    except KeyError:
        raise web.HTTPError(500, f"there is no Unix account {username!r} for the server to run as") from None
    return entry.pw_uid, entry.pw_gid


def user_token_dir(username: str) -> Path:
    name = quote(username, safe="@+-_.")
    if not name or name.startswith("."):
        raise web.HTTPError(400, f"cannot keep tokens for the user name {username!r}")
    return TOKEN_DIR / name


def _write_private(path: Path, text: str, owner: tuple[int, int] | None) -> None:
    """``text`` in ``path``, readable by its owner only, replacing any previous file whole."""
    folder = path.parent
    folder.mkdir(mode=0o700, parents=False, exist_ok=True)
    os.chmod(folder, 0o700)
    if owner is not None:
        os.chown(folder, *owner)
    temporary = folder / f".{path.name}.{secrets.token_hex(6)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fd = -1
            fh.write(text + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        if owner is not None:
            os.chown(temporary, *owner)
        os.replace(temporary, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        temporary.unlink(missing_ok=True)
        raise


def hand_over(username: str, auth_state: dict | None, *, create: bool) -> dict[str, str]:
    """Write the user's token from ``auth_state`` to their token file; the environment
    that names it for the server (a path, never the token). ``create=False`` only
    rewrites a file that is there (a running server's)."""
    for key, (filename, variable) in HANDED_OVER.items():
        token = (auth_state or {}).get(key)
        if token:
            path = user_token_dir(username) / filename
            if create or path.exists():
                _write_private(path, token, _owner(username))
            return {variable: str(path)}
    if create:
        raise web.HTTPError(403, f"no token for {username} in the hub's auth state: sign in again")
    return {}


def remove_tokens(username: str) -> None:
    folder = user_token_dir(username)
    for filename, _ in HANDED_OVER.values():
        (folder / filename).unlink(missing_ok=True)


async def token_to_server(spawner, auth_state) -> None:
    """Spawner.auth_state_hook: the token file, and its path in the server's environment."""
    env = hand_over(spawner.user.name, auth_state, create=True)
    remaining = {k: v for k, v in spawner.environment.items() if k not in (BEARER_FILE_ENV, TOKEN_FILE_ENV)}
    spawner.environment = {**remaining, **env}


def drop_token_files(spawner) -> None:
    """Spawner.post_stop_hook: the server is gone, so is its token file."""
    remove_tokens(spawner.user.name)


def rewrite_on_refresh(authenticator, auth_model, existing_auth_state):
    """Authenticator.reconcile_auth_state_hook (JupyterHub >= 6.1): called with the new auth
    state at each login and each refresh; a running server's token file gets the new token."""
    auth_state = auth_model.get("auth_state")
    if auth_state:
        hand_over(auth_model["name"], auth_state, create=False)
    return auth_state


# ----------------------------------------------------------------------------------------
# Authenticators
# ----------------------------------------------------------------------------------------
def _jwt_times(token: str) -> tuple[float, float] | None:
    """(issued at, expires at) of a JWT access token, read without checking it (the IdP
    and Reva check it); None for an opaque token."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims.get("iat") or claims.get("nbf") or 0), float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


async def refresh_before_expiry(authenticator, user, auth_state):
    """GenericOAuthenticator.refresh_user_hook: OAuthenticator by itself exchanges the
    refresh token only once the access token was refused; Reva needs a valid one when the
    server signs in again, so refresh when less than half of its lifetime, or less than
    ``auth_refresh_age`` (the next refresh may be that far off), is left; while the token
    is fresh, ask the IdP nothing."""
    if not auth_state or not auth_state.get("access_token"):
        return None  # OAuthenticator decides (a new login)
    times = _jwt_times(auth_state["access_token"])
    refresh_token = auth_state.get("refresh_token")
    if times is None or not refresh_token:
        return None  # opaque token or no refresh token: OAuthenticator's own refresh
    issued, expires = times
    left = expires - time.time()
    if left > max(60.0, (expires - issued) / 2, float(authenticator.auth_refresh_age)):
        return True
    try:
        token_info = await authenticator.get_token_info(None, authenticator.build_refresh_token_request_params(refresh_token))
        token_info.setdefault("refresh_token", refresh_token)
        user_info = await authenticator.token_to_user(token_info)
        new_state = authenticator.build_auth_state_dict(token_info, user_info)
        if hasattr(new_state, "__await__"):
            new_state = await new_state
    except Exception as err:  # the IdP refused or is unreachable: the user signs in again
        authenticator.log.info("Refreshing the OIDC token of %s failed (%s): a new login is needed", user.name, err)
        return False
    if authenticator.normalize_username(authenticator.user_info_to_username(user_info)) != user.name:
        return False
    return {"name": user.name, "auth_state": new_state}


class CS3PasswordAuthenticator(Authenticator):
    """The hub's login form, the password checked by signing in to the CS3 gateway
    (Reva's ``basic`` auth); the CS3 access token goes to the server as a token file. A
    CS3 token cannot be refreshed without the password: shortly before it expires the
    user is asked to sign in again (the new token reaches a running server's file)."""

    #: sign in again when the CS3 token has less than this left (seconds)
    renew_margin = 600

    async def authenticate(self, handler, data):
        from mesh_zenodo.cs3 import errors
        from mesh_zenodo.cs3.client import CS3Client

        username = self.normalize_username(data.get("username", ""))
        password = data.get("password", "")
        if not username or not password:
            return None
        client = CS3Client(gateway=GATEWAY, username=username, password=password)
        try:
            token, expires = await client.new_token()
        except errors.Unauthenticated:
            self.log.warning("CS3 sign-in refused for %s", username)
            return None
        except errors.CS3Error as err:
            self.log.error("CS3 sign-in for %s failed: %s", username, err)
            return None
        finally:
            await client.close()
        return {"name": username, "auth_state": {"cs3_token": token, "cs3_token_expires": expires}}

    async def refresh_user(self, user, handler=None):
        auth_state = await user.get_auth_state()
        if not auth_state or auth_state.get("cs3_token_expires", 0) - time.time() < self.renew_margin:
            return False
        return True


if AUTH == "oidc":
    missing = [name for name in ("OAUTH_CLIENT_ID", "OAUTH_CLIENT_SECRET_FILE", "OAUTH2_AUTHORIZE_URL",
                                 "OAUTH2_TOKEN_URL", "OAUTH2_USERDATA_URL", "OAUTH_CALLBACK_URL")
               if not os.environ.get(name)]
    if missing:
        raise ValueError(f"MESH_ZENODO_HUB_AUTH=oidc needs {', '.join(missing)} (see {__file__})")
    c.JupyterHub.authenticator_class = "oauthenticator.generic.GenericOAuthenticator"
    oidc = c.GenericOAuthenticator
    oidc.client_id = os.environ["OAUTH_CLIENT_ID"]
    oidc.client_secret = Path(os.environ["OAUTH_CLIENT_SECRET_FILE"]).read_text(encoding="utf-8").strip()
    oidc.authorize_url = os.environ["OAUTH2_AUTHORIZE_URL"]
    oidc.token_url = os.environ["OAUTH2_TOKEN_URL"]
    oidc.userdata_url = os.environ["OAUTH2_USERDATA_URL"]
    oidc.oauth_callback_url = os.environ["OAUTH_CALLBACK_URL"]
    oidc.scope = os.environ.get("OAUTH_SCOPES", "openid profile email offline_access").split()
    oidc.username_claim = "preferred_username"  # the user's Reva username
    oidc.allow_all = True  # whoever the IdP signs in; Reva decides what they may reach
    oidc.auto_login = True
    oidc.refresh_user_hook = refresh_before_expiry
else:
    c.JupyterHub.authenticator_class = CS3PasswordAuthenticator
    c.CS3PasswordAuthenticator.allow_all = True

c.Authenticator.enable_auth_state = True
c.Authenticator.refresh_pre_spawn = True
c.Authenticator.auth_refresh_age = int(os.environ.get("MESH_ZENODO_HUB_AUTH_REFRESH_AGE", "300"))
c.Authenticator.reconcile_auth_state_hook = rewrite_on_refresh
c.Authenticator.admin_users = {name.strip() for name in os.environ.get("MESH_ZENODO_HUB_ADMINS", "").split(",") if name.strip()}

# ----------------------------------------------------------------------------------------
# Single-user servers
# ----------------------------------------------------------------------------------------
c.JupyterHub.spawner_class = (
    "jupyterhub.spawner.LocalProcessSpawner" if SPAWNER == "local" else "jupyterhub.spawner.SimpleLocalProcessSpawner")
c.Spawner.auth_state_hook = token_to_server
c.Spawner.post_stop_hook = drop_token_files
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120  # the first start imports Lab and mounts the storage
c.Spawner.http_timeout = 90
c.Spawner.environment = {
    "MESH_ZENODO_CS3_GATEWAY": GATEWAY,
    **{name: os.environ[name] for name in ("MESH_ZENODO_CS3_TLS", "MESH_ZENODO_CS3_ROOT_CERTIFICATES")
       if os.environ.get(name)},
}
server_args = [
    "--ServerApp.contents_manager_class=mesh_zenodo.contents.CS3ContentsManager",
    "--ServerApp.kernel_manager_class=mesh_zenodo.kernels.CS3KernelManager",
    "--ServerApp.jpserver_extensions=mesh_zenodo=True",
]
if os.environ.get("MESH_ZENODO_PUBLIC_LINKS_URL"):
    server_args.append(f"--CS3Client.public_links_url={os.environ['MESH_ZENODO_PUBLIC_LINKS_URL']}")
server_config = Path(os.environ.get("MESH_ZENODO_SERVER_CONFIG") or HERE / "jupyter_server_config.py")
if server_config.is_file():
    server_args.append(f"--config={server_config}")
if SPAWNER == "simple" and os.geteuid() == 0:
    server_args.append("--allow-root")  # every server runs as the hub's user: root in CI containers
c.Spawner.args = server_args

TOKEN_DIR.mkdir(mode=0o711, parents=True, exist_ok=True)  # the users' folders below are 0700
