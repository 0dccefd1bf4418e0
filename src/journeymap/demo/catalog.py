"""Constants of the demo company: Lumetra, a B2B reporting and analytics SaaS.

Everything the generator draws from lives here: the event catalogue (name, default
channel, journey stage), the countries with their time zones and currencies, the
CRM attributes, list prices, and the parameters of the planted effects.  The planted
effect parameters are written verbatim into ``ground_truth.json``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

COMPANY = "Lumetra"

START = dt.datetime(2025, 5, 1, tzinfo=dt.timezone.utc)
END = dt.datetime(2026, 10, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
START_S = int(START.timestamp())
END_S = int(END.timestamp())
DAY = 86_400
HOUR = 3_600
START_WEEKDAY = START.weekday()  # Monday == 0

CHANNELS: tuple[str, ...] = (
    "web", "email", "app", "sales", "support", "social", "in_person", "webinar", "partner",
)

# name -> (default channel, stage).  The order is the causal order used to break ties
# between events of one customer that share a timestamp.
EVENTS: dict[str, tuple[str, str]] = {
    "ad_click": ("web", "awareness"),
    "blog_view": ("web", "awareness"),
    "social_mention": ("social", "awareness"),
    "trade_show_visit": ("in_person", "awareness"),
    "partner_referral": ("partner", "awareness"),
    "newsletter_opened": ("email", "awareness"),
    "pricing_page_view": ("web", "consideration"),
    "case_study_download": ("web", "consideration"),
    "webinar_registered": ("email", "consideration"),
    "webinar_attended": ("webinar", "consideration"),
    "demo_requested": ("web", "consideration"),
    "demo_held": ("sales", "consideration"),
    "trial_started": ("web", "decision"),
    "proposal_sent": ("sales", "decision"),
    "contract_signed": ("sales", "decision"),
    "checkout_completed": ("web", "decision"),
    "account_created": ("app", "onboarding"),
    "welcome_email_opened": ("email", "onboarding"),
    "onboarding_call_held": ("sales", "onboarding"),
    "data_import_started": ("app", "onboarding"),
    "data_import_failed": ("app", "onboarding"),
    "data_import_completed": ("app", "onboarding"),
    "first_report_created": ("app", "onboarding"),
    "team_invited": ("app", "onboarding"),
    "login": ("app", "adoption"),
    "mobile_app_opened": ("app", "adoption"),
    "dashboard_viewed": ("app", "adoption"),
    "report_created": ("app", "adoption"),
    "report_exported": ("app", "adoption"),
    "report_shared": ("app", "adoption"),
    "integration_connected": ("app", "adoption"),
    "alert_configured": ("app", "adoption"),
    "plan_upgraded": ("app", "adoption"),
    "support_ticket_opened": ("support", "adoption"),
    "chat_started": ("support", "adoption"),
    "support_call_held": ("support", "adoption"),
    "support_ticket_resolved": ("support", "adoption"),
    "renewal_reminder_sent": ("email", "renewal"),
    "invoice_paid": ("email", "renewal"),
    "subscription_renewed": ("web", "renewal"),
    "subscription_cancelled": ("web", "renewal"),
}
EVENT_NAMES: tuple[str, ...] = tuple(EVENTS)
EVENT_CODE: dict[str, int] = {name: i for i, name in enumerate(EVENT_NAMES)}
CHANNEL_CODE: dict[str, int] = {name: i for i, name in enumerate(CHANNELS)}

SEGMENTS: tuple[str, ...] = ("Enterprise", "SME")
ENTERPRISE, SME = 0, 1
SEGMENT_SHARE_ENTERPRISE = 0.2

# code, UTC offset in hours (standard time), currency, weight Enterprise, weight SME
COUNTRIES: tuple[tuple[str, float, str, float, float], ...] = (
    ("US", -5.0, "USD", 0.34, 0.24),
    ("CA", -5.0, "USD", 0.04, 0.05),
    ("BR", -3.0, "USD", 0.02, 0.04),
    ("GB", 0.0, "GBP", 0.14, 0.13),
    ("DE", 1.0, "EUR", 0.14, 0.14),
    ("FR", 1.0, "EUR", 0.08, 0.09),
    ("NL", 1.0, "EUR", 0.05, 0.06),
    ("ES", 1.0, "EUR", 0.03, 0.06),
    ("SE", 1.0, "EUR", 0.03, 0.04),
    ("IN", 5.5, "USD", 0.04, 0.07),
    ("JP", 9.0, "USD", 0.04, 0.03),
    ("AU", 10.0, "USD", 0.05, 0.05),
)
INDUSTRIES: tuple[str, ...] = (
    "Retail", "Manufacturing", "Financial services", "Healthcare", "Software",
    "Logistics", "Professional services", "Education", "Media", "Hospitality",
)
ROLES: tuple[str, ...] = (
    "Head of Operations", "Finance Manager", "Data Analyst", "CEO", "Marketing Lead",
    "IT Manager", "Controller", "Sales Operations",
)
ROLE_WEIGHTS: dict[int, tuple[float, ...]] = {
    ENTERPRISE: (0.15, 0.15, 0.25, 0.02, 0.1, 0.18, 0.1, 0.05),
    SME: (0.18, 0.17, 0.1, 0.25, 0.12, 0.05, 0.08, 0.05),
}
# acquisition channel (CRM) named after the first awareness event
AWARENESS_EVENTS: tuple[str, ...] = (
    "ad_click", "blog_view", "social_mention", "trade_show_visit", "partner_referral",
    "newsletter_opened",
)
ACQUISITION: tuple[str, ...] = ("paid_ads", "organic_search", "social", "events", "partner", "email")
AWARENESS_WEIGHTS: dict[int, tuple[float, ...]] = {
    ENTERPRISE: (0.18, 0.24, 0.1, 0.22, 0.12, 0.14),
    SME: (0.36, 0.3, 0.15, 0.03, 0.07, 0.09),
}

PLANS: tuple[str, ...] = ("starter", "pro", "business", "enterprise")
# list price per month by currency and plan
PRICES: dict[str, tuple[float, ...]] = {
    "USD": (49.0, 149.0, 990.0, 3900.0),
    "EUR": (45.0, 139.0, 920.0, 3600.0),
    "GBP": (39.0, 119.0, 790.0, 3100.0),
}
CURRENCIES: tuple[str, ...] = ("USD", "EUR", "GBP")


@dataclass(frozen=True)
class FunnelParams:
    """Probabilities and lags of the pre-sale journey."""

    consider: tuple[float, float] = (0.9, 0.85)  # by segment (Enterprise, SME)
    case_study: tuple[float, float] = (0.5, 0.15)
    webinar_attend: tuple[float, float] = (0.35, 0.08)
    webinar_no_show: float = 0.15
    demo_request: tuple[float, float] = (0.6, 0.15)
    demo_request_webinar: tuple[float, float] = (0.85, 0.3)
    demo_held: float = 0.85
    proposal: float = 0.75
    contract: float = 0.40
    contract_webinar: float = 0.75
    demo_to_proposal_median_days: float = 6.0
    proposal_to_contract_median_days: float = 42.0
    proposal_to_contract_sigma: float = 0.5
    trial: float = 0.8
    checkout: float = 0.65
    trial_to_checkout_median_days: float = 10.0


@dataclass(frozen=True)
class OnboardingParams:
    """The planted SME stall at data import and its consequences."""

    import_start: tuple[float, float] = (0.95, 0.92)
    import_complete: tuple[float, float] = (0.85, 0.45)
    import_ticket_stalled: float = 0.6
    import_ticket_completed: float = 0.1
    survey_response: float = 0.6
    ces_response: float = 0.35
    # CSAT 1..5 distributions
    csat_stalled: tuple[float, ...] = (0.35, 0.30, 0.20, 0.10, 0.05)
    csat_completed: tuple[float, ...] = (0.02, 0.04, 0.12, 0.38, 0.44)
    # CES 1..7 (7 = very high effort)
    ces_stalled: tuple[float, ...] = (0.02, 0.03, 0.05, 0.12, 0.22, 0.30, 0.26)
    ces_completed: tuple[float, ...] = (0.25, 0.30, 0.22, 0.12, 0.06, 0.03, 0.02)
    # churn probability at the first renewal
    churn_sme_stalled: float = 0.55
    churn_sme_completed: float = 0.15
    churn_sme_never_started: float = 0.6
    churn_enterprise_stalled: float = 0.3
    churn_enterprise_completed: float = 0.08


@dataclass(frozen=True)
class SupportParams:
    """Support tickets: media, resolution times, CSAT by medium, NPS by ticket speed."""

    media: tuple[str, ...] = ("email", "chat", "phone")
    media_weights: tuple[tuple[float, ...], ...] = ((0.45, 0.25, 0.30), (0.55, 0.35, 0.10))
    tickets_per_day: tuple[float, float] = (0.012, 0.006)
    # lognormal resolution time: median hours, sigma, by medium
    resolution_median_hours: tuple[float, ...] = (24.0, 0.75, 2.0)
    resolution_sigma: tuple[float, ...] = (1.3, 1.4, 1.3)
    slow_hours: float = 72.0
    csat_response: float = 0.4
    csat_email: tuple[float, ...] = (0.08, 0.10, 0.17, 0.35, 0.30)
    csat_chat: tuple[float, ...] = (0.30, 0.27, 0.20, 0.14, 0.09)
    csat_phone: tuple[float, ...] = (0.03, 0.05, 0.10, 0.35, 0.47)
    nps_response: tuple[float, float] = (0.35, 0.45)
    nps_after_days: float = 120.0
    # NPS 0..10 distributions by group
    nps_none: tuple[float, ...] = (0.01, 0.01, 0.01, 0.02, 0.02, 0.04, 0.05, 0.12, 0.17, 0.25, 0.30)
    nps_fast: tuple[float, ...] = (0.01, 0.01, 0.02, 0.02, 0.03, 0.04, 0.06, 0.12, 0.17, 0.24, 0.28)
    nps_slow: tuple[float, ...] = (0.06, 0.06, 0.08, 0.10, 0.11, 0.12, 0.12, 0.11, 0.10, 0.07, 0.07)
    chat_negative_transcript: float = 0.7
    phone_negative_transcript: float = 0.2


@dataclass(frozen=True)
class DemoParams:
    funnel: FunnelParams = field(default_factory=FunnelParams)
    onboarding: OnboardingParams = field(default_factory=OnboardingParams)
    support: SupportParams = field(default_factory=SupportParams)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


PARAMS = DemoParams()
