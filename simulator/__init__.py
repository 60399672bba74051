"""A local, stateful simulator of the AvidXchange partner API, for tests and demos.

Standard library only, so it runs without Odoo: ``python -m simulator`` from the module root.
"""

from .server import AvidSimulator

__all__ = ["AvidSimulator"]
