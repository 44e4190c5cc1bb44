"""The check-in summary staff see (SPEC 6): each topic reported, answered "none", or not yet.

One rule for the pages and the API: a check-in the patient never answered has every topic
`unanswered`; otherwise what the dialog recorded (store: checkins.topics).
"""

from __future__ import annotations

from collections.abc import Mapping

from dialogs import TOPIC_NAMES, TOPICS


def topic_summary(topics: Mapping[str, str] | None) -> dict[str, str]:
    """Every topic with its state, in the order the check-in asks them."""
    saved = topics or {}
    return {topic: saved.get(topic, "unanswered") for topic in TOPICS}


def topic_rows(topics: Mapping[str, str] | None) -> list[tuple[str, str]]:
    """(what staff call the topic, its state in words) for a page."""
    words = {"reported": "reported", "none": "nothing new", "unanswered": "not answered"}
    return [(TOPIC_NAMES[t].capitalize(), words[s]) for t, s in topic_summary(topics).items()]
