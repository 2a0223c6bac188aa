"""The cheques app's models, one module per part of the money path; Django and the rest of
the code import them from here."""

from .distribution import BookletMove, IdleStockDigest
from .invoicing import Invoice, InvoiceSequence
from .ledger import LedgerEntry
from .orders import (
    MAX_BOOKLETS_PER_ORDER,
    MAX_CHEQUES_PER_BOOKLET,
    MAX_FACE_VALUE_CENTS,
    MAX_WORDING_LENGTH,
    Booklet,
    BookletSequence,
    Cheque,
    Order,
    PricingSettings,
    YearlySequence,
)
from .printing import PrintChunk, PrintJob
from .redemptions import IdempotentResponse, Redemption
from .reimbursement import (
    Adjustment,
    BankFile,
    PaymentBatch,
    Statement,
    StatementLine,
    Transfer,
)

__all__ = [
    "Adjustment", "BankFile", "BookletMove", "IdleStockDigest", "Transfer",
    "MAX_BOOKLETS_PER_ORDER", "MAX_CHEQUES_PER_BOOKLET", "MAX_FACE_VALUE_CENTS",
    "MAX_WORDING_LENGTH", "Booklet", "BookletSequence", "Cheque", "IdempotentResponse",
    "Invoice", "InvoiceSequence", "LedgerEntry", "Order", "PaymentBatch", "PricingSettings",
    "PrintChunk", "PrintJob", "Redemption", "Statement", "StatementLine", "YearlySequence",
]
