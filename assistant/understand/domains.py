"""Requests in domains no installed skill serves: recognised, and answered honestly.

"Turn on the kitchen lights", "what's the weather like tomorrow", "call my mom": a small
model asked these invents an answer ("The music is playing."). They are recognised here with
Home Assistant's intent matcher (``hassil``) over its own sentence data
(``home-assistant-intents``) plus our templates for the domains it has no sentences for
(``domains.yaml``), in a few ms, and answered with one sentence that names what is missing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

_DATA = Path(__file__).with_name("domains.yaml")


@dataclass(frozen=True)
class Domain:
    """A request no skill can serve."""

    name: str
    """Our domain name, e.g. "weather", "lights"."""
    answer: str
    """The honest sentence, e.g. "I can't check the weather: no weather service is set up..."."""
    intent: str
    """The intent that matched (Home Assistant's, e.g. "HassTurnOn", or ours, e.g. "news")."""


class DomainMatcher:
    """Matches an utterance against the unsupported domains' sentences (English)."""

    def __init__(self, data_path: Path = _DATA) -> None:
        import home_assistant_intents
        from hassil import Intents
        from hassil.expression import TextChunk
        from hassil.intents import TextSlotList, TextSlotValue, WildcardSlotList

        data = yaml.safe_load(data_path.read_text(encoding="utf-8"))
        self._answers: dict[str, str] = data["answers"]
        self._ha_intents: dict[str, str] = data["ha_intents"]
        self._entity_domains: dict[str, str] = data["entity_domains"]
        ha = home_assistant_intents.get_intents("en")
        ours = {"language": "en",
                "intents": {name: {"data": [{"sentences": sentences}]}
                            for name, sentences in data["intents"].items()},
                "lists": {"x": {"wildcard": True}, "y": {"wildcard": True}},
                "expansion_rules": ha["expansion_rules"], "skip_words": ha["skip_words"]}
        # Home Assistant's first: its sentences know the device ("kitchen lights" → lights).
        self._intents = [Intents.from_dict(ha), Intents.from_dict(ours)]
        self._device_domains = {name: domain for domain, names in data["devices"].items()
                                for name in names}
        devices = [TextSlotValue(TextChunk(name), name, context={"domain": domain},
                                 metadata={"domain": domain})
                   for domain, names in data["devices"].items() for name in names]
        self._slots = {
            "name": TextSlotList(name="name", values=devices),
            "area": TextSlotList.from_strings(data["areas"]),
            "floor": TextSlotList.from_strings(["upstairs", "downstairs", "ground floor",
                                                "first floor"]),
            "x": WildcardSlotList("x"), "y": WildcardSlotList("y"),
        }
        self._lock = threading.Lock()  # hassil's matcher caches as it goes

    def match(self, text: str) -> Domain | None:
        """The unsupported domain ``text`` asks for, or None."""
        from hassil import recognize

        text = text.strip().rstrip("?!.")
        if not text:
            return None
        with self._lock:
            for intents in self._intents:
                result = recognize(text, intents, slot_lists=self._slots, intent_context={})
                if result is not None:
                    break
            else:
                return None
        name = result.intent.name
        domain = name if name in self._answers else self._ha_intents.get(name)
        if domain is None:
            return None  # an intent we serve ourselves (timers, lists, the time)
        if domain in ("devices", "lights", "locks", "covers", "heating"):
            domain = self._entity_domain(result.entities) or domain
        return Domain(domain, self._answers[domain], name)

    def _entity_domain(self, entities: dict[str, Any]) -> str | None:
        """Our domain for the device a smart-home sentence named ("the lamp" → lights)."""
        if (x := entities.get("x")) is not None:  # our "is the {x} on": a known device?
            ha_domain = self._device_domains.get(str(x.value).strip().lower().removeprefix(
                "the "))
            if ha_domain in self._entity_domains:
                return self._entity_domains[ha_domain]
        for key in ("domain", "name"):
            entity = entities.get(key)
            if entity is None:
                continue
            ha_domain = (entity.metadata or {}).get("domain") if key == "name" else entity.value
            if ha_domain in self._entity_domains:
                return self._entity_domains[ha_domain]
        return None


@cache
def default_matcher() -> DomainMatcher:
    """The process's matcher, built on first use (~50 ms) and shared."""
    return DomainMatcher()
