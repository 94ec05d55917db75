"""Speed-up ``graph-runner``: each message's graphs run depth-first in this thread, without dask.

``DaskGraphRunner.run`` hands each message's NLU and policy graphs to dask's scheduler,
whose bookkeeping cost more than most components. The graph is now run depth-first in
this thread, each node once, as dask's synchronous scheduler does.

Importing this module changes nothing in Rasa: ``bot.rasa.speedups.install()`` applies ``PATCHES``.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphNode, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner


def run_graph(
    self: DaskGraphRunner, inputs: dict[str, Any] | None = None, targets: list[str] | None = None
) -> dict[str, Any]:
    """``DaskGraphRunner.run`` without dask: each needed node once, its inputs first, in this thread."""
    run_targets = targets if targets else self._graph_schema.target_names
    minimal = self.__dict__.setdefault("_rhizotomy_minimal", {})
    key = tuple(run_targets)
    schema = minimal.get(key)
    if schema is None:
        schema = minimal[key] = self._graph_schema.minimal_graph_schema(run_targets)
    results: dict[str, Any] = {}
    if inputs:
        self._add_inputs_to_graph(inputs, dict.fromkeys(schema.nodes))  # Rasa's name-clash check
        results.update({name: (name, value) for name, value in inputs.items()})

    def compute(name: str) -> Any:
        if name not in results:
            node = schema.nodes.get(name)
            if node is None:  # dask passes a key it does not know on as the value itself
                return name
            results[name] = self._instantiated_nodes[name](*(compute(need) for need in node.needs.values()))
        return results[name]

    try:
        return dict(compute(target) for target in run_targets)
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error


PATCHES: list[tuple[Any, str, Any]] = [(DaskGraphRunner, "run", run_graph)]
# Every Rasa name the code above relies on. Instance attributes (assigned in DaskGraphRunner's
# constructor): _graph_schema, _instantiated_nodes. GraphSchema.nodes and SchemaNode.needs are
# dataclass fields.
RASA_NAMES: list[tuple[Any, str]] = [
    (DaskGraphRunner, "run"),
    (DaskGraphRunner, "_graph_schema"),
    (DaskGraphRunner, "_instantiated_nodes"),
    (DaskGraphRunner, "_add_inputs_to_graph"),
    (GraphSchema, "nodes"),
    (GraphSchema, "target_names"),
    (GraphSchema, "minimal_graph_schema"),
    (SchemaNode, "needs"),
    (GraphNode, "__call__"),
]
