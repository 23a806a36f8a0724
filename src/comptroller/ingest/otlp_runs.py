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


@dataclass
class TraceSpan:
    span: Span
    attrs: Attributes
    resource: Attributes
    role: SpanRole = field(init=False)

    def __post_init__(self) -> None:
        self.role = role(self.attrs)

    @property
    def key(self) -> bytes:
        return self.span.trace_id + self.span.span_id

    @property
    def parent_key(self) -> bytes | None:
        return self.span.trace_id + self.span.parent_span_id if self.span.parent_span_id else None

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


class TraceRuns:
    """Enclosing runs and tool-call counts for every span of one export request."""

    def __init__(self, spans: list[TraceSpan]) -> None:
        self.spans = {s.key: s for s in spans}
        self._contexts: dict[bytes, RunContext] = {}
        self._children: dict[bytes | None, list[TraceSpan]] = defaultdict(list)
        for s in spans:
            self._children[s.parent_key].append(s)
        self.tool_calls: dict[bytes, int] = defaultdict(int)
        for s in spans:
            if s.role is SpanRole.TOOL and (caller := self._caller(s)) is not None:
                self.tool_calls[caller.key] += 1

    def context(self, span: TraceSpan) -> RunContext:
        """The nearest enclosing agent and workflow runs, the span itself included."""
        return self._context(span.key, 0)

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
