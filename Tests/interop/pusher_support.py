"""A stock Pusher WebSocket client (`pysher`) for the Pusher interop tests."""

from __future__ import annotations

import json
import queue

import pysher

WAIT = 15


def app_environment(app_id: str, key: str, secret: str, *, client_events: bool = False) -> dict[str, str]:
    """The environment that configures one Pusher app on a server."""
    env = {"SWITCHBOARD_PUSHER_APP_ID": app_id, "SWITCHBOARD_PUSHER_KEY": key, "SWITCHBOARD_PUSHER_SECRET": secret}
    if client_events:
        env["SWITCHBOARD_PUSHER_CLIENT_EVENTS"] = "true"
    return env


class PysherClient:
    """A pysher client whose connection and channel messages land in one queue, in the order they
    arrive (channel messages are taken where pysher routes them, so none is missed while a channel
    is being bound)."""

    def __init__(self, server, *, key: str, secret: str, user_data: dict | None = None):
        self.messages: queue.Queue = queue.Queue()
        self.pusher = pysher.Pusher(key, secure=False, custom_host="127.0.0.1", port=server.port,
                                    secret=secret, reconnect_interval=60, user_data=user_data)
        for event in ("pusher:connection_established", "pusher:error"):
            self.pusher.connection.bind(event, lambda data, event=event: self.messages.put((event, None, data)))
        routed = self.pusher.connection.event_handler

        def route(event, data, channel):
            self.messages.put((event, channel, data))
            routed(event, data, channel)

        self.pusher.connection.event_handler = route
        self.pusher.connect()
        event, _, data = self.next()
        assert event == "pusher:connection_established", (event, data)
        self.socket_id = json.loads(data)["socket_id"]

    def subscribe(self, channel: str):
        return self.pusher.subscribe(channel)

    def next(self):
        return self.messages.get(timeout=WAIT)

    def close(self):
        self.pusher.disconnect(timeout=5)
