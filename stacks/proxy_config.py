"""Kept for existing imports: route naming lives in ``stacks.config.routes`` (the config package no longer
imports this module, which ended the ``stacks.config`` <-> ``stacks.proxy_config`` import cycle)."""

from __future__ import annotations

from stacks.config.routes import default_fallbacks, default_handoffs, route_names

__all__ = ["default_fallbacks", "default_handoffs", "route_names"]
