"""``assistant satellite``: a room's microphone and speaker, with the models on a hub.

It loads no model at all (a Pi Zero 2 W can run it): the hub, ``assistant serve`` on a
stronger machine, recognises, answers and synthesises. As with ``assistant voice``,
``--input`` plays a file as the microphone, ``--output`` records what the room heard and
``--events`` writes the event log, so that rooms can be tested with files.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from assistant import AssistantError
from assistant.config import Config
from assistant.satellite.link import HubLink
from assistant.satellite.loop import SatelliteLoop
from assistant.speech.audio import DeviceDriver, FileDriver, load_audio, save_wav
from assistant.voice.events import EventLog, Hub, VoiceEvent

REACH_WAIT_S = 10.0
READY_WAIT_S = 120.0
"""With a file as the microphone, how long to wait for the hub to answer, and then for its
models, before playing it."""


def parse_hub(hub: str) -> tuple[str, int]:
    host, sep, port = hub.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise AssistantError(f"satellite: --hub wants HOST:PORT (e.g. 192.168.1.20:10700), "
                             f"not {hub!r}")
    return host, int(port)


def run_satellite(config: Config, *, hub: str, room: str, input_path: str | None,
                  output_path: str | None, events_path: str | None, fast: bool,
                  console: Console) -> int:
    host, port = parse_hub(hub)
    events = EventLog(Path(events_path) if events_path else None)
    audio = load_audio(input_path) if input_path else None  # a bad file fails first
    loop = SatelliteLoop(config.voice, events, lambda e: link.send(e))
    link = HubLink(host, port, room, loop.on_hub, loop.on_link)

    def show(event: VoiceEvent) -> None:
        if isinstance(event, Hub):  # said once per loss and once per return
            console.print(("[green]" if event.connected else "[yellow]") + event.detail)
        elif not console.is_terminal and input_path:
            console.print(json.dumps(event.as_dict()), highlight=False, soft_wrap=True)
        elif event.type in ("transcript", "audio_out_start"):
            console.print(f"{event.type}: {getattr(event, 'text', '')}")

    events.listeners.append(show)
    link.start()
    if audio is not None:
        if not link.connected.wait(REACH_WAIT_S):
            link.stop()
            raise AssistantError(f"satellite: no hub answered at {host}:{port} within "
                                 f"{REACH_WAIT_S:g} s; is `assistant serve` running there?")
        if not loop.online.wait(READY_WAIT_S):
            link.stop()
            raise AssistantError(f"satellite: the hub at {host}:{port} did not get ready "
                                 f"within {READY_WAIT_S:g} s (see its log)")
        driver: FileDriver | DeviceDriver = FileDriver(audio, realtime=not fast,
                                                       busy=loop.busy)
    else:
        driver = DeviceDriver(config.voice.input_device or None,
                              config.voice.output_device or None)
    console.print(f"room {room!r}, hub {host}:{port} — " +
                  ("speak; Ctrl-C to quit" if audio is None else f"playing {input_path}"))
    try:
        driver.run(loop.tick, loop.clock, until_idle=loop.idle)
    except KeyboardInterrupt:
        pass
    finally:
        link.stop()
        events.close()
    if output_path and isinstance(driver, FileDriver):
        save_wav(output_path, driver.output)
    return 0
