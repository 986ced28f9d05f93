"""Alerts that reach people (contract section 11): notification channels (webhooks with the
generic, WeCom, DingTalk and Feishu payloads, and e-mail), one delivery per alert and channel
from the worker with retries and every attempt logged, acknowledgement, and escalation of an
unacknowledged critical alert to the managers' channels.

- `targets`: what a channel may point at (no loopback or private webhook unless allowed).
- `payloads`: the message of an alert, a digest, an escalation or a test, per channel preset.
- `services`: the writes (channels, deliveries and their attempts, acknowledge, escalate).
- `selectors`: the reads (channels without their secrets, the delivery log, failing channels).
"""
