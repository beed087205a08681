"""`assay view`: a local web dashboard over the store (runs, cases, compare, live runs,
human review). Needs the `view` extra (FastAPI, uvicorn).

`create_app(db)` returns the ASGI app; `assay.api.view_app(db=...)` is the same call.
`assay.view.reviews` (labels, agreement, export, the §9.3 spot check) needs no web stack.
"""

from __future__ import annotations

from typing import Any


def create_app(db: Any = None, **options: Any) -> Any:
    """The dashboard's ASGI app (see `assay.view.app.create_app`)."""
    try:
        from assay.view.app import create_app as _create
    except ModuleNotFoundError as exc:
        if exc.name in ("fastapi", "starlette", "uvicorn", "multipart", "python_multipart"):
            from assay.core.errors import InputError

            raise InputError(
                f"`assay view` needs the view extra ({exc.name} is missing): pip install 'assay[view]'",
                where="assay view",
            ) from exc
        raise
    return _create(db, **options)
