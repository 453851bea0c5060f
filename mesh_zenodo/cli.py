"""``mesh-zenodo``: wires the programs together (no logic of its own).

* ``mesh-zenodo lab [--user NAME] [--gateway HOST:PORT] [JUPYTER ARGS...]``: Jupyter Lab
  with its files on a CS3 storage. Without ``--gateway`` it starts (or reuses) the embedded
  storage, with its data under Jupyter's data directory, and signs in as a demo user.
  Before Lab starts, the account is checked: an unknown user or a wrong password stops
  here with one line; an unreachable gateway is a warning.
* ``mesh-zenodo storage --root DIR [--grpc HOST:PORT] [--http HOST:PORT] [--users FILE]``:
  the embedded CS3 storage alone.
* ``mesh-zenodo publish`` / ``mesh-zenodo pull``: Zenodo from scripts (:mod:`.zenodo_cli`).

Passwords never travel on the command line (where ``ps`` shows them), in a logged
traitlets ``Config``, or in the environment of the server and its kernels: a password
from ``MESH_ZENODO_CS3_PASSWORD`` makes the CLI re-execute itself without that variable
(the process's initial environment, ``/proc/<pid>/environ``, would keep it otherwise),
and the CLI hands the password to Jupyter over a pipe (``CS3Client.password_fd``).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import re
import sys
from pathlib import Path

from . import __version__

DEFAULT_GRPC = "127.0.0.1:19000"
DEFAULT_HTTP = "127.0.0.1:19001"

SCRATCH_README = """\
This is the scratch folder of `mesh-zenodo lab` for the CS3 user {user}.

