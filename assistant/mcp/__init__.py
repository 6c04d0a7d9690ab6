"""Tools of other programs, through the Model Context Protocol, as skills.

One module per concern: :mod:`~assistant.mcp.schema` (a tool's input schema made usable),
:mod:`~assistant.mcp.client` (the one event-loop thread owning every session, with time
limits), :mod:`~assistant.mcp.tools` (a tool as a skill, a result as data),
:mod:`~assistant.mcp.pins` (the definitions the user accepted) and
:mod:`~assistant.mcp.servers` (the configured servers in a registry). The SDK is imported
only where servers are configured.
"""
