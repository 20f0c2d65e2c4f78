"""Stacks of gpt-oss-platform: they compose the constructs in ``gptoss_constructs``; ``config`` reads context."""
