"""The upload → preview → confirm pages of an Excel import, shared by the territory
and department imports. Each app's views declare their own access rule and call
an ``ImportPages``; the checks and the write are ``jindu.core.excel_import``'s."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

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
from jindu.orgs.forms import ImportUploadForm

# Errors listed on the preview page; the rest are in the downloadable file.
ERRORS_SHOWN = 300


class TemplateExporter(Exporter):
    """An empty sheet with the spec's headers, to be filled in."""

    def __init__(self, spec: type[ImportSpec]) -> None:
        self.title = f"{spec.title}导入模板"
        self.columns = [Column(f.header, 40 if f.key == "duties" else 18) for f in spec.fields]

    def rows(self) -> list[list[Any]]:
        return []


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
                try:
                    preview = validate(self.make_spec(request, options), data, filename=upload.name)
                except ImportFileError as exc:
                    form.add_error("file", str(exc))
                else:
                    token = stash_upload(
                        user=request.user, data=data, filename=upload.name, options=options
                    )
                    save_outcome(
                        user=request.user,
                        token=token,
                        outcome={
                            "preview": preview.summary(error_limit=ERRORS_SHOWN),
                            "rejected": preview.rejected(),
                            "result": None,
                        },
                    )
                    return redirect(self.preview_url, token=token)
        return render(request, self.upload_template, self._context(form=form))

    def preview(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            outcome = read_outcome(user=request.user, token=token)
        except StashMissing as exc:
            raise Http404(_("导入记录不存在或已过期")) from exc
        already_written = bool(outcome["result"] and outcome["result"]["written"])
        if request.method == "POST" and not already_written:
            return self._confirm(request, token)
        summary = outcome["preview"]
        return render(
            request,
            self.preview_template,
            self._context(
                token=token,
                summary=summary,
                result=outcome["result"],
                rejected_count=len(outcome["rejected"]["rows"]),
                rejected_href=reverse(self.rejected_url, kwargs={"token": token}),
                more_errors=summary["error_count"] - len(summary["errors"]),
            ),
        )

    def _confirm(self, request: HttpRequest, token: str) -> HttpResponse:
        here = reverse(self.preview_url, kwargs={"token": token})
        try:
            data, filename, options = read_upload(user=request.user, token=token)
        except StashMissing:
            messages.error(request, _("上传的文件已过期，请重新上传"))
            return redirect(self.upload_url)
        spec = self.make_spec(request, options)
        try:
            preview = validate(spec, data, filename=filename)
            partial = request.POST.get("mode") == "partial"
            result = commit(preview, partial=partial)
        except (ImportFileError, ImportWriteError) as exc:
            messages.error(request, str(exc))
            return redirect(here)
        save_outcome(
            user=request.user,
            token=token,
            outcome={
                "preview": preview.summary(error_limit=ERRORS_SHOWN),
                "rejected": preview.rejected(),
                "result": result.as_dict(),
            },
        )
        if result.written:
            drop_upload(user=request.user, token=token)
            messages.success(
                request,
                _("导入完成：新增%(c)d条，更新%(u)d条，无变化%(n)d条，未导入%(r)d条")
                % {
                    "c": result.counts.get("created", 0),
                    "u": result.counts.get("updated", 0),
                    "n": result.counts.get("unchanged", 0),
                    "r": result.rejected,
                },
            )
        else:
            messages.error(
                request,
                _("有%(n)d行有误，未导入任何数据。请修改后重新上传。") % {"n": result.rejected},
            )
        return redirect(here)

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
