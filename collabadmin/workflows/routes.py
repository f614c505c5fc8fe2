"""HTTP routes of workflows: definitions, runs, manual steps.

Thin: each handler declares its typed inputs (the body as a Struct of
:mod:`collabadmin.workflows.types`, the list's query parameters), calls the
service (reads) or a run action (writes), and returns the typed body.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Router, get, patch, post
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, JSONBody, QueryParameter

from collabadmin.context import Injected
from collabadmin.db.engine import Actor
from collabadmin.errors import NotFound
from collabadmin.resources.types import WorkflowSummary
from collabadmin.web import JsonResponse, strict_query
from collabadmin.workflows.actions import AssignRun, CancelRun, CompleteStep, ReopenStep, StartRun
from collabadmin.workflows.bodies import assignment, run_start
from collabadmin.workflows.evaluation import CompiledWorkflow
from collabadmin.workflows.listing import MAX_LIMIT, run_list_query
from collabadmin.workflows.runs import RunService
from collabadmin.workflows.types import (
    AssignRequest,
    StartRunRequest,
    WorkflowList,
    WorkflowRun,
    WorkflowRunPage,
)

__all__ = ["workflows_router"]


def _run(body: dict[str, Any]) -> WorkflowRun:
    return msgspec.convert(body, WorkflowRun)


@get("/workflows", operation_id="listWorkflows", summary="Workflow definitions you may use")
async def list_workflows(*, actor: Injected[Actor], runs: Injected[RunService]) -> WorkflowList:
    return WorkflowList(items=msgspec.convert(runs.summaries(actor), list[WorkflowSummary]))


def _visible_workflow(
    name: FromPath[str], actor: Injected[Actor], runs: Injected[RunService]
) -> CompiledWorkflow:
    """The workflow of the path, if ``actor`` may see it (its subject); else 404.

    A dependency, so an unknown workflow is a 404 before its body is checked.
    """
    compiled = runs.workflow(name)
    if not runs.policy.allows(actor, compiled.subject, "view"):
        raise NotFound(f"No workflow named {name!r}.")
    return compiled


@post(
    "/workflows/{name:str}/runs",
    operation_id="startWorkflowRun",
    summary="Start a run of a workflow for a subject record",
    dependencies={"workflow": Provide(_visible_workflow, sync_to_thread=False)},
)
async def start_run(
    name: FromPath[str],
    data: JSONBody[StartRunRequest],
    *,
    workflow: Injected[CompiledWorkflow],
    actor: Injected[Actor],
    request_id: Injected[str | None],
    runs: Injected[RunService],
) -> JsonResponse[WorkflowRun]:
    start = run_start(data, workflow.subject.name)
    run = await StartRun(
        runs=runs,
        actor=actor,
        workflow=name,
        subject_pk=start.subject_pk,
        assignment=start.assignment,
        request_id=request_id,
    ).execute()
    return JsonResponse(
        _run(run), status_code=201, headers={"Location": f"/api/workflow-runs/{run['id']}"}
    )


@get("/workflow-runs", operation_id="listWorkflowRuns", summary="Runs you may see, newest first")
async def list_runs(
    *,
    status: Annotated[
        str | None,
        QueryParameter(description="Comma-separated statuses (open, done, cancelled)"),
    ] = None,
    mine: Annotated[
        bool | None, QueryParameter(description="Only runs you started or are assigned")
    ] = None,
    workflow: Annotated[str | None, QueryParameter(description="Runs of this workflow")] = None,
    subject_resource: Annotated[
        str | None, QueryParameter(description="Runs about records of this resource")
    ] = None,
    subject_pk: Annotated[
        str | None, QueryParameter(description="Runs about this record (its key)")
    ] = None,
    cursor: Annotated[
        str | None, QueryParameter(description="The next_cursor of the page before")
    ] = None,
    limit: Annotated[int | None, QueryParameter(ge=1, le=MAX_LIMIT)] = None,
    actor: Injected[Actor],
    runs: Injected[RunService],
) -> WorkflowRunPage:
    query = run_list_query(
        status=status,
        mine=mine,
        workflow=workflow,
        subject_resource=subject_resource,
        subject_pk=subject_pk,
        cursor=cursor,
        limit=limit,
    )
    items, next_cursor = await runs.search(actor, query)
    return WorkflowRunPage(items=msgspec.convert(items, list[WorkflowRun]), next_cursor=next_cursor)


@get("/workflow-runs/{run_id:str}", operation_id="getWorkflowRun", summary="A run and its steps")
async def get_run(
    run_id: FromPath[str], *, actor: Injected[Actor], runs: Injected[RunService]
) -> WorkflowRun:
    return _run(await runs.get(actor, run_id))


def _step_handler(verb: Literal["complete", "reopen"], summary: str) -> HTTPRouteHandler:
    async def handler(
        run_id: FromPath[str],
        key: FromPath[str],
        *,
        actor: Injected[Actor],
        request_id: Injected[str | None],
        runs: Injected[RunService],
    ) -> WorkflowRun:
        action = CompleteStep if verb == "complete" else ReopenStep
        run = await action(
            runs=runs, actor=actor, run=run_id, step=key, request_id=request_id
        ).execute()
        return _run(run)

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
    summary="Change a run's assignee or due date",
)
async def assign_run(
    run_id: FromPath[str],
    data: JSONBody[AssignRequest],
    *,
    actor: Injected[Actor],
    request_id: Injected[str | None],
    runs: Injected[RunService],
) -> WorkflowRun:
    run = await AssignRun(
        runs=runs,
        actor=actor,
        run=run_id,
        assignment=assignment(data),
        request_id=request_id,
    ).execute()
    return _run(run)


@post(
    "/workflow-runs/{run_id:str}/cancel",
    operation_id="cancelWorkflowRun",
    summary="Cancel a run (a new one may then be started for the subject)",
    status_code=200,
)
async def cancel_run(
    run_id: FromPath[str],
    *,
    actor: Injected[Actor],
    request_id: Injected[str | None],
    runs: Injected[RunService],
) -> WorkflowRun:
    run = await CancelRun(runs=runs, actor=actor, run=run_id, request_id=request_id).execute()
    return _run(run)


workflows_router = Router(
    path="/api",
    tags=["workflows"],
    before_request=strict_query,
    response_class=JsonResponse,
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
