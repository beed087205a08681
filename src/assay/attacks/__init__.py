"""Adaptive attacks run by the engine (PAIR, TAP, crescendo with backtracking).

The transforms in `assay.transforms.adaptive` mark a case; `run_adaptive` plays the
attack against the target during the run. `builtin.templates` is the offline default
attacker (no model).
"""
