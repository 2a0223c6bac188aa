"""Models of printing (PDF cheque books): see cheques.printing."""

__all__ = []
