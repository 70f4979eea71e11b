/* Swagger UI on /docs, from swagger-ui-dist served by this service; no validator or other host. */
window.addEventListener('DOMContentLoaded', function () {
  fetch('/openapi.json')
    .then(function (res) {
      return res.json();
    })
    .then(function (spec) {
      // OpenAPI 3.1's default JSON Schema dialect is 2020-12 already; Swagger UI flags the explicit
      // `jsonSchemaDialect` field with an error banner, so the UI is given the document without it
      // (the served /openapi.json is unchanged).
      if (spec && spec.jsonSchemaDialect === 'https://json-schema.org/draft/2020-12/schema')
        delete spec.jsonSchemaDialect;
      window.ui = window.SwaggerUIBundle({
        spec: spec,
        dom_id: '#swagger-ui',
        // No call to swagger.io's validator.
        validatorUrl: null,
        deepLinking: true,
        // The Authorize button comes from the document's bearer security scheme; keep what was
        // entered across reloads of this tab.
        persistAuthorization: true,
        onComplete: function () {
          // Signed in to the console in this tab: "Try it out" calls carry the same token.
          var token = null;
          try {
            token = window.sessionStorage.getItem('et.token');
          } catch (e) {
            token = null;
          }
          if (token) window.ui.preauthorizeApiKey('bearer', token);
        },
      });
    });
});
