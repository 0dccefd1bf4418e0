"""What a number means: feedback KPIs, CLV, attribution and goal tracking.

Each ``*_section(con, jmap)`` takes an Ibis backend and a map and returns the
JSON-ready dict of one ``analyze --json`` key: ``feedback``, ``clv``, ``attribution``,
``goal`` (see docs/metrics.md).
"""

from journeymap.metrics.attribution import attribution_section
from journeymap.metrics.clv import clv_section
from journeymap.metrics.feedback import feedback_section
from journeymap.metrics.goal import goal_section

__all__ = ["attribution_section", "clv_section", "feedback_section", "goal_section"]
