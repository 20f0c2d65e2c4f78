"""PlatformStack: the base of every stack of the app."""

from __future__ import annotations

from typing import Any, Sequence

from aws_cdk import Stack
from constructs import Construct


class PlatformStack(Stack):
    """A Stack whose availability zones come from config when given.

    With an explicit account, ``Stack.availability_zones`` would ask for a context lookup (an AWS call at
    synth, DESIGN.md trap 6); the configured names make synth work with no credentials at all.
    """

    def __init__(
        self, scope: Construct, id: str, *, availability_zones: Sequence[str] | None = None, **kwargs: Any
    ) -> None:
        # The CloudFormation stack name is the construct id everywhere: a stack built inside a pipeline Stage would
        # otherwise be named "<stage>-<id>", and preflight, verify and operators find the stacks by these names.
        kwargs.setdefault("stack_name", id)
        super().__init__(scope, id, **kwargs)
        self._configured_azs = list(availability_zones) if availability_zones else None

    @property
    def availability_zones(self) -> list[str]:
        if self._configured_azs:
            return self._configured_azs
        return super().availability_zones
