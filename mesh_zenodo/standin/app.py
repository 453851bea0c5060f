"""The stand-in application: one :class:`~.model.Store` served by the records routes,
the deposit routes and the test control, behind the control's middleware."""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from .deposit_api import DepositAPI
from .drafts_api import DraftsAPI
from .faults import Control, RateLimiter
from .model import Store
from .records_api import RecordsAPI


class StandIn:
    def __init__(self, store: Store, limiter: RateLimiter) -> None:
        self.store = store
        self.control = Control(store, limiter)
        self.records_api = RecordsAPI(store)
        self.deposit_api = DepositAPI(store)
        self.drafts_api = DraftsAPI(store)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.control.middleware], client_max_size=1 << 20)
        app.on_response_prepare.append(self.control.on_prepare)
        for routes in (self.records_api, self.drafts_api, self.deposit_api, self.control):
            routes.add_routes(app.router)
        return app


class AccessLogger(AbstractAccessLogger):
    """Method, path (no query string: it could hold ``access_token``), status, size, time."""

    def log(self, request, response, time):  # noqa: A002
        self.logger.info(
            "%s %s %s %s %.3fs", request.method, request.path, response.status, response.body_length, time
        )
