"""Shared types and records of sitbreak: what crosses from one area to another.

Samples and epochs, postures and body sites, link events, outbox entries, nudge records, label spans,
setting fields and time formatting. Every other area of `monitor` may import this package; it imports
nothing of `monitor` itself, so it can never be part of an import cycle.
"""
