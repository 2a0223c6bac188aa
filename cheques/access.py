"""Who may see or do what in the cheques app: the one place that answers.

The rule, everywhere (pages, API, domain functions):
- a kind of page or resource your role does not use at all answers 403 (the same for every
  object, so it tells nothing about any of them);
- among the objects of a kind you use, one you may not see answers exactly as one that does
  not exist (404, no existence oracle);
- an action you may not take on an object you can see answers 403.

`may_*` answer a question; `require` turns a "no" into the refusal (aptic.errors), so that
domain functions check their actor the same way whoever calls them: a page, the API, a task
(actor None: the platform itself) or the shell.
"""

from django.utils.translation import gettext as _

from aptic.errors import DomainError
from aptic.models import Organisation, Role
from aptic.permissions import (
    PLACE_ROLES,
    is_operator,
    may_act_for_funder,
    may_act_for_place,
    organisations_for,
    roles_of,
)

from .models import Order, PaymentBatch, Redemption, Statement


def require(allowed, detail=None):
    """Refuse (403) unless `allowed`."""
    if not allowed:
        raise DomainError("forbidden", detail or _("Vous n’avez pas le droit de faire cela."))


def not_found():
    return DomainError("not_found", _("Introuvable."))


def require_operator(user):
    require(is_operator(user), _("Seul l’opérateur peut faire cela."))


def may_act_as_platform(actor):
    """Tasks and commands act with no user (None): the platform itself."""
    return actor is None or is_operator(actor)


# --- orders --------------------------------------------------------------------------------


def managed_funders(user):
    """The funders this user orders for."""
    return organisations_for(user, Role.FUNDER_MANAGER).filter(
        kind=Organisation.Kind.FUNDER).order_by("name")


def may_order(user):
    return managed_funders(user).exists()


def may_follow_orders(user):
    """The order pages and the dashboards: the operator and funder managers."""
    return is_operator(user) or may_order(user)


def visible_orders(user):
    """The operator sees every order; a funder manager the orders of their funders."""
    orders = Order.objects.select_related("funder").prefetch_related("allowed_services")
    if is_operator(user):
        return orders
    return orders.filter(funder__in=organisations_for(user, Role.FUNDER_MANAGER))


def visible_order(user, pk):
    """The order `pk` for the operator and funder managers (403 for other roles), if this
    user may see it (else the refusal of an unknown order)."""
    require(may_follow_orders(user), _("Réservé aux financeurs et à l’opérateur."))
    order = visible_orders(user).filter(pk=pk).first()
    if order is None:
        raise not_found()
    return order


def may_decide(user, order=None):
    """Approve or reject an order: the operator."""
    return is_operator(user)


def may_withdraw(user, order):
    """Cancel an order not yet approved: the managers of the funder who ordered."""
    return managed_funders(user).filter(pk=order.funder_id).exists()


def may_extend(user, order=None):
    return is_operator(user)


# --- printing ------------------------------------------------------------------------------


def may_download(user, order):
    """The booklets' PDF, the quote and the invoice: the operator and the funder's managers."""
    return is_operator(user) or may_act_for_funder(user, order.funder_id)


def may_print(user):
    """Print, print again, reprint a booklet, restart a stalled job: the operator."""
    return is_operator(user)


# --- booklets and cheques ------------------------------------------------------------------


def may_hand_over_booklets(user):
    """Prescribers and funder managers hand booklets over (those of their funder)."""
    return is_operator(user) or bool(roles_of(user) & {Role.PRESCRIBER, Role.FUNDER_MANAGER})


def may_distribute(user, order):
    return is_operator(user) or may_act_for_funder(user, order.funder_id, distribute=True)


def may_move_booklets(user):
    """Move undistributed booklets between prescribers: funder managers (their funder's
    booklets) and the operator."""
    return is_operator(user) or may_order(user)


def may_move(user, order):
    return is_operator(user) or may_act_for_funder(user, order.funder_id)


