"""The answer to "what can you do": built from the skill registry, never from the model.

A 135M model asked what it can do says "anything I set my mind to". The registry knows: each
installed skill's description, with one example phrase where the skill gives one.
"""

from __future__ import annotations

from assistant.skills import Skill, SkillRegistry

_CUT = (" (", " with ", ", ", ": ", "; ")


def _phrase(s: Skill) -> str:
    """A skill's description as a short phrase a spoken list can hold: its first clause, at
    most seven words, lower-cased ("Start a countdown timer that..." → "start a countdown
    timer that announces itself")."""
    words = s.description.rstrip(".")
    for cut in _CUT:
        words = words.split(cut)[0]
    words = " ".join(words.split()[:7])
    return words[:1].lower() + words[1:]


def skills_sentence(registry: SkillRegistry) -> str:
    """"I can ...; ...; and ..." over the installed skills ("" with none)."""
    phrases = [_phrase(s) for s in registry.skills.values() if s.name != "stop"]
    if not phrases:
        return ""
    if len(phrases) == 1:
        return f"I can {phrases[0]}."
    return "I can " + "; ".join(phrases[:-1]) + "; and " + phrases[-1] + "."


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
    examples = [s.examples[0] for s in skills if s.examples][:3]
    if examples:
        text += " For example, say: " + ", or ".join(f'"{e}"' for e in examples) + "."
    return text + " I work offline, so I can't get live news, weather or prices."
