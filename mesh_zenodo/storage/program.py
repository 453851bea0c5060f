"""The storage program: :func:`serve` (a coroutine: start-up, serving until stopped,
shutdown) and :func:`main` (the command line, ``mesh-zenodo storage`` /
``python -m mesh_zenodo.storage``). The gRPC service itself is :mod:`.server`, the HTTP
data gateway :mod:`.datagateway`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import ssl
import sys
from pathlib import Path

import grpc
import tornado.httpserver
import tornado.netutil
from cs3.gateway.v1beta1 import gateway_api_pb2_grpc as gw_grpc
from cs3.storage.provider.v1beta1 import provider_api_pb2_grpc as sp_grpc

from . import datagateway
from .auth import ConfigError, TokenManager, UserDirectory, load_or_create_secret
from .decimals import parse_decimal
from .errors import InvalidArgument
from .journal import FAULTS
from .oidc import BearerVerifier
from .server import GatewayService, ProviderGrants, purge_now
from .store import Store
from .worker import blocking

log = logging.getLogger("mesh_zenodo.storage")

DEFAULT_GRPC = "127.0.0.1:19000"
DEFAULT_HTTP = "127.0.0.1:19001"
#: seconds between the interpreter's GIL hand-overs in the storage program
GIL_SWITCH_INTERVAL = 0.0005
#: seconds an upload may send nothing before the data gateway drops it
DEFAULT_TRANSFER_IDLE_TIMEOUT = 600.0


class StartupError(Exception):
    """The server could not start (e.g. a port is taken)."""


def parse_address(value: str, what: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    try:
        number = parse_decimal(port, "port", max_value=65535) if sep and host else None
    except InvalidArgument:
        number = None
    if number is None:
        raise ConfigError(f"{what} address must be HOST:PORT, not {value!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, number


def format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def serve(
    root: str | Path,
    grpc_addr: str = DEFAULT_GRPC,
    http_addr: str = DEFAULT_HTTP,
    users_file: str | Path | None = None,
    *,
    groups_file: str | Path | None = None,
    token_lifetime: int = 3600,
    quota: int | None = None,
    max_versions: int = 50,
    data_url: str | None = None,
    stop_event: asyncio.Event | None = None,
    install_signal_handlers: bool = True,
    transfer_idle_timeout: float = DEFAULT_TRANSFER_IDLE_TIMEOUT,
    fault: str | None = None,
    bearer: BearerVerifier | None = None,
    tls_cert: str | None = None,
    tls_key: str | None = None,
) -> None:
    """Run the storage until ``stop_event`` is set (or SIGTERM/SIGINT arrives).
    ``bearer`` accepts OIDC bearer tokens at Authenticate; ``tls_cert`` and ``tls_key``
    (PEM files) serve gRPC and the data gateway over TLS.

    Raises :class:`~.auth.ConfigError` for a bad configuration and
    :class:`StartupError` when a port cannot be bound.
    """
    users = UserDirectory.from_file(users_file, groups_file) if users_file or groups_file else UserDirectory()
    grpc_host, grpc_port = parse_address(grpc_addr, "gRPC")
    http_host, http_port = parse_address(http_addr, "HTTP")
    if token_lifetime <= 0:
        raise ConfigError("token lifetime must be positive")
    if transfer_idle_timeout <= 0:
        raise ConfigError("the transfer idle timeout must be positive")
    if fault is not None and fault not in FAULTS:
        raise ConfigError(f"unknown fault {fault!r} (known: {', '.join(FAULTS)})")
    if bool(tls_cert) != bool(tls_key):
        raise ConfigError("TLS needs both --tls-cert and --tls-key")
    try:
        tls = (Path(tls_cert).read_bytes(), Path(tls_key).read_bytes()) if tls_cert else None
        http_tls = None
        if tls_cert:
            http_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            http_tls.load_cert_chain(tls_cert, tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot use the TLS certificate and key: {exc}") from None
    try:
        store = await blocking(Store, Path(root), users, quota=quota, max_versions=max_versions, fault=fault)
    except OSError as exc:
        raise ConfigError(f"cannot use storage root {str(root)!r}: {exc.strerror or exc}") from None
    except Exception as exc:  # sqlite3.DatabaseError and friends
        raise ConfigError(f"cannot open the storage database in {str(root)!r}: {exc}") from None
    loop = asyncio.get_running_loop()
    stop = stop_event or asyncio.Event()
    grpc_server = None
    http_server = None
    gateway = None
    cleaner = None
    handled: list[int] = []
    try:
        tokens = TokenManager(await blocking(load_or_create_secret, store.meta_dir / "jwt-secret"), users, token_lifetime)

        def startup() -> None:
            # what a crash left half-way is undone or purged before anything is served
            store.journal.reconcile()
            store.transfers.cleanup(startup=True)

        await store.run(startup)
        await purge_now(store)

        # bind both ports before announcing anything
        try:
            sockets = tornado.netutil.bind_sockets(http_port, http_host)
        except OSError as exc:
            raise StartupError(f"cannot listen on {http_addr} (HTTP): {exc.strerror or exc}") from None
        http_port = sockets[0].getsockname()[1]
        advertised_host = http_host if http_host not in ("", "0.0.0.0", "::") else "127.0.0.1"
        scheme = "https" if tls else "http"
        public = (data_url or f"{scheme}://{format_address(advertised_host, http_port)}").rstrip("/")

        grpc_server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        gateway_service = GatewayService(store, tokens, public, bearer)
        gw_grpc.add_GatewayAPIServicer_to_server(gateway_service, grpc_server)
        # the storage provider's grant RPCs (members of project spaces), on the same port
        sp_grpc.add_ProviderAPIServicer_to_server(ProviderGrants(gateway_service), grpc_server)
        try:
            if tls:
                credentials = grpc.ssl_server_credentials([(tls[1], tls[0])])
                bound = grpc_server.add_secure_port(format_address(grpc_host, grpc_port), credentials)
            else:
                bound = grpc_server.add_insecure_port(format_address(grpc_host, grpc_port))
        except RuntimeError:
            bound = 0
        if not bound:
            for sock in sockets:
                sock.close()
            raise StartupError(f"cannot listen on {grpc_addr} (gRPC): address in use or not available")
        grpc_port = bound

        app = datagateway.make_app(store, tokens, idle_timeout=transfer_idle_timeout)
        gateway = datagateway.state_of(app)
        http_server = tornado.httpserver.HTTPServer(
            app, max_body_size=1 << 62, max_buffer_size=4 * 1024 * 1024, chunk_size=1 << 20, idle_connection_timeout=3600,
            ssl_options=http_tls,
        )
        http_server.add_sockets(sockets)
        await grpc_server.start()

        if install_signal_handlers:
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, stop.set)
                    handled.append(sig)

        async def periodic_cleanup() -> None:
            while True:
                await asyncio.sleep(300)
                try:
                    await store.run(store.transfers.cleanup)
                    await purge_now(store)
                except Exception:
                    log.exception("periodic cleanup failed")

        cleaner = asyncio.create_task(periodic_cleanup())
        print(
            f"mesh-zenodo storage: gRPC on {format_address(grpc_host, grpc_port)}, "
            f"data gateway on {public}, root {store.root}",
            file=sys.stderr,
            flush=True,
        )
        await stop.wait()
        log.info("mesh-zenodo storage: shutting down")
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
        if cleaner is not None:
            cleaner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await cleaner
        if http_server is not None:
            http_server.stop()
        if grpc_server is not None:
            await grpc_server.stop(grace=2)
        if http_server is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(http_server.close_all_connections(), 5)
        if gateway is not None:
            await gateway.settle(timeout=10)  # the cancelled uploads' clean-ups
        await blocking(store.close)


def _positive_int(value: str) -> int:
    try:
        number = parse_decimal(value, "the value")
    except InvalidArgument:
        raise argparse.ArgumentTypeError(f"not a positive integer: {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {value!r}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mesh-zenodo storage",
        description="Embedded CS3 storage: a GatewayAPI gRPC server and a Reva-style HTTP data gateway "
        "backed by a folder and SQLite.",
    )
    parser.add_argument("--root", required=True, help="storage folder (created if missing)")
    parser.add_argument(
        "--grpc", default=DEFAULT_GRPC, metavar="HOST:PORT", help=f"gRPC gateway address ({DEFAULT_GRPC})"
    )
    parser.add_argument(
        "--http", default=DEFAULT_HTTP, metavar="HOST:PORT", help=f"HTTP data gateway address ({DEFAULT_HTTP})"
    )
    parser.add_argument(
        "--users", metavar="FILE", help="users JSON in Reva's users.demo.json shape (default: Reva's demo users)"
    )
    parser.add_argument(
        "--groups", metavar="FILE", help="groups JSON in Reva's groups.demo.json shape (default: Reva's demo groups)"
    )
    parser.add_argument("--tls-cert", metavar="FILE", help="serve gRPC and the data gateway over TLS: certificate (PEM)")
    parser.add_argument("--tls-key", metavar="FILE", help="the certificate's private key (PEM)")
    parser.add_argument("--oidc-issuer", metavar="URL", help="accept OIDC bearer tokens from this issuer (Reva's 'bearer')")
    parser.add_argument("--oidc-jwks", metavar="FILE", help="the issuer's public keys (a JWKS file)")
    parser.add_argument("--oidc-secret-file", metavar="FILE", help="or its shared secret (HS256), in a file")
    parser.add_argument("--oidc-audience", metavar="AUD", help="the audience the tokens must be for")
    parser.add_argument("--oidc-id-claim", default="sub", metavar="CLAIM",
                        help="the claim naming the user, by id or username (default: sub)")
    parser.add_argument("--token-lifetime", type=_positive_int, default=3600, help=argparse.SUPPRESS)
    parser.add_argument("--quota", type=_positive_int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--max-versions", type=_positive_int, default=50, help=argparse.SUPPRESS)
    parser.add_argument("--data-url", default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--transfer-idle-timeout", type=_positive_int, default=int(DEFAULT_TRANSFER_IDLE_TIMEOUT), help=argparse.SUPPRESS
    )
    parser.add_argument("--fault", choices=FAULTS, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--log-level", default="WARNING", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``mesh-zenodo storage`` / ``python -m mesh_zenodo.storage``; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the problem
        return int(exc.code or 0)
    level = getattr(logging, str(args.log_level).upper(), None)
    if not isinstance(level, int):
        print(f"mesh-zenodo storage: error: unknown log level {args.log_level!r}", file=sys.stderr)
        return 2
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("tornado.access").setLevel(max(level, logging.WARNING))
    # The event loop shares the interpreter with the store's thread (and file workers):
    # hand the GIL over more often than every 5 ms, so that a Stat is not kept waiting
    # behind a batch of a big listing.
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    try:
        bearer = None
        if args.oidc_issuer or args.oidc_jwks or args.oidc_secret_file:
            bearer = BearerVerifier.configure(args.oidc_issuer or "", jwks_file=args.oidc_jwks,
                                              secret_file=args.oidc_secret_file, audience=args.oidc_audience,
                                              id_claim=args.oidc_id_claim)
        asyncio.run(
            serve(
                args.root,
                args.grpc,
                args.http,
                args.users,
                groups_file=args.groups,
                token_lifetime=args.token_lifetime,
                quota=args.quota,
                max_versions=args.max_versions,
                data_url=args.data_url,
                transfer_idle_timeout=args.transfer_idle_timeout,
                fault=args.fault,
                bearer=bearer,
                tls_cert=args.tls_cert,
                tls_key=args.tls_key,
            )
        )
    except ConfigError as exc:
        print(f"mesh-zenodo storage: error: {exc}", file=sys.stderr)
        return 2
    except StartupError as exc:
        print(f"mesh-zenodo storage: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0
