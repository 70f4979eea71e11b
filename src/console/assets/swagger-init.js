/* Swagger UI on /docs, from swagger-ui-dist served by this service; no validator or other host. */
window.addEventListener('DOMContentLoaded', function () {
  window.ui = window.SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    validatorUrl: null,
    deepLinking: true,
  });
});
