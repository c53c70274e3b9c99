using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace PleoKeys.Web.Api;

/// <summary>
/// Answers an API request whose body the framework could not bind (malformed JSON, a value of the wrong type,
/// a date in another format, a number out of range, no body, not JSON) with problem details that name the
/// field and the form it expects, in every environment. The framework throws <see cref="BadHttpRequestException"/>
/// for these (<see cref="RouteHandlerOptions.ThrowOnBadRequest"/> is on everywhere, not only in Development)
/// and <see cref="JsonException.Path"/> says which field; the field's type comes from the endpoint's request
/// type through the same <see cref="JsonSerializerOptions"/> that bound it, so a new request type needs nothing here.
/// </summary>
public sealed class ApiBadRequests(IOptions<JsonOptions> json) : IExceptionHandler
{
    public const string DateTimeForm = "an ISO 8601 date-time such as 2026-12-31T00:00:00Z";

    /// <summary>The framework answers a body that is not JSON with a bare 415 (it does not throw for it); this is what ours says.</summary>
    public const string UnsupportedMediaTypeDetail = "Send the body as JSON, with 'Content-Type: application/json'.";

    /// <summary>
    /// Fills in what the framework's bare API problems leave out: a 415 says to send JSON, and a 500 says what the
    /// pages' error page says and nothing of the exception, in every environment.
    /// </summary>
    public static void Customize(ProblemDetailsContext context)
    {
        if (!PleoApi.IsApiPath(context.HttpContext.Request.Path))
        {
            return;
        }

        if (context.ProblemDetails.Status == StatusCodes.Status415UnsupportedMediaType)
        {
            context.ProblemDetails.Detail ??= UnsupportedMediaTypeDetail;
        }
        else if (context.ProblemDetails.Status == StatusCodes.Status500InternalServerError)
        {
            context.ProblemDetails.Title = "Something went wrong";
            context.ProblemDetails.Detail = "The request could not be completed. Try again; if it keeps failing, contact support.";
        }
    }

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad || !PleoApi.IsApiPath(httpContext.Request.Path) || httpContext.Response.HasStarted)
        {
            return false;
        }

        // The middleware clears the request's endpoint before it calls handlers; the feature keeps it.
        var endpoint = httpContext.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? httpContext.GetEndpoint();
        var requestType = endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;
        var result = bad.StatusCode switch
        {
            StatusCodes.Status415UnsupportedMediaType => TypedResults.Problem(statusCode: 415, title: "Unsupported content type", detail: UnsupportedMediaTypeDetail),
            StatusCodes.Status413PayloadTooLarge => TypedResults.Problem(statusCode: 413, title: "Body too large", detail: "The request body is too large."),
            _ when bad.InnerException is JsonException j => Describe(j, requestType),
            _ when requestType is not null => TypedResults.Problem(statusCode: 400, title: "Missing body",
                detail: $"This request needs a JSON object as its body, such as {Example(requestType)}."),
            // Binding messages name the parameter and the value given ('Failed to bind parameter "Guid id" from "x"'), never a stack.
            _ => TypedResults.Problem(statusCode: bad.StatusCode, title: "Bad request", detail: bad.Message),
        };
        await result.ExecuteAsync(httpContext);
        return true;
    }

    private IResult Describe(JsonException error, Type? requestType)
    {
        var (field, type) = Resolve(error.Path, requestType);
        if (field is null || type is null)
        {
            var where = error.LineNumber is { } line && error.BytePositionInLine is { } position
                ? string.Create(CultureInfo.InvariantCulture, $" (line {line + 1}, byte {position + 1})")
                : "";
            return TypedResults.Problem(statusCode: 400, title: "Malformed JSON",
                detail: $"The request body is not valid JSON{where}. Send a JSON object" +
                    (requestType is null ? "." : $" such as {Example(requestType)}."));
        }

        return TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { [field] = [$"{field} must be {ExpectedForm(type)}."] },
            title: "The request body has a value of the wrong form.");
    }

    /// <summary>
    /// The JSON name and CLR type at a <see cref="JsonException.Path"/> such as <c>$.periodFrom</c> or
    /// <c>$.lines[2].amount</c>; nulls when the path is the root or leaves the request type.
    /// </summary>
    private (string? Field, Type? Type) Resolve(string? path, Type? requestType)
    {
        if (requestType is null || path is null || !path.StartsWith("$.", StringComparison.Ordinal) && !path.StartsWith("$[", StringComparison.Ordinal))
        {
            return (null, null);
        }

        var type = requestType;
        string? field = null;
        foreach (var segment in path[1..].Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = segment.Split('[')[0].Trim('\'', '[', ']');
            if (name.Length > 0)
            {
                var property = json.Value.SerializerOptions.GetTypeInfo(type).Properties
                    .FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
                if (property is null)
                {
                    return (null, null);
                }

                type = property.PropertyType;
                field = field is null ? property.Name : $"{field}.{property.Name}";
            }

            for (var i = segment.IndexOf('[', StringComparison.Ordinal); i >= 0; i = segment.IndexOf('[', i + 1))
            {
                type = ElementType(type) ?? type;
            }
        }

        return (field, type);
    }

    private static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];

    /// <summary>The form a value of <paramref name="type"/> takes in JSON, in words a client can act on.</summary>
    public static string ExpectedForm(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            _ when type == typeof(DateTime) || type == typeof(DateTimeOffset) => DateTimeForm,
            _ when type == typeof(DateOnly) => "an ISO 8601 date such as 2026-12-31",
            _ when type == typeof(TimeOnly) => "an ISO 8601 time such as 13:45:00",
            _ when type == typeof(Guid) => "a UUID such as 0b7e3f2a-5c1d-4e8b-9a6f-2d4c8e1f3a5b",
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(string) => "a string",
            _ when type.IsEnum => $"one of {string.Join(", ", Enum.GetNames(type))}",
            _ when type == typeof(int) => Whole(int.MinValue, int.MaxValue),
            _ when type == typeof(long) => Whole(long.MinValue, long.MaxValue),
            _ when type == typeof(short) => Whole(short.MinValue, short.MaxValue),
            _ when type == typeof(byte) => Whole(byte.MinValue, byte.MaxValue),
            _ when type == typeof(uint) => Whole(uint.MinValue, uint.MaxValue),
            _ when type == typeof(decimal) || type == typeof(double) || type == typeof(float) => "a number such as 12.50",
            _ when type != typeof(string) && ElementType(type) is { } element => $"an array of {Plural(ExpectedForm(element))}",
            _ => "a JSON object",
        };

        static string Whole<T>(T min, T max)
            where T : IFormattable =>
            $"a whole number from {min.ToString(null, CultureInfo.InvariantCulture)} to {max.ToString(null, CultureInfo.InvariantCulture)}";

        static string Plural(string form) => form.StartsWith("a ", StringComparison.Ordinal) ? "values, each " + form : form;
    }

    /// <summary>A JSON object naming the request type's fields, for a message: <c>{"periodFrom": …, "periodTo": …}</c>.</summary>
    private string Example(Type requestType)
    {
        var names = json.Value.SerializerOptions.GetTypeInfo(requestType).Properties.Select(p => $"\"{p.Name}\": …");
        return "{" + string.Join(", ", names) + "}";
    }
}
