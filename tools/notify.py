"""What a button that calls AvidXchange answers: a notification saying what
happened, sticky when something failed, and the view reloaded after."""


def notification(title, message, kind="success", reload=True):
    """A ``display_notification`` client action (``kind``: success, warning,
    danger)."""
    params = {"title": title, "message": message, "type": kind, "sticky": kind == "danger"}
    if reload:
        params["next"] = {"type": "ir.actions.client", "tag": "soft_reload"}
    return {"type": "ir.actions.client", "tag": "display_notification", "params": params}
