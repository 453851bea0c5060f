"""The CS3 side: the gRPC + data-gateway client and its error hierarchy."""

from .client import CS3Client
from .errors import CS3Error

__all__ = ["CS3Client", "CS3Error"]
