using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace PleoKeys.Web.Api;

public static class OpenApiSetup
{
    /// <summary>The OpenAPI document at /openapi/v1.json: Basic auth with the key, and each endpoint's scope.</summary>
    public static IServiceCollection AddPleoOpenApi(this IServiceCollection services) =>
        services.AddOpenApi("v1", o =>
        {
            o.ShouldInclude = d => d.RelativePath is { } p && (p.StartsWith("v1/", StringComparison.Ordinal) || p.StartsWith("v2/", StringComparison.Ordinal));
            o.AddDocumentTransformer((document, context, _) =>
            {
                // The framework would name the request's Host here, which the client writes (see PublicUrls).
                document.Servers = [new OpenApiServer { Url = context.ApplicationServices.GetRequiredService<PublicUrls>().BaseUrl }];
                document.Info = new OpenApiInfo
                {
                    Title = "PleoKeys External API",
                    Version = "v1",
                    Description = "A Pleo-shaped API opened by standalone API keys. Authenticate with HTTP Basic: the key is the user name and the password is empty (curl -u 'KEY:').",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["basicAuth"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "basic",
                    Description = "The API key as the user name, an empty password.",
                };
                return Task.CompletedTask;
            });
            o.AddOperationTransformer((operation, context, _) =>
            {
                // An endpoint anyone may call (reporting exposed keys) asks for no key.
                if (context.Description.ActionDescriptor.EndpointMetadata.OfType<Microsoft.AspNetCore.Authorization.IAllowAnonymous>().Any())
                {
                    return Task.CompletedTask;
                }

                var scope = context.Description.ActionDescriptor.EndpointMetadata.OfType<RequiredScopeMetadata>().FirstOrDefault()?.Scope;
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement
                {
                    [new OpenApiSecuritySchemeReference("basicAuth", context.Document)] = scope is null ? [] : [scope],
                });
                if (scope is not null)
                {
                    operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
                    operation.Extensions["x-required-scope"] = new JsonNodeExtension(System.Text.Json.Nodes.JsonValue.Create(scope)!);
                }

                return Task.CompletedTask;
            });
        });
}
