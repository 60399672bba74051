import { registry } from "@web/core/registry";

// An AP lead looks at the connection's card, opens the rejected bills from it;
// a controller compares Odoo with AvidXchange (see tests/test_reconciliation.py).
registry.category("web_tour.tours").add("account_avidxchange_overview", {
    steps: () => [
        {
            content: "The connection's card says how the sync is doing",
            trigger: ".o_kanban_record:contains('Healthy')",
        },
        {
            content: "Open the rejected bills from the card",
            trigger: ".o_kanban_record a:contains('Rejected')",
            run: "click",
        },
        {
            content: "The rejected bill is listed",
            trigger: ".o_list_view .o_data_row:contains('REJECTED-1')",
        },
    ],
});

registry.category("web_tour.tours").add("account_avidxchange_reconciliation", {
    steps: () => [
        {
            content: "Compare Odoo with AvidXchange",
            trigger: "button[name='action_compare']",
            run: "click",
        },
        {
            content: "The report says what differs",
            trigger: ".alert-warning:contains('differences')",
        },
        {
            content: "The rejected bill's status is a difference",
            trigger: ".o_field_one2many[name='line_ids'] .o_data_row:contains('Rejected')",
        },
    ],
});
