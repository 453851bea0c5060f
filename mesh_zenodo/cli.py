"""``mesh-zenodo``: wires the programs together (no logic of its own).

* ``mesh-zenodo lab [--user NAME] [--gateway HOST:PORT] [JUPYTER ARGS...]``: Jupyter Lab
  with its files on a CS3 storage. Without ``--gateway`` it starts (or reuses) the embedded
  storage, with its data under Jupyter's data directory, and signs in as a demo user.
* ``mesh-zenodo storage --root DIR [--grpc HOST:PORT] [--http HOST:PORT] [--users FILE]``:
  the embedded CS3 storage alone.

Passwords never travel on the command line (where ``ps`` shows them) or in the
environment kernels inherit: the CLI hands them to Jupyter in-process.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

DEFAULT_GRPC = "127.0.0.1:19000"
DEFAULT_HTTP = "127.0.0.1:19001"


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


def _start_embedded_storage(root: Path, grpc_addr: str, http_addr: str):
    """Start the embedded storage, or reuse the one already serving at ``grpc_addr``."""
    from .launcher import spawn_storage

    if _gateway_answers(grpc_addr):
        print(f"mesh-zenodo: using the CS3 storage already running at {grpc_addr}", file=sys.stderr)
        return None
    root.mkdir(parents=True, exist_ok=True)
    try:
        return spawn_storage(root, grpc_addr, http_addr, echo=True)
    except RuntimeError as err:
        raise SystemExit(f"mesh-zenodo: {err}") from None


def _demo_password(username: str) -> str | None:
    from .storage.auth import DEMO_USERS

    for user in DEMO_USERS:
        if user["username"] == username:
            return user["secret"]
    return None


def _password(username: str, embedded: bool) -> str:
    from .cs3.client import PASSWORD_ENV

    password = os.environ.pop(PASSWORD_ENV, None)
    if password is None and embedded:
        password = _demo_password(username)
    if password is None:
        if not sys.stdin.isatty():
            raise SystemExit(f"mesh-zenodo: set {PASSWORD_ENV} or run in a terminal to type the password of {username}")
        password = getpass.getpass(f"CS3 password for {username}: ")
    return password


def lab(args: argparse.Namespace, jupyter_args: list[str]) -> int:
    from jupyter_core.paths import jupyter_data_dir
    from jupyterlab.labapp import LabApp
    from traitlets.config import Config

    embedded = args.gateway is None
    storage = None
    if embedded:
        root = Path(args.storage_root or Path(jupyter_data_dir()) / "mesh-zenodo" / "storage")
        storage = _start_embedded_storage(root, args.storage_grpc, args.storage_http)
    gateway = args.gateway or args.storage_grpc

    config = Config()
    config.ServerApp.contents_manager_class = "mesh_zenodo.contents.CS3ContentsManager"
    config.CS3Client.gateway = gateway
    config.CS3Client.username = args.user
    config.CS3Client.password = _password(args.user, embedded)
    config.CS3Client.embedded = embedded
    config.CS3Client.tls = args.tls
    try:
        serverapp = LabApp.initialize_server(argv=jupyter_args, config=config)
        serverapp.start()
    finally:
        if storage is not None:
            try:
                storage.stop()
            except RuntimeError as err:
                print(f"mesh-zenodo: {err}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["storage"]:
        from .storage import main as storage_main

        return storage_main(argv[1:])
    if argv[:1] == ["zenodo-standin"]:
        from .standin.main import main as standin_main

        return standin_main(argv[1:])

    parser = argparse.ArgumentParser(
        prog="mesh-zenodo", description="JupyterLab on ScienceMesh (CS3/Reva) storage, with Zenodo."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("storage", help="run the embedded CS3 storage (see `mesh-zenodo storage --help`)")
    commands.add_parser("zenodo-standin", help="a local Zenodo for tests and offline demos (see `--help`)")
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
    args, rest = parser.parse_known_args(argv)
    return lab(args, rest)


if __name__ == "__main__":
    sys.exit(main())
