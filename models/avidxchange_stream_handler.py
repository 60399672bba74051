from odoo import api, models


class AvidxchangeStreamHandler(models.AbstractModel):
    """The one registry of kinds: a model that owns a kind of record inherits
    this and declares its kind here, and every stream, scheduled action,
    audit trail operation and health line finds the kind from it.

    Adding a kind is one model file (plus its views): it inherits
    ``avidxchange.link.mixin`` (records sent to AvidXchange) or
    ``avidxchange.payment``'s inbound shape, sets ``_avidxchange_kind`` and
    its label, and implements the hooks below. The stream's kind and the
    trail's operation are selections computed from this registry, so no list
    of kinds is kept anywhere else (Odoo's payment providers add their code
    with ``selection_add`` from the module that brings them; within one
    module a computed selection does the same without a second file).
    """

    _name = "avidxchange.stream.handler"
    _description = "AvidXchange Record Kind"

    # The kind this model owns: the stream's kind and the audit trail's
    # operation. Left empty on abstract shapes (the link mixin).
    _avidxchange_kind = None
    # What the interface calls the kind (plural, a stream's name).
    _avidxchange_kind_label = None
    # Inbound kinds read AvidXchange on every run; outgoing ones call it only
    # when something waits to go.
    _avidxchange_inbound = False
    # Where its stream comes in a cycle: what bills refer to (codes,
    # vendors, orders) goes before them.
    _avidxchange_sequence = 100
    # A new connection's defaults for this kind's stream.
    _avidxchange_interval = 30
    _avidxchange_batch_size = 50
    # The scheduled action that runs it (``_cron_run``'s argument).
    _avidxchange_cron = "export_records"

    # === REGISTRY === #

    @api.model
    def _avidxchange_handlers(self):
        """``{kind: model name}`` of every model that owns a kind, in the
        order a cycle runs them."""
        models_by_kind = {}
        for name in self.env.registry.descendants([self._name], "_inherit"):
            kind = self.env.registry[name]._avidxchange_kind
            if kind and not self.env.registry[name]._abstract:
                models_by_kind[kind] = name
        return dict(
            sorted(
                models_by_kind.items(),
                key=lambda item: (self.env.registry[item[1]]._avidxchange_sequence, item[0]),
            )
        )

    @api.model
    def _avidxchange_kind_selection(self):
        """The kinds as a selection, in the user's language."""
        lang = self.env.lang or "en_US"
        return [
            (kind, _label(self.env.registry[name]._avidxchange_kind_label, kind, lang))
            for kind, name in self._avidxchange_handlers().items()
        ]

    @api.model
    def _avidxchange_handler(self, kind):
        """The model that owns ``kind``."""
        return self.env[self._avidxchange_handlers()[kind]]

    @api.model
    def _avidxchange_inbound_kinds(self):
        return {
            kind
            for kind, name in self._avidxchange_handlers().items()
            if self.env.registry[name]._avidxchange_inbound
        }

    @api.model
    def _avidxchange_cron_kinds(self, cron):
        return [
            kind
            for kind, name in self._avidxchange_handlers().items()
            if self.env.registry[name]._avidxchange_cron == cron
        ]

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
