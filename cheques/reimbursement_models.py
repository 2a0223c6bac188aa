"""Models of reimbursement (statements, payouts) and of the funds ledger: see
cheques.reimbursement and cheques.ledger."""

__all__ = []
