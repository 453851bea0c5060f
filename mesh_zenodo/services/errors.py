"""The errors of the services: requests that cannot be carried out as asked.

CS3 failures stay :class:`~mesh_zenodo.cs3.errors.CS3Error` and Zenodo failures
:class:`~mesh_zenodo.zenodo.errors.ZenodoError`; these are the product's own refusals.
Like those, each class carries the HTTP status a REST caller should see (``http_status``)
as plain data; :mod:`mesh_zenodo.http_errors` is the one place that turns them into
HTTP answers.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A request the service refuses. ``message`` is safe to show to the user."""

    http_status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def details(self) -> dict:
        """More of the answer's JSON body than the message (none by default)."""
        return {}

    def __str__(self) -> str:
        return self.message


class InvalidRequest(ServiceError):
    """The request is malformed or names something that does not fit (a file where a
    folder is needed, a key the record does not have)."""

    http_status = 400


class NotOnCS3(ServiceError):
    """The operation needs Jupyter's files on a CS3 storage, and they are on local disk."""

    http_status = 409


class LocalFailure(ServiceError):
    """The Jupyter server could not do its own part (a file of its own could not be
    written): nothing the user asked for was wrong."""

    http_status = 503
