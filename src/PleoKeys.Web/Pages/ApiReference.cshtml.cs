using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace PleoKeys.Web.Pages;

/// <summary>
/// The API reference, rendered on the server from the same OpenAPI document /openapi/v1.json serves. It replaced
/// Scalar's script bundle (issue 12, "Every page clean"): that page failed axe (missing ARIA attributes, low
/// contrast in its own theme), asked another origin for assets on a narrow screen, and put markup we do not
/// control on the page. This one is plain HTML with the app's styles: no script, nothing from elsewhere.
/// </summary>
public partial class ApiReferenceModel([FromKeyedServices("v1")] IOpenApiDocumentProvider documents, Microsoft.Extensions.Localization.IStringLocalizer<SharedResource> t) : PageModel
{
    public string Title { get; private set; } = "";
    public string Description { get; private set; } = "";
    public string ServerUrl { get; private set; } = "";
    public string AuthDescription { get; private set; } = "";
    public IReadOnlyList<(string Tag, IReadOnlyList<Operation> Operations)> Groups { get; private set; } = [];
    public IReadOnlyList<Schema> Schemas { get; private set; } = [];

    public sealed record Operation(string Anchor, string Method, string Path, string Summary, string Description,
        string? Scope, IReadOnlyList<Parameter> Parameters, Body? RequestBody, IReadOnlyList<Outcome> Responses);

    public sealed record Parameter(string Name, string In, TypeText Type, bool Required, string Description);

    public sealed record Body(string MediaType, TypeText Type, bool Required);

    public sealed record Outcome(string Status, string Description, TypeText? Type);

    public sealed record Schema(string Name, IReadOnlyList<Parameter> Properties);

    /// <summary>A type as shown: its words, and the schema it links to when it is one of the document's schemas.</summary>
    public sealed record TypeText(string Text, string? SchemaName);

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var document = await documents.GetOpenApiDocumentAsync(cancellationToken);
        // The serialized form (OpenAPI 3.1 JSON) is the contract the page shows, exactly as /openapi/v1.json has it.
        var json = JsonNode.Parse(await document.SerializeAsJsonAsync(OpenApiSpecVersion.OpenApi3_1, cancellationToken))!.AsObject();

        Title = Prose(Text(json["info"]?["title"]));
        Description = Prose(Text(json["info"]?["description"]));
        // Relative when the document names no server: the reference then describes this host, whatever it is.
        ServerUrl = Text(json["servers"]?[0]?["url"]).TrimEnd('/');
        AuthDescription = Prose(Text(json["components"]?["securitySchemes"]?["basicAuth"]?["description"]));

        var operations = new List<(string Tag, Operation Operation)>();
        foreach (var (path, item) in json["paths"]?.AsObject() ?? [])
        {
            foreach (var (method, value) in item!.AsObject())
            {
                if (value is not JsonObject op || method is "parameters" or "summary" or "description" or "servers")
                {
                    continue;
                }

                var parameters = (op["parameters"]?.AsArray() ?? []).Select(p => new Parameter(
                    Text(p!["name"]), Text(p["in"]), TypeOf(p["schema"]), p["required"]?.GetValue<bool>() == true, Text(p["description"]))).ToList();
                Body? body = null;
                if (op["requestBody"]?["content"]?.AsObject().FirstOrDefault() is { Key: { } mediaType, Value: { } content })
                {
                    body = new Body(mediaType, TypeOf(content["schema"]), op["requestBody"]?["required"]?.GetValue<bool>() == true);
                }

                var responses = (op["responses"]?.AsObject() ?? []).Select(r => new Outcome(
                    r.Key, ResponseText(r.Key, Text(r.Value?["description"])),
                    r.Value?["content"]?.AsObject().FirstOrDefault().Value?["schema"] is { } schema ? TypeOf(schema) : null)).ToList();
                var verb = method.ToUpperInvariant();
                operations.Add((Text(op["tags"]?[0]) is { Length: > 0 } tag ? tag : "Other", new Operation(
                    Anchor: $"{method}-{path.Trim('/').Replace('/', '-').Replace("{", "", StringComparison.Ordinal).Replace("}", "", StringComparison.Ordinal)}",
                    verb, path, Prose(Text(op["summary"])), Prose(Text(op["description"])), op["x-required-scope"]?.GetValue<string>(),
                    parameters, body, responses)));
            }
        }

