"""The answer to "what can you do": built from the skill registry, never from the model.

A 135M model asked what it can do says "anything I set my mind to". The registry knows: each
installed skill's description, with one example phrase where the skill gives one.
"""

from __future__ import annotations

from assistant.skills import SkillRegistry, spoken_name


def topics(registry: SkillRegistry) -> list[str]:
    """What the skills are about, in registry order, each once ("timers and alarms", ...)."""
    found = [s.topic or spoken_name(s.name) for s in registry.skills.values()
             if s.name != "stop"]
    return list(dict.fromkeys(found))


def skills_sentence(registry: SkillRegistry) -> str:
    """"I can help with a, b, and c." over the installed skills ("" with none)."""
    said = topics(registry)
    if not said:
        return ""
    if len(said) == 1:
        return f"I can help with {said[0]}."
    return "I can help with " + ", ".join(said[:-1]) + ", and " + said[-1] + "."


def describe(registry: SkillRegistry, *, spoken: bool = True) -> str:
    """What the assistant can do, from its skills. ``spoken``: one short paragraph with a few
    examples; otherwise one line per skill, each with its example."""
    skills = [s for s in registry.skills.values() if s.name != "stop"]
    if not skills:
        return "I have no skills installed, so I can only chat. See `assistant skills list`."
    if not spoken:
        lines = [f"- {s.name}: {s.description}"
                 + (f' Try: "{s.examples[0]}".' if s.examples else "") for s in skills]
        return "Here is what I can do:\n" + "\n".join(lines)
    text = skills_sentence(registry)
    first_of_topic: dict[str, str] = {}
    for s in skills:
        if s.examples:
            first_of_topic.setdefault(s.topic or s.name, s.examples[0])
    examples = list(first_of_topic.values())[:3]
    if examples:
        text += " For example, say: " + ", or ".join(f'"{e}"' for e in examples) + "."
    return text + " I work offline, so I can't get live news, weather or prices."
