using System.Net;
using System.Text;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>The host in the Production hosting environment with the demo data, as a deployed demo runs.</summary>
public sealed class ProductionDemoFactory : PleoKeysFactory
{
    protected override string EnvironmentName => "Production";

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["PleoKeys:SeedDemoData"] = "true" };
}

public sealed class BodyBindingInProductionTests(ProductionDemoFactory factory) : BodyBindingTests(factory), IClassFixture<ProductionDemoFactory>;

public sealed class BodyBindingInDevelopmentTests(PleoKeysFactory factory) : BodyBindingTests(factory), IClassFixture<PleoKeysFactory>;

/// <summary>
/// JSON errors that name the field (issue 12): every API write answers a body it cannot bind with 400 problem
/// details naming the field and the form it expects, the same in Production and Development, never a stack trace.
/// </summary>
public abstract class BodyBindingTests(PleoKeysFactory factory)
{
    private const string IsoDateTime = "an ISO 8601 date-time such as 2026-12-31T00:00:00Z";

    private string? _key;

    private async Task<string> KeyAsync() => _key ??= await (await factory.SignedInClientAsync(DemoData.Admin))
        .CreateKeyAsync("Body binding", scopes: [Scopes.ExportJobsWrite, Scopes.VendorsWrite, Scopes.AccountsWrite]);

    private async Task<HttpResponseMessage> PostAsync(string url, string? body, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url);
        request.Headers.Authorization = Clients.Basic(await KeyAsync());
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }

        return await factory.NewClient().SendAsync(request);
    }

    private static async Task<Problem> ProblemAsync(HttpResponseMessage response, HttpStatusCode status = HttpStatusCode.BadRequest)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", text, StringComparison.Ordinal);
        return await response.ReadProblemAsync();
    }

    [Fact]
    public async Task ExportJob_DateInAnotherFormat_NamesTheFieldAndTheIsoForm()
    {
        // Measured: in Production this answered a bare 400 {"title":"Bad Request"}; Development answered with a stack trace.
        var response = await PostAsync("/v2/export-jobs", """{"periodFrom":"31/12/2026","periodTo":"2027-01-31T00:00:00Z"}""");

        var problem = await ProblemAsync(response);
        Assert.Equal(["periodFrom must be " + IsoDateTime + "."], problem.Errors["periodFrom"]);
    }

    [Theory]
    [InlineData("/v2/export-jobs", """{"periodFrom":"2026-12-01T00:00:00Z","periodTo":17}""", "periodTo", IsoDateTime)]
    [InlineData("/v2/export-jobs", """{"periodFrom":true,"periodTo":"2027-01-31T00:00:00Z"}""", "periodFrom", IsoDateTime)]
    [InlineData("/v2/export-jobs", """{"periodFrom":"2026-02-30T00:00:00Z","periodTo":"2027-01-31T00:00:00Z"}""", "periodFrom", IsoDateTime)]
    [InlineData("/v1/vendors", """{"name":42}""", "name", "a string")]
    [InlineData("/v1/vendors", """{"name":"Bean Co","country":["DK"]}""", "country", "a string")]
    [InlineData("/v1/accounts", """{"code":"1000","name":"Cash","type":{"kind":"ASSET"}}""", "type", "a string")]
    public async Task WrongTypeOrForm_NamesTheField(string url, string body, string field, string form)
    {
        var problem = await ProblemAsync(await PostAsync(url, body));

        Assert.True(problem.Errors.ContainsKey(field), $"{problem.Title}: {problem.Detail}");
        Assert.Equal([$"{field} must be {form}."], problem.Errors[field]);
    }

    [Theory]
    [InlineData("/v2/export-jobs", """{"periodFrom":"2026-12-01T00:00:00Z",""")]
    [InlineData("/v1/vendors", """{name: "Bean Co"}""")]
    [InlineData("/v1/accounts", "not json at all")]
    public async Task MalformedJson_SaysSoAndWhere(string url, string body)
    {
        var problem = await ProblemAsync(await PostAsync(url, body));

        Assert.Equal("Malformed JSON", problem.Title);
        Assert.Contains("not valid JSON (line 1, byte", problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v2/export-jobs", "")]
    [InlineData("/v2/export-jobs", null)]
    [InlineData("/v1/vendors", "null")]
    public async Task EmptyOrNullBody_AsksForAJsonObject(string url, string? body)
    {
        var problem = await ProblemAsync(await PostAsync(url, body));

        Assert.Contains("JSON object", problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task WrongContentType_Returns415SayingJson(string contentType)
    {
        var problem = await ProblemAsync(await PostAsync("/v1/vendors", "name=Bean+Co", contentType), HttpStatusCode.UnsupportedMediaType);

        Assert.Contains("application/json", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadCompanyId_NamesTheParameter()
    {
        var problem = await ProblemAsync(await PostAsync("/v1/vendors?company_id=not-a-uuid", """{"name":"Bean Co"}"""));

        Assert.Contains("company_id", problem.Detail, StringComparison.Ordinal);
    }
}