        // Tags in the document's order; operations in the order they are mapped.
        var tagOrder = (json["tags"]?.AsArray() ?? []).Select(t => Text(t!["name"])).ToList();
        Groups = operations.GroupBy(o => o.Tag)
            .OrderBy(g => tagOrder.IndexOf(g.Key) is var i and >= 0 ? i : int.MaxValue)
            .Select(g => (g.Key, (IReadOnlyList<Operation>)g.Select(o => o.Operation).ToList()))
            .ToList();

        Schemas = (json["components"]?["schemas"]?.AsObject() ?? []).Select(s =>
        {
            var required = (s.Value?["required"]?.AsArray() ?? []).Select(Text).ToHashSet(StringComparer.Ordinal);
            return new Schema(s.Key, (s.Value?["properties"]?.AsObject() ?? []).Select(p => new Parameter(
                p.Key, "body", TypeOf(p.Value), required.Contains(p.Key), Text(p.Value?["description"]))).ToList());
        }).ToList();
    }

    /// <summary>
    /// The document's English prose in the page's language, where the resources have it; a scope named in a sentence stays
    /// as it is (`vendors:read`), and anything without a translation is shown as the document has it. The document itself
    /// (/openapi/v1.json) stays English, as integrators read it.
    /// </summary>
    private string Prose(string english)
    {
        if (ScopeSentence().Match(english) is { Success: true } m)
        {
            return t["Requires the scope {0}.", m.Groups[1].Value];
        }

        return t[english] is { ResourceNotFound: false } found ? found.Value : english;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^Requires the scope (`[^`]+`)\.$")]
    private static partial System.Text.RegularExpressions.Regex ScopeSentence();

    /// <summary>A response's description: the status's own name ("Too Many Requests") under its key "HTTP 429", else prose.</summary>
    private string ResponseText(string status, string english) =>
        int.TryParse(status, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var code)
            && english == Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(code)
            ? t["HTTP " + status]
            : Prose(english);

    /// <summary>The name of a group of operations (the document's tag) in the page's language.</summary>
    public string TagText(string tag) => Prose(tag);

    /// <summary>Where a schema's description is on the page.</summary>
    public static string SchemaAnchor(string name) => "schema-" + name;

    private static string Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var s) ? s : "";

    /// <summary>"string (date-time)", "array of string", "map of string", a schema's name; "or null" when it may be null.</summary>
    private static TypeText TypeOf(JsonNode? schema)
    {
        if (schema is null)
        {
            return new TypeText("any", null);
        }

        if (Text(schema["$ref"]) is { Length: > 0 } reference)
        {
            var name = reference[(reference.LastIndexOf('/') + 1)..];
            return new TypeText(name, name);
        }

        var types = schema["type"] switch
        {
            JsonArray array => array.Select(Text).ToList(),
            JsonValue value => [Text(value)],
            _ => [],
        };
        var nullable = types.Remove("null");
        var type = types.FirstOrDefault() ?? "any";
        TypeText text = type switch
        {
            "array" => TypeOf(schema["items"]) is var items ? new TypeText("array of " + items.Text, items.SchemaName) : null!,
            "object" when schema["additionalProperties"] is JsonObject values => TypeOf(values) is var v ? new TypeText("map of " + v.Text, v.SchemaName) : null!,
            _ => new TypeText(Text(schema["format"]) is { Length: > 0 } format ? $"{type} ({format})" : type, null),
        };
        return nullable ? text with { Text = text.Text + " or null" } : text;
    }
}
