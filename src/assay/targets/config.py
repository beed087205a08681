"""Where a target's endpoint and key come from.

Precedence for `openai:<model>`:
1. the config file (`assay.core.config`: `$ASSAY_HOME/config.toml`, or `$ASSAY_CONFIG`),
   table `[targets.<model>]` or `[targets.default]` with `base_url`, `api_key_env`,
   `timeout_s`, `extra_body`; the file names the *variable* that holds the key, never the key;
2. the environment: `ASSAY_OPENAI_BASE_URL` / `OPENAI_BASE_URL`, and
   `ASSAY_OPENAI_API_KEY` / `OPENAI_API_KEY`.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assay.core.config import config_path, target_entry
from assay.core.errors import InputError

__all__ = ["TargetConfig"]


class TargetConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str
    api_key: str | None = Field(default=None, repr=False, exclude=True)
    timeout_s: float = 120.0
    extra_body: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def for_openai(cls, model: str) -> TargetConfig:
        entry = target_entry(model)
        base_url = (
            (entry.base_url if entry else None)
            or os.environ.get("ASSAY_OPENAI_BASE_URL")
            or os.environ.get("OPENAI_BASE_URL")
        )
        if not base_url:
            raise InputError(
                "no endpoint for openai targets: set ASSAY_OPENAI_BASE_URL (e.g. http://127.0.0.1:8000/v1) "
                f"or add [targets.{model}] base_url to {config_path()}",
                where=f"openai:{model}",
            )
        key_names = (
            [entry.api_key_env] if entry and entry.api_key_env else ["ASSAY_OPENAI_API_KEY", "OPENAI_API_KEY"]
        )
        api_key = next((os.environ[n] for n in key_names if os.environ.get(n)), None)
        return cls(
            base_url=base_url,
            api_key=api_key,
            timeout_s=entry.timeout_s if entry else float(os.environ.get("ASSAY_REQUEST_TIMEOUT", "120")),
            extra_body=dict(entry.extra_body) if entry else {},
        )
