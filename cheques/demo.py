"""Demo orders: one issued order of the demo funder (some booklets handed over) and one
order waiting in the operator's queue. Running it twice changes nothing."""

from .lifecycle import distribute_booklet
from .models import Booklet, Order
from .ordering import approve_order, create_order

WAITING_WORDING = "Démo — commande en attente"
ISSUED_WORDING = "Démo — commande émise"


def load(accounts, stdout):
    funder, financeur, operateur = accounts["funder"], accounts["financeur"], accounts["operateur"]
    if not Order.objects.filter(funder=funder, custom_wording=ISSUED_WORDING).exists():
        order = create_order(funder=funder, created_by=financeur, booklets=5,
                             cheques_per_booklet=10, territory=["33"],
                             custom_wording=ISSUED_WORDING, contact_name="François Financeur",
                             contact_email=financeur.email)
        order = approve_order(order, actor=operateur)
        for booklet in Booklet.objects.filter(order=order).order_by("number")[:2]:
            distribute_booklet(booklet.number, actor=accounts["prescripteur"],
                               age_bracket=Booklet.AgeBracket.FROM_65_TO_79,
                               postcode="33000", situation=Booklet.Situation.RETIRED)
        stdout.write(f"Commande émise n° {order.pk} (5 carnets de 10 chèques).\n")
    if not Order.objects.filter(funder=funder, custom_wording=WAITING_WORDING).exists():
        order = create_order(funder=funder, created_by=financeur, booklets=20,
                             cheques_per_booklet=10, custom_wording=WAITING_WORDING,
                             contact_name="François Financeur", contact_email=financeur.email)
        stdout.write(f"Commande n° {order.pk} en attente de validation.\n")
