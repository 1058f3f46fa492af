"""The upload → preview → confirm pages of an Excel import, shared by every import
(territory, departments, cases, ledgers, the people register). Each app's views
declare their own access rule and call an ``ImportPages``; the checks and the write
are ``jindu.core.excel_import``'s.

Checking a large sheet and writing it take seconds, so both run as background jobs
(``jindu.core.jobs``): the upload keeps the file in the encrypted stash
(``excel_stash``) and queues ``imports.validate``; the confirm queues
``imports.commit``. Meanwhile the preview page shows a progress panel that asks
for itself again every second (``?progress=1``, HTMX) and reloads the page once the
job is over; without JavaScript the page refreshes itself. The outcome (summary,
rejected rows, result) is kept in the stash, for the uploader only. A job is
shown to the user who queued it and to nobody else (404).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jindu.core import jobs
from jindu.core.excel import Column, Exporter, xlsx_response
from jindu.core.excel_import import (
    IMPORTS,
    ImportFileError,
    ImportSpec,
    ImportWriteError,
    RejectedRowsExporter,
    commit,
    max_upload_bytes,
    validate,
)
from jindu.core.excel_stash import (
    StashMissing,
    drop_upload,
    read_outcome,
    read_upload,
    save_outcome,
    stash_upload,
)
from jindu.core.models import Job
from jindu.orgs.forms import ImportUploadForm

# Errors listed on the preview page; the rest are in the downloadable file.
ERRORS_SHOWN = 300

VALIDATE_JOB = "imports.validate"
COMMIT_JOB = "imports.commit"
# A job queued longer than this (no worker took it) makes the page say whom to ask.
WAITING_LONG = timedelta(seconds=30)


class TemplateExporter(Exporter):
    """An empty sheet with the spec's headers, to be filled in."""

    def __init__(self, spec: type[ImportSpec]) -> None:
        self.title = f"{spec.title}导入模板"
        self.columns = [Column(f.header, 40 if f.key == "duties" else 18) for f in spec.fields]

    def rows(self) -> list[list[Any]]:
        return []


# Every import's pages by spec key: the background jobs find theirs here.
PAGES: dict[str, ImportPages] = {}


