"""Window actions the wizards answer with."""


def form_action(record, target="current", **extra):
    """The action that shows ``record`` in its form (``target``: ``"new"`` for a dialog)."""
    return {
        "type": "ir.actions.act_window",
        "res_model": record._name,
        "res_id": record.id,
        "view_mode": "form",
        "target": target,
        **extra,
    }
