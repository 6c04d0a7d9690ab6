"""skills.memory ``forget``: a plan that names each fact, and a call that deletes exactly
those. A small in-memory store stands in for the real one (the real embedder's similarities
are checked in tests/integration/test_skills_forget.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from assistant import fastpath
from assistant.skills import Plan, SkillContext, SkillRegistry


@dataclass(frozen=True)
class Record:
    id: str
    text: str
    collection: str = "memory"


@dataclass(frozen=True)
class Hit:
    record: Record
    similarity: float


class FakeStore:
    """Facts with a fixed similarity to any query: what an embedder would say."""

    def __init__(self, facts: dict[str, tuple[str, float]]) -> None:
        self.records = {rid: Record(rid, text) for rid, (text, _) in facts.items()}
        self.similarity = {rid: sim for rid, (_, sim) in facts.items()}
        self.deleted: list[str] = []

    def facts(self) -> list[Record]:
        return [r for r in self.records.values() if r.collection == "memory"]

    def search(self, query: str, k: int = 5, collections: tuple[str, ...] = ("memory",)
               ) -> list[Hit]:
        hits = [Hit(r, self.similarity[r.id]) for r in self.records.values()
                if r.collection in collections]
        return sorted(hits, key=lambda h: -h.similarity)[:k]

    def get(self, ids: list[str]) -> list[Record]:
        return [self.records[i] for i in ids if i in self.records]

    def delete(self, ids: list[str]) -> int:
        gone = [i for i in ids if self.records.pop(i, None) is not None]
        self.deleted += gone
        return len(gone)


# The real MiniLM similarities of these facts to "my car" (see the integration test): the
# third car fact is further from the query than the sister's car.
CARS = {
    "m-1": ("my car is blue", 0.53),
    "m-2": ("my car is parked in the garage", 0.52),
    "m-3": ("my sister's car is red", 0.48),
    "m-4": ("my car needs new tyres", 0.26),
    "m-5": ("my bike lock code is 4321", 0.19),
    "m-6": ("my car's MOT is due in March", 0.21),
}


@pytest.fixture
def store() -> FakeStore:
    return FakeStore(CARS)


@pytest.fixture
def ctx(tmp_path, store: FakeStore) -> SkillContext:
    return SkillContext(data_dir=tmp_path, memory=lambda: store)


def test_the_plan_names_every_fact_about_the_topic(builtin_registry: SkillRegistry, ctx,
                                                   store) -> None:
    m = fastpath.match(builtin_registry, "forget what I told you about my car")
    assert m is not None and m.arguments == {"query": "my car"}
    plan = builtin_registry.plan("forget", m.arguments, ctx)
    assert plan == Plan("Forget these 4 things: your car is blue; your car is parked in the "
                        "garage; your car needs new tyres; your car's MOT is due in March?",
                        {"query": "my car", "ids": ["m-1", "m-2", "m-4", "m-6"]})
    assert store.deleted == []  # planning deletes nothing


def test_a_yes_deletes_exactly_what_the_plan_named(builtin_registry, ctx, store) -> None:
    asked: list[str] = []

    def yes(question: str) -> bool:
        asked.append(question)
        store.records["m-9"] = Record("m-9", "my car is a hatchback")  # said after the plan
        return True

    r = builtin_registry.call("forget", {"query": "my car"}, ctx, confirm=yes)
    assert r.ok and r.result == "Forgotten: 4 things about your car."
    assert asked[0].startswith("Forget these 4 things: ")
    assert store.deleted == ["m-1", "m-2", "m-4", "m-6"]
    assert set(store.records) == {"m-3", "m-5", "m-9"}


def test_a_no_deletes_nothing(builtin_registry, ctx, store) -> None:
    r = builtin_registry.call("forget", {"query": "my car"}, ctx, confirm=lambda _q: False)
    assert r.ok is False and store.deleted == []


def test_one_fact(builtin_registry, ctx, store) -> None:
    plan = builtin_registry.plan("forget", {"query": "my bike lock"}, ctx)
    assert plan == Plan("Should I forget that your bike lock code is 4321?",
                        {"query": "my bike lock", "ids": ["m-5"]})
    r = builtin_registry.call("forget", {"query": "my bike lock"}, ctx, confirm=lambda _q: True)
    assert r.result == "Forgotten: 1 thing about your bike lock."


def test_nothing_saved(builtin_registry, ctx, store) -> None:
    store.similarity = dict.fromkeys(store.similarity, 0.1)
    assert builtin_registry.plan("forget", {"query": "my passport"}, ctx) == \
        "I have nothing saved about your passport."
    asked: list[str] = []
    r = builtin_registry.call("forget", {"query": "my passport"}, ctx,
                              confirm=lambda q: asked.append(q) or True)
    assert r.ok and r.result == "I have nothing saved about your passport." and asked == []


def test_a_paraphrase_falls_back_to_similarity(builtin_registry, ctx, store) -> None:
    """No fact says "where i left the car": the closest ones (within FORGET_NEAR_BEST of the
    best, above FORGET_MIN_SIMILARITY) are planned, and the user hears which."""
    plan = builtin_registry.plan("forget", {"query": "where i left the car"}, ctx)
    assert isinstance(plan, Plan)
    assert plan.arguments["ids"] == ["m-1", "m-2", "m-3"]


def test_words_that_name_no_topic_do_not_match_every_fact(builtin_registry, ctx,
                                                          store) -> None:
    store.records["m-6"] = Record("m-6", "it is my turn to cook")
    store.similarity["m-6"] = 0.1
    plan = builtin_registry.plan("forget", {"query": "it"}, ctx)
    assert isinstance(plan, Plan) and "m-6" not in plan.arguments["ids"]


def test_given_ids_are_deleted_exactly_and_only_facts(builtin_registry, ctx, store) -> None:
    store.records["d-abc-0"] = Record("d-abc-0", "a note about my car", "documents")
    store.similarity["d-abc-0"] = 0.9
    plan = builtin_registry.plan("forget", {"query": "my car", "ids": ["m-2", "d-abc-0"]}, ctx)
    assert plan == Plan("Should I forget that your car is parked in the garage?",
                        {"query": "my car", "ids": ["m-2"]})
    r = builtin_registry.call("forget", {"query": "my car", "ids": ["m-2", "d-abc-0", "m-404"]},
                              ctx, confirm=lambda _q: True)
    assert r.result == "Forgotten: 1 thing about your car."
    assert store.deleted == ["m-2"] and "d-abc-0" in store.records


def test_forget_still_needs_a_yes(builtin_registry, ctx, store) -> None:
    r = builtin_registry.call("forget", {"query": "my car"}, ctx)
    assert r.ok is False and store.deleted == []
