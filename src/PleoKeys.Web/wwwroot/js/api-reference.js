// Renders the OpenAPI document with Scalar's standalone bundle (served by the app, not a CDN).
(function () {
    "use strict";
    var app = document.getElementById("app");
    window.Scalar.createApiReference(app, {
        url: app.getAttribute("data-openapi-url"),
        withDefaultFonts: false,
        hideClientButton: true,
        showDeveloperTools: "never",
        agent: { disabled: true },
        authentication: { preferredSecurityScheme: "basicAuth" }
    });
})();
