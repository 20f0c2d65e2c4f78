"""Thin adapters: AWS SDK backends and guardrail (aws.py); Lambda events (../handler.py); HTTP (../http_server.py)."""
