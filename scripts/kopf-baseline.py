"""The kopf baseline of `scripts/bench` (issue 21, P6): a plain operator written with Python's
kopf (from PyPI, installed by `scripts/control-plane kopf-python`) that makes, for each
ObservabilityStack, the same object set Vigil made in the run before it, and marks the stack
Ready. It gets every object ready-made (read at start from the dump `vigil-bench cluster
--mode vigil` wrote), so it renders nothing and issues no certificate or credential: what
it measures is a mainstream framework's cost per stack, not Vigil's work.

Run by `vigil-bench cluster --mode kopf`:

    python -m kopf run --standalone --all-namespaces --liveness http://127.0.0.1:PORT/healthz scripts/kopf-baseline.py

with KOPF_BASELINE_DUMP (the dump), KOPF_BASELINE_CONCURRENCY (stacks in flight, as Vigil's
workers and the floor's requests), and the control plane's APISERVER_URL, ADMIN_TOKEN and
CONTROL_PLANE_DIR (for its CA). Each object is written by server-side apply, as Vigil does,
in the stack's handler, one after another; kopf keeps its own progress in an annotation and
posts its own events, as any kopf operator does.
"""
import asyncio
import json
import os
import ssl

import aiohttp
import kopf

URL = os.environ["APISERVER_URL"]
TOKEN = os.environ["ADMIN_TOKEN"]
CA = os.path.join(os.environ["CONTROL_PLANE_DIR"], "pki", "apiserver.crt")
CONCURRENCY = int(os.environ.get("KOPF_BASELINE_CONCURRENCY", "4"))
GROUP, VERSION, PLURAL = "observability.vigil.dev", "v1alpha1", "observabilitystacks"

with open(os.environ["KOPF_BASELINE_DUMP"]) as f:
    DUMP = {f"{s['stack']['metadata']['namespace']}/{s['stack']['metadata']['name']}": s for s in json.load(f)["stacks"]}

state = {}


def path(body, plural):
    api = body["apiVersion"]
    prefix = f"/api/{api}" if "/" not in api else f"/apis/{api}"
    return f"{prefix}/namespaces/{body['metadata']['namespace']}/{plural}/{body['metadata']['name']}"


@kopf.on.login()
def login(**_):
    return kopf.ConnectionInfo(server=URL, ca_path=CA, token=TOKEN, scheme="Bearer")


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, **_):
    settings.posting.level = 20  # INFO: kopf's handler events, as by default
    context = ssl.create_default_context(cafile=CA)
    state["session"] = aiohttp.ClientSession(
        headers={"Authorization": f"Bearer {TOKEN}"}, connector=aiohttp.TCPConnector(ssl=context, limit=CONCURRENCY * 2)
    )
    state["slots"] = asyncio.Semaphore(CONCURRENCY)


@kopf.on.cleanup()
async def cleanup(**_):
    await state["session"].close()


async def send(method, url, body, content_type):
    async with state["session"].request(method, URL + url, data=json.dumps(body), headers={"Content-Type": content_type}) as r:
        if r.status >= 300:
            raise kopf.TemporaryError(f"{method} {url}: {r.status} {await r.text()}", delay=1)


@kopf.on.create(GROUP, VERSION, PLURAL)
async def create(body, meta, namespace, name, **_):
    dump = DUMP.get(f"{namespace}/{name}")
    if dump is None:
        raise kopf.PermanentError(f"{namespace}/{name} is not in the dump")
    owner = [{
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "ObservabilityStack", "name": name, "uid": meta["uid"],
        "controller": True, "blockOwnerDeletion": True,
    }]
    async with state["slots"]:
        for o in dump["objects"]:
            obj = json.loads(json.dumps(o["body"]))
            if obj["metadata"].get("namespace") == namespace:
                obj["metadata"]["ownerReferences"] = owner
            await send("PATCH", path(obj, o["plural"]) + "?fieldManager=kopf-baseline&force=true", obj, "application/apply-patch+yaml")
        status = json.loads(json.dumps(dump.get("status") or {}))
        for c in status.get("conditions", []):
            c["observedGeneration"] = meta.get("generation", 1)
        status["observedGeneration"] = meta.get("generation", 1)
        await send(
            "PATCH", f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}/{name}/status",
            {"status": status}, "application/merge-patch+json",
        )
