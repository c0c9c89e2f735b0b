import time as _t
from datetime import timedelta

from temporalio.client import WorkflowUpdateFailedError

from tests.workflows.harness import (
    at_local,
    next_tuesday_after,
    running_worker,
    sleep_until,
    today_in_santiago,
)
from workflows.invoice import InvoiceDunningWorkflow


async def test_experiment(time_skipping_env, tmp_path):
    env = time_skipping_env
    today = await today_in_santiago(env)
    due = next_tuesday_after(today, 10)
    async with running_worker(env.client, tmp_path) as h:
        wf = await h.issue("X-1", due, issued_on=today)
        t0 = _t.monotonic()
        paid_at = await sleep_until(env, at_local(due + timedelta(days=1), 12))
        print("sleep", _t.monotonic() - t0)
        await h.pay("X-1", "250000", paid_at, reference="A")
        print("immediately", [l.kind for l in h.bitacora("X-1")])
        await env.sleep(timedelta(seconds=1))
        print("after 1s", [l.kind for l in h.bitacora("X-1")])
        t0 = _t.monotonic()
        await sleep_until(env, at_local(due + timedelta(days=15), 11))
        print("sleep", _t.monotonic() - t0)
        st = await h.handle(wf).query(InvoiceDunningWorkflow.status)
        print(st.open_task)
        try:
            await h.handle(wf).execute_update(
                "complete_task", {"task_id": st.open_task.id, "outcome": "maybe"}
            )
        except WorkflowUpdateFailedError as e:
            print("ERR", repr(e), repr(e.cause), getattr(e.cause, "type", None), e.cause.__cause__)
        except Exception as e:
            print("OTHER", type(e), e)
    async with running_worker(env.client, tmp_path) as h:
        t0 = _t.monotonic()
        await env.sleep(timedelta(days=30))
        print("sleep with leftover", _t.monotonic() - t0)
