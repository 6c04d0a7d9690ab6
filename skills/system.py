"""``system_status`` (CPU, memory, disk, battery) and ``stop`` (cut the current answer)."""

from __future__ import annotations

import psutil

from assistant.skills import SkillContext, skill


@skill(topic="the device's status",
       read_only=True,
       patterns=[r"\b(?:cpu|processor|ram|battery|disk space|disk usage|storage space|"
                 r"system status|system load)\b",
                 r"\bhow(?:'s| is| are) (?:the |my )?(?:system|device|computer|machine)\b",
                 r"\bmemory (?:is )?(?:free|usage|used|left|available)\b",
                 r"\bhow much memory\b",
                 r"\b(?:system|device|computer) (?:running|doing|ok|okay|health)\b"])
def system_status() -> str:
    """Report CPU load, memory, disk space and battery."""
    cpu = psutil.cpu_percent(interval=0.1)
    mem = psutil.virtual_memory()
    disk = psutil.disk_usage("/")
    parts = [f"CPU at {cpu:.0f} percent",  # first word already capitalised
             f"memory {mem.percent:.0f} percent used with {mem.available / 2**30:.1f} "
             "gigabytes free",
             f"{disk.free / 2**30:.0f} gigabytes of disk free"]
    battery = psutil.sensors_battery() if hasattr(psutil, "sensors_battery") else None
    if battery is not None:
        plug = "charging" if battery.power_plugged else "on battery"
        parts.append(f"battery {battery.percent:.0f} percent, {plug}")
    return ", ".join(parts) + "."


# The examples double as what the voice loop listens for, spelt loosely, over its own voice.
@skill(patterns=[r"^(?:stop|stop it|stop talking|stop speaking|be quiet|quiet|shut up|hush|"
                 r"silence|cancel|cancel that|never ?mind|that's enough|enough|forget it|"
                 r"pause|stop that)$"],
       examples=["stop", "stop it", "stop talking", "stop speaking", "be quiet", "shut up",
                 "hush", "cancel that", "never mind", "that's enough", "stop that"])
def stop(ctx: SkillContext) -> str:
    """Stop speaking and cancel the current answer."""
    ctx.stop()
    return ""
