"""A tiny workspace whose numbers can be computed by hand."""

from __future__ import annotations

from pathlib import Path

from journeymap.workspace import Workspace

MAP = """\
id: tiny
title: Tiny shop
goal:
  statement: Sell more
  kpi: {metric: conversion, baseline: 0.3, target: 0.5, deadline: 2027-01-31}
  event: buy
persona:
  name: Anyone
scenario: Buys online.
stages:
  - id: aware
    name: Awareness
    touchpoints:
      - {id: ad, name: Ad, channel: paid, match: {event: ad_click}}
      - {id: mail, name: Newsletter, channel: email, match: {event: mail_open}}
  - id: buy
    name: Purchase
    touchpoints:
      - {id: shop, name: Shop, channel: web, match: {event_in: [view, buy]}}
"""

EVENTS = """\
customer_id,timestamp,event,channel
A,2026-01-01T00:00:00Z,ad_click,paid
A,2026-01-02T00:00:00Z,mail_open,email
A,2026-01-03T00:00:00Z,view,web
A,2026-01-03T12:00:00Z,buy,web
B,2026-01-01T00:00:00Z,mail_open,email
B,2026-01-02T00:00:00Z,mail_open,email
B,2026-01-08T00:00:00Z,buy,web
C,2026-01-01T00:00:00Z,ad_click,paid
C,2026-01-05T00:00:00Z,view,web
D,2026-01-01T00:00:00Z,mail_open,email
"""

CUSTOMERS = "customer_id,segment\nA,SME\nB,SME\nC,Enterprise\nD,Enterprise\n"

# csat: shop 5,4,2 (via the touchpoint column, and one via its event); ces on ad: 2, 6
# nps (relationship, no touchpoint, no event): A 10, B 9, C 3, D 7
FEEDBACK = """\
customer_id,timestamp,metric,score,touchpoint,event
A,2026-01-04T00:00:00Z,csat,5,shop,
B,2026-01-09T00:00:00Z,csat,4,,buy
C,2026-02-06T00:00:00Z,csat,2,shop,view
A,2026-01-02T00:00:00Z,ces,2,,ad_click
C,2026-01-02T00:00:00Z,ces,6,ad,
A,2026-02-01T00:00:00Z,nps,10,,
B,2026-02-01T00:00:00Z,nps,9,,
C,2026-02-01T00:00:00Z,nps,3,,
D,2026-02-01T00:00:00Z,nps,7,,
D,2026-02-01T00:00:00Z,csat,1,other_map_touchpoint,
"""


def tiny_workspace(root: Path) -> Workspace:
    ws = Workspace.create(root)
    data = {"events": EVENTS, "customers": CUSTOMERS, "feedback": FEEDBACK}
    for kind, text in data.items():
        path = root / f"{kind}.csv"
        path.write_text(text)
        ws.ingest(kind, [path])
    (ws.maps_dir / "tiny.yaml").write_text(MAP)
    return ws
