"""The audit log of the administrator's company, on screen and as CSV."""
from flask import Response, render_template, request, stream_with_context
from flask_login import current_user

from portal import pagination
from portal.admin import bp
from portal.admin.forms import AuditFilterForm
from portal.guards import company_admin
from portal.services import audit_log


def _filtered(company_id):
    form = AuditFilterForm(request.args)
    form.validate()
    select = audit_log.query(company_id, form.user.data or "", form.event.data or "",
                             form.since.data if not form.since.errors else None,
                             form.until.data if not form.until.errors else None)
    return form, select


def render_log(company_id, template: str):
    """The log page for a company (or every company); shared with the Service Center."""
    form, select = _filtered(company_id)
    if request.args.get("format") == "csv":
        return Response(stream_with_context(audit_log.csv_lines(select)), mimetype="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'})
    return render_template(template, form=form, result=pagination.paginate(select, pagination.requested()),
                           details_text=audit_log.details_text)


@bp.route("/audit")
@company_admin
def audit():
    return render_log(current_user.company_id, "admin/audit.html")
