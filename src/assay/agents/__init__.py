"""Tool-using targets: a sandbox of simulated tools and a small agent harness.

`agent:<target spec>` (e.g. `agent:local:smollm2`, `agent:openai:qwen-plus`,
`agent:python:my_agent:step`) runs the inner target as an agent over the case's
simulated environment (`Case.metadata["agent"]`, see `assay.agents.sandbox`). Every tool
call is carried out in the sandbox, which has no real side effects, and recorded, in
order, into `Response.actions`, so graders judge what the agent *did*.
"""

from __future__ import annotations

from assay.agents.sandbox import TOOLS, Sandbox, ToolSpec, tool_ids

__all__ = ["TOOLS", "Sandbox", "ToolSpec", "tool_ids"]