def movable_to(user):
    """The prescriber organisations this user may move booklets to: those attached to the
    funders they manage (every one for the operator)."""
    prescribers = Organisation.objects.filter(kind=Organisation.Kind.PRESCRIBER)
    if is_operator(user):
        return prescribers.select_related("funder").order_by("name")
    return prescribers.filter(funder__in=managed_funders(user)).select_related(
        "funder").order_by("name")


def may_cancel_cheques(user):
    """Funder managers cancel their funder's booklets and cheques; so does the operator."""
    return is_operator(user) or may_order(user)


def may_cancel(user, order):
    return is_operator(user) or may_act_for_funder(user, order.funder_id)


def may_replace(user):
    """Replace a damaged or lost booklet (new codes, printed): the operator, who prints."""
    return is_operator(user)


def may_look_up(user):
    """Any mediator checks any cheque a beneficiary brings; so does the operator."""
    return is_operator(user) or bool(roles_of(user) & {Role.MEDIATOR, Role.PLACE_MANAGER})


def may_use_redemptions(user):
    """The scan page, the history, undoing: mediators and managers of places."""
    return organisations_for(user, *PLACE_ROLES).exists()


def visible_redemptions(user, *, include_undone=False):
    """Redemptions at the places the user works for, newest first (the history, narrowed
    by cheques.redemption.RedemptionFilter on the page and in the API)."""
    queryset = Redemption.objects.filter(
        structure__in=organisations_for(user, *PLACE_ROLES)
    ).select_related("cheque", "place", "service", "mediator")
    if not include_undone:
        queryset = queryset.filter(undone_at=None)
    return queryset


def visible_redemption(user, pk):
    """A redemption at one of the user's places (403 for roles without redemptions)."""
    require(may_use_redemptions(user), _("Réservé aux médiateurs et gestionnaires de lieu."))
    found = visible_redemptions(user, include_undone=True).filter(pk=pk).first()
    if found is None:
        raise not_found()
    return found


def may_undo(user, redemption):
    """The mediator who redeemed, or a manager of the place."""
    if redemption.mediator_id == user.pk and may_act_for_place(user, redemption.place):
        return True
    return may_act_for_place(user, redemption.place, Role.PLACE_MANAGER)


# --- reimbursement and the ledger ----------------------------------------------------------


def visible_statements(user):
    """The operator sees every statement; place managers those of their structures."""
    statements = Statement.objects.select_related("structure", "batch")
    if is_operator(user):
        return statements
    return statements.filter(structure__in=organisations_for(user, Role.PLACE_MANAGER))


def visible_statement(user, pk):
    require(may_see_statements(user), _("Réservé aux gestionnaires de lieu et à l’opérateur."))
    statement = visible_statements(user).filter(pk=pk).first()
    if statement is None:
        raise not_found()
    return statement


def visible_batch(user, pk):
    """Payment batches are the operator's alone."""
    require_operator(user)
    batch = PaymentBatch.objects.filter(pk=pk).first()
    if batch is None:
        raise not_found()
    return batch


def may_see_statements(user):
    return is_operator(user) or organisations_for(user, Role.PLACE_MANAGER).exists()


def may_correct_redemptions(user):
    """Correct a wrong redemption after its statement, grant a goodwill payment, read the
    bank's files: the operator (or the platform itself)."""
    return may_act_as_platform(user)


def may_see_ledger(user, order):
    return is_operator(user) or may_act_for_funder(user, order.funder_id)


# --- reporting -----------------------------------------------------------------------------


def reporting_scope(user, funder_id=None):
    """(orders, funders) a dashboard covers: the operator sees every funder, a funder manager
    their own; `funder_id` narrows to one of them, and a funder out of reach is unknown."""
    require(may_follow_orders(user), _("Réservé aux financeurs et à l’opérateur."))
    funders = (Organisation.objects.filter(kind=Organisation.Kind.FUNDER) if is_operator(user)
               else managed_funders(user))
    orders = visible_orders(user)
    if funder_id is not None:
        funder = funders.filter(pk=funder_id).first()
        if funder is None:
            raise not_found()
        orders = orders.filter(funder=funder)
    return orders, funders.order_by("name")
