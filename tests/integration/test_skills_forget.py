"""``forget`` on the real embedder and chromadb: "forget what I told you about my car" plans
every fact about the car (its MOT too, not the sister's car), and a yes deletes exactly those.

With MiniLM, "my car" is 0.53 similar to "my car is blue" but only ~0.26 to "my car needs new
tyres", less than to "my sister's car is red" (~0.48): no similarity threshold separates
them, which is why ``forget`` first takes the facts that say the query's words.
"""

from __future__ import annotations

import pytest

from assistant import fastpath
from assistant.memory import MemoryStore
from assistant.skills import Plan, SkillContext, SkillRegistry

pytestmark = pytest.mark.slow

CAR_FACTS = ["my car is blue", "my car is parked in the garage", "my car needs new tyres",
             "my car's MOT is due in March"]
OTHER_FACTS = ["my sister's car is red", "my bike lock code is 4321"]


def test_forget_plans_every_fact_about_the_topic(
        skills: tuple[SkillRegistry, SkillContext, MemoryStore]) -> None:
    registry, ctx, store = skills
    for fact in CAR_FACTS + OTHER_FACTS:
        assert registry.call("remember", {"fact": fact}, ctx).ok
    assert len(store.facts()) == 6

    m = fastpath.match(registry, "forget what I told you about my car")
    assert m is not None and m.skill.name == "forget"
    plan = registry.plan("forget", m.arguments, ctx)
    assert isinstance(plan, Plan), plan
    named = {r.text for r in store.get(plan.arguments["ids"])}
    assert named == set(CAR_FACTS)
    assert plan.question.startswith("Forget these 4 things: ")
    for fact in CAR_FACTS:
        assert fact.replace("my ", "your ") in plan.question

    asked: list[str] = []
    r = registry.call("forget", m.arguments, ctx, confirm=lambda q: asked.append(q) or True)
    assert r.ok and r.result == "Forgotten: 4 things about your car.", r.result
    assert asked == [plan.question]
    assert sorted(f.text for f in store.facts()) == sorted(OTHER_FACTS)


def test_forget_by_paraphrase_and_nothing_saved(
        skills: tuple[SkillRegistry, SkillContext, MemoryStore]) -> None:
    registry, ctx, _store = skills
    for fact in ["my bike lock code is 4321", "my sister lives in Leeds"]:
        assert registry.call("remember", {"fact": fact}, ctx).ok
    plan = registry.plan("forget", {"query": "the code for the bike lock"}, ctx)
    assert isinstance(plan, Plan), plan
    assert plan.question == "Should I forget that your bike lock code is 4321?"
    assert registry.plan("forget", {"query": "my passport"}, ctx) == \
        "I have nothing saved about your passport."
