"""Teaching from the web page: ``POST /api/teach`` starts a job on the uploaded recordings,
``GET /api/teach/{job}`` says how far it is and then what it taught, ``GET /api/teach/{job}/model.pt``
downloads the taught checkpoint and ``POST /api/teach/{job}/use`` makes it the served model.

One job runs at a time, in a thread of its own (:func:`saz.teach.teach` takes seconds to minutes:
the server keeps answering meanwhile); a second request while it runs gets 409. Each job has a
private folder under the app's temporary folder: the recordings are copied there as they arrive
(each under the per-recording limit, with a name the server makes), listed in a CSV of path,
instrument, recording, and removed when the job ends; the checkpoint stays, for the last
:data:`KEEP` jobs and the one served. Bad input is refused before anything is taught, in one line
naming the file or the instrument and the problem; a recording that cannot be decoded is
reported in the job's ``skipped`` and the rest is taught.
"""

from __future__ import annotations

import csv
import re
import secrets
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.datastructures import FormData, UploadFile

from saz.io import jsonable
from saz.models.checkpoint import CheckpointError
from saz.prediction import load_predictor
from saz.serve.served import Served
from saz.serve.uploads import save
from saz.teach import TeachError, plan_classes, teach
from saz.teach.summary import class_line

KEEP = 4  # finished jobs whose checkpoints are kept (besides the one served)
NAME_MAX = 64  # characters of an instrument name
JOB_ID = re.compile(r"[0-9a-f]{16}")
STAGES = {"reading": (0.0, 0.1), "embedding": (0.1, 0.85), "cross-validating": (0.85, 0.95), "checking": (0.95, 1.0)}
BASES = ("server", "default")  # the model the server was started with, the bundled one
NO_FILES = ("no recordings: send each recording as a 'file' field and, in the same order, one 'instrument' "
            "field per file naming its instrument")
TEACH_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file", "instrument"], "properties": {
        "file": {"type": "array", "items": {"type": "string", "format": "binary"}, "description": "The recordings."},
        "instrument": {"type": "array", "items": {"type": "string"},
                       "description": "The instrument of each recording, in the order of the files."}}}}}}}


@dataclass
class TeachJob:
    """One teach run: where its files are, how far it is, and what it taught or why it failed."""

    id: str
    folder: Path
    base: str = ""  # the model taught on
    state: str = "uploading"  # uploading, running, done, failed
    stage: str = "uploading"
    fraction: float = 0.0
    instruments: dict[str, int] = field(default_factory=dict)  # name -> recordings given
    names: dict[str, str] = field(default_factory=dict)  # saved path -> the upload's file name
    skipped: list[str] = field(default_factory=list)
    error: str | None = None
    classes: list[dict[str, Any]] | None = None
    check: dict[str, Any] | None = None

    @property
    def uploads(self) -> Path:
        return self.folder / "uploads"

    @property
    def examples(self) -> Path:
        return self.folder / "examples.csv"

    @property
    def model(self) -> Path:
        return self.folder / "model.pt"

    def renamed(self, text: str) -> str:
        """``text`` with each saved file's path replaced by its upload's name, on one line."""
        for path, name in self.names.items():
            text = text.replace(path, name)
        return " ".join(text.split())

    def at(self, stage: str, done: float) -> None:
        """``saz.teach.teach``'s ``on_stage``: the stage, and the fraction of the whole run done."""
        start, end = STAGES.get(stage, (self.fraction, self.fraction))
        self.stage, self.fraction = stage, start + (end - start) * done

    def skip(self, message: str) -> None:
        """``saz.teach.teach``'s ``on_skip``: a recording left out, and why."""
        self.skipped.append(self.renamed(message))

    def status(self, served: Served) -> dict[str, Any]:
        """The answer of ``GET /api/teach/{job}``."""
        out = {"job": self.id, "state": self.state, "stage": self.stage, "fraction": round(self.fraction, 3),
               "instruments": self.instruments, "skipped": self.skipped, "error": self.error}
        if self.state == "done":
            out |= {"classes": [row | {"threshold": round(row["threshold"], 4), "line": class_line(row)} for row in self.classes or []],
                    "check": self.check,
                    "model": f"/api/teach/{self.id}/model.pt", "use": f"/api/teach/{self.id}/use",
                    "in_use": served.taught_by == self.id}
        return jsonable(out)


