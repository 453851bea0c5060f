"""The stand-in's command line: ``mesh-zenodo zenodo-standin`` (or
``python -m mesh_zenodo.standin``) parses its options, fills a store with the seed data,
and serves until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import signal
import sys
import tempfile

from aiohttp import web

from mesh_zenodo.zenodo.vocabulary import MAX_FILES_PER_RECORD, RATE_LIMITS_PER_MINUTE

from .app import AccessLogger, StandIn
from .faults import RATE_LIMITS_PER_HOUR, RateLimiter
from .model import DEFAULT_TOKENS, FULL_SCOPES, SANDBOX_DOI_PREFIX, Store
from .seed import add_big_record, seed

log = logging.getLogger("mesh_zenodo.standin")


def _parse_token(value: str) -> tuple[str, str]:
    name, sep, token = value.partition("=")
    if not sep or not name or not token:
        raise argparse.ArgumentTypeError("expected NAME=VALUE")
    return name, token


def _parse_big(value: str) -> tuple[int, float]:
    try:
        n, size = value.split(":")
        return int(n), float(size)
    except ValueError:
        raise argparse.ArgumentTypeError("expected N_FILES:SIZE_MIB, e.g. 20:50") from None


def _parse_limits(value: str) -> tuple[int, int, int]:
    try:
        parts = [int(p) for p in value.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("expected GUEST,AUTHENTICATED[,SEARCH] requests per minute") from None
    if len(parts) == 2:
        parts.append(RATE_LIMITS_PER_MINUTE[2])  # the search limit
    if len(parts) != 3:
        raise argparse.ArgumentTypeError("expected GUEST,AUTHENTICATED[,SEARCH] requests per minute")
    return parts[0], parts[1], parts[2]


def _parse_hourly(value: str) -> dict[str, int | None]:
    if value.strip().lower() == "off":
        return {"guest": None, "authenticated": None, "search": None}
    try:
        parts = [int(p) for p in value.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("expected GUEST,AUTHENTICATED[,SEARCH] requests per hour, or off") from None
    if len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError("expected GUEST,AUTHENTICATED[,SEARCH] requests per hour, or off")
    return {"guest": parts[0], "authenticated": parts[1], "search": parts[2] if len(parts) == 3 else None}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mesh-zenodo zenodo-standin",
        description="A local Zenodo for tests and offline demos (records, communities, files, deposit API, "
        "rate limits, fault injection under /_standin/).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5080, help="port (default: 5080; 0 picks a free one)")
    parser.add_argument("--data", metavar="DIR", help="folder for uploaded files (default: a temporary folder)")
    parser.add_argument(
        "--token", action="append", type=_parse_token, default=[], metavar="NAME=VALUE",
        help="add an access token with the deposit:write and deposit:actions scopes for user NAME",
    )
    parser.add_argument(
        "--readonly-token", action="append", type=_parse_token, default=[], metavar="NAME=VALUE",
        help="add an access token without deposit scopes for user NAME",
    )
    parser.add_argument("--no-default-tokens", action="store_true", help="do not accept the built-in demo tokens")
    parser.add_argument(
        "--big-record", action="append", type=_parse_big, default=[], metavar="N_FILES:SIZE_MIB",
        help="add a record of N generated files of SIZE_MIB each (repeatable)",
    )
    parser.add_argument(
        "--rate-limit", type=_parse_limits, default=None, metavar="GUEST,AUTH[,SEARCH]",
        help=f"requests per minute before 429 (default: {','.join(map(str, RATE_LIMITS_PER_MINUTE))}, as documented "
        "by Zenodo)",
    )
    parser.add_argument(
        "--rate-limit-hour", type=_parse_hourly, default=None, metavar="GUEST,AUTH[,SEARCH]|off",
        help="requests per hour before 429 (default: 2000,5000 as documented by Zenodo; off when --rate-limit is "
        "given without it)",
    )
    parser.add_argument(
        "--sandbox", action="store_true", help="mint DOIs as sandbox.zenodo.org does (10.5072/zenodo.<id>)"
    )
    parser.add_argument(
        "--max-files", type=int, default=MAX_FILES_PER_RECORD,
        help=f"files per deposition (default: {MAX_FILES_PER_RECORD})",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request (without tokens)")
    return parser


async def serve(args: argparse.Namespace) -> None:
    data = args.data or tempfile.mkdtemp(prefix="zenodo-standin-")
    store = Store(data, max_files=args.max_files)
    if args.sandbox:
        store.doi_prefix = SANDBOX_DOI_PREFIX
        store.remember_settings()
    if not args.no_default_tokens:
        for value, (uid, name, scopes) in DEFAULT_TOKENS.items():
            store.add_token(value, uid, name, scopes)
    next_uid = 100
    for name, value in args.token:
        next_uid += 1
        store.add_token(value, next_uid, name, FULL_SCOPES)
    for name, value in args.readonly_token:
        next_uid += 1
        store.add_token(value, next_uid, name, ())
    seed(store)
    for n_files, size_mib in args.big_record:
        add_big_record(store, n_files, size_mib)
    pending = [
        f.content for r in store.records.values() for f in r.files if getattr(f.content, "md5", "x") is None
    ]
    if pending:
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(None, c.compute_md5) for c in pending))
    hourly = args.rate_limit_hour
    if hourly is None:
        hourly = dict(RATE_LIMITS_PER_HOUR) if args.rate_limit is None else {}
    standin = StandIn(store, RateLimiter(*(args.rate_limit or RATE_LIMITS_PER_MINUTE), hourly=hourly))
    app = standin.app()
    runner = web.AppRunner(app, access_log=log if args.access_log else None, access_log_class=AccessLogger)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
    port = sockets[0].getsockname()[1] if sockets else args.port
    host = args.host if ":" not in args.host else f"[{args.host}]"
    print(f"mesh-zenodo zenodo-standin: listening on http://{host}:{port}", flush=True)
    if store.big_records:
        print(f"mesh-zenodo zenodo-standin: big records {' '.join(map(str, store.big_records))}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        if not args.data:
            shutil.rmtree(data, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s zenodo-standin %(message)s")
    # aiohttp logs "Error handling request" when a fault cuts a connection: expected here
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    return 0
