"""``mesh-zenodo publish`` and ``mesh-zenodo pull``: Zenodo from scripts and CI.

* ``mesh-zenodo publish CS3_PATH [--metadata FILE] [--zenodo-url URL | --sandbox]
  [--token-file FILE] [--publish] [--new-version] [--gateway HOST:PORT] [--user NAME]
  [--json]`` publishes a folder of the storage as a Zenodo record (a draft unless
  ``--publish``), exactly as Lab's "Publish to Zenodo…" does
  (:class:`~mesh_zenodo.services.publishing.PublishService`).
* ``mesh-zenodo pull RECORD [--into CS3_PATH] ...`` pulls a record's files into a folder.

CS3 credentials as for ``mesh-zenodo lab`` (the embedded storage without ``--gateway``;
the password from ``MESH_ZENODO_CS3_PASSWORD`` or a prompt). The Zenodo token from
``--token-file``, else ``MESH_ZENODO_TOKEN``, else the sign-in remembered by Lab; never
from an argument. Progress goes to standard error; ``--json`` prints one JSON object on
standard output. Exit codes: 0 done, 2 bad input (each problem listed), 3 Zenodo refused,
4 storage error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import posixpath
import sys
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir

from .cli import DEFAULT_GRPC, DEFAULT_HTTP, _check_user, _password, _start_embedded_storage, _stop_embedded_storage
from .cs3 import errors as cs3_errors
from .cs3.client import PASSWORD_ENV, CS3Client
from .services import metadata as md
from .services.errors import ServiceError
from .services.jobs import FAILED, JobRegistry
from .services.publishing import AlreadyPublished, PublishRequest, PublishService
from .services.pulls import PullService
from .services.zenodo_connection import ZenodoConnection
from .zenodo import errors as zenodo_errors
from .zenodo.client import ZenodoClient, normalize_base_url

TOKEN_ENV = "MESH_ZENODO_TOKEN"
PRODUCTION, SANDBOX = "https://zenodo.org", "https://sandbox.zenodo.org"
EXIT_OK, EXIT_INPUT, EXIT_ZENODO, EXIT_STORAGE = 0, 2, 3, 4


class Refused(Exception):
    """Bad input: exit code 2 with these problems."""

    def __init__(self, *problems: str) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


def _common(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--zenodo-url", metavar="URL", help="the Zenodo site (default https://zenodo.org)")
    where.add_argument("--sandbox", action="store_true", help="use https://sandbox.zenodo.org")
    parser.add_argument("--token-file", metavar="FILE", help=f"a file holding the Zenodo token (else ${TOKEN_ENV})")
    parser.add_argument("--gateway", metavar="HOST:PORT", help="a CS3 gateway such as Reva (default: the embedded storage)")
    parser.add_argument("--user", default="einstein", help="CS3 user (default: einstein)")
    parser.add_argument("--tls", action="store_true", help="use TLS to the gateway")
    parser.add_argument("--json", action="store_true", help="print one JSON object on standard output")
    parser.add_argument("--password-fd", type=int, default=None, help=argparse.SUPPRESS)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="mesh-zenodo")
    commands = top.add_subparsers(dest="command", required=True)
    publish = commands.add_parser("publish", help="publish a folder of the storage to Zenodo")
    publish.add_argument("path", metavar="CS3_PATH", help="a folder: absolute (/home/paper) or relative to the home")
    publish.add_argument("--metadata", metavar="FILE", help=".zenodo.json, codemeta.json or CITATION.cff")
    publish.add_argument("--publish", action="store_true", help="publish (default: leave a draft)")
    publish.add_argument("--new-version", action="store_true", help="a new version of the folder's last record")
    publish.add_argument("--include-hidden", action="store_true", help="also hidden files and .ipynb_checkpoints")
    publish.add_argument("--cite-doi", action="store_true", help="write the DOI into CITATION.cff and README first")
    _common(publish)
    pull = commands.add_parser("pull", help="pull a Zenodo record's files into a folder of the storage")
    pull.add_argument("record", metavar="RECORD", help="the record's id")
    pull.add_argument("--into", metavar="CS3_PATH", default="", help="the folder (default: the home)")
    _common(pull)
    return top


def _say(args: argparse.Namespace, text: str) -> None:
    print(f"mesh-zenodo: {text}", file=sys.stderr, flush=True)


def _base_url(args: argparse.Namespace) -> str:
    if args.sandbox:
        return SANDBOX
    try:
        return normalize_base_url(args.zenodo_url or PRODUCTION)
    except ValueError as err:
        raise Refused(f"--zenodo-url: {err}") from None


def _token(args: argparse.Namespace) -> str | None:
    if args.token_file:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").strip()
        except OSError as err:
            raise Refused(f"--token-file: cannot read {args.token_file}: {err.strerror}") from None
        if not token:
            raise Refused(f"--token-file: {args.token_file} is empty")
        return token
    token = os.environ.pop(TOKEN_ENV, "").strip()
    return token or None


def _metadata_file(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise Refused(f"--metadata: cannot read {path}: {err.strerror}") from None
    name = Path(path).name.lower()
    kind = "CITATION.cff" if name.endswith(".cff") else "codemeta.json" if "codemeta" in name else ".zenodo.json"
    meta, _ = md.prefill({kind: text})
    return meta


def _cs3_path(home: str, path: str) -> str:
    return posixpath.normpath(path if path.startswith("/") else posixpath.join(home, path))


async def _zenodo(args: argparse.Namespace, cs3: CS3Client) -> ZenodoClient:
    base_url = _base_url(args)
    token = _token(args)
    if token is not None:
        client = ZenodoClient(token=token, base_url=base_url)
        return client
    connection = ZenodoConnection(cs3_account=f"{cs3.gateway}/{cs3.username}")
    connection.load_remembered()
    if connection.signed_in and connection.base_url == base_url:
        return connection.client()
    raise Refused(
        f"no Zenodo token for {base_url}: use --token-file FILE or ${TOKEN_ENV}, or sign in to it in Lab with "
        "'remember me'"
    )


async def _follow(job, args: argparse.Namespace) -> None:
    """Progress on standard error until the job ends."""
    last = None
    while job.running:
        p = job.progress
        line = f"{p['items_done']}/{p['items_total']} files, {p['bytes_done'] >> 20}/{p['bytes_total'] >> 20} MiB"
        if line != last:
            _say(args, line)
            last = line
        await asyncio.sleep(1.0)
    await asyncio.sleep(0)


async def _publish(args: argparse.Namespace, cs3: CS3Client) -> dict[str, Any]:
    home = await cs3.get_home()
    folder = _cs3_path(home, args.path)
    display = folder[len(home):].strip("/") if folder.startswith(home.rstrip("/") + "/") else folder.strip("/")
    zenodo = await _zenodo(args, cs3)
    try:
        service = PublishService(jobs=JobRegistry())
        if args.metadata:
            meta = _metadata_file(args.metadata)
        else:
            prepared = await service.prepare(cs3, folder)
            meta = prepared["prefill"]
            if not meta:
                raise Refused(f"{folder} has no .zenodo.json, CITATION.cff or codemeta.json: give --metadata FILE")
            _say(args, f"metadata from {prepared['prefill_source']}")
        request = PublishRequest(
            folder=folder, display=display, metadata=meta, publish=args.publish, new_version=args.new_version,
            cite_doi=args.cite_doi, include_hidden=args.include_hidden,
        )
        job = await service.start(zenodo, cs3, request)
        await _follow(job, args)
        await service.jobs.close()
        if job.state == FAILED:
            raise _job_error(job)
        return job.result or {}
    finally:
        await zenodo.close()


async def _pull(args: argparse.Namespace, cs3: CS3Client) -> dict[str, Any]:
    home = await cs3.get_home()
    folder = _cs3_path(home, args.into or home)
    zenodo = await _zenodo(args, cs3) if (args.token_file or os.environ.get(TOKEN_ENV)) else ZenodoClient(
        base_url=_base_url(args)
    )
    try:
        service = PullService(jobs=JobRegistry())
        job = await service.start(zenodo, cs3, str(args.record), None, folder=folder, display=folder,
                                  on_conflict="rename")
        await _follow(job, args)
        if job.state == FAILED:
            raise _job_error(job)
        return job.result or {}
    finally:
        await zenodo.close()


def _job_error(job) -> Exception:
    error = job.error or {}
    reason, message = error.get("reason", ""), error.get("message", "failed")
    problems = [f"{e.get('field') or 'metadata'}: {'; '.join(e.get('messages') or [])}" for e in error.get("errors") or []]
    if reason in ("MetadataInvalid", "InvalidRequest", "AlreadyPublished", "SnapshotChanged"):
        return Refused(message, *problems)
    if hasattr(zenodo_errors, reason):
        return getattr(zenodo_errors, reason)(message, errors=error.get("errors"))
    if hasattr(cs3_errors, reason):
        return getattr(cs3_errors, reason)(message)
    return zenodo_errors.ServerError(message)


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    embedded = args.gateway is None
    storage = None
    if embedded:
        storage = _start_embedded_storage(Path(jupyter_data_dir()) / "mesh-zenodo" / "storage", DEFAULT_GRPC, DEFAULT_HTTP)
    gateway = args.gateway or DEFAULT_GRPC
    try:
        _check_user(gateway, args.user, args.tls, embedded)
        password = os.environ.pop(PASSWORD_ENV, "") or _password(args, embedded)

        async def run() -> dict[str, Any]:
            cs3 = CS3Client(gateway=gateway, username=args.user, password=password, tls=args.tls)
            try:
                if args.command == "publish":
                    return await _publish(args, cs3)
                return await _pull(args, cs3)
            finally:
                await cs3.close()

        result = asyncio.run(run())
    except Refused as err:
        for problem in err.problems:
            _say(args, problem)
        return EXIT_INPUT
    except md.MetadataInvalid as err:
        for e in err.errors:
            _say(args, f"{e.field or 'metadata'}: {e.message}")
        return EXIT_INPUT
    except AlreadyPublished as err:
        _say(args, err.message)
        _say(args, "to publish this folder's new state as a new version of that record, add --new-version")
        return EXIT_INPUT
    except ServiceError as err:
        _say(args, err.message)
        return EXIT_INPUT
    except zenodo_errors.ZenodoError as err:
        _say(args, f"Zenodo refused: {err.message}")
        for e in err.errors:
            _say(args, f"  {e.get('field') or ''}: {'; '.join(e.get('messages') or [])}")
        return EXIT_ZENODO
    except cs3_errors.CS3Error as err:
        _say(args, f"storage error: {err}")
        return EXIT_STORAGE
    finally:
        if storage is not None:
            _stop_embedded_storage(storage, DEFAULT_GRPC)
    if args.command == "publish":
        out = {k: result.get(k) for k in ("record_id", "doi", "concept_doi", "url", "state", "files")}
        if args.json:
            print(json.dumps(out))
        else:
            print(f"{out['state']}: {out.get('doi') or '(no DOI)'}  {out.get('url') or ''}")
    elif args.json:
        print(json.dumps(result))
    else:
        print(f"pulled record {result.get('record_id')} into {result.get('destination')}")
    return EXIT_OK
