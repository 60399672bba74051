from odoo import api, models


class AvidxchangeStreamHandler(models.AbstractModel):
    """The one registry of kinds: a model that owns a kind of record inherits
    this and declares its kind here, and every stream, scheduled action,
    audit trail operation and health line finds the kind from it.

    Adding a kind is one model file (plus its views): it inherits
    ``avidxchange.link.mixin`` (records sent to AvidXchange) or
    ``avidxchange.payment``'s inbound shape, declares ``_avidxchange_kind``
    (``tools/stream_kinds.py``) and implements the hooks below. The stream's
    kind and the trail's operation are selections computed from this
    registry, so no list of kinds is kept anywhere else (Odoo's payment providers add their code
    with ``selection_add`` from the module that brings them; within one
    module a computed selection does the same without a second file).
    """

    _name = "avidxchange.stream.handler"
    _description = "AvidXchange Record Kind"

    # The kind this model owns (a ``tools.stream_kinds.StreamKind``: its
    # name, label, order, defaults and scheduled action); None on abstract
    # shapes (the link mixin).
    _avidxchange_kind = None

    # === REGISTRY === #

    @api.model
    def _avidxchange_handlers(self):
        """``{kind: model name}`` of every model that owns a kind, in the
        order a cycle runs them."""
        registry = self.env.registry
        kinds = sorted(
            (Model._avidxchange_kind.order, Model._avidxchange_kind.name, name)
            for name in registry.descendants([self._name], "_inherit")
            for Model in [registry[name]]
            if Model._avidxchange_kind and not Model._abstract
        )
        return {kind: name for _order, kind, name in kinds}

    @api.model
    def _avidxchange_kinds(self):
        """``{kind: StreamKind}``, in the order a cycle runs them."""
        registry = self.env.registry
        return {
            kind: registry[name]._avidxchange_kind
            for kind, name in self._avidxchange_handlers().items()
        }

    @api.model
    def _avidxchange_kind_selection(self):
        """The kinds as a selection, in the user's language."""
        lang = self.env.lang or "en_US"
        return [
            (kind, _label(spec.label, kind, lang))
            for kind, spec in self._avidxchange_kinds().items()
        ]

    @api.model
    def _avidxchange_handler(self, kind):
        """The model that owns ``kind``."""
        return self.env[self._avidxchange_handlers()[kind]]

    @api.model
    def _avidxchange_inbound_kinds(self):
        return {kind for kind, spec in self._avidxchange_kinds().items() if spec.inbound}

    @api.model
    def _avidxchange_cron_kinds(self, cron):
        return [kind for kind, spec in self._avidxchange_kinds().items() if spec.cron == cron]

    # === HOOKS: what a stream asks of the model that owns its kind === #

    @api.model
    def _avidxchange_stream_batch(self, stream, batch_size):
        """Do one batch of ``stream``'s work; return ``(done, still waiting)``.
        Raise ``AvidXchangeError`` or ``UserError`` for a failure of the whole
        connection (noted on the stream)."""
        raise NotImplementedError(self._name)

    @api.model
    def _avidxchange_waiting_count(self, backend):
        """How many records wait for this kind's stream of ``backend``."""
        raise NotImplementedError(self._name)

    @api.model
    def _avidxchange_requeue_failed(self, backend):
        """Queue again what failed, for a replay from the audit trail."""
        raise NotImplementedError(self._name)


def _label(label, kind, lang):
    if not label:
        return kind
    return label._translate(lang) if hasattr(label, "_translate") else str(label)
