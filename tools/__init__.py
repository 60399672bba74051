"""Plain Python, no ORM: the AvidXchange HTTP client and its helpers."""
