"""Process-wide locks shared across stages."""

from __future__ import annotations

import threading

#: held around every synchronous grader call made off the event loop (the graders' grading
#: thread, the store writer's thread, an adaptive attack's success test): graders keep one
#: caller at a time, so none needs to be thread-safe
GRADING_LOCK = threading.RLock()
