from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def saas_map_path() -> Path:
    return FIXTURES / "saas_onboarding_churn.yaml"