Kernels and terminals start here only when the CS3 storage {gateway} cannot be mounted
with FUSE (no /dev/fuse, or no fusermount3: the ScienceMesh panel says why). Then what a
kernel writes here stays on this machine and does not appear in Lab's file browser; in a
kernel, cs3://home/<path> still reaches the storage (fsspec, pandas, xarray).
"""


def _safe_name(text: str) -> str:
    """``text`` as one folder name (user names and addresses come from the command line)."""
    name = re.sub(r"[^A-Za-z0-9._@-]", "_", text)
    return name if name.strip(".") else f"_{name}"


def _channel(address: str, tls: bool):
    import grpc

    if tls:
        return grpc.secure_channel(address, grpc.ssl_channel_credentials())
    return grpc.insecure_channel(address)


def _gateway_answers(address: str) -> bool:
    """Is a CS3 gateway listening at ``address``? (an unauthenticated GetHome is refused)"""
    import grpc
    from cs3.gateway.v1beta1 import gateway_api_pb2_grpc
    from cs3.storage.provider.v1beta1 import provider_api_pb2

    with grpc.insecure_channel(address) as channel:
        try:
            gateway_api_pb2_grpc.GatewayAPIStub(channel).GetHome(provider_api_pb2.GetHomeRequest(), timeout=2)
        except grpc.RpcError as err:
            return err.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)
        return True


def _user_exists(address: str, username: str, tls: bool) -> bool | None:
    """Does the gateway know ``username``? (``GetUserByClaim`` needs no sign-in, in Reva
    too); None when it does not say (unreachable, or it does not answer that call)."""
    import grpc
    from cs3.gateway.v1beta1 import gateway_api_pb2_grpc
    from cs3.identity.user.v1beta1 import user_api_pb2
    from cs3.rpc.v1beta1 import code_pb2

    with _channel(address, tls) as channel:
        try:
            response = gateway_api_pb2_grpc.GatewayAPIStub(channel).GetUserByClaim(
                user_api_pb2.GetUserByClaimRequest(claim="username", value=username), timeout=10
            )
        except grpc.RpcError:
            return None
    if response.status.code == code_pb2.CODE_OK:
        return True
    if response.status.code == code_pb2.CODE_NOT_FOUND:
        return False
    return None


def _storage_note(grpc_addr: str) -> Path:
    """Where a ``mesh-zenodo lab`` notes the embedded storage it started (for a second one)."""
    from jupyter_core.paths import jupyter_runtime_dir

    return Path(jupyter_runtime_dir()) / f"mesh-zenodo-storage-{_safe_name(grpc_addr)}.json"


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _start_embedded_storage(root: Path, grpc_addr: str, http_addr: str):
    """Start the embedded storage, or reuse the one already serving at ``grpc_addr``
    (saying on whom it depends)."""
    from .launcher import spawn_storage

    note = _storage_note(grpc_addr)
    if _gateway_answers(grpc_addr):
        try:
            owner = json.loads(note.read_text())
        except (OSError, ValueError):
            owner = {}
        if isinstance(owner, dict) and _alive(owner.get("lab_pid")) and _alive(owner.get("storage_pid")):
            print(f"mesh-zenodo: using the embedded storage at {grpc_addr} started by mesh-zenodo lab "
                  f"(pid {owner['lab_pid']}); it stops when that one stops", file=sys.stderr)
        else:
            print(f"mesh-zenodo: using the CS3 storage already running at {grpc_addr} (not started by a "
                  "mesh-zenodo lab of yours); Lab loses its files when it stops", file=sys.stderr)
        return None
    root.mkdir(parents=True, exist_ok=True)
    try:
        storage = spawn_storage(root, grpc_addr, http_addr, echo=True)
    except RuntimeError as err:
        raise SystemExit(f"mesh-zenodo: {err}") from None
    try:
        note.parent.mkdir(parents=True, exist_ok=True)
        note.write_text(json.dumps({"lab_pid": os.getpid(), "storage_pid": storage.pid, "gateway": grpc_addr}))
    except OSError:
        pass  # only the message of a second Lab depends on it
    return storage


def _stop_embedded_storage(storage, grpc_addr: str) -> None:
    note = _storage_note(grpc_addr)
    try:
        if json.loads(note.read_text()).get("lab_pid") == os.getpid():
            note.unlink()
    except (OSError, ValueError, AttributeError):
        pass
    try:
        storage.stop()
    except RuntimeError as err:
        print(f"mesh-zenodo: {err}", file=sys.stderr)


def _demo_users() -> list[str]:
    from .storage.auth import DEMO_USERS

    return [user["username"] for user in DEMO_USERS]


def _demo_password(username: str) -> str | None:
    from .storage.auth import DEMO_USERS

    for user in DEMO_USERS:
        if user["username"] == username:
            return user["secret"]
    return None


def _check_user(gateway: str, username: str, tls: bool, embedded: bool) -> None:
    """Stop at once (before any password prompt) when the gateway does not know the user."""
    if _user_exists(gateway, username, tls) is not False:
        return
    if not embedded:
        raise SystemExit(f"mesh-zenodo: the CS3 gateway at {gateway} has no user {username!r}")
    known = [name for name in _demo_users() if _user_exists(gateway, name, tls)]
    users = f"its users: {', '.join(known)}" if known else "its users are in the --users file it was started with"
    raise SystemExit(f"mesh-zenodo: the embedded storage at {gateway} has no user {username!r} ({users}; use --user NAME)")


def _reexec_without_password(argv: list[str]) -> None:
    """Run this command again in a process whose environment never held the password
    (``os.environ.pop`` does not change ``/proc/<pid>/environ``, which kernels can read):
    the password goes over a pipe whose read end the new process gets as ``--password-fd``."""
    from .cs3.client import PASSWORD_ENV

    password = os.environ.get(PASSWORD_ENV, "")
    env = {name: value for name, value in os.environ.items() if name != PASSWORD_ENV}
    at = argv.index("lab") + 1
    extra: list[str] = []
    if password:
        read_end = _hand_over(password)
        os.set_inheritable(read_end, True)
        extra = ["--password-fd", str(read_end)]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "mesh_zenodo.cli", *argv[:at], *extra, *argv[at:]], env)


def _password(args: argparse.Namespace, embedded: bool) -> str:
    from .cs3.client import PASSWORD_ENV, read_secret_fd

    if args.password_fd is not None:
        try:
            return read_secret_fd(args.password_fd)
        except OSError as err:
            raise SystemExit(f"mesh-zenodo: cannot read the password from descriptor {args.password_fd}: {err}") from None
    if embedded:
        password = _demo_password(args.user)
        if password is not None:
            return password
    if not sys.stdin.isatty():
        raise SystemExit(f"mesh-zenodo: set {PASSWORD_ENV} or run in a terminal to type the password of {args.user}")
    return getpass.getpass(f"CS3 password for {args.user}: ")


def _check_password(gateway: str, username: str, password: str, tls: bool, jupyter_args: list[str]) -> None:
    """Sign in once as Lab will: wrong credentials stop here; an unreachable gateway is a warning."""
    from .cs3.client import CS3Client
    from .cs3.client import errors as cs3_errors

    option = "--CS3Client.root_certificates="
    certificates = next((arg[len(option):] for arg in jupyter_args if arg.startswith(option)), "")

    async def sign_in() -> None:
        client = CS3Client(gateway=gateway, username=username, password=password, tls=tls,
                           root_certificates=certificates, rpc_timeout=10.0)
        try:
            await client.authenticate()
        finally:
            await client.close()

    try:
        asyncio.run(sign_in())
    except cs3_errors.Unavailable as err:
        print(f"mesh-zenodo: warning: {err}; Lab starts anyway, without its files until the gateway answers",
              file=sys.stderr)
    except cs3_errors.CS3Error as err:
        raise SystemExit(f"mesh-zenodo: {err}") from None
    except OSError as err:  # the root certificates
        raise SystemExit(f"mesh-zenodo: cannot read {err.filename}: {err.strerror}") from None


def _hand_over(secret: str) -> int:
    """A pipe holding ``secret``; its read end (not inherited by children) for ``password_fd``."""
    read_end, write_end = os.pipe()
    data = secret.encode("utf-8", "surrogateescape")
    while data:
        data = data[os.write(write_end, data):]
    os.close(write_end)
    return read_end


def _scratch(data_dir: Path, username: str, gateway: str) -> Path:
    """The folder kernels and terminals start in when the storage cannot be mounted."""
    scratch = data_dir / "mesh-zenodo" / "scratch" / _safe_name(username)
    scratch.mkdir(parents=True, exist_ok=True)
    readme = scratch / "README.txt"
    text = SCRATCH_README.format(user=username, gateway=gateway)
    if not readme.exists() or readme.read_text(errors="replace") != text:
        readme.write_text(text)
    return scratch


def lab(args: argparse.Namespace, jupyter_args: list[str], argv: list[str]) -> int:
    from jupyter_core.paths import jupyter_data_dir
    from jupyterlab.labapp import LabApp
    from traitlets.config import Config

    from .cs3.client import PASSWORD_ENV

    if PASSWORD_ENV in os.environ:
        _reexec_without_password(argv)

    embedded = args.gateway is None
    data_dir = Path(jupyter_data_dir())
    storage = None
    if embedded:
        root = Path(args.storage_root or data_dir / "mesh-zenodo" / "storage")
        storage = _start_embedded_storage(root, args.storage_grpc, args.storage_http)
    gateway = args.gateway or args.storage_grpc
    try:
        _check_user(gateway, args.user, args.tls, embedded)
        password = _password(args, embedded)
        _check_password(gateway, args.user, password, args.tls, jupyter_args)

        config = Config()
        config.ServerApp.contents_manager_class = "mesh_zenodo.contents.CS3ContentsManager"
        config.CS3Client.gateway = gateway
        config.CS3Client.username = args.user
        # never the password itself: traitlets logs every Config at DEBUG level
        config.CS3Client.password_fd = _hand_over(password)
        del password
        config.CS3Client.embedded = embedded
        if embedded:  # its data gateway serves the public links' pages
            config.CS3Client.public_links_url = f"http://{args.storage_http}/s/"
        config.CS3Client.tls = args.tls
        # kernels and terminals start in the FUSE mount of the storage (their notebook's
        # folder); without FUSE in a scratch folder, not wherever this was run from
        config.ServerApp.root_dir = str(_scratch(data_dir, args.user, gateway))
        config.ServerApp.kernel_manager_class = "mesh_zenodo.kernels.CS3KernelManager"
        # Lab's workspaces (open tabs, layout) per storage and user
        workspaces = data_dir / "mesh-zenodo" / "workspaces" / _safe_name(gateway) / _safe_name(args.user)
        workspaces.mkdir(parents=True, exist_ok=True)
        config.LabApp.workspaces_dir = str(workspaces)
        # live collaboration's state (Y document history, file ids, sessions) per storage
        # and user, never in the folder Lab was started from
        collaboration = data_dir / "mesh-zenodo" / "collaboration" / _safe_name(gateway) / _safe_name(args.user)
        collaboration.mkdir(parents=True, exist_ok=True)
        config.SQLiteYStore.db_path = str(collaboration / "ystore.db")
        config.BaseFileIdManager.db_path = str(collaboration / "file_ids.db")
        config.YDocExtension.session_store_path = str(collaboration / "sessions.json")
        # file ids are the CS3 resource ids: a live room follows a rename made elsewhere
        config.FileIdExtension.file_id_manager_class = "mesh_zenodo.fileid.CS3FileIdManager"
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            # containers and CI machines run as root; Jupyter alone would refuse to start
            config.ServerApp.allow_root = True
            if not any(arg == "--allow-root" or arg.startswith("--ServerApp.allow_root") for arg in jupyter_args):
                print("mesh-zenodo: warning: running as root: Lab, its kernels and terminals run as root",
                      file=sys.stderr)

        serverapp = LabApp.initialize_server(argv=jupyter_args, config=config)
        # a kernel or terminal started without a folder inherits the server's own
        os.chdir(serverapp.root_dir)
        serverapp.start()
    finally:
        if storage is not None:
            _stop_embedded_storage(storage, args.storage_grpc)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["storage"]:
        from .storage import main as storage_main

        return storage_main(argv[1:])
    if argv[:1] == ["zenodo-standin"]:
        from .standin.main import main as standin_main

        return standin_main(argv[1:])
    if argv[:1] in (["publish"], ["pull"]):
        from .zenodo_cli import main as zenodo_main

        return zenodo_main(argv)

    parser = argparse.ArgumentParser(
        prog="mesh-zenodo", description="JupyterLab on ScienceMesh (CS3/Reva) storage, with Zenodo."
    )
    parser.add_argument("--version", action="version", version=f"mesh-zenodo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("storage", help="run the embedded CS3 storage (see `mesh-zenodo storage --help`)")
    commands.add_parser("zenodo-standin", help="a local Zenodo for tests and offline demos (see `--help`)")
    commands.add_parser("publish", help="publish a folder of the storage to Zenodo (see `mesh-zenodo publish --help`)")
    commands.add_parser("pull", help="pull a Zenodo record into a folder of the storage (see `--help`)")
    lab_parser = commands.add_parser(
        "lab", help="Jupyter Lab on a CS3 storage; other arguments go to Jupyter (e.g. --port 8888)"
    )
    lab_parser.add_argument("--user", default="einstein", help="CS3 user to sign in as (default: einstein)")
    lab_parser.add_argument(
        "--gateway", metavar="HOST:PORT", help="an existing CS3 gateway such as Reva (default: start the embedded storage)"
    )
    lab_parser.add_argument("--tls", action="store_true", help="use TLS to the gateway")
    lab_parser.add_argument(
        "--storage-root", metavar="DIR", help="data folder of the embedded storage (default: in Jupyter's data directory)"
    )
    lab_parser.add_argument("--storage-grpc", metavar="HOST:PORT", default=DEFAULT_GRPC, help=argparse.SUPPRESS)
    lab_parser.add_argument("--storage-http", metavar="HOST:PORT", default=DEFAULT_HTTP, help=argparse.SUPPRESS)
    # set by the CLI itself when it re-executes without the password in its environment
    lab_parser.add_argument("--password-fd", type=int, default=None, help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    return lab(args, rest, argv)


if __name__ == "__main__":
    sys.exit(main())