@dataclass
class ImportPages:
    spec_key: str
    # URL names: the upload page, the preview page (takes the token), the rejected
    # rows download (takes the token), the template download, and where "back" goes.
    upload_url: str
    preview_url: str
    rejected_url: str
    template_url: str
    back_url: str
    back_label: str
    # Builds the spec for the signed-in user from the options chosen at upload.
    make_spec: Callable[[HttpRequest, dict[str, Any]], ImportSpec]
    # The choices of county, for imports into one county (departments); else None.
    counties: Callable[[HttpRequest], list[Any]] | None = None
    # An app's own pages may extend these (to add a script or a note).
    upload_template: str = "orgs/import/upload.html"
    preview_template: str = "orgs/import/preview.html"
    job_template: str = "orgs/import/job.html"

    def __post_init__(self) -> None:
        PAGES[self.spec_key] = self

    @property
    def spec_class(self) -> type[ImportSpec]:
        return IMPORTS[self.spec_key]

    def _context(self, **extra: Any) -> dict[str, Any]:
        spec = self.spec_class
        return {
            "spec": spec,
            "fields": spec.fields,
            "pages": self,
            "back_href": reverse(self.back_url),
            "template_href": reverse(self.template_url),
            "upload_href": reverse(self.upload_url),
            "max_mb": max_upload_bytes() // (1024 * 1024),
            **extra,
        }

    def upload(self, request: HttpRequest) -> HttpResponse:
        counties = self.counties(request) if self.counties else []
        if self.counties and not counties:
            messages.error(request, _("您所在单位下没有县（区），无法导入成员单位"))
            return redirect(self.back_url)
        form = ImportUploadForm(request.POST or None, request.FILES or None, counties=counties)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > max_upload_bytes():
                form.add_error(
                    "file",
                    _("文件超过%(mb)d MB，请分成几个文件导入")
                    % {"mb": max_upload_bytes() // (1024 * 1024)},
                )
            else:
                options: dict[str, Any] = {}
                if counties:
                    options["county"] = int(form.cleaned_data.get("county") or counties[0].pk)
                data = upload.read()
                token = stash_upload(
                    user=request.user, data=data, filename=upload.name, options=options
                )
                job = self._enqueue(request, VALIDATE_JOB, token, options=options)
                if not job.failed:
                    return redirect(self.preview_url, token=token)
                # Checked at once (jobs run inline): a file that cannot be read is
                # explained on the upload form.
                form.add_error("file", _(job.error))
        return render(request, self.upload_template, self._context(form=form))

    def preview(self, request: HttpRequest, token: str) -> HttpResponse:
        here = reverse(self.preview_url, kwargs={"token": token})
        job = self._job(request, token)
        if "progress" in request.GET:
            return self._progress(request, job, token)
        if job is not None and job.active:
            # Being checked or written: the progress panel (a second confirm is ignored).
            if request.method == "POST":
                return redirect(here)
            return self._job_page(request, job, token)
        try:
            outcome = read_outcome(user=request.user, token=token)
        except StashMissing as exc:
            if job is not None and job.failed:
                # The check itself failed (not an Excel file …): nothing to preview.
                return self._job_page(request, job, token)
            raise Http404(_("导入记录不存在或已过期")) from exc
        already_written = bool(outcome["result"] and outcome["result"]["written"])
        if request.method == "POST" and not already_written:
            return self._confirm(request, token)
        summary = outcome["preview"]
        # A write that failed (someone changed the same data …) wrote nothing: the
        # preview stands and may be confirmed again.
        write_failed = job is not None and job.failed and job.kind == COMMIT_JOB
        return render(
            request,
            self.preview_template,
            self._context(
                token=token,
                summary=summary,
                result=outcome["result"],
                job_error=job.error if write_failed and not already_written else "",
                rejected_count=len(outcome["rejected"]["rows"]),
                rejected_href=reverse(self.rejected_url, kwargs={"token": token}),
                more_errors=summary["error_count"] - len(summary["errors"]),
            ),
        )

    def _confirm(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            _data, _filename, options = read_upload(user=request.user, token=token)
        except StashMissing:
            messages.error(request, _("上传的文件已过期，请重新上传"))
            return redirect(self.upload_url)
        partial = request.POST.get("mode") == "partial"
        self._enqueue(request, COMMIT_JOB, token, partial=partial, options=options)
        return redirect(self.preview_url, token=token)

    # -- the background jobs and their progress

    def _enqueue(self, request: HttpRequest, kind: str, token: str, **params: Any) -> Job:
        return jobs.enqueue(
            actor=request.user,
            kind=kind,
            params={"spec": self.spec_key, "token": token, **params},
        )

    def _job(self, request: HttpRequest, token: str) -> Job | None:
        """The latest job of this upload, if the signed-in user queued it."""
        return (
            Job.objects.filter(
                actor=request.user,
                kind__in=(VALIDATE_JOB, COMMIT_JOB),
                params__spec=self.spec_key,
                params__token=token,
            )
            .order_by("-pk")
            .first()
        )

    def _job_context(self, job: Job, token: str) -> dict[str, Any]:
        here = reverse(self.preview_url, kwargs={"token": token})
        waited = timezone.now() - job.created_at
        return self._context(
            token=token,
            job=job,
            here=here,
            poll_href=f"{here}?progress=1",
            writing=job.kind == COMMIT_JOB,
            waiting_long=job.status == Job.Status.QUEUED and waited > WAITING_LONG,
        )

    def _job_page(self, request: HttpRequest, job: Job, token: str) -> HttpResponse:
        return render(request, self.job_template, self._job_context(job, token))

    def _progress(self, request: HttpRequest, job: Job | None, token: str) -> HttpResponse:
        """The progress panel alone, for the page's poll; once the job is over, the page
        is reloaded (it then shows the preview, the result or the error)."""
        if job is None:
            raise Http404(_("导入记录不存在或已过期"))
        if job.active:
            return render(request, "orgs/import/_job.html", self._job_context(job, token))
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return redirect(self.preview_url, token=token)

    def check_in_background(self, job: Job, progress: jobs.Progress) -> dict[str, Any]:
        """The ``imports.validate`` job: read and check the stashed sheet, keep the preview."""
        try:
            preview = self._checked(
                job, progress, out_of_scope=_("所选单位已不在您的管辖范围内，请重新上传")
            )
        except ImportFileError as exc:
            # The file cannot be imported at all: it need not be kept.
            drop_upload(user=job.actor, token=job.params["token"])
            raise jobs.JobFailed(str(exc)) from exc
        progress(_("保存检查结果"))
        summary = preview.summary(error_limit=ERRORS_SHOWN)
        outcome = {"preview": summary, "rejected": preview.rejected(), "result": None}
        save_outcome(user=job.actor, token=job.params["token"], outcome=outcome)
        progress.hold(preview)  # freed once the job has recorded its end
        return {k: summary[k] for k in ("rows_read", "valid", "invalid")}

    def write_in_background(self, job: Job, progress: jobs.Progress) -> dict[str, Any]:
        """The ``imports.commit`` job: check the stashed sheet again and write it."""
        out_of_scope = _("所选单位已不在您的管辖范围内，未写入任何数据，请重新上传")
        try:
            preview = self._checked(job, progress, out_of_scope=out_of_scope, for_write=True)
            result = commit(preview, partial=bool(job.params.get("partial")), progress=progress)
        except (ImportFileError, ImportWriteError) as exc:
            raise jobs.JobFailed(str(exc)) from exc
        progress(_("保存导入结果"))
        outcome = {
            "preview": preview.summary(error_limit=ERRORS_SHOWN),
            "rejected": preview.rejected(),
            "result": result.as_dict(),
        }
        save_outcome(user=job.actor, token=job.params["token"], outcome=outcome)
        if result.written:
            drop_upload(user=job.actor, token=job.params["token"])
        progress.hold(preview)  # freed once the job has recorded its end
        return outcome["result"]

    def _checked(
        self, job: Job, progress: jobs.Progress, *, out_of_scope: str, for_write: bool = False
    ) -> Any:
        """The stashed sheet of a job, read and checked for the job's user as its spec
        (``for_write``: to be written at once)."""
        data, filename, options = _stashed(job)
        try:
            spec = self.make_spec(_request_for(job.actor), job.params.get("options", options))
        except Http404 as exc:
            raise jobs.JobFailed(out_of_scope) from exc
        return validate(spec, data, filename=filename, progress=progress, for_write=for_write)

    def rejected(self, request: HttpRequest, token: str) -> HttpResponse:
        from jindu.core.excel import export_response

        try:
            outcome = read_outcome(user=request.user, token=token)
        except StashMissing as exc:
            raise Http404(_("导入记录不存在或已过期")) from exc
        spec = self.spec_class
        exporter = RejectedRowsExporter(
            outcome["rejected"]["headers"],
            outcome["rejected"]["rows"],
            title=f"{spec.title}导入错误行",
            personal=spec.contains_personal_data,
        )
        return export_response(
            exporter,
            actor=request.user,
            object_type=spec.object_type,
            detail={"import": spec.key, "rejected_rows": True},
        )

    def template(self, request: HttpRequest) -> HttpResponse:
        exporter = TemplateExporter(self.spec_class)
        content, _count = exporter.render()
        return xlsx_response(content, f"{exporter.title}.xlsx")


# ------------------------------------------------------------------ the background jobs


def _request_for(user: Any) -> HttpRequest:
    """``make_spec`` reads the signed-in user from the request; in the worker, a request
    that carries the job's user stands in for it."""
    request = HttpRequest()
    request.user = user
    return request


def _stashed(job: Job) -> tuple[bytes, str, dict[str, Any]]:
    if job.actor is None:
        raise jobs.JobFailed(_("导入须由登录的用户发起"))
    try:
        return read_upload(user=job.actor, token=job.params.get("token", ""))
    except StashMissing as exc:
        raise jobs.JobFailed(_("上传的文件已过期，请重新上传")) from exc


def _pages(job: Job) -> ImportPages:
    key = job.params.get("spec", "")
    if key not in PAGES:
        jobs.load_tasks()  # the apps' views create their pages
    if key not in PAGES:
        raise jobs.JobFailed(_("系统中没有这种导入，请联系系统管理员"))
    return PAGES[key]


@jobs.task(VALIDATE_JOB, failure=gettext_lazy("后台检查中断，请重新上传文件"))
def _validate_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    return _pages(job).check_in_background(job, progress)


@jobs.task(COMMIT_JOB, failure=gettext_lazy("后台任务中断，未写入任何数据，请重新导入"))
def _commit_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    return _pages(job).write_in_background(job, progress)
