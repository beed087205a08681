"""Store stage: SQLAlchemy 2 + Alembic; SQLite (WAL) by default, PostgreSQL by URL."""

from assay.store.db import Store, default_url, masked
from assay.store.lease import RunLease
from assay.store.writer import ResultWriter

__all__ = ["ResultWriter", "RunLease", "Store", "default_url", "masked"]
