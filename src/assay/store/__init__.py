"""Store stage: SQLAlchemy 2 + Alembic; SQLite (WAL) by default, PostgreSQL by URL."""

from typing import TYPE_CHECKING

from assay._lazy import lazy_exports

if TYPE_CHECKING:
    from assay.store.db import Store, default_url, masked
    from assay.store.lease import RunLease
    from assay.store.reader import RunReader
    from assay.store.writer import ResultWriter

__getattr__ = lazy_exports(__name__, ("db", "lease", "reader", "writer"))


__all__ = ["ResultWriter", "RunLease", "RunReader", "Store", "default_url", "masked"]