class TeachJobs:
    """The app's teach jobs: at most one running (in a thread), the last :data:`KEEP` finished ones kept."""

    def __init__(self, tmp_dir: str | None):
        self.tmp_dir, self.jobs, self.running = tmp_dir, {}, None
        self.lock = threading.Lock()

    def reserve(self, in_use: str | None) -> TeachJob:
        """A new job (its folder made, older jobs' removed but the one ``in_use``); 409 while one runs."""
        with self.lock:
            if self.running is not None:
                job = self.running
                raise HTTPException(409, f"a teach job is running ({job.id}, {job.stage}): wait until it is done "
                                         f"(GET /api/teach/{job.id}), then teach again")
            self._prune(in_use)
            job = TeachJob(secrets.token_hex(8), Path(tempfile.mkdtemp(prefix="saz-teach-", dir=self.tmp_dir)))
            job.uploads.mkdir()
            self.jobs[job.id] = self.running = job
            return job

    def _prune(self, in_use: str | None) -> None:
        finished = [j for j in self.jobs.values() if j.id != in_use]
        for job in finished[: max(0, len(finished) - KEEP + 1)]:
            shutil.rmtree(job.folder, ignore_errors=True)
            del self.jobs[job.id]

    def drop(self, job: TeachJob) -> None:
        """Forget ``job``, refused before it started, and remove its folder."""
        with self.lock:
            self.jobs.pop(job.id, None)
            self.running = None
        shutil.rmtree(job.folder, ignore_errors=True)

    def get(self, job_id: str) -> TeachJob:
        """The job ``job_id``; 404 for an unknown one."""
        job = self.jobs.get(job_id) if JOB_ID.fullmatch(job_id) else None
        if job is None:
            raise HTTPException(404, f"no teach job '{job_id}' (the last {KEEP} are kept)")
        return job

    def start(self, job: TeachJob, base: str, seed: int) -> None:
        """Teach ``job``'s examples on ``base`` in a thread of its own."""
        job.base, job.state, job.stage = base, "running", "running"
        threading.Thread(target=self._run, args=(job, base, seed), name=f"saz-teach-{job.id}", daemon=True).start()

    def _run(self, job: TeachJob, base: str, seed: int) -> None:
        try:
            result = teach(job.examples, base=base, seed=seed, progress=False, on_skip=job.skip, on_stage=job.at)
            result.checkpoint.save(job.model)
            job.classes, job.check = result.classes, result.check
            job.state, job.stage, job.fraction = "done", "done", 1.0
        except Exception as e:  # noqa: BLE001 - whatever stops a job is its answer; it never stays running
            known = isinstance(e, (TeachError, CheckpointError, OSError))
            job.error = job.renamed(str(e) if known else f"teaching failed ({type(e).__name__}): {e}")
            job.state = "failed"
        finally:
            shutil.rmtree(job.uploads, ignore_errors=True)
            job.examples.unlink(missing_ok=True)
            with self.lock:
                self.running = None


def _instrument(name: Any, filename: str) -> str:
    """The instrument name given for the upload ``filename``; 400 for none, or one that is no short line of text."""
    text = name.strip() if isinstance(name, str) else ""
    if not text:
        raise HTTPException(400, f"{filename}: no instrument name given for it")
    if len(text) > NAME_MAX or not text.isprintable():
        raise HTTPException(400, f"{filename}: the instrument name must be one line of at most {NAME_MAX} characters")
    return text


async def _saved(form: FormData, job: TeachJob, limit_mb: float) -> list[tuple[str, str, str]]:
    """The form's recordings copied into ``job``'s folder, as rows of path, instrument, recording;
    400 for no recordings, names that do not pair with them, or an instrument with no recording."""
    files, names = form.getlist("file"), form.getlist("instrument")
    if not files:
        raise HTTPException(400, NO_FILES)
    if any(isinstance(f, str) and f for f in files):
        raise HTTPException(400, "a 'file' field holds text, not a file: upload each recording as a file")
    if len(names) != len(files):
        raise HTTPException(400, f"{len(files)} recordings and {len(names)} instrument names: send one 'instrument' "
                                 "field per 'file' field, in the same order")
    rows, empty = [], set()
    for i, (upload, given) in enumerate(zip(files, names)):
        filename = Path(getattr(upload, "filename", None) or "").name or f"recording {i + 1}"
        name = _instrument(given, filename)
        if not isinstance(upload, UploadFile) or not upload.filename and not upload.size:  # a file input left empty
            empty.add(name)
            continue
        path = await save(upload, limit_mb, job.uploads, what=f"{filename}: a recording")
        job.names[str(path)] = filename
        job.instruments[name] = job.instruments.get(name, 0) + 1
        rows.append((str(path), name, f"{i}:{filename}"))
    if missing := sorted(empty - set(job.instruments)):
        raise HTTPException(400, f"instrument '{missing[0]}': no recordings (choose at least one file for it)")
    return rows


