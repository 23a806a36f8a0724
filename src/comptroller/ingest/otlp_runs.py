"""Agent runs, workflow runs and tool calls, read from the shape of a trace.

Agent frameworks wrap model calls in ``invoke_agent`` spans, those in ``invoke_workflow`` spans,
and run tools in ``execute_tool`` spans (or the OpenInference / OpenLLMetry equivalents,
``otlp_conventions.role``). Only model calls cost tokens, so they alone become usage events; the
other spans are folded into them: each call is tagged with the nearest enclosing agent run and
workflow run, and each tool execution is counted on the model call that asked for it.

Which call asked for a tool: the tool span's parent when that is a model call (some SDKs nest the
execution under the call); otherwise the latest model call under the same parent that started
before the tool (the agent loop: call, tools, call, ...); otherwise the latest earlier call of
the same agent run. Only spans in the same export request are visible, so a tool whose call was
exported in another batch is not counted; explicit ``comptroller.*`` attributes work regardless.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from comptroller.ingest.otlp_conventions import Attributes, SpanRole, agent_name, role, workflow_name

MAX_DEPTH = 256


@dataclass(slots=True)
class TraceSpan:
    """A span with its attributes read once; ids are joined once, as every lookup keys on them."""

    span: Span
    attrs: Attributes
    resource: Attributes
    role: SpanRole = field(init=False)
    key: bytes = field(init=False)
    parent_key: bytes | None = field(init=False)

    def __post_init__(self) -> None:
        self.role = role(self.attrs)
        span = self.span
        self.key = span.trace_id + span.span_id
        parent = span.parent_span_id
        self.parent_key = span.trace_id + parent if parent else None

    @property
    def run_id(self) -> str:
        return self.span.trace_id.hex() + self.span.span_id.hex()


@dataclass(frozen=True, slots=True)
class RunContext:
    """The enclosing agent and workflow of a span, with their run ids."""

    agent: str | None = None
    agent_run_id: str | None = None
    workflow: str | None = None
    workflow_run_id: str | None = None


NO_RUN = RunContext()


class TraceRuns:
    """Enclosing runs and tool-call counts for every span of one export request."""

    def __init__(self, spans: list[TraceSpan]) -> None:
        self.spans = {s.key: s for s in spans}
        self._contexts: dict[bytes, RunContext] = {}
        self._children: dict[bytes | None, list[TraceSpan]] = defaultdict(list)
        self.tool_calls: dict[bytes, int] = defaultdict(int)
        roles = {s.role for s in spans}
        # A batch of bare model calls (the common exporter case) has no runs to find.
        self._has_runs = SpanRole.AGENT in roles or SpanRole.WORKFLOW in roles
        if SpanRole.TOOL not in roles:
            return
        for s in spans:
            self._children[s.parent_key].append(s)
        for s in spans:
            if s.role is SpanRole.TOOL and (caller := self._caller(s)) is not None:
                self.tool_calls[caller.key] += 1

    def context(self, span: TraceSpan) -> RunContext:
        """The nearest enclosing agent and workflow runs, the span itself included."""
        return self._context(span.key, 0) if self._has_runs else NO_RUN

    def _context(self, key: bytes | None, depth: int) -> RunContext:
        if key is None or key not in self.spans or depth > MAX_DEPTH:
            return RunContext()
        if key in self._contexts:
            return self._contexts[key]
        s = self.spans[key]
        outer = self._context(s.parent_key, depth + 1)
        if s.role is SpanRole.AGENT:
            outer = RunContext(
                agent_name(s.span.name, s.attrs), s.run_id, outer.workflow, outer.workflow_run_id
            )
        elif s.role is SpanRole.WORKFLOW:
            outer = RunContext(outer.agent, outer.agent_run_id, workflow_name(s.span.name, s.attrs), s.run_id)
        self._contexts[key] = outer
        return outer

    def _caller(self, tool: TraceSpan) -> TraceSpan | None:
        parent = self.spans.get(tool.parent_key) if tool.parent_key else None
        if parent is not None and parent.role is SpanRole.MODEL:
            return parent
        started = tool.span.start_time_unix_nano
        siblings = [
            s
            for s in self._children[tool.parent_key]
            if s.role is SpanRole.MODEL and s.span.start_time_unix_nano <= started
        ]
        if siblings:
            return max(siblings, key=lambda s: s.span.start_time_unix_nano)
        run = self.context(tool).agent_run_id
        if run is None:
            return None
        same_run = [
            s
            for s in self.spans.values()
            if s.role is SpanRole.MODEL
            and s.span.start_time_unix_nano <= started
            and self.context(s).agent_run_id == run
        ]
        return max(same_run, key=lambda s: s.span.start_time_unix_nano) if same_run else None
