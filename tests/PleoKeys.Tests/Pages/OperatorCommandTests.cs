using System.Net;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Pages;

/// <summary>API key access is switched by Pleo's operator command, never by the customer.</summary>
public sealed class OperatorCommandTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    [Fact]
    public async Task ApiKeyAccessOn_LetsFjordBikesAdminManageKeys_AndOffTakesItAway()
    {
        var output = new StringWriter();

        var on = await OperatorCommands.RunAsync(factory.Services, ["api-key-access", "Fjord Bikes AS", "on"], output);

        Assert.Equal(0, on);
        Assert.Contains("now on", output.ToString(), StringComparison.Ordinal);
        var admin = await factory.SignedInClientAsync(DemoData.FjordAdmin);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/Settings/ApiKeys")).StatusCode);

        var off = await OperatorCommands.RunAsync(factory.Services, ["api-key-access", DemoData.FjordBikesAsId.ToString(), "off"], output);

        Assert.Equal(0, off);
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.GetAsync("/Settings/ApiKeys")).StatusCode);
    }

    [Theory]
    [InlineData("api-key-access", "No Such Company", "on", 1)]
    [InlineData("api-key-access", "Fjord Bikes AS", "maybe", 2)]
    public async Task BadArguments_ChangeNothingAndSaySo(string command, string company, string value, int expected)
    {
        var output = new StringWriter();

        var exit = await OperatorCommands.RunAsync(factory.Services, [command, company, value], output);

        Assert.Equal(expected, exit);
        Assert.False(string.IsNullOrWhiteSpace(output.ToString()));
        Assert.False(await factory.WithDbAsync(async db => (await db.Companies.FindAsync(DemoData.FjordBikesAsId))!.ApiKeyAccess));
    }

    [Fact]
    public async Task NoCommand_StartsTheApp()
    {
        Assert.Null(await OperatorCommands.RunAsync(factory.Services, [], TextWriter.Null));
    }
}