def _write_examples(job: TeachJob, rows: list[tuple[str, str, str]]) -> None:
    """The job's CSV of path, instrument, recording (:func:`saz.teach.examples.read_examples`)."""
    with open(job.examples, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "instrument", "recording"])
        writer.writerows(rows)


async def _base(base: str, started: Served) -> tuple[str, Any]:
    """The model a job teaches on and its vocabulary: 'server', the one the server was started with
    (a taught model is no base to teach on: a job teaches all its instruments at once), or
    'default', the bundled one; 400 for others."""
    if base not in BASES:
        raise HTTPException(400, f"base must be one of {', '.join(BASES)}, got '{base}'")
    if base == "server":
        return started.source, started.predictor.vocab
    try:
        return "default", (await anyio.to_thread.run_sync(load_predictor, "default")).vocab
    except CheckpointError as e:
        raise HTTPException(400, f"base 'default': {e}") from None


def add_teach_routes(app: FastAPI, teacher: TeachJobs, max_upload_mb: float) -> None:
    """The teach endpoints of ``app``, whose ``app.state.served`` is the :class:`Served` model (now: the model it starts with)."""
    started: Served = app.state.served

    @app.post("/api/teach", status_code=202, openapi_extra=TEACH_BODY, summary="Teach from recordings")
    async def start(request: Request, base: str = "server", seed: int = 0) -> JSONResponse:
        """Teach the uploaded recordings (one 'instrument' field per 'file' field) on the model the server
        was started with ('server') or the bundled 'default'."""
        served: Served = app.state.served
        source, vocab = await _base(base, started)
        job = teacher.reserve(served.taught_by)
        try:
            async with request.form() as form:
                rows = await _saved(form, job, max_upload_mb)
            plan_classes([r[1] for r in rows], vocab)
            _write_examples(job, rows)
        except TeachError as e:
            teacher.drop(job)
            raise HTTPException(400, str(e)) from None
        except BaseException:
            teacher.drop(job)
            raise
        teacher.start(job, source, seed)
        return JSONResponse(job.status(served), status_code=202, headers={"Location": f"/api/teach/{job.id}"})

    @app.get("/api/teach/{job_id}", summary="Teach job")
    def status(job_id: str) -> dict:
        """How far the job is: its stage and fraction, the recordings skipped, and once done what it taught."""
        return teacher.get(job_id).status(app.state.served)

    @app.get("/api/teach/{job_id}/model.pt", summary="Taught model")
    def model(job_id: str) -> FileResponse:
        """The taught checkpoint (``saz predict --model``, ``saz serve --model``)."""
        return FileResponse(_done(teacher.get(job_id)).model, media_type="application/octet-stream",
                            filename=f"saz-taught-{job_id}.pt")

    @app.post("/api/teach/{job_id}/use", summary="Serve the taught model")
    async def use(job_id: str) -> dict:
        """Serve the taught model from now on; answers what ``GET /api/model`` now says."""
        job = _done(teacher.get(job_id))
        predictor = await anyio.to_thread.run_sync(load_predictor, job.model)
        served: Served = app.state.served
        taught = ", ".join(f"{r['class']} ({r['kind']}, {r['recordings']} recordings)" for r in job.classes or [])
        card = f"Taught on this server by teach job {job_id}, on top of {job.base}: {taught}."
        app.state.served = served.replaced(predictor, str(job.model), card, job_id)
        return app.state.served.about


def _done(job: TeachJob) -> TeachJob:
    """``job`` once it has taught a model; 409 before."""
    if job.state != "done":
        raise HTTPException(409, f"teach job {job.id} is {job.state}" + (f": {job.error}" if job.error else ", not done yet"))
    return job
