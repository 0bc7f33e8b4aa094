"""Tables for workflows (issue 6): saved workflow definitions, runs and their steps."""

from __future__ import annotations
