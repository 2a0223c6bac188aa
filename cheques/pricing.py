"""The price of an order, in integer cents: its cheques at face value plus the operator's fee
per booklet. Orders, the order form's live price, the summary, quotes and invoices all read
it here."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    cheques_cents: int
    fees_cents: int

    @property
    def total_cents(self):
        return self.cheques_cents + self.fees_cents


def price(*, booklets, cheques_per_booklet, face_value_cents, per_booklet_fee_cents):
    return Price(cheques_cents=booklets * cheques_per_booklet * face_value_cents,
                 fees_cents=booklets * per_booklet_fee_cents)
