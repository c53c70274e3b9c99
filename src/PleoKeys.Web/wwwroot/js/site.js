// PleoKeys conveniences. Everything works without this file; it adds Copy, Test key, row clicks,
// the delete dialog and focus on the first error. No inline script anywhere (the CSP forbids it).
(function () {
    "use strict";

    // A key's row opens its details, as the seed describes ("click the specific row").
    document.querySelectorAll("tr[data-href]").forEach(function (row) {
        row.addEventListener("click", function (e) {
            if (e.target.closest("a, button, input")) return;
            window.location.href = row.getAttribute("data-href");
        });
    });

    function announce(text) {
        var status = document.querySelector(".copy-status");
        if (status) { status.textContent = ""; window.setTimeout(function () { status.textContent = text; }, 50); }
    }

    // Copy buttons (hidden in the markup: without script the key is selected and copied by hand).
    document.querySelectorAll("[data-copy-from]").forEach(function (button) {
        button.hidden = false;
        var label = button.textContent;
        // The words come from the page, in its language (data-text-* on .reveal), English when absent.
        var words = (button.closest(".reveal") || document.body).dataset;
        button.addEventListener("click", function () {
            var source = document.getElementById(button.getAttribute("data-copy-from"));
            var done = function () {
                button.textContent = words.textCopied || "Copied";
                announce(words.textCopiedAnnounce || "Copied to the clipboard");
                window.setTimeout(function () { button.textContent = label; }, 2000);
            };
            if (navigator.clipboard && navigator.clipboard.writeText) {
                navigator.clipboard.writeText(source.value).then(done, function () { source.select(); announce(words.textPressCtrlC || "Press Ctrl+C to copy"); });
            } else {
                source.select();
                announce(words.textPressCtrlC || "Press Ctrl+C to copy");
            }
        });
    });

    // Test key: calls the API with the new key, as an integration's first call would.
    document.querySelectorAll("[data-test-key]").forEach(function (button) {
        button.hidden = false;
        var hint = document.getElementById(button.getAttribute("aria-describedby"));
        if (hint) hint.hidden = false;
        var reveal = button.closest(".reveal");
        var result = reveal.querySelector(".test-result");
        var words = reveal.dataset;
        button.addEventListener("click", function () {
            var key = document.getElementById(button.getAttribute("data-test-key")).value;
            result.className = "test-result";
            result.textContent = words.textTesting || "Testing…";
            fetch("/v1/installations/me", {
                headers: { "Authorization": "Basic " + btoa(key + ":"), "Accept": "application/json" },
                credentials: "omit",
                cache: "no-store"
            }).then(function (response) {
                return response.json().then(function (body) { return { ok: response.ok, body: body }; });
            }).then(function (r) {
                if (r.ok) {
                    var id = (r.body.resource || "").split(":").pop();
                    result.className = "test-result ok";
                    // "Connected to {0} ({1})": the reach's name, and "Company ID …" or "Organisation ID …" in the page's words.
                    result.textContent = (words.textConnected || "Connected to {0} ({1})")
                        .replace("{0}", reveal.getAttribute("data-company-name"))
                        .replace("{1}", (words.textReachId || (reveal.getAttribute("data-reach-kind") + " ID {0}")).replace("{0}", id));
                } else {
                    result.className = "test-result bad";
                    // The page's own words first; the API's problem detail after them, marked as the English it is.
                    result.textContent = words.textRefused || "The key was refused.";
                    var detail = r.body.detail || r.body.title;
                    if (detail) {
                        var english = document.createElement("span");
                        english.className = "test-detail";
                        english.lang = "en";
                        english.textContent = detail;
                        result.append(" ", english);
                    }
                }
            }).catch(function () {
                result.className = "test-result bad";
                result.textContent = words.textUnreachable || "Could not reach the API. Check your connection and try again.";
            });
        });
    });

    // Delete: a modal dialog. showModal makes the page behind it inert; Tab and Shift+Tab are also
    // kept going round the dialog's own controls (rather than out to the browser's toolbar), and
    // closing it (Cancel, Escape) puts focus back on the button that opened it.
    document.querySelectorAll("[data-open-dialog]").forEach(function (opener) {
        var dialog = document.getElementById(opener.getAttribute("data-open-dialog"));
        if (!dialog || typeof dialog.showModal !== "function") return;
        opener.addEventListener("click", function (e) {
            e.preventDefault();
            dialog.showModal();
            var cancel = dialog.querySelector("[data-close-dialog]");
            if (cancel) cancel.focus();
        });
        dialog.querySelectorAll("[data-close-dialog]").forEach(function (b) {
            b.addEventListener("click", function () { dialog.close(); });
        });
        dialog.addEventListener("keydown", function (e) {
            if (e.key !== "Tab") return;
            var focusable = Array.prototype.filter.call(
                dialog.querySelectorAll("a[href], button:not([disabled]), input:not([disabled]), select, textarea, [tabindex]:not([tabindex='-1'])"),
                function (el) { return el.offsetParent !== null; });
            if (focusable.length === 0) return;
            var first = focusable[0], last = focusable[focusable.length - 1];
            if (e.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
                e.preventDefault();
                last.focus();
            } else if (!e.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
                e.preventDefault();
                first.focus();
            }
        });
        dialog.addEventListener("close", function () { opener.focus(); });
    });

    // After a failed submit, focus the first field with an error.
    var form = document.querySelector("form[data-focus-first-error]");
    if (form) {
        var invalid = form.querySelector("[aria-invalid='true']");
        if (invalid) invalid.focus();
    }
})();
