"""HTTP routes of workflows: definitions, runs, manual steps.

Thin: parse the request into typed inputs (:mod:`collabadmin.workflows.bodies`,
:mod:`collabadmin.workflows.listing`), call the service (reads) or a run
action (writes), shape the response.
"""

from __future__ import annotations

from typing import Any, Literal

from litestar import Request, Response, Router, get, patch, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from collabadmin.context import Injected
from collabadmin.errors import NotFound
from collabadmin.web import (
    actor_of,
    json_response,
    query_params,
    read_json_object,
    request_id_of,
)
from collabadmin.workflows.actions import AssignRun, CancelRun, CompleteStep, ReopenStep, StartRun
from collabadmin.workflows.bodies import parse_assignment, parse_start
from collabadmin.workflows.listing import parse_run_list_query
from collabadmin.workflows.runs import RunService
from collabadmin.workflows.types import (
    AssignRequest,
    StartRunRequest,
    WorkflowList,
    WorkflowRun,
    WorkflowRunPage,
)

__all__ = ["workflows_router"]


@get("/workflows", operation_id="listWorkflows", summary="Workflow definitions you may use")
async def list_workflows(
    request: Request[Any, Any, Any], *, runs: Injected[RunService]
) -> Response[WorkflowList]:
    return json_response({"items": runs.summaries(actor_of(request))})


@post(
    "/workflows/{name:str}/runs",
    operation_id="startWorkflowRun",
    opt={"request_body": StartRunRequest},
    summary="Start a run of a workflow for a subject record",
)
async def start_run(
    request: Request[Any, Any, Any], name: FromPath[str], *, runs: Injected[RunService]
) -> Response[WorkflowRun]:
    actor = actor_of(request)
    subject = runs.workflow(name).subject
    if not runs.policy.allows(actor, subject, "view"):
        raise NotFound(f"No workflow named {name!r}.")
    start = parse_start(await read_json_object(request), subject.name)
    run = await StartRun(
        runs=runs,
        actor=actor,
        workflow=name,
        subject_pk=start.subject_pk,
        assignment=start.assignment,
        request_id=request_id_of(request),
    ).execute()
    return json_response(run, 201, {"Location": f"/api/workflow-runs/{run['id']}"})


@get("/workflow-runs", operation_id="listWorkflowRuns", summary="Runs you may see, newest first")
async def list_runs(
    request: Request[Any, Any, Any], *, runs: Injected[RunService]
) -> Response[WorkflowRunPage]:
    query = parse_run_list_query(query_params(request))
    items, next_cursor = await runs.search(actor_of(request), query)
    return json_response({"items": items, "next_cursor": next_cursor})


@get("/workflow-runs/{run_id:str}", operation_id="getWorkflowRun", summary="A run and its steps")
async def get_run(
    request: Request[Any, Any, Any], run_id: FromPath[str], *, runs: Injected[RunService]
) -> Response[WorkflowRun]:
    return json_response(await runs.get(actor_of(request), run_id))


def _step_handler(verb: Literal["complete", "reopen"], summary: str) -> HTTPRouteHandler:
    async def handler(
        request: Request[Any, Any, Any],
        run_id: FromPath[str],
        key: FromPath[str],
        *,
        runs: Injected[RunService],
    ) -> Response[WorkflowRun]:
        action = CompleteStep if verb == "complete" else ReopenStep
        run = await action(
            runs=runs,
            actor=actor_of(request),
            run=run_id,
            step=key,
            request_id=request_id_of(request),
        ).execute()
        return json_response(run)

    handler.__name__ = f"{verb}_step"
    return post(
        f"/workflow-runs/{{run_id:str}}/steps/{{key:str}}/{verb}",
        operation_id=f"{verb}WorkflowStep",
        summary=summary,
        status_code=200,
    )(handler)


@patch(
    "/workflow-runs/{run_id:str}",
    operation_id="assignWorkflowRun",
    opt={"request_body": AssignRequest},
    summary="Change a run's assignee or due date",
)
async def assign_run(
    request: Request[Any, Any, Any], run_id: FromPath[str], *, runs: Injected[RunService]
) -> Response[WorkflowRun]:
    run = await AssignRun(
        runs=runs,
        actor=actor_of(request),
        run=run_id,
        assignment=parse_assignment(await read_json_object(request)),
        request_id=request_id_of(request),
    ).execute()
    return json_response(run)


@post(
    "/workflow-runs/{run_id:str}/cancel",
    operation_id="cancelWorkflowRun",
    summary="Cancel a run (a new one may then be started for the subject)",
    status_code=200,
)
async def cancel_run(
    request: Request[Any, Any, Any], run_id: FromPath[str], *, runs: Injected[RunService]
) -> Response[WorkflowRun]:
    run = await CancelRun(
        runs=runs,
        actor=actor_of(request),
        run=run_id,
        request_id=request_id_of(request),
    ).execute()
    return json_response(run)


workflows_router = Router(
    path="/api",
    tags=["workflows"],
    route_handlers=[
        list_workflows,
        start_run,
        list_runs,
        get_run,
        assign_run,
        _step_handler("complete", "Tick a manual step"),
        _step_handler("reopen", "Untick a manual step"),
        cancel_run,
    ],
)
