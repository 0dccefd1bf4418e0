"""Channel and layout icons as inline SVG (24×24, stroke drawn; bundled, nothing fetched).

Drawn in the style of the Feather icon set: round caps, 2 px strokes, ``currentColor``
so the surrounding text colour applies.
"""

from __future__ import annotations

import hashlib

from markupsafe import Markup

_PATHS: dict[str, str] = {
    "web": '<circle cx="12" cy="12" r="10"/><path d="M2 12h20"/>'
           '<path d="M12 2a15 15 0 0 1 4 10 15 15 0 0 1-4 10 15 15 0 0 1-4-10 15 15 0 0 1 4-10z"/>',
    "email": '<rect x="2" y="4" width="20" height="16" rx="2"/><path d="M22 6l-10 7L2 6"/>',
    "app": '<rect x="5" y="2" width="14" height="20" rx="2"/><path d="M11 18h2"/>',
    "sales": '<rect x="2" y="7" width="20" height="14" rx="2"/><path d="M16 21V5a2 2 0 0 0-2-2h-4a2 2 0 0 0-2 2v16"/>',
    "support": '<path d="M3 18v-6a9 9 0 0 1 18 0v6"/><path d="M21 19a2 2 0 0 1-2 2h-1a2 2 0 0 1-2-2v-3a2 2 0 0 1 '
               '2-2h3zM3 19a2 2 0 0 0 2 2h1a2 2 0 0 0 2-2v-3a2 2 0 0 0-2-2H3z"/>',
    "social": '<circle cx="18" cy="5" r="3"/><circle cx="6" cy="12" r="3"/><circle cx="18" cy="19" r="3"/>'
              '<path d="M8.6 13.5l6.8 4M15.4 6.5l-6.8 4"/>',
    "in_person": '<path d="M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2"/><circle cx="9" cy="7" r="4"/>'
                 '<path d="M23 21v-2a4 4 0 0 0-3-3.9M16 3.1a4 4 0 0 1 0 7.8"/>',
    "store": '<path d="M6 2L3 6v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V6l-3-4z"/><path d="M3 6h18M16 10a4 4 0 0 1-8 0"/>',
    "webinar": '<path d="M23 7l-7 5 7 5V7z"/><rect x="1" y="5" width="15" height="14" rx="2"/>',
    "phone": '<path d="M5 3h4l2 5-2.5 1.5a11 11 0 0 0 6 6L16 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 5a2 2 0 0 1 2-2z"/>',
    "chat": '<path d="M21 11.5a8.4 8.4 0 0 1-9 8.5 8.4 8.4 0 0 1-3.8-.9L3 21l1.9-5.7A8.4 8.4 0 0 1 12 3a8.5 8.5 0 0 1 9 8.5z"/>',
    "partner": '<path d="M10 13a5 5 0 0 0 7.5.5l3-3a5 5 0 0 0-7-7l-1.8 1.7"/>'
               '<path d="M14 11a5 5 0 0 0-7.5-.5l-3 3a5 5 0 0 0 7 7l1.7-1.7"/>',
    "sms": '<path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/>',
    "ads": '<path d="M3 10v4h4l8 5V5L7 10H3z"/><path d="M19 8a5 5 0 0 1 0 8"/>',
    "parking": '<rect x="3" y="3" width="18" height="18" rx="3"/><path d="M9 17V7h4a3 3 0 0 1 0 6H9"/>',
    "kiosk": '<rect x="4" y="2" width="16" height="12" rx="2"/><path d="M8 22h8M12 14v8"/>',
    "pin": '<path d="M21 10c0 7-9 13-9 13s-9-6-9-13a9 9 0 0 1 18 0z"/><circle cx="12" cy="10" r="3"/>',
    "sunrise": '<path d="M17 18a5 5 0 0 0-10 0M12 2v7M4.2 10.2l1.4 1.4M1 18h2M21 18h2M18.4 11.6l1.4-1.4M23 22H1"/>',
    "sun": '<circle cx="12" cy="12" r="5"/><path d="M12 1v2M12 21v2M4.2 4.2l1.4 1.4M18.4 18.4l1.4 1.4M1 12h2'
           'M21 12h2M4.2 19.8l1.4-1.4M18.4 5.6l1.4-1.4"/>',
    "moon": '<path d="M21 12.8A9 9 0 1 1 11.2 3 7 7 0 0 0 21 12.8z"/>',
    "step": '<circle cx="12" cy="12" r="10"/><path d="M10 8l4 4-4 4"/>',
    "other": '<circle cx="12" cy="12" r="9"/><circle cx="12" cy="12" r="2"/>',
}
_ALIASES = {
    "website": "web", "online": "web", "seo": "web", "search": "web", "e-mail": "email", "newsletter": "email",
    "mobile": "app", "in_app": "app", "mobile_app": "app", "product": "app", "call": "phone",
    "call_center": "phone", "telephone": "phone", "helpdesk": "support", "ticket": "support",
    "livechat": "chat", "live_chat": "chat", "bot": "chat", "person": "in_person", "in-person": "in_person",
    "event": "in_person", "field": "in_person", "shop": "store", "retail": "store", "pos": "store",
    "checkout": "store", "video": "webinar", "meeting": "webinar", "reseller": "partner",
    "text": "sms", "whatsapp": "sms", "advertising": "ads", "paid": "ads", "display": "ads",
    "car_park": "parking", "self_service": "kiosk", "terminal": "kiosk",
}
CHANNEL_COLORS = {
    "web": "#2b6cb0", "email": "#6b46c1", "app": "#2f855a", "sales": "#975a16", "support": "#c05621",
    "social": "#b83280", "in_person": "#2c7a7b", "store": "#2c7a7b", "webinar": "#4c51bf",
    "phone": "#9c4221", "chat": "#c05621", "partner": "#4a5568", "sms": "#718096", "ads": "#c05621",
    "parking": "#4a5568", "kiosk": "#2c7a7b",
}
_FALLBACK_COLORS = ("#4a5568", "#2b6cb0", "#276749", "#975a16", "#702459", "#285e61")


def icon_key(channel: str) -> str:
    key = channel.strip().lower().replace(" ", "_")
    key = _ALIASES.get(key, key)
    return key if key in _PATHS else "other"


def channel_color(channel: str) -> str:
    key = icon_key(channel)
    if key in CHANNEL_COLORS:
        return CHANNEL_COLORS[key]
    digest = int(hashlib.sha1(channel.encode()).hexdigest(), 16)
    return _FALLBACK_COLORS[digest % len(_FALLBACK_COLORS)]


def icon(name: str, size: int = 16, title: str | None = None) -> Markup:
    """An inline ``<svg>`` of the icon ``name`` (a channel, alias or layout icon)."""
    key = name if name in _PATHS else icon_key(name)
    label = f"<title>{Markup.escape(title)}</title>" if title else ""
    return Markup(
        f'<svg class="icon" width="{size}" height="{size}" viewBox="0 0 24 24" fill="none" '
        f'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" '
        f'aria-hidden="{"false" if title else "true"}">{label}{_PATHS[key]}</svg>'
    )


def time_icon(time: str | None, index: int, count: int) -> str:
    """sunrise / sun / moon for a day-in-the-life stage, from its start hour or position."""
    hour = None
    if time and time[:2].isdigit():
        hour = int(time[:2])
    if hour is None:
        hour = int(6 + 16 * index / max(count - 1, 1))
    if hour < 11:
        return "sunrise"
    if hour < 17:
        return "sun"
    return "moon"
