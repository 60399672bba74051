"""The simulator's own tests (admin API, faults, auto-advance, the command line),
plain ``unittest`` and ``requests``, no Odoo: from the module root,
``python -m unittest discover -s simulator/tests -t .``. What the client relies on
(the API contract) is pinned by the module's tests, ``tests/test_simulator.py``."""
