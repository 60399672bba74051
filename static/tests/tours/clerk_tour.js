import { registry } from "@web/core/registry";

// An AP clerk finds the bills AvidXchange refused, reads why, sends one again
// and is told how it went (see tests/test_bill_status.py).
registry.category("web_tour.tours").add("account_avidxchange_clerk", {
    steps: () => [
        {
            content: "The bills list shows the AvidXchange status",
            trigger: ".o_list_view th[data-name='avidxchange_sync_status']",
        },
        {
            content: "Open the filters",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Filter the bills AvidXchange refused",
            trigger: ".o_filter_menu .o-dropdown-item:contains('AvidXchange: Error')",
            run: "click",
        },
        {
            content: "Open the refused bill",
            trigger: ".o_data_row:contains('TOUR-1') td.o_data_cell:first",
            run: "click",
        },
        {
            content: "Its AvidXchange tab",
            trigger: ".o_notebook .nav-link:contains('AvidXchange')",
            run: "click",
        },
        {
            content: "Read why",
            trigger: ".o_notebook .alert-danger:contains('Unknown GL code')",
        },
        {
            content: "Send it again",
            trigger: "button[name='action_avidxchange_send']",
            run: "click",
        },
        {
            content: "Be told how it went",
            trigger: ".o_notification:contains('1 sent to AvidXchange')",
        },
    ],
});
